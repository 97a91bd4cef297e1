//! The client: where Business Central is (cloud, on-premises or an explicit URL), how to
//! authenticate, limits, and the handles to API routes and companies.

use std::sync::Arc;
use std::time::Duration;

use pos_http::{
    BasicAuth, HttpClient, RateLimit, RefreshingToken, RetryPolicy, SecretString, StaticToken,
    TokenSource,
};

use crate::auth::ClientCredentials;
use crate::entity::Entity;
use crate::error::{Error, InvalidInput};
use crate::ids::CompanyId;
use crate::models::*;
use crate::resources::EntitySet;

/// The cloud API host.
pub const CLOUD_HOST: &str = "https://api.businesscentral.dynamics.com";
/// The documented per-user limit: 6,000 requests per 5-minute window.
pub const DEFAULT_RATE_LIMIT: (u32, Duration) = (6_000, Duration::from_secs(300));
/// The documented per-user limit of requests processed at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 5;
/// Page size asked for with `Prefer: odata.maxpagesize` unless a query says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 5_000;

/// Where the environment lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// Business Central online: `https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}`.
    Cloud {
        /// Entra tenant id or verified domain.
        tenant: String,
        /// Environment name (`production`, `sandbox`...).
        environment: String,
    },
    /// On-premises: `https://host:port/instance` (the server instance's root; `/api/...` is added).
    OnPremises(String),
    /// An explicit environment root (tests, proxies); `/api/...` is added.
    BaseUrl(String),
}

impl Deployment {
    /// The environment root URL (everything before `/api/`).
    pub fn root_url(&self) -> String {
        match self {
            Deployment::Cloud {
                tenant,
                environment,
            } => format!("{CLOUD_HOST}/v2.0/{tenant}/{environment}/"),
            Deployment::OnPremises(url) | Deployment::BaseUrl(url) => {
                format!("{}/", url.trim_end_matches('/'))
            }
        }
    }
}

/// An API route: the standard `v2.0` or an extension's `{publisher}/{group}/{version}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiRoute(String);

impl ApiRoute {
    /// The standard API v2.0 (`/api/v2.0`).
    pub fn v2() -> Self {
        Self("v2.0".to_owned())
    }
    /// A custom API route (`/api/{publisher}/{group}/{version}`).
    pub fn custom(publisher: &str, group: &str, version: &str) -> Result<Self, Error> {
        for (what, s) in [
            ("publisher", publisher),
            ("group", group),
            ("version", version),
        ] {
            let ok = !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                return Err(InvalidInput::Other(format!("invalid API {what} `{s}`")).into());
            }
        }
        Ok(Self(format!("{publisher}/{group}/{version}")))
    }
    /// `api/{route}`, relative to the environment root.
    pub fn path(&self) -> String {
        format!("api/{}", self.0)
    }
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    deployment: Option<Deployment>,
    auth: Option<AuthChoice>,
    rate_limit: Option<RateLimit>,
    max_in_flight: usize,
    retry: RetryPolicy,
    timeout: Duration,
    page_size: u32,
    user_agent: Option<String>,
    read_replica: bool,
    accept_language: Option<String>,
}

#[derive(Debug)]
enum AuthChoice {
    ClientCredentials(ClientCredentials),
    Source(Arc<dyn TokenSource>),
    None,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            deployment: None,
            auth: None,
            rate_limit: Some(RateLimit::new(DEFAULT_RATE_LIMIT.0, DEFAULT_RATE_LIMIT.1)),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(600),
            page_size: DEFAULT_PAGE_SIZE,
            user_agent: None,
            read_replica: false,
            accept_language: None,
        }
    }
}

