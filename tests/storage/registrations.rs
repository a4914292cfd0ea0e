//! Registration applications, registered details and the event feed: the same expectations of both engines.

use provider_api_core::accounts::{Location, Organisation};
use provider_api_core::actor::Actor;
use provider_api_core::registrations::model::{Action, Application, Event, Filter, SectionRow, Status};
use provider_api_core::registrations::registered::{
    Changes, Condition, NewRegisteredLocation, Partner, RegisteredManager,
};
use provider_api_store::Store;
use provider_api_store::registrations::{EventFilter, SectionWrite};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::fresh_store;

async fn organisation(store: &dyn Store) -> (Uuid, Uuid) {
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
    store.create_organisation(&organisation).await.unwrap();
    let location = Location {
        id: Uuid::new_v4(),
        organisation_id: organisation.id,
        location_id: None,
        name: "Riverside House".into(),
        address_line_1: "2 River Lane".into(),
        address_line_2: None,
        town: "Newcastle upon Tyne".into(),
        postcode: "NE1 4ST".into(),
        created_at: now,
    };
    store.create_location(&location).await.unwrap();
    (organisation.id, location.id)
}

fn draft(organisation_id: Uuid, created_at: OffsetDateTime) -> (Application, Vec<SectionRow>) {
    let id = Uuid::now_v7();
    let application = Application {
        id,
        organisation_id,
        kind: "add_partner".parse().unwrap(),
        status: Status::Draft,
        version: 1,
        created_by_user: Some(Uuid::new_v4()),
        created_by_client: None,
        edited_by_user: None,
        edited_by_client: None,
        created_at,
        updated_at: created_at,
        reference: None,
        submitted_at: None,
        submitted_by_user: None,
        submitted_by_client: None,
        content_sha256: None,
        receipt: None,
        accepted_at: None,
        inspector_id: None,
        decided_at: None,
        workflow: "{}".parse().unwrap(),
        approved_by_user: None,
        approved_version: None,
        approved_at: None,
    };
    let sections = ["who", "when", "documents", "declaration"]
        .iter()
        .map(|name| SectionRow {
            application_id: id,
            name: name.parse().unwrap(),
            content: "{}".parse().unwrap(),
            version: 1,
            edited_by_user: None,
            edited_by_client: None,
            updated_at: created_at,
        })
        .collect();
    (application, sections)
}

fn actor() -> Actor {
    Actor { user: Some(Uuid::new_v4()), client: None }
}

#[tokio::test]
async fn a_section_edit_moves_the_application_on_and_a_stale_or_frozen_edit_writes_nothing() {
    let (store, _db) = fresh_store().await;
    let (org, _) = organisation(store.as_ref()).await;
    let now = OffsetDateTime::now_utc();
    let (application, sections) = draft(org, now);
    let created = Event::new(application.id, Action::Created, actor(), now);
    store.insert_application(&application, &sections, &[created], None).await.unwrap();

    let who = SectionRow {
        content: r#"{"partner":{"full_name":"Ünïcode 'Partner'"}}"#.parse().unwrap(),
        version: 2,
        edited_by_user: Some(Uuid::new_v4()),
        ..sections[0].clone()
    };
    let edit = Event::new(application.id, Action::SectionEdited, actor(), now);
    assert_eq!(store.update_section(&who, 1, &edit).await.unwrap(), SectionWrite::Written);
    let stored = store.application(application.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2, "the application's version moves with any section");
    assert_eq!(stored.edited_by_user, who.edited_by_user, "and it records the last editor");
    let read = store.application_sections(application.id).await.unwrap();
    assert_eq!(read.iter().find(|s| s.name.as_str() == "who").unwrap().content, who.content);

    let again = Event::new(application.id, Action::SectionEdited, actor(), now);
    assert_eq!(store.update_section(&who, 1, &again).await.unwrap(), SectionWrite::Stale);
    assert_eq!(store.application(application.id).await.unwrap().unwrap().version, 2, "a stale edit writes nothing");

    let submitted = stored.moved(Status::Submitted, now);
    assert!(store.update_application(&submitted, 2, &[], None, None).await.unwrap());
    assert!(!store.update_application(&submitted, 2, &[], None, None).await.unwrap(), "one writer per version");
    let late = SectionRow { version: 3, content: "{}".parse().unwrap(), ..who.clone() };
    let frozen = Event::new(application.id, Action::SectionEdited, actor(), now);
    assert_eq!(store.update_section(&late, 2, &frozen).await.unwrap(), SectionWrite::Frozen);
    let read = store.application_sections(application.id).await.unwrap();
    assert_eq!(read.iter().find(|s| s.name.as_str() == "who").unwrap().content, who.content, "sent content stays");
    let history = store.application_events(application.id).await.unwrap();
    assert_eq!(history.len(), 2, "only the written edit is in the history");
}

