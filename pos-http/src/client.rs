//! The HTTP client, its builder, requests and responses.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::auth::{AuthError, TokenSource};
use crate::error::{Error, MAX_ERROR_BODY, Result};
use crate::limiter::{Gate, RateLimit};
use crate::retry::{RetryPolicy, retry_after, retryable_status};
use crate::stats::{Counters, Stats};

/// Characters escaped inside one path segment. `/`, `?`, `#` and `%` are escaped so that a segment can never
/// change the path's structure or be decoded twice; OData's `'()$,=:@` stay as they are.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default largest response body accepted.
pub const DEFAULT_MAX_RESPONSE: usize = 256 * 1024 * 1024;

/// An HTTP client bound to one API's base URL, with its auth, retries, pacing and counters.
///
/// Cheap to clone; clones share the limiter and the counters.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Option<Arc<dyn TokenSource>>,
    retry: RetryPolicy,
    gate: Gate,
    counters: Counters,
    timeout: Duration,
    max_response: usize,
    default_headers: HeaderMap,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
pub struct HttpClientBuilder {
    base: std::result::Result<Url, String>,
    auth: Option<Arc<dyn TokenSource>>,
    retry: RetryPolicy,
    rate: Option<RateLimit>,
    max_in_flight: Option<usize>,
    timeout: Duration,
    max_response: usize,
    user_agent: String,
    default_headers: HeaderMap,
    header_error: Option<String>,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Start building a client for an API rooted at `base_url`.
    pub fn builder(base_url: impl AsRef<str>) -> HttpClientBuilder {
        let base = Url::parse(base_url.as_ref())
            .map_err(|e| format!("invalid base URL `{}`: {e}", base_url.as_ref()))
            .and_then(|mut u| {
                if !matches!(u.scheme(), "http" | "https") {
                    return Err(format!(
                        "base URL must be http or https, got `{}`",
                        u.scheme()
                    ));
                }
                if u.cannot_be_a_base() {
                    return Err("base URL cannot be a base".to_string());
                }
                u.set_query(None);
                u.set_fragment(None);
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                Ok(u)
            });
        HttpClientBuilder {
            base,
            auth: None,
            retry: RetryPolicy::default(),
            rate: None,
            max_in_flight: None,
            timeout: DEFAULT_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
            user_agent: format!("pos-http/{}", env!("CARGO_PKG_VERSION")),
            default_headers: HeaderMap::new(),
            header_error: None,
        }
    }

    /// The base URL (always ends with `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// A request to `path`, relative to the base URL. Segments are percent-encoded here; `..` is refused.
    pub fn request(&self, method: Method, path: &str) -> Request {
        let target = join(&self.inner.base, path);
        Request::new(self.clone(), method, target)
    }

    /// A request to an absolute URL on the base URL's origin (for example a server's next-page link),
    /// used verbatim.
    pub fn request_url(&self, method: Method, url: Url) -> Request {
        let base = &self.inner.base;
        let target = if url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
        {
            Ok(url)
        } else {
            Err(format!(
                "URL `{}` is not on the API's origin `{}`",
                url.origin().ascii_serialization(),
                base.origin().ascii_serialization()
            ))
        };
        Request::new(self.clone(), method, target)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Request {
        self.request(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> Request {
        self.request(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> Request {
        self.request(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> Request {
        self.request(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Request {
        self.request(Method::DELETE, path)
    }
}

fn join(base: &Url, path: &str) -> std::result::Result<Url, String> {
    if path.contains("://") || path.starts_with("//") {
        return Err(format!("path `{path}` must be relative to the base URL"));
    }
    let mut out = String::new();
    let trimmed = path.trim_start_matches('/');
    for (i, segment) in trimmed.split('/').enumerate() {
        if segment == ".." || segment == "." {
            return Err(format!(
                "path `{path}` may not contain `.` or `..` segments"
            ));
        }
        if segment.is_empty() && i + 1 != trimmed.split('/').count() {
            return Err(format!("path `{path}` has an empty segment"));
        }
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(segment, SEGMENT));
    }
    base.join(&out)
        .map_err(|e| format!("cannot join `{path}` to the base URL: {e}"))
}

impl HttpClientBuilder {
    /// Authenticate every request with this token source.
    pub fn auth(self, source: impl TokenSource + 'static) -> Self {
        self.auth_arc(Arc::new(source))
    }

    /// Authenticate every request with a shared token source.
    pub fn auth_arc(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(source);
        self
    }

    /// Retry limits and schedule.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Pace requests to stay within a documented budget.
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.rate = Some(rate);
        self
    }

    /// At most `n` requests in flight at once.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// Per-request timeout (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted (default 256 MiB); a larger one is a transport error.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response = n;
        self
    }

    /// Product token put before `pos-http/VERSION` in the `User-Agent`, e.g. `lightspeed-x/0.1.0`.
    pub fn user_agent(mut self, product: &str) -> Self {
        self.user_agent = format!("{product} pos-http/{}", env!("CARGO_PKG_VERSION"));
        self
    }

    /// A header sent with every request.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.default_headers.insert(n, v);
            }
            _ => self.header_error = Some(format!("invalid default header `{name}`")),
        }
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<HttpClient> {
        let base = self.base.map_err(Error::InvalidRequest)?;
        if let Some(e) = self.header_error {
            return Err(Error::InvalidRequest(e));
        }
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(Duration::from_secs(30).min(self.timeout))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::InvalidRequest(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth: self.auth,
                retry: self.retry,
                gate: Gate::new(self.rate, self.max_in_flight),
                counters: Counters::default(),
                timeout: self.timeout,
                max_response: self.max_response,
                default_headers: self.default_headers,
            }),
        })
    }
}

/// One request being built; nothing is sent until [`Request::send`].
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    client: HttpClient,
    method: Method,
    url: std::result::Result<Url, String>,
    headers: HeaderMap,
    body: Option<Bytes>,
    retry_safe: bool,
    timeout: Option<Duration>,
    use_auth: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.url.as_ref().map(|u| u.path()))
            .finish_non_exhaustive()
    }
}

