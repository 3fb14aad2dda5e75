//! Stripe's webhook signature: `Stripe-Signature: t=<unix>,v1=<hex>,…`,
//! where each `v1` is HMAC-SHA256 with the endpoint secret over
//! `"{t}." + raw body`. Every `v1` is tried (Stripe sends two while a secret
//! rolls), each compared in constant time; `t` must be within
//! [`TOLERANCE_SECS`] of now either way, so a captured delivery cannot be
//! replayed later. Pure code: the caller passes the clock.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Largest |now − t| accepted, in seconds (Stripe's libraries' default).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature is refused (kept apart for the log; the client sees one
/// reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `t=` or no `v1=` in the header, or a malformed one.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// `t` is more than the tolerance away from now.
    #[error("Stripe-Signature timestamp outside the tolerance")]
    Stale,
    /// No `v1` matches.
    #[error("no matching v1 signature")]
    Mismatch,
}

/// Checks `header` for `payload` with `secret` at `now` (unix seconds).
pub fn verify(payload: &[u8], header: &str, secret: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else { continue };
        match name {
            "t" => timestamp = Some(value),
            "v1" => signatures.push(hex_decode(value).ok_or(SignatureError::Malformed)?),
            _ => {} // v0 (test mode's legacy scheme) and future schemes are ignored
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let t: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return Err(SignatureError::Mismatch) };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    // verify_slice compares in constant time; try every v1 even after a
    // match would be found, so timing says nothing about which one matched.
    let matched = signatures.iter().fold(false, |found, signature| mac.clone().verify_slice(signature).is_ok() | found);
    if matched { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// The header Stripe would send for `payload` at `t` (tests, tools).
pub fn sign(payload: &[u8], secret: &[u8], t: i64) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return format!("t={t}"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// 64 hex digits → 32 bytes; anything else → `None`.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.as_bytes().chunks(2).map(|pair| Some((digit(*pair.first()?)? << 4) | digit(*pair.get(1)?)?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn a_signed_payload_verifies_within_the_tolerance_only() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign(body, SECRET, NOW);
        assert_eq!(verify(body, &header, SECRET, NOW), Ok(()));
        assert_eq!(verify(body, &header, SECRET, NOW + 300), Ok(()));
        assert_eq!(verify(body, &header, SECRET, NOW - 300), Ok(()));
        assert_eq!(verify(body, &header, SECRET, NOW + 301), Err(SignatureError::Stale));
        assert_eq!(verify(body, &header, SECRET, NOW - 301), Err(SignatureError::Stale));
    }

    #[test]
    fn any_v1_may_match_and_everything_else_is_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let good = sign(body, SECRET, NOW);
        let good_v1 = good.split(",v1=").nth(1).unwrap_or_default();
        let other = sign(body, b"whsec_old", NOW);
        let other_v1 = other.split(",v1=").nth(1).unwrap_or_default();
        // A rolled secret: the old signature first, ours second.
        assert_eq!(verify(body, &format!("t={NOW},v1={other_v1},v1={good_v1},v0=abc"), SECRET, NOW), Ok(()));
        assert_eq!(verify(body, &other, SECRET, NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"{\"id\":\"evt_2\"}", &good, SECRET, NOW), Err(SignatureError::Mismatch));
        // The timestamp is signed too.
        assert_eq!(verify(body, &format!("t={},v1={good_v1}", NOW + 1), SECRET, NOW), Err(SignatureError::Mismatch));
        for malformed in ["", "t=abc,v1=00", &format!("v1={good_v1}"), &format!("t={NOW}"), &format!("t={NOW},v1=zz")] {
            assert_eq!(verify(body, malformed, SECRET, NOW), Err(SignatureError::Malformed), "{malformed}");
        }
    }
}
