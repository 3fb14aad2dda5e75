-- The mastery matrix and the recommendations read a learner's history per
-- cell (key, mode, skill area) and per skill area. A window over all of it
-- sorted 100 000 rows to disk (585 ms measured at 100k records); with these
-- the totals are one index-only aggregate and each cell's or area's latest
-- scores a short backward index scan.
CREATE INDEX idx_practice_records_user_cell
    ON practice_records (user_id, key, mode, skill_area, practiced_at DESC, id DESC)
    INCLUDE (time_spent, performance);
CREATE INDEX idx_practice_records_user_area
    ON practice_records (user_id, skill_area, practiced_at DESC)
    INCLUDE (time_spent, performance, difficulty);
CREATE INDEX idx_progress_records_user_area_recorded
    ON progress_records (user_id, skill_area, recorded_at DESC)
    INCLUDE (time_spent, score, difficulty_level);
