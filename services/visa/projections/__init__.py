"""The visa service's read models: `known` (other services' facts, from their topics), `resources` (its own
aggregates' rows and documents) and `queries` (the reads behind the GET routes and lists)."""
