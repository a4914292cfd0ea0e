//! Invitations, delivered by real SMTP to a sink the test reads.

use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{Acceptance, InvitationStatus, NewInvitation, Role};
use provider_api_tests::TestApp;
use provider_api_tests::smtp::SmtpSink;

/// The invitation code from an email body.
fn code_in(body: &str) -> String {
    body.split_whitespace().find(|w| w.starts_with("pai_")).expect("an invitation code in the email").to_owned()
}

/// An admin invites `email` as `role`; returns the code from the email the invitee receives.
async fn invite(
    admin: &provider_api_sdk::Client,
    sink: &SmtpSink,
    organisation: uuid::Uuid,
    email: &str,
    role: Role,
) -> String {
    admin
        .create_invitation()
        .organisation_id(organisation)
        .body(NewInvitation::builder().email(email).roles(vec![role]))
        .send()
        .await
        .unwrap();
    code_in(&sink.message_to(email).await.data)
}

async fn app_with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(move |config| config.smtp_url = Some(url.into())).await;
    (app, sink)
}

#[tokio::test]
async fn an_invitee_without_an_account_joins_with_the_emailed_code() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;

    let invited = admin
        .create_invitation()
        .organisation_id(demo.organisation_id)
        .body(NewInvitation::builder().email("new.starter@example.org").roles(vec![Role::Drafter]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(invited.status, InvitationStatus::Pending);
    let email = sink.message_to("new.starter@example.org").await;
    assert!(email.data.contains("Subject: An invitation to join"), "{}", email.data);
    let code = code_in(&email.data);
    // The link is the portal's accept page (served beside the API by default), carrying the same code.
    let link = email.link_to("/invitations/accept?token=");
    assert_eq!(link, format!("{}/invitations/accept?token={code}", app.base_url));

    let weak = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code.clone()).password("short"))
        .send()
        .await
        .unwrap_err();
    let pointers: Vec<String> = weak.problem().unwrap().errors.iter().map(|e| e.pointer.clone()).collect();
    assert_eq!(pointers, ["/display_name", "/password"], "every problem at once, and the code is not spent");

    let accepted = app
        .client
        .accept_invitation()
        .body(
            Acceptance::builder()
                .token(code.clone())
                .display_name(Some("New Starter".parse().unwrap()))
                .password("three random words"),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(accepted.account_created);
    assert_eq!(accepted.roles, [Role::Drafter]);

    let newcomer = app.sdk_for_person("new.starter@example.org", "three random words").await;
    let me = newcomer.get_me().send().await.unwrap().into_inner();
    assert_eq!(me.organisations[0].organisation_id, demo.organisation_id);

    let again = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code).password("three random words"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.problem().unwrap().errors[0].code, "invalid_token", "a code works once");
    let listed = admin.list_invitations().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert_eq!(listed.items[0].status, InvitationStatus::Accepted);
}

#[tokio::test]
async fn an_invitee_with_an_account_proves_it_with_their_password() {
    let (app, sink) = app_with_mail().await;
    let ours = app.demo().await;
    let theirs = app.demo().await;
    let admin = app.sdk_for_person(&ours.users[0].email, &ours.users[0].password).await;
    let invitee = &theirs.users[1];

    let code = invite(&admin, &sink, ours.organisation_id, &invitee.email.to_uppercase(), Role::Viewer).await;

    let wrong = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code.clone()).password("not theirs"))
        .send()
        .await;
    assert_eq!(wrong.unwrap_err().http_status(), Some(401));
    let accepted = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code).password(invitee.password.clone()))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!accepted.account_created);
    let person = app.sdk_for_person(&invitee.email, &invitee.password).await;
    assert_eq!(person.get_me().send().await.unwrap().into_inner().organisations.len(), 2, "both organisations now");
}

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let invited = admin
        .create_invitation()
        .organisation_id(demo.organisation_id)
        .body(NewInvitation::builder().email("changed.mind@example.org").roles(vec![Role::Viewer]))
        .send()
        .await
        .unwrap()
        .into_inner();
    let code = code_in(&sink.message_to("changed.mind@example.org").await.data);

    admin.revoke_invitation().organisation_id(demo.organisation_id).invitation_id(invited.id).send().await.unwrap();
    let twice = admin.revoke_invitation().organisation_id(demo.organisation_id).invitation_id(invited.id).send().await;
    assert_eq!(twice.unwrap_err().http_status(), Some(409));

    let refused = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code).display_name(Some("X".parse().unwrap())).password("three random words"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.http_status(), Some(422));
}

