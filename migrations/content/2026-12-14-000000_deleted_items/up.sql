-- The purge of soft-deleted items (issue 13) finds items deleted before its
-- cutoff, oldest first. Only deleted items are indexed (few next to the
-- live ones). generated_content is large: built CONCURRENTLY, outside a
-- transaction (metadata.toml).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_generated_content_deleted_at
    ON generated_content (deleted_at) WHERE deleted_at IS NOT NULL;
