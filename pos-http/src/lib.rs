//! The HTTP layer shared by the POS API clients (`lightspeed-x`, `business-central`, `tmas`).
//!
//! One [`HttpClient`] per API account: base-URL joining that cannot leave the base path, JSON and form
//! bodies, auth through a [`TokenSource`] (static bearer, basic, or a single-flight refreshing OAuth2
//! token), retries of 408/429/502/503/504 and connection errors that honour `Retry-After` (seconds or an
//! HTTP date), a client-side [`RateLimit`] with a shared pause after a 429, request [`Stats`], and a
//! `tracing` span per request. A POST is retried only when marked [`Request::retry_safe`] or when it
//! provably never reached the server: that is how integrations built on it avoid duplicates.
//!
//! ```no_run
//! use std::time::Duration;
//! use pos_http::{HttpClient, RateLimit, StaticToken};
//!
//! # async fn demo() -> Result<(), pos_http::Error> {
//! let client = HttpClient::builder("https://example.retail.lightspeed.app/api/2.0")
//!     .auth(StaticToken::bearer("my-token".into()))
//!     .rate_limit(RateLimit::new(350, Duration::from_secs(300)))
//!     .user_agent("my-app/1.0")
//!     .build()?;
//! let page: serde_json::Value = client
//!     .get("products")
//!     .query(&[("page_size", "200")])
//!     .json_response()
//!     .await?;
//! println!("{} requests so far", client.stats().requests);
//! # let _ = page; Ok(()) }
//! ```

mod auth;
mod client;
mod error;
pub mod json;
mod limiter;
mod retry;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod stats;

pub use auth::{
    AccessToken, AuthError, AuthErrorKind, BasicAuth, RefreshingToken, StaticToken, TokenRefresher,
    TokenSource,
};
pub use client::{
    DEFAULT_MAX_RESPONSE, DEFAULT_TIMEOUT, HttpClient, HttpClientBuilder, Request, Response,
    decode_json,
};
pub use error::{Error, MAX_ERROR_BODY, Result};
pub use http::{HeaderMap, Method, StatusCode};
pub use limiter::RateLimit;
pub use retry::{RetryPolicy, parse_retry_after, retry_after};
pub use secrecy::{ExposeSecret, SecretString};
pub use stats::Stats;
pub use url::Url;
