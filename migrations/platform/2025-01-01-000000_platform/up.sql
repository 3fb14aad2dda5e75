-- Platform objects shared by every service database (jazz_identity,
-- jazz_billing, jazz_content, jazz_progress). This set is applied FIRST to
-- each database, before the service's own set; see docs/database.md.

-- ---------------------------------------------------------------------------
-- 1. updated_at trigger function
-- ---------------------------------------------------------------------------
-- Attached as `BEFORE UPDATE ... FOR EACH ROW` to every table that has an
-- updated_at column. now() is the transaction's start time, so every row a
-- transaction touches gets the same stamp.
CREATE FUNCTION jazz_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION jazz_set_updated_at() IS
    'BEFORE UPDATE row trigger: sets NEW.updated_at = now().';

-- ---------------------------------------------------------------------------
-- 2. monthly range partitions
-- ---------------------------------------------------------------------------
-- Creates the partitions <parent>_yYYYYmMM of a table partitioned BY RANGE on
-- a timestamptz column, for the current month (UTC) through `months_ahead`
-- months ahead, and returns how many it created. Month bounds are UTC
-- midnights written with an explicit offset, so the session TimeZone never
-- shifts them.
--
-- Safe to call at any time and from many processes at once: it takes a
-- transaction-scoped advisory lock (two-key form: key1 = 1784773242, i.e.
-- 'jazz' in ASCII, key2 = the parent's oid) and skips months whose partition
-- already exists.
--
-- Each partition is created as a plain table, filled with the rows of its
-- month that landed in the DEFAULT partition while it was missing (else
-- PostgreSQL would refuse the partition), then attached. ATTACH takes only a
-- SHARE UPDATE EXCLUSIVE lock on the parent, so writers are not stalled.
--
-- Lock waits are bounded (lock_timeout 5s, set on the function): under
-- contention the call fails with SQLSTATE 55P03 and the caller simply retries
-- on its next tick -- the months-ahead margin leaves ample time. Call it in
-- its own READ COMMITTED transaction (the default).
CREATE FUNCTION jazz_ensure_monthly_partitions(parent regclass, months_ahead integer)
RETURNS integer
LANGUAGE plpgsql
SET lock_timeout = '5s'
AS $$
DECLARE
    parent_schema  text;
    parent_name    text;
    part_key       text;
    default_part   regclass;
    first_month    date;
    month_start    date;
    month_end      date;
    lower_bound    text;
    upper_bound    text;
    part_name      text;
    created        integer := 0;
BEGIN
    IF parent IS NULL THEN
        RAISE EXCEPTION 'jazz_ensure_monthly_partitions: parent must not be NULL';
    END IF;
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'jazz_ensure_monthly_partitions: months_ahead must be between 0 and 120, got %',
            months_ahead;
    END IF;

    SELECT n.nspname, c.relname
      INTO parent_schema, parent_name
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = parent AND c.relkind = 'p';
    IF parent_name IS NULL THEN
        RAISE EXCEPTION 'jazz_ensure_monthly_partitions: % is not a partitioned table', parent;
    END IF;

    -- The single range partition key column (e.g. created_at, recorded_at).
    SELECT a.attname
      INTO part_key
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = parent AND pt.partstrat = 'r' AND pt.partnatts = 1;
    IF part_key IS NULL THEN
        RAISE EXCEPTION 'jazz_ensure_monthly_partitions: % is not range-partitioned on one column', parent;
    END IF;

    -- Serialise concurrent callers for this parent. Key1 is a constant
    -- ('jazz' in ASCII, 0x6A617A7A) so the lock cannot collide with
    -- application locks that use the one-bigint form; key2 is the oid folded
    -- into int4 (low 32 bits).
    PERFORM pg_advisory_xact_lock(1784773242, (parent::oid::bigint)::bit(32)::integer);

    SELECT i.inhrelid::regclass
      INTO default_part
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = parent
       AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';

    first_month := date_trunc('month', now() AT TIME ZONE 'UTC')::date;

    FOR i IN 0 .. months_ahead LOOP
        month_start := (first_month + make_interval(months => i))::date;
        month_end   := (month_start + interval '1 month')::date;
        part_name   := format('%s_y%sm%s', parent_name,
                              to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
        lower_bound := to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00';
        upper_bound := to_char(month_end, 'YYYY-MM-DD') || ' 00:00:00+00';

        -- Already attached to this parent: nothing to do.
        IF EXISTS (SELECT 1
                     FROM pg_inherits i
                     JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = parent
                      AND c.relname = part_name
                      AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = parent)) THEN
            CONTINUE;
        END IF;

        -- Created detached and then attached: ATTACH PARTITION takes only a
        -- SHARE UPDATE EXCLUSIVE lock on the parent (CREATE TABLE ... PARTITION
        -- OF would take ACCESS EXCLUSIVE and stall every writer meanwhile).
        EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       parent_schema, part_name, parent);
        IF default_part IS NOT NULL THEN
            -- Rows for this month that sit in the DEFAULT partition (written
            -- while the partition was missing) move to the new one; ATTACH
            -- would fail otherwise. The lock keeps new rows from landing there
            -- until the partition is attached (readers are not blocked).
            EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', default_part);
            EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= %L::timestamptz AND %I < %L::timestamptz RETURNING *) '
                           'INSERT INTO %I.%I SELECT * FROM moved',
                           default_part, part_key, lower_bound, part_key, upper_bound,
                           parent_schema, part_name);
        END IF;
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                       parent, parent_schema, part_name, lower_bound, upper_bound);
        created := created + 1;
    END LOOP;

    RETURN created;
