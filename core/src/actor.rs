//! Who did something, as the record keeps it.

use uuid::Uuid;

/// Who did something: a person, software acting as itself, or (for a person signed in through an
/// integrator's software) both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actor {
    pub user: Option<Uuid>,
    pub client: Option<Uuid>,
}
