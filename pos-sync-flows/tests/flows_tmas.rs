//! Lightspeed -> TMAS end to end: the Lightspeed sandbox as source, the TMAS FTP sandbox (which
//! imports files as TMAS does) or a directory as target, rows asserted value by value.
#![cfg(feature = "lightspeed-tmas")]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Amsterdam;
use chrono_tz::Tz;
use lightspeed_x::sandbox::{DemoData, Sandbox};
use lightspeed_x::{Outlet, ProductId, Sale, SaleState};
use pos_sync_flows::lightspeed_tmas::{
    LightspeedToTmas, LocationMapping, MAX_BACKFILL_DAYS, ReturnRule, SalesAmount, TmasFlowError,
    TmasOptions,
};
use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;
use sync_core::log::ActivityQuery;
use sync_core::run::{RunStatus, Runner};
use sync_core::state::MemoryStore;
use tmas::delivery::DirectoryTarget;
use tmas::sandbox::{FtpSandbox, ImportSettings};
use tmas::{
    Interval, IntervalStart, LocationId, LocationIdStrategy, SummaryFormat, TimeColumn, Totals,
};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn hour(h: u32) -> IntervalStart {
    IntervalStart::new(h, 0).unwrap()
}

fn money(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

async fn amsterdam_store(end: NaiveDate) -> (Sandbox, Outlet, LocationId) {
    let sb = Sandbox::start_seeded(DemoData {
        seed: 7,
        outlets: vec![("Amsterdam Centrum".into(), Amsterdam)],
        product_families: 4,
        customers: 3,
        days: 3,
        end_date: end,
        sales_per_day: 8,
    })
    .await
    .unwrap();
    let outlet = sb.state().outlets().live().remove(0);
    let id = outlet.id.as_str();
    let location = LocationId::new(&id[id.len() - 8..]).unwrap();
    (sb, outlet, location)
}

/// A simple product (no variants) and its price excluding tax.
fn product(sb: &Sandbox) -> (ProductId, Decimal) {
    let p = sb
        .state()
        .products()
        .live()
        .into_iter()
        .find(|p| !p.has_variants)
        .unwrap();
    (p.id.clone(), p.price_excluding_tax.unwrap())
}

/// The expected rows, computed straight from the sandbox's sales: closed sales only, by local
/// hour of the sale date.
fn expected(
    sb: &Sandbox,
    tz: Tz,
    amount: SalesAmount,
    returns: ReturnRule,
) -> BTreeMap<(NaiveDate, u32), (Decimal, i64, Decimal)> {
    let mut out: BTreeMap<(NaiveDate, u32), (Decimal, i64, Decimal)> = BTreeMap::new();
    for s in sb.state().sales().all() {
        if s.state != Some(SaleState::Closed) || s.deleted_at.is_some() {
            continue;
        }
        let local = s.sale_date.unwrap().with_timezone(&tz);
        let e = out.entry((local.date_naive(), local.hour())).or_default();
        e.0 += match amount {
            SalesAmount::ExcludingTax => s.total_price,
            SalesAmount::IncludingTax => s.total_price + s.total_tax,
        };
        let is_return = s.return_for.is_some();
        if !(is_return && returns == ReturnRule::NotATransaction) {
            e.1 += 1;
        }
        e.2 += s.line_items.iter().map(|l| l.quantity).sum::<Decimal>();
    }
    out
}

/// Staff of the demo data: two clock-ins a day, 08:00-16:00 and 09:00-17:00 local.
fn demo_staff_hours(h: u32) -> Decimal {
    match h {
        8 | 16 => dec!(1),
        9..=15 => dec!(2),
        _ => dec!(0),
    }
}

fn assert_rows(
    got: impl Fn(NaiveDate, u32) -> Option<Totals>,
    dates: &[NaiveDate],
    want: &BTreeMap<(NaiveDate, u32), (Decimal, i64, Decimal)>,
    staff: impl Fn(NaiveDate, u32) -> Decimal,
) {
    for d in dates {
        for h in 0..24 {
            let t = got(*d, h).unwrap_or_else(|| panic!("no row for {d} {h:02}"));
            let (sales, tx, items) = want.get(&(*d, h)).copied().unwrap_or_default();
            assert_eq!(
                (t.sales, t.transactions, t.items),
                (money(sales), tx, items),
                "{d} {h:02}"
            );
            assert_eq!(
                t.staff_hours.unwrap_or_default(),
                staff(*d, h),
                "staff {d} {h:02}"
            );
        }
    }
}

fn ftp_settings() -> ImportSettings {
    ImportSettings {
        summary: SummaryFormat {
            staff_hours: true,
            ..SummaryFormat::default()
        },
        ..ImportSettings::default()
    }
}

/// The 25-hour day (Amsterdam, 25 October 2026), through the FTP sandbox; then a second run.
async fn fall_back(amount: SalesAmount) {
    let (sb, outlet, loc) = amsterdam_store(day(2026, 10, 27)).await;
    let (pid, price) = product(&sb);
    // 02:30 CEST and 02:30 CET: both in the one 02 row TMAS has for that day.
    sb.add_sale(
        &outlet.id,
        &[(pid.clone(), dec!(1))],
        None,
        utc("2026-10-25T00:30:00Z"),
    )
    .unwrap();
    sb.add_sale(
        &outlet.id,
        &[(pid.clone(), dec!(2))],
        None,
        utc("2026-10-25T01:30:00Z"),
    )
    .unwrap();
    // A clock-in across the change, 01:30 CEST .. 03:30 CET (three real hours), and one still open
    // since 08:00 CET today.
    let cashier = sb
        .state()
        .users()
        .live()
        .into_iter()
        .find(|u| u.restricted_outlet_ids.contains(&outlet.id))
        .unwrap()
        .id;
    sb.add_shift(
        &cashier,
        utc("2026-10-24T23:30:00Z"),
        Some(utc("2026-10-25T02:30:00Z")),
    );
    sb.add_shift(&cashier, utc("2026-10-27T07:00:00Z"), None);
    let ftp = FtpSandbox::start(ftp_settings()).await.unwrap();

    let now = Arc::new(std::sync::Mutex::new(utc("2026-10-27T09:00:00Z")));
    let clock = now.clone();
    let options = TmasOptions {
        sales_amount: amount,
        ..TmasOptions::default()
    };
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), ftp.target())
        .with_options(options)
        .unwrap()
        .with_clock(move || *clock.lock().unwrap());
    let runner = Runner::new(Arc::new(MemoryStore::new()));

    let report = runner.run_once(&flow, "demo").await.unwrap();
    assert!(report.is_success(), "{report}");
    assert_eq!(report.created, 1, "one file for the one outlet");
    let run = flow.last_run().unwrap();
    let o = run.outlet("Amsterdam Centrum").unwrap();
    let dates = [
        day(2026, 10, 24),
        day(2026, 10, 25),
        day(2026, 10, 26),
        day(2026, 10, 27),
    ];
    assert_eq!((o.dates.first(), o.dates.last()), (dates[0], dates[3]));
    assert_eq!(o.rows, 4 * 24, "the 25-hour day still has 24 rows");
    assert_eq!(o.location, loc);

    // Requests: outlets (one page and the empty page that ends the list), shifts (same), one search.
    let stats = sb.stats();
    assert_eq!(stats.count("GET /api/2026-07/search"), 1);
    assert_eq!(stats.count("GET /api/2026-07/shifts"), 2);
    assert_eq!(stats.count("GET /api/2026-07/outlets"), 2);
    assert_eq!(report.requests, stats.requests);

    let imports = ftp.imports();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].result, Ok(96));

    // Hour 02 on the 25th: both of my sales (3 items), plus whatever the demo data has there (none).
    let want = expected(&sb, Amsterdam, amount, ReturnRule::CountAsTransaction);
    let two = ftp.summary(&loc, dates[1], hour(2)).unwrap();
    let unit = match amount {
        SalesAmount::ExcludingTax => price,
        SalesAmount::IncludingTax => price + (price * dec!(0.15)).round_dp(5),
    };
    assert_eq!(
        (two.sales, two.transactions, two.items),
        (money(unit * dec!(3)), 2, dec!(3))
    );
    let staff = |d: NaiveDate, h: u32| match (d.day(), h) {
        (25, 1 | 3) => dec!(0.5),
        (25, 2) => dec!(2),
        (27, 8 | 9) => dec!(1), // open since 08:00 CET, up to now (10:00 CET)
        (27, _) => dec!(0),
        _ => demo_staff_hours(h),
    };
    assert_rows(|d, h| ftp.summary(&loc, d, hour(h)), &dates, &want, staff);

    // Voided and parked sales are not counted; returns are, negatively.
    let sales: Vec<Sale> = sb.state().sales().all().cloned().collect();
    let voided = sales
        .iter()
        .find(|s| s.state == Some(SaleState::Voided))
        .unwrap();
    let at = voided.sale_date.unwrap().with_timezone(&Amsterdam);
    let row = ftp.summary(&loc, at.date_naive(), hour(at.hour())).unwrap();
    let (without, tx, _) = want
        .get(&(at.date_naive(), at.hour()))
        .copied()
        .unwrap_or_default();
    assert_eq!(row.sales, money(without));
    assert_ne!(row.sales, money(without + voided.total_price));
    assert_eq!(row.transactions, tx);
    assert!(sales.iter().any(|s| s.state == Some(SaleState::Parked)));
    let ret = sales.iter().find(|s| s.return_for.is_some()).unwrap();
    assert!(ret.total_price < Decimal::ZERO);
    let at = ret.sale_date.unwrap().with_timezone(&Amsterdam);
    let others: Decimal = sales
        .iter()
        .filter(|s| s.id != ret.id && s.state == Some(SaleState::Closed))
        .filter(|s| {
            let l = s.sale_date.unwrap().with_timezone(&Amsterdam);
            (l.date_naive(), l.hour()) == (at.date_naive(), at.hour())
        })
        .map(|s| match amount {
            SalesAmount::ExcludingTax => s.total_price,
            SalesAmount::IncludingTax => s.total_including_tax(),
        })
        .sum();
    let row = ftp.summary(&loc, at.date_naive(), hour(at.hour())).unwrap();
    let own = match amount {
        SalesAmount::ExcludingTax => ret.total_price,
        SalesAmount::IncludingTax => ret.total_including_tax(),
    };
    assert_eq!(row.sales, money(others + own), "the return lowers its hour");

    // An hour later: only today is re-sent, with a late sale; no other value changes.
    let before = ftp.summary_rows();
    *now.lock().unwrap() = utc("2026-10-27T10:00:00Z");
    sb.add_sale(
        &outlet.id,
        &[(pid.clone(), dec!(4))],
        None,
        utc("2026-10-27T09:30:00Z"),
    )
    .unwrap();
    let again = runner.run_once(&flow, "demo").await.unwrap();
    assert!(again.is_success(), "{again}");
    let o = flow.last_run().unwrap().outlets.remove(0);
    assert_eq!(
        (o.dates.first(), o.dates.last(), o.rows),
        (dates[3], dates[3], 24)
    );
    assert_eq!(sb.stats().count("GET /api/2026-07/search"), 2);
    assert_eq!(ftp.imports().len(), 2);
    let after = ftp.summary_rows();
    assert_eq!(before.len(), after.len());
    let late = ftp.summary(&loc, dates[3], hour(10)).unwrap();
    assert_eq!((late.transactions, late.items), (1, dec!(4)));
    // The open shift has grown by an hour.
    assert_eq!(
        ftp.summary(&loc, dates[3], hour(10)).unwrap().staff_hours,
        Some(dec!(1))
    );
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.key(), a.key());
        if (a.date, a.start) != (dates[3], hour(10)) {
            assert_eq!(b.totals, a.totals, "{} {} changed", a.date, a.start);
        }
    }

    // A clock-in added late for yesterday (within 48 hours) re-sends yesterday too; one added for
    // three days ago (outside the window) is not sent.
    *now.lock().unwrap() = utc("2026-10-27T11:00:00Z");
    sb.add_shift(
        &cashier,
        utc("2026-10-26T17:00:00Z"),
        Some(utc("2026-10-26T19:00:00Z")),
    );
    sb.add_shift(
        &cashier,
        utc("2026-10-24T17:00:00Z"),
        Some(utc("2026-10-24T19:00:00Z")),
    );
    let third = runner.run_once(&flow, "demo").await.unwrap();
    assert!(third.is_success(), "{third}");
    let o = flow.last_run().unwrap().outlets.remove(0);
    assert_eq!((o.dates.first(), o.dates.last()), (dates[2], dates[3]));
    assert_eq!(sb.stats().count("GET /api/2026-07/search"), 3);
    // One listing per run: two pages when clock-ins changed, one empty page when none did.
    assert_eq!(sb.stats().count("GET /api/2026-07/shifts"), 2 + 1 + 2);
    for h in [18, 19] {
        assert_eq!(
            ftp.summary(&loc, dates[2], hour(h)).unwrap().staff_hours,
            Some(dec!(1))
        );
        assert_eq!(
            ftp.summary(&loc, dates[0], hour(h)).unwrap().staff_hours,
            Some(dec!(0))
        );
    }
    // The open shift, up to 12:00 CET now.
    assert_eq!(
        ftp.summary(&loc, dates[3], hour(11)).unwrap().staff_hours,
        Some(dec!(1))
    );
    assert_eq!(
        ftp.summary(&loc, dates[3], hour(12)).unwrap().staff_hours,
        Some(dec!(0))
    );
}

