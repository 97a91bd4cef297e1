//! An in-process fake of the X-Series API (feature `sandbox`) for tests, examples and benches.
//!
//! It serves the same paths, bodies, paging and errors as the real API for everything this crate
//! does, in two API versions:
//! - **2.0** (legacy): `/api/2.0/...` lists with the version cursor (`after`, `before`,
//!   `page_size`, `deleted=true` tombstones), `GET /api/2.0/inventory` and
//!   `/products/{id}/inventory`, `/api/2.0/search` with offset paging and date filters,
//!   `PUT /api/2.1/products/{id}`, and the 2.0 BETA webhooks;
//! - **2026-07** (`/api/2026-07/...`): the same resources in that version's shapes (a sale with
//!   nested totals, sources and line pricing; products with packaging and customizations), with
//!   `PUT /products/{id}` taking the 2.1 body, `POST /inventory` (filter body, `size` up to 5,000,
//!   a bare array of records with `current_inventory_level`), `GET /inventory/{product_id}`,
//!   `POST /stock_adjustments` and `/custom_inventory_adjustment_reasons`; `GET /inventory` and
//!   `/products/{id}/inventory` do not exist there and answer 404.
//!
//! Besides: `/api/1.0/token` with rotating refresh tokens, `/connect` (approves at once and
//! redirects back with a code), 401 `{"error":"Access token is not valid"}`, 429 with an HTTP-date
//! `Retry-After` once a configured rate limit is passed, and webhook delivery (form-encoded
//! `payload`, signed `X-Signature`) to the subscribed URLs, sent again with back-off when the
//! receiver does not accept it ([`WebhookRetry`]). Every change bumps a global version counter.
//!
//! **The official specs referee every exchange.** When the reference folder is found
//! (`spec_oracle::reference_dir`), every request is validated against the OpenAPI spec of its
//! version (path, query, JSON body) and refused with the API's own 400/422 when it does not match,
//! and every response is validated before it is sent: a response that breaks the spec is answered
//! as HTTP 500 naming the violations and recorded in [`Sandbox::spec_violations`], so a test that
//! meets it fails loudly. Responses are shaped by the sandbox's own field lists (every documented
//! key, `null` only where the spec allows it, the walk-in customer on sales without one, a
//! placeholder image on products without one). [`SandboxConfig::spec_checks`] turns the checks off.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use lightspeed_x::sandbox::{DemoData, Sandbox};
//!
//! let sandbox = Sandbox::start_seeded(DemoData::default()).await?;
//! let client = sandbox.client().await?;
//! let products: Vec<_> = client.products().list().page_size(5).stream().try_collect().await?;
//! assert_eq!(products.len(), sandbox.state().products().len());
//! assert!(sandbox.stats().count("GET /api/2026-07/products") >= 2);
//! # Ok(()) }
//! ```
//!
//! Seed by hand with [`Sandbox::add_outlet`], [`Sandbox::add_product`], [`Sandbox::add_customer`],
//! [`Sandbox::add_shift`]; play the POS with [`Sandbox::add_sale`], [`Sandbox::update_customer`],
//! [`Sandbox::update_product`], [`Sandbox::delete_customer`] (each bumps the version and fires
//! webhooks); inspect with [`Sandbox::state`]. Play the retailer in the OAuth flow with
//! [`Sandbox::oauth_app`] and [`Sandbox::approve`]; simulate expiry and revocation with
//! [`Sandbox::expire_access_tokens`] and [`Sandbox::revoke_refresh_tokens`].
//!
//! Faults come from [`pos_http::sandbox::FaultConfig`]: extra 429s, 5xx, latency, dropped
//! connections and "committed, then the response was lost"; change them at run time with
//! [`Sandbox::faults`].

mod adjustments;
mod hooks;
mod oracle;
mod records;
mod routes;
mod seed;
mod shape;
mod state;

pub use oracle::SpecViolation;
pub use pos_http::sandbox::{FaultConfig, FaultHandle, ServedStats};
pub use records::{
    ApiRecord, ConsignmentProductRow, ConsignmentRow, OutletRow, PaymentTypeRow, RegisterRow,
    RoleRow, ShiftRow, TaxRateRow, TaxRow, UserRow, View, WebhookRow,
};
pub use seed::DemoData;
pub use state::{Delivery, Record, State, Table};

