use super::versioned;
use crate::decode;
use crate::ids::{InventoryId, OutletId, ProductId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Stock of one product at one outlet (`GET /inventory` in 2.0, `POST /inventory` and
/// `GET /inventory/{product_id}` in the date versions).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Inventory {
    /// Record id.
    pub id: InventoryId,
    /// Product.
    pub product_id: ProductId,
    /// Outlet.
    pub outlet_id: OutletId,
    /// Quantity on hand: `inventory_level` in 2.0, `current_inventory_level` in the date versions.
    #[serde(with = "decode::decimal", alias = "current_inventory_level")]
    pub inventory_level: Decimal,
    /// Reorder point.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_point: Option<Decimal>,
    /// Reorder amount.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_amount: Option<Decimal>,
    /// Level to reorder up to (`MIN_MAX` reordering; date versions).
    #[serde(with = "decode::decimal_opt", skip_serializing_if = "Option::is_none")]
    pub reorder_target: Option<Decimal>,
    /// How reorders are sized: `FIXED` or `MIN_MAX` (date versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reorder_method: Option<String>,
    /// Quantity to order to reach the reorder level (date versions).
    #[serde(with = "decode::decimal_opt", skip_serializing_if = "Option::is_none")]
    pub quantity_to_procure: Option<Decimal>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn both_level_names_decode() {
        // The 2.0 example of `GET /inventory` and the 2026-07 example of `POST /inventory`.
        let legacy: Inventory = serde_json::from_str(
            r#"{"id": "i", "product_id": "p", "outlet_id": "o", "inventory_level": -10, "version": 3426971}"#,
        )
        .unwrap();
        assert_eq!(legacy.inventory_level, dec!(-10));
        let dated: Inventory = serde_json::from_str(
            r#"{"current_inventory_level": 6, "id": "c", "outlet_id": "o", "product_id": "p",
                "quantity_to_procure": 2, "reorder_amount": 54, "reorder_method": "MIN_MAX",
                "reorder_point": 10, "reorder_target": 60, "version": 1639941}"#,
        )
        .unwrap();
        assert_eq!(dated.inventory_level, dec!(6));
        assert_eq!(dated.reorder_target, Some(dec!(60)));
        assert_eq!(dated.quantity_to_procure, Some(dec!(2)));
        assert_eq!(dated.reorder_method.as_deref(), Some("MIN_MAX"));
        let nulls: Inventory = serde_json::from_str(
            r#"{"current_inventory_level": 0.5, "id": "z", "outlet_id": "o", "product_id": "p",
                "reorder_amount": null, "reorder_method": null, "reorder_point": null,
                "reorder_target": null, "average_cost": null, "deleted_at": null, "version": 1}"#,
        )
        .unwrap();
        assert_eq!(nulls.inventory_level, dec!(0.5));
        assert_eq!(nulls.reorder_method, None);
    }
}
