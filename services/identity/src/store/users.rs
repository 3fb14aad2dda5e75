//! `users` and `user_profiles`.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{ProfileRow, UserRow};
use crate::schema::{user_profiles as p, users as u};

/// A user to create.
#[derive(Insertable)]
#[diesel(table_name = u)]
pub struct NewUser<'a> {
    /// ULID.
    pub id: Uuid,
    /// Normalised address.
    pub email: &'a str,
    /// Given name.
    pub first_name: &'a str,
    /// Family name.
    pub last_name: &'a str,
    /// Optional handle.
    pub username: Option<&'a str>,
    /// IANA zone.
    pub timezone: &'a str,
    /// BCP 47 tag.
    pub locale: &'a str,
    /// argon2id PHC string.
    pub password_hash: Option<&'a str>,
}

/// Inserts `user` and its default profile.
pub async fn insert_with_profile(conn: &mut AsyncPgConnection, user: &NewUser<'_>) -> QueryResult<UserRow> {
    let row = diesel::insert_into(u::table).values(user).returning(UserRow::as_returning()).get_result(conn).await?;
    diesel::insert_into(p::table)
        .values((p::id.eq(jazz_platform::ids::new_id()), p::user_id.eq(row.id)))
        .execute(conn)
        .await?;
    Ok(row)
}

/// The user with `email`, deleted or not.
pub async fn by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<UserRow>> {
    u::table.filter(u::email.eq(email)).select(UserRow::as_select()).first(conn).await.optional()
}

/// The user with `id`, deleted or not.
pub async fn by_id(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    u::table.find(id).select(UserRow::as_select()).first(conn).await.optional()
}

/// The user with `id`, deleted or not, locked for the transaction.
pub async fn by_id_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    u::table.find(id).select(UserRow::as_select()).for_update().first(conn).await.optional()
}

/// The users among `ids`, deleted or not, in no particular order.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<UserRow>> {
    u::table.filter(u::id.eq_any(ids)).select(UserRow::as_select()).load(conn).await
}

/// Whether `username` belongs to a user other than `except`.
pub async fn username_taken(conn: &mut AsyncPgConnection, username: &str, except: Option<Uuid>) -> QueryResult<bool> {
    let owner: Option<Uuid> = u::table.filter(u::username.eq(username)).select(u::id).first(conn).await.optional()?;
    Ok(owner.is_some_and(|owner| Some(owner) != except))
}

/// Marks the email verified (keeping the first time) and returns the user.
pub async fn mark_verified(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<UserRow> {
    diesel::update(u::table.find(id))
        .set(u::email_verified.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>(
            "coalesce(email_verified, now())",
        )))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// Records a successful sign-in and returns the user.
pub async fn touch_login(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<UserRow> {
    diesel::update(u::table.find(id))
        .set(u::last_login_at.eq(now))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// Replaces the password hash.
pub async fn set_password(conn: &mut AsyncPgConnection, id: Uuid, hash: &str) -> QueryResult<UserRow> {
    diesel::update(u::table.find(id))
        .set(u::password_hash.eq(hash))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// The fields UpdateMe may change; `None` leaves a column alone.
#[derive(Default, AsChangeset)]
#[diesel(table_name = u)]
pub struct UserChanges {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// `Some(None)` clears it.
    pub username: Option<Option<String>>,
    /// `Some(None)` clears it.
    pub avatar: Option<Option<String>>,
    /// IANA zone.
    pub timezone: Option<String>,
    /// BCP 47 tag.
    pub locale: Option<String>,
}

/// Applies `changes` to the live user `id`.
pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(u::table.find(id).filter(u::deleted_at.is_null()))
        .set(changes)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// Soft-deletes the live user `id` at `at`.
pub async fn soft_delete(conn: &mut AsyncPgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<UserRow> {
    diesel::update(u::table.find(id).filter(u::deleted_at.is_null()))
        .set(u::deleted_at.eq(at))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// The profile of `user_id`.
pub async fn profile(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<ProfileRow> {
    p::table.filter(p::user_id.eq(user_id)).select(ProfileRow::as_select()).first(conn).await
}

/// The profiles of `user_ids`.
pub async fn profiles(conn: &mut AsyncPgConnection, user_ids: &[Uuid]) -> QueryResult<Vec<ProfileRow>> {
    p::table.filter(p::user_id.eq_any(user_ids)).select(ProfileRow::as_select()).load(conn).await
}

/// The fields UpdateProfile may change; `Some(None)` clears a JSON field.
#[derive(Default, AsChangeset)]
#[diesel(table_name = p)]
pub struct ProfileChanges {
    /// `BEGINNER` … `PROFESSIONAL`.
    pub skill_level: Option<String>,
    /// Replaced whole.
    pub musical_background: Option<Option<serde_json::Value>>,
    /// Replaced whole.
    pub learning_goals: Option<Option<serde_json::Value>>,
    /// Replaced whole.
    pub preferences: Option<Option<serde_json::Value>>,
    /// Replaced whole.
    pub practice_schedule: Option<Option<serde_json::Value>>,
}

/// Applies `changes` to the profile of `user_id`.
pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    changes: &ProfileChanges,
) -> QueryResult<ProfileRow> {
    diesel::update(p::table.filter(p::user_id.eq(user_id)))
        .set(changes)
        .returning(ProfileRow::as_returning())
        .get_result(conn)
        .await
}

/// Restores the deleted user `id` if it was deleted after `not_before`
/// (inside the retention window); `None` otherwise.
pub async fn undelete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    not_before: DateTime<Utc>,
) -> QueryResult<Option<UserRow>> {
    diesel::update(u::table.find(id).filter(u::deleted_at.gt(not_before)))
        .set((u::deleted_at.eq(None::<DateTime<Utc>>), u::last_login_at.eq(now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Users created during `[from, to)`.
pub async fn created_between(conn: &mut AsyncPgConnection, from: DateTime<Utc>, to: DateTime<Utc>) -> QueryResult<i64> {
    u::table.filter(u::created_at.ge(from).and(u::created_at.lt(to))).count().get_result(conn).await
}
