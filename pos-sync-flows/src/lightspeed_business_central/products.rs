//! Products from Lightspeed to Business Central items.
//!
//! The key is the SKU as item number: Business Central stores item numbers upper-cased, so they
//! are matched without case; a SKU longer than 20 characters is reported, never truncated. Name,
//! price (with or without tax), unit cost, GTIN (the first numeric barcode of the product codes)
//! and item category (created when missing) are mapped; `description` is sent on create only.
//! Variants become item variants of one item per family (the family's first product gives the
//! item number), or items of their own ([`VariantMode::Items`]). New items can be created
//! blocked, to be enriched in Business Central first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use async_trait::async_trait;
use business_central::ETag;
use business_central::models::{Item, ItemCategory, ItemVariant};
use business_central::query::Query;
use chrono::{DateTime, Utc};
use lightspeed_x::{Product, ProductCodeType, ProductId};
use serde_json::{Map, Value};

use super::bc::{self, Op};
use super::{Accounts, DEFAULT_CHUNK, ITEM_LINKS, ITEM_VARIANT_LINKS};
use sync_core::fields::Fields;
use sync_core::key::{Key, KeyError, Keyed};
use sync_core::mapping::{FieldMapping, FieldSource};
use sync_core::run::{Flow, FlowError, RunContext};
use sync_core::state::StateStore;
use sync_core::upsert::{
    Existing, Outcome, Planner, RecordOutcome, SourceRecord, Target, TargetError, TargetIndex,
    Write, WriteResult, upsert,
};

/// A Business Central item number: at most 20 characters, compared without case (Business
/// Central upper-cases it).
#[derive(Clone)]
pub struct ItemNumber {
    value: String,
    upper: String,
}

impl ItemNumber {
    /// Longest item number Business Central holds.
    pub const MAX_LEN: usize = 20;

    /// Parses a SKU as an item number: trimmed; empty, control characters and more than 20
    /// characters are refused (never truncated).
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(KeyError::Empty);
        }
        if t.chars().any(char::is_control) {
            return Err(KeyError::Invalid("contains control characters".into()));
        }
        let n = t.chars().count();
        if n > Self::MAX_LEN {
            return Err(KeyError::Invalid(format!(
                "SKU has {n} characters; a Business Central item number holds at most 20 (not truncated)"
            )));
        }
        Ok(Self {
            value: t.to_owned(),
            upper: t.to_uppercase(),
        })
    }
    /// The number as the SKU gives it.
    pub fn as_str(&self) -> &str {
        &self.value
    }
    /// The upper-cased form Business Central stores.
    pub fn upper(&self) -> &str {
        &self.upper
    }
}

impl PartialEq for ItemNumber {
    fn eq(&self, o: &Self) -> bool {
        self.upper == o.upper
    }
}
impl Eq for ItemNumber {}
impl PartialOrd for ItemNumber {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ItemNumber {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.upper.cmp(&o.upper)
    }
}
impl Hash for ItemNumber {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.upper.hash(h);
    }
}
impl fmt::Display for ItemNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
impl fmt::Debug for ItemNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemNumber({:?})", self.value)
    }
}
impl Key for ItemNumber {
    fn canonical(&self) -> String {
        self.upper.clone()
    }
}

/// Which Lightspeed price becomes the item's unit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriceBasis {
    /// The price excluding tax (`priceIncludesTax` false).
    #[default]
    ExcludingTax,
    /// The price including tax (`priceIncludesTax` true).
    IncludingTax,
}

/// How Lightspeed variants are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VariantMode {
    /// One item per family, each variant an item variant (code from the option values).
    #[default]
    ItemVariants,
    /// Each variant an item of its own, keyed by its SKU.
    Items,
}

/// Settings of the products flow.
#[derive(Debug, Clone)]
pub struct ProductOptions {
    /// Item property <- source field (see [`default_mapping`]). Set constants here for what
    /// Business Central requires (`generalProductPostingGroupCode`, `inventoryPostingGroupCode`,
    /// `baseUnitOfMeasureCode`...).
    pub mapping: FieldMapping,
    /// Item properties sent on create only (default `number`, `type`, `blocked`, `description`).
    pub create_only: Vec<String>,
    /// Which price is sent.
    pub price: PriceBasis,
    /// Variants as item variants or as items.
    pub variants: VariantMode,
    /// New items are created blocked (to be enriched first); updates never unblock.
    pub block_new_items: bool,
    /// Lightspeed page size.
    pub page_size: u32,
    /// Changed products planned and written together: a run holds at most this many at a time,
    /// however many changed (larger chunks make fewer key lookups).
    pub chunk_size: usize,
    /// Page size of the Business Central reads that find existing items and variants when a
    /// chunk has too many keys for `or` filters (at most 20,000): a run holds one such page.
    pub lookup_page_size: u32,
}