#[tokio::test]
async fn a_staff_account_cannot_join_a_provider_by_invitation() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let roles = [provider_api_core::capability::StaffRole::StaffTriage].into();
    provider_api_http::bootstrap::create_staff(
        app.store.as_ref(),
        "inspector@cqc.example",
        "Ina Spector",
        "correct horse battery",
        &roles,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let code = invite(&admin, &sink, demo.organisation_id, "inspector@cqc.example", Role::Viewer).await;

    let refused = app
        .client
        .accept_invitation()
        .body(Acceptance::builder().token(code).password("correct horse battery"))
        .send()
        .await;

    assert_eq!(refused.unwrap_err().problem().unwrap().code, "staff_account");
}

#[tokio::test]
async fn without_a_portal_the_email_says_how_software_accepts_and_with_one_elsewhere_links_there() {
    for (portal, portal_url, expected) in [
        (false, None, "/v1/invitations/accept."),
        (false, Some("https://portal.example.org"), "https://portal.example.org/invitations/accept?token="),
    ] {
        let sink = SmtpSink::start().await;
        let url = sink.url();
        let app = TestApp::spawn_with(move |config| {
            config.smtp_url = Some(url.into());
            config.portal = portal;
            config.portal_url = portal_url.map(str::to_owned);
        })
        .await;
        let demo = app.demo().await;
        let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
        invite(&admin, &sink, demo.organisation_id, "someone@example.org", Role::Viewer).await;
        let text = sink.message_to("someone@example.org").await.text();
        assert!(text.contains(expected), "{text}");
        if portal_url.is_none() {
            assert!(!text.contains("/invitations/accept?token="), "no link to a portal that is not there: {text}");
        }
    }
}

/// Issue 19: accepting an invitation merged roles but replaced location limits, so a submitter limited to one
/// location who accepted a viewer invitation for every location became a submitter everywhere (and a sole
/// admin could end up limited). An existing member's roles and limits are changed by updating the member,
/// never by an invitation: inviting a member is refused, and so is accepting an invitation made before the
/// person joined.
#[tokio::test]
async fn an_invitation_never_changes_an_existing_members_roles_or_locations() {
    let (app, sink) = app_with_mail().await;
    let demo = app.demo().await;
    let org = demo.organisation_id;
    app.demo_location(&demo, "Hillside Court").await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let email = "limited.submitter@example.org";
    let limited =
        NewInvitation::builder().email(email).roles(vec![Role::Submitter]).location_ids(vec![demo.location_id]);
    let everywhere = NewInvitation::builder().email(email).roles(vec![Role::Viewer]);
    // Both made while the person is not yet a member.
    admin.create_invitation().organisation_id(org).body(limited).send().await.unwrap();
    let first = code_in(&sink.message_to(email).await.data);
    admin.create_invitation().organisation_id(org).body(everywhere.clone()).send().await.unwrap();
    let codes: Vec<String> = sink.messages_for(email).iter().map(|m| code_in(&m.data)).collect();
    let second = codes.into_iter().find(|c| *c != first).expect("a second invitation");

    let password = "three random words";
    let joined = Acceptance::builder().token(first).display_name(Some("Lim Ited".parse().unwrap())).password(password);
    app.client.accept_invitation().body(joined).send().await.unwrap();
    let member = |admin: &provider_api_sdk::Client| {
        let admin = admin.clone();
        async move {
            let members = admin.list_members().organisation_id(org).send().await.unwrap().into_inner().items;
            let found = members.into_iter().find(|m| m.email == email).expect("a member");
            (found.roles, found.location_ids)
        }
    };
    let before = member(&admin).await;
    assert_eq!(before, (vec![Role::Submitter], vec![demo.location_id]));

    // The second invitation, accepted now, would have made them a submitter everywhere.
    let escalate = Acceptance::builder().token(second.clone()).password(password);
    let refused = app.client.accept_invitation().body(escalate).send().await.unwrap_err();
    assert_eq!(refused.http_status(), Some(409), "{:?}", refused.problem());
    assert_eq!(refused.problem().unwrap().code, "already_a_member");
    assert_eq!(member(&admin).await, before, "roles and locations unchanged");

    // Inviting someone who is a member already is refused at once, pointing to changing the member.
    let again = admin.create_invitation().organisation_id(org).body(everywhere).send().await.unwrap_err();
    assert_eq!(again.http_status(), Some(409));
    let problem = again.problem().unwrap();
    assert_eq!(problem.code, "already_a_member");
    assert!(problem.detail.contains("update_member"), "{}", problem.detail);
    assert_eq!(member(&admin).await, before);
}

