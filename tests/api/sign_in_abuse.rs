//! Abuse of the sign-in page: guesses sent in parallel, addresses that are cheap to change, a burst of
//! password checks, and an attacker who keeps someone else's account locked.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use provider_api_sdk::auth::{AuthorizationRequest, authorization_url};
use provider_api_tests::TestApp;

const REDIRECT: &str = "https://care-notes.example/callback";
const SCOPES: &str = "org:read notifications:read";

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The sign-in form for `request`, posted from `address` (through a trusted proxy), carrying `cookie`.
async fn sign_in_from(
    app: &TestApp,
    request: &AuthorizationRequest,
    address: &str,
    cookie: Option<&str>,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(request.url.split_once('?').unwrap().1).unwrap();
    form.extend([
        ("email".into(), email.into()),
        ("password".into(), password.into()),
        ("decision".into(), "allow".into()),
    ]);
    let mut post = browser().post(app.url("/v1/oauth/authorize")).header("x-forwarded-for", address).form(&form);
    if let Some(cookie) = cookie {
        post = post.header("cookie", cookie);
    }
    post.send().await.unwrap()
}

async fn behind_a_proxy(configure: impl FnOnce(&mut provider_api_http::config::Config)) -> TestApp {
    TestApp::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".into()];
        configure(config);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_in_parallel_cannot_outrun_the_backoff() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let email = demo.users[0].email.clone();

    let guesses = (0..30).map(|i| {
        let (app, request, email) = (&app, &request, &email);
        async move { sign_in_from(app, request, "127.0.0.1", None, email, &format!("guess {i}")).await.status() }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|s| s.as_u16() == 401).count();
    let waited = answers.iter().filter(|s| s.as_u16() == 429).count();
    assert_eq!(checked + waited, 30, "{answers:?}");
    // Five failures are free and the sixth starts the backoff: no more than six passwords are ever checked.
    assert!(checked <= 6, "{checked} of 30 parallel guesses were checked: {answers:?}");
}

#[tokio::test]
async fn every_address_of_one_ipv6_network_shares_one_allowance() {
    let app = behind_a_proxy(|config| config.rate_limit_sign_in_per_address = 3.try_into().unwrap()).await;
    let token = |address: String| {
        let request = app.http.post(app.url("/v1/oauth/token")).header("x-forwarded-for", address);
        async move { request.form(&[("grant_type", "client_credentials")]).send().await.unwrap().status().as_u16() }
    };
    let mut answers = Vec::new();
    for host in 1..=5 {
        answers.push(token(format!("2001:db8:1:2::{host}")).await);
    }
    assert_eq!(answers.iter().filter(|s| **s == 429).count(), 2, "one /64 is one address: {answers:?}");
    assert_ne!(token("2001:db8:1:3::1".into()).await, 429, "another /64 has its own allowance");
    // The same goes for the address an IPv4 client shows to an IPv6 socket.
    for _ in 0..3 {
        token("198.51.100.4".into()).await;
    }
    assert_eq!(token("::ffff:198.51.100.4".into()).await, 429, "an IPv4-mapped address is the IPv4 address");
}

#[tokio::test]
async fn a_proxy_reaching_a_dual_stack_socket_over_ipv4_is_still_trusted() {
    let app = behind_a_proxy(|config| {
        config.bind = SocketAddr::from_str("[::]:0").unwrap();
        config.rate_limit_sign_in_per_address = 2.try_into().unwrap();
    })
    .await;
    // Over IPv4 to a socket bound to [::], the server sees the proxy as ::ffff:127.0.0.1.
    let url = format!("http://127.0.0.1:{}/v1/oauth/token", app.address.port());
    let mut answers = Vec::new();
    for client in 1..=4 {
        let request = app.http.post(&url).header("x-forwarded-for", format!("203.0.113.{client}"));
        answers.push(request.form(&[("grant_type", "client_credentials")]).send().await.unwrap().status().as_u16());
    }
    assert!(answers.iter().all(|s| *s != 429), "four clients behind the proxy, four allowances: {answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_does_not_starve_the_api() {
    let app = TestApp::spawn_with(|config| config.rate_limit_sign_in_per_address = 1000.try_into().unwrap()).await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let organisation_id = app.demo().await.organisation_id;
    let mut accounts = Vec::new();
    for _ in 0..24 {
        accounts.push(app.member(organisation_id, "viewer", None).await);
    }
    // The ceiling, measured here: one password check after another, as many as the burst will send.
    let started = Instant::now();
    for (email, password) in &accounts {
        assert_eq!(sign_in_from(&app, &request, "127.0.0.1", None, email, password).await.status(), 303);
    }
    let one_after_another = started.elapsed();

    let answers = {
        let burst =
            accounts.iter().map(|(email, password)| sign_in_from(&app, &request, "127.0.0.1", None, email, password));
        let probe = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let started = Instant::now();
            let health = app.http.get(app.url("/healthz")).send().await.unwrap();
            (health.status().as_u16(), started.elapsed())
        };
        tokio::join!(futures_util::future::join_all(burst), probe)
    };
    let (statuses, (probe_status, probe_time)) = answers;
    let statuses: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    assert_eq!(probe_status, 200);
    // The password checks run beside the API, not on it: a request waits for no queue of them.
    assert!(
        probe_time * 4 < one_after_another,
        "a request during the burst took {probe_time:?}; {} password checks take {one_after_another:?}",
        accounts.len()
    );
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_person_out_elsewhere_or_on_their_own_device() {
    let app = behind_a_proxy(|_| {}).await;
    let demo = app.demo().await;
    let app_id = app.integrator_app(REDIRECT, SCOPES, None).await.to_string();
    let request = authorization_url(&app.base_url, &app_id, REDIRECT, &[]).unwrap();
    let (email, password) = (&demo.users[0].email, &demo.users[0].password);
    const OFFICE: &str = "198.51.100.7";
    const ATTACKER: &str = "203.0.113.66";

    // Signed in once at the office: the browser is remembered as one of theirs.
    let first = sign_in_from(&app, &request, OFFICE, None, email, password).await;
    assert_eq!(first.status(), 303);
    let device = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-device=") || v.starts_with("device="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a device cookie after a successful sign-in");
    assert!(
        first.headers().get_all("set-cookie").iter().any(|v| {
            let v = v.to_str().unwrap();
            v.contains("HttpOnly") && v.contains("SameSite=Lax") && v.contains("Path=/v1/oauth/authorize")
        }),
        "the device cookie is for the sign-in page only, and out of scripts' reach"
    );

    // Someone else guesses, from elsewhere and from the office, until they must wait.
    for at in [ATTACKER, OFFICE] {
        let mut last = 0;
        for i in 0..8 {
            last = sign_in_from(&app, &request, at, None, email, &format!("guess {i}")).await.status().as_u16();
        }
        assert_eq!(last, 429, "guessing from {at} backs off");
        let still = sign_in_from(&app, &request, at, None, email, password).await;
        assert_eq!(still.status(), 429, "the right password from {at}, on a browser never seen, waits too");
    }
    let forged =
        sign_in_from(&app, &request, OFFICE, Some("__Host-device=d1.forged; device=d1.forged"), email, password);
    assert_eq!(forged.await.status(), 429, "a made-up device cookie is no device of theirs");

    // The person: on their own browser at the office, and from home on another, still gets in.
    let own = sign_in_from(&app, &request, OFFICE, Some(&device), email, password).await;
    assert_eq!(own.status(), 303, "{}", own.text().await.unwrap());
    let home = sign_in_from(&app, &request, "192.0.2.44", None, email, password).await;
    assert_eq!(home.status(), 303, "{}", home.text().await.unwrap());
}

/// Old failures from an address must not hold up the right secret: a web application whose address once saw
/// a few wrong client secrets (a rotation, a neighbour behind the same NAT) still gets a token every time it
/// presents the right one.
#[tokio::test]
async fn a_right_client_secret_is_not_held_up_by_old_failures_from_its_address() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = |secret: String| {
        let request = app.http.post(app.url("/v1/oauth/token")).basic_auth(demo.client_id, Some(secret));
        async move { request.form(&[("grant_type", "client_credentials")]).send().await.unwrap().status().as_u16() }
    };
    for _ in 0..6 {
        assert_eq!(token("pas_wrong".into()).await, 401);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(token(demo.client_secret.clone()).await);
    }
    assert_eq!(answers, [200; 4], "each right secret is answered, none waits behind the last");
}
