//! Near-real-time sync: a webhook receiver that runs the sales flow (Lightspeed -> Business
//! Central) and the stock flow (Business Central -> Lightspeed) for the records that changed,
//! within seconds, while the scheduled polling runs continue beside it as the safety net.
//!
//! `cargo run --example webhook_receiver` starts both sandboxes, listens on a local port, creates
//! a Lightspeed `sale.update` webhook and Business Central subscriptions on `items` and
//! `salesOrders` (the handshake included), then makes a sale in Lightspeed and changes an item's
//! stock in Business Central, prints how long each took from the change to the write in the other
//! system, and exits. `--serve` (or `WEBHOOK_SERVE=1`) keeps it running until Ctrl-C.
//!
//! With `LIGHTSPEED_*` and `BC_*` set it connects real accounts (see the crate docs of
//! `pos_sync::config`) and serves until Ctrl-C: `WEBHOOK_LISTEN` (default `0.0.0.0:8080`) is
//! where it listens, `WEBHOOK_PUBLIC_URL` the HTTPS URL both systems can reach (required),
//! `LIGHTSPEED_CLIENT_SECRET` the app secret that signs deliveries (without it deliveries are
//! accepted unverified, as personal-token webhooks are not signed), `BC_WEBHOOK_CLIENT_STATE` the
//! subscriptions' shared secret (default: a random one per start). Subscriptions are renewed a day
//! before their three days run out. Polling: `--schedule "hourly at :02"` (the default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use business_central::models::{Item, ItemInput, SalesOrder};
use business_central::query::{Filter, Query};
use lightspeed_x::sandbox::DemoData;
use lightspeed_x::{InventoryLevel, ProductCreate, ProductId};
use pos_sync::webhooks::{Receiver, ReceiverSecrets, Subscriptions};
use pos_sync::{BcSetup, ConfigError, Env, Flags, Mode, ProcessEnv};
use pos_sync_flows::lightspeed_business_central::{
    SalesFlow, SalesOptions, StockFlow, StockOptions,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use sync_core::run::{Runner, Schedule};
use sync_core::trigger::{Trigger, TriggerOptions};

/// How often the Business Central sandbox sends its pending notifications (Business Central
/// itself waits about 30 seconds after the first change).
const SANDBOX_NOTIFICATION_DELAY: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let env = ProcessEnv;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve = args.iter().any(|a| a == "--serve") || env.var("WEBHOOK_SERVE")?.is_some();
    let flags = Flags::parse(args.into_iter().filter(|a| a != "--serve"))?;
    let setup = BcSetup::from_env(
        &env,
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
    let products = seed_sandbox(&setup).await?;

    let listen = match env.var("WEBHOOK_LISTEN")? {
        Some(a) => a,
        None if setup.is_sandbox() => "127.0.0.1:0".into(),
        None => "0.0.0.0:8080".into(),
    };
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| {
        ConfigError::new("WEBHOOK_LISTEN", format!("cannot listen on {listen}: {e}"))
    })?;
    let public_url = match env.var("WEBHOOK_PUBLIC_URL")? {
        Some(u) => u,
        None if setup.is_sandbox() => format!("http://{}", listener.local_addr()?),
        None => return Err(ConfigError::new("WEBHOOK_PUBLIC_URL", "is not set").into()),
    };
    let secrets = ReceiverSecrets {
        lightspeed: match (
            &setup.lightspeed_sandbox,
            env.var("LIGHTSPEED_CLIENT_SECRET")?,
        ) {
            (_, Some(s)) => Some(SecretString::from(s)),
            (Some(ls), None) => Some(SecretString::from(ls.config().client_secret.clone())),
            (None, None) => {
                tracing::warn!("LIGHTSPEED_CLIENT_SECRET is not set: deliveries are not verified");
                None
            }
        },
        client_state: SecretString::from(
            env.var("BC_WEBHOOK_CLIENT_STATE")?
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
        ),
    };

    let sales = Arc::new(SalesFlow::new(
        setup.accounts.clone(),
        SalesOptions {
            default_customer_number: setup.default_customer.clone(),
            ..SalesOptions::default()
        },
    ));
    let stock = Arc::new(StockFlow::new(
        setup.accounts.clone(),
        StockOptions {
            outlet: setup.outlet.clone(),
            ..StockOptions::default()
        },
    ));
    let runner = Runner::new(setup.store.clone());
    let options = TriggerOptions::default();
    let sales_trigger = Trigger::start(
        sales.clone(),
        runner.clone(),
        &setup.tenant,
        options.clone(),
    );
    let stock_trigger = Trigger::start(stock.clone(), runner.clone(), &setup.tenant, options);
    let receiver = Receiver::new(
        secrets.clone(),
        setup.accounts.clone(),
        sales_trigger.clone(),
        stock_trigger.clone(),
    );
    let router = receiver.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    println!("Listening on {public_url}");

    // The receiver answers the handshakes, so subscribe once it listens.
    let mut subscriptions =
        Subscriptions::ensure(&setup.accounts, &public_url, &secrets.client_state).await?;
    println!(
        "Subscribed: {} Lightspeed webhook(s), {} Business Central subscription(s), next expiry {:?}",
        subscriptions.lightspeed.len(),
        subscriptions.business_central.len(),
        subscriptions.next_expiry()
    );
    let accounts = setup.accounts.clone();
    let renewals = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            match subscriptions
                .renew_due(&accounts, chrono::Utc::now(), chrono::Duration::days(1))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(renewed = n, "subscriptions renewed"),
                Err(e) => tracing::error!(error = %e, "subscriptions could not be renewed"),
            }
        }
    });

    // The polling runs, beside the triggers and under the same run locks.
    let schedule = match &flags.mode {
        Mode::Scheduled(s, _) => s.clone(),
        Mode::Once => Schedule::hourly_at(2)?,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut polling = Vec::new();
    for flow in [
        sales.clone() as Arc<dyn sync_core::run::Flow>,
        stock.clone() as Arc<dyn sync_core::run::Flow>,
    ] {
        let (runner, tenant, schedule, mut stop) = (
            runner.clone(),
            setup.tenant.clone(),
            schedule.clone(),
            stop_rx.clone(),
        );
        polling.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            runner
                .run_scheduled(&*flow, &tenant, &schedule, stopped)
                .await
        }));
    }

    if let (Some(ls), Some(bc), false) = (
        &setup.lightspeed_sandbox,
        &setup.business_central_sandbox,
        serve,
    ) {
        // The first full stock run, so both systems agree before the demo.
        println!("{}", runner.run_once(&*stock, &setup.tenant).await?);
        let outlet = ls.state().outlets().live()[0].id.clone();

        println!("\nA sale of 2 x 1001 on the Lightspeed POS...");
        let started = Instant::now();
        let sale = ls
            .add_sale(
                &outlet,
                &[(products[0].clone(), Decimal::from(2))],
                None,
                chrono::Utc::now(),
            )
            .ok_or_else(|| anyhow::anyhow!("the sandbox refused the sale"))?;
        let number = sale.invoice_number.unwrap_or_default();
        let sale_latency = wait_until(Duration::from_secs(30), || {
            bc.entities::<SalesOrder>()
                .iter()
                .any(|o| o.external_document_number == number)
        })
        .await
        .map(|()| started.elapsed());
        report("...is a Business Central sales order", sale_latency);

        println!("\nItem 1003 is counted again in Business Central: 7...");
        let scope = setup.accounts.bc();
        let item: Item = scope
            .items()
            .list_all(Query::new().filter(Filter::field("number").eq("1003")))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no item 1003"))?;
        let reserved = scope
            .open_order_quantities()
            .await?
            .get("1003")
            .copied()
            .unwrap_or_default();
        let expected = (Decimal::from(7) - reserved).max(Decimal::ZERO);
        let started = Instant::now();
        scope
            .items()
            .update_entity(&item, &ItemInput::new().inventory(Decimal::from(7)))
            .await?;
        let pumping = pump_notifications(bc);
        let level = || {
            ls.state()
                .inventory_level(&products[2], &outlet)
                .unwrap_or_default()
        };
        let stock_latency = tokio::select! {
            r = wait_until(Duration::from_secs(30), || level() == expected) => r.map(|()| started.elapsed()),
            () = pumping => Err(anyhow::anyhow!("stopped")),
        };
        report(
            &format!("...is the Lightspeed level ({expected} available)"),
            stock_latency,
        );

        for (name, t) in [("sales", &sales_trigger), ("stock", &stock_trigger)] {
            // The write was seen; let the run finish before reading its counters.
            let _ = tokio::time::timeout(Duration::from_secs(10), t.idle()).await;
            let s = t.stats();
            println!(
                "{name} trigger: {} events, {} runs for {} records, {} duplicates dropped, {} covered by a cursor",
                s.received, s.targeted_runs, s.records_run, s.dropped, s.covered
            );
        }
        let (lss, bcs) = (ls.stats(), bc.stats());
        println!(
            "Requests served: Lightspeed {}, Business Central {}.",
            lss.requests, bcs.requests
        );
    } else {
        println!("Serving until Ctrl-C.");
        match &setup.business_central_sandbox {
            Some(bc) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    () = pump_notifications(bc) => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }

    stop_tx.send_replace(true);
    sales_trigger.shutdown();
    stock_trigger.shutdown();
    for p in polling {
        p.await??;
    }
    renewals.abort();
    server.abort();
    Ok(())
}

