//! The request-count scenario shared by the `requests` bench and the `request_ceilings` test:
//! seeded sandboxes, our flows run three times (initial, nothing changed, 1% changed), the
//! per-record baseline on the same data, and the floor the APIs allow.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use business_central::models::{
    Customer as BcCustomer, CustomerInput, Item, ItemInput, SalesOrder, SalesOrderInput,
    SalesOrderLine, SalesOrderLineInput,
};
use business_central::query::{Field, Query};
use business_central::sandbox::Sandbox as BcSandbox;
use chrono::{Duration, NaiveDate, Utc};
use futures::StreamExt;
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox};
use pos_http::sandbox::ServedStats;
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, MissingItems, ProductOptions, ProductsFlow,
    SalesFlow, SalesOptions, sales::is_eligible,
};
use rust_decimal::Decimal;
use sync_core::mapping::FieldSource;
use sync_core::run::{Flow, RunReport, Runner};
use sync_core::state::MemoryStore;

/// Lightspeed page size the floor assumes: the largest page the 2.0 lists are documented to
/// serve (search and inventory cap at 1000; the generic maximum is not stated), and what the
/// flows ask for.
pub const LS_PAGE: u64 = 1000;
/// Lightspeed inventory page of the date versions the clients speak by default (`POST /inventory`
/// `size`, at most 5,000).
pub const LS_INVENTORY_PAGE: u64 = 5000;
/// Business Central server-driven page size (`odata.maxpagesize` cap).
pub const BC_PAGE: u64 = 20_000;
/// Operations per `$batch` request.
pub const BATCH: u64 = 100;

/// How much data to seed.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Lightspeed customers (a third with a company name, a quarter without e-mail).
    pub customers: usize,
    /// Product families (every third has 3 size variants: 3,000 families = 5,000 products).
    pub product_families: usize,
    /// Days of sales.
    pub days: u32,
    /// Sales per outlet per day (2 outlets).
    pub sales_per_day: u32,
}

impl Scale {
    /// The data set times `factor` (1.0 = 2,000 customers, 5,000 products, 10,000 sales).
    pub fn of(factor: f64) -> Scale {
        let n = |full: f64| ((full * factor).round() as usize).max(1);
        let sales = n(10_000.0) as u32;
        let sales_per_day = (sales / 2).clamp(1, 100);
        Scale {
            customers: n(2_000.0),
            product_families: n(3_000.0),
            days: sales.div_ceil(2 * sales_per_day),
            sales_per_day,
        }
    }

    /// `BENCH_SCALE` from the environment (default 1.0).
    pub fn from_env() -> (f64, Scale) {
        let f = std::env::var("BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|f| *f > 0.0)
            .unwrap_or(1.0);
        (f, Scale::of(f))
    }
}

/// Both sandboxes, seeded, with clients.
pub struct World {
    /// Lightspeed.
    pub ls: LsSandbox,
    /// Business Central.
    pub bc: BcSandbox,
    /// The clients.
    pub accounts: Accounts,
    /// A second, empty Business Central for the per-record baseline.
    pub baseline_bc: BcSandbox,
    /// The clients of the baseline (same Lightspeed store).
    pub baseline: Accounts,
    /// The limits the sandboxes enforce and the clients pace to.
    pub limits: Limits,
}

/// What the source holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Source {
    /// Customers (live rows, the walk-in customer included).
    pub customers: u64,
    /// Products (live rows, variants included).
    pub products: u64,
    /// Sales (all rows the cursor reads).
    pub sales: u64,
    /// Sales that become orders (closed, not voided or parked).
    pub eligible_sales: u64,
    /// Lines of the eligible sales.
    pub lines: u64,
    /// Product families with variants.
    pub with_variants: u64,
    /// Customers with a company name.
    pub companies: u64,
}

/// The limits a [`World`] runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limits {
    /// No limit: the sandboxes answer every request and the clients never wait. Request counts
    /// are the same as under [`Limits::Documented`]; runs just do not wait.
    Off,
    /// The documented limits: each sandbox answers over its API's budget with the API's own 429
    /// ([`BC_LIMIT`], [`ls_limit`] for the store's registers) and each client paces itself with
    /// its own limiter set to the same budget. Meant for a runtime on tokio's paused clock
    /// ([`paused_runtime`]), where waiting costs no real time.
    Documented,
}

