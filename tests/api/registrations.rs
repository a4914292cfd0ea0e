//! Registration applications through the SDK: every type drafted by section, refused with exactly what is
//! missing and accepted when complete; a new provider from draft to a notice of decision with identifiers
//! assigned; requests for information; the window for representations; withdrawal and return; registered
//! details governing later notifications; the organisation's event feed; organisation boundaries.

use std::collections::BTreeSet;

use provider_api_core::capability::StaffRole;
use provider_api_core::examples::{CONDITION_ID, LOCATION_ID, PARTNER_ID, with_ids};
use provider_api_core::registrations::registered::{Changes, Condition, Partner, RegisteredManager};
use provider_api_sdk::types::{
    ApplicantMessage, ApplicationStatus as Status, ApplicationType, ApplicationView, Checklist, DecisionKind,
    InspectorAssignment, ItemStatus, NewApplication, NewApplicationInformationRequest, NewDecision, NewProposal,
    ProposalKind, ReturnReasons, SectionContent, SectionName,
};
use provider_api_sdk::{Client, ProblemExt, idempotent};
use provider_api_tests::TestApp;
use provider_api_tests::applications::{Registered, TYPES, person, required_documents, sections};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

fn kind(name: &str) -> ApplicationType {
    serde_json::from_value(json!(name)).unwrap()
}

fn section_name(name: &str) -> SectionName {
    serde_json::from_value(json!(name)).unwrap()
}

fn content(value: Value) -> SectionContent {
    serde_json::from_value(value).unwrap()
}

/// The demo organisation, given a partner, a condition and a registered manager as if its register entry
/// had been brought across, so every type of change has something to change.
async fn registered_demo(app: &TestApp) -> (provider_api_http::bootstrap::DemoCredentials, Registered) {
    let demo = app.demo().await;
    let now = OffsetDateTime::now_utc();
    let registered =
        Registered { location_id: demo.location_id, partner_id: Uuid::now_v7(), condition_id: Uuid::now_v7() };
    let changes = Changes {
        managers: vec![(
            demo.location_id,
            RegisteredManager {
                full_name: "Gil Hart".into(),
                email: "gil.hart@demo-care.example".into(),
                registered_at: now,
            },
        )],
        add_conditions: vec![Condition {
            id: registered.condition_id,
            location_id: Some(demo.location_id),
            wording: "No more than 40 people may be accommodated.".into(),
            imposed_at: now,
        }],
        add_partners: vec![Partner {
            id: registered.partner_id,
            full_name: "Hal Ives".into(),
            email: "hal.ives@demo-care.example".into(),
            registered_at: now,
        }],
        ..Default::default()
    };
    app.store.record_registration(demo.organisation_id, &changes, now).await.unwrap();
    (demo, registered)
}

async fn staff(app: &TestApp) -> (Client, Uuid, String) {
    let email = format!("inspector.{}@cqc.example", Uuid::new_v4().simple());
    let roles: BTreeSet<StaffRole> = [StaffRole::StaffRegistration].into();
    let user = provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        &email,
        "Ina Spector",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    (app.sdk_for_person(&email, "correct horse battery").await, user.id, email)
}

async fn create(client: &Client, organisation: Uuid, type_name: &str) -> ApplicationView {
    idempotent::with_key(|key| {
        client
            .create_application()
            .organisation_id(organisation)
            .idempotency_key(key)
            .body(NewApplication { type_: kind(type_name) })
            .send()
    })
    .await
    .unwrap_or_else(|e| panic!("{type_name}: creation refused: {e:?}"))
    .into_inner()
}

/// Reads the section's ETag and replaces its content.
async fn put(
    client: &Client,
    organisation: Uuid,
    application: Uuid,
    section: &str,
    value: Value,
) -> Result<provider_api_sdk::types::SectionView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    let current = client
        .get_application_section()
        .organisation_id(organisation)
        .application_id(application)
        .section(section_name(section))
        .send()
        .await?;
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    client
        .put_application_section()
        .organisation_id(organisation)
        .application_id(application)
        .section(section_name(section))
        .if_match(etag)
        .body(content(value))
        .send()
        .await
        .map(|r| r.into_inner())
}

async fn upload(client: &Client, organisation: Uuid, name: &str) -> Uuid {
    provider_api_sdk::upload::upload_document(
        client,
        organisation,
        &format!("{name}.txt"),
        "text/plain",
        format!("The {name}."),
    )
    .await
    .unwrap()
    .id
}

/// Fills every section of a complete application and attaches a document for each required purpose.
async fn complete(client: &Client, organisation: Uuid, application: Uuid, type_name: &str, registered: Registered) {
    for (section, value) in sections(type_name, registered) {
        put(client, organisation, application, section, value)
            .await
            .unwrap_or_else(|e| panic!("{type_name}/{section} refused: {e:?}"));
    }
    let mut attachments = Vec::new();
    for purpose in required_documents(type_name) {
        attachments.push(json!({"document_id": upload(client, organisation, purpose).await, "purpose": purpose}));
    }
    put(client, organisation, application, "documents", json!({"attachments": attachments})).await.unwrap();
}

async fn checklist(client: &Client, organisation: Uuid, application: Uuid) -> Checklist {
    client
        .application_checklist()
        .organisation_id(organisation)
        .application_id(application)
        .send()
        .await
        .unwrap()
        .into_inner()
}

async fn current(client: &Client, organisation: Uuid, application: Uuid) -> ApplicationView {
    client
        .get_application()
        .organisation_id(organisation)
        .application_id(application)
        .send()
        .await
        .unwrap()
        .into_inner()
}

