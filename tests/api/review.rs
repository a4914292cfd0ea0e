//! Four eyes as a review step, through the SDK (docs/review.md): a person with the submitter role approves
//! the exact version they reviewed; the last editor sends only an approved version; an edit clears the
//! approval; software sends on its own only where the organisation allows it.

use provider_api_sdk::types::{
    NotificationPatch, NotificationSubmission, NotificationView, OrganisationChanges, SettingsChanges, Status,
};
use provider_api_sdk::{Client, ProblemExt, idempotent};
use provider_api_tests::forms::valid;
use provider_api_tests::{TestApp, complete_draft};
use serde_json::json;
use uuid::Uuid;

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

async fn approve(
    client: &Client,
    organisation: Uuid,
    id: Uuid,
    version: i64,
) -> Result<NotificationView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    let request = client.approve_notification().organisation_id(organisation).notification_id(id);
    request.if_match(etag(version)).send().await.map(|r| r.into_inner())
}

async fn submit(
    client: &Client,
    organisation: Uuid,
    id: Uuid,
    version: i64,
) -> Result<NotificationView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    idempotent::with_key(|key| {
        let request = client.submit_notification().organisation_id(organisation).notification_id(id);
        request.if_match(etag(version)).idempotency_key(key).send()
    })
    .await
    .map(|r| r.into_inner())
}

async fn edit(client: &Client, organisation: Uuid, id: Uuid, version: i64, text: &str) -> NotificationView {
    let mut content = serde_json::Map::new();
    content.insert("immediate_actions".into(), json!(text));
    let patch = NotificationPatch { content, follows_id: None, location_id: None, attachments: None };
    let request = client.update_notification().organisation_id(organisation).notification_id(id);
    request.if_match(etag(version)).body(patch).send().await.unwrap().into_inner()
}

fn refused_code(error: &provider_api_sdk::Error<provider_api_sdk::types::Problem>) -> (Option<u16>, String) {
    (error.http_status(), error.problem().map(|p| p.code.clone()).unwrap_or_default())
}

#[tokio::test]
async fn a_drafter_drafts_and_a_submitter_approves_and_submits_and_the_record_shows_who_did_what() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;

    let draft = complete_draft(&drafter, org, demo.location_id).await;
    let by_drafter = approve(&drafter, org, draft.id, draft.version).await.unwrap_err();
    assert_eq!(by_drafter.problem().unwrap().permission.as_deref(), Some("notifications:submit"), "a drafter");
    let stale = approve(&submitter, org, draft.id, draft.version + 1).await.unwrap_err();
    assert_eq!(stale.http_status(), Some(412), "only the version reviewed");

    let approved = approve(&submitter, org, draft.id, draft.version).await.unwrap();
    let approval = approved.approval.as_ref().expect("the approval shows");
    assert_eq!(approved.version, draft.version + 1, "approving moves the version");
    assert_eq!(approval.version, approved.version);
    let old_tag = submit(&submitter, org, draft.id, draft.version).await.unwrap_err();
    assert_eq!(old_tag.http_status(), Some(412), "submit names the approved version's ETag");

    let sent = submit(&submitter, org, draft.id, approved.version).await.unwrap();
    assert_eq!(sent.status, Status::Submitted);
    let submitter_id = approval.user_id;
    assert_eq!(sent.approval.as_ref().map(|a| a.user_id), Some(submitter_id), "kept once sent");
    assert_eq!(sent.submitted_by.as_ref().and_then(|b| b.user_id), Some(submitter_id));
    assert_ne!(sent.created_by.as_ref().and_then(|b| b.user_id), Some(submitter_id), "drafted by the drafter");

    let history = drafter.notification_history().organisation_id(org).notification_id(draft.id).send().await.unwrap();
    let steps: Vec<(String, Option<i64>)> = history.items.iter().map(|e| (e.action.to_string(), e.version)).collect();
    assert_eq!(
        steps,
        [("created".into(), None), ("approved".into(), Some(approved.version)), ("submitted".into(), None)]
    );
}