/// Registers of the seeded two-outlet store (one per outlet).
pub const LS_REGISTERS: u64 = 2;

fn ls_client(ls: &LsSandbox, limits: Limits, registers: u64) -> lightspeed_x::ClientBuilder {
    let builder = ls.client_builder();
    match limits {
        Limits::Off => builder,
        Limits::Documented => builder.rate_limit(lightspeed_x::documented_rate_limit(
            u32::try_from(registers).unwrap_or(u32::MAX),
        )),
    }
}

/// A Business Central client: without client-side pacing ([`Limits::Off`], the counts are the
/// same, the bench just does not wait) or with the client's default, documented one.
fn bc_client(bc: &BcSandbox, limits: Limits) -> business_central::Client {
    let builder = bc.client_builder();
    match limits {
        Limits::Off => builder.rate_limit(None),
        Limits::Documented => builder,
    }
    .build()
    .expect("business central client")
}

async fn bc_sandbox(limits: Limits) -> BcSandbox {
    let builder = BcSandbox::builder();
    match limits {
        Limits::Off => builder,
        Limits::Documented => builder.rate_limit(BC_LIMIT.0 as u32, secs(BC_LIMIT.1)),
    }
    .start()
    .await
    .expect("business central sandbox")
}

fn secs(s: u64) -> std::time::Duration {
    std::time::Duration::from_secs(s)
}

/// Starts and seeds both sandboxes, without limits.
pub async fn world(scale: Scale) -> World {
    world_with(scale, Limits::Off).await
}

