use provider_api_sdk::ProblemExt;
use provider_api_tests::{TestApp, problem};

#[tokio::test]
async fn alive_and_ready_with_a_database() {
    let app = TestApp::spawn().await;

    assert_eq!(app.client.get_health().send().await.unwrap().into_inner().status, "ok");
    assert_eq!(app.client.get_readiness().send().await.unwrap().into_inner().status, "ready");
}

#[tokio::test]
async fn without_its_database_the_server_is_alive_but_not_ready_and_says_when_to_retry() {
    let app = TestApp::spawn().await;
    app.store.close().await;

    assert_eq!(app.client.get_health().send().await.unwrap().into_inner().status, "ok");

    let error = app.client.get_readiness().send().await.unwrap_err();
    assert_eq!(error.http_status(), Some(503));
    assert_eq!(error.problem().unwrap().code, "service_unavailable");

    let response = app.http.get(app.url("/v1/reference/regulated-activities")).send().await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let body = problem(response, 503).await;
    assert!(!body.to_string().to_lowercase().contains("pool"), "internal detail leaked: {body}");
}
