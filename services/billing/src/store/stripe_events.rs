//! Stripe webhook events already applied: the row is inserted in the same
//! transaction as the event's effect, so a repeated delivery finds it and
//! changes nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::stripe_events;

/// Records the event; `false` when it was recorded before (a duplicate).
/// A concurrent duplicate waits on the primary key until the first commits.
pub async fn record(
    conn: &mut AsyncPgConnection,
    id: &str,
    event_type: &str,
    created: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(stripe_events::table)
        .values((
            stripe_events::id.eq(id),
            stripe_events::event_type.eq(event_type),
            stripe_events::stripe_created_at.eq(created),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
