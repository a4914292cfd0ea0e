//! Recording: a route layer that appends one entry for every successful state change through the API, every
//! sign-in (successful or not) and every staff read of sensitive content; and the writer that chains and
//! stores them in batches.
//!
//! The entry is written after the change commits and before the response is sent: a client that got an
//! answer knows it is on record. (A crash in between loses the entry, never the change, whose own history
//! still holds it; see `docs/audit.md`.) Writes from concurrent requests are gathered into one transaction,
//! so the lock that keeps the chain linear is taken once per batch, not once per request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use provider_api_core::audit::NewEntry;
use provider_api_store::Store;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::state::AppState;

/// Who the request turned out to be, filled in by the `Principal` extractor (or the sign-in page), read
/// when the entry is made.
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(Arc<Mutex<(Option<Uuid>, Option<Uuid>)>>);

impl AuditSlot {
    pub fn set(&self, user: Option<Uuid>, client: Option<Uuid>) {
        *self.0.lock().expect("the slot is never poisoned") = (user, client);
    }

    fn get(&self) -> (Option<Uuid>, Option<Uuid>) {
        *self.0.lock().expect("the slot is never poisoned")
    }
}

/// Operations whose every call is recorded, whatever it answers: the sign-ins.
const SIGN_INS: &[&str] = &["issue_token", "submit_authorization_page", "revoke_token"];

/// Reads recorded because they show staff sensitive content.
const SENSITIVE_READS: &[&str] = &[
    "staff_get_notification",
    "staff_notification_history",
    "staff_get_application",
    "staff_application_history",
    "list_users",
    "list_audit_entries",
];

/// Each documented operation's id by method and path template, read from the OpenAPI document the router
/// serves.
pub struct Operations(HashMap<(String, String), String>);

impl Operations {
    pub fn of(document: &utoipa::openapi::OpenApi) -> Self {
        let mut operations = HashMap::new();
        for (path, item) in &document.paths.paths {
            let methods = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
                ("HEAD", &item.head),
                ("OPTIONS", &item.options),
            ];
            for (method, operation) in methods {
                if let Some(id) = operation.as_ref().and_then(|o| o.operation_id.clone()) {
                    operations.insert((method.to_owned(), path.clone()), id);
                }
            }
        }
        Self(operations)
    }
}

/// The route layer.
pub async fn record(
    State((state, operations)): State<(AppState, Arc<Operations>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let operation = operations.0.get(&(method.as_str().to_owned(), template.clone())).cloned();
    let Some(operation) = operation else { return next.run(request).await };
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let sign_in = SIGN_INS.contains(&operation.as_str());
    if !changes && !SENSITIVE_READS.contains(&operation.as_str()) {
        return next.run(request).await;
    }
    let slot = AuditSlot::default();
    request.extensions_mut().insert(slot.clone());
    let path = request.uri().path().to_owned();
    let organisation_id = organisation_of(&template, &path);
    let request_id =
        request.headers().get(&crate::http::middleware::X_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let address = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| {
        crate::http::client_address::client_address(peer.ip(), request.headers(), &state.trusted_proxies)
    });
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_success() || sign_in) {
        return response;
    }
    let (actor_user, actor_client) = slot.get();
    // A creation's object is the new one, which its `Location` names.
    let object = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|location| location.starts_with("/v1/"))
        .map_or(path, str::to_owned);
    let entry = NewEntry {
        actor_user,
        actor_client,
        organisation_id,
        request_id,
        status: i32::from(status.as_u16()),
        detail: address.map(|a| serde_json::json!({"client_address": a.to_string()}).to_string()),
        ..NewEntry::at(state.clock.now(), &operation, method.as_str(), &object)
    };
    if let Err(error) = state.audit.append(entry).await {
        // The change has happened and cannot be undone here; say so loudly.
        tracing::error!(%error, operation, "could not write the audit entry of a completed request");
    }
    response
}

/// The `organisation_id` path parameter's value, if the route has one.
fn organisation_of(template: &str, path: &str) -> Option<Uuid> {
    let position = template.split('/').position(|segment| segment == "{organisation_id}")?;
    path.split('/').nth(position).and_then(|id| id.parse().ok())
}

type Pending = (NewEntry, oneshot::Sender<Result<(), String>>);

/// Gathers entries from concurrent requests and appends each batch in one transaction.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

/// At most this many entries go in one transaction.
const BATCH: usize = 256;

impl AuditWriter {
    /// Starts the writer task (it ends when every `AuditWriter` is dropped).
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Pending>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while incoming.recv_many(&mut batch, BATCH).await > 0 {
                let entries: Vec<NewEntry> = batch.iter().map(|(entry, _)| entry.clone()).collect();
                let outcome = store.append_audit(&entries).await.map(drop).map_err(|e| e.to_string());
                for (_, done) in batch.drain(..) {
                    let _ = done.send(outcome.clone());
                }
            }
        });
        Self { queue }
    }

    /// Appends one entry, returning once it is committed.
    pub async fn append(&self, entry: NewEntry) -> Result<(), String> {
        let (done, committed) = oneshot::channel();
        self.queue.send((entry, done)).await.map_err(|_| "the audit writer has stopped".to_owned())?;
        committed.await.map_err(|_| "the audit writer has stopped".to_owned())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_is_read_from_its_place_in_the_path() {
        let id = Uuid::new_v4();
        let template = "/v1/organisations/{organisation_id}/notifications/{notification_id}";
        let path = format!("/v1/organisations/{id}/notifications/{}", Uuid::new_v4());
        assert_eq!(organisation_of(template, &path), Some(id));
        assert_eq!(organisation_of("/v1/admin/users", "/v1/admin/users"), None);
    }

    #[test]
    fn every_recorded_operation_exists() {
        let operations = Operations::of(&crate::openapi::document());
        let ids: Vec<&String> = operations.0.values().collect();
        for name in SIGN_INS.iter().chain(SENSITIVE_READS) {
            assert!(ids.iter().any(|id| id == name), "{name} is not an operation");
        }
    }
}
