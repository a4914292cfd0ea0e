//! The token endpoint, discovery, and what the API does with good and bad tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use provider_api_http::auth::keys;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::PrincipalKind;
use provider_api_tests::{TestApp, problem};
use serde_json::{Value, json};

#[tokio::test]
async fn care_software_gets_a_token_and_sees_itself_through_the_sdk() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let sdk = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);

    let me = sdk.get_me().send().await.unwrap().into_inner();

    assert_eq!(me.kind, PrincipalKind::ApiClient);
    assert_eq!(me.id, demo.client_id);
    assert_eq!(me.scopes.len(), 10, "every scope it holds");
    let organisation = &me.organisations[0];
    assert_eq!(organisation.organisation_id, demo.organisation_id);
    let roles: Vec<String> = organisation.roles.iter().map(|r| r.to_string()).collect();
    assert_eq!(roles, ["drafter", "submitter"]);
}

#[tokio::test]
async fn a_token_asked_for_fewer_scopes_can_do_less_and_the_api_says_why() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let sdk = app.sdk_for_client(demo.client_id, &demo.client_secret, &["notifications:read", "org:read"]);

    let permissions =
        sdk.get_my_permissions().organisation(demo.organisation_id).send().await.unwrap().into_inner().permissions;

    let decision = |name: &str| permissions.iter().find(|d| d.permission.to_string() == name).unwrap().clone();
    assert!(decision("notifications:read").allowed);
    let submit = decision("notifications:submit");
    assert!(!submit.allowed);
    assert!(submit.reason.unwrap().contains("scope"), "the reason names the missing scope");
    let admin = decision("org:admin");
    assert!(admin.reason.unwrap().contains("roles"), "the reason names the roles");
}

#[tokio::test]
async fn another_organisations_permissions_are_not_found() {
    let app = TestApp::spawn().await;
    let ours = app.demo().await;
    let theirs = app.demo().await;
    let sdk = app.sdk_for_client(ours.client_id, &ours.client_secret, &[]);

    let error = sdk.get_my_permissions().organisation(theirs.organisation_id).send().await.unwrap_err();

    assert_eq!(error.http_status(), Some(404));
}

#[tokio::test]
async fn token_endpoint_errors_are_problems_that_oauth_libraries_can_read() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token_url = app.url("/v1/oauth/token");
    let id = demo.client_id.to_string();

    let wrong_secret =
        app.http.post(&token_url).basic_auth(&id, Some("pas_wrong")).form(&[("grant_type", "client_credentials")]);
    let response = wrong_secret.send().await.unwrap();
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let body = problem(response, 401).await;
    assert_eq!((body["error"].as_str(), body["code"].as_str()), (Some("invalid_client"), Some("invalid_client")));
    assert!(body["error_description"].is_string());

    let no_credentials = app.http.post(&token_url).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    assert_eq!(problem(no_credentials, 401).await["error"], "invalid_client");

    let password_grant = app
        .http
        .post(&token_url)
        .basic_auth(&id, Some(&demo.client_secret))
        .form(&[("grant_type", "password"), ("username", "a"), ("password", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(problem(password_grant, 400).await["error"], "unsupported_grant_type");

    let unknown_scope = app
        .http
        .post(&token_url)
        .basic_auth(&id, Some(&demo.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "notifications:read everything")])
        .send()
        .await
        .unwrap();
    assert_eq!(problem(unknown_scope, 400).await["error"], "invalid_scope");

    let json_body = app
        .http
        .post(&token_url)
        .basic_auth(&id, Some(&demo.client_secret))
        .json(&json!({"grant_type": "client_credentials"}));
    assert_eq!(problem(json_body.send().await.unwrap(), 415).await["code"], "unsupported_media_type");

    let repeated = app
        .http
        .post(&token_url)
        .basic_auth(&id, Some(&demo.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(repeated, 400).await["error"], "invalid_request");
}

#[tokio::test]
async fn discovery_names_the_endpoints_and_the_jwks_holds_the_signing_key() {
    let app = TestApp::spawn().await;

    let metadata = app.client.get_authorization_server_metadata().send().await.unwrap().into_inner();
    assert_eq!(metadata.issuer, app.base_url);
    assert_eq!(metadata.token_endpoint, app.url("/v1/oauth/token"));
    assert!(metadata.token_endpoint_auth_methods_supported.contains(&"private_key_jwt".to_owned()));

    let jwks = app.client.get_jwks().send().await.unwrap().into_inner();
    assert_eq!(jwks.keys.len(), 1);
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(jwks.keys[0].kid.as_str()));
    let key = jsonwebtoken::DecodingKey::from_ec_components(&jwks.keys[0].x, &jwks.keys[0].y).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.set_audience(&["provider-api"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["client_id"], demo.client_id.to_string());
    assert_eq!(claims["org"], demo.organisation_id.to_string());
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 900, "at most 15 minutes");
}

/// Claims as the server would issue them for the demo client, for forging variants of.
fn claims(app: &TestApp, client_id: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"iss": app.base_url, "aud": "provider-api", "sub": client_id, "client_id": client_id, "iat": now,
        "nbf": now, "exp": now + 600, "jti": uuid::Uuid::new_v4(), "scope": "org:read"})
}

