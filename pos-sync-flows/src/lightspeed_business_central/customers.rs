//! Customers from Lightspeed to Business Central.
//!
//! Incremental by Lightspeed's version cursor. A customer is matched by e-mail address (read in
//! bulk, compared without case), or, when it has no usable address, by the link stored when it
//! was first written; a customer with neither is reported as skipped, never created blindly (a
//! second run could not find it again). Classification ([`Classifier`]) makes a company customer
//! plus a person contact, or a person customer. The billing address is the postal address when
//! the customer has one, else the physical address. New customers get the configured default
//! payment terms and payment method (create-only: changes made in Business Central are kept).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use async_trait::async_trait;
use business_central::models::{Contact, Customer as BcCustomer};
use business_central::query::{Field, Query};
use business_central::{CustomerId, ETag, WritableEntity};
use chrono::{DateTime, Utc};
use lightspeed_x::Customer as LsCustomer;
use serde_json::{Map, Value};

use super::bc;
use super::{Accounts, CUSTOMER_LINKS};
use sync_core::classify::{Classifier, Customer as Classified, CustomerKind, CustomerParts};
use sync_core::fields::Fields;
use sync_core::key::{Email, Key, KeyError, Keyed};
use sync_core::mapping::{FieldMapping, FieldSource};
use sync_core::run::{Flow, FlowError, RunContext};
use sync_core::state::StateStore;
use sync_core::upsert::{
    Existing, OnDuplicate, Outcome, Planner, RecordOutcome, SourceRecord, Target, TargetError,
    TargetIndex, Write, WriteResult,
};

/// How a Lightspeed customer is matched with a Business Central customer.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CustomerKey {
    /// By e-mail address (compared without case).
    Email(Email),
    /// By the Business Central customer id stored when the customer was first written.
    Linked(String),
}

impl fmt::Display for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerKey::Email(e) => fmt::Display::fmt(e, f),
            CustomerKey::Linked(id) => write!(f, "linked:{id}"),
        }
    }
}

impl fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerKey::Email(_) => f.write_str("CustomerKey::Email([redacted])"),
            CustomerKey::Linked(id) => write!(f, "CustomerKey::Linked({id:?})"),
        }
    }
}

impl Key for CustomerKey {
    fn is_personal(&self) -> bool {
        matches!(self, CustomerKey::Email(_))
    }
    fn canonical(&self) -> String {
        match self {
            CustomerKey::Email(e) => e.folded().to_owned(),
            CustomerKey::Linked(id) => format!("linked:{}", id.to_lowercase()),
        }
    }
}

/// Settings of the customers flow.
#[derive(Debug, Clone)]
pub struct CustomerOptions {
    /// Business Central property <- source field (see [`default_mapping`]).
    pub mapping: FieldMapping,
    /// Company or person.
    pub classifier: Classifier,
    /// Payment terms code given to new customers.
    pub payment_terms_code: Option<String>,
    /// Payment method code given to new customers.
    pub payment_method_code: Option<String>,
    /// Whether the person behind a company customer becomes a contact (matched by e-mail).
    pub contacts: bool,
    /// Lightspeed page size.
    pub page_size: u32,
    /// Changed customers planned and written together: a run holds at most this many at a time,
    /// however many changed (larger chunks make fewer key lookups).
    pub chunk_size: usize,
}

impl Default for CustomerOptions {
    fn default() -> Self {
        Self {
            mapping: default_mapping(),
            classifier: Classifier::default(),
            payment_terms_code: None,
            payment_method_code: None,
            contacts: true,
            page_size: 1000,
            chunk_size: super::DEFAULT_CHUNK,
        }
    }
}

