//! The products flow's memory does not grow with the number of changed products: the peak heap of
//! a first sync of 4x the products stays within 1.25x (it grew 3.2x while the flow held every
//! changed product at once, 2x while it read the existing items in one page). Counted on the thread that runs the flow; the sandboxes run on other
//! threads.

#[path = "../common/counting.rs"]
mod counting;

use std::sync::Arc;

use chrono::NaiveDate;
use counting::measure;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use pos_sync_flows::lightspeed_business_central::{Accounts, ProductOptions, ProductsFlow};
use sync_core::run::Runner;
use sync_core::state::SqliteStore;

/// Changed products planned and written together in this test (and twice that the page size of
/// the item lookups: a run holds one chunk and one such page).
const CHUNK: usize = 150;

/// Seeds about `n` products (every third family has 3 size variants), runs the products flow's
/// first sync with chunks of [`CHUNK`]; returns the products and the flow's peak heap.
fn first_sync_peak(servers: &tokio::runtime::Runtime, n: usize) -> (usize, i64) {
    let flow_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ls, bc) = servers.block_on(async {
        let ls = LsSandbox::start_seeded(DemoData {
            product_families: (n * 3).div_ceil(5),
            customers: 1,
            days: 1,
            sales_per_day: 1,
            end_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            ..DemoData::default()
        })
        .await
        .unwrap();
        let bc = business_central::sandbox::Sandbox::start().await.unwrap();
        (ls, bc)
    });
    let products = ls.state().products().live().len();
    let accounts = flow_rt.block_on(async {
        Accounts::new(
            ls.client().await.unwrap(),
            bc.client_builder().rate_limit(None).build().unwrap(),
            bc.company_id(),
        )
    });
    // State on disk, as in production (a memory store would hold every link and log entry).
    let dir = tempfile::tempdir().unwrap();
    let store = flow_rt.block_on(SqliteStore::open(dir.path().join("state.sqlite")));
    let runner = Runner::new(Arc::new(store.unwrap()));
    let flow = ProductsFlow::new(
        accounts,
        ProductOptions {
            chunk_size: CHUNK,
            lookup_page_size: 2 * CHUNK as u32,
            page_size: 100,
            ..ProductOptions::default()
        },
    );
    let (report, peak) = measure(&flow_rt, async {
        runner.run_once(&flow, "memory").await.unwrap()
    });
    assert!(report.is_success(), "{report}");
    assert!(report.created >= products, "{report}");
    drop(flow);
    servers.block_on(async move {
        ls.shutdown().await;
        drop(bc);
    });
    (products, peak)
}

#[test]
fn products_sync_memory_does_not_grow_with_the_products() {
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(counting::exclude_this_thread)
        .enable_all()
        .build()
        .unwrap();
    let (small, small_peak) = first_sync_peak(&servers, 1_000);
    let (large, large_peak) = first_sync_peak(&servers, 4_000);
    let ratio = large_peak as f64 / small_peak as f64;
    println!(
        "{small} products: peak {small_peak} B; {large} products: peak {large_peak} B ({ratio:.2}x)"
    );
    assert!(large >= small * 3, "{small} -> {large} products");
    assert!(
        ratio < 1.25,
        "peak heap grew {ratio:.2}x for {:.1}x the products",
        large as f64 / small as f64
    );
}
