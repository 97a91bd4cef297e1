//! The embedded SQLite state store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};

use super::{RetryItem, Scope, StateError, StateStore, parse_ts, ts};
use crate::log::{ActivityEntry, ActivityQuery};
use crate::report::RunReport;
use crate::upsert::Outcome;

/// Schema migrations, applied in order; the database's `user_version` is how many ran.
/// Never edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE cursors (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (flow, tenant));
CREATE TABLE links (
    tenant TEXT NOT NULL, namespace TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, namespace, source_id));
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, flow TEXT NOT NULL, tenant TEXT NOT NULL, started_at TEXT NOT NULL,
    report TEXT NOT NULL);
CREATE INDEX runs_scope ON runs (flow, tenant, started_at);
CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, flow TEXT NOT NULL, tenant TEXT NOT NULL,
    at TEXT NOT NULL, source_id TEXT, key TEXT, key_digest TEXT, outcome TEXT, message TEXT,
    source TEXT, sent TEXT, answer TEXT);
CREATE INDEX activity_run ON activity (run_id);
CREATE INDEX activity_key ON activity (key_digest);
CREATE INDEX activity_at ON activity (at);
CREATE TABLE tokens (
    tenant TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name));
CREATE TABLE retries (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, source_id TEXT NOT NULL, reason TEXT NOT NULL,
    attempts INTEGER NOT NULL, first_failed TEXT NOT NULL, last_failed TEXT NOT NULL,
    PRIMARY KEY (flow, tenant, source_id));
CREATE TABLE locks (
    flow TEXT NOT NULL, tenant TEXT NOT NULL, holder TEXT NOT NULL, expires_at TEXT NOT NULL,
    PRIMARY KEY (flow, tenant));
"#];

/// A [`StateStore`] in an SQLite file (bundled SQLite, WAL journal, versioned schema).
///
/// The file is created with mode 0600 on Unix: it holds tokens and, when opted in, personal data.
/// Every call runs on tokio's blocking pool, never on the async worker threads.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || open_file(&p))
            .await
            .map_err(|e| StateError::Storage(e.to_string()))??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Some(path),
        })
    }

    /// A private in-memory database (for tests).
    pub async fn open_in_memory() -> Result<Self, StateError> {
        let conn = tokio::task::spawn_blocking(|| -> Result<Connection, StateError> {
            let mut c = Connection::open_in_memory()?;
            migrate(&mut c)?;
            Ok(c)
        })
        .await
        .map_err(|e| StateError::Storage(e.to_string()))??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: None,
        })
    }

    /// The file path, when file-backed.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of this build (the number of migrations).
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    async fn call<T, F>(&self, f: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StateError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StateError::Storage(e.to_string()))?
    }
}

