-- The learning loop (issue 12): practice records carry the facts the review
-- queue, the mastery matrix and the aggregate summary group by, copied from
-- the item when recorded (content's GetContentRef answers them); the review
-- schedule remembers how often and when it was fed.
--
-- Expand only: every new column is nullable or has a default, so binaries of
-- the previous release keep inserting during a rolling deploy (a trigger
-- fills `user_id` for them). A later contract migration may SET NOT NULL on
-- `user_id` once no old binary runs.

ALTER TABLE practice_records
    -- The session's owner, copied so per-user reads need no join.
    ADD COLUMN user_id      uuid        NULL,
    -- When the practice happened (client-supplied, ≤ 7 days back); the day
    -- and the review due date are computed from it.
    ADD COLUMN practiced_at timestamptz NOT NULL DEFAULT now(),
    -- The item's tonic in conventional spelling (enharmonics merged), e.g. 'Bb'.
    ADD COLUMN key          text        NULL CHECK (length(key) BETWEEN 1 AND 8),
    -- The item's mode.
    ADD COLUMN mode         text        NULL CHECK (mode IN ('MAJOR', 'MINOR')),
    -- The skill area of the item's type (resources.proto's table).
    ADD COLUMN skill_area   text        NULL CHECK (length(skill_area) BETWEEN 1 AND 64);

-- Backfill what this database knows: the owner and the time. Key, mode and
-- skill area live in jazz_content; progress fills them lazily per user the
-- first time a derived view needs them (store::learning::unresolved_items).
UPDATE practice_records r
   SET user_id = s.user_id, practiced_at = r.created_at
  FROM practice_sessions s
 WHERE s.id = r.practice_session_id;

CREATE FUNCTION jazz_practice_records_fill_user_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id IS NULL THEN
        SELECT user_id INTO NEW.user_id FROM practice_sessions WHERE id = NEW.practice_session_id;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION jazz_practice_records_fill_user_id() IS
    'Fills practice_records.user_id from the session for writers that do not set it (the previous release).';

CREATE TRIGGER trg_practice_records_fill_user_id
    BEFORE INSERT ON practice_records
    FOR EACH ROW EXECUTE FUNCTION jazz_practice_records_fill_user_id();

ALTER TABLE review_items
    -- Assessed practice records that fed the schedule.
    ADD COLUMN review_count      integer     NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    -- The latest assessed practice of the item.
    ADD COLUMN last_practiced_at timestamptz NULL;

UPDATE review_items ri
   SET review_count = agg.n, last_practiced_at = agg.last_at
  FROM (SELECT r.user_id, r.generated_content_id, count(*) AS n, max(r.practiced_at) AS last_at
          FROM practice_records r
         WHERE r.performance IS NOT NULL AND r.user_id IS NOT NULL
         GROUP BY r.user_id, r.generated_content_id) agg
 WHERE agg.user_id = ri.user_id AND agg.generated_content_id = ri.generated_content_id;

-- The metrics job writes one point per (name, day, dimensions) at the day's
-- UTC midnight; re-running a day upserts on this key, so it replaces and
-- never doubles, even when two runs overlap. (A unique index on a
-- partitioned table must contain the partition key: recorded_at is in it.
-- system_metrics is written once a day, so a plain build is fine.)
CREATE UNIQUE INDEX idx_system_metrics_point
    ON system_metrics (metric_name, recorded_at, dimensions) NULLS NOT DISTINCT;
