//! Many workers share one PostgreSQL database and run the real customers flow (Lightspeed ->
//! Business Central) for 200 tenants, each a Lightspeed sandbox and a Business Central sandbox.
//! One worker is killed in the middle of a run, after its writes reached Business Central and
//! before its cursor was committed; another worker takes the tenant over. Every tenant runs, no
//! tenant runs on two workers at once (from the recorded history), and every tenant's Business
//! Central ends up exactly as a single worker leaves it: no customer missing, none twice.
//!
//! Needs `SYNC_TEST_DATABASE_URL` (see `scripts/pg-server.sh`); skipped without it unless
//! `SYNC_REQUIRE_POSTGRES=1`.
#![cfg(all(feature = "postgres", feature = "lightspeed-business-central"))]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use business_central::models::Customer as BcCustomer;
use chrono::{TimeDelta, Utc};
use lightspeed_x::sandbox::{DemoData, Sandbox as Lightspeed};
use pos_sync_flows::lightspeed_business_central::{Accounts, CustomerOptions, CustomersFlow};
use secrecy::SecretString;
use sync_core::run::{Flow, FlowError, RunContext, RunError, Runner};
use sync_core::state::lease::hold;
use sync_core::state::{MemoryStore, PostgresOptions, PostgresStore, Scope, StateStore, WorkQueue};
use tokio::sync::Notify;

const TENANTS: usize = 200;

fn demo() -> DemoData {
    DemoData {
        seed: 11,
        customers: 6,
        product_families: 0,
        days: 0,
        sales_per_day: 0,
        ..DemoData::default()
    }
}

struct Store {
    flow: CustomersFlow,
    _lightspeed: Lightspeed,
    bc: business_central::sandbox::Sandbox,
}

async fn store() -> Store {
    let lightspeed = Lightspeed::start_seeded(demo()).await.unwrap();
    let bc = business_central::sandbox::Sandbox::start().await.unwrap();
    let accounts = Accounts::new(
        lightspeed.client().await.unwrap(),
        bc.client(),
        bc.company_id(),
    );
    Store {
        flow: CustomersFlow::new(accounts, CustomerOptions::default()),
        _lightspeed: lightspeed,
        bc,
    }
}

