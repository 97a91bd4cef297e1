//! The sandbox's state and its Business Central behaviour: entity sets per company, number
//! series, ETags, validation, deep insert, bound actions and item ledger entries.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::odata::{Options, QueryError, SkipToken, decode_query};
use super::schema::set_schema;
use super::table::{EMPTY, Row, Table};

/// An error answered in Business Central's shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiErr {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub(crate) fn err(status: u16, code: &str, message: impl Into<String>) -> ApiErr {
    ApiErr {
        status,
        code: code.to_owned(),
        message: message.into(),
    }
}

impl From<QueryError> for ApiErr {
    fn from(e: QueryError) -> Self {
        err(400, e.code, e.message)
    }
}

impl ApiErr {
    pub fn body(&self, correlation: &str) -> Value {
        json!({"error": {"code": self.code, "message": format!("{}  CorrelationId:  {correlation}.", self.message)}})
    }
}

/// What the sandbox knows about one entity set.
#[derive(Debug, Clone)]
pub(crate) struct SetMeta {
    pub entity: &'static str,
    pub template: Option<&'static Map<String, Value>>,
    pub max: &'static [(&'static str, usize)],
    pub read_only: &'static [&'static str],
    pub writable: bool,
    pub series: Option<&'static str>,
    pub unique: Option<&'static str>,
    pub enums: &'static [(&'static str, &'static [&'static str])],
}

/// A new row of `set` as Business Central starts it: every property of the entity type with its
/// empty value (the sandbox's own schema, never a client model).
pub(crate) fn template(set: &str) -> Option<&'static Map<String, Value>> {
    static TEMPLATES: std::sync::OnceLock<BTreeMap<&'static str, Map<String, Value>>> =
        std::sync::OnceLock::new();
    TEMPLATES
        .get_or_init(|| {
            [
                "customers",
                "contacts",
                "items",
                "itemVariants",
                "itemCategories",
                "salesOrders",
                "salesOrderLines",
                "salesInvoices",
                "salesInvoiceLines",
                "paymentTerms",
                "paymentMethods",
                "locations",
                "itemLedgerEntries",
                "generalProductPostingGroups",
                "inventoryPostingGroups",
                "subscriptions",
            ]
            .into_iter()
            .filter_map(|set| {
                let schema = set_schema(set)?;
                let row = schema
                    .fields
                    .iter()
                    .filter_map(|(k, v)| Some(((*k).to_owned(), serde_json::from_str(v).ok()?)))
                    .collect();
                Some((set, row))
            })
            .collect()
        })
        .get(set)
}

/// Sets `lastModifiedDateTime` to now, on the entity types that have it (not lines, not
/// companies).
pub(crate) fn touch(row: &mut Map<String, Value>) {
    if let Some(v) = row.get_mut("lastModifiedDateTime") {
        *v = json!(now_string());
    }
}

fn max_lengths(set: &str) -> &'static [(&'static str, usize)] {
    set_schema(set).map_or(&[], |s| s.max)
}

/// What a client may not write, per entity set (business-central.md §6, "RO").
fn read_only(set: &str) -> &'static [&'static str] {
    match set {
        "customers" => &[
            "id",
            "lastModifiedDateTime",
            "balanceDue",
            "taxAreaDisplayName",
        ],
        "salesOrders" => &[
            "id",
            "lastModifiedDateTime",
            "number",
            "customerName",
            "fullyShipped",
            "status",
            "billToName",
            "billToAddressLine1",
            "billToAddressLine2",
            "billToCity",
            "billToCountry",
            "billToState",
            "billToPostCode",
            "totalAmountExcludingTax",
            "totalTaxAmount",
            "totalAmountIncludingTax",
        ],
        "salesInvoices" => &[
            "id",
            "lastModifiedDateTime",
            "number",
            "customerName",
            "orderId",
            "orderNumber",
            "remainingAmount",
            "status",
            "billToName",
            "billToAddressLine1",
            "billToAddressLine2",
            "billToCity",
            "billToCountry",
            "billToState",
            "billToPostCode",
            "totalAmountExcludingTax",
            "totalTaxAmount",
            "totalAmountIncludingTax",
        ],
        "salesOrderLines" | "salesInvoiceLines" => &[
            "id",
            "amountExcludingTax",
            "taxPercent",
            "totalTaxAmount",
            "amountIncludingTax",
            "invoiceDiscountAllocation",
            "netAmount",
            "netTaxAmount",
            "netAmountIncludingTax",
            "shippedQuantity",
            "invoicedQuantity",
        ],
        "subscriptions" => &[
            "subscriptionId",
            "timestamp",
            "userId",
            "lastModifiedDateTime",
            "expirationDateTime",
            "systemCreatedAt",
            "systemCreatedBy",
            "systemModifiedAt",
            "systemModifiedBy",
        ],
        _ => &["id", "lastModifiedDateTime"],
    }
}

const CONTACT_TYPE: &[&str] = &["Company", "Person"];
const CUSTOMER_BLOCKED: &[&str] = &["_x0020_", "Ship", "Invoice", "All"];
const ITEM_TYPE: &[&str] = &["Inventory", "Service", "Non_x002D_Inventory"];
const LINE_TYPE: &[&str] = &[
    "Comment",
    "Account",
    "Item",
    "Resource",
    "Fixed_x0020_Asset",
    "Charge",
    "Allocation_x0020_Account",
];

macro_rules! meta {
    ($set:literal, $entity:literal, $writable:expr, $series:expr, $unique:expr, $enums:expr) => {
        SetMeta {
            entity: $entity,
            template: template($set),
            max: max_lengths($set),
            read_only: read_only($set),
            writable: $writable,
            series: $series,
            unique: $unique,
            enums: $enums,
        }
    };
}

/// Metadata of the standard v2.0 company-scoped sets the sandbox serves.
pub(crate) fn standard_meta(set: &str) -> Option<SetMeta> {
    Some(match set {
        "customers" => meta!(
            "customers",
            "customer",
            true,
            Some("C"),
            Some("number"),
            &[("type", CONTACT_TYPE), ("blocked", CUSTOMER_BLOCKED)]
        ),
        "contacts" => meta!(
            "contacts",
            "contact",
            true,
            Some("CT"),
            Some("number"),
            &[("type", CONTACT_TYPE)]
        ),
        "items" => meta!(
            "items",
            "item",
            true,
            Some("I"),
            Some("number"),
            &[("type", ITEM_TYPE)]
        ),
        "itemVariants" => meta!("itemVariants", "itemVariant", true, None, None, &[]),
        "itemCategories" => meta!(
            "itemCategories",
            "itemCategory",
            true,
            None,
            Some("code"),
            &[]
        ),
        "salesOrders" => meta!(
            "salesOrders",
            "salesOrder",
            true,
            Some("S-ORD"),
            Some("number"),
            &[]
        ),
        "salesOrderLines" => meta!(
            "salesOrderLines",
            "salesOrderLine",
            true,
            None,
            None,
            &[("lineType", LINE_TYPE)]
        ),
        "salesInvoices" => meta!(
            "salesInvoices",
            "salesInvoice",
            true,
            Some("S-INV"),
            Some("number"),
            &[]
        ),
        "salesInvoiceLines" => meta!(
            "salesInvoiceLines",
            "salesInvoiceLine",
            true,
            None,
            None,
            &[("lineType", LINE_TYPE)]
        ),
        "paymentTerms" => meta!("paymentTerms", "paymentTerm", true, None, Some("code"), &[]),
        "paymentMethods" => meta!(
            "paymentMethods",
            "paymentMethod",
            true,
            None,
            Some("code"),
            &[]
        ),
        "locations" => meta!("locations", "location", true, None, Some("code"), &[]),
        "itemLedgerEntries" => meta!(
            "itemLedgerEntries",
            "itemLedgerEntry",
            false,
            None,
            None,
            &[]
        ),
        "generalProductPostingGroups" => meta!(
            "generalProductPostingGroups",
            "generalProductPostingGroup",
            false,
            None,
            Some("code"),
            &[]
        ),
        "inventoryPostingGroups" => meta!(
            "inventoryPostingGroups",
            "inventoryPostingGroup",
            false,
            None,
            Some("code"),
            &[]
        ),
        _ => return None,
    })
}

fn custom_meta() -> SetMeta {
    SetMeta {
        entity: "custom",
        template: None,
        max: &[],
        read_only: &["id", "lastModifiedDateTime"],
        writable: true,
        series: None,
        unique: None,
        enums: &[],
    }
}

/// Navigation properties: (set, nav) -> (target set, local key, remote key, collection?).
fn nav(set: &str, nav: &str) -> Option<(&'static str, &'static str, &'static str, bool)> {
    Some(match (set, nav) {
        ("salesOrders", "salesOrderLines") => ("salesOrderLines", "id", "documentId", true),
        ("salesInvoices", "salesInvoiceLines") => ("salesInvoiceLines", "id", "documentId", true),
        ("salesOrders" | "salesInvoices", "customer") => ("customers", "customerId", "id", false),
        ("salesOrderLines" | "salesInvoiceLines", "item") => ("items", "itemId", "id", false),
        ("items", "itemVariants") => ("itemVariants", "id", "itemId", true),
        ("items", "itemCategory") => ("itemCategories", "itemCategoryId", "id", false),
        ("items", "inventoryPostingGroup") => (
            "inventoryPostingGroups",
            "inventoryPostingGroupId",
            "id",
            false,
        ),
        ("items", "generalProductPostingGroup") => (
            "generalProductPostingGroups",
            "generalProductPostingGroupId",
            "id",
            false,
        ),
        ("itemVariants", "item") => ("items", "itemId", "id", false),
        ("customers", "paymentTerm") => ("paymentTerms", "paymentTermsId", "id", false),
        ("customers", "paymentMethod") => ("paymentMethods", "paymentMethodId", "id", false),
        _ => return None,
    })
}

