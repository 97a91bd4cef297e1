//! Stock from Business Central to Lightspeed.
//!
//! For each inventory item: Business Central's inventory minus the quantities of open sales-order
//! lines not yet shipped, through a [`StockPolicy`] (by default floored at zero). The quantity is
//! written to one Lightspeed outlet for the product whose SKU is the item number (compared
//! without case). Items without a Lightspeed product are reported as skipped (warnings: a
//! product is never created); products that do not track stock are skipped; only quantities
//! that differ from Lightspeed's current level are written. Items with item variants are
//! skipped: API v2.0 gives inventory per item, not per variant.
//!
//! Reads per run: the items, the open orders with their lines, the item variants (Business
//! Central), the products and the inventory records (Lightspeed), each a few pages.
//! A targeted run ([`StockFlow::run_for_items`], what a notification triggers) reads only the
//! named items, their variants and the Lightspeed products with their SKUs and levels; the open
//! orders are still read in full, as reservations come from every order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use business_central::models::{Item, ItemType, LineType, SalesOrder};
use business_central::query::{Expand, Query};
use futures::TryStreamExt;
use lightspeed_x::{InventoryLevel, OutletId, Product, ProductId};
use rust_decimal::Decimal;

use super::Accounts;
use super::products::ItemNumber;
use sync_core::fields::Fields;
use sync_core::key::Caseless;
use sync_core::key::{KeyError, Keyed};
use sync_core::mapping::FieldMapping;
use sync_core::run::{Flow, FlowError, RunContext};
use sync_core::stock::{StockLevel, StockPolicy};
use sync_core::upsert::{
    Existing, OnMissing, Outcome, Planner, RecordOutcome, SourceRecord, Target, TargetError,
    TargetIndex, Write, WriteOp, WriteResult,
};

/// Settings of the stock flow.
#[derive(Debug, Clone)]
pub struct StockOptions {
    /// How the quantity is calculated (default: inventory minus open reservations, at least 0).
    pub policy: StockPolicy,
    /// The outlet whose stock is set (`None`: the store's only outlet).
    pub outlet: Option<OutletId>,
    /// Lightspeed page size (a date version's inventory is read in pages of its largest size,
    /// 5,000).
    pub page_size: u32,
    /// Lightspeed writes in flight at once (it has no bulk stock update).
    pub concurrency: usize,
}

impl Default for StockOptions {
    fn default() -> Self {
        Self {
            policy: StockPolicy::default(),
            outlet: None,
            page_size: 1000,
            concurrency: 4,
        }
    }
}

/// One item's quantity to publish.
#[derive(Debug, Clone)]
pub(crate) struct StockRecord {
    number: String,
    level: StockLevel,
    quantity: Decimal,
}

impl Keyed for StockRecord {
    type Key = ItemNumber;
    fn key(&self) -> Result<ItemNumber, KeyError> {
        ItemNumber::parse(&self.number)
    }
}
impl SourceRecord for StockRecord {
    fn source_id(&self) -> String {
        self.number.clone()
    }
    fn fields(&self) -> Fields {
        Fields::new()
            .with("quantity", self.quantity)
            .with("on_hand", self.level.on_hand)
            .with("reserved", self.level.reserved)
    }
}

/// Lightspeed inventory at one outlet, read once per run.
pub(crate) struct InventoryTarget {
    accounts: Accounts,
    outlet: OutletId,
    /// SKU (upper-cased) -> product id and current level.
    products: HashMap<Caseless, (ProductId, Decimal)>,
    concurrency: usize,
}

#[async_trait]
impl Target<StockRecord> for InventoryTarget {
    async fn lookup(&self, keys: &[ItemNumber]) -> Result<TargetIndex<ItemNumber>, TargetError> {
        Ok(keys
            .iter()
            .filter_map(|k| {
                self.products
                    .get(&Caseless::new(k.as_str()))
                    .map(|(id, level)| {
                        (
                            k.clone(),
                            Existing::new(id.0.clone(), Fields::new().with("quantity", *level)),
                        )
                    })
            })
            .collect())
    }