impl Default for ProductOptions {
    fn default() -> Self {
        Self {
            mapping: default_mapping(),
            create_only: ["number", "type", "blocked", "description"]
                .map(str::to_owned)
                .to_vec(),
            price: PriceBasis::default(),
            variants: VariantMode::default(),
            block_new_items: false,
            page_size: 1000,
            chunk_size: DEFAULT_CHUNK,
            lookup_page_size: bc::MAX_PAGE,
        }
    }
}

/// The default mapping: item property <- source field.
///
/// Source fields: `sku`, `name` (the family name, or the variant name for variants written as
/// items), `description` (the Lightspeed description without HTML tags; API v2.0 items have no
/// property for it, so map it to an extension's field if you have one), `price`,
/// `price_includes_tax`, `unit_cost`, `gtin`, `category_code`, `item_type`.
pub fn default_mapping() -> FieldMapping {
    FieldMapping::new([
        ("number", "sku"),
        ("displayName", "name"),
        ("type", "item_type"),
        ("gtin", "gtin"),
        ("unitPrice", "price"),
        ("priceIncludesTax", "price_includes_tax"),
        ("unitCost", "unit_cost"),
        ("itemCategoryCode", "category_code"),
    ])
}

/// The item category code for a Lightspeed category name (upper-cased, spaces as `-`, at most 20).
pub fn category_code(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_uppercase()
        .chars()
        .take(20)
        .collect()
}

/// The item variant code of a variant: its option values joined with `-`, upper-cased.
pub fn variant_code(p: &Product) -> Result<String, KeyError> {
    let code = p
        .variant_options
        .iter()
        .map(|o| o.value.trim())
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .to_uppercase();
    if code.is_empty() {
        return Err(KeyError::Invalid("variant has no option values".into()));
    }
    if code.chars().count() > 10 {
        return Err(KeyError::Invalid(format!(
            "variant code `{code}` is longer than 10 characters (Business Central's limit)"
        )));
    }
    Ok(code)
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn gtin(p: &Product) -> String {
    p.product_codes
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                ProductCodeType::Ean
                    | ProductCodeType::Upc
                    | ProductCodeType::Jan
                    | ProductCodeType::Isbn
                    | ProductCodeType::Itf
            )
        })
        .map(|c| c.code.trim())
        .find(|c| !c.is_empty() && c.len() <= 14 && c.chars().all(|d| d.is_ascii_digit()))
        .unwrap_or("")
        .to_owned()
}

fn category(p: &Product) -> Option<(String, String)> {
    let name = p.product_type.as_ref()?.name.trim().to_owned();
    let code = category_code(&name);
    (!code.is_empty()).then_some((code, name))
}

/// A product (or family) as an item to plan.
#[derive(Debug, Clone)]
pub(crate) struct ItemRecord {
    product: Product,
    key: Result<ItemNumber, KeyError>,
    fields: Fields,
    /// Every Lightspeed product this item stands for (the family's variants).
    members: Vec<ProductId>,
}

impl Keyed for ItemRecord {
    type Key = ItemNumber;
    fn key(&self) -> Result<ItemNumber, KeyError> {
        self.key.clone()
    }
}
impl SourceRecord for ItemRecord {
    fn source_id(&self) -> String {
        self.product.id.0.clone()
    }
    fn modified(&self) -> Option<DateTime<Utc>> {
        self.product.updated_at
    }
    fn fields(&self) -> Fields {
        self.fields.clone()
    }
}

/// A variant as an item variant to plan; key `ITEMNO/CODE`.
#[derive(Debug, Clone)]
pub(crate) struct VariantRecord {
    product: Product,
    key: Result<String, KeyError>,
    fields: Fields,
}