async fn submit(
    client: &Client,
    organisation: Uuid,
    application: Uuid,
) -> Result<ApplicationView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    let version = current(client, organisation, application).await.version;
    idempotent::with_key(|key| {
        client
            .submit_application()
            .organisation_id(organisation)
            .application_id(application)
            .if_match(format!("\"{version}\""))
            .idempotency_key(key)
            .send()
    })
    .await
    .map(|r| r.into_inner())
}

async fn approve(
    client: &Client,
    organisation: Uuid,
    application: Uuid,
    version: i64,
) -> Result<ApplicationView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
    let request = client.approve_application().organisation_id(organisation).application_id(application);
    request.if_match(format!("\"{version}\"")).send().await.map(|r| r.into_inner())
}

/// Every problem the checklist lists: pointer, code and detail.
fn problems(list: &Checklist) -> Vec<(String, String, String)> {
    let sections = list.sections.iter().flat_map(|s| s.problems.iter());
    let documents = list.documents.iter().flat_map(|d| d.problems.iter());
    sections.chain(documents).map(|p| (p.pointer.clone(), p.code.clone(), p.detail.clone())).collect()
}

#[tokio::test]
async fn every_type_is_refused_with_exactly_what_is_missing_and_accepted_when_complete() {
    // On the date the published examples are written for, so that completing each type sends exactly them.
    let as_of = provider_api_core::examples::AS_OF;
    let app = TestApp::spawn_with_clock(std::sync::Arc::new(provider_api_core::clock::ManualClock::at(as_of))).await;
    provider_api_tests::applications::count_days_from(as_of.date());
    let (demo, registered) = registered_demo(&app).await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let types = software.list_application_types().send().await.unwrap().into_inner();
    assert_eq!(types.items.len(), TYPES.len());

    for &type_name in TYPES {
        let published = types.items.iter().find(|t| t.type_.to_string() == type_name).expect("listed");
        let application = create(&software, demo.organisation_id, type_name).await;
        assert_eq!(application.status, Status::Draft);
        assert_eq!(application.sections.len(), published.sections.len(), "{type_name}: every section exists");

        // Nothing written: every section is not started, every document is missing, and submission is refused
        // with exactly the checklist's problems.
        let empty = checklist(&software, demo.organisation_id, application.id).await;
        assert!(!empty.ready);
        assert!(empty.sections.iter().all(|s| s.status == ItemStatus::NotStarted), "{type_name}: {empty:?}");
        let purposes: Vec<String> = empty.documents.iter().map(|d| d.purpose.to_string()).collect();
        assert_eq!(purposes, required_documents(type_name), "{type_name}");
        assert!(empty.documents.iter().all(|d| d.problems[0].code == "document_missing"));
        let refused = submit(&software, demo.organisation_id, application.id).await.unwrap_err();
        assert_eq!(refused.http_status(), Some(422), "{type_name}");
        let sent_back: Vec<(String, String, String)> = refused
            .problem()
            .unwrap()
            .errors
            .iter()
            .map(|e| (e.pointer.clone(), e.code.clone(), e.detail.clone()))
            .collect();
        assert_eq!(sent_back, problems(&empty), "{type_name}: the refusal lists the checklist");
        let declaration = "/sections/declaration/confirmed";
        assert!(sent_back.iter().any(|(p, c, _)| p == declaration && c == "required"), "{type_name}: {sent_back:?}");

        // What completes it below is each section's published example, naming this organisation's registered
        // things; and the published schema accepts it.
        let ids = [
            (LOCATION_ID, registered.location_id),
            (PARTNER_ID, registered.partner_id),
            (CONDITION_ID, registered.condition_id),
        ];
        for (section, value) in sections(type_name, registered) {
            let schema = &published.sections.iter().find(|s| s.name.to_string() == section).expect("published").schema;
            let schema = serde_json::to_value(schema).unwrap();
            assert_eq!(value, with_ids(schema["examples"][0].clone(), &ids), "{type_name}/{section}");
            let offline = jsonschema::validator_for(&schema).unwrap();
            assert!(offline.is_valid(&value), "{type_name}/{section}: the published schema refuses the example");
        }

        // Complete it, bar one document: exactly that document is missing.
        complete(&software, demo.organisation_id, application.id, type_name, registered).await;
        let with_documents = checklist(&software, demo.organisation_id, application.id).await;
        assert!(with_documents.ready, "{type_name}: {:?}", problems(&with_documents));
        put(&software, demo.organisation_id, application.id, "documents", json!({"attachments": []})).await.unwrap();
        let without = checklist(&software, demo.organisation_id, application.id).await;
        let missing = problems(&without);
        assert_eq!(missing.len(), required_documents(type_name).len(), "{type_name}: {missing:?}");
        assert!(without.sections.iter().all(|s| s.status == ItemStatus::Complete));
        complete(&software, demo.organisation_id, application.id, type_name, registered).await;

        let sent = submit(&software, demo.organisation_id, application.id).await.unwrap();
        assert_eq!(sent.status, Status::Submitted, "{type_name}");
        let receipt = sent.receipt.expect("a receipt");
        assert!(receipt.reference.starts_with("R-"), "{}", receipt.reference);
        let header = jsonwebtoken::decode_header(&receipt.jws).unwrap();
        assert_eq!(header.typ.as_deref(), Some("registration-receipt+jwt"));

        // Sent content is frozen.
        let frozen = put(&software, demo.organisation_id, application.id, "declaration", json!({})).await.unwrap_err();
        assert_eq!(frozen.http_status(), Some(409), "{type_name}");
    }
}

