//! The crate's error type.

use crate::ids::Version;
use serde::Deserialize;
use std::time::Duration;

/// Everything that can go wrong talking to Lightspeed X-Series.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input refused before anything was sent (bad domain prefix, bad URL, conflicting fields...).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The access token or grant is no longer valid: the store must be authorised again.
    #[error("authorisation failed, the store must be authorised again: {message}")]
    Reauthorize {
        /// What happened (never a secret).
        message: String,
    },

    /// A token refresh failed for a reason that may pass (network, server error).
    #[error("token refresh failed (try again later): {message}")]
    TokenRefresh {
        /// What happened.
        message: String,
    },

    /// The object does not exist (404).
    #[error("not found: {message}")]
    NotFound {
        /// The API's message.
        message: String,
    },

    /// The object conflicts with an existing one (409, e.g. a duplicate webhook).
    #[error("conflict: {message}")]
    Conflict {
        /// The API's message.
        message: String,
    },

    /// The API refused the request (400, 403, 422, 5xx...), with its own error text.
    #[error("HTTP {status}: {error}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Api {
        /// The HTTP status.
        status: u16,
        /// The API's `error` field (or the raw body when it is not JSON).
        error: String,
        /// The API's `message` field, when sent.
        message: Option<String>,
        /// The whole error body, parsed (`Null` when not JSON).
        details: serde_json::Value,
    },

    /// Still throttled after the retries allowed.
    #[error("rate limited by Lightspeed (retry after {retry_after:?})")]
    RateLimited {
        /// The last wait the server asked for.
        retry_after: Option<Duration>,
    },

    /// The connection failed or timed out.
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// Whether the server may have seen (and acted on) the request.
        may_have_reached_server: bool,
    },

    /// A response could not be decoded.
    #[error("cannot decode the response at `{path}`: {message}")]
    Decode {
        /// JSON path of the field that failed.
        path: String,
        /// The decoder's message.
        message: String,
    },

    /// A version cursor did not advance: the server returned data at or below `after`.
    #[error("the version cursor did not advance past {after} on {path}")]
    CursorNotAdvancing {
        /// The endpoint.
        path: String,
        /// The cursor sent.
        after: Version,
    },

    /// The OAuth callback was refused (wrong `state`, missing `code`, error from Lightspeed).
    #[error("OAuth callback refused: {0}")]
    OAuthCallback(String),

    /// The token store failed; the new token pair may not have been saved.
    #[error("token store failed: {0}")]
    TokenStore(String),
}

impl Error {
    /// Whether a person must authorise the store again.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, Error::Reauthorize { .. })
    }

    /// Whether the server may have received and applied the request.
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Error::InvalidInput(_) | Error::OAuthCallback(_) | Error::Reauthorize { .. } => false,
            Error::Transport {
                may_have_reached_server,
                ..
            } => *may_have_reached_server,
            _ => true,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            Error::Conflict { .. } => Some(409),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// The API's error body: `{"error": "...", "message": "..."}` (sometimes `{"errors": {...}}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    error: Option<serde_json::Value>,
    message: Option<String>,
    errors: Option<serde_json::Value>,
}

pub(crate) fn api_error(status: u16, body: &str) -> Error {
    let details: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    let parsed: ErrorBody = serde_json::from_value(details.clone()).unwrap_or_default();
    let error = match (&parsed.error, &parsed.errors) {
        (Some(serde_json::Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(v)) => v.to_string(),
        (None, None) => body.chars().take(300).collect(),
    };
    let message = parsed.message;
    match status {
        401 => Error::Reauthorize {
            message: format!("HTTP 401: {error}"),
        },
        404 => Error::NotFound {
            message: message.unwrap_or(error),
        },
        409 => Error::Conflict {
            message: message.unwrap_or(error),
        },
        429 => Error::RateLimited { retry_after: None },
        _ => Error::Api {
            status,
            error,
            message,
            details,
        },
    }
}

impl From<pos_http::AuthError> for Error {
    fn from(e: pos_http::AuthError) -> Self {
        let message = match &e.response_body {
            Some(body) if !body.is_empty() => {
                let cut: String = body.chars().take(300).collect();
                format!("{}: {cut}", e.message)
            }
            _ => e.message.clone(),
        };
        if e.needs_reauthorization() {
            Error::Reauthorize { message }
        } else {
            Error::TokenRefresh { message }
        }
    }
}

impl From<pos_http::Error> for Error {
    fn from(e: pos_http::Error) -> Self {
        match e {
            pos_http::Error::InvalidRequest(m) => Error::InvalidInput(m),
            pos_http::Error::Transport {
                message,
                may_have_reached_server,
            } => Error::Transport {
                message,
                may_have_reached_server,
            },
            pos_http::Error::Timeout(d) => Error::Transport {
                message: format!("no response within {d:?}"),
                may_have_reached_server: true,
            },
            pos_http::Error::Status { status, body, .. } => api_error(status.as_u16(), &body),
            pos_http::Error::RateLimited { retry_after, .. } => Error::RateLimited { retry_after },
            pos_http::Error::Decode { path, message } => Error::Decode { path, message },
            pos_http::Error::Auth(a) => a.into(),
            other => Error::Transport {
                message: other.to_string(),
                may_have_reached_server: other.may_have_reached_server(),
            },
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lightspeed_error_bodies() {
        match api_error(400, r#"{"error":"name cannot be empty"}"#) {
            Error::Api { status, error, .. } => {
                assert_eq!(status, 400);
                assert_eq!(error, "name cannot be empty");
            }
            other => panic!("{other:?}"),
        }
        let e = api_error(401, r#"{"error":"Access token is not valid"}"#);
        assert!(e.needs_reauthorization());
        assert!(e.to_string().contains("authorised again"), "{e}");
        assert!(
            matches!(api_error(404, r#"{"error":"user not found"}"#), Error::NotFound { message } if message == "user not found")
        );
        assert!(matches!(api_error(409, "{}"), Error::Conflict { .. }));
        match api_error(500, "<html>oops</html>") {
            Error::Api { error, details, .. } => {
                assert_eq!(error, "<html>oops</html>");
                assert!(details.is_null());
            }
            other => panic!("{other:?}"),
        }
        match api_error(
            429,
            r#"{"error":"Too Many Requests","message":"Rate limiting enforced"}"#,
        ) {
            Error::RateLimited { .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn maps_auth_errors() {
        let e: Error = pos_http::Error::Auth(pos_http::AuthError::rejected("HTTP 401")).into();
        assert!(e.needs_reauthorization());
        let e: Error = pos_http::AuthError::refresh_failed("503").into();
        assert!(!e.needs_reauthorization());
    }
}