/// The default mapping: Business Central customer property <- source field.
///
/// Source fields: `display_name` and `type` (from classification), `email`, `phone`,
/// `first_name`, `last_name`, `company_name`, `tax_id`, `website`, the billing address
/// `billing_address_1`, `billing_address_2`, `billing_city`, `billing_postcode`,
/// `billing_state`, `billing_country` (postal when present, else physical), and the raw
/// `physical_*` and `postal_*` fields with the same suffixes.
pub fn default_mapping() -> FieldMapping {
    FieldMapping::new([
        ("displayName", "display_name"),
        ("type", "type"),
        ("email", "email"),
        ("phoneNumber", "phone"),
        ("addressLine1", "billing_address_1"),
        ("addressLine2", "billing_address_2"),
        ("city", "billing_city"),
        ("postalCode", "billing_postcode"),
        ("state", "billing_state"),
        ("country", "billing_country"),
    ])
}

/// A Lightspeed customer ready to plan.
#[derive(Debug, Clone)]
pub(crate) struct CustomerRecord {
    pub(crate) customer: LsCustomer,
    pub(crate) key: Result<CustomerKey, KeyError>,
    pub(crate) classified: Classified,
    pub(crate) email: Option<Email>,
    fields: Fields,
}

impl Keyed for CustomerRecord {
    type Key = CustomerKey;
    fn key(&self) -> Result<CustomerKey, KeyError> {
        self.key.clone()
    }
}

