//! An in-process fake of Business Central (feature `sandbox`) for tests, examples and benches.
//!
//! It serves the URL forms of the real service (cloud `/v2.0/{tenant}/{environment}/api/...`,
//! on-premises `/{instance}/api/...`), an Entra-style token endpoint, and API v2.0 with OData
//! `$filter` (`eq ne gt ge lt le and or not startswith endswith contains`, `or` across fields
//! refused), `$select`, `$expand` (with nested options), `$orderby`, server-driven paging with
//! `@odata.nextLink` and `Prefer: odata.maxpagesize`, ETags that change on every write, the
//! documented errors (`BadRequest_InvalidToken`, `Request_EntityChanged`,
//! `Internal_EntityWithSameKeyExists`, `Application_StringExceededLength`...), number series,
//! deep insert, `$batch` (stop at first failure, continue-on-error, `Isolation: snapshot`
//! rollback), the bound actions `shipAndInvoice` and `post` (which reduce inventory and write
//! item ledger entries) and webhook subscriptions. Faults and a 429 rate limit come from
//! [`pos_http::sandbox`]. Creating or renewing a subscription performs the `validationToken`
//! handshake with the notification URL (unless turned off with
//! [`SandboxBuilder::webhook_handshake`]); [`Sandbox::deliver_notifications`] sends the pending
//! change notifications, batched per URL, with `collection` above 1,000 changes, and deletes
//! subscriptions whose endpoint answers a non-retryable error, as Business Central does.
//!
//! Its records are its own, shaped by the real `$metadata` (every property of the entity type,
//! with Business Central's empty values; never a client model). When the official reference
//! folder is found (see [`spec_oracle::reference_dir`]), every request on the standard route is
//! checked against `$metadata` (entity set, navigation, bound action, query options, body) and
//! refused with Business Central's own 4xx when it does not match, and every response is checked
//! before it is sent: one that does not match is answered as 500 naming the violations and kept
//! in [`Sandbox::spec_violations`]. [`SandboxBuilder::spec_checks`] turns this off.
//!
//! Each entity set keeps its rows in insertion order with hash indexes on `id`, on its unique
//! key (`number` or `code`) and on its parent reference (`documentId` of document lines,
//! `itemId` of item variants), so reads and writes by key, unique-key checks and key filters
//! (`number eq 'A' or number eq 'B'`) cost the same at 100,000 rows as at 100; a
//! server-driven page in insertion order starts at the row after the previous page instead of
//! filtering the rows before it again. A failed `Isolation: snapshot` change set or deep
//! insert is undone from a journal of its changes.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), business_central::Error> {
//! use business_central::sandbox::Sandbox;
//! use business_central::query::{Field, Query};
//! use futures::TryStreamExt;
//!
//! let sandbox = Sandbox::start().await.expect("sandbox");
//! let client = sandbox.client();
//! let customers: Vec<_> = client
//!     .company(sandbox.company_id())
//!     .customers()
//!     .list(Query::new().filter(Field::new("number").eq("10000")))
//!     .try_collect()
//!     .await?;
//! assert_eq!(customers[0].display_name, "Adatum Corporation");
//! # Ok(()) }
//! ```

mod demo;
mod odata;
mod oracle;
mod schema;
mod store;
mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pos_http::sandbox::{FaultConfig, FaultHandle, SandboxServer, ServedStats};
use pos_http::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::ClientCredentials;
use crate::client::{Client, ClientBuilder};
use crate::entity::{Entity, WritableEntity};
use crate::error::{ApiError, Error};
use crate::ids::CompanyId;
use store::{ApiErr, OpRequest, OpResponse, Store, err};

/// The tenant segment of the sandbox's cloud-style URL.
pub const TENANT: &str = "sandbox-tenant";
/// The environment segment of the sandbox's cloud-style URL.
pub const ENVIRONMENT: &str = "production";
/// The on-premises server instance name the sandbox also answers under.
pub const INSTANCE: &str = "BC";
/// Client id accepted by the token endpoint.
pub const CLIENT_ID: &str = "sandbox-client";
/// Client secret accepted by the token endpoint.
pub const CLIENT_SECRET: &str = "sandbox-secret";
/// Basic-auth user accepted on-premises style.
pub const BASIC_USER: &str = "ADMIN";
/// Basic-auth web-service access key accepted.
pub const BASIC_KEY: &str = "sandbox-access-key";
/// Largest batch the sandbox accepts, as Business Central.
const MAX_BATCH: usize = 100;

