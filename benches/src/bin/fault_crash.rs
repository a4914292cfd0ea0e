//! Crash durability: a client submits notifications continuously while the server is killed with SIGKILL and
//! restarted, several times; the client retries every unanswered request with the same idempotency key.
//! Afterwards every submission that got a 2xx receipt must exist with identical content, and none may be
//! duplicated. Prints the figures; exits 1 on any loss or duplicate.
//!
//!     cargo build -p provider-api
//!     TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         cargo run -p provider-api-benches --bin fault_crash -- [SUBMISSIONS] [KILLS] [target/debug/provider-api]
//!
//! Without TEST_DATABASE_URL it runs on SQLite. The server is the real binary, as a child process.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use provider_api_tests::TestDatabase;
use provider_api_tests::forms::valid;
use serde_json::{Value, json};
use uuid::Uuid;

struct Server {
    binary: String,
    database_url: String,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) {
        let child = Command::new(&self.binary)
            .env("PROVIDER_API_DATABASE_URL", &self.database_url)
            .env("PROVIDER_API_BIND", format!("127.0.0.1:{}", self.port))
            .env("PROVIDER_API_PUBLIC_BASE_URL", format!("http://127.0.0.1:{}", self.port))
            .env("PROVIDER_API_RATE_LIMIT_PER_PRINCIPAL", "1000000")
            .env("PROVIDER_API_RATE_LIMIT_PER_ORGANISATION", "1000000")
            .env("PROVIDER_API_RATE_LIMIT_PER_ADDRESS", "1000000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        self.child = Some(child);
    }

    /// SIGKILL: no graceful shutdown, no flushing.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("the killed server is reaped");
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(http: &reqwest::Client, server: &Server) {
    for _ in 0..200 {
        if http.get(server.url("/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let submissions: usize = args.get(1).map_or(Ok(300), |a| a.parse())?;
    let kills: usize = args.get(2).map_or(Ok(5), |a| a.parse())?;
    let binary = args.get(3).cloned().unwrap_or_else(|| "target/debug/provider-api".to_owned());
    let database = TestDatabase::fresh().await;
    let engine = if database.is_postgres() { "PostgreSQL" } else { "SQLite" };

    // A demo provider, made by the binary itself in the database the server will use.
    let demo = Command::new(&binary)
        .arg("demo")
        .arg("--json")
        .env("PROVIDER_API_DATABASE_URL", database.url())
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(demo.status.success(), "`provider-api demo` failed");
    let demo: Value = serde_json::from_slice(&demo.stdout)?;
    let field = |name: &str| demo[name].as_str().unwrap_or_default().to_owned();

    let mut server = Server { binary, database_url: database.url().to_owned(), port: free_port(), child: None };
    server.start();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    wait_ready(&http, &server).await;
    let token: Value = http
        .post(server.url("/v1/oauth/token"))
        .basic_auth(field("client_id"), Some(field("client_secret")))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let token = Arc::new(token["access_token"].as_str().unwrap_or_default().to_owned());
    let url = server.url(&format!("/v1/organisations/{}/notification-submissions", field("organisation_id")));
    let location = field("location_id");

    // The client: each logical submission has one key and one reference, retried until it is answered.
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (http, url, token, location, next, retries, acknowledged) = (
            http.clone(),
            url.clone(),
            token.clone(),
            location.clone(),
            next.clone(),
            retries.clone(),
            acknowledged.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut receipts = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= submissions {
                    return receipts;
                }
                let reference = format!("crash-{i}");
                let mut form = valid("serious_injury");
                form["reporter"]["provider_reference"] = json!(reference);
                let body = json!({"location_id": location, "content": form}).to_string();
                let key = Uuid::new_v4().to_string();
                loop {
                    let sent = http
                        .post(&url)
                        .bearer_auth(token.as_str())
                        .header("idempotency-key", &key)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().is_success() => {
                            let view: Value = response.json().await.expect("a receipt");
                            receipts.push((reference, view));
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        // Refused outright (4xx other than "in flight"): a bug, not a fault to ride out.
                        Ok(response) if response.status().is_client_error() && response.status().as_u16() != 409 => {
                            panic!("{reference} refused: {}", response.text().await.unwrap_or_default());
                        }
                        _ => {
                            retries.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }
        }));
    }

    // The faults: kill the server mid-load, several times, and bring it back. A kill counts only while
    // submissions are still outstanding, checked just before it, so none lands after the load has finished.
    let mut killed = 0;
    while killed < kills {
        tokio::time::sleep(Duration::from_millis(700)).await;
        if acknowledged.load(Ordering::SeqCst) >= submissions {
            break;
        }
        server.kill();
        killed += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.start();
        wait_ready(&http, &server).await;
    }
    let mut receipts = Vec::new();
    for client in clients {
        receipts.extend(client.await?);
    }
    let elapsed = started.elapsed();

    // Every acknowledged submission exists, with the content its receipt covers; nothing is duplicated.
    let mut stored: HashMap<String, Vec<Value>> = HashMap::new();
    let mut cursor: Option<String> = None;
    let list = server.url(&format!("/v1/organisations/{}/notifications", field("organisation_id")));
    loop {
        let mut request = http.get(&list).bearer_auth(token.as_str()).query(&[("limit", "100")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request.send().await?.json().await?;
        for item in page["items"].as_array().into_iter().flatten() {
            let id = item["id"].as_str().unwrap_or_default();
            let full: Value = http.get(format!("{list}/{id}")).bearer_auth(token.as_str()).send().await?.json().await?;
            let reference = full["content"]["reporter"]["provider_reference"].as_str().unwrap_or_default().to_owned();
            stored.entry(reference).or_default().push(full);
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut lost = 0;
    let mut changed = 0;
    for (reference, receipt) in &receipts {
        match stored.get(reference).and_then(|found| found.first()) {
            None => lost += 1,
            Some(found) if found["receipt"] != receipt["receipt"] || found["content"] != receipt["content"] => {
                if changed == 0 {
                    eprintln!("first difference, {reference}:\nreceived {receipt}\nstored   {found}");
                }
                changed += 1
            }
            Some(_) => {}
        }
    }
    let duplicated: usize = stored.values().map(|found| found.len().saturating_sub(1)).sum();
    println!("provider-api crash durability: {engine}, {submissions} submissions by 8 clients, {killed} SIGKILLs");
    println!(
        "acknowledged {} in {:.1} s; retried {} unanswered requests; lost {lost}; changed {changed}; duplicated {duplicated}",
        receipts.len(),
        elapsed.as_secs_f64(),
        retries.load(Ordering::SeqCst)
    );
    server.kill();
    anyhow::ensure!(receipts.len() == submissions, "not every submission was acknowledged");
    anyhow::ensure!(killed == kills, "the load finished before every kill ({killed} of {kills}); submit more");
    // Each kill under load leaves at least one request unanswered, which its client must have retried.
    let retried = retries.load(Ordering::SeqCst);
    anyhow::ensure!(retried >= kills, "only {retried} requests were retried for {kills} kills: a kill missed the load");
    anyhow::ensure!(lost == 0 && changed == 0 && duplicated == 0, "durability failed");
    Ok(())
}