#[tokio::test]
async fn sections_are_checked_field_by_field_and_edited_independently_under_four_eyes() {
    let app = TestApp::spawn().await;
    let (demo, registered) = registered_demo(&app).await;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let org = demo.organisation_id;
    let application = create(&drafter, org, "add_location").await;

    // Bad values: every one reported with its pointer, and nothing stored.
    let bad = json!({"name": " ", "address": {"line_1": "1 Road", "town": "Leeds", "postcode": "LS1"}, "beds": 3});
    let refused = put(&drafter, org, application.id, "where", bad).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(422));
    let errors: Vec<(String, String)> =
        refused.problem().unwrap().errors.iter().map(|e| (e.pointer.clone(), e.code.clone())).collect();
    assert!(errors.contains(&("/name".into(), "blank".into())), "{:?}", refused.problem());
    assert!(errors.iter().any(|(p, _)| p == "/address/postcode"), "{errors:?}");
    assert!(errors.contains(&("/beds".into(), "unknown_field".into())), "{errors:?}");
    let after = current(&drafter, org, application.id).await;
    assert_eq!(after.version, application.version, "nothing was stored");

    // A section that does not belong to the type is 404; a PUT without If-Match is 428.
    let missing = put(&drafter, org, application.id, "who", json!({})).await.unwrap_err();
    assert_eq!(missing.http_status(), Some(404));
    let url = app.url(&format!("/v1/organisations/{org}/registration-applications/{}/sections/when", application.id));
    let token = app.sign_in(&demo.users[1].email, &demo.users[1].password).await.access_token;
    let no_if_match = app.http.put(&url).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(no_if_match.status(), 428);

    // Two people edit different sections at the same time; a stale ETag on the same section loses.
    let all = sections("add_location", registered);
    let (first, second) = (all[0].clone(), all[1].clone());
    let (a, b) = tokio::join!(
        put(&drafter, org, application.id, first.0, first.1.clone()),
        put(&submitter, org, application.id, second.0, second.1.clone()),
    );
    assert_eq!(a.unwrap().version, 2);
    assert_eq!(b.unwrap().version, 2);
    let stale = drafter
        .put_application_section()
        .organisation_id(org)
        .application_id(application.id)
        .section(section_name(first.0))
        .if_match("\"1\"")
        .body(content(first.1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.http_status(), Some(412));

    // A manager whose DBS check is over 12 months old: the checklist says so, precisely.
    put(&drafter, org, application.id, "who_manages", json!({"manager": person("Old Check", 400)})).await.unwrap();
    let list = checklist(&drafter, org, application.id).await;
    let manager = list.sections.iter().find(|s| s.section.to_string() == "who_manages").unwrap();
    assert_eq!(manager.status, ItemStatus::Incomplete);
    assert_eq!(manager.problems[0].pointer, "/sections/who_manages/manager/dbs/issued_on");
    assert_eq!(manager.problems[0].code, "dbs_too_old");

    // Complete it; the drafter cannot submit, and the submitter who edited last may not either (four eyes).
    complete(&submitter, org, application.id, "add_location", registered).await;
    let by_drafter = submit(&drafter, org, application.id).await.unwrap_err();
    assert_eq!(by_drafter.http_status(), Some(403));
    assert_eq!(by_drafter.problem().unwrap().permission.as_deref(), Some("registrations:submit"));
    let own_work = submit(&submitter, org, application.id).await.unwrap_err();
    assert_eq!(own_work.problem().unwrap().code, "four_eyes");
    // A colleague with the submitter role reviews and approves this version; the submitter then sends it.
    let (email, password) = app.member(org, "submitter", None).await;
    let colleague = app.sdk_for_person(&email, &password).await;
    let reviewed = current(&colleague, org, application.id).await;
    let own = approve(&submitter, org, application.id, reviewed.version).await.unwrap_err();
    assert_eq!(
        (own.http_status(), own.problem().unwrap().code.as_str()),
        (Some(403), "four_eyes"),
        "not their own edit"
    );
    let by_drafter = approve(&drafter, org, application.id, reviewed.version).await.unwrap_err();
    assert_eq!(by_drafter.problem().unwrap().permission.as_deref(), Some("registrations:submit"), "nor a drafter");
    let approved = approve(&colleague, org, application.id, reviewed.version).await.unwrap();
    let approval = approved.approval.as_ref().expect("the approval shows");
    assert_eq!((approved.version, approval.version), (reviewed.version + 1, reviewed.version + 1));
    let sent = submit(&submitter, org, application.id).await.unwrap();
    assert_eq!(sent.status, Status::Submitted);
    assert_eq!(sent.approval.as_ref().map(|a| a.version), Some(approved.version), "the record keeps who reviewed it");
    let history =
        drafter.application_history().organisation_id(org).application_id(application.id).send().await.unwrap();
    let approvals: Vec<_> = history.items.iter().filter(|e| e.action.to_string() == "approved").collect();
    assert_eq!(approvals.len(), 1, "{history:?}");
    assert_eq!(approvals[0].version, Some(approved.version), "the history names the version approved");
    assert!(history.items.iter().all(|e| e.by.is_some()), "every entry says who");
}

