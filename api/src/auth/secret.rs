//! Random secrets the server hands out once (client secrets, invitation tokens, codes) and keeps only as hashes.
//!
//! They are 256-bit random values, so a fast hash is enough (there is nothing to brute-force); people's
//! passwords, which are guessable, use argon2id instead (`password.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefixes make leaked secrets recognisable to secret scanners, and say what a secret is for.
pub mod prefix {
    pub const CLIENT_SECRET: &str = "pas_";
    pub const INVITATION: &str = "pai_";
    pub const ENROLMENT_CODE: &str = "pae_";
    pub const REFRESH_TOKEN: &str = "par_";
    pub const AUTHORIZATION_CODE: &str = "pac_";
    pub const PASSWORD_RESET: &str = "paw_";
}

/// A fresh secret: the prefix and 32 random bytes, base64url-encoded.
pub fn generate(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
}

/// What is stored instead of the secret: its SHA-256, hex-encoded.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    hash(presented).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_unique_and_verifiable_only_against_their_own_hash() {
        let a = generate(prefix::CLIENT_SECRET);
        let b = generate(prefix::CLIENT_SECRET);
        assert!(a.starts_with("pas_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, b);
        assert!(matches(&a, &hash(&a)));
        assert!(!matches(&b, &hash(&a)));
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
