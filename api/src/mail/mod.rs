//! Outgoing email: SMTP through lettre when `smtp_url` is configured, otherwise a development transport that
//! writes each message (secrets included) to the log. The README says so.

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
        None => Box::new(LogOnly),
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

/// Development only: the message goes to the log instead of a mailbox.
struct LogOnly;

#[async_trait]
impl Mailer for LogOnly {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        tracing::warn!(to = %mail.to, subject = %mail.subject, body = %mail.body, "email not sent (no smtp_url configured): development transport");
        Ok(())
    }
}
