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
    /// Every prefix: what a log must never carry the rest of.
    pub const ALL: [&str; 6] =
        [CLIENT_SECRET, INVITATION, ENROLMENT_CODE, REFRESH_TOKEN, AUTHORIZATION_CODE, PASSWORD_RESET];
}

/// `text` with every secret of ours in it (recognised by its prefix) cut down to the prefix and `[redacted]`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, prefix)) =
        prefix::ALL.iter().filter_map(|p| rest.find(p).map(|at| (at, *p))).min_by_key(|(at, _)| *at)
    {
        let after = at + prefix.len();
        let secret_len =
            rest[after..].bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')).count();
        out.push_str(&rest[..after]);
        out.push_str(if secret_len > 0 { "[redacted]" } else { "" });
        rest = &rest[after + secret_len..];
    }
    out.push_str(rest);
    out
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

    #[test]
    fn every_secret_in_a_text_is_redacted_and_nothing_else() {
        let code = generate(prefix::INVITATION);
        let link = format!("https://portal.example/reset?token={}&x=1", generate(prefix::PASSWORD_RESET));
        let text = format!("Your code is {code}.\nOr open {link}\npai_ alone stays.");
        let redacted = redact(&text);
        assert_eq!(
            redacted,
            "Your code is pai_[redacted].\nOr open https://portal.example/reset?token=paw_[redacted]&x=1\npai_ alone stays."
        );
    }
}
