use super::versioned;
use crate::decode;
use crate::enums::{ConsignmentStatus, ConsignmentType};
use crate::ids::{ConsignmentId, OutletId, ProductId, SupplierId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A stock order, transfer, count or return (`/consignments`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consignment {
    /// Consignment id.
    pub id: ConsignmentId,
    /// Receiving outlet.
    pub outlet_id: Option<OutletId>,
    /// Name.
    pub name: String,
    /// Date of the consignment.
    #[serde(with = "decode::timestamp_opt")]
    pub consignment_date: Option<DateTime<Utc>>,
    /// Due date.
    #[serde(with = "decode::timestamp_opt")]
    pub due_at: Option<DateTime<Utc>>,
    /// When received.
    #[serde(with = "decode::timestamp_opt")]
    pub received_at: Option<DateTime<Utc>>,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: ConsignmentType,
    /// Status.
    pub status: ConsignmentStatus,
    /// Supplier (stock orders).
    pub supplier_id: Option<SupplierId>,
    /// Sending outlet (transfers).
    pub source_outlet_id: Option<OutletId>,
    /// Supplier invoice number.
    pub supplier_invoice: Option<String>,
    /// Order number.
    pub reference: Option<String>,
    /// Items over the expected count (stocktakes).
    #[serde(with = "decode::decimal_opt")]
    pub total_count_gain: Option<Decimal>,
    /// Cost of items over the expected count.
    #[serde(with = "decode::decimal_opt")]
    pub total_cost_gain: Option<Decimal>,
    /// Items under the expected count.
    #[serde(with = "decode::decimal_opt")]
    pub total_count_loss: Option<Decimal>,
    /// Cost of items under the expected count.
    #[serde(with = "decode::decimal_opt")]
    pub total_cost_loss: Option<Decimal>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Consignment);

impl Default for Consignment {
    fn default() -> Self {
        Consignment {
            id: ConsignmentId::default(),
            outlet_id: None,
            name: String::new(),
            consignment_date: None,
            due_at: None,
            received_at: None,
            kind: ConsignmentType::Other(String::new()),
            status: ConsignmentStatus::Other(String::new()),
            supplier_id: None,
            source_outlet_id: None,
            supplier_invoice: None,
            reference: None,
            total_count_gain: None,
            total_cost_gain: None,
            total_count_loss: None,
            total_cost_loss: None,
            created_at: None,
            updated_at: None,
            deleted_at: None,
            version: None,
        }
    }
}

/// A product line of a consignment (count, received and cost arrive as strings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsignmentProduct {
    /// Product.
    pub product_id: ProductId,
    /// Product SKU.
    pub product_sku: Option<String>,
    /// Ordered or counted quantity.
    #[serde(with = "decode::decimal_opt")]
    pub count: Option<Decimal>,
    /// Received quantity.
    #[serde(with = "decode::decimal_opt")]
    pub received: Option<Decimal>,
    /// Unit cost.
    #[serde(with = "decode::decimal_opt")]
    pub cost: Option<Decimal>,
    /// Whether the line is included.
    #[serde(with = "decode::flexible_bool")]
    pub is_included: bool,
    /// Status (`PENDING`, `SUCCESS`).
    pub status: Option<String>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(ConsignmentProduct);
