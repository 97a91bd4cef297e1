//! Business Central helpers shared by the flows: fields as JSON bodies, entities as fields,
//! `$batch` writes.

use std::collections::{BTreeMap, HashSet};

use business_central::batch::{Batch, BatchOperation, BatchOutcome};
use business_central::query::{Literal, Query};
use business_central::{Client, ETag, Entity, EntitySet};
use futures::StreamExt as _;
use serde::Serialize;
use serde_json::{Map, Value};

use sync_core::fields::{FieldValue, Fields};

/// A field value as Business Central JSON (decimals as exact numbers).
pub(crate) fn field_to_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Decimal(d) => {
            serde_json::from_str::<serde_json::Number>(&d.normalize().to_string())
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(d.to_string()))
        }
        other => other.to_json(),
    }
}

/// A JSON value as a field value (numbers as exact decimals).
pub(crate) fn json_to_field(v: &Value) -> FieldValue {
    match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => n
            .to_string()
            .parse::<rust_decimal::Decimal>()
            .map(FieldValue::Decimal)
            .unwrap_or_else(|_| FieldValue::Text(n.to_string())),
        Value::String(s) => FieldValue::Text(s.clone()),
        other => FieldValue::Text(other.to_string()),
    }
}

/// A request body from mapped fields.
pub(crate) fn body_of(fields: &Fields) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| (k.to_owned(), field_to_json(v)))
        .collect()
}

/// The named properties of an entity as fields (absent properties are left out).
pub(crate) fn entity_fields<'a, E: Serialize>(
    entity: &E,
    names: impl IntoIterator<Item = &'a str>,
) -> Fields {
    let mut out = Fields::new();
    if let Ok(Value::Object(m)) = serde_json::to_value(entity) {
        for n in names {
            if let Some(v) = m.get(n) {
                out.insert(n, json_to_field(v));
            }
        }
    }
    out
}

/// One write to send in a `$batch`.
pub(crate) struct Op {
    pub method: &'static str,
    pub url: String,
    pub body: Option<Value>,
    pub etag: Option<ETag>,
}

impl Op {
    pub(crate) fn post(url: String, body: Map<String, Value>) -> Self {
        Self {
            method: "POST",
            url,
            body: Some(Value::Object(body)),
            etag: None,
        }
    }
    pub(crate) fn patch(url: String, body: Map<String, Value>, etag: Option<ETag>) -> Self {
        Self {
            method: "PATCH",
            url,
            body: Some(Value::Object(body)),
            etag: Some(etag.unwrap_or_else(ETag::any)),
        }
    }
}

/// Sends writes in `$batch` requests of at most 100 operations (continue-on-error), and returns
/// one result per write: the entity returned, or the reason it failed. An `Err` means a whole
/// request failed (nothing is known about its writes).
pub(crate) async fn send(
    client: &Client,
    ops: Vec<Op>,
) -> Result<Vec<Result<Value, String>>, business_central::Error> {
    let mut out = Vec::with_capacity(ops.len());
    let mut rest = ops;
    while !rest.is_empty() {
        let tail = rest.split_off(
            rest.len()
                .min(business_central::batch::MAX_BATCH_OPERATIONS),
        );
        let chunk = std::mem::replace(&mut rest, tail);
        let mut batch = Batch::new().continue_on_error(true);
        let mut ids = Vec::with_capacity(chunk.len());
        for (i, op) in chunk.into_iter().enumerate() {
            let id = (i + 1).to_string();
            let mut headers = BTreeMap::new();
            if op.body.is_some() {
                headers.insert("Content-Type".to_owned(), "application/json".to_owned());
            }
            if let Some(e) = &op.etag {
                headers.insert("If-Match".to_owned(), e.as_str().to_owned());
            }
            batch.push(BatchOperation {
                id: id.clone(),
                method: op.method.to_owned(),
                url: op.url,
                headers,
                body: op.body,
            })?;
            ids.push(id);
        }
        let mut response = client.batch(&batch).await?;
        for id in ids {
            out.push(match response.take(&id) {
                Some(BatchOutcome::Success { body, .. }) => Ok(body.unwrap_or(Value::Null)),
                Some(BatchOutcome::Failed(e)) => Err(e.to_string()),
                Some(BatchOutcome::NotExecuted) | None => {
                    Err("not executed by Business Central".to_owned())
                }
            });
        }
    }
    Ok(out)
}

