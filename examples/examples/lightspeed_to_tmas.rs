//! Lightspeed X-Series -> TMAS: sales, transactions, items and staff hours per outlet and hour.
//!
//! `cargo run --example lightspeed_to_tmas` starts a Lightspeed sandbox with three outlets in
//! three time zones and a TMAS FTP sandbox that imports files as TMAS does, backfills the last
//! days, runs again (the rolling window only), and prints what TMAS imported and the requests made.
//!
//! With `LIGHTSPEED_DOMAIN_PREFIX` and `LIGHTSPEED_TOKEN` it reads a real store, and with
//! `TMAS_FTP_URL` or `TMAS_OUTPUT_DIR` it delivers for real (see the crate docs of
//! `pos_sync::config` for every variable). Flags: `--once` (default), `--schedule "hourly at :02"`
//! (TMAS's own import runs two minutes past each hour), `--dry-run`, `--backfill-days N`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use lightspeed_x::sandbox::{DemoData, Sandbox};
use pos_sync::{Env, Flags, LightspeedConfig, Mode, ProcessEnv, TmasTarget};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions, TmasRunSummary};
use sync_core::run::{RunReport, Runner};
use sync_core::state::{MemoryStore, SqliteStore, StateStore};
use tmas::sandbox::{FtpSandbox, ImportSettings};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let env = ProcessEnv;
    let flags = Flags::from_args()?;

    let mut options = TmasOptions::default();
    if let Some(days) = flags.backfill_days {
        options = options.with_backfill_days(days)?;
    }
    if let Some(mapping) = pos_sync::tmas_location_map(&env)? {
        options.locations = mapping;
    }

    // Source: a real store, or a sandbox with demo data up to yesterday.
    let lightspeed = LightspeedConfig::from_env(&env)?;
    let mut sandbox = None;
    let (client, tenant) = match &lightspeed {
        Some(c) => (
            c.client().await.context("connecting to Lightspeed")?,
            c.domain_prefix.clone(),
        ),
        None => {
            let today = Utc::now().date_naive();
            let sb = Sandbox::start_seeded(DemoData {
                days: options.backfill_days.max(1),
                end_date: today,
                sales_per_day: 12,
                ..DemoData::default()
            })
            .await?;
            let client = sb.client().await?;
            sandbox = Some(sb);
            (client, "sandbox".to_owned())
        }
    };

    // Target: a real FTP server or directory, or the TMAS sandbox.
    let target = TmasTarget::from_env(&env)?;
    let mut ftp = None;
    let delivery = match &target {
        Some(t) => t.delivery(),
        None => {
            let settings = ImportSettings {
                summary: options.format,
                interval: options.interval,
                ..ImportSettings::default()
            };
            let server = FtpSandbox::start(settings).await?;
            let d = tmas::delivery::Delivery::Ftp(server.target());
            ftp = Some(server);
            d
        }
    };

    // State: SQLite for real accounts (SYNC_STATE), in memory for the sandboxes unless SYNC_STATE is set.
    let store: Arc<dyn StateStore> = if lightspeed.is_some() || env.var("SYNC_STATE")?.is_some() {
        let path = pos_sync::state_path(&env)?;
        Arc::new(
            SqliteStore::open(&path)
                .await
                .with_context(|| format!("opening the state file {}", path.display()))?,
        )
    } else {
        Arc::new(MemoryStore::new())
    };

    let flow = LightspeedToTmas::new(client.clone(), delivery).with_options(options)?;
    let runner = Runner::new(store);

    if let Mode::Scheduled(schedule, text) = &flags.mode {
        println!("running {text} (Ctrl-C stops)");
        runner
            .run_scheduled(&flow, &tenant, schedule, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }

    let report = run_with_spinner(&runner, &flow, &tenant, flags.dry_run).await?;
    print_run(&report, flow.last_run().as_ref());
    if !report.is_success() {
        anyhow::bail!("the run did not succeed (see above)");
    }

    if let (Some(sb), Some(server), false) = (&sandbox, &ftp, flags.dry_run) {
        // An hour later TMAS's schedule would run again: only the rolling window is re-sent.
        let again = run_with_spinner(&runner, &flow, &tenant, false).await?;
        println!("\nsecond run (rolling window only):");
        print_run(&again, flow.last_run().as_ref());

        let rows = server.summary_rows();
        let with_sales: Vec<_> = rows.iter().filter(|r| r.totals.transactions != 0).collect();
        println!(
            "\nTMAS sandbox imported {} files, {} rows ({} with transactions); a few:",
            server.imports().len(),
            rows.len(),
            with_sales.len()
        );
        println!("  location  date        hour  sales      tx  items  staff");
        for r in with_sales
            .iter()
            .step_by((with_sales.len() / 6).max(1))
            .take(6)
        {
            println!(
                "  {}  {}  {:02}    {:>9}  {:>2}  {:>5}  {}",
                r.location,
                r.date,
                r.start.hour(),
                r.totals.sales,
                r.totals.transactions,
                r.totals.items,
                r.totals.staff_hours.unwrap_or_default()
            );
        }
        let served = sb.stats();
        let route = |path: &str| format!("GET /api/{}/{path}", client.api_version());
        println!(
            "Lightspeed sandbox served {} requests: {} searches, {} shift pages, {} outlet pages, {} user pages",
            served.requests,
            served.count(&route("search")),
            served.count(&route("shifts")),
            served.count(&route("outlets")),
            served.count(&route("users")),
        );
    } else if let Some(TmasTarget::Directory(dir)) = &target {
        println!("files are in {}", dir.display());
    }
    Ok(())
}

async fn run_with_spinner(
    runner: &Runner,
    flow: &LightspeedToTmas,
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<RunReport> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?);
    bar.set_message(if dry_run {
        "computing (dry run)"
    } else {
        "syncing"
    });
    bar.enable_steady_tick(Duration::from_millis(100));
    let report = if dry_run {
        runner.dry_run(flow, tenant).await?
    } else {
        runner.run_once(flow, tenant).await?
    };
    bar.finish_and_clear();
    Ok(report)
}

fn print_run(report: &RunReport, summary: Option<&TmasRunSummary>) {
    println!("{report}");
    for n in &report.skipped {
        println!("  skipped {}: {}", n.source_id, n.reason);
    }
    for n in &report.failed {
        println!("  failed {}: {}", n.source_id, n.reason);
    }
    let Some(s) = summary else { return };
    for o in &s.outlets {
        println!(
            "  {:<18} -> TMAS {}  {} .. {} ({})  {} rows, {} with data, {} of {} sales counted{}",
            o.name,
            o.location,
            o.dates.first(),
            o.dates.last(),
            o.time_zone,
            o.rows,
            o.rows_with_data,
            o.sales_counted,
            o.sales_read,
            o.file
                .as_deref()
                .map(|f| format!(", sent {f}"))
                .unwrap_or_default(),
        );
    }
}