#[tokio::test]
async fn twenty_five_hour_day_excluding_tax_then_rolling_window() {
    fall_back(SalesAmount::ExcludingTax).await;
}

#[tokio::test]
async fn twenty_five_hour_day_including_tax() {
    fall_back(SalesAmount::IncludingTax).await;
}

/// The 23-hour day (Amsterdam, 29 March 2026): no hour 02, through a directory.
#[tokio::test]
async fn twenty_three_hour_day_to_a_directory() {
    let (sb, outlet, loc) = amsterdam_store(day(2026, 3, 30)).await;
    let (pid, price) = product(&sb);
    sb.add_sale(
        &outlet.id,
        &[(pid.clone(), dec!(1))],
        None,
        utc("2026-03-29T00:59:59Z"),
    )
    .unwrap(); // 01:59 CET
    sb.add_sale(
        &outlet.id,
        &[(pid.clone(), dec!(2))],
        None,
        utc("2026-03-29T01:00:00Z"),
    )
    .unwrap(); // 03:00 CEST
    let dir = tempfile::tempdir().unwrap();
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), DirectoryTarget::new(dir.path()))
        .with_options(TmasOptions {
            returns: ReturnRule::NotATransaction,
            ..TmasOptions::default()
        })
        .unwrap()
        .with_clock(|| utc("2026-03-30T06:00:00Z"));
    let runner = Runner::new(Arc::new(MemoryStore::new()));
    let report = runner.run_once(&flow, "demo").await.unwrap();
    assert!(report.is_success(), "{report}");

    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with(&format!("tmas-summary_{loc}_20260327-20260330_")),
        "{name}"
    );
    let bytes = std::fs::read(&files[0]).unwrap();
    let format = flow.options().format;
    let rows = tmas::import::parse_summary(&bytes, &format, Interval::Hour).unwrap();
    assert_eq!(rows.len(), 4 * 24);
    let by_key: BTreeMap<_, _> = rows
        .iter()
        .map(|r| ((r.date, r.start.hour()), r.totals))
        .collect();
    let d = day(2026, 3, 29);
    assert_eq!(by_key[&(d, 1)].sales, money(price));
    assert_eq!(
        by_key[&(d, 2)],
        Totals {
            staff_hours: Some(dec!(0)),
            ..Totals::default()
        }
    );
    assert_eq!(
        (by_key[&(d, 3)].sales, by_key[&(d, 3)].items),
        (money(price * dec!(2)), dec!(2))
    );

    let want = expected(
        &sb,
        Amsterdam,
        SalesAmount::ExcludingTax,
        ReturnRule::NotATransaction,
    );
    let dates: Vec<NaiveDate> = (27..=30).map(|n| day(2026, 3, n)).collect();
    let last = dates[3];
    assert_rows(
        |d, h| by_key.get(&(d, h)).copied(),
        &dates,
        &want,
        |d, h| {
            if d >= day(2026, 3, 27) && d < last {
                demo_staff_hours(h)
            } else {
                dec!(0)
            }
        },
    );
}

