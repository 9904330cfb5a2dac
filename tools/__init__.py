"""Operators' tools: the `titp` CLI and the data generator."""
