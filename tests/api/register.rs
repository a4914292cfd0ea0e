//! The regulator's register, imported through the SDK (docs/register.md): a generated workbook uploaded to the
//! regulator's own organisation and imported; the same file again changes nothing; a newer file updates what
//! changed, an older one is reported in conflict; a provider from the file receives its code, enrols and
//! notifies at once. Files are generated (`provider_api_tests::register`), never real data.

use std::time::Duration;

use provider_api_core::accounts::REGULATOR_ORGANISATION;
use provider_api_sdk::types::{
    Enrolment, ImportReport, ImportStatus, MemberRoles, NewEnrolmentCodeRun, NewRegisterImport, NotificationContent,
    NotificationSubmission, Role,
};
use provider_api_sdk::upload::upload_document;
use provider_api_sdk::{Client, ProblemExt, idempotent};
use provider_api_tests::TestApp;
use provider_api_tests::register::RegisterFile;
use time::macros::date;
use uuid::Uuid;

const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";

/// Uploads `bytes` to the regulator's own files.
async fn upload(staff: &Client, name: &str, media_type: &str, bytes: Vec<u8>) -> Uuid {
    upload_document(staff, REGULATOR_ORGANISATION, name, media_type, bytes)
        .await
        .expect("staff upload register files")
        .id
}

