//! `accounts`: linked provider accounts. Token columns hold ciphertext made
//! by [`crate::domain::sealed::TokenCipher`]; [`AccountRow`] does not even
//! select them, so no read path can hand a token out.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::AccountRow;
use crate::schema::accounts as a;

/// The columns LinkAccount writes; token fields are already sealed.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = a, treat_none_as_null = true)]
pub struct AccountValues<'a> {
    /// `oidc` or `oauth`.
    #[diesel(column_name = type_)]
    pub kind: &'a str,
    /// Sealed refresh token.
    pub refresh_token: Option<String>,
    /// Sealed access token.
    pub access_token: Option<String>,
    /// Seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Token type.
    pub token_type: Option<&'a str>,
    /// Scopes.
    pub scope: Option<&'a str>,
    /// Sealed ID token.
    pub id_token: Option<String>,
    /// Provider session state.
    pub session_state: Option<&'a str>,
}

/// The link of `provider`/`provider_account_id`, whoever owns it, locked
/// for the rest of the transaction.
pub async fn by_provider_for_update(
    conn: &mut AsyncPgConnection,
    provider: &str,
    provider_account_id: &str,
) -> QueryResult<Option<AccountRow>> {
    a::table
        .filter(a::provider.eq(provider))
        .filter(a::provider_account_id.eq(provider_account_id))
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Links a new account.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    provider: &str,
    provider_account_id: &str,
    values: &AccountValues<'_>,
) -> QueryResult<AccountRow> {
    diesel::insert_into(a::table)
        .values((
            a::id.eq(jazz_platform::ids::new_id()),
            a::user_id.eq(user_id),
            a::provider.eq(provider),
            a::provider_account_id.eq(provider_account_id),
            values,
        ))
        .returning(AccountRow::as_returning())
        .get_result(conn)
        .await
}

/// Replaces the tokens and attributes of the link `id`.
pub async fn refresh(conn: &mut AsyncPgConnection, id: Uuid, values: &AccountValues<'_>) -> QueryResult<AccountRow> {
    diesel::update(a::table.find(id)).set(values).returning(AccountRow::as_returning()).get_result(conn).await
}

/// A page of `user_id`'s links, oldest first, after the keyset
/// `(created_at, id)` when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<AccountRow>> {
    let mut query = a::table
        .filter(a::user_id.eq(user_id))
        .select(AccountRow::as_select())
        .order((a::created_at.asc(), a::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(a::created_at.gt(at).or(a::created_at.eq(at).and(a::id.gt(id))));
    }
    query.load(conn).await
}

/// How many links `user_id` has.
pub async fn count(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i64> {
    a::table.filter(a::user_id.eq(user_id)).count().get_result(conn).await
}

/// `user_id`'s link `id`, locked; `None` when it is not theirs.
pub async fn owned_for_update(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<AccountRow>> {
    a::table
        .find(id)
        .filter(a::user_id.eq(user_id))
        .select(AccountRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Deletes the link `id`.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(a::table.find(id)).execute(conn).await
}