/// Starts and seeds both sandboxes, under `limits`.
pub async fn world_with(scale: Scale, limits: Limits) -> World {
    let (budget, window) = ls_limit(LS_REGISTERS);
    let config = lightspeed_x::sandbox::SandboxConfig {
        rate_limit: (limits == Limits::Documented).then(|| (budget as u32, secs(window))),
        ..Default::default()
    };
    let ls = LsSandbox::start_with(
        config,
        Some(DemoData {
            outlets: vec![
                ("Auckland Central".into(), chrono_tz::Pacific::Auckland),
                ("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam),
            ],
            product_families: scale.product_families,
            customers: scale.customers,
            days: scale.days,
            sales_per_day: scale.sales_per_day,
            end_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
            ..DemoData::default()
        }),
    )
    .await
    .expect("lightspeed sandbox");
    let ls_client = || async {
        ls_client(&ls, limits, LS_REGISTERS)
            .build()
            .await
            .expect("lightspeed client")
    };
    let bc = bc_sandbox(limits).await;
    let accounts = Accounts::new(ls_client().await, bc_client(&bc, limits), bc.company_id());
    let baseline_bc = bc_sandbox(limits).await;
    let baseline = Accounts::new(
        ls_client().await,
        bc_client(&baseline_bc, limits),
        baseline_bc.company_id(),
    );
    World {
        ls,
        bc,
        accounts,
        baseline_bc,
        baseline,
        limits,
    }
}

impl World {
    /// What the Lightspeed store holds now.
    pub fn source(&self) -> Source {
        let st = self.ls.state();
        let sales = st.sales().live();
        let eligible: Vec<_> = sales.iter().filter(|s| is_eligible(s)).collect();
        let products = st.products().live();
        let customers = st.customers().live();
        Source {
            customers: customers.len() as u64,
            products: products.len() as u64,
            sales: sales.len() as u64,
            eligible_sales: eligible.len() as u64,
            lines: eligible.iter().map(|s| s.line_items.len() as u64).sum(),
            with_variants: products
                .iter()
                .filter(|p| p.has_variants && p.variant_parent_id.is_none())
                .count() as u64,
            companies: customers
                .iter()
                .filter(|c| c.company_name.as_deref().is_some_and(|n| !n.is_empty()))
                .count() as u64,
        }
    }

    /// Requests served so far by each sandbox.
    pub fn served(&self) -> (ServedStats, ServedStats) {
        (self.ls.stats(), self.bc.stats())
    }

    /// Changes 1% of the customers and products and adds 1% new sales.
    pub fn change_one_percent(&self) -> u64 {
        let (customers, products) = {
            let st = self.ls.state();
            (st.customers().live(), st.products().live())
        };
        let mut changed = 0;
        let with_email: Vec<_> = customers.iter().filter(|c| c.email.is_some()).collect();
        for c in with_email.iter().step_by(100) {
            self.ls
                .update_customer(&c.id, |c| c.phone = Some("+64 9 555 9999".into()));
            changed += 1;
        }
        let simple: Vec<_> = products.iter().filter(|p| !p.has_variants).collect();
        for p in simple.iter().step_by(100) {
            self.ls
                .update_product(&p.id, |p| p.name = format!("{} (new)", p.name));
            changed += 1;
        }
        let outlets = self.ls.state().outlets().live();
        let new_sales = (self.source().eligible_sales / 100).max(1);
        let at = Utc::now() - Duration::hours(1);
        for n in 0..new_sales as usize {
            let o = &outlets[n % outlets.len()];
            let lines: Vec<_> = (0..(1 + n % 5))
                .map(|l| {
                    (
                        simple[(n * 7 + l * 13) % simple.len()].id.clone(),
                        Decimal::ONE,
                    )
                })
                .collect();
            let customer = with_email
                .get(n * 3 % with_email.len())
                .map(|c| c.id.clone());
            self.ls.add_sale(&o.id, &lines, customer, at);
            changed += 1;
        }
        changed
    }
}

/// Customer options the demo company requires.
pub fn customer_options() -> CustomerOptions {
    CustomerOptions {
        payment_terms_code: Some("14 DAYS".into()),
        ..CustomerOptions::default()
    }
}

/// Product options the demo company requires.
pub fn product_options() -> ProductOptions {
    let mut products = ProductOptions::default();
    for (field, value) in POSTING {
        products.mapping.set(field, FieldSource::constant(value));
    }
    products
}

const POSTING: [(&str, &str); 3] = [
    ("generalProductPostingGroupCode", "RETAIL"),
    ("inventoryPostingGroupCode", "RESALE"),
    ("baseUnitOfMeasureCode", "PCS"),
];

/// Our three flows: customers, products, sales as orders (100 per `$batch`).
pub fn flows(accounts: &Accounts) -> Vec<Box<dyn Flow>> {
    let sales = SalesOptions {
        default_customer_number: Some("10000".into()),
        missing_items: MissingItems::Create,
        customers: customer_options(),
        products: product_options(),
        batch_size: 100,
        ..SalesOptions::default()
    };
    vec![
        Box::new(CustomersFlow::new(accounts.clone(), customer_options())),
        Box::new(ProductsFlow::new(accounts.clone(), product_options())),
        Box::new(SalesFlow::new(accounts.clone(), sales)),
    ]
}

/// Requests served in one phase, per API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    /// Lightspeed reads.
    pub ls_reads: u64,
    /// Lightspeed writes.
    pub ls_writes: u64,
    /// Business Central reads.
    pub bc_reads: u64,
    /// Business Central writes (a `$batch` counts once).
    pub bc_writes: u64,
}

impl Requests {
    /// Lightspeed requests.
    pub fn ls(&self) -> u64 {
        self.ls_reads + self.ls_writes
    }
    /// Business Central requests.
    pub fn bc(&self) -> u64 {
        self.bc_reads + self.bc_writes
    }
    /// All requests.
    pub fn total(&self) -> u64 {
        self.ls() + self.bc()
    }
}

fn split(before: &ServedStats, after: &ServedStats) -> (u64, u64) {
    let mut reads = 0;
    let mut writes = 0;
    for (route, n) in &after.by_route {
        let n = n - before.by_route.get(route).copied().unwrap_or(0);
        // OAuth token requests are not API calls.
        if route.contains("/oauth2/") || route.contains("/token") {
            continue;
        }
        // The date versions read inventory with `POST /inventory` (a filter body).
        if route.starts_with("GET ")
            || (route.starts_with("POST ") && route.ends_with("/inventory"))
        {
            reads += n;
        } else {
            writes += n;
        }
    }
    (reads, writes)
}

