//! Upsert planning and plan application.
//!
//! [`Planner::plan`] turns source records and an index of the target's existing records
//! ([`TargetIndex`]) into a [`Plan`]: create, update (only the differing fields, never the
//! create-only ones), unchanged, skip or error per record. Planning is pure and deterministic:
//! the plan follows the input order and does no I/O.
//!
//! [`apply`] hands a plan's writes to a [`Target`] in batches and reports one [`RecordOutcome`]
//! per record; [`upsert`] is lookup + plan + apply in one call. [`MemoryTarget`] is an in-memory
//! target for tests.
//!
//! ```
//! use sync_core::fields::Fields;
//! use sync_core::key::{KeyError, Keyed, Sku};
//! use sync_core::upsert::{upsert, MemoryTarget, Outcome, Planner, SourceRecord};
//!
//! struct Product { id: u32, sku: String, name: String, description: String }
//! impl Keyed for Product {
//!     type Key = Sku;
//!     fn key(&self) -> Result<Sku, KeyError> { Sku::parse(&self.sku) }
//! }
//! impl SourceRecord for Product {
//!     fn source_id(&self) -> String { self.id.to_string() }
//!     fn fields(&self) -> Fields {
//!         Fields::new().with("name", self.name.as_str()).with("description", self.description.as_str())
//!     }
//! }
//!
//! # futures::executor::block_on(async {
//! let target = MemoryTarget::new();
//! let planner = Planner::new().create_only(["description"]);
//! let batch = || vec![Product { id: 1, sku: "A1".into(), name: "Mug".into(), description: "Blue".into() }];
//! let first = upsert(&planner, batch(), &target).await.unwrap();
//! assert_eq!(first[0].outcome, Outcome::Created);
//! let second = upsert(&planner, batch(), &target).await.unwrap();
//! assert_eq!(second[0].outcome, Outcome::Unchanged);
//! # });
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fields::Fields;
use crate::key::{Key, KeyText, Keyed};
use crate::mapping::FieldMapping;

/// A record read from the source, ready to plan.
pub trait SourceRecord: Keyed + Send + Sync {
    /// The record's id in the source system.
    fn source_id(&self) -> String;
    /// When the source last modified it (used to pick the newest of duplicates).
    fn modified(&self) -> Option<DateTime<Utc>> {
        None
    }
    /// The record's fields, named as the source names them (a [`FieldMapping`] renames them).
    fn fields(&self) -> Fields;
}

/// A record that already exists in the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Existing {
    /// The target's id for it.
    pub id: String,
    /// Its current fields, named as the target names them.
    pub fields: Fields,
}

impl Existing {
    /// An existing record.
    pub fn new(id: impl Into<String>, fields: Fields) -> Self {
        Self {
            id: id.into(),
            fields,
        }
    }
}

/// The target's existing records by key (what a bulk lookup returns).
#[derive(Debug, Clone)]
pub struct TargetIndex<K> {
    map: BTreeMap<K, Existing>,
}

impl<K: Key> Default for TargetIndex<K> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
        }
    }
}

impl<K: Key> TargetIndex<K> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds or replaces a record.
    pub fn insert(&mut self, key: K, existing: Existing) {
        self.map.insert(key, existing);
    }
    /// The record with this key.
    pub fn get(&self, key: &K) -> Option<&Existing> {
        self.map.get(key)
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// The records in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &Existing)> {
        self.map.iter()
    }
}

impl<K: Key> FromIterator<(K, Existing)> for TargetIndex<K> {
    fn from_iter<T: IntoIterator<Item = (K, Existing)>>(iter: T) -> Self {
        Self {
            map: iter.into_iter().collect(),
        }
    }
}

/// What to do with a record that already exists in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExisting {
    /// Update the differing fields (customers, products).
    #[default]
    Update,
    /// Leave it and report a skip (orders: an existing order is never changed).
    Skip,
}

/// What to do with a record that does not exist in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// Create it.
    #[default]
    Create,
    /// Report a skip (stock: only products that exist are updated).
    Skip,
    /// Report an error.
    Error,
}

/// What to do when several source records in one run share a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicate {
    /// Report every one of them as an error.
    #[default]
    Reject,
    /// The one with the newest [`SourceRecord::modified`] wins; the others are skipped.
    /// Records without a time, or tied for newest, are reported as errors.
    NewestWins,
}

/// What the plan does with one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create the record with these fields.
    Create {
        /// All mapped fields, create-only ones included.
        fields: Fields,
    },
    /// Update only these fields.
    Update {
        /// The target's id.
        target_id: String,
        /// The differing fields.
        changes: Fields,
    },
    /// Nothing to do.
    Unchanged {
        /// The target's id.
        target_id: String,
    },
    /// Deliberately not written.
    Skip {
        /// The target's id, when the record exists.
        target_id: Option<String>,
        /// Why.
        reason: String,
    },
    /// Cannot be written.
    Error {
        /// Why.
        reason: String,
    },
}

