//! Peak memory of a products sync (Lightspeed products to Business Central items) at two sizes,
//! and of reading the same products through the client's paged stream alone. Prints a table and
//! writes it into `BENCHMARKS.md`.
//!
//! The sandboxes run on their own runtime threads; only allocations made on the thread that
//! runs the flow are counted (a counting global allocator with a per-thread switch), so the
//! figures are the sync's memory, not the sandboxes'. The state store is SQLite in a
//! temporary file, as in production.
//!
//! `cargo bench -p pos-sync-benches --bench memory` (10,000 and 40,000 products);
//! `MEMORY_PRODUCTS=2000,20000 cargo bench -p pos-sync-benches --bench memory` (other sizes).
#![allow(unsafe_code)]

#[path = "../common/scenario.rs"]
mod scenario;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use futures::TryStreamExt;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use sync_core::flows::lightspeed_business_central::{Accounts, ProductsFlow};
use sync_core::run::Runner;
use sync_core::state::SqliteStore;

const HEADING: &str = "## Memory";

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

/// The system allocator, counting the live bytes allocated by tracked threads and their peak.
struct Counting;

fn tracked() -> bool {
    TRACKED.try_with(Cell::get).unwrap_or(false)
}

fn grow(n: usize) {
    let live = LIVE.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(n: usize) {
    LIVE.fetch_sub(n as i64, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are atomics and the
// thread-local switch is const-initialised (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && tracked() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if tracked() {
            shrink(layout.size());
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && tracked() {
            grow(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && tracked() {
            shrink(layout.size());
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` on this thread with counting on; returns its output and the peak bytes above the
/// live bytes at the start.
fn measure<T>(rt: &tokio::runtime::Runtime, f: impl std::future::Future<Output = T>) -> (T, i64) {
    TRACKED.with(|t| t.set(true));
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let out = rt.block_on(f);
    let peak = PEAK.load(Ordering::Relaxed) - start;
    TRACKED.with(|t| t.set(false));
    (out, peak)
}

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
        .unwrap_or_else(|| vec![10_000, 40_000]);
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
         items and item variants, state in SQLite), counted on the thread that runs the flow \
         (the sandboxes run on other threads and are not counted), and of reading the same \
         products through the client's paged stream alone (pages of 1,000).\n\n\
         | products | stream alone: peak | products sync: peak | per product | items written | sync time |\n|---|---|---|---|---|---|"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} KiB | {} | {:.0} s |",
            r.products,
            mib(r.stream_peak),
            mib(r.sync_peak),
            r.sync_peak as f64 / 1024.0 / r.products.max(1) as f64,
            r.written,
            r.secs
        );
    }
    if let [a, .., b] = rows.as_slice() {
        let _ = writeln!(
            out,
            "\nFrom {} to {} products ({:.0}x) the stream's peak changes {:.1}x: it holds one \
             page. The sync's peak changes {:.1}x: the flow reads every changed product before \
             it plans and writes (`read_changes` collects the feed, then the upsert plans the \
             whole set), so its memory grows with the number of changed products, about the \
             per-product figure above. A first sync of a 100,000-product catalogue therefore \
             needs that much memory once; later runs hold only the changes since the cursor.",
            a.products,
            b.products,
            b.products as f64 / a.products.max(1) as f64,
            b.stream_peak as f64 / a.stream_peak.max(1) as f64,
            b.sync_peak as f64 / a.sync_peak.max(1) as f64,
        );
    }
    if let Some(b) = rows.last().filter(|b| b.products < 100_000) {
        let per = b.sync_peak as f64 / b.products.max(1) as f64;
        let _ = writeln!(
            out,
            "\nAt 100,000 products that is about {} for the first sync (extrapolated from the \
             per-product figure of the largest run). Not run here: the Business Central \
             sandbox checks each new item's number against every item (a linear scan per \
             insert), so a 100,000-item first sync takes longer than this bench's budget; \
             `MEMORY_PRODUCTS=10000,100000` runs it.",
            mib((per * 100_000.0) as i64)
        );
    }
    println!("{out}");
    write_section(&out);
}

/// Replaces (or appends before the sections that follow it) the section in `BENCHMARKS.md`.
fn write_section(section: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let (head, tail) = match text.find(HEADING) {
        Some(start) => {
            let rest = &text[start + HEADING.len()..];
            let end = rest.find("\n## ").map(|i| start + HEADING.len() + i + 1);
            (&text[..start], end.map(|e| &text[e..]).unwrap_or(""))
        }
        None => match text.find("## Near-real-time") {
            Some(i) => (&text[..i], &text[i..]),
            None => (text.as_str(), ""),
        },
    };
    let mut out = head.trim_end().to_owned();
    out.push_str("\n\n");
    out.push_str(section.trim_end());
    out.push('\n');
    if !tail.is_empty() {
        out.push('\n');
        out.push_str(tail);
    }
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("could not write {path}: {e}");
    }
}
