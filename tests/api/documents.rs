//! Documents: tus uploads and single-request uploads through the SDK, the protocol's refusals over raw HTTP,
//! type and size limits, malware scanning with a real clamd, downloads with ranges, and who may see what.
//! With `TEST_S3S_FS` set, the same tests run against S3 storage; with `TEST_DATABASE_URL`, on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use provider_api_sdk::ProblemExt;
use provider_api_sdk::types;
use provider_api_sdk::upload::upload_document;
use provider_api_tests::services::{Clamd, EICAR};
use provider_api_tests::{TestApp, problem};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const PDF_HEAD: &[u8] = b"%PDF-1.7\n";

/// Bytes of a PDF-looking file: the magic, then a pattern that does not repeat with the chunk size.
fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = PDF_HEAD.to_vec();
    bytes.extend((0..size.saturating_sub(PDF_HEAD.len())).map(|i| (i * 31 % 251) as u8));
    bytes
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

struct Provider {
    organisation_id: Uuid,
    location_id: Uuid,
    client: provider_api_sdk::Client,
    token: String,
}

async fn provider(app: &TestApp) -> Provider {
    let demo = app.demo().await;
    Provider {
        organisation_id: demo.organisation_id,
        location_id: demo.location_id,
        client: app.sdk_for_client(demo.client_id, &demo.client_secret, &[]),
        token: app.client_token(demo.client_id, &demo.client_secret).await,
    }
}

async fn document(p: &Provider, id: Uuid) -> types::DocumentView {
    p.client.get_document().organisation_id(p.organisation_id).document_id(id).send().await.unwrap().into_inner()
}

async fn settled(p: &Provider, id: Uuid) -> types::DocumentView {
    for _ in 0..200 {
        let document = document(p, id).await;
        if document.scan_status != types::ScanStatus::Pending {
            return document;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("document {id} was still pending after 10 s");
}

/// A loopback proxy to the server that cuts the first connection carrying more than `cut_after` bytes
/// towards the server, once: a real dropped connection in the middle of a request body.
async fn cutting_proxy(target: std::net::SocketAddr, cut_after: u64) -> (String, Arc<AtomicBool>) {
    let (url, cuts) = cutting_proxy_at(target, vec![cut_after]).await;
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    tokio::spawn(async move {
        while cuts.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        flag.store(true, Ordering::SeqCst);
    });
    (url, cut)
}

/// A proxy that cuts connections mid-body: each time the bytes sent through it (all connections together)
/// pass the next of `offsets` (ascending), the connection carrying them is dropped there, after half of that
/// read. Counts the cuts made.
async fn cutting_proxy_at(target: std::net::SocketAddr, offsets: Vec<u64>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let made = Arc::new(AtomicUsize::new(0));
    let counter = made.clone();
    let offsets = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(offsets)));
    let sent = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let (made, offsets, sent) = (counter.clone(), offsets.clone(), sent.clone());
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
                let (mut in_read, mut in_write) = inbound.split();
                let (mut out_read, mut out_write) = outbound.split();
                let upstream = async {
                    let mut buffer = vec![0u8; 16 * 1024];
                    loop {
                        let n = in_read.read(&mut buffer).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        let cut = {
                            let mut offsets = offsets.lock().unwrap();
                            let due = offsets.front().is_some_and(|at| total > *at);
                            if due {
                                offsets.pop_front();
                            }
                            due
                        };
                        if cut {
                            made.fetch_add(1, Ordering::SeqCst);
                            // Forward part of this read, then drop both sides mid-body.
                            let _ = out_write.write_all(&buffer[..n / 2]).await;
                            return;
                        }
                        if out_write.write_all(&buffer[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let downstream = async {
                    let _ = tokio::io::copy(&mut out_read, &mut in_write).await;
                };
                tokio::select! {
                    () = upstream => {},
                    () = downstream => {},
                }
            });
        }
    });
    (format!("http://{address}"), made)
}

