//! A real server process for the programs that measure one (uploads): started as the README's run command
//! starts it, on a fresh SQLite database and folder store in `dir`, with a demo provider; its resident memory
//! read from `/proc`; and a pseudo-random pattern for the bytes they send.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const MIB: u64 = 1024 * 1024;

/// A pseudo-random MiB (not compressible in any way the path could exploit) that starts as a PDF does, so the
/// type check accepts it; repeated to make a file of any size.
pub fn pattern() -> Arc<Vec<u8>> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut bytes: Vec<u8> = (0..MIB)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    bytes[..5].copy_from_slice(b"%PDF-");
    Arc::new(bytes)
}

/// The resident memory of process `pid`, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `work`'s output, process `pid`'s peak resident memory (KiB, sampled every 5 ms) while it ran, and how long
/// it took.
pub async fn peak_during<T>(pid: u32, work: impl Future<Output = T>) -> (T, u64, Duration) {
    let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let output = work.await;
    let elapsed = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.join().ok();
    (output, peak.load(Ordering::Relaxed), elapsed)
}

/// A running `provider-api` process, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base_url: String,
    /// What `provider-api demo --json` printed: its people, API client and secret.
    pub demo: serde_json::Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` (the API with the portal beside it) on a fresh database and store in `dir`, documents up to
/// `max_size` bytes, with no rate limit in the way; makes a demo provider first.
pub fn start_server(binary: &Path, dir: &Path, max_size: u64) -> anyhow::Result<Server> {
    let envs = [
        ("PROVIDER_API_DATABASE_URL", format!("sqlite://{}", dir.join("bench.db").display())),
        ("PROVIDER_API_DOCUMENT_STORAGE", dir.join("documents").display().to_string()),
        ("PROVIDER_API_DOCUMENT_MAX_SIZE", max_size.to_string()),
        ("PROVIDER_API_PORTAL_SESSION_DATABASE_URL", format!("sqlite://{}", dir.join("sessions.db").display())),
        ("PROVIDER_API_BIND", "127.0.0.1:0".to_owned()),
        ("PROVIDER_API_RATE_LIMIT_PER_PRINCIPAL", "1000000".to_owned()),
        ("PROVIDER_API_RATE_LIMIT_PER_ORGANISATION", "1000000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    // The server refuses PROVIDER_API_* variables it does not know (a typo must not pass silently), and the
    // programs' own PROVIDER_API_BIN is one.
    let demo = Command::new(binary)
        .args(["demo", "--json"])
        .env_remove("PROVIDER_API_BIN")
        .envs(envs.clone())
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(demo.status.success(), "provider-api demo failed");
    let demo: serde_json::Value = serde_json::from_slice(&demo.stdout)?;
    let log = dir.join("server.log");
    let child = Command::new(binary)
        .env_remove("PROVIDER_API_BIN")
        .envs(envs)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log)?))
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let base_url = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("Provider API: ").nth(1) {
            break rest.split("/v1").next().unwrap_or_default().to_owned();
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not start: {text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Server { child, base_url, demo })
}
