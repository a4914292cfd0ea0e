//! The form machinery notification and registration forms are both built from: typed fields that carry their
//! own JSON Schema, validation against the published schema with per-field errors, publishing a form as a
//! standalone schema, and what an edit changed.

pub mod changes;
pub mod fields;
pub mod schema;
pub mod validation;
