//! Work leases: many workers share (flow, tenant) units of work, each held by one worker at a time.
//!
//! A unit is registered once with the time it is next due. A worker [claims](WorkQueue::claim_due)
//! due units with a lease that expires after a time to live, [renews](WorkQueue::renew) it while
//! it runs, commits its cursor through the lease ([`WorkQueue::commit_cursor`]), and
//! [releases](WorkQueue::release) it with the next due time. A worker that dies stops renewing:
//! once its lease expires another worker claims the unit and starts from the last committed
//! cursor. Every claim raises the unit's [generation](Lease::generation), a fencing token: a
//! worker that lost its lease can no longer renew, release, or commit a cursor.
//!
//! Times are passed in (`now`), so all workers must have synchronised clocks (NTP); keep the
//! time to live well above any clock skew and below how late a dead worker's units may start.
//!
//! A worker's loop: claim what is due, run each unit under its lease, release it with the next
//! due time from the flow's schedule. The [`Runner`](crate::run::Runner) commits the cursor only
//! after a successful run, so a unit taken over after a crash resumes from its last good run.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use chrono::Utc;
//! use sync_core::run::{Flow, FlowError, RunContext, Runner, Schedule};
//! use sync_core::state::lease::hold;
//! use sync_core::state::{MemoryStore, Scope, WorkQueue};
//!
//! struct Orders;
//! #[async_trait::async_trait]
//! impl Flow for Orders {
//!     fn name(&self) -> &str { "orders" }
//!     async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
//!         ctx.stage_cursor(&"after-42")?;
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // With the `postgres` feature, every worker connects a `PostgresStore` to the same database.
//! let store = Arc::new(MemoryStore::new());
//! let runner = Runner::new(store.clone());
//! let schedule = Schedule::every(Duration::from_secs(300)).unwrap();
//! for tenant in ["shop-1", "shop-2"] {
//!     store.register(&Scope::new("orders", tenant), Utc::now()).await.unwrap();
//! }
//!
//! let ttl = Duration::from_secs(60);
//! let leases = store.claim_due("worker-a", Utc::now(), ttl, 10).await.unwrap();
//! assert_eq!(leases.len(), 2);
//! // Nothing is left for another worker while the leases hold.
//! assert!(store.claim_due("worker-b", Utc::now(), ttl, 10).await.unwrap().is_empty());
//! for lease in leases {
//!     let tenant = lease.scope.tenant.clone();
//!     // Renews the lease while the run goes on; stops the run if the lease is lost.
//!     let Ok((report, lease)) = hold(&*store, lease, ttl, runner.run_once(&Orders, &tenant)).await
//!     else { continue };
//!     assert!(report.unwrap().is_success());
//!     let next = schedule.next_after(Utc::now()).unwrap();
//!     assert!(store.release(&lease, next).await.unwrap());
//! }
//! # });
//! ```

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Scope, StateError};

/// A registered unit of work and its lease, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkUnit {
    /// The flow and tenant.
    pub scope: Scope,
    /// When it is next due.
    pub next_due: DateTime<Utc>,
    /// The worker holding the lease, if any (it may have expired).
    pub worker: Option<String>,
    /// When the lease expires, if held.
    pub lease_until: Option<DateTime<Utc>>,
    /// How many times the unit was claimed.
    pub generation: i64,
}

/// A worker's claim on a unit until [`expires_at`](Lease::expires_at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The flow and tenant.
    pub scope: Scope,
    /// The worker that holds it.
    pub worker: String,
    /// The unit's claim count when claimed: a fencing token that changes when another worker claims.
    pub generation: i64,
    /// When the unit was due.
    pub due_at: DateTime<Utc>,
    /// When the lease expires unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// Units of work shared by many workers, each held by at most one worker at a time.
#[async_trait]
pub trait WorkQueue: Send + Sync + fmt::Debug {
    /// Registers a unit due at `next_due`; returns `false` (and changes nothing) when it exists.
    async fn register(&self, scope: &Scope, next_due: DateTime<Utc>) -> Result<bool, StateError>;
    /// Removes a unit (a worker holding it can no longer renew or release it).
    async fn unregister(&self, scope: &Scope) -> Result<(), StateError>;
    /// A unit as stored.
    async fn unit(&self, scope: &Scope) -> Result<Option<WorkUnit>, StateError>;