impl Action {
    /// The action's kind.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Create { .. } => ActionKind::Create,
            Action::Update { .. } => ActionKind::Update,
            Action::Unchanged { .. } => ActionKind::Unchanged,
            Action::Skip { .. } => ActionKind::Skip,
            Action::Error { .. } => ActionKind::Error,
        }
    }
}

/// The kind of an [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Create.
    Create,
    /// Update.
    Update,
    /// Unchanged.
    Unchanged,
    /// Skip.
    Skip,
    /// Error.
    Error,
}

/// One record's line in a plan.
#[derive(Debug, Clone)]
pub struct PlanEntry<R: Keyed> {
    /// The source id.
    pub source_id: String,
    /// The key, when the record has a valid one.
    pub key: Option<R::Key>,
    /// The source record itself (targets that build rich payloads, like orders with lines, use it).
    pub record: R,
    /// What to do.
    pub action: Action,
}

/// A plan: one entry per source record, in input order.
#[derive(Debug, Clone)]
pub struct Plan<R: Keyed> {
    /// The entries.
    pub entries: Vec<PlanEntry<R>>,
}

/// How many entries of each kind a plan has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    /// Creates.
    pub create: usize,
    /// Updates.
    pub update: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// Skips.
    pub skip: usize,
    /// Errors.
    pub error: usize,
}

/// A plan entry without the source record: what a dry run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// The source id.
    pub source_id: String,
    /// The key as text (personal keys included: a dry run's output goes to the caller, not to the log).
    pub key: Option<String>,
    /// What would happen.
    pub action: ActionKind,
    /// The target id, when the record exists.
    pub target_id: Option<String>,
    /// The fields that would be sent (creates: all; updates: the changes).
    pub fields: Fields,
    /// Why it is skipped or in error.
    pub reason: Option<String>,
}

impl<R: Keyed> Plan<R> {
    /// Counts per kind.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for e in &self.entries {
            match e.action.kind() {
                ActionKind::Create => c.create += 1,
                ActionKind::Update => c.update += 1,
                ActionKind::Unchanged => c.unchanged += 1,
                ActionKind::Skip => c.skip += 1,
                ActionKind::Error => c.error += 1,
            }
        }
        c
    }

    /// Whether the plan writes nothing.
    pub fn is_settled(&self) -> bool {
        let c = self.counts();
        c.create == 0 && c.update == 0
    }

    /// The plan without the source records.
    pub fn summary(&self) -> Vec<PlannedChange> {
        self.entries
            .iter()
            .map(|e| {
                let (target_id, fields, reason) = match &e.action {
                    Action::Create { fields } => (None, fields.clone(), None),
                    Action::Update { target_id, changes } => {
                        (Some(target_id.clone()), changes.clone(), None)
                    }
                    Action::Unchanged { target_id } => {
                        (Some(target_id.clone()), Fields::new(), None)
                    }
                    Action::Skip { target_id, reason } => {
                        (target_id.clone(), Fields::new(), Some(reason.clone()))
                    }
                    Action::Error { reason } => (None, Fields::new(), Some(reason.clone())),
                };
                PlannedChange {
                    source_id: e.source_id.clone(),
                    key: e.key.as_ref().map(ToString::to_string),
                    action: e.action.kind(),
                    target_id,
                    fields,
                    reason,
                }
            })
            .collect()
    }
}

/// Builds plans. Set up once per flow, reused every run.
#[derive(Debug, Clone, Default)]
pub struct Planner {
    mapping: Option<FieldMapping>,
    create_only: BTreeSet<String>,
    ignore_case: BTreeSet<String>,
    on_existing: OnExisting,
    on_missing: OnMissing,
    on_duplicate: OnDuplicate,
}

