"""Storage: the SQLite catalog (the source of truth), its schema and the library's settings."""
