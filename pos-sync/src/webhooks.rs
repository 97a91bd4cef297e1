//! The webhook receiver of the `webhook_receiver` example: routes, verification and dispatch to
//! [`sync_core::trigger`], plus the webhook subscriptions it keeps alive.
//!
//! - `POST /webhooks/lightspeed`: a Lightspeed delivery. The `X-Signature` is verified against the
//!   raw body (401 when missing or wrong), the form-encoded payload is parsed (400 when broken),
//!   `sale.update` goes to the sales trigger with the sale's version, and the answer is 200 at
//!   once: the run happens afterwards, well within Lightspeed's 5-second limit.
//! - `/webhooks/business-central` (any method): the `validationToken` handshake (200 with the
//!   token), or notifications: `clientState` checked (400 on a mismatch, which only forged calls
//!   get), then 202 at once. Processing follows on a bounded queue (429 when it is full, which
//!   Business Central retries later): `items` changes go to the stock trigger; a changed sales
//!   order is read for the items of its lines; `collection` notifications re-query the items
//!   changed since the time in their filter; a deleted order or an unreadable collection asks
//!   the stock trigger for a full run.
//!
//! Events carry only ids and versions: the triggered runs read the records from the APIs, so a
//! delivery, even a forged one, cannot change what is written; at worst it causes a read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use business_central::models::{Item, SalesOrder, Subscription};
use business_central::query::{Expand, Filter, Query};
use business_central::webhook::{ChangeType, Notification, WebhookHandler, WebhookReply};
use chrono::{DateTime, Utc};
use lightspeed_x::WebhookType;
use lightspeed_x::webhook::{WebhookDelivery, WebhookEvent};
use pos_sync_flows::lightspeed_business_central::Accounts;
use secrecy::SecretString;
use sync_core::trigger::{Accepted, ChangeEvent, Trigger};
use tokio::sync::mpsc;

/// Path of the Lightspeed endpoint.
pub const LIGHTSPEED_PATH: &str = "/webhooks/lightspeed";
/// Path of the Business Central endpoint.
pub const BUSINESS_CENTRAL_PATH: &str = "/webhooks/business-central";
/// Notification bodies waiting to be processed before the endpoint answers 429.
pub const NOTIFICATION_QUEUE: usize = 64;

/// Counters of the receiver.
#[derive(Debug, Default)]
pub struct ReceiverStats {
    /// Lightspeed deliveries accepted.
    pub lightspeed_accepted: AtomicU64,
    /// Lightspeed deliveries refused (signature or body).
    pub lightspeed_refused: AtomicU64,
    /// Business Central notifications accepted.
    pub notifications: AtomicU64,
    /// Business Central calls refused (clientState or body).
    pub notifications_refused: AtomicU64,
    /// Business Central calls answered 429 because processing was behind.
    pub notifications_deferred: AtomicU64,
    /// Events that found a trigger's queue full (covered by a full run).
    pub collapsed: AtomicU64,
}

impl ReceiverStats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the receiver needs to verify calls.
#[derive(Clone)]
pub struct ReceiverSecrets {
    /// The Lightspeed app's client secret, which signs deliveries (`None`: deliveries are not
    /// signed, as with personal-token webhooks, and are accepted unverified).
    pub lightspeed: Option<SecretString>,
    /// The `clientState` given when subscribing in Business Central.
    pub client_state: SecretString,
}

impl std::fmt::Debug for ReceiverSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiverSecrets { [redacted] }")
    }
}

/// The receiver: verifies, answers, and hands events to the triggers.
pub struct Receiver {
    lightspeed_secret: Option<SecretString>,
    business_central: WebhookHandler,
    sales: Trigger,
    stock: Trigger,
    work: mpsc::Sender<Vec<Notification>>,
    stats: ReceiverStats,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("sales", &self.sales.scope())
            .field("stock", &self.stock.scope())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver feeding the sales trigger (Lightspeed sales) and the stock trigger (Business
    /// Central items). Starts the task that processes notifications (needs a tokio runtime).
    pub fn new(
        secrets: ReceiverSecrets,
        accounts: Accounts,
        sales: Trigger,
        stock: Trigger,
    ) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(NOTIFICATION_QUEUE);
        let receiver = Arc::new(Self {
            lightspeed_secret: secrets.lightspeed,
            business_central: WebhookHandler::new(secrets.client_state),
            sales,
            stock: stock.clone(),
            work: tx,
            stats: ReceiverStats::default(),
        });
        tokio::spawn(process_notifications(
            accounts,
            stock,
            Arc::downgrade(&receiver),
            rx,
        ));
        receiver
    }

