//! The PostgreSQL state store and work queue (feature `postgres`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::lease::{Lease, WorkQueue, WorkUnit, lease_end};
use super::{RetryItem, Scope, StateError, StateStore};
use crate::log::{ActivityEntry, ActivityQuery};
use crate::report::RunReport;
use crate::upsert::Outcome;

/// Schema migrations, applied in order in one transaction each; `{s}` is the quoted schema name.
/// The `schema_version` table records which ran. Never edit a released migration: append one.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE {s}.cursors (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flow, tenant));
CREATE TABLE {s}.links (
    tenant TEXT NOT NULL, namespace TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, namespace, source_id));
CREATE TABLE {s}.runs (
    run_id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, flow TEXT NOT NULL,
    tenant TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, report JSONB NOT NULL);
CREATE INDEX runs_scope ON {s}.runs (flow, tenant, started_at);
CREATE TABLE {s}.activity (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id TEXT NOT NULL, flow TEXT NOT NULL,
    tenant TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, source_id TEXT, key TEXT, key_digest TEXT,
    outcome TEXT, message TEXT, source JSONB, sent JSONB, answer JSONB);
CREATE INDEX activity_run ON {s}.activity (run_id);
CREATE INDEX activity_key ON {s}.activity (key_digest);
CREATE INDEX activity_at ON {s}.activity (at);
CREATE TABLE {s}.tokens (
    tenant TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, name));
CREATE TABLE {s}.retries (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, source_id TEXT NOT NULL, reason TEXT NOT NULL,
    attempts INTEGER NOT NULL, first_failed TIMESTAMPTZ NOT NULL, last_failed TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flow, tenant, source_id));
CREATE TABLE {s}.locks (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flow, tenant));
CREATE TABLE {s}.work_units (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, next_due TIMESTAMPTZ NOT NULL, worker TEXT,
    lease_until TIMESTAMPTZ, generation BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (flow, tenant));
CREATE INDEX work_units_due ON {s}.work_units (next_due);
"#];

/// How to connect a [`PostgresStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// The schema holding the tables (created if missing). Default `sync_state`.
    pub schema: String,
    /// The most connections the pool opens. Default 8.
    pub max_connections: usize,
    /// How long to wait for a connection (connecting, or from the pool). Default 10 s.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: "sync_state".into(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl PostgresOptions {
    /// Uses another schema (lower-case letters, digits and `_`, at most 63 characters).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }
    /// Sets the pool size (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// A [`StateStore`] and [`WorkQueue`] in PostgreSQL, shared by many workers on many machines.
///
/// Tables live in their own schema (default `sync_state`), brought up to date on connect by
/// versioned migrations (the `schema_version` table; concurrent starts are serialised by an
/// advisory lock, and a schema newer than this build is refused). Connections come from a
/// pool; [`connect`](Self::connect) speaks plain TCP (loopback, private networks), and
/// [`from_pool`](Self::from_pool) takes a pool built with any TLS connector.
///
/// Run locks and leases are single statements, safe between processes; leases use
/// `FOR UPDATE SKIP LOCKED`, so workers claiming at once never wait for or collide with each
/// other. Timestamps are stored as `timestamptz` (microsecond precision).
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use chrono::Utc;
/// use secrecy::SecretString;
/// use sync_core::state::{PostgresOptions, PostgresStore, Scope, StateStore, WorkQueue};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let url = SecretString::from(std::env::var("DATABASE_URL")?);
/// let store = PostgresStore::connect_with(&url, PostgresOptions::default().max_connections(16)).await?;
/// store.register(&Scope::new("orders", "shop-1"), Utc::now()).await?;
/// for lease in store.claim_due("worker-1", Utc::now(), Duration::from_secs(120), 4).await? {
///     // ... run the flow for lease.scope, renewing the lease while it runs ...
///     store.release(&lease, Utc::now() + chrono::TimeDelta::minutes(5)).await?;
/// }
/// // The same store serves the runner: `Runner::new(Arc::new(store))`.
/// let _shared: Arc<dyn StateStore> = Arc::new(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// The quoted schema name, with a trailing dot: `"sync_state".`.
    prefix: String,
    schema: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .finish_non_exhaustive()
    }
}

