use super::versioned;
use crate::decode;
use crate::ids::{OutletId, PaymentTypeId, RegisterId, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A till (`GET /registers`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Register {
    /// Register id.
    pub id: RegisterId,
    /// Name.
    pub name: String,
    /// Outlet the register belongs to.
    pub outlet_id: Option<OutletId>,
    /// Whether to ask for a note on save (0, 1 or 2).
    #[serde(with = "decode::int_lenient")]
    pub ask_for_note_on_save: i64,
    /// Print the note on the receipt.
    #[serde(with = "decode::flexible_bool")]
    pub print_note_on_receipt: bool,
    /// Ask for the user on each sale.
    #[serde(with = "decode::flexible_bool")]
    pub ask_for_user_on_sale: bool,
    /// Show discounts on receipts.
    #[serde(with = "decode::flexible_bool")]
    pub show_discounts_on_receipts: bool,
    /// Print receipts.
    #[serde(with = "decode::flexible_bool")]
    pub print_receipt: bool,
    /// E-mail receipts.
    #[serde(with = "decode::flexible_bool")]
    pub email_receipt: bool,
    /// Invoice number prefix.
    pub invoice_prefix: Option<String>,
    /// Invoice number suffix.
    pub invoice_suffix: Option<String>,
    /// Next invoice sequence number.
    #[serde(with = "decode::int_lenient")]
    pub invoice_sequence: i64,
    /// Whether the register is open.
    #[serde(with = "decode::flexible_bool")]
    pub is_open: bool,
    /// When the register was opened.
    #[serde(with = "decode::timestamp_opt")]
    pub register_open_time: Option<DateTime<Utc>>,
    /// When the register was last closed.
    #[serde(with = "decode::timestamp_opt")]
    pub register_close_time: Option<DateTime<Utc>>,
    /// Current open sequence.
    pub register_open_sequence_id: Option<String>,
    /// Receipt template.
    pub receipt_template_id: Option<String>,
    /// Button layout.
    pub button_layout_id: Option<String>,
    /// Payment type used for cash management.
    pub cash_managed_payment_type_id: Option<PaymentTypeId>,
    /// When the register was deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Register);