/// Requests served between two snapshots.
pub fn delta(before: &(ServedStats, ServedStats), after: &(ServedStats, ServedStats)) -> Requests {
    let (ls_reads, ls_writes) = split(&before.0, &after.0);
    let (bc_reads, bc_writes) = split(&before.1, &after.1);
    Requests {
        ls_reads,
        ls_writes,
        bc_reads,
        bc_writes,
    }
}

/// One phase of our flows.
#[derive(Clone, Debug, Default)]
pub struct Phase {
    /// Requests served.
    pub requests: Requests,
    /// Records written (created + updated) by each flow: customers, products, sales.
    pub written: [u64; 3],
    /// Reports, for display.
    pub reports: Vec<String>,
}

impl Phase {
    /// Records written in all.
    pub fn records(&self) -> u64 {
        self.written.iter().sum()
    }
}

/// Runs our three flows once each.
pub async fn run_ours(w: &World, runner: &Runner, flows: &[Box<dyn Flow>]) -> Phase {
    let before = w.served();
    let mut phase = Phase::default();
    for (i, flow) in flows.iter().enumerate() {
        let r: RunReport = runner.run_once(flow.as_ref(), "bench").await.expect("run");
        assert!(r.is_success(), "{r}: {:?}", r.failed.first());
        phase.written[i] = (r.created + r.updated) as u64;
        phase.reports.push(r.to_string());
    }
    phase.requests = delta(&before, &w.served());
    phase
}

/// A runner with an in-memory state store.
pub fn runner() -> Runner {
    Runner::new(Arc::new(MemoryStore::new()))
}

/// The fewest requests the APIs allow for a phase: each source read in pages of [`LS_PAGE`]
/// (at least one page, which also tells a cursor that nothing changed), one read of each
/// target set the run must match against (`bc_sets`, each under [`BC_PAGE`] rows), and the
/// written records in `$batch` requests of [`BATCH`] per flow.
pub fn floor(source_rows: [u64; 3], bc_sets: u64, written: [u64; 3]) -> Requests {
    Requests {
        ls_reads: source_rows.iter().map(|n| n.div_ceil(LS_PAGE).max(1)).sum(),
        ls_writes: 0,
        bc_reads: bc_sets,
        bc_writes: written.iter().map(|n| n.div_ceil(BATCH)).sum(),
    }
}

