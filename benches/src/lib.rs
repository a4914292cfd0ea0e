//! What the benchmark and fault programs share: driving a load for a fixed time and summarising its
//! latencies. The programs are in `src/bin` (`benches/run` runs the benchmarks, `.ci/run` the fault programs);
//! they are a package of their own so that `cargo test` of the black-box suite neither builds nor links them.

pub mod server_process;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a phase of load achieved.
#[derive(Default)]
pub struct Figures {
    pub completed: usize,
    pub failed: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Figures {
    /// Adds another stretch of the same phase to this one.
    pub fn absorb(&mut self, more: Figures) {
        self.completed += more.completed;
        self.failed += more.failed;
        self.elapsed += more.elapsed;
        self.latencies.extend(more.latencies);
        self.latencies.sort();
    }

    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }

    /// A percentile of the successful calls' latencies; zero when none succeeded, so judge a phase with
    /// [`Figures::require`] before reading its percentiles.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }

    /// Fails unless every call succeeded and at least `minimum` completed: a phase that failed, or barely ran,
    /// has figures that mean nothing (a p95 over no calls is zero, and zero passes any ceiling).
    pub fn require(&self, what: &str, minimum: usize) -> anyhow::Result<()> {
        anyhow::ensure!(self.failed == 0, "{what}: {} of {} calls failed", self.failed, self.failed + self.completed);
        anyhow::ensure!(
            self.completed >= minimum,
            "{what}: only {} calls completed (at least {minimum} needed for the figures to mean anything)",
            self.completed
        );
        Ok(())
    }

    pub fn print(&self, what: &str) {
        println!(
            "{what:<34} {:>8.1}/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  ({} done, {} failed)",
            self.per_second(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.95)),
            ms(self.percentile(0.99)),
            self.completed,
            self.failed,
        );
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `concurrency` workers calling `one` until `seconds` have passed.
pub async fn drive<F, Fut>(seconds: u64, concurrency: usize, one: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let one = Arc::new(one);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let one = one.clone();
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let began = Instant::now();
                    if one(worker).await {
                        latencies.push(began.elapsed());
                    } else {
                        failed += 1;
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for worker in workers {
        let (l, f) = worker.await.expect("a worker finishes");
        latencies.extend(l);
        failed += f;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Figures { completed: latencies.len(), failed, elapsed, latencies }
}

/// The real server on PostgreSQL (`TEST_DATABASE_URL`), with its rate limits out of the way so the benchmark
/// measures the path itself.
pub async fn server_without_limits() -> anyhow::Result<provider_api_tests::TestApp> {
    anyhow::ensure!(
        std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")),
        "set TEST_DATABASE_URL to a PostgreSQL server: this benchmark measures the production engine"
    );
    let unlimited = std::num::NonZeroU32::new(1_000_000_000).expect("not zero");
    Ok(provider_api_tests::TestApp::spawn_with(|config| {
        config.rate_limit_per_principal = unlimited;
        config.rate_limit_per_organisation = unlimited;
        config.rate_limit_per_address = unlimited;
        config.database_max_connections = 16;
    })
    .await)
}
