//! The client and its builder.

use crate::error::{Error, Result};
use crate::oauth::{OAuthApp, OAuthRefresher, TokenSet, TokenStore};
use crate::resources::*;
use pos_http::{HttpClient, RateLimit, RetryPolicy, SecretString, StaticToken, TokenSource};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The documented rate-limit window: five minutes.
pub const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(300);

/// The documented request budget for a store: `300 x registers + 50` per five minutes.
pub fn documented_rate_limit(registers: u32) -> RateLimit {
    let requests = 300u32.saturating_mul(registers.max(1)).saturating_add(50);
    RateLimit::new(requests, RATE_LIMIT_WINDOW)
}

/// The API version the client speaks: a date version (`2026-07`, the default) or the legacy
/// semantic versions (`2.0`, with `2.1` for product updates).
///
/// Lightspeed ships a date version every quarter and supports each for at least 12 months; each
/// contains the full API. Every date version is spoken with the 2026-07 paths and shapes (for
/// example `POST /inventory` with a filter body instead of `GET /inventory`); the legacy versions
/// with the 2.0 ones. Parse a setting with [`str::parse`]: `2026-07`, any `YYYY-MM`, or `2.0`
/// (also `legacy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    /// `(year, month)` of a date version; `None` for the legacy versions.
    date: Option<(u16, u8)>,
}

impl ApiVersion {
    /// The date version 2026-07, the default.
    pub const V2026_07: ApiVersion = ApiVersion {
        date: Some((2026, 7)),
    };

    /// The legacy versions: `2.0` everywhere and `2.1` for product updates.
    pub const LEGACY: ApiVersion = ApiVersion { date: None };

    /// The legacy versions: `2.0` everywhere and `2.1` for product updates.
    pub const fn legacy() -> Self {
        Self::LEGACY
    }

    /// A date version such as `2026-07` or `2026-10` (`YYYY-MM`), used for every endpoint.
    pub fn dated(version: &str) -> Result<Self> {
        let bad = || {
            Error::InvalidInput(format!(
                "API version {version:?} is not a date version like 2026-07"
            ))
        };
        let (year, month) = version.split_once('-').ok_or_else(bad)?;
        if year.len() != 4
            || month.len() != 2
            || !year
                .bytes()
                .chain(month.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || year < 2000 {
            return Err(bad());
        }
        Ok(ApiVersion {
            date: Some((year, month)),
        })
    }

    /// Whether this is the legacy `2.0`/`2.1` pair.
    pub fn is_legacy(&self) -> bool {
        self.date.is_none()
    }

    /// Whether this is a date version (spoken with the 2026-07 paths and shapes).
    pub fn is_dated(&self) -> bool {
        self.date.is_some()
    }

    /// The path segment for reads, lists, search and most writes: `2.0` or `2026-07`.
    pub fn segment(&self) -> String {
        match self.date {
            None => "2.0".to_owned(),
            Some((y, m)) => format!("{y:04}-{m:02}"),
        }
    }

    /// The path segment for product updates: `2.1` with the legacy versions, else the date version.
    pub fn product_update_segment(&self) -> String {
        match self.date {
            None => "2.1".to_owned(),
            Some(_) => self.segment(),
        }
    }

    /// The largest inventory page the version documents: 5,000 records (`size` of
    /// `POST /inventory`, `page_size` of `GET /inventory/{product_id}`) in a date version; `None`
    /// for 2.0, which documents no maximum.
    pub fn max_inventory_page(&self) -> Option<u32> {
        self.date.map(|_| MAX_DATED_INVENTORY_PAGE)
    }
}

/// The largest page of `POST /inventory` and `GET /inventory/{product_id}` in the date versions.
pub const MAX_DATED_INVENTORY_PAGE: u32 = 5000;

impl Default for ApiVersion {
    /// [`ApiVersion::V2026_07`].
    fn default() -> Self {
        Self::V2026_07
    }
}

impl std::fmt::Display for ApiVersion {
    /// `2.0` or the date (`2026-07`), as [`str::parse`] reads it back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.segment())
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;

    /// `2.0` (or `legacy`) for the legacy versions, `YYYY-MM` for a date version.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if text == "2.0" || text.eq_ignore_ascii_case("legacy") {
            return Ok(Self::LEGACY);
        }
        Self::dated(text).map_err(|_| {
            Error::InvalidInput(format!(
                "API version {text:?} is neither a date version like 2026-07 nor 2.0 (legacy)"
            ))
        })
    }
}

