//! HTTP plumbing shared by every feature: problem details, extractors and the middleware stack.

pub mod extract;
pub mod middleware;
pub mod problem;

pub use extract::{Query, ValidatedJson};
pub use problem::{FieldError, Problem};
