//! `pos-sync`: runs the configured flows against the configured accounts, with its state in an
//! SQLite file, then exits (or keeps running on a schedule).
//!
//! ```text
//! pos-sync [--flows products,customers,sales,stock,tmas] [--once | --schedule "hourly at :02"]
//!          [--dry-run] [--backfill-days N]
//! ```
//!
//! Every setting is a flag and an environment variable (`pos-sync --help` lists them, and
//! `pos_sync::config` reads them): `LIGHTSPEED_*` (always), `BC_*` for the Business Central flows,
//! `TMAS_FTP_URL` or `TMAS_OUTPUT_DIR` (and `TMAS_LOCATION_MAP`) for `tmas`, and `SYNC_STATE`
//! for the state file. Unlike the examples it never starts a sandbox: a missing setting is an
//! error that names it.
//!
//! The flows run in the order given; the default is `products,customers,sales`, plus `tmas` when
//! a TMAS target is set. `stock` (Business Central inventory back to Lightspeed) runs only when
//! asked for. `LIGHTSPEED_API_VERSION` picks the Lightspeed API version: `2026-07` (the default)
//! or another date version `YYYY-MM`, or `2.0` for a store on the legacy 2.0/2.1 API; a malformed
//! value is a configuration error. `LIGHTSPEED_RATE_LIMIT` (`REQUESTS/SECONDS`, or `off` against
//! a sandbox) replaces the documented limit of a one-register store. `SYNC_LOCK_TTL` (seconds, default 900) is how long the run lock of a process that
//! died mid-run keeps other runs out; a cursor moves only when its flow completed, so a process
//! killed at any point is simply started again. `RUST_LOG` sets what is logged to standard error;
//! whatever it says, the FTP client's TRACE dump of its control channel (which shows the
//! password) stays off.
//!
//! Exit status: 0 when every flow completed and no record failed; 1 when a flow failed or records
//! failed (each is printed, and failed records are retried by the next run); 2 for a usage or
//! configuration error; 75 when another run of a flow holds its lock (try again later).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use pos_sync::{
    BusinessCentralConfig, ConfigError, Env, LightspeedConfig, Mode, RunArgs, Settings, TmasTarget,
};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, ProductOptions, ProductsFlow, SalesFlow,
    SalesOptions, StockFlow, StockOptions,
};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions};
use sync_core::run::{Flow, RunError, Runner};
use sync_core::state::SqliteStore;

/// Exit status when another run holds a flow's lock (`EX_TEMPFAIL`).
const EXIT_LOCKED: i32 = 75;

/// The flows this command knows, in their default order.
const ALL_FLOWS: [&str; 5] = ["products", "customers", "sales", "stock", "tmas"];

