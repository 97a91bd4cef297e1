//! The decoding oracle: every example response in the official Lightspeed specifications decodes with the
//! client's own types.
//!
//! Sources (read from the reference folder located by `spec_oracle::require_reference_dir`):
//! - the examples embedded in every spec of `lightspeed-x/openapi/` (responses, `components.examples`,
//!   schema `example`/`x-examples`);
//! - the files of `spec-examples/` (extracted from the same specs; the name encodes version, method, path
//!   and status);
//! - `webhook-examples/` (decoded with the webhook payload types);
//! - `legacy-0.9-examples/` where the client reads that shape (the 1.0-style objects webhooks carry).
//!
//! Each decoded response example must keep every number and boolean it was sent under the same name (no
//! field may decode into a silent zero), and is then decoded again with
//! - every property that ANY version of the spec marks nullable set to `null` (all at once and one by one;
//!   the union is taken per client record type over every route and version that documents it),
//! - every list inside the records set to `null` (one by one: `null` where a list is expected is empty),
//! - every property its schema documents and the example leaves out added with a value of its type,
//! - every enum-valued string replaced by a value no version documents, and an extra field in every object.
//!
//! Read routes that have no official example in a version the client speaks (2026-07 `GET /sales`,
//! `/retailer`, `/consignments`, `/search`...) are decoded from a body generated from their schema, with
//! the same variants.
//!
//! Examples for paths the client does not read are counted and listed, never silently skipped. Where an
//! official example contradicts its own schema, [`EXCEPTIONS`] names the contradiction, and
//! [`SCHEMA_EXCEPTIONS`] where a schema contradicts the rest of its spec; the test checks that each
//! contradiction is still there, patches the value to what the spec says, and decodes.
//!
//! Contradictions the client tolerates instead (no exception needed): `GET /user` and `GET /users/{id}`
//! examples wrap the user in a one-element list while the schema says an object; the 2026-07 `Sale`
//! schema is restructured while its examples keep the 2.0 shape (both shapes decode); `Adjustment` is
//! `type` in `required` and the examples but `adjustment_type` in the properties (both are read).
//!
//! Also here, [`customer_requests`]: `POST /customers` and `PUT /customers/{id}` send the keys both specs
//! require. Run: `cargo test -p lightspeed-x --features sandbox --test spec_decoding -- --nocapture` (the
//! summary lists what was decoded and what the client does not read).

use lightspeed_x::paging::{Page, Single};
use lightspeed_x::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------------------
// Decoding with the client's types.
// ---------------------------------------------------------------------------------------------------------

/// Decodes a body the way the client does (from the bytes), naming the failing path.
fn decode<T: DeserializeOwned>(body: &Value) -> Result<T, String> {
    let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| format!("at `{}`: {}", e.path(), e.inner()))
}

fn data_len(body: &Value) -> usize {
    body.get("data")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// `{data: [T], version}`: a version-cursor list page.
fn page<T: DeserializeOwned>(body: &Value) -> Result<usize, String> {
    let p: Page<T> = decode(body)?;
    if p.data.len() != data_len(body) {
        return Err(format!(
            "{} records decoded of {}",
            p.data.len(),
            data_len(body)
        ));
    }
    Ok(p.data.len())
}

/// `{data: T}`: a single object.
fn single<T: DeserializeOwned>(body: &Value) -> Result<usize, String> {
    let _: Single<T> = decode(body)?;
    Ok(1)
}

/// `[T]`: a bare array (2026-07 inventory reads).
fn bare_list<T: DeserializeOwned>(body: &Value) -> Result<usize, String> {
    let v: Vec<T> = decode(body)?;
    let want = body.as_array().map_or(0, Vec::len);
    if v.len() != want {
        return Err(format!("{} records decoded of {want}", v.len()));
    }
    Ok(v.len())
}

/// A bare object (a schema example, a request body).
fn object<T: DeserializeOwned>(body: &Value) -> Result<usize, String> {
    let _: T = decode(body)?;
    Ok(1)
}

/// Decodes with `T` and serialises the result again, to compare the values kept with the values sent.
fn reencode<T: DeserializeOwned + serde::Serialize>(body: &Value) -> Result<Value, String> {
    let t: T = decode(body)?;
    serde_json::to_value(&t).map_err(|e| e.to_string())
}

/// Every number (or decimal string) and boolean the client keeps under the name it was sent with must
/// keep its value: no field may decode "successfully" into a zero or a default.
fn compare_kept(sent: &Value, kept: &Value, at: &str, checked: &mut usize, out: &mut Vec<String>) {
    use lightspeed_x::decode::parse_decimal;
    let as_dec = |v: &Value| match v {
        Value::Number(n) => parse_decimal(&n.to_string()),
        Value::String(s) => parse_decimal(s),
        _ => None,
    };
    match (sent, kept) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    compare_kept(v, w, &format!("{at}/{k}"), checked, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                compare_kept(v, w, &format!("{at}/{i}"), checked, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            out.push(format!("{at}: {} items sent, {} kept", a.len(), b.len()))
        }
        (Value::Bool(a), Value::Bool(b)) => {
            *checked += 1;
            if a != b {
                out.push(format!("{at}: sent {a}, kept {b}"));
            }
        }
        (Value::Number(_), _) | (_, Value::Number(_)) => {
            if let (Some(a), Some(b)) = (as_dec(sent), as_dec(kept)) {
                *checked += 1;
                if a != b {
                    out.push(format!("{at}: sent {sent}, kept {kept}"));
                }
            }
        }
        _ => {}
    }
}

/// How the records sit in a response body (to map record-relative nullable paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `{data: [record]}`.
    Page,
    /// `{data: record}`.
    Single,
    /// `[record]`.
    Bare,
    /// `record`.
    Object,
}

impl Shape {
    fn prefix(self) -> &'static [&'static str] {
        match self {
            Shape::Page => &["data", "[]"],
            Shape::Single => &["data"],
            Shape::Bare => &["[]"],
            Shape::Object => &[],
        }
    }
}

/// The client type that reads a body.
#[derive(Clone, Copy)]
struct Reader {
    /// The record type (also the key of the nullable union across versions).
    record: &'static str,
    shape: Shape,
    decode: fn(&Value) -> Result<usize, String>,
    /// Decodes and serialises again.
    reencode: fn(&Value) -> Result<Value, String>,
}

macro_rules! reader {
    (page $t:ty) => {
        Reader {
            record: stringify!($t),
            shape: Shape::Page,
            decode: page::<$t>,
            reencode: reencode::<Page<$t>>,
        }
    };
    (single $t:ty) => {
        Reader {
            record: stringify!($t),
            shape: Shape::Single,
            decode: single::<$t>,
            reencode: reencode::<Single<$t>>,
        }
    };
    (bare $t:ty) => {
        Reader {
            record: stringify!($t),
            shape: Shape::Bare,
            decode: bare_list::<$t>,
            reencode: reencode::<Vec<$t>>,
        }
    };
    (object $t:ty) => {
        Reader {
            record: stringify!($t),
            shape: Shape::Object,
            decode: object::<$t>,
            reencode: reencode::<$t>,
        }
    };
}

/// `POST /products` answers the ids created; the client reads `{data: [id]}`.
type CreatedIds = Single<Vec<ProductId>>;

