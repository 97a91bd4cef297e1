//! The one error type of the HTTP layer.

use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::auth::AuthError;

/// Largest response body kept in an [`Error::Status`], in bytes.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Everything that can go wrong with a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before it was sent (bad path, bad header, body that cannot be encoded).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// The connection failed. `may_have_reached_server` says whether the server may have seen the request.
    #[error("transport error (request {}): {message}", if *may_have_reached_server { "may have reached the server" } else { "was not sent" })]
    Transport {
        /// What failed.
        message: String,
        /// `false` only when the request provably never left this process (connect failed).
        may_have_reached_server: bool,
    },

    /// No response within the per-request timeout; the server may have processed the request.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),

    /// The server answered with a non-success status (after any retries).
    #[error("HTTP {status}: {}", snippet(body))]
    Status {
        /// The status code.
        status: StatusCode,
        /// The response body, cut at [`MAX_ERROR_BODY`] bytes.
        body: String,
        /// The response headers.
        headers: Box<HeaderMap>,
    },

    /// Still throttled after the retry budget was used.
    #[error("rate limited after {attempts} attempts (retry after {retry_after:?})")]
    RateLimited {
        /// What the server asked for last, if anything.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },

    /// The body could not be decoded into the expected type.
    #[error("cannot decode response at `{path}`: {message}")]
    Decode {
        /// JSON path of the field that failed (`.` for the root).
        path: String,
        /// The decoder's message.
        message: String,
    },

    /// Authentication failed or must be renewed by a person.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

fn snippet(body: &str) -> &str {
    let end = body
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|&i| i <= 300)
        .last()
        .unwrap_or(0);
    &body[..end]
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// Whether the server may have received (and acted on) the request.
    ///
    /// `false` means it certainly did not, so even a non-idempotent request can be sent again.
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Error::InvalidRequest(_) | Error::Auth(_) => false,
            Error::Transport {
                may_have_reached_server,
                ..
            } => *may_have_reached_server,
            _ => true,
        }
    }

    pub(crate) fn decode(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        Error::Decode {
            path: err.path().to_string(),
            message: err.inner().to_string(),
        }
    }

    pub(crate) fn from_reqwest(err: reqwest::Error, timeout: Duration) -> Self {
        // reqwest's message carries the URL with its query string, which may hold an API key.
        let err = err.without_url();
        if err.is_timeout() {
            return Error::Timeout(timeout);
        }
        if err.is_builder() {
            return Error::InvalidRequest(err.to_string());
        }
        Error::Transport {
            message: error_chain(&err),
            may_have_reached_server: !err.is_connect(),
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_cuts_on_char_boundary() {
        let body = "é".repeat(400);
        let s = snippet(&body);
        assert!(s.len() <= 300);
        assert!(s.chars().all(|c| c == 'é'));
    }

    #[test]
    fn connect_errors_were_not_sent() {
        let e = Error::Transport {
            message: "refused".into(),
            may_have_reached_server: false,
        };
        assert!(!e.may_have_reached_server());
        assert!(Error::Timeout(Duration::from_secs(1)).may_have_reached_server());
    }
}
