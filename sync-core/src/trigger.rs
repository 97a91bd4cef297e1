//! Near-real-time runs: change events (from webhooks or notifications) run a flow for just the
//! records they name, within seconds, beside the scheduled polling runs.
//!
//! A [`Trigger`] serves one flow and tenant. [`Trigger::submit`] takes a [`ChangeEvent`] and
//! answers at once (so a webhook endpoint can reply within its time limit); a worker task then:
//!
//! - **deduplicates**: the same event twice, or an older version after a newer one, is dropped;
//!   events for a record already waiting merge into one;
//! - **debounces**: it waits until no event arrived for [`TriggerOptions::debounce`] (but no longer
//!   than [`TriggerOptions::max_delay`] after the first), so a burst becomes one run;
//! - **drops what a cursor covers**: an event whose version the flow's stored cursor already
//!   passed was applied by a polling run ([`TargetedFlow::covers`]), so it is not applied twice;
//! - **runs under the run lock**: through the same [`Runner`], so never two runs of one flow and
//!   tenant at once; while another run holds the lock, the events wait and are checked against the
//!   cursor again after it;
//! - **retries** a failed run with exponential backoff, [`TriggerOptions::max_attempts`] times
//!   in all, then leaves the records to the next polling run: kept in the store's retry list and
//!   written to the activity log;
//! - **bounds memory**: at most [`TriggerOptions::capacity`] records wait; past that, events
//!   collapse into one "run the whole flow now" marker ([`Accepted::Collapsed`] tells the caller)
//!   and the next run is a full (cursor) run, which covers them: nothing is lost.
//!
//! Each finished run is published as an [`Applied`] (see [`Trigger::subscribe`]) with the time
//! from the oldest event it covered to the end of its writes.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use sync_core::run::{Flow, FlowError, RunContext, Runner};
//! use sync_core::state::MemoryStore;
//! use sync_core::trigger::{Accepted, ChangeEvent, TargetedFlow, Trigger, TriggerOptions};
//!
//! #[derive(Default)]
//! struct Orders { seen: Mutex<Vec<Vec<String>>> }
//! #[async_trait::async_trait]
//! impl Flow for Orders {
//!     fn name(&self) -> &str { "orders" }
//!     async fn run(&self, _ctx: &mut RunContext) -> Result<(), FlowError> { Ok(()) }
//! }
//! #[async_trait::async_trait]
//! impl TargetedFlow for Orders {
//!     async fn run_for(&self, _ctx: &mut RunContext, ids: &[String]) -> Result<(), FlowError> {
//!         self.seen.lock().unwrap().push(ids.to_vec());
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
//! let flow = Arc::new(Orders::default());
//! let runner = Runner::new(Arc::new(MemoryStore::new()));
//! let options = TriggerOptions { debounce: Duration::from_millis(500), ..TriggerOptions::default() };
//! let trigger = Trigger::start(flow.clone(), runner, "shop-1", options);
//!
//! let sale = |v| ChangeEvent::new("lightspeed", "sale", "s-1").with_version(v);
//! assert_eq!(trigger.submit(sale(7)), Accepted::Queued);
//! assert_eq!(trigger.submit(sale(7)), Accepted::Duplicate);
//! assert_eq!(trigger.submit(sale(6)), Accepted::Stale);
//! trigger.idle().await;
//! assert_eq!(*flow.seen.lock().unwrap(), vec![vec!["s-1".to_string()]]);
//! # });
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast, watch};
use tokio::time::Instant;

use crate::log::ActivityEntry;
use crate::run::{Flow, FlowError, RunContext, RunError, RunReport, RunStatus, Runner};
use crate::state::Scope;
use crate::upsert::Outcome;

/// Which version of a record an event is about: the source's version number, or its modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventVersion {
    /// A version number that grows with every change (Lightspeed's `version`).
    Number(i64),
    /// A modification time (Business Central's `lastModifiedDateTime`).
    Time(DateTime<Utc>),
}