pub(crate) fn dec(v: Option<&Value>) -> Decimal {
    match v {
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .unwrap_or_default(),
        Some(Value::String(s)) => Decimal::from_str(s).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

pub(crate) fn num(d: Decimal) -> Value {
    serde_json::Number::from_str(&d.normalize().to_string())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn s(row: &Map<String, Value>, k: &str) -> String {
    sv(row, k).to_owned()
}

/// A text property, borrowed ("" when absent or not text).
fn sv<'a>(row: &'a Map<String, Value>, k: &str) -> &'a str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Whether a row passes a filter: key lookups (`field eq 'a' or field eq 'b' ...`) by a hash
/// probe, everything else (and every row the probe cannot decide) by full evaluation.
fn matches(
    f: &super::odata::Expr,
    keys: Option<&super::odata::KeySet>,
    row: &Map<String, Value>,
) -> Result<bool, ApiErr> {
    if let Some(hit) = keys.and_then(|k| k.probe(row)) {
        return Ok(hit);
    }
    Ok(super::odata::eval(f, row)?)
}

pub(crate) fn now_string() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Largest absolute number the sandbox accepts in a body.
const MAX_NUMBER: i64 = 999_999_999_999;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// Rows with their positions in their table.
type Positioned<'a> = Vec<(usize, &'a Row)>;

/// A table key: (route, company, entity set).
pub(crate) type TableKey = (String, Uuid, String);

/// The whole sandbox state. Changes inside a [`Checkpoint`] are journaled so that a failed
/// snapshot batch or deep insert is undone without copying the store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    pub companies: Vec<Map<String, Value>>,
    tables: BTreeMap<TableKey, Table>,
    pub subscriptions: BTreeMap<String, Vec<Map<String, Value>>>,
    pub custom_routes: BTreeMap<String, Vec<String>>,
    pub series: BTreeMap<(Uuid, String), u64>,
    pub next_id: u128,
    pub next_etag: u64,
    pub next_entry: i64,
    /// Changes not yet delivered to webhook subscribers.
    pub changes: Vec<Change>,
    /// How to undo the table changes made since the outermost open checkpoint.
    journal: Vec<Undo>,
    /// Open checkpoints.
    open: usize,
    /// Whether requests and responses are checked against `$metadata` (when it is found).
    pub spec_checks: bool,
    /// The sandbox's own responses that did not match `$metadata`.
    pub spec_violations: Vec<String>,
}

/// How to undo one table change.
#[derive(Debug, Clone)]
enum Undo {
    Inserted(TableKey, usize),
    Replaced(TableKey, usize, Row),
    Removed(TableKey, usize, Row),
}

/// The state to return to when a transaction fails: the journal position and the counters.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    journal: usize,
    next_id: u128,
    next_etag: u64,
    next_entry: i64,
    changes: usize,
    series: BTreeMap<(Uuid, String), u64>,
    subscriptions: BTreeMap<String, Vec<Map<String, Value>>>,
}

/// The text fields a table indexes besides `id`: its unique key and its parent reference.
fn indexed_fields(route: &str, set: &str) -> Vec<&'static str> {
    let mut fields = vec!["id"];
    if route == "v2.0"
        && let Some(unique) = standard_meta(set).and_then(|m| m.unique)
    {
        fields.push(unique);
    }
    match set {
        "salesOrderLines" | "salesInvoiceLines" => fields.push("documentId"),
        "itemVariants" => fields.push("itemId"),
        _ => {}
    }
    fields
}

/// One change of an entity, for webhook notifications.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub route: String,
    pub company: Uuid,
    pub set: String,
    pub id: String,
    pub change_type: &'static str,
    pub at: String,
}

/// One request as the store sees it (also one `$batch` operation).
#[derive(Debug, Clone, Default)]
pub(crate) struct OpRequest {
    pub method: String,
    /// Path segments after `/api/{route}/`, percent-decoded.
    pub segments: Vec<String>,
    pub query: String,
    pub if_match: Option<String>,
    pub max_page_size: Option<usize>,
    pub body: Option<Value>,
    /// `http://host/prefix/api/{route}` for links.
    pub route_url: String,
}

/// A response: status, body, extra headers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpResponse {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

fn ok(status: u16, body: Value) -> OpResponse {
    OpResponse {
        status,
        body: Some(body),
        headers: Vec::new(),
    }
}

fn no_content() -> OpResponse {
    OpResponse {
        status: 204,
        body: None,
        headers: Vec::new(),
    }
}

/// Splits `name(key)` into the name and the key text (quotes removed, `''` undoubled).
fn split_key(seg: &str) -> Result<(String, Option<String>), ApiErr> {
    match seg.split_once('(') {
        None => Ok((seg.to_owned(), None)),
        Some((name, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| {
                err(
                    400,
                    "BadRequest_InvalidRequestUrl",
                    format!("Bad key in '{seg}'."),
                )
            })?;
            let key = if let Some(q) = inner.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')) {
                q.replace("''", "'")
            } else {
                inner.to_owned()
            };
            Ok((name.to_owned(), Some(key)))
        }
    }
}

fn parse_guid(key: &str) -> Result<Uuid, ApiErr> {
    Uuid::parse_str(key).map_err(|_| {
        err(
            400,
            "BadRequest_InvalidRequestUrl",
            format!("The key '{key}' is not a valid GUID."),
        )
    })
}

fn not_found(segment: &str) -> ApiErr {
    err(
        404,
        "BadRequest_ResourceNotFound",
        format!("Resource not found for the segment '{segment}'."),
    )
}

