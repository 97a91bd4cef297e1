//! The TMAS comparison: a month of hourly data for 50 outlets, read from Lightspeed by our
//! flow, by the per-record way (one sales search per outlet per hour) and at the floor.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use lightspeed_x::SaleState;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions};
use sync_core::run::Runner;
use sync_core::state::MemoryStore;
use tmas::delivery::{Delivery, DirectoryTarget};

/// Outlets of the TMAS scenario.
pub const OUTLETS: usize = 50;
/// Days of data.
pub const DAYS: u32 = 30;

const ZONES: [chrono_tz::Tz; 5] = [
    chrono_tz::Pacific::Auckland,
    chrono_tz::Australia::Sydney,
    chrono_tz::Europe::Amsterdam,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
];

/// The seeded store and what it holds.
pub struct TmasWorld {
    /// The Lightspeed sandbox (50 outlets, one register each).
    pub ls: LsSandbox,
    /// The day after the last day of sales.
    pub end: NaiveDate,
    /// Sales in the store.
    pub sales: u64,
    /// Closed sales (what the TMAS reads return).
    pub closed: u64,
    /// Shifts.
    pub shifts: u64,
}

/// Requests of one TMAS run.
#[derive(Clone, Copy, Debug, Default)]
pub struct TmasPhase {
    /// Lightspeed reads.
    pub reads: u64,
    /// Summary files delivered (one per outlet; files, not API requests).
    pub files: u64,
}

/// Seeds 50 outlets (five time zones) with `sales_per_day` sales each over [`DAYS`] days.
pub async fn tmas_world(sales_per_day: u32) -> TmasWorld {
    let end = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default();
    let ls = LsSandbox::start_seeded(DemoData {
        outlets: (0..OUTLETS)
            .map(|i| (format!("Outlet {i:02}"), ZONES[i % ZONES.len()]))
            .collect(),
        product_families: 60,
        customers: 100,
        days: DAYS,
        sales_per_day,
        end_date: end,
        ..DemoData::default()
    })
    .await
    .expect("lightspeed sandbox");
    let (sales, closed, shifts) = {
        let st = ls.state();
        let sales = st.sales().live();
        let closed = sales
            .iter()
            .filter(|s| s.state == Some(SaleState::Closed))
            .count() as u64;
        (sales.len() as u64, closed, st.shifts().live().len() as u64)
    };
    TmasWorld {
        ls,
        end,
        sales,
        closed,
        shifts,
    }
}

fn served(w: &TmasWorld) -> (u64, u64) {
    let s = w.ls.stats();
    let mut reads = 0;
    let mut writes = 0;
    for (route, n) in &s.by_route {
        if route.contains("/token") {
            continue;
        }
        if route.starts_with("GET ") {
            reads += n;
        } else {
            writes += n;
        }
    }
    (reads, writes)
}

/// Our flow's first run: every outlet backfilled [`DAYS`] days, one file per outlet.
pub async fn run_tmas(w: &TmasWorld, dir: &std::path::Path) -> TmasPhase {
    run_tmas_with(w, w.ls.client().await.expect("client"), dir).await
}

/// [`run_tmas`] with `client`.
pub async fn run_tmas_with(
    w: &TmasWorld,
    client: lightspeed_x::Client,
    dir: &std::path::Path,
) -> TmasPhase {
    let now = Utc.from_utc_datetime(&w.end.and_hms_opt(12, 0, 0).unwrap_or_default());
    let flow = LightspeedToTmas::new(client, Delivery::Directory(DirectoryTarget::new(dir)))
        .with_options(
            TmasOptions::default()
                .with_backfill_days(DAYS)
                .expect("backfill"),
        )
        .expect("options")
        .with_clock(move || now);
    let runner = Runner::new(Arc::new(MemoryStore::new()));
    let before = served(w);
    let r = runner.run_once(&flow, "bench").await.expect("tmas run");
    assert!(r.is_success(), "{r}");
    let after = served(w);
    let files = flow.last_run().map(|s| s.outlets.len() as u64).unwrap_or(0);
    TmasPhase {
        reads: after.0 - before.0,
        files,
    }
}

/// The per-record way: one sales search per outlet per local hour over the same days (the
/// outlets read once). Searches run 8 at a time.
pub async fn run_tmas_baseline(w: &TmasWorld) -> TmasPhase {
    run_tmas_baseline_with(w, w.ls.client().await.expect("client")).await
}

/// [`run_tmas_baseline`] with `client`.
pub async fn run_tmas_baseline_with(w: &TmasWorld, client: lightspeed_x::Client) -> TmasPhase {
    use futures::StreamExt;
    let before = served(w);
    let outlets = client.outlets().list().all().await.expect("outlets");
    let mut hours = Vec::new();
    for o in &outlets {
        let tz = o.time_zone.unwrap_or(chrono_tz::UTC);
        let first = w.end - Duration::days(i64::from(DAYS));
        for d in 0..=DAYS {
            let day = first + Duration::days(i64::from(d));
            for h in 0..24 {
                let Some(start) = tz
                    .from_local_datetime(&day.and_hms_opt(h, 0, 0).unwrap_or_default())
                    .earliest()
                else {
                    continue;
                };
                hours.push((o.id.clone(), start.with_timezone(&Utc)));
            }
        }
    }
    futures::stream::iter(hours)
        .map(|(outlet, start)| {
            let client = client.clone();
            async move {
                client
                    .sales()
                    .search()
                    .outlet(&outlet)
                    .date_from(start)
                    .date_to(start + Duration::hours(1))
                    .state(SaleState::Closed)
                    .page()
                    .await
                    .expect("search")
                    .len()
            }
        })
        .buffer_unordered(8)
        .for_each(|_| async {})
        .await;
    let after = served(w);
    TmasPhase {
        reads: after.0 - before.0,
        files: outlets.len() as u64,
    }
}

/// The fewest reads: the outlets, the shifts (one page of 1,000 at least), and the closed
/// sales of the month in one search across outlets, in pages of 1,000.
pub fn tmas_floor(w: &TmasWorld) -> TmasPhase {
    TmasPhase {
        reads: 1 + w.shifts.div_ceil(1000).max(1) + w.closed.div_ceil(1000).max(1),
        files: OUTLETS as u64,
    }
}
