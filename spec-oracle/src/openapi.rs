//! Lightspeed's OpenAPI 3.0 documents as JSON Schema validators.
//!
//! A document is loaded once per process ([`lightspeed`], [`Spec::load`]) and turned into JSON
//! Schema (Draft 7):
//! - `nullable: true` allows `null` (`type` gains `"null"`; a `$ref`/`allOf` with `nullable` becomes
//!   `anyOf: [schema, {type: null}]`);
//! - the OpenAPI 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` become Draft 7 numbers;
//! - OpenAPI keywords with no JSON Schema meaning (`example`, `discriminator`, `readOnly`, `x-*`) are
//!   left alone (unknown keywords are annotations);
//! - **formats are annotations, not assertions**: `uuid`, `date-time`, `double`, `int64` are not
//!   checked, because the API (and the spec's own examples) send zone-less timestamps under
//!   `date-time` and non-UUID ids under `uuid`.
//!
//! A schema is checked by a validator whose root carries the document's `components` plus a `$ref`
//! to the JSON pointer of the wanted schema, so every `$ref` of the spec resolves. Validators are
//! compiled on first use and cached.
//!
//! **Strict responses.** The real API sends every key it documents (`null` when nullable). For
//! responses the validator therefore also requires, in every schema object the spec's own examples
//! reach, each declared property that all those examples show; a property that some example of the
//! spec leaves out stays optional (the examples are the evidence of what the API omits), and a
//! schema no example reaches only gets the spec's own `required`. Requests are checked without this
//! rule (the spec's `required` only).
//!
//! **Statuses.** A response status must be documented for its operation (exactly, as a `2XX`-style
//! range, or by `default`). An error status (4xx/5xx) the operation does not document is accepted
//! when the body is the API's error envelope (a JSON object whose `error` and `message`, when
//! present, are strings: the shape the spec documents for its own error responses), because the API
//! answers 401, 404, 429 and 5xx on every route while the spec documents them on a few.
//!
//! **Query parameters.** Required ones must be present; the ones the spec declares must parse as
//! their type (integer, number, boolean, enum). Parameters the spec does not declare are not refused
//! (the API ignores them).

use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// One way a request or response differs from the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where: a JSON pointer into the body (`/data/0/name`), or `status`, `path`, `query.<name>`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

fn violation(at: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation {
        at: at.into(),
        message: message.into(),
    }
}

/// The operation a concrete path matched.
#[derive(Clone, Debug)]
pub struct Operation<'a> {
    /// The path template of the spec (`/products/{product_id}`).
    pub template: &'a str,
    /// The lower-case method.
    pub method: String,
    /// The operation object of the spec.
    pub object: &'a Value,
}

type Compiled = Arc<jsonschema::Validator>;

