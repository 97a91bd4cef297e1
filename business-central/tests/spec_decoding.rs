//! The decoding oracle: every Business Central example from the official material
//! (`business-central/examples/docs`, Microsoft Learn) and every recorded real response
//! (`business-central/examples/real`, incl. the WireMock `__files` and the bodies inside
//! `mappings`) decodes with the client's own types, and is checked against the real `$metadata`
//! (responses as responses, requests as requests). Every property `$metadata` marks nullable is
//! then set to `null`, one at a time, and the example must still decode; so must the example with
//! unknown enum members, an unknown property, and `null` for an expanded collection.
//!
//! The official files live outside the repository (`../shared/reference`, or
//! `POS_SYNC_REFERENCE_DIR`); without them this test fails naming the path, unless
//! `POS_SYNC_SKIP_SPEC_TESTS=1`.

use std::path::{Path, PathBuf};

use business_central::batch::{Batch, BatchOperation, BatchResponse};
use business_central::models::*;
use business_central::webhook::{WebhookHandler, WebhookReply};
use business_central::{ApiError, Page, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use spec_oracle::metadata::{Direction, Metadata, Violation, check_error, require_metadata};

/// Official examples that contradict `$metadata`: (file, path of the value, why). Everything not
/// listed here must match `$metadata` exactly.
const CONTRADICTIONS: &[(&str, &str, &str)] = &[
    (
        "docs/*",
        "@odata.etag",
        "Microsoft Learn's response examples leave out @odata.etag; every recorded real response \
         carries it on every entity (business-central.md §3), so $metadata's rule stands",
    ),
    (
        "docs/contact.get.response.json",
        "lastModifiedDateTime",
        "the docs show a bare date \"2021-06-01\" for an Edm.DateTimeOffset (the client reads it as midnight UTC)",
    ),
    (
        "docs/customer.create.request.json",
        "blocked",
        "the docs show the blank member as \" \"; $metadata's member is \"_x0020_\" (business-central.md §5)",
    ),
    (
        "docs/customer.get.response.json",
        "blocked",
        "the docs show the blank member as \" \"; $metadata's member is \"_x0020_\"",
    ),
    (
        "docs/customer.create.response.json",
        "blocked",
        "the docs show the blank member as \" \"; $metadata's member is \"_x0020_\"",
    ),
    (
        "docs/customer.update.response.json",
        "blocked",
        "the docs show the blank member as \" \"; $metadata's member is \"_x0020_\"",
    ),
];

fn reference() -> Option<(PathBuf, &'static Metadata)> {
    let dir = spec_oracle::require_reference_dir()?;
    let md = require_metadata()?;
    Some((dir.join("business-central").join("examples"), md))
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn decode<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(v.clone())
        .map(drop)
        .map_err(|e| e.to_string())
}

fn decode_page<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    Page::<T>::from_json(v.to_string().as_bytes())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Decodes one entity of `entity_type` (a `$metadata` type name) with the client's model type.
fn decode_entity(entity_type: &str, v: &Value) -> Result<(), String> {
    match entity_type {
        "company" => decode::<Company>(v),
        "customer" => decode::<Customer>(v),
        "contact" => decode::<Contact>(v),
        "item" => decode::<Item>(v),
        "itemVariant" => decode::<ItemVariant>(v),
        "itemCategory" => decode::<ItemCategory>(v),
        "salesOrder" => decode::<SalesOrder>(v),
        "salesOrderLine" => decode::<SalesOrderLine>(v),
        "salesInvoice" => decode::<SalesInvoice>(v),
        "salesInvoiceLine" => decode::<SalesInvoiceLine>(v),
        "paymentTerm" => decode::<PaymentTerm>(v),
        "paymentMethod" => decode::<PaymentMethod>(v),
        "location" => decode::<Location>(v),
        "itemLedgerEntry" => decode::<ItemLedgerEntry>(v),
        "generalProductPostingGroup" => decode::<GeneralProductPostingGroup>(v),
        "inventoryPostingGroup" => decode::<InventoryPostingGroup>(v),
        "subscriptions" => decode::<Subscription>(v),
        other => Err(format!("the client has no type for '{other}'")),
    }
}

fn decode_collection(entity_type: &str, v: &Value) -> Result<(), String> {
    match entity_type {
        "company" => decode_page::<Company>(v),
        "customer" => decode_page::<Customer>(v),
        "salesOrder" => decode_page::<SalesOrder>(v),
        other => {
            // Every row with the entity type's decoder.
            let rows = v["value"].as_array().ok_or("no value array")?;
            rows.iter().try_for_each(|r| decode_entity(other, r))
        }
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    entities: usize,
    checked: usize,
    nulled: usize,
    exceptions_used: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn violations(&mut self, file: &str, found: Vec<Violation>) {
        self.checked += 1;
        for v in found {
            if let Some((_, _, why)) = CONTRADICTIONS.iter().find(|(f, p, _)| {
                let file_matches = *f == file
                    || f.strip_suffix('*')
                        .is_some_and(|prefix| file.starts_with(prefix));
                file_matches && (v.path == *p || v.path.ends_with(&format!(".{p}")))
            }) {
                self.exceptions_used
                    .push(format!("{file} {}: {why}", v.path));
            } else {
                self.failures.push(format!("{file}: $metadata: {v}"));
            }
        }
    }

    fn decoded(&mut self, file: &str, what: &str, r: Result<(), String>) {
        self.entities += 1;
        if let Err(e) = r {
            self.failures
                .push(format!("{file}: does not decode as {what}: {e}"));
        }
    }

    /// Sets each nullable property present in `entity` to null, one at a time, and decodes again.
    fn null_tolerance(&mut self, file: &str, md: &Metadata, entity_type: &str, entity: &Value) {
        let Some(ty) = md.entity_type(entity_type) else {
            return;
        };
        let Some(obj) = entity.as_object() else {
            return;
        };
        // An unknown enum member in every enum property, and a property the client has never
        // heard of: both decode.
        let mut future = entity.clone();
        future["propertyFromANewerRelease"] = Value::from("x");
        for (k, p) in &ty.properties {
            if obj.contains_key(k)
                && md
                    .enum_types
                    .contains_key(p.type_name.trim_start_matches("Microsoft.NAV."))
            {
                future[k] = Value::from("New_x0020_Member");
            }
        }
        self.nulled += 1;
        if let Err(e) = decode_entity(entity_type, &future) {
            self.failures.push(format!(
                "{file}: {entity_type} with unknown enum members and an extra property does not decode: {e}"
            ));
        }
        // A collection navigation sent as null is an empty list.
        for (k, nav) in &ty.navigation {
            if nav.collection && obj.contains_key(k) {
                let mut nulled = entity.clone();
                nulled[k] = Value::Null;
                self.nulled += 1;
                if let Err(e) = decode_entity(entity_type, &nulled) {
                    self.failures.push(format!(
                        "{file}: {entity_type} with '{k}': null does not decode: {e}"
                    ));
                }
            }
        }
        for (k, p) in &ty.properties {
            if !p.nullable || !obj.contains_key(k) {
                continue;
            }
            let mut mutated = entity.clone();
            mutated[k] = Value::Null;
            self.nulled += 1;
            if let Err(e) = decode_entity(entity_type, &mutated) {
                self.failures.push(format!(
                    "{file}: '{k}' is nullable in $metadata but {entity_type} with it null does not decode: {e}"
                ));
            }
        }
    }
}

/// The entity type of an official docs file name (`salesOrderLine.create.response.json`).
fn docs_type(name: &str) -> &str {
    let prefix = name.split('.').next().unwrap_or("");
    match prefix {
        "subscription" => "subscriptions",
        "companies" => "company",
        p => p,
    }
}

#[test]
fn every_official_business_central_example_decodes_and_matches_metadata() {
    let Some((root, md)) = reference() else {
        return;
    };
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() >= 50,
        "expected the docs and real examples under {}",
        root.display()
    );
    let mut t = Tally::default();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let v = read(path);
        t.files += 1;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(docs) = rel.strip_prefix("docs/") {
            check_docs_file(&mut t, md, &rel, docs, &v);
        } else if rel.contains("/mappings/") {
            check_mapping(&mut t, md, &rel, &v);
        } else if rel.ends_with("get-deleted-customer.json") {
            check_error_body(&mut t, &rel, 404, &v);
        } else if v.get("value").is_some() {
            // Recorded collections: rebelpl salesOrders (expanded), tfenster customers.
            let ty = if name.starts_with("salesOrders") {
                "salesOrder"
            } else {
                "customer"
            };
            check_collection(&mut t, md, &rel, ty, &v);
        } else {
            // Recorded single customers (get, create 201, update 200).
            check_response_entity(&mut t, md, &rel, "customer", &v);
        }
    }
    println!(
        "{} files, {} bodies decoded with the client's types, {} checked against $metadata, {} null \
         mutations decoded, {} documented contradictions hit",
        t.files,
        t.entities,
        t.checked,
        t.nulled,
        t.exceptions_used.len()
    );
    for e in &t.exceptions_used {
        println!("  exception: {e}");
    }
    assert!(t.failures.is_empty(), "{}", t.failures.join("\n"));
    assert!(t.files >= 55, "{} files", t.files);
    assert!(t.entities >= 130, "{} bodies decoded", t.entities);
    assert!(t.nulled >= 2_500, "{} null mutations", t.nulled);
    // Every listed contradiction is still real (the list is not stale).
    for (file, path, _) in CONTRADICTIONS {
        assert!(
            t.exceptions_used.iter().any(|e| {
                let (f, rest) = e.split_once(' ').unwrap_or((e, ""));
                (f == *file || file.strip_suffix('*').is_some_and(|p| f.starts_with(p)))
                    && (rest.starts_with(path) || rest.contains(&format!(".{path}")))
            }),
            "the exception for {file} {path} is no longer needed: remove it"
        );
    }
}

