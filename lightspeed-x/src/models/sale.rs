use super::versioned;
use crate::decode;
use crate::enums::{LineItemStatus, SaleAttribute, SaleState, SaleStatus};
use crate::ids::{
    CustomerId, LineItemId, OutletId, PaymentId, PaymentTypeId, ProductId, RegisterId, SaleId,
    TaxId, TaxRateId, UserId, Version,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A sale, return, parked or voided sale (`GET /sales`, `/search?type=sales`).
///
/// Decoded from the 2.0 shape or the restructured 2026-07 shape (see the `sale_wire` module);
/// serialised in the 2.0 shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, from = "super::sale_wire::SaleWire")]
pub struct Sale {
    /// Sale id.
    pub id: SaleId,
    /// Outlet.
    pub outlet_id: Option<OutletId>,
    /// Register.
    pub register_id: Option<RegisterId>,
    /// Cashier.
    pub user_id: Option<UserId>,
    /// Customer.
    pub customer_id: Option<CustomerId>,
    /// Invoice number.
    #[serde(with = "decode::string_opt")]
    pub invoice_number: Option<String>,
    /// Receipt number.
    #[serde(with = "decode::string_opt")]
    pub receipt_number: Option<String>,
    /// Legacy status.
    pub status: SaleStatus,
    /// State.
    pub state: Option<SaleState>,
    /// Attributes qualifying the state.
    #[serde(with = "decode::null_default")]
    pub attributes: Vec<SaleAttribute>,
    /// Origin (`USER`, `SHOPIFY`, `ECOMMERCE`...).
    pub source: Option<String>,
    /// External reference.
    pub source_id: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Short code.
    pub short_code: Option<String>,
    /// The original sale of a return.
    pub return_for: Option<SaleId>,
    /// Total, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub total_price: Decimal,
    /// Total tax.
    #[serde(with = "decode::decimal")]
    pub total_tax: Decimal,
    /// Total loyalty.
    #[serde(with = "decode::decimal")]
    pub total_loyalty: Decimal,
    /// When the sale happened (UTC).
    #[serde(with = "decode::timestamp_opt")]
    pub sale_date: Option<DateTime<Utc>>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Lines.
    #[serde(with = "decode::null_default")]
    pub line_items: Vec<LineItem>,
    /// Payments.
    #[serde(with = "decode::null_default")]
    pub payments: Vec<Payment>,
    /// Tax totals.
    #[serde(with = "decode::null_default")]
    pub taxes: Vec<SaleTax>,
    /// Sale-level adjustments such as non-cash fees.
    #[serde(with = "decode::null_default")]
    pub adjustments: Vec<Adjustment>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Sale);

impl Default for Sale {
    fn default() -> Self {
        Sale {
            id: SaleId::default(),
            outlet_id: None,
            register_id: None,
            user_id: None,
            customer_id: None,
            invoice_number: None,
            receipt_number: None,
            status: SaleStatus::Other(String::new()),
            state: None,
            attributes: Vec::new(),
            source: None,
            source_id: None,
            note: None,
            short_code: None,
            return_for: None,
            total_price: Decimal::ZERO,
            total_tax: Decimal::ZERO,
            total_loyalty: Decimal::ZERO,
            sale_date: None,
            created_at: None,
            updated_at: None,
            deleted_at: None,
            line_items: Vec::new(),
            payments: Vec::new(),
            taxes: Vec::new(),
            adjustments: Vec::new(),
            version: None,
        }
    }
}

impl Sale {
    /// Total including tax (`total_price` excludes tax).
    pub fn total_including_tax(&self) -> Decimal {
        self.total_price + self.total_tax
    }
    /// Whether this is a return (any returned line or a negative total).
    pub fn is_return(&self) -> bool {
        self.return_for.is_some()
            || self.line_items.iter().any(|l| l.is_return)
            || self.total_price < Decimal::ZERO
    }
    /// Whether the sale is completed (closed state or a closed status).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, Some(SaleState::Closed))
            || matches!(
                self.status,
                SaleStatus::Closed
                    | SaleStatus::OnAccountClosed
                    | SaleStatus::LaybyClosed
                    | SaleStatus::DispatchedClosed
                    | SaleStatus::PickedUpClosed
                    | SaleStatus::ServiceClosed
            )
    }
    /// Whether the sale was voided.
    pub fn is_voided(&self) -> bool {
        matches!(self.state, Some(SaleState::Voided)) || self.status == SaleStatus::Voided
    }
}

