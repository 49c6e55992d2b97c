"""The pure domain: event types, money, and the folds that derive state. No I/O here."""
