//! An in-memory state store.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::lease::{Lease, WorkQueue, WorkUnit, lease_end};
use super::{RetryItem, Scope, StateError, StateStore};
use crate::log::{ActivityEntry, ActivityQuery};
use crate::report::RunReport;

/// A [`StateStore`] in memory: nothing survives the process. For tests and one-off programs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    cursors: BTreeMap<Scope, String>,
    links: BTreeMap<(String, String, String), String>,
    runs: Vec<RunReport>,
    activity: Vec<ActivityEntry>,
    tokens: BTreeMap<(String, String), SecretString>,
    retries: BTreeMap<Scope, BTreeMap<String, RetryItem>>,
    locks: BTreeMap<Scope, (String, DateTime<Utc>)>,
    work: BTreeMap<Scope, WorkUnit>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("cursors", &self.cursors.len())
            .field("runs", &self.runs.len())
            .field("activity", &self.activity.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock means another thread panicked mid-update; the maps are still consistent
        // per entry, so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    async fn load_cursor(&self, scope: &Scope) -> Result<Option<String>, StateError> {
        Ok(self.lock().cursors.get(scope).cloned())
    }
    async fn save_cursor(&self, scope: &Scope, cursor: &str) -> Result<(), StateError> {
        self.lock().cursors.insert(scope.clone(), cursor.to_owned());
        Ok(())
    }
    async fn clear_cursor(&self, scope: &Scope) -> Result<(), StateError> {
        self.lock().cursors.remove(scope);
        Ok(())
    }

    async fn save_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
        target_id: &str,
    ) -> Result<(), StateError> {
        self.lock().links.insert(
            (tenant.into(), namespace.into(), source_id.into()),
            target_id.into(),
        );
        Ok(())
    }
    async fn load_link(
        &self,
        tenant: &str,
        namespace: &str,
        source_id: &str,
    ) -> Result<Option<String>, StateError> {
        Ok(self
            .lock()
            .links
            .get(&(tenant.into(), namespace.into(), source_id.into()))
            .cloned())
    }

    async fn record_run(&self, report: &RunReport) -> Result<(), StateError> {
        self.lock().runs.push(report.clone());
        Ok(())
    }
    async fn runs(&self, scope: &Scope, limit: usize) -> Result<Vec<RunReport>, StateError> {
        let mut v: Vec<RunReport> = self
            .lock()
            .runs
            .iter()
            .filter(|r| r.flow == scope.flow && r.tenant == scope.tenant)
            .cloned()
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        v.truncate(limit);
        Ok(v)
    }

    async fn append_activity(&self, entries: &[ActivityEntry]) -> Result<(), StateError> {
        self.lock().activity.extend_from_slice(entries);
        Ok(())
    }
    async fn query_activity(
        &self,
        query: &ActivityQuery,
    ) -> Result<Vec<ActivityEntry>, StateError> {
        let inner = self.lock();
        // Newest first; among equal times, the later appended first.
        let mut v: Vec<(usize, &ActivityEntry)> = inner
            .activity
            .iter()
            .enumerate()
            .filter(|(_, e)| query.matches(e))
            .collect();
        v.sort_by(|(ia, a), (ib, b)| b.at.cmp(&a.at).then(ib.cmp(ia)));
        let it = v.into_iter().map(|(_, e)| e.clone());
        Ok(match query.limit {
            Some(n) => it.take(n).collect(),
            None => it.collect(),
        })
    }
    async fn prune_activity(&self, before: DateTime<Utc>) -> Result<u64, StateError> {
        let mut inner = self.lock();
        let n = inner.activity.len();
        inner.activity.retain(|e| e.at >= before);
        Ok((n - inner.activity.len()) as u64)
    }

    async fn save_token(
        &self,
        tenant: &str,
        name: &str,
        token: &SecretString,
    ) -> Result<(), StateError> {
        self.lock().tokens.insert(
            (tenant.into(), name.into()),
            SecretString::from(token.expose_secret().to_owned()),
        );
        Ok(())
    }
    async fn load_token(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<SecretString>, StateError> {
        Ok(self
            .lock()
            .tokens
            .get(&(tenant.into(), name.into()))
            .map(|t| SecretString::from(t.expose_secret().to_owned())))
    }
    async fn delete_token(&self, tenant: &str, name: &str) -> Result<(), StateError> {
        self.lock().tokens.remove(&(tenant.into(), name.into()));
        Ok(())
    }

    async fn record_failure(
        &self,
        scope: &Scope,
        source_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let mut inner = self.lock();
        let items = inner.retries.entry(scope.clone()).or_default();
        items
            .entry(source_id.to_owned())
            .and_modify(|r| {
                r.attempts = r.attempts.saturating_add(1);
                r.reason = reason.to_owned();
                r.last_failed = at;
            })
            .or_insert_with(|| RetryItem {
                source_id: source_id.to_owned(),
                reason: reason.to_owned(),
                attempts: 1,
                first_failed: at,
                last_failed: at,
            });
        Ok(())
    }
    async fn retries(&self, scope: &Scope) -> Result<Vec<RetryItem>, StateError> {
        let mut v: Vec<RetryItem> = self
            .lock()
            .retries
            .get(scope)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| {
            a.first_failed
                .cmp(&b.first_failed)
                .then(a.source_id.cmp(&b.source_id))
        });
        Ok(v)
    }
    async fn clear_retry(&self, scope: &Scope, source_id: &str) -> Result<(), StateError> {
        if let Some(m) = self.lock().retries.get_mut(scope) {
            m.remove(source_id);
        }
        Ok(())
    }

    async fn try_lock(
        &self,
        scope: &Scope,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        let mut inner = self.lock();
        let now = Utc::now();
        match inner.locks.get(scope) {
            Some((h, exp)) if h != holder && *exp > now => Ok(false),
            _ => {
                inner
                    .locks
                    .insert(scope.clone(), (holder.to_owned(), until));
                Ok(true)
            }
        }
    }
    async fn save_cursor_locked(
        &self,
        scope: &Scope,
        holder: &str,
        cursor: &str,
    ) -> Result<bool, StateError> {
        let mut inner = self.lock();
        if inner.locks.get(scope).is_none_or(|(h, _)| h != holder) {
            return Ok(false);
        }
        inner.cursors.insert(scope.clone(), cursor.to_owned());
        Ok(true)
    }
    async fn unlock(&self, scope: &Scope, holder: &str) -> Result<(), StateError> {
        let mut inner = self.lock();
        if inner.locks.get(scope).is_some_and(|(h, _)| h == holder) {
            inner.locks.remove(scope);
        }
        Ok(())
    }
}

