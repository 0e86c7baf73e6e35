"""Fictional demo data: facilities, prisoners, placements, letters and events to explore Konvert.

Every person and address here is invented; rows are flagged ``is_demo`` and carry ``demo-…``
external ids so they can be found, skipped on a second load and removed.
"""
