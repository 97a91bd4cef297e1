//! Persistent sync state: cursors, id links, run history, the activity log, tokens, records kept
//! for retry, and run locks.
//!
//! [`StateStore`] is object safe, so flows hold an `Arc<dyn StateStore>`. The stores:
//! [`MemoryStore`] (tests, short-lived programs), [`SqliteStore`] (an embedded SQLite file, the
//! default for programs on one machine) and, with the `postgres` feature, `PostgresStore`
//! (many workers on many machines sharing one database).
//!
//! [`WorkQueue`] (see [`lease`]) shares (flow, tenant) units of work between workers with
//! expiring leases; [`MemoryStore`] and `PostgresStore` implement it.
//!
//! ```
//! use sync_core::state::{MemoryStore, Scope, StateStore};
//! # tokio_test_block_on(async {
//! let store = MemoryStore::new();
//! let scope = Scope::new("customers", "shop-1");
//! store.save_cursor(&scope, "{\"after\":\"42\"}").await.unwrap();
//! assert_eq!(store.load_cursor(&scope).await.unwrap().as_deref(), Some("{\"after\":\"42\"}"));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

pub mod lease;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::log::{ActivityEntry, ActivityQuery};
use crate::run::RunReport;

/// The connection pool crate [`PostgresStore::from_pool`] takes a pool of (for TLS connectors).
#[cfg(feature = "postgres")]
pub use deadpool_postgres;
pub use lease::{Lease, WorkQueue, WorkUnit};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::SqliteStore;

/// A flow run for one tenant: what cursors, retries, run history and locks belong to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The flow's name (for example `customers`).
    pub flow: String,
    /// The tenant (for example a store's domain prefix or a company id).
    pub tenant: String,
}

impl Scope {
    /// A scope.
    pub fn new(flow: impl Into<String>, tenant: impl Into<String>) -> Self {
        Self {
            flow: flow.into(),
            tenant: tenant.into(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.flow, self.tenant)
    }
}

/// A record that failed and is kept for retry in the next run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryItem {
    /// The record's source id.
    pub source_id: String,
    /// The last failure's reason (already redacted).
    pub reason: String,
    /// How many runs it failed in.
    pub attempts: u32,
    /// When it first failed.
    pub first_failed: DateTime<Utc>,
    /// When it last failed.
    pub last_failed: DateTime<Utc>,
}

/// A state store error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The storage failed (database error, I/O, connection).
    #[error("state storage failed: {0}")]
    Storage(String),
    /// Stored data could not be encoded or decoded.
    #[error("state data is not valid: {0}")]
    Data(String),
    /// The database was written by a newer version of this crate.
    #[error("state schema version {found} is newer than this program supports ({supported})")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
}

impl From<rusqlite::Error> for StateError {
    fn from(e: rusqlite::Error) -> Self {
        StateError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for StateError {
    fn from(e: serde_json::Error) -> Self {
        StateError::Data(e.to_string())
    }
}

/// Where a sync keeps its state.
#[async_trait]
pub trait StateStore: Send + Sync + fmt::Debug {
    /// The stored cursor of a flow and tenant (opaque text, usually JSON).
    async fn load_cursor(&self, scope: &Scope) -> Result<Option<String>, StateError>;
    /// Stores a cursor.
    async fn save_cursor(&self, scope: &Scope, cursor: &str) -> Result<(), StateError>;
    /// Forgets a cursor (the next run reads from the beginning).
    async fn clear_cursor(&self, scope: &Scope) -> Result<(), StateError>;

    /// Links a source id to a target id within a tenant and namespace (for example `customer`).
    async fn save_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
        target_id: &str,
    ) -> Result<(), StateError>;
    /// The target id linked to a source id.
    async fn load_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
    ) -> Result<Option<String>, StateError>;