/// A fresh organisation that is not yet registered, with software allowed to draft and submit.
async fn applicant(app: &TestApp) -> (Uuid, Client) {
    use provider_api_core::accounts::{ApiClient, Organisation};
    use provider_api_core::capability::{Capability, Role};
    let now = OffsetDateTime::now_utc();
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: "Riverside Care Ltd".into(),
        provider_id: None,
        four_eyes: true,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    app.store.create_organisation(&organisation).await.unwrap();
    let secret = provider_api_http::auth::secret::generate("pas_");
    let client = ApiClient {
        id: Uuid::new_v4(),
        organisation_id: organisation.id,
        name: "Riverside care system".into(),
        secret_hash: Some(provider_api_http::auth::secret::hash(&secret)),
        jwks: None,
        roles: [Role::Drafter, Role::Submitter].into_iter().collect(),
        scopes: Capability::provider().collect(),
        location_ids: None,
        created_by: None,
        created_at: now,
        revoked_at: None,
        last_used_at: None,
    };
    app.store.create_api_client(&client).await.unwrap();
    (organisation.id, app.sdk_for_client(client.id, &secret, &[]))
}

fn message(text: &str, attachments: Vec<Uuid>) -> ApplicantMessage {
    ApplicantMessage { message: text.parse().unwrap(), attachments }
}

