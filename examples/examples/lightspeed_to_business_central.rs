//! Lightspeed X-Series -> Business Central: customers, products (items, variants, categories)
//! and closed sales as sales orders with their lines.
//!
//! `cargo run --example lightspeed_to_business_central` starts both sandboxes (a Lightspeed store
//! with demo customers, products and sales; a Business Central demo company), runs the three
//! flows in order, runs them again (nothing left to write), and prints what Business Central now
//! holds and the requests made.
//!
//! With `LIGHTSPEED_*` and `BC_*` set it connects real accounts (see the crate docs of
//! `pos_sync::config`); `BC_DEFAULT_CUSTOMER` receives sales without a customer. Flags:
//! `--once` (default), `--schedule "hourly at :02"`, `--dry-run`, `--backfill-days N` (only
//! sales of the last N days).

use std::time::Duration;

use business_central::models::{Customer, Item, SalesOrder, SalesOrderLine};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use lightspeed_x::sandbox::DemoData;
use pos_sync::{BcSetup, Flags, Mode, ProcessEnv};
use pos_sync_flows::lightspeed_business_central::{
    CustomerOptions, CustomersFlow, MissingItems, ProductOptions, ProductsFlow, SalesFlow,
    SalesOptions,
};
use sync_core::run::{Flow, RunReport, Runner};

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
            customers: 24,
            product_families: 12,
            days: 5,
            sales_per_day: 8,
            ..DemoData::default()
        },
    )
    .await?;

    let customers = CustomerOptions {
        payment_terms_code: setup.is_sandbox().then(|| "14 DAYS".to_owned()),
        ..CustomerOptions::default()
    };
    let mut products = ProductOptions::default();
    if setup.is_sandbox() {
        // What the demo company requires of new items.
        for (field, value) in [
            ("generalProductPostingGroupCode", "RETAIL"),
            ("inventoryPostingGroupCode", "RESALE"),
            ("baseUnitOfMeasureCode", "PCS"),
        ] {
            products
                .mapping
                .set(field, sync_core::mapping::FieldSource::constant(value));
        }
    }
    let mut sales = SalesOptions {
        default_customer_number: setup.default_customer.clone(),
        missing_items: MissingItems::Create,
        customers: customers.clone(),
        products: products.clone(),
        ..SalesOptions::default()
    };
    if let Some(days) = flags.backfill_days {
        sales.not_before = Some(Utc::now() - chrono::Duration::days(i64::from(days)));
    }
    let flows: Vec<Box<dyn Flow>> = vec![
        Box::new(CustomersFlow::new(setup.accounts.clone(), customers)),
        Box::new(ProductsFlow::new(setup.accounts.clone(), products)),
        Box::new(SalesFlow::new(setup.accounts.clone(), sales)),
    ];
    let runner = Runner::new(setup.store.clone());

    match &flags.mode {
        Mode::Once => {
            run_all(&runner, &flows, &setup.tenant, flags.dry_run).await?;
            if setup.is_sandbox() && !flags.dry_run {
                println!("\nAgain (incremental: nothing changed in Lightspeed):");
                run_all(&runner, &flows, &setup.tenant, false).await?;
                print_sample(&setup);
            }
        }
        Mode::Scheduled(schedule, text) => {
            println!("Running {text} (UTC); Ctrl-C stops.");
            while pos_sync::wait_for(schedule).await {
                run_all(&runner, &flows, &setup.tenant, false).await?;
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

async fn run_all(
    runner: &Runner,
    flows: &[Box<dyn Flow>],
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<Vec<RunReport>> {
    let mut reports = Vec::new();
    for flow in flows {
        let bar = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}")?)
            .with_message(flow.name().to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        let report = if dry_run {
            runner.dry_run(flow.as_ref(), tenant).await?
        } else {
            runner.run_once(flow.as_ref(), tenant).await?
        };
        bar.finish_and_clear();
        println!("{report}");
        for note in report.failed.iter().take(3) {
            println!("  failed {}: {}", note.source_id, note.reason);
        }
        for note in report.skipped.iter().take(3) {
            println!("  skipped {}: {}", note.source_id, note.reason);
        }
        if dry_run {
            for change in report.planned.iter().take(5) {
                println!(
                    "  would {:?} {}",
                    change.action,
                    change.key.as_deref().unwrap_or("-")
                );
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

fn print_sample(setup: &BcSetup) {
    let Some(bc) = &setup.business_central_sandbox else {
        return;
    };
    let customers = bc.entities::<Customer>();
    let items = bc.entities::<Item>();
    let orders: Vec<SalesOrder> = bc
        .entities::<SalesOrder>()
        .into_iter()
        .filter(|o| !o.external_document_number.starts_with("WEB-"))
        .collect();
    let lines = bc.entities::<SalesOrderLine>();
    println!(
        "\nBusiness Central now holds {} customers, {} items and {} orders from Lightspeed. A few:",
        customers.len(),
        items.len(),
        orders.len()
    );
    for o in orders.iter().take(3) {
        println!(
            "  order {} ({}) for {} {}: {} excl. tax",
            o.number,
            o.external_document_number,
            o.customer_number,
            o.customer_name,
            o.total_amount_excluding_tax
        );
        for l in lines.iter().filter(|l| l.document_id == o.id) {
            println!(
                "    {} x {} {} at {}",
                l.quantity, l.line_object_number, l.description, l.unit_price
            );
        }
    }
}