/// Signs `claims` with the server's own current key: only the claims make such a token bad.
async fn signed_by_server(app: &TestApp, claims: &Value) -> String {
    let key = app.store.signing_keys().await.unwrap().into_iter().find(|k| k.retired_at.is_none()).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_pem(key.private_key_pem.as_bytes()).unwrap()).unwrap()
}

async fn refused_as_invalid_token(app: &TestApp, token: &str, why: &str) {
    let response = app.http.get(app.url("/v1/me")).bearer_auth(token).send().await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body = problem(response, 401).await;
    assert_eq!(body["code"], "invalid_token", "{why}: {body}");
    assert!(challenge.unwrap().contains(r#"error="invalid_token""#), "{why}");
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let id = demo.client_id.to_string();
    let good = claims(&app, &id);

    let control = signed_by_server(&app, &good).await;
    let response = app.http.get(app.url("/v1/me")).bearer_auth(&control).send().await.unwrap();
    assert_eq!(response.status(), 200, "the forging helper itself makes acceptable tokens");

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (why, change) in [
        ("expired", json!({"exp": now - 120, "iat": now - 1000, "nbf": now - 1000})),
        ("not yet valid", json!({"nbf": now + 600})),
        ("another audience", json!({"aud": "another-api"})),
        ("another issuer", json!({"iss": "https://evil.example"})),
    ] {
        let mut forged = good.clone();
        forged.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        refused_as_invalid_token(&app, &signed_by_server(&app, &forged).await, why).await;
    }

    let [head, payload, signature]: [&str; 3] = control.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut tampered: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    tampered["scope"] = json!("org:read org:admin");
    let tampered = format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(tampered.to_string()));
    refused_as_invalid_token(&app, &tampered, "tampered payload").await;

    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    refused_as_invalid_token(&app, &format!("{none_header}.{payload}."), "alg none").await;

    // HS256 keyed with the public key: the classic algorithm-confusion attack.
    let jwks = app.client.get_jwks().send().await.unwrap().into_inner();
    let public_key_text = serde_json::to_string(&jwks.keys[0]).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(jwks.keys[0].kid.clone());
    let confused = jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(public_key_text.as_bytes())).unwrap();
    refused_as_invalid_token(&app, &confused, "HS256 with the public key").await;

    let stranger = keys::generate(time::OffsetDateTime::now_utc());
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(stranger.kid.clone());
    let unknown_key =
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_ec_pem(stranger.private_key_pem.as_bytes()).unwrap())
            .unwrap();
    refused_as_invalid_token(&app, &unknown_key, "a key that is not ours").await;

    let mut id_token_header = Header::new(Algorithm::ES256);
    id_token_header.typ = Some("JWT".into());
    refused_as_invalid_token(
        &app,
        &control.replacen(head, &URL_SAFE_NO_PAD.encode(serde_json::to_string(&id_token_header).unwrap()), 1),
        "typ JWT",
    )
    .await;

    refused_as_invalid_token(&app, "not-a-jwt", "garbage").await;
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/v1/me")).send().await.unwrap();

    assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="provider-api""#);
    assert_eq!(problem(response, 401).await["code"], "unauthenticated");
}

