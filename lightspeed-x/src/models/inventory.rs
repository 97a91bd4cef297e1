use super::versioned;
use crate::decode;
use crate::ids::{InventoryId, OutletId, ProductId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Stock of one product at one outlet (`GET /inventory`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    /// Record id.
    pub id: InventoryId,
    /// Product.
    pub product_id: ProductId,
    /// Outlet.
    pub outlet_id: OutletId,
    /// Quantity on hand (`current_inventory_level` in newer versions).
    #[serde(with = "decode::decimal", alias = "current_inventory_level")]
    pub inventory_level: Decimal,
    /// Reorder point.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_point: Option<Decimal>,
    /// Reorder amount.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_amount: Option<Decimal>,
    /// Average cost, when sent.
    #[serde(with = "decode::decimal_opt")]
    pub average_cost: Option<Decimal>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Inventory);