use crate::client::{Client, ClientBuilder};
use crate::ids::*;
use crate::models::*;
use crate::oauth::OAuthApp;
use hooks::Event;
use pos_http::SecretString;
use pos_http::sandbox::SandboxServer;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};

/// How the sandbox behaves.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The store's domain prefix.
    pub domain_prefix: String,
    /// A personal token that is always accepted (`None` for OAuth-only).
    pub personal_token: Option<String>,
    /// The OAuth client id accepted by `/connect` and `/api/1.0/token`.
    pub client_id: String,
    /// The OAuth client secret (also signs webhooks).
    pub client_secret: String,
    /// Lifetime of issued access tokens.
    pub access_token_ttl: Duration,
    /// Server-side rate limit: requests per window, answered with Lightspeed's 429.
    pub rate_limit: Option<(u32, Duration)>,
    /// Faults to inject (its `rate_limit` and `throttle_response` are set from this config).
    pub faults: FaultConfig,
    /// How a webhook delivery the receiver did not accept is sent again.
    pub webhook_retry: WebhookRetry,
    /// Check every request and response against the official OpenAPI spec of its version (when
    /// the reference folder is found, see `spec_oracle::reference_dir`). On: a request the spec
    /// refuses gets the API's 400/422; a response that breaks the spec is answered as a 500 naming
    /// the violations and recorded in [`Sandbox::spec_violations`]. Turn off only to measure the
    /// sandbox without the checks.
    pub spec_checks: bool,
}

/// How the sandbox sends a webhook again when its receiver did not answer 2xx within 5 seconds.
/// The default is the real API's: up to 20 more times over about 48 hours, backing off
/// exponentially (30 s, doubling, at most 4 hours apart). Retries stop early once the webhook is
/// deleted or made inactive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Deliveries after the first (0: never again).
    pub retries: u32,
    /// Wait before the first retry; each later wait doubles.
    pub first_delay: Duration,
    /// Longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            retries: 20,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(4 * 3600),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            domain_prefix: "demo".into(),
            personal_token: Some("lsxs_pt_sandbox".into()),
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            access_token_ttl: Duration::from_secs(604_800),
            rate_limit: None,
            faults: FaultConfig::none(),
            webhook_retry: WebhookRetry::default(),
            spec_checks: true,
        }
    }
}

/// Lightspeed's 429: JSON body and an HTTP-date `Retry-After`.
pub fn throttle_response(wait: Duration) -> axum::response::Response {
    use axum::response::IntoResponse;
    // The moment the client may come back, rounded up to a whole second (an HTTP date has no
    // fractions, and a date rounded down would send the client back too early).
    let at = SystemTime::now() + wait.max(Duration::from_secs(1));
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let whole = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(whole);
    (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, httpdate::fmt_http_date(at))],
        axum::Json(
            serde_json::json!({"error": "Too Many Requests", "message": "Rate limiting enforced"}),
        ),
    )
        .into_response()
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) config: SandboxConfig,
    events: mpsc::UnboundedSender<Event>,
    pending: watch::Sender<u64>,
    /// Deliveries waiting to be sent again.
    retrying: watch::Sender<u64>,
    pub(crate) served: Mutex<std::collections::VecDeque<tokio::time::Instant>>,
    /// Responses that broke the official spec (answered as 500 instead).
    pub(crate) violations: Mutex<Vec<SpecViolation>>,
    /// Whether requests and responses are checked against the official specs.
    pub(crate) spec_checks: bool,
}