    /// Claims up to `limit` units that are due at `now` and not under an unexpired lease, the
    /// longest overdue first, with leases until `now + ttl`. Concurrent callers get disjoint units.
    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<Lease>, StateError>;

    /// Extends a lease to `now + ttl`; `None` when it was lost (another worker claimed the unit,
    /// or it was unregistered). An expired lease that nobody claimed since can still be renewed.
    async fn renew(
        &self,
        lease: &Lease,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError>;

    /// Ends a lease and schedules the unit at `next_due`; `false` when the lease was lost (then
    /// nothing changes).
    async fn release(&self, lease: &Lease, next_due: DateTime<Utc>) -> Result<bool, StateError>;

    /// Stores the unit's cursor (as [`StateStore::save_cursor`](super::StateStore::save_cursor))
    /// only while the lease is not lost, atomically; `false` when it was lost.
    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<bool, StateError>;
}

/// Why [`hold`] stopped before the work finished.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HoldError {
    /// Another worker claimed the unit (or it was unregistered, or renewing failed until the
    /// lease expired): the work was stopped and must not commit anything more.
    #[error("the lease on {0} was lost")]
    Lost(Scope),
}

/// Runs `work` while renewing `lease` every third of `ttl`, and returns its output with the
/// renewed lease (to [release](WorkQueue::release)).
///
/// When the lease is lost, `work` is dropped (cancelled at its next `.await`) and
/// [`HoldError::Lost`] is returned. A failed renewal (database unreachable) is retried at the
/// next tick until the lease would expire.
pub async fn hold<Q, F>(
    queue: &Q,
    lease: Lease,
    ttl: Duration,
    work: F,
) -> Result<(F::Output, Lease), HoldError>
where
    Q: WorkQueue + ?Sized,
    F: std::future::Future,
{
    let every = (ttl / 3).max(Duration::from_millis(1));
    let mut lease = lease;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return Ok((out, lease)),
            _ = tick.tick() => {
                let now = Utc::now();
                match queue.renew(&lease, now, ttl).await {
                    Ok(Some(renewed)) => lease = renewed,
                    Ok(None) => return Err(HoldError::Lost(lease.scope)),
                    Err(e) => {
                        tracing::warn!(scope = %lease.scope, error = %e, "renewing a lease failed");
                        if now >= lease.expires_at {
                            return Err(HoldError::Lost(lease.scope));
                        }
                    }
                }
            }
        }
    }
}

/// `now + ttl`, refusing a time to live too long to represent.
pub(crate) fn lease_end(now: DateTime<Utc>, ttl: Duration) -> Result<DateTime<Utc>, StateError> {
    TimeDelta::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .ok_or_else(|| StateError::Data(format!("lease time to live {ttl:?} is too long")))
}

#[cfg(any(test, feature = "test-util"))]
pub(crate) mod contract {
    //! The behaviour every work queue must have; run against each implementation.
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use chrono::TimeZone;

    use super::*;
    use crate::state::StateStore;

