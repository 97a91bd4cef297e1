//! The sale as it arrives, in either shape: the 2.0 sale (flat totals, `sale_date`, line `price`/`tax`
//! numbers) or the restructured 2026-07 sale (`date`, `source{author, outlet_id, register_id}`,
//! `totals{price, tax, loyalty}`, lines with `product{id}`, `pricing{..}`, `tax{id, amount, total}`,
//! payments with `type{config_id, ..}` and `source{..}`). Both become the same [`Sale`].
//!
//! The 2026-07 spec documents the new shape in its schema while its own examples still show the 2.0
//! shape, so the client accepts both on every version.

use super::{Adjustment, LineItem, Payment, Sale, SaleTax, Surcharge, TaxComponent};
use crate::decode;
use crate::enums::{LineItemStatus, SaleAttribute, SaleState, SaleStatus};
use crate::ids::{
    CustomerId, LineItemId, OutletId, PaymentId, PaymentTypeId, ProductId, RegisterId, SaleId,
    TaxId, UserId, Version,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// A decimal from a number or a string.
#[derive(Deserialize)]
struct Dec(#[serde(with = "decode::decimal")] Decimal);

/// 2.0 `source` is the origin (`USER`, `SHOPIFY`); 2026-07 `source` is an object.
#[derive(Deserialize)]
#[serde(untagged)]
enum SourceWire {
    Text(String),
    Object(SaleSourceWire),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SaleSourceWire {
    author: Option<IdRef>,
    #[serde(with = "decode::string_opt")]
    id: Option<String>,
    outlet_id: Option<OutletId>,
    register_id: Option<RegisterId>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdRef {
    #[serde(with = "decode::string_opt")]
    id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TotalsWire {
    #[serde(with = "decode::decimal_opt")]
    price: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    tax: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    loyalty: Option<Decimal>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SaleReturnWire {
    original_sale_id: Option<SaleId>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MetadataWire {
    version: Option<Version>,
}

/// A sale in either shape.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SaleWire {
    id: Option<SaleId>,
    outlet_id: Option<OutletId>,
    register_id: Option<RegisterId>,
    user_id: Option<UserId>,
    customer_id: Option<CustomerId>,
    #[serde(with = "decode::string_opt")]
    invoice_number: Option<String>,
    #[serde(with = "decode::string_opt")]
    receipt_number: Option<String>,
    status: Option<SaleStatus>,
    state: Option<SaleState>,
    #[serde(with = "decode::null_default")]
    attributes: Vec<SaleAttribute>,
    source: Option<SourceWire>,
    #[serde(with = "decode::string_opt")]
    source_id: Option<String>,
    note: Option<String>,
    short_code: Option<String>,
    return_for: Option<SaleId>,
    #[serde(with = "decode::decimal_opt")]
    total_price: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    total_tax: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    total_loyalty: Option<Decimal>,
    #[serde(with = "decode::timestamp_opt")]
    sale_date: Option<DateTime<Utc>>,
    #[serde(with = "decode::timestamp_opt")]
    date: Option<DateTime<Utc>>,
    #[serde(with = "decode::timestamp_opt")]
    created_at: Option<DateTime<Utc>>,
    #[serde(with = "decode::timestamp_opt")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(with = "decode::timestamp_opt")]
    deleted_at: Option<DateTime<Utc>>,
    #[serde(with = "decode::null_default")]
    line_items: Vec<LineItem>,
    #[serde(with = "decode::null_default")]
    payments: Vec<Payment>,
    #[serde(with = "decode::null_default")]
    taxes: Vec<SaleTax>,
    #[serde(with = "decode::null_default")]
    adjustments: Vec<Adjustment>,
    version: Option<Version>,
    totals: Option<TotalsWire>,
    #[serde(rename = "return")]
    ret: Option<SaleReturnWire>,
    #[serde(rename = "_metadata")]
    metadata: Option<MetadataWire>,
}

impl From<SaleWire> for Sale {
    fn from(w: SaleWire) -> Self {
        let (origin, src) = match w.source {
            Some(SourceWire::Text(t)) => (Some(t), SaleSourceWire::default()),
            Some(SourceWire::Object(o)) => (o.kind.clone(), o),
            None => (None, SaleSourceWire::default()),
        };
        let totals = w.totals.unwrap_or_default();
        Sale {
            id: w.id.unwrap_or_default(),
            outlet_id: w.outlet_id.or(src.outlet_id),
            register_id: w.register_id.or(src.register_id),
            user_id: w
                .user_id
                .or_else(|| src.author.and_then(|a| a.id).map(UserId)),
            customer_id: w.customer_id,
            invoice_number: w.invoice_number,
            receipt_number: w.receipt_number,
            status: w.status.unwrap_or(SaleStatus::Other(String::new())),
            state: w.state,
            attributes: w.attributes,
            source: origin,
            source_id: w.source_id.or(src.id),
            note: w.note,
            short_code: w.short_code,
            return_for: w
                .return_for
                .or_else(|| w.ret.and_then(|r| r.original_sale_id)),
            total_price: w.total_price.or(totals.price).unwrap_or_default(),
            total_tax: w.total_tax.or(totals.tax).unwrap_or_default(),
            total_loyalty: w.total_loyalty.or(totals.loyalty).unwrap_or_default(),
            sale_date: w.sale_date.or(w.date),
            created_at: w.created_at,
            updated_at: w.updated_at,
            deleted_at: w.deleted_at,
            line_items: w.line_items,
            payments: w.payments,
            taxes: w.taxes,
            adjustments: w.adjustments,
            version: w.version.or_else(|| w.metadata.and_then(|m| m.version)),
        }
    }
}

/// 2.0 line `tax` is the unit tax; 2026-07 line `tax` is `{id, amount, total}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum LineTaxWire {
    // A number first: the all-default object variant would accept anything that looks like a map.
    Amount(Dec),
    Object(LineTaxObject),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LineTaxObject {
    id: Option<TaxId>,
    #[serde(with = "decode::decimal_opt")]
    amount: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    total: Option<Decimal>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PricingWire {
    #[serde(with = "decode::decimal_opt")]
    price: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    cost: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    cost_total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    discount: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    discount_total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    loyalty_amount: Option<Decimal>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LineMetadataWire {
    is_price_override: Option<bool>,
    sequence: Option<i64>,
    #[serde(with = "decode::null_default")]
    tax_components: Vec<TaxComponent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LineReturnWire {
    is_return: Option<bool>,
}

/// A line in either shape.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LineItemWire {
    id: Option<LineItemId>,
    product_id: Option<ProductId>,
    product: Option<IdRef>,
    tax_id: Option<TaxId>,
    #[serde(with = "decode::decimal_opt")]
    quantity: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    price: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    price_total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    cost: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    cost_total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    discount: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    discount_total: Option<Decimal>,
    tax: Option<LineTaxWire>,
    #[serde(with = "decode::decimal_opt")]
    tax_total: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    loyalty_value: Option<Decimal>,
    pricing: Option<PricingWire>,
    #[serde(with = "decode::flexible_bool")]
    price_set: bool,
    status: Option<LineItemStatus>,
    #[serde(with = "decode::int_lenient")]
    sequence: i64,
    #[serde(with = "decode::flexible_bool")]
    is_return: bool,
    #[serde(rename = "return")]
    ret: Option<LineReturnWire>,
    note: Option<String>,
    salesperson_id: Option<UserId>,
    #[serde(with = "decode::null_default")]
    tax_components: Vec<TaxComponent>,
    #[serde(rename = "_metadata")]
    metadata: Option<LineMetadataWire>,
}

impl From<LineItemWire> for LineItem {
    fn from(w: LineItemWire) -> Self {
        let p = w.pricing.unwrap_or_default();
        let (tax_id, tax, tax_total) = match w.tax {
            Some(LineTaxWire::Amount(a)) => (None, Some(a.0), None),
            Some(LineTaxWire::Object(o)) => (o.id, o.amount, o.total),
            None => (None, None, None),
        };
        let meta = w.metadata.unwrap_or_default();
        let z = Decimal::ZERO;
        LineItem {
            id: w.id.unwrap_or_default(),
            product_id: w
                .product_id
                .or_else(|| w.product.and_then(|r| r.id).map(ProductId)),
            tax_id: w.tax_id.or(tax_id),
            quantity: w.quantity.unwrap_or(z),
            price: w.price.or(p.price).unwrap_or(z),
            price_total: w.price_total.or(p.total).unwrap_or(z),
            cost: w.cost.or(p.cost).unwrap_or(z),
            cost_total: w.cost_total.or(p.cost_total).unwrap_or(z),
            discount: w.discount.or(p.discount).unwrap_or(z),
            discount_total: w.discount_total.or(p.discount_total).unwrap_or(z),
            tax: tax.unwrap_or(z),
            tax_total: w.tax_total.or(tax_total).unwrap_or(z),
            loyalty_value: w.loyalty_value.or(p.loyalty_amount).unwrap_or(z),
            price_set: w.price_set || meta.is_price_override.unwrap_or(false),
            status: w.status,
            sequence: if w.sequence != 0 {
                w.sequence
            } else {
                meta.sequence.unwrap_or(0)
            },
            is_return: w.is_return || w.ret.and_then(|r| r.is_return).unwrap_or(false),
            note: w.note,
            salesperson_id: w.salesperson_id,
            tax_components: if w.tax_components.is_empty() {
                meta.tax_components
            } else {
                w.tax_components
            },
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PaymentSourceWire {
    outlet_id: Option<OutletId>,
    register_id: Option<RegisterId>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PaymentTypeWire {
    config_id: Option<PaymentTypeId>,
    #[serde(with = "decode::string_opt")]
    id: Option<String>,
    name: Option<String>,
}

/// A surcharge as the specs document it (an object), or a bare amount as older payloads sent it.
#[derive(Deserialize)]
#[serde(untagged)]
enum SurchargeWire {
    // A number first (see `LineTaxWire`).
    Amount(Dec),
    Object(Surcharge),
}

/// A payment in either shape.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PaymentWire {
    id: Option<PaymentId>,
    name: Option<String>,
    register_id: Option<RegisterId>,
    outlet_id: Option<OutletId>,
    retailer_payment_type_id: Option<PaymentTypeId>,
    #[serde(with = "decode::string_opt")]
    payment_type_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<PaymentTypeWire>,
    source: Option<PaymentSourceWire>,
    #[serde(with = "decode::timestamp_opt")]
    payment_date: Option<DateTime<Utc>>,
    #[serde(with = "decode::timestamp_opt")]
    date: Option<DateTime<Utc>>,
    #[serde(with = "decode::decimal")]
    amount: Decimal,
    surcharge: Option<SurchargeWire>,
    #[serde(with = "decode::decimal_opt")]
    fee: Option<Decimal>,
}

impl From<PaymentWire> for Payment {
    fn from(w: PaymentWire) -> Self {
        let t = w.kind.unwrap_or_default();
        let s = w.source.unwrap_or_default();
        Payment {
            id: w.id.unwrap_or_default(),
            name: w.name.or(t.name),
            register_id: w.register_id.or(s.register_id),
            outlet_id: w.outlet_id.or(s.outlet_id),
            retailer_payment_type_id: w.retailer_payment_type_id.or(t.config_id),
            payment_type_id: w.payment_type_id.or(t.id),
            payment_date: w.payment_date.or(w.date),
            amount: w.amount,
            surcharge: match w.surcharge {
                Some(SurchargeWire::Object(s)) => Some(s),
                Some(SurchargeWire::Amount(a)) => Some(Surcharge {
                    rule: None,
                    amount: a.0,
                }),
                None => None,
            },
            fee: w.fee,
        }
    }
}

/// A sale tax in either shape (2.0 `amount`, 2026-07 `tax`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SaleTaxWire {
    #[serde(with = "decode::string_opt")]
    id: Option<String>,
    name: Option<String>,
    #[serde(with = "decode::decimal_opt")]
    rate: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    amount: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    tax: Option<Decimal>,
}

impl From<SaleTaxWire> for SaleTax {
    fn from(w: SaleTaxWire) -> Self {
        SaleTax {
            id: w.id,
            name: w.name,
            rate: w.rate,
            amount: w.amount.or(w.tax).unwrap_or_default(),
        }
    }
}

/// An adjustment in either shape (2.0 `type`/`value`, 2026-07 `adjustment_type`/`total`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AdjustmentWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    adjustment_type: Option<String>,
    name: Option<String>,
    #[serde(with = "decode::decimal_opt")]
    value: Option<Decimal>,
    #[serde(with = "decode::decimal_opt")]
    total: Option<Decimal>,
    #[serde(with = "decode::null_default")]
    tax_components: Vec<TaxComponent>,
}

impl From<AdjustmentWire> for Adjustment {
    fn from(w: AdjustmentWire) -> Self {
        Adjustment {
            kind: w.kind,
            adjustment_type: w.adjustment_type,
            name: w.name,
            value: w.value.or(w.total).unwrap_or_default(),
            tax_components: w.tax_components,
        }
    }
}
