//! The sandbox's own records: API-shaped rows written from the official 2.0 schemas
//! (`components/schemas` of `legacy-api-v2-0.json`), independent of the client's model types.
//!
//! A response is built only from these records ([`ApiRecord`], the bound of
//! `shape::render`), so a client decoding bug cannot hide behind a sandbox that serialises the
//! same wrong type. For inspection, [`View`] decodes them into whatever type the caller asks for
//! (the client's models, in tests): decoding is the client's job.

use super::state::{Record, Table};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

mod sealed {
    /// Only this module decides which types may answer a request.
    pub trait Sealed {}
}

/// A row the sandbox may answer with: one of its own API-shaped records.
pub trait ApiRecord: Record + Serialize + sealed::Sealed {}

macro_rules! api_record {
    ($($t:ty),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl ApiRecord for $t {}
    )*};
}

/// Rows still stored as client models, answered through `shape::render` until they get records
/// of their own here.
macro_rules! pending_record {
    ($($t:ty),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl ApiRecord for $t {}
    )*};
}

api_record!(
    ShiftRow,
    TaxRow,
    PaymentTypeRow,
    ConsignmentRow,
    ConsignmentProductRow,
    RegisterRow,
    OutletRow,
    UserRow,
);
pending_record!(
    crate::models::Product,
    crate::models::Inventory,
    crate::models::Customer,
    crate::models::Sale,
);

macro_rules! record_impl {
    ($($t:ty => deleted: |$d:ident| $del:expr;)*) => {$(
        impl Record for $t {
            fn record_id(&self) -> String { self.id.clone() }
            fn record_version(&self) -> i64 { self.version }
            fn set_record_version(&mut self, v: i64) { self.version = v; }
            fn is_deleted(&self) -> bool { let $d = self; $del }
        }
    )*};
}

record_impl! {
    ShiftRow => deleted: |_d| false;
    TaxRow => deleted: |d| d.deleted_at.is_some();
    PaymentTypeRow => deleted: |d| d.deleted_at.is_some();
    ConsignmentRow => deleted: |d| d.deleted_at.is_some();
    RegisterRow => deleted: |d| d.deleted_at.is_some();
    OutletRow => deleted: |d| d.deleted_at.is_some();
    UserRow => deleted: |d| d.deleted_at.is_some();
}

/// Timestamps as the API sends them: RFC 3339 in UTC, whole seconds, `+00:00`.
pub(crate) mod ts {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn text(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, false)
    }
    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(t))
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Optional timestamps (`null` when absent).
pub(crate) mod ts_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::ts::serialize(t, s),
            None => s.serialize_none(),
        }
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// Money and quantities the spec types as `number`: a JSON number with the decimal's exact digits.
pub(crate) mod num {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let n: serde_json::Number = d
            .normalize()
            .to_string()
            .parse()
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        n.to_string().parse().map_err(serde::de::Error::custom)
    }
}

/// The 2.0 `Shift`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShiftRow {
    pub(crate) id: String,
    pub(crate) retailer_id: String,
    pub(crate) user_id: String,
    #[serde(with = "ts")]
    pub(crate) time_in: DateTime<Utc>,
    #[serde(with = "ts_opt")]
    pub(crate) time_out: Option<DateTime<Utc>>,
    #[serde(with = "ts")]
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_by: String,
    pub(crate) version: i64,
}

/// The 2.0 `Tax`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaxRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) version: i64,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) rates: Vec<TaxRateRow>,
    pub(crate) is_default: bool,
    pub(crate) display_name: String,
}

impl TaxRow {
    /// The sum of the rates (0.15 for 15 %).
    pub(crate) fn total_rate(&self) -> Decimal {
        self.rates.iter().map(|r| r.rate).sum()
    }
}

/// The 2.0 `TaxRate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaxRateRow {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(with = "num")]
    pub(crate) rate: Decimal,
    pub(crate) display_name: String,
}

