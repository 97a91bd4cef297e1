//! The crate's error type and Business Central's `{"error":{"code","message"}}` bodies.

use std::fmt;
use std::time::Duration;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Business Central.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Caught before sending: the request would be refused (too long a value, `or` across fields,
    /// a batch of more than 100 operations...). Nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// The entity or route does not exist (404).
    #[error("not found: {0}")]
    NotFound(ApiError),
    /// The entity changed since its ETag was read (409 `Request_EntityChanged` or 412): re-read
    /// and retry.
    #[error("conflict, the entity changed since it was read: {0}")]
    Conflict(ApiError),
    /// Any other error answered by Business Central.
    #[error("{0}")]
    Api(ApiError),
    /// Authentication failed (token endpoint refused, credentials rejected with 401): re-authorise.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Still throttled (429) after the configured retries.
    #[error("rate limited by Business Central (retry after {retry_after:?})")]
    RateLimited {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The connection failed. `may_have_reached_server` tells whether a write might have
    /// happened anyway (check before repeating a create).
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// Whether the request may have reached the server.
        may_have_reached_server: bool,
    },
    /// The request timed out (it may have been processed).
    #[error("request timed out")]
    Timeout,
    /// A response could not be decoded.
    #[error("cannot decode response at `{path}`: {message}")]
    Decode {
        /// JSON path of the failing field.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The server sent the same `@odata.nextLink` twice; paging stopped to avoid a loop.
    #[error("paging stopped: @odata.nextLink repeated ({0})")]
    RepeatedNextLink(String),
    /// A `$batch` operation that was not executed because an earlier one failed (the default
    /// stop-at-first-failure behaviour) or the whole transactional batch was rolled back.
    #[error("batch operation `{0}` was not executed")]
    NotExecuted(String),
    /// Any other transport-layer failure.
    #[error("http error: {0}")]
    Http(String),
}

impl Error {
    /// The Business Central error, when the server answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::NotFound(e) | Error::Conflict(e) | Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the request may have been carried out although it failed (timeouts, lost
    /// responses): check before repeating a create or a posting action.
    pub fn may_have_reached_server(&self) -> bool {
        match self {
            Error::InvalidInput(_) | Error::Auth(_) | Error::RateLimited { .. } => false,
            Error::Transport {
                may_have_reached_server,
                ..
            } => *may_have_reached_server,
            Error::Timeout | Error::Http(_) => true,
            // The server answered: it refused, or it succeeded and the body was unreadable.
            Error::Decode { .. } => true,
            _ => false,
        }
    }

    /// The error code (`Internal_EntityWithSameKeyExists`...), when the server answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.api_error().map(|e| &e.code)
    }

    /// Builds the error for a non-success status and body.
    pub fn from_status(status: u16, body: &[u8], correlation_header: Option<&str>) -> Error {
        let api = ApiError::parse(status, body, correlation_header);
        Self::from_api(api)
    }

    /// Classifies a parsed API error.
    pub fn from_api(api: ApiError) -> Error {
        match api.status {
            404 => Error::NotFound(api),
            412 => Error::Conflict(api),
            409 if api.code.as_str() == "Request_EntityChanged" => Error::Conflict(api),
            _ => Error::Api(api),
        }
    }
}

/// Input refused before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A string is longer than the field's maximum length in `$metadata`.
    #[error("{entity}.{field} is {length} characters long, the maximum is {max}")]
    TooLong {
        /// Entity set or type.
        entity: &'static str,
        /// JSON property name.
        field: &'static str,
        /// Length of the value, in characters.
        length: usize,
        /// Maximum length.
        max: usize,
    },
    /// `or` between different fields, which Business Central refuses.
    #[error("`or` across different fields is not supported by Business Central: {0:?}")]
    OrAcrossFields(Vec<String>),
    /// More operations in one `$batch` than Business Central accepts.
    #[error("a $batch holds at most {max} operations, got {got}")]
    BatchTooLarge {
        /// Operations added.
        got: usize,
        /// The limit (100).
        max: usize,
    },
    /// Anything else (bad URL, duplicate batch id...).
    #[error("{0}")]
    Other(String),
}

/// The family of a Business Central error code (the part before `_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// `BadRequest_*`: malformed request, missing `If-Match`, unknown resource.
    BadRequest,
    /// `Internal_*`: duplicate key, record not found, server problems.
    Internal,
    /// `Application_*`: business validation in AL code, field lengths.
    Application,
    /// `Authentication_*`.
    Authentication,
    /// `Authorization_*`.
    Authorization,
    /// `Request_*` (`Request_EntityChanged`).
    Request,
    /// `Unknown` or anything else.
    Unknown,
}

/// A Business Central error code such as `Internal_EntityWithSameKeyExists`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorCode(String);

