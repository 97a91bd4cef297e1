//! The sandbox's store: every object with the global version counter.

use super::records::*;
use crate::enums::WebhookType;
use crate::ids::*;
use crate::models::*;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// An object the sandbox keeps: it has an id, a version and maybe a deletion time.
pub trait Record: Clone {
    /// The id.
    fn record_id(&self) -> String;
    /// The version.
    fn record_version(&self) -> i64;
    /// Sets the version.
    fn set_record_version(&mut self, v: i64);
    /// Whether it is a tombstone.
    fn is_deleted(&self) -> bool;
}

macro_rules! record {
    ($($t:ty => |$s:ident| $id:expr, deleted: |$d:ident| $del:expr;)*) => {$(
        impl Record for $t {
            fn record_id(&self) -> String { let $s = self; $id }
            fn record_version(&self) -> i64 { self.version.map(|v| v.0).unwrap_or(0) }
            fn set_record_version(&mut self, v: i64) { self.version = Some(Version(v)); }
            fn is_deleted(&self) -> bool { let $d = self; $del }
        }
    )*};
}

record! {
    Product => |s| s.id.0.clone(), deleted: |d| d.deleted_at.is_some();
    Inventory => |s| s.id.0.clone(), deleted: |d| d.deleted_at.is_some();
    Customer => |s| s.id.0.clone(), deleted: |d| d.deleted_at.is_some();
    Sale => |s| s.id.0.clone(), deleted: |d| d.deleted_at.is_some();
}

/// A collection of records keyed by id, indexed by version (a page of a version-cursor list
/// costs the page, not the table).
#[derive(Clone, Debug)]
pub struct Table<T> {
    rows: BTreeMap<String, T>,
    by_version: BTreeMap<i64, String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            by_version: BTreeMap::new(),
        }
    }
}

impl<T: Record> Table<T> {
    /// One record (tombstones included).
    pub fn get(&self, id: &str) -> Option<&T> {
        self.rows.get(id)
    }
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.rows.get_mut(id)
    }
    pub(crate) fn put(&mut self, row: T) {
        let id = row.record_id();
        let version = row.record_version();
        if let Some(old) = self.rows.insert(id.clone(), row) {
            let v = old.record_version();
            if self.by_version.get(&v) == Some(&id) {
                self.by_version.remove(&v);
            }
        }
        self.by_version.insert(version, id);
    }
    /// All records, tombstones included, in id order.
    pub fn all(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }
    /// Live records.
    pub fn live(&self) -> Vec<T> {
        self.rows
            .values()
            .filter(|r| !r.is_deleted())
            .cloned()
            .collect()
    }
    /// Number of live records.
    pub fn len(&self) -> usize {
        self.rows.values().filter(|r| !r.is_deleted()).count()
    }
    /// Whether there is no live record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Records with `after < version < before`, in version order, at most `limit`.
    pub(crate) fn page(
        &self,
        after: i64,
        before: Option<i64>,
        limit: usize,
        deleted: bool,
    ) -> Vec<T> {
        use std::ops::Bound;
        let end = before.map_or(Bound::Unbounded, Bound::Excluded);
        if before.is_some_and(|b| b <= after.saturating_add(1)) {
            return Vec::new();
        }
        self.by_version
            .range((Bound::Excluded(after), end))
            .filter_map(|(v, id)| self.rows.get(id).filter(|r| r.record_version() == *v))
            .filter(|r| deleted || !r.is_deleted())
            .take(limit)
            .cloned()
            .collect()
    }
}

/// A webhook delivery made (or attempted) by the sandbox.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Target URL.
    pub url: String,
    /// Event type.
    pub kind: WebhookType,
    /// The form body sent.
    pub body: String,
    /// The `X-Signature` header sent.
    pub signature: String,
    /// The receiver's status, or `None` when it could not be reached (or did not answer in 5 s).
    pub status: Option<u16>,
    /// 1 for the first delivery, 2 for the first retry, and so on.
    pub attempt: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct IssuedToken {
    pub expires_at: DateTime<Utc>,
}