/// The API versions the client speaks: the legacy `2.0` (whose BETA spec documents `/webhooks`), `2.1` for
/// product updates (no response body read), and the date version `2026-07`.
fn client_reads_version(version: &str) -> bool {
    matches!(version, "2.0" | "2.0-beta" | "2.1" | "2026-07")
}

/// The client type reading `(version, method, path template, status)`, or `None` when the client never
/// reads that response (see `lightspeed-x/src/resources/*.rs`, `client.rs`, `search.rs`).
fn reader_for(version: &str, method: &str, path: &str, status: &str) -> Option<Reader> {
    if !client_reads_version(version) || !status.starts_with('2') {
        return None;
    }
    let dated = version == "2026-07";
    Some(match (method, path) {
        ("GET", "/outlets") => reader!(page Outlet),
        ("GET", "/outlets/{outlet_id}") => reader!(single Outlet),
        ("GET", "/registers") => reader!(page Register),
        ("GET", "/registers/{register_id}") => reader!(single Register),
        ("GET", "/users") => reader!(page User),
        ("GET", "/users/{user_id}") => reader!(single User),
        ("GET", "/user") => reader!(single User),
        ("GET", "/payment_types") => reader!(page PaymentType),
        ("GET", "/taxes") => reader!(page Tax),
        ("GET", "/outlet_taxes") => reader!(page OutletTax),
        ("GET", "/consignments") => reader!(page Consignment),
        ("GET", "/consignments/{consignment_id}") => reader!(single Consignment),
        ("GET", "/consignments/{consignment_id}/products") => reader!(page ConsignmentProduct),
        ("GET", "/shifts") => reader!(page Shift),
        ("GET", "/products") => reader!(page Product),
        ("GET", "/products/{product_id}") => reader!(single Product),
        ("POST", "/products") if version != "2.1" => Reader {
            record: "CreatedIds",
            shape: Shape::Page,
            decode: object::<CreatedIds>,
            reencode: reencode::<CreatedIds>,
        },
        // 2.0 stock reads; 2026-07 replaced them by `POST /inventory` and `GET /inventory/{product_id}`,
        // which answer bare arrays.
        ("GET", "/inventory") if !dated => reader!(page Inventory),
        ("GET", "/products/{product_id}/inventory") if !dated => reader!(page Inventory),
        ("POST", "/inventory") if dated => reader!(bare Inventory),
        ("GET", "/inventory/{product_id}") if dated => reader!(bare Inventory),
        ("GET", "/customers") => reader!(page Customer),
        ("GET", "/customers/{customer_id}") => reader!(single Customer),
        ("POST", "/customers") => reader!(single Customer),
        ("PUT", "/customers/{customer_id}") => reader!(single Customer),
        ("GET", "/sales") => reader!(page Sale),
        ("GET", "/sales/{sale_id}") => reader!(single Sale),
        ("GET", "/search") => reader!(page Sale),
        ("GET", "/webhooks") => reader!(page Webhook),
        ("POST", "/webhooks") => reader!(single Webhook),
        ("GET", "/retailer") => reader!(single Retailer),
        _ => return None,
    })
}

/// The client type reading a schema-level example (`components.schemas.X.example` / `x-examples`).
fn schema_reader(version: &str, schema: &str) -> Option<Reader> {
    if !client_reads_version(version) {
        return None;
    }
    Some(match schema {
        "Sale" => reader!(object Sale),
        "Product" => reader!(object Product),
        "Customer" => reader!(object Customer),
        "User" => reader!(object User),
        "Outlet" => reader!(object Outlet),
        "Register" => reader!(object Register),
        "Inventory" => reader!(object Inventory),
        "Webhook" => reader!(object Webhook),
        "WebhookRequest" => reader!(object WebhookRequest),
        "WebhookType" => reader!(object WebhookType),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------------------
// Exceptions: contradictions inside the official specifications.
// ---------------------------------------------------------------------------------------------------------

/// An official example that contradicts its own schema.
struct Exception {
    /// Which example: `<version> <METHOD> <path> <status>` or `<version> schema <Name>`, as in the report.
    example: &'static str,
    /// JSON pointer of the offending value inside the example.
    pointer: &'static str,
    /// The contradiction, in words.
    why: &'static str,
    /// Whether the value is still the contradiction (so the entry cannot outlive it).
    still_wrong: fn(&Value) -> bool,
    /// A value the schema allows, to decode the rest of the example.
    patch: fn() -> Value,
}

fn is_placeholder_string(v: &Value) -> bool {
    v.as_str() == Some("string")
}

fn is_min_double(v: &Value) -> bool {
    v.as_f64() == Some(f64::MIN)
}

fn outside_i64(v: &Value) -> bool {
    v.as_number().is_some_and(|n| n.as_i64().is_none())
}

/// The only official example the client cannot read as sent: the 2.0 `Sale` schema's `x-examples`, a
/// generated mock (`"string"` for documented timestamps and numbers, `-9223372036854776000` below the
/// int64 minimum for the int64 `version`, the minimum double for money).
const EXCEPTIONS: &[Exception] = &[
    Exception {
        example: "2.0 schema Sale",
        pointer: "/version",
        why: "schema: integer, format int64; example: -9223372036854776000, outside int64",
        still_wrong: outside_i64,
        patch: || json!(1),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/sale_date",
        why: "schema: 'Sale timestamp in UTC.'; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!("2020-01-01T00:00:00+00:00"),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/created_at",
        why: "schema: 'Creation timestamp in UTC.'; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!("2020-01-01T00:00:00+00:00"),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/updated_at",
        why: "schema: 'Last update timestamp in UTC.'; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!("2020-01-01T00:00:00+00:00"),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/deleted_at",
        why: "schema: 'Deletion timestamp in UTC.'; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!("2020-01-01T00:00:00+00:00"),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/adjustments/0/value",
        why: "schema Adjustment.value: number; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!(0),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/payments/0/payment_date",
        why: "schema: 'Payment date in UTC.'; example: the placeholder \"string\"",
        still_wrong: is_placeholder_string,
        patch: || json!("2020-01-01T00:00:00+00:00"),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/total_price",
        why: "NOT a contradiction of the schema (number, double): the mock generator's minimum double \
              -1.7976931348623157e308 is no money amount and lies beyond Decimal's range (money is Decimal)",
        still_wrong: is_min_double,
        patch: || json!(0),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/total_tax",
        why: "NOT a contradiction of the schema (number, double): the mock generator's minimum double \
              -1.7976931348623157e308 is no money amount and lies beyond Decimal's range (money is Decimal)",
        still_wrong: is_min_double,
        patch: || json!(0),
    },
    Exception {
        example: "2.0 schema Sale",
        pointer: "/total_loyalty",
        why: "NOT a contradiction of the schema (number, double): the mock generator's minimum double \
              -1.7976931348623157e308 is no money amount and lies beyond Decimal's range (money is Decimal)",
        still_wrong: is_min_double,
        patch: || json!(0),
    },
];

/// A response schema (of a read route without an official example) that contradicts its own spec.
struct SchemaException {
    /// `<version> <METHOD> <path> <status>`.
    route: &'static str,
    /// The contradiction, in words.
    why: &'static str,
    /// Turns the generated body into what the rest of the spec documents; `false` when the
    /// contradiction is gone (so the entry cannot outlive it).
    fix: fn(&mut Value) -> bool,
}

const SCHEMA_EXCEPTIONS: &[SchemaException] = &[
    SchemaException {
        route: "2.0 GET /consignments 200",
        why: "the schema is a bare array, while the operation is 'a paginated list' with after/before/\
              page_size (version-cursor paging, whose pages are {data, version}) and 2026-07 documents \
              ConsignmentCollection {data, version}",
        fix: |body| {
            if !body.is_array() {
                return false;
            }
            *body = json!({"data": body.take(), "version": {"min": 1, "max": 12}});
            true
        },
    },
    SchemaException {
        route: "2.0 GET /retailer 200",
        why: "Retailer.timezone is typed object but described as 'e.g. Pacific/Auckland' (an IANA name); \
              2026-07 types it string",
        fix: |body| match body.pointer_mut("/data/timezone") {
            Some(tz) if tz.is_object() => {
                *tz = json!("Pacific/Auckland");
                true
            }
            _ => false,
        },
    },
];

// ---------------------------------------------------------------------------------------------------------
// Specs, schemas and examples.
// ---------------------------------------------------------------------------------------------------------

/// Version label and file of every spec in `openapi/`.
const SPECS: &[(&str, &str)] = &[
    ("0.9", "legacy-api-v0-9.json"),
    ("2.0", "legacy-api-v2-0.json"),
    ("2.0-beta", "legacy-api-v2-0-beta.json"),
    ("2.1", "legacy-api-v2-1.json"),
    ("3.0", "legacy-api-v3-0.json"),
    ("3.0-beta", "legacy-api-v3-0-beta.json"),
    ("2026-07", "api-2026-07.json"),
];

/// The `spec-examples/` file prefix of a version label.
fn file_prefix(version: &str) -> String {
    format!("v{}", version.replace('.', "-"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

struct Spec {
    version: &'static str,
    doc: Value,
}

impl Spec {
    /// Follows `$ref`s (local ones only) to the schema they name.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            let Some(ptr) = r.strip_prefix('#') else {
                return schema;
            };
            match self.doc.pointer(ptr) {
                Some(s) => schema = s,
                None => return schema,
            }
        }
        schema
    }

    /// Every `(METHOD, path, status, response)` of the spec.
    fn responses(&self) -> Vec<(String, String, String, &Value)> {
        let mut out = Vec::new();
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return out;
        };
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                    continue;
                };
                for (status, resp) in responses {
                    out.push((
                        method.to_uppercase(),
                        path.clone(),
                        status.clone(),
                        self.resolve(resp),
                    ));
                }
            }
        }
        out
    }
}

