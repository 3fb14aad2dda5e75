DROP INDEX CONCURRENTLY IF EXISTS idx_outbox_events_pending_age;
