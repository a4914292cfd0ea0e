//! The audit trail: every state change, sign-in and staff read is on record with who, what, which object,
//! when and the request id; nothing in the API changes an entry; and tampering with the database directly is
//! caught by the hash chain.

use std::collections::BTreeSet;

use provider_api_core::capability::StaffRole;
use provider_api_sdk::types::AuditPage;
use provider_api_tests::TestApp;
use provider_api_tests::forms::valid;
use serde_json::json;
use sqlx::Connection;
use uuid::Uuid;

async fn staff_token(app: &TestApp, roles: &[StaffRole]) -> (Uuid, String) {
    let email = format!("auditor.{}@cqc.example", Uuid::new_v4().simple());
    let roles: BTreeSet<StaffRole> = roles.iter().copied().collect();
    let user = provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        &email,
        "Au Ditor",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    (user.id, app.sign_in(&email, "correct horse battery").await.access_token)
}

async fn trail(app: &TestApp, token: &str, query: &str) -> AuditPage {
    let response = app.http.get(app.url(&format!("/v1/admin/audit?{query}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

#[tokio::test]
async fn changes_sign_ins_and_staff_reads_are_recorded_with_who_what_when_and_the_request() {
    // The trail is paged two entries at a time below: a workload for the reader, not the rate limiter.
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_per_principal = std::num::NonZeroU32::new(100_000).unwrap();
    })
    .await;
    let demo = app.demo().await;
    let (auditor, token) = staff_token(&app, &[StaffRole::StaffAdmin, StaffRole::StaffTriage]).await;

    // Software submits a notification, naming its request.
    let software = app.client_token(demo.client_id, &demo.client_secret).await;
    let created = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id)))
        .bearer_auth(&software)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .header("x-request-id", "audit-test-42")
        .json(&json!({"location_id": demo.location_id, "content": valid("serious_injury")}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    // A read of the organisation's own list is not a change, and is not recorded.
    let listed = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/notifications", demo.organisation_id)))
        .bearer_auth(&software)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    let ours = trail(&app, &token, &format!("organisation_id={}", demo.organisation_id)).await;
    let actions: Vec<&str> = ours.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["submit_new_notification"], "one change, no reads");
    let entry = &ours.items[0];
    assert_eq!(entry.actor_client, Some(demo.client_id));
    assert_eq!(entry.actor_user, None);
    assert_eq!(entry.object, location, "a creation's object is the new notification");
    assert_eq!(entry.request_id.as_deref(), Some("audit-test-42"));
    assert_eq!(entry.status, 201);
    assert!(entry.detail.as_deref().unwrap_or_default().contains("127.0.0.1"), "the client address is kept");

    // Sign-ins are recorded whether they succeed or not; a staff read of content is recorded.
    let drafter = &demo.users[1];
    app.sign_in(&drafter.email, &drafter.password).await;
    // A wrong password through a registered application: refused only after the password was checked.
    let redirect = "https://wrong-password.example/cb";
    let app_id = app.integrator_app(redirect, "org:read", None).await.to_string();
    let request = provider_api_sdk::auth::authorization_url(&app.base_url, &app_id, redirect, &[]).unwrap();
    let wrong = app.submit_sign_in(&request, &drafter.email, "not the password").await;
    assert_eq!(provider_api_tests::problem(wrong, 401).await["code"], "invalid_credentials");
    let notification_id = location.rsplit('/').next().unwrap();
    let read = app.http.get(app.url(&format!("/v1/admin/notifications/{notification_id}"))).bearer_auth(&token).send();
    assert_eq!(read.await.unwrap().status(), 200);

    let sign_ins = trail(&app, &token, "action=submit_authorization_page").await;
    let drafter_id = app
        .store
        .user_by_email(&provider_api_core::accounts::normalise_email(&drafter.email))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(sign_ins.items.iter().any(|e| e.status == 303 && e.actor_user == Some(drafter_id)), "{sign_ins:?}");
    let failed: Vec<_> = sign_ins.items.iter().filter(|e| e.status == 401).collect();
    assert_eq!(failed.len(), 1, "the failed sign-in, and only it: {sign_ins:?}");
    assert_eq!(failed[0].actor_user, None, "a failed sign-in proves nobody's identity");
    assert_eq!(failed[0].actor_client.map(|c| c.to_string()), Some(app_id), "the application is recorded");
    let reads = trail(&app, &token, &format!("actor={auditor}&action=staff_get_notification")).await;
    assert_eq!(reads.items.len(), 1);
    assert_eq!(reads.items[0].object, format!("/v1/admin/notifications/{notification_id}"));

    // Reading the trail is on the trail; pages follow the chain without gaps.
    let all = trail(&app, &token, "limit=500").await;
    assert!(all.items.iter().any(|e| e.action == "list_audit_entries"));
    // (Each page read is itself recorded, so read up to where the trail stood, not until it runs out.)
    let last = all.items.last().unwrap().seq;
    let mut seen = Vec::new();
    let mut after = 0;
    while after < last {
        let page = trail(&app, &token, &format!("after={after}&limit=2")).await;
        seen.extend(page.items.iter().map(|e| e.seq).filter(|seq| *seq <= last));
        after = page.next;
    }
    assert_eq!(seen, (1..=last).collect::<Vec<_>>());
    let chain = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    assert_eq!(chain.first_broken, None);
    assert!(chain.entries >= 5);

    // Only staff admins read it.
    let (_, triage_only) = staff_token(&app, &[StaffRole::StaffTriage]).await;
    let refused = app.http.get(app.url("/v1/admin/audit")).bearer_auth(&triage_only).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

/// Runs SQL on the test's database directly, as someone with access to the database server could.
async fn sql(app: &TestApp, statements: &str) -> Result<(), sqlx::Error> {
    if app.database.is_postgres() {
        let mut connection = sqlx::PgConnection::connect(app.database.url()).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned())).execute(&mut connection).await.map(drop)
    } else {
        let mut connection = sqlx::SqliteConnection::connect(app.database.url()).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements.to_owned())).execute(&mut connection).await.map(drop)
    }
}

