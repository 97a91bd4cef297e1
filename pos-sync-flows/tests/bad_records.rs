//! Records with bad data (an e-mail address over Business Central's 80 characters, a SKU over its
//! 20, an outlet TMAS's location table does not know) are reported one by one, each with a clear
//! reason, in the run report and the activity log, while every other record syncs; a second run
//! duplicates nothing.
#![cfg(all(feature = "lightspeed-business-central", feature = "lightspeed-tmas"))]

use std::collections::BTreeMap;
use std::sync::Arc;

use business_central::models::{Customer as BcCustomer, Item, SalesOrder};
use business_central::sandbox::Sandbox as BcSandbox;
use lightspeed_x::CustomerId;
use lightspeed_x::models::{Customer, ProductCreate};
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox, SandboxConfig};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, ProductOptions, ProductsFlow, SalesFlow, SalesOptions,
};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, LocationMapping, TmasOptions};
use sync_core::log::ActivityQuery;
use sync_core::run::{Flow, RunReport, Runner};
use sync_core::state::{MemoryStore, StateStore};
use sync_core::upsert::Outcome;
use tmas::sandbox::{FtpSandbox, ImportSettings};

fn demo() -> DemoData {
    DemoData {
        seed: 81,
        product_families: 12,
        customers: 60,
        days: 1,
        sales_per_day: 30,
        ..DemoData::default()
    }
}

/// An e-mail address of 93 characters: valid (a local part of 60, a domain of 32), but over
/// Business Central's 80.
fn long_email() -> String {
    format!("{}@{}.example.com", "a".repeat(60), "b".repeat(20))
}

const LONG_SKU: &str = "SKU-THAT-IS-WAY-TOO-LONG-25";

struct Bad {
    customer: CustomerId,
    product: String,
    /// The outlet the TMAS location table leaves out.
    outlet: String,
}

/// The outlet TMAS does not know.
const UNKNOWN: &str = "New York SoHo";

/// Adds the three bad records to the store.
fn add_bad_records(ls: &LsSandbox) -> Bad {
    let customer = ls.add_customer(Customer {
        first_name: Some("Long".into()),
        last_name: Some("Address".into()),
        email: Some(long_email()),
        ..Customer::default()
    });
    let ids = ls.add_product(&ProductCreate {
        name: "Too long a SKU".into(),
        sku: Some(LONG_SKU.into()),
        price_excluding_tax: Some(rust_decimal::Decimal::new(1000, 2)),
        ..ProductCreate::default()
    });
    let outlet = ls
        .state()
        .outlets()
        .live()
        .into_iter()
        .find(|o| o.name == UNKNOWN)
        .unwrap();
    Bad {
        customer: customer.id,
        product: ids[0].0.clone(),
        outlet: outlet.id.0,
    }
}

/// The TMAS flow with a location table of two of the three outlets.
fn tmas_flow(ls: &LsSandbox, client: lightspeed_x::Client, ftp: &FtpSandbox) -> LightspeedToTmas {
    let table = ls
        .state()
        .outlets()
        .live()
        .into_iter()
        .filter(|o| o.name != UNKNOWN)
        .enumerate()
        .map(|(i, o)| (o.id.0, format!("000{}", i + 1)))
        .collect();
    let options = TmasOptions {
        locations: LocationMapping {
            strategy: tmas::LocationIdStrategy::Table(table),
            ..LocationMapping::default()
        },
        ..TmasOptions::default()
    };
    let at: chrono::DateTime<chrono::Utc> = "2026-01-15T12:00:00Z".parse().unwrap();
    LightspeedToTmas::new(client, ftp.target())
        .with_options(options)
        .unwrap()
        .with_clock(move || at)
}

fn flows(a: &Accounts, tmas: LightspeedToTmas) -> Vec<Box<dyn Flow>> {
    vec![
        Box::new(ProductsFlow::new(a.clone(), ProductOptions::default())),
        Box::new(CustomersFlow::new(a.clone(), CustomerOptions::default())),
        Box::new(SalesFlow::new(
            a.clone(),
            SalesOptions {
                default_customer_number: Some("10000".into()),
                ..SalesOptions::default()
            },
        )),
        Box::new(tmas),
    ]
}

async fn run_all(runner: &Runner, flows: &[Box<dyn Flow>]) -> Vec<RunReport> {
    let mut out = Vec::new();
    for f in flows {
        let r = runner.run_once(f.as_ref(), "demo").await.unwrap();
        println!("{r}");
        for n in r.failed.iter().chain(&r.skipped) {
            println!(
                "  {} {}: {}",
                if r.failed.contains(n) {
                    "failed"
                } else {
                    "skipped"
                },
                n.source_id,
                n.reason
            );
        }
        out.push(r);
    }
    out
}

/// The customers, items and orders Business Central holds, by business key.
fn held(
    bc: &BcSandbox,
) -> (
    BTreeMap<String, usize>,
    BTreeMap<String, usize>,
    BTreeMap<String, usize>,
) {
    let mut customers = BTreeMap::new();
    for c in bc.entities::<BcCustomer>() {
        *customers.entry(c.email.to_lowercase()).or_insert(0) += 1;
    }
    let mut items = BTreeMap::new();
    for i in bc.entities::<Item>() {
        *items.entry(i.number.to_uppercase()).or_insert(0) += 1;
    }
    let mut orders = BTreeMap::new();
    for o in bc.entities::<SalesOrder>() {
        *orders.entry(o.external_document_number).or_insert(0) += 1;
    }
    (customers, items, orders)
}