#[tokio::test]
async fn uploads_cut_at_random_offsets_again_and_again_all_complete_by_resuming() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    // Random offsets (seeded from the clock, printed to reproduce a failure).
    // `CUT_SEED=<printed seed>` replays a run's cuts.
    let clock_seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut seed = std::env::var("CUT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(clock_seed) | 1;
    println!("cut offsets seed {seed}");
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Cut points through the whole transfer, each 300-800 KiB after the one before: every upload (over 1 MiB)
    // meets at least one, and a resumed request always gets somewhere before the next.
    let mut at = 0;
    let offsets: Vec<u64> = (0..24)
        .map(|_| {
            at += 300 * 1024 + random() % (500 * 1024);
            at
        })
        .collect();
    let (proxy_url, cuts) = cutting_proxy_at(app.address, offsets).await;
    let through_proxy = sdk_with_token(&proxy_url, &p.token);
    for i in 0..4 {
        let cuts_before = cuts.load(Ordering::SeqCst);
        let bytes = pdf(1024 * 1024 + (random() % 500_000) as usize);
        let uploaded = through_proxy
            .uploader(p.organisation_id)
            .chunk_size(1024 * 1024)
            // Without per-chunk checksums the server keeps the bytes of a cut request, so each resume goes on
            // from where the cut left it.
            .checksums(false)
            .upload_reader(&bytes[..], bytes.len() as u64, &format!("part-{i}.pdf"), "application/pdf")
            .await
            .unwrap_or_else(|e| panic!("upload {i} did not complete: {e}"));
        assert_eq!(uploaded.document.sha256, hex_sha256(&bytes), "upload {i}");
        assert_eq!(uploaded.document.size, bytes.len() as i64, "upload {i}");
        assert!(cuts.load(Ordering::SeqCst) > cuts_before, "upload {i} was cut at least once and resumed");
    }
    assert!(cuts.load(Ordering::SeqCst) >= 4, "connections were cut: {}", cuts.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_tus_upload_cut_off_mid_chunk_resumes_from_the_server_offset_and_keeps_every_byte() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let (proxy_url, cut) = cutting_proxy(app.address, 700 * 1024).await;
    // The SDK through the proxy, with the provider's token.
    let through_proxy = sdk_with_token(&proxy_url, &p.token);
    let bytes = pdf(2 * 1024 * 1024 + 12_345);
    let progress = Arc::new(AtomicU64::new(0));
    let seen = progress.clone();
    let uploaded = through_proxy
        .uploader(p.organisation_id)
        .chunk_size(1024 * 1024)
        .checksums(false)
        .on_progress(move |offset, _| {
            seen.store(offset, Ordering::SeqCst);
        })
        .upload_reader(&bytes[..], bytes.len() as u64, "evidence.pdf", "application/pdf")
        .await
        .unwrap();
    assert!(cut.load(Ordering::SeqCst), "the proxy cut a connection");
    assert_eq!(progress.load(Ordering::SeqCst), bytes.len() as u64);
    assert_eq!(uploaded.document.sha256, hex_sha256(&bytes));
    assert_eq!(uploaded.document.size, bytes.len() as i64);
    assert_eq!(uploaded.document.scan_status, types::ScanStatus::Clean);
    assert_eq!(uploaded.document.scanner.as_deref(), Some("none"), "no scanner configured");
    let content = p
        .client
        .get_document_content()
        .organisation_id(p.organisation_id)
        .document_id(uploaded.document_id)
        .send()
        .await
        .unwrap();
    let body = content.into_inner().collect_bytes().await;
    assert_eq!(hex_sha256(&body), hex_sha256(&bytes));
}

/// An SDK client that sends a fixed access token (the tests' stand-in for a client that already has one).
fn sdk_with_token(base_url: &str, token: &str) -> provider_api_sdk::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    provider_api_sdk::Client::new_with_client(base_url, http, provider_api_sdk::auth::Auth::none())
}

trait CollectBytes {
    async fn collect_bytes(self) -> Vec<u8>;
}

impl CollectBytes for progenitor_client::ByteStream {
    async fn collect_bytes(self) -> Vec<u8> {
        use futures_util::TryStreamExt;
        self.into_inner()
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .unwrap()
    }
}

/// A tus creation request for a file of `length` bytes declared as `filetype`, not yet sent.
fn creation(app: &TestApp, p: &Provider, length: u64, filetype: &str) -> reqwest::RequestBuilder {
    app.http
        .post(app.url(&format!("/v1/organisations/{}/uploads", p.organisation_id)))
        .bearer_auth(&p.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length)
        .header(
            "upload-metadata",
            format!("filename {},filetype {}", STANDARD.encode("a.pdf"), STANDARD.encode(filetype)),
        )
}

async fn create_upload(app: &TestApp, p: &Provider, length: u64, filetype: &str) -> String {
    let response = creation(app, p, length, filetype).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["tus-resumable"], "1.0.0");
    assert!(response.headers().contains_key("upload-expires"));
    app.url(response.headers()["location"].to_str().unwrap())
}

async fn head_offset(app: &TestApp, p: &Provider, url: &str) -> u64 {
    let response = app.http.head(url).bearer_auth(&p.token).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
}

