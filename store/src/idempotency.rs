//! Idempotency records (`Idempotency-Key`): what claiming a key finds, and the response stored with the
//! change it reports so a retry is answered with it. The HTTP side (claiming, replaying) is the API's.

use time::OffsetDateTime;

/// What claiming a key found.
#[derive(Debug)]
pub enum Begin {
    Started,
    InFlight { fingerprint: String },
    Completed(StoredResponse),
}

#[derive(Debug)]
pub struct StoredResponse {
    pub fingerprint: String,
    pub status: i64,
    /// The response headers worth replaying, as a JSON array of `[name, value]` pairs.
    pub headers: String,
    pub body: String,
}

/// A response to store, written with the change it reports.
#[derive(Debug, Clone)]
pub struct Completion {
    pub scope: String,
    pub key: String,
    pub status: i64,
    pub headers: String,
    pub body: String,
    pub at: OffsetDateTime,
}
