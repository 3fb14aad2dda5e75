//! `generated_content`: insert, the visibility rule, lists (keyset on
//! `(created_at, id)` / `(likes, id)` / `(rank, id)`), search (the newest
//! matches, ranked), edits and
//! soft deletion. Visible to a caller = not deleted and (own or public).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use diesel_full_text_search::configuration::TsConfigurationByName;
use diesel_full_text_search::{TsVectorExtensions as _, ts_rank, websearch_to_tsquery_with_search_config};
use uuid::Uuid;

use super::models::{ContentChanges, ContentRow, Listed, MusicRow, NewContent};
use crate::domain::filter::Filter;
use crate::schema::{content_likes as cl, generated_content as gc, saved_content as sc};

/// How long a deleted item may be restored (and shows in "recently
/// deleted") before the purge.
pub const RETENTION_DAYS: i64 = 30;

/// Items joined with the caller's like and saved entry.
macro_rules! with_caller {
    ($me:expr) => {
        gc::table
            .left_join(cl::table.on(cl::generated_content_id.eq(gc::id).and(cl::user_id.eq($me))))
            .left_join(sc::table.on(sc::generated_content_id.eq(gc::id).and(sc::user_id.eq($me))))
            .select((ContentRow::as_select(), cl::user_id.nullable(), sc::id.nullable()))
            .into_boxed()
    };
}

/// Narrows a boxed query on `generated_content` by a [`Filter`].
macro_rules! apply_filter {
    ($query:expr, $filter:expr) => {{
        let mut query = $query;
        let filter: &Filter = $filter;
        if let Some(t) = filter.content_type {
            query = query.filter(gc::type_.eq(t));
        }
        if let Some(d) = filter.difficulty {
            query = query.filter(gc::difficulty.eq(d));
        }
        if let Some(keys) = &filter.keys {
            query = query.filter(gc::key.eq_any(keys.clone()));
        }
        if let Some(m) = filter.mode {
            query = query.filter(gc::parameters.retrieve_as_text("mode").eq(m));
        }
        if let Some(s) = &filter.style {
            query = query.filter(gc::style.eq(s.clone()));
        }
        if let Some(t) = &filter.tag {
            query = query.filter(gc::tags.contains(vec![t.clone()]));
        }
        query
    }};
}

type Joined = (ContentRow, Option<Uuid>, Option<Uuid>);

fn listed((row, liked, saved_id): Joined) -> Listed {
    Listed { row, liked: liked.is_some(), saved_id }
}

/// Inserts a new item.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewContent) -> QueryResult<ContentRow> {
    diesel::insert_into(gc::table).values(new).returning(ContentRow::as_returning()).get_result(conn).await
}

/// The items of `ids` visible to `me` (any order).
pub async fn visible_many(conn: &mut AsyncPgConnection, me: Uuid, ids: &[Uuid]) -> QueryResult<Vec<Listed>> {
    let rows: Vec<Joined> = with_caller!(me)
        .filter(gc::id.eq_any(ids.to_vec()))
        .filter(gc::deleted_at.is_null())
        .filter(gc::user_id.eq(me).or(gc::is_public))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(listed).collect())
}

/// One item if visible to `me`.
pub async fn visible(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<Option<Listed>> {
    Ok(visible_many(conn, me, &[id]).await?.pop())
}

/// One item if visible to `me`, with its music: GetContent's FULL view in
/// one statement.
pub async fn visible_with_music(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    id: Uuid,
) -> QueryResult<Option<(Listed, MusicRow)>> {
    let row: Option<(ContentRow, Option<Uuid>, Option<Uuid>, MusicRow)> = gc::table
        .left_join(cl::table.on(cl::generated_content_id.eq(gc::id).and(cl::user_id.eq(me))))
        .left_join(sc::table.on(sc::generated_content_id.eq(gc::id).and(sc::user_id.eq(me))))
        .select((ContentRow::as_select(), cl::user_id.nullable(), sc::id.nullable(), MusicRow::as_select()))
        .filter(gc::id.eq(id))
        .filter(gc::deleted_at.is_null())
        .filter(gc::user_id.eq(me).or(gc::is_public))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(row, liked, saved, music)| (listed((row, liked, saved)), music)))
}

