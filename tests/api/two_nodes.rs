//! Two nodes on one database, behind a round-robin client: idempotency and `If-Match` hold across them, and
//! each node enforces its own rate limits (`docs/identity.md`).

use provider_api_tests::TestApp;
use provider_api_tests::forms::valid;
use serde_json::{Value, json};
use uuid::Uuid;

async fn two_nodes() -> (TestApp, provider_api_tests::Node) {
    let app = TestApp::spawn_with(|config| config.public_base_url = Some("http://provider-api.test".into())).await;
    let second = app.second_node().await;
    (app, second)
}

#[tokio::test]
async fn the_same_idempotency_key_on_both_nodes_makes_one_notification() {
    let (app, second) = two_nodes().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let nodes = [app.base_url.clone(), second.base_url.clone()];
    let path = format!("/v1/organisations/{}/notification-submissions", demo.organisation_id);
    let body = json!({"location_id": demo.location_id, "content": valid("serious_injury")}).to_string();

    for round in 0..5 {
        let key = Uuid::new_v4().to_string();
        // Eight requests at once with one key, alternating between the nodes.
        let requests = (0..8).map(|i| {
            let (http, url, token, key, body) =
                (app.http.clone(), format!("{}{path}", nodes[i % 2]), token.clone(), key.clone(), body.clone());
            async move {
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let value: Value = response.json().await.unwrap();
                (status, value)
            }
        });
        let answers = futures_util::future::join_all(requests).await;
        let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, v)| v).collect();
        assert!(!created.is_empty(), "round {round}: {answers:?}");
        assert!(
            answers.iter().all(|(s, v)| *s == 201 || (*s == 409 && v["code"] == "idempotency_key_in_flight")),
            "round {round}: only the answer or 'in flight': {answers:?}"
        );
        assert!(created.iter().all(|v| v["id"] == created[0]["id"]), "round {round}: one notification: {created:?}");
    }
    let listed: Value = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/notifications?limit=100", demo.organisation_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 5, "five keys, five notifications");
}

#[tokio::test]
async fn an_edit_on_one_node_makes_the_other_nodes_if_match_stale() {
    let (app, second) = two_nodes().await;
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    let created: Value = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/notifications", demo.organisation_id)))
        .bearer_auth(&token)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({"location_id": demo.location_id, "content": {"type": "serious_injury", "description": "Fell."}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/v1/organisations/{}/notifications/{}", demo.organisation_id, created["id"].as_str().unwrap());
    let edit = |base: &str, text: &str| {
        app.http
            .patch(format!("{base}{path}"))
            .bearer_auth(&token)
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(json!({"content": {"description": text}}).to_string())
            .send()
    };
    // Both read version 1; the first node's edit lands, the second node's is stale.
    assert_eq!(edit(&app.base_url, "Fell in the lounge.").await.unwrap().status(), 200);
    let late = edit(&second.base_url, "Fell in the garden.").await.unwrap();
    assert_eq!(late.status(), 412);
    let now: Value = app
        .http
        .get(format!("{}{path}", second.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["content"]["description"], "Fell in the lounge.");
    assert_eq!(now["version"], 2);

    // A token from one node works on the other: they share keys and issuer.
    let me = app.http.get(format!("{}/v1/me", second.base_url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
}
