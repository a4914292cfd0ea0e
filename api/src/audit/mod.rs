//! The audit trail: an append-only log of every state change, sign-in and staff read, hash-chained so that
//! editing or deleting a past entry is detectable (`provider-api audit verify`). See `docs/audit.md`.
//!
//! Each entry's `hash` is SHA-256 (hex) over the previous entry's hash, a newline, and the RFC 8785 canonical
//! JSON of the entry's fields (everything but the two hashes). The first entry's previous hash is 64 zeros.
//! Entries are chained as they are appended, under a lock (`store::audit`), so the chain is one line whatever
//! number of nodes write to it.

mod record;
mod routes;

use provider_api_core::audit::{Filter, GENESIS, Verdict, broken_link};
use provider_api_store::{Store, StoreError};

pub use record::{AuditSlot, AuditWriter, Operations, record};
pub use routes::router;

/// Walks the whole chain in order and reports the first broken link: an entry whose fields no longer give
/// its hash (edited), whose previous hash is not the previous entry's (one removed or inserted), or a gap in
/// the positions (one removed).
pub async fn verify(store: &dyn Store) -> Result<Verdict, StoreError> {
    const PAGE: i64 = 1000;
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS.to_owned();
    let mut checked = 0;
    loop {
        let page = store.audit_entries(&Default::default(), expected_seq - 1, PAGE).await?;
        if page.is_empty() {
            return Ok(Verdict { entries: checked, first_broken: None });
        }
        for entry in &page {
            if let Some(why) = broken_link(expected_seq, &prev_hash, entry) {
                return Ok(Verdict { entries: checked, first_broken: Some((entry.seq, why)) });
            }
            prev_hash = entry.hash.clone();
            expected_seq += 1;
            checked += 1;
        }
    }
}

/// Whether the chain still holds entry `seq` with `hash`: a head recorded earlier, outside the database. The
/// chain alone cannot show its newest entries were removed (what is left is intact); this can.
pub async fn holds_head(store: &dyn Store, seq: i64, hash: &str) -> Result<bool, StoreError> {
    let found = store.audit_entries(&Filter::default(), seq - 1, 1).await?;
    Ok(found.first().is_some_and(|entry| entry.seq == seq && entry.hash == hash))
}

/// The last entry's `seq:hash`, to record outside the database (`0:` for an empty trail).
pub async fn head(store: &dyn Store, entries: i64) -> Result<String, StoreError> {
    let last = store.audit_entries(&Filter::default(), entries.max(1) - 1, 1).await?;
    Ok(last.first().map_or_else(|| "0:".to_owned(), |e| format!("{}:{}", e.seq, e.hash)))
}
