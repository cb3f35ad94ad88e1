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
    # 3: words inside photos (OCR lines and per-photo OCR state), places from GPS, and the FTS5 keyword
    # index over OCR text, places, file and folder names, tags and album names. Triggers queue a photo in
    # keyword_dirty whenever something it is found by changes; KeywordIndex.refresh() rebuilds those rows.
    # They check before inserting: an outer UPSERT or REPLACE would override a trigger's own conflict clause.
    """
    CREATE TABLE ocr_lines (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        line_no INTEGER NOT NULL,
        text TEXT NOT NULL,
        box TEXT NOT NULL,
        confidence REAL NOT NULL
    );
    CREATE INDEX ocr_lines_photo ON ocr_lines(photo_id, line_no);
    CREATE TABLE ocr_state (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('done', 'failed', 'no-text')),
        error TEXT,
        engine TEXT NOT NULL,
        seconds REAL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX ocr_state_state ON ocr_state(state);
    CREATE TABLE places (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        lat REAL,
        lon REAL,
        city TEXT,
        region TEXT,
        county TEXT,
        country TEXT,
        country_code TEXT,
        updated_at REAL NOT NULL
    );
    CREATE VIRTUAL TABLE keywords USING fts5(
        text, place, file, tags, albums,
        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
    );
    CREATE TABLE keyword_dirty (photo_id INTEGER PRIMARY KEY);
    INSERT INTO keyword_dirty(photo_id) SELECT id FROM photos;
    CREATE TRIGGER keywords_photo_added AFTER INSERT ON photos BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.id);
    END;
    CREATE TRIGGER keywords_photo_moved AFTER UPDATE OF path, folder_id ON photos
    WHEN OLD.path IS NOT NEW.path OR OLD.folder_id IS NOT NEW.folder_id BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.id);
    END;
    -- New content: the words and place read from the old content no longer describe the photo.
    CREATE TRIGGER enrichment_content_changed AFTER UPDATE OF content_hash ON photos
    WHEN OLD.content_hash IS NOT NEW.content_hash BEGIN
        DELETE FROM ocr_lines WHERE photo_id = NEW.id;
        DELETE FROM ocr_state WHERE photo_id = NEW.id;
        DELETE FROM places WHERE photo_id = NEW.id;
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.id);
    END;
    CREATE TRIGGER keywords_photo_deleted AFTER DELETE ON photos BEGIN
        DELETE FROM keywords WHERE rowid = OLD.id;
        DELETE FROM keyword_dirty WHERE photo_id = OLD.id;
    END;
    CREATE TRIGGER keywords_ocr_set AFTER INSERT ON ocr_state BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_ocr_reset AFTER UPDATE ON ocr_state BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_place_set AFTER INSERT ON places BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_place_reset AFTER UPDATE ON places BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_tag_added AFTER INSERT ON photo_tags BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_tag_changed AFTER UPDATE ON photo_tags BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_tag_removed AFTER DELETE ON photo_tags BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT OLD.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = OLD.photo_id);
    END;
    CREATE TRIGGER keywords_tag_renamed AFTER UPDATE OF name ON tags WHEN OLD.name IS NOT NEW.name BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT DISTINCT photo_id FROM photo_tags
            WHERE tag_id = NEW.id AND photo_id NOT IN (SELECT photo_id FROM keyword_dirty);
    END;
    CREATE TRIGGER keywords_album_added AFTER INSERT ON album_photos BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_album_changed AFTER UPDATE ON album_photos BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT NEW.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = NEW.photo_id);
    END;
    CREATE TRIGGER keywords_album_removed AFTER DELETE ON album_photos BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT OLD.photo_id
            WHERE NOT EXISTS (SELECT 1 FROM keyword_dirty WHERE photo_id = OLD.photo_id);
    END;
    CREATE TRIGGER keywords_album_renamed AFTER UPDATE OF name ON albums WHEN OLD.name IS NOT NEW.name BEGIN
        INSERT INTO keyword_dirty(photo_id) SELECT DISTINCT photo_id FROM album_photos
            WHERE album_id = NEW.id AND photo_id NOT IN (SELECT photo_id FROM keyword_dirty);
    END;
    """,
    # 4: a counter bumped whenever a photo enters or leaves a state that hides it from search (error,
    # missing, offline), so searches list those photos again only after such a change. An unplugged
    # drive can hold most of a library, and listing its photos cost tens of ms on every query.
    """
    INSERT OR IGNORE INTO meta(key, value) VALUES('hidden_generation', '0');
    CREATE TRIGGER hidden_state_changed AFTER UPDATE OF state ON photos
        WHEN OLD.state IS NOT NEW.state
            AND (OLD.state IN ('error', 'missing', 'offline') OR NEW.state IN ('error', 'missing', 'offline'))
    BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hidden_generation';
    END;
    CREATE TRIGGER hidden_photo_added AFTER INSERT ON photos
        WHEN NEW.state IN ('error', 'missing', 'offline')
    BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hidden_generation';
    END;
    CREATE TRIGGER hidden_photo_removed AFTER DELETE ON photos
        WHEN OLD.state IN ('error', 'missing', 'offline')
    BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hidden_generation';
    END;
    """,
    # 5: capture dates with their UTC offset (minutes, NULL when the photo does not say) and a sort key
    # (the UTC instant when the offset is known, else the local time; sub-seconds kept for bursts); the
    # XMP rating; the RAW file paired with a JPEG of the same name; and files a scan saw but could not
    # catalogue, with the reason, so that nothing is skipped silently.
    """
    ALTER TABLE photos ADD COLUMN taken_offset INTEGER;
    ALTER TABLE photos ADD COLUMN taken_order TEXT;
    ALTER TABLE photos ADD COLUMN rating INTEGER;
    ALTER TABLE photos ADD COLUMN companion TEXT;
    CREATE INDEX photos_taken_order ON photos(COALESCE(taken_order, taken_at));
    CREATE TABLE uncatalogued (
        path TEXT PRIMARY KEY,
        folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        seen_at REAL NOT NULL
    );
    CREATE INDEX uncatalogued_folder ON uncatalogued(folder_id);
    """,
    # 6: duplicates. A perceptual hash per photo (computed from the decoded pixels while indexing, kept
    # with the content it describes), cut into four indexed 16-bit bands so a new photo's look-alikes are
    # an index lookup; the pairs found so far, of three kinds; the keeper a user chose for a group; and the
    # photos that are not their group's keeper, which search and albums can hide.
    # A photo's new content drops its hash and pairs: they described the old pixels.
    """
    CREATE TABLE photo_hashes (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        phash INTEGER,  -- NULL: a plain image, hashed but with nothing to compare
        b0 INTEGER,
        b1 INTEGER,
        b2 INTEGER,
        b3 INTEGER
    );
    CREATE INDEX photo_hashes_b0 ON photo_hashes(b0);
    CREATE INDEX photo_hashes_b1 ON photo_hashes(b1);
    CREATE INDEX photo_hashes_b2 ON photo_hashes(b2);
    CREATE INDEX photo_hashes_b3 ON photo_hashes(b3);
    CREATE TABLE duplicate_pairs (
        a INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        b INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('identical', 'same', 'similar')),
        bits INTEGER,
        similarity REAL,
        found_at REAL NOT NULL,
        PRIMARY KEY (a, b),
        CHECK (a < b)
    ) WITHOUT ROWID;
    CREATE INDEX duplicate_pairs_b ON duplicate_pairs(b);
    CREATE TABLE duplicate_keepers (photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE);
    CREATE TABLE duplicate_hidden (photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE);
    CREATE TRIGGER duplicates_content_changed AFTER UPDATE OF content_hash ON photos
    WHEN OLD.content_hash IS NOT NEW.content_hash BEGIN
        DELETE FROM photo_hashes WHERE photo_id = NEW.id;
        DELETE FROM duplicate_pairs WHERE a = NEW.id OR b = NEW.id;
        DELETE FROM duplicate_keepers WHERE photo_id = NEW.id;
        DELETE FROM duplicate_hidden WHERE photo_id = NEW.id;
    END;
    """,
    # 7: favourites and 0-5 star ratings, a person's own marks on a photo. A row exists only for a
    # marked photo, so the grid can read every mark of a 100,000-photo library at once.
    """
    CREATE TABLE photo_marks (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
        rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5)
    );
    CREATE INDEX photo_marks_favourite ON photo_marks(favourite) WHERE favourite = 1;
    CREATE INDEX photo_marks_rating ON photo_marks(rating) WHERE rating > 0;
    """,
    # 8: the stars a photo carries in its file or XMP sidecar (photos.rating) are where its mark starts:
    # copied into photo_marks unless the person has marked the photo already, so their own later
    # changes win. A new rating in the file (an edit in another program) is copied again, if unmarked.
    """
    INSERT OR IGNORE INTO photo_marks(photo_id, favourite, rating)
        SELECT id, 0, rating FROM photos WHERE rating BETWEEN 1 AND 5;
    CREATE TRIGGER file_rating_added AFTER INSERT ON photos WHEN NEW.rating BETWEEN 1 AND 5 BEGIN
        INSERT OR IGNORE INTO photo_marks(photo_id, favourite, rating) VALUES (NEW.id, 0, NEW.rating);
    END;
    CREATE TRIGGER file_rating_read AFTER UPDATE OF rating ON photos
        WHEN NEW.rating BETWEEN 1 AND 5 AND NEW.rating IS NOT OLD.rating BEGIN
        INSERT OR IGNORE INTO photo_marks(photo_id, favourite, rating) VALUES (NEW.id, 0, NEW.rating);
    END;
    """,
    # 9: the GPS position read while decoding, carried forward so finding places never reopens the file.
    # gps_hash is the content hash it was read from: a position of other content is not trusted (NULL on
    # rows catalogued before, which are read once more).
    """
    ALTER TABLE photos ADD COLUMN gps_lat REAL;
    ALTER TABLE photos ADD COLUMN gps_lon REAL;
    ALTER TABLE photos ADD COLUMN gps_hash TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