/// Above this many changes per subscription, one `collection` notification is sent instead.
const MAX_NOTIFICATIONS: usize = 1_000;

struct AuthState {
    token_lifetime: Duration,
    tokens: HashMap<String, Instant>,
    issued: u64,
    enabled: bool,
}

struct Shared {
    store: Mutex<Store>,
    auth: Mutex<AuthState>,
    correlation: Mutex<u64>,
    handshake: bool,
    processing_time: Duration,
    concurrency: Mutex<(usize, usize)>,
}

/// Counts a request as being processed until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let mut c = shared.concurrency.lock().unwrap_or_else(|p| p.into_inner());
        c.0 += 1;
        c.1 = c.1.max(c.0);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut c = self.0.concurrency.lock().unwrap_or_else(|p| p.into_inner());
        c.0 = c.0.saturating_sub(1);
    }
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn auth(&self) -> MutexGuard<'_, AuthState> {
        self.auth.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn correlation(&self) -> String {
        let mut c = self.correlation.lock().unwrap_or_else(|p| p.into_inner());
        *c += 1;
        Uuid::from_u128(0xc0de_0000_0000_4000_8000_0000_0000_0000 | u128::from(*c)).to_string()
    }
}

/// Builds a [`Sandbox`].
#[derive(Debug)]
pub struct SandboxBuilder {
    faults: FaultConfig,
    demo: bool,
    token_lifetime: Duration,
    auth: bool,
    handshake: bool,
    processing_time: Duration,
    spec_checks: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            faults: FaultConfig::none(),
            demo: true,
            token_lifetime: Duration::from_secs(3599),
            auth: true,
            handshake: true,
            processing_time: Duration::ZERO,
            spec_checks: true,
        }
    }
}

impl SandboxBuilder {
    /// Faults to inject (429 bursts, 5xx, dropped connections, lost responses, latency).
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }
    /// A server-side rate limit answering Business Central's 429 above `requests` per `window`.
    pub fn rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.faults.rate_limit = Some((requests, window));
        self
    }
    /// Whether to seed the deterministic demo company (default `true`).
    pub fn demo_data(mut self, on: bool) -> Self {
        self.demo = on;
        self
    }
    /// Lifetime (`expires_in`) of issued tokens (default 3599 s).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }
    /// Whether API calls need a valid token or basic credentials (default `true`).
    pub fn require_auth(mut self, on: bool) -> Self {
        self.auth = on;
        self
    }

    /// Whether creating or renewing a subscription calls the notification URL with a
    /// `validationToken` first (default `true`, as Business Central does).
    pub fn webhook_handshake(mut self, on: bool) -> Self {
        self.handshake = on;
        self
    }

    /// Time each API request takes to process (default none), to observe concurrency.
    pub fn processing_time(mut self, time: Duration) -> Self {
        self.processing_time = time;
        self
    }

    /// Whether to check every request and every response against Business Central's real
    /// `$metadata` (default `true`; effective when the reference folder is found, see
    /// [`spec_oracle::reference_dir`]). A request that does not match is refused with Business
    /// Central's own 4xx; a response of the sandbox that does not match is answered as 500
    /// naming the violations and recorded in [`Sandbox::spec_violations`].
    pub fn spec_checks(mut self, on: bool) -> Self {
        self.spec_checks = on;
        self
    }

    /// Starts serving on a random loopback port.
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let mut store = Store::default();
        store.spec_checks = self.spec_checks;
        let company = if self.demo {
            demo::seed(&mut store)
        } else {
            demo::add_company(&mut store, "CRONUS International Ltd.")
        };
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            auth: Mutex::new(AuthState {
                token_lifetime: self.token_lifetime,
                tokens: HashMap::new(),
                issued: 0,
                enabled: self.auth,
            }),
            correlation: Mutex::new(0),
            handshake: self.handshake,
            processing_time: self.processing_time,
            concurrency: Mutex::new((0, 0)),
        });
        let mut faults = self.faults;
        faults.exempt_paths.push(format!("/{TENANT}/oauth2"));
        faults.throttle_response = Arc::new(|wait| {
            let body = json!({"error": {"code": "Application_TooManyRequests",
                "message": "Too many requests. The per-user rate limit was exceeded, try again later."}});
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("Retry-After", wait.as_secs().max(1).to_string())],
                axum::Json(body),
            )
                .into_response()
        });
        let router = Router::new().fallback(dispatch).with_state(shared.clone());
        let server = SandboxServer::start(router, faults).await?;
        Ok(Sandbox {
            server,
            shared,
            company,
        })
    }
}