/// The 2.0 `PaymentType`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentTypeRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) type_id: i64,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

/// Decodes a sandbox record into a caller's type (a client model, for inspection).
pub(crate) fn decode<R: Serialize, M: DeserializeOwned>(row: &R) -> Option<M> {
    serde_json::to_value(row)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// A read-only view of a sandbox table, decoding each record into `M` (for example the client's
/// model type) as it is read.
pub struct View<'a, R, M> {
    table: &'a Table<R>,
    model: PhantomData<fn() -> M>,
}

impl<'a, R: Record + Serialize, M: DeserializeOwned> View<'a, R, M> {
    pub(crate) fn new(table: &'a Table<R>) -> Self {
        View {
            table,
            model: PhantomData,
        }
    }
    /// One record (tombstones included), decoded.
    pub fn get(&self, id: &str) -> Option<M> {
        self.table.get(id).and_then(decode)
    }
    /// All records, tombstones included, in id order, decoded.
    pub fn all(&self) -> impl Iterator<Item = M> + 'a
    where
        M: 'a,
    {
        self.table.all().filter_map(decode)
    }
    /// Live records, decoded.
    pub fn live(&self) -> Vec<M> {
        self.table
            .all()
            .filter(|r| !r.is_deleted())
            .filter_map(decode)
            .collect()
    }
    /// Number of live records.
    pub fn len(&self) -> usize {
        self.table.len()
    }
    /// Whether there is no live record.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// Decimal strings with five places (`"10.00000"`), as consignment lines carry them.
pub(crate) mod dec5 {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{d:.5}"))
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Optional five-place decimal strings (`null` when absent).
pub(crate) mod dec5_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::dec5::serialize(d, s),
            None => s.serialize_none(),
        }
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Optional numbers (`null` when absent).
pub(crate) mod num_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::num::serialize(d, s),
            None => s.serialize_none(),
        }
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| n.to_string().parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The 2.0 `Consignment`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsignmentRow {
    pub(crate) id: String,
    pub(crate) outlet_id: String,
    pub(crate) name: String,
    #[serde(with = "ts")]
    pub(crate) consignment_date: DateTime<Utc>,
    #[serde(with = "ts_opt")]
    pub(crate) due_at: Option<DateTime<Utc>>,
    #[serde(with = "ts_opt")]
    pub(crate) received_at: Option<DateTime<Utc>>,
    /// `SUPPLIER`, `OUTLET`, `STOCKTAKE`, `RETURN`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// `OPEN`, `SENT`, `RECEIVED`, `CANCELLED`, ...
    pub(crate) status: String,
    pub(crate) supplier_id: Option<String>,
    pub(crate) source_outlet_id: Option<String>,
    pub(crate) supplier_invoice: Option<String>,
    pub(crate) reference: Option<String>,
    #[serde(with = "num_opt")]
    pub(crate) total_count_gain: Option<Decimal>,
    #[serde(with = "num_opt")]
    pub(crate) total_cost_gain: Option<Decimal>,
    #[serde(with = "num_opt")]
    pub(crate) total_count_loss: Option<Decimal>,
    #[serde(with = "num_opt")]
    pub(crate) total_cost_loss: Option<Decimal>,
    #[serde(with = "ts")]
    pub(crate) created_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

/// The 2.0 `ConsignmentProduct` (quantities and cost as decimal strings).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsignmentProductRow {
    pub(crate) product_id: String,
    pub(crate) product_sku: Option<String>,
    #[serde(with = "dec5_opt")]
    pub(crate) count: Option<Decimal>,
    #[serde(with = "dec5")]
    pub(crate) received: Decimal,
    #[serde(with = "dec5_opt")]
    pub(crate) cost: Option<Decimal>,
    pub(crate) is_included: bool,
    pub(crate) status: String,
    #[serde(with = "ts")]
    pub(crate) created_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

impl Record for ConsignmentProductRow {
    fn record_id(&self) -> String {
        self.product_id.clone()
    }
    fn record_version(&self) -> i64 {
        self.version
    }
    fn set_record_version(&mut self, v: i64) {
        self.version = v;
    }
    fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// The 2.0 `Register`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) outlet_id: String,
    pub(crate) ask_for_note_on_save: i64,
    pub(crate) print_note_on_receipt: bool,
    pub(crate) ask_for_user_on_sale: bool,
    pub(crate) show_discounts_on_receipts: bool,
    pub(crate) print_receipt: bool,
    pub(crate) email_receipt: bool,
    pub(crate) invoice_prefix: String,
    pub(crate) invoice_suffix: String,
    pub(crate) invoice_sequence: i64,
    pub(crate) button_layout_id: Option<String>,
    pub(crate) is_open: bool,
    pub(crate) receipt_template_id: String,
    #[serde(with = "ts_opt")]
    pub(crate) register_open_time: Option<DateTime<Utc>>,
    #[serde(with = "ts_opt")]
    pub(crate) register_close_time: Option<DateTime<Utc>>,
    pub(crate) register_open_sequence_id: Option<String>,
    pub(crate) cash_managed_payment_type_id: Option<String>,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

impl RegisterRow {
    /// A new open register of an outlet, numbering invoices `PREFIX1`, `PREFIX2`, ...
    pub(crate) fn new(id: String, name: String, outlet_id: String, prefix: String) -> Self {
        RegisterRow {
            id,
            name,
            outlet_id,
            ask_for_note_on_save: 0,
            print_note_on_receipt: false,
            ask_for_user_on_sale: false,
            show_discounts_on_receipts: false,
            print_receipt: true,
            email_receipt: false,
            invoice_prefix: prefix,
            invoice_suffix: String::new(),
            invoice_sequence: 1,
            button_layout_id: None,
            is_open: true,
            receipt_template_id: String::new(),
            register_open_time: None,
            register_close_time: None,
            register_open_sequence_id: None,
            cash_managed_payment_type_id: None,
            deleted_at: None,
            version: 0,
        }
    }
}

/// IANA time zone names.
pub(crate) mod tz {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(t: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.name())
    }
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The 2.0 `Outlet` (text the store left empty is an empty string; currency and default tax
/// come from the store when unset).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutletRow {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(with = "tz")]
    pub(crate) time_zone: chrono_tz::Tz,
    pub(crate) default_tax_id: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) currency_symbol: Option<String>,
    /// `inclusive` or `exclusive`.
    pub(crate) display_prices: String,
    pub(crate) physical_address_1: String,
    pub(crate) physical_address_2: String,
    pub(crate) physical_suburb: String,
    pub(crate) physical_city: String,
    pub(crate) physical_postcode: String,
    pub(crate) physical_state: String,
    pub(crate) physical_country_id: String,
    pub(crate) attributes: Vec<serde_json::Value>,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
    pub(crate) email: String,
}

impl OutletRow {
    /// A new outlet showing tax-inclusive prices.
    pub(crate) fn new(id: String, name: String, time_zone: chrono_tz::Tz) -> Self {
        OutletRow {
            id,
            name,
            time_zone,
            default_tax_id: None,
            currency: None,
            currency_symbol: None,
            display_prices: "inclusive".into(),
            physical_address_1: String::new(),
            physical_address_2: String::new(),
            physical_suburb: String::new(),
            physical_city: String::new(),
            physical_postcode: String::new(),
            physical_state: String::new(),
            physical_country_id: String::new(),
            attributes: Vec::new(),
            deleted_at: None,
            version: 0,
            email: String::new(),
        }
    }
}

/// The 2.0 `Role`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoleRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) system_role_id: String,
}

