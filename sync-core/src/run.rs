//! Runs: a flow run once or on a schedule, with a report, a run lock, retries and notifications.
//!
//! A [`Flow`] reads its source and writes its target through a [`RunContext`], which plans and
//! applies upserts, logs every record, keeps failed records for the next run, and stages the
//! cursor. The [`Runner`] commits the staged cursor only after the flow returned successfully,
//! so a cursor never moves past records that were not applied (failed records are in the retry
//! list instead). A dry run plans without writing anything: no target writes, no state changes.
//!
//! ```
//! use std::sync::Arc;
//! use sync_core::run::{Flow, FlowError, RunContext, Runner};
//! use sync_core::state::MemoryStore;
//!
//! struct Hello;
//! #[async_trait::async_trait]
//! impl Flow for Hello {
//!     fn name(&self) -> &str { "hello" }
//!     async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
//!         ctx.stage_cursor(&42u64)?;
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let runner = Runner::new(Arc::new(MemoryStore::new()));
//! let report = runner.run_once(&Hello, "tenant-1").await.unwrap();
//! assert!(report.is_success());
//! # });
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Serialize, de::DeserializeOwned};

use crate::log::{ActivityEntry, Redaction};
pub use crate::report::{RecordNote, RunReport, RunStatus};
use crate::scope::Scope;
use crate::state::{RetryItem, StateError, StateStore};
use crate::upsert::{
    ActionKind, Outcome, Planner, RecordOutcome, SourceRecord, Target, apply, plan_against,
};

/// The error a flow returns: anything that is an error.
pub type FlowError = Box<dyn std::error::Error + Send + Sync>;

/// A sync flow: reads a source and writes a target, through a [`RunContext`].
///
/// Flows must be idempotent: running twice on the same input writes nothing the second time
/// (the upsert planner gives that for free).
#[async_trait]
pub trait Flow: Send + Sync {
    /// The flow's name (part of the state scope, so keep it stable).
    fn name(&self) -> &str;

    /// Total requests the flow's clients made so far, if it can tell (the report shows the difference).
    fn requests_made(&self) -> Option<u64> {
        None
    }

    /// Runs once.
    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError>;
}

/// What a flow uses during a run.
pub struct RunContext {
    scope: Scope,
    dry_run: bool,
    store: Arc<dyn StateStore>,
    redaction: Redaction,
    retries: Vec<RetryItem>,
    pending: BTreeSet<String>,
    staged_cursor: Option<String>,
    report: RunReport,
    extra_requests: u64,
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("scope", &self.scope)
            .field("run_id", &self.report.run_id)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

impl RunContext {
    /// A context for a run (the [`Runner`] makes these; use this to drive a flow by hand or in tests).
    pub fn new(
        run_id: &str,
        scope: Scope,
        store: Arc<dyn StateStore>,
        redaction: Redaction,
        dry_run: bool,
    ) -> Self {
        let report = RunReport::empty(run_id, &scope, Utc::now(), dry_run);
        Self {
            scope,
            dry_run,
            store,
            redaction,
            retries: Vec::new(),
            pending: BTreeSet::new(),
            staged_cursor: None,
            report,
            extra_requests: 0,
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.report.run_id
    }
    /// The flow and tenant.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.scope.tenant
    }
    /// Whether this is a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
    /// The state store.
    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }
    /// The report so far.
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    /// Records that failed in earlier runs: re-read these from the source along with the new ones.
    pub fn retries(&self) -> &[RetryItem] {
        &self.retries
    }

    /// Loads the records kept for retry from the store (the [`Runner`] does this before a run).
    pub async fn load_retries(&mut self) -> Result<(), StateError> {
        self.retries = self.store.retries(&self.scope).await?;
        self.pending = self.retries.iter().map(|r| r.source_id.clone()).collect();
        Ok(())
    }

    /// Gives up on a record kept for retry (for example: it was deleted in the source).
    pub async fn drop_retry(&mut self, source_id: &str) -> Result<(), StateError> {
        if !self.dry_run {
            self.store.clear_retry(&self.scope, source_id).await?;
        }
        self.pending.remove(source_id);
        Ok(())
    }

    /// The stored cursor of this flow and tenant, decoded from JSON.
    pub async fn cursor<C: DeserializeOwned>(&self) -> Result<Option<C>, StateError> {
        crate::state::load_cursor_as(&*self.store, &self.scope).await
    }

    /// Stages the cursor to store when the run completes; call it after the records it covers
    /// were applied. Never stored in a dry run or when the flow fails.
    pub fn stage_cursor<C: Serialize>(&mut self, cursor: &C) -> Result<(), StateError> {
        self.staged_cursor = Some(serde_json::to_string(cursor)?);
        Ok(())
    }

