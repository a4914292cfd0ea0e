//! The `provider-api` binary as an operator runs it: configuration from the environment, a clean stop on
//! SIGTERM, and a clear refusal of bad configuration.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::Duration;

fn provider_api() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provider-api"));
    command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

fn get(address: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    write!(stream, "GET {path} HTTP/1.1\r\nhost: {address}\r\n{extra}connection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A server started from `dir` on a free port, with its stderr and the address it announced.
struct Running {
    child: Child,
    stderr: BufReader<ChildStderr>,
    address: String,
}

fn start(dir: &Path) -> Running {
    let mut child =
        provider_api().current_dir(dir).env("PROVIDER_API_BIND", "127.0.0.1:0").stderr(Stdio::piped()).spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    // From here on, `Running`'s Drop reaps the process whatever happens.
    let mut running = Running { child, stderr, address: String::new() };
    let mut log = String::new();
    loop {
        let mut line = String::new();
        if running.stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the server exited without saying where it listens:\n{log}");
        }
        log.push_str(&line);
        if let Some(rest) = line.strip_prefix("Provider API: http://") {
            running.address = rest.split('/').next().unwrap().to_owned();
            return running;
        }
    }
}

/// A test that fails half way must not leave a server running.
impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// Sends SIGTERM and returns how the process ended and everything it logged after starting.
    fn terminate(&mut self) -> (ExitStatus, String) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (exit, rest)
    }
}

#[test]
fn serves_on_the_embedded_database_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());

    assert!(get(&server.address, "/readyz", &[]).starts_with("HTTP/1.1 200"));
    assert!(dir.path().join("data/provider-api.db").exists(), "the SQLite file is created under ./data/");

    let (exit, log) = server.terminate();
    assert!(exit.success(), "exit {exit:?}\n{log}");
    assert!(log.contains("shutting down") && log.contains("\"stopped\""), "{log}");
    for line in log.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
}

#[test]
fn every_request_is_logged_as_json_with_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());

    let response = get(&server.address, "/v1/nope", &[("x-request-id", "trace-me-7")]);
    assert!(response.starts_with("HTTP/1.1 404"));

    let (_, log) = server.terminate();
    let request_line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|entry| entry["span"]["request_id"] == "trace-me-7")
        .unwrap_or_else(|| panic!("no log line carries the request id:\n{log}"));
    assert_eq!(request_line["status"], 404, "{request_line}");
}

#[test]
fn bad_configuration_is_refused_at_start_with_every_problem_named() {
    let output = provider_api()
        .env("PROVIDER_API_DATABASE_URL", "mysql://nope")
        .env("PROVIDER_API_BODY_LIMIT", "0")
        .env("PROVIDER_API_CORS_ALLOWED_ORIGINS", "*")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in ["database_url", "body_limit", "cors_allowed_origins"] {
        assert!(stderr.contains(expected), "{expected} not named:\n{stderr}");
    }

    let output = provider_api().env("PROVIDER_API_BIND", "not-an-address").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BIND") && stderr.contains("socket address"), "{stderr}");
}

#[test]
fn the_openapi_command_checks_the_committed_spec() {
    let status = provider_api()
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["openapi", "--check"])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "openapi/v1.json is stale: run `cargo run -p provider-api-http --bin provider-api-openapi`"
    );
}

#[test]
fn create_staff_bootstraps_a_staff_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let create = || {
        provider_api()
            .current_dir(dir.path())
            .env("PROVIDER_API_STAFF_PASSWORD", "correct horse battery staple")
            .args(["create-staff", "--email", "first.admin@cqc.example", "--name", "First Admin"])
            .output()
            .unwrap()
    };

    let first = create();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("created staff account first.admin@cqc.example"));
    let again = create();
    assert!(!again.status.success(), "the email is taken now");

    let weak = provider_api()
        .current_dir(dir.path())
        .env("PROVIDER_API_STAFF_PASSWORD", "short")
        .args(["create-staff", "--email", "second@cqc.example", "--name", "Second"])
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("12 characters"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
}

#[test]
fn demo_prints_one_json_object_with_every_credential() {
    let dir = tempfile::tempdir().unwrap();
    let output = provider_api().current_dir(dir.path()).args(["demo", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let demo: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for field in ["organisation_id", "location_id", "client_id", "client_secret"] {
        assert!(demo[field].is_string(), "{field} missing: {demo}");
    }
    let roles: Vec<&str> = demo["users"].as_array().unwrap().iter().map(|u| u["roles"][0].as_str().unwrap()).collect();
    assert_eq!(roles, ["admin", "drafter", "submitter", "submitter"], "the second submitter approves (docs/review.md)");
    assert!(demo["users"].as_array().unwrap().iter().all(|u| u["email"].is_string() && u["password"].is_string()));
}

fn post_json(address: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// In production, emails that only reach the log and documents nobody scans are not defaults to fall into:
/// an explicit `environment = "production"` refuses to start without either, naming both.
#[test]
fn a_production_start_refuses_to_run_without_email_or_a_malware_scanner() {
    let dir = tempfile::tempdir().unwrap();
    let output = provider_api().current_dir(dir.path()).env("PROVIDER_API_ENVIRONMENT", "production").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in ["smtp_url", "clamd_address"] {
        assert!(stderr.contains(expected), "{expected} not named:\n{stderr}");
    }
    assert!(!stderr.contains("unknown field"), "`environment` is a setting:\n{stderr}");
}

/// Without `smtp_url` (development), an email is kept in a folder only the operator reads; the log says where,
/// with every secret in it redacted, so a log shipped elsewhere never carries a reset link or invitation code.
#[test]
fn without_smtp_a_development_server_keeps_email_secrets_out_of_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let demo = provider_api().current_dir(dir.path()).args(["demo", "--json"]).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let demo: serde_json::Value = serde_json::from_slice(&demo.stdout).unwrap();
    let email = demo["users"][0]["email"].as_str().unwrap().to_owned();

    let mut server = start(dir.path());
    let asked = post_json(&server.address, "/v1/password-resets", &format!(r#"{{"email": "{email}"}}"#));
    assert!(asked.starts_with("HTTP/1.1 202"), "{asked}");
    let outbox = dir.path().join("data").join("outbox");
    let mut kept = String::new();
    for _ in 0..100 {
        if let Some(file) = std::fs::read_dir(&outbox).ok().and_then(|mut files| files.next()) {
            kept = std::fs::read_to_string(file.unwrap().path()).unwrap();
            if !kept.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, log) = server.terminate();
    let leaked = log.match_indices("paw_").any(|(at, _)| {
        log[at + 4..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').count() >= 8
    });
    assert!(!leaked, "a reset token is in the log:\n{log}");
    let token = kept
        .split(|c: char| c.is_whitespace() || c == '=' || c == '&')
        .find(|word| word.starts_with("paw_"))
        .unwrap_or_else(|| panic!("the reset link is kept in {}:\n{kept}", outbox.display()));
    assert!(log.contains("outbox"), "the log says where the email is:\n{log}");
    assert!(!log.contains(&token[..12]), "no part of the token is in the log:\n{log}");
}
