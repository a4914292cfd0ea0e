use provider_api_tests::TestApp;

#[tokio::test]
async fn the_served_spec_is_the_committed_spec_byte_for_byte() {
    let app = TestApp::spawn().await;

    let served = app.http.get(app.url("/v1/openapi.json")).send().await.unwrap().text().await.unwrap();

    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/v1.json")).unwrap();
    assert!(served == committed, "the served spec differs from openapi/v1.json");
    let spec: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[tokio::test]
async fn the_docs_page_and_every_asset_it_loads_come_from_the_server_itself() {
    let app = TestApp::spawn().await;

    let page = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from elsewhere");

    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-initializer.js"]
    {
        assert!(html.contains(asset), "{asset} not referenced");
        let response = app.http.get(app.url(&format!("/docs/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{asset} is empty");
    }
    let initializer = app.http.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(initializer.contains("/v1/openapi.json"), "the docs read our spec");
}