#[tokio::test]
async fn a_new_provider_goes_from_draft_to_a_decision_and_then_notifies_only_what_is_registered() {
    let sink = provider_api_tests::smtp::SmtpSink::start().await;
    let smtp_url = sink.url();
    let app = TestApp::spawn_with(move |config| {
        config.smtp_url = Some(smtp_url.into());
        config.portal_url = Some("https://portal.provider.example".into());
    })
    .await;
    let (org, software) = applicant(&app).await;
    // The organisation's admin hears of the regulator's requests about its applications.
    let (admin_email, _) = app.member(org, "admin", None).await;
    let (inspector, inspector_id, inspector_email) = staff(&app).await;
    let nothing = Registered { location_id: Uuid::nil(), partner_id: Uuid::nil(), condition_id: Uuid::nil() };

    // An organisation that is not registered has nothing to change: only a new-provider application can
    // be complete.
    let premature = create(&software, org, "add_partner").await;
    complete(&software, org, premature.id, "add_partner", nothing).await;
    let list = checklist(&software, org, premature.id).await;
    assert!(!list.ready);
    assert_eq!(
        (list.sections[0].problems[0].pointer.as_str(), list.sections[0].problems[0].code.as_str()),
        ("", "not_registered")
    );

    let application = create(&software, org, "new_provider").await;
    complete(&software, org, application.id, "new_provider", nothing).await;
    let sent = submit(&software, org, application.id).await.unwrap();
    let id = sent.id;

    // The regulator's queue shows it, with its age; drafts never appear there.
    let queue = inspector.registration_queue().organisation_id(org).send().await.unwrap().into_inner();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].age_days, Some(0));
    let read = inspector.staff_get_application().application_id(id).send().await.unwrap().into_inner();
    assert_eq!(read.sections.len(), 8);

    let accepted = inspector.accept_application().application_id(id).send().await.unwrap().into_inner();
    assert_eq!(accepted.status, Status::UnderAssessment);
    let target = accepted.target.expect("the 10-week target runs from acceptance");
    assert_eq!(target.days_left, Some(70));
    inspector.assign_inspector().application_id(id).body(InspectorAssignment { inspector_id }).send().await.unwrap();
    // An age beyond the calendar is refused, not a crash (the SDK will not even send it).
    assert!(inspector.registration_queue().older_than_days(u32::MAX).send().await.is_err());
    let token = app.sign_in(&inspector_email, "correct horse battery").await.access_token;
    let url = app.url(&format!("/v1/admin/registration-applications?older_than_days={}", u32::MAX));
    let ancient = app.http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(ancient.status(), 400);
    let mine = inspector.registration_queue().inspector_id(inspector_id).send().await.unwrap().into_inner();
    assert_eq!(mine.items.iter().map(|i| i.id).collect::<Vec<_>>(), [id]);

    // A request for information, answered through the API with a document.
    let due: chrono::NaiveDate =
        (OffsetDateTime::now_utc().date() + time::Duration::days(14)).to_string().parse().unwrap();
    let asked = inspector
        .request_application_information()
        .application_id(id)
        .body(NewApplicationInformationRequest {
            message: "Send the fire risk assessment for Riverside Lodge.".parse().unwrap(),
            due_on: due,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(asked.status, Status::InformationRequested);
    assert_eq!(asked.open_requests, 1);
    let email = sink.message_about(&admin_email, "needs more information").await;
    let reference = asked.receipt.as_ref().expect("a sent application has a receipt").reference.clone();
    assert_eq!(
        email.subject(),
        format!("The Care Quality Commission needs more information about application {reference}")
    );
    let text = email.text();
    let due_words = time::Date::parse(&due.to_string(), time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap()
        .format(time::macros::format_description!("[day padding:none] [month repr:long] [year]"))
        .unwrap();
    assert!(text.contains(&format!("Please reply by: {due_words}")), "{text}");
    assert!(!text.contains("fire risk"), "the request itself is not in the email: {text}");
    let threads = software.list_information_requests().organisation_id(org).application_id(id).send().await.unwrap();
    assert_eq!(threads.items.len(), 1);
    assert_eq!(threads.items[0].due_on, due);
    let evidence = upload(&software, org, "fire risk assessment").await;
    let answered = software
        .answer_information_request()
        .organisation_id(org)
        .application_id(id)
        .request_id(threads.items[0].id)
        .body(message("Attached, dated last month.", vec![evidence]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!answered.items[0].open);
    assert_eq!(answered.items[0].answers[0].attachments, [evidence]);
    let again = software
        .answer_information_request()
        .organisation_id(org)
        .application_id(id)
        .request_id(threads.items[0].id)
        .body(message("And again.", vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.http_status(), Some(409));
    assert_eq!(current(&software, org, id).await.status, Status::UnderAssessment);

    // A notice of proposal to grant with conditions opens the window for representations; no decision
    // until the applicant has made them (or the window has closed).
    let condition = "No more than 40 people may be accommodated at Riverside House.";
    inspector
        .issue_proposal()
        .application_id(id)
        .body(NewProposal {
            proposal: ProposalKind::GrantWithConditions,
            conditions: vec![condition.into()],
            reasons: "The lodge's staffing plan covers 40 places.".parse().unwrap(),
            served_on: None,
        })
        .send()
        .await
        .unwrap();
    let decide = |kind: DecisionKind, conditions: Vec<String>| {
        inspector
            .issue_decision()
            .application_id(id)
            .body(NewDecision { decision: kind, conditions, reasons: "As proposed.".parse().unwrap(), served_on: None })
            .send()
    };
    let early = decide(DecisionKind::GrantWithConditions, vec![condition.into()]).await.unwrap_err();
    assert_eq!(early.problem().unwrap().code, "representations_window_open");
    let feed_before = software.organisation_events().organisation_id(org).send().await.unwrap().into_inner();
    software
        .make_representations()
        .organisation_id(org)
        .application_id(id)
        .body(message("We accept the condition.", vec![]))
        .send()
        .await
        .unwrap();
    let unproposed = decide(DecisionKind::GrantWithConditions, vec!["Open only on weekdays.".into()]).await;
    assert_eq!(unproposed.unwrap_err().problem().unwrap().code, "not_proposed", "conditions only as proposed");
    let decided = decide(DecisionKind::GrantWithConditions, vec![condition.into()]).await.unwrap().into_inner();
    assert_eq!(decided.status, Status::Granted);
    let decision = decided.decision.expect("the notice of decision");
    let provider_id = decision.provider_id.clone().expect("a provider ID is assigned");
    let id_format = regex_lite(&provider_id);
    assert!(id_format, "{provider_id}");
    assert_eq!(decision.location_ids.len(), 2);
    assert!(decision.location_ids.iter().all(|l| regex_lite(l)), "{:?}", decision.location_ids);
    let late = software.withdraw_application().organisation_id(org).application_id(id).send().await.unwrap_err();
    assert_eq!(late.http_status(), Some(409), "no withdrawal after a decision");

    // The registered details now say what was granted.
    let details = software.registration_details().organisation_id(org).send().await.unwrap().into_inner();
    assert_eq!(details.provider_id.as_deref(), Some(provider_id.as_str()));
    assert_eq!(details.locations.len(), 2);
    let house = details.locations.iter().find(|l| l.name == "Riverside House").unwrap();
    assert_eq!(house.activities, ["accommodation_nursing_or_personal_care", "personal_care"]);
    assert_eq!(house.manager.as_ref().unwrap().full_name, "Alex Reid");
    assert_eq!(details.conditions.len(), 1);
    assert_eq!(details.conditions[0].wording, condition);

    // A notification for a registered activity is accepted; for an unregistered one it is refused.
    let mut form = provider_api_tests::forms::valid("serious_injury");
    let notify = |form: Value| {
        let body = provider_api_sdk::types::NotificationSubmission {
            location_id: Some(house.id),
            follows_id: None,
            content: serde_json::from_value(form).unwrap(),
            attachments: Vec::new(),
        };
        let software = software.clone();
        async move {
            idempotent::with_key(|key| {
                software.submit_new_notification().organisation_id(org).idempotency_key(key).body(body.clone()).send()
            })
            .await
        }
    };
    let notification = notify(form.clone()).await.unwrap().into_inner();
    form["reporter"]["regulated_activities"] = json!(["nursing_care"]);
    let refused = notify(form).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(422));
    let error = &refused.problem().unwrap().errors[0];
    assert_eq!(
        (error.pointer.as_str(), error.code.as_str()),
        ("/content/reporter/regulated_activities/0", "activity_not_registered")
    );

    // Every step is in the history, with who did it.
    let history = software.application_history().organisation_id(org).application_id(id).send().await.unwrap();
    let actions: Vec<String> = history
        .items
        .iter()
        .map(|e| e.action.to_string())
        .filter(|a| a != "section_edited" && a != "viewed_by_staff")
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "submitted",
            "accepted",
            "inspector_assigned",
            "information_requested",
            "information_provided",
            "proposal_issued",
            "representations_made",
            "decided"
        ]
    );
    let staff_steps = history.items.iter().filter(|e| e.by.as_ref().and_then(|b| b.user_id) == Some(inspector_id));
    assert_eq!(staff_steps.count(), 6, "accept, assign, request, propose, decide and the read");

    // The event feed has every status change, in order, and is resumable from any point; each document's scan
    // result is in it too, and a submission's event quotes the receipt's reference.
    let feed = software.organisation_events().organisation_id(org).send().await.unwrap().into_inner();
    let is_status = |e: &&provider_api_sdk::types::EventView| e.object_type.to_string() != "document";
    let statuses: Vec<_> = feed.items.iter().filter(is_status).collect();
    let changes: Vec<(String, String, String)> =
        statuses.iter().map(|e| (e.object_type.to_string(), e.action.clone(), e.status.clone())).collect();
    assert_eq!(feed_before.items.iter().filter(is_status).count(), 7, "{:?}", feed_before.items);
    let application_changes = [
        ("registration_application", "created", "draft"),
        ("registration_application", "created", "draft"),
        ("registration_application", "submitted", "submitted"),
        ("registration_application", "accepted", "under_assessment"),
        ("registration_application", "information_requested", "information_requested"),
        ("registration_application", "information_provided", "under_assessment"),
        ("registration_application", "proposal_issued", "proposal_issued"),
        ("registration_application", "decided", "granted"),
        ("notification", "created", "draft"),
        ("notification", "submitted", "submitted"),
    ];
    let expected: Vec<(String, String, String)> =
        application_changes.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned())).collect();
    assert_eq!(changes, expected);
    let scans: Vec<_> = feed.items.iter().filter(|e| e.object_type.to_string() == "document").collect();
    assert!(!scans.is_empty(), "the uploaded documents' scan results");
    assert!(scans.iter().all(|e| (e.action.as_str(), e.status.as_str()) == ("scanned", "clean")), "{scans:?}");
    let submitted = statuses.iter().find(|e| e.action == "submitted" && e.object_id == id).unwrap();
    let sent = current(&software, org, id).await;
    assert_eq!(submitted.reference, sent.receipt.map(|r| r.reference), "the submitted event quotes the receipt");
    assert!(statuses.iter().filter(|e| e.action != "submitted").all(|e| e.reference.is_none()));
    assert!(feed.items.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(feed.items.last().unwrap().object_id, notification.id);
    let rest = software.organisation_events().organisation_id(org).after(statuses[7].seq).send().await.unwrap();
    assert_eq!(rest.items.len(), 2);
    let none = software.organisation_events().organisation_id(org).after(feed.next).send().await.unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.next, feed.next, "polling with nothing new keeps the place");
}

