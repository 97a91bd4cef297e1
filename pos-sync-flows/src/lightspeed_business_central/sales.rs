//! Sales from Lightspeed to Business Central sales orders or invoices.
//!
//! Incremental by Lightspeed's version cursor; closed sales only (voided and parked sales are
//! never sent). The external document number (prefix + invoice number) is the idempotency key:
//! a document that already exists, as an order or an invoice, is skipped and reported, never
//! written twice. When a `$batch` request fails without an answer (a timeout or a lost
//! response), the flow looks its documents up again before retrying only the ones that are
//! missing, so a crash between batches or a lost response leaves no duplicate and no gap.
//!
//! Before planning, each sale's customer is ensured through the customers flow (a sale without
//! a customer, with the walk-in customer, or with a customer that cannot be matched safely (no
//! e-mail address and no stored link) goes to the default customer), every item is checked
//! (missing items fail the sale with their SKUs, or are created through the products flow,
//! [`MissingItems`]), and the first payment's type gives the payment terms. Documents are
//! deep-inserted with their lines, in `$batch` requests.
//!
//! [`SalesFlow::run_for_sales`] sends given sales only (what a `sale.update` webhook triggers),
//! through the same steps, without moving the cursor.

mod document;

pub use document::{
    ItemRef, Rejected, SaleCustomer, SaleItem, SaleReferences, SalesDocument, SalesDocumentInput,
    build as build_document,
};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use async_trait::async_trait;
use business_central::models::{SalesInvoice, SalesOrder};
use business_central::query::Query;
use business_central::{ItemId, ItemVariantId, PaymentTermId, WritableEntity};
use chrono::{DateTime, Utc};
use lightspeed_x::{
    Customer as LsCustomer, CustomerId, Product, ProductId, Sale, SaleId, SaleState, SaleStatus,
};
use serde_json::{Map, Value};

use super::bc::{self, Op};
use super::customers::{self, CustomerOptions};
use super::products::{self, ProductOptions};
use super::{Accounts, CUSTOMER_LINKS, ITEM_LINKS, ITEM_VARIANT_LINKS};
use sync_core::cursor::VersionCursor;
use sync_core::fields::Fields;
use sync_core::key::{Caseless, KeyError, Keyed};
use sync_core::run::{Flow, FlowError, RunContext};
use sync_core::upsert::{
    Existing, OnExisting, Outcome, Planner, RecordOutcome, SourceRecord, Target, TargetError,
    TargetIndex, Write, WriteOp, WriteResult, upsert,
};

/// Which document a sale becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentKind {
    /// A sales order (`salesOrders`).
    #[default]
    Order,
    /// A sales invoice (`salesInvoices`, a draft to post in Business Central).
    Invoice,
}

/// What happens to returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Returns {
    /// Sent as documents with negative quantities.
    #[default]
    NegativeLines,
    /// Skipped and reported.
    Skip,
}

/// What happens when a sale's item does not exist in Business Central.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingItems {
    /// The sale fails, naming the missing SKUs (kept for retry).
    #[default]
    Fail,
    /// The products flow creates the items first.
    Create,
}

/// Settings of the sales flow.
#[derive(Debug, Clone)]
pub struct SalesOptions {
    /// Orders or invoices.
    pub document: DocumentKind,
    /// Returns as negative lines or skipped.
    pub returns: Returns,
    /// Missing items: fail or create.
    pub missing_items: MissingItems,
    /// Customer number for sales without a customer (or with the walk-in customer).
    pub default_customer_number: Option<String>,
    /// Lightspeed payment type name -> Business Central payment terms code.
    pub payment_terms: BTreeMap<String, String>,
    /// Put before the invoice number to make the external document number (at most 35 characters in all).
    pub external_document_prefix: String,
    /// Documents per `$batch` request (at most 100).
    pub batch_size: usize,
    /// How customers are ensured.
    pub customers: CustomerOptions,
    /// How missing items are created.
    pub products: ProductOptions,
    /// Lightspeed page size.
    pub page_size: u32,
    /// Changed sales planned and written together: a run holds at most this many at a time,
    /// however many changed (larger chunks make fewer key lookups).
    pub chunk_size: usize,
    /// Sales made before this are never sent (for example a first run that backfills N days).
    pub not_before: Option<DateTime<Utc>>,
}