impl SourceRecord for CustomerRecord {
    fn source_id(&self) -> String {
        self.customer.id.0.clone()
    }
    fn modified(&self) -> Option<DateTime<Utc>> {
        self.customer.updated_at
    }
    fn fields(&self) -> Fields {
        self.fields.clone()
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().map(str::trim).unwrap_or("")
}

fn source_fields(c: &LsCustomer, classified: &Classified) -> Fields {
    let mut f = Fields::new()
        .with("display_name", classified.display_name())
        .with(
            "type",
            match classified.kind() {
                CustomerKind::Company => "Company",
                CustomerKind::Person => "Person",
            },
        )
        .with("email", opt(&c.email))
        .with(
            "phone",
            if opt(&c.phone).is_empty() {
                opt(&c.mobile)
            } else {
                opt(&c.phone)
            },
        )
        .with("first_name", opt(&c.first_name))
        .with("last_name", opt(&c.last_name))
        .with("company_name", opt(&c.company_name))
        .with("tax_id", opt(&c.tax_id))
        .with("website", opt(&c.website));
    let physical = [
        opt(&c.physical_address_1),
        opt(&c.physical_address_2),
        opt(&c.physical_city),
        opt(&c.physical_postcode),
        opt(&c.physical_state),
        opt(&c.physical_country_id),
    ];
    let postal = [
        opt(&c.postal_address_1),
        opt(&c.postal_address_2),
        opt(&c.postal_city),
        opt(&c.postal_postcode),
        opt(&c.postal_state),
        opt(&c.postal_country_id),
    ];
    let billing = if postal.iter().any(|p| !p.is_empty()) {
        postal
    } else {
        physical
    };
    let suffixes = [
        "address_1",
        "address_2",
        "city",
        "postcode",
        "state",
        "country",
    ];
    for (i, suffix) in suffixes.iter().enumerate() {
        f.insert(format!("physical_{suffix}"), physical[i]);
        f.insert(format!("postal_{suffix}"), postal[i]);
        f.insert(format!("billing_{suffix}"), billing[i]);
    }
    f
}

/// What a batch of Lightspeed customers needs before planning.
pub(crate) struct Prepared {
    pub(crate) records: Vec<CustomerRecord>,
    /// Customers that cannot be matched safely (no e-mail, no link): reported as skipped.
    pub(crate) unmatched: Vec<RecordOutcome>,
    pub(crate) planner: Planner,
    pub(crate) target: CustomerTarget,
}

/// Classifies, keys and maps customers; resolves the defaults for new customers.
pub(crate) async fn prepare(
    accounts: &Accounts,
    options: &CustomerOptions,
    store: &dyn StateStore,
    tenant: &str,
    customers: Vec<LsCustomer>,
) -> Result<Prepared, FlowError> {
    let ids: Vec<String> = customers.iter().map(|c| c.id.0.clone()).collect();
    let links = store.load_links(tenant, CUSTOMER_LINKS, &ids).await?;
    let mut records = Vec::new();
    let mut unmatched = Vec::new();
    for c in customers {
        let parts = CustomerParts::new(
            c.company_name.as_deref(),
            opt(&c.first_name),
            opt(&c.last_name),
        );
        let classified = options.classifier.classify(&parts);
        let fields = source_fields(&c, &classified);
        let email = c.email.as_deref().map(Email::parse);
        let key = match (&email, links.get(&c.id.0)) {
            (Some(Ok(e)), _) => Ok(CustomerKey::Email(e.clone())),
            (_, Some(link)) => Ok(CustomerKey::Linked(link.clone())),
            (Some(Err(e)), None) => Err(e.clone()),
            (None, None) => Err(KeyError::Missing),
        };
        match key {
            Ok(key) => records.push(CustomerRecord {
                email: email.and_then(Result::ok),
                customer: c,
                key: Ok(key),
                classified,
                fields,
            }),
            Err(e) => unmatched.push(
                RecordOutcome::new(c.id.0.clone(), Outcome::Skipped)
                    .with_reason(format!(
                        "no usable e-mail address ({e}) and no stored link: not created, so it is never duplicated"
                    ))
                    .with_source(fields.to_json()),
            ),
        }
    }
    let mut mapping = options.mapping.clone();
    let mut create_only = Vec::new();
    if !records.is_empty() {
        let scope = accounts.bc();
        if let Some(code) = &options.payment_terms_code {
            let terms = scope
                .payment_terms()
                .list_all(Query::new().filter(Field::new("code").eq(code.as_str())))
                .await?;
            let id = terms.first().and_then(|t| t.id).ok_or_else(|| {
                format!("payment terms `{code}` do not exist in Business Central")
            })?;
            mapping = mapping.with_default("paymentTermsId", FieldSource::constant(id.to_string()));
            create_only.push("paymentTermsId");
        }
        if let Some(code) = &options.payment_method_code {
            let methods = scope
                .payment_methods()
                .list_all(Query::new().filter(Field::new("code").eq(code.as_str())))
                .await?;
            let id = methods.first().and_then(|t| t.id).ok_or_else(|| {
                format!("payment method `{code}` does not exist in Business Central")
            })?;
            mapping =
                mapping.with_default("paymentMethodId", FieldSource::constant(id.to_string()));
            create_only.push("paymentMethodId");
        }
    }
    let compared: Vec<String> = mapping
        .effective()
        .keys()
        .map(|k| (*k).to_owned())
        .collect();
    // Two Lightspeed customers with one address: the newest edit wins, the other is skipped.
    let planner = Planner::new()
        .mapping(mapping)
        .create_only(create_only)
        .on_duplicate(OnDuplicate::NewestWins);
    Ok(Prepared {
        records,
        unmatched,
        planner,
        target: CustomerTarget {
            accounts: accounts.clone(),
            compared,
            etags: Mutex::new(HashMap::new()),
        },
    })
}

/// Business Central customers as an upsert target: bulk lookup by e-mail and id, `$batch` writes.
pub(crate) struct CustomerTarget {
    accounts: Accounts,
    compared: Vec<String>,
    etags: Mutex<HashMap<String, ETag>>,
}

#[async_trait]
impl Target<CustomerRecord> for CustomerTarget {
    async fn lookup(&self, keys: &[CustomerKey]) -> Result<TargetIndex<CustomerKey>, TargetError> {
        let set = self.accounts.bc().customers();
        let mut emails: BTreeSet<String> = BTreeSet::new();
        let mut ids = Vec::new();
        for k in keys {
            match k {
                CustomerKey::Email(e) => {
                    // Both forms: matched whether or not Business Central compares without case.
                    emails.insert(e.as_str().to_owned());
                    emails.insert(e.folded().to_owned());
                }
                CustomerKey::Linked(id) => {
                    if let Ok(id) = CustomerId::from_str(id) {
                        ids.push(id);
                    }
                }
            }
        }
        let mut found: Vec<BcCustomer> = Vec::new();
        if !emails.is_empty() {
            found.extend(
                bc::lookup(&set, "email", emails, Query::new())
                    .await
                    .map_err(TargetError::from_error)?,
            );
        }
        if !ids.is_empty() {
            found.extend(
                bc::lookup(&set, "id", ids, Query::new())
                    .await
                    .map_err(TargetError::from_error)?,
            );
        }
        // The lowest customer number wins when several share an address.
        found.sort_by(|a, b| a.number.cmp(&b.number));
        let mut by_email: BTreeMap<String, &BcCustomer> = BTreeMap::new();
        let mut by_id: BTreeMap<String, &BcCustomer> = BTreeMap::new();
        for c in &found {
            by_email.entry(c.email.trim().to_lowercase()).or_insert(c);
            if let Some(id) = c.id {
                by_id.insert(id.to_string(), c);
            }
        }
        let mut index = TargetIndex::new();
        let mut etags = self.etags.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            let hit = match k {
                CustomerKey::Email(e) => by_email.get(e.folded()),
                CustomerKey::Linked(id) => by_id.get(&id.to_lowercase()),
            };
            if let Some(c) = hit
                && let Some(id) = c.id
            {
                if let Some(e) = &c.etag {
                    etags.insert(id.to_string(), e.clone());
                }
                let fields = bc::entity_fields(*c, self.compared.iter().map(String::as_str));
                index.insert(k.clone(), Existing::new(id.to_string(), fields));
            }
        }
        Ok(index)
    }