/// Anyone with an account can create an organisation, name it what they like and invite any address: the
/// invitation email is a channel for phishing. So each organisation sends a limited number a day (429 past
/// it, another organisation unaffected), and the email sets apart, as the inviter's own words, every piece
/// of text the inviter chose, and says whether the organisation is a registered provider.
#[tokio::test]
async fn invitation_emails_are_limited_per_organisation_a_day_and_frame_what_the_inviter_wrote() {
    use std::sync::Arc;
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let clock = Arc::new(provider_api_core::clock::ManualClock::at(time::OffsetDateTime::now_utc()));
    let app = TestApp::spawn_with_clock_and(clock.clone(), move |config| {
        config.smtp_url = Some(url.into());
        config.invitations_per_organisation_per_day = 3;
    })
    .await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let lure = "CQC Compliance Team - verify your account at https://cqc-verify.example";
    let made_up = admin
        .create_organisation()
        .body(provider_api_sdk::types::NewOrganisation::builder().name(lure))
        .send()
        .await
        .unwrap()
        .into_inner();
    let invite = |organisation: uuid::Uuid, n: usize| {
        admin
            .create_invitation()
            .organisation_id(organisation)
            .body(NewInvitation::builder().email(format!("target{n}@example.org")).roles(vec![Role::Viewer]))
            .send()
    };
    for n in 0..3 {
        invite(made_up.id, n).await.unwrap();
    }
    let fourth = invite(made_up.id, 3).await.unwrap_err();
    assert_eq!(fourth.http_status(), Some(429), "{fourth:?}");
    assert_eq!(fourth.problem().unwrap().code, "too_many_invitations");
    assert_eq!(sink.messages_to("target3@example.org"), 0, "nothing was sent");
    invite(demo.organisation_id, 10).await.expect("another organisation has its own allowance");
    clock.advance(time::Duration::hours(24) + time::Duration::minutes(1));
    invite(made_up.id, 11).await.expect("a day later, the allowance is back");

    let email = sink.message_to("target0@example.org").await;
    let subject = email.subject();
    assert!(!subject.contains("verify"), "the subject carries none of the inviter's text: {subject}");
    let text = email.text();
    assert!(text.contains(&format!("\"{lure}\"")), "the name is quoted as given: {text}");
    assert!(
        text.contains("not checked by the Care Quality Commission") && text.contains("not a registered provider"),
        "the email says whose words these are, and that the organisation is not registered: {text}"
    );
    let registered = sink.message_to("target10@example.org").await.text();
    assert!(registered.contains("registered provider"), "{registered}");
}
