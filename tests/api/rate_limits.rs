//! Rate limits: one noisy client spends only its own allowance.

use std::num::NonZeroU32;

use provider_api_tests::{TestApp, problem};

#[tokio::test]
async fn a_flooding_client_is_refused_while_another_organisation_is_still_served() {
    let app = TestApp::spawn_with(|config| config.rate_limit_per_principal = NonZeroU32::new(5).unwrap()).await;
    let noisy = app.demo().await;
    let quiet = app.demo().await;
    let noisy_token = app.client_token(noisy.client_id, &noisy.client_secret).await;
    let quiet_token = app.client_token(quiet.client_id, &quiet.client_secret).await;

    let mut refused = None;
    for _ in 0..10 {
        let response = app.http.get(app.url("/v1/me")).bearer_auth(&noisy_token).send().await.unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
        let remaining = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(remaining.starts_with(r#""principal";r="#), "{remaining}");
        assert_eq!(response.headers()["ratelimit-policy"], r#""principal";q=5;w=60"#);
    }
    let refused = refused.expect("the flood is cut off");
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(problem(refused, 429).await["code"], "rate_limited");

    for _ in 0..3 {
        let response = app.http.get(app.url("/v1/me")).bearer_auth(&quiet_token).send().await.unwrap();
        assert_eq!(response.status(), 200, "another organisation is unaffected");
    }
}

#[tokio::test]
async fn the_token_endpoint_has_its_own_stricter_limit_per_address() {
    let app = TestApp::spawn_with(|config| config.rate_limit_sign_in_per_address = NonZeroU32::new(3).unwrap()).await;
    let demo = app.demo().await;

    // A public application names itself and presents no secret: all it can be limited by is its address.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = app
            .http
            .post(app.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "par_guess"),
                ("client_id", &demo.integrator_app_id.to_string()),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429, 429], "guessing refresh tokens is slowed down");
    let probes = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(probes.status(), 200, "probes are never limited");
}

#[tokio::test]
async fn a_confidential_client_is_limited_as_itself_and_wrong_secrets_per_address() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_sign_in_per_address = NonZeroU32::new(3).unwrap();
        config.rate_limit_sign_in_per_client = NonZeroU32::new(5).unwrap();
    })
    .await;
    let demo = app.demo().await;
    let token_request = |secret: &str| {
        app.http
            .post(app.url("/v1/oauth/token"))
            .basic_auth(demo.client_id.to_string(), Some(secret.to_owned()))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };

    // A web application makes every person's token requests from its one address: past the address's three,
    // the client's own five apply.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(token_request(&demo.client_secret).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);

    // Guessing a secret is slowed per address, before the secret is checked, so guessing on learns nothing.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = token_request("pas_guess").await.unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(token_request(&demo.client_secret).await.unwrap().status(), 429, "even the right secret waits");
}

#[tokio::test]
async fn an_organisations_clients_share_its_allowance() {
    let app = TestApp::spawn_with(|config| config.rate_limit_per_organisation = NonZeroU32::new(4).unwrap()).await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let second = admin
        .create_api_client()
        .organisation_id(demo.organisation_id)
        .body(
            provider_api_sdk::types::NewApiClient::builder()
                .name("Second system")
                .roles(vec![provider_api_sdk::types::Role::Viewer]),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let first_token = app.client_token(demo.client_id, &demo.client_secret).await;
    let second_token = app.client_token(second.client.id, second.client_secret.as_deref().unwrap()).await;

    let mut statuses = Vec::new();
    for token in [&first_token, &second_token, &first_token, &second_token, &first_token, &second_token] {
        statuses.push(app.http.get(app.url("/v1/me")).bearer_auth(token).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "four between them, then both wait");
}

#[tokio::test]
async fn callers_without_a_token_are_limited_by_address() {
    let app = TestApp::spawn_with(|config| config.rate_limit_per_address = NonZeroU32::new(3).unwrap()).await;

    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app.http.get(app.url("/v1/reference/regulated-activities")).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_per_address = NonZeroU32::new(2).unwrap();
        config.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let from = |client: &'static str| {
        app.http.get(app.url("/v1/reference/service-user-bands")).header("x-forwarded-for", client).send()
    };

    let first: Vec<u16> = [from("203.0.113.1").await, from("203.0.113.1").await, from("203.0.113.1").await]
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert_eq!(first, [200, 200, 429]);
    assert_eq!(from("203.0.113.2").await.unwrap().status(), 200, "another client behind the same balancer is served");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_pick_its_address() {
    let app = TestApp::spawn_with(|config| config.rate_limit_per_address = NonZeroU32::new(2).unwrap()).await;

    let mut statuses = Vec::new();
    for fake in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let response =
            app.http.get(app.url("/v1/reference/service-types")).header("x-forwarded-for", fake).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429], "a forged X-Forwarded-For does not buy a fresh allowance");
}

#[tokio::test]
async fn the_scheme_of_a_client_secret_is_read_in_any_case_and_guessing_is_slowed_whichever() {
    // RFC 9110 §11.1: the scheme is case-insensitive. A lowercase "basic" once skipped the per-address limit
    // without being read as a secret at all, so guessing went unlimited.
    let app = TestApp::spawn_with(|config| config.rate_limit_sign_in_per_address = NonZeroU32::new(3).unwrap()).await;
    let demo = app.demo().await;
    let guess =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{}:pas_guess", demo.client_id));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = app
            .http
            .post(app.url("/v1/oauth/token"))
            .header("authorization", format!("basic {guess}"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429, 429], "a wrong secret, however its scheme is written");

    // And the right secret is accepted however the scheme is written (from another address's view: a new server).
    let fresh = TestApp::spawn().await;
    let demo = fresh.demo().await;
    let right = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", demo.client_id, demo.client_secret),
    );
    let response = fresh
        .http
        .post(fresh.url("/v1/oauth/token"))
        .header("authorization", format!("BASIC {right}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
