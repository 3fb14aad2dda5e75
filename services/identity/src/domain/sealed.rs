//! Provider tokens sealed at rest: XChaCha20-Poly1305 with a fresh random
//! 24-byte nonce per value, stored as base64 of `nonce || ciphertext`. The
//! associated data binds a ciphertext to its account and column, so a value
//! copied into another row or column fails to open.
//!
//! The key is never printed (no `Debug` of the key bytes) and never logged.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::TryRngCore as _;
use rand::rngs::OsRng;

use super::token::RandomError;

/// Key length in bytes.
pub const KEY_BYTES: usize = 32;
/// Nonce length in bytes.
const NONCE_BYTES: usize = 24;

/// Seals and opens provider tokens with one key.
#[derive(Clone)]
pub struct TokenCipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

/// Why a configured key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Not standard base64.
    #[error("is not valid base64")]
    NotBase64,
    /// Decoded to the wrong number of bytes.
    #[error("must decode to exactly 32 bytes, got {0}")]
    WrongLength(usize),
}

impl TokenCipher {
    /// A cipher over the 32 raw key bytes.
    pub fn new(key: &[u8; KEY_BYTES]) -> Self {
        Self { aead: XChaCha20Poly1305::new(key.into()) }
    }

    /// A cipher over a base64 key (standard alphabet, padding optional).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        let bytes = STANDARD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| KeyError::NotBase64)?;
        let key: [u8; KEY_BYTES] = bytes.as_slice().try_into().map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(Self::new(&key))
    }

    /// A cipher over a fresh random key (lives as long as the process).
    pub fn random() -> Result<Self, RandomError> {
        let mut key = [0_u8; KEY_BYTES];
        OsRng.try_fill_bytes(&mut key).map_err(RandomError::from_source)?;
        Ok(Self::new(&key))
    }

    /// Seals `plain`, bound to `context` (e.g. `google:1234:access_token`).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, RandomError> {
        let mut nonce = [0_u8; NONCE_BYTES];
        OsRng.try_fill_bytes(&mut nonce).map_err(RandomError::from_source)?;
        let sealed = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| RandomError::from_source("encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens a value sealed by [`Self::seal`] with the same key and
    /// `context`; `None` when it was tampered with, sealed for another
    /// context, or under another key.
    pub fn open(&self, stored: &str, context: &str) -> Option<String> {
        let bytes = STANDARD.decode(stored).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain =
            self.aead.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_fresh_nonces_and_binds_the_context() {
        let cipher = TokenCipher::new(&[7; KEY_BYTES]);
        let a = cipher.seal("ya29.secret", "google:1:access_token").unwrap();
        let b = cipher.seal("ya29.secret", "google:1:access_token").unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains("secret"));
        assert_eq!(cipher.open(&a, "google:1:access_token").as_deref(), Some("ya29.secret"));
        assert_eq!(cipher.open(&a, "google:1:refresh_token"), None);
        assert_eq!(TokenCipher::new(&[8; KEY_BYTES]).open(&a, "google:1:access_token"), None);
        assert_eq!(cipher.open("AAAA", "x"), None);
        assert_eq!(cipher.open("not base64!", "x"), None);
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(TokenCipher::from_base64(&STANDARD.encode([1_u8; 32])).is_ok());
        assert_eq!(TokenCipher::from_base64("???").err(), Some(KeyError::NotBase64));
        assert_eq!(TokenCipher::from_base64(&STANDARD.encode([1_u8; 16])).err(), Some(KeyError::WrongLength(16)));
    }
}
