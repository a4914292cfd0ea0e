use crate::{Error, types};

/// Reaches the RFC 9457 problem inside an SDK error, where the server sent one.
pub trait ProblemExt {
    /// The problem the server answered with, if the error is one.
    fn problem(&self) -> Option<&types::Problem>;
    /// The HTTP status of the response, if there was a response.
    fn http_status(&self) -> Option<u16>;
}

impl ProblemExt for Error<types::Problem> {
    fn problem(&self) -> Option<&types::Problem> {
        match self {
            Error::ErrorResponse(response) => Some(response.as_ref()),
            _ => None,
        }
    }

    fn http_status(&self) -> Option<u16> {
        self.status().map(|status| status.as_u16())
    }
}
