//! The email outbox (docs/emails.md) on every engine: what people hear about is found in the histories and
//! handled once; an email is queued once per person and thing; only one node claims an email at a time; a
//! failure is retried or given up; choices read back; disabled people and other organisations are nobody's
//! recipients.

use provider_api_core::accounts::{Membership, Organisation, User, normalise_email};
use provider_api_core::actor::Actor;
use provider_api_core::emails::{EmailKind, QueuedEmail};
use provider_api_core::notifications::{Action, Event, Notification, Status};
use provider_api_store::Store;
use provider_api_store::emails::TriggerKey;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::fresh_store;

/// Now, at the precision both engines keep.
fn now() -> OffsetDateTime {
    provider_api_core::clock::Clock::now(&provider_api_core::clock::SystemClock)
}

async fn organisation(store: &dyn Store) -> Uuid {
    let now = now();
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: "Riverside Care Ltd".into(),
        provider_id: None,
        four_eyes: true,
        software_submits: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_organisation(&organisation).await.unwrap();
    organisation.id
}

async fn person(store: &dyn Store, organisation_id: Uuid, roles: &str, disabled: bool) -> Uuid {
    let email = format!("{}@example.org", Uuid::new_v4().simple());
    let user = User {
        id: Uuid::new_v4(),
        email: email.clone(),
        email_normalised: normalise_email(&email),
        display_name: "Sam Jones".into(),
        password_hash: None,
        staff_roles: Default::default(),
        disabled,
        created_at: now(),
    };
    store.create_user(&user).await.unwrap();
    let membership = Membership {
        user_id: user.id,
        organisation_id,
        roles: roles.parse().unwrap(),
        location_ids: None,
        created_at: now(),
    };
    store.put_membership(&membership).await.unwrap();
    user.id
}

fn draft(organisation_id: Uuid, by: Uuid, created_at: OffsetDateTime) -> Notification {
    let actor = Actor { user: Some(by), client: None };
    Notification::draft(
        organisation_id,
        "serious_injury".parse().unwrap(),
        r#"{"type":"serious_injury"}"#.into(),
        (None, None),
        Vec::new(),
        actor,
        created_at,
    )
}

fn email(organisation_id: Uuid, user_id: Uuid, kind: EmailKind, source_id: Uuid, at: OffsetDateTime) -> QueuedEmail {
    QueuedEmail {
        id: Uuid::now_v7(),
        organisation_id,
        user_id,
        kind,
        object_type: "notification".into(),
        object_id: source_id,
        source_id,
        to_address: "sam@example.org".into(),
        subject: "A notification is waiting for your review".into(),
        body: "Review it: https://portal.example/notifications/1/check".into(),
        created_at: at,
        next_attempt_at: at,
        attempts: 0,
        last_error: None,
        sent_at: None,
        abandoned_at: None,
    }
}

#[tokio::test]
async fn a_review_asked_for_is_found_once_and_handled_once() {
    let (store, _database) = fresh_store().await;
    let org = organisation(store.as_ref()).await;
    let drafter = person(store.as_ref(), org, "drafter", false).await;
    let at = now();
    let notification = draft(org, drafter, at);
    let created = Event::new(notification.id, Action::Created, Actor { user: Some(drafter), client: None }, at);
    store.insert_notification(&notification, &[created], None).await.unwrap();
    let mut asked =
        Event::new(notification.id, Action::ReviewRequested, Actor { user: Some(drafter), client: None }, at);
    asked.version = Some(1);
    store.append_notification_event(&asked).await.unwrap();

    // Once per version: a second request for the same version (two at once) is refused by the store.
    let mut twice =
        Event::new(notification.id, Action::ReviewRequested, Actor { user: Some(drafter), client: None }, at);
    twice.version = Some(1);
    let refused = store.append_notification_event(&twice).await.unwrap_err();
    assert!(matches!(refused, provider_api_store::StoreError::Conflict { .. }), "{refused:?}");

    let found = store.unhandled_email_triggers(at - Duration::DAY, 10).await.unwrap();
    assert_eq!(found.len(), 1, "the request, not the creation: {found:?}");
    assert_eq!(found[0].status, "draft", "with the object's status now");
    let trigger = &found[0];
    assert_eq!((trigger.id, trigger.object_id, trigger.organisation_id), (asked.id, notification.id, org));
    assert_eq!((trigger.action.as_str(), trigger.actor_user), ("review_requested", Some(drafter)));
    assert_eq!(trigger.notification_type.as_deref(), Some("serious_injury"));
    assert!(store.unhandled_email_triggers(at + Duration::SECOND, 10).await.unwrap().is_empty(), "before `since`");

    let submitter = person(store.as_ref(), org, "submitter", false).await;
    let queued = email(org, submitter, EmailKind::ReviewWaiting, asked.id, at);
    assert!(store.queue_emails(TriggerKey::Event(asked.id), at, std::slice::from_ref(&queued)).await.unwrap());
    assert!(store.email_trigger_handled(TriggerKey::Event(asked.id)).await.unwrap());
    assert!(store.unhandled_email_triggers(at - Duration::DAY, 10).await.unwrap().is_empty());
    // Handled already (a second node got there too): nothing more is queued.
    let again = email(org, submitter, EmailKind::ReviewWaiting, asked.id, at);
    assert!(!store.queue_emails(TriggerKey::Event(asked.id), at, &[again]).await.unwrap());
    let listed = store.emails_after(org, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10).await.unwrap();
    assert_eq!(listed, [queued], "read back exactly as written");
}