fn patch(app: &TestApp, p: &Provider, url: &str, offset: u64, body: &[u8]) -> reqwest::RequestBuilder {
    app.http
        .patch(url)
        .bearer_auth(&p.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", offset)
        .header("content-type", "application/offset+octet-stream")
        .body(body.to_vec())
}

#[tokio::test]
async fn tus_discovery_wrong_offsets_bad_checksums_and_termination_follow_the_protocol() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let options = app
        .http
        .request(reqwest::Method::OPTIONS, app.url(&format!("/v1/organisations/{}/uploads", p.organisation_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 204);
    assert_eq!(options.headers()["tus-version"], "1.0.0");
    assert!(options.headers()["tus-extension"].to_str().unwrap().contains("checksum"));
    assert_eq!(options.headers()["tus-checksum-algorithm"], "sha256");
    assert_eq!(options.headers()["tus-max-size"], "104857600");

    let bytes = pdf(1000);
    let url = create_upload(&app, &p, bytes.len() as u64, "application/pdf").await;
    let first = patch(&app, &p, &url, 0, &bytes[..400]).send().await.unwrap();
    assert_eq!(first.status(), 204);
    assert_eq!(first.headers()["upload-offset"], "400");
    assert_eq!(first.headers()["tus-resumable"], "1.0.0");

    // A wrong offset: 409, and nothing changes.
    let wrong = patch(&app, &p, &url, 100, &bytes[100..200]).send().await.unwrap();
    let body = problem(wrong, 409).await;
    assert_eq!(body["code"], "upload_offset_mismatch");
    assert_eq!(head_offset(&app, &p, &url).await, 400);

    // A body that does not match its checksum: 460, and none of it is stored.
    let wrong_digest = STANDARD.encode(Sha256::digest(b"something else"));
    let bad = patch(&app, &p, &url, 400, &bytes[400..700])
        .header("upload-checksum", format!("sha256 {wrong_digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.headers()["tus-resumable"], "1.0.0");
    let body = problem(bad, 460).await;
    assert_eq!(body["code"], "checksum_mismatch");
    assert_eq!(head_offset(&app, &p, &url).await, 400);

    // The right checksum is accepted; an unknown algorithm is a 400.
    let digest = STANDARD.encode(Sha256::digest(&bytes[400..]));
    let md5 = patch(&app, &p, &url, 400, &bytes[400..]).header("upload-checksum", "md5 AAAA").send().await.unwrap();
    assert_eq!(problem(md5, 400).await["code"], "checksum_algorithm_unsupported");
    let last = patch(&app, &p, &url, 400, &bytes[400..])
        .header("upload-checksum", format!("sha256 {digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 204);
    let document_id: Uuid = last.headers()["document-id"].to_str().unwrap().parse().unwrap();
    assert_eq!(document(&p, document_id).await.sha256, hex_sha256(&bytes));

    // Without the tus version: 412 naming the versions served. Without the offset body type: 415.
    let unversioned = app.http.head(&url).bearer_auth(&p.token).send().await.unwrap();
    assert_eq!(unversioned.status(), 412);
    assert_eq!(unversioned.headers()["tus-version"], "1.0.0");
    let untyped = app
        .http
        .patch(&url)
        .bearer_auth(&p.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", 1000)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    problem(untyped, 415).await;

    // Termination: the upload is gone.
    let other = create_upload(&app, &p, 10, "text/plain").await;
    let terminated =
        app.http.delete(&other).bearer_auth(&p.token).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(terminated.status(), 204);
    let gone = app.http.head(&other).bearer_auth(&p.token).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn spoofed_types_are_refused_and_unknown_types_too() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let refused =
        upload_document(&p.client, p.organisation_id, "report.pdf", "application/pdf", png.clone()).await.unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(415), Some("content_type_mismatch")));
    let refused = p
        .client
        .uploader(p.organisation_id)
        .upload_reader(&png[..], png.len() as u64, "report.pdf", "application/pdf")
        .await
        .unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(415), Some("content_type_mismatch")));
    // Chunks too small to judge the type: the check happens when the last byte arrives, and the upload goes.
    let refused = p
        .client
        .uploader(p.organisation_id)
        .chunk_size(4)
        .upload_reader(&png[..], png.len() as u64, "report.pdf", "application/pdf")
        .await
        .unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(415), Some("content_type_mismatch")));
    // A PDF declared as text is not text either.
    let refused = upload_document(&p.client, p.organisation_id, "notes.txt", "text/plain", pdf(100)).await.unwrap_err();
    assert_eq!(refused.code(), Some("content_type_mismatch"));
    let refused = upload_document(&p.client, p.organisation_id, "run.exe", "application/x-msdownload", b"MZ".to_vec())
        .await
        .unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(415), Some("document_type_not_allowed")));
    let page = p.client.list_documents().organisation_id(p.organisation_id).send().await.unwrap().into_inner();
    assert!(page.items.is_empty(), "nothing refused was kept: {page:?}");
}

