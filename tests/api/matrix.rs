//! The authorization matrix: every operation in the served spec, called by every kind of principal, must
//! answer exactly the status the table says. An operation missing from the table fails the test, so nothing
//! new ships without its authorization being decided here.

use std::collections::BTreeSet;

use provider_api_core::accounts::{Membership, User, normalise_email};
use provider_api_core::actor::Actor;
use provider_api_core::capability::StaffRole;
use provider_api_core::examples::{AS_OF, DOCUMENT_ID, INSPECTOR_ID, LOCATION_ID, with_ids};
use provider_api_core::notifications::{Notification, Status};
use provider_api_core::registrations::ApplicationType;
use provider_api_core::registrations::model::{
    Action as ApplicationAction, Application, Event as ApplicationEvent, SectionRow, Status as RegistrationStatus,
};
use provider_api_core::stored::JsonText;
use provider_api_http::auth::password;
use provider_api_tests::TestApp;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

const WHO: [&str; 10] = [
    "anonymous",
    "other-org admin",
    "viewer",
    "drafter",
    "submitter",
    "admin",
    "client without scopes",
    "staff",
    // The same admin, signed in through a third party's application granted every provider scope.
    "admin through an integrator",
    // Software holding the admin role and every provider scope.
    "admin software",
];

/// Expected status for each of `WHO`, in order.
fn expected(operation: &str) -> Option<[u16; 10]> {
    const PUBLIC: [u16; 10] = [200; 10];
    const ORG_READ: [u16; 10] = [401, 404, 200, 200, 200, 200, 403, 404, 200, 200];
    const ORG_ADMIN: [u16; 10] = [401, 404, 403, 403, 403, 200, 403, 404, 200, 200];
    const ORG_ADMIN_CREATES: [u16; 10] = [401, 404, 403, 403, 403, 201, 403, 404, 201, 201];
    const ORG_ADMIN_DELETES: [u16; 10] = [401, 404, 403, 403, 403, 204, 403, 404, 204, 204];
    const STAFF: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 200, 403, 403];
    const STAFF_CREATES: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 201, 403, 403];
    const STAFF_DELETES: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 204, 403, 403];
    // Drafters, submitters and admins upload; viewers and other organisations do not.
    const DOCUMENTS_WRITE_CREATES: [u16; 10] = [401, 404, 403, 201, 201, 201, 403, 404, 201, 201];
    Some(match operation {
        "get_health"
        | "get_readiness"
        | "list_regulated_activities"
        | "list_service_types"
        | "list_service_user_bands"
        | "validate_identifiers"
        | "get_authorization_server_metadata"
        | "get_jwks"
        | "get_receipt_keys" => PUBLIC,
        // Client authentication is in the form, not the bearer token: without it, nobody gets anything.
        "issue_token" | "revoke_token" => [401; 10],
        // A sign-in page without an application is refused whoever asks.
        "show_authorization_page" | "submit_authorization_page" => [400; 10],
        // Asking for a password reset link answers the same to everyone (and says nothing of who has an
        // account); the example's link is not a real one, so choosing a password with it is refused.
        "show_password_reset_page" => PUBLIC,
        "request_password_reset" | "submit_password_reset_page" => [202; 10],
        "reset_password" | "submit_new_password_page" => [422; 10],
        "show_new_password_page" => [400; 10],
        "get_me" => [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        "get_my_permissions" => [401, 404, 200, 200, 200, 200, 200, 404, 200, 200],
        // A person's own choices; software acting as itself receives no email, so has none.
        "get_email_preferences" | "put_email_preferences" => [401, 200, 200, 200, 200, 200, 403, 200, 200, 403],
        "list_organisation_emails" => ORG_ADMIN,
        // People only, with a token carrying `org:admin` (they become the new organisation's admin).
        "create_organisation" => [401, 201, 201, 201, 201, 201, 403, 403, 201, 403],
        "get_organisation" | "list_locations" | "get_location" | "list_members" => ORG_READ,
        "update_organisation" | "update_member" | "list_api_clients" => ORG_ADMIN,
        "get_two_factor_policy" => ORG_READ,
        // How people sign in is for a person in a first-party session: not software acting as itself, nor a
        // third party's application the admin consented to.
        "set_two_factor_policy" => [401, 404, 403, 403, 403, 200, 403, 404, 403, 403],
        "reset_two_factor" => STAFF_DELETES,
        // Whoever creates, rotates or re-keys a client holds its credentials: only a person, in a first-party
        // session, for a client within their own reach (the matrix's clients here are).
        "rotate_api_client_secret" | "replace_api_client_keys" => [401, 404, 403, 403, 403, 200, 403, 404, 403, 403],
        "create_api_client" => [401, 404, 403, 403, 403, 201, 403, 404, 403, 403],
        "create_location" => ORG_ADMIN_CREATES,
        "remove_member" | "revoke_api_client" => ORG_ADMIN_DELETES,
        // The regulator's staff only (the matrix's staff member is a staff_admin).
        "list_all_organisations" | "list_users" | "disable_user" | "list_integrator_apps" | "list_audit_entries" => {
            STAFF
        }
        // The register: staff import a file of the regulator's own (202: it runs on), follow it, issue codes
        // in bulk and see who enrolled.
        "start_register_import" => [401, 403, 403, 403, 403, 403, 403, 202, 403, 403],
        "get_register_import" | "list_enrolments" => STAFF,
        "create_provider_record"
        | "issue_enrolment_codes"
        | "issue_enrolment_code"
        | "register_integrator_app"
        | "record_registered_location" => STAFF_CREATES,
        // People only; the code here is not a real one, so every person is told so.
        "redeem_enrolment_code" => [401, 422, 422, 422, 422, 422, 403, 403, 422, 403],
        "list_invitations" => ORG_ADMIN,
        // Invitations come from people (the email names who invited).
        "create_invitation" => [401, 404, 403, 403, 403, 201, 403, 404, 201, 403],
        "revoke_invitation" => ORG_ADMIN_DELETES,
        // Anyone may try a code; this one is not real.
        "accept_invitation" => [422; 10],
        "list_notification_types" => PUBLIC,
        "list_notifications" | "get_notification" | "notification_history" | "validate_notification" => {
            [401, 404, 200, 200, 200, 200, 403, 404, 200, 200]
        }
        "create_notification" => [401, 404, 403, 201, 201, 403, 403, 404, 403, 403],
        "update_notification" | "discard_notification" | "respond_to_notification" => {
            [401, 404, 403, 200, 200, 403, 403, 404, 403, 403]
        }
        // A submitter who is not the draft's last editor reviews it (four eyes: docs/review.md).
        "submit_notification" | "approve_notification" => [401, 404, 403, 403, 200, 403, 403, 404, 403, 403],
        "submit_new_notification" => [401, 404, 403, 403, 201, 403, 403, 404, 403, 403],
        // Whoever prepares drafts asks for one to be reviewed (a fresh draft each call: once per version).
        "request_notification_review" => [401, 404, 403, 204, 204, 403, 403, 404, 403, 403],
        // The matrix's staff member also has staff_triage.
        "triage_queue"
        | "notification_counts"
        | "staff_get_notification"
        | "staff_notification_history"
        | "acknowledge_notification"
        | "request_information"
        | "close_notification" => STAFF,
        // tus discovery says only what the server supports, to anyone.
        "describe_uploads" => [204; 10],
        "list_documents" | "get_document" | "get_document_content" => ORG_READ,
        "upload_document" | "create_upload" => DOCUMENTS_WRITE_CREATES,
        "get_upload_offset" => [401, 404, 403, 200, 200, 200, 403, 404, 200, 200],
        // Each call gets its own upload or document, so every writer's call can succeed.
        "append_to_upload" | "terminate_upload" | "delete_document" => {
            [401, 404, 403, 204, 204, 204, 403, 404, 204, 204]
        }
        "list_application_types" => PUBLIC,
        // Registration: viewers and admins read; drafters and submitters write; submitters submit.
        "list_applications"
        | "get_application"
        | "get_application_section"
        | "application_checklist"
        | "application_history"
        | "list_information_requests"
        | "registration_details"
        | "organisation_events" => ORG_READ,
        "create_application" => [401, 404, 403, 201, 201, 403, 403, 404, 403, 403],
        "put_application_section" | "withdraw_application" | "answer_information_request" => {
            [401, 404, 403, 200, 200, 403, 403, 404, 403, 403]
        }
        "submit_application" | "approve_application" | "make_representations" => {
            [401, 404, 403, 403, 200, 403, 403, 404, 403, 403]
        }
        // The matrix's staff member also has staff_registration.
        "registration_queue"
        | "staff_get_application"
        | "staff_application_history"
        | "accept_application"
        | "return_application"
        | "assign_inspector"
        | "request_application_information"
        | "issue_proposal"
        | "issue_decision" => STAFF,
        _ => return None,
    })
}

