use super::versioned;
use crate::decode;
use crate::ids::{OutletId, ProductId, TaxId, TaxRateId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A tax (group of rates) (`GET /taxes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tax {
    /// Tax id.
    pub id: TaxId,
    /// Name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Whether this is the default tax.
    #[serde(with = "decode::flexible_bool")]
    pub is_default: bool,
    /// The rates that make up the tax.
    #[serde(with = "decode::null_default")]
    pub rates: Vec<TaxRate>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Tax);

impl Tax {
    /// The total rate as a fraction (`0.15` = 15%).
    pub fn total_rate(&self) -> Decimal {
        self.rates.iter().map(|r| r.rate).sum()
    }
}

/// One rate of a tax.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaxRate {
    /// Rate id.
    pub id: TaxRateId,
    /// Name.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// The rate as a fraction (`0.15` = 15%).
    #[serde(with = "decode::decimal")]
    pub rate: Decimal,
}

/// The tax applied to a product at an outlet (`GET /outlet_taxes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutletTax {
    /// Outlet.
    pub outlet_id: OutletId,
    /// Product.
    pub product_id: ProductId,
    /// Tax.
    pub tax_id: TaxId,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(OutletTax);