#[tokio::test]
async fn a_path_traversal_filename_is_kept_only_as_a_safe_name() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let stored =
        upload_document(&p.client, p.organisation_id, "../../etc/passwd\r\n.txt", "text/plain", "hello").await.unwrap();
    assert_eq!(stored.filename, "passwd__.txt");
    let response = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, stored.id)))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"passwd__.txt\"; filename*=UTF-8''passwd__.txt"
    );
    // The bytes are stored under the document's id, never under anything the client named.
    if app.s3.is_none() {
        let stored_names: Vec<String> = walk(app.blob_folder.path());
        assert!(stored_names.iter().all(|n| !n.contains("passwd")), "{stored_names:?}");
        assert!(stored_names.iter().any(|n| n.ends_with(&stored.id.to_string())), "{stored_names:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            names.extend(walk(&path));
        } else {
            names.push(path.display().to_string());
        }
    }
    names
}

#[tokio::test]
async fn an_oversized_upload_is_refused_before_anything_is_stored() {
    let app = TestApp::spawn_with(|config| config.document_max_size = 64 * 1024).await;
    let p = provider(&app).await;
    let big = pdf(64 * 1024 + 1);
    let refused =
        upload_document(&p.client, p.organisation_id, "big.pdf", "application/pdf", big.clone()).await.unwrap_err();
    assert_eq!((refused.status(), refused.code()), (Some(413), Some("document_too_large")));
    let refused = p
        .client
        .uploader(p.organisation_id)
        .upload_reader(&big[..], big.len() as u64, "big.pdf", "application/pdf")
        .await;
    assert_eq!(refused.unwrap_err().status(), Some(413));
    // A body without a declared length is cut off at the limit, and what arrived is thrown away.
    let stream =
        futures_util::stream::iter(big.chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let response = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/documents?filename=big.pdf", p.organisation_id)))
        .bearer_auth(&p.token)
        .header("content-type", "application/pdf")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response, 413).await["code"], "document_too_large");
    if app.s3.is_none() {
        assert!(walk(app.blob_folder.path()).is_empty(), "{:?}", walk(app.blob_folder.path()));
    }
    let page = p.client.list_documents().organisation_id(p.organisation_id).send().await.unwrap().into_inner();
    assert!(page.items.is_empty());
    // Exactly the limit is fine.
    let fits = pdf(64 * 1024);
    upload_document(&p.client, p.organisation_id, "fits.pdf", "application/pdf", fits).await.unwrap();
}

#[tokio::test]
async fn eicar_is_caught_by_a_real_clamd_and_never_served_while_clean_files_are() {
    let clamd = Clamd::start();
    let app = TestApp::spawn_with(|config| config.clamd_address = Some(clamd.url())).await;
    let p = provider(&app).await;

    let infected = p
        .client
        .uploader(p.organisation_id)
        .upload_reader(EICAR, EICAR.len() as u64, "eicar.txt", "text/plain")
        .await
        .unwrap();
    let clean = upload_document(&p.client, p.organisation_id, "plan.txt", "text/plain", "A care plan.").await.unwrap();
    assert_eq!(clean.scan_status, types::ScanStatus::Pending, "scanning happens after the upload");

    let infected = settled(&p, infected.document_id).await;
    assert_eq!(infected.scan_status, types::ScanStatus::Infected);
    assert_eq!(infected.scanner.as_deref(), Some("clamav"));
    assert_eq!(infected.threat.as_deref(), Some("Custom.Eicar-Test-Signature.UNOFFICIAL"));
    let refused = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, infected.id)))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(refused, 409).await["code"], "document_not_clean");

    let clean = settled(&p, clean.id).await;
    assert_eq!(clean.scan_status, types::ScanStatus::Clean);
    assert_eq!(clean.scanner.as_deref(), Some("clamav"));
    let content_url = app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, clean.id));
    let full = app.http.get(&content_url).bearer_auth(&p.token).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["etag"], format!("\"{}\"", clean.sha256));
    assert_eq!(full.headers()["content-length"], "12");
    assert_eq!(full.headers()["content-type"], "text/plain");
    assert_eq!(full.bytes().await.unwrap(), "A care plan.");
    let part = app.http.get(&content_url).bearer_auth(&p.token).header("range", "bytes=2-5").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 2-5/12");
    assert_eq!(part.bytes().await.unwrap(), "care");
    let outside = app.http.get(&content_url).bearer_auth(&p.token).header("range", "bytes=50-").send().await.unwrap();
    assert_eq!(problem(outside, 416).await["code"], "range_not_satisfiable");
    let unchanged = app
        .http
        .get(&content_url)
        .bearer_auth(&p.token)
        .header("if-none-match", format!("\"{}\"", clean.sha256))
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);

    // Each scan result entered the organisation's event feed once, when the scan recorded it.
    let feed = p.client.organisation_events().organisation_id(p.organisation_id).send().await.unwrap().into_inner();
    let scanned: Vec<(uuid::Uuid, String, String)> = feed
        .items
        .iter()
        .filter(|e| e.object_type.to_string() == "document")
        .map(|e| (e.object_id, e.action.clone(), e.status.clone()))
        .collect();
    assert_eq!(scanned.len(), 2, "{scanned:?}");
    assert!(scanned.contains(&(infected.id, "scanned".into(), "infected".into())), "{scanned:?}");
    assert!(scanned.contains(&(clean.id, "scanned".into(), "clean".into())), "{scanned:?}");
}

