//! A hostile-input corpus (issue 7): malformed, deep, duplicated and oversized JSON, injection strings, path
//! traversal, confusable emails, forged bearer tokens, replayed refresh tokens, huge headers and slow bodies.
//!
//! Every case names the exact status and problem `code`, and proves that nothing was stored: the row count of
//! every table, and the files in the blob folder, before and after. Where input is rightly kept (free text,
//! filenames made safe), the case names the rows it adds and the exact string that must come back, in the
//! response and when the resource is read again. Each table runs to its end and reports every mismatch at once.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use provider_api_core::accounts::{RefreshToken, normalise_email};
use provider_api_http::auth::secret;
use provider_api_http::bootstrap::DemoCredentials;
use provider_api_tests::TestApp;
use provider_api_tests::smtp::SmtpSink;
use reqwest::RequestBuilder;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// A request, sent through reqwest or, for what no well-behaved client sends, as raw bytes.
enum Req {
    Http(Box<RequestBuilder>),
    Raw(Vec<u8>),
}

impl From<RequestBuilder> for Req {
    fn from(builder: RequestBuilder) -> Self {
        Req::Http(Box::new(builder))
    }
}

#[derive(Clone, Copy)]
enum Expect {
    /// `application/problem+json` with this `code`.
    Problem(&'static str),
    Success,
    /// hyper's own answer, before any layer of ours runs: not a problem.
    Bare,
}

type Rows = &'static [(&'static str, i64)];
const LOCATION_ROWS: Rows = &[("locations", 1)];
const ORGANISATION_ROWS: Rows = &[("memberships", 1), ("organisations", 1)];
const DRAFT_ROWS: Rows =
    &[("idempotency_keys", 1), ("notification_events", 1), ("notifications", 1), ("organisation_events", 1)];
// A document stored (clean: no scanner here) enters the event feed with its scan result.
const DOCUMENT_ROWS: Rows = &[("blob files", 1), ("documents", 1), ("organisation_events", 1)];

struct Case {
    name: &'static str,
    build: Box<dyn Fn(&World) -> Req>,
    status: u16,
    expect: Expect,
    /// For a 422: the first field error's pointer and code.
    field: Option<(&'static str, &'static str)>,
    /// Rows the request adds, by table (sorted by name); none unless named.
    stored: Rows,
    /// A JSON Pointer into the response, and into the resource read again from its `Location`, and the exact
    /// string that must be at both.
    echo: Option<(&'static str, String)>,
    /// For a resource that has no `Location` of its own: the organisation's collection (a path under
    /// `/v1/organisations/{id}`) whose item with the response's `id` is read again instead.
    listed_in: Option<&'static str>,
}

/// How a case makes its request: a closure returning a reqwest builder or a raw request.
trait Build: Fn(&World) -> Self::Request + 'static {
    type Request: Into<Req>;
}

impl<F: Fn(&World) -> R + 'static, R: Into<Req>> Build for F {
    type Request = R;
}

fn case(name: &'static str, status: u16, expect: Expect, build: impl Build) -> Case {
    let build = Box::new(move |w: &World| build(w).into());
    Case { name, build, status, expect, field: None, stored: &[], echo: None, listed_in: None }
}

fn refused(name: &'static str, status: u16, code: &'static str, build: impl Build) -> Case {
    case(name, status, Expect::Problem(code), build)
}

/// 422 `validation_failed`, whose first field error is `code` at `pointer`.
fn invalid(name: &'static str, pointer: &'static str, code: &'static str, build: impl Build) -> Case {
    Case { field: Some((pointer, code)), ..refused(name, 422, "validation_failed", build) }
}

fn kept(name: &'static str, status: u16, stored: Rows, build: impl Build) -> Case {
    Case { stored, ..case(name, status, Expect::Success, build) }
}

impl Case {
    fn echo(self, pointer: &'static str, value: impl Into<String>) -> Self {
        Self { echo: Some((pointer, value.into())), ..self }
    }

    /// Reads the echo again from the organisation's `collection` (the resource has no `Location`).
    fn listed_in(self, collection: &'static str) -> Self {
        Self { listed_in: Some(collection), ..self }
    }
}

/// Free text in a location's name: kept exactly as sent.
fn verbatim(name: &'static str, text: &'static str) -> Case {
    kept(name, 201, LOCATION_ROWS, move |w| w.location(location(text))).echo("/name", text)
}

/// A filename (as sent in the query string) that is kept only as a safe name.
fn safe_name(name: &'static str, sent: &'static str, kept_as: &'static str) -> Case {
    kept(name, 201, DOCUMENT_ROWS, move |w| w.upload(&format!("filename={sent}"), "text/plain"))
        .echo("/filename", kept_as)
}

const SQLITE_TABLES: &str = "SELECT name FROM sqlite_master \
    WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' AND name <> 'audit_log'";
const POSTGRES_TABLES: &str = "SELECT tablename::text FROM pg_tables \
    WHERE schemaname = 'public' AND tablename NOT LIKE '_sqlx%' AND tablename <> 'audit_log'";

/// The database, read directly so that "nothing was stored" covers every table.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// The demo provider on a running server (whose email goes to `sink`), with tokens for its API client and admin.
struct World {
    app: TestApp,
    sink: SmtpSink,
    demo: DemoCredentials,
    client: String,
    admin: String,
    db: tokio::sync::Mutex<Db>,
}

impl World {
    async fn new(configure: impl FnOnce(&mut provider_api_http::config::Config)) -> Self {
        let sink = SmtpSink::start().await;
        let smtp = sink.url();
        let app = TestApp::spawn_with(move |config| {
            config.smtp_url = Some(smtp.into());
            configure(config);
        })
        .await;
        let demo = app.demo().await;
        let client = app.client_token(demo.client_id, &demo.client_secret).await;
        let admin = app.sign_in(&demo.users[0].email, &demo.users[0].password).await.access_token;
        let db = match app.database.is_postgres() {
            true => Db::Postgres(sqlx::PgConnection::connect(app.database.url()).await.unwrap()),
            false => Db::Sqlite(sqlx::SqliteConnection::connect(app.database.url()).await.unwrap()),
        };
        Self { app, sink, demo, client, admin, db: tokio::sync::Mutex::new(db) }
    }

