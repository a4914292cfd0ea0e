//! The portal in real headless Chromium: every page of the manifest (`manifest.json`) in each of its states,
//! checked with axe-core (WCAG 2.2 AA and best practice: 0 violations), at 320 px (no sideways scroll), with a
//! screenshot under `target/browser-screenshots/`; then a keyboard-only journey and one with JavaScript off.
//! This harness starts the server with the portal (as `provider-api serve` does), makes the data each state
//! needs, and runs `run.mjs` with Debian's Chromium and the npm packages `cargo xtask test` installs. It fails,
//! never skips, when they are missing, and when a page of the portal has no entry in the manifest.

use std::path::{Path, PathBuf};

use provider_api_portal::forms::Form;
use provider_api_portal::forms::answers::form_values;
use provider_api_sdk::types::{NewInformationRequest, NewInvitation, Role};
use provider_api_tests::TestApp;
use provider_api_tests::forms::{TYPES, valid};
use provider_api_tests::services::{Clamd, EICAR};
use provider_api_tests::smtp::SmtpSink;
use serde_json::{Value, json};

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Where screenshots go: beside the build, so nothing is written into the source tree.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").join("target"),
        PathBuf::from,
    );
    target.join("browser-screenshots")
}

#[test]
fn the_manifest_visits_every_page_of_the_portal() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(here().join("manifest.json")).unwrap()).unwrap();
    let routes: Vec<&str> =
        manifest["entries"].as_array().unwrap().iter().map(|e| e["route"].as_str().unwrap()).collect();
    for page in provider_api_portal::PAGES {
        assert!(routes.contains(page), "{page} has no entry in tests/browser/manifest.json");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_in_every_state_passes_axe_reflows_and_works_by_keyboard_and_without_javascript() {
    let chromium = std::env::var("TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "no Chromium at {chromium}: run the tests with `cargo xtask test`, which installs it"
    );
    let modules = here().join("node_modules");
    assert!(
        modules.join("playwright-core").exists() && modules.join("axe-core").exists(),
        "the browser tests' npm packages are missing: run the tests with `cargo xtask test`, which installs them"
    );

    // Invitations go by real SMTP to a sink, where the journeys' links are read.
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    // Documents are checked by a real clamd, so the pages show what it found.
    let clamd = Clamd::start();
    let clamd_url = clamd.url();
    let app = TestApp::spawn_with_portal(move |config| {
        config.smtp_url = Some(smtp.into());
        config.clamd_address = Some(clamd_url);
    })
    .await;
    let demo = app.demo().await;
    let other = app.demo().await;
    let draft = app.demo_draft(&demo, valid("serious_injury")).await;
    let empty_draft = app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    let sent = app.demo_sent(&demo, valid("serious_injury")).await;
    // Under four eyes, the check page as the submitter who made the last change sees it, and an approved draft.
    let submitter = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "submitter")).unwrap();
    let submitter = app.sdk_for_person(&submitter.email, &submitter.password).await;
    let own_edit = app.demo_draft(&demo, valid("serious_injury")).await;
    let approved = app.demo_draft(&demo, valid("serious_injury")).await;
    for (id, approve) in [(own_edit, false), (approved, true)] {
        let get = submitter.get_notification().organisation_id(demo.organisation_id).notification_id(id);
        let version = format!("\"{}\"", get.send().await.unwrap().version);
        if approve {
            let request = submitter.approve_notification().organisation_id(demo.organisation_id).notification_id(id);
            request.if_match(version).send().await.unwrap();
        } else {
            let content = json!({"reporter": {"provider_reference": "INC-0001"}}).as_object().unwrap().clone();
            let patch = provider_api_sdk::types::NotificationPatch {
                content,
                attachments: None,
                follows_id: None,
                location_id: None,
            };
            let request = submitter.update_notification().organisation_id(demo.organisation_id).notification_id(id);
            request.if_match(version).body(patch).send().await.unwrap();
        }
    }
    // More than a page of notifications, so the list shows its pages.
    for _ in 0..20 {
        app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    }
    // An organisation with two registered locations, whose drafts ask which one.
    let several = app.demo().await;
    app.demo_location(&several, "Riverside Court").await;
    let unlocated = app.demo_draft_at(&several, None, json!({"type": "serious_injury"})).await;
    let located = app.demo_draft(&several, json!({"type": "serious_injury"})).await;
    // The regulator's questions: one to see (and refuse an empty answer to), one to answer.
    let triage = app.triage_staff().await;
    let ask = |id: uuid::Uuid| {
        let due = serde_json::from_value::<chrono::NaiveDate>(json!("2099-01-31")).unwrap();
        let request = NewInformationRequest::builder().message("Which member of staff found them?").due_on(due);
        let triage = triage.clone();
        async move {
            triage.acknowledge_notification().notification_id(id).send().await.unwrap();
            triage.request_information().notification_id(id).body(request).send().await.unwrap()
        }
    };
    let asked = app.demo_sent(&demo, valid("serious_injury")).await;
    ask(asked).await;
    let to_answer = app.demo_sent(&demo, valid("serious_injury")).await;
    ask(to_answer).await;
    let question = app.demo_sent(&demo, valid("serious_injury")).await;
    ask(question).await;

    // The team of `other` (whose admin visits the team pages): a member to change, one to remove, the admin
    // themselves (the last admin, who cannot be removed), and invitations: one waiting, and one each for the
    // accept page's success state and the keyboard and JavaScript-off journeys.
    let admin_of = |demo: &provider_api_http::bootstrap::DemoCredentials| {
        let admin = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "admin")).unwrap();
        let (email, password, app) = (admin.email.clone(), admin.password.clone(), &app);
        async move { app.sdk_for_person(&email, &password).await }
    };
    let other_admin = admin_of(&other).await;
    let team =
        other_admin.list_members().organisation_id(other.organisation_id).send().await.unwrap().into_inner().items;
    let member_id = |email: &str| team.iter().find(|m| m.email == email).unwrap().user_id.to_string();
    let member = member_id(&other.users[1].email);
    let removable = member_id(&other.users[3].email);
    let admin_self = member_id(&other.users[0].email);
    let invite = |email: &'static str| {
        let other_admin = other_admin.clone();
        let sink = &sink;
        let organisation = other.organisation_id;
        async move {
            let invitation = NewInvitation::builder().email(email).roles(vec![Role::Drafter]);
            other_admin.create_invitation().organisation_id(organisation).body(invitation).send().await.unwrap();
            sink.message_to(email).await
        }
    };
    invite("waiting.person@example.org").await;
    let link = |email: provider_api_tests::smtp::Received| {
        let link = email.link_to("/invitations/accept?token=");
        link[link.find("/invitations/").unwrap()..].to_owned()
    };
    let accept_link = link(invite("accept.page@example.org").await);
    let keyboard_link = link(invite("keyboard.person@example.org").await);
    let nojs_link = link(invite("nojs.person@example.org").await);
    // An organisation with two locations, whose admin limits a member to some.
    let several_admin = admin_of(&several).await;
    let several_team =
        several_admin.list_members().organisation_id(several.organisation_id).send().await.unwrap().into_inner().items;
    let several_member = several_team.iter().find(|m| m.email == several.users[1].email).unwrap().user_id.to_string();
    // A one-person provider: the second submitter leaves, so the first sends their own.
    // An organisation that requires a second factor of its admins: its admin sets one up in the journey.
    let guarded = app.demo().await;
    app.store.set_two_factor_policy(guarded.organisation_id, true, time::OffsetDateTime::now_utc()).await.unwrap();
    let sole = app.demo().await;
    let sole_admin = admin_of(&sole).await;
    let sole_team =
        sole_admin.list_members().organisation_id(sole.organisation_id).send().await.unwrap().into_inner().items;
    let reviewer = sole_team.iter().find(|m| m.email == sole.users[3].email).unwrap().user_id;
    sole_admin.remove_member().organisation_id(sole.organisation_id).user_id(reviewer).send().await.unwrap();

    // Documents: a clean one attached to the complete draft, one more to attach, one a virus; and drafts for
    // the upload journeys.
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let upload = |filename: &'static str, content: &'static [u8]| {
        let software = software.clone();
        let organisation = demo.organisation_id;
        async move {
            let document =
                provider_api_sdk::upload::upload_document(&software, organisation, filename, "text/plain", content)
                    .await
                    .unwrap();
            // Until the scan has finished, so each page shows what it found.
            for _ in 0..100 {
                let get = software.get_document().organisation_id(organisation).document_id(document.id);
                if get.send().await.unwrap().scan_status != provider_api_sdk::types::ScanStatus::Pending {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            document.id
        }
    };
    let incident_log = upload("incident-log.txt", b"Incident log: 20 November, 14:05, lounge.").await;
    upload("handover-notes.txt", b"Handover notes, night shift.").await;
    let infected = upload("eicar.txt", EICAR).await;
    let get = software.get_notification().organisation_id(demo.organisation_id).notification_id(draft);
    let version = format!("\"{}\"", get.send().await.unwrap().version);
    let attach = provider_api_sdk::types::NotificationPatch {
        attachments: Some(vec![provider_api_sdk::types::NewAttachment {
            document_id: incident_log,
            purpose: provider_api_sdk::types::AttachmentPurpose::Evidence,
        }]),
        content: serde_json::Map::new(),
        follows_id: None,
        location_id: None,
    };
    let update = software.update_notification().organisation_id(demo.organisation_id).notification_id(draft);
    update.if_match(version).body(attach).send().await.unwrap();
    let attach_keyboard = app.demo_draft(&demo, valid("serious_injury")).await;
    let attach_nojs = app.demo_draft(&demo, valid("serious_injury")).await;
    // Drafts two people edit at once, in the edit-conflict journeys.
    let conflict_keyboard = app.demo_draft(&demo, valid("serious_injury")).await;
    let conflict_nojs = app.demo_draft(&demo, valid("serious_injury")).await;

    // Every type's form, page by page, with the answers the portal would show for its published example: the
    // browser walks each from start to "check your answers".
    let types = app.client.list_notification_types().send().await.unwrap().into_inner().items;
    let walks: Vec<Value> = TYPES
        .iter()
        .map(|kind| {
            let schema = Value::Object(types.iter().find(|t| t.type_.to_string() == *kind).unwrap().schema.clone());
            let pages = Form::published(&schema).pages().unwrap();
            let content = valid(kind);
            let pages: Vec<Value> = pages.iter().map(|page| json!(form_values(&page.questions, &content))).collect();
            json!({"type": kind, "pages": pages})
        })
        .collect();

    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(here().join("manifest.json")).unwrap()).unwrap();
    let fill = |path: &str| {
        path.replace("{draft}", &draft.to_string())
            .replace("{empty_draft}", &empty_draft.to_string())
            .replace("{sent}", &sent.to_string())
            .replace("{asked}", &asked.to_string())
            .replace("{unlocated}", &unlocated.to_string())
            .replace("{located}", &located.to_string())
            .replace("{to_answer}", &to_answer.to_string())
            .replace("{own_edit}", &own_edit.to_string())
            .replace("{approved}", &approved.to_string())
            .replace("{bad_token}", "paw_not-a-real-link")
            .replace("{member}", &member)
            .replace("{removable}", &removable)
            .replace("{admin_self}", &admin_self)
            .replace("{several_member}", &several_member)
            .replace("{accept_link}", &accept_link)
            .replace("{infected}", &infected.to_string())
            .replace("{incident_log}", &incident_log.to_string())
            .replace("{member_email}", &other.users[1].email)
    };
    let entries: Vec<Value> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            entry["path"] = Value::from(fill(entry["path"].as_str().unwrap()));
            if let Some(button) = entry["button"].as_str() {
                entry["button"] = Value::from(fill(button));
            }
            if let Some(fields) = entry["fields"].as_object_mut() {
                for value in fields.values_mut() {
                    if let Some(text) = value.as_str() {
                        *value = Value::from(fill(text));
                    }
                }
            }
            entry
        })
        .collect();
    let person = |role: &str, demo: &provider_api_http::bootstrap::DemoCredentials| {
        let user = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == role)).unwrap();
        json!({"email": user.email, "password": user.password})
    };
    let scratch = tempfile::tempdir().unwrap();
    // This run's screenshots only: a page that has gone must not leave an old picture behind.
    let _ = std::fs::remove_dir_all(screenshots());
    std::fs::create_dir_all(screenshots()).unwrap();
    let config = json!({
        "base_url": app.base_url,
        "chromium": chromium,
        "scratch": scratch.path(),
        "screenshots": screenshots(),
        "users": {
            "drafter": person("drafter", &demo),
            "submitter": person("submitter", &demo),
            "leaving": person("drafter", &demo),
            "admin": person("admin", &other),
            "several": person("drafter", &several),
            "several_admin": person("admin", &several),
            "sole": person("submitter", &sole),
            "two_factor": person("admin", &guarded),
            "keyboard_invitee": {"email": "keyboard.person@example.org", "password": "keyboard journey passphrase",
                "name": "Kim Keyboard", "link": keyboard_link},
            "nojs_invitee": {"email": "nojs.person@example.org", "password": "plain forms passphrase",
                "name": "Nat Forms", "link": nojs_link},
        },
        "invitations": {"keyboard_invites": "keyboard.invited@example.org", "nojs_invites": "nojs.invited@example.org"},
        "paths": {
            "question": format!("/notifications/{question}"),
            "form_page": format!("/notifications/{empty_draft}/pages/1"),
            "attach_keyboard": format!("/notifications/{attach_keyboard}/check"),
            "attach_nojs": format!("/notifications/{attach_nojs}/documents"),
            "conflict_keyboard": format!("/notifications/{conflict_keyboard}"),
            "conflict_nojs": format!("/notifications/{conflict_nojs}"),
        },
        "walks": walks,
        "entries": entries,
    });
    // The file the upload states and journeys choose, as a person would from their computer.
    std::fs::write(scratch.path().join("evidence.txt"), "Body map notes: bruise on the left forearm, 3 cm.").unwrap();
    let config_file = scratch.path().join("config.json");
    std::fs::write(&config_file, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

    let started = std::time::Instant::now();
    // Off the runtime's threads: the server this test started keeps serving the browser meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg(here().join("run.mjs")).arg(&config_file).current_dir(here()).output()
    })
    .await
    .unwrap()
    .expect("node runs (cargo xtask test installs it when missing)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    eprintln!("browser checks took {:?}; screenshots in {}", started.elapsed(), screenshots().display());
    assert!(output.status.success(), "the browser checks failed:\n{stdout}");
    assert!(stdout.contains(&format!("checked {} manifest entries", entries.len())), "{stdout}");
    // The invitations the browser sent arrived, each with its link to the portal's accept page.
    for email in ["new.colleague@example.org", "keyboard.invited@example.org", "nojs.invited@example.org"] {
        sink.message_to(email).await.link_to("/invitations/accept?token=");
    }
    // The journeys' requests for review reached the demo's submitters, each with the draft's check page.
    let demo_submitter =
        &demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "submitter")).unwrap().email;
    let reviews = sink.messages_for(demo_submitter);
    let reviews: Vec<_> =
        reviews.iter().filter(|m| m.subject() == "A notification is waiting for your review").collect();
    assert!(reviews.len() >= 3, "the keyboard, no-JavaScript and manifest requests for review: {reviews:?}");
    assert!(reviews.iter().all(|m| m.link_to("/notifications/").ends_with("/check")));
    // Every email this run caused (the harness's own and the browser's), as the SMTP server received it: who
    // to, the subject, and the links (without an invitation's secret: a log is no place for one).
    for message in sink.messages() {
        let links: Vec<String> = message
            .links()
            .into_iter()
            .map(|link| match link.split_once("token=") {
                Some((before, _)) => format!("{before}token=pai_…"),
                None => link,
            })
            .collect();
        eprintln!("emailed {}: {}; {}", message.recipients.join(", "), message.subject(), links.join(" "));
    }
}
