//! Webhook subscriptions.

use super::seg;
use crate::client::Client;
use crate::enums::WebhookType;
use crate::error::{Error, Result};
use crate::ids::WebhookId;
use crate::models::{Webhook, WebhookRequest};
use crate::paging::{Page, Single};

/// Webhook subscriptions of the calling application (`/webhooks`).
#[derive(Clone, Debug)]
pub struct Webhooks {
    client: Client,
}

impl Webhooks {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// The webhooks created by this application.
    pub async fn list(&self) -> Result<Vec<Webhook>> {
        let p: Page<Webhook> = self
            .client
            .http()
            .get(&self.client.path("webhooks"))
            .json_response()
            .await?;
        Ok(p.data)
    }

    /// Subscribes `url` to events of `kind`. A duplicate type and URL is [`Error::Conflict`].
    pub async fn create(&self, url: &str, kind: WebhookType) -> Result<Webhook> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::InvalidInput(format!("invalid webhook URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!(
                "webhook URL must be http(s): {url}"
            )));
        }
        let body = WebhookRequest {
            url: url.to_owned(),
            active: true,
            kind,
        };
        let r: Single<Webhook> = self
            .client
            .http()
            .post(&self.client.path("webhooks"))
            .json(&body)
            .json_response()
            .await?;
        Ok(r.data)
    }

    /// Deletes a webhook.
    pub async fn delete(&self, id: &WebhookId) -> Result<()> {
        self.client
            .http()
            .delete(&self.client.path(&format!("webhooks/{}", seg(id.as_str())?)))
            .send()
            .await?;
        Ok(())
    }
}
