//! Page sizes and keyset positions carried in signed page tokens (see
//! `domain::page_token`): a token names (time, id) of the last row shown
//! and only verifies for the caller and filter it was issued for.

use chrono::{DateTime, Utc};
use jazz_platform::ids::{parse_id, to_api};
use uuid::Uuid;

use crate::error::ProgressError;
use jazz_platform::page_token::PageSigner;

/// The position after which a page starts; `None` for the first page.
pub fn position(
    signer: &PageSigner,
    binding: &str,
    token: &str,
) -> Result<Option<(DateTime<Utc>, Uuid)>, ProgressError> {
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() > 1024 {
        return Err(ProgressError::InvalidPageToken);
    }
    let parts = signer.decode(binding, token, 2)?;
    let [micros, id] = parts.as_slice() else { return Err(ProgressError::InvalidPageToken) };
    let micros: i64 = micros.parse().map_err(|_| ProgressError::InvalidPageToken)?;
    let at = DateTime::from_timestamp_micros(micros).ok_or(ProgressError::InvalidPageToken)?;
    let id = parse_id("page_token", id).map_err(|_| ProgressError::InvalidPageToken)?;
    Ok(Some((at, id)))
}

/// A token for the position after (`at`, `id`).
pub fn token(signer: &PageSigner, binding: &str, at: DateTime<Utc>, id: Uuid) -> String {
    signer.encode(binding, &[at.timestamp_micros().to_string(), to_api(id)])
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn positions_round_trip_and_stay_bound() {
        let signer = PageSigner::new(&SecretString::from("k".repeat(32)), "progress");
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_default();
        let id = jazz_platform::ids::new_id();
        let t = token(&signer, "sessions:alice", at, id);
        assert_eq!(position(&signer, "sessions:alice", &t).ok().flatten(), Some((at, id)));
        assert!(position(&signer, "sessions:bob", &t).is_err());
        assert!(matches!(position(&signer, "x", ""), Ok(None)));
    }
}
