"""Routes (to be written)."""