impl ErrorCode {
    /// Wraps a code.
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }
    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The family from the prefix.
    pub fn family(&self) -> ErrorFamily {
        let prefix = self.0.split('_').next().unwrap_or("");
        match prefix {
            "BadRequest" => ErrorFamily::BadRequest,
            "Internal" => ErrorFamily::Internal,
            "Application" => ErrorFamily::Application,
            "Authentication" => ErrorFamily::Authentication,
            "Authorization" => ErrorFamily::Authorization,
            "Request" => ErrorFamily::Request,
            _ => ErrorFamily::Unknown,
        }
    }
    /// The part after the family (`EntityWithSameKeyExists`), empty if none.
    pub fn detail(&self) -> &str {
        self.0.split_once('_').map(|(_, d)| d).unwrap_or("")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error answered by Business Central.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The error code (`Unknown` when the body had none).
    pub code: ErrorCode,
    /// The message (for non-JSON bodies: the start of the body text).
    pub message: String,
    /// The correlation id, from the message or a response header.
    pub correlation_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

#[derive(serde::Deserialize)]
struct Envelope {
    error: Body,
}

#[derive(serde::Deserialize)]
struct Body {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

const MAX_MESSAGE_CHARS: usize = 500;

impl ApiError {
    /// Parses an error body; tolerates empty, HTML, XML and other non-JSON bodies.
    pub fn parse(status: u16, body: &[u8], correlation_header: Option<&str>) -> ApiError {
        let (code, message) = match serde_json::from_slice::<Envelope>(body) {
            Ok(env) => (
                env.error.code.unwrap_or_else(|| "Unknown".to_owned()),
                env.error.message.unwrap_or_default(),
            ),
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let text: String = text.trim().chars().take(MAX_MESSAGE_CHARS).collect();
                ("Unknown".to_owned(), text)
            }
        };
        let correlation_id =
            correlation_from_message(&message).or_else(|| correlation_header.map(str::to_owned));
        ApiError {
            status,
            code: ErrorCode(code),
            message,
            correlation_id,
        }
    }

    /// Parses an error object (`{"error":{...}}`) already decoded, as found in `$batch` results.
    pub fn from_json(status: u16, body: &serde_json::Value) -> ApiError {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Self::parse(status, &bytes, None)
    }
}

fn correlation_from_message(message: &str) -> Option<String> {
    let idx = message.find("CorrelationId:")?;
    let rest = message[idx + "CorrelationId:".len()..].trim_start();
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_code_family_and_correlation() {
        let body = br#"{"error":{"code":"BadRequest_ResourceNotFound","message":"Resource not found for the segment 'customers'.  CorrelationId:  8d7f0f2e-2b0a-4c1b-9b7e-1f0e3c2a4b5d."}}"#;
        let e = Error::from_status(404, body, None);
        let Error::NotFound(api) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(api.code.family(), ErrorFamily::BadRequest);
        assert_eq!(api.code.detail(), "ResourceNotFound");
        assert_eq!(
            api.correlation_id.as_deref(),
            Some("8d7f0f2e-2b0a-4c1b-9b7e-1f0e3c2a4b5d")
        );
    }

    #[test]
    fn conflict_for_409_entity_changed_and_412() {
        let body = br#"{"error":{"code":"Request_EntityChanged","message":"Another user has already changed the record."}}"#;
        assert!(matches!(
            Error::from_status(409, body, None),
            Error::Conflict(_)
        ));
        assert!(matches!(
            Error::from_status(412, b"", None),
            Error::Conflict(_)
        ));
        let dup = br#"{"error":{"code":"Internal_EntityWithSameKeyExists","message":"x"}}"#;
        let e = Error::from_status(409, dup, None);
        assert!(matches!(e, Error::Api(_)));
        assert_eq!(e.code().unwrap().family(), ErrorFamily::Internal);
    }

    #[test]
    fn tolerates_non_json_bodies() {
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        let e = ApiError::parse(502, html, Some("abc-123"));
        assert_eq!(e.code.as_str(), "Unknown");
        assert!(e.message.contains("502 Bad Gateway"));
        assert_eq!(e.correlation_id.as_deref(), Some("abc-123"));
        let xml = b"<error><message>The credentials provided are incorrect</message></error>";
        let e = ApiError::parse(401, xml, None);
        assert!(e.message.contains("credentials"));
        let bad_utf8 = [0xff, 0xfe, b'x'];
        assert_eq!(
            ApiError::parse(500, &bad_utf8, None).code.family(),
            ErrorFamily::Unknown
        );
        let long = vec![b'a'; 5000];
        assert_eq!(
            ApiError::parse(500, &long, None).message.len(),
            MAX_MESSAGE_CHARS
        );
    }
}
