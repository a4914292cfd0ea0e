//! What the regulator's rules are, with no I/O: domain values, roles and capabilities, each feature's
//! records and lifecycle, the notification and registration forms with their validation, catalogues, and the
//! canonical form receipts are computed over. No HTTP and no database here: the API (`api`) speaks HTTP and
//! the store (`store`) persists; both depend on this crate, and this crate on neither. See
//! `docs/architecture.md`.

#[macro_use]
mod redact;
#[macro_use]
pub mod stored;

pub mod accounts;
pub mod actor;
pub mod audit;
pub mod capability;
pub mod clock;
pub mod documents;
pub mod domain;
pub mod emails;
pub mod events;
pub mod examples;
pub mod field_error;
pub mod forms;
pub mod notifications;
pub mod receipt;
pub mod reference;
pub mod register;
pub mod registrations;
pub mod transition;
pub mod workflow;

/// Lower-case hex, as every digest and token hash here is written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
