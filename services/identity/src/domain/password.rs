//! Password hashing: argon2id with one of OWASP's equivalent parameter
//! sets (m = 12 MiB, t = 3, p = 1; decision 41), a fresh random salt per
//! hash, stored as a PHC string. Hashes stored with other parameters (the
//! earlier m = 19 MiB, t = 2) verify with their own.
//!
//! Hashing is deliberately slow (tens of milliseconds): callers on the
//! async runtime run it off the runtime, through the hash gate
//! (`api::support`), which runs one per core.
//!
//! Argon2's working memory is kept for reuse ([`with_memory`]): a process
//! holds one buffer per hash that ran at once, however many sign-ins come.
//! Allocating it per hash let the allocator keep a freed 19 MiB buffer per
//! thread: identity grew to 514 MiB under `make bench`'s learner mix.

use std::sync::Mutex;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::TryRngCore as _;
use rand::rngs::OsRng;

/// OWASP Password Storage Cheat Sheet: 12 MiB of memory …
const MEMORY_KIB: u32 = 12 * 1024;
/// … three passes …
const ITERATIONS: u32 = 3;
/// … one lane.
const PARALLELISM: u32 = 1;
/// Bytes of salt per hash (the PHC recommendation).
const SALT_LEN: usize = 16;
/// Bytes of hash output.
const OUTPUT_LEN: usize = 32;

/// Hashing failed (the RNG or the parameters): never the user's fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn failed(error: impl std::fmt::Display) -> HashError {
    HashError(error.to_string())
}

/// Buffers of argon2 blocks that no hash is using now.
static IDLE_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `work` with `blocks` blocks of argon2 memory, reusing an idle
/// buffer when there is one and leaving it idle afterwards.
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut memory = IDLE_MEMORY.lock().ok().and_then(|mut idle| idle.pop()).unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let result = work(memory.get_mut(..blocks).unwrap_or_default());
    if let Ok(mut idle) = IDLE_MEMORY.lock() {
        idle.push(memory);
    }
    result
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=12288,t=3,p=1$…`).
pub fn hash(password: &str) -> Result<String, HashError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN)).map_err(failed)?;
    let mut salt = [0u8; SALT_LEN];
    OsRng.try_fill_bytes(&mut salt).map_err(failed)?;
    let mut out = [0u8; OUTPUT_LEN];
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(params.block_count(), |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string, hashed again with the
/// stored algorithm, version and parameters. A malformed stored hash counts
/// as "no match" (and is logged by the caller's audit).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params.clone());
    let hashed = with_memory(params.block_count(), |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher as _;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse battery staple ♫").unwrap_or_default();
        assert!(stored.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{stored}");
        assert!(verify("correct horse battery staple ♫", &stored));
        assert!(!verify("correct horse battery staple", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn every_hash_has_its_own_salt() {
        assert_ne!(hash("same password").ok(), hash("same password").ok());
    }

    /// Hashes made with the earlier parameters, by the library's own
    /// hasher, still verify (and a wrong password still fails).
    #[test]
    fn hashes_with_other_parameters_verify_with_their_own() {
        let earlier = Params::new(19 * 1024, 2, 1, None).map(|p| Argon2::new(Algorithm::Argon2id, Version::V0x13, p));
        let stored = earlier
            .ok()
            .and_then(|hasher| hasher.hash_password(b"blue-in-green-1959").ok())
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("blue-in-green-1959", &stored));
        assert!(!verify("blue-in-green-1960", &stored));
        // Our own hashes verify with the library's verifier too.
        let ours = hash("so what").unwrap_or_default();
        let parsed = PasswordHash::new(&ours).ok();
        assert!(parsed.is_some_and(|p| {
            use argon2::PasswordVerifier as _;
            Argon2::default().verify_password(b"so what", &p).is_ok()
        }));
    }
}
