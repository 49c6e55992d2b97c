"""The event store and everything that touches PostgreSQL."""