/// Half-hour rows: clock-ins split into half hours.
#[tokio::test]
async fn half_hour_rows_split_staff_time() {
    let (sb, _outlet, _loc) = amsterdam_store(day(2026, 1, 15)).await;
    let dir = tempfile::tempdir().unwrap();
    let options = TmasOptions::default().with_interval(Interval::HalfHour);
    assert_eq!(options.format.time_column, TimeColumn::HourMinute);
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), DirectoryTarget::new(dir.path()))
        .with_options(options)
        .unwrap()
        .with_clock(|| utc("2026-01-15T12:00:00Z"));
    let runner = Runner::new(Arc::new(MemoryStore::new()));
    assert!(runner.run_once(&flow, "demo").await.unwrap().is_success());
    let o = flow.last_run().unwrap().outlets.remove(0);
    assert_eq!(o.rows, 4 * 48);
    let d = day(2026, 1, 13);
    let staff = |h, m| {
        o.data
            .get(&o.location, d, IntervalStart::new(h, m).unwrap())
            .and_then(|t| t.staff_hours)
            .unwrap_or_default()
    };
    assert_eq!(staff(7, 30), dec!(0));
    assert_eq!(staff(8, 0), dec!(0.5));
    assert_eq!(staff(8, 30), dec!(0.5));
    assert_eq!(staff(9, 0), dec!(1));
    assert_eq!(staff(16, 30), dec!(0.5));
    assert_eq!(staff(17, 0), dec!(0));
    // What was written is what was computed.
    let path = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let rows = tmas::import::parse_summary(
        &std::fs::read(path).unwrap(),
        &flow.options().format,
        Interval::HalfHour,
    )
    .unwrap();
    assert_eq!(rows.len(), 4 * 48);
    for r in rows {
        let t = o
            .data
            .get(&r.location, r.date, r.start)
            .copied()
            .unwrap_or_default();
        assert_eq!(r.totals.sales, money(t.sales));
        assert_eq!(
            r.totals.staff_hours.unwrap_or_default(),
            money(t.staff_hours.unwrap_or_default())
        );
    }
}