fn open_file(path: &Path) -> Result<Connection, StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StateError::Storage(format!("cannot create {}: {e}", path.display())))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StateError::Storage(format!("cannot restrict {}: {e}", path.display())))?;
        // SQLite creates its side files with the database's mode, but ones left by an earlier
        // process keep theirs; they hold the same data.
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if std::fs::metadata(&side).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600)).map_err(
                    |e| {
                        let side = Path::new(&side).display();
                        StateError::Storage(format!("cannot restrict {side}: {e}"))
                    },
                )?;
            }
        }
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StateError::Storage(format!(
            "could not enable WAL (journal mode {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StateError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StateError::NewerSchema {
            found: current,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn json_col(v: &Option<serde_json::Value>) -> Result<Option<String>, StateError> {
    v.as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(StateError::from)
}

fn parse_json_col(s: Option<String>) -> Result<Option<serde_json::Value>, StateError> {
    s.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(StateError::from)
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

type ActivityRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[async_trait]
impl StateStore for SqliteStore {
    async fn load_cursor(&self, scope: &Scope) -> Result<Option<String>, StateError> {
        let s = scope.clone();
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT value FROM cursors WHERE flow = ?1 AND tenant = ?2",
                params![s.flow, s.tenant],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }
    async fn save_cursor(&self, scope: &Scope, cursor: &str) -> Result<(), StateError> {
        let (s, v, now) = (scope.clone(), cursor.to_owned(), ts(Utc::now()));
        self.call(move |c| {
            c.execute(
                "INSERT INTO cursors (flow, tenant, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (flow, tenant) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![s.flow, s.tenant, v, now],
            )?;
            Ok(())
        })
        .await
    }
    async fn clear_cursor(&self, scope: &Scope) -> Result<(), StateError> {
        let s = scope.clone();
        self.call(move |c| {
            c.execute(
                "DELETE FROM cursors WHERE flow = ?1 AND tenant = ?2",
                params![s.flow, s.tenant],
            )?;
            Ok(())
        })
        .await
    }

    async fn save_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
        target_id: &str,
    ) -> Result<(), StateError> {
        let (t, n, s, g, now) = (
            tenant.to_owned(),
            namespace.to_owned(),
            source_id.to_owned(),
            target_id.to_owned(),
            ts(Utc::now()),
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO links (tenant, namespace, source_id, target_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, namespace, source_id) DO UPDATE SET target_id = excluded.target_id, updated_at = excluded.updated_at",
                params![t, n, s, g, now],
            )?;
            Ok(())
        })
        .await
    }
    async fn load_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
    ) -> Result<Option<String>, StateError> {
        let (t, n, s) = (
            tenant.to_owned(),
            namespace.to_owned(),
            source_id.to_owned(),
        );
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT target_id FROM links WHERE tenant = ?1 AND namespace = ?2 AND source_id = ?3",
                params![t, n, s],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn load_links(
        &self,
        tenant: &str,
        namespace: &str,
        source_ids: &[String],
    ) -> Result<BTreeMap<String, String>, StateError> {
        let (t, n, ids) = (tenant.to_owned(), namespace.to_owned(), source_ids.to_vec());
        self.call(move |c| {
            let mut st = c.prepare_cached(
                "SELECT target_id FROM links WHERE tenant = ?1 AND namespace = ?2 AND source_id = ?3",
            )?;
            let mut out = BTreeMap::new();
            for id in ids {
                if let Some(target) = st
                    .query_row(params![t, n, id], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    out.insert(id, target);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_run(&self, report: &RunReport) -> Result<(), StateError> {
        let json = serde_json::to_string(report)?;
        let (id, flow, tenant, started) = (
            report.run_id.clone(),
            report.flow.clone(),
            report.tenant.clone(),
            ts(report.started_at),
        );
        self.call(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO runs (run_id, flow, tenant, started_at, report) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, flow, tenant, started, json],
            )?;
            Ok(())
        })
        .await
    }
    async fn runs(&self, scope: &Scope, limit: usize) -> Result<Vec<RunReport>, StateError> {
        let s = scope.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |c| {
            let mut st = c.prepare(
                "SELECT report FROM runs WHERE flow = ?1 AND tenant = ?2 ORDER BY started_at DESC, rowid DESC LIMIT ?3",
            )?;
            let rows = st.query_map(params![s.flow, s.tenant, limit], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for row in rows {
                out.push(serde_json::from_str(&row?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn append_activity(&self, entries: &[ActivityEntry]) -> Result<(), StateError> {
        if entries.is_empty() {
            return Ok(());
        }
        let entries = entries.to_vec();
        self.call(move |c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare(
                    "INSERT INTO activity (run_id, flow, tenant, at, source_id, key, key_digest, outcome, message, source, sent, answer)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for e in &entries {
                    st.execute(params![
                        e.run_id,
                        e.flow,
                        e.tenant,
                        ts(e.at),
                        e.source_id,
                        e.key,
                        e.key_digest,
                        e.outcome.map(outcome_text),
                        e.message,
                        json_col(&e.source)?,
                        json_col(&e.sent)?,
                        json_col(&e.answer)?,
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn query_activity(
        &self,
        query: &ActivityQuery,
    ) -> Result<Vec<ActivityEntry>, StateError> {
        let q = query.clone();
        self.call(move |c| {
            let mut sql = String::from(
                "SELECT run_id, flow, tenant, at, source_id, key, key_digest, outcome, message, source, sent, answer
                 FROM activity WHERE 1 = 1",
            );
            let mut args: Vec<String> = Vec::new();
            for (col, val) in [
                ("run_id", &q.run_id),
                ("flow", &q.flow),
                ("tenant", &q.tenant),
                ("key_digest", &q.key_digest),
            ] {
                if let Some(v) = val {
                    args.push(v.clone());
                    sql.push_str(&format!(" AND {col} = ?{}", args.len()));
                }
            }
            if q.failures_only {
                sql.push_str(" AND outcome = 'failed'");
            }
            sql.push_str(" ORDER BY at DESC, id DESC");
            if let Some(n) = q.limit {
                sql.push_str(&format!(" LIMIT {}", i64::try_from(n).unwrap_or(i64::MAX)));
            }
            let mut st = c.prepare(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (run_id, flow, tenant, at, source_id, key, key_digest, outcome, message, source, sent, answer): ActivityRow =
                    row?;
                out.push(ActivityEntry {
                    run_id,
                    flow,
                    tenant,
                    at: parse_ts(&at)?,
                    source_id,
                    key,
                    key_digest,
                    outcome: outcome.as_deref().map(parse_outcome).transpose()?,
                    message,
                    source: parse_json_col(source)?,
                    sent: parse_json_col(sent)?,
                    answer: parse_json_col(answer)?,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn prune_activity(&self, before: DateTime<Utc>) -> Result<u64, StateError> {
        let b = ts(before);
        self.call(move |c| Ok(c.execute("DELETE FROM activity WHERE at < ?1", params![b])? as u64))
            .await
    }

    async fn save_token(
        &self,
        tenant: &str,
        name: &str,
        token: &SecretString,
    ) -> Result<(), StateError> {
        let (t, n, now) = (tenant.to_owned(), name.to_owned(), ts(Utc::now()));
        let v = SecretString::from(token.expose_secret().to_owned());
        self.call(move |c| {
            c.execute(
                "INSERT INTO tokens (tenant, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![t, n, v.expose_secret(), now],
            )?;
            Ok(())
        })
        .await
    }
    async fn load_token(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<SecretString>, StateError> {
        let (t, n) = (tenant.to_owned(), name.to_owned());
        self.call(move |c| {
            Ok(c.query_row(
                "SELECT value FROM tokens WHERE tenant = ?1 AND name = ?2",
                params![t, n],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(SecretString::from))
        })
        .await
    }
    async fn delete_token(&self, tenant: &str, name: &str) -> Result<(), StateError> {
        let (t, n) = (tenant.to_owned(), name.to_owned());
        self.call(move |c| {
            c.execute(
                "DELETE FROM tokens WHERE tenant = ?1 AND name = ?2",
                params![t, n],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_failure(
        &self,
        scope: &Scope,
        source_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let (s, id, why, at) = (
            scope.clone(),
            source_id.to_owned(),
            reason.to_owned(),
            ts(at),
        );
        self.call(move |c| {
            c.execute(
                "INSERT INTO retries (flow, tenant, source_id, reason, attempts, first_failed, last_failed)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)
                 ON CONFLICT (flow, tenant, source_id) DO UPDATE SET
                   reason = excluded.reason, attempts = attempts + 1, last_failed = excluded.last_failed",
                params![s.flow, s.tenant, id, why, at],
            )?;
            Ok(())
        })
        .await
    }
    async fn retries(&self, scope: &Scope) -> Result<Vec<RetryItem>, StateError> {
        let s = scope.clone();
        self.call(move |c| {
            let mut st = c.prepare(
                "SELECT source_id, reason, attempts, first_failed, last_failed FROM retries
                 WHERE flow = ?1 AND tenant = ?2 ORDER BY first_failed, source_id",
            )?;
            let rows = st.query_map(params![s.flow, s.tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (source_id, reason, attempts, first, last) = row?;
                out.push(RetryItem {
                    source_id,
                    reason,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    first_failed: parse_ts(&first)?,
                    last_failed: parse_ts(&last)?,
                });
            }
            Ok(out)
        })
        .await
    }
    async fn clear_retry(&self, scope: &Scope, source_id: &str) -> Result<(), StateError> {
        let (s, id) = (scope.clone(), source_id.to_owned());
        self.call(move |c| {
            c.execute(
                "DELETE FROM retries WHERE flow = ?1 AND tenant = ?2 AND source_id = ?3",
                params![s.flow, s.tenant, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn try_lock(
        &self,
        scope: &Scope,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        let (s, h, until, now) = (scope.clone(), holder.to_owned(), ts(until), ts(Utc::now()));
        self.call(move |c| {
            // One statement, so two processes on the same file cannot both win.
            let n = c.execute(
                "INSERT INTO locks (flow, tenant, holder, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (flow, tenant) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE locks.holder = excluded.holder OR locks.expires_at <= ?5",
                params![s.flow, s.tenant, h, until, now],
            )?;
            Ok(n == 1)
        })
        .await
    }
    async fn save_cursor_locked(
        &self,
        scope: &Scope,
        holder: &str,
        cursor: &str,
    ) -> Result<bool, StateError> {
        let (s, h, v, now) = (
            scope.clone(),
            holder.to_owned(),
            cursor.to_owned(),
            ts(Utc::now()),
        );
        self.call(move |c| {
            // One statement: the lock check and the write cannot be split by another runner.
            let n = c.execute(
                "INSERT INTO cursors (flow, tenant, value, updated_at)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS
                   (SELECT 1 FROM locks WHERE flow = ?1 AND tenant = ?2 AND holder = ?5)
                 ON CONFLICT (flow, tenant) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![s.flow, s.tenant, v, now, h],
            )?;
            Ok(n == 1)
        })
        .await
    }
    async fn unlock(&self, scope: &Scope, holder: &str) -> Result<(), StateError> {
        let (s, h) = (scope.clone(), holder.to_owned());
        self.call(move |c| {
            c.execute(
                "DELETE FROM locks WHERE flow = ?1 AND tenant = ?2 AND holder = ?3",
                params![s.flow, s.tenant, h],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn contract_in_memory() {
        super::super::contract::run_all(&SqliteStore::open_in_memory().await.unwrap()).await;
    }

    #[tokio::test]
    async fn contract_on_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("state.db"))
            .await
            .unwrap();
        super::super::contract::run_all(&store).await;
    }

    #[tokio::test]
    async fn survives_reopening_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        let scope = Scope::new("stock", "bc-1");
        let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        {
            let store = SqliteStore::open(&path).await.unwrap();
            store.save_cursor(&scope, "{\"v\":1}").await.unwrap();
            store
                .save_token("bc-1", "refresh", &SecretString::from("r1"))
                .await
                .unwrap();
            store
                .record_failure(&scope, "s-1", "timeout", t0)
                .await
                .unwrap();
            store
                .append_activity(&[super::super::contract::entry(
                    "r",
                    "s-1",
                    "d",
                    Outcome::Failed,
                    t0,
                )])
                .await
                .unwrap();
            store
                .record_run(&super::super::contract::report("r", &scope, t0))
                .await
                .unwrap();
            // SQLite gives the WAL file the database file's mode.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let wal = dir.path().join("sync.db-wal");
                let mode = std::fs::metadata(&wal).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        assert_eq!(
            store.load_cursor(&scope).await.unwrap().as_deref(),
            Some("{\"v\":1}")
        );
        assert_eq!(
            store
                .load_token("bc-1", "refresh")
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            "r1"
        );
        assert_eq!(store.retries(&scope).await.unwrap()[0].attempts, 1);
        assert_eq!(
            store
                .query_activity(&ActivityQuery::run("r"))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(store.runs(&scope, 5).await.unwrap()[0].run_id, "r");
        let version: i64 = store
            .call(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(version, SqliteStore::schema_version());
        let mode: String = store
            .call(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        drop(SqliteStore::open(&path).await.unwrap());
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = SqliteStore::open(&path).await.unwrap_err();
        assert!(
            matches!(err, StateError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn two_stores_on_one_file_share_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        let a = SqliteStore::open(&path).await.unwrap();
        let b = SqliteStore::open(&path).await.unwrap();
        let scope = Scope::new("f", "t");
        let until = Utc::now() + chrono::TimeDelta::minutes(5);
        assert!(a.try_lock(&scope, "proc-a", until).await.unwrap());
        assert!(!b.try_lock(&scope, "proc-b", until).await.unwrap());
        a.unlock(&scope, "proc-a").await.unwrap();
        assert!(b.try_lock(&scope, "proc-b", until).await.unwrap());
    }
}
