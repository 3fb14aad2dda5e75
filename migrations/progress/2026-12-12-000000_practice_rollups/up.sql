-- Rollups of a learner's practice, kept on write, so the learning loop's
-- reads cost what a learner's calendar costs, not what their history costs
-- (decision 38). Both are derived: statement triggers on practice_records
-- and progress_records keep them in the writing transaction, whatever the
-- writer (the API, the lazy fill of facts, an erasure, a bulk copy), and
-- both can be rebuilt from the records at any time.
--
-- practice_rollups: per learner, UTC quarter-hour, source and skill area.
-- Every time zone's midnight falls on a quarter-hour (offsets are whole
-- quarter-hours, DST included), so a bucket lies within one local day in
-- every zone: the summary groups buckets by any zone's local day, exactly.
CREATE TABLE practice_rollups (
    user_id     uuid             NOT NULL,
    -- Start of the UTC quarter-hour.
    bucket      timestamptz      NOT NULL,
    -- 'practice' (practice_records) or 'progress' (progress_records).
    source      text             NOT NULL CHECK (source IN ('practice', 'progress')),
    -- '' for practice records whose item's area is not known yet.
    skill_area  text             NOT NULL,
    records     integer          NOT NULL CHECK (records > 0),
    minutes     bigint           NOT NULL,
    score_sum   double precision NOT NULL,
    score_count integer          NOT NULL,
    -- The latest record in the bucket.
    last_at     timestamptz      NOT NULL,
    PRIMARY KEY (user_id, bucket, source, skill_area)
);
COMMENT ON TABLE practice_rollups IS
    'Derived from practice_records and progress_records by trigger: per user, UTC quarter-hour, source and skill area.';

-- mastery_rollups: per learner and cell (key, mode, skill area) of the
-- mastery matrix; practice records with all three facts.
CREATE TABLE mastery_rollups (
    user_id    uuid        NOT NULL,
    key        text        NOT NULL,
    mode       text        NOT NULL,
    skill_area text        NOT NULL,
    records    integer     NOT NULL CHECK (records > 0),
    minutes    bigint      NOT NULL,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (user_id, key, mode, skill_area)
);
COMMENT ON TABLE mastery_rollups IS
    'Derived from practice_records by trigger: per user and (key, mode, skill area).';

-- One statement's rows, normalised: the triggers below hand them over as
-- JSON, so one function serves the transition tables of both record tables.
CREATE FUNCTION jazz_roll_rows(batch jsonb)
RETURNS TABLE (user_id uuid, bucket timestamptz, at timestamptz, skill_area text, key text, mode text,
               minutes integer, score double precision)
LANGUAGE sql STABLE AS $$
    SELECT r.user_id, date_bin('15 minutes', r.at, timestamptz 'epoch'), r.at, r.skill_area, r.key, r.mode,
           r.minutes, r.score
      FROM jsonb_to_recordset(batch) AS r(user_id uuid, at timestamptz, skill_area text, key text, mode text,
                                         minutes integer, score double precision)
     WHERE r.user_id IS NOT NULL
$$;

