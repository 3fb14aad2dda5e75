-- Dead and lagging events made visible (issue 13): the lease a relay holds
-- on an event it is delivering. Adding a nullable column is instant. The
-- indexes for the relay's gauges and the admin list follow in their own
-- migrations (CREATE INDEX CONCURRENTLY must be a migration's only
-- statement: several statements run as one implicit transaction).
ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS leased_until timestamptz NULL;

COMMENT ON COLUMN outbox_events.leased_until IS
    'Set while a relay delivers the event (its lease); NULL otherwise. Re-drives leave leased events alone.';
