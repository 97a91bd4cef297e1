//! Requests per synced record: our Lightspeed -> Business Central flows (customers, products,
//! sales as orders) against the per-record way and the floor the APIs allow, on the same seeded
//! data, in one run. Prints a markdown table and writes it into `BENCHMARKS.md`.
//!
//! Everything runs on tokio's paused clock with the sandboxes enforcing the documented rate
//! limits and the clients pacing to them, so the same run also gives the time each run needs
//! under those limits (simulated: waiting for the limiter costs no real time).
//!
//! `cargo bench -p pos-sync-benches --bench requests` (full data set);
//! `BENCH_SCALE=0.1 cargo bench -p pos-sync-benches --bench requests` (a tenth of it).

#[path = "../common/scenario.rs"]
mod scenario;
#[path = "../common/section.rs"]
mod section;
#[path = "../common/tmas_paced.rs"]
mod tmas_paced;
#[path = "../common/tmas.rs"]
mod tmas_scenario;

use std::fmt::Write as _;
use std::time::Instant;

use scenario::{
    BC_LIMIT, LS_REGISTERS, Limits, Requests, Scale, Stopwatch, Timing, floor, flows, guarded,
    human_secs, ls_limit, paced_secs, paused_runtime, run_baseline, run_ours, run_stock,
    run_stock_baseline, runner, set_bc_stock, stock_floor, stock_outlets, stock_source, world_with,
};
use tmas_scenario::{tmas_floor, tmas_world};

const HEADING: &str = "## Requests per synced record";

fn per_record(r: &Requests, records: u64) -> String {
    if records == 0 {
        "—".to_owned()
    } else {
        format!("{:.3}", r.total() as f64 / records as f64)
    }
}

/// One row of the rate-limit table: requests to each API, the simulated time the run took
/// under the documented limits, the 429s the sandboxes answered and the clients' retries, and
/// the least time the clients' limiter model allows for those requests.
fn paced_row(
    out: &mut String,
    phase: &str,
    who: &str,
    r: &Requests,
    t: &Timing,
    ls_budget: (u64, u64),
) {
    let bound = paced_secs(r.ls(), ls_budget).max(paced_secs(r.bc(), BC_LIMIT));
    let _ = writeln!(
        out,
        "| {phase} | {who} | {} | {} | **{}** | {} / {} | {} |",
        r.ls(),
        r.bc(),
        human_secs(t.secs()),
        t.throttled(),
        t.retries,
        human_secs(bound),
    );
}