    async fn apply(&self, batch: &[Write<StockRecord>]) -> Result<Vec<WriteResult>, TargetError> {
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(self.concurrency.max(1)) {
            out.extend(futures::future::join_all(chunk.iter().map(|w| self.write(w))).await);
        }
        Ok(out)
    }
}

impl InventoryTarget {
    async fn write(&self, w: &Write<StockRecord>) -> WriteResult {
        let WriteOp::Update { target_id, .. } = &w.op else {
            return WriteResult::failed("a product is never created by the stock flow");
        };
        let id = ProductId::new(target_id.clone());
        let level = InventoryLevel::set(self.outlet.clone(), w.record.quantity);
        match self
            .accounts
            .lightspeed
            .products()
            .set_inventory(&id, vec![level])
            .await
        {
            Ok(()) => WriteResult::ok(target_id.clone()),
            Err(e) => WriteResult::failed(e.to_string()),
        }
    }
}

/// The stock flow: Business Central stock to Lightspeed inventory.
#[derive(Debug)]
pub struct StockFlow {
    accounts: Accounts,
    options: StockOptions,
}

impl StockFlow {
    /// The flow's name (its state scope).
    pub const NAME: &'static str = "business-central-stock-to-lightspeed";

    /// A flow between these accounts.
    pub fn new(accounts: Accounts, options: StockOptions) -> Self {
        Self { accounts, options }
    }

    async fn outlet(&self) -> Result<OutletId, FlowError> {
        if let Some(o) = &self.options.outlet {
            return Ok(o.clone());
        }
        let outlets: Vec<_> = self
            .accounts
            .lightspeed
            .outlets()
            .list()
            .all()
            .await?
            .into_iter()
            .filter(|o| o.deleted_at.is_none())
            .collect();
        match outlets.as_slice() {
            [only] => Ok(only.id.clone()),
            [] => Err("the Lightspeed store has no outlet".into()),
            _ => Err(format!(
                "the Lightspeed store has {} outlets: set StockOptions::outlet",
                outlets.len()
            )
            .into()),
        }
    }
}

/// Open (not yet shipped) quantities per item number (upper-cased).
pub fn reservations(orders: &[SalesOrder]) -> BTreeMap<String, Decimal> {
    reserved_by_number(orders)
        .into_iter()
        .map(|(n, q)| (n.folded().to_owned(), q))
        .collect()
}

/// Open (not yet shipped) quantities per item number (compared without case, as Business
/// Central compares item numbers).
fn reserved_by_number(orders: &[SalesOrder]) -> BTreeMap<Caseless, Decimal> {
    let mut out: BTreeMap<Caseless, Decimal> = BTreeMap::new();
    for o in orders {
        for l in o.sales_order_lines.iter().flatten() {
            if l.line_type == LineType::Item && !l.line_object_number.is_empty() {
                *out.entry(Caseless::new(&l.line_object_number)).or_default() +=
                    l.outstanding_quantity();
            }
        }
    }
    out
}

#[async_trait]
impl Flow for StockFlow {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn requests_made(&self) -> Option<u64> {
        Some(self.accounts.requests())
    }

    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        let outlet = self.outlet().await?;
        let scope = self.accounts.bc();
        let items: Vec<Item> = scope
            .items()
            .list_all(Query::new().select(["id", "number", "type", "inventory"]))
            .await?;
        let orders: Vec<SalesOrder> = scope
            .sales_orders()
            .list_all(Query::new().select(["id", "number"]).expand(
                Expand::new("salesOrderLines").select([
                    "lineType",
                    "lineObjectNumber",
                    "quantity",
                    "shippedQuantity",
                ]),
            ))
            .await?;
        let with_variants: BTreeSet<Caseless> = scope
            .item_variants()
            .list_all(Query::new().select(["id", "itemNumber"]))
            .await?
            .into_iter()
            .map(|v| Caseless::new(&v.item_number))
            .collect();
        let reserved = reserved_by_number(&orders);

