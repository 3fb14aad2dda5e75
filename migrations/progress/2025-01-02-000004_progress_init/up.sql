-- jazz_progress: progress records, practice sessions, spaced-repetition state
-- and business metrics. Applied after the platform set. See docs/database.md.
--
-- user_id (jazz_identity.users) and generated_content_id
-- (jazz_content.generated_content) belong to other services: plain uuids, no
-- foreign keys; deletions arrive as events.

-- ---------------------------------------------------------------------------
-- progress_records (seed ProgressRecord)
-- ---------------------------------------------------------------------------
CREATE TABLE progress_records (
    id                   uuid             PRIMARY KEY,
    user_id              uuid             NOT NULL,
    -- Nulled when the content is deleted (seed onDelete: SetNull, by event).
    generated_content_id uuid             NULL,
    skill_area           text             NOT NULL CHECK (length(skill_area) BETWEEN 1 AND 64),
    difficulty_level     text             NOT NULL
                                          CHECK (difficulty_level IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'EXPERT')),
    score                double precision NULL CHECK (score BETWEEN 0 AND 100),
    -- Minutes.
    time_spent           integer          NOT NULL CHECK (time_spent >= 0),
    completion_rate      double precision NULL CHECK (completion_rate BETWEEN 0 AND 100),
    notes                text             NULL CHECK (length(notes) <= 5000),
    metadata             jsonb            NULL CHECK (pg_column_size(metadata) <= 65536),
    recorded_at          timestamptz      NOT NULL DEFAULT now()
);
COMMENT ON TABLE progress_records IS 'One measured step of a user''s progress in a skill area (seed ProgressRecord).';

CREATE INDEX idx_progress_user_skill ON progress_records (user_id, skill_area);
-- Seed @@index([userId, recordedAt]) and 3.1 idx_progress_date.
CREATE INDEX idx_progress_date       ON progress_records (user_id, recorded_at DESC);
CREATE INDEX idx_progress_records_difficulty_level ON progress_records (difficulty_level);
-- Applying a content-deleted event (SET generated_content_id = NULL).
CREATE INDEX idx_progress_records_generated_content_id ON progress_records (generated_content_id)
    WHERE generated_content_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- practice_sessions (seed PracticeSession)
-- ---------------------------------------------------------------------------
CREATE TABLE practice_sessions (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    title        text        NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- Minutes.
    duration     integer     NOT NULL DEFAULT 0 CHECK (duration >= 0),
    goals        text[]      NOT NULL DEFAULT '{}'
                             CHECK (cardinality(goals) <= 50 AND array_position(goals, NULL) IS NULL),
    achievements text[]      NOT NULL DEFAULT '{}'
                             CHECK (cardinality(achievements) <= 50 AND array_position(achievements, NULL) IS NULL),
    notes        text        NULL CHECK (length(notes) <= 5000),
    rating       integer     NULL CHECK (rating BETWEEN 1 AND 5),
    metadata     jsonb       NULL CHECK (pg_column_size(metadata) <= 65536),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT practice_sessions_ended_after_started_check CHECK (ended_at >= started_at)
);
COMMENT ON TABLE practice_sessions IS 'A sitting at the piano (seed PracticeSession).';

CREATE INDEX idx_practice_sessions_user_id_started_at ON practice_sessions (user_id, started_at);

CREATE TRIGGER trg_practice_sessions_set_updated_at
    BEFORE UPDATE ON practice_sessions
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- practice_records (seed PracticeRecord)
-- ---------------------------------------------------------------------------
CREATE TABLE practice_records (
    id                   uuid             PRIMARY KEY,
    practice_session_id  uuid             NOT NULL REFERENCES practice_sessions (id) ON DELETE CASCADE,
    -- Deleted with the content (seed onDelete: Cascade, by event).
    generated_content_id uuid             NOT NULL,
    -- Minutes.
    time_spent           integer          NOT NULL CHECK (time_spent >= 0),
    repetitions          integer          NOT NULL DEFAULT 1 CHECK (repetitions >= 1),
    difficulty           text             NOT NULL
                                          CHECK (difficulty IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'EXPERT')),
    performance          double precision NULL CHECK (performance BETWEEN 0 AND 100),
    notes                text             NULL CHECK (length(notes) <= 5000),
    created_at           timestamptz      NOT NULL DEFAULT now()
);
COMMENT ON TABLE practice_records IS 'One piece of content practised within a session (seed PracticeRecord).';

CREATE INDEX idx_practice_records_practice_session_id  ON practice_records (practice_session_id);
CREATE INDEX idx_practice_records_generated_content_id ON practice_records (generated_content_id);

-- ---------------------------------------------------------------------------
-- review_items (not in the seed): spaced-repetition state per user and content
-- ---------------------------------------------------------------------------
CREATE TABLE review_items (
    user_id              uuid             NOT NULL,
    generated_content_id uuid             NOT NULL,
    -- SM-2 ease factor; the domain clamps it to [1.3, 10].
    ease                 double precision NOT NULL DEFAULT 2.5 CHECK (ease BETWEEN 1.0 AND 10.0),
    -- Days until the next review; the domain caps it at 36500.
    interval_days        integer          NOT NULL DEFAULT 0 CHECK (interval_days BETWEEN 0 AND 36500),
    -- Successful reviews in a row.
    repetitions          integer          NOT NULL DEFAULT 0 CHECK (repetitions >= 0),
    due_on               date             NOT NULL DEFAULT CURRENT_DATE,
    last_performance     double precision NULL CHECK (last_performance BETWEEN 0 AND 100),
    created_at           timestamptz      NOT NULL DEFAULT now(),
    updated_at           timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT review_items_pkey PRIMARY KEY (user_id, generated_content_id)
);
COMMENT ON TABLE review_items IS 'Spaced-repetition schedule of one content item for one user.';

CREATE INDEX idx_review_items_user_id_due_on         ON review_items (user_id, due_on);
-- Applying a content-deleted event.
CREATE INDEX idx_review_items_generated_content_id   ON review_items (generated_content_id);

CREATE TRIGGER trg_review_items_set_updated_at
    BEFORE UPDATE ON review_items
    FOR EACH ROW EXECUTE FUNCTION jazz_set_updated_at();

-- ---------------------------------------------------------------------------
-- system_metrics (seed SystemMetrics), partitioned by month like audit_logs
-- ---------------------------------------------------------------------------
CREATE TABLE system_metrics (
    id          uuid             NOT NULL,
    metric_name text             NOT NULL CHECK (length(metric_name) BETWEEN 1 AND 100),
    value       double precision NOT NULL
                                 -- finite: PostgreSQL orders NaN above Infinity
                                 CHECK (value > '-Infinity'::float8 AND value < 'Infinity'::float8),
    dimensions  jsonb            NULL CHECK (pg_column_size(dimensions) <= 65536),
    recorded_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT system_metrics_pkey PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);
COMMENT ON TABLE system_metrics IS
    'Business metrics written by a periodic job (seed SystemMetrics); monthly partitions system_metrics_yYYYYmMM plus system_metrics_default.';

CREATE INDEX idx_system_metrics_metric_name_recorded_at ON system_metrics (metric_name, recorded_at);

CREATE TABLE system_metrics_default PARTITION OF system_metrics DEFAULT;

SELECT jazz_ensure_monthly_partitions('system_metrics'::regclass, 3);