impl Keyed for VariantRecord {
    type Key = String;
    fn key(&self) -> Result<String, KeyError> {
        self.key.clone()
    }
}
impl SourceRecord for VariantRecord {
    fn source_id(&self) -> String {
        self.product.id.0.clone()
    }
    fn modified(&self) -> Option<DateTime<Utc>> {
        self.product.updated_at
    }
    fn fields(&self) -> Fields {
        self.fields.clone()
    }
}

fn item_fields(p: &Product, name: &str, options: &ProductOptions) -> Fields {
    let (price, incl) = match options.price {
        PriceBasis::ExcludingTax => (p.price_excluding_tax, false),
        PriceBasis::IncludingTax => (p.price_including_tax, true),
    };
    let mut f = Fields::new()
        .with("sku", p.sku.as_deref().unwrap_or("").trim())
        .with("name", name.trim())
        .with(
            "description",
            strip_html(p.description.as_deref().unwrap_or("")),
        )
        .with("price_includes_tax", incl)
        .with("gtin", gtin(p))
        .with(
            "item_type",
            if p.has_inventory {
                "Inventory"
            } else {
                "Non_x002D_Inventory"
            },
        );
    if let Some(price) = price {
        f.insert("price", price);
    }
    if let Some(cost) = p.supply_price {
        f.insert("unit_cost", cost);
    }
    if let Some((code, _)) = category(p) {
        f.insert("category_code", code);
    }
    f
}

/// The item number and variant code a Lightspeed product is written under.
pub(crate) fn item_ref(
    p: &Product,
    parent: Option<&Product>,
    mode: VariantMode,
) -> (
    Result<ItemNumber, KeyError>,
    Option<Result<String, KeyError>>,
) {
    let is_variant = p.has_variants && mode == VariantMode::ItemVariants;
    if !is_variant {
        return (
            sync_core::key::parse_opt(p.sku.as_deref(), ItemNumber::parse),
            None,
        );
    }
    let parent = parent.unwrap_or(p);
    (
        sync_core::key::parse_opt(parent.sku.as_deref(), ItemNumber::parse),
        Some(variant_code(p)),
    )
}

/// The family parent id of a variant product (itself for the parent and for simple products).
pub(crate) fn parent_id(p: &Product) -> ProductId {
    p.variant_parent_id
        .clone()
        .or_else(|| p.family_id.clone())
        .unwrap_or_else(|| p.id.clone())
}

/// Items, variants, planners and targets for a set of products.
pub(crate) struct Prepared {
    items: Vec<ItemRecord>,
    variants: Vec<VariantRecord>,
    categories: BTreeMap<String, String>,
    item_planner: Planner,
    variant_planner: Planner,
    item_target: ItemTarget,
    variant_target: VariantTarget,
}

