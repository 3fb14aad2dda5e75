ALTER TABLE outbox_events DROP COLUMN IF EXISTS leased_until;