struct World {
    organisation: Uuid,
    provider_record: Uuid,
    disposable_user: Uuid,
    key_client: Uuid,
    location: Uuid,
    drafter: Uuid,
    rotatable_client: Uuid,
    document: Uuid,
    upload: Uuid,
    staff: Uuid,
    tokens: Vec<Option<String>>,
}

/// An application of the matrix's organisation in `status`, made directly in the store so each call that
/// changes one gets its own: complete sections, last edited by the drafter, with `events` as its history.
async fn application(
    app: &TestApp,
    world: &World,
    kind: &str,
    status: RegistrationStatus,
    workflow: Value,
    events: Vec<ApplicationEvent>,
) -> Application {
    let now = AS_OF;
    let id = Uuid::now_v7();
    let kind: ApplicationType = kind.parse().unwrap();
    let registered = provider_api_tests::applications::Registered {
        location_id: world.location,
        partner_id: Uuid::nil(),
        condition_id: Uuid::nil(),
    };
    let mut complete = provider_api_tests::applications::sections(kind.as_str(), registered);
    if kind == ApplicationType::CancelRegulatedActivities {
        // Cancelling everything needs no documents, so the application is complete as it stands.
        complete.iter_mut().find(|(name, _)| *name == "what").expect("a what section").1 =
            serde_json::json!({"scope": "all", "reason": "The service is closing."});
    }
    let sections: Vec<SectionRow> = kind
        .sections()
        .iter()
        .map(|name| SectionRow {
            application_id: id,
            name: *name,
            content: match complete.iter().find(|(n, _)| *n == name.as_str()) {
                Some((_, value)) => JsonText(value.as_object().expect("a section is an object").clone()),
                None if name.as_str() == "documents" => r#"{"attachments":[]}"#.parse().unwrap(),
                None => JsonText::default(),
            },
            version: 1,
            edited_by_user: Some(world.drafter),
            edited_by_client: None,
            updated_at: now,
        })
        .collect();
    let sent = status != RegistrationStatus::Draft;
    let application = Application {
        id,
        organisation_id: world.organisation,
        kind,
        status,
        version: 1,
        created_by_user: Some(world.drafter),
        created_by_client: None,
        edited_by_user: Some(world.drafter),
        edited_by_client: None,
        created_at: now,
        updated_at: now,
        reference: sent.then(|| format!("R-MATRIX-{}", Uuid::new_v4().simple())),
        submitted_at: sent.then_some(now),
        submitted_by_user: None,
        submitted_by_client: None,
        content_sha256: None,
        receipt: None,
        accepted_at: None,
        inspector_id: None,
        decided_at: None,
        workflow: JsonText(serde_json::from_value(workflow).unwrap()),
        approved_by_user: None,
        approved_version: None,
        approved_at: None,
    };
    let events: Vec<ApplicationEvent> =
        events.into_iter().map(|e| ApplicationEvent { application_id: id, ..e }).collect();
    app.store.insert_application(&application, &sections, &events, None).await.unwrap();
    application
}

