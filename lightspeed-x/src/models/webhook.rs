use crate::decode;
use crate::enums::WebhookType;
use crate::ids::{RetailerId, UserId, WebhookId};
use serde::{Deserialize, Serialize};

/// A webhook subscription (`/webhooks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Webhook {
    /// Webhook id.
    pub id: WebhookId,
    /// Retailer.
    pub retailer_id: Option<RetailerId>,
    /// User who created it.
    #[serde(with = "decode::string_opt")]
    pub user_id: Option<String>,
    /// Target URL.
    pub url: String,
    /// Whether it is enabled.
    #[serde(with = "decode::flexible_bool")]
    pub active: bool,
    /// Event type.
    #[serde(rename = "type")]
    pub kind: WebhookType,
}

impl Default for Webhook {
    fn default() -> Self {
        Webhook {
            id: WebhookId::default(),
            retailer_id: None,
            user_id: None,
            url: String::new(),
            active: false,
            kind: WebhookType::Other(String::new()),
        }
    }
}

impl Webhook {
    /// The creating user as a [`UserId`], when it is one.
    pub fn user(&self) -> Option<UserId> {
        self.user_id.clone().map(UserId)
    }
}

/// Body to create or update a webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookRequest {
    /// Target URL (at least 3 characters).
    pub url: String,
    /// Whether it is enabled.
    pub active: bool,
    /// Event type.
    #[serde(rename = "type")]
    pub kind: WebhookType,
}
