//! Targeted runs of the sales and stock flows (what the trigger calls) against both sandboxes:
//! only the named records are read and written, through the same code paths as the full runs,
//! and the cursor does not move.
#![cfg(feature = "lightspeed-business-central")]

use std::sync::Arc;

use business_central::models::{Item, SalesOrder};
use business_central::sandbox::Sandbox as BcSandbox;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use lightspeed_x::{InventoryLevel, OutletId, ProductCreate, ProductId, SaleId};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, SalesFlow, SalesOptions, StockFlow, StockOptions,
};
use rust_decimal::Decimal;
use sync_core::log::Redaction;
use sync_core::run::{RunContext, Runner};
use sync_core::state::{MemoryStore, Scope, StateStore};
use sync_core::trigger::{ChangeEvent, TargetedFlow};

struct World {
    ls: LsSandbox,
    bc: BcSandbox,
    accounts: Accounts,
    store: Arc<dyn StateStore>,
    outlet: OutletId,
    products: Vec<ProductId>,
}

async fn world() -> World {
    let ls = LsSandbox::start_seeded(DemoData {
        outlets: vec![("Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 0,
        customers: 0,
        days: 0,
        sales_per_day: 0,
        ..DemoData::default()
    })
    .await
    .unwrap();
    let bc = BcSandbox::start().await.unwrap();
    let accounts = Accounts::new(ls.client().await.unwrap(), bc.client(), bc.company_id());
    let outlet = ls.state().outlets().live()[0].id.clone();
    let mut products = Vec::new();
    for sku in ["1001", "1002", "1003"] {
        let p = ProductCreate {
            name: format!("Item {sku}"),
            sku: Some(sku.into()),
            price_excluding_tax: Some(Decimal::from(10)),
            inventory: vec![InventoryLevel::set(outlet.clone(), Decimal::from(20))],
            ..Default::default()
        };
        products.push(accounts.lightspeed.products().create(&p).await.unwrap()[0].clone());
    }
    World {
        ls,
        bc,
        accounts,
        store: Arc::new(MemoryStore::new()),
        outlet,
        products,
    }
}

fn context(w: &World, flow: &str) -> RunContext {
    RunContext::new(
        "targeted",
        Scope::new(flow, "shop"),
        w.store.clone(),
        Redaction::default(),
        false,
    )
}

#[tokio::test]
async fn a_targeted_sales_run_sends_only_the_named_sales_once() {
    let w = world().await;
    let sales: Vec<_> = (0..3)
        .map(|i| {
            w.ls.add_sale(
                &w.outlet,
                &[(w.products[i].clone(), Decimal::ONE)],
                None,
                chrono::Utc::now(),
            )
            .unwrap()
        })
        .collect();
    let flow = SalesFlow::new(
        w.accounts.clone(),
        SalesOptions {
            default_customer_number: Some("10000".into()),
            ..SalesOptions::default()
        },
    );

    let mut ctx = context(&w, SalesFlow::NAME);
    let unknown = SaleId::new("no-such-sale");
    flow.run_for_sales(&mut ctx, &[sales[1].id.clone(), unknown])
        .await
        .unwrap();
    assert_eq!(ctx.report().created, 1);
    let orders = w.bc.entities::<SalesOrder>();
    let ours: Vec<_> = orders
        .iter()
        .filter(|o| Some(&o.external_document_number) == sales[1].invoice_number.as_ref())
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(
        !orders
            .iter()
            .any(|o| Some(&o.external_document_number) == sales[0].invoice_number.as_ref())
    );
    let scope = Scope::new(SalesFlow::NAME, "shop");
    assert_eq!(
        w.store.load_cursor(&scope).await.unwrap(),
        None,
        "a targeted run does not move the cursor"
    );

    // Again: the document exists, nothing is written.
    let before = w.bc.entities::<SalesOrder>().len();
    let mut again = context(&w, SalesFlow::NAME);
    flow.run_for(&mut again, &[sales[1].id.0.clone()])
        .await
        .unwrap();
    assert_eq!(
        (again.report().created, again.report().skipped.len()),
        (0, 1)
    );
    assert_eq!(w.bc.entities::<SalesOrder>().len(), before);

    // The polling run sends the other two; the cursor then covers all three.
    let runner = Runner::new(w.store.clone());
    let report = runner.run_once(&flow, "shop").await.unwrap();
    assert_eq!((report.created, report.skipped.len()), (2, 1));
    assert_eq!(w.bc.entities::<SalesOrder>().len(), before + 2);
    let cursor = w.store.load_cursor(&scope).await.unwrap().unwrap();
    for s in &sales {
        let event = ChangeEvent::new("lightspeed", "sale", s.id.0.clone())
            .with_version(s.version.unwrap().0);
        assert!(flow.covers(&cursor, &event));
    }
    let newer = ChangeEvent::new("lightspeed", "sale", "x").with_version(i64::MAX);
    assert!(!flow.covers(&cursor, &newer));
}

#[tokio::test]
async fn a_targeted_stock_run_writes_only_the_named_items() {
    let w = world().await;
    let flow = StockFlow::new(
        w.accounts.clone(),
        StockOptions {
            outlet: Some(w.outlet.clone()),
            ..StockOptions::default()
        },
    );
    let level = |i: usize| {
        w.ls.state()
            .inventory_level(&w.products[i], &w.outlet)
            .unwrap()
    };
    let inventory = |number: &str| {
        w.bc.entities::<Item>()
            .into_iter()
            .find(|i| i.number == number)
            .unwrap()
    };
    let reserved = w.accounts.bc().open_order_quantities().await.unwrap();
    let available = |number: &str| {
        (inventory(number).inventory - reserved.get(number).copied().unwrap_or_default())
            .max(Decimal::ZERO)
    };
    assert_ne!(available("1002"), Decimal::from(20));

    let mut ctx = context(&w, StockFlow::NAME);
    flow.run_for_items(&mut ctx, &["1002".into(), "NO-SUCH-ITEM".into()])
        .await
        .unwrap();
    assert_eq!(ctx.report().updated, 1);
    assert_eq!(level(1), available("1002"));
    assert_eq!((level(0), level(2)), (Decimal::from(20), Decimal::from(20)));

    // By item id, through the trigger's entry point.
    let id = inventory("1003").id.unwrap().to_string();
    let mut ctx = context(&w, StockFlow::NAME);
    flow.run_for(&mut ctx, &[id]).await.unwrap();
    assert_eq!(ctx.report().updated, 1);
    assert_eq!(level(2), available("1003"));
    assert_eq!(level(0), Decimal::from(20));
    assert!(flow.polls_everything());

    // The full run finds only 1001 still different.
    let report = Runner::new(w.store.clone())
        .run_once(&flow, "shop")
        .await
        .unwrap();
    assert_eq!(report.updated, 1);
    assert_eq!(level(0), available("1001"));
}
