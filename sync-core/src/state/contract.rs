//! The behaviour every [`StateStore`] must have, as tests a store's author runs against a fresh
//! store (feature `test-util`). The stores of this crate pass them in its own tests.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = sync_core::state::MemoryStore::new();
//! sync_core::state::contract::run_all(&store).await;
//! sync_core::state::contract::work_queue(&sync_core::state::MemoryStore::new()).await;
//! # });
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Scope, StateStore, WorkQueue};
use crate::log::{ActivityEntry, ActivityQuery};
use crate::report::{RunReport, RunStatus};
use crate::upsert::Outcome;
use chrono::{TimeDelta, TimeZone};
use secrecy::{ExposeSecret, SecretString};

/// An activity-log entry of run `run` for the record `source`, as the contract writes it.
pub fn entry(
    run: &str,
    source: &str,
    digest: &str,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        run_id: run.into(),
        flow: "f".into(),
        tenant: "t".into(),
        at,
        source_id: Some(source.into()),
        key: None,
        key_digest: Some(digest.into()),
        outcome: Some(outcome),
        message: None,
        source: Some(serde_json::json!({"a": 1})),
        sent: None,
        answer: Some(serde_json::json!({"id": "x"})),
    }
}

/// A succeeded report of run `run` with two records created, as the contract writes it.
pub fn report(run: &str, scope: &Scope, at: DateTime<Utc>) -> RunReport {
    let mut r = RunReport::empty(run, scope, at, false);
    r.created = 2;
    r.status = RunStatus::Succeeded;
    r
}

