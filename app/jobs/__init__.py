"""Background work on procrastinate: scheduled snapshots."""