/// The 2.0 `User` (avatar URLs, switch id and targets the store does not keep are added by the
/// response shaping).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRow {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) email: String,
    #[serde(with = "ts_opt")]
    pub(crate) email_verified_at: Option<DateTime<Utc>>,
    /// `admin`, `manager` or `cashier`.
    pub(crate) account_type: String,
    pub(crate) roles: Vec<RoleRow>,
    pub(crate) enabled: bool,
    pub(crate) restricted_outlet_id: Option<String>,
    pub(crate) restricted_outlet_ids: Vec<String>,
    pub(crate) permissions: Vec<String>,
    pub(crate) is_primary_user: bool,
    #[serde(with = "num")]
    pub(crate) target_daily: Decimal,
    #[serde(with = "num")]
    pub(crate) target_weekly: Decimal,
    #[serde(with = "num")]
    pub(crate) target_monthly: Decimal,
    #[serde(with = "ts")]
    pub(crate) seen_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub(crate) created_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub(crate) updated_at: DateTime<Utc>,
    #[serde(with = "ts_opt")]
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

/// The webhook event types the store sends (2.0 BETA).
pub(crate) const WEBHOOK_TYPES: [&str; 7] = [
    "sale.update",
    "product.update",
    "customer.update",
    "inventory.update",
    "register_closure.create",
    "consignment.send",
    "consignment.receive",
];