#[tokio::test]
async fn a_scanner_that_never_answers_leaves_the_document_failed_after_bounded_retries() {
    // A scanner that accepts every connection and never says a word: each attempt must time out on its own.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let app = TestApp::spawn_with(|config| {
        config.clamd_address = Some(format!("tcp://{address}"));
        config.scan_attempts = 2;
        config.scan_timeout = Duration::from_millis(300);
    })
    .await;
    let p = provider(&app).await;
    let stored = upload_document(&p.client, p.organisation_id, "a.txt", "text/plain", "text").await.unwrap();
    let mut status = types::ScanStatus::Pending;
    for _ in 0..200 {
        status = document(&p, stored.id).await.scan_status;
        if status != types::ScanStatus::Pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, types::ScanStatus::Failed);
    let row = app.store.document(stored.id).await.unwrap().unwrap();
    assert_eq!(row.scan_attempts, 2, "exactly the configured attempts, then it gives up");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "each attempt reached the scanner and timed out there");
    assert!(row.scan_detail.unwrap_or_default().contains("time"), "the failure says it timed out");
    let refused = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, stored.id)))
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    problem(refused, 409).await;
    silent.abort();
}

#[tokio::test]
async fn another_organisation_sees_none_of_it() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let other = provider(&app).await;
    let stored = upload_document(&p.client, p.organisation_id, "a.txt", "text/plain", "mine").await.unwrap();
    let upload_url = create_upload(&app, &p, 10, "text/plain").await;

    // The other organisation's client, naming our organisation or its own: 404 either way.
    for organisation in [p.organisation_id, other.organisation_id] {
        let base = format!("/v1/organisations/{organisation}/documents/{}", stored.id);
        for path in [base.clone(), format!("{base}/content")] {
            let response = app.http.get(app.url(&path)).bearer_auth(&other.token).send().await.unwrap();
            problem(response, 404).await;
        }
        let response = app.http.delete(app.url(&base)).bearer_auth(&other.token).send().await.unwrap();
        problem(response, 404).await;
    }
    let own_path_upload = upload_url.replace(&p.organisation_id.to_string(), &other.organisation_id.to_string());
    for url in [&upload_url, &own_path_upload] {
        let head = app.http.head(url).bearer_auth(&other.token).header("tus-resumable", "1.0.0").send().await.unwrap();
        assert_eq!(head.status(), 404);
        let response = patch(&app, &other, url, 0, b"0123456789").send().await.unwrap();
        problem(response, 404).await;
    }
    let listed =
        other.client.list_documents().organisation_id(other.organisation_id).send().await.unwrap().into_inner();
    assert!(listed.items.is_empty());
    // And our own upload is untouched.
    assert_eq!(head_offset(&app, &p, &upload_url).await, 0);
}

