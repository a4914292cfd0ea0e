//! A message for the next page only ("Invitation sent to …"), kept in the session so that the page a form
//! redirects to can say what happened without putting words in its address.

use tower_sessions::Session;

const KEY: &str = "flash";

/// Keeps `text` for the next page that shows messages.
pub async fn set(session: &Session, text: impl Into<String>) {
    if let Err(error) = session.insert(KEY, text.into()).await {
        tracing::warn!(%error, "a confirmation message could not be kept in the session");
    }
}

/// The message kept for this page, which no later page will see.
pub async fn take(session: &Session) -> Option<String> {
    session.remove::<String>(KEY).await.ok().flatten()
}
