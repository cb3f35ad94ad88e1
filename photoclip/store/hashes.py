"""Perceptual hashes as stored: one row per photo, the hash and its four bands (indexed for lookups)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

# (photo id, content hash the perceptual hash was made from, perceptual hash or None, band 0..3 or None)
HashRow = tuple[int, str, int | None, int | None, int | None, int | None, int | None]


def store_hashes(conn: sqlite3.Connection, rows: Sequence[HashRow]) -> None:
    """Record perceptual hashes inside the caller's transaction (a photo's new hash replaces its old one)."""
    conn.executemany(
        "INSERT INTO photo_hashes(photo_id, content_hash, phash, b0, b1, b2, b3) VALUES(?,?,?,?,?,?,?) "
        "ON CONFLICT(photo_id) DO UPDATE SET content_hash=excluded.content_hash, phash=excluded.phash, "
        "b0=excluded.b0, b1=excluded.b1, b2=excluded.b2, b3=excluded.b3",
        rows)