    /// Adds requests the runner cannot see through [`Flow::requests_made`].
    pub fn add_requests(&mut self, n: u64) {
        self.extra_requests = self.extra_requests.saturating_add(n);
    }

    /// Looks the records up in the target in bulk, plans, and (unless dry run) applies and records
    /// the outcomes. In a dry run the plan goes into the report and no outcome is returned.
    pub async fn upsert<R, T>(
        &mut self,
        planner: &Planner,
        records: Vec<R>,
        target: &T,
    ) -> Result<Vec<RecordOutcome>, FlowError>
    where
        R: SourceRecord,
        T: Target<R> + ?Sized,
    {
        let plan = plan_against(planner, records, target).await?;
        if self.dry_run {
            // The summary is in entry order.
            for (change, entry) in plan.summary().into_iter().zip(&plan.entries) {
                let personal = entry.key.as_ref().is_some_and(crate::key::Key::is_personal);
                let note = |reason: &Option<String>| RecordNote {
                    source_id: change.source_id.clone(),
                    key: if personal && !self.redaction.includes_personal() {
                        None
                    } else {
                        change.key.clone()
                    },
                    reason: reason.clone().unwrap_or_default(),
                };
                match change.action {
                    ActionKind::Create => self.report.created += 1,
                    ActionKind::Update => self.report.updated += 1,
                    ActionKind::Unchanged => self.report.unchanged += 1,
                    ActionKind::Skip => self.report.skipped.push(note(&change.reason)),
                    ActionKind::Error => self.report.failed.push(note(&change.reason)),
                }
                self.report.planned.push(change);
            }
            return Ok(Vec::new());
        }
        let outcomes = apply(plan, target).await;
        self.record(&outcomes).await?;
        Ok(outcomes)
    }

    /// Records outcomes of writes the flow made itself: counts them, logs them, keeps failures
    /// for retry and clears retries that succeeded. (Only counts, in a dry run.)
    pub async fn record(&mut self, outcomes: &[RecordOutcome]) -> Result<(), StateError> {
        let now = Utc::now();
        if !self.dry_run {
            let entries: Vec<ActivityEntry> = outcomes
                .iter()
                .map(|o| {
                    self.redaction.entry(
                        &self.report.run_id,
                        &self.scope.flow,
                        &self.scope.tenant,
                        now,
                        o,
                    )
                })
                .collect();
            self.store.append_activity(&entries).await?;
        }
        for o in outcomes {
            let note = || {
                let reason = self
                    .redaction
                    .redact_text(o.reason.as_deref().unwrap_or_default());
                RecordNote {
                    source_id: o.source_id.clone(),
                    key: o.key.as_ref().and_then(|k| {
                        (!k.personal || self.redaction.includes_personal()).then(|| k.text.clone())
                    }),
                    reason,
                }
            };
            match o.outcome {
                Outcome::Created => self.report.created += 1,
                Outcome::Updated => self.report.updated += 1,
                Outcome::Unchanged => self.report.unchanged += 1,
                Outcome::Skipped => self.report.skipped.push(note()),
                Outcome::Failed => {
                    let n = note();
                    if !self.dry_run {
                        self.store
                            .record_failure(&self.scope, &o.source_id, &n.reason, now)
                            .await?;
                    }
                    self.report.failed.push(n);
                    continue;
                }
            }
            if self.pending.remove(&o.source_id) && !self.dry_run {
                self.store.clear_retry(&self.scope, &o.source_id).await?;
            }
        }
        Ok(())
    }