impl Shared {
    /// Queues an event for every active webhook of its type.
    pub(crate) fn emit(&self, event: Event) {
        self.pending.send_modify(|n| *n += 1);
        if self.events.send(event).is_err() {
            self.pending.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

async fn deliver_loop(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Event>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let secret = SecretString::from(shared.config.client_secret.clone());
    while let Some(event) = rx.recv().await {
        let (targets, prefix) = match shared.state.lock() {
            Ok(st) => (
                st.webhooks
                    .iter()
                    .filter(|(_, w)| w.active && w.kind == event.kind.as_str())
                    .map(|(id, w)| (id.clone(), w.url.clone()))
                    .collect::<Vec<_>>(),
                st.retailer.domain_prefix.clone(),
            ),
            Err(_) => (Vec::new(), String::new()),
        };
        for (hook, url) in targets {
            let payload = event.payload.to_string();
            let body = serde_urlencoded::to_string([
                ("payload", payload.as_str()),
                ("type", event.kind.as_str()),
                ("domain_prefix", prefix.as_str()),
                ("environment", "sandbox"),
            ])
            .unwrap_or_default();
            let delivery = Delivery {
                url,
                kind: event.kind.clone(),
                signature: crate::webhook::sign(&secret, body.as_bytes()),
                body,
                status: None,
                attempt: 1,
            };
            if !deliver(&shared, &http, delivery.clone()).await {
                shared.retrying.send_modify(|n| *n += 1);
                tokio::spawn(redeliver(shared.clone(), http.clone(), hook, delivery));
            }
        }
        shared.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Sends one delivery and records it; whether the receiver accepted it (2xx).
async fn deliver(shared: &Shared, http: &reqwest::Client, mut delivery: Delivery) -> bool {
    delivery.status = http
        .post(&delivery.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Signature", &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16());
    let accepted = delivery.status.is_some_and(|s| (200..300).contains(&s));
    if let Ok(mut st) = shared.state.lock() {
        st.deliveries.push(delivery);
    }
    accepted
}

/// Sends a delivery the receiver did not accept again, backing off, until it is accepted, the
/// retries run out, or the webhook is gone or inactive.
async fn redeliver(shared: Arc<Shared>, http: reqwest::Client, hook: String, first: Delivery) {
    let policy = shared.config.webhook_retry.clone();
    let mut wait = policy.first_delay.min(policy.max_delay);
    for attempt in 2..=policy.retries.saturating_add(1) {
        tokio::time::sleep(wait).await;
        wait = wait.saturating_mul(2).min(policy.max_delay);
        let live = shared
            .state
            .lock()
            .map(|st| st.webhooks.get(&hook).is_some_and(|w| w.active))
            .unwrap_or(false);
        if !live {
            break;
        }
        let delivery = Delivery {
            attempt,
            ..first.clone()
        };
        if deliver(&shared, &http, delivery).await {
            break;
        }
    }
    shared.retrying.send_modify(|n| *n = n.saturating_sub(1));
}

/// A running sandbox store. Stops when dropped.
pub struct Sandbox {
    server: SandboxServer,
    shared: Arc<Shared>,
    pending: watch::Receiver<u64>,
    retrying: watch::Receiver<u64>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.server.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// An empty store (a retailer, nothing else) with the default config.
    pub async fn start() -> std::io::Result<Sandbox> {
        Self::start_with(SandboxConfig::default(), None).await
    }

    /// A store filled with generated demo data.
    pub async fn start_seeded(demo: DemoData) -> std::io::Result<Sandbox> {
        Self::start_with(SandboxConfig::default(), Some(demo)).await
    }

    /// A store with this config, optionally seeded.
    pub async fn start_with(
        config: SandboxConfig,
        demo: Option<DemoData>,
    ) -> std::io::Result<Sandbox> {
        let mut st = State::default();
        match &demo {
            Some(d) => seed::seed(&mut st, d, &config.domain_prefix),
            None => {
                st.retailer = Retailer {
                    id: RetailerId(st.new_id()),
                    domain_prefix: config.domain_prefix.clone(),
                    name: "Sandbox Store".into(),
                    timezone: Some(chrono_tz::Pacific::Auckland),
                    ..Default::default()
                };
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (pending_tx, pending_rx) = watch::channel(0u64);
        let (retrying_tx, retrying_rx) = watch::channel(0u64);
        let mut faults = config.faults.clone();
        faults.rate_limit = config.rate_limit.or(faults.rate_limit);
        faults.throttle_response = Arc::new(throttle_response);
        let spec_checks = oracle::wanted(&config);
        let shared = Arc::new(Shared {
            state: Mutex::new(st),
            config,
            events: tx,
            pending: pending_tx,
            retrying: retrying_tx,
            served: Mutex::new(std::collections::VecDeque::new()),
            violations: Mutex::new(Vec::new()),
            spec_checks,
        });
        tokio::spawn(deliver_loop(shared.clone(), rx));
        let server = SandboxServer::start(routes::router(shared.clone()), faults).await?;
        Ok(Sandbox {
            server,
            shared,
            pending: pending_rx,
            retrying: retrying_rx,
        })
    }

    /// The store root URL (`http://127.0.0.1:PORT/`); the API is under `/api/`.
    pub fn base_url(&self) -> url::Url {
        self.server.base_url()
    }

    /// The config in use.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// The personal token the sandbox accepts.
    pub fn personal_token(&self) -> SecretString {
        SecretString::from(
            self.shared
                .config
                .personal_token
                .clone()
                .unwrap_or_default(),
        )
    }

    /// A client builder pointed at the sandbox with the personal token and no client-side limit.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .domain_prefix(self.shared.config.domain_prefix.clone())
            .base_url(self.base_url().as_str())
            .personal_token(self.personal_token())
            .unlimited()
    }

    /// A client for the sandbox (personal token).
    pub async fn client(&self) -> crate::Result<Client> {
        self.client_builder().build().await
    }

    /// The OAuth app the sandbox knows, pointed at its `/connect` and token endpoint.
    pub fn oauth_app(&self, redirect_uri: &str) -> OAuthApp {
        let base = self.base_url();
        OAuthApp::new(
            self.shared.config.client_id.clone(),
            SecretString::from(self.shared.config.client_secret.clone()),
            redirect_uri,
        )
        .with_authorize_url(format!("{base}connect"))
        .with_token_base_url(base.as_str())
    }

    /// Plays the retailer approving the app: returns the redirect URL with `code`,
    /// `domain_prefix` and `state`, as `/connect` would.
    pub fn approve(&self, redirect_uri: &str, state: &str) -> String {
        let code = {
            let mut st = self.lock();
            let code = st.new_token("code");
            st.auth_codes.insert(code.clone(), redirect_uri.to_owned());
            code
        };
        let mut url = url::Url::parse(redirect_uri).unwrap_or_else(|_| self.base_url());
        url.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("domain_prefix", &self.shared.config.domain_prefix)
            .append_pair("state", state);
        url.to_string()
    }

    /// Expires every issued OAuth access token (the next call gets a 401).
    pub fn expire_access_tokens(&self) {
        self.lock().access_tokens.clear();
    }

    /// Revokes every refresh token (the store must be authorised again).
    pub fn revoke_refresh_tokens(&self) {
        self.lock().refresh_tokens.clear();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a handler panicked; the data is still usable for a test fake.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The store's data, for inspection (holds a lock: do not keep it across `.await`).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.lock()
    }

    /// Changes the store's data directly (no webhooks fire).
    pub fn with_state<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        change(&mut self.lock())
    }

    /// Adds a completed sale at an outlet, with `(product, quantity)` lines at their prices.
    /// Stock goes down as on the POS; `sale.update` and `inventory.update` fire.
    pub fn add_sale(
        &self,
        outlet: &OutletId,
        lines: &[(ProductId, rust_decimal::Decimal)],
        customer: Option<CustomerId>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Sale> {
        let mut events = Vec::new();
        let sale = {
            let mut st = self.lock();
            let o = st.outlets.get(outlet.as_str())?.clone();
            let r = st
                .registers
                .all()
                .find(|r| r.outlet_id == outlet.0)?
                .clone();
            let users = st.users.live();
            let pts = st.payment_types.live();
            let tax = st.taxes.live().into_iter().find(|t| t.is_default);
            let rate = tax.as_ref().map(|t| t.total_rate()).unwrap_or_default();
            let mut items = Vec::new();
            for (n, (pid, qty)) in lines.iter().enumerate() {
                let p = st.products.get(pid.as_str())?.clone();
                let price = p.price_excluding_tax.unwrap_or_default();
                let unit_tax = (price * rate).round_dp(5);
                items.push(LineItem {
                    id: LineItemId(st.new_id()),
                    product_id: Some(p.id.clone()),
                    tax_id: tax.as_ref().map(|t| TaxId(t.id.clone())),
                    quantity: *qty,
                    price,
                    price_total: (price * qty).round_dp(5),
                    cost: p.supply_price.unwrap_or_default(),
                    cost_total: (p.supply_price.unwrap_or_default() * qty).round_dp(5),
                    tax: unit_tax,
                    tax_total: (unit_tax * qty).round_dp(5),
                    is_return: qty.is_sign_negative(),
                    status: Some(crate::enums::LineItemStatus::Confirmed),
                    sequence: n as i64,
                    ..Default::default()
                });
            }
            let sale = seed::build_sale(
                &mut st,
                &o,
                &r,
                &users,
                items,
                customer,
                at,
                crate::enums::SaleStatus::Closed,
                crate::enums::SaleState::Closed,
                &pts,
            );
            let sale = st.upsert(|s| &mut s.sales, sale);
            for (pid, qty) in lines {
                let rec = st
                    .inventory
                    .all()
                    .find(|i| &i.product_id == pid && &i.outlet_id == outlet)
                    .cloned();
                if let Some(mut rec) = rec {
                    rec.inventory_level -= *qty;
                    let rec = st.upsert(|s| &mut s.inventory, rec);
                    events.push(hooks::inventory_event(&st, &rec));
                }
            }
            events.insert(0, hooks::sale_event(&st, &sale));
            sale
        };
        for e in events {
            self.shared.emit(e);
        }
        Some(sale)
    }

    /// Adds an outlet in a time zone, with one register.
    pub fn add_outlet(&self, name: &str, time_zone: chrono_tz::Tz) -> Outlet {
        let mut st = self.lock();
        let o = records::OutletRow::new(st.new_id(), name.to_owned(), time_zone);
        let o = st.upsert(|s| &mut s.outlets, o);
        let mut r = records::RegisterRow::new(
            st.new_id(),
            format!("{name} Register 1"),
            o.id.clone(),
            name.chars().take(3).collect::<String>().to_uppercase(),
        );
        r.invoice_sequence = 0;
        r.receipt_template_id = shape::stable_id(&st, "receipt-template");
        st.upsert(|s| &mut s.registers, r);
        // Existing products get an empty stock record at the new outlet, as on the real store.
        let products: Vec<ProductId> = st.products.live().into_iter().map(|p| p.id).collect();
        for pid in products {
            let rec = Inventory {
                id: InventoryId(st.new_id()),
                product_id: pid,
                outlet_id: OutletId(o.id.clone()),
                ..Default::default()
            };
            st.upsert(|s| &mut s.inventory, rec);
        }
        records::decode(&o).unwrap_or_default()
    }

    /// Adds a product (or a family of variants) as `POST /api/2.0/products` would; returns the ids.
    pub fn add_product(&self, product: &ProductCreate) -> Vec<ProductId> {
        seed::insert_product(&mut self.lock(), product)
    }

    /// Adds a customer as if created on the POS.
    pub fn add_customer(&self, customer: Customer) -> Customer {
        let c = {
            let mut st = self.lock();
            let mut c = customer;
            if c.id.as_str().is_empty() {
                c.id = CustomerId(st.new_id());
            }
            c.created_at.get_or_insert_with(chrono::Utc::now);
            if c.updated_at.is_none() {
                c.updated_at = c.created_at;
            }
            // The store gives every customer a code (searchable, like the POS does).
            if c.customer_code.as_deref().is_none_or(str::is_empty) {
                let tail = c.id.0.rsplit('-').next().unwrap_or("0").to_uppercase();
                c.customer_code = Some(format!("C-{tail}"));
            }
            st.upsert(|s| &mut s.customers, c)
        };
        self.shared.emit(hooks::customer_event(&c));
        c
    }

    /// Adds a clock-in shift of a user.
    pub fn add_shift(
        &self,
        user: &UserId,
        time_in: chrono::DateTime<chrono::Utc>,
        time_out: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Shift {
        let mut st = self.lock();
        let sh = records::ShiftRow {
            id: st.new_id(),
            retailer_id: st.retailer.id.0.clone(),
            user_id: user.0.clone(),
            time_in,
            time_out,
            created_at: time_in,
            updated_at: time_out.unwrap_or(time_in),
            updated_by: user.0.clone(),
            version: 0,
        };
        let sh = st.upsert(|s| &mut s.shifts, sh);
        records::decode(&sh).unwrap_or_default()
    }

    /// Changes a customer as if edited on the POS (bumps its version; `customer.update` fires).
    pub fn update_customer(
        &self,
        id: &CustomerId,
        change: impl FnOnce(&mut Customer),
    ) -> Option<Customer> {
        let c = {
            let mut st = self.lock();
            let mut c = st.customers.get(id.as_str())?.clone();
            change(&mut c);
            c.updated_at = Some(chrono::Utc::now());
            st.upsert(|s| &mut s.customers, c)
        };
        self.shared.emit(hooks::customer_event(&c));
        Some(c)
    }

    /// Deletes a customer as if on the POS (a tombstone, listed only with `deleted=true`).
    pub fn delete_customer(&self, id: &CustomerId) -> Option<Customer> {
        self.update_customer(id, |c| c.deleted_at = Some(chrono::Utc::now()))
    }

    /// Changes a product as if edited on the POS (bumps its version; `product.update` fires).
    pub fn update_product(
        &self,
        id: &ProductId,
        change: impl FnOnce(&mut Product),
    ) -> Option<Product> {
        let (p, e) = {
            let mut st = self.lock();
            let mut p = st.products.get(id.as_str())?.clone();
            change(&mut p);
            p.updated_at = Some(chrono::Utc::now());
            let p = st.upsert(|s| &mut s.products, p);
            let e = hooks::product_event(&st, &p);
            (p, e)
        };
        self.shared.emit(e);
        Some(p)
    }

    /// Waits until every queued webhook delivery was attempted once (retries may follow: see
    /// [`WebhookRetry`] and [`Sandbox::flush_webhook_retries`]).
    pub async fn flush_webhooks(&self) {
        let mut rx = self.pending.clone();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Waits until no delivery is waiting to be sent again (each was accepted, ran out of
    /// retries, or lost its webhook). With the default [`WebhookRetry`] that can take 48 hours:
    /// use it with short retry delays or tokio's paused clock.
    pub async fn flush_webhook_retries(&self) {
        self.flush_webhooks().await;
        let mut rx = self.retrying.clone();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Responses the sandbox was about to send that broke the official spec (each was answered as
    /// a 500 instead). Empty when every response matched, or when the checks are off.
    pub fn spec_violations(&self) -> Vec<SpecViolation> {
        self.shared
            .violations
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Whether requests and responses are being checked against the official specs.
    pub fn spec_checks_active(&self) -> bool {
        oracle::enabled(&self.shared)
    }

    /// What the server served (requests by route, injected faults).
    pub fn stats(&self) -> ServedStats {
        self.server.stats()
    }

    /// Change faults (429 bursts, 5xx, latency, drops, lost responses) at run time.
    pub fn faults(&self) -> FaultHandle {
        self.server.faults()
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_never_sends_the_client_back_early() {
        for ms in [1, 500, 999, 1000, 1001, 1500, 2999] {
            let wait = Duration::from_millis(ms);
            let before = SystemTime::now();
            let response = throttle_response(wait);
            let date = response
                .headers()
                .get(axum::http::header::RETRY_AFTER)
                .unwrap()
                .to_str()
                .unwrap();
            let at = httpdate::parse_http_date(date).unwrap();
            assert!(at >= before + wait, "{ms} ms: {date}");
            assert!(
                at <= SystemTime::now() + wait.max(Duration::from_secs(1)) + Duration::from_secs(1),
                "{ms} ms: {date}"
            );
        }
    }
}
