-- Dead events oldest first: the relay's `outbox_dead` gauge and
-- OutboxAdminService's list and re-drive of dead events. Built
-- CONCURRENTLY (outside a transaction: see metadata.toml).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_outbox_events_dead
    ON outbox_events (created_at, id) WHERE status = 'dead';