/// A running sandbox. Stops when dropped.
#[derive(Debug)]
pub struct Sandbox {
    server: SandboxServer,
    shared: Arc<Shared>,
    company: CompanyId,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl Sandbox {
    /// Starts a sandbox with the demo company, authentication on and no faults.
    pub async fn start() -> std::io::Result<Sandbox> {
        SandboxBuilder::default().start().await
    }
    /// Configures a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
    /// `http://127.0.0.1:PORT/`.
    pub fn server_url(&self) -> String {
        self.server.base_url().to_string()
    }
    /// The cloud-style environment root: `http://127.0.0.1:PORT/v2.0/{TENANT}/{ENVIRONMENT}`.
    pub fn base_url(&self) -> String {
        format!("{}v2.0/{TENANT}/{ENVIRONMENT}", self.server.base_url())
    }
    /// The on-premises-style instance root: `http://127.0.0.1:PORT/BC`.
    pub fn on_premises_url(&self) -> String {
        format!("{}{INSTANCE}", self.server.base_url())
    }
    /// The token endpoint (`/{TENANT}/oauth2/v2.0/token`).
    pub fn token_url(&self) -> String {
        format!("{}{TENANT}/oauth2/v2.0/token", self.server.base_url())
    }
    /// Client credentials the token endpoint accepts.
    pub fn credentials(&self) -> ClientCredentials {
        ClientCredentials::new(TENANT, CLIENT_ID, SecretString::from(CLIENT_SECRET))
            .token_url(self.token_url())
    }
    /// A client builder pointed at the sandbox with its client credentials.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.base_url())
            .client_credentials(self.credentials())
    }
    /// A ready client (client credentials, default limits). Panics only if the HTTP stack
    /// cannot initialise; use [`Sandbox::client_builder`] to handle that.
    pub fn client(&self) -> Client {
        match self.client_builder().build() {
            Ok(c) => c,
            Err(e) => unreachable!("the sandbox client configuration is valid: {e}"),
        }
    }
    /// The demo company's id.
    pub fn company_id(&self) -> CompanyId {
        self.company
    }
    /// What the server served (requests by route, throttles, faults).
    pub fn stats(&self) -> ServedStats {
        self.server.stats()
    }
    /// Resets the served counts.
    pub fn reset_stats(&self) {
        self.server.reset_stats();
    }
    /// Changes faults at run time.
    pub fn faults(&self) -> FaultHandle {
        self.server.faults()
    }
    /// Tokens issued by the token endpoint so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.auth().issued
    }
    /// The most API requests that were being processed at the same time.
    pub fn max_concurrent_requests(&self) -> usize {
        self.shared
            .concurrency
            .lock()
            .map(|c| c.1)
            .unwrap_or_else(|p| p.into_inner().1)
    }

    /// The sandbox's own responses that did not match `$metadata` so far (each names the request
    /// and the violations); empty when the checks are off or the reference folder is missing.
    pub fn spec_violations(&self) -> Vec<String> {
        self.shared.store().spec_violations.clone()
    }

    /// Whether requests and responses are being checked against `$metadata`.
    pub fn spec_checks_active(&self) -> bool {
        self.shared.store().spec_checks && spec_oracle::metadata::metadata().is_some()
    }

    /// Invalidates every issued token (the next call answers 401).
    pub fn revoke_tokens(&self) {
        self.shared.auth().tokens.clear();
    }

    /// Adds an empty company; returns its id.
    pub fn add_company(&self, name: &str) -> CompanyId {
        demo::add_company(&mut self.shared.store(), name)
    }

    /// Serves a custom API route `/api/{publisher}/{group}/{version}` with schemaless entity sets.
    pub fn add_custom_api(&self, publisher: &str, group: &str, version: &str, sets: &[&str]) {
        let route = format!("{publisher}/{group}/{version}");
        self.shared
            .store()
            .custom_routes
            .entry(route)
            .or_default()
            .extend(sets.iter().map(|s| (*s).to_owned()));
    }

    /// Every entity of `E`'s set in the demo company, as stored.
    pub fn entities<E: Entity>(&self) -> Vec<E> {
        self.entities_in(self.company)
    }

    /// Every entity of `E`'s set in `company`.
    pub fn entities_in<E: Entity>(&self, company: CompanyId) -> Vec<E> {
        self.rows_in(company, E::ENTITY_SET)
            .into_iter()
            .filter_map(|r| serde_json::from_value(r).ok())
            .collect()
    }

    /// Raw rows of an entity set of the demo company.
    pub fn rows(&self, set: &str) -> Vec<Value> {
        self.rows_in(self.company, set)
    }

    /// Raw rows of an entity set of `company`.
    pub fn rows_in(&self, company: CompanyId, set: &str) -> Vec<Value> {
        self.shared
            .store()
            .table("v2.0", company.0, set)
            .iter()
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// Creates an entity in the demo company directly (no HTTP request, the same handling and
    /// checks as a POST).
    pub fn insert<E: WritableEntity>(&self, input: &E::Input) -> Result<E, Error> {
        let body = crate::entity::to_json(input)?;
        if !body.is_object() {
            return Err(crate::InvalidInput::Other("body is not an object".into()).into());
        }
        let op = OpRequest {
            method: "POST".into(),
            segments: vec![
                format!("companies({})", self.company.0),
                E::ENTITY_SET.to_owned(),
            ],
            body: Some(body),
            route_url: format!("{}/api/v2.0", self.base_url()),
            ..OpRequest::default()
        };
        let resp = self.shared.store().handle("v2.0", &op).map_err(|e| {
            Error::from_api(ApiError {
                status: e.status,
                code: crate::ErrorCode::new(e.code),
                message: e.message,
                correlation_id: None,
            })
        })?;
        serde_json::from_value(resp.body.unwrap_or(Value::Null)).map_err(|e| Error::Decode {
            path: ".".into(),
            message: e.to_string(),
        })
    }

    /// Sends the pending change notifications to the subscribers (one POST per notification
    /// URL, `{"value":[...]}`); returns how many notifications were accepted. A subscriber that
    /// answers anything but 2xx, 408, 429 or 5xx loses its subscription.
    pub async fn deliver_notifications(&self) -> usize {
        let (changes, subs) = {
            let mut st = self.shared.store();
            (std::mem::take(&mut st.changes), st.subscriptions.clone())
        };
        let mut by_url: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for (route, list) in &subs {
            for sub in list {
                let get = |k: &str| sub.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                let wanted = get("resource");
                let wanted = wanted.trim_start_matches('/');
                let wanted = wanted
                    .strip_prefix(&format!("api/{route}/"))
                    .unwrap_or(wanted)
                    .to_ascii_lowercase();
                let hits: Vec<_> = changes
                    .iter()
                    .filter(|c| &c.route == route)
                    .filter(|c| {
                        format!("companies({})/{}", c.company, c.set).to_ascii_lowercase() == wanted
                    })
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                let base = |resource: String, change: &str, at: &str| {
                    json!({
                        "subscriptionId": get("subscriptionId"), "clientState": get("clientState"),
                        "expirationDateTime": get("expirationDateTime"), "resource": resource,
                        "changeType": change, "lastModifiedDateTime": at,
                    })
                };
                let out = by_url.entry(get("notificationUrl")).or_default();
                if hits.len() > MAX_NOTIFICATIONS {
                    let first = hits.iter().map(|c| c.at.as_str()).min().unwrap_or("");
                    let last = hits.iter().map(|c| c.at.as_str()).max().unwrap_or("");
                    let resource =
                        format!("api/{route}/{wanted}?$filter=lastDateTimeModified%20gt%20{first}");
                    out.push(base(resource, "collection", last));
                } else {
                    for c in hits {
                        let resource =
                            format!("api/{route}/companies({})/{}({})", c.company, c.set, c.id);
                        out.push(base(resource, c.change_type, &c.at));
                    }
                }
            }
        }
        let mut delivered = 0;
        for (url, value) in by_url {
            let n = value.len();
            match post_json(&url, &json!({ "value": value })).await {
                Some(status) if (200..300).contains(&status) => delivered += n,
                Some(status) if status == 408 || status == 429 || status >= 500 => {}
                _ => {
                    // Non-retryable answer: Business Central deletes the subscription.
                    for list in self.shared.store().subscriptions.values_mut() {
                        list.retain(|s| {
                            s.get("notificationUrl").and_then(Value::as_str) != Some(url.as_str())
                        });
                    }
                }
            }
        }
        delivered
    }

    /// Writes one raw value into a stored row of the demo company, bypassing every check (no new
    /// ETag). For tests of the response oracle: a property `$metadata` does not have, or a value
    /// of the wrong type, makes the next response carrying the row a 500 with the violation
    /// recorded. `false` if no row of `set` has that `id`.
    #[doc(hidden)]
    pub fn inject_raw_field(&self, set: &str, id: &str, field: &str, value: Value) -> bool {
        let mut store = self.shared.store();
        let company = self.company.0;
        store.inject(company, set, id, field, value)
    }

    /// Sets an item's inventory directly (as if stock were posted elsewhere); `false` if no item
    /// has that number.
    pub fn set_inventory(&self, item_number: &str, quantity: rust_decimal::Decimal) -> bool {
        self.shared.store().set_field(
            "v2.0",
            self.company.0,
            "items",
            ("number", item_number),
            "inventory",
            store::num(quantity),
        )
    }
}

