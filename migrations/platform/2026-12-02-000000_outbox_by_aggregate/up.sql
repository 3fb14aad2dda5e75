-- Events by the row they are about: identity's resend limit ("a mail of
-- this kind to this user in the last minute") and the purges, which delete
-- a user's (or their items') past events. The outbox only grows, so built
-- CONCURRENTLY (outside a transaction: see metadata.toml) to keep writers
-- going on a live database.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_outbox_events_aggregate
    ON outbox_events (aggregate_id, event_type, created_at);