    /// Deterministic lease semantics, with explicit times.
    pub(crate) async fn check<S: WorkQueue + StateStore>(q: &S) {
        let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let ttl = Duration::from_secs(30);
        let a = Scope::new("orders", "t1");
        let b = Scope::new("orders", "t2");
        let later = Scope::new("tmas", "t1");

        assert!(q.register(&a, t0).await.unwrap());
        assert!(!q.register(&a, t0 + TimeDelta::days(1)).await.unwrap());
        assert_eq!(q.unit(&a).await.unwrap().unwrap().next_due, t0, "kept");
        assert!(q.register(&b, t0 - TimeDelta::minutes(1)).await.unwrap());
        assert!(q.register(&later, t0 + TimeDelta::hours(1)).await.unwrap());
        assert!(q.unit(&Scope::new("x", "y")).await.unwrap().is_none());

        // Due units only, the longest overdue first, at most `limit`.
        assert!(q.claim_due("w1", t0, ttl, 0).await.unwrap().is_empty());
        let got = q.claim_due("w1", t0, ttl, 1).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].scope, b);
        assert_eq!(got[0].worker, "w1");
        assert_eq!(got[0].due_at, t0 - TimeDelta::minutes(1));
        assert_eq!(got[0].expires_at, t0 + TimeDelta::seconds(30));
        let lb = got[0].clone();
        let got = q.claim_due("w2", t0, ttl, 10).await.unwrap();
        assert_eq!(got.iter().map(|l| &l.scope).collect::<Vec<_>>(), [&a]);
        let la = got[0].clone();
        assert!(q.claim_due("w3", t0, ttl, 10).await.unwrap().is_empty());
        let unit = q.unit(&a).await.unwrap().unwrap();
        assert_eq!(unit.worker.as_deref(), Some("w2"));
        assert_eq!(unit.lease_until, Some(la.expires_at));
        assert_eq!(unit.generation, la.generation);

        // Renewal moves the expiry; the renewed lease is still the same claim.
        let t1 = t0 + TimeDelta::seconds(20);
        let la = q.renew(&la, t1, ttl).await.unwrap().unwrap();
        assert_eq!(la.expires_at, t1 + TimeDelta::seconds(30));
        // At t0 + 40 s, b's lease has expired but a's renewed one holds.
        let t2 = t0 + TimeDelta::seconds(40);
        let taken = q.claim_due("w3", t2, ttl, 10).await.unwrap();
        assert_eq!(taken.iter().map(|l| &l.scope).collect::<Vec<_>>(), [&b]);

        // Only the holder's current claim commits a cursor.
        assert!(q.commit_cursor(&la, "a-1").await.unwrap());
        assert_eq!(q.load_cursor(&a).await.unwrap().as_deref(), Some("a-1"));
        let mut forged = la.clone();
        forged.worker = "w9".into();
        assert!(!q.commit_cursor(&forged, "x").await.unwrap());
        assert!(q.renew(&forged, t1, ttl).await.unwrap().is_none());
        assert!(!q.release(&forged, t1).await.unwrap());

        // Release schedules the next run.
        assert!(q.release(&la, t0 + TimeDelta::hours(1)).await.unwrap());
        assert!(!q.release(&la, t0).await.unwrap(), "released once");
        let unit = q.unit(&a).await.unwrap().unwrap();
        assert_eq!(unit.worker, None);
        assert_eq!(unit.next_due, t0 + TimeDelta::hours(1));

        // The expired lease was taken over; the old holder is fenced off and the new one starts
        // from the last committed cursor (none yet).
        let got = taken;
        assert!(got[0].generation > lb.generation);
        assert!(q.renew(&lb, t2, ttl).await.unwrap().is_none());
        assert!(!q.commit_cursor(&lb, "stale").await.unwrap());
        assert!(!q.release(&lb, t2).await.unwrap());
        assert_eq!(q.load_cursor(&b).await.unwrap(), None);
        assert!(q.commit_cursor(&got[0], "b-1").await.unwrap());
        assert_eq!(q.load_cursor(&b).await.unwrap().as_deref(), Some("b-1"));

        // An expired lease that nobody claimed can still be renewed.
        let t3 = t2 + TimeDelta::minutes(5);
        assert!(q.renew(&got[0], t3, ttl).await.unwrap().is_some());

        // An hour later: a and the later unit are due, and b's lease (never released) expired.
        let t4 = t0 + TimeDelta::hours(1);
        let got = q.claim_due("w1", t4, ttl, 10).await.unwrap();
        assert_eq!(
            got.iter().map(|l| &l.scope).collect::<BTreeSet<_>>(),
            BTreeSet::from([&a, &b, &later])
        );
        assert_eq!(got[0].scope, b, "the longest overdue first");

        // Unregistering ends the lease.
        q.unregister(&a).await.unwrap();
        assert!(q.unit(&a).await.unwrap().is_none());
        let la = got.iter().find(|l| l.scope == a).unwrap();
        assert!(q.renew(la, t4, ttl).await.unwrap().is_none());
        assert!(!q.release(la, t4).await.unwrap());

        assert!(
            q.claim_due("w1", t0, Duration::MAX, 1).await.is_err(),
            "an absurd time to live is refused"
        );
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Event {
        Claimed(String, i64),
        Step(String, u32),
        Ended(String),
        Died(String),
    }

    /// Four workers share 200 units of three committed steps each; one worker dies mid-unit.
    /// Every unit completes exactly once, no unit is held by two workers at once (checked from
    /// the recorded history), and the totals equal a single worker's.
    pub(crate) async fn four_workers<S: WorkQueue + StateStore + 'static>(store: Arc<S>) {
        const UNITS: usize = 200;
        const STEPS: u32 = 3;
        let start = Utc::now() - TimeDelta::seconds(1);
        for i in 0..UNITS {
            let scope = Scope::new("orders", format!("tenant-{i:03}"));
            assert!(store.register(&scope, start).await.unwrap());
        }
        let history: Arc<Mutex<Vec<(Scope, Event)>>> = Arc::default();
        let completed = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for w in 0..4 {
            let (store, history, completed) = (
                Arc::clone(&store),
                Arc::clone(&history),
                Arc::clone(&completed),
            );
            handles.push(tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let record = |scope: &Scope, e: Event| {
                    history.lock().unwrap().push((scope.clone(), e));
                };
                // The dying worker claims one unit with a short lease, so it is taken over soon.
                // Long enough that its one step commits on a slow, loaded machine.
                let (ttl, limit) = if w == 0 {
                    (Duration::from_secs(2), 1)
                } else {
                    (Duration::from_secs(60), 3)
                };
                let mut steps_done = 0u32;
                let give_up = std::time::Instant::now() + Duration::from_secs(60);
                loop {
                    let leases = store
                        .claim_due(&worker, Utc::now(), ttl, limit)
                        .await
                        .unwrap();
                    if leases.is_empty() {
                        if completed.load(Ordering::SeqCst) == UNITS {
                            return steps_done;
                        }
                        assert!(
                            std::time::Instant::now() < give_up,
                            "{worker} waited too long"
                        );
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    for lease in leases {
                        record(
                            &lease.scope,
                            Event::Claimed(worker.clone(), lease.generation),
                        );
                        let mut lease = lease;
                        let mut cursor: u32 = store
                            .load_cursor(&lease.scope)
                            .await
                            .unwrap()
                            .map(|c| c.parse().unwrap())
                            .unwrap_or(0);
                        while cursor < STEPS {
                            // The work of one step, then its cursor, committed through the lease.
                            tokio::task::yield_now().await;
                            cursor += 1;
                            record(&lease.scope, Event::Step(worker.clone(), cursor));
                            assert!(
                                store
                                    .commit_cursor(&lease, &cursor.to_string())
                                    .await
                                    .unwrap()
                            );
                            steps_done += 1;
                            if w == 0 {
                                // Dies after its first step: no renewal, no release.
                                record(&lease.scope, Event::Died(worker.clone()));
                                return steps_done;
                            }
                            lease = store.renew(&lease, Utc::now(), ttl).await.unwrap().unwrap();
                        }
                        record(&lease.scope, Event::Ended(worker.clone()));
                        let next = Utc::now() + TimeDelta::days(1);
                        assert!(store.release(&lease, next).await.unwrap());
                        completed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        let mut total = 0;
        let mut per_worker = Vec::new();
        for h in handles {
            let n = h.await.unwrap();
            per_worker.push(n);
            total += n;
        }
        assert_eq!(total as usize, UNITS * STEPS as usize, "{per_worker:?}");
        assert_eq!(per_worker[0], 1, "worker-0 did one step and died");
        assert!(
            per_worker[1..].iter().filter(|n| **n > 0).count() >= 2,
            "the work was shared: {per_worker:?}"
        );

        // Replay the history per unit: one holder at a time, steps 1..=STEPS exactly once each.
        let history = history.lock().unwrap().clone();
        let mut holder: BTreeMap<Scope, Option<String>> = BTreeMap::new();
        let mut steps: BTreeMap<Scope, Vec<u32>> = BTreeMap::new();
        let mut generations: BTreeMap<Scope, i64> = BTreeMap::new();
        let mut taken_over = 0;
        for (scope, event) in &history {
            let h = holder.entry(scope.clone()).or_default();
            match event {
                Event::Claimed(w, generation) => {
                    assert!(h.is_none(), "{scope} claimed by {w} while held by {h:?}");
                    let last = generations.entry(scope.clone()).or_insert(0);
                    assert!(*generation > *last, "generations grow");
                    if *last > 0 {
                        taken_over += 1;
                    }
                    *last = *generation;
                    *h = Some(w.clone());
                }
                Event::Step(w, n) => {
                    assert_eq!(
                        h.as_deref(),
                        Some(w.as_str()),
                        "{scope}: step by a non-holder"
                    );
                    steps.entry(scope.clone()).or_default().push(*n);
                }
                Event::Ended(w) | Event::Died(w) => {
                    assert_eq!(h.as_deref(), Some(w.as_str()));
                    *h = None;
                }
            }
        }
        assert_eq!(taken_over, 1, "the dead worker's unit was taken over once");
        assert_eq!(steps.len(), UNITS);
        for (scope, s) in &steps {
            assert_eq!(s, &(1..=STEPS).collect::<Vec<_>>(), "{scope}");
            assert_eq!(
                store.load_cursor(scope).await.unwrap().as_deref(),
                Some(STEPS.to_string().as_str())
            );
        }
        assert!(holder.values().all(Option::is_none));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::state::MemoryStore;

    #[tokio::test]
    async fn hold_renews_while_the_work_runs() {
        let q = MemoryStore::new();
        let scope = Scope::new("orders", "t1");
        q.register(&scope, Utc::now()).await.unwrap();
        let ttl = Duration::from_millis(60);
        let lease = q
            .claim_due("a", Utc::now(), ttl, 1)
            .await
            .unwrap()
            .remove(0);
        let first_expiry = lease.expires_at;
        let work = async {
            // Four times the time to live: without renewal another worker would take over.
            for _ in 0..8 {
                tokio::time::sleep(Duration::from_millis(30)).await;
                assert!(
                    q.claim_due("b", Utc::now(), ttl, 1)
                        .await
                        .unwrap()
                        .is_empty()
                );
            }
            7
        };
        let (out, lease) = hold(&q, lease, ttl, work).await.unwrap();
        assert_eq!(out, 7);
        assert!(lease.expires_at > first_expiry);
        assert!(q.release(&lease, Utc::now()).await.unwrap());
    }

    #[tokio::test]
    async fn hold_stops_the_work_when_the_lease_is_lost() {
        let q = Arc::new(MemoryStore::new());
        let scope = Scope::new("orders", "t1");
        q.register(&scope, Utc::now()).await.unwrap();
        let ttl = Duration::from_millis(60);
        let lease = q
            .claim_due("a", Utc::now(), ttl, 1)
            .await
            .unwrap()
            .remove(0);
        let finished = AtomicBool::new(false);
        let thief = {
            let q = Arc::clone(&q);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                // A worker whose clock says the lease expired claims the unit.
                let later = Utc::now() + TimeDelta::hours(1);
                q.claim_due("b", later, ttl, 1).await.unwrap()
            })
        };
        let work = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            finished.store(true, Ordering::SeqCst);
        };
        let started = std::time::Instant::now();
        let err = hold(&*q, lease, ttl, work).await.unwrap_err();
        assert!(
            matches!(err, HoldError::Lost(ref s) if *s == scope),
            "{err}"
        );
        assert!(!finished.load(Ordering::SeqCst), "the work was stopped");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(thief.await.unwrap().len(), 1);
        assert_eq!(
            q.unit(&scope).await.unwrap().unwrap().worker.as_deref(),
            Some("b")
        );
    }
}