impl EventVersion {
    /// How this version compares with another of the same kind (`None` across kinds).
    pub fn compare(&self, other: &EventVersion) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (EventVersion::Number(a), EventVersion::Number(b)) => Some(a.cmp(b)),
            (EventVersion::Time(a), EventVersion::Time(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// A change of one record in a source system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The system that reported it (for example `lightspeed`).
    pub source: String,
    /// The kind of record (for example `sale`, `item`).
    pub entity: String,
    /// The record's id in the source.
    pub id: String,
    /// The record's version, when the event carries one.
    pub version: Option<EventVersion>,
}

impl ChangeEvent {
    /// An event without a version.
    pub fn new(
        source: impl Into<String>,
        entity: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        Self {
            source: source.into(),
            entity: entity.into(),
            id: id.into(),
            version: None,
        }
    }
    /// With a version number.
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = Some(EventVersion::Number(version));
        self
    }
    /// With a modification time.
    pub fn modified_at(mut self, at: DateTime<Utc>) -> Self {
        self.version = Some(EventVersion::Time(at));
        self
    }
}

/// A flow that can also run for given records only.
#[async_trait]
pub trait TargetedFlow: Flow {
    /// Runs the flow for just these records (ids as the events name them), through the same code
    /// paths as a full run. Must not stage the cursor: a targeted run does not read in order.
    async fn run_for(&self, ctx: &mut RunContext, ids: &[String]) -> Result<(), FlowError>;

    /// Whether the flow's stored cursor (as stored, usually JSON) already covers this event, so a
    /// run read and applied it (or kept it for retry). Default: never.
    fn covers(&self, cursor: &str, event: &ChangeEvent) -> bool {
        let _ = (cursor, event);
        false
    }

    /// Whether every polling run reads every record anyway. Then records the trigger gives up on
    /// are only logged; otherwise they are also put on the retry list, which the next polling run
    /// re-reads. Default `false`.
    fn polls_everything(&self) -> bool {
        false
    }
}

/// Settings of a [`Trigger`].
#[derive(Debug, Clone)]
pub struct TriggerOptions {
    /// Quiet time after the last event before a run starts (a burst becomes one run).
    pub debounce: Duration,
    /// Longest wait after the first waiting event, however busy the stream.
    pub max_delay: Duration,
    /// Records that may wait at once; past that, events collapse into one full run.
    pub capacity: usize,
    /// Records per targeted run (the rest wait for the next one).
    pub batch_size: usize,
    /// Attempts per run before the records are left to the next polling run.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one, at most [`Self::max_backoff`].
    pub backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// How often to look again while another run holds the run lock.
    pub lock_wait: Duration,
    /// How many applied record versions are remembered to refuse late duplicates.
    pub remember: usize,
}

impl Default for TriggerOptions {
    fn default() -> Self {
        Self {
            debounce: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            capacity: 1000,
            batch_size: 100,
            max_attempts: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            lock_wait: Duration::from_secs(1),
            remember: 10_000,
        }
    }
}

/// The wait before retry number `retry` (1-based): [`TriggerOptions::backoff`] doubled for each
/// further retry, at most [`TriggerOptions::max_backoff`], without jitter (one store's runs do not
/// need spreading). The same `backon` schedule as `pos-http`'s request retries.
fn retry_delay(options: &TriggerOptions, retry: u32) -> Duration {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::new()
        .with_min_delay(options.backoff)
        .with_max_delay(options.max_backoff)
        .with_factor(2.0)
        .without_max_times()
        .build()
        .nth(retry.saturating_sub(1) as usize)
        .unwrap_or(options.max_backoff)
        .min(options.max_backoff)
}

/// What [`Trigger::submit`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Queued for a run.
    Queued,
    /// The record was already waiting; the newer version is kept.
    Merged,
    /// The same version was already waiting, running or applied.
    Duplicate,
    /// An older version than one already waiting, running or applied.
    Stale,
    /// The queue is full: the event is covered by a full run of the flow, which starts next.
    Collapsed,
    /// The trigger was shut down; the next polling run covers the event.
    Closed,
}

/// Counters of a trigger, for monitoring and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerStats {
    /// Events submitted.
    pub received: u64,
    /// Events queued (new records).
    pub queued: u64,
    /// Events merged into a waiting record.
    pub merged: u64,
    /// Duplicate or stale events dropped.
    pub dropped: u64,
    /// Events dropped because the stored cursor already covered them.
    pub covered: u64,
    /// Events that found the queue full (covered by a full run).
    pub collapsed: u64,
    /// Targeted runs made.
    pub targeted_runs: u64,
    /// Full runs made because the queue overflowed.
    pub full_runs: u64,
    /// Records sent to targeted runs.
    pub records_run: u64,
    /// Runs retried after a failure.
    pub retries: u64,
    /// Times a run waited for another run's lock.
    pub lock_waits: u64,
    /// Records left to the next polling run after the last attempt failed.
    pub given_up: u64,
}

