//! Business Central -> Lightspeed X-Series: stock per item (inventory minus open sales-order
//! quantities not yet shipped) written to a Lightspeed outlet, only where it differs.
//!
//! `cargo run --example business_central_stock_to_lightspeed` starts both sandboxes (a Business
//! Central demo company with inventory and open orders; a Lightspeed store with one outlet and
//! products for some of the items), runs the flow, changes the stock in Business Central, runs
//! again (only that item is written), and prints the levels and the requests made.
//!
//! With `LIGHTSPEED_*` and `BC_*` set it connects real accounts (see the crate docs of
//! `pos_sync::config`); `LIGHTSPEED_OUTLET_ID` names the outlet when the store has several.
//! Flags: `--once` (default), `--schedule "hourly at :02"`, `--dry-run`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lightspeed_x::sandbox::DemoData;
use lightspeed_x::{InventoryLevel, ProductCreate};
use pos_sync::{BcSetup, Flags, Mode, ProcessEnv};
use pos_sync_flows::lightspeed_business_central::{StockFlow, StockOptions};
use rust_decimal::Decimal;
use sync_core::run::{RunReport, Runner};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let flags = Flags::from_args()?;
    let setup = BcSetup::from_env(
        &ProcessEnv,
        DemoData {
            outlets: vec![("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam)],
            product_families: 0,
            customers: 0,
            days: 0,
            sales_per_day: 0,
            ..DemoData::default()
        },
    )
    .await?;
    let mut skus = Vec::new();
    if let Some(ls) = &setup.lightspeed_sandbox {
        // Lightspeed sells some of the demo company's items (1006 and 1007 it does not).
        let outlet = ls.state().outlets().live()[0].id.clone();
        for (sku, name, level) in [
            ("1001", "Road Runner Shoe", 45),
            ("1002", "Merino T-Shirt", 280),
            ("1003", "Rain Jacket", 20),
            ("1004", "Wool Socks (3 pack)", 5),
            ("1005", "Water Bottle 0.75 l", 75),
        ] {
            let product = ProductCreate {
                name: name.into(),
                sku: Some(sku.into()),
                price_excluding_tax: Some(Decimal::from(10)),
                inventory: vec![InventoryLevel::set(outlet.clone(), Decimal::from(level))],
                ..Default::default()
            };
            setup
                .accounts
                .lightspeed
                .products()
                .create(&product)
                .await?;
            skus.push(sku);
        }
    }
    let options = StockOptions {
        outlet: setup.outlet.clone(),
        ..StockOptions::default()
    };
    let flow = StockFlow::new(setup.accounts.clone(), options);
    let runner = Runner::new(setup.store.clone());

    match &flags.mode {
        Mode::Once => {
            print_levels(&setup, &skus, "Lightspeed before");
            run(&runner, &flow, &setup.tenant, flags.dry_run).await?;
            print_levels(&setup, &skus, "Lightspeed after");
            if let (Some(bc), false) = (&setup.business_central_sandbox, flags.dry_run) {
                println!("\nStock of 1005 is counted again in Business Central: 50.");
                bc.set_inventory("1005", Decimal::from(50));
                run(&runner, &flow, &setup.tenant, false).await?;
                print_levels(&setup, &skus, "Lightspeed after the recount");
            }
        }
        Mode::Scheduled(schedule, text) => {
            println!("Running {text} (UTC); Ctrl-C stops.");
            while pos_sync::wait_for(schedule).await {
                run(&runner, &flow, &setup.tenant, false).await?;
            }
        }
    }
    let (ls, bc) = (
        setup.accounts.lightspeed.stats(),
        setup.accounts.business_central.stats(),
    );
    println!(
        "\nRequests made: Lightspeed {} ({} retried, {} throttled), Business Central {} ({} retried, {} throttled)",
        ls.requests, ls.retries, ls.throttled, bc.requests, bc.retries, bc.throttled
    );
    Ok(())
}

async fn run(
    runner: &Runner,
    flow: &StockFlow,
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<RunReport> {
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} stock {elapsed}")?);
    bar.enable_steady_tick(Duration::from_millis(100));
    let report = if dry_run {
        runner.dry_run(flow, tenant).await?
    } else {
        runner.run_once(flow, tenant).await?
    };
    bar.finish_and_clear();
    println!("{report}");
    for note in &report.skipped {
        println!("  warning: item {}: {}", note.source_id, note.reason);
    }
    for note in &report.failed {
        println!("  failed: item {}: {}", note.source_id, note.reason);
    }
    for change in report.planned.iter().filter(|c| !c.fields.is_empty()) {
        println!(
            "  would set {}: {:?}",
            change.source_id,
            change.fields.get("quantity")
        );
    }
    Ok(report)
}

fn print_levels(setup: &BcSetup, skus: &[&str], title: &str) {
    let Some(ls) = &setup.lightspeed_sandbox else {
        return;
    };
    let st = ls.state();
    let Some(outlet) = st.outlets().live().first().map(|o| o.id.clone()) else {
        return;
    };
    let levels: Vec<String> = skus
        .iter()
        .filter_map(|sku| {
            let p = st.product_by_sku(sku)?;
            Some(format!("{sku}={}", st.inventory_level(&p.id, &outlet)?))
        })
        .collect();
    println!("{title}: {}", levels.join(", "));
}
