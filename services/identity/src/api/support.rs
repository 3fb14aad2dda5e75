//! Pieces the handlers share: opening a session, the sign-in throttle,
//! the email-and-password check of SignIn and UndeleteMe (password
//! hashing off the runtime), failed attempts, and the validation helpers.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::db::DbPool;
use jazz_platform::error::FieldViolation;
use jazz_platform::ids::to_api;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::domain::email::Email;
use crate::domain::password;
use crate::domain::password_policy::check_presented;
use crate::domain::token::SecretToken;
use crate::error::IdentityError;
use crate::store::models::{SessionRow, UserRow};
use crate::store::{attempts, sessions, users};
use jazz_platform::blocking::blocking;

/// How long a session lives.
pub const SESSION_LIFETIME: chrono::Duration = chrono::Duration::days(30);
/// The window failures are counted over.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per account within the window before attempts are refused.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures per client address within the window before attempts are refused.
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// Creates a session for `user_id` (audited as LOGIN by the caller's
/// transaction) and returns the token text, shown to the client once.
pub async fn open_session(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    principal: &Principal,
    method: &str,
) -> Result<(String, SessionRow), IdentityError> {
    let token = SecretToken::generate()?;
    let expires = Utc::now() + SESSION_LIFETIME;
    let session = sessions::insert(
        conn,
        user_id,
        &token.hash,
        expires,
        principal.client_ip.as_deref(),
        principal.user_agent.as_deref(),
    )
    .await?;
    let mut entry = AuditEntry::new(principal, "LOGIN", "sessions", Some(to_api(session.id))).by_user(user_id);
    if let Some(serde_json::Value::Object(meta)) = entry.metadata.as_mut() {
        meta.insert("method".into(), method.into());
    }
    entry.write(conn).await?;
    Ok((token.text, session))
}

/// Refuses the attempt when the account or the client address has too many
/// recent failures.
pub async fn check_throttle(
    conn: &mut AsyncPgConnection,
    email: Option<&str>,
    ip: Option<&str>,
) -> Result<(), IdentityError> {
    let since = Utc::now() - chrono::Duration::from_std(THROTTLE_WINDOW).unwrap_or_default();
    let (by_email, by_ip) = attempts::failures_since(conn, email, ip, since).await?;
    if by_email >= MAX_FAILURES_PER_EMAIL || by_ip >= MAX_FAILURES_PER_IP {
        return Err(IdentityError::TooManyAttempts { retry_after: THROTTLE_WINDOW });
    }
    Ok(())
}

/// A hash of a throwaway password with the real parameters, so an unknown
/// account costs the same verification time as a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| password::hash("jazzmaster-dummy-password").unwrap_or_default())
}

/// Makes the dummy hash now, so the first sign-in is not slower.
pub fn warm_up() {
    drop(tokio::task::spawn_blocking(dummy_hash));
}

/// How many password hashes run at once (argon2 takes 12 MiB and a core
/// for tens of milliseconds each; one per core), and how many more may
/// wait for one (three per core).
/// A sign-in burst beyond both is refused at once (UNAVAILABLE, retry
/// shortly) instead of queueing without bound: memory stays at a few
/// hashes' worth and nobody waits seconds for an answer.
struct HashGate {
    running: Semaphore,
    admitted: Semaphore,
}

impl HashGate {
    fn new(running: usize, waiting: usize) -> Self {
        Self { running: Semaphore::new(running), admitted: Semaphore::new(running + waiting) }
    }

    /// Runs `work` off the runtime once a running slot is free, or refuses
    /// at once when every slot and every waiting place is taken.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, IdentityError> {
        let Ok(_admitted) = self.admitted.try_acquire() else {
            return Err(IdentityError::Busy);
        };
        let _running = self.running.acquire().await.map_err(|_| IdentityError::Busy)?;
        Ok(blocking(work).await?)
    }
}

/// Runs a password hash or verification through the process's [`HashGate`].
async fn gated<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, IdentityError> {
    static GATE: OnceLock<HashGate> = OnceLock::new();
    let gate = GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashGate::new(cores, cores * 3)
    });
    gate.run(work).await
}

/// Checks `password` against `stored` off the runtime; without a stored
/// hash it checks against the dummy and answers false.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, IdentityError> {
    gated(move || match stored {
        Some(stored) => password::verify(&password, &stored),
        None => {
            let _ = password::verify(&password, dummy_hash());
            false
        }
    })
    .await
}

/// Hashes a new password off the runtime.
pub async fn hash_password(password: String) -> Result<String, IdentityError> {
    Ok(gated(move || password::hash(&password)).await??)
}

/// One field violation as an error.
pub fn violation(v: FieldViolation) -> IdentityError {
    IdentityError::Invalid(vec![v])
}

pub use jazz_platform::fields::request_id;

/// Records a failed password attempt and its audit entry.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    email: &str,
    user_id: Option<Uuid>,
) -> Result<(), IdentityError> {
    let ip = principal.client_ip.as_deref();
    conn.transaction(async |conn| {
        attempts::record(conn, Some(email), ip, false).await?;
        let mut entry = AuditEntry::new(principal, "LOGIN_FAILED", "users", user_id.map(to_api));
        entry.user_id = user_id.or(principal.user_id);
        entry.write(conn).await?;
        Ok::<_, IdentityError>(())
    })
    .await
}

/// The account behind `email` and `password`, checked the way SignIn and
/// UndeleteMe both need: the address parsed, the throttle consulted, the
/// password verified (a dummy hash for unknown addresses, so every failure
/// takes about as long), and a failure recorded with its LOGIN_FAILED
/// entry. An unknown address, a wrong password and an unverified address
/// are one answer: INVALID_CREDENTIALS. No pooled connection is held
/// while the password is checked: a burst of sign-ins waits on the hash
/// gate, never on the pool that every other call needs.
pub async fn password_account(
    pool: &DbPool,
    principal: &Principal,
    email: &str,
    password: String,
) -> Result<(Email, UserRow), IdentityError> {
    let email = Email::parse("email", email).map_err(violation)?;
    check_presented("password", &password)?;
    let user = {
        let mut conn = pool.get().await?;
        check_throttle(&mut conn, Some(email.as_str()), principal.client_ip.as_deref()).await?;
        users::by_email(&mut conn, email.as_str()).await?
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matched = verify_password(password, stored).await?;
    match user {
        Some(user) if matched && user.email_verified.is_some() => Ok((email, user)),
        other => {
            let mut conn = pool.get().await?;
            record_failure(&mut conn, principal, email.as_str(), other.map(|u| u.id)).await?;
            Err(IdentityError::InvalidCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_hash_gate_refuses_at_once_and_admits_again_when_a_hash_ends() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1));
        let (started, release) = (std::sync::mpsc::channel::<()>(), std::sync::mpsc::channel::<()>());
        let (started_tx, started_rx) = started;
        let (release_tx, release_rx) = release;
        let running = tokio::spawn({
            let gate = gate.clone();
            async move {
                gate.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                })
                .await
            }
        });
        assert!(tokio::task::spawn_blocking(move || started_rx.recv()).await.is_ok_and(|r| r.is_ok()));
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| 2).await }
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // One running, one waiting: a third is refused without waiting.
        assert!(matches!(gate.run(|| 3).await, Err(IdentityError::Busy)));
        let _ = release_tx.send(());
        assert!(running.await.is_ok_and(|r| r.is_ok()));
        assert_eq!(waiting.await.ok().and_then(Result::ok), Some(2));
        assert_eq!(gate.run(|| 4).await.ok(), Some(4));
    }
}
