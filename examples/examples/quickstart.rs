//! Quickstart: every ready-made flow, end to end, against the in-process sandboxes.
//!
//! `cargo run --example quickstart` starts a Lightspeed store (three outlets in three time zones,
//! customers with and without company names, products with variants, days of sales with returns,
//! voided and parked sales, clock-ins), a Business Central company and a TMAS FTP server, then:
//!
//! 1. customers, products and closed sales go from Lightspeed to Business Central (sales as orders
//!    with their lines, deep-inserted in `$batch` requests);
//! 2. the same flows run again and write nothing;
//! 3. stock goes back from Business Central to Lightspeed (inventory minus open order quantities);
//! 4. hourly sales, transactions, items and staff hours go from Lightspeed to TMAS, per outlet in its
//!    own time zone.
//!
//! It prints each run's report and the requests each API served.

use std::time::Duration;

use chrono::Utc;
use lightspeed_x::sandbox::{DemoData, Sandbox as Lightspeed};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, MissingItems, ProductOptions, ProductsFlow,
    SalesFlow, SalesOptions, StockFlow, StockOptions,
};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions};
use rust_decimal::Decimal;
use sync_core::mapping::FieldSource;
use sync_core::run::{Flow, Runner};
use sync_core::state::MemoryStore;
use tmas::sandbox::{FtpSandbox, ImportSettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let lightspeed = Lightspeed::start_seeded(DemoData {
        customers: 30,
        product_families: 15,
        days: 3,
        end_date: Utc::now().date_naive(),
        sales_per_day: 10,
        ..DemoData::default()
    })
    .await?;
    let bc = business_central::sandbox::Sandbox::start().await?;
    let tmas_options = TmasOptions::default();
    let tmas = FtpSandbox::start(ImportSettings {
        summary: tmas_options.format,
        interval: tmas_options.interval,
        ..ImportSettings::default()
    })
    .await?;
    let accounts = Accounts::new(lightspeed.client().await?, bc.client(), bc.company_id());
    let runner = Runner::new(std::sync::Arc::new(MemoryStore::new()));
    let tenant = "demo-store";

    // What the demo company requires of new customers and items.
    let customers = CustomerOptions {
        payment_terms_code: Some("14 DAYS".into()),
        ..CustomerOptions::default()
    };
    let mut products = ProductOptions::default();
    for (field, value) in [
        ("generalProductPostingGroupCode", "RETAIL"),
        ("inventoryPostingGroupCode", "RESALE"),
        ("baseUnitOfMeasureCode", "PCS"),
    ] {
        products.mapping.set(field, FieldSource::constant(value));
    }
    let sales = SalesOptions {
        default_customer_number: Some("10000".into()),
        missing_items: MissingItems::Create,
        customers: customers.clone(),
        products: products.clone(),
        ..SalesOptions::default()
    };
    let to_bc: Vec<Box<dyn Flow>> = vec![
        Box::new(CustomersFlow::new(accounts.clone(), customers)),
        Box::new(ProductsFlow::new(accounts.clone(), products)),
        Box::new(SalesFlow::new(accounts.clone(), sales)),
    ];

    println!("1. Lightspeed -> Business Central");
    for flow in &to_bc {
        println!("   {}", runner.run_once(flow.as_ref(), tenant).await?);
    }
    println!("2. Again: nothing changed in Lightspeed, so nothing is written");
    for flow in &to_bc {
        println!("   {}", runner.run_once(flow.as_ref(), tenant).await?);
    }

    // Business Central now knows the products as items; give a few of them stock there.
    let items = bc.entities::<business_central::models::Item>();
    for (i, item) in items
        .iter()
        .filter(|i| i.number.len() > 5)
        .take(8)
        .enumerate()
    {
        bc.set_inventory(&item.number, Decimal::from(10 * (i + 1)));
    }
    let outlet = lightspeed.state().outlets().live()[0].id.clone();
    let stock = StockFlow::new(
        accounts.clone(),
        StockOptions {
            outlet: Some(outlet),
            ..StockOptions::default()
        },
    );
    println!("3. Business Central stock -> Lightspeed (available minus open order quantities)");
    println!("   {}", runner.run_once(&stock, tenant).await?);

    let to_tmas = LightspeedToTmas::new(
        accounts.lightspeed.clone(),
        tmas::delivery::Delivery::Ftp(tmas.target()),
    )
    .with_options(tmas_options)?;
    println!("4. Lightspeed -> TMAS (hourly rows per outlet, backfill of 3 days)");
    println!("   {}", runner.run_once(&to_tmas, tenant).await?);
    let rows = tmas.summary_rows();
    let busy = rows.iter().filter(|r| r.totals.transactions != 0).count();
    println!(
        "   TMAS imported {} files: {} hourly rows, {} with sales",
        tmas.imports().len(),
        rows.len(),
        busy
    );

    tokio::time::sleep(Duration::from_millis(10)).await;
    let (ls, bcs) = (lightspeed.stats(), bc.stats());
    println!(
        "\nBusiness Central holds {} customers, {} items and {} sales orders.",
        bc.entities::<business_central::models::Customer>().len(),
        bc.entities::<business_central::models::Item>().len(),
        bc.entities::<business_central::models::SalesOrder>().len(),
    );
    println!(
        "Requests served: Lightspeed {}, Business Central {}.",
        ls.requests, bcs.requests
    );
    Ok(())
}
