//! Page sizes and opaque page tokens for ListAccounts, ListFeatureFlags and
//! ListAuditLogs (ListSessions keeps its own, older format). A token is the
//! base64url of `list|filter|position…|signature`, where the signature is an
//! HMAC-SHA256 under the principal secret: the list name and the filter
//! (for user-facing lists it holds the caller's id) are bound into it, so a
//! tampered, foreign or reused-with-another-filter token is refused with
//! INVALID_ARGUMENT (reason INVALID_PAGE_TOKEN).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jazz_platform::ServiceContext;
use secrecy::ExposeSecret as _;
use sha2::Sha256;

use crate::error::IdentityError;

/// Longest token accepted, in characters.
const MAX_TOKEN_CHARS: usize = 2048;

/// The answer for every unusable token.
pub fn invalid_token() -> IdentityError {
    IdentityError::InvalidWithReason {
        field: "page_token",
        description: "is not a page token of this call".into(),
        reason: jazz_platform::error::Reason::InvalidPageToken,
    }
}

fn mac(context: &ServiceContext, text: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(context.config.principal_secret.expose_secret().as_bytes()).ok()?;
    mac.update(b"identity.page:");
    mac.update(text.as_bytes());
    Some(mac)
}

/// A token for `position` in `list` under `filter`. Parts must not contain
/// `|` (ids, numbers and flag names never do; filters are escaped by the
/// caller or hashed).
pub fn encode(context: &ServiceContext, list: &str, filter: &str, position: &[&str]) -> String {
    let mut text = format!("{list}|{filter}");
    for part in position {
        text.push('|');
        text.push_str(part);
    }
    let signature = mac(context, &text).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{text}|{signature}"))
}

/// The position parts of a token issued for `list` and `filter`; `None` for
/// no token.
pub fn decode(
    context: &ServiceContext,
    token: &str,
    list: &str,
    filter: &str,
) -> Result<Option<Vec<String>>, IdentityError> {
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() > MAX_TOKEN_CHARS {
        return Err(invalid_token());
    }
    let text = URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid_token)?;
    let (signed, signature) = text.rsplit_once('|').ok_or_else(invalid_token)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid_token())?;
    mac(context, signed).ok_or_else(invalid_token)?.verify_slice(&signature).map_err(|_| invalid_token())?;
    let prefix = format!("{list}|{filter}|");
    let rest = signed.strip_prefix(&prefix).ok_or_else(invalid_token)?;
    Ok(Some(rest.split('|').map(str::to_owned).collect()))
}

/// A `(created_at micros, ULID)` keyset position.
pub fn time_and_id(parts: &[String]) -> Result<(chrono::DateTime<chrono::Utc>, uuid::Uuid), IdentityError> {
    match parts {
        [micros, id] => {
            let micros: i64 = micros.parse().map_err(|_| invalid_token())?;
            let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(invalid_token)?;
            let id = jazz_platform::ids::parse_id("page_token", id).map_err(|_| invalid_token())?;
            Ok((at, id))
        }
        _ => Err(invalid_token()),
    }
}