#[tokio::test]
async fn documents_are_listed_a_page_at_a_time_and_deleted_unless_frozen() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let d = upload_document(&p.client, p.organisation_id, &format!("{i}.csv"), "text/csv", format!("a,b\n{i},2\n"))
            .await
            .unwrap();
        ids.push(d.id);
    }
    let first =
        p.client.list_documents().organisation_id(p.organisation_id).limit(2).send().await.unwrap().into_inner();
    assert_eq!(first.items.iter().map(|d| d.id).collect::<Vec<_>>(), ids[..2]);
    let next = first.next.clone().expect("a second page");
    let second =
        p.client.list_documents().organisation_id(p.organisation_id).cursor(next).send().await.unwrap().into_inner();
    assert_eq!(second.items.iter().map(|d| d.id).collect::<Vec<_>>(), ids[2..]);
    assert!(second.next.is_none());

    app.store.freeze_documents(&ids[..1], time::OffsetDateTime::now_utc()).await.unwrap();
    let frozen = p.client.delete_document().organisation_id(p.organisation_id).document_id(ids[0]).send().await;
    let frozen = frozen.unwrap_err();
    assert_eq!(frozen.http_status(), Some(409));
    assert_eq!(frozen.problem().unwrap().code, "document_frozen");

    // A draft that names a document keeps it until the draft lets it go.
    let draft = provider_api_sdk::types::NewNotification {
        location_id: Some(p.location_id),
        follows_id: None,
        content: serde_json::from_value(serde_json::json!({"type": "serious_injury"})).unwrap(),
        attachments: vec![provider_api_sdk::types::NewAttachment {
            document_id: ids[2],
            purpose: provider_api_sdk::types::AttachmentPurpose::Evidence,
        }],
    };
    let draft = provider_api_sdk::idempotent::with_key(|key| {
        p.client
            .create_notification()
            .organisation_id(p.organisation_id)
            .idempotency_key(key)
            .body(draft.clone())
            .send()
    })
    .await
    .unwrap()
    .into_inner();
    let named = p.client.delete_document().organisation_id(p.organisation_id).document_id(ids[2]).send().await;
    let named = named.unwrap_err();
    assert_eq!((named.http_status(), named.problem().unwrap().code.as_str()), (Some(409), "document_attached"));
    let let_go = provider_api_sdk::types::NotificationPatch {
        content: serde_json::Map::new(),
        attachments: Some(Vec::new()),
        follows_id: None,
        location_id: None,
    };
    let update = p.client.update_notification().organisation_id(p.organisation_id).notification_id(draft.id);
    update.if_match(format!("\"{}\"", draft.version)).body(let_go).send().await.unwrap();
    p.client.delete_document().organisation_id(p.organisation_id).document_id(ids[2]).send().await.unwrap();
    p.client.delete_document().organisation_id(p.organisation_id).document_id(ids[1]).send().await.unwrap();
    let gone = p.client.get_document().organisation_id(p.organisation_id).document_id(ids[1]).send().await;
    assert_eq!(gone.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    assert!(app.store.document(ids[0]).await.unwrap().unwrap().frozen_at.is_some());
}

#[tokio::test]
async fn location_limits_apply_to_uploads_and_reads() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    // A second home, and a drafter whose membership is limited to the first.
    let elsewhere = provider_api_core::accounts::Location {
        id: Uuid::new_v4(),
        organisation_id: p.organisation_id,
        location_id: None,
        name: "Second House".into(),
        address_line_1: "2 Example Street".into(),
        address_line_2: None,
        town: "Newcastle upon Tyne".into(),
        postcode: "NE1 4ST".into(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    app.store.create_location(&elsewhere).await.unwrap();
    let (email, password) = app.member(p.organisation_id, "drafter", Some(&[p.location_id])).await;
    let limited = app.sdk_for_person(&email, &password).await;

    let at_home = limited
        .uploader(p.organisation_id)
        .location(p.location_id)
        .upload_reader(&b"for one home"[..], 12, "home.txt", "text/plain")
        .await
        .unwrap();
    assert_eq!(at_home.document.location_id, Some(p.location_id));
    let not_theirs = limited
        .uploader(p.organisation_id)
        .location(elsewhere.id)
        .upload_reader(&b"for the other"[..], 13, "other.txt", "text/plain")
        .await
        .unwrap_err();
    assert_eq!(not_theirs.status(), Some(403), "{not_theirs:?}");
    assert_eq!(not_theirs.code(), Some("forbidden"));

    // A document of the other home, uploaded by software that sees every location.
    let theirs = p
        .client
        .uploader(p.organisation_id)
        .location(elsewhere.id)
        .upload_reader(&b"the other home's"[..], 16, "theirs.txt", "text/plain")
        .await
        .unwrap()
        .document;
    let hidden = limited.get_document().organisation_id(p.organisation_id).document_id(theirs.id).send().await;
    assert_eq!(hidden.unwrap_err().http_status(), Some(404), "another home's document is not there for them");
    let content = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, theirs.id)))
        .bearer_auth(app.sign_in(&email, &password).await.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(content, 404).await["code"], "not_found");
    let listed = limited.list_documents().organisation_id(p.organisation_id).send().await.unwrap().into_inner().items;
    let ids: Vec<Uuid> = listed.iter().map(|d| d.id).collect();
    assert!(ids.contains(&at_home.document.id), "their own home's document is listed");
    assert!(!ids.contains(&theirs.id), "the other home's is not");
    let own = limited.get_document().organisation_id(p.organisation_id).document_id(at_home.document.id).send().await;
    assert_eq!(own.unwrap().into_inner().id, at_home.document.id);

    // A location of another organisation cannot be named at all.
    let other = provider(&app).await;
    let refused = p
        .client
        .uploader(p.organisation_id)
        .location(other.location_id)
        .upload_reader(&b"x"[..], 1, "x.txt", "text/plain")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(422));
}