fn db(e: tokio_postgres::Error) -> StateError {
    match e.as_db_error() {
        Some(d) => StateError::Storage(format!("postgres: {d}")),
        None => StateError::Storage(format!("postgres: {e}")),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StateError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db(e),
        other => StateError::Storage(format!("postgres connection pool: {other}")),
    }
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl PostgresStore {
    /// Connects with default options (see [`PostgresOptions`]) and migrates the schema.
    ///
    /// `url` is a `postgres://user:password@host:port/db` URL or a `key=value` string.
    pub async fn connect(url: &SecretString) -> Result<Self, StateError> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects with options and migrates the schema.
    pub async fn connect_with(
        url: &SecretString,
        options: PostgresOptions,
    ) -> Result<Self, StateError> {
        let mut config: tokio_postgres::Config = url.expose_secret().parse().map_err(|_| {
            // The parser's message may quote the URL, password included: do not pass it on.
            StateError::Storage("the PostgreSQL connection URL is not valid".into())
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("sync-core");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StateError::Storage(format!("postgres connection pool: {e}")))?;
        Self::from_pool(pool, &options.schema).await
    }

    /// Uses a pool built by the caller (for example with a TLS connector) and migrates `schema`.
    pub async fn from_pool(pool: Pool, schema: &str) -> Result<Self, StateError> {
        if !valid_schema(schema) {
            return Err(StateError::Data(format!(
                "schema name {schema:?} is not lower-case letters, digits and _"
            )));
        }
        let store = Self {
            pool,
            prefix: format!("\"{schema}\"."),
            schema: schema.to_owned(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The schema version of this build (the number of migrations).
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    fn sql(&self, q: &str) -> String {
        q.replace("{s}.", &self.prefix)
    }

    async fn client(&self) -> Result<Object, StateError> {
        self.pool.get().await.map_err(pool_err)
    }

    async fn execute(&self, q: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StateError> {
        let c = self.client().await?;
        let st = c.prepare_cached(&self.sql(q)).await.map_err(db)?;
        c.execute(&st, params).await.map_err(db)
    }

    async fn query(&self, q: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StateError> {
        let c = self.client().await?;
        let st = c.prepare_cached(&self.sql(q)).await.map_err(db)?;
        c.query(&st, params).await.map_err(db)
    }

    async fn query_opt(
        &self,
        q: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StateError> {
        let c = self.client().await?;
        let st = c.prepare_cached(&self.sql(q)).await.map_err(db)?;
        c.query_opt(&st, params).await.map_err(db)
    }

    async fn migrate(&self) -> Result<(), StateError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db)?;
        // Workers starting at once migrate one after the other.
        let key = format!("sync-core migrations {}", self.schema);
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&key])
            .await
            .map_err(db)?;
        // A schema created beforehand (by an administrator) needs no CREATE right on the database.
        let exists = tx
            .query_opt(
                "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                &[&self.schema],
            )
            .await
            .map_err(db)?
            .is_some();
        if !exists {
            tx.batch_execute(&format!("CREATE SCHEMA \"{}\"", self.schema))
                .await
                .map_err(db)?;
        }
        tx.batch_execute(&self.sql(
            "CREATE TABLE IF NOT EXISTS {s}.schema_version (
                 version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        ))
        .await
        .map_err(db)?;
        let current: i64 = tx
            .query_one(
                &self.sql("SELECT COALESCE(MAX(version), 0)::BIGINT FROM {s}.schema_version"),
                &[],
            )
            .await
            .map_err(db)?
            .get(0);
        let supported = Self::schema_version();
        if current > supported {
            return Err(StateError::NewerSchema {
                found: current,
                supported,
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            tx.batch_execute(&self.sql(m)).await.map_err(db)?;
            let version = (i + 1) as i64;
            tx.execute(
                &self.sql("INSERT INTO {s}.schema_version (version) VALUES ($1)"),
                &[&version],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}

/// PostgreSQL text and `jsonb` cannot hold NUL characters; API data and error messages can.
/// They are stored as U+FFFD, so one odd record cannot stop a tenant's log or retries.
fn no_nul(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn no_nul_opt(s: &Option<String>) -> Option<std::borrow::Cow<'_, str>> {
    s.as_deref().map(no_nul)
}

fn no_nul_json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(no_nul(s).into_owned()),
        Value::Array(a) => Value::Array(a.iter().map(no_nul_json).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (no_nul(k).into_owned(), no_nul_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Unchanged => "unchanged",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
    }
}

fn parse_outcome(s: &str) -> Result<Outcome, StateError> {
    Ok(match s {
        "created" => Outcome::Created,
        "updated" => Outcome::Updated,
        "unchanged" => Outcome::Unchanged,
        "skipped" => Outcome::Skipped,
        "failed" => Outcome::Failed,
        other => return Err(StateError::Data(format!("unknown outcome {other:?}"))),
    })
}

fn lease_from(row: &Row) -> Result<Lease, StateError> {
    Ok(Lease {
        scope: Scope::new(
            row.try_get::<_, String>("flow").map_err(db)?,
            row.try_get::<_, String>("tenant").map_err(db)?,
        ),
        worker: row.try_get("worker").map_err(db)?,
        generation: row.try_get("generation").map_err(db)?,
        due_at: row.try_get("next_due").map_err(db)?,
        expires_at: row.try_get("lease_until").map_err(db)?,
    })
}

#[async_trait]
impl StateStore for PostgresStore {
    async fn load_cursor(&self, scope: &Scope) -> Result<Option<String>, StateError> {
        self.query_opt(
            "SELECT value FROM {s}.cursors WHERE flow = $1 AND tenant = $2",
            &[&scope.flow, &scope.tenant],
        )
        .await?
        .map(|r| r.try_get(0).map_err(db))
        .transpose()
    }
    async fn save_cursor(&self, scope: &Scope, cursor: &str) -> Result<(), StateError> {
        self.execute(
            "INSERT INTO {s}.cursors (flow, tenant, value, updated_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (flow, tenant) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            &[&scope.flow, &scope.tenant, &cursor],
        )
        .await?;
        Ok(())
    }
    async fn clear_cursor(&self, scope: &Scope) -> Result<(), StateError> {
        self.execute(
            "DELETE FROM {s}.cursors WHERE flow = $1 AND tenant = $2",
            &[&scope.flow, &scope.tenant],
        )
        .await?;
        Ok(())
    }

    async fn save_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
        target_id: &str,
    ) -> Result<(), StateError> {
        self.execute(
            "INSERT INTO {s}.links (tenant, namespace, source_id, target_id, updated_at) VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (tenant, namespace, source_id) DO UPDATE SET target_id = excluded.target_id, updated_at = excluded.updated_at",
            &[&tenant, &namespace, &source_id, &target_id],
        )
        .await?;
        Ok(())
    }
    async fn load_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
    ) -> Result<Option<String>, StateError> {
        self.query_opt(
            "SELECT target_id FROM {s}.links WHERE tenant = $1 AND namespace = $2 AND source_id = $3",
            &[&tenant, &namespace, &source_id],
        )
        .await?
        .map(|r| r.try_get(0).map_err(db))
        .transpose()
    }
    async fn load_links(
        &self,
        tenant: &str,
        namespace: &str,
        source_ids: &[String],
    ) -> Result<BTreeMap<String, String>, StateError> {
        if source_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let ids = source_ids.to_vec();
        let rows = self
            .query(
                "SELECT source_id, target_id FROM {s}.links
                 WHERE tenant = $1 AND namespace = $2 AND source_id = ANY($3)",
                &[&tenant, &namespace, &ids],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
            .collect()
    }

    async fn record_run(&self, report: &RunReport) -> Result<(), StateError> {
        let json = no_nul_json(&serde_json::to_value(report)?);
        self.execute(
            "INSERT INTO {s}.runs (run_id, flow, tenant, started_at, report) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (run_id) DO UPDATE SET flow = excluded.flow, tenant = excluded.tenant,
               started_at = excluded.started_at, report = excluded.report",
            &[
                &report.run_id,
                &report.flow,
                &report.tenant,
                &report.started_at,
                &json,
            ],
        )
        .await?;
        Ok(())
    }
    async fn runs(&self, scope: &Scope, limit: usize) -> Result<Vec<RunReport>, StateError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .query(
                "SELECT report FROM {s}.runs WHERE flow = $1 AND tenant = $2
                 ORDER BY started_at DESC, seq DESC LIMIT $3",
                &[&scope.flow, &scope.tenant, &limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let v: serde_json::Value = r.try_get(0).map_err(db)?;
                Ok(serde_json::from_value(v)?)
            })
            .collect()
    }

    async fn append_activity(&self, entries: &[ActivityEntry]) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db)?;
        let st = tx
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.activity (run_id, flow, tenant, at, source_id, key, key_digest, outcome, message, source, sent, answer)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            ))
            .await
            .map_err(db)?;
        for e in entries {
            let outcome = e.outcome.map(outcome_text);
            let (source_id, key, message) = (
                no_nul_opt(&e.source_id),
                no_nul_opt(&e.key),
                no_nul_opt(&e.message),
            );
            let (source, sent, answer) = (
                e.source.as_ref().map(no_nul_json),
                e.sent.as_ref().map(no_nul_json),
                e.answer.as_ref().map(no_nul_json),
            );
            tx.execute(
                &st,
                &[
                    &e.run_id,
                    &e.flow,
                    &e.tenant,
                    &e.at,
                    &source_id,
                    &key,
                    &e.key_digest,
                    &outcome,
                    &message,
                    &source,
                    &sent,
                    &answer,
                ],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn query_activity(
        &self,
        query: &ActivityQuery,
    ) -> Result<Vec<ActivityEntry>, StateError> {
        let mut sql = String::from(
            "SELECT run_id, flow, tenant, at, source_id, key, key_digest, outcome, message, source, sent, answer
             FROM {s}.activity WHERE TRUE",
        );
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (col, val) in [
            ("run_id", &query.run_id),
            ("flow", &query.flow),
            ("tenant", &query.tenant),
            ("key_digest", &query.key_digest),
        ] {
            if let Some(v) = val {
                args.push(v);
                sql.push_str(&format!(" AND {col} = ${}", args.len()));
            }
        }
        if query.failures_only {
            sql.push_str(" AND outcome = 'failed'");
        }
        sql.push_str(" ORDER BY at DESC, id DESC");
        let limit = query.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        if let Some(n) = &limit {
            args.push(n);
            sql.push_str(&format!(" LIMIT ${}", args.len()));
        }
        let rows = self.query(&sql, &args).await?;
        rows.iter()
            .map(|r| {
                let outcome: Option<String> = r.try_get(7).map_err(db)?;
                Ok(ActivityEntry {
                    run_id: r.try_get(0).map_err(db)?,
                    flow: r.try_get(1).map_err(db)?,
                    tenant: r.try_get(2).map_err(db)?,
                    at: r.try_get(3).map_err(db)?,
                    source_id: r.try_get(4).map_err(db)?,
                    key: r.try_get(5).map_err(db)?,
                    key_digest: r.try_get(6).map_err(db)?,
                    outcome: outcome.as_deref().map(parse_outcome).transpose()?,
                    message: r.try_get(8).map_err(db)?,
                    source: r.try_get(9).map_err(db)?,
                    sent: r.try_get(10).map_err(db)?,
                    answer: r.try_get(11).map_err(db)?,
                })
            })
            .collect()
    }

    async fn prune_activity(&self, before: DateTime<Utc>) -> Result<u64, StateError> {
        self.execute("DELETE FROM {s}.activity WHERE at < $1", &[&before])
            .await
    }

    async fn save_token(
        &self,
        tenant: &str,
        name: &str,
        token: &SecretString,
    ) -> Result<(), StateError> {
        let value: &str = token.expose_secret();
        self.execute(
            "INSERT INTO {s}.tokens (tenant, name, value, updated_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            &[&tenant, &name, &value],
        )
        .await?;
        Ok(())
    }
    async fn load_token(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<SecretString>, StateError> {
        self.query_opt(
            "SELECT value FROM {s}.tokens WHERE tenant = $1 AND name = $2",
            &[&tenant, &name],
        )
        .await?
        .map(|r| {
            r.try_get::<_, String>(0)
                .map(SecretString::from)
                .map_err(db)
        })
        .transpose()
    }
    async fn delete_token(&self, tenant: &str, name: &str) -> Result<(), StateError> {
        self.execute(
            "DELETE FROM {s}.tokens WHERE tenant = $1 AND name = $2",
            &[&tenant, &name],
        )
        .await?;
        Ok(())
    }

    async fn record_failure(
        &self,
        scope: &Scope,
        source_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let (source_id, reason) = (no_nul(source_id), no_nul(reason));
        self.execute(
            "INSERT INTO {s}.retries AS r (flow, tenant, source_id, reason, attempts, first_failed, last_failed)
             VALUES ($1, $2, $3, $4, 1, $5, $5)
             ON CONFLICT (flow, tenant, source_id) DO UPDATE SET
               reason = excluded.reason, attempts = LEAST(r.attempts::BIGINT + 1, 2147483647)::INTEGER,
               last_failed = excluded.last_failed",
            &[&scope.flow, &scope.tenant, &source_id.as_ref(), &reason.as_ref(), &at],
        )
        .await?;
        Ok(())
    }
    async fn retries(&self, scope: &Scope) -> Result<Vec<RetryItem>, StateError> {
        let rows = self
            .query(
                "SELECT source_id, reason, attempts, first_failed, last_failed FROM {s}.retries
                 WHERE flow = $1 AND tenant = $2 ORDER BY first_failed, source_id",
                &[&scope.flow, &scope.tenant],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let attempts: i32 = r.try_get(2).map_err(db)?;
                Ok(RetryItem {
                    source_id: r.try_get(0).map_err(db)?,
                    reason: r.try_get(1).map_err(db)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    first_failed: r.try_get(3).map_err(db)?,
                    last_failed: r.try_get(4).map_err(db)?,
                })
            })
            .collect()
    }
    async fn clear_retry(&self, scope: &Scope, source_id: &str) -> Result<(), StateError> {
        let source_id = no_nul(source_id);
        self.execute(
            "DELETE FROM {s}.retries WHERE flow = $1 AND tenant = $2 AND source_id = $3",
            &[&scope.flow, &scope.tenant, &source_id.as_ref()],
        )
        .await?;
        Ok(())
    }

    async fn try_lock(
        &self,
        scope: &Scope,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        let now = Utc::now();
        // One statement: two workers racing for the lock cannot both win.
        let n = self
            .execute(
                "INSERT INTO {s}.locks AS l (flow, tenant, holder, expires_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (flow, tenant) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE l.holder = excluded.holder OR l.expires_at <= $5",
                &[&scope.flow, &scope.tenant, &holder, &until, &now],
            )
            .await?;
        Ok(n == 1)
    }
    async fn save_cursor_locked(
        &self,
        scope: &Scope,
        holder: &str,
        cursor: &str,
    ) -> Result<bool, StateError> {
        // One statement: the lock check and the write cannot be split by another worker.
        let n = self
            .execute(
                "INSERT INTO {s}.cursors (flow, tenant, value, updated_at)
                 SELECT $1, $2, $3, now() WHERE EXISTS
                   (SELECT 1 FROM {s}.locks WHERE flow = $1 AND tenant = $2 AND holder = $4 FOR UPDATE)
                 ON CONFLICT (flow, tenant) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                &[&scope.flow, &scope.tenant, &cursor, &holder],
            )
            .await?;
        Ok(n == 1)
    }
    async fn unlock(&self, scope: &Scope, holder: &str) -> Result<(), StateError> {
        self.execute(
            "DELETE FROM {s}.locks WHERE flow = $1 AND tenant = $2 AND holder = $3",
            &[&scope.flow, &scope.tenant, &holder],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl WorkQueue for PostgresStore {
    async fn register(&self, scope: &Scope, next_due: DateTime<Utc>) -> Result<bool, StateError> {
        let n = self
            .execute(
                "INSERT INTO {s}.work_units (flow, tenant, next_due) VALUES ($1, $2, $3)
                 ON CONFLICT (flow, tenant) DO NOTHING",
                &[&scope.flow, &scope.tenant, &next_due],
            )
            .await?;
        Ok(n == 1)
    }
    async fn unregister(&self, scope: &Scope) -> Result<(), StateError> {
        self.execute(
            "DELETE FROM {s}.work_units WHERE flow = $1 AND tenant = $2",
            &[&scope.flow, &scope.tenant],
        )
        .await?;
        Ok(())
    }
    async fn unit(&self, scope: &Scope) -> Result<Option<WorkUnit>, StateError> {
        let Some(r) = self
            .query_opt(
                "SELECT next_due, worker, lease_until, generation FROM {s}.work_units
                 WHERE flow = $1 AND tenant = $2",
                &[&scope.flow, &scope.tenant],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(WorkUnit {
            scope: scope.clone(),
            next_due: r.try_get(0).map_err(db)?,
            worker: r.try_get(1).map_err(db)?,
            lease_until: r.try_get(2).map_err(db)?,
            generation: r.try_get(3).map_err(db)?,
        }))
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<Lease>, StateError> {
        let until = lease_end(now, ttl)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // SKIP LOCKED: rows another worker is claiming right now are passed over, not waited
        // for; a row claimed and committed meanwhile is re-checked against the WHERE clause.
        let rows = self
            .query(
                "WITH due AS (
                     SELECT flow, tenant FROM {s}.work_units
                     WHERE next_due <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                     ORDER BY next_due, flow, tenant
                     LIMIT $3
                     FOR UPDATE SKIP LOCKED)
                 UPDATE {s}.work_units u
                 SET worker = $1, lease_until = $4, generation = u.generation + 1
                 FROM due WHERE u.flow = due.flow AND u.tenant = due.tenant
                 RETURNING u.flow, u.tenant, u.worker, u.generation, u.next_due, u.lease_until",
                &[&worker, &now, &limit, &until],
            )
            .await?;
        let mut leases = rows.iter().map(lease_from).collect::<Result<Vec<_>, _>>()?;
        leases.sort_by(|a, b| (a.due_at, &a.scope).cmp(&(b.due_at, &b.scope)));
        Ok(leases)
    }

    async fn renew(
        &self,
        lease: &Lease,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError> {
        let until = lease_end(now, ttl)?;
        let n = self
            .execute(
                "UPDATE {s}.work_units SET lease_until = $5
                 WHERE flow = $1 AND tenant = $2 AND worker = $3 AND generation = $4",
                &[
                    &lease.scope.flow,
                    &lease.scope.tenant,
                    &lease.worker,
                    &lease.generation,
                    &until,
                ],
            )
            .await?;
        Ok((n == 1).then(|| Lease {
            expires_at: until,
            ..lease.clone()
        }))
    }

    async fn release(&self, lease: &Lease, next_due: DateTime<Utc>) -> Result<bool, StateError> {
        let n = self
            .execute(
                "UPDATE {s}.work_units SET worker = NULL, lease_until = NULL, next_due = $5
                 WHERE flow = $1 AND tenant = $2 AND worker = $3 AND generation = $4",
                &[
                    &lease.scope.flow,
                    &lease.scope.tenant,
                    &lease.worker,
                    &lease.generation,
                    &next_due,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<bool, StateError> {
        // FOR SHARE holds off a concurrent claim of the unit until this write commits, and
        // re-checks the unit if a claim committed first.
        let n = self
            .execute(
                "INSERT INTO {s}.cursors (flow, tenant, value, updated_at)
                 SELECT u.flow, u.tenant, $5, now() FROM {s}.work_units u
                 WHERE u.flow = $1 AND u.tenant = $2 AND u.worker = $3 AND u.generation = $4
                 FOR SHARE
                 ON CONFLICT (flow, tenant) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                &[
                    &lease.scope.flow,
                    &lease.scope.tenant,
                    &lease.worker,
                    &lease.generation,
                    &cursor,
                ],
            )
            .await?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// The test server's URL, or `None` (with a message) when the tests should be skipped.
    fn test_url() -> Option<SecretString> {
        match std::env::var("SYNC_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(SecretString::from(url)),
            _ => {
                assert!(
                    std::env::var("SYNC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "SYNC_REQUIRE_POSTGRES=1 but SYNC_TEST_DATABASE_URL is not set (see scripts/pg-server.sh)"
                );
                eprintln!(
                    "skipped: set SYNC_TEST_DATABASE_URL to run the PostgreSQL tests (scripts/pg-server.sh starts a server)"
                );
                None
            }
        }
    }

    /// A schema name no other test uses.
    fn fresh_schema(test: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = Utc::now().timestamp_subsec_nanos();
        format!(
            "t_{test}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    async fn store(test: &str) -> Option<PostgresStore> {
        let url = test_url()?;
        let options = PostgresOptions::default().schema(fresh_schema(test));
        Some(PostgresStore::connect_with(&url, options).await.unwrap())
    }

    async fn drop_schema(store: &PostgresStore) {
        let c = store.client().await.unwrap();
        c.batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", store.schema()))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn contract() {
        let Some(store) = store("contract").await else {
            return;
        };
        super::super::contract::run_all(&store).await;
        drop_schema(&store).await;
    }

    #[tokio::test]
    async fn lease_contract() {
        let Some(store) = store("lease").await else {
            return;
        };
        super::super::contract::work_queue(&store).await;
        drop_schema(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn four_workers_share_the_units() {
        let Some(store) = store("workers").await else {
            return;
        };
        // Each worker would be its own process with its own pool; here they share one pool.
        super::super::contract::work_queue_four_workers(Arc::new(store.clone())).await;
        drop_schema(&store).await;
    }

    #[tokio::test]
    async fn migrations_are_versioned_and_a_newer_schema_is_refused() {
        let Some(url) = test_url() else {
            return;
        };
        let schema = fresh_schema("migrate");
        let options = PostgresOptions::default().schema(schema.clone());
        // Workers starting at once: one migrates, the others wait and find it done.
        let (a, b, c) = tokio::join!(
            PostgresStore::connect_with(&url, options.clone()),
            PostgresStore::connect_with(&url, options.clone()),
            PostgresStore::connect_with(&url, options.clone()),
        );
        let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
        let client = a.client().await.unwrap();
        let versions: Vec<i64> = client
            .query(
                &a.sql("SELECT version FROM {s}.schema_version ORDER BY version"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            versions,
            (1..=PostgresStore::schema_version()).collect::<Vec<_>>()
        );
        // A store written by a newer build.
        client
            .execute(
                &a.sql("INSERT INTO {s}.schema_version (version) VALUES (99)"),
                &[],
            )
            .await
            .unwrap();
        drop(client);
        let err = PostgresStore::connect_with(&url, options)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StateError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        drop_schema(&a).await;
    }

    #[tokio::test]
    async fn two_pools_share_locks_and_leases() {
        let Some(url) = test_url() else {
            return;
        };
        let options = PostgresOptions::default()
            .schema(fresh_schema("pools"))
            .max_connections(2);
        let a = PostgresStore::connect_with(&url, options.clone())
            .await
            .unwrap();
        let b = PostgresStore::connect_with(&url, options).await.unwrap();
        let scope = Scope::new("f", "t");
        let until = Utc::now() + chrono::TimeDelta::minutes(5);
        assert!(a.try_lock(&scope, "proc-a", until).await.unwrap());
        assert!(!b.try_lock(&scope, "proc-b", until).await.unwrap());
        a.unlock(&scope, "proc-a").await.unwrap();
        assert!(b.try_lock(&scope, "proc-b", until).await.unwrap());

        let now = Utc::now();
        let ttl = Duration::from_secs(60);
        assert!(a.register(&scope, now).await.unwrap());
        assert!(!b.register(&scope, now).await.unwrap());
        assert_eq!(b.claim_due("b", now, ttl, 5).await.unwrap().len(), 1);
        assert!(a.claim_due("a", now, ttl, 5).await.unwrap().is_empty());
        drop_schema(&a).await;
    }

    #[tokio::test]
    async fn nul_characters_from_apis_are_stored_replaced() {
        let Some(store) = store("nul").await else {
            return;
        };
        let scope = Scope::new("f", "t");
        let at = Utc::now();
        store
            .record_failure(&scope, "id\0x", "bad\0answer", at)
            .await
            .unwrap();
        let r = store.retries(&scope).await.unwrap();
        assert_eq!(r[0].reason, "bad\u{FFFD}answer");
        store.clear_retry(&scope, "id\0x").await.unwrap();
        assert!(store.retries(&scope).await.unwrap().is_empty());
        let mut e = super::super::contract::entry("r", "s\0", "d", Outcome::Failed, at);
        e.message = Some("m\0".into());
        e.answer = Some(serde_json::json!({"k\0": ["v\0", 1]}));
        store.append_activity(&[e]).await.unwrap();
        let got = store
            .query_activity(&ActivityQuery::run("r"))
            .await
            .unwrap();
        assert_eq!(got[0].message.as_deref(), Some("m\u{FFFD}"));
        assert_eq!(got[0].source_id.as_deref(), Some("s\u{FFFD}"));
        assert_eq!(
            got[0].answer,
            Some(serde_json::json!({"k\u{FFFD}": ["v\u{FFFD}", 1]}))
        );
        let mut report = super::super::contract::report("r", &scope, at);
        report.status = crate::report::RunStatus::Failed {
            error: "boom\0".into(),
        };
        store.record_run(&report).await.unwrap();
        assert_eq!(store.runs(&scope, 1).await.unwrap().len(), 1);
        drop_schema(&store).await;
    }

    #[tokio::test]
    async fn bad_urls_and_schemas_are_refused_without_echoing_secrets() {
        let url =
            SecretString::from("postgres://u:hunter2@127.0.0.1:1/db?sslmode=bogus".to_owned());
        let err = PostgresStore::connect(&url).await.unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let url = SecretString::from("postgres://u:hunter2@127.0.0.1:1/db".to_owned());
        let options = PostgresOptions::default()
            .schema("x")
            .connect_timeout(Duration::from_secs(2));
        let err = PostgresStore::connect_with(&url, options)
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::Storage(_)), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        for bad in ["", "Upper", "a;drop", "9x", "a\"b"] {
            let pool = Pool::builder(Manager::new(tokio_postgres::Config::new(), NoTls))
                .build()
                .unwrap();
            let err = PostgresStore::from_pool(pool, bad).await.unwrap_err();
            assert!(matches!(err, StateError::Data(_)), "{bad}: {err}");
        }
    }
}
