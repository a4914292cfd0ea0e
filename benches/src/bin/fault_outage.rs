//! Database outage: PostgreSQL is stopped for 10 seconds under load. While it is down every request must be
//! answered promptly (within the pool's acquire timeout and a second, far inside the request timeout) with
//! 503 problem+json and `Retry-After`, and `/readyz` must say not ready; within 5 seconds of the database's
//! return requests must succeed again, without restarting the API. Prints the figures; exits 1 otherwise.
//!
//! Twelve clients load it (each request waits at most the pool's acquire timeout while the database is down,
//! so a dozen keep answers coming); a request with no answer within 10 s counts as a hang.
//!
//! It stops and starts this machine's PostgreSQL cluster (`pg_ctlcluster`), so run it alone:
//!
//!     cargo build -p provider-api
//!     TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         cargo run -p provider-api-benches --bin fault_outage -- [target/debug/provider-api]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use provider_api_tests::TestDatabase;
use provider_api_tests::forms::valid;
use serde_json::json;
use tokio::sync::Mutex;
use uuid::Uuid;

const OUTAGE: Duration = Duration::from_secs(10);
/// The server's database acquire timeout (its default), plus a second for the rest of the request.
const PROMPT: Duration = Duration::from_secs(6);
const RECOVERY: Duration = Duration::from_secs(5);

fn cluster(action: &str) -> anyhow::Result<()> {
    let version = std::fs::read_dir("/etc/postgresql")?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .ok_or_else(|| anyhow::anyhow!("no PostgreSQL cluster under /etc/postgresql"))?;
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .args(if action == "stop" { &["-m", "fast"][..] } else { &[][..] })
        .status()?;
    anyhow::ensure!(status.success(), "pg_ctlcluster {action} failed");
    Ok(())
}

fn database_accepts() -> bool {
    Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", "5432", "-q"]).status().is_ok_and(|s| s.success())
}