impl Request {
    fn new(client: HttpClient, method: Method, url: std::result::Result<Url, String>) -> Self {
        Self {
            client,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            retry_safe: false,
            timeout: None,
            use_auth: true,
        }
    }

    fn fail(mut self, message: String) -> Self {
        if self.url.is_ok() {
            self.url = Err(message);
        }
        self
    }

    /// Add query parameters from a serializable value (a struct or a list of pairs).
    pub fn query<T: Serialize + ?Sized>(mut self, query: &T) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(q) => {
                if let Ok(url) = self.url.as_mut() {
                    append_query(url, &q);
                }
                self
            }
            Err(e) => self.fail(format!("cannot encode the query: {e}")),
        }
    }

    /// Add one query parameter.
    pub fn query_pair(mut self, key: &str, value: &str) -> Self {
        if let Ok(url) = self.url.as_mut() {
            url.query_pairs_mut().append_pair(key, value);
        }
        self
    }

    /// Append an already-encoded query string verbatim (e.g. from an OData query builder).
    pub fn raw_query(mut self, encoded: &str) -> Self {
        if encoded.contains('#') || encoded.contains(' ') {
            return self.fail("an encoded query may not contain `#` or spaces".into());
        }
        if let Ok(url) = self.url.as_mut() {
            append_query(url, encoded.trim_start_matches('?'));
        }
        self
    }

    /// Set a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
                self
            }
            _ => self.fail(format!("invalid header `{name}`")),
        }
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(b) => {
                self.body = Some(Bytes::from(b));
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                self
            }
            Err(e) => self.fail(format!("cannot encode the JSON body: {e}")),
        }
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_urlencoded::to_string(body) {
            Ok(b) => {
                self.body = Some(Bytes::from(b));
                self.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                self
            }
            Err(e) => self.fail(format!("cannot encode the form body: {e}")),
        }
    }

    /// A raw body with its content type.
    pub fn body(self, body: impl Into<Bytes>, content_type: &str) -> Self {
        let mut s = self.header(CONTENT_TYPE.as_str(), content_type);
        s.body = Some(body.into());
        s
    }

    /// Allow retrying this request even though it is a POST: the caller knows a repeat has no extra effect
    /// (or re-checks existence before repeating).
    pub fn retry_safe(mut self) -> Self {
        self.retry_safe = true;
        self
    }

    /// Override the client's timeout for this request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Send without the client's `Authorization` header (token endpoints).
    pub fn no_auth(mut self) -> Self {
        self.use_auth = false;
        self
    }

    /// Send, retrying as the policy allows; a non-success status is an [`Error::Status`].
    pub async fn send(self) -> Result<Response> {
        let resp = self.send_any_status().await?;
        if resp.status.is_success() {
            Ok(resp)
        } else {
            let body = String::from_utf8_lossy(&resp.body[..resp.body.len().min(MAX_ERROR_BODY)])
                .into_owned();
            Err(Error::Status {
                status: resp.status,
                body,
                headers: Box::new(resp.headers),
            })
        }
    }

    /// Send and decode a JSON response.
    pub async fn json_response<T: DeserializeOwned>(self) -> Result<T> {
        self.send().await?.json()
    }

    /// Send, retrying as the policy allows, and return the final response whatever its status, except
    /// for a 429 still answered after the retries ([`Error::RateLimited`]) and a 401 that a token refresh
    /// did not cure ([`Error::Auth`]).
    pub async fn send_any_status(self) -> Result<Response> {
        let client = self.client.clone();
        let inner = &client.inner;
        let result = execute(inner, self).await;
        if result.is_err() {
            Counters::add(&inner.counters.failures, 1);
        }
        result
    }

    fn idempotent(&self) -> bool {
        match self.method {
            Method::POST => self.retry_safe,
            Method::PATCH => self.retry_safe || self.headers.contains_key(http::header::IF_MATCH),
            _ => true,
        }
    }
}