/// A sale line (2.0 or 2026-07 shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, from = "super::sale_wire::LineItemWire")]
pub struct LineItem {
    /// Line id.
    pub id: LineItemId,
    /// Product.
    pub product_id: Option<ProductId>,
    /// Tax.
    pub tax_id: Option<TaxId>,
    /// Quantity (negative on returns).
    #[serde(with = "decode::decimal")]
    pub quantity: Decimal,
    /// Unit price, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub price: Decimal,
    /// Line price total, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub price_total: Decimal,
    /// Unit cost.
    #[serde(with = "decode::decimal")]
    pub cost: Decimal,
    /// Line cost total.
    #[serde(with = "decode::decimal")]
    pub cost_total: Decimal,
    /// Unit discount.
    #[serde(with = "decode::decimal")]
    pub discount: Decimal,
    /// Line discount total.
    #[serde(with = "decode::decimal")]
    pub discount_total: Decimal,
    /// Unit tax (deprecated by the API).
    #[serde(with = "decode::decimal")]
    pub tax: Decimal,
    /// Line tax total.
    #[serde(with = "decode::decimal")]
    pub tax_total: Decimal,
    /// Loyalty value.
    #[serde(with = "decode::decimal")]
    pub loyalty_value: Decimal,
    /// Whether the price was set by hand.
    #[serde(with = "decode::flexible_bool")]
    pub price_set: bool,
    /// Line status.
    pub status: Option<LineItemStatus>,
    /// Position.
    #[serde(with = "decode::int_lenient")]
    pub sequence: i64,
    /// Whether the line is a return.
    #[serde(with = "decode::flexible_bool")]
    pub is_return: bool,
    /// Note.
    pub note: Option<String>,
    /// Salesperson.
    pub salesperson_id: Option<UserId>,
    /// Tax per rate.
    #[serde(with = "decode::null_default")]
    pub tax_components: Vec<TaxComponent>,
}

impl Default for LineItem {
    fn default() -> Self {
        LineItem {
            id: LineItemId::default(),
            product_id: None,
            tax_id: None,
            quantity: Decimal::ZERO,
            price: Decimal::ZERO,
            price_total: Decimal::ZERO,
            cost: Decimal::ZERO,
            cost_total: Decimal::ZERO,
            discount: Decimal::ZERO,
            discount_total: Decimal::ZERO,
            tax: Decimal::ZERO,
            tax_total: Decimal::ZERO,
            loyalty_value: Decimal::ZERO,
            price_set: false,
            status: None,
            sequence: 0,
            is_return: false,
            note: None,
            salesperson_id: None,
            tax_components: Vec::new(),
        }
    }
}

/// Tax of one rate on a line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaxComponent {
    /// Rate.
    pub rate_id: TaxRateId,
    /// Tax amount.
    #[serde(with = "decode::decimal")]
    pub total_tax: Decimal,
}

/// A payment on a sale (2.0 or 2026-07 shape).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, from = "super::sale_wire::PaymentWire")]
pub struct Payment {
    /// Payment id.
    pub id: PaymentId,
    /// Payment type name.
    pub name: Option<String>,
    /// Register.
    pub register_id: Option<RegisterId>,
    /// Outlet.
    pub outlet_id: Option<OutletId>,
    /// Retailer payment type.
    pub retailer_payment_type_id: Option<PaymentTypeId>,
    /// Global payment type (deprecated by the API).
    #[serde(with = "decode::string_opt")]
    pub payment_type_id: Option<String>,
    /// When paid.
    #[serde(with = "decode::timestamp_opt")]
    pub payment_date: Option<DateTime<Utc>>,
    /// Amount (negative for refunds).
    #[serde(with = "decode::decimal")]
    pub amount: Decimal,
    /// Card surcharge (`{rule, amount}` in the specs; a bare amount is read as the amount).
    pub surcharge: Option<Surcharge>,
    /// Processing fee (Lightspeed Payments).
    #[serde(with = "decode::decimal_opt")]
    pub fee: Option<Decimal>,
}

/// A surcharge on a payment (`SaleSurcharge` in the specs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Surcharge {
    /// The rule applied; several rules are consolidated as "n rates".
    pub rule: Option<String>,
    /// Surcharge amount.
    #[serde(with = "decode::decimal")]
    pub amount: Decimal,
}

/// A tax total on a sale (2.0 `amount` or 2026-07 `tax`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, from = "super::sale_wire::SaleTaxWire")]
pub struct SaleTax {
    /// Tax (rate) id.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Rate.
    #[serde(with = "decode::decimal_opt")]
    pub rate: Option<Decimal>,
    /// Amount.
    #[serde(with = "decode::decimal")]
    pub amount: Decimal,
}

/// A sale-level adjustment (2.0 `type`/`value` or 2026-07 `adjustment_type`/`total`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, from = "super::sale_wire::AdjustmentWire")]
pub struct Adjustment {
    /// Kind (`NON_CASH_FEE`...), as the examples and `required` name it (`type`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Kind, as the schema's properties name it (`adjustment_type`); see [`Adjustment::kind`].
    pub adjustment_type: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Value.
    #[serde(with = "decode::decimal")]
    pub value: Decimal,
    /// Tax per rate.
    #[serde(with = "decode::null_default")]
    pub tax_components: Vec<TaxComponent>,
}

impl Adjustment {
    /// The kind, from `type` or `adjustment_type` (the specs use both names).
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref().or(self.adjustment_type.as_deref())
    }
}
