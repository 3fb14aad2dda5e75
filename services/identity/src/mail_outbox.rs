//! The mail outbox: a handler queues a mail ([`queue`]) in the same
//! transaction as the change that calls for it; the outbox relay hands it to
//! [`MailDelivery`], which sends it and retries (with the relay's backoff)
//! until the mail server has taken it. A crash between the commit and the
//! send loses no mail.
//!
//! A queued mail holds only its kind and the user's id — no address, no
//! token. The one-time token of a link is made when the mail is sent, and
//! only its hash is stored: no secret ever rests in the database, and the
//! token's lifetime starts when the learner can read it. A send that fails
//! deletes the token it made; the retry makes a new one.

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_platform::DbPool;
use jazz_platform::ids::to_api;
use jazz_platform::outbox;
use jazz_platform::relay::OutboxEvent;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::token::SecretToken;
use crate::error::IdentityError;
use crate::mail::{Mail, MailError, MailKind, Mailer};
use crate::store::models::UserRow;
use crate::store::tokens::{self, Purpose};
use crate::store::users;

/// The outbox event of a queued mail (identity's own; no other service
/// receives it).
pub const MAIL_REQUESTED: &str = "identity.mail_requested";

/// Queues a mail of `kind` to `user_id` on `conn`, inside the caller's
/// transaction. Wake the relay after the commit so it goes out at once.
pub async fn queue(conn: &mut AsyncPgConnection, user_id: Uuid, kind: MailKind) -> diesel::QueryResult<Uuid> {
    outbox::enqueue(conn, MAIL_REQUESTED, &to_api(user_id), serde_json::json!({ "kind": kind.as_str() })).await
}

/// Whether a mail of `kind` to `user_id` was queued after `since` (the
/// resend limit of RequestEmailVerification).
pub async fn queued_since(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    kind: MailKind,
    since: chrono::DateTime<chrono::Utc>,
) -> diesel::QueryResult<bool> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use jazz_platform::schema::outbox_events as o;
    diesel::select(diesel::dsl::exists(
        o::table
            .filter(o::aggregate_id.eq(to_api(user_id)))
            .filter(o::event_type.eq(MAIL_REQUESTED))
            .filter(o::created_at.gt(since))
            .filter(o::payload.retrieve_as_text("kind").eq(kind.as_str())),
    ))
    .get_result(conn)
    .await
}

/// The token purpose of a mail kind, if its mail carries a link.
fn purpose(kind: MailKind) -> Option<Purpose> {
    match kind {
        MailKind::Verification => Some(Purpose::EmailVerification),
        MailKind::PasswordReset => Some(Purpose::PasswordReset),
        MailKind::MagicLink => Some(Purpose::MagicLink),
        MailKind::AlreadyRegistered => None,
    }
}

/// Whether a mail of `kind` still makes sense for `user` now (they may have
/// deleted the account or verified meanwhile).
fn still_wanted(user: &UserRow, kind: MailKind) -> bool {
    user.is_live() && (kind != MailKind::Verification || user.email_verified.is_none())
}

/// Sends queued mails (called by identity's relay delivery).
pub struct MailDelivery {
    pool: DbPool,
    mailer: Arc<dyn Mailer>,
}

impl MailDelivery {
    /// Delivery through `mailer`, making tokens in `pool`'s database.
    pub fn new(pool: DbPool, mailer: Arc<dyn Mailer>) -> Self {
        Self { pool, mailer }
    }

    /// Sends the mail `event` queued: `Ok` when it went out or is no longer
    /// wanted (user gone, address already verified); `Err` (a short reason
    /// without address or token) to retry later.
    pub async fn deliver(&self, event: &OutboxEvent) -> Result<(), String> {
        let kind = event.payload.get("kind").and_then(|kind| kind.as_str()).and_then(MailKind::parse);
        let (Some(kind), Ok(user_id)) = (kind, jazz_platform::ids::parse_id("aggregate_id", &event.aggregate_id))
        else {
            tracing::error!(event_id = %event.id, "queued mail is malformed; dropped");
            return Ok(());
        };
        self.send(user_id, kind).await.map_err(|error| error.to_string())
    }

    async fn send(&self, user_id: Uuid, kind: MailKind) -> Result<(), MailSendError> {
        let mut conn = self.pool.get().await.map_err(|_| MailSendError::Database)?;
        let Some(user) = users::by_id(&mut conn, user_id).await.map_err(|_| MailSendError::Database)? else {
            return Ok(());
        };
        if !still_wanted(&user, kind) {
            return Ok(());
        }
        let token = match purpose(kind) {
            None => None,
            Some(purpose) => Some(
                conn.transaction(async |conn| {
                    let token = SecretToken::generate()?;
                    let id = tokens::insert(conn, &user.email, &token.hash, purpose, user.id).await?;
                    Ok::<_, IdentityError>((id, token.text))
                })
                .await
                .map_err(|_| MailSendError::Database)?,
            ),
        };
        let mail = Mail { to: user.email.clone(), user_id, kind, token: token.as_ref().map(|(_, text)| text.clone()) };
        match self.mailer.send(&mail).await {
            Ok(()) => {
                tracing::info!(kind = kind.as_str(), user_id = %to_api(user_id), "mail sent");
                Ok(())
            }
            Err(error) => {
                // The learner never saw this token: it must not stay usable.
                if let Some((id, _)) = token
                    && let Err(cleanup) = tokens::delete(&mut conn, id).await
                {
                    tracing::warn!(%cleanup, "could not delete the token of an unsent mail (it expires by itself)");
                }
                match error {
                    // Retrying cannot mend an address; the mail is dropped.
                    MailError::BadAddress => {
                        tracing::error!(kind = kind.as_str(), user_id = %to_api(user_id), "mail dropped: {error}");
                        Ok(())
                    }
                    MailError::Transport(reason) => Err(MailSendError::Mailer(reason)),
                }
            }
        }
    }
}

/// Why a queued mail was not sent this time.
#[derive(Debug, thiserror::Error)]
enum MailSendError {
    #[error("database unavailable")]
    Database,
    #[error("{0}")]
    Mailer(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_links_have_a_purpose() {
        for kind in [MailKind::Verification, MailKind::AlreadyRegistered, MailKind::PasswordReset, MailKind::MagicLink]
        {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
            assert_eq!(purpose(kind).is_none(), kind == MailKind::AlreadyRegistered);
        }
        assert_eq!(MailKind::parse("spam"), None);
    }
}
