//! The harness behind "Time under the documented rate limits": sandboxes enforcing the
//! documented limits and clients pacing themselves, on tokio's paused clock. These tests check
//! that the simulated time is the time the limits allow (not inflated by timers firing while a
//! request is in flight on loopback), that the sandboxes really enforce the limits, and that a
//! run on the paused clock makes exactly the requests an unpaced run makes.

#[path = "../common/scenario.rs"]
mod scenario;

use std::time::Duration;

use business_central::query::Query;
use lightspeed_x::sandbox::{Sandbox as LsSandbox, SandboxConfig};
use scenario::{BC_LIMIT, Limits, Requests, Scale, Stopwatch, Timing, ls_limit, paced_secs};

const WINDOW: Duration = Duration::from_secs(300);
/// Measured and predicted agree to the millisecond; network time on the paused clock is nil.
const TOLERANCE: f64 = 0.05;

async fn ls_store(budget: u64) -> LsSandbox {
    LsSandbox::start_with(
        SandboxConfig {
            rate_limit: Some((budget as u32, WINDOW)),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap()
}

/// `n` reads from a paced Lightspeed client (one register: 350 per 5 minutes) take what the
/// limiter model predicts, and the sandbox answers no 429.
#[tokio::test(start_paused = true)]
async fn lightspeed_reads_take_the_paced_time() {
    scenario::guarded(lightspeed_reads()).await;
}

async fn lightspeed_reads() {
    let budget = ls_limit(1);
    let ls = ls_store(budget.0).await;
    let client = ls
        .client_builder()
        .rate_limit(lightspeed_x::documented_rate_limit(1))
        .build()
        .await
        .unwrap();
    let n = 400;
    let watch = Stopwatch::start((ls.stats().throttled, 0, client.stats().retries));
    for _ in 0..n {
        client.outlets().list().page().await.unwrap();
    }
    let t = watch.stop((ls.stats().throttled, 0, client.stats().retries));
    let want = paced_secs(n, budget);
    eprintln!("{n} requests: {t:?}, formula {want:.3} s");
    assert_eq!((t.throttled(), t.retries), (0, 0), "{t:?}");
    assert!((t.secs() - want).abs() <= TOLERANCE, "{t:?} vs {want:.3} s");
    assert_eq!(ls.stats().requests, n);
}

/// The same for Business Central at its documented 6,000 per 5 minutes, past a full window.
#[tokio::test(start_paused = true)]
async fn business_central_reads_take_the_paced_time() {
    scenario::guarded(business_central_reads()).await;
}

async fn business_central_reads() {
    let bc = business_central::sandbox::Sandbox::builder()
        .rate_limit(BC_LIMIT.0 as u32, WINDOW)
        .start()
        .await
        .unwrap();
    let client = bc.client();
    // Past a full window: a burst of 600, then 5,400 evenly spaced over 5 minutes, then more.
    let n = 6_100;
    let watch = Stopwatch::start((0, bc.stats().throttled, client.stats().retries));
    for _ in 0..n {
        client.companies().list_all(Query::new()).await.unwrap();
    }
    let t = watch.stop((0, bc.stats().throttled, client.stats().retries));
    let want = paced_secs(n, BC_LIMIT);
    eprintln!("{n} requests: {t:?}, formula {want:.3} s");
    assert_eq!((t.throttled(), t.retries), (0, 0), "{t:?}");
    assert!((t.secs() - want).abs() <= TOLERANCE, "{t:?} vs {want:.3} s");
}

/// Without the client's pacing, the sandbox answers 429 from the first request over the
/// budget: the limit the times above are measured under is really enforced.
#[tokio::test(start_paused = true)]
async fn the_sandbox_enforces_the_budget() {
    let budget = ls_limit(1);
    let ls = ls_store(budget.0).await;
    let client = ls
        .client_builder()
        .retry(lightspeed_x::RetryPolicy::none())
        .build()
        .await
        .unwrap();
    let watch = Stopwatch::start((ls.stats().throttled, 0, client.stats().retries));
    for _ in 0..budget.0 {
        client.outlets().list().page().await.unwrap();
    }
    let over = client.outlets().list().page().await;
    let t: Timing = watch.stop((ls.stats().throttled, 0, client.stats().retries));
    assert!(
        matches!(over, Err(lightspeed_x::Error::RateLimited { .. })),
        "{over:?}"
    );
    assert_eq!(t.ls_throttled, 1, "{t:?}");
    assert_eq!(t.elapsed, Duration::ZERO, "unpaced, nothing waits");
}

const SCALE: Scale = Scale {
    customers: 60,
    product_families: 60,
    days: 2,
    sales_per_day: 40,
};

/// Requests and timings of the runs the bench measures, in order: baseline initial, ours
/// initial, ours with nothing changed, ours and the baseline after 1% changed, stock ours and
/// baseline.
async fn runs(limits: Limits) -> Vec<(&'static str, Requests, Timing)> {
    use scenario::*;
    let w = world_with(SCALE, limits).await;
    let registers = w.ls.state().registers().live().len() as u64;
    assert_eq!(
        registers, LS_REGISTERS,
        "the budget assumes one register per outlet"
    );
    let runner = runner();
    let flows = flows(&w.accounts);
    let mut out = Vec::new();
    let watch = Stopwatch::start(w.baseline_counters());
    let r = run_baseline(&w).await;
    out.push(("baseline initial", r, watch.stop(w.baseline_counters())));
    for name in ["ours initial", "ours nothing changed"] {
        w.idle().await;
        let watch = Stopwatch::start(w.counters());
        let r = run_ours(&w, &runner, &flows).await.requests;
        out.push((name, r, watch.stop(w.counters())));
    }
    w.change_one_percent();
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let r = run_ours(&w, &runner, &flows).await.requests;
    out.push(("ours 1% changed", r, watch.stop(w.counters())));
    w.idle().await;
    let watch = Stopwatch::start(w.baseline_counters());
    let r = run_baseline(&w).await;
    out.push(("baseline 1% changed", r, watch.stop(w.baseline_counters())));
    let (ours, theirs) = stock_outlets(&w);
    set_bc_stock(&w, 0, 1);
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let r = run_stock(&w, &runner, &ours).await.requests;
    out.push(("stock ours", r, watch.stop(w.counters())));
    w.idle().await;
    let watch = Stopwatch::start(w.baseline_counters());
    let r = run_stock_baseline(&w, &theirs).await.requests;
    out.push(("stock baseline", r, watch.stop(w.baseline_counters())));
    out
}

/// Under the documented limits on the paused clock, the flows and the baseline make exactly the
/// requests they make unpaced, the sandboxes answer no 429, and each run takes at least the
/// time its request counts need through the clients' limiters.
#[test]
fn paced_runs_make_the_same_requests_as_unpaced() {
    let unpaced = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(runs(Limits::Off));
    let paced = scenario::paused_runtime().block_on(scenario::guarded(runs(Limits::Documented)));
    let ls_budget = ls_limit(scenario::LS_REGISTERS);
    for ((name, want, _), (_, got, t)) in unpaced.iter().zip(&paced) {
        let bound = paced_secs(got.ls(), ls_budget).max(paced_secs(got.bc(), BC_LIMIT));
        eprintln!("{name}: {got:?} in {t:?} (limiter bound {bound:.1} s)");
        assert_eq!(got, want, "{name}");
        assert_eq!((t.throttled(), t.retries), (0, 0), "{name}: {t:?}");
        assert!(
            t.secs() >= bound - TOLERANCE,
            "{name}: {t:?}, bound {bound} s"
        );
    }
    assert_eq!(unpaced.len(), paced.len());
    // The per-record way is over the Business Central burst even at this scale: pacing binds.
    assert!(paced[0].2.secs() > 10.0, "{:?}", paced[0]);
}

#[path = "../common/tmas_paced.rs"]
mod tmas_paced;
#[path = "../common/tmas.rs"]
mod tmas_scenario;

/// The TMAS flow under the 50-register store's limit reads exactly what it reads unpaced, with
/// no 429 (its reads are within the burst: no wait either).
#[tokio::test(start_paused = true)]
async fn tmas_paced_reads_like_unpaced() {
    let w = tmas_scenario::tmas_world(1).await;
    let dir = tempfile::tempdir().unwrap();
    let unpaced = tmas_scenario::run_tmas(&w, dir.path()).await;
    let client = tmas_paced::limit(&w).await;
    let (paced, t) = tmas_paced::run_tmas(&w, client, dir.path()).await;
    eprintln!("TMAS: unpaced {unpaced:?}, paced {paced:?} in {t:?}");
    assert_eq!((paced.reads, paced.files), (unpaced.reads, unpaced.files));
    assert_eq!(t, Timing::default(), "within the burst of 1,505");
}