/// Checks a store's domain prefix (the subdomain of `retail.lightspeed.app`).
pub fn validate_domain_prefix(prefix: &str) -> Result<()> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 63
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !prefix.starts_with('-')
        && !prefix.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid domain prefix {prefix:?}: expected the store's subdomain, e.g. \"mystore\""
        )))
    }
}

/// The store root URL for a domain prefix: `https://{prefix}.retail.lightspeed.app/`.
pub fn store_url(domain_prefix: &str) -> Result<Url> {
    validate_domain_prefix(domain_prefix)?;
    Url::parse(&format!("https://{domain_prefix}.retail.lightspeed.app/"))
        .map_err(|e| Error::InvalidInput(e.to_string()))
}

/// Builds the `/api/` root from a store root or an explicit base URL.
pub(crate) fn api_root(base: &Url) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/api") {
        format!("{path}/")
    } else {
        format!("{path}/api/")
    };
    url.set_path(&path);
    url
}

// Built once per client, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum AuthConfig {
    Token(SecretString),
    Source(Arc<dyn TokenSource>),
    OAuth {
        app: OAuthApp,
        store: Arc<dyn TokenStore>,
        tokens: Option<TokenSet>,
    },
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    domain_prefix: Option<String>,
    base_url: Option<String>,
    version: ApiVersion,
    auth: Option<AuthConfig>,
    rate_limit: Option<Option<RateLimit>>,
    registers: u32,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    max_in_flight: Option<usize>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("domain_prefix", &self.domain_prefix)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("auth", &self.auth.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The store's domain prefix: requests go to `https://{prefix}.retail.lightspeed.app/api/...`.
    pub fn domain_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.domain_prefix = Some(prefix.into());
        self
    }

    /// An explicit store root URL instead of the domain prefix (tests, proxies, the sandbox).
    /// `/api/` is appended unless the URL already ends with it.
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = Some(url.as_ref().to_owned());
        self
    }

    /// The API version (default [`ApiVersion::V2026_07`]; [`ApiVersion::legacy`] for `2.0`).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// Authenticate with a personal token (Setup > Personal Tokens).
    pub fn personal_token(mut self, token: SecretString) -> Self {
        self.auth = Some(AuthConfig::Token(token));
        self
    }

    /// Authenticate with OAuth: the current token pair is read from `store` (or given with
    /// [`ClientBuilder::oauth_tokens`]), refreshed single-flight before expiry and after a 401, and
    /// every new pair is saved to `store` before it is used.
    pub fn oauth(mut self, app: OAuthApp, store: Arc<dyn TokenStore>) -> Self {
        let tokens = match self.auth.take() {
            Some(AuthConfig::OAuth { tokens, .. }) => tokens,
            _ => None,
        };
        self.auth = Some(AuthConfig::OAuth { app, store, tokens });
        self
    }

    /// The token pair to start from with [`ClientBuilder::oauth`] (otherwise loaded from the store).
    pub fn oauth_tokens(mut self, tokens: TokenSet) -> Self {
        if let Some(AuthConfig::OAuth { tokens: t, .. }) = self.auth.as_mut() {
            *t = Some(tokens);
        }
        self
    }

    /// Any other token source.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(AuthConfig::Source(source));
        self
    }

    /// Number of registers of the store, for the documented default rate limit (default 1).
    pub fn registers(mut self, registers: u32) -> Self {
        self.registers = registers;
        self
    }

    /// Override the client-side rate limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(Some(limit));
        self
    }

    /// No client-side rate limit (the server's 429s are still honoured).
    pub fn unlimited(mut self) -> Self {
        self.rate_limit = Some(None);
        self
    }

    /// Retry policy for 429, 5xx and connection errors.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` product token identifying the integration.
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// At most this many requests in flight at once.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// Builds the client. OAuth with no tokens given loads them from the token store.
    pub async fn build(self) -> Result<Client> {
        let root = match (&self.base_url, &self.domain_prefix) {
            (Some(url), _) => Url::parse(url)
                .map_err(|e| Error::InvalidInput(format!("invalid base URL {url:?}: {e}")))?,
            (None, Some(prefix)) => store_url(prefix)?,
            (None, None) => {
                return Err(Error::InvalidInput(
                    "set a domain prefix or a base URL".into(),
                ));
            }
        };
        if !matches!(root.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!(
                "base URL must be http or https: {root}"
            )));
        }
        let api = api_root(&root);
        let mut http = HttpClient::builder(api.as_str())
            .user_agent(
                self.user_agent
                    .as_deref()
                    .unwrap_or(concat!("lightspeed-x-rust/", env!("CARGO_PKG_VERSION"))),
            )
            .default_header("Accept", "application/json");
        match self.rate_limit {
            Some(Some(limit)) => http = http.rate_limit(limit),
            Some(None) => {}
            None => http = http.rate_limit(documented_rate_limit(self.registers)),
        }
        if let Some(r) = self.retry {
            http = http.retry(r);
        }
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        if let Some(n) = self.max_in_flight {
            http = http.max_in_flight(n);
        }
        let mut refresher_token = None;
        match self.auth {
            None => {
                return Err(Error::InvalidInput(
                    "set a personal token, OAuth or a token source".into(),
                ));
            }
            Some(AuthConfig::Token(t)) => http = http.auth(StaticToken::bearer(t)),
            Some(AuthConfig::Source(s)) => http = http.auth_arc(s),
            Some(AuthConfig::OAuth { app, store, tokens }) => {
                let prefix = self
                    .domain_prefix
                    .clone()
                    .or_else(|| tokens.as_ref().map(|t| t.domain_prefix.clone()));
                let Some(prefix) = prefix else {
                    return Err(Error::InvalidInput(
                        "OAuth needs the store's domain prefix".into(),
                    ));
                };
                let tokens = match tokens {
                    Some(t) => Some(t),
                    None => store
                        .load(&prefix)
                        .await
                        .map_err(|e| Error::TokenStore(e.to_string()))?,
                };
                let Some(tokens) = tokens else {
                    return Err(Error::Reauthorize {
                        message: format!("no tokens stored for {prefix}"),
                    });
                };
                let token_url = app.token_url_for(&prefix, self.base_url.as_deref())?;
                let refresher = OAuthRefresher::new(app, store, prefix, token_url, tokens.clone());
                let source = refresher.into_token_source(&tokens);
                refresher_token = Some(source.clone());
                http = http.auth_arc(source);
            }
        }
        let http = http.build()?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                version: self.version,
                domain_prefix: self.domain_prefix,
                _refreshing: refresher_token,
            }),
        })
    }
}

