//! Runs end to end: a customer flow over an in-memory target, with the in-memory and SQLite stores.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sync_core::cursor::Watermark;
use sync_core::fields::Fields;
use sync_core::key::{Email, KeyError, Keyed};
use sync_core::log::ActivityQuery;
use sync_core::run::{
    Flow, FlowError, RunContext, RunError, RunReport, RunStatus, Runner, Schedule,
};
#[cfg(feature = "sqlite")]
use sync_core::state::SqliteStore;
use sync_core::state::{MemoryStore, Scope, StateStore};
use sync_core::upsert::{MemoryTarget, Outcome, Planner, SourceRecord};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
struct Customer {
    id: String,
    email: String,
    name: String,
    city: String,
    modified: DateTime<Utc>,
}

impl Keyed for Customer {
    type Key = Email;
    fn key(&self) -> Result<Email, KeyError> {
        Email::parse(&self.email)
    }
}

impl SourceRecord for Customer {
    fn source_id(&self) -> String {
        self.id.clone()
    }
    fn modified(&self) -> Option<DateTime<Utc>> {
        Some(self.modified)
    }
    fn fields(&self) -> Fields {
        Fields::new()
            .with("name", self.name.as_str())
            .with("city", self.city.as_str())
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

fn customer(id: &str, email: &str, name: &str, minutes: i64) -> Customer {
    Customer {
        id: id.into(),
        email: email.into(),
        name: name.into(),
        city: "Utrecht".into(),
        modified: t0() + TimeDelta::minutes(minutes),
    }
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

/// A customer flow as a real one is written: incremental read + retries, upsert, stage cursor.
struct Customers {
    source: Mutex<Vec<Customer>>,
    target: MemoryTarget<Email>,
    planner: Planner,
    fail_after_upsert: AtomicBool,
    gate: Option<Arc<Notify>>,
    started: Arc<Notify>,
    runs: AtomicUsize,
}

impl Customers {
    fn new(source: Vec<Customer>) -> Self {
        Self {
            source: Mutex::new(source),
            target: MemoryTarget::new().with_batch_size(2),
            planner: Planner::new().create_only(["city"]),
            fail_after_upsert: AtomicBool::new(false),
            gate: None,
            started: Arc::new(Notify::new()),
            runs: AtomicUsize::new(0),
        }
    }
    fn edit(&self, f: impl FnOnce(&mut Vec<Customer>)) {
        f(&mut self.source.lock().unwrap());
    }
}

#[async_trait::async_trait]
impl Flow for Customers {
    fn name(&self) -> &str {
        "customers"
    }
    fn requests_made(&self) -> Option<u64> {
        let (l, b) = self.target.calls();
        Some(l + b)
    }
    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.started.notify_one();
        if let Some(gate) = &self.gate {
            gate.notified().await;
        }
        let mut cursor: Watermark = ctx
            .cursor()
            .await?
            .unwrap_or_else(|| Watermark::new(Duration::from_secs(600)));
        let since = cursor.since();
        let all = self.source.lock().unwrap().clone();
        let retry: BTreeSet<&str> = ctx.retries().iter().map(|r| r.source_id.as_str()).collect();
        let changed: Vec<Customer> = all
            .iter()
            .filter(|c| since.is_none_or(|s| c.modified >= s))
            .cloned()
            .collect();
        let mut batch = cursor.fresh(changed, |c| (c.id.clone(), c.modified));
        let versions: Vec<_> = batch.iter().map(|c| (c.id.clone(), c.modified)).collect();
        // Records kept for retry are read again whatever the cursor says.
        for c in &all {
            if retry.contains(c.id.as_str()) && !batch.iter().any(|b| b.id == c.id) {
                batch.push(c.clone());
            }
        }
        let outcomes = ctx.upsert(&self.planner, batch, &self.target).await?;
        ctx.save_links("customer", &outcomes).await?;
        if self.fail_after_upsert.load(Ordering::SeqCst) {
            return Err("the source went away".into());
        }
        cursor.advance(versions);
        ctx.stage_cursor(&cursor)?;
        Ok(())
    }
}

fn scope() -> Scope {
    Scope::new("customers", "shop")
}

async fn stored_cursor(store: &dyn StateStore) -> Option<Watermark> {
    sync_core::state::load_cursor_as(store, &scope())
        .await
        .unwrap()
}

#[tokio::test]
async fn second_run_is_all_unchanged_and_requests_are_counted() {
    let store = Arc::new(MemoryStore::new());
    let flow = Customers::new(vec![
        customer("1", "ann@example.com", "Ann", 0),
        customer("2", "bob@example.com", "Bob", 1),
        customer("3", "cy@example.com", "Cy", 2),
    ]);
    let runner = Runner::new(store.clone());
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert!(r.is_success(), "{r:?}");
    assert_eq!((r.created, r.updated, r.unchanged), (3, 0, 0));
    // One bulk lookup and two batches (of 2 and 1).
    assert_eq!(r.requests, 3);
    assert_eq!(
        stored_cursor(&*store).await.unwrap().position(),
        Some(t0() + TimeDelta::minutes(2))
    );
    assert_eq!(
        store
            .load_link("shop", "customer", "2")
            .await
            .unwrap()
            .as_deref(),
        Some("mem-2")
    );

    // Same input: the overlap window re-reads everything, dedup drops it, nothing is written.
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!((r.created, r.updated, r.unchanged), (0, 0, 0));
    assert_eq!(r.requests, 0);

    // A new version of one record: only the changed field is sent, never the create-only one.
    flow.edit(|s| {
        s[1].name = "Bob Jr".into();
        s[1].city = "Delft".into();
        s[1].modified += TimeDelta::minutes(5);
    });
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!((r.created, r.updated, r.unchanged), (0, 1, 0));
    let stored = flow.target.get(&email("bob@example.com")).unwrap();
    assert_eq!(
        stored.fields,
        Fields::new().with("name", "Bob Jr").with("city", "Utrecht")
    );
    let history = store.runs(&scope(), 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].updated, 1);
}

#[tokio::test]
async fn dry_run_plans_without_writing_anything() {
    let store = Arc::new(MemoryStore::new());
    let flow = Customers::new(vec![
        customer("1", "ann@example.com", "Ann", 0),
        customer("2", "nope", "Bob", 1),
    ]);
    let runner = Runner::new(store.clone());
    let r = runner.dry_run(&flow, "shop").await.unwrap();
    assert!(r.dry_run);
    assert_eq!(r.created, 1);
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].reason, "key is invalid: has no @");
    assert_eq!(r.planned.len(), 2);
    assert_eq!(
        r.planned[0].fields,
        Fields::new().with("name", "Ann").with("city", "Utrecht")
    );
    assert!(flow.target.is_empty());
    assert_eq!(flow.target.calls(), (1, 0), "looked up, never applied");
    assert!(stored_cursor(&*store).await.is_none());
    assert!(store.runs(&scope(), 10).await.unwrap().is_empty());
    assert!(store.retries(&scope()).await.unwrap().is_empty());
    assert!(
        store
            .query_activity(&ActivityQuery::all())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn failed_records_are_retried_in_the_next_run_and_notified() {
    let store = Arc::new(MemoryStore::new());
    let flow = Customers::new(vec![
        customer("1", "ann@example.com", "Ann", 0),
        customer("2", "bob@example.com", "Bob", 1),
    ]);
    flow.target.set_failing(email("bob@example.com"), true);
    let notified: Arc<Mutex<Vec<RunReport>>> = Arc::default();
    let sink = notified.clone();
    let runner = Runner::new(store.clone()).notifier(move |r: &RunReport| {
        sink.lock().unwrap().push(r.clone());
    });

    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!(r.status, RunStatus::Succeeded);
    assert_eq!(r.created, 1);
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].source_id, "2");
    assert_eq!(r.failed[0].key, None, "an e-mail key is personal data");
    assert_eq!(r.failed[0].reason, "rejected by the target");
    assert_eq!(notified.lock().unwrap().len(), 1);
    let retries = store.retries(&scope()).await.unwrap();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].source_id, "2");
    // The cursor moved past the failed record: the retry list carries it.
    assert_eq!(
        stored_cursor(&*store).await.unwrap().position(),
        Some(t0() + TimeDelta::minutes(1))
    );

    // Failure is logged and queryable by key without storing the address.
    let fails = store
        .query_activity(&ActivityQuery::key(&email("BOB@example.com")).failures())
        .await
        .unwrap();
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0].key, None);
    assert_eq!(fails[0].source.as_ref().unwrap()["name"], "[redacted]");

    // Still failing: one more attempt recorded.
    runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!(store.retries(&scope()).await.unwrap()[0].attempts, 2);

    flow.target.set_failing(email("bob@example.com"), false);
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert!(r.is_success(), "{r:?}");
    assert_eq!(r.created, 1);
    assert!(store.retries(&scope()).await.unwrap().is_empty());
    assert_eq!(notified.lock().unwrap().len(), 2);
    let by_key = store
        .query_activity(&ActivityQuery::key(&email("bob@example.com")))
        .await
        .unwrap();
    assert_eq!(
        by_key
            .iter()
            .map(|e| e.outcome.unwrap())
            .collect::<Vec<_>>(),
        [Outcome::Created, Outcome::Failed, Outcome::Failed]
    );
}