#[tokio::test]
async fn backfill_is_limited_to_sixty_days() {
    let err = TmasOptions::default().with_backfill_days(61).unwrap_err();
    assert!(matches!(
        err,
        TmasFlowError::BackfillTooLong { days: 61, max: 60 }
    ));
    assert_eq!(
        err.to_string(),
        "a backfill of 61 days is too long: TMAS re-imports at most 60 days"
    );
    assert_eq!(
        TmasOptions::default()
            .with_backfill_days(MAX_BACKFILL_DAYS)
            .unwrap()
            .backfill_days,
        60
    );

    // Options set field by field are checked when the flow runs: the run fails, nothing is read.
    let sb = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), DirectoryTarget::new(dir.path()));
    let bad = TmasOptions {
        backfill_days: 90,
        ..TmasOptions::default()
    };
    assert!(
        LightspeedToTmas::new(sb.client().await.unwrap(), DirectoryTarget::new(dir.path()))
            .with_options(bad)
            .is_err()
    );
    assert!(runner_run(&flow).await.is_success());
    assert_eq!(
        sb.stats().count("GET /api/2026-07/search"),
        0,
        "no outlets, no searches"
    );
}

async fn runner_run(flow: &LightspeedToTmas) -> sync_core::run::RunReport {
    Runner::new(Arc::new(MemoryStore::new()))
        .run_once(flow, "demo")
        .await
        .unwrap()
}