/// The schema of a response: the first content entry that has one (some entries carry only an example).
fn response_schema<'a>(spec: &'a Spec, resp: &'a Value) -> Option<&'a Value> {
    let content = resp.get("content")?.as_object()?;
    content
        .values()
        .find_map(|c| c.get("schema"))
        .map(|s| spec.resolve(s))
}

/// One official example.
struct Example {
    /// `embedded`, `spec-examples`, `webhook-examples` or `legacy-0.9-examples`.
    source: &'static str,
    version: String,
    /// `<version> <METHOD> <path> <status>`, `<version> schema <Name>` or a file name.
    label: String,
    body: Value,
    reader: Option<Reader>,
    /// Why the client does not read it (when `reader` is `None`).
    not_read: String,
    /// For responses: the route, to find its schemas in every version.
    route: Option<(String, String, String)>,
}

/// Normalises a path template for matching across versions and file names: parameters become `{}`.
fn route_key(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// A path template as `spec-examples/` writes it (`/users/{user_id}` -> `users_user_id`).
fn file_path_key(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

fn not_read_reason(version: &str, method: &str, path: &str, status: &str) -> String {
    if !client_reads_version(version) {
        format!("the client never calls API {version}")
    } else if !status.starts_with('2') {
        format!("error body ({status}): the client maps errors by status, not by body shape")
    } else {
        format!("the client does not call {method} {path}")
    }
}

/// Pushes an embedded `example` and every `examples.*.value` of a content entry.
fn push_content_examples(spec: &Spec, content: &Value, mut push: impl FnMut(String, Value)) {
    if let Some(ex) = content.get("example") {
        push(String::new(), ex.clone());
    }
    if let Some(exs) = content.get("examples").and_then(Value::as_object) {
        for (name, ex) in exs {
            let ex = spec.resolve(ex);
            if let Some(v) = ex.get("value") {
                push(format!(" [{name}]"), v.clone());
            }
        }
    }
}

fn embedded_examples(spec: &Spec) -> Vec<Example> {
    let v = spec.version;
    let mut out = Vec::new();
    for (method, path, status, resp) in spec.responses() {
        let Some(content) = resp.get("content").and_then(Value::as_object) else {
            continue;
        };
        for (ctype, c) in content {
            if ctype.starts_with("text/") {
                // `GET /channel_requests/{id}.txt`: plain text, not JSON.
                continue;
            }
            push_content_examples(spec, c, |name, body| {
                let reader = reader_for(v, &method, &path, &status);
                out.push(Example {
                    source: "embedded",
                    version: v.to_owned(),
                    label: format!("{v} {method} {path} {status}{name}"),
                    body,
                    reader,
                    not_read: not_read_reason(v, &method, &path, &status),
                    route: Some((method.clone(), path.clone(), status.clone())),
                });
            });
        }
    }
    let comps = spec.doc.get("components");
    if let Some(exs) = comps
        .and_then(|c| c.get("examples"))
        .and_then(Value::as_object)
    {
        for (name, ex) in exs {
            if let Some(body) = ex.get("value") {
                out.push(Example {
                    source: "embedded",
                    version: v.to_owned(),
                    label: format!("{v} components.examples {name}"),
                    body: body.clone(),
                    reader: None,
                    not_read: "a named example not referenced by a response the client reads"
                        .into(),
                    route: None,
                });
            }
        }
    }
    if let Some(schemas) = comps
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_object)
    {
        for (name, s) in schemas {
            let mut bodies = Vec::new();
            if let Some(ex) = s.get("example") {
                bodies.push(ex.clone());
            }
            if let Some(xs) = s.get("x-examples").and_then(Value::as_object) {
                bodies.extend(xs.values().cloned());
            }
            for body in bodies {
                let reader = schema_reader(v, name);
                out.push(Example {
                    source: "embedded",
                    version: v.to_owned(),
                    label: format!("{v} schema {name}"),
                    body,
                    reader,
                    not_read: if client_reads_version(v) {
                        format!("the client has no type for the {name} schema")
                    } else {
                        format!("the client never calls API {v}")
                    },
                    route: None,
                });
            }
        }
    }
    out
}

/// The files of `spec-examples/`, mapped back to their spec routes.
fn spec_example_files(dir: &Path, specs: &[Spec]) -> Vec<Example> {
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    for file in names {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".json");
        let parts: Vec<&str> = stem.split("__").collect();
        let spec = specs
            .iter()
            .find(|s| file_prefix(s.version) == parts[0])
            .unwrap_or_else(|| panic!("{name}: no spec for version {}", parts[0]));
        let v = spec.version;
        let body = read_json(&file);
        if parts.get(1) == Some(&"schema") {
            let schema = parts[2];
            // Schema files hold the `x-examples` map (`{"example-1": {...}}`) or the `example` itself.
            let is_map = body
                .as_object()
                .is_some_and(|o| !o.is_empty() && o.keys().all(|k| k.starts_with("example-")));
            let bodies: Vec<Value> = if is_map {
                body.as_object().unwrap().values().cloned().collect()
            } else {
                vec![body]
            };
            for body in bodies {
                out.push(Example {
                    source: "spec-examples",
                    version: v.to_owned(),
                    label: format!("{v} schema {schema}"),
                    body,
                    reader: schema_reader(v, schema),
                    not_read: if client_reads_version(v) {
                        format!("the client has no type for the {schema} schema")
                    } else {
                        format!("the client never calls API {v}")
                    },
                    route: None,
                });
            }
            continue;
        }
        assert_eq!(parts.len(), 4, "{name}: unexpected file name");
        let (method, pkey, status) = (parts[1], parts[2], parts[3]);
        let route = spec
            .responses()
            .into_iter()
            .map(|(m, p, _, _)| (m, p))
            .find(|(m, p)| m == method && file_path_key(p) == pkey)
            .map(|(_, p)| p)
            .unwrap_or_else(|| panic!("{name}: no {method} path in the {v} spec matches {pkey}"));
        if status == "request" {
            out.push(Example {
                source: "spec-examples",
                version: v.to_owned(),
                label: format!("{v} {method} {route} request"),
                body,
                reader: None,
                not_read: format!(
                    "request body of {method} {route}, which the client does not send"
                ),
                route: None,
            });
            continue;
        }
        out.push(Example {
            source: "spec-examples",
            version: v.to_owned(),
            label: format!("{v} {method} {route} {status}"),
            reader: reader_for(v, method, &route, status),
            not_read: not_read_reason(v, method, &route, status),
            body,
            route: Some((method.to_owned(), route, status.to_owned())),
        });
    }
    out
}

