//! Authentication: Microsoft Entra client credentials (cloud) and basic auth with a web-service
//! access key (on-premises).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use pos_http::{AccessToken, AuthError, ExposeSecret, HttpClient, SecretString, TokenRefresher};
use serde::Deserialize;
use url::Url;

/// The scope of the Business Central API for client-credentials tokens.
pub const DEFAULT_SCOPE: &str = "https://api.businesscentral.dynamics.com/.default";

/// Entra (Azure AD) client-credentials settings of an app registration.
#[derive(Clone)]
pub struct ClientCredentials {
    tenant: String,
    client_id: String,
    client_secret: SecretString,
    token_url: Option<String>,
    scope: String,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .finish()
    }
}

impl ClientCredentials {
    /// Credentials of an app registration in `tenant` (GUID or verified domain).
    pub fn new(
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            client_id: client_id.into(),
            client_secret,
            token_url: None,
            scope: DEFAULT_SCOPE.to_owned(),
        }
    }

    /// Overrides the token endpoint (default
    /// `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`), e.g. for a sandbox.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Overrides the scope (default [`DEFAULT_SCOPE`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The token endpoint in use.
    pub fn effective_token_url(&self) -> String {
        self.token_url.clone().unwrap_or_else(|| {
            format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                self.tenant
            )
        })
    }

    /// Builds the refresher that fetches tokens from the token endpoint.
    pub(crate) fn into_refresher(
        self,
        timeout: Duration,
    ) -> Result<ClientCredentialsRefresher, crate::Error> {
        let url = Url::parse(&self.effective_token_url())
            .map_err(|e| crate::InvalidInput::Other(format!("invalid token URL: {e}")))?;
        let last = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| crate::InvalidInput::Other("token URL has no path".into()))?
            .to_owned();
        let dir = url
            .join("./")
            .map_err(|e| crate::InvalidInput::Other(format!("invalid token URL: {e}")))?;
        let http = HttpClient::builder(dir.as_str())
            .timeout(timeout)
            .build()
            .map_err(crate::Error::from)?;
        Ok(ClientCredentialsRefresher {
            http,
            path: last,
            creds: self,
        })
    }
}

/// Fetches client-credentials tokens; wrapped in `pos_http::RefreshingToken` for caching and
/// single-flight refresh.
pub(crate) struct ClientCredentialsRefresher {
    http: HttpClient,
    path: String,
    creds: ClientCredentials,
}

impl fmt::Debug for ClientCredentialsRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsRefresher")
            .field("creds", &self.creds)
            .finish_non_exhaustive()
    }
}

/// The longest token lifetime believed (a year); Entra issues tokens for about an hour.
const MAX_TOKEN_LIFETIME_SECS: u64 = 365 * 24 * 3600;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[async_trait]
impl TokenRefresher for ClientCredentialsRefresher {
    async fn refresh(&self) -> Result<AccessToken, AuthError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.creds.client_id.as_str()),
            ("client_secret", self.creds.client_secret.expose_secret()),
            ("scope", self.creds.scope.as_str()),
        ];
        let resp = self
            .http
            .post(&self.path)
            .no_auth()
            .retry_safe()
            .form(&form)
            .send_any_status()
            .await
            .map_err(|e| AuthError::refresh_failed(format!("token endpoint: {e}")))?;
        if !resp.status.is_success() {
            let err: Option<TokenError> = serde_json::from_slice(&resp.body).ok();
            let message = match err {
                Some(e) => format!("{} {}: {}", resp.status, e.error, e.error_description),
                None => format!("token endpoint answered {}", resp.status),
            };
            // A token endpoint (or a proxy in front of it) may echo what it was sent.
            let secret = self.creds.client_secret.expose_secret();
            let message = if secret.is_empty() {
                message
            } else {
                message.replace(secret, "[redacted]")
            };
            return Err(if resp.status.is_client_error() {
                AuthError::rejected(message)
            } else {
                AuthError::refresh_failed(message)
            });
        }
        let token: TokenResponse = serde_json::from_slice(&resp.body)
            .map_err(|e| AuthError::refresh_failed(format!("bad token response: {e}")))?;
        // Entra sends `expires_in` as a number; some proxies send it as a string.
        let expires_in = token.expires_in.and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        });
        Ok(AccessToken {
            token: SecretString::from(token.access_token),
            // Capped: an absurd lifetime would overflow the expiry instant (a panic) downstream.
            expires_in: expires_in.map(|s| Duration::from_secs(s.min(MAX_TOKEN_LIFETIME_SECS))),
        })
    }
}