/// Missing and disabled mappings are reported by name; shared ids stop the run before sending.
#[tokio::test]
async fn mappings_missing_disabled_and_shared() {
    let sb = Sandbox::start_seeded(DemoData {
        days: 1,
        end_date: day(2026, 1, 15),
        ..DemoData::default()
    })
    .await
    .unwrap();
    let outlets = sb.state().outlets().live();
    let by_name = |n: &str| outlets.iter().find(|o| o.name == n).unwrap().id.to_string();
    let ftp = FtpSandbox::start(ftp_settings()).await.unwrap();
    let client = sb.client().await.unwrap();

    let table = BTreeMap::from([
        (by_name("Amsterdam Centrum"), "0001".to_owned()),
        ("New York SoHo".to_owned(), "0002".to_owned()),
    ]);
    let options = TmasOptions {
        locations: LocationMapping {
            strategy: LocationIdStrategy::Table(table.clone()),
            disabled: ["New York SoHo".to_owned()].into(),
        },
        ..TmasOptions::default()
    };
    let flow = LightspeedToTmas::new(client.clone(), ftp.target())
        .with_options(options)
        .unwrap()
        .with_clock(|| utc("2026-01-15T12:00:00Z"));
    let report = runner_run(&flow).await;
    assert!(report.is_success(), "{report}");
    let reasons: Vec<&str> = report.skipped.iter().map(|n| n.reason.as_str()).collect();
    assert!(
        reasons.contains(&"outlet \"New York SoHo\" is disabled for TMAS"),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"outlet \"Auckland Central\" has no TMAS location mapping"),
        "{reasons:?}"
    );
    let run = flow.last_run().unwrap();
    assert_eq!(run.outlets.len(), 1);
    assert_eq!(run.outlets[0].location.as_str(), "0001");
    assert_eq!(
        sb.stats().count("GET /api/2026-07/search"),
        1,
        "one search, for the one mapped outlet"
    );
    let imported = ftp.summary_rows();
    assert!(imported.iter().all(|r| r.location.as_str() == "0001"));
    assert_eq!(imported.len(), 4 * 24, "three days of backfill and today");

    // Two outlets on one TMAS id: the run fails naming both, nothing is sent.
    let shared = BTreeMap::from([
        (by_name("Amsterdam Centrum"), "0009".to_owned()),
        (by_name("Auckland Central"), "0009".to_owned()),
        (by_name("New York SoHo"), "0003".to_owned()),
    ]);
    let flow = LightspeedToTmas::new(client, ftp.target())
        .with_options(TmasOptions {
            locations: LocationMapping {
                strategy: LocationIdStrategy::Table(shared),
                disabled: Default::default(),
            },
            ..TmasOptions::default()
        })
        .unwrap()
        .with_clock(|| utc("2026-01-15T12:00:00Z"));
    let report = runner_run(&flow).await;
    let RunStatus::Failed { error } = &report.status else {
        panic!("{report}")
    };
    assert!(error.contains("`0009` is shared by"), "{error}");
    assert!(
        error.contains("Amsterdam Centrum") && error.contains("Auckland Central"),
        "{error}"
    );
    assert_eq!(ftp.imports().len(), 1, "nothing more was sent");
}

