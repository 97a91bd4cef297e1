//! The generic engine of POS integrations: keys, upsert plans, classification, stock, cursors,
//! state, an activity log and runs. It knows no API; each piece works alone. The ready-made
//! flows between the APIs are in the `pos-sync-flows` crate.
//!
//! Features: `sqlite` (default) the embedded SQLite state store; `postgres` the PostgreSQL store
//! and work leases; `test-util` the [state-store contract tests](state::contract) for other stores.
//!
//! | module | what |
//! |---|---|
//! | [`key`] | [`Email`](key::Email), [`Sku`](key::Sku), [`OrderRef`](key::OrderRef), [`Caseless`](key::Caseless) (compared without case, as Business Central does), the [`Keyed`](key::Keyed) trait, duplicates |
//! | [`fields`] | field values compared as targets compare them (trimmed text, decimals by value) |
//! | [`mapping`] | default field mappings, overridable field by field |
//! | [`upsert`] | pure, deterministic plans (create / update / unchanged / skip / error) and their application through a [`Target`](upsert::Target) |
//! | [`classify`] | company versus person customers |
//! | [`stock`] | available quantity under a policy, floored at zero |
//! | [`cursor`] | last-modified watermark with overlap, opaque version cursor |
//! | [`state`] | the [`StateStore`](state::StateStore) trait, in-memory, SQLite (feature `sqlite`) and PostgreSQL (feature `postgres`) stores, [work leases](state::lease) |
//! | [`log`] | the activity log with redaction of personal data |
//! | [`report`], [`scope`] | what a run did ([`RunReport`](report::RunReport)), and the (flow, tenant) it ran for |
//! | [`run`] | flows run once, dry, or on a schedule, with reports, locks, retries, notifications |
//! | [`trigger`] | near-real-time runs for the records named by change events (webhooks), deduplicated, debounced, bounded |
//!
//! Near-real-time: a flow that also implements [`TargetedFlow`](trigger::TargetedFlow) (the
//! ready-made sales and stock flows do) runs for just the records named by webhooks or
//! notifications through a [`Trigger`](trigger::Trigger): deduplicated, debounced, under the same
//! run lock as the scheduled polling runs, with a bounded queue that falls back to a full run, and
//! failures left to the next polling run. The polling runs stay the safety net for missed events.
//!
//! A flow is a few lines of composition: read the source since the cursor, upsert through the
//! context, stage the cursor. Rules a flow follows:
//!
//! - Read with `>=` from [`Watermark::since`](cursor::Watermark::since) and pass the page through
//!   [`Watermark::fresh`](cursor::Watermark::fresh); re-read the ids in
//!   [`RunContext::retries`](run::RunContext::retries) as well, without the cursor filter.
//! - Implement [`Target`](upsert::Target) with one bulk lookup and batched writes; report
//!   per-record results, and keep whole-call failures for errors that stop the run.
//! - Stage the cursor after the upsert; the runner stores it only when the run succeeds.
//! - Report the clients' request counters through [`Flow::requests_made`](run::Flow::requests_made).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use chrono::{DateTime, TimeZone, Utc};
//! use sync_core::cursor::Watermark;
//! use sync_core::fields::Fields;
//! use sync_core::key::{Email, KeyError, Keyed};
//! use sync_core::run::{Flow, FlowError, RunContext, Runner};
//! use sync_core::state::MemoryStore;
//! use sync_core::upsert::{MemoryTarget, Planner, SourceRecord};
//!
//! #[derive(Clone)]
//! struct Customer { id: String, email: String, name: String, modified: DateTime<Utc> }
//! impl Keyed for Customer {
//!     type Key = Email;
//!     fn key(&self) -> Result<Email, KeyError> { Email::parse(&self.email) }
//! }
//! impl SourceRecord for Customer {
//!     fn source_id(&self) -> String { self.id.clone() }
//!     fn modified(&self) -> Option<DateTime<Utc>> { Some(self.modified) }
//!     fn fields(&self) -> Fields { Fields::new().with("displayName", self.name.as_str()) }
//! }
//!
//! struct Customers { source: Vec<Customer>, target: MemoryTarget<Email>, planner: Planner }
//!
//! #[async_trait::async_trait]
//! impl Flow for Customers {
//!     fn name(&self) -> &str { "customers" }
//!     async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
//!         let mut cursor = ctx.cursor().await?.unwrap_or_else(|| Watermark::new(Duration::from_secs(300)));
//!         // A real flow asks its API for records modified since `cursor.since()`, plus `ctx.retries()`.
//!         let read: Vec<Customer> = self.source.iter()
//!             .filter(|c| cursor.since().is_none_or(|s| c.modified >= s)).cloned().collect();
//!         let fresh = cursor.fresh(read, |c| (c.id.clone(), c.modified));
//!         let versions: Vec<_> = fresh.iter().map(|c| (c.id.clone(), c.modified)).collect();
//!         ctx.upsert(&self.planner, fresh, &self.target).await?;
//!         cursor.advance(versions);
//!         ctx.stage_cursor(&cursor)?;
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let t = Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap();
//! let flow = Customers {
//!     source: vec![
//!         Customer { id: "1".into(), email: "ann@example.com".into(), name: "Ann".into(), modified: t },
//!         Customer { id: "2".into(), email: "not-an-address".into(), name: "Bob".into(), modified: t },
//!     ],
//!     target: MemoryTarget::new(),
//!     planner: Planner::new(),
//! };
//! let runner = Runner::new(Arc::new(MemoryStore::new()));
//!
//! let preview = runner.dry_run(&flow, "shop-1").await.unwrap();
//! assert_eq!((preview.created, preview.planned.len()), (1, 2));
//! assert!(flow.target.is_empty());
//!
//! let report = runner.run_once(&flow, "shop-1").await.unwrap();
//! assert_eq!(report.created, 1);
//! assert_eq!(report.failed[0].reason, "key is invalid: has no @");
//!
//! // The second run re-reads the overlap window and writes nothing.
//! let again = runner.run_once(&flow, "shop-1").await.unwrap();
//! assert_eq!((again.created, again.updated), (0, 0));
//! # });
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod classify;
pub mod cursor;
pub mod fields;
pub mod key;
pub mod log;
pub mod mapping;
pub mod report;
pub mod run;
pub mod scope;
pub mod state;
pub mod stock;
pub mod trigger;
pub mod upsert;