impl Planner {
    /// A planner that creates missing records, updates existing ones, rejects duplicate keys, and maps no fields.
    pub fn new() -> Self {
        Self::default()
    }
    /// Maps source fields to target fields before comparing.
    pub fn mapping(mut self, mapping: FieldMapping) -> Self {
        self.mapping = Some(mapping);
        self
    }
    /// Target fields sent on create but never on update (so enrichment in the target is kept).
    pub fn create_only<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.create_only.extend(fields.into_iter().map(Into::into));
        self
    }
    /// Target fields whose text the target stores in another case (code fields): compared
    /// without case, so they do not show up as changes forever.
    pub fn ignore_case<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.ignore_case.extend(fields.into_iter().map(Into::into));
        self
    }
    /// What to do with existing records.
    pub fn on_existing(mut self, p: OnExisting) -> Self {
        self.on_existing = p;
        self
    }
    /// What to do with missing records.
    pub fn on_missing(mut self, p: OnMissing) -> Self {
        self.on_missing = p;
        self
    }
    /// What to do with duplicate keys.
    pub fn on_duplicate(mut self, p: OnDuplicate) -> Self {
        self.on_duplicate = p;
        self
    }

    /// The target fields for a record (after mapping).
    pub fn target_fields<R: SourceRecord>(&self, record: &R) -> Fields {
        let f = record.fields();
        match &self.mapping {
            Some(m) => m.apply(&f),
            None => f,
        }
    }

    /// The distinct valid keys of these records, in key order: what to look up in the target.
    pub fn keys<R: SourceRecord>(&self, records: &[R]) -> Vec<R::Key> {
        let set: BTreeSet<R::Key> = records.iter().filter_map(|r| r.key().ok()).collect();
        set.into_iter().collect()
    }

    /// Plans the records against the index.
    pub fn plan<R: SourceRecord>(
        &self,
        records: impl IntoIterator<Item = R>,
        index: &TargetIndex<R::Key>,
    ) -> Plan<R> {
        let records: Vec<R> = records.into_iter().collect();
        let keys: Vec<Result<R::Key, crate::key::KeyError>> =
            records.iter().map(Keyed::key).collect();

        // Resolve duplicate keys first: position -> verdict for the losers.
        let mut verdicts: BTreeMap<usize, Action> = BTreeMap::new();
        for dup in crate::key::find_duplicates(keys.iter().cloned()) {
            let ids: Vec<String> = dup
                .positions
                .iter()
                .filter_map(|&p| records.get(p).map(SourceRecord::source_id))
                .collect();
            let winner = match self.on_duplicate {
                OnDuplicate::Reject => None,
                OnDuplicate::NewestWins => newest(&dup.positions, &records),
            };
            for &p in &dup.positions {
                if Some(p) == winner {
                    continue;
                }
                let action = match winner.and_then(|w| records.get(w)) {
                    Some(w) => Action::Skip {
                        target_id: index.get(&dup.key).map(|e| e.id.clone()),
                        reason: format!("superseded by newer source record {}", w.source_id()),
                    },
                    None => Action::Error {
                        reason: format!(
                            "duplicate key in this run (source records {})",
                            ids.join(", ")
                        ),
                    },
                };
                verdicts.insert(p, action);
            }
        }

        let entries = records
            .into_iter()
            .zip(keys)
            .enumerate()
            .map(|(pos, (record, key))| {
                let source_id = record.source_id();
                let (key, action) = match key {
                    Err(e) => (
                        None,
                        Action::Error {
                            reason: e.to_string(),
                        },
                    ),
                    Ok(k) => {
                        let action = match verdicts.remove(&pos) {
                            Some(a) => a,
                            None => self.decide(&record, index.get(&k)),
                        };
                        (Some(k), action)
                    }
                };
                PlanEntry {
                    source_id,
                    key,
                    record,
                    action,
                }
            })
            .collect();
        Plan { entries }
    }

    fn decide<R: SourceRecord>(&self, record: &R, existing: Option<&Existing>) -> Action {
        let fields = self.target_fields(record);
        match (existing, self.on_missing, self.on_existing) {
            (None, OnMissing::Create, _) => Action::Create { fields },
            (None, OnMissing::Skip, _) => Action::Skip {
                target_id: None,
                reason: "does not exist in the target".into(),
            },
            (None, OnMissing::Error, _) => Action::Error {
                reason: "does not exist in the target".into(),
            },
            (Some(e), _, OnExisting::Skip) => Action::Skip {
                target_id: Some(e.id.clone()),
                reason: "already exists in the target".into(),
            },
            (Some(e), _, OnExisting::Update) => {
                let changes = fields.diff_with(&e.fields, |name, new, current| {
                    if self.create_only.contains(name) {
                        false
                    } else if self.ignore_case.contains(name) {
                        !new.same_ignoring_case(current)
                    } else {
                        !new.same_as(current)
                    }
                });
                if changes.is_empty() {
                    Action::Unchanged {
                        target_id: e.id.clone(),
                    }
                } else {
                    Action::Update {
                        target_id: e.id.clone(),
                        changes,
                    }
                }
            }
        }
    }
}

fn newest<R: SourceRecord>(positions: &[usize], records: &[R]) -> Option<usize> {
    let mut best: Option<(DateTime<Utc>, usize)> = None;
    let mut tied = false;
    for &p in positions {
        let t = records.get(p)?.modified()?;
        match best {
            None => best = Some((t, p)),
            Some((bt, _)) if t > bt => {
                best = Some((t, p));
                tied = false;
            }
            Some((bt, _)) if t == bt => tied = true,
            Some(_) => {}
        }
    }
    if tied { None } else { best.map(|(_, p)| p) }
}

