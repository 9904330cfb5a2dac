"""The HTTP edge of every service: app factory, problem+json, auth, security, metrics."""
