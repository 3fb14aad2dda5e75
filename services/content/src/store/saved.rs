//! `saved_content`: a user's library entries. Lists show only entries whose
//! item is still visible to the user (a deleted or since-hidden item leaves
//! every saved list).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{ContentRow, SavedChanges, SavedRow};
use crate::schema::{content_likes as cl, generated_content as gc, saved_content as sc};

/// Inserts an entry.
pub async fn insert(conn: &mut AsyncPgConnection, row: &SavedRow) -> QueryResult<SavedRow> {
    diesel::insert_into(sc::table).values(row).returning(SavedRow::as_returning()).get_result(conn).await
}

/// The caller's entry for an item, if any.
pub async fn of_item(conn: &mut AsyncPgConnection, me: Uuid, content_id: Uuid) -> QueryResult<Option<SavedRow>> {
    sc::table
        .filter(sc::user_id.eq(me))
        .filter(sc::generated_content_id.eq(content_id))
        .select(SavedRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The caller's entry by id, locked for a change.
pub async fn own_for_update(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<Option<SavedRow>> {
    sc::table
        .filter(sc::id.eq(id))
        .filter(sc::user_id.eq(me))
        .select(SavedRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Whether the caller already has an entry in `collection`.
pub async fn collection_exists(conn: &mut AsyncPgConnection, me: Uuid, collection: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(sc::table.filter(sc::user_id.eq(me)).filter(sc::collection_name.eq(collection))))
        .get_result(conn)
        .await
}

/// Applies an edit.
pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, changes: &SavedChanges) -> QueryResult<SavedRow> {
    diesel::update(sc::table.filter(sc::id.eq(id)))
        .set(changes)
        .returning(SavedRow::as_returning())
        .get_result(conn)
        .await
}

/// Deletes the caller's entry; `false` when there was none.
pub async fn delete(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<Option<SavedRow>> {
    diesel::delete(sc::table.filter(sc::id.eq(id)).filter(sc::user_id.eq(me)))
        .returning(SavedRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// One listed entry: the entry, its item, and whether the caller likes it.
pub type SavedListed = (SavedRow, ContentRow, bool);

/// The caller's entries whose item is visible, newest first, after the
/// keyset position. `collection`: `None` every collection, `Some(None)` no
/// collection, `Some(Some(name))` that one.
pub async fn list(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    collection: Option<Option<&str>>,
    favorites_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<SavedListed>> {
    let mut query = sc::table
        .inner_join(gc::table)
        .left_join(cl::table.on(cl::generated_content_id.eq(gc::id).and(cl::user_id.eq(me))))
        .filter(sc::user_id.eq(me))
        .filter(gc::deleted_at.is_null())
        .filter(gc::user_id.eq(me).or(gc::is_public))
        .select((SavedRow::as_select(), ContentRow::as_select(), cl::user_id.nullable()))
        .into_boxed();
    match collection {
        None => {}
        Some(None) => query = query.filter(sc::collection_name.is_null()),
        Some(Some(name)) => query = query.filter(sc::collection_name.eq(name.to_owned())),
    }
    if favorites_only {
        query = query.filter(sc::is_favorite);
    }
    if let Some((at, id)) = after {
        query = query.filter(sc::created_at.lt(at).or(sc::created_at.eq(at).and(sc::id.lt(id))));
    }
    let rows: Vec<(SavedRow, ContentRow, Option<Uuid>)> =
        query.order((sc::created_at.desc(), sc::id.desc())).limit(limit).load(conn).await?;
    Ok(rows.into_iter().map(|(saved, row, liked)| (saved, row, liked.is_some())).collect())
}

/// One collection with its counts.
#[derive(Debug, Clone, QueryableByName)]
pub struct CollectionRow {
    /// `''` for entries in no collection.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Entries.
    #[diesel(sql_type = BigInt)]
    pub item_count: i64,
    /// Favourites among them.
    #[diesel(sql_type = BigInt)]
    pub favorite_count: i64,
    /// Latest save.
    #[diesel(sql_type = Timestamptz)]
    pub last_saved_at: DateTime<Utc>,
}

/// The caller's collections by name (the unnamed group, `''`, first), of
/// entries whose item is visible, after `after` (a name).
pub async fn collections(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<CollectionRow>> {
    diesel::sql_query(
        "SELECT coalesce(s.collection_name, '') AS name, count(*) AS item_count, \
                count(*) FILTER (WHERE s.is_favorite) AS favorite_count, max(s.created_at) AS last_saved_at \
         FROM saved_content s JOIN generated_content g ON g.id = s.generated_content_id \
         WHERE s.user_id = $1 AND g.deleted_at IS NULL AND (g.user_id = $1 OR g.is_public) \
           AND ($2::text IS NULL OR coalesce(s.collection_name, '') COLLATE \"C\" > $2) \
         GROUP BY 1 ORDER BY coalesce(s.collection_name, '') COLLATE \"C\" LIMIT $3",
    )
    .bind::<SqlUuid, _>(me)
    .bind::<Nullable<Text>, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Removes every entry of a purged user; how many.
pub async fn purge(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::delete(sc::table.filter(sc::user_id.eq(user))).execute(conn).await
}
