-- Pending events oldest first: the relay's `outbox_oldest_age_seconds` and
-- OutboxAdminService's list of lagging events. Built CONCURRENTLY (outside
-- a transaction: see metadata.toml) to keep writers going on a live outbox.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_outbox_events_pending_age
    ON outbox_events (created_at, id) WHERE status = 'pending';
