//! Two nodes on one database, behind a round-robin client: idempotency, `If-Match` and tus offsets hold across
//! them. (Limits shared through Redis: `shared_limits.rs`.)

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

/// On S3, where a tus upload's parts are objects, two nodes can both accept a `PATCH` at the same offset (each
/// node only knows its own requests). The database decides which one counts; the bytes that make the document
/// must be that one's, whatever order the two writes reach the bucket in.
#[tokio::test]
async fn two_nodes_writing_one_upload_at_one_offset_keep_the_bytes_the_database_accepted() {
    let (app, second) = two_nodes().await;
    assert!(app.s3.is_some(), "this test needs S3: run it through `cargo xtask test`, which starts s3s-fs");
    let demo = app.demo().await;
    let token = app.client_token(demo.client_id, &demo.client_secret).await;
    const HALF: usize = 64 * 1024;
    let created = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/uploads", demo.organisation_id)))
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", 2 * HALF)
        .header("upload-metadata", "filename YS50eHQ=,filetype dGV4dC9wbGFpbg==")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let path = created.headers()["location"].to_str().unwrap().to_owned();
    let patch = |base: &str, offset: usize, body: reqwest::Body| {
        app.http
            .patch(format!("{base}{path}"))
            .bearer_auth(&token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .body(body)
            .send()
    };

    // The first node's copy of the first half arrives slowly; the second node's, fast, and is accepted first.
    let slow_pieces = (0..8).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; HALF / 8])));
    let slow_body = reqwest::Body::wrap_stream(futures_util::StreamExt::then(
        futures_util::stream::iter(slow_pieces),
        |piece| async move {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            piece
        },
    ));
    let slow = tokio::spawn(patch(&app.base_url, 0, slow_body));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let fast = patch(&second.base_url, 0, vec![b'b'; HALF].into()).await.unwrap();
    assert_eq!(fast.status(), 204, "{}", fast.text().await.unwrap());
    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), 409, "the database kept the second node's write: {}", slow.text().await.unwrap());

    let last = patch(&second.base_url, HALF, vec![b'c'; HALF].into()).await.unwrap();
    assert_eq!(last.status(), 204, "{}", last.text().await.unwrap());
    let document = last.headers()["document-id"].to_str().unwrap().to_owned();
    let documents = format!("/v1/organisations/{}/documents/{document}", demo.organisation_id);
    let content = app.http.get(app.url(&format!("{documents}/content"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(content.status(), 200);
    let content = content.bytes().await.unwrap();
    let mut expected = vec![b'b'; HALF];
    expected.extend(vec![b'c'; HALF]);
    assert!(content[..] == expected[..], "the document holds the accepted bytes, not the late write's");
    let view: Value = app.http.get(app.url(&documents)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    use sha2::Digest;
    let sha256: String = sha2::Sha256::digest(&content).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(view["sha256"], sha256, "and the recorded SHA-256 is of those bytes");
}
