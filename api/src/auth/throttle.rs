//! Backoff after failed sign-ins, per account and per client address: a few free attempts, then a wait that
//! doubles with each further failure (up to 15 minutes). Kept in memory, so each node counts on its own
//! (`docs/identity.md`); a success clears the account's count.

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

    /// How long `key` must still wait before another attempt, if at all.
    pub fn wait(&self, key: &str) -> Option<Duration> {
        let failures = self.failures.lock().expect("not poisoned");
        let (count, last) = failures.get(key)?;
        // The first `free_failures` cost nothing; the next waits a second, then two, four, …
        let over = count.checked_sub(self.free_failures).filter(|over| *over > 0)?;
        let backoff = Duration::from_secs(1u64 << (over - 1).min(20)).min(MAX_WAIT);
        backoff.checked_sub(last.elapsed()).filter(|d| !d.is_zero())
    }

    pub fn failed(&self, key: &str) {
        let mut failures = self.failures.lock().expect("not poisoned");
        if failures.len() > 100_000 {
            failures.retain(|_, (_, last)| last.elapsed() < FORGET_AFTER);
        }
        let entry = failures.entry(key.to_owned()).or_insert((0, Instant::now()));
        *entry = (entry.0 + 1, Instant::now());
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().expect("not poisoned").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_attempts_then_a_doubling_wait_then_a_clean_slate_on_success() {
        let throttle = Throttle::new(3);
        for _ in 0..3 {
            assert_eq!(throttle.wait("a"), None);
            throttle.failed("a");
        }
        assert_eq!(throttle.wait("a"), None, "three failures are free");
        throttle.failed("a");
        let first = throttle.wait("a").expect("a wait after the fourth failure");
        throttle.failed("a");
        let second = throttle.wait("a").unwrap();
        assert!(second > first, "{second:?} should exceed {first:?}");
        assert_eq!(throttle.wait("b"), None, "keys are independent");
        throttle.succeeded("a");
        assert_eq!(throttle.wait("a"), None);
    }
}
