//! Authentication: where the `Authorization` header comes from.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The grant is gone (revoked, expired refresh token, reused rotating refresh token): a person must
    /// authorise the application again.
    ReauthorizationRequired,
    /// The server refused the credentials even after a refresh.
    Rejected,
    /// A refresh could not be completed (network, server error); trying later may work.
    RefreshFailed,
}

/// An authentication failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", match .kind {
    AuthErrorKind::ReauthorizationRequired => "authorisation required: the store must be authorised again",
    AuthErrorKind::Rejected => "credentials rejected: check them, or authorise again",
    AuthErrorKind::RefreshFailed => "token refresh failed",
})]
pub struct AuthError {
    /// The kind of failure.
    pub kind: AuthErrorKind,
    /// What happened, without any secret.
    pub message: String,
    /// The body of the server's refusal (cut at 64 KiB), so a client can read its API's error code.
    pub response_body: Option<String>,
}

impl AuthError {
    /// A failure that needs a person to authorise again.
    pub fn reauthorize(message: impl Into<String>) -> Self {
        Self {
            kind: AuthErrorKind::ReauthorizationRequired,
            message: message.into(),
            response_body: None,
        }
    }

    /// Credentials the server refused.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            kind: AuthErrorKind::Rejected,
            message: message.into(),
            response_body: None,
        }
    }

    /// A refresh that failed for a reason that may pass.
    pub fn refresh_failed(message: impl Into<String>) -> Self {
        Self {
            kind: AuthErrorKind::RefreshFailed,
            message: message.into(),
            response_body: None,
        }
    }

    /// Attach the body of the server's refusal.
    pub fn with_response_body(mut self, body: impl Into<String>) -> Self {
        self.response_body = Some(body.into());
        self
    }

    /// Whether a person must authorise again.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(
            self.kind,
            AuthErrorKind::ReauthorizationRequired | AuthErrorKind::Rejected
        )
    }
}

/// Supplies the `Authorization` header of each request.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// The full header value, e.g. `Bearer abc`.
    async fn authorization(&self) -> Result<SecretString, AuthError>;

    /// Called when the server answered 401 to `rejected`. Return `true` to retry the request once with a
    /// fresh [`TokenSource::authorization`].
    async fn on_unauthorized(&self, rejected: &SecretString) -> Result<bool, AuthError> {
        let _ = rejected;
        Ok(false)
    }
}

/// A fixed bearer token (Lightspeed personal tokens, pre-issued tokens).
#[derive(Clone)]
pub struct StaticToken {
    header: SecretString,
}

impl StaticToken {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: SecretString) -> Self {
        Self {
            header: format!("Bearer {}", token.expose_secret()).into(),
        }
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken([redacted])")
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn authorization(&self) -> Result<SecretString, AuthError> {
        Ok(self.header.clone())
    }
}

/// HTTP basic authentication (Business Central on-premises: user name and web-service access key).
#[derive(Clone)]
pub struct BasicAuth {
    user: String,
    header: SecretString,
}

