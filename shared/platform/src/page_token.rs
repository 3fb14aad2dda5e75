//! Opaque page tokens: the keyset position plus an HMAC over the position
//! and the call's binding (method, caller, filter), made with the service's
//! key. A tampered token, or one from another caller, method or filter, is
//! refused; each service maps [`InvalidPageToken`] to its INVALID_ARGUMENT.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

/// Longest token accepted, in characters (a real one is far shorter).
pub const MAX_TOKEN_CHARS: usize = 2048;

/// A page token that was not made by this signer for this binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid page token")]
pub struct InvalidPageToken;

/// Signs and checks page tokens.
#[derive(Clone)]
pub struct PageSigner {
    key: Vec<u8>,
    domain: &'static str,
}

impl std::fmt::Debug for PageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageSigner(..)")
    }
}

impl PageSigner {
    /// A signer with the service's secret; `domain` (the service's name)
    /// keeps one service's tokens from being valid at another.
    pub fn new(secret: &SecretString, domain: &'static str) -> Self {
        Self { key: secret.expose_secret().as_bytes().to_vec(), domain }
    }

    fn mac(&self, binding: &str, payload: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(self.domain.as_bytes());
        mac.update(b".page:");
        mac.update(binding.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        Some(mac)
    }

    /// A token for the position `parts` (no part may contain `|`).
    pub fn encode(&self, binding: &str, parts: &[String]) -> String {
        let payload = parts.join("|");
        let signature =
            self.mac(binding, &payload).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default();
        format!("{}.{signature}", URL_SAFE_NO_PAD.encode(payload))
    }

    /// The position of a token made by [`encode`](Self::encode) with the same
    /// binding, with exactly `expected` parts.
    pub fn decode(&self, binding: &str, token: &str, expected: usize) -> Result<Vec<String>, InvalidPageToken> {
        let bad = || InvalidPageToken;
        if token.len() > MAX_TOKEN_CHARS {
            return Err(bad());
        }
        let (payload, signature) = token.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| bad())?;
        self.mac(binding, &payload).ok_or_else(bad)?.verify_slice(&signature).map_err(|_| bad())?;
        let parts: Vec<String> = payload.split('|').map(str::to_owned).collect();
        if parts.len() == expected { Ok(parts) } else { Err(bad()) }
    }
}

/// Keyset pages read one row more than they show, to know whether another
/// page follows: cuts `rows` (read with a limit of `size + 1`) to `size` and
/// answers the last row shown when there is a next page, the row its token
/// is made from.
pub fn last_of_page<T>(rows: &mut Vec<T>, size: i64) -> Option<&T> {
    let size = usize::try_from(size).unwrap_or(0);
    let more = rows.len() > size;
    rows.truncate(size);
    if more { rows.last() } else { None }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_is_cut_to_its_size_and_names_its_last_row_only_when_more_follow() {
        let mut more = vec![1, 2, 3];
        assert_eq!(super::last_of_page(&mut more, 2), Some(&2));
        assert_eq!(more, [1, 2]);
        let mut exact = vec![1, 2];
        assert_eq!(super::last_of_page(&mut exact, 2), None);
        assert_eq!(exact, [1, 2]);
        assert_eq!(super::last_of_page(&mut Vec::<i32>::new(), 0), None);
    }

    use super::*;

    #[test]
    fn tokens_are_bound_and_tamper_proof() {
        let signer = PageSigner::new(&SecretString::from("k".repeat(32)), "content");
        let token = signer.encode("list:alice", &["1".into(), "x".into()]);
        assert_eq!(signer.decode("list:alice", &token, 2).ok(), Some(vec!["1".to_owned(), "x".to_owned()]));
        assert!(signer.decode("list:bob", &token, 2).is_err());
        assert!(signer.decode("list:alice", &token, 3).is_err());
        let mut tampered = token.clone();
        tampered.insert(0, 'A');
        assert!(signer.decode("list:alice", &tampered, 2).is_err());
        assert!(signer.decode("list:alice", "garbage", 2).is_err());
        assert!(signer.decode("list:alice", &"A".repeat(MAX_TOKEN_CHARS + 1), 2).is_err());
        let other_service = PageSigner::new(&SecretString::from("k".repeat(32)), "progress");
        assert!(other_service.decode("list:alice", &token, 2).is_err());
    }
}