#[tokio::test]
async fn private_key_jwt_authenticates_a_client_once_per_assertion() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    // The client's own key pair; the server knows only the public half.
    let client_key = keys::generate(time::OffsetDateTime::now_utc());
    let client_id = uuid::Uuid::new_v4();
    let now = time::OffsetDateTime::now_utc();
    app.store
        .create_api_client(&provider_api_core::accounts::ApiClient {
            id: client_id,
            organisation_id: demo.organisation_id,
            name: "Key-holding care system".into(),
            secret_hash: None,
            jwks: Some(format!(r#"{{"keys":[{}]}}"#, client_key.public_jwk)),
            roles: "viewer".parse().unwrap(),
            scopes: "org:read notifications:read".parse().unwrap(),
            location_ids: None,
            created_by: None,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        })
        .await
        .unwrap();

    let assertion = |audience: &str, lifetime: i64| {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + lifetime,
            "jti": uuid::Uuid::new_v4()});
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(client_key.kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_ec_pem(client_key.private_key_pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let exchange = |assertion: String| {
        app.http
            .post(app.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", assertion.as_str()),
            ])
            .send()
    };

    let good = assertion(&app.url("/v1/oauth/token"), 60);
    let response = exchange(good.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["scope"], "org:read notifications:read");
    let me = app.http.get(app.url("/v1/me")).bearer_auth(token["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(me.json::<Value>().await.unwrap()["id"], client_id.to_string());

    let replayed = exchange(good).await.unwrap();
    assert!(problem(replayed, 401).await["detail"].as_str().unwrap().contains("used before"));

    let elsewhere = exchange(assertion("https://other-server.example/token", 60)).await.unwrap();
    assert_eq!(problem(elsewhere, 401).await["error"], "invalid_client");

    let long_lived = exchange(assertion(&app.url("/v1/oauth/token"), 3600)).await.unwrap();
    assert!(problem(long_lived, 401).await["detail"].as_str().unwrap().contains("too far ahead"));

    let forged_by_stranger = {
        let stranger = keys::generate(time::OffsetDateTime::now_utc());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({"iss": client_id, "sub": client_id, "aud": app.url("/v1/oauth/token"), "exp": now + 60,
            "jti": uuid::Uuid::new_v4()});
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(client_key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(stranger.private_key_pem.as_bytes()).unwrap())
            .unwrap()
    };
    assert_eq!(problem(exchange(forged_by_stranger).await.unwrap(), 401).await["error"], "invalid_client");

    // The client revokes its own token, authenticating with an assertion.
    let token = token["access_token"].as_str().unwrap().to_owned();
    let revoke = app
        .http
        .post(app.url("/v1/oauth/revoke"))
        .form(&[
            ("token", token.as_str()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion(&app.url("/v1/oauth/token"), 60).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(app.http.get(app.url("/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 401);

    // Its admin replaces its keys: assertions signed with the old key stop working, the new key's work.
    let new_key = keys::generate(time::OffsetDateTime::now_utc());
    let admin = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let replaced = app
        .http
        .put(app.url(&format!("/v1/organisations/{}/api-clients/{client_id}/jwks", demo.organisation_id)))
        .bearer_auth(&admin)
        .json(&json!({"jwks": {"keys": [serde_json::from_str::<Value>(&new_key.public_jwk).unwrap()]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200, "{}", replaced.text().await.unwrap());
    let old_key = exchange(assertion(&app.url("/v1/oauth/token"), 60)).await.unwrap();
    assert_eq!(old_key.status(), 401, "the old key no longer authenticates");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iss": client_id, "sub": client_id, "aud": app.url("/v1/oauth/token"), "exp": now + 60, "jti": uuid::Uuid::new_v4()});
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(new_key.kid.clone());
    let with_new =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(new_key.private_key_pem.as_bytes()).unwrap())
            .unwrap();
    assert_eq!(exchange(with_new).await.unwrap().status(), 200);

    // A client with a secret rather than keys, within the admin's reach (the demo's own submits, which the
    // admin cannot).
    let secret_client_id = app.api_client(demo.organisation_id, "viewer", "org:read", "pas_rota").await;
    let secret_client = app
        .http
        .put(app.url(&format!("/v1/organisations/{}/api-clients/{}/jwks", demo.organisation_id, secret_client_id)))
        .bearer_auth(&admin)
        .json(&json!({"jwks": {"keys": [serde_json::from_str::<Value>(&new_key.public_jwk).unwrap()]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(secret_client, 409).await["code"], "not_a_key_client");
}

#[tokio::test]
async fn the_sdk_fetches_a_new_token_and_retries_once_when_its_token_is_refused() {
    use progenitor_client::ClientInfo;
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let sdk = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    sdk.get_me().send().await.unwrap();
    let cached = sdk.inner().cached_token().await.expect("a cached token");

    let revoked = app
        .http
        .post(app.url("/v1/oauth/revoke"))
        .basic_auth(demo.client_id.to_string(), Some(&demo.client_secret))
        .form(&[("token", cached.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    // Every call retries once with a new token after a 401; the caller never sees the revocation.
    let retried = sdk.get_me().send().await.unwrap();
    assert_eq!(retried.into_inner().id, demo.client_id);
    assert_ne!(sdk.inner().cached_token().await.unwrap(), cached, "a new token was fetched");
}

#[tokio::test]
async fn after_a_key_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let before = app.client_token(demo.client_id, &demo.client_secret).await;
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();

    // Another node (or `provider-api rotate-keys`) rotates the key in the shared database.
    let new_kid = keys::KeyRing::rotate(app.store.as_ref(), time::OffsetDateTime::now_utc()).await.unwrap();
    // A token signed with the new key makes this node look again (at most every few seconds).
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    let id = demo.client_id.to_string();
    let signed_by_new = signed_by_server(&app, &claims(&app, &id)).await;
    let response = app.http.get(app.url("/v1/me")).bearer_auth(&signed_by_new).send().await.unwrap();
    assert_eq!(response.status(), 200, "the new key is picked up without a restart");

    let old = app.http.get(app.url("/v1/me")).bearer_auth(&before).send().await.unwrap();
    assert_eq!(old.status(), 200, "tokens signed with the retired key stay valid until they expire");
    let after = app.client_token(demo.client_id, &demo.client_secret).await;
    assert_eq!(jsonwebtoken::decode_header(&after).unwrap().kid.as_deref(), Some(new_kid.as_str()));
    let published: Vec<String> =
        app.client.get_jwks().send().await.unwrap().into_inner().keys.into_iter().map(|k| k.kid).collect();
    assert!(published.contains(&old_kid) && published.contains(&new_kid), "{published:?}");
}