/// A write the target is asked to make.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Create with these fields.
    Create {
        /// The fields.
        fields: Fields,
    },
    /// Update these fields of the record with this id.
    Update {
        /// The target's id.
        target_id: String,
        /// The changes.
        changes: Fields,
    },
}

/// One write in a batch.
#[derive(Debug, Clone)]
pub struct Write<R: Keyed> {
    /// The source id.
    pub source_id: String,
    /// The key.
    pub key: R::Key,
    /// The source record.
    pub record: R,
    /// What to write.
    pub op: WriteOp,
}

/// The target's answer for one write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResult {
    /// The target's id of the written record, or why the write failed.
    pub result: Result<String, String>,
    /// What was actually sent, when it differs from the planned fields (for the activity log).
    pub sent: Option<serde_json::Value>,
    /// What the target answered (for the activity log).
    pub answer: Option<serde_json::Value>,
}

impl WriteResult {
    /// A successful write.
    pub fn ok(target_id: impl Into<String>) -> Self {
        Self {
            result: Ok(target_id.into()),
            sent: None,
            answer: None,
        }
    }
    /// A failed write.
    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            result: Err(reason.into()),
            sent: None,
            answer: None,
        }
    }
    /// Records what was sent.
    pub fn with_sent(mut self, sent: serde_json::Value) -> Self {
        self.sent = Some(sent);
        self
    }
    /// Records the target's answer.
    pub fn with_answer(mut self, answer: serde_json::Value) -> Self {
        self.answer = Some(answer);
        self
    }
}

/// A failure of a whole target call (lookup or batch), as opposed to one record's failure.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TargetError {
    /// An error with a message.
    pub fn new(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            source: None,
        }
    }
    /// Wraps an underlying error (for example a client's error).
    pub fn from_error(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: err.to_string(),
            source: Some(Box::new(err)),
        }
    }
}

/// A system records are written to.
///
/// Implementations look keys up in bulk (one or a few requests for many keys) and apply writes
/// in batches (for example one `$batch` request per batch).
#[async_trait]
pub trait Target<R: SourceRecord>: Send + Sync {
    /// The existing records among these keys (keys not found are simply absent).
    async fn lookup(&self, keys: &[R::Key]) -> Result<TargetIndex<R::Key>, TargetError>;

    /// Most writes per [`Target::apply`] call.
    fn batch_size(&self) -> usize {
        100
    }

    /// Applies a batch; returns one result per write, in the same order.
    ///
    /// An `Err` fails every write of the batch; a missing result fails that write.
    async fn apply(&self, batch: &[Write<R>]) -> Result<Vec<WriteResult>, TargetError>;
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Created in the target.
    Created,
    /// Updated in the target.
    Updated,
    /// Already up to date.
    Unchanged,
    /// Deliberately not written.
    Skipped,
    /// Failed (kept for retry).
    Failed,
}

/// One record's outcome after applying a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// The source id.
    pub source_id: String,
    /// The key.
    pub key: Option<KeyText>,
    /// What happened.
    pub outcome: Outcome,
    /// The target's id.
    pub target_id: Option<String>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    /// The source record's fields.
    pub source: serde_json::Value,
    /// What was sent.
    pub sent: Option<serde_json::Value>,
    /// What the target answered.
    pub answer: Option<serde_json::Value>,
}

impl RecordOutcome {
    /// An outcome for a record a flow wrote without the planner (for example a file delivery);
    /// fill in the rest with the `with_*` methods.
    pub fn new(source_id: impl Into<String>, outcome: Outcome) -> Self {
        Self {
            source_id: source_id.into(),
            key: None,
            outcome,
            target_id: None,
            reason: None,
            source: serde_json::Value::Null,
            sent: None,
            answer: None,
        }
    }
    /// A failed record with its reason.
    pub fn failed(source_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(source_id, Outcome::Failed).with_reason(reason)
    }
    /// Sets the key.
    pub fn with_key<K: Key>(mut self, key: &K) -> Self {
        self.key = Some(KeyText::of(key));
        self
    }
    /// Sets the reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// Sets the target id.
    pub fn with_target_id(mut self, id: impl Into<String>) -> Self {
        self.target_id = Some(id.into());
        self
    }
    /// Sets what came from the source.
    pub fn with_source(mut self, source: serde_json::Value) -> Self {
        self.source = source;
        self
    }
    /// Sets what was sent.
    pub fn with_sent(mut self, sent: serde_json::Value) -> Self {
        self.sent = Some(sent);
        self
    }
    /// Sets the target's answer.
    pub fn with_answer(mut self, answer: serde_json::Value) -> Self {
        self.answer = Some(answer);
        self
    }
}

