DROP INDEX idx_system_metrics_point;
ALTER TABLE review_items DROP COLUMN last_practiced_at, DROP COLUMN review_count;
DROP TRIGGER trg_practice_records_fill_user_id ON practice_records;
DROP FUNCTION jazz_practice_records_fill_user_id();
ALTER TABLE practice_records
    DROP COLUMN skill_area,
    DROP COLUMN mode,
    DROP COLUMN key,
    DROP COLUMN practiced_at,
    DROP COLUMN user_id;
