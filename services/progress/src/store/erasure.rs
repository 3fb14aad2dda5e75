//! Erasure, as other services' events demand it: every row of a purged
//! user, and the references to a purged content item (the seed's Cascade
//! for practice records and the review schedule, SetNull for progress
//! records). The handler owns the transaction and records the event id in
//! it, so a replayed event changes nothing.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{practice_records as pr, practice_sessions as ps, progress_records as pg, review_items as ri};

/// What a user's purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgedUser {
    /// Practice sessions.
    pub sessions: usize,
    /// Practice records (of those sessions).
    pub practice_records: usize,
    /// Progress records.
    pub progress_records: usize,
    /// Review schedule entries.
    pub reviews: usize,
}

/// Deletes every practice session (with its records), progress record and
/// review schedule entry of `user`.
pub async fn purge_user(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<PurgedUser> {
    // The foreign key would cascade too; deleting first counts them.
    let sessions_of_user = ps::table.filter(ps::user_id.eq(user)).select(ps::id);
    let practice_records =
        diesel::delete(pr::table.filter(pr::practice_session_id.eq_any(sessions_of_user))).execute(conn).await?;
    let sessions = diesel::delete(ps::table.filter(ps::user_id.eq(user))).execute(conn).await?;
    let progress_records = diesel::delete(pg::table.filter(pg::user_id.eq(user))).execute(conn).await?;
    let reviews = diesel::delete(ri::table.filter(ri::user_id.eq(user))).execute(conn).await?;
    Ok(PurgedUser { sessions, practice_records, progress_records, reviews })
}

/// What a content item's purge changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgedContent {
    /// Practice records of the item, deleted.
    pub practice_records: usize,
    /// Review schedule entries of the item, deleted.
    pub reviews: usize,
    /// Progress records whose content reference was cleared.
    pub progress_records: usize,
}

impl PurgedContent {
    /// True when nothing referenced the item.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Deletes the practice records and review entries of `item` and clears
/// it from progress records.
pub async fn purge_content(conn: &mut AsyncPgConnection, item: Uuid) -> QueryResult<PurgedContent> {
    let practice_records = diesel::delete(pr::table.filter(pr::generated_content_id.eq(item))).execute(conn).await?;
    let reviews = diesel::delete(ri::table.filter(ri::generated_content_id.eq(item))).execute(conn).await?;
    let progress_records = diesel::update(pg::table.filter(pg::generated_content_id.eq(item)))
        .set(pg::generated_content_id.eq(None::<Uuid>))
        .execute(conn)
        .await?;
    Ok(PurgedContent { practice_records, reviews, progress_records })
}
