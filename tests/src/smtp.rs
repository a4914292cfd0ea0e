//! A real SMTP server for tests: `aiosmtpd` (Debian's `python3-aiosmtpd`, which `cargo xtask test` installs),
//! started per test on a free loopback port, writing every message it accepts to a Maildir the tests read.
//! What the API sends is what a mail server receives: RFC 5321 over TCP, SMTPUTF8 for addresses that need it.
//! If it cannot be started, the test fails: it is never skipped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mailparse::MailHeaderMap;

/// Debian's Python, which has Debian's aiosmtpd (a Python from elsewhere first on the PATH would not).
const PYTHON: &str = "/usr/bin/python3";
const AIOSMTPD: &str = "/usr/lib/python3/dist-packages/aiosmtpd/__init__.py";

/// One received message: the envelope recipients, its subject and body decoded, and the message as stored.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub subject: String,
    body: String,
    pub data: String,
}

impl Received {
    fn parse(bytes: &[u8]) -> Self {
        let data = String::from_utf8_lossy(bytes).into_owned();
        let parsed = mailparse::parse_mail(bytes).unwrap_or_else(|e| panic!("the stored email does not parse: {e}"));
        let header = |name: &str| parsed.headers.get_first_value(name).unwrap_or_default();
        // aiosmtpd's Message handlers record the envelope's recipients in an `X-RcptTo` header.
        let recipients = header("X-RcptTo").split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
        let body = parsed.get_body().unwrap_or_else(|e| panic!("the email's body does not decode: {e}"));
        Self { recipients, subject: header("Subject"), body, data }
    }

    /// The body, decoded (quoted-printable undone).
    pub fn text(&self) -> String {
        self.body.clone()
    }

    /// The `Subject` header, decoded.
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// The first link in the message that contains `path`.
    pub fn link_to(&self, path: &str) -> String {
        let link = self.body.split_whitespace().find(|w| w.contains(path));
        link.unwrap_or_else(|| panic!("no link to {path} in the email: {}", self.body)).to_owned()
    }

    /// Every link (`http://` or `https://`) in the message.
    pub fn links(&self) -> Vec<String> {
        self.body.split_whitespace().filter(|w| w.starts_with("http")).map(str::to_owned).collect()
    }
}

pub struct SmtpSink {
    pub address: SocketAddr,
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_on(crate::services::free_port()).await
    }

    /// Starts it on `port` (a mail server coming back where the API expects it).
    pub async fn start_on(port: u16) -> Self {
        assert!(
            Path::new(AIOSMTPD).exists(),
            "aiosmtpd is not installed: `cargo xtask test` installs it (apt-get install -y python3-aiosmtpd)"
        );
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("aiosmtpd.log");
        let mut child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "--nosetuid", "--smtputf8", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--class", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("aiosmtpd starts");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        crate::services::wait_for(address, &mut child, "aiosmtpd", &log);
        Self { address, child, maildir, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Every message received so far, in the order they arrived.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        // Maildir names start with the time of delivery; with the modification time, that orders them.
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .map(|bytes| Received::parse(&bytes))
            .collect()
    }

    /// The messages to `recipient` received so far.
    pub fn messages_for(&self, recipient: &str) -> Vec<Received> {
        self.messages().into_iter().filter(|m| m.recipients.iter().any(|r| r == recipient)).collect()
    }

    /// How many messages to `recipient` have arrived so far.
    pub fn messages_to(&self, recipient: &str) -> usize {
        self.messages_for(recipient).len()
    }

    /// The first message to `recipient`, waiting up to ten seconds for it.
    pub async fn message_to(&self, recipient: &str) -> Received {
        for _ in 0..200 {
            if let Some(message) = self.messages_for(recipient).into_iter().next() {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email to {recipient} arrived");
    }

    /// The first message to `recipient` whose subject contains `subject`, waiting up to ten seconds for it.
    pub async fn message_about(&self, recipient: &str, subject: &str) -> Received {
        for _ in 0..200 {
            if let Some(message) = self.messages_for(recipient).into_iter().find(|m| m.subject().contains(subject)) {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let had: Vec<String> = self.messages_for(recipient).iter().map(Received::subject).collect();
        panic!("no email to {recipient} about {subject:?} arrived (it had: {had:?})");
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