/// Every check of the [`StateStore`] contract, in order, on a fresh (empty) store: cursors,
/// links, run history, the activity log, tokens, retries and locks. Panics at the first
/// behaviour that differs.
pub async fn run_all(store: &dyn StateStore) {
    let s = Scope::new("customers", "t1");
    let other = Scope::new("customers", "t2");
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();

    // Cursors are per flow and tenant.
    assert_eq!(store.load_cursor(&s).await.unwrap(), None);
    store.save_cursor(&s, "c1").await.unwrap();
    store.save_cursor(&s, "c2").await.unwrap();
    assert_eq!(store.load_cursor(&s).await.unwrap().as_deref(), Some("c2"));
    assert_eq!(store.load_cursor(&other).await.unwrap(), None);
    store.clear_cursor(&s).await.unwrap();
    assert_eq!(store.load_cursor(&s).await.unwrap(), None);

    // Links.
    store
        .save_link("t1", "customer", "ls-1", "bc-1")
        .await
        .unwrap();
    store
        .save_link("t1", "customer", "ls-1", "bc-2")
        .await
        .unwrap();
    assert_eq!(
        store
            .load_link("t1", "customer", "ls-1")
            .await
            .unwrap()
            .as_deref(),
        Some("bc-2")
    );
    assert_eq!(
        store.load_link("t2", "customer", "ls-1").await.unwrap(),
        None
    );
    assert_eq!(store.load_link("t1", "item", "ls-1").await.unwrap(), None);
    store
        .save_link("t1", "customer", "ls-3", "bc-3")
        .await
        .unwrap();
    let ids = ["ls-1".to_string(), "ls-2".into(), "ls-3".into()];
    let links = store.load_links("t1", "customer", &ids).await.unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links.get("ls-3").map(String::as_str), Some("bc-3"));

    // Run history, newest first.
    store.record_run(&report("r1", &s, t0)).await.unwrap();
    store
        .record_run(&report("r2", &s, t0 + TimeDelta::hours(1)))
        .await
        .unwrap();
    store.record_run(&report("r3", &other, t0)).await.unwrap();
    let runs = store.runs(&s, 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["r2", "r1"]
    );
    assert_eq!(runs[0].created, 2);
    assert_eq!(store.runs(&s, 1).await.unwrap().len(), 1);

    // Activity log.
    store
        .append_activity(&[
            entry("r1", "1", "k1", Outcome::Created, t0),
            entry("r1", "2", "k2", Outcome::Failed, t0 + TimeDelta::seconds(1)),
            entry("r2", "2", "k2", Outcome::Updated, t0 + TimeDelta::days(40)),
        ])
        .await
        .unwrap();
    let r1 = store
        .query_activity(&ActivityQuery::run("r1"))
        .await
        .unwrap();
    assert_eq!(r1.len(), 2);
    assert_eq!(r1[0].source_id.as_deref(), Some("2"), "newest first");
    assert_eq!(r1[1], entry("r1", "1", "k1", Outcome::Created, t0));
    let fails = store
        .query_activity(&ActivityQuery::all().failures())
        .await
        .unwrap();
    assert_eq!(fails.len(), 1);
    let by_key = ActivityQuery {
        key_digest: Some("k2".into()),
        ..ActivityQuery::default()
    };
    assert_eq!(store.query_activity(&by_key).await.unwrap().len(), 2);
    assert_eq!(
        store
            .query_activity(&by_key.clone().limit(1))
            .await
            .unwrap()[0]
            .run_id,
        "r2"
    );
    assert_eq!(
        store
            .query_activity(&ActivityQuery::all().scope("f", "x"))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store
            .prune_activity(t0 + TimeDelta::days(30))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .query_activity(&ActivityQuery::all())
            .await
            .unwrap()
            .len(),
        1
    );

    // Tokens.
    assert!(store.load_token("t1", "refresh").await.unwrap().is_none());
    store
        .save_token("t1", "refresh", &SecretString::from("s3cret"))
        .await
        .unwrap();
    let tok = store.load_token("t1", "refresh").await.unwrap().unwrap();
    assert_eq!(tok.expose_secret(), "s3cret");
    store.delete_token("t1", "refresh").await.unwrap();
    assert!(store.load_token("t1", "refresh").await.unwrap().is_none());

    // Retries.
    store.record_failure(&s, "9", "boom", t0).await.unwrap();
    store
        .record_failure(&s, "8", "bang", t0 + TimeDelta::seconds(1))
        .await
        .unwrap();
    store
        .record_failure(&s, "9", "boom again", t0 + TimeDelta::hours(1))
        .await
        .unwrap();
    let r = store.retries(&s).await.unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].source_id, "9");
    assert_eq!(r[0].attempts, 2);
    assert_eq!(r[0].reason, "boom again");
    assert_eq!(r[0].first_failed, t0);
    assert_eq!(r[0].last_failed, t0 + TimeDelta::hours(1));
    assert!(store.retries(&other).await.unwrap().is_empty());
    store.clear_retry(&s, "9").await.unwrap();
    assert_eq!(store.retries(&s).await.unwrap().len(), 1);

    // Locks.
    let far = Utc::now() + TimeDelta::hours(1);
    assert!(store.try_lock(&s, "a", far).await.unwrap());
    assert!(!store.try_lock(&s, "b", far).await.unwrap());
    assert!(store.try_lock(&other, "b", far).await.unwrap());
    store.unlock(&s, "b").await.unwrap();
    assert!(
        !store.try_lock(&s, "b", far).await.unwrap(),
        "only the holder unlocks"
    );
    store.unlock(&s, "a").await.unwrap();
    assert!(
        store
            .try_lock(&s, "b", Utc::now() - TimeDelta::seconds(1))
            .await
            .unwrap()
    );
    assert!(
        store.try_lock(&s, "c", far).await.unwrap(),
        "an expired lock is taken over"
    );

    // Cursors saved under a lock: only by its holder.
    let fenced = Scope::new("fenced", "t1");
    assert!(
        !store.save_cursor_locked(&fenced, "a", "1").await.unwrap(),
        "no lock, no save"
    );
    assert!(store.try_lock(&fenced, "a", far).await.unwrap());
    assert!(store.save_cursor_locked(&fenced, "a", "2").await.unwrap());
    assert!(!store.save_cursor_locked(&fenced, "b", "3").await.unwrap());
    assert_eq!(
        store.load_cursor(&fenced).await.unwrap().as_deref(),
        Some("2")
    );
    store.unlock(&fenced, "a").await.unwrap();
    assert!(
        store
            .try_lock(&fenced, "a", Utc::now() - TimeDelta::seconds(1))
            .await
            .unwrap()
    );
    assert!(
        store.save_cursor_locked(&fenced, "a", "4").await.unwrap(),
        "an expired lock nobody took over still fences for its holder"
    );
    assert!(store.try_lock(&fenced, "b", far).await.unwrap());
    assert!(
        !store.save_cursor_locked(&fenced, "a", "5").await.unwrap(),
        "a lock taken over refuses the old holder"
    );
    assert_eq!(
        store.load_cursor(&fenced).await.unwrap().as_deref(),
        Some("4")
    );
}

/// The [`WorkQueue`] contract: lease semantics checked with explicit times, on a fresh store.
pub async fn work_queue<S: WorkQueue + StateStore>(queue: &S) {
    super::lease::contract::check(queue).await;
}

/// Four workers share 200 units of three committed steps each and one dies mid-unit: every
/// unit completes exactly once and no unit is held by two workers at once. On a fresh store.
pub async fn work_queue_four_workers<S: WorkQueue + StateStore + 'static>(store: Arc<S>) {
    super::lease::contract::four_workers(store).await;
}