/// Decodes a webhook example as the client does: `WebhookEvent::decode` with the type of the file name.
fn webhook_examples(dir: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let kind = p.file_stem().unwrap().to_string_lossy().into_owned();
            (kind, read_json(&p))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn decode_webhook(kind: &str, payload: &Value) -> Result<usize, String> {
    let wt = WebhookType::parse(kind);
    if matches!(wt, WebhookType::Other(_)) {
        return Err(format!("{kind} is not a webhook type the client knows"));
    }
    let text = serde_json::to_string(payload).map_err(|e| e.to_string())?;
    let event = WebhookEvent::decode(&wt, &text).map_err(|e| e.to_string())?;
    if event.kind() != wt {
        return Err(format!("decoded as {:?}", event.kind()));
    }
    // The payload type `WebhookEvent::decode` uses for this kind, serialised again: values are kept.
    use lightspeed_x::webhook::*;
    let kept = match wt {
        WebhookType::SaleUpdate => reencode::<WebhookSale>(payload),
        WebhookType::ProductUpdate => reencode::<WebhookProduct>(payload),
        WebhookType::CustomerUpdate => reencode::<WebhookCustomer>(payload),
        WebhookType::InventoryUpdate => reencode::<WebhookInventory>(payload),
        WebhookType::RegisterClosureCreate => reencode::<WebhookRegisterClosure>(payload),
        _ => reencode::<WebhookConsignmentProduct>(payload),
    }?;
    let (mut checked, mut lost) = (0, Vec::new());
    compare_kept(payload, &kept, "", &mut checked, &mut lost);
    if !lost.is_empty() {
        return Err(format!("values not kept: {}", lost.join("; ")));
    }
    Ok(checked)
}

/// `legacy-0.9-examples/`: the 1.0-style objects the client reads in webhook payloads.
fn legacy_reader(file: &str) -> Option<(&'static str, &'static str)> {
    if file.starts_with("register_sales") {
        Some(("register_sales", "sale.update"))
    } else if file.starts_with("products") {
        Some(("products", "product.update"))
    } else if file.starts_with("customers") {
        Some(("customers", "customer.update"))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------------------
// Schema walking: nullable properties and enums, as record-relative paths.
// ---------------------------------------------------------------------------------------------------------

type SegPath = Vec<String>;

fn is_nullable(spec: &Spec, s: &Value) -> bool {
    if s.get("nullable").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    match s.get("type") {
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => return true,
        Some(Value::String(t)) if t == "null" => return true,
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array)
            && alts.iter().any(|a| is_nullable(spec, spec.resolve(a)))
        {
            return true;
        }
    }
    let r = spec.resolve(s);
    !std::ptr::eq(r, s) && is_nullable(spec, r)
}

/// The alternatives a schema stands for (itself, and its `allOf`/`anyOf`/`oneOf` members), resolved.
fn alternatives<'a>(spec: &'a Spec, s: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    let s = spec.resolve(s);
    if depth > 8 {
        return;
    }
    out.push(s);
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            for a in alts {
                alternatives(spec, a, out, depth + 1);
            }
        }
    }
}

#[derive(Default)]
struct SchemaFacts {
    nullable: BTreeSet<SegPath>,
    enums: BTreeSet<SegPath>,
}

fn walk_schema(spec: &Spec, s: &Value, at: &mut SegPath, facts: &mut SchemaFacts, depth: usize) {
    if depth > 10 {
        return;
    }
    let mut alts = Vec::new();
    alternatives(spec, s, &mut alts, 0);
    for alt in alts {
        if let Some(props) = alt.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                at.push(name.clone());
                if is_nullable(spec, sub) {
                    facts.nullable.insert(at.clone());
                }
                let mut sub_alts = Vec::new();
                alternatives(spec, sub, &mut sub_alts, 0);
                if sub_alts.iter().any(|a| a.get("enum").is_some()) {
                    facts.enums.insert(at.clone());
                }
                walk_schema(spec, sub, at, facts, depth + 1);
                at.pop();
            }
        }
        if let Some(items) = alt.get("items") {
            at.push("[]".into());
            if let Some(e) = spec.resolve(items).get("enum")
                && e.is_array()
            {
                facts.enums.insert(at.clone());
            }
            walk_schema(spec, items, at, facts, depth + 1);
            at.pop();
        }
    }
}

/// Strips the shape's envelope from a body path; `None` for envelope fields.
fn record_relative(path: &SegPath, shape: Shape) -> Option<SegPath> {
    let prefix = shape.prefix();
    if path.len() < prefix.len() || path.iter().zip(prefix).any(|(a, b)| a != b) {
        return None;
    }
    Some(path[prefix.len()..].to_vec())
}

fn with_prefix(path: &SegPath, shape: Shape) -> SegPath {
    shape
        .prefix()
        .iter()
        .map(|s| (*s).to_owned())
        .chain(path.iter().cloned())
        .collect()
}

/// Sets `null` at every location the path matches; `insert` also adds the key to objects lacking it.
fn set_at(v: &mut Value, path: &[String], to: &Value, insert: bool) -> usize {
    let Some((head, rest)) = path.split_first() else {
        return 0;
    };
    if head == "[]" {
        return match v {
            Value::Array(items) => items.iter_mut().map(|i| set_at(i, rest, to, insert)).sum(),
            _ => 0,
        };
    }
    if let Value::Array(items) = v {
        // An object documented as a single value but sent in a one-element list (`GET /user`).
        return items.iter_mut().map(|i| set_at(i, path, to, insert)).sum();
    }
    let Value::Object(obj) = v else { return 0 };
    if rest.is_empty() {
        if obj.contains_key(head) || insert {
            obj.insert(head.clone(), to.clone());
            return 1;
        }
        return 0;
    }
    obj.get_mut(head)
        .map_or(0, |child| set_at(child, rest, to, insert))
}