fn row(out: &mut String, phase: &str, who: &str, r: &Requests, records: u64) {
    let _ = writeln!(
        out,
        "| {phase} | {who} | {} ({} reads, {} writes) | {} ({} reads, {} writes) | {} | {} |",
        r.ls(),
        r.ls_reads,
        r.ls_writes,
        r.bc(),
        r.bc_reads,
        r.bc_writes,
        r.total(),
        per_record(r, records)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    paused_runtime().block_on(guarded(bench()));
}

async fn bench() {
    let started = Instant::now();
    let (factor, scale) = Scale::from_env();
    let w = world_with(scale, Limits::Documented).await;
    let src = w.source();
    eprintln!("seeded in {:.1?}: {src:?}", started.elapsed());

    // Each run starts from idle rate-limit budgets (`w.idle()` lets a window pass on the
    // paused clock) and is timed on that clock.
    let t = Instant::now();
    let watch = Stopwatch::start(w.baseline_counters());
    let base_initial = run_baseline(&w).await;
    let base_initial_t = watch.stop(w.baseline_counters());
    w.idle().await;
    let watch = Stopwatch::start(w.baseline_counters());
    let base_quiet = run_baseline(&w).await;
    let base_quiet_t = watch.stop(w.baseline_counters());
    eprintln!(
        "baseline initial + quiet in {:.1?} (simulated {base_initial_t:?}, {base_quiet_t:?})",
        t.elapsed()
    );

    let t = Instant::now();
    let runner = runner();
    let flows = flows(&w.accounts);
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let initial = run_ours(&w, &runner, &flows).await;
    let initial_t = watch.stop(w.counters());
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let quiet = run_ours(&w, &runner, &flows).await;
    let quiet_t = watch.stop(w.counters());
    eprintln!(
        "ours initial + quiet in {:.1?} (simulated {initial_t:?}, {quiet_t:?})",
        t.elapsed()
    );
    for r in initial.reports.iter().chain(&quiet.reports) {
        eprintln!("  {r}");
    }

    let changed = w.change_one_percent();
    let t = Instant::now();
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let after = run_ours(&w, &runner, &flows).await;
    let after_t = watch.stop(w.counters());
    w.idle().await;
    let watch = Stopwatch::start(w.baseline_counters());
    let base_after = run_baseline(&w).await;
    let base_after_t = watch.stop(w.baseline_counters());
    eprintln!(
        "1% changed ({changed} records) in {:.1?} (simulated {after_t:?}, {base_after_t:?})",
        t.elapsed()
    );
    for r in &after.reports {
        eprintln!("  {r}");
    }

    // Stock: Business Central -> Lightspeed inventory, ours to the first outlet, the baseline
    // to the second, after every item's stock changed; then again with nothing changed.
    let (ours_outlet, base_outlet) = stock_outlets(&w);
    let items_set = set_bc_stock(&w, 0, 1);
    let stock_src = stock_source(&w);
    let t = Instant::now();
    w.idle().await;
    let watch = Stopwatch::start(w.counters());
    let stock = run_stock(&w, &runner, &ours_outlet).await;
    let stock_t = watch.stop(w.counters());
    w.idle().await;
    let watch = Stopwatch::start(w.baseline_counters());
    let stock_base = run_stock_baseline(&w, &base_outlet).await;
    let stock_base_t = watch.stop(w.baseline_counters());
    w.idle().await;
    let stock_quiet = run_stock(&w, &runner, &ours_outlet).await;
    w.idle().await;
    let stock_base_quiet = run_stock_baseline(&w, &base_outlet).await;
    eprintln!(
        "stock ({items_set} items set, {stock_src:?}) in {:.1?}: ours {stock:?} (simulated \
         {stock_t:?}), baseline {stock_base:?} (simulated {stock_base_t:?})",
        t.elapsed()
    );

    // TMAS: a month of hourly data for 50 outlets.
    let t = Instant::now();
    let per_day = ((10.0 * factor).round() as u32).max(1);
    let tw = tmas_world(per_day).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let tmas_client = tmas_paced::limit(&tw).await;
    let (tmas, tmas_t) = tmas_paced::run_tmas(&tw, tmas_client.clone(), dir.path()).await;
    let (tmas_base, tmas_base_t) = tmas_paced::run_tmas_baseline(&tw, tmas_client).await;
    let tmas_fl = tmas_floor(&tw);
    eprintln!(
        "tmas ({} sales, {} closed, {} shifts) in {:.1?}: ours {tmas:?} (simulated {tmas_t:?}), \
         baseline {tmas_base:?} (simulated {tmas_base_t:?}), floor {tmas_fl:?}",
        tw.sales,
        tw.closed,
        tw.shifts,
        t.elapsed()
    );

    let rows = [src.customers, src.products, src.sales];
    let floor_initial = floor(rows, 3, initial.written);
    let floor_quiet = floor([0; 3], 0, [0; 3]);
    let floor_after = floor([1; 3], 0, after.written);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{HEADING} (`cargo bench -p pos-sync-benches --bench requests`)\n"
    );
    let _ = writeln!(
        out,
        "Lightspeed sandbox seeded with {} customers ({} with a company name), {} products ({} \
         families with size variants), {} sales over 2 outlets of which {} are closed and become \
         orders with {} lines in all (`BENCH_SCALE={factor}`). The Lightspeed demo generator makes \
         sales of 1 to 3 lines, a quarter of them parked or voided, and one return a day per outlet; \
         the issue's 1 to 5 lines are used for the new sales of the 1% run.",
        src.customers,
        src.companies,
        src.products,
        src.with_variants,
        src.sales,
        src.eligible_sales,
        src.lines,
    );
    let _ = writeln!(
        out,
        "\n| run | who | Lightspeed | Business Central | total | per synced record |\n|---|---|---|---|---|---|"
    );
    let n0 = initial.records();
    row(&mut out, "initial", "**ours**", &initial.requests, n0);
    row(
        &mut out,
        "initial",
        "per-record baseline",
        &base_initial,
        n0,
    );
    row(&mut out, "initial", "floor", &floor_initial, n0);
    row(&mut out, "nothing changed", "**ours**", &quiet.requests, 0);
    row(
        &mut out,
        "nothing changed",
        "per-record baseline",
        &base_quiet,
        0,
    );
    row(&mut out, "nothing changed", "floor", &floor_quiet, 0);
    let n2 = after.records();
    row(&mut out, "1% changed", "**ours**", &after.requests, n2);
    row(
        &mut out,
        "1% changed",
        "per-record baseline",
        &base_after,
        n2,
    );
    row(&mut out, "1% changed", "floor", &floor_after, n2);
    let _ = writeln!(
        out,
        "\nInitial sync: ours is {:.2} x the floor, the per-record way {:.0} x.",
        initial.requests.total() as f64 / floor_initial.total().max(1) as f64,
        base_initial.total() as f64 / floor_initial.total().max(1) as f64,
    );
    let _ = writeln!(
        out,
        "\nSynced records: {n0} in the initial run (customers with an e-mail address, items and \
         item variants, orders), {n2} after {changed} source records changed (1% of customers and \
         products edited, 1% new sales).\n\n\
         - **Floor**: Lightspeed read in pages of 1,000 (at least one page per cursor, which is \
         also how a cursor learns that nothing changed), one read of each Business Central set \
         the initial run matches against (customers, items, orders; under 20,000 rows each), and \
         the written records in `$batch` requests of 100 per flow.\n\
         - **Baseline**: the same clients, the per-record way: every customer looked up by \
         e-mail and created or updated, every product looked up by number and created or \
         updated, then for each sale the order looked up by external document number, the \
         customer looked up by e-mail and created or updated, each item looked up, the order \
         created and each line added as its own request. It reads Lightspeed in pages like ours \
         and keeps no state, so a run with nothing changed repeats every lookup and update.\n\
         - Requests are counted by the sandboxes (OAuth token requests excluded); a `$batch` \
         counts as one request. Counts do not depend on machine speed; `benches/tests/request_ceilings.rs` \
         asserts them at a small scale so CI fails when the flows get chattier."
    );
    if factor < 1.0 {
        let _ = writeln!(
            out,
            "- Measured at `BENCH_SCALE={factor}`, not the full data set (`BENCH_SCALE=1`, the \
             default); the request counts grow linearly with the data."
        );
    }

    // Stock.
    let stock_fl = stock_floor(&stock_src, stock.written);
    let stock_fl_quiet = stock_floor(&stock_src, 0);
    let _ = writeln!(
        out,
        "\n### Stock: Business Central -> Lightspeed inventory\n\n\
         The stock of all {items_set} items changed in Business Central; Lightspeed holds {} \
         products and {} inventory records ({} outlets). Ours publishes to one outlet, the \
         baseline to the other (both start from levels that all differ).\n\n\
         | run | who | Lightspeed | Business Central | total | levels written |\n|---|---|---|---|---|---|",
        stock_src.products, stock_src.inventory, 2,
    );
    let srow = |out: &mut String, phase: &str, who: &str, r: &Requests, n: u64| {
        let _ = writeln!(
            out,
            "| {phase} | {who} | {} ({} reads, {} writes) | {} ({} reads, {} writes) | {} | {n} |",
            r.ls(),
            r.ls_reads,
            r.ls_writes,
            r.bc(),
            r.bc_reads,
            r.bc_writes,
            r.total()
        );
    };
    srow(
        &mut out,
        "stock changed",
        "**ours**",
        &stock.requests,
        stock.written,
    );
    srow(
        &mut out,
        "stock changed",
        "per-record baseline",
        &stock_base.requests,
        stock_base.written,
    );
    srow(&mut out, "stock changed", "floor", &stock_fl, stock.written);
    srow(
        &mut out,
        "nothing changed",
        "**ours**",
        &stock_quiet.requests,
        stock_quiet.written,
    );
    srow(
        &mut out,
        "nothing changed",
        "per-record baseline",
        &stock_base_quiet.requests,
        stock_base_quiet.written,
    );
    srow(&mut out, "nothing changed", "floor", &stock_fl_quiet, 0);
    let _ = writeln!(
        out,
        "\n- **Floor**: the three Business Central sets read once (items, open orders with their \
         lines, item variants), the Lightspeed products and inventory records in pages of 1,000, \
         and one write per changed level: Lightspeed 2.0 has no bulk inventory write, so writes \
         are the same for every way and the difference is all in the reads.\n\
         - **Baseline**: Business Central read like ours (the API has no per-item reservation \
         read), then for each inventory item without variants the Lightspeed product looked up \
         by SKU, its inventory read, and the level written when it differs."
    );

    // TMAS.
    let _ = writeln!(
        out,
        "\n### TMAS: a month of hourly data for 50 outlets\n\n\
         {} outlets in five time zones, {} days, {} sales ({} closed), {} shifts; one summary \
         file per outlet, every hour of every day (first run, {} days backfilled).\n\n\
         | who | Lightspeed reads | files delivered | reads per outlet-day |\n|---|---|---|---|",
        tmas_scenario::OUTLETS,
        tmas_scenario::DAYS,
        tw.sales,
        tw.closed,
        tw.shifts,
        tmas_scenario::DAYS,
    );
    let outlet_days = (tmas_scenario::OUTLETS as u64) * u64::from(tmas_scenario::DAYS + 1);
    for (who, p) in [
        ("**ours**", &tmas),
        ("per-record baseline", &tmas_base),
        ("floor", &tmas_fl),
    ] {
        let _ = writeln!(
            out,
            "| {who} | {} | {} | {:.3} |",
            p.reads,
            p.files,
            p.reads as f64 / outlet_days as f64
        );
    }
    let _ = writeln!(
        out,
        "\n- **Ours**: the outlets, the shifts (version cursor), the users (to place clock-ins), \
         and the closed sales in one search across the outlets (their date ranges line up) in \
         pages of 1,000; above the floor by the users and the empty pages that end each feed.\n\
         - **Baseline**: one sales search per outlet per local hour.\n\
         - **Floor**: the outlets, the shifts and one search across all outlets in pages of 1,000.\n\
         - TMAS files go by FTP or to a directory; they are not API requests."
    );

    // Time under the documented rate limits.
    let ls_budget = ls_limit(LS_REGISTERS);
    let tmas_budget = ls_limit(tmas_paced::REGISTERS);
    let _ = writeln!(
        out,
        "\n### Time under the documented rate limits\n\n\
         Business Central allows 6,000 requests per 5 minutes; Lightspeed 300 per register plus \
         50 per 5 minutes ({} for the {}-register store, {} for the {}-register TMAS store). \
         Every run above ran with the sandboxes enforcing these limits (over the budget in any \
         5-minute window they answer each API's own 429) and with each client pacing itself \
         through its own limiter (`pos_http::RateLimit`: a burst of a tenth of the budget, then \
         evenly spaced), on tokio's paused clock: the sandboxes and clients share one runtime, \
         and whenever all of them wait for a limiter slot the clock jumps ahead instead of \
         waiting (a 10 ms tick keeps it from jumping further while a request is on its way). \
         **Simulated time** is the tokio clock's elapsed time for the run, so it is the time the \
         documented limits impose on those requests; network and server time are not in it \
         (loopback takes no time on a paused clock). Each run starts from idle budgets (a \
         window passes between runs). **429s / retries**: the throttled answers the sandboxes \
         gave during the run, and the attempts the run's clients repeated for any reason (a \
         429, a timeout, a dropped connection); both are 0 when the limiters keep to the \
         budgets and nothing else went wrong. **Limiter bound** is computed, not measured: the least time the \
         limiter model allows for the run's request count to each API, sent back to back \
         (the larger of the two APIs); the simulated time is above it when one API waits for \
         the other. Measured in the same run as the counts above (`BENCH_SCALE={factor}`).\n\n\
         | run | who | Lightspeed requests | Business Central requests | simulated time | 429s / retries | limiter bound |\n|---|---|---|---|---|---|---|",
        ls_budget.0,
        LS_REGISTERS,
        tmas_budget.0,
        tmas_paced::REGISTERS,
    );
    let runs = [
        ("initial", "**ours**", &initial.requests, &initial_t),
        (
            "initial",
            "per-record baseline",
            &base_initial,
            &base_initial_t,
        ),
        ("nothing changed", "**ours**", &quiet.requests, &quiet_t),
        (
            "nothing changed",
            "per-record baseline",
            &base_quiet,
            &base_quiet_t,
        ),
        ("1% changed", "**ours**", &after.requests, &after_t),
        (
            "1% changed",
            "per-record baseline",
            &base_after,
            &base_after_t,
        ),
        ("stock changed", "**ours**", &stock.requests, &stock_t),
        (
            "stock changed",
            "per-record baseline",
            &stock_base.requests,
            &stock_base_t,
        ),
    ];
    for (phase, who, r, t) in runs {
        paced_row(&mut out, phase, who, r, t, ls_budget);
    }
    let as_req = |reads: u64| Requests {
        ls_reads: reads,
        ..Requests::default()
    };
    paced_row(
        &mut out,
        "TMAS month",
        "**ours**",
        &as_req(tmas.reads),
        &tmas_t,
        tmas_budget,
    );
    paced_row(
        &mut out,
        "TMAS month",
        "per-record baseline",
        &as_req(tmas_base.reads),
        &tmas_base_t,
        tmas_budget,
    );
    let _ = writeln!(
        out,
        "\nRun took {:.0?} of real time in all on the project's 2-core machine (`cargo bench`, \
         optimised; one thread, since the sandboxes and clients share the paused runtime), \
         most of it the sandboxes serving the per-record way's tens of thousands of requests \
         (the Lightspeed sandbox answers each search by scanning its sales). The clients' own \
         work is a small share (see the CPU section).",
        started.elapsed()
    );
    println!("{out}");
    section::write_section(HEADING, &out, None);
}
