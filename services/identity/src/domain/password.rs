//! Password hashing: argon2id with OWASP's parameters (m = 19 MiB, t = 2,
//! p = 1), a fresh random salt per hash, stored as a PHC string.
//!
//! Hashing is deliberately slow (tens of milliseconds): callers on the
//! async runtime run it in `spawn_blocking`.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

/// OWASP Password Storage Cheat Sheet: 19 MiB of memory.
const MEMORY_KIB: u32 = 19 * 1024;
/// … two passes …
const ITERATIONS: u32 = 2;
/// … one lane.
const PARALLELISM: u32 = 1;

fn argon2() -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashing failed (the RNG or the parameters): never the user's fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> Result<String, HashError> {
    let hasher = argon2().map_err(|e| HashError(e.to_string()))?;
    let hash = hasher.hash_password(password.as_bytes()).map_err(|e| HashError(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string. A malformed stored
/// hash counts as "no match" (and is logged by the caller's audit).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2().is_ok_and(|hasher| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse battery staple ♫").unwrap_or_default();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("correct horse battery staple ♫", &stored));
        assert!(!verify("correct horse battery staple", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn every_hash_has_its_own_salt() {
        assert_ne!(hash("same password").ok(), hash("same password").ok());
    }
}
