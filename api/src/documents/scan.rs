//! Malware scanning through a ClamAV daemon, with clamd's INSTREAM command over TCP or a unix socket: the
//! document is streamed from the blob store to clamd in chunks, never held in memory whole.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::blob::ByteStream;

/// Where clamd listens: `tcp://host:port` or `unix:///path/to/clamd.ctl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    Tcp(String),
    Unix(PathBuf),
}

impl std::str::FromStr for ClamdAddress {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(address) = s.strip_prefix("tcp://") {
            Ok(Self::Tcp(address.trim_end_matches('/').to_owned()))
        } else if let Some(path) = s.strip_prefix("unix://") {
            Ok(Self::Unix(PathBuf::from(path)))
        } else {
            Err(format!("{s:?} is not tcp://host:port or unix:///path"))
        }
    }
}

/// What clamd said about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// With the signature's name, e.g. `Eicar-Test-Signature`.
    Infected(String),
}

/// A ClamAV daemon.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub address: ClamdAddress,
    /// The longest one scan may take, connecting included.
    pub timeout: Duration,
}

/// The name recorded as a document's scanner.
pub const CLAMAV: &str = "clamav";
/// Recorded when no scanner is configured and documents are taken as clean.
pub const NONE: &str = "none";

impl Clamd {
    pub async fn scan(&self, content: ByteStream) -> io::Result<Verdict> {
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "clamd did not answer in time");
        tokio::time::timeout(self.timeout, async {
            match &self.address {
                ClamdAddress::Tcp(address) => instream(tokio::net::TcpStream::connect(address).await?, content).await,
                #[cfg(unix)]
                ClamdAddress::Unix(path) => instream(tokio::net::UnixStream::connect(path).await?, content).await,
                #[cfg(not(unix))]
                ClamdAddress::Unix(_) => Err(io::Error::other("unix sockets need a unix")),
            }
        })
        .await
        .map_err(|_| timed_out())?
    }
}

/// clamd's INSTREAM: `zINSTREAM\0`, then chunks each preceded by its length (4 bytes, big-endian), then a
/// zero length; the reply is `stream: OK`, `stream: <signature> FOUND` or `… ERROR`, ending in NUL.
async fn instream<S: AsyncRead + AsyncWrite + Unpin>(mut socket: S, mut content: ByteStream) -> io::Result<Verdict> {
    socket.write_all(b"zINSTREAM\0").await?;
    let mut sent = Ok(());
    while let Some(chunk) = content.next().await {
        let chunk = chunk?;
        // clamd takes chunks of any size up to its StreamMaxLength; the blob store's read size is small.
        let written = async {
            socket.write_all(&(chunk.len() as u32).to_be_bytes()).await?;
            socket.write_all(&chunk).await
        }
        .await;
        if let Err(error) = written {
            // clamd closes the connection when a stream is too long, after saying why: read that below.
            sent = Err(error);
            break;
        }
    }
    if sent.is_ok() {
        sent = socket.write_all(&0u32.to_be_bytes()).await;
    }
    let mut reply = Vec::new();
    let read = socket.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply).trim_end_matches('\0').trim().to_owned();
    if reply.is_empty() {
        sent?;
        read?;
        return Err(io::Error::other("clamd closed the connection without an answer"));
    }
    parse_reply(&reply)
}

fn parse_reply(reply: &str) -> io::Result<Verdict> {
    let verdict = reply.strip_prefix("stream:").map(str::trim).unwrap_or(reply);
    if verdict == "OK" {
        Ok(Verdict::Clean)
    } else if let Some(signature) = verdict.strip_suffix(" FOUND") {
        Ok(Verdict::Infected(signature.trim().to_owned()))
    } else {
        Err(io::Error::other(format!("clamd answered {reply:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_understood() {
        assert_eq!(parse_reply("stream: OK").unwrap(), Verdict::Clean);
        assert_eq!(
            parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND").unwrap(),
            Verdict::Infected("Win.Test.EICAR_HDB-1".into())
        );
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR").is_err());
        assert_eq!("tcp://127.0.0.1:3310".parse(), Ok(ClamdAddress::Tcp("127.0.0.1:3310".into())));
        assert_eq!("unix:///run/clamav/clamd.ctl".parse(), Ok(ClamdAddress::Unix("/run/clamav/clamd.ctl".into())));
        assert!("127.0.0.1:3310".parse::<ClamdAddress>().is_err());
    }
}
