//! People's passwords: argon2id with the crate's recommended parameters, checked in constant time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Shortest password accepted (NCSC guidance favours length over composition rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

pub fn hash(password: &str) -> String {
    Argon2::default().hash_password(password.as_bytes()).expect("argon2 hashes any password").to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

/// Spends the time a real verification would, so that an unknown account answers as slowly as a known one.
fn verify_against_nothing(password: &str) {
    let _ = verify(password, &DUMMY);
}

static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash("not a password anyone has"));

/// argon2 is deliberately slow (tens of milliseconds of one core). Run on the async workers, a burst of
/// sign-ins would hold every worker and stall every other request; so it runs on the blocking pool, and no
/// more at once than there are cores, so that the burst queues here instead of crowding out the API.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
});

async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = HASHING.acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work).await.expect("password hashing does not panic")
}

/// [`verify`], off the async workers; against `None` (no such account, or no password) it spends the same
/// time and answers false.
pub async fn verify_off_the_workers(password: &str, stored: Option<&str>) -> bool {
    let (password, stored) = (password.to_owned(), stored.map(str::to_owned));
    off_the_workers(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_against_nothing(&password);
            false
        }
    })
    .await
}

/// [`hash`], off the async workers.
pub async fn hash_off_the_workers(password: &str) -> String {
    let password = password.to_owned();
    off_the_workers(move || hash(&password)).await
}

/// Why a new password is refused, if it is.
pub fn check_new(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err("Use at least 12 characters. Three random words make a good password.");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err("Use at most 256 characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let stored = hash("correct horse battery staple");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("correct horse battery stapler", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new("three random words").is_ok());
    }
}
