//! Statutory notifications through the SDK: every type, field-by-field validation agreeing with the
//! published schemas, shared drafts with If-Match, four eyes, idempotent receipts that verify against the
//! JWKS, organisation boundaries, and the regulator's triage.

use std::collections::BTreeSet;

use provider_api_sdk::types::{
    NewClosure, NewInformationRequest, NewNotification, NewResponse, NotificationContent, NotificationPatch,
    NotificationSubmission, NotificationView, Outcome, Status,
};
use provider_api_sdk::{Client, ProblemExt, idempotent};
use provider_api_tests::forms::{TYPES, valid};
use provider_api_tests::{TestApp, problem};
use serde_json::{Value, json};
use uuid::Uuid;

fn submission(location: Uuid, form: Value, follows: Option<Uuid>) -> NotificationSubmission {
    NotificationSubmission {
        location_id: Some(location),
        follows_id: follows,
        content: serde_json::from_value::<NotificationContent>(form).expect("the SDK's typed form reads the example"),
        attachments: Vec::new(),
    }
}

fn draft(location: Option<Uuid>, form: Value) -> NewNotification {
    NewNotification {
        location_id: location,
        follows_id: None,
        content: serde_json::from_value(form).unwrap(),
        attachments: Vec::new(),
    }
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

async fn submit_new(client: &Client, organisation: Uuid, body: NotificationSubmission) -> NotificationView {
    idempotent::with_key(|key| {
        client.submit_new_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
    })
    .await
    .unwrap_or_else(|e| panic!("submission refused: {e:?}"))
    .into_inner()
}

async fn create_draft(client: &Client, organisation: Uuid, body: NewNotification) -> NotificationView {
    idempotent::with_key(|key| {
        client.create_notification().organisation_id(organisation).idempotency_key(key).body(body.clone()).send()
    })
    .await
    .unwrap_or_else(|e| panic!("draft refused: {e:?}"))
    .into_inner()
}

async fn staff(app: &TestApp) -> Client {
    app.triage_staff().await
}

#[tokio::test]
async fn every_types_published_example_is_accepted_and_its_published_schema_agrees() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let types = software.list_notification_types().send().await.unwrap().into_inner();
    assert_eq!(types.items.len(), TYPES.len());

    let mut earlier = std::collections::HashMap::new();
    for kind in TYPES {
        let published = types.items.iter().find(|t| t.type_.to_string() == kind).expect("the type is listed");
        let schema = serde_json::to_value(&published.schema).unwrap();
        let offline = jsonschema::validator_for(&schema).expect("the published schema compiles");
        // The published example is the form sent below: a live server accepts what the documents show.
        let example = schema["examples"][0].clone();
        assert_eq!(example, valid(kind), "{kind}: the published example is the tests' valid form");
        assert!(offline.is_valid(&example), "{kind}: the published schema refuses its own example");
        // How it is asked comes with it, as served: the pages, and the core's presentation of them.
        let kind_value: provider_api_core::notifications::NotificationType = kind.parse().unwrap();
        assert_eq!(schema["x-pages"], kind_value.json_schema()["x-pages"], "{kind}");
        assert!(schema["x-pages"].as_array().is_some_and(|pages| !pages.is_empty()), "{kind}: no pages");

        let follows = match kind {
            "detained_patient_return" => Some(earlier["detained_patient_absence"]),
            "manager_return" => Some(earlier["manager_absence"]),
            _ => None,
        };
        let notification =
            submit_new(&software, demo.organisation_id, submission(demo.location_id, example, follows)).await;
        assert_eq!(notification.status, Status::Submitted, "{kind}");
        let receipt = notification.receipt.expect("a receipt");
        assert_eq!(i64::from(receipt.schema_version), i64::from(published.schema_version));
        earlier.insert(kind, notification.id);
    }
}