/// Applies a plan's writes through the target in batches; one outcome per plan entry, in plan order.
pub async fn apply<R, T>(plan: Plan<R>, target: &T) -> Vec<RecordOutcome>
where
    R: SourceRecord,
    T: Target<R> + ?Sized,
{
    let mut outcomes: Vec<Option<RecordOutcome>> = Vec::with_capacity(plan.entries.len());
    let mut writes: Vec<(usize, Write<R>)> = Vec::new();
    for (pos, entry) in plan.entries.into_iter().enumerate() {
        let base = RecordOutcome {
            source_id: entry.source_id.clone(),
            key: entry.key.as_ref().map(KeyText::of),
            outcome: Outcome::Unchanged,
            target_id: None,
            reason: None,
            source: entry.record.fields().to_json(),
            sent: None,
            answer: None,
        };
        let (op, key) = match (entry.action, entry.key) {
            (Action::Create { fields }, Some(k)) => (WriteOp::Create { fields }, k),
            (Action::Update { target_id, changes }, Some(k)) => {
                (WriteOp::Update { target_id, changes }, k)
            }
            (Action::Unchanged { target_id }, _) => {
                outcomes.push(Some(RecordOutcome {
                    target_id: Some(target_id),
                    ..base
                }));
                continue;
            }
            (Action::Skip { target_id, reason }, _) => {
                outcomes.push(Some(RecordOutcome {
                    outcome: Outcome::Skipped,
                    target_id,
                    reason: Some(reason),
                    ..base
                }));
                continue;
            }
            (Action::Error { reason }, _) => {
                outcomes.push(Some(RecordOutcome {
                    outcome: Outcome::Failed,
                    reason: Some(reason),
                    ..base
                }));
                continue;
            }
            (_, None) => {
                outcomes.push(Some(RecordOutcome {
                    outcome: Outcome::Failed,
                    reason: Some("write planned without a key".into()),
                    ..base
                }));
                continue;
            }
        };
        outcomes.push(Some(base));
        writes.push((
            pos,
            Write {
                source_id: entry.source_id,
                key,
                record: entry.record,
                op,
            },
        ));
    }

    let size = target.batch_size().max(1);
    let mut rest = writes;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(size));
        let (positions, batch): (Vec<usize>, Vec<Write<R>>) = rest.into_iter().unzip();
        rest = tail;
        let results = target.apply(&batch).await;
        for (i, (pos, write)) in positions.into_iter().zip(batch).enumerate() {
            let planned = match &write.op {
                WriteOp::Create { fields } => fields.to_json(),
                WriteOp::Update { changes, .. } => changes.to_json(),
            };
            let is_create = matches!(write.op, WriteOp::Create { .. });
            let existing_id = match &write.op {
                WriteOp::Update { target_id, .. } => Some(target_id.clone()),
                WriteOp::Create { .. } => None,
            };
            let result = match &results {
                Ok(r) => r.get(i).cloned().unwrap_or_else(|| {
                    WriteResult::failed("the target gave no result for this write")
                }),
                Err(e) => WriteResult::failed(format!("batch failed: {e}")),
            };
            if let Some(Some(o)) = outcomes.get_mut(pos) {
                o.sent = Some(result.sent.unwrap_or(planned));
                o.answer = result.answer;
                match result.result {
                    Ok(id) => {
                        o.outcome = if is_create {
                            Outcome::Created
                        } else {
                            Outcome::Updated
                        };
                        o.target_id = Some(id);
                    }
                    Err(reason) => {
                        o.outcome = Outcome::Failed;
                        o.target_id = existing_id;
                        o.reason = Some(reason);
                    }
                }
            }
        }
    }
    outcomes.into_iter().flatten().collect()
}

/// Looks the records' keys up in bulk, plans, and applies: the whole upsert in one call.
///
/// A failed lookup is an error (nothing was written); record failures are outcomes.
pub async fn upsert<R, T>(
    planner: &Planner,
    records: Vec<R>,
    target: &T,
) -> Result<Vec<RecordOutcome>, TargetError>
where
    R: SourceRecord,
    T: Target<R> + ?Sized,
{
    let plan = plan_against(planner, records, target).await?;
    Ok(apply(plan, target).await)
}

/// Looks the records' keys up in bulk and plans, without writing (a dry run).
pub async fn plan_against<R, T>(
    planner: &Planner,
    records: Vec<R>,
    target: &T,
) -> Result<Plan<R>, TargetError>
where
    R: SourceRecord,
    T: Target<R> + ?Sized,
{
    let keys = planner.keys(&records);
    let index = if keys.is_empty() {
        TargetIndex::new()
    } else {
        target.lookup(&keys).await?
    };
    Ok(planner.plan(records, &index))
}