impl Default for SalesOptions {
    fn default() -> Self {
        Self {
            document: DocumentKind::default(),
            returns: Returns::default(),
            missing_items: MissingItems::default(),
            default_customer_number: None,
            payment_terms: BTreeMap::new(),
            external_document_prefix: String::new(),
            batch_size: 50,
            customers: CustomerOptions::default(),
            products: ProductOptions::default(),
            page_size: 1000,
            chunk_size: super::DEFAULT_CHUNK,
            not_before: None,
        }
    }
}

/// Whether a sale is sent: closed, not voided, not parked.
pub fn is_eligible(s: &Sale) -> bool {
    s.deleted_at.is_none()
        && !s.is_voided()
        && s.state != Some(SaleState::Parked)
        && s.status != SaleStatus::Saved
        && s.is_closed()
}

/// A sale ready to plan: the sale and its typed document.
#[derive(Debug, Clone)]
pub(crate) struct SaleRecord {
    sale: Sale,
    document: SalesDocument,
}

impl Keyed for SaleRecord {
    type Key = Caseless;
    fn key(&self) -> Result<Caseless, KeyError> {
        self.document.key.clone()
    }
}
impl SourceRecord for SaleRecord {
    fn source_id(&self) -> String {
        self.sale.id.0.clone()
    }
    fn modified(&self) -> Option<DateTime<Utc>> {
        self.sale.updated_at
    }
    fn fields(&self) -> Fields {
        self.document.fields()
    }
}

/// Documents (orders and invoices) as an upsert target.
pub(crate) struct SalesTarget {
    accounts: Accounts,
    document: DocumentKind,
    batch_size: usize,
}

impl SalesTarget {
    /// External document number (compared as Business Central does, without case) -> document
    /// id, among orders and invoices.
    async fn existing(&self, refs: &[String]) -> Result<HashMap<Caseless, String>, TargetError> {
        let mut out = HashMap::new();
        if refs.is_empty() {
            return Ok(out);
        }
        let scope = self.accounts.bc();
        let q = Query::new().select(["id", "number", "externalDocumentNumber"]);
        let orders: Vec<SalesOrder> = bc::lookup(
            &scope.sales_orders(),
            "externalDocumentNumber",
            refs.iter(),
            q.clone(),
        )
        .await
        .map_err(TargetError::from_error)?;
        let invoices: Vec<SalesInvoice> = bc::lookup(
            &scope.sales_invoices(),
            "externalDocumentNumber",
            refs.iter(),
            q,
        )
        .await
        .map_err(TargetError::from_error)?;
        for o in orders {
            if let Some(id) = o.id {
                out.entry(Caseless::new(&o.external_document_number))
                    .or_insert(id.to_string());
            }
        }
        for i in invoices {
            if let Some(id) = i.id {
                out.entry(Caseless::new(&i.external_document_number))
                    .or_insert(id.to_string());
            }
        }
        Ok(out)
    }

    fn set_path(&self) -> String {
        let scope = self.accounts.bc();
        match self.document {
            DocumentKind::Order => {
                format!("{}?$expand=salesOrderLines", scope.sales_orders().path())
            }
            DocumentKind::Invoice => format!(
                "{}?$expand=salesInvoiceLines",
                scope.sales_invoices().path()
            ),
        }
    }
}