/// Creates entities exactly once, each keyed by the value of its `field` (`(key, body)`): sends
/// them in `$batch` requests, and when a request fails in a way that may have reached Business
/// Central (a timeout, a dropped connection, a lost response), looks the keys up again and sends
/// once more only the ones still missing. Returns one result per entity created or found.
pub(crate) async fn create_missing<E>(
    client: &Client,
    set: &EntitySet<E>,
    field: &str,
    creates: Vec<(String, Map<String, Value>)>,
) -> Result<Vec<Result<Value, String>>, business_central::Error>
where
    E: Entity + Serialize,
{
    let mut out = Vec::with_capacity(creates.len());
    let mut pending = creates;
    let mut retried = false;
    loop {
        let ops = pending
            .iter()
            .map(|(_, body)| Op::post(set.path(), body.clone()))
            .collect();
        match send(client, ops).await {
            Ok(sent) => {
                out.extend(sent);
                return Ok(out);
            }
            Err(e) if !retried && e.may_have_reached_server() => {
                tracing::warn!(error = %e, "a $batch of creates failed; re-checking which exist");
                retried = true;
                let keys: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
                let found: HashSet<String> = lookup(set, field, keys, Query::new())
                    .await?
                    .iter()
                    .filter_map(|e| serde_json::to_value(e).ok())
                    .filter_map(|v| v.get(field).and_then(json_key))
                    .collect();
                pending.retain(|(k, body)| {
                    let exists = found.contains(&k.to_lowercase());
                    if exists {
                        out.push(Ok(Value::Object(body.clone())));
                    }
                    !exists
                });
            }
            Err(e) => return Err(e),
        }
    }
}

/// The `id` of an entity returned by a write.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// Text of a JSON property ("" when absent).
pub(crate) fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

/// Splits values into chunks for bulk lookups (short URLs, one request per chunk).
pub(crate) const LOOKUP_CHUNK: usize = 40;

/// The largest page Business Central serves (`Prefer: odata.maxpagesize`, online limit).
pub(crate) const MAX_PAGE: u32 = 20_000;

/// A key as compared by [`lookup`]: text case-insensitively, GUIDs hyphenated, other values
/// as OData text.
fn literal_key(l: &Literal) -> String {
    match l {
        Literal::String(s) => s.to_lowercase(),
        Literal::Guid(g) => g.hyphenated().to_string(),
        other => other.to_odata(),
    }
}

fn json_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `base` with `field` in its `$select` (when it selects anything).
fn selecting(base: Query, field: &str) -> Query {
    let qs = base.to_query_string();
    let selected = qs
        .split('&')
        .find_map(|p| p.strip_prefix("$select="))
        .map(|list| list.split(',').any(|f| f == field));
    match selected {
        Some(false) => base.select([field]),
        _ => base,
    }
}

/// Bulk key lookup that picks the cheaper way per call: every entity of `set` whose `field`
/// equals one of `values` (text case-insensitively).
///
/// Few keys (one chunk of [`LOOKUP_CHUNK`]) go as one `or` filter. More keys read the set
/// itself in pages of [`MAX_PAGE`] with `base`'s `$select` (plus `field`) and filter, keeping
/// the matching entities, for as long as the pages read stay fewer than the `or`-filter
/// requests the keys still unmatched would need; past that, all keys are looked up with `or`
/// filters instead (a key may match entities on several pages). A set under 20,000 entities is
/// so read in one request whatever the number of keys, and no call costs more than about twice
/// the cheaper way.
pub(crate) async fn lookup<E, V>(
    set: &EntitySet<E>,
    field: &str,
    values: impl IntoIterator<Item = V>,
    base: Query,
) -> Result<Vec<E>, business_central::Error>
where
    E: Entity + Serialize,
    V: Into<Literal>,
{
    lookup_paged(set, field, values, base, MAX_PAGE).await
}