fn check_response_entity(t: &mut Tally, md: &Metadata, rel: &str, ty: &str, v: &Value) {
    t.decoded(rel, ty, decode_entity(ty, v));
    t.violations(rel, md.check_entity(ty, v, Direction::Response));
    t.null_tolerance(rel, md, ty, v);
    // Expanded navigation properties decode on their own, nulls included.
    if let (Some(et), Some(obj)) = (md.entity_type(ty), v.as_object()) {
        for (k, nav) in &et.navigation {
            let Some(inner) = obj.get(k) else { continue };
            let items: Vec<&Value> = match inner {
                Value::Array(a) => a.iter().collect(),
                Value::Null => Vec::new(),
                other => vec![other],
            };
            for item in items {
                t.decoded(rel, &nav.target, decode_entity(&nav.target, item));
                t.null_tolerance(rel, md, &nav.target, item);
            }
        }
    }
}

fn check_collection(t: &mut Tally, md: &Metadata, rel: &str, ty: &str, v: &Value) {
    t.decoded(rel, &format!("a page of {ty}"), decode_collection(ty, v));
    t.violations(rel, md.check_collection(ty, v));
    for row in v["value"].as_array().into_iter().flatten() {
        check_response_entity(t, md, rel, ty, row);
    }
    // `null` where the list is expected is an empty page.
    let mut nulled = v.clone();
    nulled["value"] = Value::Null;
    t.decoded(
        rel,
        "a page with value: null",
        decode_collection(ty, &nulled).or_else(|e| {
            // Types decoded row by row above have no page decoder: the client's page is generic.
            if ty == "company" || ty == "customer" || ty == "salesOrder" {
                Err(e)
            } else {
                Ok(())
            }
        }),
    );
}

