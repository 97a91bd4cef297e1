//! JSON `$batch`: up to 100 operations in one request, results mapped back to each operation.
//!
//! By default Business Central stops at the first failed operation (earlier ones stay
//! committed, later ones are not executed); [`Batch::continue_on_error`] runs them all;
//! [`Batch::snapshot`] (`Isolation: snapshot`) runs the batch in one transaction, so any failure
//! rolls everything back.

use std::collections::{BTreeMap, HashSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::Api;
use crate::entity::{Entity, WritableEntity, to_checked_json};
use crate::error::{ApiError, Error, InvalidInput};
use crate::query::Query;
use crate::resources::EntitySet;
use crate::values::ETag;

/// The most operations Business Central accepts in one `$batch`.
pub const MAX_BATCH_OPERATIONS: usize = 100;

/// One operation of a batch, as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchOperation {
    /// Operation id, unique in the batch; results are mapped back by it.
    pub id: String,
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: String,
    /// URL relative to the API route root (`companies(…)/customers`).
    pub url: String,
    /// Headers of the operation.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// A `$batch` being built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    operations: Vec<BatchOperation>,
    snapshot: bool,
    continue_on_error: bool,
}

#[derive(Serialize)]
struct BatchBody<'a> {
    requests: &'a [BatchOperation],
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }
    /// `Isolation: snapshot`: all operations in one transaction, rolled back on any failure.
    pub fn snapshot(mut self, on: bool) -> Self {
        self.snapshot = on;
        self
    }
    /// `Prefer: odata.continue-on-error`: execute every operation even after a failure.
    pub fn continue_on_error(mut self, on: bool) -> Self {
        self.continue_on_error = on;
        self
    }
    /// Whether `Isolation: snapshot` is set.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot
    }
    /// Whether continue-on-error is set.
    pub fn is_continue_on_error(&self) -> bool {
        self.continue_on_error
    }
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.operations.len()
    }
    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
    /// The operations, in order.
    pub fn operations(&self) -> &[BatchOperation] {
        &self.operations
    }

    /// Adds an operation; refused beyond [`MAX_BATCH_OPERATIONS`] or with a duplicate id.
    pub fn push(&mut self, op: BatchOperation) -> Result<(), Error> {
        if self.operations.len() >= MAX_BATCH_OPERATIONS {
            return Err(InvalidInput::BatchTooLarge {
                got: self.operations.len() + 1,
                max: MAX_BATCH_OPERATIONS,
            }
            .into());
        }
        if self.operations.iter().any(|o| o.id == op.id) {
            return Err(
                InvalidInput::Other(format!("duplicate batch operation id `{}`", op.id)).into(),
            );
        }
        self.operations.push(op);
        Ok(())
    }

    /// Adds a create of `input` in `set` (maximum lengths checked now).
    pub fn create<E: WritableEntity>(
        &mut self,
        id: impl Into<String>,
        set: &EntitySet<E>,
        input: &E::Input,
    ) -> Result<(), Error> {
        let body = to_checked_json::<E>(input)?;
        self.push(op(id, "POST", set.path(), Some(body), None))
    }

    /// Adds an update (`PATCH` with `If-Match`).
    pub fn update<E: WritableEntity>(
        &mut self,
        id: impl Into<String>,
        set: &EntitySet<E>,
        key: &E::Id,
        etag: &ETag,
        input: &E::Input,
    ) -> Result<(), Error> {
        let body = to_checked_json::<E>(input)?;
        self.push(op(
            id,
            "PATCH",
            set.entity_path(key),
            Some(body),
            Some(etag),
        ))
    }

    /// Adds a delete (`If-Match: etag`, or `*`).
    pub fn delete<E: WritableEntity>(
        &mut self,
        id: impl Into<String>,
        set: &EntitySet<E>,
        key: &E::Id,
        etag: Option<&ETag>,
    ) -> Result<(), Error> {
        let any = ETag::any();
        self.push(op(
            id,
            "DELETE",
            set.entity_path(key),
            None,
            Some(etag.unwrap_or(&any)),
        ))
    }

    /// Adds a read of one entity.
    pub fn get<E: Entity>(
        &mut self,
        id: impl Into<String>,
        set: &EntitySet<E>,
        key: &E::Id,
        query: &Query,
    ) -> Result<(), Error> {
        let qs = query.to_query_string();
        let mut path = set.entity_path(key);
        if !qs.is_empty() {
            path = format!("{path}?{qs}");
        }
        self.push(op(id, "GET", path, None, None))
    }

    /// Adds a list read (first page only; a batch does not follow next links).
    pub fn list<E: Entity>(
        &mut self,
        id: impl Into<String>,
        set: &EntitySet<E>,
        query: &Query,
    ) -> Result<(), Error> {
        let qs = query.to_query_string();
        let mut path = set.path();
        if !qs.is_empty() {
            path = format!("{path}?{qs}");
        }
        self.push(op(id, "GET", path, None, None))
    }

    /// The JSON body sent to `$batch`, with URLs relative to `route_path` (`api/v2.0`).
    pub fn to_body(&self, route_path: &str) -> Result<serde_json::Value, Error> {
        let prefix = format!("{route_path}/");
        let mut ops = self.operations.clone();
        for o in &mut ops {
            match o.url.strip_prefix(&prefix) {
                Some(rel) => o.url = rel.to_owned(),
                None => {
                    return Err(InvalidInput::Other(format!(
                        "operation `{}` targets `{}`, outside the batch's route `{route_path}`",
                        o.id, o.url
                    ))
                    .into());
                }
            }
        }
        crate::entity::to_json(&BatchBody { requests: &ops })
    }
}