    /// The routes ([`LIGHTSPEED_PATH`], [`BUSINESS_CENTRAL_PATH`]).
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(LIGHTSPEED_PATH, post(lightspeed))
            .route(BUSINESS_CENTRAL_PATH, any(business_central))
            .with_state(Arc::clone(self))
    }

    /// The counters.
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }

    /// The sales trigger.
    pub fn sales(&self) -> &Trigger {
        &self.sales
    }

    /// The stock trigger.
    pub fn stock(&self) -> &Trigger {
        &self.stock
    }

    /// Handles one Lightspeed delivery: returns the status to answer.
    pub fn lightspeed_delivery(&self, signature: Option<&str>, body: &[u8]) -> StatusCode {
        if let Some(secret) = &self.lightspeed_secret {
            let verified = signature
                .ok_or(lightspeed_x::webhook::WebhookError::MalformedSignature)
                .and_then(|s| lightspeed_x::webhook::verify_signature(secret, s, body));
            if let Err(e) = verified {
                ReceiverStats::bump(&self.stats.lightspeed_refused);
                tracing::warn!(error = %e, "Lightspeed webhook refused");
                return StatusCode::UNAUTHORIZED;
            }
        }
        // The URL is registered for `sale.update` only; the `type` field is not guaranteed.
        let event = WebhookDelivery::parse(body).and_then(|d| {
            let kind = d.kind.clone().unwrap_or(WebhookType::SaleUpdate);
            d.event(Some(kind))
        });
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                ReceiverStats::bump(&self.stats.lightspeed_refused);
                tracing::warn!(error = %e, "Lightspeed webhook not understood");
                return StatusCode::BAD_REQUEST;
            }
        };
        ReceiverStats::bump(&self.stats.lightspeed_accepted);
        if let WebhookEvent::SaleUpdate(sale) = event {
            let mut e = ChangeEvent::new("lightspeed", "sale", sale.id.0.clone());
            e = match (sale.version, sale.updated_at) {
                (Some(v), _) => e.with_version(v),
                (None, Some(at)) => e.modified_at(at),
                (None, None) => e,
            };
            self.note(self.sales.submit(e));
        }
        StatusCode::OK
    }

    /// Handles one Business Central call: returns the status and body to answer.
    pub fn business_central_call(&self, query: Option<&str>, body: &[u8]) -> (StatusCode, String) {
        let reply = self.business_central.handle(query, body);
        let status = StatusCode::from_u16(reply.status()).unwrap_or(StatusCode::BAD_REQUEST);
        match reply {
            WebhookReply::Validation(token) => (status, token),
            WebhookReply::Rejected(why) => {
                ReceiverStats::bump(&self.stats.notifications_refused);
                tracing::warn!(reason = %why, "Business Central notification refused");
                (status, String::new())
            }
            WebhookReply::Notifications(list) => {
                let n = list.len() as u64;
                match self.work.try_send(list) {
                    Ok(()) => {
                        self.stats.notifications.fetch_add(n, Ordering::Relaxed);
                        (status, String::new())
                    }
                    Err(_) => {
                        // Business Central retries 429 later; the subscription stays.
                        ReceiverStats::bump(&self.stats.notifications_deferred);
                        (StatusCode::TOO_MANY_REQUESTS, String::new())
                    }
                }
            }
        }
    }

    fn note(&self, accepted: Accepted) {
        if accepted == Accepted::Collapsed {
            ReceiverStats::bump(&self.stats.collapsed);
        }
    }
}

async fn lightspeed(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    receiver.lightspeed_delivery(signature, &body)
}

async fn business_central(
    State(receiver): State<Arc<Receiver>>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (status, text) = receiver.business_central_call(query.as_deref(), &body);
    if text.is_empty() {
        status.into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
    }
}

/// Processes notification bodies one by one, after the endpoint answered.
async fn process_notifications(
    accounts: Accounts,
    stock: Trigger,
    receiver: std::sync::Weak<Receiver>,
    mut rx: mpsc::Receiver<Vec<Notification>>,
) {
    while let Some(list) = rx.recv().await {
        for n in list {
            if let Err(e) = process(&accounts, &stock, &n).await {
                // The change is not lost: a full run reads every item.
                tracing::warn!(error = %e, resource = %n.resource, "notification could not be followed; running the stock flow in full");
                stock.poll_now();
            }
        }
        if receiver.strong_count() == 0 {
            return;
        }
    }
}

