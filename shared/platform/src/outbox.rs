//! The transactional outbox: events other services must see, written in the
//! same transaction as the change that causes them. Delivery (a relay that
//! claims rows with `FOR UPDATE SKIP LOCKED` and calls the receiver over
//! gRPC, at least once) and the receiving side's inbox live here too, so
//! every service uses one implementation.
//!
//! Every event carries an envelope: the schema version of its body
//! ([`SCHEMA_VERSION`], sent to receivers in each request's
//! `schema_version`) and the `traceparent` of the span that wrote it
//! ([`crate::traces`]). A receiver checks the version with
//! [`accept_version`] before anything else.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tonic::Status;
use uuid::Uuid;

use crate::schema::{outbox_events, processed_events};

/// Names of the events services exchange.
pub mod events {
    /// A user signed up (identity → billing).
    pub const USER_CREATED: &str = "identity.user_created";
    /// A user deleted their account (soft; identity → all, which hide the
    /// user's public rows until the purge).
    pub const USER_DELETED: &str = "identity.user_deleted";
    /// A deleted user came back within the retention window (identity → all).
    pub const USER_UNDELETED: &str = "identity.user_undeleted";
    /// A user's account was purged after the retention window (identity → all).
    pub const USER_PURGED: &str = "identity.user_purged";
    /// A content item was deleted (content → progress).
    pub const CONTENT_DELETED: &str = "content.content_deleted";
    /// A subscription's tier or status changed (billing → identity).
    pub const SUBSCRIPTION_CHANGED: &str = "billing.subscription_changed";
}

/// The schema version of every event body this release writes, and the
/// highest one its receivers understand. Raise it (and teach every
/// receiver the new shape first) when an event's body or meaning changes
/// in a way an older receiver would misread.
pub const SCHEMA_VERSION: i32 = 1;

#[derive(Insertable)]
#[diesel(table_name = outbox_events)]
struct NewEvent<'a> {
    id: Uuid,
    event_type: &'a str,
    aggregate_id: &'a str,
    payload: serde_json::Value,
    schema_version: i32,
    trace_context: Option<String>,
}

/// Writes an event on `conn` (inside the change's transaction), stamped
/// with [`SCHEMA_VERSION`] and the current span's trace context; returns
/// its id, which receivers use to apply it exactly once.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    aggregate_id: &str,
    payload: serde_json::Value,
) -> QueryResult<Uuid> {
    let id = crate::ids::new_id();
    let trace_context = crate::traces::current_traceparent().filter(|t| (1..=512).contains(&t.len()));
    let event = NewEvent { id, event_type, aggregate_id, payload, schema_version: SCHEMA_VERSION, trace_context };
    diesel::insert_into(outbox_events::table).values(event).execute(conn).await?;
    Ok(id)
}

/// Receiving side, first thing in a handler: whether this release
/// understands `schema_version` of `event_type` (0, a producer that sent
/// none, is version 1). A version it does not know is refused loudly — a
/// warning and `events_ignored_total{event_type}` — with
/// FAILED_PRECONDITION, which the producer's relay retries (never marks
/// dead): the event waits, visible as backlog, until this receiver is
/// upgraded, instead of being acknowledged and lost (decision 35).
pub fn accept_version(event_type: &str, schema_version: i32) -> Result<(), Status> {
    if (0..=SCHEMA_VERSION).contains(&schema_version) {
        return Ok(());
    }
    tracing::warn!(event_type, schema_version, known = SCHEMA_VERSION, "event of an unknown schema version refused");
    metrics::counter!("events_ignored_total", "event_type" => event_type.to_owned()).increment(1);
    Err(Status::failed_precondition(format!(
        "event schema version {schema_version} is newer than this receiver knows ({SCHEMA_VERSION}); retry after its upgrade"
    )))
}

/// Receiving side: whether `event_id` was applied before (a read outside
/// the effect's transaction, to skip slow work such as an outside call; the
/// [`mark_processed`] in the transaction is what decides).
pub async fn was_processed(conn: &mut AsyncPgConnection, event_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(processed_events::table.filter(processed_events::event_id.eq(event_id))))
        .get_result(conn)
        .await
}

/// Receiving side: records `event_id` as applied. Returns `false` when it
/// already was — the caller then skips the effect. Call it inside the same
/// transaction as the effect, so a replay changes nothing.
pub async fn mark_processed(conn: &mut AsyncPgConnection, event_id: Uuid, event_type: &str) -> QueryResult<bool> {
    let inserted = diesel::insert_into(processed_events::table)
        .values((processed_events::event_id.eq(event_id), processed_events::event_type.eq(event_type)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Hands every counter the same cell: the test counts one name.
    struct One(Arc<AtomicU64>);

    impl metrics::Recorder for One {
        fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
        fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
        fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
        fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
            let labels: Vec<_> = key.labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
            assert_eq!((key.name(), labels), ("events_ignored_total", vec![("event_type".into(), "x.y".into())]));
            metrics::Counter::from_arc(self.0.clone())
        }
        fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::noop()
        }
        fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }

    #[test]
    fn unknown_schema_versions_are_refused_for_a_retry_and_counted() {
        let ignored = Arc::new(AtomicU64::new(0));
        let recorder = One(ignored.clone());
        metrics::with_local_recorder(&recorder, || {
            assert!(accept_version("x.y", 0).is_ok(), "unset: a producer from before versions");
            assert!(accept_version("x.y", SCHEMA_VERSION).is_ok());
            let refused = accept_version("x.y", SCHEMA_VERSION + 1).err();
            assert_eq!(refused.as_ref().map(Status::code), Some(tonic::Code::FailedPrecondition));
            let retried = crate::relay::Undelivered::from_status("x.Y", &refused.unwrap_or_else(|| Status::ok("")));
            assert!(matches!(retried, crate::relay::Undelivered::Retry(_)), "the relay retries it, never dead");
            assert!(accept_version("x.y", -1).is_err());
        });
        assert_eq!(AtomicU64::load(&ignored, Ordering::Acquire), 2);
    }
}