/// One OpenAPI document, ready to check requests and responses.
pub struct Spec {
    name: String,
    /// The converted document (JSON Schema keywords), requests.
    lenient: Value,
    /// The converted document with the strict-response `required` lists.
    strict: Value,
    /// Path templates split in segments, most literal segments first.
    templates: Vec<(String, Vec<String>)>,
    cache: Mutex<HashMap<(bool, String), Compiled>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Places where an official spec contradicts itself (its own example or description, or the later
/// version of the same endpoint), with the schema the oracle uses instead: `(file, JSON pointer,
/// schema, why)`. Nothing here is for the sandbox's sake.
pub const ERRATA: &[(&str, &str, &str, &str)] = &[
    (
        "legacy-api-v2-0.json",
        "/components/schemas/Shift/properties/time_out",
        r#"{"type": "string", "nullable": true, "description": "The time the shift ended."}"#,
        "an open shift (clocked in, not yet out) has no end time, which the non-nullable string cannot express; the examples only show closed shifts",
    ),
    (
        "api-2026-07.json",
        "/components/schemas/Shift/properties/time_out",
        r#"{"type": "string", "nullable": true, "description": "The time the shift ended."}"#,
        "an open shift (clocked in, not yet out) has no end time, which the non-nullable string cannot express; the examples only show closed shifts",
    ),
    (
        "legacy-api-v2-0.json",
        "/components/schemas/Retailer/properties/timezone",
        r#"{"type": "string", "description": "Default Timezone for retailer - e.g. Pacific/Auckland."}"#,
        "typed `object` but described as a zone name such as Pacific/Auckland; 2026-07 types it string",
    ),
    (
        "legacy-api-v2-0.json",
        "/paths/~1consignments/get/responses/200/content/application~1json/schema",
        r##"{"type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Consignment"}}, "version": {"$ref": "#/components/schemas/Version"}}}"##,
        "a bare array, unlike every other version-cursor list of 2.0 (it documents after/before/page_size); 2026-07 documents the {data, version} envelope",
    ),
    (
        "legacy-api-v2-0.json",
        "/paths/~1products/post/responses/200/content/application~1json/schema/properties/data/items",
        r#"{"type": "string"}"#,
        "described as \"the ID or IDs of the new products\" and its own example lists id strings, but items are typed object; 2026-07 types them string",
    ),
    (
        "api-2026-07.json",
        "/components/schemas/ProductCreateBody/properties/product_codes/items",
        r#"{"type": "object", "title": "ProductCode", "properties": {"code": {"type": "string", "description": "The sku code being added."}, "id": {"type": "string", "description": "Auto-generated object ID."}, "type": {"type": "string", "enum": ["CUSTOM", "EAN", "ISBN", "ITF", "JAN", "UPC"]}}, "required": ["code"]}"#,
        "the create bodies reuse the response schema ProductCode, whose `required` names `id`, described as \"Auto-generated object ID\": a caller cannot send an id that does not exist yet; 2.0 requires none and its example sends `{type, code}`",
    ),
    (
        "api-2026-07.json",
        "/components/schemas/ProductCreateBody/properties/product_suppliers/items",
        r#"{"type": "object", "title": "Product Supplier", "properties": {"code": {"type": "string", "nullable": true}, "id": {"type": "string", "description": "Auto-generated object ID."}, "price": {"type": "number", "nullable": true}, "product_id": {"type": "string"}, "supplier_id": {"type": "string", "nullable": true}, "supplier_name": {"type": "string", "nullable": true}}, "required": ["supplier_id"]}"#,
        "the create bodies reuse the response schema ProductSupplier, whose `required` names `id` (\"Auto-generated object ID\"), `product_id` (the product being created) and `supplier_name` (derived from `supplier_id`); 2.0 requires none of them",
    ),
    (
        "api-2026-07.json",
        "/components/schemas/ProductAddVariantPayload/properties/product_codes/items",
        r#"{"type": "object", "title": "ProductCode", "properties": {"code": {"type": "string", "description": "The sku code being added."}, "id": {"type": "string", "description": "Auto-generated object ID."}, "type": {"type": "string", "enum": ["CUSTOM", "EAN", "ISBN", "ITF", "JAN", "UPC"]}}, "required": ["code"]}"#,
        "the create bodies reuse the response schema ProductCode, whose `required` names `id`, described as \"Auto-generated object ID\": a caller cannot send an id that does not exist yet; 2.0 requires none and its example sends `{type, code}`",
    ),
    (
        "api-2026-07.json",
        "/components/schemas/ProductAddVariantPayload/properties/product_suppliers/items",
        r#"{"type": "object", "title": "Product Supplier", "properties": {"code": {"type": "string", "nullable": true}, "id": {"type": "string", "description": "Auto-generated object ID."}, "price": {"type": "number", "nullable": true}, "product_id": {"type": "string"}, "supplier_id": {"type": "string", "nullable": true}, "supplier_name": {"type": "string", "nullable": true}}, "required": ["supplier_id"]}"#,
        "the create bodies reuse the response schema ProductSupplier, whose `required` names `id` (\"Auto-generated object ID\"), `product_id` (the product being created) and `supplier_name` (derived from `supplier_id`); 2.0 requires none of them",
    ),
];

/// The official Lightspeed spec files, by API version segment.
pub const SPEC_FILES: &[(&str, &str)] = &[
    ("2.0", "legacy-api-v2-0.json"),
    ("2.0-beta", "legacy-api-v2-0-beta.json"),
    ("2.1", "legacy-api-v2-1.json"),
    ("2026-07", "api-2026-07.json"),
];

/// A Lightspeed spec by version key (`2.0`, `2.0-beta`, `2.1`, `2026-07`), loaded once per process
/// from the reference folder; `None` when the folder or file is missing or unreadable.
pub fn lightspeed(version: &str) -> Option<&'static Spec> {
    static LOADED: OnceLock<Mutex<HashMap<String, Option<&'static Spec>>>> = OnceLock::new();
    let file = SPEC_FILES.iter().find(|(v, _)| *v == version)?.1;
    let map = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = map.get(version) {
        return *s;
    }
    let spec = crate::reference_dir()
        .map(|d| d.join("lightspeed-x").join("openapi").join(file))
        .and_then(|p| Spec::load(&p).ok())
        .map(|s| &*Box::leak(Box::new(s)));
    map.insert(version.to_owned(), spec);
    spec
}

/// The spec and spec-relative path of a Lightspeed API request path (`/api/2.0/products/1` gives
/// the 2.0 spec and `/products/1`). For `2.0`, operations the 2.0 spec lacks are looked up in the
/// 2.0 BETA spec (webhooks live there). `None` for paths outside a known version or when the specs
/// are missing.
pub fn lightspeed_for(method: &str, full_path: &str) -> Option<(&'static Spec, String)> {
    let rest = full_path.strip_prefix("/api/")?;
    let (version, path) = rest.split_once('/')?;
    let path = format!("/{path}");
    match version {
        "2.0" => {
            let main = lightspeed("2.0")?;
            if main.operation(method, &path).is_some() {
                return Some((main, path));
            }
            match lightspeed("2.0-beta") {
                Some(beta) if beta.operation(method, &path).is_some() => Some((beta, path)),
                _ => Some((main, path)),
            }
        }
        "2.1" | "2026-07" => Some((lightspeed(version)?, path)),
        _ => None,
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Spec {
    /// Reads and converts an OpenAPI 3.0 JSON document.
    pub fn load(path: &Path) -> Result<Spec, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Spec::from_document(name, doc))
    }

    /// Converts an OpenAPI 3.0 document already in memory (applying [`ERRATA`] of that file name).
    pub fn from_document(name: impl Into<String>, mut doc: Value) -> Spec {
        let name = name.into();
        for (file, ptr, schema, _why) in ERRATA {
            if *file == name
                && let (Some(slot), Ok(fixed)) =
                    (doc.pointer_mut(ptr), serde_json::from_str::<Value>(schema))
            {
                *slot = fixed;
            }
        }
        // Strict-response evidence: which schema objects the examples reach, and which of their
        // properties some example leaves out. Computed on the original document (pointers are the
        // same in the converted one).
        let mut reached: HashMap<String, HashSet<String>> = HashMap::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (p, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (m, op) in item {
                    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                        continue;
                    };
                    for (status, r) in responses {
                        let Some(content) = r.get("content").and_then(Value::as_object) else {
                            continue;
                        };
                        for (ct, media) in content {
                            let ptr = format!(
                                "/paths/{}/{}/responses/{}/content/{}/schema",
                                escape(p),
                                escape(m),
                                escape(status),
                                escape(ct)
                            );
                            let mut examples = Vec::new();
                            if let Some(e) = media.get("example") {
                                examples.push(e);
                            }
                            if let Some(es) = media.get("examples").and_then(Value::as_object) {
                                examples.extend(es.values().filter_map(|e| e.get("value")));
                            }
                            for e in examples {
                                walk_example(&doc, &ptr, e, &mut reached, 0);
                            }
                        }
                    }
                }
            }
        }
        let mut lenient = doc;
        convert(&mut lenient);
        let mut strict = lenient.clone();
        for (ptr, absent) in &reached {
            let Some(schema) = strict.pointer_mut(ptr).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let mut required: Vec<Value> = schema
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for k in props.keys() {
                let v = Value::String(k.clone());
                if !absent.contains(k) && !required.contains(&v) {
                    required.push(v);
                }
            }
            schema.insert("required".into(), Value::Array(required));
        }
        let mut templates: Vec<(String, Vec<String>)> = lenient
            .get("paths")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .map(|k| {
                        (
                            k.clone(),
                            k.trim_matches('/').split('/').map(str::to_owned).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let literal = |segs: &[String]| segs.iter().filter(|s| !s.contains('{')).count();
        templates.sort_by(|a, b| literal(&b.1).cmp(&literal(&a.1)).then(a.0.cmp(&b.0)));
        Spec {
            name,
            lenient,
            strict,
            templates,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The file name the spec was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operation for a method and a concrete spec-relative path (`/products/abc`).
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let method = method.to_ascii_lowercase();
        let path = path.split('?').next().unwrap_or(path);
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        for (template, tsegs) in &self.templates {
            if tsegs.len() != segs.len() || !tsegs.iter().zip(&segs).all(|(t, s)| seg_match(t, s)) {
                continue;
            }
            if let Some(object) =
                self.lenient
                    .pointer(&format!("/paths/{}/{}", escape(template), method))
            {
                return Some(Operation {
                    template,
                    method,
                    object,
                });
            }
        }
        None
    }

    fn validator(&self, strict: bool, ptr: &str) -> Result<Compiled, Violation> {
        let key = (strict, ptr.to_owned());
        if let Some(v) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        let doc = if strict { &self.strict } else { &self.lenient };
        let wanted = doc
            .pointer(ptr)
            .cloned()
            .ok_or_else(|| violation("schema", format!("{ptr} not found in {}", self.name)))?;
        let root = json!({
            "components": doc.get("components").cloned().unwrap_or(Value::Null),
            "definitions": { "wanted": wanted },
            "$ref": "#/definitions/wanted",
        });
        let compiled = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| violation("schema", format!("{ptr} does not compile: {e}")))?;
        let compiled = Arc::new(compiled);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, compiled.clone());
        Ok(compiled)
    }

    fn check(&self, strict: bool, ptr: &str, body: &Value) -> Vec<Violation> {
        match self.validator(strict, ptr) {
            Ok(v) => v
                .iter_errors(body)
                .map(|e| violation(e.instance_path().to_string(), e.to_string()))
                .collect(),
            Err(v) => vec![v],
        }
    }

    /// Checks a response: the status is documented for the operation, and the body matches that
    /// status's schema (strict: see the module doc). `body` is `None` for an empty body.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Result<(), Vec<Violation>> {
        let Some(op) = self.operation(method, path) else {
            return Err(vec![violation(
                "path",
                format!("{} {path} is not in {}", method.to_uppercase(), self.name),
            )]);
        };
        let responses = op.object.get("responses").and_then(Value::as_object);
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let found = responses.and_then(|r| {
            [code.as_str(), range.as_str(), "default"]
                .into_iter()
                .find(|k| r.contains_key(*k))
        });
        let Some(key) = found else {
            if status >= 400 {
                return check_error_envelope(body);
            }
            return Err(vec![violation(
                "status",
                format!(
                    "{status} is not documented for {} {} in {}",
                    method.to_uppercase(),
                    op.template,
                    self.name
                ),
            )]);
        };
        let base = format!(
            "/paths/{}/{}/responses/{}",
            escape(op.template),
            op.method,
            escape(key)
        );
        let content = self
            .strict
            .pointer(&format!("{base}/content"))
            .and_then(Value::as_object);
        let Some((ct, media)) = content.and_then(|c| {
            c.iter()
                .find(|(k, _)| k.contains("json"))
                .or_else(|| c.iter().next())
        }) else {
            // No body documented: nothing to check in it.
            return Ok(());
        };
        if media.get("schema").is_none() || !ct.contains("json") {
            return Ok(());
        }
        let Some(body) = body else {
            return Err(vec![violation(
                "body",
                format!("{status} documents a body, the response has none"),
            )]);
        };
        let ptr = format!("{base}/content/{}/schema", escape(ct));
        let errors = self.check(true, &ptr, body);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks a request: the path is an operation of the spec, required query parameters are
    /// present and declared ones are typed, and the JSON body matches the request schema.
    pub fn validate_request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(), Vec<Violation>> {
        let Some(op) = self.operation(method, path) else {
            return Err(vec![violation(
                "path",
                format!("{} {path} is not in {}", method.to_uppercase(), self.name),
            )]);
        };
        let mut errors = Vec::new();
        let item_params = self
            .lenient
            .pointer(&format!("/paths/{}/parameters", escape(op.template)))
            .and_then(Value::as_array);
        let op_params = op.object.get("parameters").and_then(Value::as_array);
        let params = item_params
            .into_iter()
            .flatten()
            .chain(op_params.into_iter().flatten())
            .map(|p| self.deref(p));
        for p in params {
            if p.get("in").and_then(Value::as_str) != Some("query") {
                continue;
            }
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            let values: Vec<&str> = query
                .iter()
                .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
                .map(|(_, v)| v.as_str())
                .collect();
            if values.is_empty() {
                if p.get("required").and_then(Value::as_bool) == Some(true) {
                    errors.push(violation(
                        format!("query.{name}"),
                        "required parameter is missing",
                    ));
                }
                continue;
            }
            let schema = p.get("schema").map(|s| self.deref(s));
            let schema = match schema {
                Some(s) if s.get("type").and_then(Value::as_str) == Some("array") => {
                    s.get("items").map(|i| self.deref(i))
                }
                other => other,
            };
            if let Some(schema) = schema {
                for v in values {
                    if let Some(m) = param_problem(schema, v) {
                        errors.push(violation(format!("query.{name}"), m));
                    }
                }
            }
        }
        let request = op.object.get("requestBody").map(|r| self.deref(r));
        match (request, body) {
            (Some(r), None) => {
                if r.get("required").and_then(Value::as_bool) == Some(true) {
                    errors.push(violation("body", "a request body is required"));
                }
            }
            (Some(r), Some(body)) => {
                let ct = r
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.keys().find(|k| k.contains("json")).cloned());
                if let Some(ct) = ct {
                    let ptr = if let Some(rf) = op
                        .object
                        .get("requestBody")
                        .and_then(|b| b.get("$ref"))
                        .and_then(Value::as_str)
                    {
                        format!("{}/content/{}/schema", &rf[1..], escape(&ct))
                    } else {
                        format!(
                            "/paths/{}/{}/requestBody/content/{}/schema",
                            escape(op.template),
                            op.method,
                            escape(&ct)
                        )
                    };
                    if self.lenient.pointer(&ptr).is_some() {
                        errors.extend(self.check(false, &ptr, body));
                    }
                }
            }
            (None, _) => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn deref<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) if r.starts_with('#') => match self.lenient.pointer(&r[1..]) {
                    Some(t) => v = t,
                    None => return v,
                },
                _ => return v,
            }
        }
        v
    }
}