#[tokio::test]
async fn every_required_field_is_named_when_missing_and_the_published_schema_says_the_same() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let types: Value = app.http.get(app.url("/v1/notification-types")).send().await.unwrap().json().await.unwrap();
    for kind in TYPES {
        let schema = &types["items"].as_array().unwrap().iter().find(|t| t["type"] == kind).unwrap()["schema"];
        let offline = jsonschema::validator_for(schema).unwrap();
        for field in schema["required"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()) {
            if field == "type" {
                continue;
            }
            let mut form = valid(kind);
            form.as_object_mut().unwrap().remove(field);
            assert!(!offline.is_valid(&form), "{kind} without {field}: the schema should refuse it");
            let response = app
                .http
                .post(app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id)))
                .bearer_auth(&token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .json(&json!({"location_id": demo.location_id, "content": form}))
                .send()
                .await
                .unwrap();
            let body = problem(response, 422).await;
            let pointer = format!("/content/{field}");
            assert!(
                body["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == pointer && e["code"] == "required"),
                "{kind} without {field}: {body}"
            );
        }
    }
    let listed = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/notifications", demo.organisation_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["items"], json!([]), "nothing refused was stored");
}

#[tokio::test]
async fn bad_values_are_each_reported_with_a_pointer_all_at_once() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let mut form = valid("death");
    form["died_at"] = json!("2099-01-01T00:00:00Z");
    form["person"]["nhs_number"] = json!("9434765918");
    form["person"]["identifier"] = json!("Jane Smith");
    form["person"]["age_band"] = json!("stillborn");
    form["place"] = json!("garden");
    form["favourite_colour"] = json!("blue");
    form["reporter"]["contact"]["email"] = json!("not an email");
    form["reporter"]["regulated_activities"] = json!(["personal_care", "juggling"]);
    form["circumstances"] = json!("x".repeat(50_001));

    let response = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id)))
        .bearer_auth(&token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({"location_id": demo.location_id, "content": form}))
        .send()
        .await
        .unwrap();

    let body = problem(response, 422).await;
    let found: BTreeSet<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    for (pointer, code) in [
        ("/content/died_at", "in_future"),
        ("/content/person/nhs_number", "nhs_number_check_digit"),
        ("/content/person/identifier", "identifier_format"),
        ("/content/person/age_band", "not_allowed"),
        ("/content/place", "not_allowed"),
        ("/content/favourite_colour", "unknown_field"),
        ("/content/reporter/contact/email", "email_format"),
        ("/content/reporter/regulated_activities/1", "unknown_activity"),
        ("/content/circumstances", "too_long"),
    ] {
        assert!(found.contains(&(pointer.to_owned(), code.to_owned())), "{pointer} {code} missing from {found:?}");
    }
}

#[tokio::test]
async fn colleagues_share_a_draft_and_a_stale_if_match_loses() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let started = create_draft(
        &drafter,
        demo.organisation_id,
        draft(Some(demo.location_id), json!({"type": "serious_injury", "description": "Fell."})),
    )
    .await;
    assert_eq!((started.status, started.version), (Status::Draft, 1));

    let edit = |text: &str| {
        let mut content = serde_json::Map::new();
        content.insert("description".into(), json!(text));
        NotificationPatch { content, follows_id: None, location_id: None, attachments: None }
    };
    let read = |c: Client| async move {
        c.get_notification().organisation_id(demo.organisation_id).notification_id(started.id).send().await
    };
    let seen_by_submitter = read(submitter.clone()).await.unwrap();
    assert_eq!(seen_by_submitter.headers()["etag"], "\"1\"");

    let drafted = drafter
        .update_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(1))
        .body(edit("Fell in the lounge."))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(drafted.version, 2);
    let lost = submitter
        .update_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(1))
        .body(edit("Tripped."))
        .send()
        .await
        .unwrap_err();
    assert_eq!(lost.http_status(), Some(412));
    assert_eq!(lost.problem().unwrap().code, "stale");

    let token = app.sign_in(&demo.users[2].email, &demo.users[2].password).await.access_token;
    let unconditional = app
        .http
        .patch(app.url(&format!("/v1/organisations/{}/notifications/{}", demo.organisation_id, started.id)))
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"content": {"description": "Overwrite"}}"#)
        .send()
        .await
        .unwrap();
    problem(unconditional, 428).await;

    let now = read(drafter.clone()).await.unwrap().into_inner();
    assert_eq!(now.content.get("description"), Some(&json!("Fell in the lounge.")), "the losing edits changed nothing");
    let history = drafter
        .notification_history()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let actions: Vec<String> = history.items.iter().map(|e| e.action.to_string()).collect();
    assert_eq!(actions, ["created", "edited"]);
    assert_eq!(history.items[1].fields, ["/content/description"]);
}

