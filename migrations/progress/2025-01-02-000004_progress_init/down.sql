-- Undoes 2025-01-02-000004_progress_init/up.sql, in reverse order.
-- Dropping the partitioned parent drops every partition.
DROP TABLE system_metrics;
DROP TABLE review_items;
DROP TABLE practice_records;
DROP TABLE practice_sessions;
DROP TABLE progress_records;
