//! Receiving webhooks: parse the form-encoded delivery into typed events (API 1.0 shapes: string
//! money, zone-less timestamps) and verify the `X-Signature` header.
//!
//! ```
//! use lightspeed_x::webhook::{self, WebhookEvent};
//! use lightspeed_x::WebhookType;
//! # let secret = secrecy::SecretString::from("client-secret");
//! let body = b"type=customer.update&payload=%7B%22id%22%3A%22c1%22%2C%22balance%22%3A%2212.50%22%7D";
//! let header = webhook::sign(&secret, body);
//! webhook::verify_signature(&secret, &header, body).unwrap();
//! let delivery = webhook::WebhookDelivery::parse(body).unwrap();
//! match delivery.event(None).unwrap() {
//!     WebhookEvent::CustomerUpdate(c) => assert_eq!(c.balance.to_string(), "12.50"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

use crate::decode;
use crate::enums::WebhookType;
use crate::ids::{ConsignmentId, CustomerId, OutletId, ProductId, RegisterId, SaleId, UserId};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

/// Why a webhook delivery was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is not a form with a `payload` field.
    #[error("webhook body has no `payload` form field")]
    MissingPayload,
    /// The body is not valid form encoding.
    #[error("webhook body is not form-encoded: {0}")]
    NotForm(String),
    /// The payload does not decode as the event type.
    #[error("webhook payload does not decode as {kind} at {path}: {message}")]
    Decode {
        /// Event type tried.
        kind: String,
        /// JSON path of the failing field.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The type is unknown and was not given.
    #[error("webhook type unknown: pass the type the webhook was registered for")]
    UnknownType,
    /// The `X-Signature` header is missing or malformed.
    #[error("malformed X-Signature header")]
    MalformedSignature,
    /// The header names an algorithm other than HMAC-SHA256.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The signature does not match the body.
    #[error("webhook signature does not match")]
    BadSignature,
}

/// A delivery as received: the raw JSON payload plus the optional form fields.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    /// The JSON payload text.
    pub payload: String,
    /// The `type` field, when sent.
    pub kind: Option<WebhookType>,
    /// The `domain_prefix` field, when sent.
    pub domain_prefix: Option<String>,
    /// The `environment` field, when sent.
    pub environment: Option<String>,
    /// The `retailer_id` field, when sent.
    pub retailer_id: Option<String>,
}

impl WebhookDelivery {
    /// Parses the raw `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| WebhookError::NotForm(e.to_string()))?;
        let mut out = WebhookDelivery {
            payload: String::new(),
            kind: None,
            domain_prefix: None,
            environment: None,
            retailer_id: None,
        };
        let mut have_payload = false;
        for (k, v) in fields {
            match k.as_str() {
                "payload" => {
                    out.payload = v;
                    have_payload = true;
                }
                "type" => out.kind = Some(WebhookType::parse(&v)),
                "domain_prefix" => out.domain_prefix = Some(v),
                "environment" => out.environment = Some(v),
                "retailer_id" => out.retailer_id = Some(v),
                _ => {}
            }
        }
        if !have_payload {
            return Err(WebhookError::MissingPayload);
        }
        Ok(out)
    }

    /// Decodes the payload as a typed event. `kind` is the type the webhook was registered for;
    /// when `None`, the delivery's own `type` field is used.
    pub fn event(&self, kind: Option<WebhookType>) -> Result<WebhookEvent, WebhookError> {
        let kind = kind
            .or_else(|| self.kind.clone())
            .ok_or(WebhookError::UnknownType)?;
        WebhookEvent::decode(&kind, &self.payload)
    }
}

/// A typed webhook event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// `sale.update`.
    SaleUpdate(Box<WebhookSale>),
    /// `product.update`.
    ProductUpdate(Box<WebhookProduct>),
    /// `customer.update`.
    CustomerUpdate(Box<WebhookCustomer>),
    /// `inventory.update`.
    InventoryUpdate(Box<WebhookInventory>),
    /// `register_closure.create`.
    RegisterClosureCreate(Box<WebhookRegisterClosure>),
    /// `consignment.send`.
    ConsignmentSend(Box<WebhookConsignmentProduct>),
    /// `consignment.receive`.
    ConsignmentReceive(Box<WebhookConsignmentProduct>),
    /// A type this crate does not know, with its raw payload.
    Other {
        /// The type.
        kind: String,
        /// The payload.
        payload: serde_json::Value,
    },
}

