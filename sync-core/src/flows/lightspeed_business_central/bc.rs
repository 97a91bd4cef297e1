//! Business Central helpers shared by the flows: fields as JSON bodies, entities as fields,
//! `$batch` writes.

use std::collections::BTreeMap;

use business_central::batch::{Batch, BatchOperation, BatchOutcome};
use business_central::{Client, ETag};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::fields::{FieldValue, Fields};

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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_are_exact_numbers_both_ways() {
        let v = field_to_json(&FieldValue::Decimal(dec!(12.950)));
        assert_eq!(v.to_string(), "12.95");
        assert_eq!(json_to_field(&v), FieldValue::Decimal(dec!(12.95)));
        let body = body_of(&Fields::new().with("a", "x").with("b", true));
        assert_eq!(Value::Object(body).to_string(), r#"{"a":"x","b":true}"#);
    }
}
