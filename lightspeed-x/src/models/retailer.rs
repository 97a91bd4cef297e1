use crate::decode;
use crate::ids::{ProductId, RetailerId, TaxId};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The store account (`GET /retailer`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retailer {
    /// Retailer id.
    pub id: RetailerId,
    /// Store subdomain; builds the base URL.
    pub domain_prefix: String,
    /// Store name.
    pub name: String,
    /// Store URL.
    pub store_url: Option<String>,
    /// Account status.
    pub account_status: Option<String>,
    /// Account type.
    pub account_type: Option<String>,
    /// Culture (language).
    pub culture: Option<String>,
    /// Default time zone of the store (outlets may differ).
    #[serde(with = "decode::time_zone_opt")]
    pub timezone: Option<Tz>,
    /// Whether prices are entered without tax.
    #[serde(with = "decode::flexible_bool")]
    pub tax_exclusive: bool,
    /// Two-letter country code.
    pub country: Option<String>,
    /// Store currency.
    pub currency: Option<Currency>,
    /// Product used for sale-level discounts.
    pub discount_product_id: Option<ProductId>,
    /// The 0% "No Tax" tax used for tax-free lines.
    pub no_tax_group_id: Option<TaxId>,
    /// Whether store credit is enabled.
    #[serde(with = "decode::flexible_bool")]
    pub store_credit: bool,
    /// Loyalty settings, as sent.
    pub loyalty: Option<serde_json::Value>,
    /// Gift card settings, as sent.
    pub gift_cards: Option<serde_json::Value>,
}

/// A currency code and symbol.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Currency {
    /// ISO code, e.g. `NZD`.
    pub code: String,
    /// Symbol, e.g. `$`.
    pub symbol: String,
}
