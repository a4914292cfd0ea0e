//! Documents through the portal: a file uploaded with a plain form (streamed through to the API), what the virus
//! check found said in words, downloaded, removed; attached to a draft, taken off again, and attached from
//! those already uploaded; and nothing of another organisation's reachable.

use provider_api_http::bootstrap::DemoCredentials;
use provider_api_tests::TestApp;
use provider_api_tests::browser::{Browser, Page};
use provider_api_tests::services::{Clamd, EICAR};
use reqwest::StatusCode;
use serde_json::json;

async fn drafter(app: &TestApp, demo: &DemoCredentials) -> Browser {
    let user = demo.users.iter().find(|u| u.roles.iter().any(|r| r.to_string() == "drafter")).unwrap();
    let browser = Browser::new(&app.base_url);
    browser.sign_in(&user.email, &user.password).await;
    browser
}

/// Uploads a file with the upload form on `page`, as the browser sends it (the form's hidden fields first).
async fn upload(browser: &Browser, page: &Page, filename: &str, media_type: &str, content: &[u8]) -> Page {
    let (action, fields) = page.form("form[enctype='multipart/form-data']", &[]);
    let fields: Vec<(String, String)> = fields.into_iter().filter(|(name, _)| name != "file").collect();
    browser.post_file(&action, &fields, "file", filename, media_type, content.to_vec()).await
}

fn cards(page: &Page) -> Vec<String> {
    page.texts(".govuk-summary-card__title")
}

#[tokio::test]
async fn a_file_is_uploaded_downloaded_and_removed_and_a_wrong_one_is_refused_in_words() {
    let app = TestApp::spawn_with_portal(|config| config.document_max_size = 64 * 1024).await;
    let demo = app.demo().await;
    let browser = drafter(&app, &demo).await;

    let documents = browser.get("/documents").await;
    assert_eq!(documents.status, StatusCode::OK, "{}", documents.body);
    assert!(documents.body.contains("There are no documents yet"));
    assert!(documents.body.contains("up to 64 KB"), "the limit, from the API's configuration");

    // No file chosen.
    let refused = upload(&browser, &documents, "", "application/octet-stream", b"").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.texts("#file-error")[0].trim(), "Error: Select a file to upload");
    assert!(refused.texts("title")[0].starts_with("Error: "));

    // A type the API does not take, and a file that is not what its name says, in words people use; one past
    // the limit, stopped.
    let refused = upload(&browser, &documents, "photos.zip", "application/zip", b"PK\x03\x04 not allowed").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(
        refused.texts("#file-error")[0].trim(),
        "Error: The selected file must be a PDF, Word, Excel, OpenDocument, CSV, text, JPEG or PNG file"
    );
    let refused = upload(&browser, &documents, "report.pdf", "application/pdf", b"plain text, not a PDF").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("#file-error")[0].contains("is not the type its name says"), "{}", refused.body);
    let refused = upload(&browser, &documents, "big.txt", "text/plain", &vec![b'a'; 200 * 1024]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.texts("#file-error")[0].contains("must be 64 KB or smaller"), "{}", refused.body);

    // A form from elsewhere (no token) is not read on, and nothing is stored.
    let forged = browser.post_file("/documents/upload", &[], "file", "x.txt", "text/plain", b"forged".to_vec()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);

    // A text file (its type read from its name when the browser gives none): uploaded, ready, downloadable.
    let content = b"Falls log, November: one fall, 20th, lounge.";
    let uploaded = upload(&browser, &documents, "falls-log.txt", "application/octet-stream", content).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let documents = browser.follow(uploaded).await;
    assert!(documents.texts(".govuk-notification-banner")[0].contains("falls-log.txt has been uploaded"));
    assert_eq!(cards(&documents), ["falls-log.txt"], "only the one that was taken");
    assert!(documents.texts(".govuk-tag").iter().any(|t| t == "Ready"), "{}", documents.body);
    let href = documents.attr(".govuk-summary-card__actions a", "href").unwrap();
    let downloaded = browser.get(&href).await;
    assert_eq!(downloaded.status, StatusCode::OK);
    assert_eq!(downloaded.body.as_bytes(), content);
    let disposition = downloaded.headers.get("content-disposition").unwrap().to_str().unwrap();
    assert!(disposition.contains("falls-log.txt"), "{disposition}");

    // Another organisation's people cannot download or remove it.
    let other = app.demo().await;
    let stranger = drafter(&app, &other).await;
    assert_eq!(stranger.get(&href).await.status, StatusCode::NOT_FOUND);
    let (remove, _) = documents.form("form[action$='/remove']", &[]);
    let token = stranger.get("/documents").await.attr("input[name=csrf_token]", "value").unwrap();
    let fields = [("csrf_token".to_owned(), token)];
    assert_eq!(stranger.post(&remove, &fields).await.status, StatusCode::NOT_FOUND);

    let removed = browser.follow(browser.submit(&documents, "form[action$='/remove']", &[]).await).await;
    assert!(removed.body.contains("The document has been removed"), "{}", removed.body);
    assert!(cards(&removed).is_empty());

    // A draft's upload form gives the same limit.
    let draft = app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    let page = browser.get(&format!("/notifications/{draft}/documents")).await;
    assert!(page.body.contains("up to 64 KB"), "{}", page.body);

    // A viewer sees the documents but is offered no upload or removal.
    let (email, password) = app.member(demo.organisation_id, "viewer", None).await;
    let viewer = Browser::new(&app.base_url);
    viewer.sign_in(&email, &password).await;
    let seen = viewer.get("/documents").await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        seen.attr("input[type=file]", "name").is_none() && seen.attr("form[action$='/remove']", "action").is_none()
    );
}