/// The per-record way, as integration platforms describe it, with the same clients: every
/// customer and product looked up by its key and then created or updated one by one; for each
/// sale, the order looked up by external document number, the customer by e-mail (created or
/// updated), each item by number, the order created, and each line added as its own request.
/// The Lightspeed side is read in pages like ours (the difference is all on the target side).
pub async fn run_baseline(w: &World) -> Requests {
    let served = || (w.ls.stats(), w.baseline_bc.stats());
    let before = served();
    let ls = &w.baseline.lightspeed;
    let bc = w.baseline.bc();
    let customers: Vec<_> = ls
        .customers()
        .list()
        .page_size(LS_PAGE as u32)
        .stream()
        .filter_map(|c| async move { c.ok() })
        .collect()
        .await;
    let products: Vec<_> = ls
        .products()
        .list()
        .page_size(LS_PAGE as u32)
        .stream()
        .filter_map(|p| async move { p.ok() })
        .collect()
        .await;
    let sales: Vec<_> = ls
        .sales()
        .list()
        .page_size(LS_PAGE as u32)
        .stream()
        .filter_map(|s| async move { s.ok() })
        .collect()
        .await;
    let by_id: BTreeMap<_, _> = customers.iter().map(|c| (c.id.clone(), c)).collect();
    let sku_of: BTreeMap<_, _> = products
        .iter()
        .filter_map(|p| Some((p.id.clone(), p.sku.clone()?)))
        .collect();

    let upsert_customer = |c: &lightspeed_x::Customer| {
        let bc = bc.clone();
        let email = c.email.clone().unwrap_or_default();
        let input = CustomerInput {
            display_name: Some(
                c.company_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| c.name.clone())
                    .unwrap_or_default(),
            ),
            email: Some(email.clone()),
            phone_number: c.phone.clone(),
            ..Default::default()
        };
        async move {
            let set = bc.customers();
            let found = set
                .list(Query::new().filter(Field::new("email").eq(email.as_str())))
                .next()
                .await
                .transpose()
                .expect("customer lookup");
            let out: BcCustomer = match found {
                Some(existing) => {
                    let etag = existing.etag.clone().expect("etag");
                    set.update(existing.id.as_ref().expect("id"), &etag, &input)
                        .await
                        .expect("update")
                }
                None => set.create(&input).await.expect("create customer"),
            };
            out
        }
    };
    let item_input = |p: &lightspeed_x::Product| {
        let mut input = ItemInput {
            number: p.sku.clone(),
            display_name: Some(p.name.chars().take(100).collect()),
            unit_price: p.price_excluding_tax,
            ..Default::default()
        };
        input.base_unit_of_measure_code = Some(POSTING[2].1.into());
        input.general_product_posting_group_code = Some(POSTING[0].1.into());
        input.inventory_posting_group_code = Some(POSTING[1].1.into());
        input
    };
    let ensure_item = |sku: String, input: Option<ItemInput>| {
        let bc = bc.clone();
        async move {
            let set = bc.items();
            let found = set
                .list(Query::new().filter(Field::new("number").eq(sku.as_str())))
                .next()
                .await
                .transpose()
                .expect("item lookup");
            match (found, input) {
                (Some(existing), Some(input)) => {
                    let etag = existing.etag.clone().expect("etag");
                    set.update(existing.id.as_ref().expect("id"), &etag, &input)
                        .await
                        .expect("update item")
                }
                (Some(existing), None) => existing,
                (None, Some(input)) => set.create(&input).await.expect("create item"),
                (None, None) => panic!("item {sku} missing"),
            }
        }
    };

    // Customers, one by one.
    for c in customers.iter().filter(|c| c.email.is_some()) {
        upsert_customer(c).await;
    }
    // Products, one by one.
    for p in products.iter().filter(|p| p.sku.is_some()) {
        ensure_item(p.sku.clone().unwrap_or_default(), Some(item_input(p))).await;
    }
    // Sales, one by one.
    for s in sales.iter().filter(|s| is_eligible(s)) {
        let ext = format!("LS-{}", s.invoice_number.clone().unwrap_or_default());
        let exists = bc
            .sales_orders()
            .list(Query::new().filter(Field::new("externalDocumentNumber").eq(ext.as_str())))
            .next()
            .await
            .transpose()
            .expect("order lookup");
        if exists.is_some() {
            continue;
        }
        let customer = match s.customer_id.as_ref().and_then(|id| by_id.get(id)) {
            Some(c) if c.email.is_some() => Some(upsert_customer(c).await),
            _ => None,
        };
        let mut items: Vec<Item> = Vec::new();
        for l in &s.line_items {
            let Some(sku) = l.product_id.as_ref().and_then(|p| sku_of.get(p)) else {
                continue;
            };
            items.push(ensure_item(sku.clone(), None).await);
        }
        let order: SalesOrder = bc
            .sales_orders()
            .create(&SalesOrderInput {
                external_document_number: Some(ext),
                customer_number: Some(customer.map(|c| c.number).unwrap_or_else(|| "10000".into())),
                order_date: s.sale_date.map(|d| d.date_naive()),
                ..Default::default()
            })
            .await
            .expect("create order");
        for (n, (l, item)) in s.line_items.iter().zip(&items).enumerate() {
            let _: SalesOrderLine = bc
                .sales_order_lines()
                .create(&SalesOrderLineInput {
                    document_id: order.id,
                    sequence: Some(10_000 * (n as i32 + 1)),
                    item_id: item.id,
                    quantity: Some(l.quantity),
                    unit_price: Some(l.price),
                    ..Default::default()
                })
                .await
                .expect("create line");
        }
    }
    delta(&before, &served())
}

// ---------------------------------------------------------------------------------------------
// Stock: Business Central stock to Lightspeed inventory.

