//! OAuth 2.0 authorisation-code flow with rotating refresh tokens.
//!
//! 1. Send the retailer to [`OAuthApp::authorization_url`] with a fresh `state`.
//! 2. On the redirect, [`OAuthApp::parse_callback`] checks `state` and gives the `code` and
//!    `domain_prefix`.
//! 3. [`OAuthApp::exchange_code`] gets the first [`TokenSet`]; save it in your [`TokenStore`].
//! 4. Build the client with [`crate::ClientBuilder::oauth`]: refreshes are single-flight per store,
//!    and each new pair is saved to the store *before* it is used, because the old refresh token
//!    stops working as soon as Lightspeed issues the new one.

use crate::client::{api_root, store_url, validate_domain_prefix};
use crate::error::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pos_http::{
    AccessToken, AuthError, ExposeSecret, HttpClient, RefreshingToken, RetryPolicy, SecretString,
    TokenRefresher, TokenSource,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use url::Url;

/// Where retailers authorise an application.
pub const AUTHORIZE_URL: &str = "https://secure.retail.lightspeed.app/connect";

/// An OAuth application registered in the Lightspeed developer portal.
#[derive(Clone)]
pub struct OAuthApp {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    authorize_url: String,
    token_base: Option<String>,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The redirect back from Lightspeed after the retailer approved the application.
#[derive(Clone)]
pub struct Callback {
    /// The one-time authorisation code.
    pub code: SecretString,
    /// The store's domain prefix: persist it, it builds the base URL.
    pub domain_prefix: String,
    /// The `state` echoed back (already checked).
    pub state: String,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &"[redacted]")
            .field("domain_prefix", &self.domain_prefix)
            .finish_non_exhaustive()
    }
}

/// An access and refresh token pair for one store.
#[derive(Clone)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: SecretString,
    /// The refresh token (rotates on every refresh).
    pub refresh_token: SecretString,
    /// When the access token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The store.
    pub domain_prefix: String,
    /// Granted scopes.
    pub scope: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("domain_prefix", &self.domain_prefix)
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires: Option<i64>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    domain_prefix: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// Where token pairs are kept between runs. `save` must be durable before it returns: the client
/// uses a new pair only after `save` succeeded.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The latest pair of a store, if any.
    async fn load(
        &self,
        domain_prefix: &str,
    ) -> std::result::Result<Option<TokenSet>, TokenStoreError>;
    /// Replaces the pair of `tokens.domain_prefix`.
    async fn save(&self, tokens: &TokenSet) -> std::result::Result<(), TokenStoreError>;
}

/// A token store failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenStoreError(pub String);

/// A token store in memory (tests, single-process tools).
#[derive(Debug, Default, Clone)]
pub struct MemoryTokenStore {
    tokens: Arc<Mutex<HashMap<String, TokenSet>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored pair of a store (synchronously, for inspection).
    pub fn get(&self, domain_prefix: &str) -> Option<TokenSet> {
        self.tokens.lock().ok()?.get(domain_prefix).cloned()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(
        &self,
        domain_prefix: &str,
    ) -> std::result::Result<Option<TokenSet>, TokenStoreError> {
        Ok(self.get(domain_prefix))
    }
    async fn save(&self, tokens: &TokenSet) -> std::result::Result<(), TokenStoreError> {
        let mut map = self
            .tokens
            .lock()
            .map_err(|_| TokenStoreError("token store lock poisoned".into()))?;
        map.insert(tokens.domain_prefix.clone(), tokens.clone());
        Ok(())
    }
}

#[derive(Serialize)]
struct CodeForm<'a> {
    code: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    grant_type: &'static str,
    redirect_uri: &'a str,
}

#[derive(Serialize)]
struct RefreshForm<'a> {
    refresh_token: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    grant_type: &'static str,
}