#[tokio::main]
async fn main() {
    // `RUST_LOG` decides, except that suppaftp stays below TRACE: at TRACE it logs the FTP
    // control channel, the `PASS` command with the password included.
    let mut filter = tracing_subscriber::EnvFilter::from_default_env();
    if let Ok(cap) = "suppaftp=debug".parse() {
        filter = filter.add_directive(cap);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let code = match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<ConfigError>().is_some() {
                2
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

/// Runs the configured flows against the configured accounts, with its state in an SQLite file,
/// then exits, or keeps running on a schedule.
///
/// Exit status: 0 when every flow completed and no record failed; 1 when a flow or records
/// failed (the next run retries them); 2 for a usage or configuration error; 75 when another run
/// holds a flow's lock (try again later).
#[derive(Debug, Parser)]
#[command(
    name = "pos-sync",
    version,
    after_help = "RUST_LOG sets what is logged to standard error (the FTP client's TRACE dump, which shows the password, stays off)."
)]
struct Cli {
    /// The flows to run, in this order: products, customers, sales, stock, tmas [default:
    /// products,customers,sales, plus tmas when a TMAS target is set].
    #[arg(long, env = "SYNC_FLOWS", value_name = "LIST", value_parser = parse_flows)]
    flows: Option<Flows>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    settings: Settings,
}

/// The names given to `--flows`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flows(Vec<String>);

/// `--flows`: names from [`ALL_FLOWS`], separated by commas.
fn parse_flows(list: &str) -> Result<Flows, ConfigError> {
    let names: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for n in &names {
        if !ALL_FLOWS.contains(&n.as_str()) {
            return Err(ConfigError::new(
                "--flows",
                format!("unknown flow `{n}` (expected {})", ALL_FLOWS.join(", ")),
            ));
        }
    }
    if names.is_empty() {
        return Err(ConfigError::new("--flows", "names no flow"));
    }
    Ok(Flows(names))
}

async fn run() -> anyhow::Result<i32> {
    // Usage errors exit with status 2, `--help` and `--version` with 0.
    let cli = Cli::parse();
    let env = cli.settings;
    let chosen = cli.flows.map(|f| f.0);
    let flags = cli.run.resolve()?;
    let tmas_target = TmasTarget::from_env(&env)?;
    let names = chosen.unwrap_or_else(|| {
        let mut d = vec!["products".to_owned(), "customers".into(), "sales".into()];
        if tmas_target.is_some() {
            d.push("tmas".into());
        }
        d
    });
    let lock_ttl = match env.var("SYNC_LOCK_TTL")? {
        Some(t) => Duration::from_secs(t.parse::<u64>().map_err(|_| {
            ConfigError::new("SYNC_LOCK_TTL", format!("`{t}` is not a number of seconds"))
        })?),
        None => Duration::from_secs(900),
    };

    let ls = LightspeedConfig::from_env(&env)?
        .ok_or_else(|| ConfigError::new("LIGHTSPEED_DOMAIN_PREFIX", "is not set"))?;
    let lightspeed = lightspeed_client(&ls, &env).await?;
    let needs_bc = names.iter().any(|n| n != "tmas");
    let accounts = if needs_bc {
        let bc = BusinessCentralConfig::from_env(&env)?
            .ok_or_else(|| ConfigError::new("BC_COMPANY_ID", "is not set"))?;
        Some(Accounts::new(lightspeed.clone(), bc.client()?, bc.company))
    } else {
        None
    };

    let default_customer = env.var("BC_DEFAULT_CUSTOMER")?;
    let outlet = env
        .var("LIGHTSPEED_OUTLET_ID")?
        .map(lightspeed_x::OutletId::new);
    let mut flows: Vec<Box<dyn Flow>> = Vec::new();
    for name in &names {
        let need = || {
            accounts
                .clone()
                .ok_or_else(|| ConfigError::new("BC_COMPANY_ID", "is not set"))
        };
        match name.as_str() {
            "products" => flows.push(Box::new(ProductsFlow::new(
                need()?,
                ProductOptions::default(),
            ))),
            "customers" => flows.push(Box::new(CustomersFlow::new(
                need()?,
                CustomerOptions::default(),
            ))),
            "sales" => {
                let mut options = SalesOptions {
                    default_customer_number: default_customer.clone(),
                    ..SalesOptions::default()
                };
                if let Some(days) = flags.backfill_days {
                    options.not_before = Some(Utc::now() - chrono::Duration::days(i64::from(days)));
                }
                flows.push(Box::new(SalesFlow::new(need()?, options)));
            }
            "stock" => flows.push(Box::new(StockFlow::new(
                need()?,
                StockOptions {
                    outlet: outlet.clone(),
                    ..StockOptions::default()
                },
            ))),
            _ => {
                let target = tmas_target.as_ref().ok_or_else(|| {
                    ConfigError::new("TMAS_FTP_URL", "is not set (nor TMAS_OUTPUT_DIR)")
                })?;
                let mut options = TmasOptions::default();
                if let Some(days) = flags.backfill_days {
                    options = options.with_backfill_days(days)?;
                }
                if let Some(mapping) = pos_sync::tmas_location_map(&env)? {
                    options.locations = mapping;
                }
                flows.push(Box::new(
                    LightspeedToTmas::new(lightspeed.clone(), target.delivery())
                        .with_options(options)?,
                ));
            }
        }
    }

    let path = pos_sync::state_path(&env)?;
    let store = SqliteStore::open(&path)
        .await
        .map_err(|e| anyhow::anyhow!("opening the state file {}: {e}", path.display()))?;
    let runner = Runner::new(Arc::new(store)).lock_ttl(lock_ttl);
    let tenant = ls.domain_prefix.clone();

    match &flags.mode {
        Mode::Once => run_all(&runner, &flows, &tenant, flags.dry_run).await,
        Mode::Scheduled(schedule, text) => {
            println!("running {text} (UTC); Ctrl-C stops");
            let mut code = 0;
            while pos_sync::wait_for(schedule).await {
                code = run_all(&runner, &flows, &tenant, false).await?;
            }
            Ok(code)
        }
    }
}

/// The Lightspeed client; `LIGHTSPEED_RATE_LIMIT` (`REQUESTS/SECONDS`, or `off` for a sandbox)
/// overrides the documented limit of a store with one register.
async fn lightspeed_client(
    config: &LightspeedConfig,
    env: &impl Env,
) -> anyhow::Result<lightspeed_x::Client> {
    let Some(text) = env.var("LIGHTSPEED_RATE_LIMIT")? else {
        return Ok(config.client().await?);
    };
    let b = config.client_builder();
    let b = match parse_rate_limit(&text)? {
        None => b.unlimited(),
        Some((requests, seconds)) => b.rate_limit(pos_http::RateLimit::new(
            requests,
            Duration::from_secs(seconds),
        )),
    };
    Ok(b.build().await?)
}

/// `off`, or `REQUESTS/SECONDS` (both positive whole numbers).
fn parse_rate_limit(text: &str) -> Result<Option<(u32, u64)>, ConfigError> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.split_once('/')
        .and_then(|(r, s)| Some((r.trim().parse::<u32>().ok()?, s.trim().parse::<u64>().ok()?)))
        .filter(|(r, s)| *r > 0 && *s > 0)
        .map(Some)
        .ok_or_else(|| {
            ConfigError::new(
                "LIGHTSPEED_RATE_LIMIT",
                format!("`{text}` is not REQUESTS/SECONDS (e.g. 350/300) or off"),
            )
        })
}

