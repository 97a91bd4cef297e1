use super::{Attribute, versioned};
use crate::decode;
use crate::enums::DisplayPrices;
use crate::ids::{OutletId, TaxId, Version};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A store location (`GET /outlets`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outlet {
    /// Outlet id.
    pub id: OutletId,
    /// Name.
    pub name: String,
    /// The outlet's IANA time zone; local reporting ("today's sales") uses it.
    #[serde(with = "decode::time_zone_opt")]
    pub time_zone: Option<Tz>,
    /// Default tax (deprecated by the API).
    pub default_tax_id: Option<TaxId>,
    /// Currency code.
    pub currency: Option<String>,
    /// Currency symbol.
    pub currency_symbol: Option<String>,
    /// Whether prices are shown with tax.
    pub display_prices: Option<DisplayPrices>,
    /// Address line 1.
    pub physical_address_1: Option<String>,
    /// Address line 2.
    pub physical_address_2: Option<String>,
    /// Suburb.
    pub physical_suburb: Option<String>,
    /// City.
    pub physical_city: Option<String>,
    /// Postcode.
    pub physical_postcode: Option<String>,
    /// State.
    pub physical_state: Option<String>,
    /// Country code.
    pub physical_country_id: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Latitude, as sent.
    #[serde(with = "decode::string_opt")]
    pub latitude: Option<String>,
    /// Longitude, as sent.
    #[serde(with = "decode::string_opt")]
    pub longitude: Option<String>,
    /// Extra attributes such as `order_reference_prefix`.
    #[serde(with = "decode::null_default")]
    pub attributes: Vec<Attribute>,
    /// When the outlet was deleted (only listed with `deleted=true`).
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Outlet);