impl ClientBuilder {
    /// Business Central online, tenant (GUID or domain) and environment name.
    pub fn cloud(mut self, tenant: impl Into<String>, environment: impl Into<String>) -> Self {
        self.deployment = Some(Deployment::Cloud {
            tenant: tenant.into(),
            environment: environment.into(),
        });
        self
    }
    /// On-premises server instance root, e.g. `https://bc.contoso.com:7048/bc`.
    pub fn on_premises(mut self, instance_url: impl Into<String>) -> Self {
        self.deployment = Some(Deployment::OnPremises(instance_url.into()));
        self
    }
    /// An explicit environment root (everything before `/api/`), e.g. a sandbox's URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.deployment = Some(Deployment::BaseUrl(url.into()));
        self
    }
    /// Entra client credentials (cloud, or on-premises with Entra auth).
    pub fn client_credentials(mut self, creds: ClientCredentials) -> Self {
        self.auth = Some(AuthChoice::ClientCredentials(creds));
        self
    }
    /// Basic auth with a user name and web-service access key (on-premises).
    pub fn basic_auth(mut self, user: impl Into<String>, access_key: SecretString) -> Self {
        self.auth = Some(AuthChoice::Source(Arc::new(BasicAuth::new(
            user, access_key,
        ))));
        self
    }
    /// A fixed bearer token obtained elsewhere.
    pub fn bearer_token(mut self, token: SecretString) -> Self {
        self.auth = Some(AuthChoice::Source(Arc::new(StaticToken::bearer(token))));
        self
    }
    /// Any token source.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(AuthChoice::Source(source));
        self
    }
    /// Sends no `Authorization` header.
    pub fn no_auth(mut self) -> Self {
        self.auth = Some(AuthChoice::None);
        self
    }
    /// Client-side pacing (default: 6,000 requests per 5 minutes); `None` disables it.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// Requests in flight at once (default 5).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }
    /// Retry policy for 429/5xx/connection errors (POSTs are never retried blindly).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Per-request timeout (default 10 minutes, the gateway's limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Default page size for lists (`Prefer: odata.maxpagesize`, at most 20,000 online).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, 20_000);
        self
    }
    /// Sends `Data-Access-Intent: ReadOnly` on reads (lists and gets), so Business Central may
    /// serve them from a read-only replica.
    pub fn read_replica(mut self, on: bool) -> Self {
        self.read_replica = on;
        self
    }
    /// Language of error messages and formatted values (`Accept-Language`, e.g. `en-US`).
    pub fn accept_language(mut self, language: impl Into<String>) -> Self {
        self.accept_language = Some(language.into());
        self
    }
    /// Product token added to the `User-Agent`.
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let deployment = self.deployment.ok_or_else(|| {
            InvalidInput::Other("no deployment: call cloud(), on_premises() or base_url()".into())
        })?;
        let root = deployment.root_url();
        let mut http = HttpClient::builder(&root)
            .retry(self.retry)
            .max_in_flight(self.max_in_flight)
            .timeout(self.timeout)
            .default_header("Accept", "application/json");
        if let Some(rate) = self.rate_limit {
            http = http.rate_limit(rate);
        }
        if let Some(ua) = &self.user_agent {
            http = http.user_agent(ua);
        }
        if let Some(lang) = &self.accept_language {
            http = http.default_header("Accept-Language", lang);
        }
        match self.auth {
            Some(AuthChoice::ClientCredentials(creds)) => {
                let refresher = creds.into_refresher(Duration::from_secs(60))?;
                http = http.auth(RefreshingToken::new(refresher));
            }
            Some(AuthChoice::Source(source)) => http = http.auth_arc(source),
            Some(AuthChoice::None) => {}
            None => {
                return Err(InvalidInput::Other(
                    "no authentication: call client_credentials(), basic_auth() or no_auth()"
                        .into(),
                )
                .into());
            }
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http: http.build()?,
                deployment,
                page_size: self.page_size,
                read_replica: self.read_replica,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    deployment: Deployment,
    page_size: u32,
    read_replica: bool,
}

/// A Business Central client for one environment. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
    /// The transport (for request counters: `client.http().stats()`).
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }
    /// Where the environment lives.
    pub fn deployment(&self) -> &Deployment {
        &self.inner.deployment
    }
    /// Request counters.
    pub fn stats(&self) -> pos_http::Stats {
        self.inner.http.stats()
    }
    pub(crate) fn page_size(&self) -> u32 {
        self.inner.page_size
    }
    /// A GET request, with `Data-Access-Intent: ReadOnly` when configured.
    pub(crate) fn read(&self, req: pos_http::Request) -> pos_http::Request {
        if self.inner.read_replica {
            req.header("Data-Access-Intent", "ReadOnly")
        } else {
            req
        }
    }
    /// The standard API v2.0.
    pub fn api(&self) -> Api {
        Api {
            client: self.clone(),
            route: ApiRoute::v2(),
        }
    }
    /// A custom API route `/api/{publisher}/{group}/{version}` added by an extension.
    pub fn custom_api(&self, publisher: &str, group: &str, version: &str) -> Result<Api, Error> {
        Ok(Api {
            client: self.clone(),
            route: ApiRoute::custom(publisher, group, version)?,
        })
    }
    /// Companies of the environment (API v2.0).
    pub fn companies(&self) -> EntitySet<Company> {
        self.api().companies()
    }
    /// A company of the standard API v2.0.
    pub fn company(&self, id: CompanyId) -> CompanyScope {
        self.api().company(id)
    }
}

/// One API route of the environment.
#[derive(Debug, Clone)]
pub struct Api {
    pub(crate) client: Client,
    pub(crate) route: ApiRoute,
}

impl Api {
    /// The route.
    pub fn route(&self) -> &ApiRoute {
        &self.route
    }
    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
    /// `companies` of this route.
    pub fn companies(&self) -> EntitySet<Company> {
        EntitySet::new(
            self.client.clone(),
            self.route.path(),
            Company::ENTITY_SET.into(),
        )
    }
    /// Entities scoped to a company (`companies({id})/...`).
    pub fn company(&self, id: CompanyId) -> CompanyScope {
        CompanyScope {
            client: self.client.clone(),
            route: self.route.clone(),
            company: id,
        }
    }
    /// An entity set that is not company-scoped, by name.
    pub fn entity_set<E: Entity>(&self, name: &str) -> EntitySet<E> {
        EntitySet::new(self.client.clone(), self.route.path(), name.to_owned())
    }
}