fn op(
    id: impl Into<String>,
    method: &str,
    url: String,
    body: Option<serde_json::Value>,
    etag: Option<&ETag>,
) -> BatchOperation {
    let mut headers = BTreeMap::new();
    if body.is_some() {
        headers.insert("Content-Type".to_owned(), "application/json".to_owned());
    }
    if let Some(e) = etag {
        headers.insert("If-Match".to_owned(), e.as_str().to_owned());
    }
    BatchOperation {
        id: id.into(),
        method: method.to_owned(),
        url,
        headers,
        body,
    }
}

/// What happened to one operation.
#[derive(Debug)]
pub enum BatchOutcome {
    /// 2xx, with the body if any.
    Success {
        /// Status of the operation.
        status: u16,
        /// Its body (`None` for 204). Numbers in it are `f64`s; [`BatchOutcome::decode`] reads
        /// `text` instead, so decimals stay exact.
        body: Option<serde_json::Value>,
        /// Its body as the JSON text the server sent.
        text: Option<Box<serde_json::value::RawValue>>,
    },
    /// The operation failed: its own typed error (conflict, not found, validation...).
    Failed(Error),
    /// Not executed (an earlier operation failed, or no result came back).
    NotExecuted,
}

impl BatchOutcome {
    /// Whether the operation succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, BatchOutcome::Success { .. })
    }

    /// The operation's body decoded as `T`, or its error.
    pub fn decode<T: DeserializeOwned>(self, id: &str) -> Result<T, Error> {
        match self {
            BatchOutcome::Success { text, .. } => {
                let text = text.as_deref().map_or("null", |t| t.get());
                serde_json::from_str(text).map_err(|e| Error::Decode {
                    path: format!("responses[{id}].body"),
                    message: e.to_string(),
                })
            }
            BatchOutcome::Failed(e) => Err(e),
            BatchOutcome::NotExecuted => Err(Error::NotExecuted(id.to_owned())),
        }
    }

    /// `Ok(())` on success, else the operation's error.
    pub fn into_result(self, id: &str) -> Result<(), Error> {
        match self {
            BatchOutcome::Success { .. } => Ok(()),
            BatchOutcome::Failed(e) => Err(e),
            BatchOutcome::NotExecuted => Err(Error::NotExecuted(id.to_owned())),
        }
    }
}

/// The results of a batch, one per operation, in the order the operations were added.
#[derive(Debug)]
pub struct BatchResponse {
    outcomes: Vec<(String, BatchOutcome)>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    responses: Vec<RawResult>,
}

#[derive(Deserialize)]
struct RawResult {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    body: Option<Box<serde_json::value::RawValue>>,
}

impl RawResult {
    /// The body as a JSON value (`None` when absent, `null` or unreadable).
    fn value(&self) -> Option<serde_json::Value> {
        let raw = self.body.as_deref()?;
        serde_json::from_str::<serde_json::Value>(raw.get())
            .ok()
            .filter(|b| !b.is_null())
    }
}

impl BatchResponse {
    /// Maps a `$batch` response body back to the operations of `batch`.
    pub fn from_body(batch: &Batch, body: &[u8]) -> Result<BatchResponse, Error> {
        let raw: RawResponse = serde_json::from_slice(body).map_err(|e| Error::Decode {
            path: "responses".into(),
            message: e.to_string(),
        })?;
        let mut by_id: BTreeMap<String, RawResult> = BTreeMap::new();
        let mut unnamed = Vec::new();
        for r in raw.responses {
            match r.id.clone() {
                Some(id) => {
                    by_id.insert(id, r);
                }
                None => unnamed.push(r),
            }
        }
        let mut unnamed = unnamed.into_iter();
        let mut seen = HashSet::new();
        let outcomes = batch
            .operations
            .iter()
            .map(|o| {
                seen.insert(o.id.clone());
                // Results without ids (older servers) are matched by position.
                let r = by_id.remove(&o.id).or_else(|| unnamed.next());
                let outcome = match r {
                    None => BatchOutcome::NotExecuted,
                    Some(r) if (200..300).contains(&r.status) => BatchOutcome::Success {
                        status: r.status,
                        body: r.value(),
                        text: r.body.filter(|b| b.get().trim() != "null"),
                    },
                    Some(r) => {
                        let body = r.value().unwrap_or(serde_json::Value::Null);
                        BatchOutcome::Failed(Error::from_api(ApiError::from_json(r.status, &body)))
                    }
                };
                (o.id.clone(), outcome)
            })
            .collect();
        Ok(BatchResponse { outcomes })
    }