#[tokio::test]
async fn a_submitter_who_edits_cannot_submit_until_another_person_approves_that_version() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let (email, password) = app.member(org, "submitter", None).await;
    let colleague = app.sdk_for_person(&email, &password).await;

    let draft = complete_draft(&drafter, org, demo.location_id).await;
    let fixed = edit(&submitter, org, draft.id, draft.version, "Ambulance called; family told.").await;
    let own_edit = submit(&submitter, org, draft.id, fixed.version).await.unwrap_err();
    assert_eq!(refused_code(&own_edit), (Some(403), "four_eyes".into()));
    assert!(own_edit.problem().unwrap().detail.contains("approves it"), "says what to do: {:?}", own_edit.problem());
    let self_approval = approve(&submitter, org, draft.id, fixed.version).await.unwrap_err();
    assert_eq!(refused_code(&self_approval), (Some(403), "four_eyes".into()), "nobody approves their own edit");

    // Approved, then edited again: the approval was of a version that is gone.
    let approved = approve(&colleague, org, draft.id, fixed.version).await.unwrap();
    let edited = edit(&submitter, org, draft.id, approved.version, "Ambulance called; family and GP told.").await;
    assert!(edited.approval.is_none(), "an edit clears the approval");
    let after_edit = submit(&submitter, org, draft.id, edited.version).await.unwrap_err();
    assert_eq!(refused_code(&after_edit), (Some(403), "four_eyes".into()));

    let approved = approve(&colleague, org, draft.id, edited.version).await.unwrap();
    let sent = submit(&submitter, org, draft.id, approved.version).await.unwrap();
    assert_eq!(sent.status, Status::Submitted);
}

#[tokio::test]
async fn a_one_person_organisation_with_four_eyes_off_submits_what_it_writes() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let (email, password) = app.member(org, "submitter", None).await;
    let alone = app.sdk_for_person(&email, &password).await;
    let in_one_step = || async {
        let body = NotificationSubmission {
            location_id: Some(demo.location_id),
            follows_id: None,
            content: serde_json::from_value(valid("serious_injury")).unwrap(),
            attachments: Vec::new(),
        };
        idempotent::with_key(|key| {
            alone.submit_new_notification().organisation_id(org).idempotency_key(key).body(body.clone()).send()
        })
        .await
    };
    let refused = in_one_step().await.unwrap_err();
    assert_eq!(refused_code(&refused), (Some(403), "four_eyes".into()), "under four eyes, nobody else saw it");

    let off = SettingsChanges::builder().four_eyes(Some(false));
    let changes = OrganisationChanges::builder().settings(Some(off.try_into().unwrap()));
    let request = admin.update_organisation().organisation_id(org).if_match(organisation_etag(&admin, org).await);
    assert!(!request.body(changes).send().await.unwrap().into_inner().settings.four_eyes);

    assert_eq!(in_one_step().await.unwrap().into_inner().status, Status::Submitted);
    let draft = complete_draft(&alone, org, demo.location_id).await;
    assert_eq!(submit(&alone, org, draft.id, draft.version).await.unwrap().status, Status::Submitted);
}

