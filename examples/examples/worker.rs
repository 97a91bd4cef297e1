//! A worker of a fleet that shares the work of many stores through PostgreSQL.
//!
//! `DATABASE_URL=postgres://user:pass@host/db cargo run --example worker`
//!
//! Every worker started against the same database registers the units of work (flow, tenant),
//! claims the ones that are due under an expiring lease, renews the lease while a flow runs, and
//! releases it with the unit's next due time: customers and products every 15 minutes, sales
//! orders every 5 minutes. A worker that dies stops renewing; another one takes its units over
//! from the last committed cursor. SIGTERM or Ctrl-C stops claiming, lets the runs in progress
//! finish and release their leases, then exits.
//!
//! The tenants are in-process sandboxes (a Lightspeed store and a Business Central company each,
//! `WORKER_TENANTS` of them, default 3), so the fleet can be tried without accounts. Settings:
//! `DATABASE_URL` (required), `WORKER_ID` (default `worker-PID`), `WORKER_TENANTS`; flag `--once`
//! processes what is due once and exits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lightspeed_x::sandbox::{DemoData, Sandbox as LightspeedSandbox};
use pos_sync::{ConfigError, Env, ProcessEnv};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, MissingItems, ProductOptions, ProductsFlow,
    SalesFlow, SalesOptions,
};
use secrecy::SecretString;
use sync_core::mapping::FieldSource;
use sync_core::run::{Flow, Runner, Schedule};
use sync_core::state::lease::hold;
use sync_core::state::{PostgresOptions, PostgresStore, Scope, WorkQueue};

/// How long a lease lasts without renewal.
const LEASE: Duration = Duration::from_secs(60);

struct Unit {
    flow: Box<dyn Flow>,
    schedule: Schedule,
}

struct Tenant {
    units: BTreeMap<String, Unit>,
    _lightspeed: LightspeedSandbox,
    _business_central: business_central::sandbox::Sandbox,
}

async fn demo_tenant(seed: u64) -> anyhow::Result<Tenant> {
    let ls = LightspeedSandbox::start_seeded(DemoData {
        seed,
        customers: 12,
        product_families: 6,
        days: 2,
        sales_per_day: 6,
        ..DemoData::default()
    })
    .await?;
    let bc = business_central::sandbox::Sandbox::start().await?;
    let accounts = Accounts::new(ls.client().await?, bc.client(), bc.company_id());
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
    let every = |minutes: u64| Schedule::every(Duration::from_secs(minutes * 60));
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    let flows: [(Box<dyn Flow>, Schedule); 3] = [
        (
            Box::new(CustomersFlow::new(accounts.clone(), customers)),
            every(15)?,
        ),
        (
            Box::new(ProductsFlow::new(accounts.clone(), products)),
            every(15)?,
        ),
        (Box::new(SalesFlow::new(accounts, sales)), every(5)?),
    ];
    for (flow, schedule) in flows {
        units.insert(flow.name().to_owned(), Unit { flow, schedule });
    }
    Ok(Tenant {
        units,
        _lightspeed: ls,
        _business_central: bc,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let env = ProcessEnv;
    let url = env.required("DATABASE_URL")?;
    let worker = env
        .var("WORKER_ID")?
        .unwrap_or_else(|| format!("worker-{}", std::process::id()));
    let tenants: u64 = match env.var("WORKER_TENANTS")? {
        Some(n) => n
            .parse()
            .map_err(|_| ConfigError::new("WORKER_TENANTS", "must be a whole number"))?,
        None => 3,
    };
    let once = std::env::args().any(|a| a == "--once");

    let store = Arc::new(
        PostgresStore::connect_with(
            &SecretString::from(url),
            PostgresOptions::default().max_connections(8),
        )
        .await?,
    );
    let runner = Runner::new(store.clone());
    let mut fleet: BTreeMap<String, Tenant> = BTreeMap::new();
    for i in 0..tenants {
        let name = format!("demo-{i}");
        let tenant = demo_tenant(i + 1).await?;
        for flow in tenant.units.keys() {
            // Registering is idempotent: the first worker to start registers, the others find it.
            store.register(&Scope::new(flow, &name), Utc::now()).await?;
        }
        fleet.insert(name, tenant);
    }
    println!("{worker}: {tenants} tenants, {} units", tenants * 3);

    let mut stop = Box::pin(shutdown_signal());
    loop {
        let leases = store.claim_due(&worker, Utc::now(), LEASE, 4).await?;
        for lease in leases {
            let scope = lease.scope.clone();
            let Some(unit) = fleet
                .get(&scope.tenant)
                .and_then(|t| t.units.get(&scope.flow))
            else {
                // A unit this worker does not know (another deployment's): hand it back at once.
                store.release(&lease, Utc::now()).await?;
                continue;
            };
            match hold(
                &*store,
                lease,
                LEASE,
                runner.run_once(unit.flow.as_ref(), &scope.tenant),
            )
            .await
            {
                Ok((report, lease)) => {
                    match report {
                        Ok(report) => println!("{worker} {report}"),
                        Err(e) => println!("{worker} {scope}: run refused: {e}"),
                    }
                    let next = unit
                        .schedule
                        .next_after(Utc::now())
                        .unwrap_or_else(|| Utc::now() + chrono::Duration::minutes(5));
                    store.release(&lease, next).await?;
                }
                Err(lost) => println!("{worker} {scope}: {lost}; another worker has it"),
            }
        }
        if once {
            break;
        }
        tokio::select! {
            () = &mut stop => {
                println!("{worker}: stopping; runs in progress have finished and released their leases");
                break;
            }
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