/// Turns one notification into stock events.
pub async fn process(
    accounts: &Accounts,
    stock: &Trigger,
    n: &Notification,
) -> Result<(), business_central::Error> {
    let company = accounts.company;
    if n.company_id().is_some_and(|c| c != company) {
        return Ok(());
    }
    let set = n.entity_set().unwrap_or_default().to_ascii_lowercase();
    let scope = accounts.bc();
    match (set.as_str(), &n.change_type) {
        ("items", ChangeType::Collection) => match collection_since(&n.resource) {
            Some(since) => {
                let query = Query::new()
                    .select(["id", "lastModifiedDateTime"])
                    .filter(Filter::field("lastModifiedDateTime").gt(since));
                let items: Vec<Item> = scope.items().list_all(query).await?;
                for item in items {
                    if let Some(id) = item.id {
                        let mut e = ChangeEvent::new("business-central", "item", id.to_string());
                        if let Some(at) = item.last_modified_date_time {
                            e = e.modified_at(at);
                        }
                        stock.submit(e);
                    }
                }
            }
            None => stock.poll_now(),
        },
        ("items", ChangeType::Created | ChangeType::Updated) => {
            if let Some(id) = n.entity_id() {
                let mut e = ChangeEvent::new("business-central", "item", id.to_string());
                if let Some(at) = n.last_modified_date_time {
                    e = e.modified_at(at);
                }
                stock.submit(e);
            }
        }
        ("salesorders", ChangeType::Created | ChangeType::Updated) => {
            let Some(id) = n.entity_id() else {
                return Ok(());
            };
            let query = Query::new()
                .select(["id"])
                .expand(Expand::new("salesOrderLines").select(["lineType", "itemId"]));
            let order: SalesOrder = match scope
                .sales_orders()
                .get_with(&business_central::SalesOrderId(id), query)
                .await
            {
                Ok(o) => o,
                // Gone since: its reservations went with it; a full run sets the levels.
                Err(business_central::Error::NotFound(_)) => {
                    stock.poll_now();
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            for line in order.sales_order_lines.iter().flatten() {
                if let Some(item) = line.item_id {
                    stock.submit(ChangeEvent::new(
                        "business-central",
                        "item",
                        item.to_string(),
                    ));
                }
            }
        }
        ("salesorders", ChangeType::Deleted | ChangeType::Collection) => stock.poll_now(),
        _ => {}
    }
    Ok(())
}

/// The time in a `collection` notification's filter (`lastDateTimeModified gt 2026-11-23T11:00:00Z`).
pub fn collection_since(resource: &str) -> Option<DateTime<Utc>> {
    let (_, query) = resource.split_once('?')?;
    let decoded: String = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.into_owned())?;
    let mut words = decoded.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("gt") || w.eq_ignore_ascii_case("ge") {
            let value = words.next()?.trim_matches('\'');
            return DateTime::parse_from_rfc3339(value)
                .ok()
                .map(|t| t.with_timezone(&Utc));
        }
    }
    None
}

/// The webhooks and subscriptions the receiver keeps.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// The Lightspeed webhooks (`sale.update`).
    pub lightspeed: Vec<lightspeed_x::Webhook>,
    /// The Business Central subscriptions (`items`, `salesOrders`).
    pub business_central: Vec<Subscription>,
}

impl Subscriptions {
    /// Creates what is missing: a Lightspeed `sale.update` webhook to `{public_url}/webhooks/lightspeed`
    /// and Business Central subscriptions on the company's `items` and `salesOrders` to
    /// `{public_url}/webhooks/business-central` (Business Central calls it for the handshake
    /// before answering, so the receiver must already be listening). Existing ones are reused.
    pub async fn ensure(
        accounts: &Accounts,
        public_url: &str,
        client_state: &SecretString,
    ) -> anyhow::Result<Self> {
        let base = public_url.trim_end_matches('/');
        let ls_url = format!("{base}{LIGHTSPEED_PATH}");
        let bc_url = format!("{base}{BUSINESS_CENTRAL_PATH}");
        let mut out = Subscriptions::default();

        let hooks = accounts.lightspeed.webhooks();
        let existing = hooks.list().await?;
        match existing
            .into_iter()
            .find(|w| w.url == ls_url && w.kind == WebhookType::SaleUpdate)
        {
            Some(w) => out.lightspeed.push(w),
            None => out
                .lightspeed
                .push(hooks.create(&ls_url, WebhookType::SaleUpdate).await?),
        }

        let subs = accounts.business_central.subscriptions();
        let existing = subs.list_all(Query::new()).await?;
        for set in ["items", "salesOrders"] {
            let resource = format!("/api/v2.0/companies({})/{set}", accounts.company);
            let found = existing.iter().find(|s| {
                s.notification_url == bc_url
                    && s.resource.trim_start_matches('/') == resource.trim_start_matches('/')
            });
            let sub = match found {
                Some(s) => s.clone(),
                None => subs.subscribe(&bc_url, &resource, client_state).await?,
            };
            out.business_central.push(sub);
        }
        Ok(out)
    }

    /// Renews the Business Central subscriptions that expire within `margin` of `now`; returns
    /// how many it renewed.
    pub async fn renew_due(
        &mut self,
        accounts: &Accounts,
        now: DateTime<Utc>,
        margin: chrono::Duration,
    ) -> Result<usize, business_central::Error> {
        let subs = accounts.business_central.subscriptions();
        let mut renewed = 0;
        for sub in &mut self.business_central {
            if sub.needs_renewal(now, margin) {
                *sub = subs.renew(sub).await?;
                renewed += 1;
            }
        }
        Ok(renewed)
    }

    /// The earliest expiry of the Business Central subscriptions.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.business_central
            .iter()
            .filter_map(|s| s.expiration_date_time)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_filter_time() {
        let r = "api/v2.0/companies(b18aed47-c385-49d2-b954-dbdf8ad71780)/items?$filter=lastDateTimeModified%20gt%202026-11-23T11:00:00Z";
        assert_eq!(
            collection_since(r),
            Some("2026-11-23T11:00:00Z".parse().unwrap())
        );
        assert_eq!(collection_since("api/v2.0/companies(x)/items"), None);
        assert_eq!(collection_since("items?$filter=number eq '1'"), None);
    }
}