/// Everything the sandbox stores.
#[derive(Default)]
pub struct State {
    pub(crate) version: i64,
    pub(crate) id_counter: u64,
    pub(crate) retailer: Retailer,
    pub(crate) outlets: Table<OutletRow>,
    pub(crate) registers: Table<RegisterRow>,
    pub(crate) users: Table<UserRow>,
    pub(crate) products: Table<Product>,
    pub(crate) inventory: Table<Inventory>,
    pub(crate) customers: Table<Customer>,
    pub(crate) sales: Table<Sale>,
    pub(crate) payment_types: Table<PaymentTypeRow>,
    pub(crate) taxes: Table<TaxRow>,
    pub(crate) consignments: Table<ConsignmentRow>,
    pub(crate) consignment_products: HashMap<String, Table<ConsignmentProductRow>>,
    pub(crate) shifts: Table<ShiftRow>,
    pub(crate) webhooks: BTreeMap<String, WebhookRow>,
    pub(crate) access_tokens: HashMap<String, IssuedToken>,
    pub(crate) refresh_tokens: HashMap<String, ()>,
    pub(crate) auth_codes: HashMap<String, String>,
    pub(crate) token_counter: u64,
    pub(crate) deliveries: Vec<Delivery>,
    /// 2026-07 stock adjustments, as the API shapes them.
    pub(crate) stock_adjustments: Vec<serde_json::Map<String, serde_json::Value>>,
    /// 2026-07 custom inventory adjustment reasons, as the API shapes them.
    pub(crate) custom_reasons: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl State {
    /// Bumps and returns the global version counter.
    pub(crate) fn next_version(&mut self) -> i64 {
        // Real versions grow in uneven steps; callers must not assume +1.
        self.version += 1 + (self.version % 3);
        self.version
    }

    /// A fresh UUID-shaped id, deterministic per sandbox.
    pub(crate) fn new_id(&mut self) -> String {
        self.id_counter += 1;
        let n = self.id_counter;
        format!(
            "0a1b2c3d-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (n >> 24) & 0xffff,
            (n >> 12) & 0xfff,
            n & 0xfff,
            n
        )
    }

    pub(crate) fn new_token(&mut self, prefix: &str) -> String {
        self.token_counter += 1;
        format!(
            "{prefix}_{:016x}{:08x}",
            self.token_counter.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            self.token_counter
        )
    }

    /// Inserts or replaces a record with a new version.
    pub(crate) fn upsert<T: Record>(
        &mut self,
        table: fn(&mut State) -> &mut Table<T>,
        mut row: T,
    ) -> T {
        let v = self.next_version();
        row.set_record_version(v);
        table(self).put(row.clone());
        row
    }

    /// The retailer.
    pub fn retailer(&self) -> &Retailer {
        &self.retailer
    }
    /// Outlets.
    pub fn outlets(&self) -> View<'_, OutletRow, Outlet> {
        View::new(&self.outlets)
    }
    /// Registers.
    pub fn registers(&self) -> View<'_, RegisterRow, Register> {
        View::new(&self.registers)
    }
    /// Users.
    pub fn users(&self) -> View<'_, UserRow, User> {
        View::new(&self.users)
    }
    /// Products.
    pub fn products(&self) -> &Table<Product> {
        &self.products
    }
    /// Inventory records.
    pub fn inventory(&self) -> &Table<Inventory> {
        &self.inventory
    }
    /// Customers.
    pub fn customers(&self) -> &Table<Customer> {
        &self.customers
    }
    /// Sales.
    pub fn sales(&self) -> &Table<Sale> {
        &self.sales
    }
    /// Payment types.
    pub fn payment_types(&self) -> View<'_, PaymentTypeRow, PaymentType> {
        View::new(&self.payment_types)
    }
    /// Taxes.
    pub fn taxes(&self) -> View<'_, TaxRow, Tax> {
        View::new(&self.taxes)
    }
    /// Consignments.
    pub fn consignments(&self) -> View<'_, ConsignmentRow, Consignment> {
        View::new(&self.consignments)
    }
    /// Shifts.
    pub fn shifts(&self) -> View<'_, ShiftRow, Shift> {
        View::new(&self.shifts)
    }
    /// Webhook subscriptions.
    pub fn webhooks(&self) -> Vec<Webhook> {
        self.webhooks.values().filter_map(decode).collect()
    }
    /// Stock adjustments made through 2026-07 `POST /stock_adjustments` (API-shaped JSON).
    pub fn stock_adjustments(&self) -> &[serde_json::Map<String, serde_json::Value>] {
        &self.stock_adjustments
    }
    /// Custom inventory adjustment reasons (API-shaped JSON).
    pub fn custom_inventory_adjustment_reasons(
        &self,
    ) -> &[serde_json::Map<String, serde_json::Value>] {
        &self.custom_reasons
    }
    /// Webhook deliveries made so far.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.deliveries
    }
    /// The current global version.
    pub fn version(&self) -> Version {
        Version(self.version)
    }
    /// The stock of a product at an outlet.
    pub fn inventory_level(
        &self,
        product: &ProductId,
        outlet: &OutletId,
    ) -> Option<rust_decimal::Decimal> {
        self.inventory
            .all()
            .find(|i| &i.product_id == product && &i.outlet_id == outlet && i.deleted_at.is_none())
            .map(|i| i.inventory_level)
    }
    /// Products whose SKU matches (case-insensitive), for inspection.
    pub fn product_by_sku(&self, sku: &str) -> Option<Product> {
        self.products
            .all()
            .find(|p| {
                p.sku
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(sku))
            })
            .cloned()
    }
}