fn decode_as<T: for<'de> Deserialize<'de>>(
    kind: &WebhookType,
    payload: &str,
) -> Result<T, WebhookError> {
    let de = &mut serde_json::Deserializer::from_str(payload);
    serde_path_to_error::deserialize(de).map_err(|e| WebhookError::Decode {
        kind: kind.to_string(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

impl WebhookEvent {
    /// Decodes a JSON payload as the given type.
    pub fn decode(kind: &WebhookType, payload: &str) -> Result<Self, WebhookError> {
        Ok(match kind {
            WebhookType::SaleUpdate => {
                WebhookEvent::SaleUpdate(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::ProductUpdate => {
                WebhookEvent::ProductUpdate(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::CustomerUpdate => {
                WebhookEvent::CustomerUpdate(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::InventoryUpdate => {
                WebhookEvent::InventoryUpdate(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::RegisterClosureCreate => {
                WebhookEvent::RegisterClosureCreate(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::ConsignmentSend => {
                WebhookEvent::ConsignmentSend(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::ConsignmentReceive => {
                WebhookEvent::ConsignmentReceive(Box::new(decode_as(kind, payload)?))
            }
            WebhookType::Other(k) => WebhookEvent::Other {
                kind: k.clone(),
                payload: decode_as(kind, payload)?,
            },
        })
    }

    /// The event type.
    pub fn kind(&self) -> WebhookType {
        match self {
            WebhookEvent::SaleUpdate(_) => WebhookType::SaleUpdate,
            WebhookEvent::ProductUpdate(_) => WebhookType::ProductUpdate,
            WebhookEvent::CustomerUpdate(_) => WebhookType::CustomerUpdate,
            WebhookEvent::InventoryUpdate(_) => WebhookType::InventoryUpdate,
            WebhookEvent::RegisterClosureCreate(_) => WebhookType::RegisterClosureCreate,
            WebhookEvent::ConsignmentSend(_) => WebhookType::ConsignmentSend,
            WebhookEvent::ConsignmentReceive(_) => WebhookType::ConsignmentReceive,
            WebhookEvent::Other { kind, .. } => WebhookType::Other(kind.clone()),
        }
    }
}

/// `sale.update` payload (API 1.0 register sale).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSale {
    /// Sale id.
    pub id: SaleId,
    /// Register.
    pub register_id: Option<RegisterId>,
    /// Customer.
    pub customer_id: Option<CustomerId>,
    /// Cashier.
    pub user_id: Option<UserId>,
    /// Invoice number.
    #[serde(with = "decode::string_opt")]
    pub invoice_number: Option<String>,
    /// Legacy status (`CLOSED`, `SAVED`, `VOIDED`...).
    pub status: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Short code.
    pub short_code: Option<String>,
    /// Origin.
    pub source: Option<String>,
    /// External reference.
    pub source_id: Option<String>,
    /// Sale date.
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
    /// Customer snapshot.
    pub customer: Option<WebhookCustomer>,
    /// Lines.
    #[serde(with = "decode::null_default")]
    pub register_sale_products: Vec<WebhookSaleProduct>,
    /// Payments.
    #[serde(with = "decode::null_default")]
    pub register_sale_payments: Vec<WebhookSalePayment>,
    /// Tax totals.
    #[serde(with = "decode::null_default")]
    pub taxes: Vec<WebhookSaleTax>,
    /// Totals.
    #[serde(with = "decode::null_default")]
    pub totals: WebhookSaleTotals,
    /// Change counter.
    pub version: Option<i64>,
}

/// A line of a webhook sale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSaleProduct {
    /// Line id.
    pub id: Option<String>,
    /// Product.
    pub product_id: Option<ProductId>,
    /// Quantity.
    #[serde(with = "decode::decimal")]
    pub quantity: Decimal,
    /// Unit price, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub price: Decimal,
    /// Line total, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub price_total: Decimal,
    /// Unit tax.
    #[serde(with = "decode::decimal")]
    pub tax: Decimal,
    /// Line tax.
    #[serde(with = "decode::decimal")]
    pub tax_total: Decimal,
    /// Discount.
    #[serde(with = "decode::decimal")]
    pub discount: Decimal,
    /// Loyalty value.
    #[serde(with = "decode::decimal")]
    pub loyalty_value: Decimal,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Price set by hand.
    #[serde(with = "decode::flexible_bool")]
    pub price_set: bool,
}

/// A payment of a webhook sale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSalePayment {
    /// Payment id.
    pub id: Option<String>,
    /// Amount.
    #[serde(with = "decode::decimal")]
    pub amount: Decimal,
    /// When paid.
    #[serde(with = "decode::timestamp_opt")]
    pub payment_date: Option<DateTime<Utc>>,
    /// Retailer payment type.
    pub retailer_payment_type_id: Option<String>,
    /// Global payment type id.
    #[serde(with = "decode::string_opt")]
    pub payment_type_id: Option<String>,
}

/// A tax total of a webhook sale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSaleTax {
    /// Tax id.
    pub id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Rate.
    #[serde(with = "decode::decimal_opt")]
    pub rate: Option<Decimal>,
    /// Amount.
    #[serde(with = "decode::decimal")]
    pub tax: Decimal,
}

/// Totals of a webhook sale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSaleTotals {
    /// Total, tax exclusive.
    #[serde(with = "decode::decimal")]
    pub total_price: Decimal,
    /// Total tax.
    #[serde(with = "decode::decimal")]
    pub total_tax: Decimal,
    /// Total paid.
    #[serde(with = "decode::decimal")]
    pub total_payment: Decimal,
    /// Left to pay.
    #[serde(with = "decode::decimal")]
    pub total_to_pay: Decimal,
    /// Loyalty.
    #[serde(with = "decode::decimal")]
    pub total_loyalty: Decimal,
}

/// `customer.update` payload (API 1.0 customer with a nested `contact`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookCustomer {
    /// Customer id.
    pub id: CustomerId,
    /// Retailer.
    pub retailer_id: Option<String>,
    /// Customer code.
    pub customer_code: Option<String>,
    /// Customer group.
    pub customer_group_id: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company name.
    pub company_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// Balance.
    #[serde(with = "decode::decimal")]
    pub balance: Decimal,
    /// Loyalty balance.
    #[serde(with = "decode::decimal")]
    pub loyalty_balance: Decimal,
    /// Spend this year.
    #[serde(with = "decode::decimal")]
    pub year_to_date: Decimal,
    /// Loyalty enabled.
    #[serde(with = "decode::flexible_bool")]
    pub enable_loyalty: bool,
    /// Opted out of e-mail.
    #[serde(with = "decode::flexible_bool")]
    pub do_not_email: bool,
    /// Gender.
    pub sex: Option<String>,
    /// Date of birth.
    #[serde(with = "decode::timestamp_opt")]
    pub date_of_birth: Option<DateTime<Utc>>,
    /// Note.
    pub note: Option<String>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted (a deletion also fires `customer.update`).
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Contact details and addresses (`physical_address1`, no underscore before the digit).
    pub contact: Option<WebhookContact>,
}

/// The `contact` of a webhook customer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookContact {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company.
    pub company_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// Physical address line 1.
    pub physical_address1: Option<String>,
    /// Physical address line 2.
    pub physical_address2: Option<String>,
    /// Physical city.
    pub physical_city: Option<String>,
    /// Physical postcode.
    pub physical_postcode: Option<String>,
    /// Physical country.
    pub physical_country_id: Option<String>,
    /// Postal address line 1.
    pub postal_address1: Option<String>,
    /// Postal city.
    pub postal_city: Option<String>,
    /// Postal postcode.
    pub postal_postcode: Option<String>,
    /// Postal country.
    pub postal_country_id: Option<String>,
}

/// `product.update` payload (API 1.0 product; its inventory may be stale).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookProduct {
    /// Product id.
    pub id: ProductId,
    /// Name.
    pub name: Option<String>,
    /// Base name.
    pub base_name: Option<String>,
    /// Handle.
    pub handle: Option<String>,
    /// SKU.
    #[serde(with = "decode::string_opt")]
    pub sku: Option<String>,
    /// Active.
    #[serde(with = "decode::flexible_bool")]
    pub active: bool,
    /// Supply price.
    #[serde(with = "decode::decimal_opt")]
    pub supply_price: Option<Decimal>,
    /// Variant parent.
    pub variant_parent_id: Option<ProductId>,
    /// Origin.
    pub source: Option<String>,
    /// External reference.
    pub source_id: Option<String>,
    /// Stock per outlet (may be stale; prefer `inventory.update`).
    #[serde(with = "decode::null_default")]
    pub inventory: Vec<WebhookInventoryRecord>,
    /// Deleted.
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A stock record in a webhook product.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookInventoryRecord {
    /// Record id.
    pub id: Option<String>,
    /// Outlet.
    pub outlet_id: Option<OutletId>,
    /// Product.
    pub product_id: Option<ProductId>,
    /// Quantity on hand.
    #[serde(with = "decode::decimal")]
    pub count: Decimal,
    /// Reorder point.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_point: Option<Decimal>,
    /// Restock level.
    #[serde(with = "decode::decimal_opt")]
    pub restock_level: Option<Decimal>,
    /// Attributed cost.
    #[serde(with = "decode::decimal_opt")]
    pub attributed_cost: Option<Decimal>,
}

/// `inventory.update` payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookInventory {
    /// Record id.
    pub id: Option<String>,
    /// Outlet.
    pub outlet_id: OutletId,
    /// Product.
    pub product_id: ProductId,
    /// Quantity on hand.
    #[serde(with = "decode::decimal")]
    pub count: Decimal,
    /// Reorder point.
    #[serde(with = "decode::decimal_opt")]
    pub reorder_point: Option<Decimal>,
    /// Restock level.
    #[serde(with = "decode::decimal_opt")]
    pub restock_level: Option<Decimal>,
    /// Attributed cost.
    #[serde(with = "decode::decimal_opt")]
    pub attributed_cost: Option<Decimal>,
    /// The outlet, as sent (includes its `time_zone`).
    pub outlet: Option<serde_json::Value>,
    /// The product, as sent.
    pub product: Option<serde_json::Value>,
    /// Change counter.
    pub version: Option<i64>,
}

/// `register_closure.create` payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookRegisterClosure {
    /// Closure id.
    pub id: Option<String>,
    /// Register.
    pub register_id: Option<RegisterId>,
    /// Open sequence.
    #[serde(with = "decode::string_opt")]
    pub open_count_sequence: Option<String>,
    /// When opened.
    #[serde(with = "decode::timestamp_opt")]
    pub register_open_time: Option<DateTime<Utc>>,
    /// When closed.
    #[serde(with = "decode::timestamp_opt")]
    pub register_close_time: Option<DateTime<Utc>>,
    /// Totals by name (`sales`, `tax`, `payments`...).
    #[serde(deserialize_with = "decode::decimal_map::deserialize")]
    pub totals: BTreeMap<String, Decimal>,
    /// Taxes by tax id.
    #[serde(with = "decode::null_default")]
    pub taxes: BTreeMap<String, WebhookClosureTax>,
    /// Payments by payment type id.
    #[serde(with = "decode::null_default")]
    pub payments_summary: BTreeMap<String, WebhookClosurePayment>,
}

/// A tax total in a register closure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookClosureTax {
    /// Name.
    pub name: Option<String>,
    /// Tax amount.
    #[serde(with = "decode::decimal")]
    pub total: Decimal,
    /// Rate.
    #[serde(with = "decode::decimal")]
    pub rate: Decimal,
    /// Taxable amount.
    #[serde(with = "decode::decimal")]
    pub taxable: Decimal,
}

/// A payment total in a register closure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookClosurePayment {
    /// Payment type name.
    pub payment_type_name: Option<String>,
    /// Total.
    #[serde(with = "decode::decimal")]
    pub total: Decimal,
    /// Counted minus expected.
    #[serde(with = "decode::decimal")]
    pub discrepancy: Decimal,
}

/// `consignment.send` / `consignment.receive` payload (a consignment product line).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConsignmentProduct {
    /// Line id.
    pub id: Option<String>,
    /// Consignment.
    pub consignment_id: ConsignmentId,
    /// Product.
    pub product_id: ProductId,
    /// Ordered quantity.
    #[serde(with = "decode::decimal_opt")]
    pub count: Option<Decimal>,
    /// Received quantity.
    #[serde(with = "decode::decimal_opt")]
    pub received: Option<Decimal>,
    /// Unit cost.
    #[serde(with = "decode::decimal_opt")]
    pub cost: Option<Decimal>,
    /// Position.
    #[serde(with = "decode::int_lenient")]
    pub sequence_number: i64,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &SecretString, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key defensively.
    let mut m = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    m.update(body);
    m
}

/// Computes the `X-Signature` header value for a body (hex HMAC-SHA256 with the client secret).
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let tag = mac(secret, body).finalize().into_bytes();
    format!("signature={},algorithm=HMAC-SHA256", hex::encode(tag))
}

/// Verifies an `X-Signature` header (`signature=<hex or base64>,algorithm=HMAC-SHA256`) against
/// the raw request body, in constant time.
pub fn verify_signature(
    secret: &SecretString,
    header: &str,
    body: &[u8],
) -> Result<(), WebhookError> {
    let mut signature = None;
    let mut algorithm = None;
    for part in header.split(',') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "signature" => signature = Some(v.trim()),
            "algorithm" => algorithm = Some(v.trim()),
            _ => {}
        }
    }
    // Base64 values may end with '=' padding, which split_once above keeps in `v`.
    let signature = signature.ok_or(WebhookError::MalformedSignature)?;
    if let Some(alg) = algorithm {
        let norm = alg.to_ascii_uppercase().replace(['-', '_'], "");
        if norm != "HMACSHA256" {
            return Err(WebhookError::UnsupportedAlgorithm(alg.to_owned()));
        }
    }
    let candidates: Vec<Vec<u8>> = [
        hex::decode(signature).ok(),
        base64::engine::general_purpose::STANDARD
            .decode(signature)
            .ok(),
        base64::engine::general_purpose::URL_SAFE
            .decode(signature)
            .ok(),
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(signature)
            .ok(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .ok(),
    ]
    .into_iter()
    .flatten()
    .filter(|b| b.len() == 32)
    .collect();
    if candidates.is_empty() {
        return Err(WebhookError::MalformedSignature);
    }
    // `verify_slice` compares in constant time.
    if candidates
        .iter()
        .any(|c| mac(secret, body).verify_slice(c).is_ok())
    {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn secret() -> SecretString {
        SecretString::from("s3cr3t")
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = SecretString::from("Jefe");
        let body = b"what do ya want for nothing?";
        let want_hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        verify_signature(
            &key,
            &format!("signature={want_hex},algorithm=HMAC-SHA256"),
            body,
        )
        .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(want_hex).unwrap());
        verify_signature(
            &key,
            &format!("signature={b64},algorithm=HMAC-SHA256"),
            body,
        )
        .unwrap();
        assert_eq!(
            sign(&key, body),
            format!("signature={want_hex},algorithm=HMAC-SHA256")
        );
    }

    #[test]
    fn rejects_tampering_and_garbage() {
        let body = b"payload=%7B%7D";
        let header = sign(&secret(), body);
        assert_eq!(
            verify_signature(&secret(), &header, b"payload=%7B%22x%22%7D"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(&SecretString::from("other"), &header, body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(&secret(), "nonsense", body),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify_signature(&secret(), "signature=zz,algorithm=HMAC-SHA256", body),
            Err(WebhookError::MalformedSignature)
        );
        assert!(matches!(
            verify_signature(&secret(), "signature=00,algorithm=MD5", body),
            Err(WebhookError::UnsupportedAlgorithm(_))
        ));
    }

    fn form(kind: &str, payload: &str) -> Vec<u8> {
        serde_urlencoded::to_string([
            ("type", kind),
            ("payload", payload),
            ("domain_prefix", "demo"),
        ])
        .unwrap()
        .into_bytes()
    }

    #[test]
    fn sale_update_string_money_and_zoneless_dates() {
        let payload = r#"{"id":"s1","invoice_number":402,"status":"CLOSED","created_at":"2017-12-06 04:30:39",
          "sale_date":"2017-12-06T04:30:36Z","register_sale_products":[{"product_id":"p1","quantity":1,
          "price":"56.52174","tax":"8.47826","price_set":false}],"register_sale_payments":[{"amount":50,
          "payment_type_id":1,"payment_date":"2017-12-06T04:30:35Z"}],"taxes":[{"id":"t","rate":"0.15000","tax":9.52174}],
          "totals":{"total_price":"63.47826","total_tax":"9.52174","total_payment":"73.00000"},"extra_field":{"x":1},
          "version":5307658013}"#;
        let d = WebhookDelivery::parse(&form("sale.update", payload)).unwrap();
        assert_eq!(d.domain_prefix.as_deref(), Some("demo"));
        let WebhookEvent::SaleUpdate(s) = d.event(None).unwrap() else {
            panic!()
        };
        assert_eq!(s.invoice_number.as_deref(), Some("402"));
        assert_eq!(s.register_sale_products[0].price, dec!(56.52174));
        assert_eq!(s.register_sale_payments[0].amount, dec!(50));
        assert_eq!(s.totals.total_price + s.totals.total_tax, dec!(73.00000));
        assert_eq!(
            s.created_at.unwrap().to_rfc3339(),
            "2017-12-06T04:30:39+00:00"
        );
        assert_eq!(s.taxes[0].rate, Some(dec!(0.15)));
    }

    #[test]
    fn customer_inventory_consignment_closure_product() {
        let c = r#"{"id":"c","balance":"202.980","loyalty_balance":"8.60337","year_to_date":"404.07001",
           "date_of_birth":"1992-08-17 00:00:00","company_name":"Sherlock","contact":{"physical_address1":"221B Baker Street"}}"#;
        let WebhookEvent::CustomerUpdate(c) =
            WebhookEvent::decode(&WebhookType::CustomerUpdate, c).unwrap()
        else {
            panic!()
        };
        assert_eq!(c.balance, dec!(202.98));
        assert_eq!(
            c.contact.unwrap().physical_address1.as_deref(),
            Some("221B Baker Street")
        );

        let i = r#"{"attributed_cost":"15.57","count":10,"outlet_id":"o","product_id":"p","reorder_point":"0",
          "outlet":{"time_zone":"Pacific/Auckland"},"version":5105100802}"#;
        let WebhookEvent::InventoryUpdate(i) =
            WebhookEvent::decode(&WebhookType::InventoryUpdate, i).unwrap()
        else {
            panic!()
        };
        assert_eq!(i.count, dec!(10));
        assert_eq!(i.attributed_cost, Some(dec!(15.57)));

        let k = r#"{"consignment_id":"k","product_id":"p","count":"1.00000","received":null,"cost":0.3,"sequence_number":2}"#;
        let WebhookEvent::ConsignmentSend(k) =
            WebhookEvent::decode(&WebhookType::ConsignmentSend, k).unwrap()
        else {
            panic!()
        };
        assert_eq!(k.count, Some(dec!(1)));
        assert_eq!(k.received, None);
        assert_eq!(k.cost, Some(dec!(0.3)));
        let WebhookEvent::ConsignmentReceive(_) = WebhookEvent::decode(
            &WebhookType::ConsignmentReceive,
            r#"{"count":"8.00000","received":"8.00000","cost":4}"#,
        )
        .unwrap() else {
            panic!()
        };

        let r = r#"{"id":"r","open_count_sequence":"23","register_open_time":"2017-11-30 02:29:55",
          "totals":{"sales":"435.95700","onaccount":"0"},"taxes":{"t":{"name":"GST","total":"55.95654","rate":"0.150000","taxable":"373.04346"}},
          "payments_summary":{"p":{"payment_type_name":"Cash","total":0,"discrepancy":"0.00000"}}}"#;
        let WebhookEvent::RegisterClosureCreate(r) =
            WebhookEvent::decode(&WebhookType::RegisterClosureCreate, r).unwrap()
        else {
            panic!()
        };
        assert_eq!(r.totals["sales"], dec!(435.957));
        assert_eq!(r.taxes["t"].rate, dec!(0.15));

        let p = r#"{"id":"p","sku":10107,"supply_price":"4.00","inventory":[{"count":2,"outlet_id":"o","reorder_point":"0"}]}"#;
        let WebhookEvent::ProductUpdate(p) =
            WebhookEvent::decode(&WebhookType::ProductUpdate, p).unwrap()
        else {
            panic!()
        };
        assert_eq!(p.sku.as_deref(), Some("10107"));
        assert_eq!(p.inventory[0].count, dec!(2));
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert_eq!(
            WebhookDelivery::parse(b"foo=bar"),
            Err(WebhookError::MissingPayload)
        );
        let d = WebhookDelivery::parse(b"payload=%7B%7D").unwrap();
        assert_eq!(d.event(None), Err(WebhookError::UnknownType));
        let err = WebhookEvent::decode(
            &WebhookType::SaleUpdate,
            r#"{"totals":{"total_price":"abc"}}"#,
        )
        .unwrap_err();
        match err {
            WebhookError::Decode { path, .. } => assert_eq!(path, "totals.total_price"),
            other => panic!("{other:?}"),
        }
        assert!(WebhookEvent::decode(&WebhookType::SaleUpdate, "not json").is_err());
        let other =
            WebhookEvent::decode(&WebhookType::parse("gift_card.update"), r#"{"a":1}"#).unwrap();
        assert_eq!(other.kind(), WebhookType::Other("gift_card.update".into()));
    }
}