#[tokio::test]
async fn four_eyes_needs_a_second_person_and_validate_lists_everything_missing() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let started = create_draft(
        &submitter,
        demo.organisation_id,
        draft(Some(demo.location_id), json!({"type": "serious_injury", "description": "Fell."})),
    )
    .await;

    let incomplete = submitter
        .validate_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .send()
        .await
        .unwrap_err();
    let missing: BTreeSet<String> = incomplete.problem().unwrap().errors.iter().map(|e| e.pointer.clone()).collect();
    for field in ["reporter", "person", "occurred_at", "categories", "known_to_be_at_risk", "immediate_actions"] {
        assert!(missing.contains(&format!("/content/{field}")), "{field} not reported: {missing:?}");
    }

    // The submitter completes the form; under four eyes they may not also send it.
    let mut complete = valid("serious_injury").as_object().unwrap().clone();
    complete.remove("type");
    let completed = submitter
        .update_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(1))
        .body(NotificationPatch { content: complete, follows_id: None, location_id: None, attachments: None })
        .send()
        .await
        .unwrap()
        .into_inner();
    let submit = |client: &Client, version: i64| {
        let client = client.clone();
        async move {
            idempotent::with_key(|key| {
                client
                    .submit_notification()
                    .organisation_id(demo.organisation_id)
                    .notification_id(started.id)
                    .if_match(etag(version))
                    .idempotency_key(key)
                    .send()
            })
            .await
        }
    };
    let refused = submit(&submitter, completed.version).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(403));
    assert_eq!(refused.problem().unwrap().code, "four_eyes");
    let by_drafter = submit(&drafter, completed.version).await.unwrap_err();
    assert_eq!(by_drafter.http_status(), Some(403), "a drafter cannot submit");
    assert_eq!(by_drafter.problem().unwrap().permission.as_deref(), Some("notifications:submit"));

    // The drafter reviews (edits), and the submitter can then send it.
    let mut tweak = serde_json::Map::new();
    tweak.insert("immediate_actions".into(), json!("Ambulance called; family told."));
    let reviewed = drafter
        .update_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(completed.version))
        .body(NotificationPatch { content: tweak, follows_id: None, location_id: None, attachments: None })
        .send()
        .await
        .unwrap()
        .into_inner();
    let sent = submit(&submitter, reviewed.version).await.unwrap().into_inner();
    assert_eq!(sent.status, Status::Submitted);
    assert!(sent.receipt.is_some());

    let frozen = drafter
        .discard_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(sent.version))
        .send()
        .await
        .unwrap_err();
    assert_eq!(frozen.http_status(), Some(409));
    assert_eq!(frozen.problem().unwrap().current_status.as_deref(), Some("submitted"));
    let mut late = serde_json::Map::new();
    late.insert("description".into(), json!("Changed after sending"));
    let immutable = drafter
        .update_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(started.id)
        .if_match(etag(sent.version))
        .body(NotificationPatch { content: late, follows_id: None, location_id: None, attachments: None })
        .send()
        .await
        .unwrap_err();
    assert_eq!(immutable.http_status(), Some(409), "submitted content is frozen");
}