    /// Stores source-id -> target-id links for the records that exist in the target now.
    pub async fn save_links(
        &self,
        namespace: &str,
        outcomes: &[RecordOutcome],
    ) -> Result<(), StateError> {
        if self.dry_run {
            return Ok(());
        }
        for o in outcomes {
            if let (Some(t), false) = (&o.target_id, o.outcome == Outcome::Failed) {
                self.store
                    .save_link(&self.scope.tenant, namespace, &o.source_id, t)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Why a run did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Another run of the same flow and tenant is in progress.
    #[error("a run of {0} is already in progress")]
    AlreadyRunning(Scope),
    /// The state store failed before the run could start or be recorded.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Called when a run fails or records fail.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Receives the report of a run that failed or had failed records.
    async fn notify(&self, report: &RunReport);
}

#[async_trait]
impl<F> Notifier for F
where
    F: Fn(&RunReport) + Send + Sync,
{
    async fn notify(&self, report: &RunReport) {
        self(report)
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn unique_id(prefix: &str, at: DateTime<Utc>) -> String {
    format!(
        "{prefix}{}-{}-{}",
        at.format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs flows: once, as a dry run, or on a schedule.
#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn StateStore>,
    redaction: Redaction,
    retention: Option<Duration>,
    notifier: Option<Arc<dyn Notifier>>,
    lock_ttl: Duration,
    holder: String,
    active: Arc<Mutex<HashSet<Scope>>>,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("store", &self.store)
            .field("retention", &self.retention)
            .field("lock_ttl", &self.lock_ttl)
            .finish_non_exhaustive()
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn lock_until(ttl: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(ttl)
        .ok()
        .and_then(|ttl| Utc::now().checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

struct ActiveGuard {
    active: Arc<Mutex<HashSet<Scope>>>,
    scope: Scope,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.scope);
    }
}

impl Runner {
    /// A runner over a state store: personal data redacted, activity kept 30 days, run locks
    /// that lapse 15 minutes after a process dies. Runs need a tokio runtime.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self {
            store,
            redaction: Redaction::default(),
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
            notifier: None,
            lock_ttl: Duration::from_secs(15 * 60),
            holder: unique_id("runner-", Utc::now()),
            active: Arc::new(Mutex::new(HashSet::new())),
        }
    }
    /// Sets what the activity log and reports redact.
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }
    /// Sets how long activity entries are kept (`None`: forever). Pruned after each run.
    pub fn retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self
    }
    /// Sets the hook called when a run fails or records fail.
    pub fn notifier(mut self, notifier: impl Notifier + 'static) -> Self {
        self.notifier = Some(Arc::new(notifier));
        self
    }
    /// Sets how long a run lock outlives a process that died mid-run (a live run renews it).
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }
    /// The state store.
    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    /// Runs a flow once for a tenant.
    pub async fn run_once(&self, flow: &dyn Flow, tenant: &str) -> Result<RunReport, RunError> {
        self.run(flow, tenant, false).await
    }

    /// Plans a run without writing anything; the report holds the plan.
    pub async fn dry_run(&self, flow: &dyn Flow, tenant: &str) -> Result<RunReport, RunError> {
        self.run(flow, tenant, true).await
    }

    async fn run(
        &self,
        flow: &dyn Flow,
        tenant: &str,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let scope = Scope::new(flow.name(), tenant);
        let _guard = {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            if !active.insert(scope.clone()) {
                return Err(RunError::AlreadyRunning(scope));
            }
            ActiveGuard {
                active: Arc::clone(&self.active),
                scope: scope.clone(),
            }
        };
        let mut renewal = None;
        if !dry_run {
            if !self
                .store
                .try_lock(&scope, &self.holder, lock_until(self.lock_ttl))
                .await?
            {
                return Err(RunError::AlreadyRunning(scope));
            }
            renewal = Some(self.renew_lock(scope.clone()));
        }
        let result = self.run_locked(flow, &scope, dry_run).await;
        drop(renewal);
        if !dry_run {
            let unlocked = self.store.unlock(&scope, &self.holder).await;
            if let (Ok(_), Err(e)) = (&result, unlocked) {
                tracing::warn!(scope = %scope, error = %e, "could not release the run lock");
            }
        }
        let report = result?;
        if let Some(n) = &self.notifier
            && !report.is_success()
        {
            n.notify(&report).await;
        }
        Ok(report)
    }

    /// Keeps the store lock alive while the run lasts (renewed every third of its time to live).
    fn renew_lock(&self, scope: Scope) -> AbortOnDrop {
        let (store, holder, ttl) = (Arc::clone(&self.store), self.holder.clone(), self.lock_ttl);
        let every = (ttl / 3).max(Duration::from_millis(100));
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.try_lock(&scope, &holder, lock_until(ttl)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(scope = %scope, "the run lock was taken over");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(scope = %scope, error = %e, "could not renew the run lock")
                    }
                }
            }
        }))
    }

    async fn run_locked(
        &self,
        flow: &dyn Flow,
        scope: &Scope,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let started = std::time::Instant::now();
        let run_id = unique_id("run-", Utc::now());
        let mut ctx = RunContext::new(
            &run_id,
            scope.clone(),
            Arc::clone(&self.store),
            self.redaction.clone(),
            dry_run,
        );
        ctx.load_retries().await?;
        let requests_before = flow.requests_made();
        tracing::info!(scope = %scope, run_id = %run_id, dry_run, "run started");

        let outcome = flow.run(&mut ctx).await;
        let mut status = match outcome {
            Ok(()) => RunStatus::Succeeded,
            Err(e) => RunStatus::Failed {
                error: self.redaction.redact_text(&e.to_string()),
            },
        };
        if status == RunStatus::Succeeded
            && !dry_run
            && let Some(c) = ctx.staged_cursor.take()
        {
            // Stored only while this runner still holds the run lock, so a run that lost it to
            // another worker cannot move the cursor back or past what that worker applies.
            match self.store.save_cursor_locked(scope, &self.holder, &c).await {
                Ok(true) => {}
                Ok(false) => {
                    status = RunStatus::Failed {
                        error: "the run lock was taken over by another runner; the cursor was not stored"
                            .into(),
                    };
                }
                Err(e) => {
                    status = RunStatus::Failed {
                        error: format!("could not store the cursor: {e}"),
                    };
                }
            }
        }

        let mut report = ctx.report;
        let flow_requests = match (requests_before, flow.requests_made()) {
            (Some(b), Some(a)) => a.saturating_sub(b),
            _ => 0,
        };
        report.requests = flow_requests.saturating_add(ctx.extra_requests);
        report.status = status;
        report.finished_at = Some(Utc::now());
        report.duration = started.elapsed();
        tracing::info!(
            scope = %scope, run_id = %run_id, created = report.created, updated = report.updated,
            unchanged = report.unchanged, skipped = report.skipped.len(), failed = report.failed.len(),
            requests = report.requests, "run finished"
        );

        if !dry_run {
            if let RunStatus::Failed { error } = &report.status {
                let entry = ActivityEntry {
                    run_id: run_id.clone(),
                    flow: scope.flow.clone(),
                    tenant: scope.tenant.clone(),
                    at: Utc::now(),
                    source_id: None,
                    key: None,
                    key_digest: None,
                    outcome: None,
                    message: Some(error.clone()),
                    source: None,
                    sent: None,
                    answer: None,
                };
                self.store.append_activity(&[entry]).await?;
            }
            self.store.record_run(&report).await?;
            if let Some(keep) = self.retention {
                let keep = TimeDelta::from_std(keep).unwrap_or(TimeDelta::MAX);
                if let Some(before) = Utc::now().checked_sub_signed(keep) {
                    self.store.prune_activity(before).await?;
                }
            }
        }
        Ok(report)
    }

    /// Runs a flow on a schedule until `shutdown` completes. A run that finds the previous one
    /// still going is skipped; reports go to the run history and, on failure, the notifier.
    pub async fn run_scheduled(
        &self,
        flow: &dyn Flow,
        tenant: &str,
        schedule: &Schedule,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RunError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut last = Utc::now();
        loop {
            let Some(next) = schedule.next_after(last) else {
                return Ok(());
            };
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
            match self.run_once(flow, tenant).await {
                Ok(_) => {}
                Err(RunError::AlreadyRunning(s)) => {
                    tracing::warn!(scope = %s, "previous run still in progress; skipped");
                }
                Err(e) => tracing::error!(error = %e, "scheduled run could not run"),
            }
            // A run that overran skips the slots it missed instead of running back to back.
            last = next.max(Utc::now());
        }
    }
}

