//! Outgoing mail. Until SMTP lands, [`LogMailer`] only logs that a mail was
//! sent (and the link itself only when `MAIL_LOG_LINKS=1`, for local
//! development); [`MemoryMailer`] keeps mails for tests to read the tokens.
//!
//! A [`Mail`]'s `Debug` never shows the token, so mails may be logged.

use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// What a mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your address": carries an email-verification token.
    Verification,
    /// "You already have an account": sent on sign-up with a known address.
    AlreadyRegistered,
    /// "Reset your password": carries a password-reset token.
    PasswordReset,
    /// "Sign in": carries a magic-link token.
    MagicLink,
}

/// One mail to send.
#[derive(Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The recipient's user id.
    pub user_id: Uuid,
    /// What the mail says.
    pub kind: MailKind,
    /// The one-time token of the link, if the mail has one.
    pub token: Option<String>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("user_id", &self.user_id).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Sends mail. Called after the transaction that made the token committed.
pub trait Mailer: Send + Sync + 'static {
    /// Sends (or queues) `mail`; failures are the mailer's to log.
    fn send(&self, mail: Mail);
}

/// Logs a line per mail; the link only with `MAIL_LOG_LINKS=1`.
#[derive(Debug, Default)]
pub struct LogMailer;

impl Mailer for LogMailer {
    fn send(&self, mail: Mail) {
        let user = jazz_platform::ids::to_api(mail.user_id);
        tracing::info!(kind = ?mail.kind, user_id = %user, "mail sent for {user}");
        if std::env::var("MAIL_LOG_LINKS").as_deref() == Ok("1")
            && let Some(token) = &mail.token
        {
            // Development only: the operator asked to see links.
            tracing::info!(kind = ?mail.kind, user_id = %user, "link token: {token}");
        }
    }
}

/// Keeps every mail in memory (tests).
#[derive(Debug, Default, Clone)]
pub struct MemoryMailer {
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl MemoryMailer {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mail sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.mails.lock().map(|mails| mails.clone()).unwrap_or_default()
    }

    /// The token of the latest mail of `kind` to `to`.
    pub fn latest_token(&self, to: &str, kind: MailKind) -> Option<String> {
        self.sent().into_iter().rev().find(|m| m.to == to && m.kind == kind).and_then(|m| m.token)
    }
}

impl Mailer for MemoryMailer {
    fn send(&self, mail: Mail) {
        if let Ok(mut mails) = self.mails.lock() {
            mails.push(mail);
        }
    }
}
