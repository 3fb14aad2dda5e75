-- The per-note judgement of a scored take (PracticeService.ScorePerformance).
-- Its practice record holds the measured performance (the score), so the
-- review schedule, the rollups and the mastery matrix see scored takes like
-- any record; this table keeps what only a scored take has. Deleted with
-- its record (a session's, a user's or a content item's purge).
CREATE TABLE performance_results (
    practice_record_id uuid             PRIMARY KEY REFERENCES practice_records (id) ON DELETE CASCADE,
    -- The owner, so a user's results are found without a join.
    user_id            uuid             NOT NULL,
    score              double precision NOT NULL CHECK (score BETWEEN 0 AND 100),
    -- Take facts: events received, the stated tempo and count-in.
    event_count        integer          NOT NULL CHECK (event_count BETWEEN 1 AND 10000),
    tempo_bpm          double precision NOT NULL CHECK (tempo_bpm BETWEEN 20 AND 400),
    count_in_beats     integer          NOT NULL CHECK (count_in_beats BETWEEN 0 AND 16),
    -- The PerformanceResult as JSON (notes, extra notes, bars, totals).
    result             jsonb            NOT NULL CHECK (jsonb_typeof(result) = 'object'),
    created_at         timestamptz      NOT NULL DEFAULT now()
);
COMMENT ON TABLE performance_results IS 'Per-note judgement of a scored take; one per practice record made by ScorePerformance.';
CREATE INDEX idx_performance_results_user_id ON performance_results (user_id);