/// The organisation's current `ETag`, for If-Match.
async fn organisation_etag(client: &Client, org: Uuid) -> String {
    let read = client.get_organisation().organisation_id(org).send().await.unwrap();
    read.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn software_sends_on_its_own_only_where_the_organisation_allows_and_only_a_person_decides() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    // Software that holds the admin role too: the setting is still not its to change.
    let scopes = "org:read org:admin notifications:read notifications:write notifications:submit";
    let client_id = app.api_client(org, "admin submitter", scopes, "a-long-enough-client-secret").await;
    let software = app.sdk_for_client(client_id, "a-long-enough-client-secret", &[]);

    let before = complete_draft(&software, org, demo.location_id).await;
    assert_eq!(submit(&software, org, before.id, before.version).await.unwrap().status, Status::Submitted, "default");

    let reviewed = || SettingsChanges::builder().software_submits(Some(false));
    let changes = || OrganisationChanges::builder().settings(Some(reviewed().try_into().unwrap()));
    let tag = organisation_etag(&admin, org).await;
    let by_software = software.update_organisation().organisation_id(org).if_match(tag.clone()).body(changes());
    let by_software = by_software.send().await.unwrap_err();
    assert_eq!(by_software.http_status(), Some(403), "software cannot decide what it may send");
    assert!(by_software.problem().unwrap().detail.contains("Only a person"), "{:?}", by_software.problem());
    // Nor may it turn off the review of what people send.
    let no_review = OrganisationChanges::builder()
        .settings(Some(SettingsChanges::builder().four_eyes(Some(false)).try_into().unwrap()));
    let request = software.update_organisation().organisation_id(org).if_match(tag.clone()).body(no_review);
    let refused = request.send().await.unwrap_err();
    assert_eq!(refused.http_status(), Some(403), "software cannot turn four eyes off");
    let by_admin = admin.update_organisation().organisation_id(org).if_match(tag).body(changes());
    assert!(!by_admin.send().await.unwrap().into_inner().settings.software_submits);

    let draft = complete_draft(&software, org, demo.location_id).await;
    let alone = submit(&software, org, draft.id, draft.version).await.unwrap_err();
    assert_eq!(refused_code(&alone), (Some(403), "four_eyes".into()));
    assert!(alone.problem().unwrap().detail.contains("software does not send on its own"));
    let by_itself = approve(&software, org, draft.id, draft.version).await.unwrap_err();
    assert_eq!(by_itself.http_status(), Some(403), "software does not approve");
    let approved = approve(&submitter, org, draft.id, draft.version).await.unwrap();
    assert_eq!(submit(&software, org, draft.id, approved.version).await.unwrap().status, Status::Submitted);
}

/// Four eyes is on by default, but applies only while two people can submit: a provider whose one submitter
/// is its only reviewer sends its own notifications (a sole trader cannot wait for a second person to report a
/// death), and the rule starts when a second submitter joins. The organisation says which is the case.
#[tokio::test]
async fn four_eyes_applies_only_once_a_second_person_can_submit() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    // The demo's second submitter leaves: one person can submit.
    let reviewer = demo.users.iter().filter(|u| u.roles.iter().any(|r| r.to_string() == "submitter")).nth(1).unwrap();
    let reviewer_id = app.store.user_by_email(&reviewer.email).await.unwrap().unwrap().id;
    admin.remove_member().organisation_id(org).user_id(reviewer_id).send().await.unwrap();
    let settings =
        || async { admin.get_organisation().organisation_id(org).send().await.unwrap().into_inner().settings };
    let now = settings().await;
    assert!(now.four_eyes, "the setting stays on");
    assert_eq!(now.four_eyes_in_effect, Some(false), "with one submitter it waits for a second");

    let sole = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "submitter")).unwrap();
    let sole = app.sdk_for_person(&sole.email, &sole.password).await;
    let own = complete_draft(&sole, org, demo.location_id).await;
    assert_eq!(submit(&sole, org, own.id, own.version).await.unwrap().status, Status::Submitted, "sends their own");

    // A second person with the submitter role joins: the rule applies again.
    app.member(org, "submitter", None).await;
    assert_eq!(settings().await.four_eyes_in_effect, Some(true));
    let draft = complete_draft(&sole, org, demo.location_id).await;
    let refused = submit(&sole, org, draft.id, draft.version).await.unwrap_err();
    assert_eq!(refused_code(&refused), (Some(403), "four_eyes".into()));
    assert!(refused.problem().unwrap().detail.contains("at least two people"), "{:?}", refused.problem());
}