/// One stock run: requests and levels written.
#[derive(Clone, Copy, Debug, Default)]
pub struct StockPhase {
    /// Requests served.
    pub requests: Requests,
    /// Inventory levels written to Lightspeed.
    pub written: u64,
}

/// What the stock runs read: Lightspeed products and inventory records, Business Central items.
#[derive(Clone, Copy, Debug, Default)]
pub struct StockSource {
    /// Lightspeed products (live).
    pub products: u64,
    /// Lightspeed inventory records (live).
    pub inventory: u64,
    /// Business Central items.
    pub items: u64,
}

/// The two outlets: ours publishes to the first, the baseline to the second, so that both
/// start from levels that differ from Business Central's (each writes every level it changes).
pub fn stock_outlets(w: &World) -> (lightspeed_x::OutletId, lightspeed_x::OutletId) {
    let outlets = w.ls.state().outlets().live();
    (outlets[0].id.clone(), outlets[1].id.clone())
}

/// Sets the inventory of every item in both Business Central sandboxes (the same quantities,
/// above any level the Lightspeed demo data has), so that the next stock runs have `changed`
/// levels to publish. Returns the items set.
pub fn set_bc_stock(w: &World, salt: u64, every: usize) -> u64 {
    let items: Vec<Item> = w.bc.entities();
    let mut n = 0;
    for (i, item) in items.iter().enumerate().step_by(every.max(1)) {
        let qty = Decimal::from(5_000 + (i as u64 * 7 + salt) % 997);
        w.bc.set_inventory(&item.number, qty);
        w.baseline_bc.set_inventory(&item.number, qty);
        n += 1;
    }
    n
}

/// What the stock runs read.
pub fn stock_source(w: &World) -> StockSource {
    let st = w.ls.state();
    StockSource {
        products: st.products().live().len() as u64,
        inventory: st.inventory().live().len() as u64,
        items: w.bc.entities::<Item>().len() as u64,
    }
}

/// Our stock flow, once, to `outlet`.
pub async fn run_stock(w: &World, runner: &Runner, outlet: &lightspeed_x::OutletId) -> StockPhase {
    let flow = pos_sync_flows::lightspeed_business_central::StockFlow::new(
        w.accounts.clone(),
        pos_sync_flows::lightspeed_business_central::StockOptions {
            outlet: Some(outlet.clone()),
            ..Default::default()
        },
    );
    let before = w.served();
    let r = runner.run_once(&flow, "bench").await.expect("stock run");
    assert!(r.is_success(), "{r}: {:?}", r.failed.first());
    StockPhase {
        requests: delta(&before, &w.served()),
        written: (r.created + r.updated) as u64,
    }
}