#[tokio::test]
async fn a_decision_changes_the_registered_details_with_it_or_not_at_all() {
    let (store, _db) = fresh_store().await;
    let (org, existing) = organisation(store.as_ref()).await;
    let now = OffsetDateTime::now_utc();
    assert!(store.registered_activities(org).await.unwrap().is_empty(), "nothing is registered yet");

    // Brought across from the register: one location, two activities, a condition.
    let condition = Uuid::now_v7();
    let imported = Changes {
        provider_id: Some("1-123456789".into()),
        register_locations: vec![(existing, "1-987654321".into())],
        add_activities: vec![(existing, "personal_care".into()), (existing, "nursing_care".into())],
        add_conditions: vec![Condition {
            id: condition,
            location_id: Some(existing),
            wording: "At most 40.".into(),
            imposed_at: now,
        }],
        ..Default::default()
    };
    store.record_registration(org, &imported, now).await.unwrap();
    let details = store.registered_details(org).await.unwrap();
    assert_eq!(details.provider_id.as_deref(), Some("1-123456789"));
    assert_eq!(details.locations[0].location_id, "1-987654321");
    assert_eq!(details.locations[0].activities, ["nursing_care", "personal_care"]);
    assert_eq!(details.conditions[0].wording, "At most 40.");

    // A grant: a new location with its activity and manager, a partner, the condition varied, an activity
    // removed. A decision whose version is stale changes nothing at all.
    let (application, sections) = draft(org, now);
    store.insert_application(&application, &sections, &[], None).await.unwrap();
    let new_location = Uuid::now_v7();
    let grant = Changes {
        new_locations: vec![NewRegisteredLocation {
            id: new_location,
            location_id: "1-555555555".into(),
            name: "Riverside Lodge".into(),
            line_1: "4 River Lane".into(),
            line_2: None,
            town: "Newcastle upon Tyne".into(),
            postcode: "NE1 4ST".into(),
        }],
        add_activities: vec![(new_location, "personal_care".into())],
        remove_activities: vec![(existing, "nursing_care".into())],
        managers: vec![(
            new_location,
            RegisteredManager { full_name: "Alex Reid".into(), email: "a@r.example".into(), registered_at: now },
        )],
        add_partners: vec![Partner {
            id: Uuid::now_v7(),
            full_name: "Bo Chen".into(),
            email: "b@c.example".into(),
            registered_at: now,
        }],
        vary_conditions: vec![(condition, "At most 45.".into())],
        ..Default::default()
    };
    let decided = Application { status: "granted".parse().unwrap(), version: 2, ..application.clone() };
    assert!(!store.update_application(&decided, 7, &[], None, Some(&grant)).await.unwrap());
    assert_eq!(store.registered_details(org).await.unwrap(), details, "a lost race changes nothing");
    assert!(store.update_application(&decided, 1, &[], None, Some(&grant)).await.unwrap());
    let after = store.registered_details(org).await.unwrap();
    assert_eq!(after.locations.len(), 2);
    assert_eq!(after.locations[0].activities, ["personal_care"]);
    let lodge = after.location(new_location).unwrap();
    assert_eq!(lodge.manager.as_ref().unwrap().full_name, "Alex Reid");
    assert_eq!(after.partners[0].full_name, "Bo Chen");
    assert_eq!(after.conditions[0].wording, "At most 45.");
    let activities = store.registered_activities(org).await.unwrap();
    assert_eq!(activities.len(), 2);
    assert!(activities.iter().all(|(_, a)| a == &["personal_care"]));

    // Cancelling everything deregisters every location, with its activities and manager.
    let (cancellation, sections) = draft(org, now);
    store.insert_application(&cancellation, &sections, &[], None).await.unwrap();
    let cancelled = Application { status: "granted".parse().unwrap(), version: 2, ..cancellation };
    let all = Changes { cancel_all: true, ..Default::default() };
    assert!(store.update_application(&cancelled, 1, &[], None, Some(&all)).await.unwrap());
    assert!(store.registered_details(org).await.unwrap().locations.is_empty());
    assert!(store.registered_activities(org).await.unwrap().is_empty());
}