fn json_response(status: u16, body: Option<Value>, headers: Vec<(String, String)>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match body {
        Some(b) => (status, serde_json::to_vec(&b).unwrap_or_default()).into_response(),
        None => status.into_response(),
    };
    let h = resp.headers_mut();
    if status != StatusCode::NO_CONTENT {
        h.insert(
            "content-type",
            HeaderValue::from_static(
                "application/json; odata.metadata=minimal; odata.streaming=true",
            ),
        );
    }
    h.insert("odata-version", HeaderValue::from_static("4.0"));
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.insert(name, value);
        }
    }
    resp
}

fn error_response(shared: &Shared, e: &ApiErr) -> Response {
    let corr = shared.correlation();
    let mut r = json_response(e.status, Some(e.body(&corr)), Vec::new());
    if let Ok(v) = HeaderValue::from_str(&corr) {
        r.headers_mut().insert("ms-correlation-x", v);
    }
    r
}

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return error_response(
            &shared,
            &err(413, "BadRequest", "The request body is too large."),
        );
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.as_str().to_owned();
    let headers = parts.headers;

    if path.ends_with("/oauth2/v2.0/token") {
        return token(&shared, &method, &bytes);
    }
    let Some(idx) = path.find("/api/") else {
        return error_response(
            &shared,
            &err(404, "BadRequest_ResourceNotFound", "Resource not found."),
        );
    };
    if let Err(e) = check_auth(&shared, &headers) {
        return error_response(&shared, &e);
    }
    let _in_flight = InFlight::enter(&shared);
    if !shared.processing_time.is_zero() {
        tokio::time::sleep(shared.processing_time).await;
    }
    let prefix = &path[..idx];
    let rest = &path[idx + 5..];
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let (route, segs) = {
        let store = shared.store();
        if segments.first().map(String::as_str) == Some("v2.0") {
            ("v2.0".to_owned(), segments[1..].to_vec())
        } else if segments.len() >= 3 {
            let r = segments[..3].join("/");
            if store.custom_routes.contains_key(&r) {
                (r, segments[3..].to_vec())
            } else {
                drop(store);
                return error_response(
                    &shared,
                    &err(
                        404,
                        "BadRequest_ResourceNotFound",
                        format!("No API route '{r}'."),
                    ),
                );
            }
        } else {
            drop(store);
            return error_response(
                &shared,
                &err(404, "BadRequest_ResourceNotFound", "No API route."),
            );
        }
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let route_url = format!("http://{host}{prefix}/api/{route}");
    let max_page_size = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| {
            v.split(',')
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .find_map(|p| {
            p.strip_prefix("odata.maxpagesize=")
                .and_then(|n| n.parse().ok())
        });
    let body = if bytes.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => Some(v),
            Err(_) => {
                return error_response(
                    &shared,
                    &err(
                        400,
                        "BadRequest",
                        "Invalid Request Body: the body is not valid JSON.",
                    ),
                );
            }
        }
    };
    if segs.len() == 1 && segs[0] == "$batch" {
        if method != "POST" {
            return error_response(
                &shared,
                &err(405, "BadRequest_MethodNotAllowed", "Use POST for $batch."),
            );
        }
        return batch(&shared, &route, &route_url, &headers, body);
    }
    if shared.handshake
        && segs.first().is_some_and(|s| s.starts_with("subscriptions"))
        && (method == "POST" || method == "PATCH")
    {
        let url = body
            .as_ref()
            .and_then(|b| b.get("notificationUrl"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let key = segs[0]
                    .trim_start_matches("subscriptions('")
                    .trim_end_matches("')");
                shared.store().subscriptions.get(&route).and_then(|v| {
                    v.iter()
                        .find(|s| s.get("subscriptionId").and_then(Value::as_str) == Some(key))
                        .and_then(|s| s.get("notificationUrl"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            });
        if let Some(url) = url
            && let Err(e) = handshake(&shared, &url).await
        {
            return error_response(&shared, &e);
        }
    }
    let op = OpRequest {
        method,
        segments: segs,
        query,
        if_match: headers
            .get("if-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        max_page_size,
        body,
        route_url,
    };
    let result = shared.store().handle(&route, &op);
    match result {
        Ok(r) => json_response(r.status, r.body, r.headers),
        Err(e) => error_response(&shared, &e),
    }
}

/// Calls `url?validationToken=...` and expects the token back with 200.
async fn handshake(shared: &Shared, url: &str) -> Result<(), ApiErr> {
    let token = format!("validation-{}", shared.correlation());
    let failed = || {
        err(
            400,
            "Application_DialogException",
            format!("The subscription could not be validated by calling '{url}'."),
        )
    };
    let mut target = url::Url::parse(url).map_err(|_| failed())?;
    target
        .query_pairs_mut()
        .append_pair("validationToken", &token);
    let client = pos_http::HttpClient::builder(origin(&target))
        .retry(pos_http::RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|_| failed())?;
    let resp = client
        .request_url(pos_http::Method::POST, target)
        .send_any_status()
        .await
        .map_err(|_| failed())?;
    if resp.status.as_u16() == 200 && resp.text().trim() == token {
        Ok(())
    } else {
        Err(failed())
    }
}

fn origin(url: &url::Url) -> String {
    let mut o = url.clone();
    o.set_path("/");
    o.set_query(None);
    o.set_fragment(None);
    o.to_string()
}

/// POSTs JSON to an absolute URL; the status, or `None` if it could not be sent.
async fn post_json(url: &str, body: &Value) -> Option<u16> {
    let target = url::Url::parse(url).ok()?;
    let client = pos_http::HttpClient::builder(origin(&target))
        .retry(pos_http::RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let resp = client
        .request_url(pos_http::Method::POST, target)
        .json(body)
        .send_any_status()
        .await
        .ok()?;
    Some(resp.status.as_u16())
}

fn check_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiErr> {
    let mut auth = shared.auth();
    if !auth.enabled {
        return Ok(());
    }
    let denied = || {
        err(
            401,
            "Authentication_InvalidCredentials",
            "The server has rejected the client credentials.",
        )
    };
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(denied)?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        let now = Instant::now();
        auth.tokens.retain(|_, exp| *exp > now);
        return if auth.tokens.contains_key(token) {
            Ok(())
        } else {
            Err(denied())
        };
    }
    if let Some(basic) = value.strip_prefix("Basic ") {
        let expected = format!("{BASIC_USER}:{BASIC_KEY}");
        if decode_base64(basic).as_deref() == Some(expected.as_bytes()) {
            return Ok(());
        }
    }
    Err(denied())
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((bits >> nbits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn token(shared: &Shared, method: &str, body: &[u8]) -> Response {
    let oauth_err = |status: StatusCode, code: &str, desc: &str| {
        (
            status,
            axum::Json(json!({"error": code, "error_description": desc})),
        )
            .into_response()
    };
    if method != "POST" {
        return oauth_err(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Use POST.",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_err(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return oauth_err(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
        return oauth_err(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid.",
        );
    }
    let mut auth = shared.auth();
    auth.issued += 1;
    let token = SecretString::from(format!(
        "sandbox-token-{}-{}",
        auth.issued,
        Uuid::new_v4().simple()
    ));
    let lifetime = auth.token_lifetime;
    auth.tokens
        .insert(token.expose_secret().to_owned(), Instant::now() + lifetime);
    axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": token.expose_secret(),
    }))
    .into_response()
}

fn batch(
    shared: &Shared,
    route: &str,
    route_url: &str,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Response {
    let requests = match body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
    {
        Some(r) => r.clone(),
        None => {
            return error_response(
                shared,
                &err(
                    400,
                    "BadRequest",
                    "The batch request body must contain 'requests'.",
                ),
            );
        }
    };
    if requests.len() > MAX_BATCH {
        return error_response(
            shared,
            &err(
                400,
                "Unknown",
                format!(
                    "The current batch message contains too many parts. A maximum number of '{MAX_BATCH}' query operations and change sets are allowed in a batch message."
                ),
            ),
        );
    }
    let snapshot = headers
        .get("isolation")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("snapshot"));
    let continue_on_error = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("odata.continue-on-error"));
    let mut store = shared.store();
    let mut checkpoint = snapshot.then(|| store.begin());
    let mut responses = Vec::new();
    for r in &requests {
        let id = r.get("id").cloned().unwrap_or(Value::Null);
        let result = batch_op(&mut store, route, route_url, r);
        match result {
            Ok(resp) => responses.push(batch_entry(id, resp)),
            Err(e) => {
                let corr = shared.correlation();
                let entry = batch_entry(
                    id,
                    OpResponse {
                        status: e.status,
                        body: Some(e.body(&corr)),
                        headers: Vec::new(),
                    },
                );
                if let Some(cp) = checkpoint.take() {
                    // Snapshot isolation: everything rolls back; only the failure is reported.
                    store.rollback(cp);
                    responses = vec![entry];
                    break;
                }
                responses.push(entry);
                if !continue_on_error {
                    break;
                }
            }
        }
    }
    if let Some(cp) = checkpoint {
        store.commit(cp);
    }
    drop(store);
    json_response(200, Some(json!({ "responses": responses })), Vec::new())
}

fn batch_entry(id: Value, resp: OpResponse) -> Value {
    let mut headers = Map::new();
    if resp.body.is_some() {
        headers.insert(
            "content-type".into(),
            json!("application/json; odata.metadata=minimal"),
        );
    }
    for (k, v) in resp.headers {
        headers.insert(k.to_ascii_lowercase(), json!(v));
    }
    let mut e = Map::new();
    e.insert("id".into(), id);
    e.insert("status".into(), json!(resp.status));
    e.insert("headers".into(), Value::Object(headers));
    if let Some(b) = resp.body {
        e.insert("body".into(), b);
    }
    Value::Object(e)
}

fn batch_op(
    store: &mut Store,
    route: &str,
    route_url: &str,
    r: &Value,
) -> Result<OpResponse, ApiErr> {
    let method = r
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = r.get("url").and_then(Value::as_str).unwrap_or("");
    let rel = match url.find(&format!("/api/{route}/")) {
        Some(i) => &url[i + route.len() + 6..],
        None => url.trim_start_matches('/'),
    };
    let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
    let header = |name: &str| {
        r.get("headers")
            .and_then(Value::as_object)
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    let op = OpRequest {
        method,
        segments: path
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect(),
        query: query.to_owned(),
        if_match: header("if-match"),
        max_page_size: None,
        body: r.get("body").cloned().filter(|b| !b.is_null()),
        route_url: route_url.to_owned(),
    };
    store.handle(route, &op)
}