impl OAuthApp {
    /// An application with its client id, secret and registered redirect URI.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> Self {
        OAuthApp {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            authorize_url: AUTHORIZE_URL.into(),
            token_base: None,
        }
    }

    /// Use another authorisation page (the sandbox).
    pub fn with_authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = url.into();
        self
    }

    /// Send token requests to `{base}/api/1.0/token` instead of the store's own host (sandbox, proxy).
    pub fn with_token_base_url(mut self, base: impl Into<String>) -> Self {
        self.token_base = Some(base.into());
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret (also the webhook signing key).
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// The URL to send the retailer to. `scopes` are required by Lightspeed (e.g. `products:read`).
    pub fn authorization_url(&self, state: &str, scopes: &[&str]) -> Result<Url> {
        if state.len() < 8 {
            return Err(Error::InvalidInput(
                "use an unguessable state of at least 8 characters".into(),
            ));
        }
        if scopes.is_empty() {
            return Err(Error::InvalidInput(
                "Lightspeed declines authorisation requests without scopes".into(),
            ));
        }
        let mut url = Url::parse(&self.authorize_url)
            .map_err(|e| Error::InvalidInput(format!("invalid authorize URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &scopes.join(" "));
        Ok(url)
    }

    /// Parses the redirect (a full URL or just its query string) and checks `state`.
    pub fn parse_callback(&self, callback: &str, expected_state: &str) -> Result<Callback> {
        let query = match Url::parse(callback) {
            Ok(u) => u.query().unwrap_or_default().to_owned(),
            Err(_) => callback.trim_start_matches('?').to_owned(),
        };
        let pairs: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let state = pairs.get("state").cloned().unwrap_or_default();
        let same = subtle::ConstantTimeEq::ct_eq(state.as_bytes(), expected_state.as_bytes());
        if expected_state.is_empty() || !bool::from(same) {
            return Err(Error::OAuthCallback("state does not match".into()));
        }
        if let Some(err) = pairs.get("error") {
            let desc = pairs.get("error_description").cloned().unwrap_or_default();
            return Err(Error::OAuthCallback(
                format!("{err} {desc}").trim().to_owned(),
            ));
        }
        let code = pairs
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::OAuthCallback("no code in the callback".into()))?;
        let prefix = pairs
            .get("domain_prefix")
            .ok_or_else(|| Error::OAuthCallback("no domain_prefix in the callback".into()))?;
        validate_domain_prefix(prefix)?;
        Ok(Callback {
            code: SecretString::from(code.clone()),
            domain_prefix: prefix.clone(),
            state,
        })
    }

    pub(crate) fn token_url_for(&self, prefix: &str, client_base: Option<&str>) -> Result<Url> {
        let root = match (self.token_base.as_deref(), client_base) {
            (Some(b), _) | (None, Some(b)) => Url::parse(b)
                .map_err(|e| Error::InvalidInput(format!("invalid base URL {b:?}: {e}")))?,
            (None, None) => store_url(prefix)?,
        };
        api_root(&root)
            .join("1.0/")
            .map_err(|e| Error::InvalidInput(e.to_string()))
    }

    fn token_client(token_dir: &Url) -> Result<HttpClient> {
        Ok(HttpClient::builder(token_dir.as_str())
            .retry(RetryPolicy::default())
            .user_agent(concat!("lightspeed-x-rust/", env!("CARGO_PKG_VERSION")))
            .default_header("Accept", "application/json")
            .build()?)
    }

    /// Exchanges the callback's code for the first token pair.
    pub async fn exchange_code(&self, callback: &Callback) -> Result<TokenSet> {
        let dir = self.token_url_for(&callback.domain_prefix, None)?;
        let http = Self::token_client(&dir)?;
        let form = CodeForm {
            code: callback.code.expose_secret(),
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
            grant_type: "authorization_code",
            redirect_uri: &self.redirect_uri,
        };
        let resp = http
            .post("token")
            .no_auth()
            .form(&form)
            .send_any_status()
            .await?;
        let secrets = [
            callback.code.expose_secret(),
            self.client_secret.expose_secret(),
        ];
        token_result(resp, &callback.domain_prefix, None, &secrets).map_err(Error::from)
    }

    /// Refreshes a pair. The refresh token given stops working once this succeeds: save the result.
    pub async fn refresh(
        &self,
        domain_prefix: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenSet> {
        let dir = self.token_url_for(domain_prefix, None)?;
        let http = Self::token_client(&dir)?;
        refresh_with(&http, self, domain_prefix, refresh_token)
            .await
            .map_err(Error::from)
    }
}

async fn refresh_with(
    http: &HttpClient,
    app: &OAuthApp,
    domain_prefix: &str,
    refresh_token: &SecretString,
) -> std::result::Result<TokenSet, AuthError> {
    let form = RefreshForm {
        refresh_token: refresh_token.expose_secret(),
        client_id: &app.client_id,
        client_secret: app.client_secret.expose_secret(),
        grant_type: "refresh_token",
    };
    let resp = http
        .post("token")
        .no_auth()
        .form(&form)
        .send_any_status()
        .await
        .map_err(|e| AuthError::refresh_failed(e.to_string()))?;
    let secrets = [
        refresh_token.expose_secret(),
        app.client_secret.expose_secret(),
    ];
    token_result(resp, domain_prefix, Some(refresh_token), &secrets)
}

fn token_result(
    resp: pos_http::Response,
    domain_prefix: &str,
    previous_refresh: Option<&SecretString>,
    secrets: &[&str],
) -> std::result::Result<TokenSet, AuthError> {
    let status = resp.status.as_u16();
    if status == 400 || status == 401 || status == 403 {
        return Err(AuthError::reauthorize(format!(
            "token endpoint answered {status}: {}",
            error_text(&resp.body, secrets)
        )));
    }
    if !resp.status.is_success() {
        return Err(AuthError::refresh_failed(format!(
            "token endpoint answered {status}: {}",
            error_text(&resp.body, secrets)
        )));
    }
    let t: TokenResponse = resp
        .json()
        .map_err(|e| AuthError::refresh_failed(format!("unreadable token response: {e}")))?;
    let expires_at = match (t.expires, t.expires_in) {
        (Some(abs), _) if abs > 0 => DateTime::from_timestamp(abs, 0),
        // Checked: an absurd lifetime from the server must not overflow (and panic) here.
        (_, Some(rel)) => {
            chrono::Duration::try_seconds(rel).and_then(|d| Utc::now().checked_add_signed(d))
        }
        _ => None,
    };
    let refresh_token = match (t.refresh_token, previous_refresh) {
        (Some(r), _) if !r.is_empty() => SecretString::from(r),
        (_, Some(prev)) => prev.clone(),
        _ => {
            return Err(AuthError::refresh_failed(
                "token response has no refresh_token",
            ));
        }
    };
    Ok(TokenSet {
        access_token: SecretString::from(t.access_token),
        refresh_token,
        expires_at,
        domain_prefix: t
            .domain_prefix
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| domain_prefix.to_owned()),
        scope: t.scope,
    })
}

/// The token endpoint's refusal as text, with any secret it echoes (the client secret, the code
/// or refresh token sent) replaced, so it can go into an error message.
fn error_text(body: &[u8], secrets: &[&str]) -> String {
    #[derive(Deserialize)]
    struct E {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        error_description: Option<String>,
    }
    let text = match serde_json::from_slice::<E>(body) {
        Ok(E {
            error: Some(e),
            error_description,
        }) => match error_description {
            Some(d) => format!("{e}: {d}"),
            None => e,
        },
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    // Redact before cutting, so no prefix of a secret survives the cut either.
    let text = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text, |t, s| t.replace(s, "[redacted]"));
    text.chars().take(200).collect()
}

/// Refreshes a store's tokens, saving each new pair to the [`TokenStore`] before using it.
pub(crate) struct OAuthRefresher {
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    domain_prefix: String,
    http: std::result::Result<HttpClient, String>,
    current: tokio::sync::Mutex<TokenSet>,
}

impl fmt::Debug for OAuthRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthRefresher")
            .field("client_id", &self.app.client_id)
            .field("domain_prefix", &self.domain_prefix)
            .finish_non_exhaustive()
    }
}

