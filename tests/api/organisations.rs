//! Organisations, locations, members and API clients, through the SDK as a person and as software.

use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::{
    Address, MemberRoles, NewApiClient, NewLocation, NewOrganisation, OrganisationChanges, Role, SettingsChanges,
};
use provider_api_tests::{TestApp, problem};

#[tokio::test]
async fn a_person_creates_an_organisation_and_becomes_its_admin() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let person = app.sdk_for_person(&demo.users[1].email, &demo.users[1].password).await;

    let created =
        person.create_organisation().body(NewOrganisation::builder().name("Hillside Homes Ltd")).send().await.unwrap();

    assert_eq!(created.status().as_u16(), 201);
    let organisation = created.into_inner();
    assert!(organisation.settings.four_eyes, "four eyes is on by default");
    let me = person.get_me().send().await.unwrap().into_inner();
    let mine = me.organisations.iter().find(|o| o.organisation_id == organisation.id).expect("a member of it");
    assert_eq!(mine.roles, [Role::Admin]);
}

#[tokio::test]
async fn software_cannot_create_organisations() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let software = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);

    let refused = software.create_organisation().body(NewOrganisation::builder().name("X")).send().await.unwrap_err();

    assert_eq!(refused.http_status(), Some(403));
}

#[tokio::test]
async fn updates_need_the_current_etag_so_nobody_overwrites_anybody_silently() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let read = admin.get_organisation().organisation_id(demo.organisation_id).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let change = || {
        OrganisationChanges::builder()
            .settings(Some(SettingsChanges::builder().four_eyes(Some(false)).try_into().unwrap()))
    };

    let unsent = admin.update_organisation().organisation_id(demo.organisation_id).body(change()).send().await;
    let unsent = unsent.unwrap_err();
    assert!(
        matches!(unsent, provider_api_sdk::Error::InvalidRequest(_)) && unsent.http_status().is_none(),
        "the SDK will not send an update without If-Match: {unsent:?}"
    );
    let token = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let missing = app
        .http
        .patch(app.url(&format!("/v1/organisations/{}", demo.organisation_id)))
        .bearer_auth(token)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"settings": {"four_eyes": false}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(missing, 428).await["code"], "if_match_required");

    let updated = admin
        .update_organisation()
        .organisation_id(demo.organisation_id)
        .if_match(etag.as_str())
        .body(change())
        .send()
        .await
        .unwrap();
    assert!(!updated.settings.four_eyes);
    assert_ne!(updated.headers()["etag"].to_str().unwrap(), etag, "a new version");

    let stale = admin
        .update_organisation()
        .organisation_id(demo.organisation_id)
        .if_match(etag.as_str())
        .body(OrganisationChanges::builder().name(Some("Renamed Ltd".parse().unwrap())))
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.http_status(), Some(412));
    assert_eq!(stale.problem().unwrap().code, "stale");
}

#[tokio::test]
async fn locations_are_added_with_a_normalised_postcode_and_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let address = |postcode: &str| Address::builder().line_1("2 Quay Road").town("Gateshead").postcode(postcode);

    let created = admin
        .create_location()
        .organisation_id(demo.organisation_id)
        .body(NewLocation::builder().name("Quayside").address(address("ne8 2aa")))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.address.postcode.as_str(), "NE8 2AA");
    let fetched =
        admin.get_location().organisation_id(demo.organisation_id).location_id(created.id).send().await.unwrap();
    assert_eq!(fetched.name.as_str(), "Quayside");
    let all = admin.list_locations().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert_eq!(all.len(), 2);

    let unsent = admin
        .create_location()
        .organisation_id(demo.organisation_id)
        .body(NewLocation::builder().name(" ").address(address("NE8 2AA")))
        .send()
        .await;
    let unsent = unsent.unwrap_err();
    assert!(
        matches!(unsent, provider_api_sdk::Error::InvalidRequest(_)) && unsent.http_status().is_none(),
        "the SDK checks the published pattern before sending: {unsent:?}"
    );

    let token = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
    let refused = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/locations", demo.organisation_id)))
        .bearer_auth(token)
        .json(&serde_json::json!({"name": " ", "address": {"line_1": "2 Quay Road", "town": "Gateshead", "postcode": "nowhere"}}))
        .send()
        .await
        .unwrap();
    let body = problem(refused, 422).await;
    let pointers: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/address/postcode", "/name"], "every invalid field at once");
    let after = admin.list_locations().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert_eq!(after.len(), 2, "a refused request changes nothing");
}

