//! Read benchmark and noisy-neighbour check (programs that print figures, not timed tests), against the real
//! server on PostgreSQL:
//!
//! 1. the ceiling: an empty route (`GET /healthz`: no token, no database) through the same HTTP stack;
//! 2. an authenticated read: `GET` one notification by id, by API clients of 16 organisations;
//! 3. isolation: one organisation's p95 for that read, alone and then while another organisation's client
//!    floods the API at its rate limit (target: within 2x of the unloaded p95).
//!
//! Run:
//!
//!     TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         cargo run --release -p provider-api-benches --bin bench_reads -- [SECONDS] [CONCURRENCY]

use std::sync::Arc;
use std::time::Duration;

use provider_api_benches::{drive, ms};
use provider_api_tests::TestApp;
use provider_api_tests::forms::valid;
use serde_json::{Value, json};
use uuid::Uuid;

struct Tenant {
    organisation: Uuid,
    notification: String,
    token: String,
}

async fn tenant(app: &TestApp) -> anyhow::Result<Tenant> {
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let response = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id)))
        .bearer_auth(&token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({"location_id": demo.location_id, "content": valid("serious_injury")}))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "setting up a tenant failed: {}", response.text().await?);
    let created: Value = response.json().await?;
    let notification =
        created["id"].as_str().ok_or_else(|| anyhow::anyhow!("the submission has no id: {created}"))?.to_owned();
    Ok(Tenant { organisation: demo.organisation_id, notification, token })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let seconds = args.first().copied().unwrap_or(15);
    let concurrency = args.get(1).copied().unwrap_or(32) as usize;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "provider-api read benchmark: {seconds} s per phase, {concurrency} in flight, PostgreSQL, {cores} cores\n"
    );

    // Phases 1 and 2: limits out of the way, to measure the path itself.
    let app = provider_api_benches::server_without_limits().await?;
    let mut tenants = Vec::new();
    for _ in 0..16 {
        tenants.push(tenant(&app).await?);
    }
    let tenants = Arc::new(tenants);
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let base = app.base_url.clone();

    let ceiling = {
        let (http, url) = (http.clone(), format!("{base}/healthz"));
        drive(seconds, concurrency, move |_| {
            let request = http.get(&url);
            async move { request.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await
    };
    let reads = {
        let (http, base, tenants) = (http.clone(), base.clone(), tenants.clone());
        drive(seconds, concurrency, move |worker| {
            let t = &tenants[worker % tenants.len()];
            let url = format!("{base}/v1/organisations/{}/notifications/{}", t.organisation, t.notification);
            let request = http.get(url).bearer_auth(&t.token);
            async move { request.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await
    };
    ceiling.print("Empty route (GET /healthz)");
    reads.print("GET one notification");
    ceiling.require("the empty route", 1)?;
    reads.require("the read", 1)?;
    println!("ratio read / empty route: {:.2}\n", reads.per_second() / ceiling.per_second());
    drop(app);

    // Phase 3: the limits as configured by default; one organisation floods, another reads at its own pace.
    let app = TestApp::spawn().await;
    let quiet = tenant(&app).await?;
    let noisy = tenant(&app).await?;
    let base = app.base_url.clone();
    let quiet_url = format!("{base}/v1/organisations/{}/notifications/{}", quiet.organisation, quiet.notification);
    let measure = |http: reqwest::Client, url: String, token: String| {
        drive(seconds, 1, move |_| {
            let request = http.get(&url).bearer_auth(&token);
            async move {
                let ok = request.send().await.is_ok_and(|r| r.status() == 200);
                // A steady reader, not a load: about 20 requests a second.
                tokio::time::sleep(Duration::from_millis(50)).await;
                ok
            }
        })
    };
    // (Latency includes the 50 ms pause; subtract it when printing.)
    let pause = Duration::from_millis(50);
    let alone = measure(http.clone(), quiet_url.clone(), quiet.token.clone()).await;
    let flood_url = format!("{base}/v1/organisations/{}/notifications/{}", noisy.organisation, noisy.notification);
    let flood = {
        let (http, url, token) = (http.clone(), flood_url.clone(), noisy.token.clone());
        tokio::spawn(drive(seconds + 1, concurrency, move |_| {
            let request = http.get(&url).bearer_auth(&token);
            async move { request.send().await.is_ok_and(|r| r.status() == 200) }
        }))
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let beside = measure(http.clone(), quiet_url, quiet.token.clone()).await;
    let flood = flood.await?;
    let p95 = |f: &provider_api_benches::Figures| f.percentile(0.95).saturating_sub(pause);
    // A steady reader makes about 20 calls a second; at least half of that shows it was not starved.
    let steady = (seconds * 10) as usize;
    alone.require("the quiet organisation's reads alone", steady)?;
    beside.require("the quiet organisation's reads beside the flood", steady)?;
    anyhow::ensure!(flood.completed > 0, "the flood never got through, so it loaded nothing");
    println!(
        "flood from one organisation: {:.0} requests/s answered, {} of them refused (429) by its limits",
        (flood.completed + flood.failed) as f64 / flood.elapsed.as_secs_f64(),
        flood.failed
    );
    println!(
        "another organisation's read p95: alone {:.1} ms, beside the flood {:.1} ms",
        ms(p95(&alone)),
        ms(p95(&beside))
    );
    let ratio = p95(&beside).as_secs_f64() / p95(&alone).as_secs_f64().max(1e-6);
    println!("ratio: {ratio:.2} (target <= 2.00)");
    anyhow::ensure!(ratio <= 2.0, "a flooding organisation slowed another's reads beyond the target");
    Ok(())
}