/// An in-memory [`Target`]: stores records by key, counts calls, can be told to fail keys.
///
/// For tests of flows and for trying a plan out; ids are `mem-1`, `mem-2`, ...
#[derive(Debug)]
pub struct MemoryTarget<K> {
    state: Mutex<MemoryState<K>>,
    batch_size: usize,
}

#[derive(Debug)]
struct MemoryState<K> {
    records: BTreeMap<K, Existing>,
    next_id: u64,
    lookups: u64,
    batches: u64,
    failing: BTreeSet<K>,
}

impl<K: Key> Default for MemoryTarget<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Key> MemoryTarget<K> {
    /// An empty target with batches of 100.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(MemoryState {
                records: BTreeMap::new(),
                next_id: 1,
                lookups: 0,
                batches: 0,
                failing: BTreeSet::new(),
            }),
            batch_size: 100,
        }
    }
    /// Sets the batch size.
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState<K>> {
        // A poisoned lock only means a test panicked elsewhere; the data is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Seeds an existing record.
    pub fn insert(&self, key: K, existing: Existing) {
        self.lock().records.insert(key, existing);
    }
    /// The stored record with this key.
    pub fn get(&self, key: &K) -> Option<Existing> {
        self.lock().records.get(key).cloned()
    }
    /// Number of stored records.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }
    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().records.is_empty()
    }
    /// Makes writes for this key fail (or succeed again with `false`).
    pub fn set_failing(&self, key: K, failing: bool) {
        let mut s = self.lock();
        if failing {
            s.failing.insert(key);
        } else {
            s.failing.remove(&key);
        }
    }
    /// Calls made so far: (lookups, apply batches).
    pub fn calls(&self) -> (u64, u64) {
        let s = self.lock();
        (s.lookups, s.batches)
    }
}