#[async_trait]
impl Target<SaleRecord> for SalesTarget {
    async fn lookup(&self, keys: &[Caseless]) -> Result<TargetIndex<Caseless>, TargetError> {
        let refs: Vec<String> = keys.iter().map(|k| k.as_str().to_owned()).collect();
        let found = self.existing(&refs).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                found
                    .get(k)
                    .map(|id| (k.clone(), Existing::new(id.clone(), Fields::new())))
            })
            .collect())
    }

    fn batch_size(&self) -> usize {
        self.batch_size
            .clamp(1, business_central::batch::MAX_BATCH_OPERATIONS)
    }

    async fn apply(&self, batch: &[Write<SaleRecord>]) -> Result<Vec<WriteResult>, TargetError> {
        let mut results: Vec<Option<WriteResult>> = vec![None; batch.len()];
        let mut pending: Vec<usize> = Vec::new();
        for (i, w) in batch.iter().enumerate() {
            let body = Value::Object(w.record.document.body());
            let checked = match self.document {
                DocumentKind::Order => SalesOrder::check_body(&body),
                DocumentKind::Invoice => SalesInvoice::check_body(&body),
            };
            match (&w.op, checked) {
                (WriteOp::Update { .. }, _) => {
                    results[i] = Some(WriteResult::failed("an existing document is never changed"));
                }
                (_, Err(e)) => results[i] = Some(WriteResult::failed(e.to_string())),
                (WriteOp::Create { .. }, Ok(())) => pending.push(i),
            }
        }
        // One retry after a failed request, for the documents a re-check does not find.
        for attempt in 0..2 {
            if pending.is_empty() {
                break;
            }
            let ops: Vec<Op> = pending
                .iter()
                .filter_map(|&i| batch.get(i))
                .map(|w| Op::post(self.set_path(), w.record.document.body()))
                .collect();
            match bc::send(&self.accounts.business_central, ops).await {
                Ok(sent) => {
                    for (&i, r) in pending.iter().zip(sent) {
                        results[i] = Some(match r {
                            Ok(v) => match bc::id_of(&v) {
                                Some(id) => WriteResult::ok(id).with_answer(summary(&v)),
                                None => WriteResult::failed("Business Central returned no id"),
                            },
                            Err(e) => WriteResult::failed(e),
                        });
                    }
                    pending.clear();
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "a $batch of documents failed; re-checking which exist");
                    let refs: Vec<String> = pending
                        .iter()
                        .filter_map(|&i| batch.get(i))
                        .map(|w| w.key.as_str().to_owned())
                        .collect();
                    let found = match self.existing(&refs).await {
                        Ok(f) => f,
                        Err(lookup) => {
                            for &i in &pending {
                                results[i] = Some(WriteResult::failed(format!(
                                    "batch failed ({e}) and the re-check failed ({lookup})"
                                )));
                            }
                            pending.clear();
                            break;
                        }
                    };
                    pending.retain(|&i| {
                        let Some(w) = batch.get(i) else { return false };
                        match found.get(&w.key) {
                            Some(id) => {
                                results[i] = Some(WriteResult::ok(id.clone()));
                                false
                            }
                            None => true,
                        }
                    });
                    if attempt == 1 {
                        for &i in &pending {
                            results[i] = Some(WriteResult::failed(format!("batch failed: {e}")));
                        }
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| WriteResult::failed("no result")))
            .collect())
    }
}

fn summary(v: &Value) -> Value {
    let mut m = Map::new();
    for k in [
        "id",
        "number",
        "externalDocumentNumber",
        "customerNumber",
        "totalAmountExcludingTax",
    ] {
        if let Some(x) = v.get(k) {
            m.insert(k.to_owned(), x.clone());
        }
    }
    Value::Object(m)
}

/// The sales flow: Lightspeed sales to Business Central orders or invoices.
#[derive(Debug)]
pub struct SalesFlow {
    accounts: Accounts,
    options: SalesOptions,
}

impl SalesFlow {
    /// The flow's name (its state scope).
    pub const NAME: &'static str = "lightspeed-sales-to-business-central";

    /// A flow between these accounts.
    pub fn new(accounts: Accounts, options: SalesOptions) -> Self {
        Self { accounts, options }
    }