#[tokio::test]
async fn what_the_virus_check_found_is_said_in_words() {
    let clamd = Clamd::start();
    let app = TestApp::spawn_with_portal(|config| config.clamd_address = Some(clamd.url())).await;
    let demo = app.demo().await;
    let browser = drafter(&app, &demo).await;
    let documents = browser.get("/documents").await;
    let uploaded = upload(&browser, &documents, "eicar.txt", "text/plain", EICAR).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let mut page = browser.follow(uploaded).await;
    assert!(page.body.contains("We are checking it for viruses"), "{}", page.body);
    for _ in 0..100 {
        if page.texts(".govuk-tag").iter().any(|t| t == "We found a problem") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = browser.get("/documents").await;
    }
    assert!(page.texts(".govuk-tag").iter().any(|t| t == "We found a problem"), "{}", page.body);
    assert!(page.body.contains("Eicar"), "the signature found is named");
    assert!(page.attr(".govuk-summary-card__actions a", "href").is_none(), "no download of an infected file");
}

#[tokio::test]
async fn a_drafter_attaches_documents_to_a_draft_and_takes_them_off() {
    let app = TestApp::spawn_with_portal(|_| {}).await;
    let demo = app.demo().await;
    let browser = drafter(&app, &demo).await;
    let draft = app.demo_draft(&demo, json!({"type": "serious_injury"})).await;
    let path = format!("/notifications/{draft}/documents");

    let check = browser.get(&format!("/notifications/{draft}/check")).await;
    assert!(check.attr(&format!("a[href='{path}']"), "href").is_some(), "check your answers links to the documents");

    // Uploaded from the draft's page: attached at once.
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No documents are attached"));
    let uploaded = upload(&browser, &page, "body-map.png", "image/png", b"\x89PNG\r\n\x1a\n a body map").await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let page = browser.follow(uploaded).await;
    assert!(page.url.ends_with(&path), "{}", page.url);
    assert!(page.body.contains("It is attached to this notification"), "{}", page.body);
    assert_eq!(cards(&page), ["body-map.png"]);
    let client = app.sdk_for_client(demo.client_id, &demo.client_secret, &[]);
    let get = || client.get_notification().organisation_id(demo.organisation_id).notification_id(draft).send();
    assert_eq!(get().await.unwrap().attachments.len(), 1);

    // Taken off (the last one: none left), then attached again from the documents already uploaded.
    let off = browser.follow(browser.submit(&page, "form.detach", &[]).await).await;
    assert!(off.body.contains("No documents are attached"), "{}", off.body);
    assert!(get().await.unwrap().attachments.is_empty());
    let empty = browser.submit(&off, "form.attach", &[]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "nothing chosen: {}", empty.body);
    assert_eq!(empty.attr(".govuk-error-summary a", "href").as_deref(), Some("#documents"));
    let document = off.attr("input[name=documents]", "value").unwrap();
    let again = browser.follow(browser.submit(&off, "form.attach", &[("documents", &document)]).await).await;
    assert_eq!(cards(&again), ["body-map.png"], "{}", again.body);
    let check = browser.get(&format!("/notifications/{draft}/check")).await;
    assert!(check.texts(".govuk-summary-list__value").iter().any(|v| v.trim() == "1 document"), "{}", check.body);

    // A document the draft names is not removed from the organisation's documents: the page says to take it
    // off the draft first. Taken off, it can be removed.
    let documents = browser.get("/documents").await;
    let kept = browser.follow(browser.submit(&documents, "form[action$='/remove']", &[]).await).await;
    assert!(kept.body.contains("attached to a draft notification, so it is kept"), "{}", kept.body);
    assert_eq!(cards(&kept), ["body-map.png"]);
    assert_eq!(get().await.unwrap().attachments.len(), 1, "still attached");
    browser.follow(browser.submit(&again, "form.detach", &[]).await).await;
    let documents = browser.get("/documents").await;
    let removed = browser.follow(browser.submit(&documents, "form[action$='/remove']", &[]).await).await;
    assert!(removed.body.contains("The document has been removed"), "{}", removed.body);
    let upload_again = browser.get(&path).await;
    let uploaded = upload(&browser, &upload_again, "incident-log.txt", "text/plain", b"Incident log.").await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let again = browser.follow(uploaded).await;
    assert_eq!(cards(&again), ["incident-log.txt"], "{}", again.body);
    assert_eq!(get().await.unwrap().attachments.len(), 1);

    // Another organisation's document cannot be attached, even by a forged form.
    let other = app.demo().await;
    let theirs = app.sdk_for_client(other.client_id, &other.client_secret, &[]);
    let foreign =
        provider_api_sdk::upload::upload_document(&theirs, other.organisation_id, "theirs.txt", "text/plain", "theirs")
            .await
            .unwrap();
    let foreign = foreign.id.to_string();
    let forged = browser.submit(&again, "form.detach", &[("action", "attach"), ("documents", &foreign)]).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", forged.body);
    let said = forged.texts(".govuk-error-summary a");
    assert!(!said.is_empty() && !said[0].contains("Someone else"), "the API's reason, not a conflict: {said:?}");
    assert_eq!(get().await.unwrap().attachments.len(), 1, "unchanged");

    // Without the form's token nothing is attached, taken off or removed.
    let field = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    let path = format!("/notifications/{draft}/documents");
    for fields in [vec![field("action", "detach"), field("document", &document)], vec![field("action", "attach")]] {
        assert_eq!(browser.post(&path, &fields).await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(browser.post(&format!("/documents/{document}/remove"), &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(get().await.unwrap().attachments.len(), 1, "unchanged");
}
