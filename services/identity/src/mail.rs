//! Outgoing mail: [`SmtpMailer`] when `SMTP_URL` is set; else [`LogMailer`]
//! only logs that a mail was sent (and the link itself only when
//! `MAIL_LOG_LINKS=1`, for local development); [`MemoryMailer`] keeps mails
//! for tests to read the tokens.
//!
//! Handlers never call a mailer: they queue a mail in the outbox
//! ([`crate::mail_outbox`]) inside their transaction, and the relay sends
//! it, retrying until the mailer says it went out.
//!
//! A [`Mail`]'s `Debug` never shows the token, so mails may be logged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

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

impl MailKind {
    /// The name stored in a queued mail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::AlreadyRegistered => "already_registered",
            Self::PasswordReset => "password_reset",
            Self::MagicLink => "magic_link",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Verification, Self::AlreadyRegistered, Self::PasswordReset, Self::MagicLink]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
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

/// Why a mail did not go out (retried by the outbox relay). Carries no
/// address and no token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    /// The sender or recipient address cannot be used; retrying will not help.
    #[error("bad sender or recipient address")]
    BadAddress,
    /// The mail server refused or could not be reached.
    #[error("mail server: {0}")]
    Transport(String),
}

/// Sends mail. Called by the mail outbox's delivery, after the token's
/// transaction committed.
#[tonic::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail`; `Ok` once the mail server has taken it.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Logs a line per mail; the link only with `MAIL_LOG_LINKS=1`.
#[derive(Debug, Default)]
pub struct LogMailer;

#[tonic::async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let user = jazz_platform::ids::to_api(mail.user_id);
        tracing::info!(kind = ?mail.kind, user_id = %user, "mail sent for {user}");
        if std::env::var("MAIL_LOG_LINKS").as_deref() == Ok("1")
            && let Some(token) = &mail.token
        {
            // Development only: the operator asked to see links.
            tracing::info!(kind = ?mail.kind, user_id = %user, "link token: {token}");
        }
        Ok(())
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

    /// The token of the latest mail of `kind` to `to`, if one was sent.
    pub fn latest_token(&self, to: &str, kind: MailKind) -> Option<String> {
        self.sent().into_iter().rev().find(|m| m.to == to && m.kind == kind).and_then(|m| m.token)
    }

    /// Waits (up to `within`) until a mail of `kind` to `to` has been sent —
    /// the relay sends queued mail moments after the commit — and returns
    /// the token of the latest one.
    pub async fn wait_token(&self, to: &str, kind: MailKind, within: Duration) -> Option<String> {
        self.wait_count(to, kind, 1, within).await.then(|| self.latest_token(to, kind)).flatten()
    }

    /// Waits (up to `within`) until `count` mails of `kind` to `to` have
    /// been sent; `false` when fewer came.
    pub async fn wait_count(&self, to: &str, kind: MailKind, count: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let sent = self.sent().iter().filter(|m| m.to == to && m.kind == kind).count();
            if sent >= count {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tonic::async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        if let Ok(mut mails) = self.mails.lock() {
            mails.push(mail.clone());
        }
        Ok(())
    }
}

/// Where mail goes and what its links look like.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// SMTP server host (`SMTP_URL`, `smtp://host:port`; a local relay).
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// The sender (`MAIL_FROM`).
    pub from: String,
    /// Base of the links in mails (`MAIL_LINK_BASE`): the app's deep link
    /// or web page that takes the token, e.g. `jazzmaster://auth`.
    pub link_base: String,
}

impl SmtpConfig {
    /// From the environment; `None` when `SMTP_URL` is unset (mail is then
    /// only logged).
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let Ok(url) = std::env::var("SMTP_URL") else { return Ok(None) };
        let rest = url.strip_prefix("smtp://").ok_or_else(|| anyhow::anyhow!("SMTP_URL must start with smtp://"))?;
        let (host, port) = rest.trim_end_matches('/').rsplit_once(':').unwrap_or((rest, "25"));
        Ok(Some(Self {
            host: host.to_owned(),
            port: port.parse()?,
            from: jazz_platform::config::env_or("MAIL_FROM", "JazzMaster Pro <no-reply@jazzmaster.pro>"),
            link_base: jazz_platform::config::env_or("MAIL_LINK_BASE", "jazzmaster://auth"),
        }))
    }
}

/// Sends mail over SMTP (lettre). Off the request path: the outbox relay
/// calls it, so a slow server holds up no caller.
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    config: SmtpConfig,
}

impl SmtpMailer {
    /// A mailer for `config`.
    pub fn new(config: SmtpConfig) -> Self {
        // A plain connection to a local relay (sidecar or smarthost), which
        // does TLS and authentication towards the world.
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Self { transport, config }
    }

    /// The subject and text of `mail`.
    pub fn compose(&self, mail: &Mail) -> (String, String) {
        let link = |path: &str| {
            let token = mail.token.as_deref().unwrap_or_default();
            format!("{}/{path}?token={token}", self.config.link_base)
        };
        match mail.kind {
            MailKind::Verification => (
                "Confirm your email for JazzMaster Pro".into(),
                format!("Welcome! Open this link to confirm your address:\n\n{}\n", link("verify-email")),
            ),
            MailKind::AlreadyRegistered => (
                "You already have a JazzMaster Pro account".into(),
                "Someone (perhaps you) tried to sign up with this address, which already has an account.\n\
                 Sign in instead, or reset your password if you have forgotten it.\n"
                    .into(),
            ),
            MailKind::PasswordReset => (
                "Reset your JazzMaster Pro password".into(),
                format!("Open this link within the hour to choose a new password:\n\n{}\n", link("reset-password")),
            ),
            MailKind::MagicLink => (
                "Your JazzMaster Pro sign-in link".into(),
                format!("Open this link within ten minutes to sign in:\n\n{}\n", link("magic-link")),
            ),
        }
    }
}

#[tonic::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        use lettre::AsyncTransport as _;
        let (subject, body) = self.compose(mail);
        let (Ok(from), Ok(to)) = (self.config.from.parse(), mail.to.parse()) else {
            return Err(MailError::BadAddress);
        };
        // Plain 7bit (lines up to 998 bytes, RFC 5322) keeps links whole:
        // lettre's own choice turns lines over 76 characters into
        // quoted-printable (`token=` becomes `token=3D`, split by soft line
        // breaks), which mail readers that do not decode it turn into broken
        // links. Used only when the text really is 7bit-safe; anything else
        // gets lettre's encoding.
        let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
        let seven_bit = crlf.bytes().all(|b| b.is_ascii() && b != 0)
            && crlf.split("\r\n").all(|line| line.len() <= 998 && !line.contains('\r'));
        let body = if seven_bit {
            lettre::message::Body::dangerous_pre_encoded(
                crlf.into_bytes(),
                lettre::message::header::ContentTransferEncoding::SevenBit,
            )
        } else {
            lettre::message::Body::new(body)
        };
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|_| MailError::BadAddress)?;
        self.transport.send(message).await.map(drop).map_err(|error| MailError::Transport(error.to_string()))
    }
}
