//! A minimal SMTP server for tests: it accepts every message over real SMTP (RFC 5321, no TLS or auth) and
//! keeps it, so tests can read what the API emailed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One received message: the envelope recipients and the raw data.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub data: String,
}

impl Received {
    /// The message as written: a quoted-printable body unfolded (a long line is folded with "=" at its end,
    /// and "=" itself is "=3D").
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
    }

    /// The first link in the message that contains `path`.
    pub fn link_to(&self, path: &str) -> String {
        let text = self.text();
        let link = text.split_whitespace().find(|w| w.contains(path));
        link.unwrap_or_else(|| panic!("no link to {path} in the email: {text}")).to_owned()
    }
}

pub struct SmtpSink {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    server: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, store.clone()));
            }
        });
        Self { address, received, server }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// How many messages to `recipient` have arrived so far.
    pub fn messages_to(&self, recipient: &str) -> usize {
        self.received.lock().unwrap().iter().filter(|m| m.recipients.iter().any(|r| r == recipient)).count()
    }

    /// The first message to `recipient`, waiting up to five seconds for it.
    pub async fn message_to(&self, recipient: &str) -> Received {
        for _ in 0..100 {
            let found =
                self.received.lock().unwrap().iter().find(|m| m.recipients.iter().any(|r| r == recipient)).cloned();
            if let Some(message) = found {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email to {recipient} arrived");
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn session(stream: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let reply = |text: &'static str| text.as_bytes();
    if write.write_all(reply("220 sink ESMTP\r\n")).await.is_err() {
        return;
    }
    let mut recipients = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            reply("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        } else if let Some(to) = upper.strip_prefix("RCPT TO:") {
            let start = to.find('<').map_or(0, |i| i + 1);
            let end = to.find('>').unwrap_or(to.len());
            recipients.push(line["RCPT TO:".len()..][start..end].to_owned());
            reply("250 OK\r\n")
        } else if upper == "DATA" {
            if write.write_all(reply("354 go ahead\r\n")).await.is_err() {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            store.lock().unwrap().push(Received { recipients: std::mem::take(&mut recipients), data });
            reply("250 queued\r\n")
        } else if upper == "QUIT" {
            let _ = write.write_all(reply("221 bye\r\n")).await;
            return;
        } else {
            reply("250 OK\r\n")
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}
