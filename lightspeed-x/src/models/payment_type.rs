use super::versioned;
use crate::decode;
use crate::ids::{PaymentTypeId, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A retailer payment type (`GET /payment_types`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentType {
    /// Payment type id (use this as the key, not `type_id`).
    pub id: PaymentTypeId,
    /// Name.
    pub name: String,
    /// Global payment kind (not unique).
    #[serde(with = "decode::int_lenient")]
    pub type_id: i64,
    /// Configuration, as sent.
    pub config: Option<serde_json::Value>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(PaymentType);