/// A notification of the matrix's organisation in `status`, made directly in the store so each call that
/// changes one gets its own: a complete serious-injury form, last edited by the drafter.
async fn notification(app: &TestApp, world: &World, status: Status) -> Notification {
    let now = AS_OF;
    let sent = status.sent();
    let notification = Notification {
        id: Uuid::now_v7(),
        organisation_id: world.organisation,
        location_id: Some(world.location),
        kind: "serious_injury".parse().unwrap(),
        status,
        content: provider_api_tests::forms::valid("serious_injury").to_string(),
        follows_id: None,
        version: 1,
        created_by_user: Some(world.drafter),
        created_by_client: None,
        edited_by_user: Some(world.drafter),
        edited_by_client: None,
        created_at: now,
        updated_at: now,
        reference: sent.then(|| format!("N-MATRIX-{}", Uuid::new_v4().simple())),
        submitted_at: sent.then_some(now),
        submitted_by_user: None,
        submitted_by_client: None,
        schema_version: sent.then_some(1),
        content_sha256: None,
        receipt: None,
        request_message: (status == Status::InformationRequested).then(|| "Tell us more.".into()),
        request_due_on: (status == Status::InformationRequested).then(|| "2099-01-01".into()),
        outcome: None,
        outcome_note: None,
        attachments: Default::default(),
        approved_by_user: None,
        approved_version: None,
        approved_at: None,
    };
    app.store.insert_notification(&notification, &[], None).await.unwrap();
    notification
}

