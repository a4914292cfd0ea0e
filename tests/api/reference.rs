use std::collections::HashSet;

use provider_api_sdk::types::Sector;
use provider_api_tests::TestApp;

#[tokio::test]
async fn lists_all_fourteen_regulated_activities_in_schedule_order() {
    let app = TestApp::spawn().await;

    let activities = app.client.list_regulated_activities().send().await.unwrap().into_inner().items;

    assert_eq!(activities.len(), 14);
    let numbers: Vec<u32> = activities.iter().map(|a| a.schedule_number.get()).collect();
    assert_eq!(numbers, (1..=14).collect::<Vec<_>>());
    assert_eq!((activities[0].code.as_str(), activities[0].name.as_str()), ("personal_care", "Personal care"));
    assert_eq!(activities[13].name, "Family planning");
    let codes: HashSet<&str> = activities.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes.len(), 14, "codes are unique");
}

#[tokio::test]
async fn lists_service_types_from_both_sectors() {
    let app = TestApp::spawn().await;

    let types = app.client.list_service_types().send().await.unwrap().into_inner().items;

    assert!(types.len() >= 30, "{} service types", types.len());
    let care_home = types.iter().find(|t| t.code.as_str() == "care_home_with_nursing").expect("care home with nursing");
    assert_eq!(care_home.name, "Care home service with nursing");
    assert_eq!(care_home.sector, Sector::SocialCare);
    assert!(types.iter().any(|t| t.sector == Sector::Healthcare));
}

#[tokio::test]
async fn lists_the_twelve_service_user_bands() {
    let app = TestApp::spawn().await;

    let bands = app.client.list_service_user_bands().send().await.unwrap().into_inner().items;

    assert_eq!(bands.len(), 12);
    assert!(bands.iter().any(|b| b.code.as_str() == "dementia" && b.name == "Dementia"));
}