    /// The rows in every table, and the files in the blob folder (as `blob files`). Not the audit trail: it
    /// records requests, refused ones too (`tests/api/audit.rs`), rather than what a request asked to store.
    async fn rows(&self) -> BTreeMap<String, i64> {
        let mut db = self.db.lock().await;
        let tables: Vec<String> = match &mut *db {
            Db::Sqlite(c) => sqlx::query_scalar(SQLITE_TABLES).fetch_all(c).await.unwrap(),
            Db::Postgres(c) => sqlx::query_scalar(POSTGRES_TABLES).fetch_all(c).await.unwrap(),
        };
        // Files are counted in the filesystem blob store only: s3s-fs (TEST_S3S_FS) keeps its own bookkeeping
        // files beside each object, so there the document rows stand for what was stored.
        let mut rows = BTreeMap::new();
        if self.app.s3.is_none() {
            rows.insert("blob files".to_owned(), files(self.app.blob_folder.path()));
        }
        for table in tables {
            // The name comes from the catalogue, not from input.
            let count = || sqlx::AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#));
            let n: i64 = match &mut *db {
                Db::Sqlite(c) => sqlx::query_scalar(count()).fetch_one(c).await.unwrap(),
                Db::Postgres(c) => sqlx::query_scalar(count()).fetch_one(c).await.unwrap(),
            };
            rows.insert(table, n);
        }
        rows
    }

    fn org(&self, tail: &str) -> String {
        self.app.url(&format!("/v1/organisations/{}{tail}", self.demo.organisation_id))
    }

    /// A POST of `body` to `url` as `token`, typed `content_type`.
    fn post(&self, url: String, token: &str, content_type: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
        self.app.http.post(url).bearer_auth(token).header(CONTENT_TYPE, content_type).body(body)
    }

    /// A new location, by the admin.
    fn location(&self, body: impl Into<reqwest::Body>) -> RequestBuilder {
        self.post(self.org("/locations"), &self.admin, "application/json", body)
    }

    /// A new organisation, by the admin.
    fn organisation(&self, name: &str) -> RequestBuilder {
        let body = json!({"name": name}).to_string();
        self.post(self.app.url("/v1/organisations"), &self.admin, "application/json", body)
    }

    /// An invitation, by the admin.
    fn invite(&self, email: &str) -> RequestBuilder {
        let body = json!({"email": email, "roles": ["viewer"]}).to_string();
        self.post(self.org("/invitations"), &self.admin, "application/json", body)
    }

    /// A new draft notification as `token`, with a fresh `Idempotency-Key`.
    fn draft_as(&self, token: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
        let request = self.post(self.org("/notifications"), token, "application/json", body);
        request.header("idempotency-key", Uuid::new_v4().to_string())
    }

    fn draft(&self, body: impl Into<reqwest::Body>) -> RequestBuilder {
        self.draft_as(&self.client, body)
    }

    /// A new draft with a fresh `Idempotency-Key` and no credentials (yet).
    fn anonymous_draft(&self, url: String) -> RequestBuilder {
        let request = self.app.http.post(url).header(CONTENT_TYPE, "application/json");
        request.header("idempotency-key", Uuid::new_v4().to_string()).body(r#"{"content": {"type": "death"}}"#)
    }

    /// A draft whose content is `content`, at the demo location.
    fn draft_of(&self, content: Value) -> RequestBuilder {
        self.draft(json!({"location_id": self.demo.location_id, "content": content}).to_string())
    }

    /// A one-byte document upload, by the API client.
    fn upload(&self, query: &str, content_type: &str) -> RequestBuilder {
        self.post(format!("{}?{query}", self.org("/documents")), &self.client, content_type, "x")
    }

    /// A GET of the organisation's `tail`, by the API client.
    fn get(&self, tail: &str) -> RequestBuilder {
        self.app.http.get(self.org(tail)).bearer_auth(&self.client)
    }

    /// A raw HTTP/1.1 request: `head` is the request line and headers (with `Content-Length` when it has to lie).
    fn raw(&self, head: &str, body: &[u8]) -> Req {
        let mut bytes = format!("{head}\r\nHost: {}\r\nConnection: close\r\n", self.app.address).into_bytes();
        if !head.contains("Content-Length") && !body.is_empty() {
            bytes.extend(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        Req::Raw([bytes, b"\r\n".to_vec(), body.to_vec()].concat())
    }

    /// A raw `method` of `tail` after the organisation's id, as `token`, with more header lines.
    fn raw_to(&self, method: &str, tail: &str, token: &str, headers: &str, body: &[u8]) -> Req {
        let path = format!("/v1/organisations/{}{tail}", self.demo.organisation_id);
        self.raw(&format!("{method} {path} HTTP/1.1\r\nAuthorization: Bearer {token}{headers}"), body)
    }

    fn raw_get(&self, tail: &str) -> Req {
        self.raw_to("GET", tail, &self.client, "", b"")
    }

    /// A refresh-token grant for the public application `app_id`, with extra form fields.
    fn refresh(&self, app_id: &str, token: &str, extra: &[(&str, &str)]) -> RequestBuilder {
        let mut form = vec![("grant_type", "refresh_token"), ("client_id", app_id), ("refresh_token", token)];
        form.extend_from_slice(extra);
        self.app.http.post(self.app.url("/v1/oauth/token")).form(&form)
    }
}

fn files(dir: &std::path::Path) -> i64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum()
}

/// A valid new location with this name.
fn location(name: &str) -> String {
    json!({"name": name, "address": {"line_1": "1 River Lane", "town": "Newcastle upon Tyne", "postcode": "NE1 4ST"}})
        .to_string()
}

/// A location whose name is these bytes (which are not UTF-8).
fn bytes(raw: &[u8]) -> Vec<u8> {
    let (before, after) = location("A").split_once("\"A\"").map(|(b, a)| (b.to_owned(), a.to_owned())).unwrap();
    [before.as_bytes(), b"\"", raw, b"\"", after.as_bytes()].concat()
}

/// A new location (named "A") with its first `from` replaced by `to`.
fn edit(from: &'static str, to: impl Into<String>) -> impl Build {
    let to = to.into();
    move |w: &World| w.location(location("A").replacen(from, &to, 1))
}

/// A new location sent as `content_type`.
fn typed(content_type: &'static str) -> impl Build {
    move |w: &World| w.post(w.org("/locations"), &w.admin, content_type, location("A"))
}

/// A new draft of exactly this body.
fn drafted(body: impl Into<String>) -> impl Build {
    let body = body.into();
    move |w: &World| w.draft(body.clone())
}

/// A new draft of a death notification with these members in its content too.
fn content(members: &'static str) -> impl Build {
    drafted(format!(r#"{{"content": {{"type": "death", {members}}}}}"#))
}

/// `Content-Type: application/json`, as a raw header line.
const JSON: &str = "\r\nContent-Type: application/json";

const UNION: &str = "x' UNION SELECT password_hash FROM users --";

/// What came back.
struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (content_type, location) = (header(CONTENT_TYPE).unwrap_or_default(), header(LOCATION));
        let status = response.status().as_u16();
        Self { status, content_type, location, body: response.bytes().await.unwrap_or_default().to_vec() }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// An HTTP/1.1 response, as read to the end of its connection.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&bytes[..end]);
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: BTreeMap<String, String> =
            lines.filter_map(|l| l.split_once(": ").map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))).collect();
        let (content_type, location) = (headers.get("content-type").cloned(), headers.get("location").cloned());
        let body = bytes[end + 4..].to_vec();
        Some(Self { status, content_type: content_type.unwrap_or_default(), location, body })
    }