/// A run the trigger made.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The records it ran for (empty for a full run).
    pub ids: Vec<String>,
    /// Whether it was a full run (the queue had overflowed).
    pub full: bool,
    /// The run's report.
    pub report: RunReport,
    /// Time from the oldest event the run covered to the end of the run.
    pub latency: Duration,
}

#[derive(Debug, Clone)]
struct Waiting {
    event: ChangeEvent,
    received: Instant,
}

#[derive(Default)]
struct Queue {
    pending: BTreeMap<String, Waiting>,
    in_flight: HashMap<String, Option<EventVersion>>,
    applied: HashMap<String, EventVersion>,
    applied_order: VecDeque<String>,
    full_run: Option<Instant>,
    last_event: Option<Instant>,
    busy: bool,
    closed: bool,
    stats: TriggerStats,
}

impl Queue {
    fn known(&self, id: &str) -> Option<EventVersion> {
        self.pending
            .get(id)
            .and_then(|w| w.event.version)
            .or_else(|| self.in_flight.get(id).copied().flatten())
            .or_else(|| self.applied.get(id).copied())
    }

    fn remember(&mut self, id: &str, version: Option<EventVersion>, limit: usize) {
        let Some(v) = version else { return };
        let newer = self
            .applied
            .get(id)
            .is_none_or(|old| v.compare(old) != Some(std::cmp::Ordering::Less));
        if !newer {
            return;
        }
        if self.applied.insert(id.to_owned(), v).is_none() {
            self.applied_order.push_back(id.to_owned());
        }
        while self.applied_order.len() > limit.max(1) {
            if let Some(old) = self.applied_order.pop_front() {
                self.applied.remove(&old);
            }
        }
    }

    fn is_idle(&self) -> bool {
        !self.busy && (self.closed || (self.pending.is_empty() && self.full_run.is_none()))
    }
}

struct Shared {
    flow: Arc<dyn TargetedFlow>,
    runner: Runner,
    scope: Scope,
    options: TriggerOptions,
    queue: Mutex<Queue>,
    wake: Notify,
    changed: watch::Sender<()>,
    applied: broadcast::Sender<Applied>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self) {
        self.queue().closed = true;
        self.changed.send_replace(());
        self.wake.notify_one();
    }
}