#[tokio::test]
async fn expired_unfinished_uploads_are_removed_with_their_bytes() {
    let app = TestApp::spawn_with(|config| config.upload_expiry = Duration::from_millis(300)).await;
    let p = provider(&app).await;
    let url = create_upload(&app, &p, 100, "text/plain").await;
    assert_eq!(patch(&app, &p, &url, 0, b"half of it").send().await.unwrap().status(), 204);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let gone = app.http.head(&url).bearer_auth(&p.token).header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(gone.status(), 404, "an expired upload is not offered for resumption");
    let removed = provider_api_http::documents::housekeeping::remove_expired_uploads(
        app.store.as_ref(),
        &app.documents,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(removed, 1);
    if app.s3.is_none() {
        assert!(walk(&app.blob_folder.path().join("uploads")).is_empty());
    }
}

/// A document without a location belongs to the whole organisation (registration evidence: DBS checks,
/// finances), so a member limited to some locations neither sees, downloads, attaches nor deletes it, just as
/// they do not see a notification without a location. Such a member names a location when uploading.
#[tokio::test]
async fn a_document_without_a_location_is_for_members_who_see_every_location() {
    let app = TestApp::spawn().await;
    let p = provider(&app).await;
    let (email, password) = app.member(p.organisation_id, "drafter", Some(&[p.location_id])).await;
    let limited = app.sdk_for_person(&email, &password).await;
    let whole_organisation = p
        .client
        .uploader(p.organisation_id)
        .upload_reader(&b"the registered manager's DBS check"[..], 34, "dbs.txt", "text/plain")
        .await
        .unwrap()
        .document;
    assert_eq!(whole_organisation.location_id, None);

    let read =
        limited.get_document().organisation_id(p.organisation_id).document_id(whole_organisation.id).send().await;
    assert_eq!(read.unwrap_err().http_status(), Some(404), "not there for a member limited to one home");
    let token = app.sign_in(&email, &password).await.access_token;
    let content = app
        .http
        .get(app.url(&format!("/v1/organisations/{}/documents/{}/content", p.organisation_id, whole_organisation.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(content, 404).await["code"], "not_found");
    let listed = limited.list_documents().organisation_id(p.organisation_id).send().await.unwrap().into_inner().items;
    assert!(listed.iter().all(|d| d.id != whole_organisation.id), "not listed for them");
    let deleted =
        limited.delete_document().organisation_id(p.organisation_id).document_id(whole_organisation.id).send().await;
    assert_eq!(deleted.unwrap_err().http_status(), Some(404), "nor deleted by them");
    let draft = provider_api_sdk::types::NewNotification {
        location_id: Some(p.location_id),
        follows_id: None,
        content: serde_json::from_value(serde_json::json!({"type": "serious_injury"})).unwrap(),
        attachments: vec![provider_api_sdk::types::NewAttachment {
            document_id: whole_organisation.id,
            purpose: provider_api_sdk::types::AttachmentPurpose::Evidence,
        }],
    };
    let attached = provider_api_sdk::idempotent::with_key(|key| {
        limited.create_notification().organisation_id(p.organisation_id).idempotency_key(key).body(draft.clone()).send()
    })
    .await;
    assert_eq!(attached.unwrap_err().http_status(), Some(404), "nor attached by them");
    assert!(app.store.document(whole_organisation.id).await.unwrap().is_some(), "still there");

    // Their own uploads name one of their locations, so that they can see what they upload.
    let unplaced = limited
        .uploader(p.organisation_id)
        .upload_reader(&b"somewhere"[..], 9, "where.txt", "text/plain")
        .await
        .unwrap_err();
    assert_eq!(unplaced.status(), Some(422), "{unplaced:?}");

    // Someone who sees every location sees it.
    let seen =
        p.client.get_document().organisation_id(p.organisation_id).document_id(whole_organisation.id).send().await;
    assert_eq!(seen.unwrap().into_inner().id, whole_organisation.id);
}

/// A body that sends a byte every `every`, for `bytes` bytes: it never stalls, and never ends soon.
fn trickle(bytes: usize, every: Duration) -> reqwest::Body {
    let stream = futures_util::stream::unfold(0usize, move |sent| async move {
        if sent == bytes {
            return None;
        }
        if sent > 0 {
            tokio::time::sleep(every).await;
        }
        let byte = if sent < PDF_HEAD.len() { PDF_HEAD[sent] } else { b'x' };
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(vec![byte])), sent + 1))
    });
    reqwest::Body::wrap_stream(stream)
}

