ALTER TABLE outbox_events DROP COLUMN IF EXISTS trace_context;
ALTER TABLE outbox_events DROP COLUMN IF EXISTS schema_version;