    /// Lightspeed customer id -> Business Central customer id; ensures the customers that have
    /// no link yet (not in a dry run). Walk-in customers map to nothing.
    async fn customers(
        &self,
        ctx: &RunContext,
        ids: BTreeSet<CustomerId>,
    ) -> Result<BTreeMap<String, String>, FlowError> {
        let tenant = ctx.tenant().to_owned();
        let keys: Vec<String> = ids.iter().map(|c| c.0.clone()).collect();
        let mut links = ctx
            .store()
            .load_links(&tenant, CUSTOMER_LINKS, &keys)
            .await?;
        let unlinked: BTreeSet<CustomerId> = ids
            .into_iter()
            .filter(|id| !links.contains_key(&id.0))
            .collect();
        let missing: Vec<LsCustomer> = self
            .unlinked_customers(unlinked)
            .await?
            .into_iter()
            .filter(|c| !customers::is_walk_in(c))
            .collect();
        if !missing.is_empty() {
            let store = ctx.store();
            let ensured = super::WriteGate::of(ctx)
                .write(|| async {
                    let p = customers::prepare(
                        &self.accounts,
                        &self.options.customers,
                        &**store,
                        &tenant,
                        missing,
                    )
                    .await?;
                    let records = p.records.clone();
                    let outcomes = upsert(&p.planner, p.records, &p.target).await?;
                    customers::save_links(&**store, &tenant, &outcomes).await?;
                    if self.options.customers.contacts {
                        customers::ensure_contacts(&self.accounts, &records, &outcomes).await?;
                    }
                    Ok::<_, FlowError>(store.load_links(&tenant, CUSTOMER_LINKS, &keys).await?)
                })
                .await?;
            if let Some(ensured) = ensured {
                links = ensured;
            }
        }
        Ok(links)
    }