#[tokio::test]
async fn admins_change_roles_but_never_remove_the_last_admin() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;
    let members = admin.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let id_of = |email: &str| members.iter().find(|m| m.email == email).unwrap().user_id;
    let (admin_id, drafter_id) = (id_of(&demo.users[0].email), id_of(&demo.users[1].email));

    let promoted = admin
        .update_member()
        .organisation_id(demo.organisation_id)
        .user_id(drafter_id)
        .body(
            MemberRoles::builder()
                .roles(vec![Role::Drafter, Role::Submitter])
                .location_ids(Some(vec![demo.location_id])),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.roles, [Role::Drafter, Role::Submitter]);
    assert_eq!(promoted.location_ids, vec![demo.location_id]);

    let demote_self = admin
        .update_member()
        .organisation_id(demo.organisation_id)
        .user_id(admin_id)
        .body(MemberRoles::builder().roles(vec![Role::Viewer]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(demote_self.problem().unwrap().code, "last_admin");
    let remove_self =
        admin.remove_member().organisation_id(demo.organisation_id).user_id(admin_id).send().await.unwrap_err();
    assert_eq!(remove_self.http_status(), Some(409));

    admin.remove_member().organisation_id(demo.organisation_id).user_id(drafter_id).send().await.unwrap();
    let left = admin.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    assert!(left.iter().all(|m| m.user_id != drafter_id));
}

#[tokio::test]
async fn api_clients_are_shown_their_secret_once_rotated_and_revoked() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = app.sdk_for_person(&demo.users[0].email, &demo.users[0].password).await;

    let created = admin
        .create_api_client()
        .organisation_id(demo.organisation_id)
        .body(
            NewApiClient::builder()
                .name("Rota system")
                .roles(vec![Role::Viewer])
                .scopes(vec!["org:read".parse().unwrap()]),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let first_secret = created.client_secret.clone().expect("a secret, once");
    let software = app.sdk_for_client(created.client.id, &first_secret, &[]);
    assert_eq!(software.get_me().send().await.unwrap().into_inner().id, created.client.id);
    let listed = admin.list_api_clients().organisation_id(demo.organisation_id).send().await.unwrap().into_inner();
    assert!(listed.items.iter().any(|c| c.id == created.client.id && c.last_used_at.is_some()), "last use is recorded");

    let rotated = admin
        .rotate_api_client_secret()
        .organisation_id(demo.organisation_id)
        .client_id(created.client.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let second_secret = rotated.client_secret.unwrap();
    let old = app
        .http
        .post(app.url("/v1/oauth/token"))
        .basic_auth(created.client.id, Some(&first_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(problem(old, 401).await["code"], "invalid_client", "the old secret stops working at once");
    let software = app.sdk_for_client(created.client.id, &second_secret, &[]);
    software.get_me().send().await.unwrap();

    admin.revoke_api_client().organisation_id(demo.organisation_id).client_id(created.client.id).send().await.unwrap();
    let after = software.get_me().send().await.unwrap_err();
    assert_eq!(after.http_status(), Some(401), "a revoked client's token stops working at once");
}

#[tokio::test]
async fn another_organisations_things_are_not_found_and_a_malformed_id_is_404() {
    let app = TestApp::spawn().await;
    let ours = app.demo().await;
    let theirs = app.demo().await;
    let admin = app.sdk_for_person(&ours.users[0].email, &ours.users[0].password).await;

    let organisation = admin.get_organisation().organisation_id(theirs.organisation_id).send().await.unwrap_err();
    assert_eq!(organisation.http_status(), Some(404));
    let location = admin
        .get_location()
        .organisation_id(ours.organisation_id)
        .location_id(theirs.location_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(location.http_status(), Some(404));
    let client = admin
        .revoke_api_client()
        .organisation_id(ours.organisation_id)
        .client_id(theirs.client_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(client.http_status(), Some(404));

    let token = app.sign_in(&ours.users[0].email, &ours.users[0].password).await.access_token;
    let malformed = app.http.get(app.url("/v1/organisations/not-a-uuid")).bearer_auth(token).send().await.unwrap();
    assert_eq!(malformed.status(), 404);
}

#[tokio::test]
async fn nobody_hands_out_more_than_they_hold() {
    let app = TestApp::spawn().await;
    let demo = app.demo().await;
    let admin = &demo.users[0];

    // A first-party session whose token carries only `org:read org:admin`: the admin's client may not reach
    // further than that.
    let narrow = app.first_party_app("https://narrow.example/cb", "org:read org:admin").await.to_string();
    let tokens = app.sign_in_with(&narrow, "https://narrow.example/cb", &admin.email, &admin.password).await;
    let create = |body: serde_json::Value| {
        app.http
            .post(app.url(&format!("/v1/organisations/{}/api-clients", demo.organisation_id)))
            .bearer_auth(&tokens.access_token)
            .json(&body)
            .send()
    };
    let beyond =
        create(serde_json::json!({"name": "Sneaky", "roles": ["submitter"], "scopes": ["notifications:submit"]}))
            .await
            .unwrap();
    assert_eq!(problem(beyond, 422).await["errors"][0]["code"], "beyond_your_access");
    let within = create(serde_json::json!({"name": "Rota", "roles": ["viewer"]})).await.unwrap();
    let within: serde_json::Value = within.json().await.unwrap();
    assert_eq!(
        within["client"]["scopes"],
        serde_json::json!(["org:read", "org:admin"]),
        "defaults to the creator's reach"
    );

    // Software cannot mint more software.
    let software = app.client_token(demo.client_id, &demo.client_secret).await;
    let by_client = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/api-clients", demo.organisation_id)))
        .bearer_auth(software)
        .json(&serde_json::json!({"name": "Child", "roles": ["viewer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_client.status(), 403);

    // An admin limited to some locations cannot administer (and so cannot lift their own limit).
    let limited_admin = app.sdk_for_person(&admin.email, &admin.password).await;
    let members =
        limited_admin.list_members().organisation_id(demo.organisation_id).send().await.unwrap().into_inner().items;
    let submitter = members.iter().find(|m| m.email == demo.users[2].email).unwrap().user_id;
    limited_admin
        .update_member()
        .organisation_id(demo.organisation_id)
        .user_id(submitter)
        .body(MemberRoles::builder().roles(vec![Role::Admin]).location_ids(Some(vec![demo.location_id])))
        .send()
        .await
        .unwrap();
    let limited = app.sdk_for_person(&demo.users[2].email, &demo.users[2].password).await;
    let refused = limited.list_api_clients().organisation_id(demo.organisation_id).send().await.unwrap_err();
    assert_eq!(refused.http_status(), Some(403));
    let problem = refused.problem().unwrap();
    assert_eq!(problem.permission.as_deref(), Some("org:admin"), "the 403 names the missing permission");
    assert!(problem.detail.contains("limited"), "{}", problem.detail);
}
