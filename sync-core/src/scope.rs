//! The [`Scope`] of a flow run: what cursors, retries, run history and locks belong to.

use std::fmt;

use serde::{Deserialize, Serialize};

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
