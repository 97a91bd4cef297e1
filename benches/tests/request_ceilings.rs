//! Request counts do not depend on machine speed, so they are asserted: a change that makes the
//! Lightspeed -> Business Central flows chattier fails here. Small data set (200 customers, 300
//! products, about 500 sales over 2 outlets, seeded deterministically); the `requests` bench runs
//! the full one and compares with the per-record way.

#[path = "../common/scenario.rs"]
mod scenario;

use scenario::{Requests, Scale, floor, flows, run_ours, runner, world};

const SCALE: Scale = Scale {
    customers: 200,
    product_families: 180,
    days: 3,
    sales_per_day: 84,
};

#[track_caller]
fn within(what: &str, got: &Requests, ceiling: &Requests) {
    assert!(
        got.ls_reads <= ceiling.ls_reads
            && got.ls_writes <= ceiling.ls_writes
            && got.bc_reads <= ceiling.bc_reads
            && got.bc_writes <= ceiling.bc_writes,
        "{what}: {got:?} is above the ceiling {ceiling:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_stay_near_the_floor() {
    let w = world(SCALE).await;
    let src = w.source();
    assert_eq!((src.customers, src.products), (201, 300), "{src:?}");
    let runner = runner();
    let flows = flows(&w.accounts);

    // Initial sync.
    let initial = run_ours(&w, &runner, &flows).await;
    eprintln!("source {src:?}\ninitial {initial:#?}");
    let fl = floor([src.customers, src.products, src.sales], 3, initial.written);
    // Customers with an e-mail address (a quarter have none), items and item variants (one
    // item per variant family plus one variant per size), closed sales.
    assert_eq!(
        initial.written,
        [150, src.products + src.with_variants, src.eligible_sales],
        "{initial:#?}"
    );
    // Writes: at the floor (full `$batch` requests per flow) plus one: the person contacts of
    // company customers go in a batch of their own.
    assert_eq!(initial.requests.ls_writes, 0);
    assert!(
        initial.requests.bc_writes <= fl.bc_writes + 1,
        "{initial:#?} floor {fl:?}"
    );
    // Reads are above the floor: Business Central keys are looked up in bulk in chunks of 40
    // values per request (short URLs) rather than one read of a whole set, and the sales flow
    // reads each Lightspeed customer it holds no link for (customers without an e-mail address
    // are never synced) with its own GET. Measured at this scale; these ceilings are exact.
    within(
        "initial",
        &initial.requests,
        &Requests {
            ls_reads: 38,
            ls_writes: 0,
            bc_reads: 34,
            bc_writes: 11,
        },
    );
    // 83 requests against a floor of 16 at this scale (5.2 x), the gap all reads (above). Both
    // kinds of extra reads grow with the data, so the ratio does not shrink at larger scales
    // (6.3 x at BENCH_SCALE=0.3, see BENCHMARKS.md); 1.3 x needs whole-set reads of the target
    // keys and a bulk read of unlinked customers in the sales flow.
    assert!(
        initial.requests.total() * 10 <= fl.total() * 53,
        "initial sync within 5.3 x the floor: {:?} vs {fl:?}",
        initial.requests
    );

    // Nothing changed: one cursor read per flow, nothing else.
    let quiet = run_ours(&w, &runner, &flows).await;
    assert_eq!(quiet.records(), 0, "{quiet:#?}");
    assert_eq!(
        quiet.requests,
        Requests {
            ls_reads: 3,
            ls_writes: 0,
            bc_reads: 0,
            bc_writes: 0
        },
        "{quiet:#?}"
    );

    // 1% changed: writes bounded by the changed records, in batches.
    let changed = w.change_one_percent();
    let after = run_ours(&w, &runner, &flows).await;
    eprintln!("changed {changed}: {after:#?}");
    assert!(
        after.records() > 0 && after.records() <= changed,
        "{after:#?}"
    );
    let fl = floor([1; 3], 0, after.written);
    assert!(
        after.requests.bc_writes <= fl.bc_writes,
        "{after:#?} floor {fl:?}"
    );
    within(
        "1% changed",
        &after.requests,
        &Requests {
            ls_reads: 8,
            ls_writes: 0,
            bc_reads: 6,
            bc_writes: 3,
        },
    );
}
