//! A message for the page a form sends the person to ("Invitation sent"), kept in the session with that page's
//! path, so that it appears there once, whatever other page (another tab, say) loads first, and never in the
//! page's address.

use tower_sessions::Session;

const KEY: &str = "flash";

/// Keeps `text` for the next load of the page at `path`.
pub async fn set(session: &Session, path: &str, text: impl Into<String>) {
    if let Err(error) = session.insert(KEY, (path.to_owned(), text.into())).await {
        tracing::warn!(%error, "a confirmation message could not be kept in the session");
    }
}

/// The message kept for the page at `path`, which no later load will see; a message for another page stays.
pub async fn take(session: &Session, path: &str) -> Option<String> {
    let (for_path, text) = session.get::<(String, String)>(KEY).await.ok().flatten()?;
    if for_path != path {
        return None;
    }
    let _ = session.remove::<(String, String)>(KEY).await;
    Some(text)
}