/// [`lookup`] with the page size of the scan (at most [`MAX_PAGE`]).
pub(crate) async fn lookup_paged<E, V>(
    set: &EntitySet<E>,
    field: &str,
    values: impl IntoIterator<Item = V>,
    base: Query,
    page_size: u32,
) -> Result<Vec<E>, business_central::Error>
where
    E: Entity + Serialize,
    V: Into<Literal>,
{
    let page_size = page_size.clamp(1, MAX_PAGE);
    // Every distinct value as given (the `or` filters send them all) with its key.
    let mut all: Vec<(Literal, String)> = Vec::new();
    let mut sent: HashSet<String> = HashSet::new();
    for v in values {
        let l: Literal = v.into();
        if sent.insert(l.to_odata()) {
            let key = literal_key(&l);
            all.push((l, key));
        }
    }
    let chunks = |n: usize| n.div_ceil(LOOKUP_CHUNK);
    if chunks(all.len()) > 1 {
        let wanted: HashSet<&str> = all.iter().map(|(_, k)| k.as_str()).collect();
        let mut found: HashSet<String> = HashSet::new();
        let unmatched =
            |found: &HashSet<String>| all.iter().filter(|(_, k)| !found.contains(k)).count();
        let mut out = Vec::new();
        let mut pages = set.pages(selecting(base.clone(), field).page_size(page_size));
        let mut read = 0;
        while read < chunks(unmatched(&found)) {
            let Some(page) = pages.next().await else {
                return Ok(out);
            };
            let page = page?;
            read += 1;
            for e in page.items {
                let key = serde_json::to_value(&e)
                    .ok()
                    .and_then(|v| v.get(field).and_then(json_key));
                if let Some(k) = key.filter(|k| wanted.contains(k.as_str())) {
                    found.insert(k);
                    out.push(e);
                }
            }
            if page.next_link.is_none() {
                return Ok(out);
            }
        }
    }
    let all: Vec<Literal> = all.into_iter().map(|(l, _)| l).collect();
    set.lookup(field, all, LOOKUP_CHUNK, base).await
}