#[tokio::test]
async fn an_entry_changed_or_removed_in_the_database_breaks_the_chain_where_it_happened() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.client_token(demo.client_id, &demo.client_secret).await;
    for _ in 0..4 {
        let response = app
            .http
            .post(app.url(&format!("/v1/organisations/{}/notification-submissions", demo.organisation_id)))
            .bearer_auth(&software)
            .header("idempotency-key", Uuid::new_v4().to_string())
            .json(&json!({"location_id": demo.location_id, "content": valid("abuse")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let entries = app.store.audit_entries(&Default::default(), 0, 100).await.unwrap();
    let third = entries[2].clone();
    let before = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    assert_eq!(before.first_broken, None);
    assert!(before.entries >= 5, "{before:?}");

    // The database itself refuses changes and deletions.
    assert!(sql(&app, "UPDATE audit_log SET status = 200 WHERE seq = 3").await.is_err());
    assert!(sql(&app, "DELETE FROM audit_log WHERE seq = 3").await.is_err());

    // Someone who can switch that guard off changes an entry: verify names it.
    let unguard = if app.database.is_postgres() {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
    };
    sql(&app, unguard).await.unwrap();
    sql(&app, "UPDATE audit_log SET action = 'discard_notification' WHERE seq = 3").await.unwrap();
    let edited = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    assert_eq!(edited.first_broken.as_ref().map(|(seq, _)| *seq), Some(3), "{edited:?}");
    assert_eq!(edited.entries, 2, "the two entries before it still hold");

    // Recomputing that entry's own hash does not hide it: the next entry's link then breaks.
    let forged = provider_api_core::audit::entry_hash(
        3,
        &third.prev_hash,
        &provider_api_core::audit::NewEntry {
            action: "discard_notification".into(),
            ..provider_api_core::audit::NewEntry {
                id: third.id,
                at: third.at.clone(),
                actor_user: third.actor_user,
                actor_client: third.actor_client,
                action: third.action.clone(),
                method: third.method.clone(),
                object: third.object.clone(),
                organisation_id: third.organisation_id,
                request_id: third.request_id.clone(),
                status: third.status,
                detail: third.detail.clone(),
            }
        },
    );
    sql(&app, &format!("UPDATE audit_log SET hash = '{forged}' WHERE seq = 3")).await.unwrap();
    let rehashed = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    assert_eq!(rehashed.first_broken.as_ref().map(|(seq, _)| *seq), Some(4), "{rehashed:?}");

    // Removing an entry is caught too.
    sql(&app, &format!("UPDATE audit_log SET action = '{}', hash = '{}' WHERE seq = 3", third.action, third.hash))
        .await
        .unwrap();
    assert_eq!(provider_api_http::audit::verify(app.store.as_ref()).await.unwrap().first_broken, None, "restored");
    // Removing the newest entries leaves an intact, shorter chain: only a head recorded elsewhere shows it.
    let whole = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    let head = provider_api_http::audit::head(app.store.as_ref(), whole.entries).await.unwrap();
    let (seq, hash) = head.split_once(':').unwrap();
    let seq: i64 = seq.parse().unwrap();
    assert!(provider_api_http::audit::holds_head(app.store.as_ref(), seq, hash).await.unwrap());
    sql(&app, &format!("DELETE FROM audit_log WHERE seq = {seq}")).await.unwrap();
    assert_eq!(provider_api_http::audit::verify(app.store.as_ref()).await.unwrap().first_broken, None, "still intact");
    assert!(!provider_api_http::audit::holds_head(app.store.as_ref(), seq, hash).await.unwrap(), "the head is gone");

    sql(&app, "DELETE FROM audit_log WHERE seq = 2").await.unwrap();
    let removed = provider_api_http::audit::verify(app.store.as_ref()).await.unwrap();
    assert_eq!(removed.first_broken.as_ref().map(|(seq, _)| *seq), Some(3), "{removed:?}");
}
