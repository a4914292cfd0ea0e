//! Upload benchmark (a program that prints figures, not a timed test). For each size it starts a real server
//! process on loopback with the filesystem store, uploads a file of that size through the SDK's tus uploader,
//! and prints: the upload's throughput; in the same run, the raw sequential write of the same bytes to the
//! same disk (the ceiling) and the ratio of the two; and the server's resident memory (`VmRSS` from
//! `/proc/<pid>/status`, sampled every 5 ms) at idle and at its peak during the upload.
//!
//!     cargo build --release -p provider-api
//!     cargo run --release -p provider-api-examples --example bench_upload -- 10 1024
//!
//! Sizes are in MiB (default: 10 and 1024). The server binary is `target/release/provider-api` unless
//! `PROVIDER_API_BIN` names another. Targets: ratio ≥ 0.8, RSS growth < 32 MiB for every size.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use provider_api_sdk::ClientBuilder;
use tokio::io::{AsyncRead, ReadBuf};

const MIB: u64 = 1024 * 1024;
/// The bytes written: a pseudo-random MiB, repeated (not compressible in any way the path could exploit),
/// starting as a PDF does so the type check accepts it.
fn pattern() -> Vec<u8> {
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
    bytes
}

/// `length` bytes of the pattern, as a reader (no file is read: the disk sees only the server's writes).
struct Generated {
    pattern: Arc<Vec<u8>>,
    position: u64,
    length: u64,
}

impl AsyncRead for Generated {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let left = self.length - self.position;
        let at = (self.position % MIB) as usize;
        let n = (buf.remaining() as u64).min(left).min((self.pattern.len() - at) as u64) as usize;
        buf.put_slice(&self.pattern[at..at + n]);
        self.position += n as u64;
        Poll::Ready(Ok(()))
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Server {
    child: Child,
    base_url: String,
    client_id: String,
    client_secret: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(binary: &Path, dir: &Path, max_size: u64) -> anyhow::Result<Server> {
    let envs = [
        ("PROVIDER_API_DATABASE_URL", format!("sqlite://{}", dir.join("bench.db").display())),
        ("PROVIDER_API_DOCUMENT_STORAGE", dir.join("documents").display().to_string()),
        ("PROVIDER_API_DOCUMENT_MAX_SIZE", max_size.to_string()),
        ("PROVIDER_API_BIND", "127.0.0.1:0".to_owned()),
        ("PROVIDER_API_RATE_LIMIT_PER_PRINCIPAL", "1000000".to_owned()),
        ("PROVIDER_API_RATE_LIMIT_PER_ORGANISATION", "1000000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    // The server refuses PROVIDER_API_* variables it does not know (a typo must not pass silently), and this
    // program's own PROVIDER_API_BIN is one.
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
    Ok(Server {
        child,
        base_url,
        client_id: demo["client_id"].as_str().unwrap_or_default().to_owned(),
        client_secret: demo["client_secret"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Writes `length` bytes of the pattern to a new file in `dir` in 1 MiB writes, then fsyncs, as the server's
/// store does: the disk's ceiling for the same bytes.
fn raw_write(dir: &Path, pattern: &[u8], length: u64) -> anyhow::Result<Duration> {
    let path = dir.join("raw-write.bin");
    let started = Instant::now();
    let mut file = std::fs::File::create(&path)?;
    let mut written = 0;
    while written < length {
        let n = (length - written).min(MIB) as usize;
        file.write_all(&pattern[..n])?;
        written += n as u64;
    }
    file.sync_all()?;
    let elapsed = started.elapsed();
    std::fs::remove_file(path)?;
    Ok(elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<u64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() { vec![10, 1024] } else { sizes };
    let binary = std::env::var_os("PROVIDER_API_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/provider-api"));
    anyhow::ensure!(binary.exists(), "{} is missing: cargo build --release -p provider-api", binary.display());
    // The same disk as the server's store: a folder under target/, not /tmp (often a RAM disk).
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-upload");
    let pattern = Arc::new(pattern());
    // tus sends one chunk per request and waits for its answer (which waits for the disk): fewer, larger
    // chunks mean fewer such waits. BENCH_CHUNK_MIB overrides the default of 256.
    let chunk_mib: u64 = std::env::var("BENCH_CHUNK_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);

    println!("chunk {chunk_mib} MiB; server {}", binary.file_name().unwrap_or_default().to_string_lossy());
    println!("size_mib upload_s upload_mib_s raw_write_mib_s ratio idle_rss_mib peak_rss_mib rss_growth_mib");
    for size_mib in sizes {
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        let length = size_mib * MIB;
        let server = start_server(&binary, &work, length.max(MIB))?;
        let pid = server.child.id();
        let client = ClientBuilder::new(&server.base_url)
            .client_credentials(server.client_id.clone(), server.client_secret.clone(), &[])
            .timeout(Duration::from_secs(600))
            .build()?;
        let me = client.get_me().send().await?.into_inner();
        let organisation = me.organisations[0].organisation_id;
        // Warm up (connections, the database, the allocator) with a small upload, then measure idle.
        let warm = Generated { pattern: pattern.clone(), position: 0, length: MIB };
        client.uploader(organisation).upload_reader(warm, MIB, "warm-up.pdf", "application/pdf").await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = rss_kib(pid);

        let peak = Arc::new(AtomicU64::new(idle));
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
        let reader = Generated { pattern: pattern.clone(), position: 0, length };
        let started = Instant::now();
        let uploaded = client
            .uploader(organisation)
            .chunk_size(chunk_mib as usize * MIB as usize)
            .checksums(false)
            .upload_reader(reader, length, "bench.pdf", "application/pdf")
            .await?;
        let upload_time = started.elapsed();
        sampling.store(false, Ordering::Relaxed);
        sampler.join().ok();
        anyhow::ensure!(uploaded.document.size as u64 == length, "the document has the wrong size");
        drop(server);

        let raw = raw_write(&work, &pattern, length)?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let throughput = size_mib as f64 / upload_time.as_secs_f64();
        let ceiling = size_mib as f64 / raw.as_secs_f64();
        let peak = peak.load(Ordering::Relaxed);
        println!(
            "{size_mib} {:.2} {throughput:.0} {ceiling:.0} {:.2} {:.1} {:.1} {:.1}",
            upload_time.as_secs_f64(),
            throughput / ceiling,
            mib(idle),
            mib(peak),
            mib(peak.saturating_sub(idle)),
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
