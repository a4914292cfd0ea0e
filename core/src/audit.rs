//! The audit trail's entries and their hash chain: each entry's `hash` is SHA-256 (hex) over the previous
//! entry's hash, a newline, and the RFC 8785 canonical JSON of the entry's fields (everything but the two
//! hashes). The first entry's previous hash is 64 zeros. Writing and reading the trail is the store's;
//! recording requests and verifying the stored chain is the API's (`api/src/audit`).

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

use crate::hex;

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is to be recorded; the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub id: Uuid,
    /// RFC 3339 with microseconds (`2026-11-26T09:14:03.123456Z`): the exact text hashed and stored.
    pub at: String,
    pub actor_user: Option<Uuid>,
    pub actor_client: Option<Uuid>,
    /// The operation (`submit_notification`), or a command (`cli.create_staff`).
    pub action: String,
    pub method: String,
    /// The object's path (`/v1/organisations/…/notifications/…`); for a creation, the new object's.
    pub object: String,
    pub organisation_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// The HTTP status answered (0 for a command).
    pub status: i32,
    /// Anything else worth keeping (the client address), as JSON text.
    pub detail: Option<String>,
}

impl NewEntry {
    /// An entry for `action` at `at`, by nobody yet (the recorder fills in who, where and how it ended).
    pub fn at(at: OffsetDateTime, action: &str, method: &str, object: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            at: timestamp(at),
            actor_user: None,
            actor_client: None,
            action: action.to_owned(),
            method: method.to_owned(),
            object: object.to_owned(),
            organisation_id: None,
            request_id: None,
            status: 0,
            detail: None,
        }
    }
}

/// An entry in its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Entry {
    pub seq: i64,
    pub id: Uuid,
    pub at: String,
    pub actor_user: Option<Uuid>,
    pub actor_client: Option<Uuid>,
    pub action: String,
    pub method: String,
    pub object: String,
    pub organisation_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub status: i32,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// `entry` chained after `prev_hash` at position `seq`.
    pub fn chain(seq: i64, prev_hash: &str, entry: NewEntry) -> Self {
        let hash = entry_hash(seq, prev_hash, &entry);
        let NewEntry {
            id,
            at,
            actor_user,
            actor_client,
            action,
            method,
            object,
            organisation_id,
            request_id,
            status,
            detail,
        } = entry;
        Self {
            seq,
            id,
            at,
            actor_user,
            actor_client,
            action,
            method,
            object,
            organisation_id,
            request_id,
            status,
            detail,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    pub fn fields(&self) -> NewEntry {
        NewEntry {
            id: self.id,
            at: self.at.clone(),
            actor_user: self.actor_user,
            actor_client: self.actor_client,
            action: self.action.clone(),
            method: self.method.clone(),
            object: self.object.clone(),
            organisation_id: self.organisation_id,
            request_id: self.request_id.clone(),
            status: self.status,
            detail: self.detail.clone(),
        }
    }
}

/// The hash an entry at `seq` after `prev_hash` must carry.
pub fn entry_hash(seq: i64, prev_hash: &str, e: &NewEntry) -> String {
    let fields = json!({
        "seq": seq,
        "id": e.id,
        "at": e.at,
        "actor_user": e.actor_user,
        "actor_client": e.actor_client,
        "action": e.action,
        "method": e.method,
        "object": e.object,
        "organisation_id": e.organisation_id,
        "request_id": e.request_id,
        "status": e.status,
        "detail": e.detail,
    });
    let canonical = crate::receipt::canonical(&fields);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex(&hasher.finalize())
}

pub fn timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"))
        .expect("a UTC time formats")
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// How many entries were checked.
    pub entries: i64,
    /// The first entry that does not follow from the one before it, and why; `None` when the chain holds.
    pub first_broken: Option<(i64, String)>,
}

/// Why `entry` does not follow where `expected_seq` and `prev_hash` say the next entry must: an entry whose
/// fields no longer give its hash (edited), whose previous hash is not the previous entry's (one removed or
/// inserted), or a gap in the positions (one removed). `None` when it follows.
pub fn broken_link(expected_seq: i64, prev_hash: &str, entry: &Entry) -> Option<String> {
    if entry.seq != expected_seq {
        return Some(format!("expected entry {expected_seq} next, found {}: entries are missing", entry.seq));
    }
    if entry.prev_hash != prev_hash {
        return Some("its previous hash is not the previous entry's hash".to_owned());
    }
    if entry_hash(entry.seq, &entry.prev_hash, &entry.fields()) != entry.hash {
        return Some("its fields no longer match its hash: it was changed".to_owned());
    }
    None
}

/// Filters for reading the trail.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub action: Option<String>,
    /// Entries whose object path starts with this.
    pub object_prefix: Option<String>,
    pub from: Option<String>,
    pub before: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_links_each_entry_to_the_one_before() {
        let first =
            Entry::chain(1, GENESIS, NewEntry::at(OffsetDateTime::UNIX_EPOCH, "create_notification", "POST", "/v1/x"));
        let second = Entry::chain(
            2,
            &first.hash,
            NewEntry::at(OffsetDateTime::UNIX_EPOCH, "submit_notification", "POST", "/v1/x/submit"),
        );
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(entry_hash(2, &first.hash, &second.fields()), second.hash);
        let mut edited = second.clone();
        edited.status = 500;
        assert_ne!(entry_hash(2, &first.hash, &edited.fields()), second.hash, "an edit changes the hash");
    }

    #[test]
    fn timestamps_have_a_fixed_shape() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_148_443_123_456_789).unwrap();
        assert_eq!(timestamp(at), "2025-11-26T09:14:03.123456Z");
    }
}
