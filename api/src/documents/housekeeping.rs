//! Background work for documents: scanning pending documents (with bounded retries) and removing expired,
//! unfinished uploads. Both run on every node; the store's claims keep two nodes off the same document.

use std::sync::Arc;
use std::time::Duration;

use provider_api_core::clock::Clock;
use provider_api_store::Store;
use time::OffsetDateTime;

use super::scan::{CLAMAV, NONE, Verdict};
use super::{Document, Documents, ScanStatus};

/// How often the scanner looks for due documents when nothing wakes it.
const SCAN_POLL: Duration = Duration::from_secs(5);
/// A claimed scan that has not reported after this long (its node died) is tried again.
const SCAN_LEASE: time::Duration = time::Duration::minutes(10);

/// Scans pending documents until the task is aborted.
pub async fn scan_forever(store: Arc<dyn Store>, documents: Arc<Documents>, clock: Arc<dyn Clock>) {
    loop {
        loop {
            match scan_next(store.as_ref(), &documents, clock.as_ref()).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "the document scanner could not reach the database");
                    break;
                }
            }
        }
        tokio::select! {
            () = documents.scan_requested.notified() => {},
            () = tokio::time::sleep(SCAN_POLL) => {},
        }
    }
}

/// Scans one due document, if there is one; `true` when it did (so there may be more).
pub async fn scan_next(
    store: &dyn Store,
    documents: &Documents,
    clock: &dyn Clock,
) -> Result<bool, provider_api_store::StoreError> {
    let now = clock.now();
    let Some(document) = store.claim_scan(now, now + SCAN_LEASE).await? else { return Ok(false) };
    let Some(clamd) = &documents.settings.clamd else {
        // Left pending by a node that had a scanner; this one has none, and says so.
        store.record_scan(document.id, ScanStatus::Clean.as_str(), NONE, None, now).await?;
        return Ok(true);
    };
    let verdict = match documents.blobs.read(document.id, None).await {
        Ok(content) => clamd.scan(content).await,
        Err(error) => Err(error),
    };
    let at = clock.now();
    match verdict {
        Ok(Verdict::Clean) => store.record_scan(document.id, ScanStatus::Clean.as_str(), CLAMAV, None, at).await?,
        Ok(Verdict::Infected(signature)) => {
            tracing::warn!(document = %document.id, organisation = %document.organisation_id, %signature, "malware found in an uploaded document");
            store.record_scan(document.id, ScanStatus::Infected.as_str(), CLAMAV, Some(&signature), at).await?;
        }
        Err(error) => retry_or_fail(store, documents, &document, &error.to_string(), at).await?,
    }
    Ok(true)
}

async fn retry_or_fail(
    store: &dyn Store,
    documents: &Documents,
    document: &Document,
    error: &str,
    at: OffsetDateTime,
) -> Result<(), provider_api_store::StoreError> {
    if document.scan_attempts >= i64::from(documents.settings.scan_attempts) {
        tracing::error!(document = %document.id, attempts = document.scan_attempts, error, "giving up scanning a document");
        return store.record_scan(document.id, ScanStatus::Failed.as_str(), CLAMAV, Some(error), at).await;
    }
    // 1 s, 2 s, 4 s, … up to 5 minutes between attempts.
    let backoff = time::Duration::seconds(1 << document.scan_attempts.clamp(0, 8)).min(time::Duration::minutes(5));
    tracing::warn!(document = %document.id, attempt = document.scan_attempts, error, "scan failed; will retry");
    store.postpone_scan(document.id, at + backoff).await
}

/// Removes uploads whose expiry has passed: their staged bytes, then their row.
pub async fn remove_expired_uploads(
    store: &dyn Store,
    documents: &Documents,
    now: OffsetDateTime,
) -> Result<usize, provider_api_store::StoreError> {
    let expired = store.expired_uploads(now, 100).await?;
    let mut removed = 0;
    for upload in expired {
        if let Err(error) = documents.blobs.discard(upload.id).await {
            tracing::warn!(upload = %upload.id, %error, "could not remove an expired upload's bytes");
            continue;
        }
        removed += usize::from(store.delete_upload(upload.id).await?);
    }
    Ok(removed)
}