    /// Reads the Lightspeed customers the flow holds no link for (customers without an e-mail
    /// address, or not synced yet). Many are read from the customers feed in pages of the
    /// flow's page size, deleted ones included, for as long as that costs fewer requests than
    /// reading the ones still wanted one by one; the rest (a feed page that ends short of them,
    /// or a large store with few wanted) are read one by one. Ids Lightspeed does not know are
    /// left out (their sales go to the default customer).
    async fn unlinked_customers(
        &self,
        mut wanted: BTreeSet<CustomerId>,
    ) -> Result<Vec<LsCustomer>, FlowError> {
        let api = self.accounts.lightspeed.customers();
        let page_size = self.options.page_size.clamp(1, 10_000);
        let mut found: Vec<LsCustomer> = Vec::new();
        let mut after = lightspeed_x::Version(0);
        let mut pages: usize = 0;
        while wanted.len() > 1 && pages < wanted.len() {
            let page = api
                .list()
                .deleted(true)
                .page_size(page_size)
                .after(after)
                .page()
                .await?;
            pages += 1;
            let short = page.data.len() < page_size as usize;
            let next = page.max_version().filter(|v| *v > after);
            for c in page.data {
                if wanted.remove(&c.id) {
                    found.push(c);
                }
            }
            match next {
                Some(v) if !short => after = v,
                _ => break,
            }
        }
        for id in wanted {
            match api.get(&id).await {
                Ok(c) => found.push(c),
                Err(lightspeed_x::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(found)
    }

    /// Lightspeed product id -> item (and variant); reads unlinked products and looks their
    /// items up in bulk; creates missing items when told to. Returns the refs and, for products
    /// still missing, their SKUs.
    async fn items(
        &self,
        ctx: &RunContext,
        ids: BTreeSet<ProductId>,
    ) -> Result<(HashMap<ProductId, ItemRef>, HashMap<ProductId, String>), FlowError> {
        let gate = super::WriteGate::of(ctx);
        let tenant = ctx.tenant().to_owned();
        let store = ctx.store().clone();
        let keys: Vec<String> = ids.iter().map(|p| p.0.clone()).collect();
        let mode = self.options.products.variants;
        let load = |item_links: &BTreeMap<String, String>,
                    variant_links: &BTreeMap<String, String>| {
            let mut refs = HashMap::new();
            for id in &ids {
                if let Some(item) = item_links.get(&id.0).and_then(|s| ItemId::from_str(s).ok()) {
                    let variant = variant_links
                        .get(&id.0)
                        .and_then(|s| ItemVariantId::from_str(s).ok());
                    refs.insert(id.clone(), ItemRef { item, variant });
                }
            }
            refs
        };
        let item_links = store.load_links(&tenant, ITEM_LINKS, &keys).await?;
        let variant_links = store.load_links(&tenant, ITEM_VARIANT_LINKS, &keys).await?;
        let mut refs = load(&item_links, &variant_links);
        // A variant written as an item variant needs its variant link too.
        let unresolved: Vec<ProductId> = ids
            .iter()
            .filter(|id| !refs.contains_key(*id))
            .cloned()
            .collect();
        if unresolved.is_empty() {
            return Ok((refs, HashMap::new()));
        }
        let mut products: HashMap<ProductId, Product> = HashMap::new();
        for id in &unresolved {
            match self.accounts.lightspeed.products().get(id).await {
                Ok(p) => {
                    products.insert(id.clone(), p);
                }
                Err(lightspeed_x::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut parents: HashMap<ProductId, Product> = HashMap::new();
        for p in products.values() {
            let parent = products::parent_id(p);
            if p.has_variants
                && parent != p.id
                && !products.contains_key(&parent)
                && !parents.contains_key(&parent)
            {
                let pp = self.accounts.lightspeed.products().get(&parent).await?;
                parents.insert(parent, pp);
            }
        }
        let parent_of = |p: &Product| {
            let id = products::parent_id(p);
            products.get(&id).or_else(|| parents.get(&id)).cloned()
        };
        // Item numbers and variant codes of the unresolved products, looked up in bulk.
        let mut wanted: HashMap<ProductId, (Caseless, Option<Caseless>)> = HashMap::new();
        let mut missing: HashMap<ProductId, String> = HashMap::new();
        for id in &unresolved {
            let Some(p) = products.get(id) else {
                missing.insert(id.clone(), format!("product {id} (deleted in Lightspeed)"));
                continue;
            };
            let parent = parent_of(p);
            match products::item_ref(p, parent.as_ref(), mode) {
                (Ok(n), None) => {
                    wanted.insert(id.clone(), (Caseless::new(n.as_str()), None));
                }
                (Ok(n), Some(Ok(code))) => {
                    wanted.insert(
                        id.clone(),
                        (Caseless::new(n.as_str()), Some(Caseless::new(code))),
                    );
                }
                (Err(e), _) | (_, Some(Err(e))) => {
                    missing.insert(
                        id.clone(),
                        format!("{} ({e})", p.sku.as_deref().unwrap_or("no SKU")),
                    );
                }
            }
        }
        // Sent as Business Central stores item numbers (upper case).
        let numbers: BTreeSet<String> = wanted
            .values()
            .map(|(n, _)| n.folded().to_owned())
            .collect();
        let scope = self.accounts.bc();
        let items = bc::lookup(
            &scope.items(),
            "number",
            numbers.iter(),
            Query::new().select(["id", "number"]),
        )
        .await?;
        let item_ids: HashMap<Caseless, ItemId> = items
            .iter()
            .filter_map(|i| i.id.map(|id| (Caseless::new(&i.number), id)))
            .collect();
        let with_variants: BTreeSet<String> = wanted
            .values()
            .filter(|(_, c)| c.is_some())
            .map(|(n, _)| n.folded().to_owned())
            .collect();
        let variants = if with_variants.is_empty() {
            Vec::new()
        } else {
            bc::lookup(
                &scope.item_variants(),
                "itemNumber",
                with_variants.iter(),
                Query::new(),
            )
            .await?
        };
        let variant_ids: HashMap<(Caseless, Caseless), ItemVariantId> = variants
            .iter()
            .filter_map(|v| {
                v.id.map(|id| ((Caseless::new(&v.item_number), Caseless::new(&v.code)), id))
            })
            .collect();
        let mut to_create: Vec<Product> = Vec::new();
        for (id, (number, code)) in &wanted {
            let item = item_ids.get(number);
            let variant = code
                .as_ref()
                .map(|c| variant_ids.get(&(number.clone(), c.clone())));
            match (item, variant) {
                (Some(item), None) | (Some(item), Some(Some(_))) => {
                    let variant = variant.flatten().copied();
                    refs.insert(
                        id.clone(),
                        ItemRef {
                            item: *item,
                            variant,
                        },
                    );
                }
                _ => {
                    let label = match code {
                        Some(c) => format!("{number} variant {c}"),
                        None => number.to_string(),
                    };
                    missing.insert(id.clone(), label);
                    if let Some(p) = products.get(id) {
                        to_create.push(p.clone());
                    }
                }
            }
        }
        // The items found by number are linked for the next runs.
        gate.write(|| async {
            for id in &unresolved {
                if let Some(r) = refs.get(id) {
                    store
                        .save_link(&tenant, ITEM_LINKS, &id.0, &r.item.to_string())
                        .await?;
                    if let Some(v) = r.variant {
                        store
                            .save_link(&tenant, ITEM_VARIANT_LINKS, &id.0, &v.to_string())
                            .await?;
                    }
                }
            }
            Ok::<(), FlowError>(())
        })
        .await?;
        let create = self.options.missing_items == MissingItems::Create && !to_create.is_empty();
        let created = if create {
            gate.write(|| {
                products::write_products(
                    &self.accounts,
                    &self.options.products,
                    &*store,
                    &tenant,
                    to_create,
                )
            })
            .await?
        } else {
            None
        };
        if let Some(outcomes) = created {
            if let Some(o) = outcomes.iter().find(|o| o.outcome == Outcome::Failed) {
                tracing::warn!(reason = ?o.reason, "an item could not be created");
            }
            let item_links = store.load_links(&tenant, ITEM_LINKS, &keys).await?;
            let variant_links = store.load_links(&tenant, ITEM_VARIANT_LINKS, &keys).await?;
            refs = load(&item_links, &variant_links);
            missing.retain(|id, _| !refs.contains_key(id));
        }
        Ok((refs, missing))
    }
}

/// What one run reads once for all its chunks: payment terms code -> id, outlet id -> time zone.
#[derive(Default)]
pub(crate) struct Lookups {
    terms: Option<HashMap<Caseless, PaymentTermId>>,
    zones: Option<HashMap<String, chrono_tz::Tz>>,
}

#[async_trait]
impl Flow for SalesFlow {
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
impl super::VersionFeed for SalesFlow {
    type Record = Sale;
    type State = Lookups;

    fn feed(&self, after: i64) -> lightspeed_x::ListRequest<Sale> {
        self.accounts
            .lightspeed
            .sales()
            .list()
            .after(after)
            .page_size(self.options.page_size)
    }

    fn record_id(s: &Sale) -> &str {
        s.id.0.as_str()
    }

    fn retry_still_wanted(s: &Sale) -> bool {
        is_eligible(s)
    }

    async fn read(&self, id: String) -> lightspeed_x::Result<Sale> {
        self.accounts.lightspeed.sales().get(&SaleId::new(id)).await
    }

    fn chunk_size(&self) -> usize {
        self.options.chunk_size
    }

    async fn write_changes(
        &self,
        ctx: &mut RunContext,
        chunk: Vec<Sale>,
        lookups: &mut Lookups,
    ) -> Result<(), FlowError> {
        self.write(ctx, chunk, lookups).await
    }
}

impl SalesFlow {
    /// Sends the eligible sales among `read`: ensures their customers and items, then creates the
    /// documents that do not exist yet. Shared by the cursor run and the targeted run.
    async fn write(
        &self,
        ctx: &mut RunContext,
        read: Vec<Sale>,
        lookups: &mut Lookups,
    ) -> Result<(), FlowError> {
        let o = &self.options;
        let mut sales: Vec<Sale> = Vec::new();
        let mut early: Vec<RecordOutcome> = Vec::new();
        let recent = |s: &Sale| {
            o.not_before
                .is_none_or(|t| s.sale_date.or(s.created_at).is_some_and(|d| d >= t))
        };
        for s in read.into_iter().filter(|s| is_eligible(s) && recent(s)) {
            if o.returns == Returns::Skip && s.is_return() {
                early.push(
                    RecordOutcome::new(s.id.0.clone(), Outcome::Skipped)
                        .with_reason("a return: skipped by option"),
                );
            } else {
                sales.push(s);
            }
        }
        if sales.is_empty() {
            ctx.record(&early).await?;
            return Ok(());
        }

        let customer_ids: BTreeSet<CustomerId> =
            sales.iter().filter_map(|s| s.customer_id.clone()).collect();
        let customers = self.customers(ctx, customer_ids).await?;
        let product_ids: BTreeSet<ProductId> = sales
            .iter()
            .flat_map(|s| s.line_items.iter().filter_map(|l| l.product_id.clone()))
            .collect();
        let (items, missing) = self.items(ctx, product_ids.clone()).await?;

        let scope = self.accounts.bc();
        if lookups.terms.is_none() {
            lookups.terms = Some(if o.payment_terms.is_empty() {
                HashMap::new()
            } else {
                scope
                    .payment_terms()
                    .list_all(Query::new().select(["id", "code"]))
                    .await?
                    .into_iter()
                    .filter_map(|t| t.id.map(|id| (Caseless::new(&t.code), id)))
                    .collect()
            });
        }
        if lookups.zones.is_none() {
            lookups.zones = Some(
                self.accounts
                    .lightspeed
                    .outlets()
                    .list()
                    .all()
                    .await?
                    .into_iter()
                    .filter_map(|o| o.time_zone.map(|tz| (o.id.0, tz)))
                    .collect(),
            );
        }
        let terms = lookups.terms.as_ref().cloned().unwrap_or_default();
        let zones = lookups.zones.as_ref().cloned().unwrap_or_default();

        // What the write gate kept back (a dry run) is pending, not missing.
        let kept_back = !super::WriteGate::of(ctx).is_open();
        let sale_items: HashMap<ProductId, SaleItem> = product_ids
            .into_iter()
            .map(|pid| {
                let item = match (items.get(&pid), missing.get(&pid)) {
                    (Some(r), _) => SaleItem::Found(*r),
                    _ if kept_back => SaleItem::Pending,
                    (None, Some(label)) => SaleItem::Missing(label.clone()),
                    (None, None) => SaleItem::Missing(pid.0.clone()),
                };
                (pid, item)
            })
            .collect();
        let mut records = Vec::new();
        for s in sales {
            let customer = match &s.customer_id {
                None => SaleCustomer::None,
                Some(c) => match customers.get(&c.0).and_then(|id| id.parse().ok()) {
                    Some(id) => SaleCustomer::Linked(id),
                    None if kept_back => SaleCustomer::Pending,
                    None => SaleCustomer::Unmatched,
                },
            };
            let refs = SaleReferences {
                customer,
                items: &sale_items,
                payment_terms: &terms,
                time_zone: s.outlet_id.as_ref().and_then(|o| zones.get(&o.0)).copied(),
            };
            match build_document(&s, &refs, o) {
                Ok(document) => records.push(SaleRecord { sale: s, document }),
                Err(rejected) => {
                    let mut outcome = RecordOutcome::failed(s.id.0.clone(), rejected.reason);
                    if let Some(fields) = rejected.fields {
                        outcome = outcome.with_source(fields.to_json());
                    }
                    early.push(outcome);
                }
            }
        }
        ctx.record(&early).await?;
        let planner = Planner::new().on_existing(OnExisting::Skip);
        let target = SalesTarget {
            accounts: self.accounts.clone(),
            document: o.document,
            batch_size: o.batch_size,
        };
        ctx.upsert(&planner, records, &target).await?;
        Ok(())
    }
}

impl SalesFlow {
    /// Runs the flow for these Lightspeed sales only (for example the ones a `sale.update` webhook
    /// named): reads each sale, then sends it exactly as a cursor run would (closed sales only;
    /// customers and items ensured; a document that exists already is skipped). Sales Lightspeed
    /// does not know are left out. The cursor does not move.
    pub async fn run_for_sales(
        &self,
        ctx: &mut RunContext,
        ids: &[SaleId],
    ) -> Result<(), FlowError> {
        let api = self.accounts.lightspeed.sales();
        let mut read: Vec<Sale> = Vec::with_capacity(ids.len());
        for id in ids {
            match api.get(id).await {
                Ok(sale) => read.push(sale),
                Err(lightspeed_x::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.write(ctx, read, &mut Lookups::default()).await
    }
}

#[async_trait]
impl sync_core::trigger::TargetedFlow for SalesFlow {
    async fn run_for(&self, ctx: &mut RunContext, ids: &[String]) -> Result<(), FlowError> {
        let ids: Vec<SaleId> = ids.iter().map(|i| SaleId::new(i.clone())).collect();
        self.run_for_sales(ctx, &ids).await
    }

    /// A sale whose version the stored version cursor reached was read by a cursor run.
    fn covers(&self, cursor: &str, event: &sync_core::trigger::ChangeEvent) -> bool {
        let Ok(cursor) = serde_json::from_str::<VersionCursor>(cursor) else {
            return false;
        };
        let after = cursor.after_number();
        match (after, event.version) {
            (Some(after), Some(sync_core::trigger::EventVersion::Number(v))) => v <= after,
            _ => false,
        }
    }
}