impl Inner {
    /// The unit, if `lease` is its current claim.
    fn held(&mut self, lease: &Lease) -> Option<&mut WorkUnit> {
        self.work.get_mut(&lease.scope).filter(|u| {
            u.generation == lease.generation && u.worker.as_deref() == Some(lease.worker.as_str())
        })
    }
}

#[async_trait]
impl WorkQueue for MemoryStore {
    async fn register(&self, scope: &Scope, next_due: DateTime<Utc>) -> Result<bool, StateError> {
        let mut inner = self.lock();
        if inner.work.contains_key(scope) {
            return Ok(false);
        }
        inner.work.insert(
            scope.clone(),
            WorkUnit {
                scope: scope.clone(),
                next_due,
                worker: None,
                lease_until: None,
                generation: 0,
            },
        );
        Ok(true)
    }
    async fn unregister(&self, scope: &Scope) -> Result<(), StateError> {
        self.lock().work.remove(scope);
        Ok(())
    }
    async fn unit(&self, scope: &Scope) -> Result<Option<WorkUnit>, StateError> {
        Ok(self.lock().work.get(scope).cloned())
    }

    async fn claim_due(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<Lease>, StateError> {
        let until = lease_end(now, ttl)?;
        let mut inner = self.lock();
        let mut due: Vec<(DateTime<Utc>, Scope)> = inner
            .work
            .values()
            .filter(|u| u.next_due <= now && u.lease_until.is_none_or(|t| t <= now))
            .map(|u| (u.next_due, u.scope.clone()))
            .collect();
        due.sort();
        due.truncate(limit);
        let mut out = Vec::with_capacity(due.len());
        for (due_at, scope) in due {
            if let Some(u) = inner.work.get_mut(&scope) {
                u.worker = Some(worker.to_owned());
                u.lease_until = Some(until);
                u.generation = u.generation.saturating_add(1);
                out.push(Lease {
                    scope,
                    worker: worker.to_owned(),
                    generation: u.generation,
                    due_at,
                    expires_at: until,
                });
            }
        }
        Ok(out)
    }

    async fn renew(
        &self,
        lease: &Lease,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<Option<Lease>, StateError> {
        let until = lease_end(now, ttl)?;
        Ok(self.lock().held(lease).map(|u| {
            u.lease_until = Some(until);
            Lease {
                expires_at: until,
                ..lease.clone()
            }
        }))
    }

    async fn release(&self, lease: &Lease, next_due: DateTime<Utc>) -> Result<bool, StateError> {
        Ok(self
            .lock()
            .held(lease)
            .map(|u| {
                u.worker = None;
                u.lease_until = None;
                u.next_due = next_due;
            })
            .is_some())
    }

    async fn commit_cursor(&self, lease: &Lease, cursor: &str) -> Result<bool, StateError> {
        let mut inner = self.lock();
        if inner.held(lease).is_none() {
            return Ok(false);
        }
        inner.cursors.insert(lease.scope.clone(), cursor.to_owned());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn contract() {
        super::super::contract::run_all(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn lease_contract() {
        super::super::contract::work_queue(&MemoryStore::new()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn four_workers_share_the_units() {
        super::super::contract::work_queue_four_workers(Arc::new(MemoryStore::new())).await;
    }
}
