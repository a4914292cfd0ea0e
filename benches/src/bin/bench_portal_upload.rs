//! Portal upload benchmark (a program that prints figures, not a timed test): a document of SIZE MiB uploaded
//! through the portal's plain file form (multipart, as a browser sends it) in a real server process started as
//! the README's run command starts it (API and portal in one process), while the process's resident memory
//! (`VmRSS` from `/proc/<pid>/status`) is sampled every 5 ms. In the same run, the ceiling: the same bytes
//! sent straight to the API's one-request upload, which the portal's upload turns into. The portal must not
//! hold the file: the target is a peak RSS growth under 32 MiB (the API's own upload target), enforced.
//!
//!     cargo build --release -p provider-api -p provider-api-benches --bins
//!     target/release/bench_portal_upload [SIZE_MIB]      # default 100
//!
//! The server binary is `target/release/provider-api` beside this one unless `PROVIDER_API_BIN` names another.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use provider_api_benches::server_process::{MIB, pattern, peak_during, rss_kib, start_server};
use provider_api_sdk::ClientBuilder;
use provider_api_tests::browser::Browser;

const TARGET_GROWTH_MIB: f64 = 32.0;

/// `prefix`, then `length` bytes of the pattern in 64 KiB pieces, then `suffix`: a body made as it is sent,
/// so this program holds no more of it than the piece in hand.
fn generated(
    pattern: Arc<Vec<u8>>,
    length: u64,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let pieces = futures_util::stream::unfold(0u64, move |position| {
        let pattern = pattern.clone();
        async move {
            if position >= length {
                return None;
            }
            let at = (position % MIB) as usize;
            let n = (length - position).min(64 * 1024).min((pattern.len() - at) as u64) as usize;
            Some((Ok(pattern[at..at + n].to_vec()), position + n as u64))
        }
    });
    use futures_util::StreamExt;
    futures_util::stream::iter([Ok(prefix)]).chain(pieces).chain(futures_util::stream::iter([Ok(suffix)]))
}

/// Uploads `length` bytes through the portal's upload form, signed in as `browser`; the status answered.
async fn through_portal(
    http: &reqwest::Client,
    base_url: &str,
    cookie: &str,
    csrf_token: &str,
    pattern: Arc<Vec<u8>>,
    length: u64,
) -> anyhow::Result<u16> {
    let boundary = "----bench-portal-upload";
    let prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf_token}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"bench.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let suffix = format!("\r\n--{boundary}--\r\n");
    let body = reqwest::Body::wrap_stream(generated(pattern, length, prefix.into_bytes(), suffix.into_bytes()));
    let response = http
        .post(format!("{base_url}/documents/upload"))
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let size_mib: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(100);
    let binary = std::env::var_os("PROVIDER_API_BIN").map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("provider-api"))).unwrap_or_default()
    });
    anyhow::ensure!(binary.exists(), "{} is missing: cargo build --release -p provider-api", binary.display());
    // The same disk as a deployment's store: a folder under target/, not /tmp (often a RAM disk).
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-portal-upload");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let length = size_mib * MIB;
    let server = start_server(&binary, &work, length)?;
    let pid = server.child.id();
    let pattern = pattern();

    // A drafter signed in through the portal, as a browser would be.
    let drafter = server.demo["users"]
        .as_array()
        .and_then(|users| {
            users.iter().find(|u| u["roles"].as_array().is_some_and(|r| r.iter().any(|r| r == "drafter")))
        })
        .ok_or_else(|| anyhow::anyhow!("no demo drafter"))?;
    let browser = Browser::new(&server.base_url);
    let tasks = browser
        .sign_in(drafter["email"].as_str().unwrap_or_default(), drafter["password"].as_str().unwrap_or_default())
        .await;
    anyhow::ensure!(tasks.url.ends_with("/dashboard"), "signing in ended at {}", tasks.url);
    let cookie = format!("portal_session={}", browser.session_id().unwrap_or_default());
    let documents = browser.get("/documents").await;
    let csrf_token = documents.attr("input[name=csrf_token]", "value").unwrap_or_default();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;

    // Warm up (connections, the database, the allocator) with one MiB each way, then measure idle.
    let status = through_portal(&http, &server.base_url, &cookie, &csrf_token, pattern.clone(), MIB).await?;
    anyhow::ensure!(status == 303, "the portal refused the warm-up upload ({status})");
    let client_id = server.demo["client_id"].as_str().unwrap_or_default().to_owned();
    let client_secret = server.demo["client_secret"].as_str().unwrap_or_default().to_owned();
    let client = ClientBuilder::new(&server.base_url)
        .client_credentials(client_id, client_secret, &[])
        .timeout(Duration::from_secs(600))
        .build()?;
    let organisation = client.get_me().send().await?.into_inner().organisations[0].organisation_id;
    let direct = |length: u64| {
        let body = reqwest::Body::wrap_stream(generated(pattern.clone(), length, Vec::new(), Vec::new()));
        provider_api_sdk::upload::upload_document_stream(&client, organisation, "bench.pdf", "application/pdf", body)
    };
    direct(MIB).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let idle = rss_kib(pid);
    let (status, portal_peak, portal_time) =
        peak_during(pid, through_portal(&http, &server.base_url, &cookie, &csrf_token, pattern.clone(), length)).await;
    anyhow::ensure!(status? == 303, "the portal did not take the upload");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_after = rss_kib(pid);
    let (uploaded, api_peak, api_time) = peak_during(pid, direct(length)).await;
    anyhow::ensure!(uploaded?.size as u64 == length, "the API stored the wrong size");

    let mib = |kib: u64| kib as f64 / 1024.0;
    let rate = |time: Duration| size_mib as f64 / time.as_secs_f64();
    let portal_growth = mib(portal_peak.saturating_sub(idle));
    let api_growth = mib(api_peak.saturating_sub(idle_after));
    println!("provider portal upload benchmark: {size_mib} MiB through the portal's file form, one server process");
    println!("(API and portal, as the run command serves them), resident memory sampled every 5 ms");
    println!();
    println!(
        "through the portal (multipart form)   {:>6.2} s  {:>6.0} MiB/s  idle RSS {:>6.1} MiB  peak {:>6.1} MiB  growth {:>5.1} MiB",
        portal_time.as_secs_f64(),
        rate(portal_time),
        mib(idle),
        mib(portal_peak),
        portal_growth
    );
    println!(
        "ceiling: straight to the API          {:>6.2} s  {:>6.0} MiB/s  idle RSS {:>6.1} MiB  peak {:>6.1} MiB  growth {:>5.1} MiB",
        api_time.as_secs_f64(),
        rate(api_time),
        mib(idle_after),
        mib(api_peak),
        api_growth
    );
    println!();
    println!(
        "portal / ceiling throughput {:.2}; the portal's peak growth is {:.1}% of the file (target < {TARGET_GROWTH_MIB} MiB)",
        rate(portal_time) / rate(api_time),
        100.0 * portal_growth / size_mib as f64
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&work);
    anyhow::ensure!(
        portal_growth < TARGET_GROWTH_MIB,
        "the portal's memory grew {portal_growth:.1} MiB during the upload"
    );
    Ok(())
}
