//! Likes and views: counters changed only by atomic SQL, in statements of
//! their own (a counter bump is not an edit and leaves `updated_at` alone).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{content_likes as cl, generated_content as gc};

/// Records `me`'s like; bumps the counter only when the like is new.
/// Returns (likes after, newly liked).
pub async fn like(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<(i32, bool)> {
    let inserted = diesel::insert_into(cl::table)
        .values((cl::generated_content_id.eq(id), cl::user_id.eq(me)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        let likes = diesel::update(gc::table.filter(gc::id.eq(id)))
            .set(gc::likes.eq(gc::likes + 1))
            .returning(gc::likes)
            .get_result(conn)
            .await?;
        Ok((likes, true))
    } else {
        Ok((likes_of(conn, id).await?, false))
    }
}

/// Removes `me`'s like; lowers the counter (never below zero) only when a
/// like was removed. Returns (likes after, removed).
pub async fn unlike(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<(i32, bool)> {
    let deleted = diesel::delete(cl::table.filter(cl::generated_content_id.eq(id)).filter(cl::user_id.eq(me)))
        .execute(conn)
        .await?;
    if deleted == 1 {
        let likes = diesel::update(gc::table.filter(gc::id.eq(id)))
            .set(gc::likes.eq(diesel::dsl::sql::<diesel::sql_types::Integer>("GREATEST(likes - 1, 0)")))
            .returning(gc::likes)
            .get_result(conn)
            .await?;
        Ok((likes, true))
    } else {
        Ok((likes_of(conn, id).await?, false))
    }
}

async fn likes_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<i32> {
    gc::table.filter(gc::id.eq(id)).select(gc::likes).first(conn).await
}

/// Counts a view of an item visible to `me`, in one statement (the row lock
/// lasts only that statement). `None` when the item is not visible.
pub async fn view(conn: &mut AsyncPgConnection, me: Uuid, id: Uuid) -> QueryResult<Option<i32>> {
    diesel::update(
        gc::table.filter(gc::id.eq(id)).filter(gc::deleted_at.is_null()).filter(gc::user_id.eq(me).or(gc::is_public)),
    )
    .set(gc::views.eq(gc::views + 1))
    .returning(gc::views)
    .get_result(conn)
    .await
    .optional()
}

/// Removes every like of a purged user, lowering each item's counter.
/// Returns how many likes were removed.
pub async fn purge_likes(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<usize> {
    let liked: Vec<Uuid> = diesel::delete(cl::table.filter(cl::user_id.eq(user)))
        .returning(cl::generated_content_id)
        .get_results(conn)
        .await?;
    if !liked.is_empty() {
        diesel::update(gc::table.filter(gc::id.eq_any(&liked)))
            .set(gc::likes.eq(diesel::dsl::sql::<diesel::sql_types::Integer>("GREATEST(likes - 1, 0)")))
            .execute(conn)
            .await?;
    }
    Ok(liked.len())
}
