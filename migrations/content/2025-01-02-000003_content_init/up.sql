-- jazz_content: generated practice material, users' saved lists and likes.
-- Applied after the platform set. See docs/database.md.

-- array_to_string() is only STABLE (element output functions in general may
-- depend on settings); for text[] it is immutable in fact, and a STORED
-- generated column needs an IMMUTABLE expression, hence this wrapper.
CREATE FUNCTION jazz_tags_text(tags text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(array_to_string(tags, ' '), '');

COMMENT ON FUNCTION jazz_tags_text(text[]) IS
    'Tags joined by spaces (IMMUTABLE, for generated_content.search_vector).';

-- ---------------------------------------------------------------------------
-- generated_content (seed GeneratedContent) + search_vector
-- ---------------------------------------------------------------------------
-- user_id refers to jazz_identity.users: a plain uuid, no foreign key.
CREATE TABLE generated_content (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL,
    type           text        NOT NULL
                               CHECK (type IN ('JAZZ_LICK', 'CHORD_PROGRESSION', 'SCALE_PATTERN',
                                               'HARMONY_EXERCISE', 'MELODY', 'COMPLETE_PIECE')),
    title          text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text        NULL     CHECK (length(description) <= 5000),
    parameters     jsonb       NOT NULL CHECK (pg_column_size(parameters) <= 65536),
    -- Produced by the music engine, not typed by users: a larger ceiling.
    music_data     jsonb       NOT NULL CHECK (pg_column_size(music_data) <= 4194304),
    music_xml      text        NULL     CHECK (octet_length(music_xml) <= 8388608),
    audio_url      text        NULL     CHECK (length(audio_url) <= 2048),
    difficulty     text        NOT NULL DEFAULT 'INTERMEDIATE'
                               CHECK (difficulty IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'EXPERT')),
    key            text        NULL     CHECK (length(key) BETWEEN 1 AND 16),
    tempo          integer     NULL     CHECK (tempo BETWEEN 40 AND 320),
    time_signature text        NULL     CHECK (time_signature ~ '^[0-9]{1,2}/[0-9]{1,2}$'),
    style          text        NULL     CHECK (length(style) BETWEEN 1 AND 64),
    tags           text[]      NOT NULL DEFAULT '{}'
                               CHECK (cardinality(tags) <= 50
                                      AND array_position(tags, NULL) IS NULL
                                      AND length(jazz_tags_text(tags)) <= 2000),
    is_public      boolean     NOT NULL DEFAULT false,
    -- Counters: changed only by atomic SQL (likes = likes + 1).
    likes          integer     NOT NULL DEFAULT 0 CHECK (likes >= 0),
    views          integer     NOT NULL DEFAULT 0 CHECK (views >= 0),
    metadata       jsonb       NULL     CHECK (pg_column_size(metadata) <= 65536),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz NULL,
    -- Full-text document: title (A), tags (B), description (C). Never written
    -- by the application; keep it out of Insertable/AsChangeset structs.
    search_vector  tsvector    GENERATED ALWAYS AS (
                       setweight(to_tsvector('english'::regconfig, title), 'A')
                    || setweight(to_tsvector('english'::regconfig, jazz_tags_text(tags)), 'B')
                    || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
                   ) STORED
);
COMMENT ON TABLE generated_content IS 'Practice material generated for a user (seed GeneratedContent).';

-- Seed 3.1 idx_content_search, on the stored vector instead of the seed's
-- expression (which is NULL whenever description is NULL). Query with
-- search_vector @@ websearch_to_tsquery('english', $1).
CREATE INDEX idx_content_search ON generated_content USING GIN (search_vector);
CREATE INDEX idx_generated_content_type       ON generated_content (type);
CREATE INDEX idx_generated_content_difficulty ON generated_content (difficulty);
CREATE INDEX idx_generated_content_key        ON generated_content (key);
CREATE INDEX idx_generated_content_style      ON generated_content (style);
-- Filtering by tag: tags @> ARRAY['bebop'].
CREATE INDEX idx_generated_content_tags       ON generated_content USING GIN (tags);
CREATE INDEX idx_content_public               ON generated_content (is_public, deleted_at);
-- Seed @@index([userId, createdAt]) and 3.1 idx_content_user_date, with id
-- as the keyset tie-breaker.
CREATE INDEX idx_content_user_date ON generated_content (user_id, created_at DESC, id DESC);
-- Public feeds (keyset): newest and most liked.
CREATE INDEX idx_generated_content_public_recent ON generated_content (created_at DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX idx_generated_content_public_popular ON generated_content (likes DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;

-- A statement that changes a counter (likes, views) leaves updated_at alone:
-- a view is not an edit. Never combine an edit and a counter change in one
-- UPDATE.
CREATE TRIGGER trg_generated_content_set_updated_at
    BEFORE UPDATE ON generated_content
    FOR EACH ROW
    WHEN (OLD.likes = NEW.likes AND OLD.views = NEW.views)
    EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- saved_content (seed SavedContent)
-- ---------------------------------------------------------------------------
CREATE TABLE saved_content (
    id                   uuid        PRIMARY KEY,
    user_id              uuid        NOT NULL,
    generated_content_id uuid        NOT NULL REFERENCES generated_content (id) ON DELETE CASCADE,
    collection_name      text        NULL CHECK (length(collection_name) BETWEEN 1 AND 100),
    notes                text        NULL CHECK (length(notes) <= 5000),
    is_favorite          boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE saved_content IS 'Content a user saved, optionally in a named collection (seed SavedContent).';

CREATE UNIQUE INDEX idx_saved_content_user_id_generated_content_id
    ON saved_content (user_id, generated_content_id);
CREATE INDEX idx_saved_content_user_id_collection_name ON saved_content (user_id, collection_name);
CREATE INDEX idx_saved_content_is_favorite             ON saved_content (is_favorite);
-- A user's saved list, newest first (keyset).
CREATE INDEX idx_saved_content_user_id_created_at ON saved_content (user_id, created_at DESC, id DESC);
-- The foreign key's cascade on content deletion.
CREATE INDEX idx_saved_content_generated_content_id ON saved_content (generated_content_id);

CREATE TRIGGER trg_saved_content_set_updated_at
    BEFORE UPDATE ON saved_content
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- content_likes (not in the seed): one like per user per item
-- ---------------------------------------------------------------------------
-- Insert ... ON CONFLICT DO NOTHING, and bump generated_content.likes in the
-- same transaction only when a row was inserted (deleted for unlike).
CREATE TABLE content_likes (
    user_id              uuid        NOT NULL,
    generated_content_id uuid        NOT NULL REFERENCES generated_content (id) ON DELETE CASCADE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_likes_pkey PRIMARY KEY (generated_content_id, user_id)
);
COMMENT ON TABLE content_likes IS 'Likes: one row per (content, user).';

CREATE INDEX idx_content_likes_user_id ON content_likes (user_id);