fn seg_match(template: &str, segment: &str) -> bool {
    if segment.is_empty() {
        return template.is_empty();
    }
    match (template.find('{'), template.rfind('}')) {
        (Some(a), Some(b)) if a < b => {
            let (prefix, suffix) = (&template[..a], &template[b + 1..]);
            segment.len() > prefix.len() + suffix.len()
                && segment.starts_with(prefix)
                && segment.ends_with(suffix)
        }
        _ => template == segment,
    }
}

fn param_problem(schema: &Value, v: &str) -> Option<String> {
    let ty = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|s| *s != "null"),
        _ => None,
    });
    let ok = match ty {
        Some("integer") => v.parse::<i64>().is_ok(),
        Some("number") => v.parse::<f64>().is_ok_and(f64::is_finite),
        Some("boolean") => v == "true" || v == "false",
        _ => true,
    };
    if !ok {
        return Some(format!("{v:?} is not a valid {}", ty.unwrap_or("value")));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values
            .iter()
            .any(|e| e.as_str() == Some(v) || e.to_string().as_str() == v)
    {
        return Some(format!(
            "{v:?} is not one of {}",
            Value::Array(values.clone())
        ));
    }
    if ty == Some("integer")
        && let (Some(max), Ok(n)) = (
            schema.get("maximum").and_then(Value::as_i64),
            v.parse::<i64>(),
        )
        && n > max
    {
        return Some(format!("{n} is above the maximum {max}"));
    }
    None
}

