//! Diesel tables of `jazz_progress` (`migrations/progress`), written by hand
//! to match the SQL; see `docs/database.md`. The platform tables (audit log,
//! outbox, inbox, idempotency keys) are in `jazz_platform::schema`.

diesel::table! {
    /// One measured step of a user's progress in a skill area (seed `ProgressRecord`).
    progress_records (id) {
        /// ULID.
        id -> Uuid,
        /// The user (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// Content practised (`jazz_content`; no foreign key); nulled on deletion.
        generated_content_id -> Nullable<Uuid>,
        /// e.g. `improvisation`, `chord_voicings` (1–64 chars).
        skill_area -> Text,
        /// `BEGINNER`, `INTERMEDIATE`, `ADVANCED` or `EXPERT`.
        difficulty_level -> Text,
        /// 0–100.
        score -> Nullable<Float8>,
        /// Minutes (≥ 0).
        time_spent -> Int4,
        /// 0–100.
        completion_rate -> Nullable<Float8>,
        /// ≤ 5000 chars.
        notes -> Nullable<Text>,
        /// Additional data (≤ 64 KiB).
        metadata -> Nullable<Jsonb>,
        /// When it was recorded.
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    /// A sitting at the piano (seed `PracticeSession`).
    practice_sessions (id) {
        /// ULID.
        id -> Uuid,
        /// The user (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// 1–200 chars.
        title -> Nullable<Text>,
        /// Minutes (≥ 0), default 0.
        duration -> Int4,
        /// Session goals (≤ 50, no NULL elements).
        goals -> Array<Text>,
        /// What was accomplished (≤ 50, no NULL elements).
        achievements -> Array<Text>,
        /// ≤ 5000 chars.
        notes -> Nullable<Text>,
        /// 1–5.
        rating -> Nullable<Int4>,
        /// Additional data (≤ 64 KiB).
        metadata -> Nullable<Jsonb>,
        /// Start.
        started_at -> Timestamptz,
        /// End (≥ `started_at`).
        ended_at -> Nullable<Timestamptz>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// One piece of content practised within a session (seed `PracticeRecord`).
    practice_records (id) {
        /// ULID.
        id -> Uuid,
        /// The session.
        practice_session_id -> Uuid,
        /// Content practised (`jazz_content`; no foreign key); deleted with it.
        generated_content_id -> Uuid,
        /// Minutes (≥ 0).
        time_spent -> Int4,
        /// ≥ 1, default 1.
        repetitions -> Int4,
        /// `BEGINNER`, `INTERMEDIATE`, `ADVANCED` or `EXPERT`.
        difficulty -> Text,
        /// 0–100.
        performance -> Nullable<Float8>,
        /// ≤ 5000 chars.
        notes -> Nullable<Text>,
        /// Row creation.
        created_at -> Timestamptz,
        /// The session's owner (copied; filled by trigger for old writers).
        user_id -> Nullable<Uuid>,
        /// When the practice happened.
        practiced_at -> Timestamptz,
        /// The item's tonic, conventional spelling (1–8 chars); NULL until known.
        key -> Nullable<Text>,
        /// `MAJOR` or `MINOR`; NULL until known.
        mode -> Nullable<Text>,
        /// The skill area of the item's type; NULL until known.
        skill_area -> Nullable<Text>,
    }
}

diesel::table! {
    /// Spaced-repetition schedule of one content item for one user.
    review_items (user_id, generated_content_id) {
        /// The user (`jazz_identity`; no foreign key).
        user_id -> Uuid,
        /// The item (`jazz_content`; no foreign key).
        generated_content_id -> Uuid,
        /// SM-2 ease factor, 1.0–10.0, default 2.5.
        ease -> Float8,
        /// Days to the next review, 0–36500.
        interval_days -> Int4,
        /// Successful reviews in a row (≥ 0).
        repetitions -> Int4,
        /// Next review date.
        due_on -> Date,
        /// Last performance, 0–100.
        last_performance -> Nullable<Float8>,
        /// Row creation.
        created_at -> Timestamptz,
        /// Kept by trigger.
        updated_at -> Timestamptz,
        /// Assessed practice records that fed the schedule (≥ 0).
        review_count -> Int4,
        /// The latest assessed practice.
        last_practiced_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Business metrics written by a periodic job (seed `SystemMetrics`),
    /// range-partitioned by month on `recorded_at`.
    system_metrics (id, recorded_at) {
        /// ULID.
        id -> Uuid,
        /// e.g. `daily_active_users`, `ai_generations` (1–100 chars).
        metric_name -> Text,
        /// Finite value.
        value -> Float8,
        /// Additional dimensions (≤ 64 KiB).
        dimensions -> Nullable<Jsonb>,
        /// Partition key; defaults to `now()`.
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    /// The per-note judgement of a scored take (one per practice record
    /// made by `ScorePerformance`; deleted with it).
    performance_results (practice_record_id) {
        /// The practice record (its id).
        practice_record_id -> Uuid,
        /// The owner.
        user_id -> Uuid,
        /// 0–100.
        score -> Float8,
        /// Events in the take (1–10000).
        event_count -> Int4,
        /// Stated tempo (20–400).
        tempo_bpm -> Float8,
        /// Count-in beats (0–16).
        count_in_beats -> Int4,
        /// The `PerformanceResult` as JSON.
        result -> Jsonb,
        /// When stored.
        created_at -> Timestamptz,
    }
}

diesel::joinable!(practice_records -> practice_sessions (practice_session_id));
diesel::joinable!(performance_results -> practice_records (practice_record_id));

diesel::allow_tables_to_appear_in_same_query!(
    progress_records,
    practice_sessions,
    practice_records,
    performance_results,
    review_items,
    system_metrics,
);