/// What Business Central holds, in a comparable form.
fn customers(bc: &business_central::sandbox::Sandbox) -> Vec<(String, String, String)> {
    let mut all: Vec<_> = bc
        .entities::<BcCustomer>()
        .into_iter()
        .map(|c| {
            (
                c.email.to_lowercase(),
                c.display_name,
                format!("{:?}", c.r#type),
            )
        })
        .collect();
    all.sort();
    all
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Started(String),
    Ended(String),
    Died(String),
}

/// Routes a run to the tenant's own flow and records who ran it.
struct Fleet {
    stores: Arc<BTreeMap<String, Store>>,
    history: Arc<Mutex<Vec<(String, Event)>>>,
    worker: String,
    /// Set for the worker that is killed: it runs the flow's writes, says so, and never returns.
    dies: Option<Arc<Notify>>,
}

#[async_trait::async_trait]
impl Flow for Fleet {
    fn name(&self) -> &str {
        "customers"
    }
    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        let tenant = ctx.tenant().to_owned();
        let record = |e: Event| self.history.lock().unwrap().push((tenant.clone(), e));
        record(Event::Started(self.worker.clone()));
        self.stores[&tenant].flow.run(ctx).await?;
        if let Some(killed) = &self.dies {
            // Business Central has the writes; the cursor is staged but never committed.
            killed.notify_one();
            std::future::pending::<()>().await;
        }
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
async fn four_workers_sync_200_stores_through_the_sandboxes() {
    let Some(url) = test_url() else {
        return;
    };

    // What one worker alone leaves in Business Central (the demo data is the same for every store).
    let reference = store().await;
    let single = Runner::new(Arc::new(MemoryStore::new()));
    let report = single.run_once(&reference.flow, "reference").await.unwrap();
    assert!(report.created > 0, "{report}");
    let expected = customers(&reference.bc);

    let schema = format!(
        "t_fleet_{}_{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos()
    );
    let options = PostgresOptions::default()
        .schema(schema.clone())
        .max_connections(4);
    let admin = PostgresStore::connect_with(&url, options.clone())
        .await
        .unwrap();
    let tenants: Vec<String> = (0..TENANTS).map(|i| format!("store-{i:03}")).collect();
    let mut stores = BTreeMap::new();
    for t in &tenants {
        stores.insert(t.clone(), store().await);
        admin
            .register(&Scope::new("customers", t), Utc::now())
            .await
            .unwrap();
    }
    let stores = Arc::new(stores);
    let history: Arc<Mutex<Vec<(String, Event)>>> = Arc::default();

    let completed = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(Notify::new());
    let mut workers = Vec::new();
    for w in 0..4 {
        let db = Arc::new(
            PostgresStore::connect_with(&url, options.clone())
                .await
                .unwrap(),
        );
        let name = format!("worker-{w}");
        let dies = w == 0;
        let ttl = if dies {
            Duration::from_millis(300)
        } else {
            Duration::from_secs(10)
        };
        let runner = Runner::new(db.clone() as Arc<dyn StateStore>).lock_ttl(ttl);
        let flow = Fleet {
            stores: Arc::clone(&stores),
            history: Arc::clone(&history),
            worker: name.clone(),
            dies: dies.then(|| Arc::clone(&killed)),
        };
        let completed = Arc::clone(&completed);
        workers.push(tokio::spawn(async move {
            let mut runs = 0usize;
            let mut idle = 0;
            while completed.load(Ordering::SeqCst) < TENANTS {
                let leases = db
                    .claim_due(&name, Utc::now(), ttl, if dies { 1 } else { 2 })
                    .await
                    .unwrap();
                if leases.is_empty() {
                    idle += 1;
                    assert!(idle < 2000, "{name} waited too long");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                for lease in leases {
                    let tenant = lease.scope.tenant.clone();
                    let (result, lease) = hold(&*db, lease, ttl, runner.run_once(&flow, &tenant))
                        .await
                        .unwrap();
                    match result {
                        Ok(report) => {
                            assert!(report.is_success(), "{report}");
                            runs += 1;
                            assert!(
                                db.release(&lease, Utc::now() + TimeDelta::days(1))
                                    .await
                                    .unwrap()
                            );
                            completed.fetch_add(1, Ordering::SeqCst);
                        }
                        // The killed worker's run lock has not expired yet: try again shortly.
                        Err(RunError::AlreadyRunning(_)) => {
                            let soon = Utc::now() + TimeDelta::milliseconds(50);
                            assert!(db.release(&lease, soon).await.unwrap());
                        }
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
            }
            runs
        }));
    }

    killed.notified().await;
    let dead = workers.remove(0);
    dead.abort();
    assert!(dead.await.unwrap_err().is_cancelled());
    let victim = {
        let mut h = history.lock().unwrap();
        let victim = h
            .iter()
            .find(|(_, e)| *e == Event::Started("worker-0".into()))
            .map(|(t, _)| t.clone())
            .unwrap();
        h.push((victim.clone(), Event::Died("worker-0".into())));
        victim
    };

    let mut per_worker = Vec::new();
    for h in workers {
        per_worker.push(h.await.unwrap());
    }
    assert_eq!(per_worker.iter().sum::<usize>(), TENANTS, "{per_worker:?}");

    // Never two runs of one store at once; the victim ran again; every store ran.
    let history = history.lock().unwrap().clone();
    let mut running: BTreeMap<&str, &str> = BTreeMap::new();
    let mut started: BTreeMap<&str, usize> = BTreeMap::new();
    for (tenant, event) in &history {
        match event {
            Event::Started(w) => {
                assert!(
                    running.insert(tenant, w).is_none(),
                    "{tenant} ran twice at once"
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
    assert_eq!(started[victim.as_str()], 2);

    // Every store's Business Central equals the single worker's: none missing, none twice.
    for t in &tenants {
        assert_eq!(customers(&stores[t].bc), expected, "{t}");
    }
    let victim_runs = admin
        .runs(&Scope::new("customers", &victim), 10)
        .await
        .unwrap();
    let replayed = victim_runs
        .iter()
        .find(|r| r.status == sync_core::run::RunStatus::Succeeded)
        .unwrap();
    // The replacement found the killed run's customers in place: nothing created twice.
    assert_eq!(replayed.created, 0, "{replayed:?}");

    let client = admin.pool().get().await.unwrap();
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}