    /// Sends raw bytes (asking for `Connection: close`) and reads the response to the end of the connection.
    async fn raw(address: std::net::SocketAddr, bytes: &[u8]) -> Result<Self, String> {
        let mut stream = tokio::net::TcpStream::connect(address).await.map_err(|e| e.to_string())?;
        // The server may answer (and close) before reading everything: what it says is what counts.
        let _ = stream.write_all(bytes).await;
        let mut received = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
        Self::parse(&received).ok_or_else(|| format!("no HTTP response: {received:?}"))
    }
}

/// Runs every case between two counts of every table, and returns what did not go as the table says.
async fn run(w: &World, cases: Vec<Case>) -> Vec<String> {
    let mut wrong = Vec::new();
    for case in &cases {
        let before = w.rows().await;
        let (sent, authorization) = match (case.build)(w) {
            Req::Http(builder) => {
                let request = builder.build().unwrap();
                let authorization = request.headers().get(AUTHORIZATION).cloned();
                match w.app.http.execute(request).await {
                    Ok(response) => (Ok(Answer::from(response).await), authorization),
                    Err(error) => (Err(format!("no response: {error:?}")), authorization),
                }
            }
            Req::Raw(bytes) => (Answer::raw(w.app.address, &bytes).await, None),
        };
        let Ok(answer) = sent.map_err(|error| wrong.push(format!("{}: {error}", case.name))) else { continue };
        let mut problems = check(case, &answer);
        if let Some((pointer, expected)) = &case.echo {
            // What was kept must read back the same: from its Location, or from the collection it is listed in.
            let read_again = match (&answer.location, case.listed_in, &authorization) {
                (Some(location), _, Some(authorization)) => {
                    let again =
                        w.app.http.get(w.app.url(location)).header(AUTHORIZATION, authorization).send().await.unwrap();
                    Some(Answer::from(again).await.json())
                }
                (None, Some(collection), Some(authorization)) => {
                    let id = answer.json()["id"].clone();
                    let list =
                        w.app.http.get(w.org(collection)).header(AUTHORIZATION, authorization).send().await.unwrap();
                    let list = Answer::from(list).await.json();
                    list["items"].as_array().into_iter().flatten().find(|item| item["id"] == id).cloned()
                }
                _ => None,
            };
            match read_again {
                Some(again) if again.pointer(pointer).and_then(Value::as_str) == Some(expected.as_str()) => {}
                Some(again) => problems.push(format!("read again, {pointer} is {:?}", again.pointer(pointer))),
                None => problems.push("what was kept could not be read again (no Location, nothing listed)".into()),
            }
        }
        let after = w.rows().await;
        let mut added = Vec::new();
        for (table, count) in &before {
            match after.get(table) {
                Some(now) if now != count => added.push((table.as_str(), now - count)),
                Some(_) => {}
                None => problems.push(format!("table {table} is gone")),
            }
        }
        let expected: Vec<(&str, i64)> =
            case.stored.iter().copied().filter(|(table, _)| before.contains_key(*table)).collect();
        if added != expected {
            problems.push(format!("stored {added:?}, expected {:?}", case.stored));
        }
        if !problems.is_empty() {
            let body: String = String::from_utf8_lossy(&answer.body).chars().take(300).collect();
            wrong.push(format!("{}: {} — {body}", case.name, problems.join("; ")));
        }
    }
    println!("{} cases, {} wrong", cases.len(), wrong.len());
    wrong
}

