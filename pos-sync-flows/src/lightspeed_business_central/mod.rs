//! Lightspeed X-Series and Business Central: customers, products and sales from Lightspeed to
//! Business Central, and stock from Business Central back to Lightspeed.
//!
//! | flow | source | target | key |
//! |---|---|---|---|
//! | [`CustomersFlow`] | Lightspeed customers (version cursor) | customers (+ person contacts of company customers) | e-mail, or the stored link |
//! | [`ProductsFlow`] | Lightspeed products (version cursor) | items, item variants, item categories | SKU = item number |
//! | [`SalesFlow`] | Lightspeed sales (version cursor) | sales orders or invoices with lines | external document number |
//! | [`StockFlow`] | items and open sales-order lines | Lightspeed inventory at an outlet | item number = SKU |
//!
//! The customers, products and sales flows plan and write the changed records in chunks
//! (`chunk_size` in their options, default [`DEFAULT_CHUNK`]), so a run holds one chunk however
//! many records changed. Every flow reads the target's keys in bulk (per chunk), writes in
//! `$batch` requests (at most 100 operations each), has a default
//! [`FieldMapping`](sync_core::mapping::FieldMapping) callers can override, runs dry through [`Runner::dry_run`](sync_core::run::Runner::dry_run), and reports the
//! requests its clients made.
//!
//! Links between Lightspeed ids and Business Central ids are kept in the state store (namespaces
//! [`CUSTOMER_LINKS`], [`ITEM_LINKS`], [`ITEM_VARIANT_LINKS`]): customers without an e-mail
//! address are matched through them, and the sales flow finds customers and items through them
//! without asking either API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use std::sync::Arc;
//! use pos_sync_flows::lightspeed_business_central::{Accounts, SalesFlow, SalesOptions};
//! use sync_core::run::Runner;
//! use sync_core::state::SqliteStore;
//!
//! let lightspeed = lightspeed_x::Client::builder()
//!     .domain_prefix("mystore")
//!     .personal_token("lsxs_pt_...".to_owned().into())
//!     .build()
//!     .await?;
//! let bc = business_central::Client::builder().cloud("tenant-id", "production").build()?;
//! let company = "6f7a1c2e-0000-4000-8000-000000000001".parse()?;
//! let accounts = Accounts::new(lightspeed, bc, company);
//! let mut options = SalesOptions::default();
//! options.default_customer_number = Some("10000".into());
//! let runner = Runner::new(Arc::new(SqliteStore::open("sync.sqlite").await?));
//! let report = runner.run_once(&SalesFlow::new(accounts, options), "mystore").await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

mod bc;
pub mod customers;
pub mod products;
pub mod sales;
pub mod stock;

pub use customers::{CustomerKey, CustomerOptions, CustomersFlow};
pub use products::{ItemNumber, PriceBasis, ProductOptions, ProductsFlow, VariantMode};
pub use sales::{DocumentKind, MissingItems, Returns, SalesFlow, SalesOptions};
pub use stock::{StockFlow, StockOptions};

use business_central::{CompanyId, CompanyScope};

/// Changed records a flow plans and writes together by default (see the options' `chunk_size`).
pub const DEFAULT_CHUNK: usize = 5_000;

/// Link namespace: Lightspeed customer id -> Business Central customer id.
pub const CUSTOMER_LINKS: &str = "bc-customer";
/// Link namespace: Lightspeed product id -> Business Central item id.
pub const ITEM_LINKS: &str = "bc-item";
/// Link namespace: Lightspeed variant product id -> Business Central item variant id.
pub const ITEM_VARIANT_LINKS: &str = "bc-item-variant";

/// The two accounts the flows connect.
#[derive(Clone, Debug)]
pub struct Accounts {
    /// The Lightspeed store.
    pub lightspeed: lightspeed_x::Client,
    /// The Business Central environment.
    pub business_central: business_central::Client,
    /// The company within it.
    pub company: CompanyId,
}

impl Accounts {
    /// Accounts from the two clients and the company.
    pub fn new(
        lightspeed: lightspeed_x::Client,
        business_central: business_central::Client,
        company: CompanyId,
    ) -> Self {
        Self {
            lightspeed,
            business_central,
            company,
        }
    }

    /// The company's entity sets.
    pub fn bc(&self) -> CompanyScope {
        self.business_central.company(self.company)
    }

    /// Requests both clients made so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.lightspeed
            .stats()
            .requests
            .saturating_add(self.business_central.stats().requests)
    }
}

/// The one gate for the flows' writes beside the planned upserts (which the engine keeps from a
/// dry run itself): links, item categories, contacts, and the customers and items the sales flow
/// ensures. A dry run passes none of them, so the business rules never ask whether the run is dry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteGate {
    open: bool,
}

impl WriteGate {
    /// The gate of this run: open unless the run is dry.
    pub(crate) fn of(ctx: &sync_core::run::RunContext) -> Self {
        Self {
            open: !ctx.is_dry_run(),
        }
    }

    /// Whether writes pass (what a closed gate kept back is reported as pending).
    pub(crate) fn is_open(self) -> bool {
        self.open
    }

