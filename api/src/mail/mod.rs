//! Outgoing email: SMTP through lettre when `smtp_url` is configured, otherwise (development only) a transport
//! that keeps each message in a file in `mail_outbox`, readable only by the server's user, and logs where,
//! with the message's secrets redacted: logs travel (to aggregators, to support), codes and links must not.

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::Config;

pub mod messages;
pub mod outbox;
pub mod routes;

/// One plain-text email.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address {0:?} cannot receive email")]
    Address(String),
    #[error("the email could not be sent: {0}")]
    Send(String),
    /// The mail server refused it for good (a 5xx reply: no such mailbox, say): trying again will not help.
    #[error("the mail server refused the email: {0}")]
    Rejected(String),
}

impl MailError {
    /// Whether sending it again later could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Send(_))
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> Result<(), MailError>;
}

/// The mailer the configuration asks for.
pub fn from_config(config: &Config) -> Box<dyn Mailer> {
    let from: Mailbox = config.mail_from.parse().expect("validated at load");
    match &config.smtp_url {
        Some(url) => {
            let transport =
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret()).expect("validated at load").build();
            Box::new(Smtp { transport, from })
        }
        None => Box::new(Outbox { folder: config.mail_outbox.clone() }),
    }
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[async_trait]
impl Mailer for Smtp {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .body(mail.body)
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport.send(message).await.map(drop).map_err(|e| {
            if e.is_permanent() { MailError::Rejected(e.to_string()) } else { MailError::Send(e.to_string()) }
        })
    }
}

/// Development only: the message goes to a file in `folder` instead of a mailbox.
struct Outbox {
    folder: std::path::PathBuf,
}

impl Outbox {
    fn keep(folder: &std::path::Path, name: &str, mail: &Mail) -> std::io::Result<std::path::PathBuf> {
        use std::io::Write;
        std::fs::create_dir_all(folder)?;
        let path = folder.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        write!(file, "To: {}\nSubject: {}\n\n{}", mail.to, mail.subject, mail.body)?;
        Ok(path)
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let name =
            format!("{}-{}.txt", time::OffsetDateTime::now_utc().unix_timestamp(), uuid::Uuid::now_v7().simple());
        let folder = self.folder.clone();
        let kept = mail.clone();
        let path = tokio::task::spawn_blocking(move || Self::keep(&folder, &name, &kept))
            .await
            .map_err(|e| MailError::Send(e.to_string()))?
            .map_err(|e| MailError::Send(format!("could not write to the outbox folder: {e}")))?;
        let body = crate::auth::secret::redact(&mail.body);
        tracing::warn!(
            to = %mail.to, subject = %mail.subject, file = %path.display(), body = %body,
            "email not sent (no smtp_url configured): kept in the outbox folder (development only; secrets redacted here)"
        );
        Ok(())
    }
}