impl Store {
    pub fn new_id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(0x5a4d_b0c0_0000_4000_8000_0000_0000_0000 | self.next_id)
    }

    fn new_etag(&mut self) -> String {
        self.next_etag += 1;
        let raw = format!("'{};{}'", self.next_etag, 1_000_000 + self.next_etag);
        format!("W/\"{}\"", base64_encode(raw.as_bytes()))
    }

    /// The rows of one entity set (empty if it has none).
    pub fn table(&self, route: &str, company: Uuid, set: &str) -> &Table {
        self.tables
            .get(&(route.to_owned(), company, set.to_owned()))
            .unwrap_or(&EMPTY)
    }

    /// Opens a transaction: later changes can be undone with [`Store::rollback`].
    pub fn begin(&mut self) -> Checkpoint {
        self.open += 1;
        Checkpoint {
            journal: self.journal.len(),
            next_id: self.next_id,
            next_etag: self.next_etag,
            next_entry: self.next_entry,
            changes: self.changes.len(),
            series: self.series.clone(),
            subscriptions: self.subscriptions.clone(),
        }
    }

    /// Keeps the changes since `cp` (an enclosing transaction can still undo them).
    pub fn commit(&mut self, cp: Checkpoint) {
        drop(cp);
        self.close();
    }

    /// Undoes every change since `cp`, in reverse order, and restores the counters.
    pub fn rollback(&mut self, cp: Checkpoint) {
        while self.journal.len() > cp.journal {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            match undo {
                Undo::Inserted(key, slot) => {
                    if let Some(t) = self.tables.get_mut(&key) {
                        t.take(slot);
                    }
                }
                Undo::Replaced(key, slot, row) => {
                    if let Some(t) = self.tables.get_mut(&key) {
                        t.set(slot, row);
                    }
                }
                Undo::Removed(key, slot, row) => {
                    self.table_mut(&key).restore(slot, row);
                }
            }
        }
        self.next_id = cp.next_id;
        self.next_etag = cp.next_etag;
        self.next_entry = cp.next_entry;
        self.changes.truncate(cp.changes);
        self.series = cp.series;
        self.subscriptions = cp.subscriptions;
        self.close();
    }

    fn close(&mut self) {
        self.open = self.open.saturating_sub(1);
        if self.open == 0 {
            self.journal.clear();
        }
    }

    fn table_mut(&mut self, key: &TableKey) -> &mut Table {
        self.tables
            .entry(key.clone())
            .or_insert_with(|| Table::indexed(&indexed_fields(&key.0, &key.2)))
    }

    /// Appends a row to a table.
    fn push_row(&mut self, route: &str, company: Uuid, set: &str, row: Row) {
        let key = (route.to_owned(), company, set.to_owned());
        let slot = self.table_mut(&key).push(row);
        if self.open > 0 {
            self.journal.push(Undo::Inserted(key, slot));
        }
    }

    /// Removes the rows whose `field` is exactly `value`.
    fn remove_rows(&mut self, route: &str, company: Uuid, set: &str, field: &str, value: &str) {
        let key = (route.to_owned(), company, set.to_owned());
        let Some(t) = self.tables.get_mut(&key) else {
            return;
        };
        let slots: Vec<usize> = t
            .rows_where(field, value)
            .filter(|(_, r)| sv(r, field) == value)
            .map(|(i, _)| i)
            .collect();
        for slot in slots {
            if let Some(row) = t.take(slot)
                && self.open > 0
            {
                self.journal.push(Undo::Removed(key.clone(), slot, row));
            }
        }
        if self.open == 0 {
            t.compact_if_sparse();
        }
    }

    fn find(&self, route: &str, company: Uuid, set: &str, id: &str) -> Option<Map<String, Value>> {
        self.table(route, company, set)
            .rows_where("id", id)
            .next()
            .map(|(_, r)| r.clone())
    }

    fn find_by(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        field: &str,
        value: &str,
    ) -> Option<Map<String, Value>> {
        self.table(route, company, set)
            .rows_where(field, value)
            .next()
            .map(|(_, r)| r.clone())
    }

    /// Replaces the row with the same id (exactly); nothing if there is none.
    fn replace(&mut self, route: &str, company: Uuid, set: &str, row: Map<String, Value>) {
        let key = (route.to_owned(), company, set.to_owned());
        let Some(t) = self.tables.get_mut(&key) else {
            return;
        };
        let id = sv(&row, "id");
        let Some(slot) = t
            .rows_where("id", id)
            .find(|(_, r)| sv(r, "id") == id)
            .map(|(i, _)| i)
        else {
            return;
        };
        if let Some(old) = t.set(slot, row)
            && self.open > 0
        {
            self.journal.push(Undo::Replaced(key, slot, old));
        }
    }

    fn next_number(&mut self, company: Uuid, set: &str, prefix: &str) -> String {
        let n = self
            .series
            .entry((company, set.to_owned()))
            .or_insert(10_000);
        *n += 10;
        format!("{prefix}{n}")
    }

    fn meta(&self, route: &str, set: &str) -> Option<SetMeta> {
        if route == "v2.0" {
            standard_meta(set)
        } else if self
            .custom_routes
            .get(route)
            .is_some_and(|sets| sets.iter().any(|s| s == set))
        {
            Some(custom_meta())
        } else {
            None
        }
    }

    /// Records a change for webhook delivery (only while someone subscribes on the route).
    fn record(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        id: &str,
        change_type: &'static str,
    ) {
        if self.subscriptions.get(route).is_some_and(|v| !v.is_empty()) {
            self.changes.push(Change {
                route: route.to_owned(),
                company,
                set: set.to_owned(),
                id: id.to_owned(),
                change_type,
                at: now_string(),
            });
        }
    }

    /// Inserts a row directly (seeding, read-only sets too): template defaults, id, ETag.
    pub fn seed_row(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        body: Value,
    ) -> Map<String, Value> {
        let mut row = standard_meta(set)
            .and_then(|m| m.template)
            .cloned()
            .unwrap_or_default();
        if let Value::Object(b) = body {
            row.extend(b);
        }
        if s(&row, "id").is_empty() || s(&row, "id") == NIL {
            let id = self.new_id();
            row.insert("id".into(), json!(id.to_string()));
        }
        let etag = self.new_etag();
        row.insert("@odata.etag".into(), json!(etag));
        touch(&mut row);
        self.push_row(route, company, set, row.clone());
        row
    }

    /// Writes a raw value into a row of the standard route, bypassing every check.
    pub fn inject(
        &mut self,
        company: Uuid,
        set: &str,
        id: &str,
        field: &str,
        value: Value,
    ) -> bool {
        let Some(mut row) = self.find("v2.0", company, set, id) else {
            return false;
        };
        row.insert(field.to_owned(), value);
        self.replace("v2.0", company, set, row);
        true
    }

    /// Sets one field of the row whose `key.0` equals `key.1`, with a new ETag; `false` if none.
    pub fn set_field(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        key: (&str, &str),
        field: &str,
        value: Value,
    ) -> bool {
        let Some(mut row) = self.find_by(route, company, set, key.0, key.1) else {
            return false;
        };
        row.insert(field.to_owned(), value);
        let etag = self.new_etag();
        row.insert("@odata.etag".into(), json!(etag));
        touch(&mut row);
        self.replace(route, company, set, row.clone());
        self.after_line_change(route, company, set, &row);
        true
    }

    /// Handles one request (also one `$batch` operation). With the spec checks on, the request
    /// is first checked against `$metadata` (Business Central's 4xx when it does not match) and
    /// the answer after (500 naming the violations, recorded, when the sandbox got it wrong).
    pub fn handle(&mut self, route: &str, req: &OpRequest) -> Result<OpResponse, ApiErr> {
        let md = if self.spec_checks && route == "v2.0" {
            spec_oracle::metadata::metadata()
        } else {
            None
        };
        let Some(md) = md else {
            return self.handle_op(route, req);
        };
        let target = super::oracle::target(md, req)?;
        super::oracle::check_query(md, &target, req)?;
        super::oracle::check_request(md, &target, req)?;
        let result = self.handle_op(route, req);
        let found = super::oracle::check_response(md, &target, req, &result);
        if found.is_empty() {
            return result;
        }
        let what = format!(
            "{} /api/{route}/{}: {}",
            req.method,
            req.segments.join("/"),
            found.join("; ")
        );
        self.spec_violations.push(what.clone());
        Err(err(
            500,
            "Internal_ServerError",
            format!("The sandbox's response does not match $metadata: {what}"),
        ))
    }

    fn handle_op(&mut self, route: &str, req: &OpRequest) -> Result<OpResponse, ApiErr> {
        let segs: Vec<&str> = req
            .segments
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        let Some(first) = segs.first() else {
            return Ok(ok(200, json!({"value": []})));
        };
        let (name, key) = split_key(first)?;
        match name.as_str() {
            "companies" => {
                let Some(key) = key else {
                    if req.method != "GET" {
                        return Err(method_not_allowed(&req.method, "companies"));
                    }
                    let rows = self.companies.iter().enumerate().collect();
                    return self.list_rows(route, Uuid::nil(), "companies", rows, None, req);
                };
                let company = parse_guid(&key)?;
                if !self
                    .companies
                    .iter()
                    .any(|c| s(c, "id") == company.to_string())
                {
                    return Err(err(
                        404,
                        "Internal_CompanyNotFound",
                        format!("The company '{key}' does not exist."),
                    ));
                }
                if segs.len() == 1 {
                    let row = self
                        .companies
                        .iter()
                        .find(|c| s(c, "id") == company.to_string())
                        .cloned()
                        .unwrap_or_default();
                    return Ok(ok(200, Value::Object(row)));
                }
                self.company_op(route, company, &segs[1..], req)
            }
            "subscriptions" => self.subscription_op(route, key, req),
            _ => {
                // `{set}?company={id}` form.
                let company = decode_query(&req.query)
                    .into_iter()
                    .find(|(k, _)| k == "company")
                    .map(|(_, v)| v);
                match company {
                    Some(c) => {
                        let company = parse_guid(&c)?;
                        self.company_op(route, company, &segs, req)
                    }
                    None => Err(not_found(first)),
                }
            }
        }
    }

    fn company_op(
        &mut self,
        route: &str,
        company: Uuid,
        segs: &[&str],
        req: &OpRequest,
    ) -> Result<OpResponse, ApiErr> {
        let (set, key) = split_key(segs[0])?;
        let meta = self.meta(route, &set).ok_or_else(|| not_found(segs[0]))?;
        match (key, segs.get(1)) {
            (None, None) => match req.method.as_str() {
                "GET" => {
                    if matches!(set.as_str(), "salesOrderLines" | "salesInvoiceLines") {
                        let opts = Options::parse(&decode_query(&req.query))?;
                        let names = opts
                            .filter
                            .as_ref()
                            .map(|f| f.field_names())
                            .unwrap_or_default();
                        if !names.contains("documentId") && !names.contains("id") {
                            return Err(err(
                                400,
                                "Application_DialogException",
                                "You must specify an Id or a Document Id to get the lines.",
                            ));
                        }
                    }
                    let (rows, generation) = self.candidate_rows(route, company, &set, req)?;
                    self.list_rows(route, company, &set, rows, Some(generation), req)
                }
                "POST" => {
                    let body = body_object(req)?;
                    let row = self.create_deep(route, company, &set, &meta, None, body)?;
                    let row = self.shape_entity(route, company, &set, row, req)?;
                    let mut resp = ok(201, Value::Object(row.clone()));
                    resp.headers.push((
                        "Location".into(),
                        format!(
                            "{}/companies({company})/{set}({})",
                            req.route_url,
                            s(&row, "id")
                        ),
                    ));
                    Ok(resp)
                }
                m => Err(method_not_allowed(m, &set)),
            },
            (Some(key), None) => {
                let id = parse_guid(&key)?.to_string();
                match req.method.as_str() {
                    "GET" => {
                        let row = self
                            .find(route, company, &set, &id)
                            .ok_or_else(|| not_found(segs[0]))?;
                        let row = self.shape_entity(route, company, &set, row, req)?;
                        Ok(ok(200, Value::Object(row)))
                    }
                    "PATCH" => {
                        let body = body_object(req)?;
                        let row = self.update(
                            route,
                            company,
                            &set,
                            &meta,
                            &id,
                            req.if_match.as_deref(),
                            body,
                        )?;
                        Ok(ok(200, Value::Object(row)))
                    }
                    "DELETE" => {
                        self.delete(route, company, &set, &meta, &id, req.if_match.as_deref())?;
                        Ok(no_content())
                    }
                    m => Err(method_not_allowed(m, &set)),
                }
            }
            (Some(key), Some(sub)) => {
                let id = parse_guid(&key)?.to_string();
                let parent = self
                    .find(route, company, &set, &id)
                    .ok_or_else(|| not_found(segs[0]))?;
                if let Some(action) = sub.strip_prefix("Microsoft.NAV.") {
                    if req.method != "POST" {
                        return Err(method_not_allowed(&req.method, sub));
                    }
                    self.action(route, company, &set, parent, action)?;
                    return Ok(no_content());
                }
                let (child_set, child_key) = split_key(sub)?;
                let Some((target, _, remote, true)) = nav(&set, &child_set) else {
                    return Err(not_found(sub));
                };
                let child_meta = self.meta(route, target).ok_or_else(|| not_found(sub))?;
                match (child_key, req.method.as_str()) {
                    (None, "GET") => {
                        let rows: Vec<_> = self
                            .table(route, company, target)
                            .rows_where(remote, &id)
                            .collect();
                        self.list_rows(route, company, target, rows, None, req)
                    }
                    (None, "POST") => {
                        let body = body_object(req)?;
                        let row = self.create_deep(
                            route,
                            company,
                            target,
                            &child_meta,
                            Some((remote, id.clone())),
                            body,
                        )?;
                        Ok(ok(201, Value::Object(row)))
                    }
                    (Some(ck), m) => {
                        let cid = parse_guid(&ck)?.to_string();
                        let child = self
                            .find(route, company, target, &cid)
                            .filter(|r| sv(r, remote).eq_ignore_ascii_case(&id))
                            .ok_or_else(|| not_found(sub))?;
                        match m {
                            "GET" => Ok(ok(
                                200,
                                Value::Object(
                                    self.shape_entity(route, company, target, child, req)?,
                                ),
                            )),
                            "PATCH" => {
                                let body = body_object(req)?;
                                let row = self.update(
                                    route,
                                    company,
                                    target,
                                    &child_meta,
                                    &cid,
                                    req.if_match.as_deref(),
                                    body,
                                )?;
                                Ok(ok(200, Value::Object(row)))
                            }
                            "DELETE" => {
                                self.delete(
                                    route,
                                    company,
                                    target,
                                    &child_meta,
                                    &cid,
                                    req.if_match.as_deref(),
                                )?;
                                Ok(no_content())
                            }
                            m => Err(method_not_allowed(m, target)),
                        }
                    }
                    (None, m) => Err(method_not_allowed(m, target)),
                }
            }
            (None, Some(_)) => Err(not_found(segs[0])),
        }
    }

    /// Filters, sorts, pages, expands and projects a collection of (position, row); only the
    /// rows of the page answered are copied. With the table's `generation`, a collection in
    /// insertion order pages by position: the next page starts at its first row instead of
    /// filtering the rows before it again (while the rows keep their positions).
    fn list_rows(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        rows: Vec<(usize, &Row)>,
        generation: Option<u64>,
        req: &OpRequest,
    ) -> Result<OpResponse, ApiErr> {
        let pairs = decode_query(&req.query);
        let opts = Options::parse(&pairs)?;
        let token = opts.skip_token.unwrap_or_default();
        let by_position = generation.filter(|_| opts.order_by.is_empty());
        let (rows, skip) = match (token.resume, by_position) {
            (Some((start, g)), Some(current)) if g == current => {
                (rows.into_iter().filter(|(i, _)| *i >= start).collect(), 0)
            }
            _ => (rows, token.count),
        };
        let page = req.max_page_size.unwrap_or(20_000).clamp(1, 20_000);
        // Unsorted, the filter stops one row after the page (the API's sets have a fixed
        // schema, so an unknown property already fails on the first row).
        let enough = if opts.order_by.is_empty() && route == "v2.0" {
            skip.saturating_add(opts.top.map_or(page, |t| t.min(page)))
                .saturating_add(1)
        } else {
            usize::MAX
        };
        let mut rows = match &opts.filter {
            None => rows,
            Some(f) => {
                let keys = super::odata::KeySet::of(f);
                let mut out = Vec::new();
                for (i, r) in rows {
                    if out.len() >= enough {
                        break;
                    }
                    if matches(f, keys.as_ref(), r)? {
                        out.push((i, r));
                    }
                }
                out
            }
        };
        opts.sort_with(&mut rows, |(_, r)| *r);
        let total = rows.len();
        let mut rows: Vec<_> = rows.into_iter().skip(skip).collect();
        let mut next = None;
        if let Some(top) = opts.top {
            // `$top` suppresses server-driven paging, as in Business Central.
            rows.truncate(top.min(page));
        } else if rows.len() > page {
            let next_token = SkipToken {
                count: token.count.saturating_add(page),
                resume: by_position.and_then(|g| rows.get(page).map(|(i, _)| (*i, g))),
            };
            rows.truncate(page);
            let kept: Vec<String> = req
                .query
                .split('&')
                .filter(|p| {
                    !p.is_empty()
                        && !p.starts_with("$skiptoken=")
                        && !p.starts_with("%24skiptoken=")
                })
                .map(str::to_owned)
                .collect();
            let mut q = kept.join("&");
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("$skiptoken={next_token}"));
            next = Some(format!("{}/{}?{q}", req.route_url, req.segments.join("/")));
        }
        let _ = total;
        let mut value = Vec::with_capacity(rows.len());
        for (_, row) in rows {
            value.push(Value::Object(self.expand_project(
                route,
                company,
                set,
                row.clone(),
                &opts,
            )?));
        }
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            json!(format!("{}/$metadata#{set}", req.route_url)),
        );
        body.insert("value".into(), Value::Array(value));
        if let Some(n) = next {
            body.insert("@odata.nextLink".into(), Value::String(n));
        }
        let mut resp = ok(200, Value::Object(body));
        if let Some(p) = req.max_page_size {
            resp.headers.push((
                "Preference-Applied".into(),
                format!("odata.maxpagesize={p}"),
            ));
        }
        Ok(resp)
    }

    fn filter_rows<'a>(&self, rows: Vec<&'a Row>, opts: &Options) -> Result<Vec<&'a Row>, ApiErr> {
        match &opts.filter {
            None => Ok(rows),
            Some(f) => {
                let keys = super::odata::KeySet::of(f);
                let mut out = Vec::new();
                for r in rows {
                    if matches(f, keys.as_ref(), r)? {
                        out.push(r);
                    }
                }
                Ok(out)
            }
        }
    }

    /// The rows of a table a collection request's `$filter` can keep, in insertion order: for
    /// a key lookup (`field eq 'a' or field eq 'b' ...`) on an indexed field only the rows
    /// with those values, otherwise all of them.
    fn candidate_rows(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        req: &OpRequest,
    ) -> Result<(Positioned<'_>, u64), ApiErr> {
        let table = self.table(route, company, set);
        let generation = table.generation();
        let opts = Options::parse(&decode_query(&req.query))?;
        if let Some(keys) = opts.filter.as_ref().and_then(super::odata::KeySet::of) {
            let mut slots = Vec::new();
            let mut indexed = true;
            for v in keys.values() {
                match table.candidates(keys.field(), v) {
                    Some(found) => slots.extend_from_slice(found),
                    None => {
                        indexed = false;
                        break;
                    }
                }
            }
            if indexed {
                slots.sort_unstable();
                slots.dedup();
                let rows = slots
                    .into_iter()
                    .filter_map(|i| table.get(i).map(|r| (i, r)))
                    .collect();
                return Ok((rows, generation));
            }
        }
        let start = match opts.skip_token {
            Some(SkipToken {
                resume: Some((start, g)),
                ..
            }) if g == generation && opts.order_by.is_empty() => start,
            _ => 0,
        };
        Ok((table.iter_from(start).collect(), generation))
    }

    fn shape_entity(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        row: Map<String, Value>,
        req: &OpRequest,
    ) -> Result<Map<String, Value>, ApiErr> {
        let opts = Options::parse(&decode_query(&req.query))?;
        let mut row = self.expand_project(route, company, set, row, &opts)?;
        row.insert(
            "@odata.context".into(),
            json!(format!(
                "{}/$metadata#companies({company})/{set}/$entity",
                req.route_url
            )),
        );
        Ok(row)
    }

    fn expand_project(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        mut row: Map<String, Value>,
        opts: &Options,
    ) -> Result<Map<String, Value>, ApiErr> {
        for (name, inner) in &opts.expand {
            let (target, local, remote, collection) = nav(set, name).ok_or_else(|| {
                err(
                    400,
                    "BadRequest_NotFound",
                    format!(
                        "Could not find a property named '{name}' on type 'Microsoft.NAV.{set}'."
                    ),
                )
            })?;
            let key = s(&row, local);
            let related: Vec<&Row> = if key.is_empty() {
                Vec::new()
            } else {
                self.table(route, company, target)
                    .rows_where(remote, &key)
                    .map(|(_, r)| r)
                    .collect()
            };
            let mut related = self.filter_rows(related, inner)?;
            inner.sort(&mut related);
            let mut shaped = Vec::new();
            for r in related {
                shaped.push(Value::Object(self.expand_project(
                    route,
                    company,
                    target,
                    r.clone(),
                    inner,
                )?));
            }
            let v = if collection {
                Value::Array(shaped)
            } else {
                shaped.into_iter().next().unwrap_or(Value::Null)
            };
            row.insert(name.clone(), v);
        }
        opts.project(&mut row);
        Ok(row)
    }

    /// Validates a body against the set's schema: known, writable, typed, within length, enum members.
    fn validate(&self, meta: &SetMeta, body: &Map<String, Value>) -> Result<(), ApiErr> {
        for (k, v) in body {
            if k.starts_with('@') {
                continue;
            }
            if let Some(t) = meta.template {
                let Some(tv) = t.get(k) else {
                    return Err(err(
                        400,
                        "BadRequest",
                        format!(
                            "The property '{k}' does not exist on type 'Microsoft.NAV.{}'. Make sure to only use property names that are defined by the type.",
                            meta.entity
                        ),
                    ));
                };
                let same = matches!(
                    (tv, v),
                    (Value::String(_), Value::String(_))
                        | (Value::Number(_), Value::Number(_))
                        | (Value::Bool(_), Value::Bool(_))
                        | (_, Value::Null)
                );
                if !same {
                    return Err(err(
                        400,
                        "BadRequest",
                        format!(
                            "Cannot convert the literal '{v}' to the expected type of property '{k}'."
                        ),
                    ));
                }
            }
            if let Value::Number(n) = v {
                // Business Central's decimals are bounded; so are the sandbox's, so that its
                // arithmetic never overflows.
                let d = Decimal::from_str(&n.to_string())
                    .or_else(|_| Decimal::from_scientific(&n.to_string()));
                if !d.is_ok_and(|d| d.abs() <= Decimal::from(MAX_NUMBER)) {
                    return Err(err(
                        400,
                        "Application_EvaluateException",
                        format!("The value '{n}' of '{k}' is outside the permitted range."),
                    ));
                }
            }
            if meta.read_only.contains(&k.as_str()) {
                return Err(err(
                    400,
                    "BadRequest_InvalidOperation",
                    format!("The property '{k}' is read-only."),
                ));
            }
            if let (Some((_, max)), Some(text)) =
                (meta.max.iter().find(|(f, _)| f == k), v.as_str())
            {
                let len = text.chars().count();
                if len > *max {
                    return Err(err(
                        400,
                        "Application_StringExceededLength",
                        format!(
                            "The length of the string is {len}, but it must be less than or equal to {max} characters. Value: {text}"
                        ),
                    ));
                }
            }
            if let (Some((_, members)), Some(text)) =
                (meta.enums.iter().find(|(f, _)| f == k), v.as_str())
                && !members.contains(&text)
            {
                {
                    let captions: Vec<String> = members
                        .iter()
                        .map(|m| crate::values::decode_member_name(m))
                        .collect();
                    return Err(err(
                        400,
                        "Unknown",
                        format!(
                            "'{text}' is not an option. The existing options are: {}",
                            captions.join(",")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_unique(
        &self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        row: &Map<String, Value>,
    ) -> Result<(), ApiErr> {
        if let Some(field) = meta.unique {
            let v = s(row, field);
            let id = s(row, "id");
            if !v.is_empty()
                && self
                    .table(route, company, set)
                    .rows_where(field, &v)
                    .any(|(_, r)| sv(r, "id") != id)
            {
                return Err(err(
                    409,
                    "Internal_EntityWithSameKeyExists",
                    format!(
                        "The record in table {} already exists. Identification fields and values: {field}='{v}'",
                        meta.entity
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Creates an entity and, for sales documents, the lines nested in the body (deep insert);
    /// all or nothing.
    pub fn create_deep(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        parent: Option<(&str, String)>,
        mut body: Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiErr> {
        let lines_nav = match set {
            "salesOrders" => Some(("salesOrderLines", "salesOrderLines")),
            "salesInvoices" => Some(("salesInvoiceLines", "salesInvoiceLines")),
            _ => None,
        };
        let nested = lines_nav.and_then(|(nav_name, _)| body.remove(nav_name));
        if nested.is_none() {
            return self.create(route, company, set, meta, parent, body);
        }
        // All or nothing: a failure undoes the header, the lines and the counters.
        let cp = self.begin();
        let result = (|| {
            let header = self.create(route, company, set, meta, parent, body)?;
            let (_, line_set) = lines_nav.unwrap_or(("", ""));
            let line_meta = self
                .meta(route, line_set)
                .ok_or_else(|| not_found(line_set))?;
            let lines = match nested {
                Some(Value::Array(a)) => a,
                _ => return Err(err(400, "BadRequest", "Lines must be an array.")),
            };
            let mut last = None;
            for l in lines {
                let Value::Object(l) = l else {
                    return Err(err(400, "BadRequest", "A line must be an object."));
                };
                last = Some(self.create_row(
                    route,
                    company,
                    line_set,
                    &line_meta,
                    Some(("documentId", s(&header, "id"))),
                    l,
                    false,
                )?);
            }
            // The document's totals, once for all its lines.
            if let Some(line) = last {
                self.after_line_change(route, company, line_set, &line);
            }
            self.find(route, company, set, &s(&header, "id"))
                .ok_or_else(|| not_found(set))
        })();
        if result.is_err() {
            self.rollback(cp);
        } else {
            self.commit(cp);
        }
        result
    }

    fn create(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        parent: Option<(&str, String)>,
        body: Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiErr> {
        self.create_row(route, company, set, meta, parent, body, true)
    }

    /// Creates one entity; `totals`: recompute its document's totals when it is a line.
    #[allow(clippy::too_many_arguments)]
    fn create_row(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        parent: Option<(&str, String)>,
        body: Map<String, Value>,
        totals: bool,
    ) -> Result<Map<String, Value>, ApiErr> {
        if !meta.writable {
            return Err(method_not_allowed("POST", set));
        }
        let mut body = body;
        if let Some((field, pid)) = &parent {
            body.remove(*field);
            self.validate(meta, &body)?;
            body.insert((*field).to_owned(), Value::String(pid.clone()));
        } else {
            self.validate(meta, &body)?;
        }
        let mut row = meta.template.cloned().unwrap_or_default();
        for (k, v) in &body {
            if !k.starts_with('@') && !v.is_null() {
                row.insert(k.clone(), v.clone());
            }
        }
        let id = self.new_id();
        row.insert("id".into(), json!(id.to_string()));
        self.apply_rules(route, company, set, &mut row, &body, true)?;
        if let Some(prefix) = meta.series
            && s(&row, "number").is_empty()
        {
            let n = self.next_number(company, set, prefix);
            row.insert("number".into(), json!(n));
        }
        self.check_unique(route, company, set, meta, &row)?;
        touch(&mut row);
        let etag = self.new_etag();
        row.insert("@odata.etag".into(), json!(etag));
        self.push_row(route, company, set, row.clone());
        if totals {
            self.after_line_change(route, company, set, &row);
        }
        self.record(route, company, set, &s(&row, "id"), "created");
        Ok(row)
    }

    /// Set-specific defaults, references and computed fields.
    fn apply_rules(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        row: &mut Map<String, Value>,
        body: &Map<String, Value>,
        insert: bool,
    ) -> Result<(), ApiErr> {
        match set {
            "customers" => {
                if insert && s(row, "displayName").is_empty() {
                    return Err(err(
                        400,
                        "Application_DialogException",
                        "A \"displayName\" must be provided.",
                    ));
                }
                self.resolve_ref(
                    route,
                    company,
                    row,
                    "paymentTermsId",
                    None,
                    "paymentTerms",
                    "Payment Terms",
                )?;
                self.resolve_ref(
                    route,
                    company,
                    row,
                    "paymentMethodId",
                    None,
                    "paymentMethods",
                    "Payment Method",
                )?;
            }
            "items" => {
                if insert && body.contains_key("inventory") {
                    return Err(err(
                        400,
                        "Application_DialogException",
                        "Inventory cannot be changed during on insert.",
                    ));
                }
                self.resolve_ref(
                    route,
                    company,
                    row,
                    "itemCategoryId",
                    Some("itemCategoryCode"),
                    "itemCategories",
                    "Item Category",
                )?;
                self.resolve_ref(
                    route,
                    company,
                    row,
                    "inventoryPostingGroupId",
                    Some("inventoryPostingGroupCode"),
                    "inventoryPostingGroups",
                    "Inventory Posting Group",
                )?;
                self.resolve_ref(
                    route,
                    company,
                    row,
                    "generalProductPostingGroupId",
                    Some("generalProductPostingGroupCode"),
                    "generalProductPostingGroups",
                    "Gen. Product Posting Group",
                )?;
            }
            "itemVariants" => {
                let item = if !s(row, "itemId").is_empty() && s(row, "itemId") != NIL {
                    self.find(route, company, "items", &s(row, "itemId"))
                } else if !s(row, "itemNumber").is_empty() {
                    self.find_by(route, company, "items", "number", &s(row, "itemNumber"))
                } else {
                    return Err(err(
                        400,
                        "Application_DialogException",
                        "An \"itemId\" or an \"itemNumber\" must be provided.",
                    ));
                };
                let item = item.ok_or_else(|| {
                    err(
                        400,
                        "Application_DialogException",
                        "The item does not exist.",
                    )
                })?;
                row.insert("itemId".into(), json!(s(&item, "id")));
                row.insert("itemNumber".into(), json!(s(&item, "number")));
                if s(row, "code").is_empty() {
                    return Err(err(
                        400,
                        "BadRequest_RequiredParamNotProvided",
                        "Field 'code' must not be blank or empty.",
                    ));
                }
                let (id, code, item_id) = (s(row, "id"), s(row, "code"), s(row, "itemId"));
                if self
                    .table(route, company, "itemVariants")
                    .rows_where("itemId", &item_id)
                    .any(|(_, r)| {
                        sv(r, "id") != id
                            && sv(r, "itemId") == item_id
                            && sv(r, "code").eq_ignore_ascii_case(&code)
                    })
                {
                    return Err(err(
                        409,
                        "Internal_EntityWithSameKeyExists",
                        format!(
                            "The record in table Item Variant already exists. Identification fields and values: Item No.='{}',Code='{code}'",
                            s(&item, "number")
                        ),
                    ));
                }
            }
            "salesOrders" | "salesInvoices" => {
                if insert || body.contains_key("customerId") || body.contains_key("customerNumber")
                {
                    let cust = if !s(row, "customerId").is_empty()
                        && s(row, "customerId") != NIL
                        && body.contains_key("customerId")
                    {
                        self.find(route, company, "customers", &s(row, "customerId"))
                    } else if !s(row, "customerNumber").is_empty() {
                        self.find_by(
                            route,
                            company,
                            "customers",
                            "number",
                            &s(row, "customerNumber"),
                        )
                    } else {
                        return Err(err(
                            400,
                            "Application_DialogException",
                            "A \"customerNumber\" or a \"customerId\" must be provided.",
                        ));
                    };
                    let cust = cust.ok_or_else(|| {
                        err(
                            400,
                            "Application_DialogException",
                            "The \"customerNumber\" does not match to a Customer.",
                        )
                    })?;
                    for (to, from) in [
                        ("customerId", "id"),
                        ("customerNumber", "number"),
                        ("customerName", "displayName"),
                        ("billToCustomerId", "id"),
                        ("billToCustomerNumber", "number"),
                        ("billToName", "displayName"),
                        ("billToAddressLine1", "addressLine1"),
                        ("billToAddressLine2", "addressLine2"),
                        ("billToCity", "city"),
                        ("billToCountry", "country"),
                        ("billToState", "state"),
                        ("billToPostCode", "postalCode"),
                    ] {
                        row.insert(to.into(), json!(s(&cust, from)));
                    }
                    for (to, from) in [
                        ("shipToName", "displayName"),
                        ("sellToAddressLine1", "addressLine1"),
                        ("sellToAddressLine2", "addressLine2"),
                        ("sellToCity", "city"),
                        ("sellToCountry", "country"),
                        ("sellToState", "state"),
                        ("sellToPostCode", "postalCode"),
                        ("shipToAddressLine1", "addressLine1"),
                        ("shipToAddressLine2", "addressLine2"),
                        ("shipToCity", "city"),
                        ("shipToCountry", "country"),
                        ("shipToState", "state"),
                        ("shipToPostCode", "postalCode"),
                        ("email", "email"),
                        ("phoneNumber", "phoneNumber"),
                    ] {
                        if !body.contains_key(to)
                            && (insert
                                || body.contains_key("customerId")
                                || body.contains_key("customerNumber"))
                        {
                            row.insert(to.into(), json!(s(&cust, from)));
                        }
                    }
                    if !body.contains_key("paymentTermsId") && insert {
                        row.insert("paymentTermsId".into(), json!(s(&cust, "paymentTermsId")));
                    }
                }
                if insert {
                    let today = Utc::now().date_naive().to_string();
                    let date_field = if set == "salesOrders" {
                        "orderDate"
                    } else {
                        "invoiceDate"
                    };
                    for f in [date_field, "postingDate"] {
                        if s(row, f).is_empty() || s(row, f) == "0001-01-01" {
                            row.insert(f.into(), json!(today));
                        }
                    }
                    if set == "salesInvoices"
                        && (s(row, "dueDate").is_empty() || s(row, "dueDate") == "0001-01-01")
                    {
                        row.insert("dueDate".into(), json!(today));
                    }
                    row.insert("status".into(), json!("Draft"));
                    row.insert("currencyCode".into(), json!(s(row, "currencyCode")));
                }
            }
            "salesOrderLines" | "salesInvoiceLines" => {
                let doc_set = if set == "salesOrderLines" {
                    "salesOrders"
                } else {
                    "salesInvoices"
                };
                let doc_id = s(row, "documentId");
                let doc = self.find(route, company, doc_set, &doc_id).ok_or_else(|| {
                    err(
                        400,
                        "Application_DialogException",
                        "The \"documentId\" does not match to a document.",
                    )
                })?;
                if set == "salesInvoiceLines" && s(&doc, "status") != "Draft" {
                    return Err(err(
                        400,
                        "Application_DialogException",
                        "A posted invoice cannot be changed.",
                    ));
                }
                if !insert {
                    for f in ["sequence", "lineObjectNumber", "itemId", "documentId"] {
                        if body.contains_key(f) {
                            return Err(err(
                                400,
                                "BadRequest",
                                format!(
                                    "You cannot change the value of the '{f}' field after the line is inserted."
                                ),
                            ));
                        }
                    }
                }
                if insert {
                    if !body.contains_key("lineType") {
                        row.insert("lineType".into(), json!("Item"));
                    }
                    if s(row, "lineType") == "Item" {
                        let item = if !s(row, "itemId").is_empty() && s(row, "itemId") != NIL {
                            self.find(route, company, "items", &s(row, "itemId"))
                        } else if !s(row, "lineObjectNumber").is_empty() {
                            self.find_by(
                                route,
                                company,
                                "items",
                                "number",
                                &s(row, "lineObjectNumber"),
                            )
                        } else {
                            return Err(err(
                                400,
                                "Application_DialogException",
                                "A \"lineObjectNumber\" or an \"itemId\" must be provided for an item line.",
                            ));
                        };
                        let item = item.ok_or_else(|| {
                            err(
                                400,
                                "Application_DialogException",
                                "The \"lineObjectNumber\" does not match to an Item.",
                            )
                        })?;
                        if item.get("blocked") == Some(&Value::Bool(true)) {
                            return Err(err(
                                400,
                                "Application_FieldValidationException",
                                format!(
                                    "Blocked must be equal to 'No'  in Item: No.={}. Current value is 'Yes'.",
                                    s(&item, "number")
                                ),
                            ));
                        }
                        row.insert("itemId".into(), json!(s(&item, "id")));
                        row.insert("lineObjectNumber".into(), json!(s(&item, "number")));
                        if s(row, "description").is_empty() {
                            row.insert("description".into(), json!(s(&item, "displayName")));
                        }
                        if !body.contains_key("unitPrice") {
                            row.insert(
                                "unitPrice".into(),
                                item.get("unitPrice").cloned().unwrap_or(json!(0)),
                            );
                        }
                        if s(row, "unitOfMeasureCode").is_empty() {
                            row.insert(
                                "unitOfMeasureCode".into(),
                                json!(s(&item, "baseUnitOfMeasureCode")),
                            );
                        }
                    }
                    if row.get("sequence").and_then(Value::as_i64).unwrap_or(0) == 0 {
                        let max = self
                            .table(route, company, set)
                            .rows_where("documentId", &doc_id)
                            .map(|(_, r)| r)
                            .filter(|r| sv(r, "documentId") == doc_id)
                            .filter_map(|r| r.get("sequence").and_then(Value::as_i64))
                            .max()
                            .unwrap_or(0);
                        row.insert("sequence".into(), json!(max + 10_000));
                    }
                    if set == "salesOrderLines" && s(row, "shipmentDate").starts_with("0001") {
                        row.insert("shipmentDate".into(), json!(s(&doc, "orderDate")));
                    }
                }
                let qty = dec(row.get("quantity"));
                let price = dec(row.get("unitPrice"));
                let gross = qty * price;
                let discount = if body.contains_key("discountPercent") {
                    (gross * dec(row.get("discountPercent")) / Decimal::ONE_HUNDRED).round_dp(2)
                } else {
                    dec(row.get("discountAmount"))
                };
                let net = (gross - discount).round_dp(2);
                row.insert("discountAmount".into(), num(discount));
                for f in [
                    "amountExcludingTax",
                    "netAmount",
                    "amountIncludingTax",
                    "netAmountIncludingTax",
                ] {
                    row.insert(f.into(), num(net));
                }
                if set == "salesOrderLines" && !body.contains_key("shipQuantity") {
                    let outstanding = (qty - dec(row.get("shippedQuantity"))).max(Decimal::ZERO);
                    row.insert("shipQuantity".into(), num(outstanding));
                    row.insert("invoiceQuantity".into(), num(outstanding));
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve_ref(
        &self,
        route: &str,
        company: Uuid,
        row: &mut Map<String, Value>,
        id_field: &str,
        code_field: Option<&str>,
        set: &str,
        caption: &str,
    ) -> Result<(), ApiErr> {
        let id = s(row, id_field);
        if !id.is_empty() && id != NIL {
            let target = self.find(route, company, set, &id).ok_or_else(|| {
                err(
                    400,
                    "Application_DialogException",
                    format!("The \"{id_field}\" does not match to a {caption}."),
                )
            })?;
            if let Some(cf) = code_field {
                row.insert(cf.into(), json!(s(&target, "code")));
            }
        } else if let Some(cf) = code_field {
            let code = s(row, cf);
            if !code.is_empty() {
                let target = self
                    .find_by(route, company, set, "code", &code)
                    .ok_or_else(|| {
                        err(
                            400,
                            "Application_DialogException",
                            format!("The \"{cf}\" does not match to a {caption}."),
                        )
                    })?;
                row.insert(id_field.into(), json!(s(&target, "id")));
            }
        }
        Ok(())
    }

    /// Recomputes a document's totals after one of its lines changed, with a new ETag.
    fn after_line_change(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        line: &Map<String, Value>,
    ) {
        let doc_set = match set {
            "salesOrderLines" => "salesOrders",
            "salesInvoiceLines" => "salesInvoices",
            _ => return,
        };
        let doc_id = s(line, "documentId");
        let total: Decimal = self
            .table(route, company, set)
            .rows_where("documentId", &doc_id)
            .map(|(_, r)| r)
            .filter(|r| sv(r, "documentId") == doc_id)
            .map(|r| dec(r.get("amountExcludingTax")))
            .sum();
        if let Some(mut doc) = self.find(route, company, doc_set, &doc_id) {
            for f in ["totalAmountExcludingTax", "totalAmountIncludingTax"] {
                doc.insert(f.into(), num(total));
            }
            doc.insert("totalTaxAmount".into(), num(Decimal::ZERO));
            if doc_set == "salesInvoices" && s(&doc, "status") == "Draft" {
                doc.insert("remainingAmount".into(), num(total));
            }
            touch(&mut doc);
            let etag = self.new_etag();
            doc.insert("@odata.etag".into(), json!(etag));
            self.replace(route, company, doc_set, doc);
        }
    }

    fn check_etag(
        row: &Map<String, Value>,
        if_match: Option<&str>,
        required: bool,
    ) -> Result<(), ApiErr> {
        match if_match {
            None if required => Err(err(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.",
            )),
            None | Some("*") => Ok(()),
            Some(tag) if tag == s(row, "@odata.etag") => Ok(()),
            Some(_) => Err(err(
                409,
                "Request_EntityChanged",
                "Another user has already changed the record.",
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        id: &str,
        if_match: Option<&str>,
        body: Map<String, Value>,
    ) -> Result<Map<String, Value>, ApiErr> {
        if !meta.writable {
            return Err(method_not_allowed("PATCH", set));
        }
        let current = self
            .find(route, company, set, id)
            .ok_or_else(|| not_found(set))?;
        Self::check_etag(&current, if_match, true)?;
        self.validate(meta, &body)?;
        let mut row = current.clone();
        for (k, v) in &body {
            if !k.starts_with('@') {
                row.insert(
                    k.clone(),
                    if v.is_null() {
                        meta.template
                            .as_ref()
                            .and_then(|t| t.get(k).cloned())
                            .unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    },
                );
            }
        }
        {
            if set == "salesInvoices" && s(&current, "status") != "Draft" {
                return Err(err(
                    400,
                    "Application_DialogException",
                    "A posted invoice cannot be changed.",
                ));
            }
        }
        self.apply_rules(route, company, set, &mut row, &body, false)?;
        self.check_unique(route, company, set, meta, &row)?;
        if set == "items" && body.contains_key("inventory") {
            let delta = dec(row.get("inventory")) - dec(current.get("inventory"));
            if !delta.is_zero() {
                let kind = if delta > Decimal::ZERO {
                    "Positive_x0020_Adjmt_x002E_"
                } else {
                    "Negative_x0020_Adjmt_x002E_"
                };
                self.ledger_entry(
                    route,
                    company,
                    &s(&row, "number"),
                    kind,
                    delta,
                    "",
                    "_x0020_",
                    "",
                    "",
                );
            }
        }
        touch(&mut row);
        let etag = self.new_etag();
        row.insert("@odata.etag".into(), json!(etag));
        self.replace(route, company, set, row.clone());
        self.after_line_change(route, company, set, &row);
        self.record(route, company, set, id, "updated");
        Ok(row)
    }

    pub fn delete(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        meta: &SetMeta,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiErr> {
        if !meta.writable {
            return Err(method_not_allowed("DELETE", set));
        }
        let current = self
            .find(route, company, set, id)
            .ok_or_else(|| not_found(set))?;
        Self::check_etag(&current, if_match, false)?;
        if set == "salesInvoices" && s(&current, "status") != "Draft" {
            return Err(err(
                400,
                "Application_DialogException",
                "A posted invoice cannot be deleted.",
            ));
        }
        self.record(route, company, set, id, "deleted");
        self.remove_rows(route, company, set, "id", id);
        let line_set = match set {
            "salesOrders" => Some("salesOrderLines"),
            "salesInvoices" => Some("salesInvoiceLines"),
            _ => None,
        };
        if let Some(ls) = line_set {
            self.remove_rows(route, company, ls, "documentId", id);
        }
        self.after_line_change(route, company, set, &current);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn ledger_entry(
        &mut self,
        route: &str,
        company: Uuid,
        item: &str,
        kind: &str,
        qty: Decimal,
        doc_no: &str,
        doc_type: &str,
        source: &str,
        amount: &str,
    ) {
        self.next_entry += 1;
        let id = self.new_id();
        let etag = self.new_etag();
        let mut e = template("itemLedgerEntries").cloned().unwrap_or_default();
        let amount = Decimal::from_str(amount).unwrap_or_default();
        for (k, v) in [
            ("@odata.etag", json!(etag)),
            ("id", json!(id.to_string())),
            ("entryNumber", json!(self.next_entry)),
            ("itemNumber", json!(item)),
            ("postingDate", json!(Utc::now().date_naive().to_string())),
            ("entryType", json!(kind)),
            ("sourceNumber", json!(source)),
            (
                "sourceType",
                json!(if source.is_empty() {
                    "_x0020_"
                } else {
                    "Customer"
                }),
            ),
            ("documentNumber", json!(doc_no)),
            ("documentType", json!(doc_type)),
            ("quantity", num(qty)),
            ("salesAmountActual", num(amount)),
            ("lastModifiedDateTime", json!(now_string())),
        ] {
            e.insert(k.into(), v);
        }
        self.push_row(route, company, "itemLedgerEntries", e);
    }

    fn action(
        &mut self,
        route: &str,
        company: Uuid,
        set: &str,
        doc: Map<String, Value>,
        action: &str,
    ) -> Result<(), ApiErr> {
        match (set, action) {
            ("salesOrders", "shipAndInvoice") => self.ship_and_invoice(route, company, doc),
            ("salesInvoices", "post") => self.post_invoice(route, company, doc),
            _ => Err(not_found(&format!("Microsoft.NAV.{action}"))),
        }
    }

    fn post_lines(
        &mut self,
        route: &str,
        company: Uuid,
        lines: &[Map<String, Value>],
        qty_field: Option<&str>,
        doc_no: &str,
        customer: &str,
    ) -> Result<(), ApiErr> {
        for l in lines {
            if s(l, "lineType") != "Item" {
                continue;
            }
            let qty = match qty_field {
                Some(f) => dec(l.get(f)),
                None => dec(l.get("quantity")),
            };
            if qty.is_zero() {
                continue;
            }
            let Some(mut item) = self.find(route, company, "items", &s(l, "itemId")) else {
                continue;
            };
            if s(&item, "type") == "Inventory" {
                let inv = dec(item.get("inventory")) - qty;
                item.insert("inventory".into(), num(inv));
                touch(&mut item);
                let etag = self.new_etag();
                item.insert("@odata.etag".into(), json!(etag));
                self.replace(route, company, "items", item.clone());
            }
            let amount = (dec(l.get("amountExcludingTax")) * qty
                / dec(l.get("quantity")).max(Decimal::ONE))
            .round_dp(2);
            self.ledger_entry(
                route,
                company,
                &s(&item, "number"),
                "Sale",
                -qty,
                doc_no,
                "Sales_x0020_Invoice",
                customer,
                &amount.to_string(),
            );
        }
        Ok(())
    }

    fn ship_and_invoice(
        &mut self,
        route: &str,
        company: Uuid,
        order: Map<String, Value>,
    ) -> Result<(), ApiErr> {
        let order_id = s(&order, "id");
        let lines: Vec<_> = self
            .table(route, company, "salesOrderLines")
            .rows_where("documentId", &order_id)
            .map(|(_, l)| l)
            .filter(|l| sv(l, "documentId") == order_id)
            .cloned()
            .collect();
        if lines.iter().all(|l| dec(l.get("shipQuantity")).is_zero()) {
            return Err(err(
                400,
                "Application_DialogException",
                "There is nothing to post.",
            ));
        }
        // The posted invoice.
        let inv_no = self.next_number(company, "salesInvoices", "S-INV");
        let inv_id = self.new_id();
        let mut inv = template("salesInvoices").cloned().unwrap_or_default();
        for (k, v) in &order {
            if inv.contains_key(k) && k != "number" && k != "id" && k != "status" {
                inv.insert(k.clone(), v.clone());
            }
        }
        let today = Utc::now().date_naive().to_string();
        let etag = self.new_etag();
        for (k, v) in [
            ("@odata.etag", json!(etag)),
            ("id", json!(inv_id.to_string())),
            ("number", json!(inv_no)),
            ("invoiceDate", json!(today)),
            ("postingDate", json!(today)),
            ("dueDate", json!(today)),
            ("orderId", json!(order_id)),
            ("orderNumber", json!(s(&order, "number"))),
            ("status", json!("Open")),
            ("lastModifiedDateTime", json!(now_string())),
        ] {
            inv.insert(k.into(), v);
        }
        let mut total = Decimal::ZERO;
        for l in &lines {
            let q = dec(l.get("shipQuantity"));
            if q.is_zero() && s(l, "lineType") != "Comment" {
                continue;
            }
            let mut il = template("salesInvoiceLines").cloned().unwrap_or_default();
            for (k, v) in l {
                if il.contains_key(k) {
                    il.insert(k.clone(), v.clone());
                }
            }
            let amount = (dec(l.get("unitPrice")) * q).round_dp(2);
            total += amount;
            let lid = self.new_id();
            let etag = self.new_etag();
            for (k, v) in [
                ("@odata.etag", json!(etag)),
                ("id", json!(lid.to_string())),
                ("documentId", json!(inv_id.to_string())),
                ("quantity", num(q)),
                ("amountExcludingTax", num(amount)),
                ("amountIncludingTax", num(amount)),
                ("netAmount", num(amount)),
                ("netAmountIncludingTax", num(amount)),
            ] {
                il.insert(k.into(), v);
            }
            self.push_row(route, company, "salesInvoiceLines", il);
        }
        for f in [
            "totalAmountExcludingTax",
            "totalAmountIncludingTax",
            "remainingAmount",
        ] {
            inv.insert(f.into(), num(total));
        }
        self.push_row(route, company, "salesInvoices", inv);
        self.post_lines(
            route,
            company,
            &lines,
            Some("shipQuantity"),
            &inv_no,
            &s(&order, "customerNumber"),
        )?;
        // Update the order's lines; a completely shipped order is deleted, as posting does.
        let mut all_done = true;
        for mut l in lines {
            let q = dec(l.get("shipQuantity"));
            let shipped = dec(l.get("shippedQuantity")) + q;
            l.insert("shippedQuantity".into(), num(shipped));
            l.insert(
                "invoicedQuantity".into(),
                num(dec(l.get("invoicedQuantity")) + q),
            );
            let rest = (dec(l.get("quantity")) - shipped).max(Decimal::ZERO);
            l.insert("shipQuantity".into(), num(rest));
            l.insert("invoiceQuantity".into(), num(rest));
            if !rest.is_zero() {
                all_done = false;
            }
            let etag = self.new_etag();
            l.insert("@odata.etag".into(), json!(etag));
            self.replace(route, company, "salesOrderLines", l);
        }
        if all_done {
            self.remove_rows(route, company, "salesOrders", "id", &order_id);
            self.remove_rows(route, company, "salesOrderLines", "documentId", &order_id);
        } else if let Some(mut o) = self.find(route, company, "salesOrders", &order_id) {
            let etag = self.new_etag();
            o.insert("@odata.etag".into(), json!(etag));
            touch(&mut o);
            self.replace(route, company, "salesOrders", o);
        }
        Ok(())
    }

    fn post_invoice(
        &mut self,
        route: &str,
        company: Uuid,
        mut inv: Map<String, Value>,
    ) -> Result<(), ApiErr> {
        if s(&inv, "status") != "Draft" {
            return Err(err(
                400,
                "Application_DialogException",
                "The invoice has already been posted.",
            ));
        }
        let id = s(&inv, "id");
        let lines: Vec<_> = self
            .table(route, company, "salesInvoiceLines")
            .rows_where("documentId", &id)
            .map(|(_, l)| l)
            .filter(|l| sv(l, "documentId") == id)
            .cloned()
            .collect();
        if lines.is_empty() {
            return Err(err(
                400,
                "Application_DialogException",
                "There is nothing to post.",
            ));
        }
        self.post_lines(
            route,
            company,
            &lines,
            None,
            &s(&inv, "number"),
            &s(&inv, "customerNumber"),
        )?;
        inv.insert("status".into(), json!("Open"));
        touch(&mut inv);
        let etag = self.new_etag();
        inv.insert("@odata.etag".into(), json!(etag));
        self.replace(route, company, "salesInvoices", inv);
        Ok(())
    }

    fn subscription_op(
        &mut self,
        route: &str,
        key: Option<String>,
        req: &OpRequest,
    ) -> Result<OpResponse, ApiErr> {
        let meta = SetMeta {
            entity: "subscriptions",
            template: template("subscriptions"),
            max: max_lengths("subscriptions"),
            read_only: read_only("subscriptions"),
            writable: true,
            series: None,
            unique: None,
            enums: &[],
        };
        let find = |st: &Store, k: &str| {
            st.subscriptions
                .get(route)
                .and_then(|v| v.iter().find(|r| s(r, "subscriptionId") == k).cloned())
        };
        match (key, req.method.as_str()) {
            (None, "GET") => {
                let rows = self.subscriptions.get(route).cloned().unwrap_or_default();
                Ok(ok(200, json!({"value": rows})))
            }
            (None, "POST") => {
                let body = body_object(req)?;
                self.validate(&meta, &body)?;
                for f in ["notificationUrl", "resource"] {
                    if s(&body, f).is_empty() {
                        return Err(err(
                            400,
                            "BadRequest_RequiredParamNotProvided",
                            format!("Field '{f}' must not be blank or empty."),
                        ));
                    }
                }
                let count = self.subscriptions.get(route).map(Vec::len).unwrap_or(0);
                if count >= 200 {
                    return Err(err(
                        400,
                        "Application_DialogException",
                        "The maximum number of subscriptions (200) has been reached.",
                    ));
                }
                let mut row = meta.template.cloned().unwrap_or_default();
                row.extend(body);
                let id = self.new_id().simple().to_string();
                let etag = self.new_etag();
                let expiry = (Utc::now() + chrono::Duration::days(3))
                    .to_rfc3339_opts(SecondsFormat::Secs, true);
                for (k, v) in [
                    ("@odata.etag", json!(etag)),
                    ("subscriptionId", json!(id)),
                    ("expirationDateTime", json!(expiry)),
                    ("lastModifiedDateTime", json!(now_string())),
                    ("systemCreatedAt", json!(now_string())),
                    ("systemModifiedAt", json!(now_string())),
                ] {
                    row.insert(k.into(), v);
                }
                self.subscriptions
                    .entry(route.to_owned())
                    .or_default()
                    .push(row.clone());
                Ok(ok(201, Value::Object(row)))
            }
            (Some(k), "GET") => find(self, &k)
                .map(|r| ok(200, Value::Object(r)))
                .ok_or_else(|| not_found("subscriptions")),
            (Some(k), "PATCH") => {
                let cur = find(self, &k).ok_or_else(|| not_found("subscriptions"))?;
                Self::check_etag(&cur, req.if_match.as_deref(), true)?;
                let body = body_object(req)?;
                self.validate(&meta, &body)?;
                let mut row = cur;
                row.extend(body);
                let etag = self.new_etag();
                let expiry = (Utc::now() + chrono::Duration::days(3))
                    .to_rfc3339_opts(SecondsFormat::Secs, true);
                row.insert("@odata.etag".into(), json!(etag));
                row.insert("expirationDateTime".into(), json!(expiry));
                touch(&mut row);
                if let Some(slot) = self
                    .subscriptions
                    .get_mut(route)
                    .and_then(|v| v.iter_mut().find(|r| s(r, "subscriptionId") == k))
                {
                    *slot = row.clone();
                }
                Ok(ok(200, Value::Object(row)))
            }
            (Some(k), "DELETE") => {
                let cur = find(self, &k).ok_or_else(|| not_found("subscriptions"))?;
                // Deleting a subscription needs If-Match.
                Self::check_etag(&cur, req.if_match.as_deref(), true)?;
                if let Some(v) = self.subscriptions.get_mut(route) {
                    v.retain(|r| s(r, "subscriptionId") != k);
                }
                Ok(no_content())
            }
            (_, m) => Err(method_not_allowed(m, "subscriptions")),
        }
    }
}

pub(crate) fn method_not_allowed(method: &str, set: &str) -> ApiErr {
    err(
        405,
        "BadRequest_MethodNotAllowed",
        format!(
            "'{method}' requests for '{set}' of EdmEntityType are not allowed within Dynamics 365 Business Central OData web services."
        ),
    )
}

fn body_object(req: &OpRequest) -> Result<Map<String, Value>, ApiErr> {
    match &req.body {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(err(400, "BadRequest", "Invalid Request Body.")),
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
