"""Statistics of how mail fares, computed from reported events."""