fn check_error_envelope(body: Option<&Value>) -> Result<(), Vec<Violation>> {
    let Some(body) = body else { return Ok(()) };
    let Some(obj) = body.as_object() else {
        return Err(vec![violation("", "an error body must be a JSON object")]);
    };
    let errors: Vec<Violation> = ["error", "message"]
        .into_iter()
        .filter(|k| obj.get(*k).is_some_and(|v| !v.is_string()))
        .map(|k| violation(format!("/{k}"), format!("{k} must be a string")))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// OpenAPI 3.0 schema keywords to Draft 7, in place, everywhere in the document.
fn convert(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(convert),
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                // `example` values and `x-` extensions are data, not schemas.
                if k != "example" && k != "examples" && !k.starts_with("x-") {
                    convert(child);
                }
            }
            convert_schema(o);
        }
        _ => {}
    }
}

fn convert_schema(o: &mut Map<String, Value>) {
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(b)) = o.get(flag).cloned() {
            o.remove(flag);
            if b && let Some(n) = o.remove(bound) {
                o.insert(flag.into(), n);
            }
        }
    }
    if o.get("nullable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    o.remove("nullable");
    if let Some(Value::Array(values)) = o.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    let composite = ["allOf", "anyOf", "oneOf", "$ref"]
        .iter()
        .any(|k| o.contains_key(*k));
    match o.get_mut("type").filter(|_| !composite) {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            o.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) => {
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
        }
        _ => {
            // `$ref`, `allOf`, `oneOf`... without a type: null or the schema.
            let inner: Map<String, Value> = std::mem::take(o);
            let (annotations, schema): (Map<String, Value>, Map<String, Value>) =
                inner.into_iter().partition(|(k, _)| {
                    matches!(k.as_str(), "description" | "title" | "example" | "default")
                });
            if schema.is_empty() {
                *o = annotations;
                return;
            }
            *o = annotations;
            o.insert(
                "anyOf".into(),
                json!([Value::Object(schema), {"type": "null"}]),
            );
        }
    }
}