/// Runs each flow once, printing its report; the exit status.
async fn run_all(
    runner: &Runner,
    flows: &[Box<dyn Flow>],
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<i32> {
    let mut code = 0;
    for flow in flows {
        let report = if dry_run {
            runner.dry_run(flow.as_ref(), tenant).await
        } else {
            runner.run_once(flow.as_ref(), tenant).await
        };
        let report = match report {
            Ok(r) => r,
            Err(RunError::AlreadyRunning(scope)) => {
                println!("{scope}: another run holds the lock; try again later");
                return Ok(EXIT_LOCKED);
            }
            Err(e) => return Err(e.into()),
        };
        println!("{report}");
        for note in &report.skipped {
            println!("  skipped {}: {}", note.source_id, note.reason);
        }
        for note in &report.failed {
            println!("  failed {}: {}", note.source_id, note.reason);
        }
        if !report.is_success() {
            code = 1;
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("pos-sync").chain(a.iter().copied()))
    }

    #[test]
    fn rate_limits() {
        assert_eq!(parse_rate_limit("off").unwrap(), None);
        assert_eq!(parse_rate_limit("350/300").unwrap(), Some((350, 300)));
        for bad in ["", "350", "0/300", "350/0", "a/b", "-1/5"] {
            assert_eq!(
                parse_rate_limit(bad).unwrap_err().name,
                "LIGHTSPEED_RATE_LIMIT",
                "{bad}"
            );
        }
    }

    #[test]
    fn flows_are_checked() {
        let cli = parse(&["--dry-run", "--flows", "sales, stock"]).unwrap();
        assert_eq!(cli.flows.unwrap().0, ["sales", "stock"]);
        assert!(cli.run.dry_run);
        let cli = parse(&["--flows=tmas"]).unwrap();
        assert_eq!(cli.flows.unwrap().0, ["tmas"]);
        assert_eq!(parse_flows("nope").unwrap_err().name, "--flows");
        assert_eq!(parse_flows("").unwrap_err().name, "--flows");
        for bad in [
            &["--flows", "nope"][..],
            &["--flows"],
            &["--flows="],
            &["--nope"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
    }

    #[test]
    fn help_names_every_setting_and_hides_secrets() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for name in [
            "SYNC_FLOWS",
            "SYNC_SCHEDULE",
            "SYNC_DRY_RUN",
            "SYNC_BACKFILL_DAYS",
            "LIGHTSPEED_TOKEN",
            "BC_CLIENT_SECRET",
            "TMAS_FTP_URL",
            "SYNC_LOCK_TTL",
        ] {
            assert!(help.contains(name), "{name} is in --help");
        }
        for (name, _) in Settings::default().values() {
            assert!(
                help.contains(&format!("[env: {name}")),
                "{name} is in --help"
            );
        }
        Cli::command().debug_assert();
    }
}