/// A clean text document with content, made past the API.
async fn stored_document(app: &TestApp, organisation_id: Uuid) -> Uuid {
    let staged = Uuid::new_v4();
    let id = Uuid::new_v4();
    let blobs = &app.documents.blobs;
    let part = provider_api_http::documents::blob::part_name(0);
    blobs.stage(staged, 0, &part, provider_api_http::documents::blob::once(&b"hello"[..])).await.unwrap();
    blobs.promote(staged, &[&part], 5, id).await.unwrap();
    blobs.discard(staged).await.unwrap();
    let now = AS_OF;
    let document = provider_api_core::documents::Document {
        id,
        organisation_id,
        location_id: None,
        filename: "hello.txt".into(),
        media_type: "text/plain".into(),
        size: 5,
        sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
        uploaded_by_user: None,
        uploaded_by_client: Uuid::new_v4(),
        created_at: now,
        scan_status: "clean".parse().unwrap(),
        scanner: Some("none".into()),
        scan_detail: None,
        scanned_at: Some(now),
        scan_attempts: 0,
        scan_next_at: now,
        frozen_at: None,
    };
    app.store.create_document(&document).await.unwrap();
    id
}

/// A fresh tus upload of a 5-byte text file, nothing received yet.
async fn fresh_upload(app: &TestApp, organisation_id: Uuid) -> Uuid {
    let now = AS_OF;
    let upload = provider_api_core::documents::Upload {
        id: Uuid::new_v4(),
        organisation_id,
        location_id: None,
        filename: "hello.txt".into(),
        media_type: "text/plain".into(),
        length: 5,
        received: 0,
        hash_state: provider_api_http::documents::hashing::Hasher::new().save(),
        created_by_user: None,
        created_by_client: Uuid::new_v4(),
        created_at: now,
        expires_at: now + time::Duration::hours(1),
        document_id: None,
        staged_parts: String::new(),
    };
    app.store.create_upload(&upload).await.unwrap();
    upload.id
}

/// A person with an authenticator set up, for a reset to remove.
async fn with_authenticator(app: &TestApp) -> Uuid {
    let (id, _, _) = person(app, None, &[]).await;
    let secret = provider_api_http::auth::two_factor::new_secret();
    assert!(app.store.start_authenticator(id, &secret, AS_OF, AS_OF).await.unwrap());
    assert!(app.store.confirm_authenticator(id, &secret, 1, &[], AS_OF).await.unwrap());
    id
}

async fn person(app: &TestApp, organisation: Option<(Uuid, &str)>, staff: &[StaffRole]) -> (Uuid, String, String) {
    let email = format!("{}@matrix.example", Uuid::new_v4().simple());
    let secret = format!("password-{}", Uuid::new_v4().simple());
    let user = User {
        id: Uuid::new_v4(),
        email: email.clone(),
        email_normalised: normalise_email(&email),
        display_name: "Matrix person".into(),
        password_hash: Some(password::hash(&secret)),
        staff_roles: staff.iter().copied().collect(),
        disabled: false,
        created_at: AS_OF,
    };
    app.store.create_user(&user).await.unwrap();
    if let Some((organisation_id, roles)) = organisation {
        let membership = Membership {
            user_id: user.id,
            organisation_id,
            roles: roles.parse().unwrap(),
            location_ids: None,
            created_at: AS_OF,
        };
        app.store.put_membership(&membership).await.unwrap();
    }
    (user.id, email, secret)
}

