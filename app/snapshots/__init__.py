"""Snapshots: the global state at one log position, taken on schedules and kept as a cache."""
