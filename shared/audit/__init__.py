"""The audit log: reading and verifying it, signed checkpoints, replay, the event catalogue."""