        let ls = &self.accounts.lightspeed;
        let products: Vec<Product> = ls
            .products()
            .list()
            .page_size(self.options.page_size)
            .stream()
            .try_collect()
            .await?;
        // The date versions read inventory in pages of up to 5,000 (`POST /inventory`).
        let inventory_page = ls
            .api_version()
            .max_inventory_page()
            .unwrap_or(self.options.page_size);
        let levels: HashMap<ProductId, Decimal> = ls
            .inventory()
            .list()
            .page_size(inventory_page)
            .stream()
            .try_filter(|i| futures::future::ready(i.outlet_id == outlet && i.deleted_at.is_none()))
            .map_ok(|i| (i.product_id, i.inventory_level))
            .try_collect()
            .await?;
        let data = StockData {
            outlet,
            items,
            reserved,
            with_variants,
            products,
            levels,
        };
        self.write(ctx, data).await
    }
}

/// What a stock run compares: Business Central's items, reservations and variants, and
/// Lightspeed's products and levels at the outlet.
struct StockData {
    outlet: OutletId,
    items: Vec<Item>,
    reserved: BTreeMap<Caseless, Decimal>,
    with_variants: BTreeSet<Caseless>,
    products: Vec<Product>,
    levels: HashMap<ProductId, Decimal>,
}

impl StockFlow {
    /// Writes the quantities that differ from Lightspeed's levels, and notes the items it
    /// skips. Shared by the full run and the targeted run.
    async fn write(&self, ctx: &mut RunContext, data: StockData) -> Result<(), FlowError> {
        let StockData {
            outlet,
            items,
            reserved,
            with_variants,
            products,
            levels,
        } = data;
        let mut by_sku: HashMap<Caseless, (ProductId, Decimal)> = HashMap::new();
        let mut unmanaged: BTreeSet<Caseless> = BTreeSet::new();
        for p in products.iter().filter(|p| p.deleted_at.is_none()) {
            let Some(sku) = p.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            let sku = Caseless::new(sku);
            if !self.options.policy.is_managed(p.has_inventory) {
                unmanaged.insert(sku.clone());
            }
            let level = levels.get(&p.id).copied().unwrap_or_default();
            by_sku.entry(sku).or_insert((p.id.clone(), level));
        }

        let mut records = Vec::new();
        let mut notes = Vec::new();
        for item in items.iter().filter(|i| i.r#type == ItemType::Inventory) {
            let upper = Caseless::new(&item.number);
            let level = StockLevel::new(
                item.inventory,
                reserved.get(&upper).copied().unwrap_or_default(),
            );
            if with_variants.contains(&upper) {
                notes.push(
                    RecordOutcome::new(item.number.clone(), Outcome::Skipped).with_reason(
                        "the item has variants; API v2.0 gives no inventory per variant",
                    ),
                );
                continue;
            }
            if unmanaged.contains(&upper) {
                notes.push(
                    RecordOutcome::new(item.number.clone(), Outcome::Skipped)
                        .with_reason("the Lightspeed product does not track stock"),
                );
                continue;
            }
            if !by_sku.contains_key(&upper) {
                notes.push(
                    RecordOutcome::new(item.number.clone(), Outcome::Skipped).with_reason(
                        "no Lightspeed product has this SKU (a product is never created)",
                    ),
                );
                continue;
            }
            let quantity = self.options.policy.available(&level);
            records.push(StockRecord {
                number: item.number.clone(),
                level,
                quantity,
            });
        }
        ctx.record(&notes).await?;
        // Only the quantity is compared and written; on hand and reserved go to the activity log.
        let planner = Planner::new()
            .mapping(FieldMapping::new([("quantity", "quantity")]))
            .on_missing(OnMissing::Skip);
        let target = InventoryTarget {
            accounts: self.accounts.clone(),
            outlet,
            products: by_sku,
            concurrency: self.options.concurrency,
        };
        ctx.upsert(&planner, records, &target).await?;
        Ok(())
    }
}

