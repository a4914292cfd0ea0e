//! A message for the page a form sends the person to ("Invitation sent"), kept in the session with that page's
//! path, so that it appears there once, whatever other page (another tab, say) loads first, and never in the
//! page's address.

use tower_sessions::Session;

const KEY: &str = "flash";
/// A message that is not a confirmation ("you did that already"): shown as information, not success.
const INFORMATION: &str = "flash-information";

/// Keeps `text` for the next load of the page at `path`.
pub async fn set(session: &Session, path: &str, text: impl Into<String>) {
    keep(session, KEY, path, text.into()).await;
}

/// The message kept for the page at `path`, which no later load will see; a message for another page stays.
pub async fn take(session: &Session, path: &str) -> Option<String> {
    take_from(session, KEY, path).await
}

/// As [`set`], for information rather than a confirmation.
pub async fn set_information(session: &Session, path: &str, text: impl Into<String>) {
    keep(session, INFORMATION, path, text.into()).await;
}

/// As [`take`], for information.
pub async fn take_information(session: &Session, path: &str) -> Option<String> {
    take_from(session, INFORMATION, path).await
}

async fn keep(session: &Session, key: &str, path: &str, text: String) {
    if let Err(error) = session.insert(key, (path.to_owned(), text)).await {
        tracing::warn!(%error, "a message for the next page could not be kept in the session");
    }
}

async fn take_from(session: &Session, key: &str, path: &str) -> Option<String> {
    let (for_path, text) = session.get::<(String, String)>(key).await.ok().flatten()?;
    if for_path != path {
        return None;
    }
    let _ = session.remove::<(String, String)>(key).await;
    Some(text)
}