impl BasicAuth {
    /// Basic auth with a user name and a password or access key.
    pub fn new(user: impl Into<String>, password: SecretString) -> Self {
        let user = user.into();
        let raw = format!("{user}:{}", password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        Self {
            user,
            header: format!("Basic {encoded}").into(),
        }
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

#[async_trait]
impl TokenSource for BasicAuth {
    async fn authorization(&self) -> Result<SecretString, AuthError> {
        Ok(self.header.clone())
    }
}

/// A fresh access token from a [`TokenRefresher`].
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub token: SecretString,
    /// Lifetime from now, when the issuer says.
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Obtains a new access token (OAuth2 refresh grant, client credentials...).
#[async_trait]
pub trait TokenRefresher: Send + Sync + fmt::Debug {
    /// Get a new access token. Persist anything that rotates (a new refresh token) before returning.
    async fn refresh(&self) -> Result<AccessToken, AuthError>;
}

struct Cached {
    header: SecretString,
    expires_at: Option<Instant>,
}

/// An OAuth2 bearer token refreshed a margin before it expires and once more after a 401.
///
/// Refreshes are single-flight: concurrent callers wait for the one refresh in progress.
pub struct RefreshingToken {
    refresher: Arc<dyn TokenRefresher>,
    margin: Duration,
    cached: Mutex<Option<Cached>>,
    refreshes: AtomicU64,
}

impl RefreshingToken {
    /// Wrap a refresher; tokens are refreshed 60 seconds before they expire.
    pub fn new(refresher: impl TokenRefresher + 'static) -> Self {
        Self::from_arc(Arc::new(refresher))
    }

    /// Wrap a shared refresher.
    pub fn from_arc(refresher: Arc<dyn TokenRefresher>) -> Self {
        Self {
            refresher,
            margin: Duration::from_secs(60),
            cached: Mutex::new(None),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Start with a token already known (for example loaded from a token store).
    pub fn with_initial(self, token: AccessToken) -> Self {
        let cached = Cached {
            header: bearer(&token.token),
            expires_at: token.expires_in.and_then(|d| Instant::now().checked_add(d)),
        };
        Self {
            cached: Mutex::new(Some(cached)),
            ..self
        }
    }

    /// How long before expiry a token is refreshed.
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// How many refreshes were made.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }
}

fn bearer(token: &SecretString) -> SecretString {
    format!("Bearer {}", token.expose_secret()).into()
}

impl fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("refresher", &self.refresher)
            .field("margin", &self.margin)
            .field("token", &"[redacted]")
            .finish()
    }
}

#[async_trait]
impl TokenSource for RefreshingToken {
    async fn authorization(&self) -> Result<SecretString, AuthError> {
        // The lock is held across the refresh: that is what makes it single-flight.
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c.expires_at.is_none_or(|at| {
                Instant::now()
                    .checked_add(self.margin)
                    .is_some_and(|t| t < at)
            });
            if fresh {
                return Ok(c.header.clone());
            }
        }
        let token = self.refresher.refresh().await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let header = bearer(&token.token);
        *cached = Some(Cached {
            header: header.clone(),
            expires_at: token.expires_in.and_then(|d| Instant::now().checked_add(d)),
        });
        Ok(header)
    }

    async fn on_unauthorized(&self, rejected: &SecretString) -> Result<bool, AuthError> {
        let mut cached = self.cached.lock().await;
        // Only drop the token that was rejected: another caller may already have refreshed it.
        if cached
            .as_ref()
            .is_some_and(|c| c.header.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let s = StaticToken::bearer("sekrit-token".into());
        let b = BasicAuth::new("admin", "sekrit-key".into());
        let a = AccessToken {
            token: "sekrit-access".into(),
            expires_in: None,
        };
        let all = format!("{s:?} {b:?} {a:?}");
        assert!(!all.contains("sekrit"), "{all}");
        assert!(all.contains("[redacted]"));
    }

    #[derive(Debug)]
    struct Forever;

    #[async_trait]
    impl TokenRefresher for Forever {
        async fn refresh(&self) -> Result<AccessToken, AuthError> {
            Ok(AccessToken {
                token: "t".into(),
                expires_in: Some(Duration::MAX),
            })
        }
    }

    #[tokio::test]
    async fn an_absurd_lifetime_does_not_panic() {
        let source = RefreshingToken::new(Forever).margin(Duration::MAX);
        assert_eq!(
            source.authorization().await.unwrap().expose_secret(),
            "Bearer t"
        );
        assert_eq!(
            source.authorization().await.unwrap().expose_secret(),
            "Bearer t"
        );
    }

    #[tokio::test]
    async fn basic_auth_header() {
        let b = BasicAuth::new("user", "pass".into());
        let h = b.authorization().await.unwrap();
        assert_eq!(h.expose_secret(), "Basic dXNlcjpwYXNz");
    }
}
