//! Crashes: the `pos-sync` command, a real child process, is killed with SIGKILL at many points of
//! a large run (including while a `$batch` of writes is in flight) and started again. The
//! sandboxes live in this test process, so they outlive every child. In the end Business Central
//! (and the Lightspeed stock the stock flow writes) holds exactly what an uninterrupted run
//! leaves: no record missing, none twice, lines and amounts equal; and the SQLite state file
//! survived every kill intact.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use business_central::sandbox::Sandbox as BcSandbox;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox, SandboxConfig};
use pos_http::ExposeSecret;
use pos_http::sandbox::{FaultConfig, ServedStats};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, ProductOptions, ProductsFlow, SalesFlow,
    SalesOptions, StockFlow, StockOptions,
};
use sync_core::run::{Flow, Runner};
use sync_core::state::{MemoryStore, Scope, SqliteStore, StateStore};

/// Seed of the demo data and of the kill points: a failure reproduces.
const SEED: u64 = 0x5EED_0009;

/// How many times the child is killed.
const KILLS: usize = 10;

/// The flows the child runs, in order.
const FLOWS: &str = "products,customers,sales,stock";

/// 1,200 customers (about 900 with an e-mail address), 160 product families (about 210 products
/// with the size variants) and 480
/// sales in one outlet: about 1,900 records.
fn demo() -> DemoData {
    DemoData {
        seed: SEED,
        outlets: vec![("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 160,
        customers: 1200,
        days: 4,
        sales_per_day: 120,
        ..DemoData::default()
    }
}

/// A deterministic generator (SplitMix64) for the kill points.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

async fn sandboxes() -> (LsSandbox, BcSandbox) {
    let ls = LsSandbox::start_with(SandboxConfig::default(), Some(demo()))
        .await
        .unwrap();
    // A little latency on Business Central, so that a kill often lands while a request is in
    // flight, before the sandbox applied it (the crash run also turns it off at times).
    let bc = BcSandbox::builder()
        .faults(FaultConfig {
            latency: Duration::from_millis(3),
            ..FaultConfig::none()
        })
        .start()
        .await
        .unwrap();
    (ls, bc)
}

/// The child process, pointed at the sandboxes and the state file.
fn spawn(ls: &LsSandbox, bc: &BcSandbox, state: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--flows", FLOWS])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIGHTSPEED_DOMAIN_PREFIX", &ls.config().domain_prefix)
        .env("LIGHTSPEED_TOKEN", ls.personal_token().expose_secret())
        .env("LIGHTSPEED_BASE_URL", ls.base_url().as_str())
        .env("LIGHTSPEED_RATE_LIMIT", "off")
        .env("BC_BASE_URL", bc.base_url())
        .env("BC_TOKEN_URL", bc.token_url())
        .env("BC_TENANT_ID", business_central::sandbox::TENANT)
        .env("BC_CLIENT_ID", business_central::sandbox::CLIENT_ID)
        .env("BC_CLIENT_SECRET", business_central::sandbox::CLIENT_SECRET)
        .env("BC_COMPANY_ID", bc.company_id().to_string())
        .env("BC_DEFAULT_CUSTOMER", "10000")
        .env("SYNC_STATE", state)
        .env("SYNC_LOCK_TTL", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Lets a child run to its end; its exit code and output.
async fn finish(mut child: Child) -> (i32, String) {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (status.code().unwrap_or(-1), text);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[path = "../../pos-sync-flows/tests/support/snapshot.rs"]
mod snapshot;
use snapshot::Snapshot;

/// The same flows, uninterrupted, in this process: what the targets should hold.
/// Also returns how many write requests (`$batch`es) the run sent.
async fn reference() -> (Snapshot, u64) {
    let (ls, bc) = sandboxes().await;
    let a = Accounts::new(ls.client().await.unwrap(), bc.client(), bc.company_id());
    let flows: Vec<Box<dyn Flow>> = vec![
        Box::new(ProductsFlow::new(a.clone(), ProductOptions::default())),
        Box::new(CustomersFlow::new(a.clone(), CustomerOptions::default())),
        Box::new(SalesFlow::new(
            a.clone(),
            SalesOptions {
                default_customer_number: Some("10000".into()),
                ..SalesOptions::default()
            },
        )),
        Box::new(StockFlow::new(a.clone(), StockOptions::default())),
    ];
    let runner = Runner::new(Arc::new(MemoryStore::new()));
    for f in &flows {
        let r = runner.run_once(f.as_ref(), "demo").await.unwrap();
        assert!(r.is_success(), "{r}: {:?}", r.failed);
    }
    let s = Snapshot::take(&ls, &bc);
    s.assert_no_duplicates();
    (s, writes(&bc.stats()))
}

/// Write requests served by Business Central (the token endpoint aside).
fn writes(s: &ServedStats) -> u64 {
    s.count("POST /v2.0/") + s.count("PATCH /v2.0/")
}

/// Where a child is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// When the child has made this many Business Central requests (early in its run).
    Requests(u64),
    /// When the whole crash run has sent this many write requests (and this child at least one):
    /// the last one is in flight.
    Writes(u64),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_many_points_ends_as_an_uninterrupted_run() {
    let started = Instant::now();
    let (expected, total_writes) = reference().await;
    let reference_time = started.elapsed();
    assert!(
        expected.customers.len() > 800,
        "{} customers",
        expected.customers.len()
    );
    assert!(
        expected.orders.len() > 300,
        "{} orders",
        expected.orders.len()
    );
    assert!(total_writes >= 16, "{total_writes} write requests");

    let (ls, bc) = sandboxes().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pos-sync-state.sqlite");

    // Kill points, seeded: two while a child is still reading, the others when the whole crash
    // run has sent its n-th write (a `$batch` of up to 100 records), spread over the run, so
    // every flow is cut off mid-way, with writes before it applied and writes after it not.
    let mut dice = Dice(SEED);
    let mut at_writes = std::collections::BTreeSet::new();
    while at_writes.len() < KILLS - 2 {
        at_writes.insert(2 + dice.below(total_writes - 3));
    }
    let mut plan: Vec<KillPoint> = at_writes.into_iter().map(KillPoint::Writes).collect();
    plan.insert(0, KillPoint::Requests(1 + dice.below(4)));
    plan.insert(KILLS / 2, KillPoint::Requests(1 + dice.below(4)));

    let mut kills = 0;
    let mut starts = 0;
    let mut log = Vec::new();
    for (i, point) in plan.iter().enumerate() {
        // Every other write kill without the latency: Business Central has applied the write and
        // answered by the time the kill lands (the child never reads the answer), rather than
        // the write being cut off before it was applied.
        let latency = if i % 2 == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(3)
        };
        bc.faults().update(|f| f.latency = latency);
        loop {
            starts += 1;
            assert!(starts < KILLS * 4, "too many starts: {log:#?}");
            let before = bc.stats();
            let t0 = Instant::now();
            let mut child = spawn(&ls, &bc, &state);
            let killed = loop {
                if child.try_wait().unwrap().is_some() {
                    break false;
                }
                let now = bc.stats();
                let reached = match *point {
                    KillPoint::Requests(n) => now.requests >= before.requests + n,
                    // (At least one write of its own: this child's write is the one in flight.)
                    KillPoint::Writes(n) => writes(&now) >= n.max(writes(&before) + 1),
                };
                if reached {
                    child.kill().unwrap(); // SIGKILL
                    break true;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            };
            let (code, out) = finish(child).await;
            if killed {
                kills += 1;
                log.push(format!("{point:?}: killed after {:.1?}", t0.elapsed()));
                // Its run lock lapses after SYNC_LOCK_TTL (1 s).
                tokio::time::sleep(Duration::from_millis(1000)).await;
                break;
            }
            // It ended before the kill point: the killed run's lock had not lapsed yet (75).
            log.push(format!(
                "{point:?}: exited {code} after {:.1?}",
                t0.elapsed()
            ));
            assert_eq!(
                code, 75,
                "the run ended before the kill point:\n{out}\n{log:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(kills, KILLS);
    let mid_batch = plan
        .iter()
        .filter(|p| matches!(p, KillPoint::Writes(_)))
        .count();
    let attempts = starts;

    // Then it runs to the end (waiting out the lock of the last killed run).
    let mut last = (0, String::new());
    for _ in 0..10 {
        last = finish(spawn(&ls, &bc, &state)).await;
        if last.0 != 75 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last.0, 0, "the final run succeeds:\n{}\n{log:#?}", last.1);
    // And once more: nothing left to write.
    let again = finish(spawn(&ls, &bc, &state)).await;
    assert_eq!(again.0, 0, "{}", again.1);
    let reports: Vec<&str> = again
        .1
        .lines()
        .filter(|l| l.contains(" created, "))
        .collect();
    assert_eq!(reports.len(), 4, "{}", again.1);
    for r in reports {
        assert!(
            r.contains(": 0 created, 0 updated,") && r.contains(" 0 failed;"),
            "a further run writes nothing: {r}"
        );
    }

    let got = Snapshot::take(&ls, &bc);
    got.assert_no_duplicates();
    got.assert_same_as(&expected);

    // The state file survived: intact, with every flow's cursor committed.
    let conn = rusqlite::Connection::open(&state).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let store = SqliteStore::open(&state).await.unwrap();
    // (The stock flow compares whole inventories each run: it keeps no cursor.)
    for flow in [ProductsFlow::NAME, CustomersFlow::NAME, SalesFlow::NAME] {
        assert!(
            store
                .load_cursor(&Scope::new(flow, "demo"))
                .await
                .unwrap()
                .is_some(),
            "cursor of {flow}"
        );
    }
    let records = expected.customers.len()
        + expected.items.len()
        + expected.variants.len()
        + expected.orders.len()
        + expected.stock.len();
    println!(
        "crash: {records} records in the target ({} customers, {} items, {} variants, {} orders, \
         stock of {} products); {kills} SIGKILLs ({mid_batch} with a write in flight) over {attempts} \
         starts; Business Central served {} requests, Lightspeed {}; lost 0, duplicated 0; \
         reference run {reference_time:.1?}, whole test {:.1?}\n{log:?}",
        expected.customers.len(),
        expected.items.len(),
        expected.variants.len(),
        expected.orders.len(),
        expected.stock.len(),
        bc.stats().requests,
        ls.stats().requests,
        started.elapsed()
    );
}