#[tokio::test]
async fn a_retried_submission_replays_the_receipt_and_a_changed_body_is_refused() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let url = app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id));
    let body = json!({"location_id": demo.location_id, "content": valid("serious_injury")}).to_string();
    let send = |key: &str, body: String| {
        app.http
            .post(&url)
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let first = send("retry-me", body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.unwrap();
    let again = send("retry-me", body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert!(again.headers().contains_key("location"));
    let again_body: Value = again.json().await.unwrap();
    assert_eq!(again_body, first_body, "the same receipt, byte for byte");

    let mut changed: Value = serde_json::from_str(&body).unwrap();
    changed["content"]["description"] = json!("Something else");
    let reused = send("retry-me", changed.to_string()).await.unwrap();
    assert_eq!(problem(reused, 422).await["code"], "idempotency_key_reused");
    let missing = app.http.post(&url).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(problem(missing, 400).await["code"], "idempotency_key_required");

    // A request with the same key still running elsewhere: told to wait, not run twice.
    let now = time::OffsetDateTime::now_utc();
    let operation = format!("submit_new_notification {}", demo.organisation_id);
    let fingerprint = provider_api_http::http::idempotency::fingerprint(&operation, body.as_bytes());
    let scope = format!("client:{}", demo.client_id);
    app.store.begin_idempotent(&scope, "in-flight", &fingerprint, now, now + time::Duration::minutes(1)).await.unwrap();
    let busy = send("in-flight", body.clone()).await.unwrap();
    assert_eq!(problem(busy, 409).await["code"], "idempotency_key_in_flight");

    let listed: Value = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/notifications", demo.organisation_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "one notification, however many tries");
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_notification() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let url = app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id));
    let body = json!({"location_id": demo.location_id, "content": valid("abuse")}).to_string();
    // Spawned, so they really are in flight together.
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(
                app.http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("idempotency-key", "one-key")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send(),
            )
        })
        .collect();
    let mut ids = BTreeSet::new();
    for attempt in attempts {
        let response = attempt.await.unwrap().unwrap();
        match response.status().as_u16() {
            201 => {
                let view: Value = response.json().await.unwrap();
                ids.insert(view["id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(problem(response, 409).await["code"], "idempotency_key_in_flight"),
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the same notification");
    let page = app.store.notifications(&Default::default(), time::OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 100).await;
    assert_eq!(page.unwrap().len(), 1);
}

#[tokio::test]
async fn a_receipt_verifies_offline_against_the_published_keys() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let sent =
        submit_new(&software, demo.organisation_id, submission(demo.location_id, valid("police_incident"), None)).await;
    let receipt = sent.receipt.unwrap();

    let jwks: jsonwebtoken::jwk::JwkSet =
        app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(&receipt.jws).unwrap();
    assert_eq!(header.typ.as_deref(), Some("notification-receipt+jwt"));
    assert!(jwks.find(header.kid.as_deref().unwrap()).is_some(), "the signing key is published");
    // Receipts outlive access tokens: the receipt keys hold every key that ever signed, this one included.
    let receipt_keys: jsonwebtoken::jwk::JwkSet =
        app.http.get(app.url("/.well-known/receipt-keys.json")).send().await.unwrap().json().await.unwrap();
    assert!(receipt_keys.find(header.kid.as_deref().unwrap()).is_some(), "the receipt key is kept");
    // The SDK's helper checks typ, key id and the ES256 signature, with the keys it fetches or a stored copy.
    let fetched = provider_api_sdk::receipt::fetch_keys(&software).await.unwrap();
    assert_eq!(fetched.keys.len(), receipt_keys.keys.len());
    let verified = provider_api_sdk::receipt::verify(&receipt.jws, &fetched).unwrap();
    assert_eq!(verified.typ, provider_api_sdk::receipt::NOTIFICATION_RECEIPT);
    let claims = verified.claims;
    assert_eq!(claims["reference"], json!(receipt.reference));
    assert_eq!(claims["sub"], json!(sent.id));
    assert_eq!(claims["content_sha256"], json!(receipt.content_sha256));
    assert_eq!(claims["schema_version"], json!(receipt.schema_version));

    // The hash is of the canonical content (and attachments): recompute it from what the API returns.
    let content = Value::Object(sent.content.0.clone());
    let recomputed = provider_api_core::receipt::content_sha256(&json!({"attachments": [], "content": content}));
    assert_eq!(recomputed, *receipt.content_sha256);
    let tampered = format!("{}x", &receipt.jws[..receipt.jws.len() - 1]);
    let refused = provider_api_sdk::receipt::verify(&tampered, &receipt_keys).unwrap_err();
    assert!(matches!(refused, provider_api_sdk::receipt::ReceiptError::BadSignature), "{refused}");
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let not_a_receipt = provider_api_sdk::receipt::verify(&token, &receipt_keys).unwrap_err();
    assert!(matches!(not_a_receipt, provider_api_sdk::receipt::ReceiptError::NotAReceipt(_)), "an access token");
}

#[tokio::test]
async fn another_organisation_sees_nothing() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let other = app.demo().await;
    let ours = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let theirs = app.sdk_for_client(other.client_id, &other.client_secret, &[]);
    let sent =
        submit_new(&ours, demo.organisation_id, submission(demo.location_id, valid("serious_injury"), None)).await;

    for organisation in [demo.organisation_id, other.organisation_id] {
        let read = theirs.get_notification().organisation_id(organisation).notification_id(sent.id).send().await;
        assert_eq!(read.unwrap_err().http_status(), Some(404), "via {organisation}");
        let history = theirs.notification_history().organisation_id(organisation).notification_id(sent.id).send().await;
        assert_eq!(history.unwrap_err().http_status(), Some(404));
    }
    let listed = theirs.list_notifications().organisation_id(other.organisation_id).send().await.unwrap();
    assert!(listed.into_inner().items.is_empty());
    // Nor can they name our location.
    let refused = idempotent::with_key(|key| {
        theirs
            .submit_new_notification()
            .organisation_id(other.organisation_id)
            .idempotency_key(key)
            .body(submission(demo.location_id, valid("serious_injury"), None))
            .send()
    })
    .await
    .unwrap_err();
    assert_eq!(refused.http_status(), Some(422));
    assert_eq!(refused.problem().unwrap().errors[0].code, "unknown_location");
}

#[tokio::test]
async fn staff_triage_round_trip() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let triage = staff(&app).await;
    let sent = submit_new(&software, demo.organisation_id, submission(demo.location_id, valid("abuse"), None)).await;
    let draft_only =
        create_draft(&software, demo.organisation_id, draft(Some(demo.location_id), json!({"type": "death"}))).await;

    let queue = triage.triage_queue().send().await.unwrap().into_inner();
    let queued: Vec<Uuid> = queue.items.iter().map(|n| n.id).collect();
    assert!(queued.contains(&sent.id));
    assert!(!queued.contains(&draft_only.id), "drafts are the provider's alone");
    assert!(
        queue.items.iter().all(|n| n.provider_reference.is_none()),
        "the provider's reference is content: staff read it where the read is recorded"
    );
    let hidden = triage.staff_get_notification().notification_id(draft_only.id).send().await.unwrap_err();
    assert_eq!(hidden.http_status(), Some(404));
    assert_eq!(triage.notification_counts().send().await.unwrap().into_inner().submitted, 1);

    let read = triage.staff_get_notification().notification_id(sent.id).send().await.unwrap().into_inner();
    assert_eq!(read.content, sent.content);
    triage.acknowledge_notification().notification_id(sent.id).send().await.unwrap();
    let again = triage.acknowledge_notification().notification_id(sent.id).send().await.unwrap_err();
    assert_eq!(again.http_status(), Some(409));
    assert_eq!(again.problem().unwrap().current_status.as_deref(), Some("acknowledged"));
    triage
        .request_information()
        .notification_id(sent.id)
        .body(
            NewInformationRequest::builder()
                .message("Which staff member was involved?")
                .due_on(serde_json::from_value::<chrono::NaiveDate>(json!("2099-01-31")).unwrap()),
        )
        .send()
        .await
        .unwrap();

    let seen = submitter
        .get_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(sent.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.status, Status::InformationRequested);
    assert_eq!(seen.information_request.unwrap().message, "Which staff member was involved?");
    submitter
        .respond_to_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(sent.id)
        .body(NewResponse::builder().message("A night care assistant, now suspended."))
        .send()
        .await
        .unwrap();
    let closed = triage
        .close_notification()
        .notification_id(sent.id)
        .body(
            NewClosure::builder()
                .outcome(Outcome::ReferredToSafeguarding)
                .note(Some("Passed to the local authority.".parse().unwrap())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.status, Status::Closed);

    let history = submitter
        .notification_history()
        .organisation_id(demo.organisation_id)
        .notification_id(sent.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let actions: Vec<String> = history.items.iter().map(|e| e.action.to_string()).collect();
    assert_eq!(
        actions,
        ["created", "submitted", "viewed_by_staff", "acknowledged", "information_requested", "responded", "closed"]
    );
    let staff_read = &history.items[2];
    assert!(staff_read.by.as_ref().unwrap().user_id.is_some(), "who looked is recorded");
}

#[tokio::test]
async fn lists_filter_and_page_and_location_limits_hide_other_locations() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    for kind in ["serious_injury", "abuse", "serious_injury"] {
        submit_new(&software, demo.organisation_id, submission(demo.location_id, valid(kind), None)).await;
    }
    create_draft(&software, demo.organisation_id, draft(Some(demo.location_id), json!({"type": "death"}))).await;

    let first = software.list_notifications().organisation_id(demo.organisation_id).limit(3).send().await.unwrap();
    let first = first.into_inner();
    assert_eq!(first.items.len(), 3);
    let rest = software
        .list_notifications()
        .organisation_id(demo.organisation_id)
        .limit(3)
        .cursor(first.next.clone().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
    let injuries = software
        .list_notifications()
        .organisation_id(demo.organisation_id)
        .type_(provider_api_sdk::types::NotificationType::SeriousInjury)
        .status(Status::Submitted)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(injuries.items.len(), 2);
    let told_apart: Vec<_> = injuries.items.iter().map(|n| n.provider_reference.as_deref()).collect();
    assert_eq!(told_apart, [Some("INC-2026-0042"); 2], "the provider's own reference, and no other content");
    let draft = first.items.iter().chain(&rest.items).find(|n| n.status == Status::Draft).unwrap();
    assert_eq!(draft.provider_reference, None, "a draft without one has none");

    // A drafter limited to another location sees none of these.
    let elsewhere = Uuid::new_v4();
    let location = provider_api_core::accounts::Location {
        id: elsewhere,
        organisation_id: demo.organisation_id,
        location_id: None,
        name: "Annexe".into(),
        address_line_1: "2 Side Street".into(),
        address_line_2: None,
        town: "Leeds".into(),
        postcode: "LS1 1AB".into(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    app.store.create_location(&location).await.unwrap();
    let drafter_id = app
        .store
        .members(demo.organisation_id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.email == demo.users[1].email)
        .unwrap()
        .user_id;
    let mut membership = app.store.membership(drafter_id, demo.organisation_id).await.unwrap().unwrap();
    membership.location_ids = Some([elsewhere].into_iter().collect());
    app.store.put_membership(&membership).await.unwrap();
    let limited = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let mine = limited.list_notifications().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(mine.items.is_empty());
    let read = limited
        .get_notification()
        .organisation_id(demo.organisation_id)
        .notification_id(first.items[0].id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(read.http_status(), Some(404));
}

#[tokio::test]
async fn attached_documents_are_frozen_on_submission_and_covered_by_the_receipt() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let other = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let theirs = app.sdk_for_client(other.client_id, &other.client_secret, &[]);
    let evidence = provider_api_sdk::upload::upload_document(
        &software,
        demo.organisation_id,
        "falls-log.txt",
        "text/plain",
        "Falls log, November: one fall, 20th, lounge.",
    )
    .await
    .unwrap();
    let foreign = provider_api_sdk::upload::upload_document(
        &theirs,
        other.organisation_id,
        "theirs.txt",
        "text/plain",
        "not yours",
    )
    .await
    .unwrap();
    let attach = |id: Uuid| provider_api_sdk::types::NewAttachment {
        document_id: id,
        purpose: provider_api_sdk::types::AttachmentPurpose::Evidence,
    };

    let mut refused_body = submission(demo.location_id, valid("serious_injury"), None);
    refused_body.attachments = vec![attach(foreign.id)];
    let refused = idempotent::with_key(|key| {
        software
            .submit_new_notification()
            .organisation_id(demo.organisation_id)
            .idempotency_key(key)
            .body(refused_body.clone())
            .send()
    })
    .await
    .unwrap_err();
    assert_eq!(refused.http_status(), Some(404), "another organisation's document cannot be attached");

    let mut body = submission(demo.location_id, valid("serious_injury"), None);
    body.attachments = vec![attach(evidence.id)];
    let sent = submit_new(&software, demo.organisation_id, body).await;
    assert_eq!(sent.attachments.len(), 1);
    let sha256 = sent.attachments[0].sha256.as_deref().expect("the document's hash is recorded").to_owned();
    assert_eq!(sha256, evidence.sha256.to_string());
    let receipt = sent.receipt.unwrap();
    let covered = json!({"attachments": [{"document_id": evidence.id, "purpose": "evidence", "sha256": sha256}],
                         "content": Value::Object(sent.content.0.clone())});
    assert_eq!(provider_api_core::receipt::content_sha256(&covered), *receipt.content_sha256);

    let delete = software.delete_document().organisation_id(demo.organisation_id).document_id(evidence.id).send().await;
    assert_eq!(delete.unwrap_err().http_status(), Some(409), "a sent notification's documents stay");
}

#[tokio::test]
async fn a_drafts_attachments_are_replaced_kept_when_left_out_and_can_all_be_removed() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let draft = app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    let evidence =
        provider_api_sdk::upload::upload_document(&software, demo.organisation_id, "log.txt", "text/plain", "A log.")
            .await
            .unwrap();
    let attach = provider_api_sdk::types::NewAttachment {
        document_id: evidence.id,
        purpose: provider_api_sdk::types::AttachmentPurpose::Evidence,
    };
    let patch = |attachments: Option<Vec<provider_api_sdk::types::NewAttachment>>| {
        let software = software.clone();
        async move {
            let get = software.get_notification().organisation_id(demo.organisation_id).notification_id(draft);
            let version = format!("\"{}\"", get.send().await.unwrap().version);
            let content = json!({"reporter": {"provider_reference": "INC-7"}}).as_object().unwrap().clone();
            let body = NotificationPatch { content, follows_id: None, location_id: None, attachments };
            let update = software.update_notification().organisation_id(demo.organisation_id).notification_id(draft);
            update.if_match(version).body(body).send().await.unwrap().into_inner().attachments.len()
        }
    };
    assert_eq!(patch(Some(vec![attach.clone()])).await, 1);
    assert_eq!(patch(None).await, 1, "left out: unchanged");
    assert_eq!(patch(Some(Vec::new())).await, 0, "an empty list: none attached");

    // A merge patch's null removes the member: none attached.
    assert_eq!(patch(Some(vec![attach])).await, 1);
    let get = software.get_notification().organisation_id(demo.organisation_id).notification_id(draft);
    let version = get.send().await.unwrap().version;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let url = app.url(&format!("/v1/organisations/{}/notifications/{draft}", demo.organisation_id));
    let response = app
        .http
        .patch(url)
        .bearer_auth(token)
        .header("if-match", format!("\"{version}\""))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"attachments": null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["attachments"], json!([]));
}