/// Builds the records; reads family parents that are not among `products` (one request each).
pub(crate) async fn prepare(
    accounts: &Accounts,
    options: &ProductOptions,
    products: Vec<Product>,
) -> Result<Prepared, FlowError> {
    let mut mapping = options.mapping.clone();
    if options.block_new_items {
        mapping = mapping.with_default("blocked", FieldSource::constant(true));
    }
    let mut items = Vec::new();
    let mut variants = Vec::new();
    let mut categories = BTreeMap::new();
    let grouped = |p: &Product| p.has_variants && options.variants == VariantMode::ItemVariants;
    // Family parents among the products (the only ones needed twice: as parent and as member).
    let parents: BTreeSet<ProductId> = products
        .iter()
        .filter(|p| grouped(p))
        .map(parent_id)
        .collect();
    let by_id: HashMap<ProductId, Product> = products
        .iter()
        .filter(|p| parents.contains(&p.id))
        .map(|p| (p.id.clone(), p.clone()))
        .collect();
    let mut families: BTreeMap<ProductId, Vec<Product>> = BTreeMap::new();
    for p in products {
        if let Some((code, name)) = category(&p) {
            categories.insert(code, name);
        }
        if grouped(&p) {
            families.entry(parent_id(&p)).or_default().push(p);
        } else {
            let name = if p.has_variants {
                p.variant_name.clone().unwrap_or_else(|| p.name.clone())
            } else {
                p.name.clone()
            };
            items.push(ItemRecord {
                fields: item_fields(&p, &name, options),
                key: sync_core::key::parse_opt(p.sku.as_deref(), ItemNumber::parse),
                members: vec![p.id.clone()],
                product: p,
            });
        }
    }
    for (parent, members) in families {
        let parent_product = match by_id.get(&parent) {
            Some(p) => p.clone(),
            None => accounts.lightspeed.products().get(&parent).await?,
        };
        let (item_no, _) = item_ref(&parent_product, None, VariantMode::Items);
        items.push(ItemRecord {
            fields: item_fields(&parent_product, &parent_product.name, options),
            key: item_no.clone(),
            members: members.iter().map(|m| m.id.clone()).collect(),
            product: parent_product,
        });
        for m in members {
            let key = match (&item_no, variant_code(&m)) {
                (Ok(n), Ok(code)) => Ok(format!("{}/{code}", n.upper())),
                (Err(e), _) => Err(KeyError::Invalid(format!("the family's item number: {e}"))),
                (_, Err(e)) => Err(e),
            };
            let (number, code) = match &key {
                Ok(k) => k
                    .split_once('/')
                    .map_or((String::new(), String::new()), |(a, b)| {
                        (a.to_owned(), b.to_owned())
                    }),
                Err(_) => (String::new(), String::new()),
            };
            let fields = Fields::new()
                .with("itemNumber", number)
                .with("code", code)
                .with(
                    "description",
                    m.variant_name.clone().unwrap_or_else(|| m.name.clone()),
                );
            variants.push(VariantRecord {
                product: m,
                key,
                fields,
            });
        }
    }
    let compared: Vec<String> = mapping
        .effective()
        .keys()
        .map(|k| (*k).to_owned())
        .collect();
    let item_planner = Planner::new()
        .mapping(mapping)
        .create_only(options.create_only.iter().cloned())
        .ignore_case(["number", "itemCategoryCode"]);
    let variant_planner = Planner::new().create_only(["itemNumber", "code"]);
    Ok(Prepared {
        items,
        variants,
        categories,
        item_planner,
        variant_planner,
        item_target: ItemTarget {
            accounts: accounts.clone(),
            compared,
            etags: Mutex::new(HashMap::new()),
            page: options.lookup_page_size,
        },
        variant_target: VariantTarget {
            accounts: accounts.clone(),
            etags: Mutex::new(HashMap::new()),
            page: options.lookup_page_size,
        },
    })
}

/// Creates the item categories that do not exist yet; returns how many were created.
pub(crate) async fn ensure_categories(
    accounts: &Accounts,
    wanted: &BTreeMap<String, String>,
) -> Result<usize, FlowError> {
    if wanted.is_empty() {
        return Ok(0);
    }
    let set = accounts.bc().item_categories();
    let have: BTreeSet<String> = set
        .list_all(Query::new().select(["code"]))
        .await?
        .into_iter()
        .map(|c: ItemCategory| c.code.to_uppercase())
        .collect();
    let ops: Vec<Op> = wanted
        .iter()
        .filter(|(code, _)| !have.contains(*code))
        .map(|(code, name)| {
            let mut body = Map::new();
            body.insert("code".into(), Value::String(code.clone()));
            body.insert(
                "displayName".into(),
                Value::String(name.chars().take(100).collect()),
            );
            Op::post(set.path(), body)
        })
        .collect();
    let results = bc::send(&accounts.business_central, ops).await?;
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        return Err(format!("could not create an item category: {e}").into());
    }
    Ok(results.len())
}

/// Items as an upsert target: bulk lookup by number, `$batch` writes.
pub(crate) struct ItemTarget {
    accounts: Accounts,
    compared: Vec<String>,
    etags: Mutex<HashMap<String, ETag>>,
    page: u32,
}

#[async_trait]
impl Target<ItemRecord> for ItemTarget {
    async fn lookup(&self, keys: &[ItemNumber]) -> Result<TargetIndex<ItemNumber>, TargetError> {
        let found: Vec<Item> = bc::lookup_paged(
            &self.accounts.bc().items(),
            "number",
            keys.iter().map(|k| k.upper().to_owned()),
            Query::new(),
            self.page,
        )
        .await
        .map_err(TargetError::from_error)?;
        let by_number: HashMap<String, &Item> =
            found.iter().map(|i| (i.number.to_uppercase(), i)).collect();
        let mut etags = self.etags.lock().unwrap_or_else(|p| p.into_inner());
        let mut index = TargetIndex::new();
        for k in keys {
            if let Some(item) = by_number.get(k.upper())
                && let Some(id) = item.id
            {
                if let Some(e) = &item.etag {
                    etags.insert(id.to_string(), e.clone());
                }
                let fields = bc::entity_fields(*item, self.compared.iter().map(String::as_str));
                index.insert(k.clone(), Existing::new(id.to_string(), fields));
            }
        }
        Ok(index)
    }

