use provider_api_sdk::ProblemExt;
use provider_api_sdk::types::IdentifierCheck;
use provider_api_tests::{TestApp, problem};
use serde_json::json;

#[tokio::test]
async fn valid_identifiers_come_back_in_normal_form() {
    let app = TestApp::spawn().await;

    let checked = app
        .client
        .validate_identifiers()
        .body(
            IdentifierCheck::builder()
                .nhs_number(Some("943 476 5919".parse().unwrap()))
                .postcode(Some("sw1a1aa".parse().unwrap()))
                .provider_id(Some("1-199747506".parse().unwrap()))
                .location_id(Some("rl4x2".parse().unwrap()))
                .ods_code(Some("h85037".parse().unwrap())),
        )
        .send()
        .await
        .unwrap()
        .into_inner();

    assert_eq!(checked.nhs_number.as_deref().map(|n| n.as_str()), Some("9434765919"));
    assert_eq!(checked.postcode.as_deref().map(|p| p.as_str()), Some("SW1A 1AA"));
    assert_eq!(checked.provider_id.as_deref().map(|p| p.as_str()), Some("1-199747506"));
    assert_eq!(checked.location_id.as_deref().map(|l| l.as_str()), Some("RL4X2"));
    assert_eq!(checked.ods_code.as_deref().map(|o| o.as_str()), Some("H85037"));
}

#[tokio::test]
async fn every_invalid_identifier_is_reported_at_once_with_a_pointer() {
    let app = TestApp::spawn().await;

    let error = app
        .client
        .validate_identifiers()
        .body(
            IdentifierCheck::builder()
                .nhs_number(Some("9434765918".parse().unwrap()))
                .postcode(Some("not a postcode".parse().unwrap()))
                .provider_id(Some("1-199747506".parse().unwrap()))
                .location_id(Some("2-123".parse().unwrap())),
        )
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.http_status(), Some(422));
    let problem = error.problem().expect("a problem body");
    assert_eq!(problem.code, "validation_failed");
    let found: Vec<(&str, &str)> = problem.errors.iter().map(|e| (e.pointer.as_str(), e.code.as_str())).collect();
    assert_eq!(
        found,
        [
            ("/location_id", "location_id_format"),
            ("/nhs_number", "nhs_number_check_digit"),
            ("/postcode", "postcode_format"),
        ]
    );
}

#[tokio::test]
async fn an_empty_check_is_refused_as_a_whole() {
    let app = TestApp::spawn().await;

    let response = app.http.post(app.url("/v1/identifiers/validate")).json(&json!({})).send().await.unwrap();

    let body = problem(response, 422).await;
    assert_eq!(
        body["errors"],
        json!([{"pointer": "", "code": "empty", "detail": "Send at least one identifier to check."}])
    );
}