/// When scheduled runs happen.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression in a time zone.
    Cron {
        /// The parsed expression.
        schedule: Box<cron::Schedule>,
        /// The zone it is read in.
        zone: chrono_tz::Tz,
    },
    /// A fixed interval.
    Every(Duration),
}

/// A schedule that could not be built.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid schedule: {0}")]
pub struct ScheduleError(String);

impl Schedule {
    /// Every hour at this minute (for example 2: 00:02, 01:02, ...).
    pub fn hourly_at(minute: u32) -> Result<Self, ScheduleError> {
        if minute > 59 {
            return Err(ScheduleError(format!("minute {minute} is not 0-59")));
        }
        Self::cron(&format!("{minute} * * * *"), chrono_tz::UTC)
    }

    /// Every day at this local time in a zone.
    pub fn daily_at(hour: u32, minute: u32, zone: chrono_tz::Tz) -> Result<Self, ScheduleError> {
        if hour > 23 || minute > 59 {
            return Err(ScheduleError(format!(
                "{hour}:{minute} is not a time of day"
            )));
        }
        Self::cron(&format!("{minute} {hour} * * *"), zone)
    }

    /// A cron expression: five fields (`min hour day month weekday`) or the `cron` crate's six or
    /// seven (with seconds first, and a year last), read in `zone`.
    pub fn cron(expr: &str, zone: chrono_tz::Tz) -> Result<Self, ScheduleError> {
        let fields = expr.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {expr}"),
            6 | 7 => expr.to_owned(),
            n => return Err(ScheduleError(format!("{n} fields; expected 5, 6 or 7"))),
        };
        let schedule: cron::Schedule = full
            .parse()
            .map_err(|e: cron::error::Error| ScheduleError(e.to_string()))?;
        Ok(Schedule::Cron {
            schedule: Box::new(schedule),
            zone,
        })
    }

    /// At a fixed interval (the first run one interval after start).
    pub fn every(interval: Duration) -> Result<Self, ScheduleError> {
        if interval.is_zero() {
            return Err(ScheduleError("a zero interval".into()));
        }
        Ok(Schedule::Every(interval))
    }

    /// The first run time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { schedule, zone } => schedule
                .after(&after.with_timezone(zone))
                .next()
                .map(|t| t.with_timezone(&Utc)),
            Schedule::Every(d) => after.checked_add_signed(TimeDelta::from_std(*d).ok()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn flows_can_record_their_own_writes() {
        use crate::key::{Email, Sku};
        use crate::log::ActivityQuery;
        use crate::state::MemoryStore;

        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let scope = Scope::new("tmas-sales", "shop");
        store
            .record_failure(&scope, "file-1", "ftp down", Utc::now())
            .await
            .unwrap();
        let mut ctx = RunContext::new(
            "r1",
            scope.clone(),
            store.clone(),
            Redaction::default(),
            false,
        );
        ctx.load_retries().await.unwrap();
        assert_eq!(ctx.retries().len(), 1);

        let email = Email::parse("x@y.nl").unwrap();
        ctx.record(&[
            RecordOutcome::new("file-1", Outcome::Created).with_target_id("/in/1.csv"),
            RecordOutcome::failed("file-2", "rejected for x@y.nl").with_key(&email),
            RecordOutcome::new("file-3", Outcome::Skipped)
                .with_key(&Sku::parse("A").unwrap())
                .with_reason("empty interval"),
        ])
        .await
        .unwrap();
        let r = ctx.report();
        assert_eq!(r.created, 1);
        assert_eq!(
            r.to_string(),
            "tmas-sales/shop: 1 created, 0 updated, 0 unchanged, 1 skipped, 1 failed; 0 requests in 0.0ns"
        );
        assert_eq!(r.skipped[0].key.as_deref(), Some("A"));
        assert_eq!(r.failed[0].key, None);
        assert_eq!(r.failed[0].reason, "rejected for [redacted]");
        let retries = store.retries(&scope).await.unwrap();
        assert_eq!(retries.len(), 1);
        assert_eq!(retries[0].source_id, "file-2");
        assert_eq!(retries[0].reason, "rejected for [redacted]");
        assert_eq!(
            store
                .query_activity(&ActivityQuery::run("r1"))
                .await
                .unwrap()
                .len(),
            3
        );

        let mut dry = RunContext::new(
            "r2",
            scope.clone(),
            store.clone(),
            Redaction::default(),
            true,
        );
        dry.record(&[RecordOutcome::failed("file-9", "x")])
            .await
            .unwrap();
        assert_eq!(dry.report().failed.len(), 1);
        assert_eq!(
            store.retries(&scope).await.unwrap().len(),
            1,
            "a dry run stores nothing"
        );
        assert!(
            store
                .query_activity(&ActivityQuery::run("r2"))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn schedules() {
        let t = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let h = Schedule::hourly_at(2).unwrap();
        assert_eq!(
            h.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 1, 2, 0).unwrap())
        );
        let exact = Utc.with_ymd_and_hms(2026, 3, 29, 1, 2, 0).unwrap();
        assert_eq!(
            h.next_after(exact),
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 2, 2, 0).unwrap())
        );
        assert!(Schedule::hourly_at(60).is_err());

        // 06:00 in Amsterdam is 04:00 UTC in summer time (from 29 March 2026).
        let d = Schedule::daily_at(6, 0, chrono_tz::Europe::Amsterdam).unwrap();
        assert_eq!(
            d.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 4, 0, 0).unwrap())
        );
        assert_eq!(
            d.next_after(Utc.with_ymd_and_hms(2026, 3, 28, 0, 0, 0).unwrap()),
            Some(Utc.with_ymd_and_hms(2026, 3, 28, 5, 0, 0).unwrap())
        );

        assert!(Schedule::cron("* *", chrono_tz::UTC).is_err());
        assert!(Schedule::cron("99 * * * *", chrono_tz::UTC).is_err());
        let e = Schedule::every(Duration::from_secs(90)).unwrap();
        assert_eq!(e.next_after(t), Some(t + TimeDelta::seconds(90)));
        assert!(Schedule::every(Duration::ZERO).is_err());
    }
}
