//! The TMAS runs of `tmas.rs` under Lightspeed's documented limit: the 50-register store answers
//! 429 over 300 x 50 + 50 requests per 5 minutes, and the clients pace themselves to the same
//! budget. Run on tokio's paused clock, each run's elapsed time is the time the limit imposes.
#![allow(dead_code)]

use std::time::Duration;

use crate::scenario::{Counters, Stopwatch, Timing, idle_window, ls_limit};
use crate::tmas_scenario::{self, OUTLETS, TmasPhase, TmasWorld};

/// Registers of the TMAS store (one per outlet).
pub const REGISTERS: u64 = OUTLETS as u64;

/// Makes the store enforce its documented limit and returns a client that paces to it.
pub async fn limit(w: &TmasWorld) -> lightspeed_x::Client {
    let (budget, window) = ls_limit(REGISTERS);
    w.ls.faults()
        .update(|f| f.rate_limit = Some((budget as u32, Duration::from_secs(window))));
    w.ls.client_builder()
        .rate_limit(lightspeed_x::documented_rate_limit(REGISTERS as u32))
        .build()
        .await
        .expect("client")
}

fn counters(w: &TmasWorld, client: &lightspeed_x::Client) -> Counters {
    (w.ls.stats().throttled, 0, client.stats().retries)
}

/// Our flow's first run (every outlet backfilled a month) with `client`, timed from idle
/// budgets.
pub async fn run_tmas(
    w: &TmasWorld,
    client: lightspeed_x::Client,
    dir: &std::path::Path,
) -> (TmasPhase, Timing) {
    idle_window().await;
    let watch = Stopwatch::start(counters(w, &client));
    let phase = tmas_scenario::run_tmas_with(w, client.clone(), dir).await;
    (phase, watch.stop(counters(w, &client)))
}

/// The per-record way (one sales search per outlet per local hour, 8 at a time) with `client`,
/// timed from idle budgets.
pub async fn run_tmas_baseline(w: &TmasWorld, client: lightspeed_x::Client) -> (TmasPhase, Timing) {
    idle_window().await;
    let watch = Stopwatch::start(counters(w, &client));
    let phase = tmas_scenario::run_tmas_baseline_with(w, client.clone()).await;
    (phase, watch.stop(counters(w, &client)))
}
