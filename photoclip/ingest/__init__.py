"""Ingest: find photos on disk (scanner, watcher, live sync) and bring them into the catalog (pipeline)."""
