//! Peak memory of a products sync (Lightspeed products to Business Central items) at several sizes,
//! and of reading the same products through the client's paged stream alone. Prints a table and
//! writes it into `BENCHMARKS.md`.
//!
//! The sandboxes run on their own runtime threads, left out of the count (a counting global
//! allocator, `common/counting.rs`); the flow's runtime and its blocking pool (where the SQLite
//! state store works) are counted, so the figures are the sync's memory, not the sandboxes'. The
//! state store is SQLite in a temporary file, as in production.
//!
//! `cargo bench -p pos-sync-benches --bench memory` (10,000, 40,000 and 100,000 products);
//! `MEMORY_PRODUCTS=2000,20000 cargo bench -p pos-sync-benches --bench memory` (other sizes).

#[path = "../common/counting.rs"]
mod counting;
#[path = "../common/scenario.rs"]
mod scenario;
#[path = "../common/section.rs"]
mod section;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use counting::measure;
use futures::TryStreamExt;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use pos_sync_flows::lightspeed_business_central::{Accounts, ProductsFlow};
use sync_core::run::Runner;
use sync_core::state::SqliteStore;

const HEADING: &str = "## Memory";

struct Row {
    products: u64,
    stream_peak: i64,
    sync_peak: i64,
    written: u64,
    secs: f64,
}

fn mib(b: i64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MEMORY_PRODUCTS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 40_000, 100_000]);
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(counting::exclude_this_thread)
        .enable_all()
        .build()
        .expect("runtime");
    let flow_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for n in sizes {
        let t = Instant::now();
        // Every third family has 3 size variants: 5 products per 3 families.
        let families = (n * 3).div_ceil(5);
        let (ls, bc) = servers.block_on(async {
            let ls = LsSandbox::start_seeded(DemoData {
                product_families: families,
                customers: 1,
                days: 1,
                sales_per_day: 1,
                end_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
                ..DemoData::default()
            })
            .await
            .expect("lightspeed sandbox");
            let bc = business_central::sandbox::Sandbox::start()
                .await
                .expect("business central sandbox");
            (ls, bc)
        });
        let products = ls.state().products().live().len() as u64;
        eprintln!("{products} products seeded in {:.1?}", t.elapsed());
        let dir = tempfile::tempdir().expect("temp dir");
        let (accounts, runner) = flow_rt.block_on(async {
            let accounts = Accounts::new(
                ls.client().await.expect("client"),
                bc.client_builder()
                    .rate_limit(None)
                    .build()
                    .expect("client"),
                bc.company_id(),
            );
            let store = SqliteStore::open(dir.path().join("state.sqlite"))
                .await
                .expect("state");
            (accounts, Runner::new(Arc::new(store)))
        });

        // The client's paged stream alone: one page at a time.
        let client = accounts.lightspeed.clone();
        let (count, stream_peak) = measure(&flow_rt, async move {
            client
                .products()
                .list()
                .page_size(1000)
                .stream()
                .try_fold(0u64, |n, _p| async move { Ok(n + 1) })
                .await
                .expect("stream")
        });
        assert_eq!(count, products);

        // The products flow, first run: every product read, planned and written.
        let flow = ProductsFlow::new(accounts.clone(), scenario::product_options());
        let t = Instant::now();
        let (report, sync_peak) = measure(&flow_rt, async {
            runner.run_once(&flow, "bench").await.expect("run")
        });
        assert!(report.is_success(), "{report}");
        eprintln!("  {report}: peak {}", mib(sync_peak));
        rows.push(Row {
            products,
            stream_peak,
            sync_peak,
            written: (report.created + report.updated) as u64,
            secs: t.elapsed().as_secs_f64(),
        });
        drop(flow);
        drop(accounts);
        servers.block_on(async {
            ls.shutdown().await;
            drop(bc);
        });
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{HEADING} (`cargo bench -p pos-sync-benches --bench memory`)\n\n\
         Peak heap of the products flow's first run (Lightspeed products to Business Central \
         items and item variants, state in SQLite, default `ProductOptions`), counted on the \
         flow's threads and the state store's (the sandboxes run on threads of their own and \
         are not counted), and of reading the same products through the client's paged stream \
         alone (pages of 1,000).\n\n\
         | products | stream alone: peak | products sync: peak | items written | sync time |\n|---|---|---|---|---|"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} s |",
            r.products,
            mib(r.stream_peak),
            mib(r.sync_peak),
            r.written,
            r.secs
        );
    }
    let options = scenario::product_options();
    if let [.., a, b] = rows.as_slice() {
        let _ = writeln!(
            out,
            "\nFrom {} to {} products ({:.1}x) the stream's peak changes {:.2}x: it holds one \
             page. The sync's peak changes {:.2}x: the flow plans and writes {} changed products \
             at a time (`ProductOptions::chunk_size`), keeping nothing of a chunk once it is \
             written but the links it stored, and finds the existing items and variants in \
             pages of at most {} (`ProductOptions::lookup_page_size`), one held at a time; so \
             its memory is set by those two sizes, not by how many products changed. A smaller \
             catalogue peaks lower while its whole item set fits in one lookup page. Smaller \
             chunks and pages hold less and make more requests.",
            a.products,
            b.products,
            b.products as f64 / a.products.max(1) as f64,
            b.stream_peak as f64 / a.stream_peak.max(1) as f64,
            b.sync_peak as f64 / a.sync_peak.max(1) as f64,
            options.chunk_size,
            options.lookup_page_size,
        );
    }
    println!("{out}");
    section::write_section(HEADING, &out, Some("## Near-real-time"));
}
