-- Undoes 2025-01-01-000000_platform/up.sql, in reverse order. Revert the
-- service's own set first: its triggers use jazz_set_updated_at().
DROP TABLE idempotency_keys;
DROP TABLE processed_events;
DROP TABLE outbox_events;
-- Dropping the partitioned parent drops every partition (monthly and default).
DROP TABLE audit_logs;
DROP FUNCTION jazz_ensure_monthly_partitions(regclass, integer);
DROP FUNCTION jazz_set_updated_at();