/// Closes the trigger when the last handle goes, so the worker ends after its run in progress
/// (aborting it mid-run would leave the run lock to lapse).
struct CloseOnDrop(Arc<Shared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Runs one flow for one tenant on change events. Cheap to clone; the worker stops after the run
/// in progress when the last clone is dropped or on [`Trigger::shutdown`].
#[derive(Clone)]
pub struct Trigger {
    shared: Arc<Shared>,
    _close: Arc<CloseOnDrop>,
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trigger")
            .field("scope", &self.shared.scope)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl Trigger {
    /// Starts the worker for `flow` and `tenant`, running through `runner` (use the runner of the
    /// scheduled polling runs, so they share its run lock). Needs a tokio runtime.
    pub fn start<F: TargetedFlow + 'static>(
        flow: Arc<F>,
        runner: Runner,
        tenant: &str,
        options: TriggerOptions,
    ) -> Self {
        let scope = Scope::new(flow.name(), tenant);
        let shared = Arc::new(Shared {
            flow,
            runner,
            scope,
            options,
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
            changed: watch::channel(()).0,
            applied: broadcast::channel(64).0,
        });
        tokio::spawn(work(Arc::clone(&shared)));
        Self {
            _close: Arc::new(CloseOnDrop(Arc::clone(&shared))),
            shared,
        }
    }

    /// The flow and tenant.
    pub fn scope(&self) -> &Scope {
        &self.shared.scope
    }

    /// Takes an event; never waits. See [`Accepted`] for the answers.
    pub fn submit(&self, event: ChangeEvent) -> Accepted {
        use std::cmp::Ordering::*;
        let answer = {
            let mut q = self.shared.queue();
            q.stats.received += 1;
            if q.closed {
                return Accepted::Closed;
            }
            let order = match (event.version, q.known(&event.id)) {
                (Some(new), Some(old)) => new.compare(&old),
                _ => None,
            };
            let waiting = q.pending.contains_key(&event.id);
            let answer = match order {
                Some(Equal) => Accepted::Duplicate,
                Some(Less) => Accepted::Stale,
                _ if waiting => Accepted::Merged,
                _ if q.full_run.is_some() => Accepted::Collapsed,
                _ if q.pending.len() >= self.shared.options.capacity => {
                    q.full_run = Some(Instant::now());
                    Accepted::Collapsed
                }
                _ => Accepted::Queued,
            };
            match answer {
                Accepted::Duplicate | Accepted::Stale => q.stats.dropped += 1,
                Accepted::Collapsed => q.stats.collapsed += 1,
                Accepted::Merged => {
                    q.stats.merged += 1;
                    if let Some(w) = q.pending.get_mut(&event.id)
                        && event.version.is_some()
                    {
                        w.event = event;
                    }
                }
                Accepted::Queued => {
                    q.stats.queued += 1;
                    q.pending.insert(
                        event.id.clone(),
                        Waiting {
                            event,
                            received: Instant::now(),
                        },
                    );
                }
                Accepted::Closed => {}
            }
            if matches!(
                answer,
                Accepted::Queued | Accepted::Merged | Accepted::Collapsed
            ) {
                q.last_event = Some(Instant::now());
            }
            answer
        };
        self.shared.changed.send_replace(());
        self.shared.wake.notify_one();
        answer
    }

    /// Asks for a full run of the flow, for a change that names no record (a deleted order, a
    /// re-read that failed); it covers whatever waits, after the usual debounce.
    pub fn poll_now(&self) {
        {
            let mut q = self.shared.queue();
            if q.closed {
                return;
            }
            let now = Instant::now();
            q.full_run.get_or_insert(now);
            q.last_event = Some(now);
        }
        self.shared.changed.send_replace(());
        self.shared.wake.notify_one();
    }

    /// The counters so far.
    pub fn stats(&self) -> TriggerStats {
        self.shared.queue().stats.clone()
    }

    /// Records waiting for a run.
    pub fn waiting(&self) -> usize {
        self.shared.queue().pending.len()
    }

    /// The runs made from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Applied> {
        self.shared.applied.subscribe()
    }

    /// Waits until nothing waits and no run is in progress (after a shutdown: until the run in
    /// progress ended).
    pub async fn idle(&self) {
        let mut rx = self.shared.changed.subscribe();
        loop {
            if self.shared.queue().is_idle() {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Stops taking events; the worker ends after the run in progress (a retry or a wait for the
    /// lock is not started). Waiting records are left to the next polling run.
    pub fn shutdown(&self) {
        self.shared.close();
    }
}

/// The flow as the runner sees it: a targeted run (ids) or a full run (none).
struct Job<'a> {
    flow: &'a dyn TargetedFlow,
    ids: Option<Vec<String>>,
}

#[async_trait]
impl Flow for Job<'_> {
    fn name(&self) -> &str {
        self.flow.name()
    }
    fn requests_made(&self) -> Option<u64> {
        self.flow.requests_made()
    }
    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        match &self.ids {
            Some(ids) => self.flow.run_for(ctx, ids).await,
            None => self.flow.run(ctx).await,
        }
    }
}

enum Batch {
    Full(Instant),
    Records(Vec<Waiting>),
}

async fn work(shared: Arc<Shared>) {
    loop {
        // Wait for events.
        loop {
            let wake = shared.wake.notified();
            {
                let q = shared.queue();
                if q.closed {
                    return;
                }
                if !q.pending.is_empty() || q.full_run.is_some() {
                    break;
                }
            }
            wake.await;
        }
        // Debounce: a quiet window after the last event, at most `max_delay` after the first.
        loop {
            let wake = shared.wake.notified();
            let deadline = {
                let q = shared.queue();
                if q.closed {
                    return;
                }
                let first = q
                    .pending
                    .values()
                    .map(|w| w.received)
                    .chain(q.full_run)
                    .min();
                let last = q.last_event;
                match (first, last) {
                    (Some(f), Some(l)) => {
                        (l + shared.options.debounce).min(f + shared.options.max_delay)
                    }
                    _ => Instant::now(),
                }
            };
            if Instant::now() >= deadline {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = wake => {}
            }
        }
        let batch = {
            let mut q = shared.queue();
            q.busy = true;
            if let Some(since) = q.full_run.take() {
                // A full run covers everything waiting.
                let waited = std::mem::take(&mut q.pending);
                let oldest = waited.values().map(|w| w.received).min();
                for (id, w) in waited {
                    q.in_flight.insert(id, w.event.version);
                }
                Batch::Full(oldest.map_or(since, |o| o.min(since)))
            } else {
                let mut taken: Vec<Waiting> = q.pending.values().cloned().collect();
                taken.sort_by_key(|w| w.received);
                taken.truncate(shared.options.batch_size.max(1));
                for w in &taken {
                    q.pending.remove(&w.event.id);
                    q.in_flight.insert(w.event.id.clone(), w.event.version);
                }
                Batch::Records(taken)
            }
        };
        run_batch(&shared, batch).await;
        {
            let mut q = shared.queue();
            let done: Vec<(String, Option<EventVersion>)> = q.in_flight.drain().collect();
            let limit = shared.options.remember;
            for (id, v) in done {
                q.remember(&id, v, limit);
            }
            q.busy = false;
        }
        shared.changed.send_replace(());
    }
}

/// Runs one batch to the end: waits for the lock, retries failures, gives up after the last attempt.
async fn run_batch(shared: &Shared, batch: Batch) {
    let mut attempt: u32 = 0;
    let mut batch = batch;
    loop {
        if shared.queue().closed {
            // Closed while waiting: the next polling run covers what is left.
            return;
        }
        // Drop what the stored cursor already covers (checked again after every wait).
        if let Batch::Records(records) = &mut batch {
            let cursor = match shared.runner.store().load_cursor(&shared.scope).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(scope = %shared.scope, error = %e, "could not read the cursor");
                    None
                }
            };
            if let Some(cursor) = cursor {
                let before = records.len();
                records.retain(|w| !shared.flow.covers(&cursor, &w.event));
                let covered = (before - records.len()) as u64;
                if covered > 0 {
                    shared.queue().stats.covered += covered;
                }
            }
            if records.is_empty() {
                return;
            }
        }
        let (ids, since) = match &batch {
            Batch::Full(since) => (None, *since),
            Batch::Records(r) => (
                Some(r.iter().map(|w| w.event.id.clone()).collect::<Vec<_>>()),
                r.iter()
                    .map(|w| w.received)
                    .min()
                    .unwrap_or_else(Instant::now),
            ),
        };
        let job = Job {
            flow: &*shared.flow,
            ids: ids.clone(),
        };
        let result = shared.runner.run_once(&job, &shared.scope.tenant).await;
        let failure: Option<(String, Vec<String>)> = match result {
            Err(RunError::AlreadyRunning(_)) => {
                shared.queue().stats.lock_waits += 1;
                tokio::time::sleep(shared.options.lock_wait).await;
                continue;
            }
            Err(e) => Some((e.to_string(), ids.clone().unwrap_or_default())),
            Ok(report) => {
                {
                    let mut q = shared.queue();
                    match &ids {
                        Some(ids) => {
                            q.stats.targeted_runs += 1;
                            q.stats.records_run += ids.len() as u64;
                        }
                        None => q.stats.full_runs += 1,
                    }
                }
                let failed = match &report.status {
                    RunStatus::Failed { error } => {
                        Some((error.clone(), ids.clone().unwrap_or_default()))
                    }
                    _ => {
                        let failed: Vec<String> = report
                            .failed
                            .iter()
                            .map(|n| n.source_id.clone())
                            .filter(|id| ids.as_ref().is_some_and(|ids| ids.contains(id)))
                            .collect();
                        let reason = report
                            .failed
                            .first()
                            .map(|n| n.reason.clone())
                            .unwrap_or_default();
                        (!failed.is_empty()).then_some((reason, failed))
                    }
                };
                let _ = shared.applied.send(Applied {
                    ids: ids.clone().unwrap_or_default(),
                    full: ids.is_none(),
                    report,
                    latency: since.elapsed(),
                });
                failed
            }
        };
        let Some((reason, failed_ids)) = failure else {
            return;
        };
        attempt += 1;
        if attempt >= shared.options.max_attempts.max(1) {
            give_up(shared, &reason, &failed_ids, attempt).await;
            return;
        }
        shared.queue().stats.retries += 1;
        let wait = retry_delay(&shared.options, attempt);
        tracing::warn!(scope = %shared.scope, attempt, error = %reason, ?wait, "a triggered run failed; retrying");
        tokio::time::sleep(wait).await;
        if let Batch::Records(records) = &mut batch {
            records.retain(|w| failed_ids.contains(&w.event.id));
        }
    }
}

