//! `verification_tokens`: one-time secrets, stored as hashes, consumed by
//! one atomic UPDATE so that of any number of concurrent redemptions
//! exactly one wins.

use chrono::Utc;
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::verification_tokens as t;

/// What a token is for (the `purpose` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Email verification, 24 h.
    EmailVerification,
    /// Password reset, 30 min.
    PasswordReset,
    /// Magic-link sign-in, 10 min.
    MagicLink,
}

impl Purpose {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
            Self::MagicLink => "magic_link",
        }
    }

    /// How long a token lives.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            Self::EmailVerification => chrono::Duration::hours(24),
            Self::PasswordReset => chrono::Duration::minutes(30),
            Self::MagicLink => chrono::Duration::minutes(10),
        }
    }
}

/// Stores a token for `user_id` (identifier: the normalised email).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    identifier: &str,
    hash: &str,
    purpose: Purpose,
    user_id: Uuid,
) -> QueryResult<Uuid> {
    let id = jazz_platform::ids::new_id();
    diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::identifier.eq(identifier),
            t::token.eq(hash),
            t::expires.eq(Utc::now() + purpose.lifetime()),
            t::purpose.eq(purpose.as_str()),
            t::user_id.eq(user_id),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Consumes the live token with `hash` for `purpose`: returns its id and
/// user, or `None` when it is unknown, used, expired or of another purpose.
pub async fn consume(conn: &mut AsyncPgConnection, hash: &str, purpose: Purpose) -> QueryResult<Option<(Uuid, Uuid)>> {
    let row: Option<(Uuid, Option<Uuid>)> = diesel::update(
        t::table
            .filter(t::token.eq(hash))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::consumed_at.is_null())
            .filter(t::expires.gt(now)),
    )
    .set((t::consumed_at.eq(now), t::attempts.eq(t::attempts + 1)))
    .returning((t::id, t::user_id))
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.and_then(|(id, user)| user.map(|user| (id, user))))
}

/// Deletes the token `id` (one whose mail could not be sent).
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(t::table.find(id)).execute(conn).await
}