/// Applies an upsert batch to an entity set in `$batch` requests: creates are POSTed (with
/// `on_create` adding what only a create sends), updates PATCHed with the ETag last read for
/// them. A body the entity's field limits refuse fails locally, on its own, and is not sent.
/// One result per write, in order.
pub(crate) async fn apply_writes<E: business_central::WritableEntity, R: sync_core::key::Keyed>(
    client: &Client,
    path: &str,
    etags: &std::sync::Mutex<std::collections::HashMap<String, ETag>>,
    batch: &[sync_core::upsert::Write<R>],
    on_create: impl Fn(&sync_core::upsert::Write<R>, &mut Map<String, Value>),
) -> Result<Vec<sync_core::upsert::WriteResult>, sync_core::upsert::TargetError> {
    use sync_core::upsert::{TargetError, WriteOp, WriteResult};
    let mut results: Vec<Option<WriteResult>> = Vec::with_capacity(batch.len());
    let (mut ops, mut positions) = (Vec::new(), Vec::new());
    for (i, w) in batch.iter().enumerate() {
        let (op, body) = match &w.op {
            WriteOp::Create { fields } => {
                let mut body = body_of(fields);
                on_create(w, &mut body);
                (Op::post(path.to_owned(), body.clone()), body)
            }
            WriteOp::Update { target_id, changes } => {
                let body = body_of(changes);
                let etag = etags
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(target_id)
                    .cloned();
                (
                    Op::patch(format!("{path}({target_id})"), body.clone(), etag),
                    body,
                )
            }
        };
        match E::check_body(&Value::Object(body)) {
            Ok(()) => {
                results.push(None);
                ops.push(op);
                positions.push(i);
            }
            Err(e) => results.push(Some(WriteResult::failed(e.to_string()))),
        }
    }
    let sent = send(client, ops).await.map_err(TargetError::from_error)?;
    for (pos, r) in positions.into_iter().zip(sent) {
        let result = match r {
            Ok(v) => match id_of(&v) {
                Some(id) => WriteResult::ok(id),
                None => WriteResult::failed("Business Central returned no id"),
            },
            Err(e) => WriteResult::failed(e),
        };
        if let Some(slot) = results.get_mut(pos) {
            *slot = Some(result);
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| WriteResult::failed("no result")))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    use std::collections::BTreeSet;

    use business_central::models::{Customer, CustomerInput};
    use business_central::sandbox::Sandbox;

    #[test]
    fn the_scan_selects_the_key_field() {
        let q = |q: Query| q.to_query_string();
        assert_eq!(q(selecting(Query::new(), "email")), "");
        assert_eq!(
            q(selecting(Query::new().select(["id"]), "email")),
            "$select=id,email"
        );
        assert_eq!(
            q(selecting(Query::new().select(["id", "email"]), "email")),
            "$select=id,email"
        );
    }

    /// A sandbox with `n` customers `c{i}@example.com`, and its customers set.
    async fn customers(n: usize) -> (Sandbox, EntitySet<Customer>) {
        let sb = Sandbox::start().await.unwrap();
        for i in 0..n {
            sb.insert::<Customer>(&CustomerInput {
                display_name: Some(format!("Customer {i}")),
                email: Some(format!("c{i}@example.com")),
                ..Default::default()
            })
            .unwrap();
        }
        let set = sb.client().company(sb.company_id()).customers();
        // The token request, outside the counts.
        set.list(Query::new().page_size(1)).next().await;
        (sb, set)
    }

    fn emails(found: &[Customer]) -> BTreeSet<String> {
        found.iter().map(|c| c.email.to_lowercase()).collect()
    }

    #[tokio::test]
    async fn many_keys_read_a_small_set_whole_in_one_request() {
        let (_sb, set) = customers(150).await;
        // 120 keys (3 chunks), some in upper case, 10 unknown.
        let keys: Vec<String> = (40..160)
            .map(|i| match i % 3 {
                0 => format!("C{i}@EXAMPLE.COM"),
                _ => format!("c{i}@example.com"),
            })
            .collect();
        let before = set.client().stats().requests;
        let found = lookup(&set, "email", keys, Query::new().select(["id", "number"]))
            .await
            .unwrap();
        assert_eq!(set.client().stats().requests - before, 1);
        let want: BTreeSet<String> = (40..150).map(|i| format!("c{i}@example.com")).collect();
        assert_eq!(emails(&found), want);
        assert!(found.iter().all(|c| c.id.is_some() && !c.number.is_empty()));
    }

    #[tokio::test]
    async fn few_keys_go_as_one_filter() {
        let (_sb, set) = customers(150).await;
        let keys = ["c3@example.com", "C7@example.com", "nobody@example.com"];
        let before = set.client().stats().requests;
        let found = lookup(&set, "email", keys, Query::new()).await.unwrap();
        assert_eq!(set.client().stats().requests - before, 1);
        assert_eq!(
            emails(&found),
            ["c3@example.com", "c7@example.com"]
                .map(str::to_owned)
                .into()
        );
    }

    #[tokio::test]
    async fn a_large_set_falls_back_to_filters_with_every_match() {
        let (_sb, set) = customers(100).await;
        // 45 keys = 2 chunks; pages of 10 from a set of 100: after 2 pages the scan stops
        // (it would need 10) and all keys are looked up with filters (2 requests).
        let keys: Vec<String> = (55..100).map(|i| format!("c{i}@example.com")).collect();
        let before = set.client().stats().requests;
        let found = lookup_paged(&set, "email", keys, Query::new(), 10)
            .await
            .unwrap();
        assert_eq!(set.client().stats().requests - before, 4);
        assert_eq!(found.len(), 45);
        let want: BTreeSet<String> = (55..100).map(|i| format!("c{i}@example.com")).collect();
        assert_eq!(emails(&found), want);
        // All keys matched on the first page of two: a key may match more entities further on
        // (item variants by item number), so the keys are looked up rather than trusting the
        // part read; every match is returned once.
        let keys: Vec<String> = (0..45).map(|i| format!("c{i}@example.com")).collect();
        let before = set.client().stats().requests;
        let found = lookup_paged(&set, "email", keys, Query::new(), 50)
            .await
            .unwrap();
        assert_eq!(set.client().stats().requests - before, 3);
        assert_eq!(found.len(), 45);
    }

    #[test]
    fn decimals_are_exact_numbers_both_ways() {
        let v = field_to_json(&FieldValue::Decimal(dec!(12.950)));
        assert_eq!(v.to_string(), "12.95");
        assert_eq!(json_to_field(&v), FieldValue::Decimal(dec!(12.95)));
        let body = body_of(&Fields::new().with("a", "x").with("b", true));
        assert_eq!(Value::Object(body).to_string(), r#"{"a":"x","b":true}"#);
    }
}