struct Inner {
    http: HttpClient,
    version: ApiVersion,
    domain_prefix: Option<String>,
    _refreshing: Option<Arc<dyn TokenSource>>,
}

/// A client for one store. Cheap to clone; clones share connections, limits and counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.http.base_url().as_str())
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            domain_prefix: None,
            base_url: None,
            version: ApiVersion::default(),
            auth: None,
            rate_limit: None,
            registers: 1,
            retry: None,
            timeout: None,
            user_agent: None,
            max_in_flight: None,
        }
    }

    /// The underlying HTTP client (counters, raw requests).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// Request counters (requests, retries, throttles...).
    pub fn stats(&self) -> pos_http::Stats {
        self.inner.http.stats()
    }

    /// The API version in use.
    pub fn api_version(&self) -> ApiVersion {
        self.inner.version
    }

    /// The domain prefix, when configured with one.
    pub fn domain_prefix(&self) -> Option<&str> {
        self.inner.domain_prefix.as_deref()
    }

    pub(crate) fn path(&self, rest: &str) -> String {
        format!("{}/{}", self.inner.version.segment(), rest)
    }

    pub(crate) fn update_path(&self, rest: &str) -> String {
        format!("{}/{}", self.inner.version.product_update_segment(), rest)
    }

    /// The store account.
    pub async fn retailer(&self) -> Result<crate::models::Retailer> {
        let r: crate::paging::Single<crate::models::Retailer> = self
            .http()
            .get(&self.path("retailer"))
            .json_response()
            .await?;
        Ok(r.data)
    }

    /// Outlets.
    pub fn outlets(&self) -> Outlets {
        Outlets::new(self.clone())
    }
    /// Registers.
    pub fn registers(&self) -> Registers {
        Registers::new(self.clone())
    }
    /// Users.
    pub fn users(&self) -> Users {
        Users::new(self.clone())
    }
    /// Products.
    pub fn products(&self) -> Products {
        Products::new(self.clone())
    }
    /// Inventory.
    pub fn inventory(&self) -> InventoryApi {
        InventoryApi::new(self.clone())
    }
    /// Customers.
    pub fn customers(&self) -> Customers {
        Customers::new(self.clone())
    }
    /// Sales.
    pub fn sales(&self) -> Sales {
        Sales::new(self.clone())
    }
    /// Payment types.
    pub fn payment_types(&self) -> PaymentTypes {
        PaymentTypes::new(self.clone())
    }
    /// Taxes.
    pub fn taxes(&self) -> Taxes {
        Taxes::new(self.clone())
    }
    /// Consignments.
    pub fn consignments(&self) -> Consignments {
        Consignments::new(self.clone())
    }
    /// Shifts (clock-ins).
    pub fn shifts(&self) -> Shifts {
        Shifts::new(self.clone())
    }
    /// Webhook subscriptions.
    pub fn webhooks(&self) -> Webhooks {
        Webhooks::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_prefixes() {
        assert!(validate_domain_prefix("my-store1").is_ok());
        for bad in ["", "my.store", "evil.com/x", "-a", "a b", "ü"] {
            let e = validate_domain_prefix(bad).unwrap_err();
            assert!(e.to_string().contains("invalid domain prefix"), "{bad}");
        }
        assert_eq!(
            store_url("demo").unwrap().as_str(),
            "https://demo.retail.lightspeed.app/"
        );
    }

    #[test]
    fn api_roots() {
        let u = |s: &str| api_root(&Url::parse(s).unwrap()).to_string();
        assert_eq!(u("http://127.0.0.1:80/"), "http://127.0.0.1/api/");
        assert_eq!(u("https://x.example/api"), "https://x.example/api/");
        assert_eq!(
            u("https://x.example/proxy/"),
            "https://x.example/proxy/api/"
        );
    }

    #[test]
    fn rate_limit_formula() {
        assert_eq!(documented_rate_limit(1).requests(), 350);
        assert_eq!(documented_rate_limit(4).requests(), 1250);
        assert_eq!(documented_rate_limit(0).requests(), 350);
        assert_eq!(documented_rate_limit(1).window(), Duration::from_secs(300));
    }

    #[test]
    fn dated_versions() {
        let v = ApiVersion::dated("2026-07").unwrap();
        assert_eq!(v, ApiVersion::V2026_07);
        assert_eq!(v, ApiVersion::default());
        assert_eq!(
            (v.segment(), v.product_update_segment()),
            ("2026-07".into(), "2026-07".into())
        );
        assert_eq!(v.max_inventory_page(), Some(5000));
        let l = ApiVersion::legacy();
        assert_eq!(
            (l.segment(), l.product_update_segment()),
            ("2.0".into(), "2.1".into())
        );
        assert_eq!(l.max_inventory_page(), None);
        assert_eq!(ApiVersion::dated("2026-10").unwrap().to_string(), "2026-10");
        for bad in [
            "2.0", "2026/07", "2026-13", "2026-00", "2026-7", "26-07", "2026-07x", "+026-07", "",
        ] {
            assert!(ApiVersion::dated(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_parse_from_settings() {
        assert_eq!(
            "2026-07".parse::<ApiVersion>().unwrap(),
            ApiVersion::V2026_07
        );
        assert_eq!(" 2.0 ".parse::<ApiVersion>().unwrap(), ApiVersion::LEGACY);
        assert_eq!("legacy".parse::<ApiVersion>().unwrap(), ApiVersion::LEGACY);
        assert_eq!(
            "2027-01".parse::<ApiVersion>().unwrap().to_string(),
            "2027-01"
        );
        for v in [ApiVersion::LEGACY, ApiVersion::V2026_07] {
            assert_eq!(v.to_string().parse::<ApiVersion>().unwrap(), v);
        }
        for bad in ["2.1", "3.0", "2026", "latest", "2026-7"] {
            let e = bad.parse::<ApiVersion>().unwrap_err();
            assert!(e.to_string().contains("2026-07"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn build_errors_are_clear() {
        let e = Client::builder()
            .domain_prefix("bad prefix")
            .personal_token("t".into())
            .build()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)));
        let e = Client::builder()
            .domain_prefix("ok")
            .build()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("personal token"));
    }
}