/// Follows an example through its schema: records each schema object (by JSON pointer) the
/// example reaches, with the declared properties the example leaves out.
fn walk_example(
    doc: &Value,
    ptr: &str,
    example: &Value,
    reached: &mut HashMap<String, HashSet<String>>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    let Some(schema) = doc.pointer(ptr) else {
        return;
    };
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(target) = r.strip_prefix('#') {
            walk_example(doc, target, example, reached, depth + 1);
        }
        return;
    }
    for comb in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = schema.get(comb).and_then(Value::as_array) {
            for i in 0..parts.len() {
                walk_example(
                    doc,
                    &format!("{ptr}/{comb}/{i}"),
                    example,
                    reached,
                    depth + 1,
                );
            }
        }
    }
    match example {
        Value::Object(obj) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            let entry = reached.entry(ptr.to_owned()).or_default();
            for k in props.keys() {
                if !obj.contains_key(k) {
                    entry.insert(k.clone());
                }
            }
            for (k, v) in obj {
                if props.contains_key(k) {
                    walk_example(
                        doc,
                        &format!("{ptr}/properties/{}", escape(k)),
                        v,
                        reached,
                        depth + 1,
                    );
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            for item in items {
                walk_example(doc, &format!("{ptr}/items"), item, reached, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Spec {
        Spec::from_document(
            "tiny.json",
            json!({
                "openapi": "3.0.1",
                "paths": {
                    "/things": {
                        "get": {
                            "parameters": [
                                {"in": "query", "name": "page_size", "schema": {"type": "integer", "maximum": 50}},
                                {"$ref": "#/components/parameters/Kind"}
                            ],
                            "responses": {"200": {"content": {"application/json": {
                                "schema": {"type": "object", "properties": {
                                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
                                }},
                                "example": {"data": [{"id": "a", "name": "x", "note": null}]}
                            }}}}
                        },
                        "post": {
                            "requestBody": {"required": true, "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"}
                            }}},
                            "responses": {"201": {"content": {"application/json": {
                                "schema": {"type": "object", "properties": {"data": {"$ref": "#/components/schemas/Thing"}}}
                            }}}}
                        }
                    },
                    "/things/{id}": {
                        "delete": {"responses": {"200": {"description": "gone"}}}
                    },
                    "/things/special": {
                        "delete": {"responses": {"204": {"description": "gone"}}}
                    }
                },
                "components": {
                    "parameters": {"Kind": {"in": "query", "name": "kind", "required": true,
                        "schema": {"type": "string", "enum": ["a", "b"]}}},
                    "schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "note": {"type": "string", "nullable": true},
                        "extra": {"type": "integer"},
                        "parent": {"allOf": [{"$ref": "#/components/schemas/Ref"}], "nullable": true}
                    }},
                    "Ref": {"type": "object", "properties": {"id": {"type": "string"}}}}
                }
            }),
        )
    }

    #[test]
    fn templates_match_concrete_paths_literal_first() {
        let s = tiny();
        assert_eq!(s.operation("GET", "/things").unwrap().template, "/things");
        assert_eq!(
            s.operation("DELETE", "/things/42").unwrap().template,
            "/things/{id}"
        );
        assert_eq!(
            s.operation("delete", "/things/special").unwrap().template,
            "/things/special"
        );
        assert!(s.operation("PUT", "/things/42").is_none());
        assert!(s.operation("GET", "/nothing").is_none());
        assert!(seg_match("{id}.txt", "abc.txt"));
        assert!(!seg_match("{id}.txt", "abc.csv"));
    }

    #[test]
    fn responses_are_typed_nullable_and_strict_where_examples_show_keys() {
        let s = tiny();
        let ok = json!({"data": [{"id": "1", "name": "n", "note": null, "parent": null}]});
        assert_eq!(
            s.validate_response("GET", "/things", 200, Some(&ok)),
            Ok(())
        );
        // A number where the spec says string.
        let wrong = json!({"data": [{"id": "1", "name": 5, "note": null}]});
        let errs = s
            .validate_response("GET", "/things", 200, Some(&wrong))
            .unwrap_err();
        assert!(errs.iter().any(|e| e.at == "/data/0/name"), "{errs:?}");
        // null where the spec does not allow it.
        let null = json!({"data": [{"id": "1", "name": null, "note": null}]});
        assert!(
            s.validate_response("GET", "/things", 200, Some(&null))
                .is_err()
        );
        // `note` is always in the examples: strict responses require it; `extra` never is.
        let missing = json!({"data": [{"id": "1", "name": "n"}]});
        let errs = s
            .validate_response("GET", "/things", 200, Some(&missing))
            .unwrap_err();
        assert!(errs.iter().any(|e| e.message.contains("note")), "{errs:?}");
        // Nullable $ref (allOf) accepts null and the object, not a string.
        let parent =
            json!({"data": [{"id": "1", "name": "n", "note": null, "parent": {"id": "p"}}]});
        assert_eq!(
            s.validate_response("GET", "/things", 200, Some(&parent)),
            Ok(())
        );
        let bad_parent = json!({"data": [{"id": "1", "name": "n", "note": null, "parent": "p"}]});
        assert!(
            s.validate_response("GET", "/things", 200, Some(&bad_parent))
                .is_err()
        );
    }

    #[test]
    fn statuses_must_be_documented_errors_have_the_envelope() {
        let s = tiny();
        let body = json!({"data": []});
        let errs = s
            .validate_response("GET", "/things", 201, Some(&body))
            .unwrap_err();
        assert_eq!(errs[0].at, "status");
        assert_eq!(
            s.validate_response("DELETE", "/things/1", 200, None),
            Ok(())
        );
        assert!(
            s.validate_response("DELETE", "/things/1", 204, None)
                .is_err()
        );
        let e = json!({"error": "Access token is not valid"});
        assert_eq!(s.validate_response("GET", "/things", 401, Some(&e)), Ok(()));
        assert!(
            s.validate_response("GET", "/things", 404, Some(&json!({"error": 4})))
                .is_err()
        );
        assert!(
            s.validate_response("GET", "/things", 404, Some(&json!([1])))
                .is_err()
        );
    }

    #[test]
    fn requests_check_query_and_body() {
        let s = tiny();
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            s.validate_request("GET", "/things", &q(&[("kind", "a")]), None),
            Ok(())
        );
        assert!(s.validate_request("GET", "/things", &q(&[]), None).is_err());
        assert!(
            s.validate_request("GET", "/things", &q(&[("kind", "c")]), None)
                .is_err()
        );
        assert!(
            s.validate_request(
                "GET",
                "/things",
                &q(&[("kind", "a"), ("page_size", "x")]),
                None
            )
            .is_err()
        );
        assert!(
            s.validate_request(
                "GET",
                "/things",
                &q(&[("kind", "a"), ("page_size", "51")]),
                None
            )
            .is_err()
        );
        assert_eq!(
            s.validate_request(
                "POST",
                "/things",
                &[],
                Some(&json!({"id": "1", "note": null}))
            ),
            Ok(())
        );
        // Requests are not strict: only the spec's own `required`.
        assert_eq!(
            s.validate_request("POST", "/things", &[], Some(&json!({"id": "1"}))),
            Ok(())
        );
        assert!(
            s.validate_request("POST", "/things", &[], Some(&json!({"name": "x"})))
                .is_err()
        );
        assert!(s.validate_request("POST", "/things", &[], None).is_err());
        assert!(s.validate_request("PATCH", "/things", &[], None).is_err());
    }

    #[test]
    fn the_official_specs_load_and_compile() {
        if crate::reference_dir().is_none() {
            return;
        }
        let s = lightspeed("2026-07").expect("2026-07 spec");
        let op = s.operation("POST", "/inventory").unwrap();
        assert_eq!(op.template, "/inventory");
        assert!(s.operation("GET", "/inventory").is_none());
        let errs = s
            .validate_response("GET", "/outlets", 200, Some(&json!({"data": [{"id": 1}]})))
            .unwrap_err();
        assert!(errs.iter().any(|e| e.at == "/data/0/id"), "{errs:?}");
        let (spec, path) = lightspeed_for("POST", "/api/2.0/webhooks").unwrap();
        assert_eq!(spec.name(), "legacy-api-v2-0-beta.json");
        assert_eq!(path, "/webhooks");
        let (spec, _) = lightspeed_for("GET", "/api/2.0/products").unwrap();
        assert_eq!(spec.name(), "legacy-api-v2-0.json");
    }
}