impl StockFlow {
    /// Runs the flow for these Business Central items only (ids or item numbers, for example the
    /// items a notification named): reads those items, their variants, the open orders'
    /// reservations, and the Lightspeed products with their SKUs, then writes exactly as a full
    /// run would. Items Business Central does not know are left out.
    pub async fn run_for_items(
        &self,
        ctx: &mut RunContext,
        items: &[String],
    ) -> Result<(), FlowError> {
        let outlet = self.outlet().await?;
        let scope = self.accounts.bc();
        let mut ids: BTreeSet<business_central::ItemId> = BTreeSet::new();
        let mut numbers: BTreeSet<String> = BTreeSet::new();
        for key in items {
            match key.trim().parse::<business_central::ItemId>() {
                Ok(id) => ids.insert(id),
                Err(_) => numbers.insert(key.trim().to_owned()),
            };
        }
        let select = Query::new().select(["id", "number", "type", "inventory"]);
        let mut found: Vec<Item> = Vec::new();
        if !ids.is_empty() {
            found.extend(
                scope
                    .items()
                    .lookup("id", ids, super::bc::LOOKUP_CHUNK, select.clone())
                    .await?,
            );
        }
        numbers.retain(|n| {
            !found
                .iter()
                .any(|i| Caseless::new(&i.number) == Caseless::new(n))
        });
        if !numbers.is_empty() {
            found.extend(
                scope
                    .items()
                    .lookup("number", numbers.iter(), super::bc::LOOKUP_CHUNK, select)
                    .await?,
            );
        }
        if found.is_empty() {
            return Ok(());
        }
        let wanted: BTreeSet<String> = found.iter().map(|i| i.number.clone()).collect();
        let mut reserved: BTreeMap<Caseless, Decimal> = BTreeMap::new();
        for (number, quantity) in scope.open_order_quantities().await? {
            *reserved.entry(Caseless::new(number)).or_default() += quantity;
        }
        let with_variants: BTreeSet<Caseless> = scope
            .item_variants()
            .lookup(
                "itemNumber",
                wanted.iter(),
                super::bc::LOOKUP_CHUNK,
                Query::new().select(["id", "itemNumber"]),
            )
            .await?
            .into_iter()
            .map(|v| Caseless::new(&v.item_number))
            .collect();
        let ls = &self.accounts.lightspeed;
        let mut products: Vec<Product> = Vec::new();
        let mut levels: HashMap<ProductId, Decimal> = HashMap::new();
        for number in &wanted {
            for p in ls.products().find_by_sku(number).await? {
                let same = p
                    .sku
                    .as_deref()
                    .is_some_and(|s| Caseless::new(s) == Caseless::new(number));
                if !same || p.deleted_at.is_some() {
                    continue;
                }
                for i in ls.products().inventory(&p.id)?.all().await? {
                    if i.outlet_id == outlet && i.deleted_at.is_none() {
                        levels.insert(i.product_id, i.inventory_level);
                    }
                }
                products.push(p);
            }
        }
        let data = StockData {
            outlet,
            items: found,
            reserved,
            with_variants,
            products,
            levels,
        };
        self.write(ctx, data).await
    }
}

#[async_trait]
impl sync_core::trigger::TargetedFlow for StockFlow {
    async fn run_for(&self, ctx: &mut RunContext, ids: &[String]) -> Result<(), FlowError> {
        self.run_for_items(ctx, ids).await
    }

    /// Every run reads every item: what a triggered run gives up on, the next run writes.
    fn polls_everything(&self) -> bool {
        true
    }
}
