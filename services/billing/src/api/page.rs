//! Page sizes and opaque page tokens. A token is the hex of a text that
//! names its list, the filter it was issued for and the last key shown;
//! anything else (tampered, foreign, another filter) is refused.

use crate::error::BillingError;

/// A token for `parts` (list name, filter, position), joined by `|`.
pub fn encode(parts: &[&str]) -> String {
    parts.join("|").bytes().map(|b| format!("{b:02x}")).collect()
}

/// The parts of a token issued for `list` and `filter`; `None` for no token.
pub fn decode(token: &str, list: &str, filter: &str) -> Result<Option<Vec<String>>, BillingError> {
    if token.is_empty() {
        return Ok(None);
    }
    if !token.len().is_multiple_of(2) || token.len() > 2048 {
        return Err(BillingError::InvalidPageToken);
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| token.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or(BillingError::InvalidPageToken)?;
    let text = String::from_utf8(bytes).map_err(|_| BillingError::InvalidPageToken)?;
    let mut parts = text.split('|').map(str::to_owned);
    if parts.next().as_deref() != Some(list) || parts.next().as_deref() != Some(filter) {
        return Err(BillingError::InvalidPageToken);
    }
    Ok(Some(parts.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_list_and_filter() {
        let token = encode(&["plans", "", "PRO"]);
        assert_eq!(decode(&token, "plans", "").ok().flatten(), Some(vec!["PRO".to_owned()]));
        assert!(decode(&token, "audit", "").is_err());
        assert!(decode(&token, "plans", "other").is_err());
        assert!(decode("zz", "plans", "").is_err());
        assert!(decode("abc", "plans", "").is_err());
        assert!(matches!(decode("", "plans", ""), Ok(None)));
    }
}