/// A pending invitation to the matrix's organisation.
async fn pending_invitation(app: &TestApp, world: &World) -> Uuid {
    let now = AS_OF;
    let invitation = provider_api_core::accounts::Invitation {
        id: Uuid::new_v4(),
        organisation_id: world.organisation,
        email: "pending@matrix.example".into(),
        email_normalised: "pending@matrix.example".into(),
        roles: "viewer".parse().unwrap(),
        location_ids: None,
        token_hash: provider_api_http::auth::secret::hash(&format!("pai_matrix_{}", Uuid::new_v4().simple())),
        invited_by: world.disposable_user,
        created_at: now,
        expires_at: now + time::Duration::days(7),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    };
    app.store.create_invitation(&invitation).await.unwrap();
    invitation.id
}

async fn world(app: &TestApp) -> World {
    let demo = app.demo().await;
    let other = app.demo().await;
    let (viewer, viewer_email, viewer_password) = person(app, Some((demo.organisation_id, "viewer")), &[]).await;
    let _ = viewer;
    let (staff, staff_email, staff_password) =
        person(app, None, &[StaffRole::StaffAdmin, StaffRole::StaffTriage, StaffRole::StaffRegistration]).await;
    let scopeless = app.api_client(demo.organisation_id, "admin drafter submitter viewer", "", "pas_scopeless").await;
    // Within the matrix admin's reach, so that only who is asking decides whether they may take its credentials.
    let rotatable_client = app.api_client(demo.organisation_id, "viewer", "org:read", "pas_rotatable").await;
    let key_client = app.api_client(demo.organisation_id, "viewer", "org:read", "pas_unused").await;
    let every_provider_scope =
        provider_api_core::capability::Capability::provider().map(|c| c.as_str()).collect::<Vec<_>>().join(" ");
    let admin_software =
        app.api_client(demo.organisation_id, "admin", &every_provider_scope, "pas_admin_software").await;
    let integrator = app.integrator_app("https://integrator.example/cb", &every_provider_scope, None).await;
    let key = provider_api_http::auth::keys::generate(AS_OF).public_jwk;
    app.store.set_api_client_jwks(key_client, &format!(r#"{{"keys":[{key}]}}"#)).await.unwrap();
    let (disposable_user, _, _) = person(app, None, &[]).await;
    let now = AS_OF;
    let record = provider_api_core::accounts::Organisation {
        id: Uuid::new_v4(),
        name: "Registered Care plc".into(),
        provider_id: Some(format!("1-{}", 100_000_000 + (Uuid::new_v4().as_u128() % 899_999_999))),
        four_eyes: true,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    app.store.create_organisation(&record).await.unwrap();

    let sign_in =
        |email: String, password: String| async move { Some(app.sign_in(&email, &password).await.access_token) };
    let user = |i: usize| (demo.users[i].email.clone(), demo.users[i].password.clone());
    let tokens = vec![
        None,
        sign_in(other.users[0].email.clone(), other.users[0].password.clone()).await,
        sign_in(viewer_email, viewer_password).await,
        sign_in(user(1).0, user(1).1).await,
        sign_in(user(2).0, user(2).1).await,
        sign_in(user(0).0, user(0).1).await,
        Some(app.client_token(scopeless, "pas_scopeless").await),
        sign_in(staff_email, staff_password).await,
        Some(
            app.sign_in_with(&integrator.to_string(), "https://integrator.example/cb", &user(0).0, &user(0).1)
                .await
                .access_token,
        ),
        Some(app.client_token(admin_software, "pas_admin_software").await),
    ];
    // Off, so that a person may create and submit in one call (four eyes has its own tests).
    let organisation = app.store.organisation(demo.organisation_id).await.unwrap().unwrap();
    app.store
        .update_organisation(organisation.id, &organisation.name, false, true, organisation.version, now)
        .await
        .unwrap();
    let members = app.store.members(demo.organisation_id).await.unwrap();
    let drafter = members.iter().find(|m| m.email == demo.users[1].email).unwrap().user_id;
    World {
        organisation: demo.organisation_id,
        provider_record: record.id,
        disposable_user,
        key_client,
        location: demo.location_id,
        drafter,
        rotatable_client,
        document: stored_document(app, demo.organisation_id).await,
        upload: fresh_upload(app, demo.organisation_id).await,
        staff,
        tokens,
    }
}

/// A well-formed request for the operation, so that only who is asking decides the answer.
async fn request(
    app: &TestApp,
    world: &World,
    spec: &Value,
    operation: &str,
    path: &str,
    method: &Method,
    invalid_body: bool,
) -> reqwest::RequestBuilder {
    // A register import reads a file of the regulator's own, not the organisation's.
    let register_file = match operation {
        "start_register_import" => {
            Some(stored_document(app, provider_api_core::accounts::REGULATOR_ORGANISATION).await)
        }
        _ => None,
    };
    // The body is the operation's published example, naming the matrix's own location, document and
    // inspector where the example names the placeholders: so every example is sent to a live server, and the
    // principal allowed to call the operation gets its documented success with it.
    let body = published_example(spec, path, method).map(|(content_type, example)| {
        let document = match &register_file {
            Some(file) => *file,
            None => world.document,
        };
        let example =
            with_ids(example, &[(LOCATION_ID, world.location), (DOCUMENT_ID, document), (INSPECTOR_ID, world.staff)]);
        let body = if content_type == "application/x-www-form-urlencoded" {
            serde_urlencoded::to_string(example.as_object().expect("a form example is an object")).unwrap()
        } else {
            example.to_string()
        };
        (content_type, body)
    });
    // Removing and revoking answer differently the second time, so each such call gets its own target.
    let user_id = match operation {
        "remove_member" => person(app, Some((world.organisation, "drafter")), &[]).await.0,
        "disable_user" => world.disposable_user,
        "reset_two_factor" => with_authenticator(app).await,
        _ => world.drafter,
    };
    let organisation = if matches!(operation, "issue_enrolment_code" | "record_registered_location") {
        world.provider_record
    } else {
        world.organisation
    };
    let invitation = match operation {
        "revoke_invitation" => pending_invitation(app, world).await,
        _ => Uuid::new_v4(),
    };
    let client_id = match operation {
        "revoke_api_client" => app.api_client(world.organisation, "viewer", "org:read", "pas_disposable").await,
        "replace_api_client_keys" => world.key_client,
        _ => world.rotatable_client,
    };
    let target = match operation {
        "get_notification"
        | "notification_history"
        | "validate_notification"
        | "update_notification"
        | "discard_notification"
        | "approve_notification"
        | "request_notification_review"
        | "submit_notification" => Some(notification(app, world, Status::Draft).await),
        "respond_to_notification" => Some(notification(app, world, Status::InformationRequested).await),
        "staff_get_notification" | "staff_notification_history" | "acknowledge_notification" => {
            Some(notification(app, world, Status::Submitted).await)
        }
        "request_information" | "close_notification" => Some(notification(app, world, Status::Acknowledged).await),
        _ => None,
    };
    let today = AS_OF.date();
    let request_for_information = ApplicationEvent::new(
        Uuid::nil(),
        ApplicationAction::InformationRequested,
        Actor { user: Some(world.staff), client: None },
        AS_OF,
    );
    let open_proposal = serde_json::json!({"proposal": {"proposal": "refuse", "reasons": "Matrix.",
        "served_on": today.to_string(), "representations_due_on": (today + time::Duration::days(28)).to_string()}});
    let applying = match operation {
        "get_application"
        | "get_application_section"
        | "put_application_section"
        | "application_checklist"
        | "application_history"
        | "list_information_requests"
        | "approve_application"
        | "withdraw_application" => Some(
            application(app, world, "add_location", RegistrationStatus::Draft, serde_json::json!({}), vec![]).await,
        ),
        "submit_application" => Some(
            application(
                app,
                world,
                "cancel_regulated_activities",
                RegistrationStatus::Draft,
                serde_json::json!({}),
                vec![],
            )
            .await,
        ),
        "answer_information_request" => Some(
            application(
                app,
                world,
                "add_location",
                RegistrationStatus::InformationRequested,
                serde_json::json!({}),
                vec![request_for_information.clone()],
            )
            .await,
        ),
        "make_representations" => Some(
            application(app, world, "add_location", RegistrationStatus::ProposalIssued, open_proposal, vec![]).await,
        ),
        "staff_get_application" | "staff_application_history" | "accept_application" | "return_application" => Some(
            application(app, world, "add_location", RegistrationStatus::Submitted, serde_json::json!({}), vec![]).await,
        ),
        "assign_inspector" | "request_application_information" | "issue_proposal" | "issue_decision" => Some(
            application(
                app,
                world,
                "new_registered_manager",
                RegistrationStatus::UnderAssessment,
                serde_json::json!({}),
                vec![],
            )
            .await,
        ),
        _ => None,
    };
    let mut path = path
        .replace("{application_id}", &applying.as_ref().map(|a| a.id.to_string()).unwrap_or_default())
        .replace("{section}", "when")
        .replace("{request_id}", &request_for_information.id.to_string())
        .replace("{notification_id}", &target.as_ref().map(|n| n.id.to_string()).unwrap_or_default())
        .replace("{organisation_id}", &organisation.to_string())
        .replace("{location_id}", &world.location.to_string())
        .replace("{user_id}", &user_id.to_string())
        .replace("{client_id}", &client_id.to_string())
        .replace("{invitation_id}", &invitation.to_string());
    if path.contains("{document_id}") {
        let document = match operation {
            "delete_document" => stored_document(app, world.organisation).await,
            _ => world.document,
        };
        path = path.replace("{document_id}", &document.to_string());
    }
    if path.contains("{import_id}") {
        let import = provider_api_store::register::RegisterImport {
            id: Uuid::now_v7(),
            kind: "csv".into(),
            source: provider_api_core::register::Source::RegisterFile,
            as_of: AS_OF.date(),
            document_id: None,
            file_name: "matrix.csv".into(),
            sha256: None,
            dry_run: true,
            started_by: None,
            started_at: AS_OF,
            heartbeat_at: AS_OF,
            finished_at: Some(AS_OF),
            failure: None,
            counts: Default::default(),
        };
        app.store.create_register_import(&import).await.unwrap();
        path = path.replace("{import_id}", &import.id.to_string());
    }
    if path.contains("{upload_id}") {
        let upload = match operation {
            "get_upload_offset" => world.upload,
            _ => fresh_upload(app, world.organisation).await,
        };
        path = path.replace("{upload_id}", &upload.to_string());
    }
    if operation == "upload_document" {
        path.push_str("?filename=hello.txt");
    }
    if operation == "get_my_permissions" {
        path.push_str(&format!("?organisation={}", world.organisation));
    }
    let mut builder = app.http.request(method.clone(), app.url(&path));
    if matches!(operation, "create_upload" | "get_upload_offset" | "append_to_upload" | "terminate_upload") {
        builder = builder.header("tus-resumable", "1.0.0");
    }
    match operation {
        "create_upload" => {
            builder = builder
                .header("upload-length", "5")
                .header("upload-metadata", "filename aGVsbG8udHh0,filetype dGV4dC9wbGFpbg==");
        }
        "append_to_upload" => {
            builder = builder
                .header("upload-offset", "0")
                .header("content-type", "application/offset+octet-stream")
                .body("hello");
        }
        "upload_document" => builder = builder.header("content-type", "text/plain").body("hello"),
        _ => {}
    }
    let builder = match body {
        Some((content_type, _)) if invalid_body && content_type.ends_with("json") => {
            builder.header("content-type", content_type).body(r#"{"unexpected": true}"#)
        }
        Some((content_type, body)) => builder.header("content-type", content_type).body(body),
        None => builder,
    };
    let builder = match operation {
        "create_notification"
        | "submit_new_notification"
        | "submit_notification"
        | "create_application"
        | "submit_application" => builder.header("idempotency-key", Uuid::new_v4().to_string()),
        _ => builder,
    };
    if let Some(target) = &target
        && matches!(
            operation,
            "update_notification"
                | "discard_notification"
                | "submit_notification"
                | "approve_notification"
                | "request_notification_review"
        )
    {
        return builder.header("if-match", format!("\"{}\"", target.version));
    }
    if let Some(application) = &applying
        && matches!(operation, "put_application_section" | "submit_application" | "approve_application")
    {
        // A section's version and the application's both start at 1.
        return builder.header("if-match", format!("\"{}\"", application.version));
    }
    if operation == "update_organisation" {
        let version = app.store.organisation(world.organisation).await.unwrap().unwrap().version;
        return builder.header("if-match", format!("\"{version}\""));
    }
    builder
}

/// The operation's JSON or form request body, if it takes one: its content type and schema.
fn document_body<'a>(spec: &'a Value, path: &str, method: &Method) -> Option<(&'a str, &'a Value)> {
    let content = spec["paths"][path][method.as_str().to_lowercase()]["requestBody"]["content"].as_object()?;
    let (content_type, media) = content.iter().find(|(content_type, _)| {
        content_type.ends_with("json") || *content_type == "application/x-www-form-urlencoded"
    })?;
    let schema = match media["schema"]["$ref"].as_str() {
        Some(reference) => &spec["components"]["schemas"][reference.trim_start_matches("#/components/schemas/")],
        None => &media["schema"],
    };
    Some((content_type.as_str(), schema))
}

/// The first example the spec publishes for the operation's request body (its schema's `examples`, where
/// docs/api-conventions.md says they are), with its content type.
fn published_example(spec: &Value, path: &str, method: &Method) -> Option<(String, Value)> {
    let (content_type, schema) = document_body(spec, path, method)?;
    Some((content_type.to_owned(), schema.get("examples")?.get(0)?.clone()))
}

#[tokio::test]
async fn every_operation_answers_every_kind_of_principal_as_the_table_says() {
    // Hundreds of requests from one address, signing seven people in: this test is about authorization,
    // not the rate limiter (which has its own tests).
    // The server's clock reads the moment the published examples are written for, so their dates hold.
    let clock = std::sync::Arc::new(provider_api_core::clock::ManualClock::at(AS_OF));
    let app = TestApp::spawn_with_clock_and(clock, |config| {
        config.rate_limit_sign_in_per_address = std::num::NonZeroU32::new(100_000).unwrap();
        config.rate_limit_per_address = std::num::NonZeroU32::new(100_000).unwrap();
    })
    .await;
    let world = world(&app).await;
    let spec: Value = app.http.get(app.url("/v1/openapi.json")).send().await.unwrap().json().await.unwrap();

    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            operations.push((operation["operationId"].as_str().unwrap().to_owned(), path.clone(), method));
        }
    }
    let without_example: BTreeSet<&str> = operations
        .iter()
        .filter(|(_, path, method)| {
            document_body(&spec, path, method).is_some() && published_example(&spec, path, method).is_none()
        })
        .map(|(id, _, _)| id.as_str())
        .collect();
    assert!(without_example.is_empty(), "publish an example request body for: {without_example:?}");
    let unlisted: BTreeSet<&str> =
        operations.iter().map(|(id, _, _)| id.as_str()).filter(|id| expected(id).is_none()).collect();
    assert!(unlisted.is_empty(), "add these operations to the authorization matrix: {unlisted:?}");

    let mut wrong = Vec::new();
    for (operation, path, method) in &operations {
        let statuses = expected(operation).unwrap();
        for (who, (token, want)) in WHO.iter().zip(world.tokens.iter().zip(statuses)) {
            let mut builder = request(&app, &world, &spec, operation, path, method, false).await;
            if let Some(token) = token {
                builder = builder.bearer_auth(token);
            }
            let got = builder.send().await.unwrap().status().as_u16();
            if got != want {
                wrong.push(format!("{operation} as {who}: expected {want}, got {got}"));
            }
            // The same with an invalid JSON body: whoever may not act must learn nothing more (authorization
            // comes first); whoever may act is told the body is wrong.
            if document_body(&spec, path, method).is_some_and(|(content_type, _)| content_type.ends_with("json")) {
                let mut builder = request(&app, &world, &spec, operation, path, method, true).await;
                if let Some(token) = token {
                    builder = builder.bearer_auth(token);
                }
                let want = if (200..300).contains(&want) { 422 } else { want };
                let got = builder.send().await.unwrap().status().as_u16();
                if got != want {
                    wrong.push(format!("{operation} as {who} with an invalid body: expected {want}, got {got}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));
    // The whole spec was walked, not a part of it: a new operation changes this count along with its row.
    assert_eq!(operations.len(), 114, "the matrix walked {} operations", operations.len());
}