struct Sample {
    at: Instant,
    /// What the call answers when the database is there (201 for a submission, 200 for `/v1/me`).
    success: u16,
    status: u16,
    took: Duration,
    problem: bool,
    retry_after: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")),
        "set TEST_DATABASE_URL to the PostgreSQL server: this program stops and starts it"
    );
    let binary = std::env::args().nth(1).unwrap_or_else(|| "target/debug/provider-api".to_owned());
    let database = TestDatabase::fresh().await;
    let demo = Command::new(&binary)
        .args(["demo", "--json"])
        .env("PROVIDER_API_DATABASE_URL", database.url())
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(demo.status.success(), "`provider-api demo` failed");
    let demo: serde_json::Value = serde_json::from_slice(&demo.stdout)?;
    let field = |name: &str| demo[name].as_str().unwrap_or_default().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server: Child = Command::new(&binary)
        .env("PROVIDER_API_DATABASE_URL", database.url())
        .env("PROVIDER_API_BIND", format!("127.0.0.1:{port}"))
        .env("PROVIDER_API_RATE_LIMIT_PER_PRINCIPAL", "1000000")
        .env("PROVIDER_API_RATE_LIMIT_PER_ORGANISATION", "1000000")
        .env("PROVIDER_API_RATE_LIMIT_PER_ADDRESS", "1000000")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Longer than any prompt answer, far shorter than the server's request timeout: a hang shows as a failure.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    for _ in 0..200 {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token: serde_json::Value = http
        .post(format!("{base}/v1/oauth/token"))
        .basic_auth(field("client_id"), Some(field("client_secret")))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let token = Arc::new(token["access_token"].as_str().unwrap_or_default().to_owned());
    let submit_url = format!("{base}/v1/organisations/{}/notification-submissions", field("organisation_id"));
    let body = json!({"location_id": field("location_id"), "content": valid("serious_injury")}).to_string();

    // Load: four clients submitting and reading continuously, every answer sampled.
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..12 {
        let (http, token, url, body, samples, stop, base) = (
            http.clone(),
            token.clone(),
            submit_url.clone(),
            body.clone(),
            samples.clone(),
            stop.clone(),
            base.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                let success = if client % 2 == 0 { 201 } else { 200 };
                let request = if client % 2 == 0 {
                    http.post(&url)
                        .bearer_auth(token.as_str())
                        .header("idempotency-key", Uuid::new_v4().to_string())
                        .header("content-type", "application/json")
                        .body(body.clone())
                } else {
                    http.get(format!("{base}/v1/me")).bearer_auth(token.as_str())
                };
                let response = match request.send().await {
                    Ok(response) => response,
                    // No answer at all (a hang past the client's timeout, a dropped connection): recorded as 0.
                    Err(_) => {
                        let hung = Sample {
                            at: started,
                            success,
                            status: 0,
                            took: started.elapsed(),
                            problem: false,
                            retry_after: false,
                        };
                        samples.lock().await.push(hung);
                        continue;
                    }
                };
                let sample = Sample {
                    at: started,
                    success,
                    status: response.status().as_u16(),
                    took: started.elapsed(),
                    problem: response
                        .headers()
                        .get("content-type")
                        .is_some_and(|v| v.as_bytes() == b"application/problem+json"),
                    retry_after: response.headers().contains_key("retry-after"),
                };
                samples.lock().await.push(sample);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let down_at = Instant::now();
    cluster("stop")?;
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let readiness = http.get(format!("{base}/readyz")).send().await?;
    let ready_status = readiness.status().as_u16();
    tokio::time::sleep(OUTAGE.saturating_sub(down_at.elapsed())).await;
    let restarting_at = Instant::now();
    let starting = tokio::task::spawn_blocking(|| cluster("start"));
    // The database is back when it accepts connections (pg_ctlcluster returns a little later).
    while !database_accepts() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back_at = Instant::now();
    // Recovery: the first success after the database is back.
    let mut recovered = None;
    while back_at.elapsed() < Duration::from_secs(30) {
        let ok = http
            .post(&submit_url)
            .bearer_auth(token.as_str())
            .header("idempotency-key", Uuid::new_v4().to_string())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == 201);
        if ok {
            recovered = Some(back_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    starting.await??;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await?;
    }
    server.kill().ok();
    server.wait().ok();

    let samples = samples.lock().await;
    let during: Vec<&Sample> = samples.iter().filter(|s| s.at >= stopped_at && s.at < restarting_at).collect();
    // Every call that began while the database was down answers 503 problem+json with Retry-After; one still
    // waiting for a connection when the database was being started again may succeed instead (the database
    // can accept connections a little before pg_isready is seen to say so). Anything else (a 4xx, a 500, no
    // answer) is wrong: the outage must never be mistaken for the caller's error.
    let unavailable = |s: &Sample| s.status == 503 && s.problem && s.retry_after;
    let refused: Vec<&&Sample> = during.iter().filter(|s| unavailable(s)).collect();
    let wrong: Vec<&&Sample> = during
        .iter()
        .filter(|s| !unavailable(s))
        .filter(|s| !(s.status == s.success && s.at + s.took >= restarting_at))
        .collect();
    let bad_failures = wrong.len();
    let slowest = during.iter().map(|s| s.took).max().unwrap_or_default();
    let mut statuses = std::collections::BTreeMap::new();
    for sample in &during {
        *statuses.entry(sample.status).or_insert(0) += 1;
    }
    println!("statuses while the database was down (0: no answer): {statuses:?}");

    println!(
        "provider-api database outage: PostgreSQL stopped for {:.1} s under load",
        (back_at - stopped_at).as_secs_f64()
    );
    println!(
        "during: {} answers, {} of them 503 problem+json with Retry-After, {bad_failures} wrong; slowest {:.2} s \
(limit {} s); /readyz {ready_status}",
        during.len(),
        refused.len(),
        slowest.as_secs_f64(),
        PROMPT.as_secs()
    );
    match recovered {
        Some(after) => println!(
            "recovered {:.2} s after the database accepted connections (limit {} s)",
            after.as_secs_f64(),
            RECOVERY.as_secs()
        ),
        None => println!("did not recover within 30 s"),
    }
    anyhow::ensure!(!refused.is_empty(), "no request met the outage: the test did not test anything");
    anyhow::ensure!(
        bad_failures == 0,
        "some answers during the outage were neither 503 problem+json with Retry-After nor a success once the \
         database was starting again: {:?}",
        wrong.iter().map(|s| s.status).collect::<Vec<_>>()
    );
    anyhow::ensure!(slowest <= PROMPT, "a request hung during the outage");
    anyhow::ensure!(ready_status == 503, "/readyz said ready while the database was down");
    anyhow::ensure!(recovered.is_some_and(|after| after <= RECOVERY), "no recovery within {RECOVERY:?}");
    Ok(())
}