    /// The target ids linked to several source ids at once (ids without a link are absent).
    async fn load_links(
        &self,
        tenant: &str,
        namespace: &str,
        source_ids: &[String],
    ) -> Result<BTreeMap<String, String>, StateError> {
        let mut out = BTreeMap::new();
        for id in source_ids {
            if let Some(t) = self.load_link(tenant, namespace, id).await? {
                out.insert(id.clone(), t);
            }
        }
        Ok(out)
    }

    /// Adds a finished run to the history.
    async fn record_run(&self, report: &RunReport) -> Result<(), StateError>;
    /// The newest runs of a flow and tenant, newest first.
    async fn runs(&self, scope: &Scope, limit: usize) -> Result<Vec<RunReport>, StateError>;

    /// Appends activity log entries.
    async fn append_activity(&self, entries: &[ActivityEntry]) -> Result<(), StateError>;
    /// Entries matching a query, newest first.
    async fn query_activity(&self, query: &ActivityQuery)
    -> Result<Vec<ActivityEntry>, StateError>;
    /// Deletes entries logged before `before`; returns how many.
    async fn prune_activity(&self, before: DateTime<Utc>) -> Result<u64, StateError>;

    /// Stores a token (for example a rotated OAuth refresh token).
    async fn save_token(
        &self,
        tenant: &str,
        name: &str,
        token: &SecretString,
    ) -> Result<(), StateError>;
    /// A stored token.
    async fn load_token(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<SecretString>, StateError>;
    /// Deletes a stored token.
    async fn delete_token(&self, tenant: &str, name: &str) -> Result<(), StateError>;

    /// Records that a record failed: adds it for retry or counts one more attempt.
    async fn record_failure(
        &self,
        scope: &Scope,
        source_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StateError>;
    /// Records kept for retry, oldest failure first.
    async fn retries(&self, scope: &Scope) -> Result<Vec<RetryItem>, StateError>;
    /// Removes a record from the retry list (it succeeded or was skipped).
    async fn clear_retry(&self, scope: &Scope, source_id: &str) -> Result<(), StateError>;

    /// Takes the run lock of a scope until `until`, unless another holder has an unexpired lock.
    /// Returns whether the lock was taken.
    async fn try_lock(
        &self,
        scope: &Scope,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StateError>;
    /// Releases the lock if `holder` holds it.
    async fn unlock(&self, scope: &Scope, holder: &str) -> Result<(), StateError>;
    /// Stores the cursor of a scope only while `holder` still holds its run lock (expired or not,
    /// as long as nobody took it over), in one step; returns whether it was stored. This is how a
    /// run that lost its lock to another runner is kept from moving the cursor.
    async fn save_cursor_locked(
        &self,
        scope: &Scope,
        holder: &str,
        cursor: &str,
    ) -> Result<bool, StateError>;
}

/// Loads and decodes a typed cursor (stored as JSON).
pub async fn load_cursor_as<C: DeserializeOwned>(
    store: &(impl StateStore + ?Sized),
    scope: &Scope,
) -> Result<Option<C>, StateError> {
    match store.load_cursor(scope).await? {
        None => Ok(None),
        Some(s) => Ok(Some(serde_json::from_str(&s)?)),
    }
}

/// Encodes and stores a typed cursor as JSON.
pub async fn save_cursor_as<C: Serialize + Sync>(
    store: &(impl StateStore + ?Sized),
    scope: &Scope,
    cursor: &C,
) -> Result<(), StateError> {
    store
        .save_cursor(scope, &serde_json::to_string(cursor)?)
        .await
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StateError::Data(format!("bad timestamp {s:?}: {e}")))
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every store must have; run against each implementation.
    use super::*;
    use crate::log::ActivityEntry;
    use crate::run::{RunReport, RunStatus};
    use crate::upsert::Outcome;
    use chrono::{TimeDelta, TimeZone};
    use secrecy::ExposeSecret;

    pub(crate) fn entry(
        run: &str,
        source: &str,
        digest: &str,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> ActivityEntry {
        ActivityEntry {
            run_id: run.into(),
            flow: "f".into(),
            tenant: "t".into(),
            at,
            source_id: Some(source.into()),
            key: None,
            key_digest: Some(digest.into()),
            outcome: Some(outcome),
            message: None,
            source: Some(serde_json::json!({"a": 1})),
            sent: None,
            answer: Some(serde_json::json!({"id": "x"})),
        }
    }

    pub(crate) fn report(run: &str, scope: &Scope, at: DateTime<Utc>) -> RunReport {
        let mut r = RunReport::empty(run, scope, at, false);
        r.created = 2;
        r.status = RunStatus::Succeeded;
        r
    }

    pub(crate) async fn check(store: &dyn StateStore) {
        let s = Scope::new("customers", "t1");
        let other = Scope::new("customers", "t2");
        let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();

        // Cursors are per flow and tenant.
        assert_eq!(store.load_cursor(&s).await.unwrap(), None);
        store.save_cursor(&s, "c1").await.unwrap();
        store.save_cursor(&s, "c2").await.unwrap();
        assert_eq!(store.load_cursor(&s).await.unwrap().as_deref(), Some("c2"));
        assert_eq!(store.load_cursor(&other).await.unwrap(), None);
        store.clear_cursor(&s).await.unwrap();
        assert_eq!(store.load_cursor(&s).await.unwrap(), None);

        // Links.
        store
            .save_link("t1", "customer", "ls-1", "bc-1")
            .await
            .unwrap();
        store
            .save_link("t1", "customer", "ls-1", "bc-2")
            .await
            .unwrap();
        assert_eq!(
            store
                .load_link("t1", "customer", "ls-1")
                .await
                .unwrap()
                .as_deref(),
            Some("bc-2")
        );
        assert_eq!(
            store.load_link("t2", "customer", "ls-1").await.unwrap(),
            None
        );
        assert_eq!(store.load_link("t1", "item", "ls-1").await.unwrap(), None);
        store
            .save_link("t1", "customer", "ls-3", "bc-3")
            .await
            .unwrap();
        let ids = ["ls-1".to_string(), "ls-2".into(), "ls-3".into()];
        let links = store.load_links("t1", "customer", &ids).await.unwrap();
        assert_eq!(links.len(), 2);
        assert_eq!(links.get("ls-3").map(String::as_str), Some("bc-3"));

        // Run history, newest first.
        store.record_run(&report("r1", &s, t0)).await.unwrap();
        store
            .record_run(&report("r2", &s, t0 + TimeDelta::hours(1)))
            .await
            .unwrap();
        store.record_run(&report("r3", &other, t0)).await.unwrap();
        let runs = store.runs(&s, 10).await.unwrap();
        assert_eq!(
            runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
            ["r2", "r1"]
        );
        assert_eq!(runs[0].created, 2);
        assert_eq!(store.runs(&s, 1).await.unwrap().len(), 1);

        // Activity log.
        store
            .append_activity(&[
                entry("r1", "1", "k1", Outcome::Created, t0),
                entry("r1", "2", "k2", Outcome::Failed, t0 + TimeDelta::seconds(1)),
                entry("r2", "2", "k2", Outcome::Updated, t0 + TimeDelta::days(40)),
            ])
            .await
            .unwrap();
        let r1 = store
            .query_activity(&ActivityQuery::run("r1"))
            .await
            .unwrap();
        assert_eq!(r1.len(), 2);
        assert_eq!(r1[0].source_id.as_deref(), Some("2"), "newest first");
        assert_eq!(r1[1], entry("r1", "1", "k1", Outcome::Created, t0));
        let fails = store
            .query_activity(&ActivityQuery::all().failures())
            .await
            .unwrap();
        assert_eq!(fails.len(), 1);
        let by_key = ActivityQuery {
            key_digest: Some("k2".into()),
            ..ActivityQuery::default()
        };
        assert_eq!(store.query_activity(&by_key).await.unwrap().len(), 2);
        assert_eq!(
            store
                .query_activity(&by_key.clone().limit(1))
                .await
                .unwrap()[0]
                .run_id,
            "r2"
        );
        assert_eq!(
            store
                .query_activity(&ActivityQuery::all().scope("f", "x"))
                .await
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            store
                .prune_activity(t0 + TimeDelta::days(30))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .query_activity(&ActivityQuery::all())
                .await
                .unwrap()
                .len(),
            1
        );

        // Tokens.
        assert!(store.load_token("t1", "refresh").await.unwrap().is_none());
        store
            .save_token("t1", "refresh", &SecretString::from("s3cret"))
            .await
            .unwrap();
        let tok = store.load_token("t1", "refresh").await.unwrap().unwrap();
        assert_eq!(tok.expose_secret(), "s3cret");
        store.delete_token("t1", "refresh").await.unwrap();
        assert!(store.load_token("t1", "refresh").await.unwrap().is_none());

        // Retries.
        store.record_failure(&s, "9", "boom", t0).await.unwrap();
        store
            .record_failure(&s, "8", "bang", t0 + TimeDelta::seconds(1))
            .await
            .unwrap();
        store
            .record_failure(&s, "9", "boom again", t0 + TimeDelta::hours(1))
            .await
            .unwrap();
        let r = store.retries(&s).await.unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].source_id, "9");
        assert_eq!(r[0].attempts, 2);
        assert_eq!(r[0].reason, "boom again");
        assert_eq!(r[0].first_failed, t0);
        assert_eq!(r[0].last_failed, t0 + TimeDelta::hours(1));
        assert!(store.retries(&other).await.unwrap().is_empty());
        store.clear_retry(&s, "9").await.unwrap();
        assert_eq!(store.retries(&s).await.unwrap().len(), 1);

        // Locks.
        let far = Utc::now() + TimeDelta::hours(1);
        assert!(store.try_lock(&s, "a", far).await.unwrap());
        assert!(!store.try_lock(&s, "b", far).await.unwrap());
        assert!(store.try_lock(&other, "b", far).await.unwrap());
        store.unlock(&s, "b").await.unwrap();
        assert!(
            !store.try_lock(&s, "b", far).await.unwrap(),
            "only the holder unlocks"
        );
        store.unlock(&s, "a").await.unwrap();
        assert!(
            store
                .try_lock(&s, "b", Utc::now() - TimeDelta::seconds(1))
                .await
                .unwrap()
        );
        assert!(
            store.try_lock(&s, "c", far).await.unwrap(),
            "an expired lock is taken over"
        );

        // Cursors saved under a lock: only by its holder.
        let fenced = Scope::new("fenced", "t1");
        assert!(
            !store.save_cursor_locked(&fenced, "a", "1").await.unwrap(),
            "no lock, no save"
        );
        assert!(store.try_lock(&fenced, "a", far).await.unwrap());
        assert!(store.save_cursor_locked(&fenced, "a", "2").await.unwrap());
        assert!(!store.save_cursor_locked(&fenced, "b", "3").await.unwrap());
        assert_eq!(
            store.load_cursor(&fenced).await.unwrap().as_deref(),
            Some("2")
        );
        store.unlock(&fenced, "a").await.unwrap();
        assert!(
            store
                .try_lock(&fenced, "a", Utc::now() - TimeDelta::seconds(1))
                .await
                .unwrap()
        );
        assert!(
            store.save_cursor_locked(&fenced, "a", "4").await.unwrap(),
            "an expired lock nobody took over still fences for its holder"
        );
        assert!(store.try_lock(&fenced, "b", far).await.unwrap());
        assert!(
            !store.save_cursor_locked(&fenced, "a", "5").await.unwrap(),
            "a lock taken over refuses the old holder"
        );
        assert_eq!(
            store.load_cursor(&fenced).await.unwrap().as_deref(),
            Some("4")
        );
    }
}