/// The per-record way for stock: Business Central read like ours (items, open orders with
/// lines, variants: the API has no per-item reservation read), then for each inventory item
/// without variants the Lightspeed product looked up by SKU, its inventory read, and the level
/// written when it differs.
pub async fn run_stock_baseline(w: &World, outlet: &lightspeed_x::OutletId) -> StockPhase {
    use business_central::models::ItemType;
    use business_central::query::Expand;
    let served = || (w.ls.stats(), w.baseline_bc.stats());
    let before = served();
    let bc = w.baseline.bc();
    let ls = &w.baseline.lightspeed;
    let items: Vec<Item> = bc
        .items()
        .list_all(Query::new().select(["id", "number", "type", "inventory"]))
        .await
        .expect("items");
    let orders: Vec<SalesOrder> = bc
        .sales_orders()
        .list_all(Query::new().select(["id", "number"]).expand(
            Expand::new("salesOrderLines").select([
                "lineType",
                "lineObjectNumber",
                "quantity",
                "shippedQuantity",
            ]),
        ))
        .await
        .expect("orders");
    let variants: std::collections::BTreeSet<String> = bc
        .item_variants()
        .list_all(Query::new().select(["id", "itemNumber"]))
        .await
        .expect("variants")
        .into_iter()
        .map(|v| v.item_number.to_uppercase())
        .collect();
    let reserved = pos_sync_flows::lightspeed_business_central::stock::reservations(&orders);
    let policy = sync_core::stock::StockPolicy::default();
    // The baseline made an item of every product (variants too); the same items as ours are
    // published: ours' items without variants (read from the sandbox, not counted).
    let ours: std::collections::BTreeSet<String> =
        w.bc.entities::<Item>()
            .into_iter()
            .map(|i| i.number.to_uppercase())
            .collect();
    let ours_variants: std::collections::BTreeSet<String> =
        w.bc.entities::<business_central::models::ItemVariant>()
            .into_iter()
            .map(|v| v.item_number.to_uppercase())
            .collect();
    let mut written = 0;
    for item in items.iter().filter(|i| i.r#type == ItemType::Inventory) {
        let upper = item.number.to_uppercase();
        if variants.contains(&upper) || !ours.contains(&upper) || ours_variants.contains(&upper) {
            continue;
        }
        let found = ls.products().find_by_sku(&item.number).await.expect("sku");
        let Some(p) = found.into_iter().find(|p| p.deleted_at.is_none()) else {
            continue;
        };
        if !p.has_inventory {
            continue;
        }
        let level = ls
            .products()
            .inventory(&p.id)
            .expect("path")
            .page()
            .await
            .expect("inventory")
            .data
            .into_iter()
            .find(|i| &i.outlet_id == outlet)
            .map(|i| i.inventory_level)
            .unwrap_or_default();
        let want = policy.available(&sync_core::stock::StockLevel::new(
            item.inventory,
            reserved.get(&upper).copied().unwrap_or_default(),
        ));
        if want != level {
            ls.inventory()
                .set_level(&p.id, outlet, want)
                .await
                .expect("set level");
            written += 1;
        }
    }
    StockPhase {
        requests: delta(&before, &served()),
        written,
    }
}