/// Starts an import and waits for its end.
async fn import(staff: &Client, body: NewRegisterImport) -> ImportReport {
    let started = loop {
        match staff.start_register_import().body(body.clone()).send().await {
            Ok(started) => break started.into_inner(),
            // Scanning may still be under way.
            Err(e) if e.problem().is_some_and(|p| p.code == "document_not_clean") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the import was refused: {e:?}"),
        }
    };
    assert_eq!(started.status, ImportStatus::Running);
    for _ in 0..600 {
        let report = staff.get_register_import().import_id(started.id).send().await.unwrap().into_inner();
        if report.status != ImportStatus::Running {
            assert_eq!(report.status, ImportStatus::Finished, "{report:?}");
            return report;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import did not finish within a minute");
}

fn file_bytes(write: impl FnOnce(&std::path::Path) -> std::io::Result<()>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register");
    write(&path).unwrap();
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn a_provider_from_the_register_receives_its_code_enrols_and_notifies_at_once() {
    let app = TestApp::spawn().await;
    let staff = app.admin_staff().await;
    let mut file = RegisterFile::new(12, date!(2026 - 12 - 01));
    file.bad_rows = vec![5];
    let document =
        upload(&staff, "01_December_2026_HSCA_Active_Locations.ods", ODS, file_bytes(|p| file.write_ods(p))).await;

    // The workbook dates itself (README: "as at 01 December 2026").
    let first = import(&staff, NewRegisterImport::builder().document_id(document).try_into().unwrap()).await;
    assert_eq!(first.as_of.to_string(), "2026-12-01");
    assert_eq!(first.rows_read, 12);
    assert_eq!((first.providers.created, first.locations.created), (6, 11));
    assert_eq!(first.refused.count, 1);
    let refused = &first.refused.items[0];
    // Location 5 is the sixth data row: row 7 of the sheet.
    assert_eq!((refused.row, refused.location_id.as_deref()), (7, Some(RegisterFile::location_id(5).as_str())));
    assert!(refused.reason.contains("Location Postal Code"), "{}", refused.reason);

    let again = import(&staff, NewRegisterImport::builder().document_id(document).try_into().unwrap()).await;
    assert_eq!((again.providers.created, again.providers.updated, again.providers.unchanged), (0, 0, 6));
    assert_eq!((again.locations.created, again.locations.updated, again.locations.unchanged), (0, 0, 11));
    assert_eq!((again.refused.count, again.conflicts.count), (1, 0));

    // Codes for every provider nobody has enrolled for, for a letter run; then only those still needing one.
    let run = staff
        .issue_enrolment_codes()
        .body(NewEnrolmentCodeRun::builder().not_enrolled(true).expires_in_days(std::num::NonZeroU32::new(30)))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(run.issued, 6);
    let letter = run.codes.iter().find(|c| c.provider_id == RegisterFile::provider_id(0)).unwrap();
    assert_eq!(letter.postcode.as_deref(), Some("LS1 0BD"), "the provider's own address, from the register");
    let none_left =
        staff.issue_enrolment_codes().body(NewEnrolmentCodeRun::builder().not_enrolled(true)).send().await.unwrap();
    assert_eq!(none_left.into_inner().issued, 0, "a provider with a code out is not sent another");

    let demo = app.demo().await;
    let person = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;
    let enrolled =
        person.redeem_enrolment_code().body(Enrolment::builder().code(letter.code.clone())).send().await.unwrap();
    let organisation = enrolled.id;
    let me = person.get_me().send().await.unwrap().into_inner();
    let user_id = me.id;
    person
        .update_member()
        .organisation_id(organisation)
        .user_id(user_id)
        .body(MemberRoles::builder().roles(vec![Role::Admin, Role::Drafter, Role::Submitter]))
        .send()
        .await
        .unwrap();
    let locations = person.list_locations().organisation_id(organisation).send().await.unwrap().into_inner().items;
    let location = locations.iter().find(|l| l.location_id.as_deref() == Some(RegisterFile::location_id(0).as_str()));
    let location = location.expect("the register's location is the provider's").id;
    // The register's manager arrives as a name only: unverified, and no person's account.
    let details = person.registration_details().organisation_id(organisation).send().await.unwrap().into_inner();
    let here = details.locations.iter().find(|l| l.id == location).unwrap();
    let published = here.published_manager.as_ref().expect("the register names a manager here");
    assert_eq!((published.full_name.as_str(), published.verified), ("Manager 000000 Example", false));
    assert!(here.manager.is_none(), "never taken for a registered manager of this service");
    let submission = NotificationSubmission {
        location_id: Some(location),
        follows_id: None,
        content: serde_json::from_value::<NotificationContent>(provider_api_tests::forms::valid("serious_injury"))
            .unwrap(),
        attachments: Vec::new(),
    };
    let sent = idempotent::with_key(|key| {
        person
            .submit_new_notification()
            .organisation_id(organisation)
            .idempotency_key(key)
            .body(submission.clone())
            .send()
    })
    .await
    .unwrap_or_else(|e| panic!("the provider could not notify: {e:?}"))
    .into_inner();
    assert_eq!(sent.status, provider_api_sdk::types::Status::Submitted, "submitted at once");
    assert!(sent.receipt.is_some(), "with its receipt");

    let enrolments = staff.list_enrolments().status(provider_api_sdk::types::EnrolmentStatus::Enrolled).send().await;
    let enrolments = enrolments.unwrap().into_inner().items;
    let from_file: Vec<&str> = enrolments
        .iter()
        .map(|e| e.provider_id.as_str())
        .filter(|id| (0..6).any(|p| RegisterFile::provider_id(p) == *id))
        .collect();
    assert_eq!(from_file, [RegisterFile::provider_id(0)], "of the file's providers, the one that enrolled");
    let waiting = staff.list_enrolments().status(provider_api_sdk::types::EnrolmentStatus::Waiting).send().await;
    assert_eq!(waiting.unwrap().into_inner().items.len(), 5);

    // A reissue ends the code before it.
    let reissued = staff
        .issue_enrolment_codes()
        .body(NewEnrolmentCodeRun::builder().provider_ids(vec![RegisterFile::provider_id(1)]))
        .send()
        .await
        .unwrap()
        .into_inner();
    let old = run.codes.iter().find(|c| c.provider_id == RegisterFile::provider_id(1)).unwrap();
    let stale = person.redeem_enrolment_code().body(Enrolment::builder().code(old.code.clone())).send().await;
    assert_eq!(stale.unwrap_err().problem().unwrap().errors[0].code, "invalid_code", "the old code ended");
    assert_eq!(reissued.issued, 1);
}

#[tokio::test]
async fn a_newer_file_updates_what_changed_an_older_one_is_a_conflict_and_every_change_is_recorded() {
    let app = TestApp::spawn().await;
    let staff = app.admin_staff().await;
    let csv = |file: &RegisterFile| file_bytes(|p| file.write_csv(p));
    let november = RegisterFile::new(6, date!(2026 - 11 - 01));
    let first = upload(&staff, "november.csv", "text/csv", csv(&november)).await;
    let body = |document: Uuid, as_of: &str| -> NewRegisterImport {
        NewRegisterImport::builder().document_id(document).as_of(Some(as_of.parse().unwrap())).try_into().unwrap()
    };
    let created = import(&staff, body(first, "2026-11-01")).await;
    assert_eq!((created.providers.created, created.locations.created), (3, 6));

    // December's file renames locations 0 and 3.
    let december = RegisterFile { change_every: 3, ..RegisterFile::new(6, date!(2026 - 12 - 01)) };
    let newer = upload(&staff, "december.csv", "text/csv", csv(&december)).await;
    let updated = import(&staff, body(newer, "2026-12-01")).await;
    assert_eq!((updated.locations.updated, updated.locations.unchanged), (2, 4));
    assert_eq!(updated.conflicts.count, 0);

    // November's file again, now older than what it would undo: reported, not written.
    let older = import(&staff, body(first, "2026-11-01")).await;
    assert_eq!((older.locations.updated, older.conflicts.count), (0, 2));
    assert!(older.conflicts.items.iter().all(|c| c.reason.contains("newer source")), "{:?}", older.conflicts.items);

    // The change is in the provider's event feed and in the audit trail, with the fields it changed.
    let store = app.store.clone();
    let provider =
        store.register_records(&[RegisterFile::provider_id(0)], &[RegisterFile::location_id(0)]).await.unwrap();
    let location = &provider.1[0];
    assert_eq!(location.state.name, "Example House 000000 (renamed)");
    assert_eq!(location.provenance.unwrap().as_of, date!(2026 - 12 - 01));
    let events = store
        .organisation_events(
            location.organisation_id,
            0,
            &provider_api_store::registrations::EventFilter {
                notifications: false,
                documents: false,
                locations: None,
                applications: false,
            },
            100,
        )
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = events.iter().map(|e| (e.object_type.as_str(), e.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("organisation", "register_created"),
            ("location", "register_created"),
            ("location", "register_created"),
            ("location", "register_updated")
        ]
    );
    let audit =
        staff.list_audit_entries().action("register_import.updated_location").send().await.unwrap().into_inner().items;
    assert_eq!(audit.len(), 2);
    let detail: serde_json::Value = serde_json::from_str(audit[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["fields"], serde_json::json!(["name"]));
    assert_eq!(detail["as_of"], "2026-12-01");
}

#[tokio::test]
async fn only_the_regulators_administrators_reach_its_files() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let refused = upload_document(&admin, REGULATOR_ORGANISATION, "x.csv", "text/csv", b"a,b\n".to_vec()).await;
    assert_eq!(refused.unwrap_err().status(), Some(404), "a provider's admin does not see the regulator's files");
    let triage = app.triage_staff().await;
    let refused = upload_document(&triage, REGULATOR_ORGANISATION, "x.csv", "text/csv", b"a,b\n".to_vec()).await;
    assert_eq!(refused.unwrap_err().status(), Some(404), "nor does staff without staff_admin");
    // A provider's own document is not the regulator's to import.
    let theirs =
        upload_document(&admin, demo.organisation_id, "mine.csv", "text/csv", b"a,b\n".to_vec()).await.unwrap();
    let staff = app.admin_staff().await;
    let import = staff
        .start_register_import()
        .body(
            NewRegisterImport::builder()
                .document_id(theirs.id)
                .kind(Some(provider_api_sdk::types::Kind::Csv))
                .as_of(Some("2026-12-01".parse().unwrap())),
        )
        .send()
        .await;
    assert_eq!(import.unwrap_err().http_status(), Some(404));
    // A date after today is a typo, refused before anything is read.
    let ours = upload(&staff, "register.csv", "text/csv", b"a,b\n".to_vec()).await;
    let future = staff
        .start_register_import()
        .body(NewRegisterImport::builder().document_id(ours).as_of(Some("2999-01-01".parse().unwrap())))
        .send()
        .await
        .unwrap_err();
    assert_eq!(future.problem().unwrap().errors[0].code, "as_of_in_future");
}

#[tokio::test]
async fn the_streaming_workbook_reader_reads_what_an_independent_reader_reads() {
    use calamine::{Reader, open_workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.ods");
    let mut file = RegisterFile::new(40, date!(2026 - 12 - 01));
    file.bad_rows = vec![3];
    file.write_ods(&path).unwrap();
    let mut ours: Vec<Vec<String>> = Vec::new();
    provider_api_http::register::read::read_ods_sheet(&path, "HSCA_Active_Locations", &mut |_, cells| {
        ours.push(cells.to_vec());
        true
    })
    .unwrap();
    let mut workbook: calamine::Ods<_> = open_workbook(&path).unwrap();
    let range = workbook.worksheet_range("HSCA_Active_Locations").unwrap();
    let theirs: Vec<Vec<String>> = range
        .rows()
        .map(|row| {
            let mut cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    calamine::Data::DateTimeIso(text) => text.chars().take(10).collect(),
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string(),
                })
                .collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .filter(|row| !row.is_empty())
        .collect();
    assert_eq!(ours.len(), 41, "the heading row and forty locations");
    assert_eq!(ours, theirs);
    assert_eq!(provider_api_http::register::read::ods_as_of(&path).unwrap(), Some(date!(2026 - 12 - 01)));
}