    async fn apply(
        &self,
        batch: &[Write<CustomerRecord>],
    ) -> Result<Vec<WriteResult>, TargetError> {
        let path = self.accounts.bc().customers().path();
        bc::apply_writes::<BcCustomer, _>(
            &self.accounts.business_central,
            &path,
            &self.etags,
            batch,
            |_, _| {},
        )
        .await
    }
}

/// Makes sure the person behind each company customer is a contact (matched by e-mail, created
/// when missing). Returns the contacts created.
pub(crate) async fn ensure_contacts(
    accounts: &Accounts,
    records: &[CustomerRecord],
    outcomes: &[RecordOutcome],
) -> Result<usize, FlowError> {
    let written: BTreeSet<&str> = outcomes
        .iter()
        .filter(|o| o.outcome != Outcome::Failed && o.target_id.is_some())
        .map(|o| o.source_id.as_str())
        .collect();
    let mut wanted: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for r in records {
        let (
            Classified::Company {
                company_name,
                contact,
            },
            Some(email),
        ) = (&r.classified, &r.email)
        else {
            continue;
        };
        if contact.is_empty() || !written.contains(r.customer.id.0.as_str()) {
            continue;
        }
        let mut body = Map::new();
        body.insert("type".into(), Value::String("Person".into()));
        body.insert("displayName".into(), Value::String(contact.full_name()));
        body.insert("companyName".into(), Value::String(company_name.clone()));
        body.insert("email".into(), Value::String(email.as_str().to_owned()));
        let phone = opt(&r.customer.phone);
        if !phone.is_empty() {
            body.insert("phoneNumber".into(), Value::String(phone.to_owned()));
        }
        wanted.insert(email.folded().to_owned(), body);
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let set = accounts.bc().contacts();
    let mut values: BTreeSet<String> = BTreeSet::new();
    for (folded, body) in &wanted {
        values.insert(folded.clone());
        values.insert(bc::text(&Value::Object(body.clone()), "email").to_owned());
    }
    let existing: Vec<Contact> =
        bc::lookup(&set, "email", values, Query::new().select(["id", "email"])).await?;
    let have: BTreeSet<String> = existing
        .iter()
        .map(|c| c.email.trim().to_lowercase())
        .collect();
    let creates: Vec<(String, Map<String, Value>)> = wanted
        .into_iter()
        .filter(|(folded, _)| !have.contains(folded))
        .filter(|(_, body)| Contact::check_body(&Value::Object(body.clone())).is_ok())
        .collect();
    // A request that fails without an answer is re-checked, never sent twice blindly.
    let sent = bc::create_missing(&accounts.business_central, &set, "email", creates).await?;
    let failed: Vec<&String> = sent.iter().filter_map(|r| r.as_ref().err()).collect();
    if let Some(e) = failed.first() {
        tracing::warn!(failed = failed.len(), error = %e, "contacts could not be created");
    }
    Ok(sent.iter().filter(|r| r.is_ok()).count())
}

/// Stores the customer links of the outcomes (outside a run context: for the sales flow).
pub(crate) async fn save_links(
    store: &dyn StateStore,
    tenant: &str,
    outcomes: &[RecordOutcome],
) -> Result<(), FlowError> {
    for o in outcomes {
        if let (Some(t), false) = (&o.target_id, o.outcome == Outcome::Failed) {
            store
                .save_link(tenant, CUSTOMER_LINKS, &o.source_id, t)
                .await?;
        }
    }
    Ok(())
}

/// Whether a Lightspeed customer is the store's walk-in customer (never sent).
pub(crate) fn is_walk_in(c: &LsCustomer) -> bool {
    c.customer_code
        .as_deref()
        .is_some_and(|code| code.eq_ignore_ascii_case("WALKIN"))
}

/// The customers flow: Lightspeed customers to Business Central customers.
#[derive(Debug)]
pub struct CustomersFlow {
    accounts: Accounts,
    options: CustomerOptions,
}

impl CustomersFlow {
    /// The flow's name (its state scope).
    pub const NAME: &'static str = "lightspeed-customers-to-business-central";

    /// A flow between these accounts.
    pub fn new(accounts: Accounts, options: CustomerOptions) -> Self {
        Self { accounts, options }
    }
}

#[async_trait]
impl Flow for CustomersFlow {
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
impl super::VersionFeed for CustomersFlow {
    type Record = LsCustomer;
    type State = ();

    fn feed(&self, after: i64) -> lightspeed_x::ListRequest<LsCustomer> {
        self.accounts
            .lightspeed
            .customers()
            .list()
            .after(after)
            .page_size(self.options.page_size)
    }

    fn record_id(c: &LsCustomer) -> &str {
        c.id.0.as_str()
    }

    async fn read(&self, id: String) -> lightspeed_x::Result<LsCustomer> {
        self.accounts
            .lightspeed
            .customers()
            .get(&lightspeed_x::CustomerId::new(id))
            .await
    }

    fn chunk_size(&self) -> usize {
        self.options.chunk_size
    }

    async fn write_changes(
        &self,
        ctx: &mut RunContext,
        chunk: Vec<LsCustomer>,
        _: &mut (),
    ) -> Result<(), FlowError> {
        let live: Vec<LsCustomer> = chunk
            .into_iter()
            .filter(|c| c.deleted_at.is_none() && !is_walk_in(c))
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        self.write_chunk(ctx, live).await
    }
}

impl CustomersFlow {
    /// Plans and writes one chunk of changed customers (and their contacts).
    async fn write_chunk(
        &self,
        ctx: &mut RunContext,
        customers: Vec<LsCustomer>,
    ) -> Result<(), FlowError> {
        let tenant = ctx.tenant().to_owned();
        let prepared = prepare(
            &self.accounts,
            &self.options,
            &**ctx.store(),
            &tenant,
            customers,
        )
        .await?;
        ctx.record(&prepared.unmatched).await?;
        let records = prepared.records.clone();
        let outcomes = ctx
            .upsert(&prepared.planner, prepared.records, &prepared.target)
            .await?;
        let ctx = &*ctx;
        super::WriteGate::of(ctx)
            .write(|| async {
                ctx.save_links(CUSTOMER_LINKS, &outcomes).await?;
                if self.options.contacts {
                    ensure_contacts(&self.accounts, &records, &outcomes).await?;
                }
                Ok::<(), FlowError>(())
            })
            .await?;
        Ok(())
    }
}
