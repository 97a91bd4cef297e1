//! Webhook subscriptions (create, renew before the 3-day expiry, delete) and a receiver helper
//! that answers the `validationToken` handshake and parses notifications, checking `clientState`.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use pos_http::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use crate::client::{Api, Client};
use crate::error::Error;
use crate::models::{Subscription, SubscriptionInput};
use crate::resources::EntitySet;
use crate::values::{bc_enum, opt_datetime};

/// How long Business Central keeps a subscription alive without renewal.
pub const SUBSCRIPTION_LIFETIME_DAYS: i64 = 3;

impl Api {
    /// `subscriptions` of this route (not company-scoped).
    pub fn subscriptions(&self) -> EntitySet<Subscription> {
        self.entity_set("subscriptions")
    }
}

impl Client {
    /// `subscriptions` of API v2.0.
    pub fn subscriptions(&self) -> EntitySet<Subscription> {
        self.api().subscriptions()
    }
}

impl EntitySet<Subscription> {
    /// Subscribes `notification_url` to changes of `resource`
    /// (`/api/v2.0/companies({id})/customers`). Business Central calls the URL with a
    /// `validationToken` before answering.
    pub async fn subscribe(
        &self,
        notification_url: &str,
        resource: &str,
        client_state: &SecretString,
    ) -> Result<Subscription, Error> {
        let input = SubscriptionInput::new()
            .notification_url(notification_url)
            .resource(resource)
            .client_state(client_state.expose_secret());
        self.create(&input).await
    }

    /// Renews a subscription for another three days (`PATCH` with its ETag); the handshake is
    /// repeated.
    pub async fn renew(&self, sub: &Subscription) -> Result<Subscription, Error> {
        let input = SubscriptionInput::new()
            .notification_url(sub.notification_url.clone())
            .resource(sub.resource.clone())
            .client_state(sub.client_state.clone());
        self.update_entity(sub, &input).await
    }

    /// Deletes a subscription (with its ETag, which Business Central requires here).
    pub async fn unsubscribe(&self, sub: &Subscription) -> Result<(), Error> {
        let (id, etag) = crate::resources::id_and_etag(sub)?;
        self.delete(&id, Some(&etag)).await
    }
}

impl Subscription {
    /// Whether the subscription expires within `margin` of `now` (renew it then).
    pub fn needs_renewal(&self, now: DateTime<Utc>, margin: ChronoDuration) -> bool {
        self.expiration_date_time
            .is_none_or(|exp| exp - margin <= now)
    }
}

bc_enum! {
    /// What changed.
    ChangeType {
        /// An entity was created.
        Created => "created",
        /// An entity was updated.
        Updated => "updated",
        /// An entity was deleted.
        Deleted => "deleted",
        /// Too many changes to list: re-read the collection with the filter in `resource`.
        Collection => "collection",
    }
}

/// One change notification. It carries no entity data: read the resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The subscription it belongs to.
    #[serde(default)]
    pub subscription_id: String,
    #[serde(default)]
    client_state: String,
    /// When the subscription expires.
    #[serde(default, with = "opt_datetime")]
    pub expiration_date_time: Option<DateTime<Utc>>,
    /// The changed entity (`api/v2.0/companies(…)/customers(…)`) or, for `collection`, the
    /// collection with a `$filter` to re-read.
    #[serde(default)]
    pub resource: String,
    /// What changed.
    pub change_type: ChangeType,
    /// When it changed.
    #[serde(default, with = "opt_datetime")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

impl Notification {
    /// The id of the changed entity (the GUID in the resource's last `(...)`).
    pub fn entity_id(&self) -> Option<Uuid> {
        let path = self.resource.split('?').next().unwrap_or("");
        let last = path.rsplit('/').next()?;
        let inner = last.split_once('(')?.1.strip_suffix(')')?;
        Uuid::parse_str(inner).ok()
    }

    /// The company id in the resource.
    pub fn company_id(&self) -> Option<crate::ids::CompanyId> {
        let start = self.resource.find("companies(")? + "companies(".len();
        let rest = &self.resource[start..];
        let end = rest.find(')')?;
        Uuid::parse_str(&rest[..end])
            .ok()
            .map(crate::ids::CompanyId)
    }

    /// The entity set named in the resource (`customers`).
    pub fn entity_set(&self) -> Option<&str> {
        let path = self.resource.split('?').next().unwrap_or("");
        let last = path.trim_end_matches('/').rsplit('/').next()?;
        Some(last.split('(').next().unwrap_or(last)).filter(|s| !s.is_empty())
    }
}

#[derive(Deserialize)]
struct NotificationBody {
    #[serde(default)]
    value: Vec<Notification>,
}

/// What a webhook endpoint should answer.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookReply {
    /// The handshake: answer 200 with the token as a `text/plain` body.
    Validation(String),
    /// Notifications whose `clientState` matched: answer 202 quickly, process them afterwards.
    Notifications(Vec<Notification>),
    /// A request that is not a valid notification (bad body or wrong `clientState`): answer 400.
    /// (Business Central deletes a subscription on such codes, so only forged or broken calls get
    /// it.)
    Rejected(String),
}

