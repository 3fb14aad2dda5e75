//! Bearer and one-time secrets: 32 bytes from the operating system's CSPRNG,
//! shown once as base64url; only the SHA-256 hex of the text is stored, and
//! presented secrets are found by hashing them (an index lookup on the
//! hash, so nothing is compared byte by byte against a secret).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

/// Length of a token's text: 32 bytes in unpadded base64url.
pub const TOKEN_CHARS: usize = 43;

/// A freshly made secret: the text for the client and the hash to store.
pub struct SecretToken {
    /// The text handed to the client once (never logged or stored).
    pub text: String,
    /// `sha256(text)` in lower-case hex, for the database.
    pub hash: String,
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretToken").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("random source failed: {0}")]
pub struct RandomError(String);

impl RandomError {
    /// The error of a failed random (or sealing) source.
    pub fn from_source(cause: impl std::fmt::Display) -> Self {
        Self(cause.to_string())
    }
}

impl SecretToken {
    /// 256 fresh random bits.
    pub fn generate() -> Result<Self, RandomError> {
        let mut bytes = [0_u8; 32];
        OsRng.try_fill_bytes(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
        let text = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash(&text);
        Ok(Self { text, hash })
    }
}

/// The stored form of a token's text.
pub fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of a presented token, or `None` when it cannot be one of ours
/// (wrong length or alphabet), so garbage never reaches the database.
pub fn hash_presented(text: &str) -> Option<String> {
    let shaped = text.len() == TOKEN_CHARS && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then(|| hash(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (Ok(a), Ok(b)) = (SecretToken::generate(), SecretToken::generate()) else {
            panic!("no randomness");
        };
        assert_ne!(a.text, b.text);
        assert_eq!(a.text.len(), TOKEN_CHARS);
        assert_eq!(a.hash.len(), 64);
        assert!(a.hash.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(hash_presented(&a.text), Some(a.hash.clone()));
        assert!(!format!("{a:?}").contains(&a.text));
        assert_eq!(hash_presented("short"), None);
        assert_eq!(hash_presented(&"!".repeat(TOKEN_CHARS)), None);
    }
}