    /// The outcome of operation `id`.
    pub fn get(&self, id: &str) -> Option<&BatchOutcome> {
        self.outcomes.iter().find(|(i, _)| i == id).map(|(_, o)| o)
    }

    /// Removes and returns the outcome of operation `id`.
    pub fn take(&mut self, id: &str) -> Option<BatchOutcome> {
        let pos = self.outcomes.iter().position(|(i, _)| i == id)?;
        Some(self.outcomes.remove(pos).1)
    }

    /// Every `(id, outcome)`, in operation order.
    pub fn into_outcomes(self) -> Vec<(String, BatchOutcome)> {
        self.outcomes
    }

    /// How many operations succeeded.
    pub fn succeeded(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| o.is_success()).count()
    }

    /// Whether every operation succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.outcomes.iter().all(|(_, o)| o.is_success())
    }
}

impl Api {
    /// Sends a batch to this route's `$batch`. The envelope's own failure (bad batch) is the
    /// `Err`; each operation's failure is in its [`BatchOutcome`]. Not retried blindly.
    pub async fn batch(&self, batch: &Batch) -> Result<BatchResponse, Error> {
        if batch.is_empty() {
            return Ok(BatchResponse {
                outcomes: Vec::new(),
            });
        }
        let route = self.route.path();
        let body = batch.to_body(&route)?;
        let mut req = self
            .client
            .http()
            .post(&format!("{route}/$batch"))
            .header("Accept", "application/json")
            .json(&body);
        if batch.snapshot {
            req = req.header("Isolation", "snapshot");
        }
        if batch.continue_on_error {
            req = req.header("Prefer", "odata.continue-on-error");
        }
        let resp = req.send().await?;
        BatchResponse::from_body(batch, &resp.body)
    }
}

impl crate::Client {
    /// Sends a batch to the API v2.0 `$batch`.
    pub async fn batch(&self, batch: &Batch) -> Result<BatchResponse, Error> {
        self.api().batch(batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(id: &str) -> BatchOperation {
        op(
            id,
            "GET",
            format!("api/v2.0/companies(1)/items({id})"),
            None,
            None,
        )
    }

    #[test]
    fn refuses_101_operations_and_duplicates() {
        let mut b = Batch::new();
        for i in 0..100 {
            b.push(raw(&i.to_string())).unwrap();
        }
        let err = b.push(raw("100")).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidInput(InvalidInput::BatchTooLarge { got: 101, max: 100 })
        ));
        let mut b = Batch::new();
        b.push(raw("a")).unwrap();
        assert!(b.push(raw("a")).is_err());
    }

    #[test]
    fn urls_are_relative_to_route() {
        let mut b = Batch::new();
        b.push(raw("a")).unwrap();
        let body = b.to_body("api/v2.0").unwrap();
        assert_eq!(body["requests"][0]["url"], "companies(1)/items(a)");
        assert!(b.to_body("api/contoso/pos/v1.0").is_err());
    }

    #[test]
    fn batch_bodies_decode_decimals_exactly() {
        #[derive(Deserialize)]
        struct Priced {
            #[serde(with = "crate::values::decimal")]
            price: rust_decimal::Decimal,
        }
        let mut b = Batch::new();
        b.push(raw("a")).unwrap();
        let body =
            br#"{"responses":[{"id":"a","status":200,"body":{"price":123456789012345678.25}}]}"#;
        let mut r = BatchResponse::from_body(&b, body).unwrap();
        let p: Priced = r.take("a").unwrap().decode("a").unwrap();
        assert_eq!(p.price.to_string(), "123456789012345678.25");
    }

    #[test]
    fn maps_results_by_id_failed_and_missing() {
        let mut b = Batch::new();
        for id in ["a", "b", "c"] {
            b.push(raw(id)).unwrap();
        }
        let body = br#"{"responses":[
            {"id":"b","status":400,"headers":{},"body":{"error":{"code":"Application_StringExceededLength","message":"too long"}}},
            {"id":"a","status":201,"headers":{},"body":{"number":"10000"}}]}"#;
        let mut r = BatchResponse::from_body(&b, body).unwrap();
        assert_eq!(r.succeeded(), 1);
        let a: serde_json::Value = r.take("a").unwrap().decode("a").unwrap();
        assert_eq!(a["number"], "10000");
        let err = r.take("b").unwrap().into_result("b").unwrap_err();
        assert_eq!(
            err.code().unwrap().as_str(),
            "Application_StringExceededLength"
        );
        assert!(matches!(r.take("c").unwrap(), BatchOutcome::NotExecuted));
    }

    #[test]
    fn maps_results_without_ids_by_position() {
        let mut b = Batch::new();
        b.push(raw("a")).unwrap();
        b.push(raw("b")).unwrap();
        let body = br#"{"responses":[{"id":null,"status":200,"body":{"x":1}},{"id":null,"status":204,"headers":{}}]}"#;
        let r = BatchResponse::from_body(&b, body).unwrap();
        assert!(r.all_succeeded());
    }
}