impl WebhookReply {
    /// The HTTP status to answer.
    pub fn status(&self) -> u16 {
        match self {
            WebhookReply::Validation(_) => 200,
            WebhookReply::Notifications(_) => 202,
            WebhookReply::Rejected(_) => 400,
        }
    }
    /// The body to answer (the token for a handshake, else empty).
    pub fn body(&self) -> &str {
        match self {
            WebhookReply::Validation(t) => t,
            _ => "",
        }
    }
}

/// Handles calls to a webhook endpoint, whatever the web framework.
#[derive(Clone)]
pub struct WebhookHandler {
    client_state: SecretString,
}

impl std::fmt::Debug for WebhookHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookHandler { client_state: [redacted] }")
    }
}

impl WebhookHandler {
    /// A handler expecting this `clientState` (the one given when subscribing).
    pub fn new(client_state: SecretString) -> Self {
        Self { client_state }
    }

    /// Handles one call: `query` is the raw query string (without `?`), `body` the request body.
    pub fn handle(&self, query: Option<&str>, body: &[u8]) -> WebhookReply {
        if let Some((_, token)) = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "validationToken")
        }) {
            return WebhookReply::Validation(token.into_owned());
        }
        let parsed: NotificationBody = match serde_json::from_slice(body) {
            Ok(b) => b,
            Err(e) => return WebhookReply::Rejected(format!("not a notification body: {e}")),
        };
        let expected = self.client_state.expose_secret().as_bytes();
        if let Some(bad) = parsed
            .value
            .iter()
            .find(|n| !constant_time_eq(n.client_state.as_bytes(), expected))
        {
            return WebhookReply::Rejected(format!(
                "clientState mismatch for subscription `{}`",
                bad.subscription_id
            ));
        }
        WebhookReply::Notifications(parsed.value)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"value":[
      {"subscriptionId":"subs1","clientState":"s3cret","expirationDateTime":"2026-11-26T07:52:31Z",
       "resource":"api/v2.0/companies(b18aed47-c385-49d2-b954-dbdf8ad71780)/customers(130bbd17-dbb9-4790-9b12-2b0e9c9d22c3)",
       "changeType":"created","lastModifiedDateTime":"2026-11-23T12:54:26.057Z"},
      {"subscriptionId":"subs2","clientState":"s3cret","expirationDateTime":"2026-11-26T07:52:31Z",
       "resource":"/api/v2.0/companies(b18aed47-c385-49d2-b954-dbdf8ad71780)/salesInvoices?$filter=lastDateTimeModified%20gt%202026-11-23T11:00:00Z",
       "changeType":"collection","lastModifiedDateTime":"2026-11-23T12:54:30.503Z"},
      {"subscriptionId":"subs3","clientState":"s3cret","resource":"api/v2.0/companies(b18aed47-c385-49d2-b954-dbdf8ad71780)/items(26814998-936a-401c-81c1-0e848a64971d)",
       "changeType":"somethingNew"}]}"#;

    #[test]
    fn handshake_echoes_token() {
        let h = WebhookHandler::new("s3cret".into());
        let r = h.handle(Some("validationToken=abc%2Bdef"), b"");
        assert_eq!(r, WebhookReply::Validation("abc+def".into()));
        assert_eq!((r.status(), r.body()), (200, "abc+def"));
    }

    #[test]
    fn parses_notifications_including_collection() {
        let h = WebhookHandler::new("s3cret".into());
        let WebhookReply::Notifications(n) = h.handle(None, BODY.as_bytes()) else {
            panic!()
        };
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].change_type, ChangeType::Created);
        assert_eq!(
            n[0].entity_id().unwrap().to_string(),
            "130bbd17-dbb9-4790-9b12-2b0e9c9d22c3"
        );
        assert_eq!(n[0].entity_set(), Some("customers"));
        assert_eq!(
            n[1].company_id().unwrap().to_string(),
            "b18aed47-c385-49d2-b954-dbdf8ad71780"
        );
        assert_eq!(n[1].change_type, ChangeType::Collection);
        assert_eq!(n[1].entity_set(), Some("salesInvoices"));
        assert_eq!(n[1].entity_id(), None);
        assert_eq!(n[2].change_type, ChangeType::Other("somethingNew".into()));
    }

    #[test]
    fn wrong_client_state_or_garbage_is_rejected() {
        let h = WebhookHandler::new("other".into());
        assert_eq!(h.handle(None, BODY.as_bytes()).status(), 400);
        let h = WebhookHandler::new("s3cret".into());
        assert_eq!(h.handle(None, b"<html>").status(), 400);
        assert!(!format!("{h:?}").contains("s3cret"));
    }

    #[test]
    fn renewal_due() {
        let sub = Subscription {
            expiration_date_time: Some(Utc::now() + ChronoDuration::hours(5)),
            ..Default::default()
        };
        assert!(sub.needs_renewal(Utc::now(), ChronoDuration::hours(12)));
        assert!(!sub.needs_renewal(Utc::now(), ChronoDuration::hours(1)));
    }
}