/// Slow uploads cannot hold the server: each request has an absolute deadline however steadily its bytes
/// trickle in (a tus upload keeps what arrived and resumes), and no more requests stage bytes at once than
/// configured, so downloads and everything else carry on.
#[tokio::test]
async fn a_trickling_upload_meets_an_absolute_deadline_and_staging_is_bounded() {
    let app = TestApp::spawn_with(|config| {
        config.body_timeout = Duration::from_secs(5);
        config.upload_request_deadline = Duration::from_millis(1500);
        config.upload_concurrency = 1;
    })
    .await;
    let p = provider(&app).await;
    let url = create_upload(&app, &p, 1000, "application/pdf").await;
    let started = std::time::Instant::now();
    let slow = patch(&app, &p, &url, 0, b"").body(trickle(1000, Duration::from_millis(100))).send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(400)).await;

    // While it trickles, staging is full: another upload is told to come back, at once.
    let other = create_upload(&app, &p, 10, "application/pdf").await;
    let refused = patch(&app, &p, &other, 0, &pdf(10)).send().await.unwrap();
    assert_eq!(refused.status(), 503, "{}", refused.text().await.unwrap());
    assert!(refused.headers().contains_key("retry-after"));
    let _ = refused;

    let answer = slow.await.unwrap().unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status(), 408, "{:?}", answer.headers());
    assert!(took < Duration::from_secs(4), "the deadline cut it off after {took:?}");
    let kept: u64 = answer.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
    assert!(kept > 0 && kept < 1000, "what arrived in time is kept: {kept}");
    assert_eq!(head_offset(&app, &p, &url).await, kept, "and resumes from there");
    let rest = patch(&app, &p, &url, kept, &vec![b'x'; 1000 - kept as usize]).send().await.unwrap();
    assert_eq!(rest.status(), 204, "{}", rest.text().await.unwrap());
    assert!(rest.headers().contains_key("document-id"));
}

/// Each organisation has a quota of open uploads (429 past it) and of stored bytes (413 past it), so one
/// organisation cannot fill the disk or park the server with uploads it never finishes.
#[tokio::test]
async fn an_organisation_has_a_quota_of_open_uploads_and_of_stored_bytes() {
    let app = TestApp::spawn_with(|config| {
        config.organisation_open_uploads = 2;
        config.organisation_storage_bytes = 1000;
    })
    .await;
    let p = provider(&app).await;
    let first = create_upload(&app, &p, 400, "application/pdf").await;
    let _second = create_upload(&app, &p, 400, "application/pdf").await;
    let create = |length: u64| creation(&app, &p, length, "application/pdf").send();
    let third = create(10).await.unwrap();
    let third = problem(third, 429).await;
    assert_eq!(third["code"], "too_many_open_uploads", "{third}");

    // Finishing one frees its place; its bytes count against the storage quota from then on.
    assert_eq!(patch(&app, &p, &first, 0, &pdf(400)).send().await.unwrap().status(), 204);
    let too_big = create(300).await.unwrap();
    let too_big = problem(too_big, 413).await;
    assert_eq!(too_big["code"], "storage_quota_exceeded", "400 stored + 400 reserved + 300 > 1000: {too_big}");
    assert_eq!(create(200).await.unwrap().status(), 201, "what fits is taken");
    let single = app
        .http
        .post(app.url(&format!("/v1/organisations/{}/documents?filename=b.pdf", p.organisation_id)))
        .bearer_auth(&p.token)
        .header("content-type", "application/pdf")
        .body(pdf(100))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(single, 413).await["code"], "storage_quota_exceeded", "single-request uploads count too");
    let rows = app.store.documents_after(p.organisation_id, time::OffsetDateTime::UNIX_EPOCH, Uuid::nil(), 10);
    assert_eq!(rows.await.unwrap().len(), 1, "nothing was stored for the refusals");
}

/// A creation-with-upload refused for want of a staging place leaves no upload behind to count against the
/// organisation's quota (the client, told 503 without a `Location`, could never resume or cancel it).
#[tokio::test]
async fn a_refused_creation_with_upload_leaves_no_open_upload_behind() {
    let app = TestApp::spawn_with(|config| {
        config.upload_concurrency = 1;
        config.body_timeout = Duration::from_secs(5);
    })
    .await;
    let p = provider(&app).await;
    let holder = create_upload(&app, &p, 100, "application/pdf").await;
    let slow = tokio::spawn(patch(&app, &p, &holder, 0, b"").body(trickle(100, Duration::from_millis(50))).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = app.store.storage_use(p.organisation_id, time::OffsetDateTime::now_utc()).await.unwrap();
    let refused = creation(&app, &p, 10, "application/pdf")
        .header("content-type", "application/offset+octet-stream")
        .body(pdf(10))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let after = app.store.storage_use(p.organisation_id, time::OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(after.open_uploads, before.open_uploads, "no upload was left open");
    let _ = slow.await;
}