/// The entity sets of one company.
#[derive(Debug, Clone)]
pub struct CompanyScope {
    client: Client,
    route: ApiRoute,
    company: CompanyId,
}

macro_rules! sets {
    ($($(#[$m:meta])* $fn:ident => $t:ty),+ $(,)?) => {
        $($(#[$m])* pub fn $fn(&self) -> EntitySet<$t> {
            self.entity_set(<$t as Entity>::ENTITY_SET)
        })+
    };
}

impl CompanyScope {
    /// The company id.
    pub fn id(&self) -> CompanyId {
        self.company
    }
    /// The route this scope belongs to.
    pub fn route(&self) -> &ApiRoute {
        &self.route
    }
    /// `api/{route}/companies({id})`, relative to the environment root.
    pub fn path(&self) -> String {
        format!("{}/companies({})", self.route.path(), self.company)
    }
    /// Any entity set of this company by name: the typed way to reach custom API pages
    /// (`client.custom_api("contoso", "pos", "v1.0")?.company(id).entity_set::<MyType>("carBrands")`).
    pub fn entity_set<E: Entity>(&self, name: &str) -> EntitySet<E> {
        EntitySet::new(self.client.clone(), self.path(), name.to_owned())
    }
    sets! {
        /// `customers`
        customers => Customer,
        /// `contacts`
        contacts => Contact,
        /// `items`
        items => Item,
        /// `itemVariants`
        item_variants => ItemVariant,
        /// `itemCategories`
        item_categories => ItemCategory,
        /// `salesOrders`
        sales_orders => SalesOrder,
        /// `salesOrderLines` (Business Central requires a `documentId` or `id` filter here).
        sales_order_lines => SalesOrderLine,
        /// `salesInvoices`
        sales_invoices => SalesInvoice,
        /// `salesInvoiceLines` (Business Central requires a `documentId` or `id` filter here).
        sales_invoice_lines => SalesInvoiceLine,
        /// `paymentTerms`
        payment_terms => PaymentTerm,
        /// `paymentMethods`
        payment_methods => PaymentMethod,
        /// `locations`
        locations => Location,
        /// `itemLedgerEntries` (read-only)
        item_ledger_entries => ItemLedgerEntry,
        /// `generalProductPostingGroups` (read-only)
        general_product_posting_groups => GeneralProductPostingGroup,
        /// `inventoryPostingGroups` (read-only)
        inventory_posting_groups => InventoryPostingGroup,
    }
}

impl From<pos_http::Error> for Error {
    fn from(e: pos_http::Error) -> Self {
        match e {
            pos_http::Error::Status {
                status,
                body,
                headers,
            } => {
                let corr = headers
                    .get("ms-correlation-x")
                    .or_else(|| headers.get("request-id"))
                    .and_then(|v| v.to_str().ok());
                Error::from_status(status.as_u16(), body.as_bytes(), corr)
            }
            pos_http::Error::RateLimited { retry_after, .. } => Error::RateLimited { retry_after },
            pos_http::Error::Transport {
                message,
                may_have_reached_server,
            } => Error::Transport {
                message,
                may_have_reached_server,
            },
            pos_http::Error::Timeout(_) => Error::Timeout,
            pos_http::Error::Decode { path, message } => Error::Decode { path, message },
            pos_http::Error::Auth(a) => Error::Auth(match &a.response_body {
                // Keep Business Central's own code and correlation id from the refusal.
                Some(body) if !body.is_empty() => {
                    format!("{a}: {}", body.chars().take(500).collect::<String>())
                }
                _ => a.to_string(),
            }),
            pos_http::Error::InvalidRequest(m) => Error::InvalidInput(InvalidInput::Other(m)),
            other => Error::Http(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let cloud = Deployment::Cloud {
            tenant: "contoso.com".into(),
            environment: "sandbox".into(),
        };
        assert_eq!(
            cloud.root_url(),
            "https://api.businesscentral.dynamics.com/v2.0/contoso.com/sandbox/"
        );
        let onprem = Deployment::OnPremises("https://bc.contoso.com:7048/bc/".into());
        assert_eq!(onprem.root_url(), "https://bc.contoso.com:7048/bc/");
        assert_eq!(ApiRoute::v2().path(), "api/v2.0");
        assert_eq!(
            ApiRoute::custom("contoso", "pos", "v1.0").unwrap().path(),
            "api/contoso/pos/v1.0"
        );
        assert!(ApiRoute::custom("..", "pos", "v1.0").is_err());
        assert!(ApiRoute::custom("a/b", "pos", "v1.0").is_err());
    }

    #[test]
    fn build_needs_deployment_and_auth() {
        assert!(Client::builder().no_auth().build().is_err());
        assert!(Client::builder().cloud("t", "e").build().is_err());
        let c = Client::builder()
            .on_premises("https://bc.contoso.com:7048/bc")
            .basic_auth("admin", "key".into())
            .build()
            .unwrap();
        assert!(!format!("{c:?}").contains("key\""));
    }
}