    async fn apply(&self, batch: &[Write<ItemRecord>]) -> Result<Vec<WriteResult>, TargetError> {
        let path = self.accounts.bc().items().path();
        bc::apply_writes::<Item, _>(
            &self.accounts.business_central,
            &path,
            &self.etags,
            batch,
            // The key, as given (Business Central upper-cases it).
            |w, body| {
                body.insert("number".into(), Value::String(w.key.as_str().to_owned()));
            },
        )
        .await
    }
}

/// Item variants as an upsert target: bulk lookup by item number, `$batch` writes.
pub(crate) struct VariantTarget {
    accounts: Accounts,
    etags: Mutex<HashMap<String, ETag>>,
    page: u32,
}

#[async_trait]
impl Target<VariantRecord> for VariantTarget {
    async fn lookup(&self, keys: &[String]) -> Result<TargetIndex<String>, TargetError> {
        let numbers: BTreeSet<String> = keys
            .iter()
            .filter_map(|k| k.split_once('/').map(|(n, _)| n.to_owned()))
            .collect();
        let found: Vec<ItemVariant> = bc::lookup_paged(
            &self.accounts.bc().item_variants(),
            "itemNumber",
            numbers,
            Query::new(),
            self.page,
        )
        .await
        .map_err(TargetError::from_error)?;
        let wanted: BTreeSet<&String> = keys.iter().collect();
        let mut etags = self.etags.lock().unwrap_or_else(|p| p.into_inner());
        let mut index = TargetIndex::new();
        for v in &found {
            let key = format!("{}/{}", v.item_number.to_uppercase(), v.code.to_uppercase());
            if let (true, Some(id)) = (wanted.contains(&key), v.id) {
                if let Some(e) = &v.etag {
                    etags.insert(id.to_string(), e.clone());
                }
                let fields = Fields::new().with("description", v.description.as_str());
                index.insert(key, Existing::new(id.to_string(), fields));
            }
        }
        Ok(index)
    }

    async fn apply(&self, batch: &[Write<VariantRecord>]) -> Result<Vec<WriteResult>, TargetError> {
        let path = self.accounts.bc().item_variants().path();
        bc::apply_writes::<ItemVariant, _>(
            &self.accounts.business_central,
            &path,
            &self.etags,
            batch,
            |_, _| {},
        )
        .await
    }
}

/// Links of the written items and variants: product id -> item id, variant product id -> item
/// variant id (every member of a family links to the family's item, except a member whose item
/// variant failed: without both links the sales flow would book it as the bare item).
fn links(
    items: &[Vec<ProductId>],
    item_outcomes: &[RecordOutcome],
    variant_outcomes: &[RecordOutcome],
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let ok = |o: &&RecordOutcome| o.outcome != Outcome::Failed && o.target_id.is_some();
    let failed_variants: BTreeSet<&str> = variant_outcomes
        .iter()
        .filter(|o| !ok(o))
        .map(|o| o.source_id.as_str())
        .collect();
    for (members, o) in items.iter().zip(item_outcomes) {
        if let (true, Some(t)) = (ok(&o), &o.target_id) {
            for m in members {
                if !failed_variants.contains(m.0.as_str()) {
                    out.push((ITEM_LINKS, m.0.clone(), t.clone()));
                }
            }
        }
    }
    for o in variant_outcomes.iter().filter(ok) {
        if let Some(t) = &o.target_id {
            out.push((ITEM_VARIANT_LINKS, o.source_id.clone(), t.clone()));
        }
    }
    out
}