#[async_trait]
impl<R: SourceRecord> Target<R> for MemoryTarget<R::Key> {
    async fn lookup(&self, keys: &[R::Key]) -> Result<TargetIndex<R::Key>, TargetError> {
        let mut s = self.lock();
        s.lookups += 1;
        Ok(keys
            .iter()
            .filter_map(|k| s.records.get(k).map(|e| (k.clone(), e.clone())))
            .collect())
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    async fn apply(&self, batch: &[Write<R>]) -> Result<Vec<WriteResult>, TargetError> {
        let mut s = self.lock();
        s.batches += 1;
        let mut out = Vec::with_capacity(batch.len());
        for w in batch {
            if s.failing.contains(&w.key) {
                out.push(WriteResult::failed("rejected by the target"));
                continue;
            }
            match &w.op {
                WriteOp::Create { fields } => {
                    let id = format!("mem-{}", s.next_id);
                    s.next_id += 1;
                    s.records
                        .insert(w.key.clone(), Existing::new(id.clone(), fields.clone()));
                    out.push(WriteResult::ok(id));
                }
                WriteOp::Update { target_id, changes } => match s.records.get_mut(&w.key) {
                    Some(e) if &e.id == target_id => {
                        e.fields.merge(changes);
                        out.push(WriteResult::ok(target_id.clone()));
                    }
                    _ => out.push(WriteResult::failed("not found")),
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldValue;
    use crate::key::{KeyError, Sku};
    use chrono::TimeZone;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    #[derive(Debug, Clone)]
    struct P {
        id: String,
        sku: String,
        modified: Option<DateTime<Utc>>,
        fields: Fields,
    }
    impl Keyed for P {
        type Key = Sku;
        fn key(&self) -> Result<Sku, KeyError> {
            Sku::parse(&self.sku)
        }
    }
    impl SourceRecord for P {
        fn source_id(&self) -> String {
            self.id.clone()
        }
        fn modified(&self) -> Option<DateTime<Utc>> {
            self.modified
        }
        fn fields(&self) -> Fields {
            self.fields.clone()
        }
    }
    fn p(id: &str, sku: &str, fields: Fields) -> P {
        P {
            id: id.into(),
            sku: sku.into(),
            modified: None,
            fields,
        }
    }
    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    #[test]
    fn plans_every_kind() {
        let mut index = TargetIndex::new();
        index.insert(
            sku("A"),
            Existing::new(
                "t-a",
                Fields::new()
                    .with("name", "Mug")
                    .with("price", "10.00")
                    .with("descr", "rich"),
            ),
        );
        index.insert(
            sku("B"),
            Existing::new("t-b", Fields::new().with("name", "Cup")),
        );
        let rec = vec![
            p(
                "1",
                "A",
                Fields::new()
                    .with("name", " Mug ")
                    .with("price", Decimal::new(1000, 2))
                    .with("descr", "plain"),
            ),
            p("2", "B", Fields::new().with("name", "Cup XL")),
            p(
                "3",
                "C",
                Fields::new().with("name", "Plate").with("descr", "d"),
            ),
            p("4", "  ", Fields::new()),
        ];
        let plan = Planner::new().create_only(["descr"]).plan(rec, &index);
        let acts: Vec<_> = plan.entries.iter().map(|e| e.action.clone()).collect();
        assert_eq!(
            acts[0],
            Action::Unchanged {
                target_id: "t-a".into()
            }
        );
        assert_eq!(
            acts[1],
            Action::Update {
                target_id: "t-b".into(),
                changes: Fields::new().with("name", "Cup XL")
            }
        );
        assert_eq!(
            acts[2],
            Action::Create {
                fields: Fields::new().with("name", "Plate").with("descr", "d")
            }
        );
        assert_eq!(
            acts[3],
            Action::Error {
                reason: "key is empty".into()
            }
        );
        assert_eq!(
            plan.counts(),
            PlanCounts {
                create: 1,
                update: 1,
                unchanged: 1,
                skip: 0,
                error: 1
            }
        );
        let s = plan.summary();
        assert_eq!(s[1].key.as_deref(), Some("B"));
        assert_eq!(s[3].reason.as_deref(), Some("key is empty"));
    }

    #[test]
    fn skip_policies() {
        let mut index = TargetIndex::new();
        index.insert(sku("A"), Existing::new("t-a", Fields::new()));
        let rec = vec![
            p("1", "A", Fields::new().with("x", "1")),
            p("2", "B", Fields::new()),
        ];
        let plan = Planner::new()
            .on_existing(OnExisting::Skip)
            .on_missing(OnMissing::Skip)
            .plan(rec.clone(), &index);
        assert!(
            matches!(&plan.entries[0].action, Action::Skip { target_id: Some(t), .. } if t == "t-a")
        );
        assert!(matches!(
            &plan.entries[1].action,
            Action::Skip {
                target_id: None,
                ..
            }
        ));
        let plan = Planner::new()
            .on_missing(OnMissing::Error)
            .plan(rec, &index);
        assert_eq!(plan.entries[1].action.kind(), ActionKind::Error);
    }

    #[test]
    fn duplicates_rejected_or_newest_wins() {
        let t = |h| Some(Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap());
        let mut a = p("1", "A", Fields::new().with("v", "old"));
        a.modified = t(1);
        let mut b = p("2", " A", Fields::new().with("v", "new"));
        b.modified = t(2);
        let c = p("3", "B", Fields::new());
        let idx = TargetIndex::new();
        let plan = Planner::new().plan(vec![a.clone(), b.clone(), c.clone()], &idx);
        assert_eq!(plan.entries[0].action.kind(), ActionKind::Error);
        assert_eq!(plan.entries[1].action.kind(), ActionKind::Error);
        assert!(
            matches!(&plan.entries[0].action, Action::Error { reason } if reason.contains("1, 2"))
        );
        assert_eq!(plan.entries[2].action.kind(), ActionKind::Create);

        let newest = Planner::new().on_duplicate(OnDuplicate::NewestWins);
        let plan = newest.plan(vec![a.clone(), b.clone()], &idx);
        assert!(
            matches!(&plan.entries[0].action, Action::Skip { reason, .. } if reason.contains("record 2"))
        );
        assert_eq!(
            plan.entries[1].action,
            Action::Create {
                fields: Fields::new().with("v", "new")
            }
        );

        // A tie is not guessed.
        b.modified = t(1);
        let plan = newest.plan(vec![a, b], &idx);
        assert_eq!(plan.counts().error, 2);
    }

    #[test]
    fn code_fields_compare_without_case() {
        let mut index = TargetIndex::new();
        index.insert(
            sku("a"),
            Existing::new("t", Fields::new().with("code", "RED").with("name", "Mug")),
        );
        let rec = vec![p(
            "1",
            "a",
            Fields::new().with("code", "red").with("name", "mug"),
        )];
        let plan = Planner::new().ignore_case(["code"]).plan(rec, &index);
        assert_eq!(
            plan.entries[0].action,
            Action::Update {
                target_id: "t".into(),
                changes: Fields::new().with("name", "mug")
            }
        );
    }

    #[test]
    fn mapping_is_applied_before_comparing() {
        let m = FieldMapping::new([("displayName", "name")]);
        let mut index = TargetIndex::new();
        index.insert(
            sku("A"),
            Existing::new("t", Fields::new().with("displayName", "Mug")),
        );
        let plan = Planner::new().mapping(m).plan(
            vec![p(
                "1",
                "A",
                Fields::new().with("name", "Mug").with("ignored", "x"),
            )],
            &index,
        );
        assert_eq!(plan.entries[0].action.kind(), ActionKind::Unchanged);
    }

    #[tokio::test]
    async fn apply_batches_and_reports_per_record() {
        let target = MemoryTarget::new().with_batch_size(2);
        target.set_failing(sku("C"), true);
        let recs = || {
            vec![
                p("1", "A", Fields::new().with("n", "a")),
                p("2", "B", Fields::new().with("n", "b")),
                p("3", "C", Fields::new().with("n", "c")),
                p("4", "", Fields::new()),
                p("5", "D", Fields::new().with("n", "d")),
            ]
        };
        let out = upsert(&Planner::new(), recs(), &target).await.unwrap();
        let kinds: Vec<_> = out.iter().map(|o| o.outcome).collect();
        assert_eq!(
            kinds,
            [
                Outcome::Created,
                Outcome::Created,
                Outcome::Failed,
                Outcome::Failed,
                Outcome::Created
            ]
        );
        assert_eq!(out[0].target_id.as_deref(), Some("mem-1"));
        assert_eq!(out[0].sent, Some(serde_json::json!({"n": "a"})));
        assert_eq!(out[2].reason.as_deref(), Some("rejected by the target"));
        // One lookup for all keys, 4 writes in batches of 2.
        assert_eq!(target.calls(), (1, 2));

        target.set_failing(sku("C"), false);
        let out = upsert(&Planner::new(), recs(), &target).await.unwrap();
        let kinds: Vec<_> = out.iter().map(|o| o.outcome).collect();
        assert_eq!(
            kinds,
            [
                Outcome::Unchanged,
                Outcome::Unchanged,
                Outcome::Created,
                Outcome::Failed,
                Outcome::Unchanged
            ]
        );
        assert_eq!(target.calls(), (2, 3));
    }

    struct Broken;
    #[async_trait]
    impl Target<P> for Broken {
        async fn lookup(&self, _: &[Sku]) -> Result<TargetIndex<Sku>, TargetError> {
            Ok(TargetIndex::new())
        }
        async fn apply(&self, batch: &[Write<P>]) -> Result<Vec<WriteResult>, TargetError> {
            if batch.len() > 1 {
                Err(TargetError::new("503"))
            } else {
                Ok(vec![])
            }
        }
    }

    #[tokio::test]
    async fn failed_batches_fail_their_records() {
        let out = upsert(
            &Planner::new(),
            vec![p("1", "A", Fields::new()), p("2", "B", Fields::new())],
            &Broken,
        )
        .await
        .unwrap();
        assert!(out.iter().all(|o| o.outcome == Outcome::Failed));
        assert_eq!(out[0].reason.as_deref(), Some("batch failed: 503"));
        let out = upsert(&Planner::new(), vec![p("1", "A", Fields::new())], &Broken)
            .await
            .unwrap();
        assert_eq!(
            out[0].reason.as_deref(),
            Some("the target gave no result for this write")
        );
    }

    fn value() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            Just(FieldValue::Null),
            "[ a-c]{0,4}".prop_map(FieldValue::Text),
            (-300i64..300, 0u32..4).prop_map(|(m, s)| FieldValue::Decimal(Decimal::new(m, s))),
            any::<bool>().prop_map(FieldValue::Bool),
        ]
    }

    fn record() -> impl Strategy<Value = P> {
        (
            0u32..1000,
            "[ ]?[A-D][ ]?",
            proptest::collection::btree_map("[a-d]", value(), 0..4),
        )
            .prop_map(|(id, sku, f)| p(&id.to_string(), &sku, f.into_iter().collect()))
    }

    proptest! {
        #[test]
        fn planning_is_idempotent(
            seed in proptest::collection::vec(record(), 0..6),
            batch in proptest::collection::vec(record(), 0..8),
            create_only in proptest::collection::btree_set("[a-d]", 0..2),
        ) {
            futures::executor::block_on(async {
                let target = MemoryTarget::new().with_batch_size(3);
                let planner = Planner::new().create_only(create_only);
                // Seed the target from an earlier state of the source.
                upsert(&planner, seed, &target).await.unwrap();
                let first = plan_against(&planner, batch.clone(), &target).await.unwrap();
                let deterministic = plan_against(&planner, batch.clone(), &target).await.unwrap();
                prop_assert_eq!(first.summary(), deterministic.summary());
                apply(first, &target).await;
                let again = plan_against(&planner, batch, &target).await.unwrap();
                prop_assert!(again.is_settled(), "left: {:?}", again.summary());
                Ok(())
            })?;
        }
    }
}
