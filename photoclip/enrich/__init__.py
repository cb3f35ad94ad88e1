"""Enrichment after embedding: places from GPS and words inside photos."""