/// Writes products outside a run context (the sales flow creates missing items this way);
/// returns the outcomes of items and variants.
pub(crate) async fn write_products(
    accounts: &Accounts,
    options: &ProductOptions,
    store: &dyn StateStore,
    tenant: &str,
    products: Vec<Product>,
) -> Result<Vec<RecordOutcome>, FlowError> {
    let p = prepare(accounts, options, products).await?;
    ensure_categories(accounts, &p.categories).await?;
    let members: Vec<Vec<ProductId>> = p.items.iter().map(|i| i.members.clone()).collect();
    let item_outcomes = upsert(&p.item_planner, p.items, &p.item_target).await?;
    let variant_outcomes = upsert(&p.variant_planner, p.variants, &p.variant_target).await?;
    for (ns, s, t) in links(&members, &item_outcomes, &variant_outcomes) {
        store.save_link(tenant, ns, &s, &t).await?;
    }
    let mut all = item_outcomes;
    all.extend(variant_outcomes);
    Ok(all)
}

/// The products flow: Lightspeed products to Business Central items.
#[derive(Debug)]
pub struct ProductsFlow {
    accounts: Accounts,
    options: ProductOptions,
}

impl ProductsFlow {
    /// The flow's name (its state scope).
    pub const NAME: &'static str = "lightspeed-products-to-business-central";

    /// A flow between these accounts.
    pub fn new(accounts: Accounts, options: ProductOptions) -> Self {
        Self { accounts, options }
    }
}

#[async_trait]
impl Flow for ProductsFlow {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn requests_made(&self) -> Option<u64> {
        Some(self.accounts.requests())
    }

    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        super::run_version_feed(self, ctx).await
    }
}

#[async_trait]
impl super::VersionFeed for ProductsFlow {
    type Record = Product;
    type State = ();

    fn feed(&self, after: i64) -> lightspeed_x::ListRequest<Product> {
        self.accounts
            .lightspeed
            .products()
            .list()
            .after(after)
            .page_size(self.options.page_size)
    }

    fn record_id(p: &Product) -> &str {
        p.id.0.as_str()
    }

    async fn read(&self, id: String) -> lightspeed_x::Result<Product> {
        self.accounts
            .lightspeed
            .products()
            .get(&ProductId::new(id))
            .await
    }

    fn chunk_size(&self) -> usize {
        self.options.chunk_size
    }

    async fn write_changes(
        &self,
        ctx: &mut RunContext,
        chunk: Vec<Product>,
        _: &mut (),
    ) -> Result<(), FlowError> {
        let live: Vec<Product> = chunk
            .into_iter()
            .filter(|p| p.deleted_at.is_none())
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        self.write_chunk(ctx, live).await
    }
}

impl ProductsFlow {
    /// Plans and writes one chunk of changed products: categories, items, item variants, links.
    async fn write_chunk(
        &self,
        ctx: &mut RunContext,
        products: Vec<Product>,
    ) -> Result<(), FlowError> {
        let gate = super::WriteGate::of(ctx);
        let p = prepare(&self.accounts, &self.options, products).await?;
        gate.write(|| ensure_categories(&self.accounts, &p.categories))
            .await?;
        let Prepared {
            items,
            variants,
            item_planner,
            variant_planner,
            item_target,
            variant_target,
            ..
        } = p;
        let item_members: Vec<Vec<ProductId>> = items.iter().map(|i| i.members.clone()).collect();
        let item_outcomes = ctx.upsert(&item_planner, items, &item_target).await?;
        let variant_outcomes = ctx
            .upsert(&variant_planner, variants, &variant_target)
            .await?;
        let ctx = &*ctx;
        gate.write(|| async {
            let tenant = ctx.tenant().to_owned();
            for (ns, s, t) in links(&item_members, &item_outcomes, &variant_outcomes) {
                ctx.store().save_link(&tenant, ns, &s, &t).await?;
            }
            Ok::<(), FlowError>(())
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_numbers() {
        let a = ItemNumber::parse(" ab-1 ").unwrap();
        assert_eq!(a, ItemNumber::parse("AB-1").unwrap());
        assert_eq!(a.as_str(), "ab-1");
        assert_eq!(a.upper(), "AB-1");
        let long = ItemNumber::parse(&"x".repeat(21)).unwrap_err();
        assert!(long.to_string().contains("not truncated"), "{long}");
        assert!(ItemNumber::parse(&"x".repeat(20)).is_ok());
        assert_eq!(category_code(" Hot  drinks "), "HOT-DRINKS");
        assert_eq!(strip_html("<p>Soft <b>wool</b></p>"), "Soft wool");
    }
}