END;
$$;

COMMENT ON FUNCTION jazz_ensure_monthly_partitions(regclass, integer) IS
    'Creates <parent>_yYYYYmMM partitions (UTC months) for the current month through months_ahead months ahead; returns how many it created. Concurrency-safe.';

-- ---------------------------------------------------------------------------
-- 3. audit_logs (seed AuditLog), one per service database
-- ---------------------------------------------------------------------------
-- Written in the same transaction as the change it records. user_id is a
-- plain uuid (users live in jazz_identity); erasure sets it to NULL, as the
-- seed's onDelete: SetNull says.
CREATE TABLE audit_logs (
    id          uuid        NOT NULL,
    user_id     uuid        NULL,
    action      text        NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    entity      text        NOT NULL CHECK (length(entity) BETWEEN 1 AND 100),
    entity_id   text        NULL     CHECK (length(entity_id) <= 200),
    old_data    jsonb       NULL,
    new_data    jsonb       NULL,
    metadata    jsonb       NULL,
    ip_address  text        NULL     CHECK (length(ip_address) <= 100),
    user_agent  text        NULL     CHECK (length(user_agent) <= 2048),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

COMMENT ON TABLE audit_logs IS
    'Audit trail of this service (seed AuditLog), monthly partitions audit_logs_yYYYYmMM plus audit_logs_default.';

CREATE INDEX idx_audit_logs_user_id    ON audit_logs (user_id);
CREATE INDEX idx_audit_logs_action     ON audit_logs (action);
CREATE INDEX idx_audit_logs_entity     ON audit_logs (entity);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at);

-- Catches rows whose month has no partition yet, so a write never fails.
CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;

SELECT jazz_ensure_monthly_partitions('audit_logs'::regclass, 3);

-- ---------------------------------------------------------------------------
-- 4. outbox_events: the transactional outbox
-- ---------------------------------------------------------------------------
-- Written in the same transaction as the change; a relay claims due rows with
-- FOR UPDATE SKIP LOCKED, delivers them at least once, retries with backoff
-- (attempts, next_attempt_at, last_error) and gives up with status 'dead'.
CREATE TABLE outbox_events (
    id              uuid        PRIMARY KEY,
    event_type      text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    aggregate_id    text        NOT NULL CHECK (length(aggregate_id) BETWEEN 1 AND 200),
    payload         jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text        NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz NULL,
    CONSTRAINT outbox_events_delivered_check
        CHECK (status <> 'delivered' OR delivered_at IS NOT NULL)
);

COMMENT ON TABLE outbox_events IS
    'Transactional outbox: events for other services, delivered at least once by the relay.';

-- The relay's claim query: WHERE status = 'pending' AND next_attempt_at <= now()
-- ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP LOCKED.
CREATE INDEX idx_outbox_events_pending ON outbox_events (next_attempt_at)
    WHERE status = 'pending';
-- Pruning of delivered events.
CREATE INDEX idx_outbox_events_delivered_at ON outbox_events (delivered_at)
    WHERE status = 'delivered';

-- ---------------------------------------------------------------------------
-- 5. processed_events: the inbox of idempotent consumers
-- ---------------------------------------------------------------------------
-- A consumer inserts the event id in the same transaction as the event's
-- effect (INSERT ... ON CONFLICT DO NOTHING; 0 rows = already applied).
CREATE TABLE processed_events (
    event_id     uuid        PRIMARY KEY,
    event_type   text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    processed_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE processed_events IS
    'Inbox: ids of events from other services already applied here (at-least-once delivery made idempotent).';

CREATE INDEX idx_processed_events_processed_at ON processed_events (processed_at);

-- ---------------------------------------------------------------------------
-- 6. idempotency_keys: request_id replay of creating calls
-- ---------------------------------------------------------------------------
-- scope names the method and the caller (e.g. 'content.CreateContent:<user
-- ulid>'), key is the client's request_id. status 'completed' rows hold the
-- encoded protobuf response that a retry gets back; 'in_progress' marks a key
-- reserved before an outside call (e.g. the Idempotency-Key sent to Stripe).
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL CHECK (length(scope) BETWEEN 1 AND 200),
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    status       text        NOT NULL DEFAULT 'completed'
                             CHECK (status IN ('in_progress', 'completed')),
    request_hash bytea       NULL     CHECK (octet_length(request_hash) <= 64),
    response     bytea       NULL     CHECK (octet_length(response) <= 4194304),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_completed_response_check
        CHECK (status <> 'completed' OR response IS NOT NULL)
);

COMMENT ON TABLE idempotency_keys IS
    'request_id replay store: the first response of a creating call, keyed by (scope, key).';

CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at);
