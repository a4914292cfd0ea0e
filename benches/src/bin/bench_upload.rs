//! Upload benchmark (a program that prints figures, not a timed test). For each size it starts a real server
//! process on loopback with the filesystem store, uploads a file of that size through the SDK's tus uploader,
//! and prints: the upload's throughput; in the same run, the raw sequential write of the same bytes to the
//! same disk (the ceiling) and the ratio of the two; and the server's resident memory (`VmRSS` from
//! `/proc/<pid>/status`, sampled every 5 ms) at idle and at its peak during the upload.
//!
//!     cargo build --release -p provider-api
//!     cargo run --release -p provider-api-benches --bin bench_upload -- 10 1024
//!
//! Sizes are in MiB (default: 10 and 1024). The server binary is `target/release/provider-api` unless
//! `PROVIDER_API_BIN` names another. Targets: ratio ≥ 0.8, RSS growth < 32 MiB for every size.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use provider_api_benches::server_process::{MIB, pattern, peak_during, rss_kib, start_server};

use provider_api_sdk::ClientBuilder;
use tokio::io::{AsyncRead, ReadBuf};

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
    let binary = std::env::var_os("PROVIDER_API_BIN").map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("provider-api"))).unwrap_or_default()
    });
    anyhow::ensure!(binary.exists(), "{} is missing: cargo build --release -p provider-api", binary.display());
    // The same disk as the server's store: a folder under target/, not /tmp (often a RAM disk).
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-upload");
    let pattern = pattern();
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
        let client_id = server.demo["client_id"].as_str().unwrap_or_default().to_owned();
        let client_secret = server.demo["client_secret"].as_str().unwrap_or_default().to_owned();
        let client = ClientBuilder::new(&server.base_url)
            .client_credentials(client_id, client_secret, &[])
            .timeout(Duration::from_secs(600))
            .build()?;
        let me = client.get_me().send().await?.into_inner();
        let organisation = me.organisations[0].organisation_id;
        // Warm up (connections, the database, the allocator) with a small upload, then measure idle.
        let warm = Generated { pattern: pattern.clone(), position: 0, length: MIB };
        client.uploader(organisation).upload_reader(warm, MIB, "warm-up.pdf", "application/pdf").await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = rss_kib(pid);

        let reader = Generated { pattern: pattern.clone(), position: 0, length };
        let uploader = client.uploader(organisation).chunk_size(chunk_mib as usize * MIB as usize).checksums(false);
        let upload = uploader.upload_reader(reader, length, "bench.pdf", "application/pdf");
        let (uploaded, peak, upload_time) = peak_during(pid, upload).await;
        let uploaded = uploaded?;
        anyhow::ensure!(uploaded.document.size as u64 == length, "the document has the wrong size");
        drop(server);

        let raw = raw_write(&work, &pattern, length)?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let throughput = size_mib as f64 / upload_time.as_secs_f64();
        let ceiling = size_mib as f64 / raw.as_secs_f64();
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