/// The fewest requests for a stock run: each Business Central set read once (items, open
/// orders with their lines, variants: under 20,000 rows each), the Lightspeed products and
/// inventory in pages of [`LS_PAGE`] and [`LS_INVENTORY_PAGE`], and one write per changed level
/// (Lightspeed has no bulk inventory write the flow could use).
pub fn stock_floor(src: &StockSource, written: u64) -> Requests {
    Requests {
        ls_reads: src.products.div_ceil(LS_PAGE).max(1)
            + src.inventory.div_ceil(LS_INVENTORY_PAGE).max(1),
        ls_writes: written,
        bc_reads: 3,
        bc_writes: 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Time under the documented rate limits.

/// Business Central's documented budget: 6,000 requests per 5 minutes.
pub const BC_LIMIT: (u64, u64) = (6_000, 300);

/// Lightspeed's documented budget for a store with `registers` registers: 300 per register
/// plus 50, per 5 minutes.
pub fn ls_limit(registers: u64) -> (u64, u64) {
    (300 * registers.max(1) + 50, 300)
}

/// Seconds `n` requests take through the clients' own limiter (`pos_http::RateLimit::new`:
/// a burst of a tenth of the budget, then one request per `window / (budget - burst)`), sent
/// back to back from an idle start; network time not included.
pub fn paced_secs(n: u64, (budget, window_secs): (u64, u64)) -> f64 {
    let burst = (budget / 10).max(1);
    let steady = budget.saturating_sub(burst).max(1);
    n.saturating_sub(burst) as f64 * window_secs as f64 / steady as f64
}

/// `paced_secs` as text (`12 s`, `3.4 min`, `2.1 h`).
pub fn human_secs(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// A single-threaded runtime on tokio's paused clock: sandboxes and clients run in it, and
/// whenever all of them wait on a timer (a limiter slot, a `Retry-After`), the clock jumps to
/// it instead of waiting. `tokio::time::Instant` differences are then the simulated time.
///
/// Both ends of each loopback connection are in this runtime, and tokio advances the paused
/// clock only when polling I/O woke no task and no `spawn_blocking` task runs; a loopback
/// write is normally readable at once, so the clock does not move while a request is on its
/// way. Not always: on a busy machine the kernel may deliver it a moment later, and the clock
/// would jump to the next timer, such as the request's timeout (seen once in a full-scale run:
/// a 60 s timeout and a retry). Run the work inside [`guarded`] to cap such a jump at a few
/// milliseconds. The `simulated_time` test checks that measured and predicted times agree.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

/// Lets a whole rate-limit window pass, so that the next run starts with idle budgets on both
/// sides, as [`paced_secs`] assumes. Moves the paused clock at once (nothing is in flight
/// between runs); only for a runtime on the paused clock.
pub async fn idle_window() {
    tokio::time::advance(secs(BC_LIMIT.1.max(ls_limit(1).1))).await;
}

/// Time one run took on the tokio clock, and the 429s and retries meanwhile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// Elapsed on the tokio clock (simulated under [`paused_runtime`]).
    pub elapsed: std::time::Duration,
    /// 429s answered by the Lightspeed sandbox.
    pub ls_throttled: u64,
    /// 429s answered by the Business Central sandbox.
    pub bc_throttled: u64,
    /// Attempts the run's clients repeated (after a 429, a 5xx, a timeout or a dropped
    /// connection). With the clients pacing and no faults injected, any is a finding.
    pub retries: u64,
}

impl Timing {
    /// Seconds elapsed.
    pub fn secs(&self) -> f64 {
        self.elapsed.as_secs_f64()
    }
    /// 429s in all.
    pub fn throttled(&self) -> u64 {
        self.ls_throttled + self.bc_throttled
    }
}

/// Counters a [`Stopwatch`] takes differences of: 429s answered by the Lightspeed and the
/// Business Central sandbox, and retries made by the clients of the run.
pub type Counters = (u64, u64, u64);

/// Started before a run; [`Stopwatch::stop`] gives its [`Timing`].
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    started: tokio::time::Instant,
    counters: Counters,
}

impl Stopwatch {
    /// Starts now, with the [`Counters`] so far.
    pub fn start(counters: Counters) -> Stopwatch {
        Stopwatch {
            started: tokio::time::Instant::now(),
            counters,
        }
    }

    /// The time since the start and the counter differences since then.
    pub fn stop(&self, counters: Counters) -> Timing {
        Timing {
            elapsed: self.started.elapsed(),
            ls_throttled: counters.0.saturating_sub(self.counters.0),
            bc_throttled: counters.1.saturating_sub(self.counters.1),
            retries: counters.2.saturating_sub(self.counters.2),
        }
    }
}

/// Retries made so far by a pair of clients.
pub fn retries(accounts: &Accounts) -> u64 {
    accounts.lightspeed.stats().retries + accounts.business_central.stats().retries
}

/// While `run` runs, a timer fires every [`GUARD_TICK`] of tokio time. On the paused clock
/// this caps how far the clock can jump at a moment when a request is on its way but the
/// kernel has not yet made it readable on the other end of the loopback connection (seen
/// under load, e.g. a connection opened while the machine is busy): the clock then moves by
/// one tick instead of to the request's timeout. Limiter waits still end at their exact
/// deadline (the clock jumps to the earliest timer).
pub async fn guarded<F: std::future::Future>(run: F) -> F::Output {
    let tick = tokio::spawn(async {
        loop {
            tokio::time::sleep(GUARD_TICK).await;
        }
    });
    let out = run.await;
    tick.abort();
    out
}

/// See [`guarded`].
pub const GUARD_TICK: std::time::Duration = std::time::Duration::from_millis(10);

impl World {
    /// Under [`Limits::Documented`], lets a whole window pass ([`idle_window`]) so that the
    /// next run starts from idle budgets; without limits, nothing to wait for.
    pub async fn idle(&self) {
        if self.limits == Limits::Documented {
            idle_window().await;
        }
    }

    /// [`Counters`] of our runs: 429s answered by Lightspeed and our Business Central, our
    /// clients' retries.
    pub fn counters(&self) -> Counters {
        (
            self.ls.stats().throttled,
            self.bc.stats().throttled,
            retries(&self.accounts),
        )
    }

    /// [`Counters`] of the baseline: 429s answered by Lightspeed (the same store as ours)
    /// and the baseline's Business Central, the baseline's clients' retries.
    pub fn baseline_counters(&self) -> Counters {
        (
            self.ls.stats().throttled,
            self.baseline_bc.stats().throttled,
            retries(&self.baseline),
        )
    }
}
