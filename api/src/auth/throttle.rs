//! Backoff after failed attempts at a secret (a password, a client secret): a few free attempts, then a wait
//! that doubles with each further failure (up to 15 minutes).
//!
//! An attempt is counted *before* the secret is checked, in the same step that decides whether it may be
//! made: otherwise guesses sent in parallel all pass the check while the (slow) password hash runs, and only
//! then are counted. A success clears the count ([`Throttle::clear`]), or takes its own attempt back
//! ([`Throttle::refund`]) where successes by others share the key. Kept in memory, so each node counts on its
//! own (`docs/identity.md`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Entries untouched this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

pub struct Throttle {
    free_failures: u32,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub fn new(free_failures: u32) -> Self {
        Self { free_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt for `key` now, or says how long it must still wait (and counts nothing).
    pub fn attempt(&self, key: &str) -> Result<(), Duration> {
        let mut failures = self.failures.lock().expect("not poisoned");
        if let Some(wait) = failures.get(key).and_then(|entry| self.wait_after(entry)) {
            return Err(wait);
        }
        if failures.len() > 100_000 {
            failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        }
        let entry = failures.entry(key.to_owned()).or_insert((0, Instant::now()));
        *entry = (entry.0 + 1, Instant::now());
        Ok(())
    }

    /// The attempt succeeded where others' successes and failures share the key: it no longer counts.
    pub fn refund(&self, key: &str) {
        let mut failures = self.failures.lock().expect("not poisoned");
        if let Some(entry) = failures.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    /// The secret was right: a clean slate for `key`.
    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("not poisoned").remove(key);
    }

    fn wait_after(&self, (count, last): &(u32, Instant)) -> Option<Duration> {
        // The first `free_failures` cost nothing; the next waits a second, then two, four, …
        let over = count.checked_sub(self.free_failures).filter(|over| *over > 0)?;
        let backoff = Duration::from_secs(1u64 << (over - 1).min(20)).min(MAX_WAIT);
        backoff.checked_sub(last.elapsed()).filter(|d| !d.is_zero())
    }
}

/// Counts an attempt against every key in turn; if one of them must wait, the attempts already counted are
/// taken back, and the longest wait is the answer.
pub fn attempt_all(keys: &[(&Throttle, &str)]) -> Result<(), Duration> {
    for (done, (throttle, key)) in keys.iter().enumerate() {
        if let Err(wait) = throttle.attempt(key) {
            for (throttle, key) in &keys[..done] {
                throttle.refund(key);
            }
            return Err(wait);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_attempts_then_a_doubling_wait_then_a_clean_slate_on_success() {
        let throttle = Throttle::new(3);
        for _ in 0..4 {
            assert_eq!(throttle.attempt("a"), Ok(()), "three failures are free, and the fourth may be tried");
        }
        let first = throttle.attempt("a").expect_err("a wait after the fourth failure");
        assert!(first <= Duration::from_secs(1));
        assert_eq!(throttle.attempt("b"), Ok(()), "keys are independent");
        throttle.clear("a");
        assert_eq!(throttle.attempt("a"), Ok(()));
    }

    #[test]
    fn attempts_in_parallel_are_counted_as_they_are_let_through() {
        let throttle = Throttle::new(5);
        let allowed = std::thread::scope(|scope| {
            let tries: Vec<_> = (0..32).map(|_| scope.spawn(|| throttle.attempt("a").is_ok())).collect();
            tries.into_iter().filter_map(|t| t.join().ok()).filter(|ok| *ok).count()
        });
        assert_eq!(allowed, 6, "five free failures and the attempt that starts the backoff");
    }

    #[test]
    fn a_refused_attempt_takes_back_the_others_it_counted() {
        let (lenient, strict) = (Throttle::new(10), Throttle::new(0));
        assert_eq!(attempt_all(&[(&lenient, "k"), (&strict, "k")]), Ok(()));
        assert!(attempt_all(&[(&lenient, "k"), (&strict, "k")]).is_err());
        assert_eq!(lenient.failures.lock().unwrap()["k"].0, 1, "the refused attempt did not count");
    }
}
