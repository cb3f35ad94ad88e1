"""The catalog's schema as numbered migrations, applied in order and recorded in PRAGMA user_version.

Never edit a migration that has shipped: add the next one. Each runs in one transaction with the
version bump, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: folders, photos, models and their vectors, tags.
    """
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at REAL NOT NULL,
        polling INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'offline'))
    );
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        format TEXT,
        taken_at TEXT,
        taken_at_source TEXT,
        camera_make TEXT,
        camera_model TEXT,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'ok', 'error', 'missing', 'offline')),
        error TEXT,
        added_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX photos_folder ON photos(folder_id);
    CREATE INDEX photos_hash ON photos(content_hash);
    CREATE INDEX photos_state ON photos(state);
    CREATE INDEX photos_taken ON photos(taken_at);
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE embeddings (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        seq INTEGER NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_model_seq ON embeddings(model_id, seq);
    -- Any vector leaving bumps the model's sequence, so a saved index knows it is stale.
    CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
        UPDATE models SET seq = seq + 1 WHERE id = OLD.model_id;
    END;
    CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        prompts TEXT NOT NULL DEFAULT '[]',
        threshold REAL,
        builtin INTEGER NOT NULL DEFAULT 0,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL
    );
    CREATE TABLE photo_tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        score REAL,
        source TEXT NOT NULL CHECK (source IN ('auto', 'manual')),
        rejected INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL,
        PRIMARY KEY (photo_id, tag_id)
    ) WITHOUT ROWID;
    CREATE INDEX photo_tags_tag ON photo_tags(tag_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: albums (manual and smart) and a cache of text vectors per model (tag prompts).
    """
    CREATE TABLE albums (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind TEXT NOT NULL CHECK (kind IN ('manual', 'smart')),
        rule TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE album_photos (
        album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('rule', 'pinned', 'excluded', 'manual')),
        score REAL,
        added_at REAL NOT NULL,
        PRIMARY KEY (album_id, photo_id)
    ) WITHOUT ROWID;
    CREATE INDEX album_photos_photo ON album_photos(photo_id);
    CREATE TABLE text_vectors (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, text)
    ) WITHOUT ROWID;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