/// A webhook subscription as the 2.0 BETA API shapes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookRow {
    pub(crate) id: String,
    pub(crate) retailer_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) url: String,
    pub(crate) active: bool,
    /// The event type (`sale.update`, ...).
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

/// The body of `POST /webhooks` (validated against the spec before it is read).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct WebhookInput {
    pub(crate) url: String,
    #[serde(default = "yes")]
    pub(crate) active: bool,
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::super::{DemoData, State, seed};
    use super::*;

    /// Every record the sandbox keeps decodes into the client's model for inspection (a view
    /// that dropped undecodable rows would hide a mismatch).
    #[test]
    fn seeded_records_decode_into_client_models() {
        let mut st = State::default();
        seed::seed(&mut st, &DemoData::default(), "demo");
        assert!(!st.shifts.is_empty() && !st.users.is_empty() && !st.outlets.is_empty());
        assert_eq!(st.shifts().live().len(), st.shifts.len());
        assert_eq!(st.taxes().live().len(), st.taxes.len());
        assert_eq!(st.payment_types().live().len(), st.payment_types.len());
        assert_eq!(st.consignments().live().len(), st.consignments.len());
        assert_eq!(st.registers().live().len(), st.registers.len());
        assert_eq!(st.outlets().live().len(), st.outlets.len());
        assert_eq!(st.users().live().len(), st.users.len());
        let lines: usize = st.consignment_products.values().map(Table::len).sum();
        let decoded: usize = st
            .consignment_products
            .values()
            .map(|t| {
                View::<_, crate::models::ConsignmentProduct>::new(t)
                    .live()
                    .len()
            })
            .sum();
        assert!(lines > 0, "the demo store has consignment lines");
        assert_eq!(decoded, lines);
        let outlet = &st.outlets().live()[0];
        let row = st.outlets.get(outlet.id.as_str()).unwrap();
        assert_eq!(outlet.time_zone, Some(row.time_zone));
        let tax = st
            .taxes()
            .live()
            .into_iter()
            .find(|t| t.is_default)
            .unwrap();
        assert_eq!(tax.total_rate(), Decimal::new(15, 2));
    }

    /// Money the spec types as `number` is sent as a JSON number with the exact digits.
    #[test]
    fn numbers_keep_their_digits() {
        let rate = TaxRateRow {
            id: "r".into(),
            name: "GST".into(),
            rate: Decimal::new(1500, 4),
            display_name: "GST".into(),
        };
        assert_eq!(
            serde_json::to_string(&rate).unwrap(),
            r#"{"id":"r","name":"GST","rate":0.15,"display_name":"GST"}"#
        );
    }
}