/// `1-` and digits: the regulator's format.
fn regex_lite(id: &str) -> bool {
    id.strip_prefix("1-")
        .is_some_and(|digits| (8..=11).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

async fn submitted(software: &Client, org: Uuid, registered: Registered) -> Uuid {
    let application = create(software, org, "add_regulated_activity").await;
    complete(software, org, application.id, "add_regulated_activity", registered).await;
    submit(software, org, application.id).await.unwrap();
    application.id
}

#[tokio::test]
async fn the_representations_window_opens_for_28_days_from_service_and_then_closes() {
    let app = TestApp::spawn().await;
    let (demo, registered) = registered_demo(&app).await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let (inspector, _, _) = staff(&app).await;
    let org = demo.organisation_id;
    let propose = |id: Uuid, served_on: Option<chrono::NaiveDate>| {
        inspector
            .issue_proposal()
            .application_id(id)
            .body(NewProposal {
                proposal: ProposalKind::Refuse,
                conditions: Vec::new(),
                reasons: "The location cannot provide diagnostic services safely.".parse().unwrap(),
                served_on,
            })
            .send()
    };
    let refuse = |id: Uuid| {
        inspector
            .issue_decision()
            .application_id(id)
            .body(NewDecision {
                decision: DecisionKind::Refuse,
                conditions: Vec::new(),
                reasons: "As proposed.".parse().unwrap(),
                served_on: None,
            })
            .send()
    };

    // Refusal needs a notice of proposal first.
    let open = submitted(&software, org, registered).await;
    inspector.accept_application().application_id(open).send().await.unwrap();
    assert_eq!(refuse(open).await.unwrap_err().problem().unwrap().code, "proposal_required");

    // Served today: the window is open until 28 days from now; representations are accepted once.
    let proposed = propose(open, None).await.unwrap().into_inner();
    let proposal = proposed.proposal.unwrap();
    let today = OffsetDateTime::now_utc().date();
    assert_eq!(proposal.representations_due_on.to_string(), (today + time::Duration::days(28)).to_string());
    assert_eq!(refuse(open).await.unwrap_err().problem().unwrap().code, "representations_window_open");
    let made = software
        .make_representations()
        .organisation_id(org)
        .application_id(open)
        .body(message("We have recruited a radiographer.", vec![]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(made.proposal.unwrap().representations_made_at.is_some());
    let twice =
        software.make_representations().organisation_id(org).application_id(open).body(message("More.", vec![])).send();
    assert_eq!(twice.await.unwrap_err().problem().unwrap().code, "representations_closed");
    assert_eq!(refuse(open).await.unwrap().into_inner().status, Status::Refused);

    // Served 29 days ago: the window has closed, representations are refused, and a decision can be made.
    let closed = submitted(&software, org, registered).await;
    inspector.accept_application().application_id(closed).send().await.unwrap();
    let served = (today - time::Duration::days(29)).to_string().parse().unwrap();
    propose(closed, Some(served)).await.unwrap();
    let late = software
        .make_representations()
        .organisation_id(org)
        .application_id(closed)
        .body(message("Late.", vec![]))
        .send();
    let late = late.await.unwrap_err();
    assert_eq!(late.http_status(), Some(409));
    assert_eq!(late.problem().unwrap().code, "representations_closed");
    let refused = refuse(closed).await.unwrap().into_inner();
    assert_eq!(refused.decision.unwrap().appeal_by.to_string(), (today + time::Duration::days(28)).to_string());

    // Nothing was registered by a refusal.
    let details = software.registration_details().organisation_id(org).send().await.unwrap().into_inner();
    assert!(!details.locations[0].activities.contains(&"diagnostic_and_screening_procedures".to_owned()));
}

#[tokio::test]
async fn withdrawal_and_return_for_correction() {
    let app = TestApp::spawn().await;
    let (demo, registered) = registered_demo(&app).await;
    let org = demo.organisation_id;
    let drafter = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let submitter = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let (inspector, _, _) = staff(&app).await;
    async fn withdraw(
        client: &Client,
        org: Uuid,
        id: Uuid,
    ) -> Result<ApplicationView, provider_api_sdk::Error<provider_api_sdk::types::Problem>> {
        client.withdraw_application().organisation_id(org).application_id(id).send().await.map(|r| r.into_inner())
    }

    // A draft is withdrawn by whoever drafts.
    let draft = create(&drafter, org, "remove_partner").await;
    assert_eq!(withdraw(&drafter, org, draft.id).await.unwrap().status, Status::Withdrawn);
    assert_eq!(withdraw(&drafter, org, draft.id).await.unwrap_err().http_status(), Some(409));

    // A sent application needs `registrations:submit` to withdraw.
    let sent = submitted(&software, org, registered).await;
    let refused = withdraw(&drafter, org, sent).await.unwrap_err();
    assert_eq!(refused.problem().unwrap().permission.as_deref(), Some("registrations:submit"));

    // Returned as incomplete: the applicant sees why, corrects it and sends it again, with a new receipt.
    let returned = inspector
        .return_application()
        .application_id(sent)
        .body(ReturnReasons { reasons: vec!["The statement of purpose does not mention diagnostics.".into()] })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.status, Status::Returned);
    let seen = current(&software, org, sent).await;
    assert_eq!(seen.returned_reasons, ["The statement of purpose does not mention diagnostics."]);
    let first_receipt = seen.receipt.unwrap().reference;
    complete(&software, org, sent, "add_regulated_activity", registered).await;
    let again = submit(&software, org, sent).await.unwrap();
    assert_ne!(again.receipt.unwrap().reference, first_receipt);

    // Withdrawn while under assessment.
    inspector.accept_application().application_id(sent).send().await.unwrap();
    assert_eq!(withdraw(&submitter, org, sent).await.unwrap().status, Status::Withdrawn);
    let decision = inspector
        .issue_decision()
        .application_id(sent)
        .body(NewDecision {
            decision: DecisionKind::Grant,
            conditions: vec![],
            reasons: "Fine.".parse().unwrap(),
            served_on: None,
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(decision.http_status(), Some(409), "nothing is decided once withdrawn");
}

#[tokio::test]
async fn another_organisation_sees_nothing() {
    let app = TestApp::spawn().await;
    let (demo, registered) = registered_demo(&app).await;
    let other = app.demo().await;
    let ours = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let theirs = app.sdk_for_client(other.client_id, &other.client_secret, &[]);
    let id = submitted(&ours, demo.organisation_id, registered).await;

    for organisation in [demo.organisation_id, other.organisation_id] {
        let read = theirs.get_application().organisation_id(organisation).application_id(id).send().await;
        assert_eq!(read.unwrap_err().http_status(), Some(404));
        let list = theirs.application_checklist().organisation_id(organisation).application_id(id).send().await;
        assert_eq!(list.unwrap_err().http_status(), Some(404));
        let history = theirs.application_history().organisation_id(organisation).application_id(id).send().await;
        assert_eq!(history.unwrap_err().http_status(), Some(404));
        let withdraw = theirs.withdraw_application().organisation_id(organisation).application_id(id).send().await;
        assert_eq!(withdraw.unwrap_err().http_status(), Some(404));
    }
    let feed = theirs.organisation_events().organisation_id(demo.organisation_id).send().await;
    assert_eq!(feed.unwrap_err().http_status(), Some(404));
    let details = theirs.registration_details().organisation_id(demo.organisation_id).send().await;
    assert_eq!(details.unwrap_err().http_status(), Some(404));
    let listed = theirs.list_applications().organisation_id(other.organisation_id).send().await.unwrap();
    assert!(listed.items.is_empty());
    // Their documents cannot be attached to ours either.
    let foreign = upload(&theirs, other.organisation_id, "foreign").await;
    let application = create(&ours, demo.organisation_id, "remove_partner").await;
    let attach = json!({"attachments": [{"document_id": foreign, "purpose": "statement_of_purpose"}]});
    let refused = put(&ours, demo.organisation_id, application.id, "documents", attach).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(404));
}

#[tokio::test]
async fn a_decision_on_what_has_changed_since_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (demo, registered) = registered_demo(&app).await;
    let org = demo.organisation_id;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let (inspector, _, _) = staff(&app).await;
    let grant = |id: Uuid| {
        inspector
            .issue_decision()
            .application_id(id)
            .body(NewDecision {
                decision: DecisionKind::Grant,
                conditions: vec![],
                reasons: "Agreed.".parse().unwrap(),
                served_on: None,
            })
            .send()
    };
    // Two applications to remove the same partner, both complete when made.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let application = create(&software, org, "remove_partner").await;
        complete(&software, org, application.id, "remove_partner", registered).await;
        submit(&software, org, application.id).await.unwrap();
        inspector.accept_application().application_id(application.id).send().await.unwrap();
        ids.push(application.id);
    }
    assert_eq!(grant(ids[0]).await.unwrap().into_inner().status, Status::Granted);
    let second = grant(ids[1]).await.unwrap_err();
    assert_eq!(second.http_status(), Some(409));
    assert_eq!(second.problem().unwrap().code, "registration_changed");
    assert_eq!(current(&software, org, ids[1]).await.status, Status::UnderAssessment, "nothing was decided");
    let details = software.registration_details().organisation_id(org).send().await.unwrap().into_inner();
    assert!(details.partners.is_empty());

    // One document cannot stand for two required documents.
    let application = create(&software, org, "add_partner").await;
    complete(&software, org, application.id, "add_partner", registered).await;
    let one = upload(&software, org, "statement and finances").await;
    let twice = json!({"attachments": [{"document_id": one, "purpose": "statement_of_purpose"},
                                       {"document_id": one, "purpose": "financial_viability_statement"}]});
    put(&software, org, application.id, "documents", twice).await.unwrap();
    let list = checklist(&software, org, application.id).await;
    assert!(!list.ready);
    let codes: Vec<&str> = list.documents.iter().flat_map(|d| d.problems.iter().map(|p| p.code.as_str())).collect();
    assert_eq!(codes, ["same_document"]);
}

#[tokio::test]
async fn a_provider_registered_before_this_service_is_brought_across_location_by_location() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let email = format!("admin.{}@cqc.example", Uuid::new_v4().simple());
    let roles: BTreeSet<StaffRole> = [StaffRole::StaffAdmin].into();
    provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        &email,
        "Ad Min",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let admin = app.sdk_for_person(&email, "correct horse battery").await;
    let record = |location_id: &str| {
        serde_json::from_value::<provider_api_sdk::types::RegisteredLocationRecord>(json!({
            "location_id": location_id, "name": "Quayside House",
            "address": {"line_1": "9 Quay Road", "town": "Newcastle upon Tyne", "postcode": "ne1 3dx"},
            "regulated_activities": ["personal_care"], "manager": {"full_name": "Jo King", "email": "jo@quay.example"}
        }))
        .unwrap()
    };
    let details = admin
        .record_registered_location()
        .organisation_id(demo.organisation_id)
        .body(record("1-246813579"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let quayside = details.locations.iter().find(|l| l.location_id == "1-246813579").expect("recorded");
    assert_eq!(quayside.activities, ["personal_care"]);
    let again = admin.record_registered_location().organisation_id(demo.organisation_id).body(record("1-246813579"));
    assert_eq!(again.send().await.unwrap_err().http_status(), Some(409), "a location ID is recorded once");

    // An organisation that is not a provider record cannot have locations brought across.
    let (applicant_org, _) = applicant(&app).await;
    let refused = admin.record_registered_location().organisation_id(applicant_org).body(record("1-135792468"));
    assert_eq!(refused.send().await.unwrap_err().problem().unwrap().code, "not_a_provider");

    // The provider can now notify about the location, for what is registered there only.
    let notify = |activity: &str| {
        let mut form = provider_api_tests::forms::valid("serious_injury");
        form["reporter"]["regulated_activities"] = json!([activity]);
        let body = provider_api_sdk::types::NotificationSubmission {
            location_id: Some(quayside.id),
            follows_id: None,
            content: serde_json::from_value(form).unwrap(),
            attachments: Vec::new(),
        };
        let software = software.clone();
        async move {
            idempotent::with_key(|key| {
                software
                    .submit_new_notification()
                    .organisation_id(demo.organisation_id)
                    .idempotency_key(key)
                    .body(body.clone())
                    .send()
            })
            .await
        }
    };
    notify("personal_care").await.unwrap();
    let refused = notify("nursing_care").await.unwrap_err();
    assert_eq!(refused.problem().unwrap().errors[0].code, "activity_not_registered");
}

#[tokio::test]
async fn at_half_past_midnight_bst_a_notice_served_today_runs_28_days_from_englands_date() {
    // 23:30 UTC on 15 June 2027 is 00:30 BST on 16 June: UTC's date is still the 15th.
    let clock =
        std::sync::Arc::new(provider_api_core::clock::ManualClock::at(time::macros::datetime!(2027-06-15 23:30 UTC)));
    provider_api_tests::applications::count_days_from(time::macros::date!(2027 - 06 - 16));
    let app = TestApp::spawn_with_clock(clock).await;
    let (demo, registered) = registered_demo(&app).await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let (inspector, _, _) = staff(&app).await;
    let id = submitted(&software, demo.organisation_id, registered).await;
    inspector.accept_application().application_id(id).send().await.unwrap();

    let proposed = inspector
        .issue_proposal()
        .application_id(id)
        .body(NewProposal {
            proposal: ProposalKind::Refuse,
            conditions: Vec::new(),
            reasons: "The location cannot provide diagnostic services safely.".parse().unwrap(),
            served_on: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();

    let notice = proposed.proposal.unwrap();
    assert_eq!(notice.served_on.to_string(), "2027-06-16", "served today in England, not UTC's 15th");
    assert_eq!(notice.representations_due_on.to_string(), "2027-07-14", "28 days from the 16th");
}

#[tokio::test]
async fn a_section_naming_a_code_the_regulator_does_not_publish_is_refused_as_it_is_written() {
    let app = TestApp::spawn().await;
    let (org, software) = applicant(&app).await;
    let application = create(&software, org, "new_provider").await;
    let what = json!({"regulated_activities": ["personal_care", "time_travel"],
        "service_types": ["care_home_without_nursing"], "service_user_bands": ["adults_over_65", "martians"]});

    let refused = put(&software, org, application.id, "what", what).await.unwrap_err();
    let errors: Vec<(String, String)> =
        refused.problem().unwrap().errors.iter().map(|e| (e.pointer.clone(), e.code.clone())).collect();
    assert_eq!(
        errors,
        [
            ("/regulated_activities/1".to_owned(), "unknown_activity".to_owned()),
            ("/service_user_bands/1".to_owned(), "unknown_code".to_owned())
        ]
    );
    assert_eq!(current(&software, org, application.id).await.version, application.version, "nothing written");
    let fixed = json!({"regulated_activities": ["personal_care"], "service_user_bands": ["adults_over_65"]});
    assert!(put(&software, org, application.id, "what", fixed).await.is_ok(), "a draft may still be partial");
}