impl OAuthRefresher {
    pub(crate) fn new(
        app: OAuthApp,
        store: Arc<dyn TokenStore>,
        domain_prefix: String,
        token_dir: Url,
        tokens: TokenSet,
    ) -> Self {
        let http = OAuthApp::token_client(&token_dir).map_err(|e| e.to_string());
        OAuthRefresher {
            app,
            store,
            domain_prefix,
            http,
            current: tokio::sync::Mutex::new(tokens),
        }
    }

    pub(crate) fn into_token_source(self, tokens: &TokenSet) -> Arc<dyn TokenSource> {
        let mut source = RefreshingToken::new(self);
        let remaining = tokens
            .expires_at
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default());
        if remaining.is_none_or(|d| !d.is_zero()) {
            source = source.with_initial(AccessToken {
                token: tokens.access_token.clone(),
                expires_in: remaining,
            });
        }
        Arc::new(source)
    }
}

#[async_trait]
impl TokenRefresher for OAuthRefresher {
    async fn refresh(&self) -> std::result::Result<AccessToken, AuthError> {
        let http = self
            .http
            .as_ref()
            .map_err(|e| AuthError::refresh_failed(e.clone()))?;
        let mut current = self.current.lock().await;
        // Another process may have rotated the pair: start from the newest one stored.
        if let Ok(Some(stored)) = self.store.load(&self.domain_prefix).await {
            *current = stored;
        }
        let new =
            refresh_with(http, &self.app, &self.domain_prefix, &current.refresh_token).await?;
        self.store.save(&new).await.map_err(|e| {
            AuthError::refresh_failed(format!(
                "the new token pair could not be saved ({e}); the previous refresh token is already revoked"
            ))
        })?;
        *current = new.clone();
        let expires_in = new
            .expires_at
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default());
        tracing::debug!(domain_prefix = %self.domain_prefix, "refreshed Lightspeed access token");
        Ok(AccessToken {
            token: new.access_token,
            expires_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> OAuthApp {
        OAuthApp::new(
            "cid",
            SecretString::from("csecret"),
            "https://app.example/cb",
        )
    }

    #[test]
    fn authorization_url_has_every_parameter() {
        let url = app()
            .authorization_url("state-123456", &["products:read", "sales:read"])
            .unwrap();
        assert_eq!(url.host_str(), Some("secure.retail.lightspeed.app"));
        assert_eq!(url.path(), "/connect");
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["redirect_uri"], "https://app.example/cb");
        assert_eq!(q["state"], "state-123456");
        assert_eq!(q["scope"], "products:read sales:read");
        assert!(app().authorization_url("state-123456", &[]).is_err());
        assert!(app().authorization_url("short", &["a"]).is_err());
    }

    #[test]
    fn callback_parsing_checks_state() {
        let cb = app()
            .parse_callback(
                "https://app.example/cb?code=abc&domain_prefix=demo&state=state-123456",
                "state-123456",
            )
            .unwrap();
        assert_eq!(cb.code.expose_secret(), "abc");
        assert_eq!(cb.domain_prefix, "demo");
        assert!(!format!("{cb:?}").contains("abc"));
        let e = app()
            .parse_callback("code=abc&domain_prefix=demo&state=forged", "state-123456")
            .unwrap_err();
        assert!(matches!(e, Error::OAuthCallback(_)));
        assert!(
            app()
                .parse_callback("code=abc&domain_prefix=demo", "state-123456")
                .is_err()
        );
        assert!(
            app()
                .parse_callback("domain_prefix=demo&state=state-123456", "state-123456")
                .is_err()
        );
        assert!(matches!(
            app().parse_callback(
                "code=a&domain_prefix=evil.com%2F&state=state-123456",
                "state-123456"
            ),
            Err(Error::InvalidInput(_))
        ));
        let e = app()
            .parse_callback("error=access_denied&state=state-123456", "state-123456")
            .unwrap_err();
        assert!(e.to_string().contains("access_denied"));
    }

    #[test]
    fn token_urls() {
        assert_eq!(
            app()
                .token_url_for("demo", None)
                .unwrap()
                .join("token")
                .unwrap()
                .as_str(),
            "https://demo.retail.lightspeed.app/api/1.0/token"
        );
        assert_eq!(
            app()
                .with_token_base_url("http://127.0.0.1:9000")
                .token_url_for("demo", None)
                .unwrap()
                .join("token")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9000/api/1.0/token"
        );
    }

    #[test]
    fn token_endpoint_errors_never_echo_secrets() {
        let body = br#"{"error":"invalid_client","error_description":"secret csecret-1 is wrong for rt-9"}"#;
        let text = error_text(body, &["csecret-1", "rt-9", ""]);
        assert_eq!(
            text,
            "invalid_client: secret [redacted] is wrong for [redacted]"
        );
        let html = format!("<p>{}client_secret=csecret-1</p>", "x".repeat(190));
        let text = error_text(html.as_bytes(), &["csecret-1"]);
        assert!(
            !text.contains("csecret") && text.chars().count() <= 200,
            "{text}"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let t = TokenSet {
            access_token: "acc-secret".into(),
            refresh_token: "ref-secret".into(),
            expires_at: None,
            domain_prefix: "demo".into(),
            scope: None,
        };
        let all = format!("{t:?} {:?}", app());
        assert!(!all.contains("secret\""), "{all}");
        assert!(!all.contains("acc-secret") && !all.contains("csecret"));
    }
}