/// Default mapping with several outlets: last 8 GUID characters, each outlet in its own zone.
/// A dry run computes the same rows, sends nothing and moves no cursor.
#[tokio::test]
async fn dry_run_then_real_run_with_default_mapping() {
    let sb = Sandbox::start_seeded(DemoData {
        days: 2,
        end_date: day(2026, 1, 15),
        ..DemoData::default()
    })
    .await
    .unwrap();
    let ftp = FtpSandbox::start(ftp_settings()).await.unwrap();
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), ftp.target())
        .with_clock(|| utc("2026-01-15T12:00:00Z"));
    let runner = Runner::new(Arc::new(MemoryStore::new()));

    let dry = runner.dry_run(&flow, "demo").await.unwrap();
    assert!(dry.is_success(), "{dry}");
    assert!(ftp.imports().is_empty());
    let planned = flow.last_run().unwrap();
    assert!(planned.dry_run);
    assert_eq!(planned.outlets.len(), 3);

    let real = runner.run_once(&flow, "demo").await.unwrap();
    assert!(real.is_success(), "{real}");
    let done = flow.last_run().unwrap();
    // The dry run moved no cursor: the real run backfills the same days with the same rows.
    for (p, d) in planned.outlets.iter().zip(&done.outlets) {
        assert_eq!(
            (p.dates, &p.data, p.rows),
            (d.dates, &d.data, d.rows),
            "{}",
            p.name
        );
        let id = p.outlet_id.as_str();
        assert_eq!(p.location.as_str(), &id[id.len() - 8..]);
        assert!(d.file.is_some());
    }
    assert_eq!(ftp.imports().len(), 3);
    assert_eq!(
        sb.stats().count("GET /api/2026-07/search"),
        2,
        "one search across the three outlets per run (their ranges line up)"
    );

    // Each outlet's rows follow its own zone: 15 January is "today" in Auckland (UTC+13) and
    // Amsterdam, and so is it in New York (07:00 there).
    for o in &done.outlets {
        let tz = o.time_zone;
        let sales: Vec<Sale> = sb
            .state()
            .sales()
            .all()
            .filter(|s| s.outlet_id.as_ref() == Some(&o.outlet_id))
            .cloned()
            .collect();
        let mut own: BTreeMap<(NaiveDate, u32), Decimal> = BTreeMap::new();
        for s in sales.iter().filter(|s| s.state == Some(SaleState::Closed)) {
            let l = s.sale_date.unwrap().with_timezone(&tz);
            *own.entry((l.date_naive(), l.hour())).or_default() += s.total_price;
        }
        assert!(!own.is_empty());
        for ((d, h), v) in own {
            let row = ftp.summary(&o.location, d, hour(h)).unwrap();
            assert_eq!(row.sales, money(v), "{} {d} {h}", o.name);
        }
        assert_eq!(
            o.dates.last(),
            Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
                .unwrap()
                .with_timezone(&tz)
                .date_naive()
        );
    }
    // Shifts name no outlet: the cashiers are restricted to one outlet each, so every clock-in is
    // placed (users are read once per run for that).
    assert!(
        done.unplaced_shifts.is_empty(),
        "{:?}",
        done.unplaced_shifts
    );
    assert!(real.skipped.is_empty());
    for o in &done.outlets {
        let total: Decimal = o.data.rows().filter_map(|r| r.totals.staff_hours).sum();
        assert_eq!(
            total,
            dec!(32),
            "{}: two days of two 8-hour clock-ins",
            o.name
        );
    }
    assert_eq!(
        sb.stats().count("GET /api/2026-07/users"),
        4,
        "one listing (two pages) per run"
    );

    // The activity log has one entry per outlet file, with the rows written; the dry run none.
    let store = runner.store();
    assert!(
        store
            .query_activity(&ActivityQuery::run(&dry.run_id))
            .await
            .unwrap()
            .is_empty()
    );
    let entries = store
        .query_activity(&ActivityQuery::run(&real.run_id))
        .await
        .unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        let sent = e.sent.unwrap();
        assert_eq!(sent["rows"], serde_json::json!(4 * 24), "{sent}");
        assert!(sent["file"].as_str().unwrap().starts_with("tmas-summary_"));
    }
}

