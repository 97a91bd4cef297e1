//! Many workers share one PostgreSQL database: four workers, each with its own connection pool
//! and runner (as separate processes would be), run a customer flow for 200 tenants through
//! leases. One worker dies mid-run; its tenant is taken over. Every tenant runs, no tenant runs
//! on two workers at once (checked from the recorded history), and the targets end up as a
//! single worker would leave them.
//!
//! Needs `SYNC_TEST_DATABASE_URL` (see `scripts/pg-server.sh`); skipped without it unless
//! `SYNC_REQUIRE_POSTGRES=1`.
#![cfg(feature = "postgres")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use secrecy::SecretString;
use sync_core::fields::Fields;
use sync_core::key::{Email, KeyError, Keyed};
use sync_core::run::{Flow, FlowError, RunContext, RunError, RunStatus, Runner};
use sync_core::state::lease::hold;
use sync_core::state::{PostgresOptions, PostgresStore, Scope, StateStore, WorkQueue};
use sync_core::upsert::{MemoryTarget, Planner, SourceRecord};
use tokio::sync::Notify;

const TENANTS: usize = 200;
const PER_TENANT: usize = 3;

#[derive(Debug, Clone)]
struct Customer {
    id: String,
    email: String,
    name: String,
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
        Fields::new().with("name", self.name.as_str())
    }
}