/// Replaces string values at the path (enum properties) with `to`.
fn replace_strings(v: &mut Value, path: &[String], to: &str) -> usize {
    let Some((head, rest)) = path.split_first() else {
        return match v {
            Value::String(s) => {
                *s = to.to_owned();
                1
            }
            _ => 0,
        };
    };
    match (head.as_str(), v) {
        ("[]", Value::Array(items)) => items.iter_mut().map(|i| replace_strings(i, rest, to)).sum(),
        (_, Value::Array(items)) => items.iter_mut().map(|i| replace_strings(i, path, to)).sum(),
        (_, Value::Object(obj)) => obj
            .get_mut(head)
            .map_or(0, |child| replace_strings(child, rest, to)),
        _ => 0,
    }
}

/// Adds an unknown field to every object.
fn add_extra_fields(v: &mut Value) -> usize {
    match v {
        Value::Object(obj) => {
            let mut n = obj.values_mut().map(add_extra_fields).sum::<usize>();
            obj.insert(
                "x_field_from_the_future".into(),
                json!({"nested": [1, "two", null], "flag": true}),
            );
            n += 1;
            n
        }
        Value::Array(items) => items.iter_mut().map(add_extra_fields).sum(),
        _ => 0,
    }
}

/// Paths of every array-valued property inside a value.
fn array_paths(v: &Value, at: &mut SegPath, out: &mut BTreeSet<SegPath>) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj {
                at.push(k.clone());
                if child.is_array() {
                    out.insert(at.clone());
                }
                array_paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            at.push("[]".into());
            for i in items {
                array_paths(i, at, out);
            }
            at.pop();
        }
        _ => {}
    }
}