/// Lightspeed products for items 1001-1005 of the Business Central demo company (sandboxes only).
async fn seed_sandbox(setup: &BcSetup) -> anyhow::Result<Vec<ProductId>> {
    let Some(ls) = &setup.lightspeed_sandbox else {
        return Ok(Vec::new());
    };
    let outlet = ls.state().outlets().live()[0].id.clone();
    let mut ids = Vec::new();
    for (sku, name) in [
        ("1001", "Road Runner Shoe"),
        ("1002", "Merino T-Shirt"),
        ("1003", "Rain Jacket"),
        ("1004", "Wool Socks (3 pack)"),
        ("1005", "Water Bottle 0.75 l"),
    ] {
        let product = ProductCreate {
            name: name.into(),
            sku: Some(sku.into()),
            price_excluding_tax: Some(Decimal::from(10)),
            inventory: vec![InventoryLevel::set(outlet.clone(), Decimal::from(20))],
            ..Default::default()
        };
        let created = setup
            .accounts
            .lightspeed
            .products()
            .create(&product)
            .await?;
        ids.extend(created.into_iter().take(1));
    }
    Ok(ids)
}

/// Sends the Business Central sandbox's pending notifications, as Business Central does after its delay.
async fn pump_notifications(bc: &business_central::sandbox::Sandbox) {
    loop {
        tokio::time::sleep(SANDBOX_NOTIFICATION_DELAY).await;
        bc.deliver_notifications().await;
    }
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            anyhow::bail!("not seen within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn report(what: &str, latency: anyhow::Result<Duration>) {
    match latency {
        Ok(d) => println!("{what} after {:.2} s", d.as_secs_f64()),
        Err(e) => println!("{what}: {e}"),
    }
}