#[tokio::test]
async fn a_failed_run_keeps_the_cursor_and_logs_the_error() {
    let store = Arc::new(MemoryStore::new());
    let flow = Customers::new(vec![customer("1", "ann@example.com", "Ann", 0)]);
    flow.fail_after_upsert.store(true, Ordering::SeqCst);
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let runner = Runner::new(store.clone()).notifier(move |_: &RunReport| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!(
        r.status,
        RunStatus::Failed {
            error: "the source went away".into()
        }
    );
    assert!(stored_cursor(&*store).await.is_none());
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let log = store
        .query_activity(&ActivityQuery::run(&r.run_id))
        .await
        .unwrap();
    assert_eq!(log[0].source_id, None);
    assert_eq!(log[0].message.as_deref(), Some("the source went away"));
    assert_eq!(store.runs(&scope(), 1).await.unwrap()[0].status, r.status);

    // Fixed: the re-read finds the record already written, and the cursor moves.
    flow.fail_after_upsert.store(false, Ordering::SeqCst);
    let r = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));
    assert!(stored_cursor(&*store).await.is_some());
}

#[tokio::test]
async fn runs_of_one_flow_and_tenant_never_overlap() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let gate = Arc::new(Notify::new());
    let mut flow = Customers::new(vec![customer("1", "ann@example.com", "Ann", 0)]);
    flow.gate = Some(gate.clone());
    let started = flow.started.clone();
    let flow = Arc::new(flow);
    let runner = Runner::new(store.clone());

    let (r1, f1) = (runner.clone(), flow.clone());
    let first = tokio::spawn(async move { r1.run_once(&*f1, "shop").await });
    started.notified().await;

    // Same runner, and another runner (another process) on the same store: both refused.
    assert!(matches!(
        runner.run_once(&*flow, "shop").await,
        Err(RunError::AlreadyRunning(s)) if s == scope()
    ));
    let other = Runner::new(store.clone());
    assert!(matches!(
        other.run_once(&*flow, "shop").await,
        Err(RunError::AlreadyRunning(_))
    ));

    gate.notify_one();
    let r = first.await.unwrap().unwrap();
    assert_eq!(r.created, 1);
    assert_eq!(flow.runs.load(Ordering::SeqCst), 1);

    // Released: the next run goes ahead.
    gate.notify_one();
    let r = other.run_once(&*flow, "shop").await.unwrap();
    assert!(r.is_success());
}