/// A value of the schema's type, for a property the example leaves out. Strings look like what the
/// property documents: timestamps for `*_at`/`*_date`/`*_time` or a description naming a date or
/// timestamp, an IANA zone for time zones, a decimal-looking text otherwise.
fn synth(spec: &Spec, schema: &Value, name: &str, depth: usize) -> Value {
    let mut alts = Vec::new();
    alternatives(spec, schema, &mut alts, 0);
    let pick = |key: &str| alts.iter().find_map(|a| a.get(key));
    if let Some(Value::Array(e)) = pick("enum")
        && let Some(first) = e.iter().find(|v| !v.is_null())
    {
        return first.clone();
    }
    let ty = alts
        .iter()
        .find_map(|a| match a.get("type") {
            Some(Value::String(t)) => Some(t.clone()),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .map(str::to_owned),
            _ => None,
        })
        .or_else(|| pick("properties").map(|_| "object".to_owned()))
        .or_else(|| pick("items").map(|_| "array".to_owned()))
        .unwrap_or_default();
    match ty.as_str() {
        "string" => {
            let format = pick("format").and_then(Value::as_str).unwrap_or("");
            let desc = pick("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            let n = name.to_lowercase();
            if format == "date" {
                json!("2024-01-02")
            } else if n.contains("zone") {
                json!("Pacific/Auckland")
            } else if format == "date-time"
                || n.ends_with("_at")
                || n.ends_with("_date")
                || n.ends_with("_time")
                || n == "date"
                || desc.contains("timestamp")
                || desc.contains("date in utc")
                || desc.starts_with("date")
            {
                json!("2024-01-02T03:04:05+00:00")
            } else if format == "uuid" || n == "id" || n.ends_with("_id") {
                json!("0a1b2c3d-0000-4000-8000-000000000001")
            } else {
                json!("12")
            }
        }
        "number" => json!(12.5),
        "integer" => json!(12),
        "boolean" => json!(true),
        "array" => match pick("items") {
            Some(items) if depth < 6 => json!([synth(spec, items, name, depth + 1)]),
            _ => json!([]),
        },
        "object" => {
            let mut obj = serde_json::Map::new();
            if depth < 6 {
                for alt in &alts {
                    if let Some(props) = alt.get("properties").and_then(Value::as_object) {
                        for (k, sub) in props {
                            obj.insert(k.clone(), synth(spec, sub, k, depth + 1));
                        }
                    }
                }
            }
            Value::Object(obj)
        }
        _ => Value::Null,
    }
}

/// Adds every property the schema documents and the example leaves out (one location at a time through
/// the callback), walking the example and the schema together.
fn missing_properties(
    spec: &Spec,
    schema: &Value,
    value: &Value,
    at: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Value)>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let mut alts = Vec::new();
    alternatives(spec, schema, &mut alts, 0);
    match value {
        Value::Object(obj) => {
            for alt in &alts {
                let Some(props) = alt.get("properties").and_then(Value::as_object) else {
                    continue;
                };
                for (k, sub) in props {
                    at.push(k.clone());
                    match obj.get(k) {
                        None => out.push((at.clone(), synth(spec, sub, k, 0))),
                        Some(child) => missing_properties(spec, sub, child, at, out, depth + 1),
                    }
                    at.pop();
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = alts.iter().find_map(|a| a.get("items")) {
                for (i, item) in items.iter().enumerate() {
                    at.push(i.to_string());
                    missing_properties(spec, item_schema, item, at, out, depth + 1);
                    at.pop();
                }
            }
        }
        _ => {}
    }
}

fn show(path: &SegPath) -> String {
    path.join(".")
}

// ---------------------------------------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------------------------------------

struct Oracle {
    specs: Vec<Spec>,
    /// Nullable body paths per route key (`METHOD route status`), from every version.
    route_nullable: BTreeMap<String, BTreeSet<SegPath>>,
    /// Nullable record-relative paths per client record type, from every version and route.
    record_nullable: BTreeMap<&'static str, BTreeSet<SegPath>>,
    /// Enum-valued record-relative paths per client record type.
    record_enums: BTreeMap<&'static str, BTreeSet<SegPath>>,
}

impl Oracle {
    fn new(specs: Vec<Spec>) -> Self {
        let mut o = Oracle {
            specs,
            route_nullable: BTreeMap::new(),
            record_nullable: BTreeMap::new(),
            record_enums: BTreeMap::new(),
        };
        for spec in &o.specs {
            for (method, path, status, resp) in spec.responses() {
                let Some(schema) = response_schema(spec, resp) else {
                    continue;
                };
                let mut facts = SchemaFacts::default();
                walk_schema(spec, schema, &mut Vec::new(), &mut facts, 0);
                let key = format!("{method} {} {status}", route_key(&path));
                o.route_nullable
                    .entry(key)
                    .or_default()
                    .extend(facts.nullable.iter().cloned());
                // Every version's schema of a route the client reads in ANY version counts for its type.
                let reader = SPECS
                    .iter()
                    .find_map(|(v, _)| reader_for(v, &method, &path, &status))
                    .or_else(|| {
                        // A route of a version the client does not speak still documents the objects.
                        ["2.0", "2026-07"]
                            .iter()
                            .find_map(|v| reader_for(v, &method, &path, &status))
                    });
                if let Some(r) = reader {
                    let rel = |set: &BTreeSet<SegPath>| -> Vec<SegPath> {
                        set.iter()
                            .filter_map(|p| record_relative(p, r.shape))
                            .collect()
                    };
                    o.record_nullable
                        .entry(r.record)
                        .or_default()
                        .extend(rel(&facts.nullable));
                    o.record_enums
                        .entry(r.record)
                        .or_default()
                        .extend(rel(&facts.enums));
                }
            }
            // Named schemas the client reads directly.
            if let Some(schemas) = spec
                .doc
                .pointer("/components/schemas")
                .and_then(Value::as_object)
            {
                for (name, s) in schemas {
                    if let Some(r) = schema_reader("2.0", name) {
                        let mut facts = SchemaFacts::default();
                        walk_schema(spec, s, &mut Vec::new(), &mut facts, 0);
                        o.record_nullable
                            .entry(r.record)
                            .or_default()
                            .extend(facts.nullable);
                        o.record_enums
                            .entry(r.record)
                            .or_default()
                            .extend(facts.enums);
                    }
                }
            }
        }
        o
    }

    /// The example's own response schema, in its version's spec.
    fn schema_of(&self, ex: &Example) -> Option<(&Spec, &Value)> {
        let (m, p, s) = ex.route.as_ref()?;
        let spec = self.specs.iter().find(|sp| sp.version == ex.version)?;
        let (_, _, _, resp) = spec
            .responses()
            .into_iter()
            .find(|(rm, rp, rs, _)| rm == m && rp == p && rs == s)?;
        Some((spec, response_schema(spec, resp)?))
    }

    fn nullable_paths(&self, ex: &Example, reader: Reader) -> BTreeSet<SegPath> {
        let mut out = BTreeSet::new();
        if let Some((m, p, s)) = &ex.route
            && let Some(set) = self
                .route_nullable
                .get(&format!("{m} {} {s}", route_key(p)))
        {
            out.extend(set.iter().cloned());
        }
        if let Some(set) = self.record_nullable.get(reader.record) {
            out.extend(set.iter().map(|p| with_prefix(p, reader.shape)));
        }
        out
    }
}

#[derive(Default)]
struct Tally {
    decoded: BTreeMap<String, usize>,
    records: usize,
    not_read: BTreeMap<String, Vec<String>>,
    failures: Vec<String>,
    nulled_fields: usize,
    nulled_lists: usize,
    enum_values: usize,
    extra_fields: usize,
    exceptions_used: usize,
    documented_fields: usize,
    generated: Vec<String>,
    values_compared: usize,
    decoded_labels: Vec<String>,
    schema_exceptions_seen: BTreeSet<&'static str>,
    generated_without_schema: Vec<String>,
    exceptions_seen: BTreeSet<(&'static str, &'static str)>,
}

fn apply_exceptions(label: &str, body: &mut Value, tally: &mut Tally) {
    for e in EXCEPTIONS.iter().filter(|e| e.example == label) {
        match body.pointer_mut(e.pointer) {
            Some(v) if (e.still_wrong)(v) => {
                *v = (e.patch)();
                tally.exceptions_used += 1;
                tally.exceptions_seen.insert((e.example, e.pointer));
            }
            other => tally.failures.push(format!(
                "{label}: exception at {} ({}) no longer applies: the value is {:?}",
                e.pointer, e.why, other
            )),
        }
    }
}

/// Every nullable property at once, then one by one.
fn check_nullable(
    label: &str,
    reader: Reader,
    body: &Value,
    nullable: &BTreeSet<SegPath>,
    t: &mut Tally,
) {
    if nullable.is_empty() {
        return;
    }
    let mut all = body.clone();
    let mut n = 0;
    for p in nullable {
        n += set_at(&mut all, p, &Value::Null, true);
    }
    if let Err(e) = (reader.decode)(&all) {
        t.failures.push(format!(
            "{label}: with all {n} nullable properties null: {e}"
        ));
    }
    for p in nullable {
        let mut one = body.clone();
        let hits = set_at(&mut one, p, &Value::Null, true);
        if hits == 0 {
            continue;
        }
        t.nulled_fields += hits;
        if let Err(e) = (reader.decode)(&one) {
            t.failures.push(format!(
                "{label}: `{}` is nullable in the spec, the client rejects null: {e}",
                show(p)
            ));
        }
    }
}

fn check_response_variants(
    oracle: &Oracle,
    ex: &Example,
    reader: Reader,
    body: &Value,
    t: &mut Tally,
) {
    let label = &ex.label;
    let nullable = oracle.nullable_paths(ex, reader);
    check_nullable(label, reader, body, &nullable, t);
    // `null` where a list is expected: every list inside the records, one by one.
    let mut lists = BTreeSet::new();
    array_paths(body, &mut Vec::new(), &mut lists);
    for p in lists {
        if record_relative(&p, reader.shape).is_none_or(|r| r.is_empty()) {
            continue; // the envelope's own `data`
        }
        let mut one = body.clone();
        let hits = set_at(&mut one, &p, &Value::Null, false);
        t.nulled_lists += hits;
        if let Err(e) = (reader.decode)(&one) {
            t.failures.push(format!(
                "{label}: list `{}` sent as null is not an empty list: {e}",
                show(&p)
            ));
        }
    }
    // Every property the schema documents and the example leaves out, with a value of its type.
    if let Some((spec, schema)) = oracle.schema_of(ex) {
        let mut missing = Vec::new();
        missing_properties(spec, schema, body, &mut Vec::new(), &mut missing, 0);
        // All of them at once, and `null` in every nullable property of that complete body (which
        // reaches nullable properties of objects the example leaves out).
        if !missing.is_empty() {
            let mut complete = body.clone();
            for (at, value) in &missing {
                let pointer: String = at.iter().map(|s| format!("/{s}")).collect();
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                if let Some(Value::Object(obj)) = complete.pointer_mut(parent) {
                    obj.insert(key.to_owned(), value.clone());
                }
            }
            match (reader.decode)(&complete) {
                Ok(_) => check_nullable(
                    &format!("{label} (complete)"),
                    reader,
                    &complete,
                    &nullable,
                    t,
                ),
                Err(e) => t.failures.push(format!(
                    "{label}: with every documented property added: {e}"
                )),
            }
        }
        for (at, value) in missing {
            let mut one = body.clone();
            let pointer: String = at.iter().map(|s| format!("/{s}")).collect();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let Some(Value::Object(obj)) = one.pointer_mut(parent) else {
                continue;
            };
            obj.insert(key.to_owned(), value.clone());
            t.documented_fields += 1;
            if let Err(e) = (reader.decode)(&one) {
                t.failures.push(format!(
                    "{label}: documented property `{pointer}` = {value} (absent from the example) breaks decoding: {e}"
                ));
            }
        }
    }
    // Unknown enum values and extra fields.
    let mut future = body.clone();
    if let Some(enums) = oracle.record_enums.get(reader.record) {
        for p in enums {
            t.enum_values += replace_strings(
                &mut future,
                &with_prefix(p, reader.shape),
                "VALUE_NO_VERSION_DOCUMENTS",
            );
        }
    }
    t.extra_fields += add_extra_fields(&mut future);
    if let Err(e) = (reader.decode)(&future) {
        t.failures.push(format!(
            "{label}: unknown enum values and extra fields break decoding: {e}"
        ));
    }
}

fn check_example(oracle: &Oracle, ex: &Example, t: &mut Tally) {
    let Some(reader) = ex.reader else {
        t.not_read
            .entry(format!("{} {}", ex.source, ex.version))
            .or_default()
            .push(format!("{} ({})", ex.label, ex.not_read));
        return;
    };
    let mut body = ex.body.clone();
    apply_exceptions(&ex.label, &mut body, t);
    match (reader.decode)(&body) {
        Ok(n) => {
            *t.decoded
                .entry(format!("{} {}", ex.source, ex.version))
                .or_default() += 1;
            t.records += n;
            t.decoded_labels
                .push(format!("{} ({}, {})", ex.label, ex.source, reader.record));
            match (reader.reencode)(&body) {
                Ok(kept) => {
                    let mut lost = Vec::new();
                    compare_kept(&body, &kept, "", &mut t.values_compared, &mut lost);
                    for l in lost {
                        t.failures.push(format!(
                            "{} ({}): value not kept at {l}",
                            ex.label, ex.source
                        ));
                    }
                }
                Err(e) => t.failures.push(format!("{}: {e}", ex.label)),
            }
        }
        Err(e) => {
            t.failures.push(format!(
                "{} ({}): {} does not decode: {e}",
                ex.label, ex.source, reader.record
            ));
            return;
        }
    }
    check_response_variants(oracle, ex, reader, &body, t);
}

#[test]
fn every_official_lightspeed_example_decodes() {
    let Some(reference) = spec_oracle::require_reference_dir() else {
        return;
    };
    let ls = reference.join("lightspeed-x");
    let specs: Vec<Spec> = SPECS
        .iter()
        .map(|(version, file)| Spec {
            version,
            doc: read_json(&ls.join("openapi").join(file)),
        })
        .collect();
    let mut examples = Vec::new();
    for spec in &specs {
        examples.extend(embedded_examples(spec));
    }
    examples.extend(spec_example_files(&ls.join("spec-examples"), &specs));
    let oracle = Oracle::new(specs);

    let mut t = Tally::default();
    for ex in &examples {
        check_example(&oracle, ex, &mut t);
    }

    // Routes the client reads that have no official example in a version it speaks: a body generated
    // from the response schema (every documented property, a value of its type) must decode too.
    let with_example: BTreeSet<(String, String)> = examples
        .iter()
        .filter(|e| e.reader.is_some())
        .filter_map(|e| {
            e.route
                .as_ref()
                .map(|(m, p, s)| (e.version.clone(), format!("{m} {p} {s}")))
        })
        .collect();
    for spec in &oracle.specs {
        for (method, path, status, resp) in spec.responses() {
            let Some(reader) = reader_for(spec.version, &method, &path, &status) else {
                continue;
            };
            let key = (spec.version.to_owned(), format!("{method} {path} {status}"));
            if with_example.contains(&key) {
                continue;
            }
            let Some(schema) = response_schema(spec, resp) else {
                t.generated_without_schema
                    .push(format!("{} {}", key.0, key.1));
                continue;
            };
            let mut body = synth(spec, schema, "", 0);
            let label = format!("{} {}", key.0, key.1);
            for e in SCHEMA_EXCEPTIONS.iter().filter(|e| e.route == label) {
                if (e.fix)(&mut body) {
                    t.schema_exceptions_seen.insert(e.route);
                } else {
                    t.failures.push(format!(
                        "{label}: schema exception no longer applies ({})",
                        e.why
                    ));
                }
            }
            match (reader.decode)(&body) {
                Ok(_) => {
                    t.generated.push(label.clone());
                    // The same null, list, enum and extra-field variants as for official examples.
                    let ex = Example {
                        source: "generated",
                        version: spec.version.to_owned(),
                        label: format!("{label} (generated)"),
                        body: body.clone(),
                        reader: Some(reader),
                        not_read: String::new(),
                        route: Some((method.clone(), path.clone(), status.clone())),
                    };
                    check_response_variants(&oracle, &ex, reader, &body, &mut t);
                }
                Err(e) => t.failures.push(format!(
                    "{} {} (generated from the schema, no official example): {e}\n  body: {body}",
                    key.0, key.1
                )),
            }
        }
    }

    // Webhook payloads (API 1.0 shapes), with unknown fields added as well.
    for (kind, payload) in webhook_examples(&ls.join("webhook-examples")) {
        let label = format!("webhook {kind}");
        let mut extra = payload.clone();
        t.extra_fields += add_extra_fields(&mut extra);
        for (what, body) in [("as sent", &payload), ("with extra fields", &extra)] {
            match decode_webhook(&kind, body) {
                Ok(n) if what == "as sent" => {
                    *t.decoded.entry("webhook-examples 1.0".into()).or_default() += 1;
                    t.records += 1;
                    t.values_compared += n;
                }
                Ok(_) => {}
                Err(e) => t.failures.push(format!("{label} ({what}): {e}")),
            }
        }
    }

    // Legacy 0.9 objects: the client reads the 1.0-style sale, product and customer shapes in webhooks.
    let legacy_dir = ls.join("legacy-0.9-examples");
    let mut legacy: Vec<PathBuf> = std::fs::read_dir(&legacy_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", legacy_dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    legacy.sort();
    for file in legacy {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let body = read_json(&file);
        let Some((key, kind)) = legacy_reader(&name) else {
            let key = body
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "pagination").cloned())
                .unwrap_or_default();
            t.not_read.entry("legacy-0.9-examples 0.9".into()).or_default().push(format!(
                "{name} ({key}: the client never calls API 0.9 and no webhook carries this object)"
            ));
            continue;
        };
        let items = body
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert!(!items.is_empty(), "{name}: no `{key}` records");
        for (i, item) in items.iter().enumerate() {
            match decode_webhook(kind, item) {
                Ok(n) => {
                    t.records += 1;
                    t.values_compared += n;
                }
                Err(e) => t
                    .failures
                    .push(format!("{name}[{i}] as a {kind} payload: {e}")),
            }
        }
        *t.decoded
            .entry("legacy-0.9-examples 0.9".into())
            .or_default() += 1;
    }

    // Report.
    println!("Decoded official examples (source version: examples):");
    for (k, n) in &t.decoded {
        println!("  {k}: {n}");
    }
    for l in &t.decoded_labels {
        println!("    {l}");
    }
    let total: usize = t.decoded.values().sum();
    println!(
        "  total: {total} examples, {} records; {} nullable fields and {} lists set to null; \
         {} documented fields added; {} enum values unknown, {} extra fields; {} exception patches; \
         {} numbers and booleans compared with the values kept",
        t.records,
        t.nulled_fields,
        t.nulled_lists,
        t.documented_fields,
        t.enum_values,
        t.extra_fields,
        t.exceptions_used,
        t.values_compared
    );
    println!(
        "Read routes without an official example, decoded from a schema-generated body: {}",
        t.generated.len()
    );
    for g in &t.generated {
        println!("    {g}");
    }
    if !t.generated_without_schema.is_empty() {
        println!(
            "Read routes with neither example nor schema: {:?}",
            t.generated_without_schema
        );
    }
    println!("Examples not read by the client:");
    for (k, list) in &t.not_read {
        println!("  {k}: {}", list.len());
        for l in list {
            println!("    {l}");
        }
    }
    let not_read: usize = t.not_read.values().map(Vec::len).sum();
    println!("  total not read: {not_read}");

    assert!(
        t.failures.is_empty(),
        "{} failures:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
    // Cannot pass vacuously: the figures of the reference set as of 2026-11 (lower bounds).
    let count = |k: &str| t.decoded.get(k).copied().unwrap_or(0);
    assert!(
        count("embedded 2.0") >= 25,
        "2.0: {}",
        count("embedded 2.0")
    );
    assert!(
        count("embedded 2026-07") >= 25,
        "2026-07: {}",
        count("embedded 2026-07")
    );
    assert!(
        count("spec-examples 2.0") >= 25,
        "spec-examples: {}",
        count("spec-examples 2.0")
    );
    assert_eq!(count("webhook-examples 1.0"), 7);
    assert!(count("legacy-0.9-examples 0.9") >= 8);
    assert!(t.records >= 100, "{} records", t.records);
    assert!(
        t.nulled_fields >= 100,
        "{} nullable fields",
        t.nulled_fields
    );
    assert!(t.nulled_lists >= 20, "{} lists", t.nulled_lists);
    assert!(t.enum_values >= 10, "{} enum values", t.enum_values);
    assert_eq!(
        t.exceptions_seen.len(),
        EXCEPTIONS.len(),
        "every exception is used"
    );
    assert_eq!(
        t.schema_exceptions_seen.len(),
        SCHEMA_EXCEPTIONS.len(),
        "every schema exception is used"
    );
    assert!(
        t.values_compared >= 500,
        "{} values compared",
        t.values_compared
    );
    assert!(
        t.generated.len() >= 8,
        "{} generated bodies",
        t.generated.len()
    );
}

// ---------------------------------------------------------------------------------------------------------
// Requests: `POST /customers` and `PUT /customers/{id}` carry the keys both specs require.
// ---------------------------------------------------------------------------------------------------------

mod customer_requests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// The official example answer of a route in a spec.
    fn official_example(spec: &Spec, method: &str, path: &str, status: &str) -> Value {
        spec.responses()
            .into_iter()
            .find(|(m, p, s, _)| m == method && p == path && s == status)
            .and_then(|(_, _, _, r)| {
                r.get("content")?
                    .as_object()?
                    .values()
                    .find_map(|c| c.get("example").cloned())
            })
            .unwrap_or_else(|| panic!("{} {method} {path} {status}: no example", spec.version))
    }

    /// The `required` keys of a request body schema.
    fn required_keys(spec: &Spec, method: &str, path: &str) -> Vec<String> {
        let op = spec
            .doc
            .pointer(&format!(
                "/paths/{}/{}",
                path.replace('~', "~0").replace('/', "~1"),
                method.to_lowercase()
            ))
            .unwrap_or_else(|| panic!("{} has no {method} {path}", spec.version));
        let schema = op
            .pointer("/requestBody/content/application~1json/schema")
            .map(|s| spec.resolve(s))
            .expect("request schema");
        let keys: Vec<String> = schema["required"]
            .as_array()
            .expect("required keys")
            .iter()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        for k in &keys {
            assert!(
                is_nullable(spec, &schema["properties"][k]),
                "{}: {k} is required and nullable",
                spec.version
            );
        }
        keys
    }

    fn specs() -> Option<Vec<Spec>> {
        let dir = spec_oracle::require_reference_dir()?.join("lightspeed-x/openapi");
        Some(
            [
                ("2.0", "legacy-api-v2-0.json"),
                ("2026-07", "api-2026-07.json"),
            ]
            .into_iter()
            .map(|(version, file)| Spec {
                version,
                doc: read_json(&dir.join(file)),
            })
            .collect(),
        )
    }

    async fn client(server: &MockServer) -> Client {
        // The mocks below answer the legacy 2.0 paths; the default is now 2026-07.
        Client::builder()
            .base_url(server.uri())
            .api_version(ApiVersion::legacy())
            .personal_token("tok".into())
            .unlimited()
            .build()
            .await
            .unwrap()
    }

    async fn bodies(server: &MockServer, verb: &str) -> Vec<Value> {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == verb)
            .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
            .collect()
    }

    #[tokio::test]
    async fn create_and_update_send_the_required_name_keys() {
        let Some(specs) = specs() else { return };
        let server = MockServer::start().await;
        let v20 = &specs[0];
        let created = official_example(v20, "POST", "/customers", "201");
        let read = official_example(v20, "GET", "/customers/{customer_id}", "200");
        let updated = official_example(v20, "PUT", "/customers/{customer_id}", "200");
        let id = read["data"]["id"].as_str().unwrap().to_owned();
        Mock::given(method("POST"))
            .and(path("/api/2.0/customers"))
            .respond_with(ResponseTemplate::new(201).set_body_json(&created))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/api/2.0/customers/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(&read))
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path(format!("/api/2.0/customers/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(&updated))
            .mount(&server)
            .await;
        let c = client(&server).await;
        let id = CustomerId::new(id);

        // A company-only customer: both name keys, as null.
        c.customers()
            .create(&CustomerInput {
                company_name: Some("Analytical Engines Ltd".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        // A partial update built from the customer as read: the stored names travel with it.
        let current = c.customers().get(&id).await.unwrap();
        assert!(current.first_name.is_some() && current.last_name.is_some());
        let phone_only = CustomerInput {
            phone: Some("+64 9 000".into()),
            ..Default::default()
        };
        c.customers()
            .update(&id, &CustomerUpdate::new(&current, phone_only.clone()))
            .await
            .unwrap();
        // The same through `modify`, which reads the customer first.
        c.customers().modify(&id, phone_only).await.unwrap();
        // Clearing a name is explicit.
        c.customers()
            .update(
                &id,
                &CustomerUpdate::with_names(Some("Ada".into()), None, CustomerInput::default()),
            )
            .await
            .unwrap();

        let posts = bodies(&server, "POST").await;
        let puts = bodies(&server, "PUT").await;
        assert_eq!((posts.len(), puts.len()), (1, 3));
        for spec in &specs {
            for (verb, route, sent) in [
                ("POST", "/customers", &posts),
                ("PUT", "/customers/{customer_id}", &puts),
            ] {
                let keys = required_keys(spec, verb, route);
                assert!(
                    keys.iter().any(|k| k == "first_name") && keys.iter().any(|k| k == "last_name")
                );
                for body in sent {
                    for k in &keys {
                        assert!(
                            body.get(k).is_some(),
                            "{} {verb} {route}: required key {k} missing from {body}",
                            spec.version
                        );
                    }
                }
            }
        }
        assert_eq!(
            posts[0],
            json!({"first_name": null, "last_name": null, "company_name": "Analytical Engines Ltd"})
        );
        let names = json!({
            "first_name": current.first_name,
            "last_name": current.last_name,
            "phone": "+64 9 000",
        });
        assert_eq!(puts[0], names, "the stored names are sent back, never null");
        assert_eq!(puts[1], names);
        assert_eq!(puts[2], json!({"first_name": "Ada", "last_name": null}));
    }
}