fn source(tenant: &str) -> Vec<Customer> {
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
    (0..PER_TENANT)
        .map(|i| Customer {
            id: format!("{tenant}-{i}"),
            email: format!("c{i}@{tenant}.example"),
            name: format!("Customer {i} of {tenant}"),
            modified: t + TimeDelta::minutes(i as i64),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Started(String),
    Ended(String),
    Died(String),
}

/// What the workers share: the tenants' targets (the remote API) and the run history.
#[derive(Default)]
struct World {
    targets: BTreeMap<String, MemoryTarget<Email>>,
    history: Mutex<Vec<(String, Event)>>,
}

struct Customers {
    world: Arc<World>,
    worker: String,
    planner: Planner,
    /// Set for the worker that dies: it writes one record, says so, and never returns.
    dies: Option<Arc<Notify>>,
}

#[async_trait::async_trait]
impl Flow for Customers {
    fn name(&self) -> &str {
        "customers"
    }
    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        let tenant = ctx.tenant().to_owned();
        let record = |e: Event| self.world.history.lock().unwrap().push((tenant.clone(), e));
        record(Event::Started(self.worker.clone()));
        let target = &self.world.targets[&tenant];
        let records = source(&tenant);
        if let Some(mid_run) = &self.dies {
            ctx.upsert(&self.planner, records[..1].to_vec(), target)
                .await?;
            mid_run.notify_one();
            std::future::pending::<()>().await;
        }
        ctx.upsert(&self.planner, records, target).await?;
        ctx.stage_cursor(&"done")?;
        record(Event::Ended(self.worker.clone()));
        Ok(())
    }
}

fn test_url() -> Option<SecretString> {
    match std::env::var("SYNC_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(SecretString::from(url)),
        _ => {
            assert!(
                std::env::var("SYNC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SYNC_REQUIRE_POSTGRES=1 but SYNC_TEST_DATABASE_URL is not set"
            );
            eprintln!("skipped: set SYNC_TEST_DATABASE_URL to run the PostgreSQL tests");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_share_200_tenants_and_replace_a_dead_one() {
    let Some(url) = test_url() else {
        return;
    };
    let schema = format!(
        "t_workers_it_{}_{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos()
    );
    let options = PostgresOptions::default()
        .schema(schema.clone())
        .max_connections(4);
    let admin = PostgresStore::connect_with(&url, options.clone())
        .await
        .unwrap();
    let tenants: Vec<String> = (0..TENANTS).map(|i| format!("shop-{i:03}")).collect();
    let world = Arc::new(World {
        targets: tenants
            .iter()
            .map(|t| (t.clone(), MemoryTarget::new()))
            .collect(),
        history: Mutex::default(),
    });
    for t in &tenants {
        admin
            .register(&Scope::new("customers", t), Utc::now())
            .await
            .unwrap();
    }

    let completed = Arc::new(AtomicUsize::new(0));
    let mid_run = Arc::new(Notify::new());
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = Arc::new(
            PostgresStore::connect_with(&url, options.clone())
                .await
                .unwrap(),
        );
        let name = format!("worker-{w}");
        let dies = w == 0;
        // The dying worker's lease and run lock are short, so its tenant is taken over soon.
        let ttl = if dies {
            Duration::from_millis(300)
        } else {
            Duration::from_secs(10)
        };
        let runner = Runner::new(store.clone() as Arc<dyn StateStore>).lock_ttl(ttl);
        let flow = Customers {
            world: Arc::clone(&world),
            worker: name.clone(),
            planner: Planner::new(),
            dies: dies.then(|| Arc::clone(&mid_run)),
        };
        let completed = Arc::clone(&completed);
        workers.push(tokio::spawn(async move {
            let mut runs = 0usize;
            let mut idle = 0;
            while completed.load(Ordering::SeqCst) < TENANTS {
                let limit = if dies { 1 } else { 2 };
                let leases = store
                    .claim_due(&name, Utc::now(), ttl, limit)
                    .await
                    .unwrap();
                if leases.is_empty() {
                    idle += 1;
                    assert!(idle < 1000, "{name} waited too long");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                for lease in leases {
                    let tenant = lease.scope.tenant.clone();
                    let (result, lease) =
                        hold(&*store, lease, ttl, runner.run_once(&flow, &tenant))
                            .await
                            .unwrap();
                    match result {
                        Ok(report) => {
                            assert!(report.is_success(), "{report}");
                            runs += 1;
                            let next = Utc::now() + TimeDelta::days(1);
                            assert!(store.release(&lease, next).await.unwrap());
                            completed.fetch_add(1, Ordering::SeqCst);
                        }
                        // The dead worker's run lock has not expired yet: try again shortly.
                        Err(RunError::AlreadyRunning(_)) => {
                            let soon = Utc::now() + TimeDelta::milliseconds(50);
                            assert!(store.release(&lease, soon).await.unwrap());
                        }
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
            }
            runs
        }));
    }

    // Worker 0 is killed in the middle of its first run: no release, no unlock, no report.
    mid_run.notified().await;
    let dead = workers.remove(0);
    dead.abort();
    assert!(dead.await.unwrap_err().is_cancelled());
    let victim = {
        let mut history = world.history.lock().unwrap();
        let victim = history
            .iter()
            .find(|(_, e)| *e == Event::Started("worker-0".into()))
            .map(|(t, _)| t.clone())
            .unwrap();
        history.push((victim.clone(), Event::Died("worker-0".into())));
        victim
    };

    let mut per_worker = Vec::new();
    for h in workers {
        per_worker.push(h.await.unwrap());
    }
    assert_eq!(per_worker.iter().sum::<usize>(), TENANTS, "{per_worker:?}");
    assert!(
        per_worker.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_worker:?}"
    );

    // One runner per tenant at a time, from the recorded history.
    let history = world.history.lock().unwrap().clone();
    let mut running: BTreeMap<&str, &str> = BTreeMap::new();
    let mut started: BTreeMap<&str, usize> = BTreeMap::new();
    for (tenant, event) in &history {
        match event {
            Event::Started(w) => {
                assert!(
                    running.insert(tenant, w).is_none(),
                    "{tenant} started on {w} while running on {:?}",
                    running.get(tenant.as_str())
                );
                *started.entry(tenant).or_default() += 1;
            }
            Event::Ended(w) | Event::Died(w) => {
                assert_eq!(running.remove(tenant.as_str()), Some(w.as_str()));
            }
        }
    }
    assert!(running.is_empty());
    assert_eq!(started.len(), TENANTS);
    assert_eq!(
        started[victim.as_str()],
        2,
        "the dead worker's tenant ran again"
    );
    assert_eq!(started.values().sum::<usize>(), TENANTS + 1);

    // The outcome equals a single worker's: every record once, one successful run per tenant.
    let (mut created, mut unchanged) = (0, 0);
    for t in &tenants {
        let target = &world.targets[t];
        assert_eq!(target.len(), PER_TENANT, "{t}");
        for c in source(t) {
            assert!(target.get(&c.key().unwrap()).is_some(), "{t}: {}", c.id);
        }
        let scope = Scope::new("customers", t);
        let runs = admin.runs(&scope, 10).await.unwrap();
        let ok: Vec<_> = runs
            .iter()
            .filter(|r| r.status == RunStatus::Succeeded)
            .collect();
        assert_eq!(ok.len(), 1, "{t}: {runs:?}");
        created += ok[0].created;
        unchanged += ok[0].unchanged;
        assert_eq!(
            admin.load_cursor(&scope).await.unwrap().as_deref(),
            Some("\"done\"")
        );
    }
    // The dead run had written one record of its tenant before dying.
    assert_eq!((created, unchanged), (TENANTS * PER_TENANT - 1, 1));

    let client = admin.pool().get().await.unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