#[tokio::test]
async fn one_email_per_person_and_thing_even_under_two_triggers() {
    let (store, _database) = fresh_store().await;
    let org = organisation(store.as_ref()).await;
    let someone = person(store.as_ref(), org, "submitter", false).await;
    let (source, at) = (Uuid::now_v7(), now());
    let first = email(org, someone, EmailKind::QuestionAsked, source, at);
    store.queue_emails(TriggerKey::Event(Uuid::now_v7()), at, &[first]).await.unwrap();
    let duplicate = email(org, someone, EmailKind::QuestionAsked, source, at);
    store.queue_emails(TriggerKey::Event(Uuid::now_v7()), at, &[duplicate]).await.unwrap();
    assert_eq!(store.emails_after(org, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_email_is_claimed_by_one_sender_retried_after_a_failure_and_given_up_at_last() {
    let (store, _database) = fresh_store().await;
    let org = organisation(store.as_ref()).await;
    let someone = person(store.as_ref(), org, "submitter", false).await;
    let at = now();
    let queued = email(org, someone, EmailKind::ReviewWaiting, Uuid::now_v7(), at);
    store.queue_emails(TriggerKey::Event(queued.source_id), at, std::slice::from_ref(&queued)).await.unwrap();

    let lease = at + Duration::minutes(5);
    let claimed = store.claim_email(at, lease).await.unwrap().expect("due now");
    assert_eq!((claimed.id, claimed.attempts, claimed.next_attempt_at), (queued.id, 1, lease));
    assert!(store.claim_email(at, lease).await.unwrap().is_none(), "claimed: another sender waits for the lease");

    store.email_failed(queued.id, "421 try again later", Some(at + Duration::SECOND), at).await.unwrap();
    assert!(store.claim_email(at, lease).await.unwrap().is_none(), "not due again yet");
    let retried = store.claim_email(at + Duration::SECOND, lease).await.unwrap().expect("due again");
    assert_eq!((retried.attempts, retried.last_error.as_deref()), (2, Some("421 try again later")));

    store.email_failed(queued.id, "550 no such user", None, at).await.unwrap();
    assert!(store.claim_email(at + Duration::DAY, lease + Duration::DAY).await.unwrap().is_none(), "given up");
    let record = &store.emails_after(org, OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10).await.unwrap()[0];
    assert_eq!((record.abandoned_at, record.sent_at), (Some(at), None));

    let other = email(org, someone, EmailKind::ReviewWaiting, Uuid::now_v7(), at);
    store.queue_emails(TriggerKey::Event(other.source_id), at, std::slice::from_ref(&other)).await.unwrap();
    store.claim_email(at, lease).await.unwrap().expect("the other one");
    store.email_sent(other.id, at).await.unwrap();
    assert!(store.claim_email(at + Duration::DAY, lease + Duration::DAY).await.unwrap().is_none(), "sent");
}

#[tokio::test]
async fn recipients_are_the_organisations_people_who_are_not_disabled_with_their_choices() {
    let (store, _database) = fresh_store().await;
    let org = organisation(store.as_ref()).await;
    let other = organisation(store.as_ref()).await;
    let active = person(store.as_ref(), org, "submitter", false).await;
    person(store.as_ref(), org, "submitter", true).await;
    person(store.as_ref(), other, "submitter", false).await;
    store.set_email_opt_outs(active, &[EmailKind::NotificationDue, EmailKind::ReviewWaiting]).await.unwrap();
    store.set_email_opt_outs(active, &[EmailKind::ReviewWaiting, EmailKind::NotificationLate]).await.unwrap();

    let recipients = store.email_recipients(org).await.unwrap();
    assert_eq!(recipients.len(), 1, "{recipients:?}");
    let (recipient, opted_out) = &recipients[0];
    assert_eq!(recipient.user_id, active);
    let mut opted_out = opted_out.clone();
    opted_out.sort();
    assert_eq!(opted_out, [EmailKind::ReviewWaiting, EmailKind::NotificationLate], "replaced, not added to");
    assert_eq!(store.email_opt_outs(active).await.unwrap().len(), 2);
}

#[tokio::test]
async fn drafts_for_reminders_are_a_persons_recent_drafts_until_their_late_reminder() {
    let (store, _database) = fresh_store().await;
    let org = organisation(store.as_ref()).await;
    let drafter = person(store.as_ref(), org, "drafter", false).await;
    let at = now();
    let recent = draft(org, drafter, at - Duration::hours(30));
    let ancient = draft(org, drafter, at - Duration::days(60));
    let mut by_software = draft(org, drafter, at - Duration::hours(30));
    (by_software.created_by_user, by_software.created_by_client) = (None, Some(Uuid::new_v4()));
    (by_software.edited_by_user, by_software.edited_by_client) = (None, by_software.created_by_client);
    let mut sent = draft(org, drafter, at - Duration::hours(30));
    sent.status = Status::Submitted;
    sent.reference = Some(format!("N-{}", Uuid::new_v4().simple()));
    sent.submitted_at = Some(at);
    for n in [&recent, &ancient, &by_software, &sent] {
        store.insert_notification(n, &[], None).await.unwrap();
    }
    let since = at - Duration::days(35);
    let found = store.drafts_for_reminders(since, since - Duration::SECOND, Uuid::nil(), 10).await.unwrap();
    assert_eq!(found.iter().map(|n| n.id).collect::<Vec<_>>(), [recent.id]);

    store.queue_emails(TriggerKey::Reminder(EmailKind::NotificationDue, recent.id), at, &[]).await.unwrap();
    let found = store.drafts_for_reminders(since, since - Duration::SECOND, Uuid::nil(), 10).await.unwrap();
    assert_eq!(found.len(), 1, "due, not yet late: still watched");
    store.queue_emails(TriggerKey::Reminder(EmailKind::NotificationLate, recent.id), at, &[]).await.unwrap();
    assert!(store.drafts_for_reminders(since, since - Duration::SECOND, Uuid::nil(), 10).await.unwrap().is_empty());
}