-- Adds one statement's new rows to the rollups. The sums are additive, so
-- concurrent writers to one bucket compose: ON CONFLICT adds to the latest
-- committed row.
CREATE FUNCTION jazz_roll_add(batch jsonb, origin text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO practice_rollups AS p
           (user_id, bucket, source, skill_area, records, minutes, score_sum, score_count, last_at)
    SELECT d.user_id, d.bucket, origin, coalesce(d.skill_area, ''),
           count(*), sum(d.minutes), coalesce(sum(d.score), 0), count(d.score), max(d.at)
      FROM jazz_roll_rows(batch) d GROUP BY d.user_id, d.bucket, coalesce(d.skill_area, '')
    ON CONFLICT ON CONSTRAINT practice_rollups_pkey DO UPDATE
       SET records = p.records + excluded.records, minutes = p.minutes + excluded.minutes,
           score_sum = p.score_sum + excluded.score_sum, score_count = p.score_count + excluded.score_count,
           last_at = greatest(p.last_at, excluded.last_at);
    IF origin = 'practice' THEN
        INSERT INTO mastery_rollups AS m (user_id, key, mode, skill_area, records, minutes, last_at)
        SELECT d.user_id, d.key, d.mode, d.skill_area, count(*), sum(d.minutes), max(d.at)
          FROM jazz_roll_rows(batch) d
         WHERE d.key IS NOT NULL AND d.mode IS NOT NULL AND d.skill_area IS NOT NULL
         GROUP BY d.user_id, d.key, d.mode, d.skill_area
        ON CONFLICT ON CONSTRAINT mastery_rollups_pkey DO UPDATE
           SET records = m.records + excluded.records, minutes = m.minutes + excluded.minutes,
               last_at = greatest(m.last_at, excluded.last_at);
    END IF;
END;
$$;

-- Takes one statement's old rows away. What that empties is deleted; the
-- latest time of what remains is read again from the records (by the
-- indexes the reads use).
CREATE FUNCTION jazz_roll_remove(batch jsonb, origin text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The DELETE and the UPDATE see one snapshot and touch disjoint rows.
    WITH gone AS (
        SELECT d.user_id, d.bucket, coalesce(d.skill_area, '') AS area, count(*) AS records,
               sum(d.minutes) AS minutes, coalesce(sum(d.score), 0) AS score_sum, count(d.score) AS score_count
          FROM jazz_roll_rows(batch) d GROUP BY 1, 2, 3),
    emptied AS (
        DELETE FROM practice_rollups p USING gone g
         WHERE (p.user_id, p.bucket, p.source, p.skill_area) = (g.user_id, g.bucket, origin, g.area)
           AND p.records <= g.records
        RETURNING p.user_id)
    UPDATE practice_rollups p
       SET records = p.records - g.records, minutes = p.minutes - g.minutes,
           score_count = p.score_count - g.score_count,
           score_sum = CASE WHEN p.score_count = g.score_count THEN 0 ELSE p.score_sum - g.score_sum END,
           last_at = coalesce(CASE origin
               WHEN 'practice' THEN (SELECT max(r.practiced_at) FROM practice_records r
                                      WHERE r.user_id = p.user_id AND r.practiced_at >= p.bucket
                                        AND r.practiced_at < p.bucket + interval '15 minutes'
                                        AND coalesce(r.skill_area, '') = p.skill_area)
               ELSE (SELECT max(r.recorded_at) FROM progress_records r
                      WHERE r.user_id = p.user_id AND r.recorded_at >= p.bucket
                        AND r.recorded_at < p.bucket + interval '15 minutes' AND r.skill_area = p.skill_area)
               END, p.last_at)
      FROM gone g
     WHERE (p.user_id, p.bucket, p.source, p.skill_area) = (g.user_id, g.bucket, origin, g.area)
       AND p.records > g.records;
    IF origin = 'practice' THEN
        WITH gone AS (
            SELECT d.user_id, d.key, d.mode, d.skill_area, count(*) AS records, sum(d.minutes) AS minutes
              FROM jazz_roll_rows(batch) d
             WHERE d.key IS NOT NULL AND d.mode IS NOT NULL AND d.skill_area IS NOT NULL
             GROUP BY 1, 2, 3, 4),
        emptied AS (
            DELETE FROM mastery_rollups m USING gone g
             WHERE (m.user_id, m.key, m.mode, m.skill_area) = (g.user_id, g.key, g.mode, g.skill_area)
               AND m.records <= g.records
            RETURNING m.user_id)
        UPDATE mastery_rollups m
           SET records = m.records - g.records, minutes = m.minutes - g.minutes,
               last_at = coalesce((SELECT max(r.practiced_at) FROM practice_records r
                                    WHERE (r.user_id, r.key, r.mode, r.skill_area)
                                          = (m.user_id, m.key, m.mode, m.skill_area)), m.last_at)
          FROM gone g
         WHERE (m.user_id, m.key, m.mode, m.skill_area) = (g.user_id, g.key, g.mode, g.skill_area)
           AND m.records > g.records;
    END IF;
END;
$$;

-- The triggers: one statement-level trigger per event (a trigger with
-- transition tables has one event), each handing its rows to the above.
CREATE FUNCTION jazz_practice_records_roll() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM jazz_roll_remove((SELECT jsonb_agg(jsonb_build_object(
            'user_id', user_id, 'at', practiced_at, 'skill_area', skill_area, 'key', key, 'mode', mode,
            'minutes', time_spent, 'score', performance)) FROM old_rows), 'practice');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM jazz_roll_add((SELECT jsonb_agg(jsonb_build_object(
            'user_id', user_id, 'at', practiced_at, 'skill_area', skill_area, 'key', key, 'mode', mode,
            'minutes', time_spent, 'score', performance)) FROM new_rows), 'practice');
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION jazz_progress_records_roll() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM jazz_roll_remove((SELECT jsonb_agg(jsonb_build_object(
            'user_id', user_id, 'at', recorded_at, 'skill_area', skill_area,
            'minutes', time_spent, 'score', score)) FROM old_rows), 'progress');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM jazz_roll_add((SELECT jsonb_agg(jsonb_build_object(
            'user_id', user_id, 'at', recorded_at, 'skill_area', skill_area,
            'minutes', time_spent, 'score', score)) FROM new_rows), 'progress');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_practice_records_roll_insert AFTER INSERT ON practice_records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jazz_practice_records_roll();
CREATE TRIGGER trg_practice_records_roll_update AFTER UPDATE ON practice_records
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jazz_practice_records_roll();
CREATE TRIGGER trg_practice_records_roll_delete AFTER DELETE ON practice_records
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION jazz_practice_records_roll();
CREATE TRIGGER trg_progress_records_roll_insert AFTER INSERT ON progress_records
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jazz_progress_records_roll();
CREATE TRIGGER trg_progress_records_roll_update AFTER UPDATE ON progress_records
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jazz_progress_records_roll();
CREATE TRIGGER trg_progress_records_roll_delete AFTER DELETE ON progress_records
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION jazz_progress_records_roll();

-- Backfill: the records so far, in the same transaction as the triggers
-- (CREATE TRIGGER holds off writers until it commits, so none is missed).
SELECT jazz_roll_add((SELECT jsonb_agg(jsonb_build_object(
    'user_id', user_id, 'at', practiced_at, 'skill_area', skill_area, 'key', key, 'mode', mode,
    'minutes', time_spent, 'score', performance)) FROM practice_records), 'practice');
SELECT jazz_roll_add((SELECT jsonb_agg(jsonb_build_object(
    'user_id', user_id, 'at', recorded_at, 'skill_area', skill_area,
    'minutes', time_spent, 'score', score)) FROM progress_records), 'progress');

-- The recommendations read a lapsed card's latest record (its key and area).
CREATE INDEX idx_practice_records_user_item
    ON practice_records (user_id, generated_content_id, practiced_at DESC)
    INCLUDE (key, mode, skill_area);