/// A failed delivery moves no watermark (the next run sends the same days); an outlet opened
/// later is backfilled, with clock-ins older than the ones the flow keeps re-read.
#[tokio::test]
async fn failed_delivery_resent_and_new_outlet_backfilled() {
    let (sb, _outlet, loc) = amsterdam_store(day(2026, 1, 15)).await;
    let admin = sb
        .state()
        .users()
        .live()
        .into_iter()
        .find(|u| u.username == "admin")
        .unwrap()
        .id;
    sb.add_shift(
        &admin,
        utc("2026-01-06T10:00:00Z"),
        Some(utc("2026-01-06T12:00:00Z")),
    );
    let ftp = FtpSandbox::start(ftp_settings()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let runner = Runner::new(store.clone());
    let now = Arc::new(std::sync::Mutex::new(utc("2026-01-15T12:00:00Z")));
    let flow = |options: TmasOptions| {
        let clock = now.clone();
        let sb = &sb;
        let target = ftp.target();
        async move {
            LightspeedToTmas::new(sb.client().await.unwrap(), target)
                .with_options(options)
                .unwrap()
                .with_clock(move || *clock.lock().unwrap())
        }
    };
    let options = TmasOptions::default().with_backfill_days(10).unwrap();
    let first = flow(options.clone()).await;

    // Every attempt of the upload is cut off.
    ftp.cut_next_uploads(&[10, 10, 10]);
    let report = runner.run_once(&first, "demo").await.unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(report.failed.len(), 1, "{report}");
    assert!(
        report.failed[0]
            .reason
            .contains("outlet \"Amsterdam Centrum\""),
        "{}",
        report.failed[0].reason
    );
    assert!(ftp.summary_rows().is_empty());

    *now.lock().unwrap() = utc("2026-01-15T13:00:00Z");
    let report = runner.run_once(&first, "demo").await.unwrap();
    assert!(report.is_success(), "{report}");
    let o = flow_outlet(&first, "Amsterdam Centrum");
    assert_eq!(
        (o.dates.first(), o.dates.last()),
        (day(2026, 1, 5), day(2026, 1, 15)),
        "the same days again"
    );
    // The one outlet gets the admin's clock-in.
    assert_eq!(
        ftp.summary(&loc, day(2026, 1, 6), hour(11))
            .unwrap()
            .staff_hours,
        Some(dec!(1))
    );

    // A new outlet; the admin's clock-ins count there from now on.
    let lisbon = sb.add_outlet("Lisboa Chiado", chrono_tz::Europe::Lisbon);
    let second = flow(TmasOptions {
        staff_outlets: BTreeMap::from([(admin.clone(), lisbon.id.clone())]),
        ..options
    })
    .await;
    *now.lock().unwrap() = utc("2026-01-15T14:00:00Z");
    let report = runner.run_once(&second, "demo").await.unwrap();
    assert!(report.is_success(), "{report}");
    let o = flow_outlet(&second, "Lisboa Chiado");
    assert_eq!(
        (o.dates.first(), o.dates.last()),
        (day(2026, 1, 5), day(2026, 1, 15))
    );
    let a = flow_outlet(&second, "Amsterdam Centrum");
    assert_eq!(
        a.dates.first(),
        day(2026, 1, 15),
        "Amsterdam: the rolling window only"
    );
    for h in [10, 11] {
        assert_eq!(
            ftp.summary(&o.location, day(2026, 1, 6), hour(h))
                .unwrap()
                .staff_hours,
            Some(dec!(1))
        );
    }
    assert_eq!(
        ftp.summary(&o.location, day(2026, 1, 6), hour(12))
            .unwrap()
            .staff_hours,
        Some(dec!(0))
    );
}

fn flow_outlet(flow: &LightspeedToTmas, name: &str) -> pos_sync_flows::lightspeed_tmas::OutletRun {
    flow.last_run().unwrap().outlet(name).unwrap().clone()
}

/// More than a page of sales: one search, paged by offset, every closed sale counted once.
#[tokio::test]
async fn offset_paging_over_a_thousand_sales() {
    let sb = Sandbox::start_seeded(DemoData {
        seed: 3,
        outlets: vec![("Amsterdam Centrum".into(), Amsterdam)],
        product_families: 3,
        customers: 2,
        days: 3,
        end_date: day(2026, 1, 15),
        sales_per_day: 500,
    })
    .await
    .unwrap();
    let closed: Vec<Sale> = sb
        .state()
        .sales()
        .all()
        .filter(|s| s.state == Some(SaleState::Closed))
        .cloned()
        .collect();
    assert!(closed.len() > 1000, "{}", closed.len());
    let dir = tempfile::tempdir().unwrap();
    let flow = LightspeedToTmas::new(sb.client().await.unwrap(), DirectoryTarget::new(dir.path()))
        .with_clock(|| utc("2026-01-15T12:00:00Z"));
    assert!(runner_run(&flow).await.is_success());
    let o = flow.last_run().unwrap().outlets.remove(0);
    assert_eq!(
        (o.sales_read, o.sales_counted),
        (closed.len(), closed.len())
    );
    let tx: i64 = o.data.rows().map(|r| r.totals.transactions).sum();
    let items: Decimal = o.data.rows().map(|r| r.totals.items).sum();
    assert_eq!(tx, closed.len() as i64);
    let want_items: Decimal = closed
        .iter()
        .flat_map(|s| &s.line_items)
        .map(|l| l.quantity)
        .sum();
    assert_eq!(items, want_items);
    assert_eq!(
        sb.stats().count("GET /api/2026-07/search"),
        2,
        "1000 + the rest"
    );
}
