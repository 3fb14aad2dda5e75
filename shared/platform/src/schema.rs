//! Diesel tables of the platform migration set (`migrations/platform`),
//! present in every service database: the audit log, the transactional
//! outbox, the inbox of processed events and the idempotency keys.
//!
//! Written by hand to match the SQL; see `docs/database.md`. The SQL
//! functions `jazz_set_updated_at()` and
//! `jazz_ensure_monthly_partitions(regclass, integer)` live in the same set.

diesel::table! {
    /// Audit trail of this service (seed `AuditLog`), range-partitioned by
    /// month on `created_at`; written in the same transaction as the change.
    audit_logs (id, created_at) {
        /// ULID of the entry.
        id -> Uuid,
        /// The acting user; set to NULL when the user is erased.
        user_id -> Nullable<Uuid>,
        /// What happened: CREATE, UPDATE, DELETE, LOGIN, ... (1–100 chars).
        action -> Text,
        /// Table or resource name (1–100 chars).
        entity -> Text,
        /// Id of the affected record (≤ 200 chars).
        entity_id -> Nullable<Text>,
        /// State before the change.
        old_data -> Nullable<Jsonb>,
        /// State after the change.
        new_data -> Nullable<Jsonb>,
        /// Additional context.
        metadata -> Nullable<Jsonb>,
        /// Client address (≤ 100 chars).
        ip_address -> Nullable<Text>,
        /// Client user agent (≤ 2048 chars: truncate before writing).
        user_agent -> Nullable<Text>,
        /// Partition key; defaults to `now()`.
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// Transactional outbox: events for other services, written in the
    /// change's transaction and delivered at least once by the relay.
    outbox_events (id) {
        /// ULID of the event; the consumer's `processed_events.event_id`.
        id -> Uuid,
        /// Event name, e.g. `identity.user_deleted` (1–200 chars).
        event_type -> Text,
        /// Id of the row the event is about (1–200 chars).
        aggregate_id -> Text,
        /// Event body.
        payload -> Jsonb,
        /// `pending`, `delivered` or `dead`.
        status -> Text,
        /// Delivery attempts so far (≥ 0).
        attempts -> Int4,
        /// Earliest time of the next attempt (backoff).
        next_attempt_at -> Timestamptz,
        /// Error of the last failed attempt.
        last_error -> Nullable<Text>,
        /// When the event was written.
        created_at -> Timestamptz,
        /// When it was delivered; required when status is `delivered`.
        delivered_at -> Nullable<Timestamptz>,
        /// Set while a relay delivers it (the lease); NULL otherwise.
        leased_until -> Nullable<Timestamptz>,
        /// Version of the body's schema for its `event_type` (≥ 1).
        schema_version -> Int4,
        /// W3C traceparent of the span that enqueued it (1–512 chars).
        trace_context -> Nullable<Text>,
    }
}

diesel::table! {
    /// Inbox: events from other services already applied here, recorded in
    /// the same transaction as their effect.
    processed_events (event_id) {
        /// The producer's `outbox_events.id`.
        event_id -> Uuid,
        /// Event name (1–200 chars).
        event_type -> Text,
        /// When it was applied.
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    /// `request_id` replay store: the first response of a creating call,
    /// keyed by (scope, key).
    idempotency_keys (scope, key) {
        /// Method and caller, e.g. `content.CreateContent:<user ulid>` (1–200 chars).
        scope -> Text,
        /// The client's request id (1–200 chars).
        key -> Text,
        /// `in_progress` (reserved, no response yet) or `completed`.
        status -> Text,
        /// Fingerprint of the request (≤ 64 bytes), to refuse a reused key
        /// with different parameters.
        request_hash -> Nullable<Bytea>,
        /// The encoded protobuf response (≤ 4 MiB); required when `completed`.
        response -> Nullable<Bytea>,
        /// When the key was first seen; expiry runs on it.
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(audit_logs, outbox_events, processed_events, idempotency_keys);