/// Leaves records to the next polling run: on the retry list (unless polling reads everything)
/// and in the activity log.
async fn give_up(shared: &Shared, reason: &str, ids: &[String], attempts: u32) {
    let store = shared.runner.store();
    let now = Utc::now();
    let message = format!(
        "not applied by a triggered run after {attempts} attempts ({reason}); left to the next polling run"
    );
    tracing::error!(scope = %shared.scope, records = ids.len(), error = %reason, "triggered run gave up");
    let entries: Vec<ActivityEntry> = if ids.is_empty() {
        vec![entry(shared, now, None, &message)]
    } else {
        ids.iter()
            .map(|id| entry(shared, now, Some(id.clone()), &message))
            .collect()
    };
    if let Err(e) = store.append_activity(&entries).await {
        tracing::error!(scope = %shared.scope, error = %e, "could not log the records given up on");
    }
    if !shared.flow.polls_everything() {
        for id in ids {
            if let Err(e) = store.record_failure(&shared.scope, id, reason, now).await {
                tracing::error!(scope = %shared.scope, error = %e, "could not keep a record for retry");
            }
        }
    }
    shared.queue().stats.given_up += ids.len().max(1) as u64;
}

fn entry(shared: &Shared, at: DateTime<Utc>, id: Option<String>, message: &str) -> ActivityEntry {
    ActivityEntry {
        run_id: format!("trigger-{}", at.format("%Y%m%dT%H%M%S%.6fZ")),
        flow: shared.scope.flow.clone(),
        tenant: shared.scope.tenant.clone(),
        at,
        outcome: id.as_ref().map(|_| Outcome::Failed),
        source_id: id,
        key: None,
        key_digest: None,
        message: Some(message.to_owned()),
        source: None,
        sent: None,
        answer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::ActivityQuery;
    use crate::state::{MemoryStore, StateStore};
    use crate::upsert::RecordOutcome;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Records its runs; fails the first `fail` runs; fails records named `bad-*`.
    #[derive(Default)]
    struct Fake {
        runs: Mutex<Vec<Option<Vec<String>>>>,
        fail: AtomicU32,
        hold: Option<Arc<tokio::sync::Semaphore>>,
    }

    impl Fake {
        fn runs(&self) -> Vec<Option<Vec<String>>> {
            self.runs.lock().unwrap().clone()
        }
        async fn step(
            &self,
            ctx: &mut RunContext,
            ids: Option<&[String]>,
        ) -> Result<(), FlowError> {
            self.runs.lock().unwrap().push(ids.map(<[String]>::to_vec));
            if let Some(h) = &self.hold {
                let _permit = h.acquire().await;
            }
            if self
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err("the target is down".into());
            }
            let outcomes: Vec<RecordOutcome> = ids
                .unwrap_or_default()
                .iter()
                .map(|id| {
                    if id.starts_with("bad-") {
                        RecordOutcome::failed(id.clone(), "refused")
                    } else {
                        RecordOutcome::new(id.clone(), Outcome::Created)
                    }
                })
                .collect();
            ctx.record(&outcomes).await?;
            Ok(())
        }
    }

    #[async_trait]
    impl Flow for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
            self.step(ctx, None).await?;
            ctx.stage_cursor(&100i64)?;
            Ok(())
        }
    }

    #[async_trait]
    impl TargetedFlow for Fake {
        async fn run_for(&self, ctx: &mut RunContext, ids: &[String]) -> Result<(), FlowError> {
            self.step(ctx, Some(ids)).await
        }
        fn covers(&self, cursor: &str, event: &ChangeEvent) -> bool {
            match (cursor.parse::<i64>(), event.version) {
                (Ok(c), Some(EventVersion::Number(v))) => v <= c,
                _ => false,
            }
        }
    }

    fn ev(id: &str, v: i64) -> ChangeEvent {
        ChangeEvent::new("test", "sale", id).with_version(v)
    }

    fn opts() -> TriggerOptions {
        TriggerOptions {
            debounce: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            capacity: 100,
            backoff: Duration::from_secs(1),
            ..TriggerOptions::default()
        }
    }

    fn start(
        fake: Fake,
        options: TriggerOptions,
    ) -> (Arc<Fake>, Arc<dyn StateStore>, Runner, Trigger) {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let runner = Runner::new(store.clone());
        let fake = Arc::new(fake);
        let trigger = Trigger::start(fake.clone(), runner.clone(), "t", options);
        (fake, store, runner, trigger)
    }

    fn ids(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[tokio::test(start_paused = true)]
    async fn duplicates_and_out_of_order_events_run_once() {
        let (fake, _, _, trigger) = start(Fake::default(), opts());
        assert_eq!(trigger.submit(ev("a", 5)), Accepted::Queued);
        assert_eq!(trigger.submit(ev("a", 5)), Accepted::Duplicate);
        assert_eq!(trigger.submit(ev("a", 7)), Accepted::Merged);
        assert_eq!(trigger.submit(ev("a", 6)), Accepted::Stale);
        trigger.idle().await;
        assert_eq!(fake.runs(), vec![ids(&["a"])]);
        // Late deliveries of applied versions change nothing.
        assert_eq!(trigger.submit(ev("a", 7)), Accepted::Duplicate);
        assert_eq!(trigger.submit(ev("a", 5)), Accepted::Stale);
        trigger.idle().await;
        assert_eq!(fake.runs().len(), 1);
        // A newer version runs again.
        assert_eq!(trigger.submit(ev("a", 8)), Accepted::Queued);
        trigger.idle().await;
        assert_eq!(fake.runs().len(), 2);
        let s = trigger.stats();
        assert_eq!((s.received, s.queued, s.merged, s.dropped), (7, 2, 1, 4));
        assert_eq!((s.targeted_runs, s.records_run), (2, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_debounced_into_one_run() {
        let (fake, _, _, trigger) = start(Fake::default(), opts());
        let t0 = Instant::now();
        let mut applied = trigger.subscribe();
        for i in 0..5 {
            trigger.submit(ev(&format!("s{i}"), i));
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(fake.runs().is_empty(), "still within the quiet window");
        }
        trigger.idle().await;
        assert_eq!(fake.runs(), vec![ids(&["s0", "s1", "s2", "s3", "s4"])]);
        let a = applied.recv().await.unwrap();
        assert_eq!(a.report.created, 5);
        // Last event at 400 ms, then 200 ms quiet: the oldest event waited 600 ms.
        assert_eq!(a.latency, Duration::from_millis(600));
        assert_eq!(t0.elapsed(), Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_still_runs_within_max_delay() {
        let (fake, _, _, trigger) = start(Fake::default(), opts());
        let mut applied = trigger.subscribe();
        for i in 0..30 {
            trigger.submit(ev(&format!("s{i}"), i));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Events every 100 ms never leave 200 ms of quiet; max_delay (2 s) still runs them.
        let first = applied.recv().await.unwrap();
        assert_eq!(first.latency, Duration::from_secs(2));
        assert!((20..=21).contains(&first.ids.len()), "{first:?}");
        trigger.idle().await;
        let total: usize = fake.runs().iter().flatten().map(Vec::len).sum();
        assert_eq!(total, 30);
        assert_eq!(fake.runs().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn events_the_cursor_covers_are_not_applied_again() {
        let (fake, store, _, trigger) = start(Fake::default(), opts());
        store
            .save_cursor(&Scope::new("fake", "t"), "10")
            .await
            .unwrap();
        trigger.submit(ev("old", 9));
        trigger.submit(ev("edge", 10));
        trigger.submit(ev("new", 11));
        trigger.idle().await;
        assert_eq!(fake.runs(), vec![ids(&["new"])]);
        assert_eq!(trigger.stats().covered, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn events_wait_for_a_run_holding_the_lock_then_skip_what_it_covered() {
        let hold = Arc::new(tokio::sync::Semaphore::new(0));
        let (fake, _, runner, trigger) = start(
            Fake {
                hold: Some(hold.clone()),
                ..Fake::default()
            },
            opts(),
        );
        // A polling run starts and holds the lock.
        let polling = {
            let (fake, runner) = (fake.clone(), runner.clone());
            tokio::spawn(async move { runner.run_once(&*fake, "t").await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        trigger.submit(ev("covered", 50));
        trigger.submit(ev("later", 150));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            fake.runs(),
            vec![None],
            "no targeted run beside the polling run"
        );
        assert!(trigger.stats().lock_waits >= 2);
        hold.add_permits(10);
        assert!(polling.await.unwrap().is_success());
        trigger.idle().await;
        // The polling run stored cursor 100: event 50 is covered, 150 is not.
        assert_eq!(fake.runs(), vec![None, ids(&["later"])]);
        assert_eq!(trigger.stats().covered, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_collapses_into_a_full_run_and_nothing_is_lost() {
        let options = TriggerOptions {
            capacity: 3,
            ..opts()
        };
        let (fake, _, _, trigger) = start(Fake::default(), options);
        let answers: Vec<Accepted> = (0..10)
            .map(|i| trigger.submit(ev(&format!("f{i}"), i)))
            .collect();
        assert_eq!(&answers[..3], &[Accepted::Queued; 3]);
        assert!(answers[3..].iter().all(|a| *a == Accepted::Collapsed));
        assert!(trigger.waiting() <= 3, "bounded");
        trigger.idle().await;
        // One full run covers the queued records and the ones that found the queue full.
        assert_eq!(fake.runs(), vec![None]);
        let s = trigger.stats();
        assert_eq!((s.full_runs, s.collapsed, s.targeted_runs), (1, 7, 0));
        // Afterwards events queue normally again.
        assert_eq!(trigger.submit(ev("g", 101)), Accepted::Queued);
        trigger.idle().await;
        assert_eq!(fake.runs(), vec![None, ids(&["g"])]);
    }

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let options = TriggerOptions {
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(5),
            ..TriggerOptions::default()
        };
        let delays: Vec<_> = (1..=4).map(|n| retry_delay(&options, n)).collect();
        let secs = |s| Duration::from_secs(s);
        assert_eq!(delays, vec![secs(2), secs(4), secs(5), secs(5)]);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_runs_are_retried_with_backoff() {
        let fake = Fake::default();
        fake.fail.store(2, Ordering::SeqCst);
        let (fake, _, _, trigger) = start(fake, opts());
        let t0 = Instant::now();
        trigger.submit(ev("a", 1));
        trigger.idle().await;
        assert_eq!(fake.runs(), vec![ids(&["a"]); 3]);
        // 200 ms debounce, then 1 s and 2 s of backoff.
        assert_eq!(t0.elapsed(), Duration::from_millis(3200));
        let s = trigger.stats();
        assert_eq!((s.retries, s.given_up), (2, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_last_attempt_records_are_left_to_polling_and_logged() {
        let fake = Fake::default();
        fake.fail.store(1, Ordering::SeqCst);
        let (fake, store, _, trigger) = start(fake, opts());
        trigger.submit(ev("ok", 1));
        trigger.submit(ev("bad-1", 1));
        trigger.idle().await;
        // Run 1 fails as a whole; run 2 applies `ok` and fails `bad-1`; run 3 only retries `bad-1`.
        assert_eq!(
            fake.runs(),
            vec![
                ids(&["bad-1", "ok"]),
                ids(&["bad-1", "ok"]),
                ids(&["bad-1"])
            ]
        );
        assert_eq!(trigger.stats().given_up, 1);
        let retries = store.retries(&Scope::new("fake", "t")).await.unwrap();
        assert_eq!(retries.len(), 1);
        assert_eq!(retries[0].source_id, "bad-1");
        let log = store
            .query_activity(&ActivityQuery::default())
            .await
            .unwrap();
        assert!(log.iter().any(|e| {
            e.source_id.as_deref() == Some("bad-1")
                && e.message
                    .as_deref()
                    .is_some_and(|m| m.contains("left to the next polling run"))
        }));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_refuses_new_events() {
        let (fake, _, _, trigger) = start(Fake::default(), opts());
        trigger.shutdown();
        assert_eq!(trigger.submit(ev("a", 1)), Accepted::Closed);
        trigger.idle().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(fake.runs().is_empty());
    }
}
