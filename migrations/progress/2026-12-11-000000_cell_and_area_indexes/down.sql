DROP INDEX IF EXISTS idx_progress_records_user_area_recorded;
DROP INDEX IF EXISTS idx_practice_records_user_area;
DROP INDEX IF EXISTS idx_practice_records_user_cell;
