"""The inspection service's read models: inspections (the worklist), the organizations it has heard
of, and the statistics counters. Each module holds a model's writes and the queries the routes read."""
