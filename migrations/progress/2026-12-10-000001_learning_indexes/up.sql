-- Per-user reads of practice records without the session join: the summary's
-- aggregates (by practiced_at range) and the mastery matrix (all of a user's
-- records). practice_records only grows, so built CONCURRENTLY (outside a
-- transaction: see metadata.toml) to keep writers going on a live database.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_practice_records_user_practiced
    ON practice_records (user_id, practiced_at);
