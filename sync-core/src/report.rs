//! What a run did: the [`RunReport`] the [`Runner`](crate::run::Runner) returns and the
//! [`StateStore`](crate::state::StateStore) keeps as run history.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::scope::Scope;
use crate::upsert::PlannedChange;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running.
    Running,
    /// The flow completed (records may still have failed: see [`RunReport::failed`]).
    Succeeded,
    /// The flow stopped with an error.
    Failed {
        /// The error (personal data redacted).
        error: String,
    },
}

/// A record that was skipped or failed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordNote {
    /// The source id.
    pub source_id: String,
    /// The key, unless it is personal data and the caller did not opt in.
    pub key: Option<String>,
    /// Why.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The run's id.
    pub run_id: String,
    /// The flow.
    pub flow: String,
    /// The tenant.
    pub tenant: String,
    /// Whether this was a dry run (then the counts are what the plan would do).
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it took.
    pub duration: Duration,
    /// How it ended.
    pub status: RunStatus,
    /// Records created.
    pub created: usize,
    /// Records updated.
    pub updated: usize,
    /// Records already up to date.
    pub unchanged: usize,
    /// Records skipped, with reasons.
    pub skipped: Vec<RecordNote>,
    /// Records that failed, with reasons (kept for retry in the next run).
    pub failed: Vec<RecordNote>,
    /// Requests made to the APIs.
    pub requests: u64,
    /// The plan, in a dry run.
    pub planned: Vec<PlannedChange>,
}

impl RunReport {
    /// An empty report of a run that is starting.
    pub fn empty(run_id: &str, scope: &Scope, started_at: DateTime<Utc>, dry_run: bool) -> Self {
        Self {
            run_id: run_id.to_owned(),
            flow: scope.flow.clone(),
            tenant: scope.tenant.clone(),
            dry_run,
            started_at,
            finished_at: None,
            duration: Duration::ZERO,
            status: RunStatus::Running,
            created: 0,
            updated: 0,
            unchanged: 0,
            skipped: Vec::new(),
            failed: Vec::new(),
            requests: 0,
            planned: Vec::new(),
        }
    }

    /// Whether the flow completed and no record failed.
    pub fn is_success(&self) -> bool {
        self.status == RunStatus::Succeeded && self.failed.is_empty()
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}{}: {} created, {} updated, {} unchanged, {} skipped, {} failed; {} requests in {:.1?}",
            self.flow,
            self.tenant,
            if self.dry_run { " (dry run)" } else { "" },
            self.created,
            self.updated,
            self.unchanged,
            self.skipped.len(),
            self.failed.len(),
            self.requests,
            self.duration,
        )?;
        if let RunStatus::Failed { error } = &self.status {
            write!(f, "; run failed: {error}")?;
        }
        Ok(())
    }
}
