//! HTTP plumbing shared by every feature: problem details, extractors and the middleware stack.

pub mod client_address;
pub mod codes;
pub mod conformance;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
pub mod request_time;
pub mod shape;
pub mod shared_counts;

pub use etag::IfMatch;
pub use extract::{Path, Query, ValidatedJson, ValidatedJsonBytes};
pub use problem::Problem;