struct World {
    ls: LsSandbox,
    bc: BcSandbox,
    ftp: FtpSandbox,
    flows: Vec<Box<dyn Flow>>,
    store: Arc<MemoryStore>,
    runner: Runner,
}

async fn world() -> World {
    let ls = LsSandbox::start_with(SandboxConfig::default(), Some(demo()))
        .await
        .unwrap();
    let bc = BcSandbox::start().await.unwrap();
    let ftp = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let client = ls.client().await.unwrap();
    let a = Accounts::new(client.clone(), bc.client(), bc.company_id());
    let flows = flows(&a, tmas_flow(&ls, client, &ftp));
    let store = Arc::new(MemoryStore::new());
    let runner = Runner::new(store.clone());
    World {
        ls,
        bc,
        ftp,
        flows,
        store,
        runner,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_reported_one_by_one_while_the_rest_syncs() {
    // What the same store without the bad records leaves in the targets.
    let clean = world().await;
    for r in run_all(&clean.runner, &clean.flows).await {
        assert!(r.is_success(), "{r}: {:?}", r.failed);
    }
    let expected = held(&clean.bc);
    let expected_rows = clean.ftp.summary_rows();

    let World {
        ls,
        bc,
        ftp,
        flows,
        store,
        runner,
    } = world().await;
    let bad = add_bad_records(&ls);
    let reports = run_all(&runner, &flows).await;
    for r in &reports {
        assert!(
            matches!(r.status, sync_core::run::RunStatus::Succeeded),
            "the flow completed despite the bad records: {r}"
        );
    }
    let [products, customers, sales, tmas] = &reports[..] else {
        unreachable!()
    };

    // Each bad record is its own failure, with a reason that says what is wrong.
    let only = |notes: &[sync_core::run::RecordNote], id: &str| {
        let mine: Vec<_> = notes.iter().filter(|n| n.source_id == id).collect();
        assert_eq!(mine.len(), 1, "{id} in {notes:?}");
        mine[0].reason.clone()
    };
    let reason = only(&products.failed, &bad.product);
    assert!(
        reason.contains("27 characters") && reason.contains("at most 20"),
        "{reason}"
    );
    let reason = only(&customers.failed, bad.customer.as_str());
    assert!(
        reason.contains("email is 93 characters long, the maximum is 80")
            && !reason.contains(&long_email()),
        "the reason names the limit, not the address: {reason}"
    );
    let reason = only(&tmas.skipped, &bad.outlet);
    assert!(
        reason.contains(UNKNOWN) && reason.contains("no TMAS location mapping"),
        "{reason}"
    );
    assert_eq!(
        products.failed.len(),
        1,
        "only the bad product failed: {:?}",
        products.failed
    );
    assert_eq!(
        customers.failed.len(),
        1,
        "only the bad customer failed: {:?}",
        customers.failed
    );
    assert!(sales.is_success(), "{sales}: {:?}", sales.failed);
    assert!(
        tmas.is_success() && tmas.skipped.len() == 1,
        "{tmas}: {:?}",
        tmas.skipped
    );

    // The activity log has the same notes, one entry each.
    let entries = store
        .query_activity(&ActivityQuery::default())
        .await
        .unwrap();
    for (id, outcome) in [
        (bad.product.as_str(), Outcome::Failed),
        (bad.customer.as_str(), Outcome::Failed),
        (bad.outlet.as_str(), Outcome::Skipped),
    ] {
        let mine: Vec<_> = entries
            .iter()
            .filter(|e| e.source_id.as_deref() == Some(id))
            .collect();
        assert_eq!(mine.len(), 1, "activity entries of {id}: {mine:#?}");
        assert_eq!(mine[0].outcome, Some(outcome));
        assert!(mine[0].message.as_deref().is_some_and(|m| !m.is_empty()));
    }

    // Every normal record arrived: the targets hold what they hold without the bad records.
    let got = held(&bc);
    assert_eq!(got.0, expected.0, "customers");
    assert_eq!(got.1, expected.1, "items");
    assert_eq!(got.2, expected.2, "orders");
    assert!(!got.1.contains_key(LONG_SKU) && !got.0.contains_key(&long_email()));
    assert!(
        got.0.len() > 40 && got.1.len() > 20 && sales.created > 50,
        "{got:?}"
    );
    assert_eq!(ftp.summary_rows(), expected_rows, "TMAS rows");
    let locations: std::collections::BTreeSet<String> = ftp
        .summary_rows()
        .iter()
        .map(|r| r.location.to_string())
        .collect();
    assert_eq!(
        locations,
        ["0001", "0002"].into_iter().map(String::from).collect(),
        "the two known outlets went to TMAS"
    );
    let rows = ftp.summary_rows();

    // A second run: the bad ones are reported again (still bad), nothing is written twice.
    let again = run_all(&runner, &flows).await;
    for r in &again[..3] {
        assert_eq!(r.created, 0, "{r}");
    }
    assert_eq!(held(&bc), got);
    assert_eq!(ftp.summary_rows(), rows, "TMAS rows replaced, not added");
    assert!(
        again[0].failed.iter().any(|n| n.source_id == bad.product),
        "{}",
        again[0]
    );
    assert!(
        again[1]
            .failed
            .iter()
            .any(|n| n.source_id == bad.customer.as_str()),
        "{}",
        again[1]
    );
    assert!(
        again[3].skipped.iter().any(|n| n.source_id == bad.outlet),
        "{}",
        again[3]
    );
}
