//! The team and the organisation's settings through the portal: an admin invites someone, who accepts from the
//! emailed link (a new account, or one they have) and signs in; an admin changes a member's roles and
//! locations and removes them, and is kept from leaving the organisation without an admin; the settings page
//! changes four eyes for admins and only shows it to everyone else.

use provider_api_http::bootstrap::{DemoCredentials, DemoUser};
use provider_api_sdk::types::Role;
use provider_api_tests::TestApp;
use provider_api_tests::browser::{Browser, Page};
use provider_api_tests::smtp::SmtpSink;
use reqwest::StatusCode;

async fn portal_with_mail() -> (TestApp, DemoCredentials, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with_portal(move |config| config.smtp_url = Some(url.into())).await;
    let demo = app.demo().await;
    (app, demo, sink)
}

fn user<'a>(demo: &'a DemoCredentials, role: &str) -> &'a DemoUser {
    demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == role)).expect("a demo user with the role")
}

async fn signed_in(app: &TestApp, demo: &DemoCredentials, role: &str) -> Browser {
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&user(demo, role).email, &user(demo, role).password).await;
    browser
}

/// The form on `page` sent with `fields` in place of its own (repeat a name for several checkboxes).
async fn send(browser: &Browser, page: &Page, fields: &[(&str, &str)]) -> Page {
    let (action, mut sent) = page.form("main form", &[]);
    let kept = ["csrf_token", "version", "token", "from_link"];
    sent.retain(|(name, _)| kept.contains(&name.as_str()) && !fields.iter().any(|(given, _)| given == name));
    sent.extend(fields.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    browser.post(&action, &sent).await
}

/// The path and query of a link (the email's links are the portal's absolute addresses).
fn path_of(link: &str) -> String {
    let rest = link.split_once("://").map_or(link, |(_, rest)| rest);
    rest.find('/').map_or("/".to_owned(), |i| rest[i..].to_owned())
}

#[tokio::test]
async fn an_admin_invites_someone_new_who_accepts_from_the_email_and_signs_in() {
    let (app, demo, sink) = portal_with_mail().await;
    let admin = signed_in(&app, &demo, "admin").await;

    let team = admin.get("/team").await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
    assert_eq!(team.h1(), "Your team");
    let cards = team.texts(".govuk-summary-card__title");
    assert!(cards.iter().any(|c| c.contains("Demo drafter")), "{cards:?}");
    assert!(cards.iter().any(|c| c.contains("(you)")), "the admin is told which is them: {cards:?}");
    assert!(team.body.contains("What each role can do") && team.body.contains("Cannot send a notification"));

    // Sent empty: each question says what is missing, linked from the summary.
    let form = admin.get("/team/invite").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.attr("#where", "name").is_none(), "one location: where they work is not asked");
    let refused = send(&admin, &form, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("title")[0].starts_with("Error: "));
    let links: Vec<String> = refused
        .html()
        .select(&scraper::Selector::parse(".govuk-error-summary a").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_owned())
        .collect();
    assert_eq!(links, ["#email", "#roles"]);
    // An address the API refuses: its words, at the field, with what was typed kept.
    let refused = send(&admin, &form, &[("email", "sam at example"), ("roles", "drafter")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("#email-error")[0].contains("Enter an email address"), "{}", refused.body);
    assert_eq!(refused.attr("#email", "value").as_deref(), Some("sam at example"));
    assert!(refused.attr("input[name=roles][value=drafter]", "checked").is_some(), "the role chosen stays chosen");

    let invited =
        send(&admin, &form, &[("email", "sam.new@members.example"), ("roles", "drafter"), ("roles", "submitter")])
            .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let team = admin.follow(invited).await;
    assert!(
        team.texts(".govuk-notification-banner")
            .iter()
            .any(|t| t.contains("Invitation sent to sam.new@members.example"))
    );
    assert!(team.body.contains("Invitations waiting to be accepted (1)"), "{}", team.body);
    let again = admin.get("/team").await;
    assert!(again.texts(".govuk-notification-banner").is_empty(), "the message is shown once");

    // The email links to the portal's page, where the code stays out of sight.
    let email = sink.message_to("sam.new@members.example").await;
    let link = email.link_to("/invitations/accept?token=");
    assert!(link.starts_with(&app.base_url), "{link}");
    let invitee = Browser::new(&app.base_url);
    let page = invitee.get(&path_of(&link)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.attr("#token", "name").is_none(), "the code from the link is not shown");
    let blank = send(&invitee, &page, &[("have_account", "no")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", blank.body);
    assert_eq!(
        blank.texts(".govuk-error-summary a"),
        ["Enter your full name", "Create a password"],
        "both, and only what is missing"
    );
    let short = send(&invitee, &page, &[("have_account", "no"), ("name", "Sam New"), ("new_password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", short.body);
    assert!(!short.texts("#new-password-error").is_empty(), "the API's reason, at the new password: {}", short.body);
    assert_eq!(short.attr("#name", "value").as_deref(), Some("Sam New"));
    let password = "a long enough passphrase";
    let joined =
        send(&invitee, &short, &[("have_account", "no"), ("name", "Sam New"), ("new_password", password)]).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert_eq!(joined.h1(), "You have joined the team");
    assert!(joined.body.contains("Drafter, Submitter"), "{}", joined.body);

    // They sign in as themselves and are on the team.
    let sam = Browser::new(&app.base_url);
    let tasks = sam.sign_in("sam.new@members.example", password).await;
    assert_eq!(tasks.h1(), "Your tasks", "{}", tasks.body);
    let team = admin.get("/team").await;
    assert!(team.texts(".govuk-summary-card__title").iter().any(|c| c == "Sam New"), "{}", team.body);
    assert!(team.body.contains("Invitations waiting to be accepted (0)"));

    // The link works once.
    let spent = send(&invitee, &page, &[("have_account", "no"), ("name", "Sam New"), ("new_password", password)]).await;
    assert_eq!(spent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", spent.body);
    assert!(spent.texts("#token-error")[0].contains("not valid"), "{}", spent.body);
}

#[tokio::test]
async fn someone_with_an_account_accepts_with_its_password_and_an_invitation_can_be_cancelled() {
    let (app, demo, sink) = portal_with_mail().await;
    let elsewhere = app.demo().await;
    let existing = user(&elsewhere, "drafter");
    let admin = signed_in(&app, &demo, "admin").await;
    let form = admin.get("/team/invite").await;
    let sent = send(&admin, &form, &[("email", existing.email.as_str()), ("roles", "viewer")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    // The code typed in (a link may not survive being copied), the wrong answer to "have an account", then the
    // wrong password, then the right one.
    let code = sink.message_to(&existing.email).await.text();
    let code = code.split_whitespace().find(|w| w.starts_with("pai_")).unwrap().to_owned();
    let invitee = Browser::new(&app.base_url);
    let page = invitee.get("/invitations/accept").await;
    assert!(page.attr("#token", "name").is_some(), "without a link, the code is asked for");
    let wrong_choice = send(
        &invitee,
        &page,
        &[("token", &code), ("have_account", "no"), ("name", "X"), ("new_password", "another long password")],
    )
    .await;
    assert_eq!(wrong_choice.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_choice.body);
    assert!(
        wrong_choice.texts("#have-account-error").first().is_some_and(|e| e.contains("select Yes")),
        "{}",
        wrong_choice.body
    );
    let wrong =
        send(&invitee, &page, &[("token", &code), ("have_account", "yes"), ("password", "not it at all")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    assert!(!wrong.texts("#password-error").is_empty(), "{}", wrong.body);
    let joined =
        send(&invitee, &page, &[("token", &code), ("have_account", "yes"), ("password", &existing.password)]).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert!(joined.body.contains("Sign in as you usually do"), "no new account: {}", joined.body);

    // An invitation cancelled before it is accepted cannot be.
    let form = admin.get("/team/invite").await;
    send(&admin, &form, &[("email", "changed.mind@members.example"), ("roles", "drafter")]).await;
    let team = admin.get("/team").await;
    let cancelled = admin.follow(admin.submit(&team, "form[action$='/cancel']", &[]).await).await;
    assert!(cancelled.body.contains("The invitation has been cancelled"), "{}", cancelled.body);
    let code = sink.message_to("changed.mind@members.example").await.text();
    let code = code.split_whitespace().find(|w| w.starts_with("pai_")).unwrap().to_owned();
    let page = invitee.get(&format!("/invitations/accept?token={code}")).await;
    let refused =
        send(&invitee, &page, &[("have_account", "no"), ("name", "C M"), ("new_password", "a long enough passphrase")])
            .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.attr("#token", "name").is_some(), "the refused code is shown, to be checked: {}", refused.body);
}

#[tokio::test]
async fn an_admin_changes_a_members_roles_and_locations_and_removes_them_but_never_the_last_admin() {
    let (app, demo, _sink) = portal_with_mail().await;
    let second = app.demo_location(&demo, "Riverside Court").await;
    let admin = signed_in(&app, &demo, "admin").await;
    let members = app.sdk_for_person(&user(&demo, "admin").email, &user(&demo, "admin").password).await;
    let listed = members.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let drafter = listed.iter().find(|m| m.email == user(&demo, "drafter").email).unwrap();
    let me = listed.iter().find(|m| m.email == user(&demo, "admin").email).unwrap();

    let form = admin.get(&format!("/team/members/{}", drafter.user_id)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.attr("input[name=roles][value=drafter]", "checked").is_some(), "their roles as they are");
    assert!(form.attr("input[name=where][value=every]", "checked").is_some());
    // Only some locations, but none chosen: asked which.
    let refused = send(&admin, &form, &[("roles", "viewer"), ("where", "some")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.attr(".govuk-error-summary a", "href").as_deref(), Some("#locations"));
    let second = second.to_string();
    let changed = send(&admin, &form, &[("roles", "viewer"), ("where", "some"), ("locations", second.as_str())]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let team = admin.follow(changed).await;
    assert!(team.body.contains("roles and locations have been changed"), "{}", team.body);
    let now = members.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let now = now.iter().find(|m| m.user_id == drafter.user_id).unwrap();
    assert_eq!(now.roles, [Role::Viewer]);
    assert_eq!(now.location_ids.iter().map(ToString::to_string).collect::<Vec<_>>(), std::slice::from_ref(&second));
    assert!(team.body.contains("Riverside Court"), "their location named on the team page");

    // The only admin cannot stop being one; nobody removes themselves (another admin does).
    let own = admin.get(&format!("/team/members/{}", me.user_id)).await;
    assert!(own.attr("a[href$='/remove']", "href").is_none(), "no removal offered for yourself");
    let refused = send(&admin, &own, &[("roles", "drafter"), ("where", "every")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("#roles-error")[0].contains("needs an admin"), "{}", refused.body);
    let yourself = admin.get(&format!("/team/members/{}/remove", me.user_id)).await;
    assert_eq!(yourself.status, StatusCode::FORBIDDEN, "{}", yourself.body);
    assert_eq!(yourself.h1(), "You cannot remove yourself from your team");
    let token = own.attr("input[name=csrf_token]", "value").unwrap();
    let forced = admin.post(&format!("/team/members/{}/remove", me.user_id), &[("csrf_token".into(), token)]).await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN, "{}", forced.body);
    let still = members.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert!(still.iter().any(|m| m.user_id == me.user_id));

    // Removing someone else: asked first, then done.
    let confirm = admin.get(&format!("/team/members/{}/remove", drafter.user_id)).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(confirm.h1(), "Are you sure you want to remove Demo drafter from your team?");
    let removed = admin.follow(admin.submit(&confirm, "main form", &[]).await).await;
    assert!(removed.body.contains("Demo drafter has been removed from your team"), "{}", removed.body);
    let left = members.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert!(left.iter().all(|m| m.user_id != drafter.user_id));

    // Someone else's organisation's member is nobody here.
    let other = app.demo().await;
    let theirs = app.sdk_for_person(&user(&other, "admin").email, &user(&other, "admin").password).await;
    let stranger =
        theirs.list_members().organisation_id(other.organisation_id).send().await.unwrap().into_inner().items[0]
            .user_id;
    assert_eq!(admin.get(&format!("/team/members/{stranger}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_who_are_not_admins_see_the_team_and_settings_but_cannot_change_them() {
    let (app, demo, _sink) = portal_with_mail().await;
    let drafter = signed_in(&app, &demo, "drafter").await;
    let team = drafter.get("/team").await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
    assert!(!team.body.contains("Invite someone") && !team.body.contains("Invitations waiting"));
    assert_eq!(drafter.get("/team/invite").await.status, StatusCode::FORBIDDEN);
    let settings = drafter.get("/settings").await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert!(settings.attr("main form", "action").is_none(), "no form for a drafter");
    assert!(settings.body.contains("Only an admin"));
    // Posting anyway (with their own valid CSRF token) is refused by the API.
    let token = drafter.get("/notifications/new").await.attr("input[name=csrf_token]", "value").unwrap();
    let fields: Vec<(String, String)> =
        [("csrf_token", token.as_str()), ("version", "1"), ("four_eyes", "no"), ("software_submits", "yes")]
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
    assert_eq!(drafter.post("/settings", &fields).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_sets_four_eyes_and_is_told_whether_it_applies_now() {
    let (app, demo, _sink) = portal_with_mail().await;
    let admin = signed_in(&app, &demo, "admin").await;
    let settings = admin.get("/settings").await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert!(settings.attr("input[name=four_eyes][value=yes]", "checked").is_some());
    assert!(settings.body.contains("A second person reviews what people send"), "two submitters: in effect");

    let saved = admin.follow(send(&admin, &settings, &[("four_eyes", "no"), ("software_submits", "no")]).await).await;
    assert!(saved.body.contains("Settings saved"), "{}", saved.body);
    assert!(saved.attr("input[name=four_eyes][value=no]", "checked").is_some());
    let client = app.sdk_for_person(&user(&demo, "admin").email, &user(&demo, "admin").password).await;
    let view = client.get_organisation().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(!view.settings.four_eyes && !view.settings.software_submits);

    // Saved from a page loaded before that change: nothing overwritten, and the page shows the settings as they
    // are now (so saving again is a choice made on them, not the stale one).
    let stale = send(&admin, &settings, &[("four_eyes", "yes"), ("software_submits", "yes")]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.texts(".govuk-error-summary")[0].contains("The settings have changed since you opened this page"));
    assert!(stale.attr("input[name=four_eyes][value=no]", "checked").is_some(), "as saved now: {}", stale.body);
    assert!(stale.attr("input[name=software_submits][value=no]", "checked").is_some());
    let view = client.get_organisation().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(!view.settings.four_eyes, "unchanged");

    // Nothing chosen: each question says so.
    let now = admin.get("/settings").await;
    let refused = send(&admin, &now, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let links: Vec<String> = refused
        .html()
        .select(&scraper::Selector::parse(".govuk-error-summary a").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_owned())
        .collect();
    assert_eq!(links, ["#four_eyes", "#software_submits"]);
    let one = send(&admin, &now, &[("four_eyes", "yes")]).await;
    assert_eq!(one.texts(".govuk-error-summary a"), ["Select whether your software can send on its own"]);

    // An admin (no other role) is not offered a notification to start, and one forced is refused in words.
    let tasks = admin.get("/dashboard").await;
    assert!(!tasks.body.contains("Start a notification"), "{}", tasks.body);
    let choose = admin.get("/notifications/new").await;
    let refused = admin.submit(&choose, "main form", &[("type", "serious_injury")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.h1(), "You cannot start a notification");

    // Back on, with one submitter left: on, but not in effect, and the page says so.
    send(&admin, &now, &[("four_eyes", "yes"), ("software_submits", "yes")]).await;
    let listed = client.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let reviewer = listed.iter().find(|m| m.display_name == "Demo reviewer").unwrap();
    client.remove_member().organisation_id(demo.organisation_id).user_id(reviewer.user_id).send().await.unwrap();
    let page = admin.get("/settings").await;
    assert!(
        page.body.contains("applies only while at least two people have the submitter role. At the moment fewer do"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_form_without_its_token_changes_nothing() {
    let (app, demo, sink) = portal_with_mail().await;
    let admin = signed_in(&app, &demo, "admin").await;
    let client = app.sdk_for_person(&user(&demo, "admin").email, &user(&demo, "admin").password).await;
    let members = client.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let drafter = members.iter().find(|m| m.email == user(&demo, "drafter").email).unwrap().user_id;
    let field = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    for (path, fields) in [
        ("/team/invite".to_owned(), vec![field("email", "x@example.org"), field("roles", "drafter")]),
        (format!("/team/members/{drafter}"), vec![field("roles", "viewer")]),
        (format!("/team/members/{drafter}/remove"), vec![]),
        (
            "/settings".to_owned(),
            vec![field("version", "1"), field("four_eyes", "no"), field("software_submits", "no")],
        ),
    ] {
        let refused = admin.post(&path, &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
        assert_eq!(refused.h1(), "This form has expired", "{path}");
    }
    let after = client.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert_eq!(after, members, "nobody changed or removed");
    assert_eq!(sink.messages_to("x@example.org"), 0, "nobody invited");
    let view = client.get_organisation().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(view.settings.four_eyes && view.settings.software_submits, "settings unchanged");

    // Accepting, signed out, with a real code but no token: refused, and the code still works.
    let form = admin.get("/team/invite").await;
    send(&admin, &form, &[("email", "later@example.org"), ("roles", "viewer")]).await;
    let code = sink.message_to("later@example.org").await.text();
    let code = code.split_whitespace().find(|w| w.starts_with("pai_")).unwrap().to_owned();
    let stranger = Browser::new(&app.base_url);
    let fields = [
        field("token", &code),
        field("have_account", "no"),
        field("name", "L"),
        field("new_password", "a long enough passphrase"),
    ];
    assert_eq!(stranger.post("/invitations/accept", &fields).await.status, StatusCode::FORBIDDEN);
    let page = stranger.get(&format!("/invitations/accept?token={code}")).await;
    let joined =
        send(&stranger, &page, &[("have_account", "no"), ("name", "L"), ("new_password", "a long enough passphrase")])
            .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
}