/// The music of `ids`.
pub async fn music(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<MusicRow>> {
    gc::table.filter(gc::id.eq_any(ids.to_vec())).select(MusicRow::as_select()).load(conn).await
}

/// The caller's items, newest first, after the keyset position.
pub async fn list_mine(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    filter: &Filter,
    show_deleted: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let mut query = apply_filter!(with_caller!(me).filter(gc::user_id.eq(me)), filter);
    if show_deleted {
        let horizon = Utc::now() - chrono::Duration::days(RETENTION_DAYS);
        query = query.filter(gc::deleted_at.is_null().or(gc::deleted_at.gt(horizon)));
    } else {
        query = query.filter(gc::deleted_at.is_null());
    }
    if let Some((at, id)) = after {
        query = query.filter(gc::created_at.lt(at).or(gc::created_at.eq(at).and(gc::id.lt(id))));
    }
    let rows: Vec<Joined> = query.order((gc::created_at.desc(), gc::id.desc())).limit(limit).load(conn).await?;
    Ok(rows.into_iter().map(listed).collect())
}

/// A position in the public feed.
#[derive(Debug, Clone, Copy)]
pub enum FeedCursor {
    /// Newest first: after (created_at, id).
    Newest(DateTime<Utc>, Uuid),
    /// Most liked first: after (likes, id).
    MostLiked(i32, Uuid),
}

/// Public, undeleted items; `most_liked` orders by likes then id.
pub async fn list_public(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    filter: &Filter,
    most_liked: bool,
    after: Option<FeedCursor>,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let mut query = apply_filter!(with_caller!(me).filter(gc::is_public).filter(gc::deleted_at.is_null()), filter);
    match after {
        Some(FeedCursor::Newest(at, id)) => {
            query = query.filter(gc::created_at.lt(at).or(gc::created_at.eq(at).and(gc::id.lt(id))));
        }
        Some(FeedCursor::MostLiked(likes, id)) => {
            query = query.filter(gc::likes.lt(likes).or(gc::likes.eq(likes).and(gc::id.lt(id))));
        }
        None => {}
    }
    let query = if most_liked {
        query.order((gc::likes.desc(), gc::id.desc()))
    } else {
        query.order((gc::created_at.desc(), gc::id.desc()))
    };
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    Ok(rows.into_iter().map(listed).collect())
}

/// How many matches a search ranks: the newest this many. Ranking every
/// match of a common word reads each match's vector (133 000 matches of a
/// million items: ~800 ms); the newest thousand come off
/// `idx_generated_content_search_recent` in an index-only scan that stops
/// when it has them (decision 39).
pub const SEARCH_CANDIDATES: i64 = 1000;

/// Full-text search over public items and the caller's own: the newest
/// [`SEARCH_CANDIDATES`] matches, best first (ties: newest id first), after
/// the keyset position `(rank, id)`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    me: Uuid,
    text: &str,
    filter: &Filter,
    after: Option<(f32, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Listed, f32)>> {
    let tsquery = websearch_to_tsquery_with_search_config(TsConfigurationByName("english"), text.to_owned());
    let candidates = gc::table
        .filter(gc::search_vector.matches(tsquery.clone()))
        .filter(gc::deleted_at.is_null())
        .filter(gc::user_id.eq(me).or(gc::is_public))
        .into_boxed();
    let candidates = apply_filter!(candidates, filter)
        .select((gc::id, ts_rank(gc::search_vector, tsquery)))
        .order((gc::created_at.desc(), gc::id.desc()))
        .limit(SEARCH_CANDIDATES);
    // Planned per call: the covering index for a common word, the GIN
    // index for a rare one (one generic plan took 1.7 s for "blues").
    let mut ranked: Vec<(Uuid, f32)> = conn
        .transaction(async |conn| {
            diesel::sql_query(jazz_platform::db::CUSTOM_PLANS).execute(conn).await?;
            candidates.load(conn).await
        })
        .await?;
    ranked.sort_unstable_by(|(a_id, a_rank), (b_id, b_rank)| b_rank.total_cmp(a_rank).then(b_id.cmp(a_id)));
    let page: Vec<(Uuid, f32)> = ranked
        .into_iter()
        .filter(|&(id, rank)| after.is_none_or(|(at_rank, at_id)| rank < at_rank || (rank == at_rank && id < at_id)))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let ids: Vec<Uuid> = page.iter().map(|(id, _)| *id).collect();
    let mut found = visible_many(conn, me, &ids).await?;
    Ok(page
        .into_iter()
        .filter_map(|(id, rank)| {
            let at = found.iter().position(|item| item.row.id == id)?;
            Some((found.swap_remove(at), rank))
        })
        .collect())
}

/// The caller's item, deleted or not, locked for a change.
pub async fn own_for_update(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<Option<ContentRow>> {
    gc::table
        .filter(gc::id.eq(id))
        .filter(gc::user_id.eq(me))
        .select(ContentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Applies field edits (never counters: those have their own statements).
pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, changes: &ContentChanges) -> QueryResult<ContentRow> {
    diesel::update(gc::table.filter(gc::id.eq(id)))
        .set(changes)
        .returning(ContentRow::as_returning())
        .get_result(conn)
        .await
}

/// Sets or clears `deleted_at`.
pub async fn set_deleted(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
) -> QueryResult<ContentRow> {
    diesel::update(gc::table.filter(gc::id.eq(id)))
        .set(gc::deleted_at.eq(deleted_at))
        .returning(ContentRow::as_returning())
        .get_result(conn)
        .await
}

/// Any item by id (for other services' references).
pub async fn by_id(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ContentRow>> {
    gc::table.filter(gc::id.eq(id)).select(ContentRow::as_select()).first(conn).await.optional()
}

/// The music of one item, for export and transposition.
pub async fn music_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<MusicRow>> {
    Ok(music(conn, &[id]).await?.pop())
}

/// Items generated during `[from, to)` per type (deleted ones included),
/// by type name.
pub async fn generated_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(String, i64)>> {
    gc::table
        .filter(gc::created_at.ge(from).and(gc::created_at.lt(to)))
        .group_by(gc::type_)
        .select((gc::type_, diesel::dsl::count_star()))
        .order(gc::type_)
        .load(conn)
        .await
}

/// Deletes every item `user` owns (their likes and saves go by cascade);
/// returns their ids.
pub async fn purge_owned(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<Vec<Uuid>> {
    diesel::delete(gc::table.filter(gc::user_id.eq(user))).returning(gc::id).get_results(conn).await
}

/// Up to `limit` items deleted before `cutoff`, oldest deletion first,
/// locked (`SKIP LOCKED`: two purges never take the same item).
pub async fn deleted_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Uuid>> {
    gc::table
        .filter(gc::deleted_at.lt(cutoff))
        .order(gc::deleted_at.asc())
        .limit(limit)
        .select(gc::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Deletes the items `ids` for good (their likes and saves go by cascade).
pub async fn purge_items(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::delete(gc::table.filter(gc::id.eq_any(ids))).execute(conn).await
}
