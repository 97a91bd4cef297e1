use super::versioned;
use crate::decode;
use crate::ids::{RetailerId, ShiftId, UserId, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A clock-in shift of a user (`GET /shifts`, read only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Shift {
    /// Shift id.
    pub id: ShiftId,
    /// Retailer.
    pub retailer_id: Option<RetailerId>,
    /// The user who clocked in.
    pub user_id: Option<UserId>,
    /// Clock-in time.
    #[serde(with = "decode::timestamp_opt")]
    pub time_in: Option<DateTime<Utc>>,
    /// Clock-out time (`None` while the shift is open).
    #[serde(with = "decode::timestamp_opt")]
    pub time_out: Option<DateTime<Utc>>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Who last changed the shift.
    pub updated_by: Option<UserId>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Shift);

impl Shift {
    /// Hours worked, when the shift is closed.
    pub fn duration(&self) -> Option<chrono::Duration> {
        Some(self.time_out? - self.time_in?)
    }
}