#[tokio::test(start_paused = true)]
async fn scheduled_runs_until_shutdown() {
    let store = Arc::new(MemoryStore::new());
    let flow = Arc::new(Customers::new(vec![customer(
        "1",
        "ann@example.com",
        "Ann",
        0,
    )]));
    let runner = Runner::new(store.clone());
    let schedule = Schedule::every(Duration::from_secs(3600)).unwrap();
    let stop = Arc::new(Notify::new());
    let (f, s) = (flow.clone(), stop.clone());
    let watcher = tokio::spawn(async move {
        while f.runs.load(Ordering::SeqCst) < 3 {
            f.started.notified().await;
        }
        s.notify_one();
    });
    let before = tokio::time::Instant::now();
    runner
        .run_scheduled(&*flow, "shop", &schedule, stop.notified())
        .await
        .unwrap();
    watcher.await.unwrap();
    assert_eq!(flow.runs.load(Ordering::SeqCst), 3);
    assert!(tokio::time::Instant::now() - before >= Duration::from_secs(3 * 3600 - 5));
    assert_eq!(store.runs(&scope(), 10).await.unwrap().len(), 3);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_state_carries_over_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let flow = Customers::new(vec![
        customer("1", "ann@example.com", "Ann", 0),
        customer("2", "bob@example.com", "Bob", 1),
    ]);
    flow.target.set_failing(email("bob@example.com"), true);
    {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let r = Runner::new(store).run_once(&flow, "shop").await.unwrap();
        assert_eq!((r.created, r.failed.len()), (1, 1));
    }
    flow.target.set_failing(email("bob@example.com"), false);
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    assert!(stored_cursor(&*store).await.is_some());
    let r = Runner::new(store.clone())
        .run_once(&flow, "shop")
        .await
        .unwrap();
    assert_eq!((r.created, r.unchanged, r.failed.len()), (1, 0, 0), "{r:?}");
    assert_eq!(store.runs(&scope(), 10).await.unwrap().len(), 2);
    assert!(store.retries(&scope()).await.unwrap().is_empty());
    assert_eq!(
        store
            .query_activity(&ActivityQuery::all())
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn activity_older_than_the_retention_is_pruned_after_a_run() {
    let store = Arc::new(MemoryStore::new());
    let old = sync_core::log::ActivityEntry {
        run_id: "old".into(),
        flow: "customers".into(),
        tenant: "shop".into(),
        at: Utc::now() - TimeDelta::days(8),
        source_id: Some("1".into()),
        key: None,
        key_digest: None,
        outcome: Some(Outcome::Created),
        message: None,
        source: None,
        sent: None,
        answer: None,
    };
    store.append_activity(&[old]).await.unwrap();
    let flow = Customers::new(vec![customer("1", "ann@example.com", "Ann", 0)]);

    let keep_all = Runner::new(store.clone()).retention(None);
    keep_all.run_once(&flow, "shop").await.unwrap();
    assert_eq!(
        store
            .query_activity(&ActivityQuery::run("old"))
            .await
            .unwrap()
            .len(),
        1
    );

    let week = Runner::new(store.clone()).retention(Some(Duration::from_secs(7 * 24 * 3600)));
    week.run_once(&flow, "shop").await.unwrap();
    assert!(
        store
            .query_activity(&ActivityQuery::run("old"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .query_activity(&ActivityQuery::all())
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A store that counts lock calls and delegates the rest.
#[derive(Debug, Default)]
struct CountingStore {
    inner: MemoryStore,
    locks: AtomicUsize,
}

#[async_trait::async_trait]
impl StateStore for CountingStore {
    async fn load_cursor(&self, s: &Scope) -> Result<Option<String>, sync_core::state::StateError> {
        self.inner.load_cursor(s).await
    }
    async fn save_cursor(&self, s: &Scope, c: &str) -> Result<(), sync_core::state::StateError> {
        self.inner.save_cursor(s, c).await
    }
    async fn clear_cursor(&self, s: &Scope) -> Result<(), sync_core::state::StateError> {
        self.inner.clear_cursor(s).await
    }
    async fn save_link(
        &self,
        t: &str,
        n: &str,
        s: &str,
        g: &str,
    ) -> Result<(), sync_core::state::StateError> {
        self.inner.save_link(t, n, s, g).await
    }
    async fn load_link(
        &self,
        t: &str,
        n: &str,
        s: &str,
    ) -> Result<Option<String>, sync_core::state::StateError> {
        self.inner.load_link(t, n, s).await
    }
    async fn record_run(&self, r: &RunReport) -> Result<(), sync_core::state::StateError> {
        self.inner.record_run(r).await
    }
    async fn runs(
        &self,
        s: &Scope,
        l: usize,
    ) -> Result<Vec<RunReport>, sync_core::state::StateError> {
        self.inner.runs(s, l).await
    }
    async fn append_activity(
        &self,
        e: &[sync_core::log::ActivityEntry],
    ) -> Result<(), sync_core::state::StateError> {
        self.inner.append_activity(e).await
    }
    async fn query_activity(
        &self,
        q: &ActivityQuery,
    ) -> Result<Vec<sync_core::log::ActivityEntry>, sync_core::state::StateError> {
        self.inner.query_activity(q).await
    }
    async fn prune_activity(&self, b: DateTime<Utc>) -> Result<u64, sync_core::state::StateError> {
        self.inner.prune_activity(b).await
    }
    async fn save_token(
        &self,
        t: &str,
        n: &str,
        v: &secrecy::SecretString,
    ) -> Result<(), sync_core::state::StateError> {
        self.inner.save_token(t, n, v).await
    }
    async fn load_token(
        &self,
        t: &str,
        n: &str,
    ) -> Result<Option<secrecy::SecretString>, sync_core::state::StateError> {
        self.inner.load_token(t, n).await
    }
    async fn delete_token(&self, t: &str, n: &str) -> Result<(), sync_core::state::StateError> {
        self.inner.delete_token(t, n).await
    }
    async fn record_failure(
        &self,
        s: &Scope,
        i: &str,
        r: &str,
        a: DateTime<Utc>,
    ) -> Result<(), sync_core::state::StateError> {
        self.inner.record_failure(s, i, r, a).await
    }
    async fn retries(
        &self,
        s: &Scope,
    ) -> Result<Vec<sync_core::state::RetryItem>, sync_core::state::StateError> {
        self.inner.retries(s).await
    }
    async fn clear_retry(&self, s: &Scope, i: &str) -> Result<(), sync_core::state::StateError> {
        self.inner.clear_retry(s, i).await
    }
    async fn try_lock(
        &self,
        s: &Scope,
        h: &str,
        u: DateTime<Utc>,
    ) -> Result<bool, sync_core::state::StateError> {
        self.locks.fetch_add(1, Ordering::SeqCst);
        self.inner.try_lock(s, h, u).await
    }
    async fn save_cursor_locked(
        &self,
        s: &Scope,
        h: &str,
        c: &str,
    ) -> Result<bool, sync_core::state::StateError> {
        self.inner.save_cursor_locked(s, h, c).await
    }
    async fn unlock(&self, s: &Scope, h: &str) -> Result<(), sync_core::state::StateError> {
        self.inner.unlock(s, h).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_run_keeps_renewing_its_lock() {
    let store = Arc::new(CountingStore::default());
    let gate = Arc::new(Notify::new());
    let mut flow = Customers::new(vec![customer("1", "ann@example.com", "Ann", 0)]);
    flow.gate = Some(gate.clone());
    let runner = Runner::new(store.clone()).lock_ttl(Duration::from_secs(60));
    let opener = tokio::spawn(async move {
        // Five minutes of (paused) time: the 60 s lock is renewed every 20 s.
        tokio::time::sleep(Duration::from_secs(300)).await;
        gate.notify_one();
    });
    let r = runner.run_once(&flow, "shop").await.unwrap();
    opener.await.unwrap();
    assert!(r.is_success());
    let calls = store.locks.load(Ordering::SeqCst);
    assert!((15..=17).contains(&calls), "{calls} lock calls");
    // Renewal stops with the run.
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(store.locks.load(Ordering::SeqCst), calls);
}
