//! Keyset page tokens for the list methods: positions as text, signed and
//! bound by [`PageSigner`](jazz_platform::page_token::PageSigner).

use chrono::{DateTime, Utc};
use jazz_platform::ids::{parse_id, to_api};
use uuid::Uuid;

use super::content::ContentApi;
use crate::error::ContentError;

/// A `(time, id)` position.
pub fn encode_time(api: &ContentApi, binding: &str, at: DateTime<Utc>, id: Uuid) -> String {
    api.pages.encode(binding, &[at.timestamp_micros().to_string(), to_api(id)])
}

/// The `(time, id)` position of a token (`None` for the first page).
pub fn time_cursor(
    api: &ContentApi,
    binding: &str,
    token: &str,
) -> Result<Option<(DateTime<Utc>, Uuid)>, ContentError> {
    if token.is_empty() {
        return Ok(None);
    }
    let parts = api.pages.decode(binding, token, 2)?;
    let (Some(micros), Some(id)) = (parts.first(), parts.get(1)) else { return Err(ContentError::InvalidPageToken) };
    let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros);
    let id = parse_id("page_token", id).ok();
    at.zip(id).map(Some).ok_or(ContentError::InvalidPageToken)
}

/// An `(integer or float text, id)` position: the text and the id.
pub fn pair_cursor(api: &ContentApi, binding: &str, token: &str) -> Result<Option<(String, Uuid)>, ContentError> {
    if token.is_empty() {
        return Ok(None);
    }
    let parts = api.pages.decode(binding, token, 2)?;
    let (Some(value), Some(id)) = (parts.first(), parts.get(1)) else { return Err(ContentError::InvalidPageToken) };
    let id = parse_id("page_token", id).map_err(|_| ContentError::InvalidPageToken)?;
    Ok(Some((value.clone(), id)))
}

/// Cuts the extra row fetched to learn whether more pages exist and
/// answers the next token (empty on the last page).
pub fn next<T>(rows: &mut Vec<T>, size: i64, token_of: impl Fn(&T) -> String) -> String {
    let size = usize::try_from(size).unwrap_or(0);
    let more = rows.len() > size;
    rows.truncate(size);
    match rows.last() {
        Some(last) if more => token_of(last),
        _ => String::new(),
    }
}
