//! A custom flow in a few lines: Lightspeed customers to a CSV file, incremental by the Lightspeed
//! version cursor, keyed by e-mail, through `sync-core`'s `Flow`, `Planner` and `Runner`.
//!
//! `cargo run --example custom_flow` reads a Lightspeed sandbox (or the store in
//! `LIGHTSPEED_DOMAIN_PREFIX`/`LIGHTSPEED_TOKEN`), writes `customers.csv` in a temporary directory
//! (or the path given as the first argument), changes a customer in the sandbox and runs again:
//! only that customer is read and rewritten. Customers without a valid e-mail are reported.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::TryStreamExt;
use lightspeed_x::sandbox::{DemoData, Sandbox};
use pos_sync::{LightspeedConfig, ProcessEnv};
use sync_core::cursor::VersionCursor;
use sync_core::fields::Fields;
use sync_core::key::{Email, KeyError, Keyed};
use sync_core::run::{Flow, FlowError, RunContext, Runner};
use sync_core::state::MemoryStore;
use sync_core::upsert::{
    Existing, Planner, SourceRecord, Target, TargetError, TargetIndex, Write, WriteOp, WriteResult,
};

/// The source record: a Lightspeed customer.
struct Customer(lightspeed_x::Customer);

impl Keyed for Customer {
    type Key = Email;
    fn key(&self) -> Result<Email, KeyError> {
        Email::parse(self.0.email.as_deref().unwrap_or_default())
    }
}

impl SourceRecord for Customer {
    fn source_id(&self) -> String {
        self.0.id.to_string()
    }
    fn fields(&self) -> Fields {
        let c = &self.0;
        Fields::new()
            .with("name", c.name.clone())
            .with("company", c.company_name.clone())
            .with("phone", c.phone.clone())
            .with("code", c.customer_code.clone())
    }
}

/// The target: a CSV file with one row per e-mail address, rewritten after each batch.
struct CsvTarget {
    path: PathBuf,
    rows: Mutex<BTreeMap<Email, Existing>>,
}

const COLUMNS: [&str; 4] = ["name", "company", "phone", "code"];

impl CsvTarget {
    fn save(&self, rows: &BTreeMap<Email, Existing>) -> std::io::Result<()> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut out = String::from("email,name,company,phone,code\n");
        for (email, e) in rows {
            let mut cells = vec![quote(email.as_str())];
            for c in COLUMNS {
                cells.push(quote(
                    e.fields.get(c).and_then(|v| v.as_text()).unwrap_or(""),
                ));
            }
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        std::fs::write(&self.path, out)
    }
}

#[async_trait]
impl Target<Customer> for CsvTarget {
    async fn lookup(&self, keys: &[Email]) -> Result<TargetIndex<Email>, TargetError> {
        let rows = self.rows.lock().map_err(|_| TargetError::new("poisoned"))?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.get(k).map(|e| (k.clone(), e.clone())))
            .collect())
    }

    async fn apply(&self, batch: &[Write<Customer>]) -> Result<Vec<WriteResult>, TargetError> {
        let mut rows = self.rows.lock().map_err(|_| TargetError::new("poisoned"))?;
        let results = batch
            .iter()
            .map(|w| {
                let id = format!("row-{}", w.key.as_str());
                match &w.op {
                    WriteOp::Create { fields } => {
                        rows.insert(w.key.clone(), Existing::new(id.clone(), fields.clone()));
                    }
                    WriteOp::Update { changes, .. } => {
                        if let Some(e) = rows.get_mut(&w.key) {
                            e.fields.merge(changes);
                        }
                    }
                }
                WriteResult::ok(id)
            })
            .collect();
        self.save(&rows).map_err(TargetError::from_error)?;
        Ok(results)
    }
}

/// The flow: customers changed since the cursor, upserted into the CSV.
struct CustomersToCsv {
    client: lightspeed_x::Client,
    target: CsvTarget,
    planner: Planner,
}

#[async_trait]
impl Flow for CustomersToCsv {
    fn name(&self) -> &str {
        "customers-to-csv"
    }

    fn requests_made(&self) -> Option<u64> {
        Some(self.client.stats().requests)
    }

    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        let mut cursor: VersionCursor = ctx.cursor().await?.unwrap_or_default();
        let after: i64 = cursor.after().and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut stream = self.client.customers().list().after(after).stream();
        let mut read = Vec::new();
        while let Some(c) = stream.try_next().await? {
            read.push(Customer(c));
        }
        // One bulk lookup in the target, a plan, then batched writes; failures are kept for retry.
        ctx.upsert(&self.planner, read, &self.target).await?;
        cursor.advance(stream.cursor().to_string());
        ctx.stage_cursor(&cursor)?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, sandbox) = match LightspeedConfig::from_env(&ProcessEnv)? {
        Some(c) => (c.client().await?, None),
        None => {
            let sb = Sandbox::start_seeded(DemoData::default()).await?;
            (sb.client().await?, Some(sb))
        }
    };
    let dir = tempfile::tempdir()?;
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("customers.csv"));
    let flow = CustomersToCsv {
        client,
        target: CsvTarget {
            path: path.clone(),
            rows: Mutex::new(BTreeMap::new()),
        },
        // The customer code is written once and never overwritten.
        planner: Planner::new().create_only(["code"]),
    };
    let runner = Runner::new(Arc::new(MemoryStore::new()));

    let first = runner.run_once(&flow, "demo").await?;
    println!("{first}");
    for n in first.skipped.iter().chain(&first.failed) {
        println!("  not written: customer {} ({})", n.source_id, n.reason);
    }

    if let Some(sb) = &sandbox {
        let c = sb
            .state()
            .customers()
            .live()
            .into_iter()
            .find(|c| c.email.is_some());
        if let Some(c) = c {
            sb.update_customer(&c.id, |c| c.phone = Some("+64 21 000 1234".into()));
        }
        let second = runner.run_once(&flow, "demo").await?;
        println!("after changing one customer's phone: {second}");
    }
    let text = std::fs::read_to_string(&path)?;
    println!(
        "{} ({} rows); the first lines:",
        path.display(),
        text.lines().count() - 1
    );
    for line in text.lines().take(4) {
        println!("  {line}");
    }
    Ok(())
}
