//! Persistent sync state: cursors, id links, run history, the activity log, tokens, records kept
//! for retry, and run locks.
//!
//! [`StateStore`] is object safe, so flows hold an `Arc<dyn StateStore>`. The stores:
//! [`MemoryStore`] (tests, short-lived programs), `SqliteStore` (feature `sqlite`, on by default:
//! an embedded SQLite file, the default for programs on one machine) and, with the `postgres` feature, `PostgresStore`
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

#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod contract;
pub mod lease;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::log::{ActivityEntry, ActivityQuery};
use crate::report::RunReport;
pub use crate::scope::Scope;

/// The connection pool crate [`PostgresStore::from_pool`] takes a pool of (for TLS connectors).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use deadpool_postgres;
pub use lease::{Lease, WorkQueue, WorkUnit};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

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

#[cfg(feature = "sqlite")]
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
#[cfg(feature = "sqlite")]
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(feature = "sqlite")]
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StateError::Data(format!("bad timestamp {s:?}: {e}")))
}