fn check_error_body(t: &mut Tally, rel: &str, status: u16, v: &Value) {
    t.checked += 1;
    for violation in check_error(v) {
        t.failures.push(format!("{rel}: error shape: {violation}"));
    }
    let e = ApiError::parse(status, v.to_string().as_bytes(), None);
    t.decoded(
        rel,
        "an ApiError",
        if e.code.as_str() == v["error"]["code"].as_str().unwrap_or("?") {
            Ok(())
        } else {
            Err(format!("code {} read as {}", v["error"]["code"], e.code))
        },
    );
}

fn check_docs_file(t: &mut Tally, md: &Metadata, rel: &str, name: &str, v: &Value) {
    let ty = docs_type(name);
    if name.starts_with("webhook.notification") {
        let reply = WebhookHandler::new(SecretString::from("someClientState"))
            .handle(None, v.to_string().as_bytes());
        t.decoded(
            rel,
            "webhook notifications",
            match reply {
                WebhookReply::Notifications(n) if n.len() == 4 => Ok(()),
                other => Err(format!("{other:?}")),
            },
        );
    } else if name.starts_with("batch.") && name.contains(".request.") {
        // Each operation's body against the entity set its URL names.
        for op in v["requests"].as_array().into_iter().flatten() {
            let url = op["url"].as_str().unwrap_or("");
            let Some(body) = op.get("body") else { continue };
            let set = url
                .split('?')
                .next()
                .unwrap_or("")
                .rsplit('/')
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .split('(')
                .next()
                .unwrap_or("");
            if set == "contentValue" {
                // A media stream upload: the body is the stream, not an entity.
                continue;
            }
            let Some(et) = md.entity_type(set) else {
                t.failures.push(format!("{rel}: unknown set '{set}'"));
                continue;
            };
            let et = et.name.clone();
            t.decoded(rel, &et, decode_entity(&et, body));
            let found = md.check_entity(&et, body, Direction::Request);
            // The transactional example deliberately sends an invalid item type to show the error.
            let found = found
                .into_iter()
                .filter(|f| !(body["type"] == "Invalid Type" && f.path == "type"))
                .collect();
            t.violations(rel, found);
        }
    } else if name.starts_with("batch.") {
        let mut batch = Batch::new();
        let n = v["responses"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            let op = BatchOperation {
                id: format!("{i}"),
                method: "PATCH".into(),
                url: "items(7ce0af2e-0963-460f-9b1f-0014aea3e117)".into(),
                headers: Default::default(),
                body: None,
            };
            batch.push(op).expect("distinct ids");
        }
        let decoded = BatchResponse::from_body(&batch, v.to_string().as_bytes())
            .map(|r| {
                r.into_outcomes()
                    .into_iter()
                    .map(|(_, o)| o.is_success())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| e.to_string());
        t.decoded(
            rel,
            "a $batch response",
            match decoded {
                Ok(s) if s == [true, true, false] => Ok(()),
                other => Err(format!("{other:?}")),
            },
        );
        for r in v["responses"].as_array().into_iter().flatten() {
            if r["status"].as_u64().is_some_and(|s| s >= 400) {
                check_error_body(t, rel, 400, &r["body"]);
            }
        }
    } else if name.contains(".list.response") {
        check_collection(t, md, rel, ty, v);
    } else if name.contains(".response") {
        check_response_entity(t, md, rel, ty, v);
    } else {
        // A request body (create, update, deep insert): decodable by the client's model type too.
        let ty = if name.contains("deep-insert") {
            "salesInvoice"
        } else {
            ty
        };
        t.decoded(rel, ty, decode_entity(ty, v));
        t.violations(rel, md.check_entity(ty, v, Direction::Request));
    }
}

fn check_mapping(t: &mut Tally, md: &Metadata, rel: &str, v: &Value) {
    let req = &v["request"];
    for p in req["bodyPatterns"].as_array().into_iter().flatten() {
        if let Some(body) = p["equalToJson"].as_str() {
            let body: Value = serde_json::from_str(body).expect("recorded request body");
            t.decoded(rel, "customer", decode_entity("customer", &body));
            t.violations(rel, md.check_entity("customer", &body, Direction::Request));
        }
    }
    if let Some(body) = v["response"].get("jsonBody") {
        check_collection(t, md, rel, "company", body);
    }
}
