//! Limits shared by every node through Redis (`rate_limit_store`): two nodes hold an organisation to its limit
//! in total, and a sign-in backoff started on one node holds on the other; when Redis stops answering, nodes
//! fall back to counting on their own, and requests carry on.

use std::num::NonZeroU32;
use std::time::Duration;

use provider_api_tests::TestApp;
use provider_api_tests::services::RedisServer;
use serde_json::Value;

/// The machine's Redis, which CI requires: its absence fails the test, loudly.
fn machine_redis() -> String {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 6379));
    assert!(
        std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok(),
        "Redis is required on 127.0.0.1:6379 for the shared-limit tests (it runs on every machine of this kind)"
    );
    "redis://127.0.0.1:6379/".to_owned()
}

async fn two_nodes_sharing(
    store: String,
    configure: impl FnOnce(&mut provider_api_http::config::Config),
) -> (TestApp, provider_api_tests::Node) {
    let app = TestApp::spawn_with(move |config| {
        config.public_base_url = Some("http://provider-api.test".into());
        config.rate_limit_store = store.into();
        // Tests share the machine's Redis: each keeps its counts apart.
        config.rate_limit_key_prefix = format!("test-{}", uuid::Uuid::new_v4());
        configure(config);
    })
    .await;
    let second = app.second_node().await;
    (app, second)
}

#[tokio::test]
async fn two_nodes_sharing_redis_hold_an_organisation_to_its_limit_in_total() {
    let limit = 20u32;
    let (app, second) = two_nodes_sharing(machine_redis(), |config| {
        config.rate_limit_per_organisation = NonZeroU32::new(limit).unwrap();
    })
    .await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let nodes = [app.base_url.clone(), second.base_url.clone()];

    let (mut admitted, mut refusal) = (0u32, None);
    for i in 0..3 * limit as usize {
        let response = app.http.get(format!("{}/v1/me", nodes[i % 2])).bearer_auth(&token).send().await.unwrap();
        match response.status().as_u16() {
            200 => admitted += 1,
            429 => refusal = Some(response),
            other => panic!("request {i}: {other}"),
        }
    }
    let (low, high) = (limit * 9 / 10, limit * 11 / 10);
    println!(
        "two nodes sharing Redis admitted {admitted} of {} requests for an organisation limited to {limit}",
        3 * limit
    );
    assert!((low..=high).contains(&admitted), "{admitted} admitted by two nodes; the limit is {limit} in total");
    let refusal = refusal.expect("the organisation is refused past its limit");
    assert!(refusal.headers().contains_key("retry-after"));
    assert_eq!(refusal.headers()["ratelimit-policy"], format!("\"organisation\";q={limit};w=60").as_str());
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    let ready: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["rate_limits"]["store"], "redis", "{ready}");
    assert_eq!(ready["rate_limits"]["shared"], true, "{ready}");
}

#[tokio::test]
async fn a_sign_in_backoff_started_on_one_node_holds_on_the_other() {
    let (app, second) = two_nodes_sharing(machine_redis(), |_| {}).await;
    let demo = app.demo().await;
    let app_id = app.integrator_app("https://care-notes.example/callback", "org:read", None).await.to_string();
    let request =
        provider_api_sdk::auth::authorization_url(&app.base_url, &app_id, "https://care-notes.example/callback", &[])
            .unwrap();
    let nodes = [app.base_url.clone(), second.base_url.clone()];
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let attempt = |node: &str, password: &str| {
        let mut form: Vec<(String, String)> =
            serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
        form.extend([
            ("email".into(), demo.users[0].email.clone()),
            ("password".into(), password.to_owned()),
            ("decision".into(), "allow".into()),
        ]);
        browser.post(format!("{node}/v1/oauth/authorize")).form(&form).send()
    };
    // Five failures are free and the sixth starts the wait, counted by both nodes together.
    for i in 0..6 {
        assert_eq!(attempt(&nodes[i % 2], "not the password").await.unwrap().status(), 401, "attempt {i}");
    }
    for node in &nodes {
        let held = attempt(node, &demo.users[0].password).await.unwrap();
        assert_eq!(held.status(), 429, "{node} holds the backoff");
    }
}

#[tokio::test]
async fn redis_stopping_mid_run_changes_nothing_but_the_log_and_readiness_details() {
    let mut redis = RedisServer::start();
    let app = TestApp::spawn_with({
        let url = redis.url();
        move |config| {
            config.rate_limit_store = url.into();
            config.rate_limit_per_principal = NonZeroU32::new(1000).unwrap();
        }
    })
    .await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let me = || app.http.get(app.url("/v1/me")).bearer_auth(&token).send();
    let readiness = || async { app.http.get(app.url("/readyz")).send().await.unwrap() };

    for _ in 0..5 {
        assert_eq!(me().await.unwrap().status(), 200);
    }
    let ready: Value = readiness().await.json().await.unwrap();
    assert_eq!(ready["rate_limits"]["shared"], true, "{ready}");

    redis.stop();
    for i in 0..20 {
        let response = me().await.unwrap();
        assert_eq!(response.status(), 200, "request {i} without Redis");
        assert!(response.headers().contains_key("ratelimit"), "still limited, locally");
    }
    let down = readiness().await;
    assert_eq!(down.status(), 200, "the node still serves");
    let down: Value = down.json().await.unwrap();
    assert_eq!(down["rate_limits"]["store"], "redis", "{down}");
    assert_eq!(down["rate_limits"]["shared"], false, "{down}");
    assert!(down["rate_limits"]["detail"].as_str().unwrap_or_default().contains("on its own"), "{down}");

    redis.restart();
    let mut shared = false;
    for _ in 0..50 {
        me().await.unwrap();
        let ready: Value = readiness().await.json().await.unwrap();
        if ready["rate_limits"]["shared"] == true {
            shared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shared, "once Redis answers again, the node shares its counts again");
}
