-- The event envelope (issue 13): the schema version of every event's body,
-- carried to receivers so that one which does not know it refuses it
-- (docs/decisions.md 35), and the W3C traceparent of the span that wrote
-- the event, so its delivery joins the originating trace.
--
-- Adding a column with a constant default rewrites nothing; the CHECKs are
-- added NOT VALID and validated apart, which scans the table without
-- blocking writers.
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS schema_version integer NOT NULL DEFAULT 1;
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS trace_context text NULL;

ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_schema_version_check
    CHECK (schema_version >= 1) NOT VALID;
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_trace_context_check
    CHECK (trace_context IS NULL OR length(trace_context) BETWEEN 1 AND 512) NOT VALID;
ALTER TABLE outbox_events VALIDATE CONSTRAINT outbox_events_schema_version_check;
ALTER TABLE outbox_events VALIDATE CONSTRAINT outbox_events_trace_context_check;

COMMENT ON COLUMN outbox_events.schema_version IS
    'Version of the event body''s schema (per event_type); receivers refuse versions they do not know.';
COMMENT ON COLUMN outbox_events.trace_context IS
    'W3C traceparent of the span that enqueued the event; the relay''s delivery span is its child.';
