//! Every error is `application/problem+json`, including those axum and the middleware produce themselves.

use std::sync::Arc;

use provider_api_core::clock::ManualClock;
use provider_api_tests::{TestApp, problem};
use serde_json::json;
use time::OffsetDateTime;

const VALIDATE: &str = "/v1/identifiers/validate";

#[tokio::test]
async fn malformed_json_is_400_and_says_where() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .post(app.url(VALIDATE))
        .header("content-type", "application/json")
        .body(r#"{"postcode": "SW1A 1AA""#)
        .send()
        .await
        .unwrap();

    let body = problem(response, 400).await;
    assert_eq!(body["code"], "malformed_json");
    assert!(body["detail"].as_str().unwrap().contains("line 1"), "{body}");
    assert_eq!(body["instance"], VALIDATE);
}

#[tokio::test]
async fn an_unknown_route_is_404() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/v1/no-such-thing")).send().await.unwrap();

    assert_eq!(problem(response, 404).await["code"], "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;

    let response = app.http.delete(app.url("/v1/reference/regulated-activities")).send().await.unwrap();

    let allow = response.headers().get("allow").expect("Allow header").to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    assert_eq!(problem(response, 405).await["code"], "method_not_allowed");
}

#[tokio::test]
async fn an_oversized_body_is_413_whether_declared_or_streamed() {
    let app = TestApp::spawn_with(|config| config.body_limit = 1024).await;
    let oversized = format!(r#"{{"postcode": "{}"}}"#, "A".repeat(4096));

    let declared = app
        .http
        .post(app.url(VALIDATE))
        .header("content-type", "application/json")
        .body(oversized.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(declared, 413).await["code"], "payload_too_large");

    // Chunked, with no Content-Length: the limit is enforced while the body streams in.
    let chunks = futures_stream(oversized.into_bytes());
    let streamed = app
        .http
        .post(app.url(VALIDATE))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(streamed, 413).await["code"], "payload_too_large");
}

fn futures_stream(bytes: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(512).map(|c| Ok(c.to_vec())).collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;

    let response =
        app.http.post(app.url(VALIDATE)).header("content-type", "text/plain").body("SW1A 1AA").send().await.unwrap();

    assert_eq!(problem(response, 415).await["code"], "unsupported_media_type");
}

#[tokio::test]
async fn unknown_and_mistyped_fields_are_refused_with_pointers() {
    let app = TestApp::spawn().await;

    let unknown = app
        .http
        .post(app.url(VALIDATE))
        .json(&json!({"postcode": "SW1A 1AA", "surname": "Smith"}))
        .send()
        .await
        .unwrap();
    let body = problem(unknown, 422).await;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    assert_eq!(body["errors"][0]["pointer"], "/surname");

    let mistyped = app.http.post(app.url(VALIDATE)).json(&json!({"nhs_number": 9434765919u64})).send().await.unwrap();
    let body = problem(mistyped, 422).await;
    assert_eq!(
        body["errors"][0],
        json!({"pointer": "/nhs_number", "code": "invalid_type",
        "detail": "Invalid type: integer `9434765919`, expected a string."})
    );
}

#[tokio::test]
async fn a_refused_request_changes_nothing_and_a_valid_one_after_it_succeeds() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let locations = app.url(&format!("/v1/organisations/{}/locations", demo.organisation_id));
    let listed = || async {
        let response = app.http.get(&locations).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()["items"].as_array().unwrap().clone()
    };
    let before = listed().await;

    // One field wrong (the postcode), everything else valid: nothing of it may be stored.
    let body = |postcode: &str| json!({"name": "Riverside", "address": {"line_1": "3 Quay Road", "town": "Gateshead", "postcode": postcode}});
    let refused = app.http.post(&locations).bearer_auth(&token).json(&body("nowhere")).send().await.unwrap();
    let problem = problem(refused, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/address/postcode");
    assert_eq!(listed().await, before, "the refused request changed nothing");

    let created = app.http.post(&locations).bearer_auth(&token).json(&body("NE8 2AA")).send().await.unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let after = listed().await;
    assert_eq!(after.len(), before.len() + 1, "the valid one after it was stored, once");
    assert!(after.iter().any(|l| l["name"] == "Riverside"));
}

#[tokio::test]
async fn a_sane_request_id_is_echoed_and_an_unsafe_one_replaced() {
    let app = TestApp::spawn().await;

    let echoed = app.http.get(app.url("/healthz")).header("x-request-id", "care-system-42:abc").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "care-system-42:abc");

    let unsafe_id = "x".repeat(500);
    let replaced = app.http.get(app.url("/v1/nope")).header("x-request-id", &unsafe_id).send().await.unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, unsafe_id);
    assert_eq!(problem(replaced, 404).await["request_id"], id.as_str(), "the problem quotes the request id");
}

