//! Backoff after failed attempts at a secret (a password, a client secret): a few free attempts, then a wait
//! that doubles with each further failure (up to 15 minutes).
//!
//! An attempt is counted *before* the secret is checked, in the same step that decides whether it may be
//! made: otherwise guesses sent in parallel all pass the check while the (slow) password hash runs, and only
//! then are counted. A success clears the count ([`Throttle::clear`]), or takes its own attempt back
//! ([`Throttle::refund`]) where successes by others share the key. Counted in memory by each node on its own,
//! or, with `rate_limit_store` naming a Redis, by every node together there (`http::shared_counts`; each node
//! falls back to its own count while Redis is away).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::shared_counts::SharedCounts;

const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Entries untouched this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

pub struct Throttle {
    /// Names its keys in the shared store.
    name: &'static str,
    free_failures: u32,
    shared: Option<Arc<SharedCounts>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// Counted on this node alone.
    #[cfg(test)]
    fn new(free_failures: u32) -> Self {
        Self::sharing("local", free_failures, None)
    }

    /// Counted in `shared` by every node (and here while it is away), under `name`.
    pub fn sharing(name: &'static str, free_failures: u32, shared: Option<Arc<SharedCounts>>) -> Self {
        Self { name, free_failures, shared, failures: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt for `key` now, or says how long it must still wait (and counts nothing). The
    /// [`Attempt`] takes it back again ([`refund`](Self::refund)) when it succeeds where others share the key.
    pub async fn attempt(&self, key: &str) -> Result<Attempt, Duration> {
        if let Some(shared) = &self.shared
            && let Some(decided) = shared.attempt(self.name, key, self.free_failures).await
        {
            return decided.map(|last| Attempt(Before::Shared(last)));
        }
        self.attempt_here(key).map(|last| Attempt(Before::Here(last)))
    }

    /// The time of the attempt before this one, if any.
    fn attempt_here(&self, key: &str) -> Result<Option<Instant>, Duration> {
        let mut failures = self.failures.lock().expect("not poisoned");
        // Counts fade: an hour after the last attempt, a key starts again.
        if failures.get(key).is_some_and(|(_, last)| last.elapsed() >= FORGET_AFTER) {
            failures.remove(key);
        }
        if let Some(wait) = failures.get(key).and_then(|entry| self.wait_after(entry)) {
            return Err(wait);
        }
        if failures.len() > 100_000 {
            failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        }
        let before = failures.get(key).map(|(_, last)| *last);
        let entry = failures.entry(key.to_owned()).or_insert((0, Instant::now()));
        *entry = (entry.0 + 1, Instant::now());
        Ok(before)
    }

    /// The attempt succeeded where others' successes and failures share the key: it no longer counts, and
    /// the wait runs from the attempt before it again (a success must not restart anyone's wait).
    pub async fn refund(&self, key: &str, attempt: Attempt) {
        match attempt.0 {
            Before::Shared(last) => {
                if let Some(shared) = &self.shared {
                    shared.refund(self.name, key, last).await;
                }
            }
            Before::Here(last) => {
                let mut failures = self.failures.lock().expect("not poisoned");
                if let Some(entry) = failures.get_mut(key) {
                    entry.0 = entry.0.saturating_sub(1);
                    match last {
                        Some(last) => entry.1 = last,
                        None if entry.0 == 0 => {
                            failures.remove(key);
                        }
                        None => {}
                    }
                }
            }
        }
    }

    /// The secret was right: a clean slate for `key`.
    pub async fn clear(&self, key: &str) {
        if let Some(shared) = &self.shared {
            shared.clear(self.name, key).await;
        }
        // Also here: a count kept while Redis was away must not outlive the success.
        self.failures.lock().expect("not poisoned").remove(key);
    }

    fn wait_after(&self, (count, last): &(u32, Instant)) -> Option<Duration> {
        // The first `free_failures` cost nothing; the next waits a second, then two, four, …
        let over = count.checked_sub(self.free_failures).filter(|over| *over > 0)?;
        let backoff = Duration::from_secs(1u64 << (over - 1).min(20)).min(MAX_WAIT);
        backoff.checked_sub(last.elapsed()).filter(|d| !d.is_zero())
    }
}

/// An attempt counted, to take back if it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt(Before);

/// When the attempt before it was, where it was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    Here(Option<Instant>),
    /// Milliseconds of Redis's clock (0: none).
    Shared(i64),
}

/// Counts an attempt against every key in turn; if one of them must wait, the attempts already counted are
/// taken back, and that wait is the answer.
pub async fn attempt_all(keys: &[(&Throttle, &str)]) -> Result<Vec<Attempt>, Duration> {
    let mut counted = Vec::with_capacity(keys.len());
    for (throttle, key) in keys {
        match throttle.attempt(key).await {
            Ok(attempt) => counted.push(attempt),
            Err(wait) => {
                for ((throttle, key), attempt) in keys.iter().zip(counted) {
                    throttle.refund(key, attempt).await;
                }
                return Err(wait);
            }
        }
    }
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn free_attempts_then_a_doubling_wait_then_a_clean_slate_on_success() {
        let throttle = Throttle::new(3);
        for _ in 0..4 {
            assert!(throttle.attempt("a").await.is_ok(), "three failures are free, and the fourth may be tried");
        }
        let first = throttle.attempt("a").await.expect_err("a wait after the fourth failure");
        assert!(first <= Duration::from_secs(1));
        assert!(throttle.attempt("b").await.is_ok(), "keys are independent");
        throttle.clear("a").await;
        assert!(throttle.attempt("a").await.is_ok());
    }

    #[tokio::test]
    async fn a_refunded_success_leaves_the_wait_where_it_was() {
        let throttle = Throttle::new(1);
        throttle.attempt("a").await.unwrap();
        throttle.attempt("a").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let right = throttle.attempt("a").await.expect("the wait is over");
        throttle.refund("a", right).await;
        let next = throttle.attempt("a").await.expect("a success does not restart the wait");
        throttle.refund("a", next).await;
    }

    #[test]
    fn attempts_in_parallel_are_counted_as_they_are_let_through() {
        let throttle = Throttle::new(5);
        let allowed = std::thread::scope(|scope| {
            let tries: Vec<_> = (0..32).map(|_| scope.spawn(|| throttle.attempt_here("a").is_ok())).collect();
            tries.into_iter().filter_map(|t| t.join().ok()).filter(|ok| *ok).count()
        });
        assert_eq!(allowed, 6, "five free failures and the attempt that starts the backoff");
    }

    #[tokio::test]
    async fn a_refused_attempt_takes_back_the_others_it_counted() {
        let (lenient, strict) = (Throttle::new(10), Throttle::new(0));
        assert!(attempt_all(&[(&lenient, "k"), (&strict, "k")]).await.is_ok());
        assert!(attempt_all(&[(&lenient, "k"), (&strict, "k")]).await.is_err());
        assert_eq!(lenient.failures.lock().unwrap()["k"].0, 1, "the refused attempt did not count");
    }
}
