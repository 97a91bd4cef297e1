use super::versioned;
use crate::decode;
use crate::enums::AccountType;
use crate::ids::{OutletId, UserId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A staff user (`GET /users`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// When the e-mail was verified.
    #[serde(with = "decode::timestamp_opt")]
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Account type.
    pub account_type: Option<AccountType>,
    /// Roles.
    #[serde(with = "decode::null_default")]
    pub roles: Vec<Role>,
    /// Whether the user may sign in.
    #[serde(with = "decode::flexible_bool")]
    pub enabled: bool,
    /// Outlet restriction (deprecated).
    pub restricted_outlet_id: Option<OutletId>,
    /// Outlets the user is restricted to.
    #[serde(with = "decode::null_default")]
    pub restricted_outlet_ids: Vec<OutletId>,
    /// Permission names.
    #[serde(with = "decode::null_default")]
    pub permissions: Vec<String>,
    /// Whether this is the account owner.
    #[serde(with = "decode::flexible_bool")]
    pub is_primary_user: bool,
    /// Image source.
    pub image_source: Option<String>,
    /// Image URLs, as sent.
    pub images: Option<serde_json::Value>,
    /// Daily sales target.
    #[serde(with = "decode::decimal_opt")]
    pub target_daily: Option<Decimal>,
    /// Weekly sales target.
    #[serde(with = "decode::decimal_opt")]
    pub target_weekly: Option<Decimal>,
    /// Monthly sales target.
    #[serde(with = "decode::decimal_opt")]
    pub target_monthly: Option<Decimal>,
    /// Last seen.
    #[serde(with = "decode::timestamp_opt")]
    pub seen_at: Option<DateTime<Utc>>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted (soft delete, restorable for 14 days).
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(User);

/// A user role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    /// Role id.
    #[serde(with = "decode::string_opt")]
    pub id: Option<String>,
    /// Role name.
    pub name: Option<String>,
    /// System role id.
    #[serde(with = "decode::string_opt")]
    pub system_role_id: Option<String>,
}