#[tokio::test]
async fn status_changes_enter_the_feed_in_order_and_other_history_does_not() {
    let (store, _db) = fresh_store().await;
    let (org, _) = organisation(store.as_ref()).await;
    let (other_org, _) = organisation(store.as_ref()).await;
    let now = OffsetDateTime::now_utc();
    let (application, sections) = draft(org, now);
    let created = Event::new(application.id, Action::Created, actor(), now);
    store.insert_application(&application, &sections, &[created], None).await.unwrap();
    store.append_application_event(&Event::new(application.id, Action::ViewedByStaff, actor(), now)).await.unwrap();
    let submitted =
        Event::new(application.id, Action::Submitted, actor(), now).transition(Status::Draft, Status::Submitted);
    let moved = application.moved(Status::Submitted, now);
    assert!(store.update_application(&moved, 1, &[submitted], None, None).await.unwrap());
    let (theirs, sections) = draft(other_org, now);
    let created = Event::new(theirs.id, Action::Created, actor(), now);
    store.insert_application(&theirs, &sections, &[created], None).await.unwrap();

    let everything = EventFilter { notifications: true, documents: true, locations: None, applications: true };
    let feed = store.organisation_events(org, 0, &everything, 100).await.unwrap();
    let seen: Vec<(i64, &str, &str)> = feed.iter().map(|e| (e.seq, e.action.as_str(), e.status.as_str())).collect();
    assert_eq!(seen, [(1, "created", "draft"), (2, "submitted", "submitted")], "a staff read is not a status change");
    assert_eq!(store.organisation_events(org, 1, &everything, 100).await.unwrap().len(), 1, "after a cursor");
    assert_eq!(store.organisation_events(other_org, 0, &everything, 100).await.unwrap()[0].seq, 1, "per organisation");
    let notifications_only = EventFilter { applications: false, ..everything.clone() };
    assert!(store.organisation_events(org, 0, &notifications_only, 100).await.unwrap().is_empty());

    // Many writers at once: every event gets its own number, with no gaps.
    let mut writers = Vec::new();
    for _ in 0..20 {
        let store = store.clone();
        let id = application.id;
        writers.push(tokio::spawn(async move {
            let event = Event::new(id, Action::InformationRequested, actor(), OffsetDateTime::now_utc())
                .transition(Status::UnderAssessment, Status::InformationRequested);
            store.append_application_event(&event).await.unwrap();
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let feed = store.organisation_events(org, 0, &everything, 100).await.unwrap();
    let numbers: Vec<i64> = feed.iter().map(|e| e.seq).collect();
    assert_eq!(numbers, (1..=22).collect::<Vec<i64>>());
}

#[tokio::test]
async fn the_queue_filters_by_status_inspector_and_acceptance() {
    let (store, _db) = fresh_store().await;
    let (org, _) = organisation(store.as_ref()).await;
    let start = OffsetDateTime::now_utc() - Duration::days(100);
    let roles = [provider_api_core::capability::StaffRole::StaffRegistration].into();
    let inspector = provider_api_http::bootstrap::create_staff(
        store.as_ref(),
        "ina@cqc.example",
        "Ina",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap()
    .id;
    let mut ids = Vec::new();
    for i in 0..4 {
        let (mut application, sections) = draft(org, start + Duration::days(i));
        if i > 0 {
            application.status = Status::UnderAssessment;
            application.accepted_at = Some(start + Duration::days(i * 20));
        }
        if i == 3 {
            application.inspector_id = Some(inspector);
        }
        store.insert_application(&application, &sections, &[], None).await.unwrap();
        ids.push(application.id);
    }
    let page = |filter: Filter| {
        let store = store.clone();
        async move {
            store
                .applications(&filter, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    let assessing = Filter { statuses: vec![Status::UnderAssessment], ..Default::default() };
    assert_eq!(page(assessing.clone()).await, ids[1..]);
    assert_eq!(page(Filter { inspector_id: Some(inspector), ..assessing.clone() }).await, ids[3..]);
    let overdue = Filter { accepted_before: Some(start + Duration::days(30)), ..assessing };
    assert_eq!(page(overdue).await, ids[1..2]);
    let after = store.applications(&Filter::default(), start + Duration::days(1), ids[1], 10).await.unwrap();
    assert_eq!(after.iter().map(|a| a.id).collect::<Vec<_>>(), ids[2..], "pages after a cursor");
}