    /// Runs `write` when the gate is open; a dry run skips it and gets `None`.
    pub(crate) async fn write<T, E, Fut>(self, write: impl FnOnce() -> Fut) -> Result<Option<T>, E>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        if self.open {
            write().await.map(Some)
        } else {
            Ok(None)
        }
    }
}

/// A flow fed by a Lightspeed version feed (customers, products, sales): what the one driver,
/// [`run_version_feed`], asks of it.
#[async_trait::async_trait]
pub(crate) trait VersionFeed: Sync {
    /// The records of the feed.
    type Record: serde::de::DeserializeOwned
        + lightspeed_x::models::Versioned
        + Send
        + Sync
        + 'static;
    /// What a run carries from one chunk to the next.
    type State: Default + Send;

    /// The feed of records changed after `after`.
    fn feed(&self, after: i64) -> lightspeed_x::ListRequest<Self::Record>;
    /// A record's id (the retry list's source id).
    fn record_id(record: &Self::Record) -> &str;
    /// Whether a record read for a retry is still to be sent (otherwise its retry is dropped).
    fn retry_still_wanted(_record: &Self::Record) -> bool {
        true
    }
    /// Reads one record by id (for the retries the feed did not bring).
    async fn read(&self, id: String) -> lightspeed_x::Result<Self::Record>;
    /// Changed records planned and written together.
    fn chunk_size(&self) -> usize;
    /// Plans and writes one chunk of changed records.
    async fn write_changes(
        &self,
        ctx: &mut sync_core::run::RunContext,
        chunk: Vec<Self::Record>,
        state: &mut Self::State,
    ) -> Result<(), sync_core::run::FlowError>;
}

/// The one run body of the cursor flows: reads the records changed after the stored version
/// cursor, then the run's retries the feed did not bring, hands them to the flow in chunks,
/// and stages the version the feed reached (committed by the runner only if the run succeeds).
pub(crate) async fn run_version_feed<F: VersionFeed>(
    flow: &F,
    ctx: &mut sync_core::run::RunContext,
) -> Result<(), sync_core::run::FlowError> {
    let mut cursor: sync_core::cursor::VersionCursor = ctx.cursor().await?.unwrap_or_default();
    let list = flow.feed(cursor.after_number().unwrap_or(0));
    let mut changes = Changes::new(ctx, list, F::record_id, F::retry_still_wanted, |id| {
        flow.read(id)
    });
    let mut state = F::State::default();
    while let Some(chunk) = changes.next_chunk(ctx, flow.chunk_size()).await? {
        flow.write_changes(ctx, chunk, &mut state).await?;
    }
    cursor.advance(changes.reached().0.to_string());
    ctx.stage_cursor(&cursor)?;
    Ok(())
}

/// Records changed after a flow's stored version cursor, handed out in chunks so that a run holds
/// one chunk at a time however many records changed: first the feed's records in feed order, then
/// the records kept for retry that the feed did not bring (fetched one by one; one that is gone,
/// or that `keep` refuses, is dropped from the retries).
pub(crate) struct Changes<T, F> {
    stream: Option<lightspeed_x::paging::VersionStream<T>>,
    reached: lightspeed_x::Version,
    id: fn(&T) -> &str,
    keep: fn(&T) -> bool,
    get: F,
    /// Retries the feed has not brought (yet).
    unseen: std::collections::BTreeSet<String>,
}

impl<T, F, Fut> Changes<T, F>
where
    T: serde::de::DeserializeOwned + lightspeed_x::models::Versioned + Send + 'static,
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = lightspeed_x::Result<T>>,
{
    /// The changes `list` brings, then the run's retries.
    pub(crate) fn new(
        ctx: &sync_core::run::RunContext,
        list: lightspeed_x::ListRequest<T>,
        id: fn(&T) -> &str,
        keep: fn(&T) -> bool,
        get: F,
    ) -> Self {
        let stream = list.stream();
        Self {
            reached: stream.cursor(),
            stream: Some(stream),
            id,
            keep,
            get,
            unseen: ctx.retries().iter().map(|r| r.source_id.clone()).collect(),
        }
    }

    /// The next at most `max` records (at least one), or `None` when all were handed out.
    pub(crate) async fn next_chunk(
        &mut self,
        ctx: &mut sync_core::run::RunContext,
        max: usize,
    ) -> Result<Option<Vec<T>>, sync_core::run::FlowError> {
        use futures::TryStreamExt as _;
        let max = max.max(1);
        let mut out: Vec<T> = Vec::new();
        if let Some(stream) = &mut self.stream {
            while out.len() < max {
                match stream.try_next().await? {
                    Some(record) => {
                        self.unseen.remove((self.id)(&record));
                        out.push(record);
                    }
                    None => {
                        self.reached = stream.cursor();
                        self.stream = None;
                        break;
                    }
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
        while out.len() < max {
            let Some(retry) = self.unseen.pop_first() else {
                break;
            };
            match (self.get)(retry.clone()).await {
                Ok(record) if (self.keep)(&record) => out.push(record),
                Ok(_) | Err(lightspeed_x::Error::NotFound { .. }) => ctx.drop_retry(&retry).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// The version the feed reached (valid once every chunk was handed out).
    pub(crate) fn reached(&self) -> lightspeed_x::Version {
        self.reached
    }
}