#[cfg(test)]
mod examples_self_check {
    use super::*;

    /// Every JSON response example of the official specs, checked by the strict validator. The
    /// examples that break their own schema are printed (`--nocapture`); their number is pinned so
    /// that a change of the oracle's strictness shows here. Known contradictions, all in the
    /// specs themselves: product code `type` `"custom"` against the upper-case enum; 2.0 user
    /// `permissions: null` against a non-nullable array; user role ids as numbers against
    /// strings; `GET /user`, `GET /users/{id}` and `DELETE /users/{id}` examples with an array
    /// where the schema has one object; service line `sequence` as a string; `notes` as an array
    /// against an object; 2026-07 products, suppliers, brands, product types and payment types
    /// leaving out keys their own `required` lists name; a 2026-07 return line's `tax` as a number
    /// against an object.
    #[test]
    fn official_examples_against_their_own_schemas() {
        if crate::reference_dir().is_none() {
            return;
        }
        let mut counts = Vec::new();
        for (version, _) in SPEC_FILES {
            let spec = lightspeed(version).unwrap();
            let paths = spec.lenient["paths"].as_object().unwrap();
            let (mut ok, mut bad) = (0, 0);
            for (p, item) in paths {
                for (m, op) in item.as_object().unwrap() {
                    let Some(rs) = op.get("responses").and_then(Value::as_object) else {
                        continue;
                    };
                    for (status, r) in rs {
                        let Some(ex) = r.pointer("/content/application~1json/example") else {
                            continue;
                        };
                        let Ok(code) = status.parse::<u16>() else {
                            continue;
                        };
                        let concrete = p.replace('{', "x").replace('}', "");
                        match spec.validate_response(m, &concrete, code, Some(ex)) {
                            Ok(()) => ok += 1,
                            Err(e) => {
                                bad += 1;
                                let first: Vec<String> =
                                    e.iter().take(3).map(ToString::to_string).collect();
                                println!(
                                    "{version} {m} {p} {status}: {} problems: {}",
                                    e.len(),
                                    first.join(" | ")
                                );
                            }
                        }
                    }
                }
            }
            println!("== {version}: {ok} examples pass, {bad} break their own schema");
            counts.push((*version, ok, bad));
        }
        assert_eq!(
            counts,
            vec![
                ("2.0", 50, 9),
                ("2.0-beta", 0, 0),
                ("2.1", 0, 0),
                ("2026-07", 68, 15)
            ]
        );
    }
}