fn check(case: &Case, answer: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    if answer.status != case.status {
        problems.push(format!("status {} (expected {})", answer.status, case.status));
    }
    let (body, is_problem) = (answer.json(), answer.content_type == "application/problem+json");
    match case.expect {
        Expect::Problem(code) if !is_problem || body["code"] != code || body["status"] != case.status => {
            problems.push(format!("{} {} (expected a problem with code {code})", answer.content_type, body["code"]));
        }
        Expect::Bare if is_problem => problems.push("now a problem: make this case say so".into()),
        _ => {}
    }
    if let Some((pointer, code)) = case.field
        && (body["errors"][0]["pointer"] != pointer || body["errors"][0]["code"] != code)
    {
        problems.push(format!("first field error {} (expected {pointer} {code})", body["errors"][0]));
    }
    if let Some((pointer, expected)) = &case.echo
        && body.pointer(pointer).and_then(Value::as_str) != Some(expected.as_str())
    {
        problems.push(format!("{pointer} is {:?}", body.pointer(pointer)));
    }
    problems
}

fn assert_all_right(wrong: Vec<String>) {
    assert!(wrong.is_empty(), "{} cases went wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn hostile_bodies_strings_and_paths_get_exact_answers_and_change_nothing() {
    let w = World::new(|config| config.body_limit = 64 * 1024).await;
    let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let objects =
        format!(r#"{{"content": {{"type": "death", "cause": {}1{}}}}}"#, "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let days =
        |n: &str| drafted(format!(r#"{{"content": {{"type": "manager_absence", "expected_length_days": {n}}}}}"#));
    const DAYS: &str = "/content/expected_length_days";
    let cases = vec![
        // Not JSON.
        refused("truncated JSON", 400, "malformed_json", |w| w.location(r#"{"name": "Riverside House""#)),
        refused("trailing garbage", 400, "malformed_json", |w| w.location(location("A") + " x")),
        refused("an empty body", 400, "malformed_json", |w| w.location("")),
        refused("a comment", 400, "malformed_json", |w| w.location(format!("/* hi */{}", location("A")))),
        refused("single quotes", 400, "malformed_json", |w| w.location("{'name': 'A'}")),
        refused("NaN", 400, "malformed_json", drafted(r#"{"content": {"type": "death", "cause": NaN}}"#)),
        refused("a byte-order mark", 400, "malformed_json", |w| w.location(format!("\u{feff}{}", location("A")))),
        refused("10,000 nested objects", 400, "malformed_json", drafted(objects)),
        refused("overlong UTF-8 for '/'", 400, "malformed_json", |w| w.location(bytes(b"\xc0\xaf"))),
        refused("bytes that are not UTF-8", 400, "malformed_json", |w| w.location(bytes(b"\xff\xfe"))),
        refused("a lone surrogate", 400, "malformed_json", edit("\"A\"", r#""\ud800""#)),
        refused("a raw NUL byte in a string", 400, "malformed_json", edit("\"A\"", "\"\0\"")),
        refused("1e400 for an integer", 400, "malformed_json", days("1e400")),
        refused("1e400 for a string", 400, "malformed_json", edit("\"A\"", "1e400")),
        // JSON of the wrong shape: unknown fields are refused, not ignored; so is a key given twice, anywhere.
        // Nesting past 128 levels is refused as unreadable wherever it is, before its shape is looked at.
        refused("10,000 nested arrays for an object", 400, "malformed_json", move |w| w.location(arrays.clone())),
        invalid("a duplicate key", "/name", "duplicate_field", edit("{", r#"{"name": "B", "#)),
        invalid("an array for the object", "", "invalid_type", |w| w.location(format!("[{}]", location("A")))),
        invalid("a string for the object", "", "invalid_type", |w| w.location(r#""Riverside House""#)),
        invalid("an array for a nested object", "/address", "invalid_type", |w| {
            w.location(r#"{"name": "A", "address": [{"line_1": "1 River Lane", "town": "T", "postcode": "NE1 4ST"}]}"#)
        }),
        invalid("a nested key twice", "/address/town", "duplicate_field", edit("\"town\"", r#""town": "X", "town""#)),
        invalid("a key twice in free-form", "/content/cause", "duplicate_field", content(r#""cause": 1, "cause": 2"#)),
        invalid("a key twice, once escaped", "/content/type", "duplicate_field", content(r#""\u0074ype": "abuse""#)),
        invalid("an id of our choosing", "/id", "unknown_field", edit("{", r#"{"id": "x", "#)),
        invalid("an unknown nested field", "/address/x", "unknown_field", edit("\"town\"", r#""x": 1, "town""#)),
        invalid("a draft born submitted", "/status", "unknown_field", drafted(r#"{"status": "submitted"}"#)),
        invalid("an unknown field in content", "/content/colour", "unknown_field", content(r#""colour": "blue""#)),
        invalid("an unknown field in a merge patch", "/provider_id", "unknown_field", |w| {
            let patch = w.app.http.patch(w.org("")).bearer_auth(&w.admin).header("if-match", "\"1\"");
            patch.header(CONTENT_TYPE, "application/merge-patch+json").body(r#"{"provider_id": "1-101"}"#)
        }),
        invalid("a number for a string", "/name", "invalid_type", edit("\"A\"", "7")),
        invalid("null for a required string", "/name", "invalid_type", edit("\"A\"", "null")),
        invalid("a missing field", "/address", "required", |w| w.location(r#"{"name": "A"}"#)),
        // Numbers where an integer is expected.
        invalid("2^64+1 days", DAYS, "too_large", days("18446744073709551617")),
        invalid("-1 days", DAYS, "too_small", days("-1")),
        invalid("28.5 days", DAYS, "wrong_type", days("28.5")),
        refused("2^64+1 for ?limit", 400, "invalid_query", |w| w.get("/notifications?limit=18446744073709551617")),
        refused("2^63 for ?after", 400, "invalid_query", |w| w.get("/events?after=9223372036854775808")),
        // Strings: NUL characters, one past each length limit, blanks.
        invalid("a NUL escape in a name", "/name", "nul_character", |w| w.location(location("River\0side"))),
        invalid("a NUL escape in free text", "/content/cause", "nul_character", content(r#""cause": "\u0000""#)),
        invalid("a NUL escape in a key", "/content", "nul_character", content(r#""ca\u0000use": "x""#)),
        invalid("a name of 301 characters", "/name", "length", |w| w.location(location(&"a".repeat(301)))),
        invalid("a name of 301 four-byte characters", "/name", "length", |w| w.location(location(&"🏥".repeat(301)))),
        invalid("an address line of 201", "/address/line_1", "length", edit("1 River Lane", "x".repeat(201))),
        invalid("a town of 101 characters", "/address/town", "length", edit("Newcastle upon Tyne", "x".repeat(101))),
        invalid("a name of only whitespace", "/name", "blank", |w| w.location(location(" \t\n "))),
        invalid("an organisation name of 301 characters", "/name", "length", |w| w.organisation(&"o".repeat(301))),
        // Fifty documents at most: the 51st is refused before any of them is looked up.
        invalid(
            "51 attachments",
            "/attachments",
            "length",
            drafted({
                let one = |_| format!(r#"{{"document_id": "{}", "purpose": "evidence"}}"#, Uuid::new_v4());
                let many = (0..51).map(one).collect::<Vec<_>>().join(",");
                format!(r#"{{"content": {{"type": "death"}}, "attachments": [{many}]}}"#)
            }),
        ),
        invalid("a description of 50,001 characters", "/content/description", "too_long", |w| {
            w.draft_of(json!({"type": "serious_injury", "description": "d".repeat(50_001)}))
        }),
        invalid("an email of 255 characters", "/email", "length", |w| w.invite(&format!("{}@a.org", "e".repeat(249)))),
        refused("an Idempotency-Key of 256 characters", 400, "idempotency_key_required", |w| {
            w.post(w.org("/notifications"), &w.client, "application/json", "{}")
                .header("idempotency-key", "k".repeat(256))
        }),
        // Content types.
        refused("no Content-Type", 415, "unsupported_media_type", |w| {
            w.app.http.post(w.org("/locations")).bearer_auth(&w.admin).body(location("A"))
        }),
        refused("text/plain", 415, "unsupported_media_type", typed("text/plain")),
        refused("text/json", 415, "unsupported_media_type", typed("text/json")),
        refused("a form", 415, "unsupported_media_type", typed("application/x-www-form-urlencoded")),
        refused("an HTML upload", 415, "document_type_not_allowed", |w| w.upload("filename=x.html", "text/html")),
        refused("an SVG upload", 415, "document_type_not_allowed", |w| w.upload("filename=x.svg", "image/svg+xml")),
        // Injection where a field has a rule: the rule refuses it.
        invalid("SQL in a postcode", "/address/postcode", "postcode_format", edit("NE1 4ST", "' OR 1=1--")),
        invalid("SQL in an email", "/email", "email", |w| w.invite("a@b.org'; DROP TABLE users;--")),
        invalid("SQL for a form type", "/content/type", "not_allowed", drafted(r#"{"content": {"type": "x' --"}}"#)),
        invalid("SQL in a body id", "/location_id", "invalid_value", drafted(r#"{"location_id": "' OR 1=1--"}"#)),
        refused("SQL in a query filter", 400, "invalid_query", |w| w.get("/notifications?status=x'%20OR%201=1")),
        // Paths and ids (sent raw: clients tidy `..` away): a malformed id is 404, before any query runs.
        refused("../ in a path", 404, "not_found", |w| w.raw_get("/locations/../../../etc/passwd")),
        refused("%2e%2e%2f in a path id", 404, "not_found", |w| w.raw_get("/locations/%2e%2e%2f%2e%2e%2fetc%2fpasswd")),
        refused("an encoded slash after an id", 404, "not_found", |w| w.raw_get("%2f..%2f..%2fadmin/locations")),
        refused("a NUL after an id", 404, "not_found", |w| w.raw_get("%00/locations")),
        refused("SQL for an id", 404, "not_found", |w| w.raw_get("/notifications/1'%20OR%20'1'='1")),
        refused("a 10,000-digit id", 404, "not_found", |w| w.raw_get(&format!("/documents/{}", "9".repeat(10_000)))),
        refused("a traversal for a document", 404, "not_found", |w| w.raw_get("/documents/..%2f..%2fuploads/content")),
        refused("a traversal for the organisation, writing", 404, "not_found", |w| {
            w.post(w.app.url("/v1/organisations/..%2F..%2Fadmin/locations"), &w.admin, "application/json", "{}")
        }),
        refused("a blank filename", 400, "invalid_query", |w| w.upload("filename=%20", "text/plain")),
        refused("a filename given twice", 400, "invalid_query", |w| w.upload("filename=a&filename=../b", "text/plain")),
        refused("an unknown query parameter", 400, "invalid_query", |w| w.upload("filename=a&path=/etc", "text/plain")),
        refused("a filename of 1,001 characters", 400, "invalid_query", |w| {
            w.upload(&format!("filename={}", "f".repeat(1001)), "text/plain")
        }),
        // Bodies over the limit: declared, streamed, or declared and never sent.
        refused("a declared body over the limit", 413, "payload_too_large", |w| w.location("a".repeat(65_537))),
        refused("a streamed body over the limit", 413, "payload_too_large", |w| {
            let chunks: Vec<Result<String, std::io::Error>> = (0..17).map(|_| Ok("a".repeat(4096))).collect();
            w.location(reqwest::Body::wrap_stream(tokio_stream::iter(chunks)))
        }),
        refused("a declared length of 10 GB", 413, "payload_too_large", |w| {
            w.raw_to("POST", "/locations", &w.admin, &format!("{JSON}\r\nContent-Length: 10000000000"), b"{}")
        }),
        // Free text keeps what was sent, byte for byte, and runs none of it.
        verbatim("SQL in a name", "Robert'); DROP TABLE locations;--"),
        verbatim("script in a name", "<script>alert(document.cookie)</script>"),
        verbatim("a right-to-left override", "\u{202e}fdp.exe"),
        verbatim("templates and quoting", "{{7*7}} ${jndi:ldap://x/a} $$; DROP TABLE notifications; $$ \\'"),
        kept("300 four-byte characters, the limit", 201, LOCATION_ROWS, |w| w.location(location(&"🏥".repeat(300))))
            .echo("/name", "🏥".repeat(300)),
        kept("SQL in an organisation name", 201, ORGANISATION_ROWS, |w| w.organisation(UNION)).echo("/name", UNION),
        kept("SQL in free-form content", 201, DRAFT_ROWS, |w| w.draft_of(json!({"type": "death", "cause": UNION})))
            .echo("/content/cause", UNION),
        // Filenames are kept only as safe names; the bytes are stored under the document's id.
        safe_name("../ in a filename", "..%2F..%2Fetc%2Fpasswd", "passwd"),
        safe_name("..\\ in a filename", "..%5C..%5Cboot.ini", "boot.ini"),
        safe_name("a double-encoded traversal", "%252e%252e%252fx", "%2e%2e%2fx"),
        safe_name("a filename of dots", "..", "document"),
        safe_name("a device name", "CON.txt", "_CON.txt"),
        safe_name("a NUL in a filename", "a%00.txt.exe", "a_.txt.exe"),
    ];
    assert_all_right(run(&w, cases).await);
}

/// A JWT with this header and these claims, signed (over exactly these bytes) with `key` or not at all.
fn jwt(header: &Value, claims: &Value, key: Option<(&EncodingKey, Algorithm)>) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key.map(|(key, alg)| jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap());
    format!("{input}.{}", signature.unwrap_or_default())
}

/// `base` with the members of `changes` set, or removed where they are null.
fn merged(base: &Value, changes: Value) -> Value {
    let mut merged = base.clone();
    for (name, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => merged.as_object_mut().unwrap().remove(name),
            value => merged.as_object_mut().unwrap().insert(name.clone(), value.clone()),
        };
    }
    merged
}

#[tokio::test]
async fn forged_and_misused_bearer_tokens_are_401_and_write_nothing() {
    let w = World::new(|_| {}).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ours = w.app.store.signing_keys().await.unwrap().into_iter().find(|k| k.retired_at.is_none()).unwrap();
    let ours_key = EncodingKey::from_ec_pem(ours.private_key_pem.as_bytes()).unwrap();
    let stranger = provider_api_http::auth::keys::generate(time::OffsetDateTime::now_utc());
    let stranger_key = EncodingKey::from_ec_pem(stranger.private_key_pem.as_bytes()).unwrap();
    let served = w.app.http.get(w.app.url("/.well-known/jwks.json")).send().await.unwrap().text().await.unwrap();
    let jwk = serde_json::from_str::<Value>(&served).unwrap()["keys"][0].clone();
    let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let point = [vec![4], coordinate("x"), coordinate("y")].concat();
    let pem = p256::PublicKey::from_sec1_bytes(&point).unwrap().to_public_key_pem(LineEnding::LF).unwrap();

    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": ours.kid});
    let id = w.demo.client_id;
    let good = json!({"iss": w.app.base_url, "aud": "provider-api", "sub": id, "client_id": id, "iat": now, "nbf": now,
        "exp": now + 600, "jti": Uuid::new_v4(), "scope": "notifications:write"});
    let signed = |header: Value, claims: Value| jwt(&header, &claims, Some((&ours_key, Algorithm::ES256)));
    let with = |changes: Value| signed(header.clone(), merged(&good, changes));
    let headed = |changes: Value| signed(merged(&header, changes), good.clone());
    let hs256 = |secret: &[u8]| {
        let key = EncodingKey::from_secret(secret);
        jwt(&merged(&header, json!({"alg": "HS256"})), &good, Some((&key, Algorithm::HS256)))
    };
    let by_stranger = |changes: Value| jwt(&merged(&header, changes), &good, Some((&stranger_key, Algorithm::ES256)));
    let control = with(json!({}));
    let [head, payload, signature]: [&str; 3] = control.split('.').collect::<Vec<_>>().try_into().unwrap();
    let resigned =
        |changes: Value| format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(merged(&good, changes).to_string()));
    let other_signature = with(json!({"jti": Uuid::new_v4()})).rsplit('.').next().unwrap().to_owned();
    let stranger_jwk: Value = serde_json::from_str(&stranger.public_jwk).unwrap();

    let forged: Vec<(&'static str, String)> = vec![
        ("alg none", jwt(&merged(&header, json!({"alg": "none"})), &good, None)),
        ("HS256 keyed with the served JWKS", hs256(served.as_bytes())),
        ("HS256 keyed with the served JWK", hs256(jwk.to_string().as_bytes())),
        ("HS256 keyed with the public key's PEM", hs256(pem.as_bytes())),
        ("HS256 keyed with the public key's point", hs256(&point)),
        ("expired", with(json!({"exp": now - 120, "iat": now - 1000, "nbf": now - 1000}))),
        ("not valid for ten minutes", with(json!({"nbf": now + 600}))),
        ("issued ten minutes from now", with(json!({"iat": now + 600}))),
        ("another issuer", with(json!({"iss": "https://evil.example"}))),
        ("another audience", with(json!({"aud": "another-api"}))),
        ("an audience list", with(json!({"aud": ["provider-api", "another-api"]}))),
        ("no expiry", with(json!({"exp": null}))),
        ("an expiry that is text", with(json!({"exp": (now + 600).to_string()}))),
        ("a client that does not exist", with(json!({"sub": Uuid::new_v4(), "client_id": Uuid::new_v4()}))),
        ("an unknown kid", headed(json!({"kid": "k-unknown"}))),
        ("a kid that is a path", headed(json!({"kid": "../../../../dev/null"}))),
        ("a kid that is SQL", headed(json!({"kid": "' OR '1'='1"}))),
        ("no kid", headed(json!({"kid": null}))),
        ("no typ", headed(json!({"typ": null}))),
        ("a widened scope, the signature kept", resigned(json!({"scope": "notifications:write org:admin"}))),
        ("another organisation, the signature kept", resigned(json!({"org": Uuid::new_v4()}))),
        ("the signature stripped", format!("{head}.{payload}.")),
        ("another token's signature", format!("{head}.{payload}.{other_signature}")),
        ("a stranger's key in the header", by_stranger(json!({"jwk": stranger_jwk}))),
        ("a stranger's key by URL", by_stranger(json!({"kid": stranger.kid, "jku": "https://evil.example/jwks.json"}))),
        ("four segments", format!("{control}.e30")),
        ("64 KiB of nothing", "e".repeat(64 * 1024)),
    ];
    let death = r#"{"content": {"type": "death"}}"#;
    let mut cases =
        vec![kept("the forging helper's own token (control)", 201, DRAFT_ROWS, move |w| w.draft_as(&control, death))];
    for (name, token) in forged {
        cases.push(refused(name, 401, "invalid_token", move |w| w.draft_as(&token, death)));
    }
    let authorization = |value: &'static [u8]| {
        move |w: &World| {
            w.anonymous_draft(w.org("/notifications")).header(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap())
        }
    };
    cases.extend([
        refused("a Basic scheme", 401, "invalid_token", authorization(b"Basic YWRtaW46YWRtaW4=")),
        refused("an empty bearer", 401, "invalid_token", authorization(b"Bearer ")),
        refused("bytes that are not text", 401, "invalid_token", authorization(b"Bearer \xff\xfe")),
        refused("the token in the query string", 401, "unauthenticated", |w| {
            w.anonymous_draft(format!("{}?access_token={}", w.org("/notifications"), w.client))
        }),
    ]);
    assert_all_right(run(&w, cases).await);
}

const REDIRECT: &str = "https://tests.example/callback";
const WIDER: &str = "org:read org:admin";

#[tokio::test]
async fn replayed_reused_and_misused_refresh_tokens_get_nothing() {
    let w = World::new(|_| {}).await;
    let app: &'static str =
        w.app.integrator_app(REDIRECT, "org:read notifications:read", None).await.to_string().leak();
    let (email, password) = (&w.demo.users[2].email, &w.demo.users[2].password);
    let sign_in = || w.app.sign_in_with(app, REDIRECT, email, password);
    let next = |token: String| {
        let request = w.refresh(app, &token, &[]);
        async move {
            request.send().await.unwrap().json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned()
        }
    };
    let first = sign_in().await;
    let (access, replayed): (&'static str, &'static str) =
        (first.access_token.leak(), first.refresh_token.clone().leak());
    let third: &'static str = next(next(first.refresh_token).await).await.leak();
    let other: &'static str = sign_in().await.refresh_token.leak();
    let (spaced, off_by_one): (&'static str, &'static str) =
        (format!("{third} ").leak(), format!("{}X", &third[..third.len() - 1]).leak());
    let cases = vec![
        refused("a refresh token with a space", 400, "invalid_grant", move |w| w.refresh(app, spaced, &[])),
        refused("a refresh token one character off", 400, "invalid_grant", move |w| w.refresh(app, off_by_one, &[])),
        refused("an access token as a refresh token", 400, "invalid_grant", move |w| w.refresh(app, access, &[])),
        refused("a refresh token as a bearer token", 401, "invalid_token", move |w| w.draft_as(third, "{}")),
        refused("the first token, two rotations on", 400, "invalid_grant", move |w| w.refresh(app, replayed, &[])),
        // That replay revoked the sign-in: its newest token, never used, is refused too.
        refused("the newest token after that replay", 400, "invalid_grant", move |w| w.refresh(app, third, &[])),
        refused("asking for more scope", 400, "invalid_scope", move |w| w.refresh(app, other, &[("scope", WIDER)])),
        // A refused request changes nothing: the token asked for too much is still good.
        kept("another sign-in, after that", 200, &[("refresh_tokens", 1)], move |w| w.refresh(app, other, &[])),
    ];
    let mut wrong = run(&w, cases).await;

    // A rotation racing the replay that revoked its sign-in can insert a successor after the revocation: the
    // sign-in stays revoked all the same.
    let spent = w.app.store.refresh_token(&secret::hash(replayed)).await.unwrap().unwrap();
    let late = RefreshToken { token_hash: secret::hash("par_late"), used_at: None, revoked_at: None, ..spent };
    w.app.store.create_refresh_token(&late).await.unwrap();
    let late = refused("a successor born late", 400, "invalid_grant", move |w| w.refresh(app, "par_late", &[]));
    wrong.extend(run(&w, vec![late]).await);

    // Two uses of one token at once: one gets the next token, and the other's reuse revokes that one too.
    let raced = sign_in().await.refresh_token;
    let (one, two) = tokio::join!(w.refresh(app, &raced, &[]).send(), w.refresh(app, &raced, &[]).send());
    let mut answers = [Answer::from(one.unwrap()).await, Answer::from(two.unwrap()).await];
    answers.sort_by_key(|a| a.status);
    if (answers[0].status, answers[1].status, answers[1].json()["code"].as_str()) != (200, 400, Some("invalid_grant")) {
        wrong.push(format!("a token used twice at once: {} and {}", answers[0].status, answers[1].status));
    } else if let Some(winner) = answers[0].json()["refresh_token"].as_str() {
        let status = w.refresh(app, winner, &[]).send().await.unwrap().status();
        if status != 400 {
            wrong.push(format!("the winner of a race with a replay could still refresh: {status}"));
        }
    }
    assert_all_right(wrong);
}

#[tokio::test]
async fn a_confusable_email_is_another_address_kept_as_typed_and_another_account() {
    let w = World::new(|_| {}).await;
    let drafter: &'static str = w.demo.users[1].email.clone().leak();
    // normalise_email trims and lowercases, nothing more: the Cyrillic 'а' (U+0430) that replaces the first
    // Latin 'a' ("drаfter") makes another address, kept as typed, which can never reach the drafter's account.
    let lookalike: &'static str = drafter.replacen('a', "\u{430}", 1).leak();
    let cases = vec![
        kept("an invitation to a Cyrillic look-alike", 201, &[("invitations", 1)], move |w| w.invite(lookalike))
            .echo("/email", lookalike)
            .listed_in("/invitations"),
        invalid("a fullwidth at sign", "/email", "email", move |w| w.invite(&drafter.replace('@', "＠"))),
        invalid("a name with the address", "/email", "email", move |w| w.invite(&format!("D <{drafter}>"))),
    ];
    let mut wrong = run(&w, cases).await;

    let email = w.sink.message_to(lookalike).await.text();
    let code = email.split_whitespace().find(|t| t.starts_with("pai_")).unwrap();
    let accept = json!({"token": code, "display_name": "Look Alike", "password": "correct horse battery staple"});
    let accepted: Value =
        w.app.http.post(w.app.url("/v1/invitations/accept")).json(&accept).send().await.unwrap().json().await.unwrap();
    let real = w.app.store.user_by_email(&normalise_email(drafter)).await.unwrap().unwrap();
    let copy = w.app.store.user_by_email(&normalise_email(lookalike)).await.unwrap().unwrap();
    let separate = copy.id != real.id && copy.email == lookalike && accepted["user_id"] == copy.id.to_string();
    if !separate || accepted["account_created"] != true {
        wrong.push(format!("the look-alike was not a new account of its own: {accepted}, {copy:?}"));
    }
    let roles = w.app.store.membership(real.id, w.demo.organisation_id).await.unwrap().unwrap().roles;
    if roles.to_string() != "drafter" {
        wrong.push(format!("the drafter's own roles changed: {roles}"));
    }
    assert_all_right(wrong);
}

#[tokio::test]
async fn stalled_bodies_and_oversized_headers_get_exact_answers() {
    let w = World::new(|config| config.body_timeout = Duration::from_millis(300)).await;
    let filler = format!("X-Filler: {}", "f".repeat(1024 * 1024));
    let many: String = (0..200).map(|i| format!("\r\nX-H{i}: v")).collect();
    let cases = vec![
        refused("a JSON body that stalls", 408, "request_timeout", |w| {
            w.raw_to("POST", "/locations", &w.admin, &format!("{JSON}\r\nContent-Length: 500"), b"{")
        }),
        refused("an upload that stalls", 408, "request_timeout", |w| {
            w.raw_to(
                "POST",
                "/documents?filename=a",
                &w.client,
                "\r\nContent-Type: text/plain\r\nContent-Length: 9",
                b"a",
            )
        }),
        // The chunked framing wins (RFC 9112 §6.3): the body is empty, whatever Content-Length claims.
        refused("Content-Length and Transfer-Encoding together", 400, "malformed_json", |w| {
            let headers = format!("{JSON}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked");
            w.raw_to("POST", "/locations", &w.admin, &headers, b"0\r\n\r\n")
        }),
        // hyper answers these itself, before any layer of ours runs: a bare status, not a problem.
        case("a 1 MiB header", 431, Expect::Bare, move |w| w.raw(&format!("GET /healthz HTTP/1.1\r\n{filler}"), b"")),
        case("200 headers", 431, Expect::Bare, move |w| w.raw(&format!("GET /healthz HTTP/1.1{many}"), b"")),
        case("a Content-Length past 2^64", 400, Expect::Bare, |w| {
            w.raw_to("POST", "/locations", &w.admin, "\r\nContent-Length: 99999999999999999999", b"{}")
        }),
    ];
    assert_all_right(run(&w, cases).await);
}

/// A value no version of the API wrote (a hand-edit, another program, a newer release's new kind) is a 500
/// problem that reveals nothing, never read as some default: a notification of an unknown type once showed as
/// a death notification.
#[tokio::test]
async fn a_stored_value_no_version_wrote_is_a_500_problem_never_a_default() {
    let w = World::new(|_| {}).await;
    let created = w.draft_of(json!({"type": "death"})).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id: Uuid = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().parse().unwrap();
    let sql = "UPDATE notifications SET kind = 'unheard_of' WHERE id = $1";
    match &mut *w.db.lock().await {
        Db::Sqlite(c) => assert_eq!(sqlx::query(sql).bind(id).execute(c).await.unwrap().rows_affected(), 1),
        Db::Postgres(c) => assert_eq!(sqlx::query(sql).bind(id).execute(c).await.unwrap().rows_affected(), 1),
    }

    let mut wrong = Vec::new();
    for path in [format!("/notifications/{id}"), "/notifications".to_owned()] {
        let response = w.app.http.get(w.org(&path)).bearer_auth(&w.client).send().await.unwrap();
        let status = response.status();
        let media = response.headers().get(CONTENT_TYPE).cloned();
        let body: Value = response.json().await.unwrap();
        if status != 500 || media.as_ref().is_none_or(|m| m != "application/problem+json") {
            wrong.push(format!("{path}: {status} {media:?} {body}"));
        }
        if body["code"] != "internal_error" || body.to_string().contains("unheard_of") {
            wrong.push(format!("{path}: says more than that something went wrong: {body}"));
        }
    }
    assert_all_right(wrong);
}