/// `body` with the credential of an `Authorization` value replaced, in case the server echoed it.
fn redact_credential(body: &str, authorization: &SecretString) -> String {
    let value = authorization.expose_secret();
    let credential = value.split_once(' ').map_or(value, |(_, c)| c).trim();
    if credential.len() < 4 {
        return body.to_string();
    }
    body.replace(credential, "[redacted]")
}

fn append_query(url: &mut Url, encoded: &str) {
    if encoded.is_empty() {
        return;
    }
    let q = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{encoded}"),
        _ => encoded.to_string(),
    };
    url.set_query(Some(&q));
}

enum Outcome {
    Done(Response),
    Retry {
        delay: Option<Duration>,
        error: Error,
    },
    Fail(Error),
}

async fn execute(inner: &Inner, req: Request) -> Result<Response> {
    let url = req.url.clone().map_err(Error::InvalidRequest)?;
    let idempotent = req.idempotent();
    let timeout = req.timeout.unwrap_or(inner.timeout);
    let policy = &inner.retry;
    let mut backoff = policy.backoff();
    let mut waited = Duration::ZERO;
    let mut attempt: u32 = 0;
    let mut refreshed_after_401 = false;
    loop {
        attempt += 1;
        let auth_value = match (&inner.auth, req.use_auth) {
            (Some(source), true) => Some(source.authorization().await?),
            _ => None,
        };
        let span = tracing::info_span!(
            "http",
            method = %req.method,
            path = url.path(),
            attempt,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let outcome = attempt_once(inner, &req, &url, auth_value.as_ref(), timeout, idempotent)
            .instrument(span)
            .await;
        let (delay, error) = match outcome {
            Outcome::Done(resp) => {
                if resp.status == StatusCode::UNAUTHORIZED
                    && let (Some(source), Some(rejected)) = (&inner.auth, auth_value.as_ref())
                {
                    if !refreshed_after_401 && source.on_unauthorized(rejected).await? {
                        refreshed_after_401 = true;
                        Counters::add(&inner.counters.retries, 1);
                        continue;
                    }
                    let body = &resp.body[..resp.body.len().min(MAX_ERROR_BODY)];
                    let body = redact_credential(&String::from_utf8_lossy(body), rejected);
                    return Err(Error::Auth(
                        AuthError::rejected(format!("HTTP 401 from {}", url.path()))
                            .with_response_body(body),
                    ));
                }
                return Ok(resp);
            }
            Outcome::Fail(e) => return Err(e),
            Outcome::Retry { delay, error } => (delay, error),
        };
        let delay = match delay {
            Some(d) if d > policy.max_retry_after => return Err(error),
            Some(d) => d,
            None => backoff.next().unwrap_or(policy.max_backoff),
        };
        if attempt >= policy.max_attempts || waited + delay > policy.max_total_wait {
            return Err(error);
        }
        if matches!(error, Error::RateLimited { .. }) {
            // Everyone using this client waits, instead of each hitting 429 again.
            inner.gate.pause_until(Instant::now() + delay);
        }
        tracing::debug!(?delay, attempt, "retrying");
        tokio::time::sleep(delay).await;
        waited += delay;
        Counters::add(&inner.counters.retries, 1);
    }
}

async fn attempt_once(
    inner: &Inner,
    req: &Request,
    url: &Url,
    auth: Option<&SecretString>,
    timeout: Duration,
    idempotent: bool,
) -> Outcome {
    let _pass = inner.gate.enter().await;
    let started = Instant::now();
    let mut builder = inner
        .http
        .request(req.method.clone(), url.clone())
        .timeout(timeout)
        .headers(inner.default_headers.clone())
        .headers(req.headers.clone());
    if let Some(value) = auth {
        match HeaderValue::from_str(value.expose_secret()) {
            Ok(mut v) => {
                v.set_sensitive(true);
                builder = builder.header(AUTHORIZATION, v);
            }
            Err(_) => {
                return Outcome::Fail(Error::Auth(AuthError::rejected(
                    "the token is not a valid header value",
                )));
            }
        }
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
        Counters::add(&inner.counters.bytes_sent, body.len() as u64);
    }
    Counters::add(&inner.counters.requests, 1);
    let result = read_response(inner, builder, timeout).await;
    let span = tracing::Span::current();
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    match result {
        Err(error) => {
            tracing::debug!(%error, "request failed");
            if idempotent || !error.may_have_reached_server() {
                Outcome::Retry { delay: None, error }
            } else {
                Outcome::Fail(error)
            }
        }
        Ok(resp) => {
            span.record("status", resp.status.as_u16());
            tracing::debug!("response");
            let status = resp.status;
            if status == StatusCode::TOO_MANY_REQUESTS {
                Counters::add(&inner.counters.throttled, 1);
                // A 429 means the server did not act on the request, so even a POST may be repeated.
                let ra = retry_after(&resp.headers, SystemTime::now());
                return Outcome::Retry {
                    delay: ra,
                    error: Error::RateLimited {
                        retry_after: ra,
                        attempts: 0,
                    },
                };
            }
            if retryable_status(status) && idempotent {
                let ra = retry_after(&resp.headers, SystemTime::now());
                let body =
                    String::from_utf8_lossy(&resp.body[..resp.body.len().min(MAX_ERROR_BODY)])
                        .into_owned();
                return Outcome::Retry {
                    delay: ra,
                    error: Error::Status {
                        status,
                        body,
                        headers: Box::new(resp.headers),
                    },
                };
            }
            Outcome::Done(resp)
        }
    }
}

async fn read_response(
    inner: &Inner,
    builder: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<Response> {
    let mut resp = builder
        .send()
        .await
        .map_err(|e| Error::from_reqwest(e, timeout))?;
    let status = resp.status();
    let headers = std::mem::take(resp.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) =
        resp.chunk()
            .await
            .map_err(|e| match Error::from_reqwest(e, timeout) {
                // The server answered, so it did receive the request.
                Error::Transport { message, .. } => Error::Transport {
                    message,
                    may_have_reached_server: true,
                },
                other => other,
            })?
    {
        if body.len() + chunk.len() > inner.max_response {
            return Err(Error::Transport {
                message: format!("response larger than {} bytes", inner.max_response),
                may_have_reached_server: true,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Counters::add(&inner.counters.bytes_received, body.len() as u64);
    Ok(Response {
        status,
        headers,
        body: Bytes::from(body),
    })
}

/// A response read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Response {
    /// Decode the body as JSON; a failure names the JSON path of the field that failed.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decode JSON bytes; a failure names the JSON path of the field that failed.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(Error::decode)?;
    // Data after the document means the body is not what it claims to be.
    de.end().map_err(|e| Error::Decode {
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://x.example/api/2.0/").unwrap()
    }

    #[test]
    fn join_stays_under_base() {
        assert_eq!(
            join(&base(), "products/abc").unwrap().as_str(),
            "https://x.example/api/2.0/products/abc"
        );
        assert_eq!(
            join(&base(), "/products").unwrap().as_str(),
            "https://x.example/api/2.0/products"
        );
        assert!(join(&base(), "../1.0/token").is_err());
        assert!(join(&base(), "a/../../b").is_err());
        assert!(join(&base(), "https://evil.example/x").is_err());
        assert!(join(&base(), "//evil.example/x").is_err());
        assert!(join(&base(), "a//b").is_err());
    }

    #[test]
    fn join_encodes_each_segment_once() {
        let u = join(&base(), "products/a b?c#d%2F").unwrap();
        assert_eq!(
            u.as_str(),
            "https://x.example/api/2.0/products/a%20b%3Fc%23d%252F"
        );
        let u = join(&base(), "companies(1f0c)/customers('O''Neil')").unwrap();
        assert_eq!(u.path(), "/api/2.0/companies(1f0c)/customers('O''Neil')");
        let u = join(&base(), "$batch").unwrap();
        assert_eq!(u.path(), "/api/2.0/$batch");
    }

    #[test]
    fn trailing_data_is_refused() {
        assert!(decode_json::<serde_json::Value>(br#"{"a":1} garbage"#).is_err());
        assert!(decode_json::<serde_json::Value>(b"{\"a\":1}\n").is_ok());
    }

    #[test]
    fn echoed_credentials_are_redacted() {
        let auth = SecretString::from("Bearer tok-12345");
        assert_eq!(
            redact_credential(r#"{"error":"bad token tok-12345"}"#, &auth),
            r#"{"error":"bad token [redacted]"}"#
        );
    }

    #[test]
    fn decode_error_names_the_path() {
        #[derive(serde::Deserialize, Debug)]
        struct Page {
            #[allow(dead_code)]
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Item {
            #[allow(dead_code)]
            id: u32,
        }
        let err = decode_json::<Page>(br#"{"data":[{"id":1},{"id":"x"}]}"#).unwrap_err();
        match err {
            Error::Decode { path, .. } => assert_eq!(path, "data[1].id"),
            other => panic!("{other:?}"),
        }
    }
}