#[tokio::test]
async fn api_responses_carry_the_security_headers() {
    let app = TestApp::spawn().await;

    let response = app.http.get(app.url("/v1/reference/service-user-bands")).send().await.unwrap();

    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn cross_origin_requests_are_refused_unless_the_origin_is_allowed() {
    let app = TestApp::spawn_with(|config| config.cors_allowed_origins = vec!["https://portal.example".into()]).await;

    let allowed = app.http.get(app.url("/healthz")).header("origin", "https://portal.example").send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://portal.example");

    let other = app.http.get(app.url("/healthz")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn null_is_refused_where_the_published_schema_only_lets_a_field_be_left_out() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let locations = app.url(&format!("/v1/organisations/{}/locations", demo.organisation_id));
    let address = |line_2: serde_json::Value| {
        json!({"name": "Harbour View", "address": {"line_1": "4 Quay Road", "line_2": line_2, "town": "Gateshead",
            "postcode": "NE8 2AA"}})
    };
    let refused = app.http.post(&locations).bearer_auth(&token).json(&address(json!(null))).send().await.unwrap();
    let body = problem(refused, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/address/line_2");
    assert_eq!(body["errors"][0]["code"], "invalid_type");
    let listed: serde_json::Value =
        app.http.get(&locations).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(listed["items"].as_array().unwrap().iter().all(|l| l["name"] != "Harbour View"), "nothing was stored");

    // Where the schema says null means something (a membership for every location), it is taken.
    let drafter = app.store.user_by_email(&provider_api_core::accounts::normalise_email(&demo.users[1].email)).await;
    let drafter = drafter.unwrap().expect("the demo drafter exists").id;
    let updated = app
        .http
        .put(app.url(&format!("/v1/organisations/{}/members/{drafter}", demo.organisation_id)))
        .bearer_auth(&token)
        .json(&json!({"roles": ["drafter"], "location_ids": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200, "{}", updated.text().await.unwrap());
}

#[tokio::test]
async fn if_match_star_and_weak_etags_cannot_stand_in_for_the_etag_read() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let url = app.url(&format!("/v1/organisations/{}", demo.organisation_id));
    let patch = |if_match: &str| {
        app.http
            .patch(&url)
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .header("if-match", if_match)
            .body(r#"{"name": "Renamed Care Ltd"}"#)
            .send()
    };
    let star = problem(patch("*").await.unwrap(), 428).await;
    assert_eq!(star["code"], "if_match_required");
    let weak = problem(patch("W/\"1\"").await.unwrap(), 412).await;
    assert!(weak["detail"].as_str().unwrap().contains("weak"), "{weak}");
    // Something that is not an ETag at all (empty, or unquoted) is a precondition missing, not one that
    // failed: the client is told what an ETag looks like.
    for not_an_etag in ["", "1", "abc"] {
        let refused = problem(patch(not_an_etag).await.unwrap(), 428).await;
        assert_eq!(refused["code"], "if_match_required", "{not_an_etag:?}");
        assert!(refused["detail"].as_str().unwrap().contains("\"3\""), "{refused}");
    }
    // A well-formed ETag that is not this resource's version still just fails to match.
    assert_eq!(patch("\"a\"").await.unwrap().status(), 412);
    let read = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(patch(&etag).await.unwrap().status(), 200, "the ETag as read is taken");
}

/// A newcomer's usual first mistakes each get a message that names the fix.
#[tokio::test]
async fn common_mistakes_are_answered_with_what_to_do() {
    let clock = Arc::new(ManualClock::at(OffsetDateTime::now_utc()));
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let org = |tail: &str| app.url(&format!("/v1/organisations/{}{tail}", demo.organisation_id));
    let mut wrong = Vec::new();
    let mut expect = |what: &str, body: &serde_json::Value, code: &str, says: &str| {
        let detail = body["detail"].as_str().unwrap_or_default();
        if body["code"] != code || !detail.contains(says) {
            wrong.push(format!("{what}: expected {code} saying {says:?}, got {body}"));
        }
    };

    let multipart = app.http.post(org("/documents?filename=care-plan.pdf")).bearer_auth(&token);
    let multipart = multipart.header("content-type", "multipart/form-data; boundary=x").body("--x--").send();
    expect(
        "a multipart upload",
        &problem(multipart.await.unwrap(), 415).await,
        "document_type_not_allowed",
        "not a multipart form",
    );

    let tus = app.http.post(org("/uploads")).bearer_auth(&token).header("tus-resumable", "1.0.0");
    let tus = tus.header("upload-length", "10").header("upload-metadata", "filename Y2FyZS5wZGY=").send();
    expect(
        "a tus upload without filetype",
        &problem(tus.await.unwrap(), 415).await,
        "document_type_not_allowed",
        "Upload-Metadata",
    );

    let named = json!({"location_id": demo.location_id, "content": {"type": "serious_injury",
        "person": {"name": "Mary Smith", "identifier": "RES-1", "age_band": "75-84"}}});
    let draft = app.http.post(org("/notifications")).bearer_auth(&token).header("idempotency-key", "named-1");
    let body = problem(draft.json(&named).send().await.unwrap(), 422).await;
    let about_name = body["errors"].as_array().into_iter().flatten().find(|e| e["pointer"] == "/content/person/name");
    let detail = about_name.and_then(|e| e["detail"].as_str()).unwrap_or_default();
    if !detail.contains("never by name") {
        wrong.push(format!("a person's name: {body}"));
    }

    // The same token a day later: expired, and the answer says how to get another.
    clock.advance(time::Duration::days(1));
    let expired = app.http.get(org("")).bearer_auth(&token).send().await.unwrap();
    let body = problem(expired, 401).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    if body["code"] != "invalid_token" || !detail.contains("has expired") || !detail.contains("/oauth/token") {
        wrong.push(format!("an expired token: {body}"));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
