//! The document a sale becomes: a pure builder from a Lightspeed sale and its resolved
//! references to the typed Business Central input, with the plan's fields derived from that
//! input in one place.

use std::collections::HashMap;

use business_central::models::{
    LineType, SalesInvoiceInput, SalesInvoiceLineInput, SalesOrderInput, SalesOrderLineInput,
};
use business_central::{CustomerId, ItemId, ItemVariantId, PaymentTermId};
use chrono::{DateTime, NaiveDate, Utc};
use lightspeed_x::{LineItemStatus, ProductId, Sale};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sync_core::fields::Fields;
use sync_core::key::{Caseless, KeyError, OrderRef};

use super::{DocumentKind, SalesOptions};

/// Longest external document number Business Central accepts.
pub const MAX_EXTERNAL_DOCUMENT_NUMBER: usize = 35;

/// Where a Lightspeed product is in Business Central.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef {
    /// The item.
    pub item: ItemId,
    /// The item variant, for a product written as a variant.
    pub variant: Option<ItemVariantId>,
}

/// A sale's customer as resolved before the document is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleCustomer {
    /// The sale names no customer (or only the walk-in customer).
    None,
    /// The sale's customer exists in Business Central with this id.
    Linked(CustomerId),
    /// The sale's customer would be ensured by a real run (a dry run writes nothing).
    Pending,
    /// The sale's customer cannot be matched (no usable e-mail address, no stored link).
    Unmatched,
}

/// A sale line's product as resolved before the document is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaleItem {
    /// The product's item (and variant) in Business Central.
    Found(ItemRef),
    /// The product is missing in Business Central (the label names it, usually by SKU).
    Missing(String),
    /// The product would be looked up or created by a real run (a dry run writes nothing).
    Pending,
}

/// What a sale's document is built from, besides the sale: everything read from either API.
#[derive(Debug, Clone)]
pub struct SaleReferences<'a> {
    /// The sale's customer.
    pub customer: SaleCustomer,
    /// Lightspeed product id -> its item; products not in the map are missing.
    pub items: &'a HashMap<ProductId, SaleItem>,
    /// Business Central payment terms code (compared without case) -> id.
    pub payment_terms: &'a HashMap<Caseless, PaymentTermId>,
    /// The time zone of the sale's outlet (dates are the outlet's local dates; UTC when unknown).
    pub time_zone: Option<chrono_tz::Tz>,
}

/// The typed Business Central input a sale becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum SalesDocumentInput {
    /// A sales order with its lines.
    Order(SalesOrderInput),
    /// A sales invoice with its lines.
    Invoice(SalesInvoiceInput),
}

/// A sale's document: its key, the typed input sent to Business Central, and what the plan shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesDocument {
    /// The external document number as a key, compared without case as Business Central does
    /// (an error when the sale cannot have one).
    pub key: Result<Caseless, KeyError>,
    /// The input sent (deep insert with lines).
    pub input: SalesDocumentInput,
    /// The sale lines' total, tax exclusive.
    pub total_excluding_tax: Decimal,
    /// The customer is still to be ensured (only in a dry run).
    pub customer_pending: bool,
}

/// Why a sale gets no document.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// What the report says.
    pub reason: String,
    /// The header fields known when it was rejected, for the activity log.
    pub fields: Option<Fields>,
}

impl Rejected {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            fields: None,
        }
    }
}

/// The external document number of a sale: the prefix then the invoice number.
pub fn external_document_number(sale: &Sale, prefix: &str) -> String {
    format!(
        "{prefix}{}",
        sale.invoice_number.as_deref().unwrap_or("").trim()
    )
}

/// The date of a sale in its outlet's zone (UTC when the zone is unknown).
pub fn local_date(at: Option<DateTime<Utc>>, tz: Option<chrono_tz::Tz>) -> Option<NaiveDate> {
    let at = at?;
    Some(match tz {
        Some(tz) => at.with_timezone(&tz).date_naive(),
        None => at.date_naive(),
    })
}

fn key_of(sale: &Sale, ext: &str) -> Result<Caseless, KeyError> {
    if sale
        .invoice_number
        .as_deref()
        .is_none_or(|n| n.trim().is_empty())
    {
        Err(KeyError::Missing)
    } else if ext.chars().count() > MAX_EXTERNAL_DOCUMENT_NUMBER {
        Err(KeyError::Invalid(format!(
            "external document number `{ext}` is longer than {MAX_EXTERNAL_DOCUMENT_NUMBER} characters"
        )))
    } else {
        OrderRef::parse(ext).map(|r| Caseless::new(r.as_str()))
    }
}

/// One document line before it takes the order's or the invoice's line type.
struct Line {
    item: ItemRef,
    quantity: Decimal,
    unit_price: Decimal,
}

/// Builds the document of an eligible sale from its resolved references: the external
/// document number (prefix + invoice number), the customer (the sale's own, else the default
/// customer number for sales without one), the date in the outlet's zone as document and
/// posting date, the payment terms of the first payment's type, and one item line per
/// non-voided product line (quantity and the unit price after discount, tax exclusive).
///
/// A sale whose customer cannot be matched without a default customer, whose payment terms
/// do not exist, or with a missing item, is rejected with the reason.
pub fn build(
    sale: &Sale,
    refs: &SaleReferences<'_>,
    options: &SalesOptions,
) -> Result<SalesDocument, Rejected> {
    let ext = external_document_number(sale, &options.external_document_prefix);
    let key = key_of(sale, &ext);
    let customer = match (refs.customer, &options.default_customer_number) {
        (SaleCustomer::Linked(id), _) => Customer::Id(id),
        (SaleCustomer::Pending, _) => Customer::Pending,
        (SaleCustomer::None | SaleCustomer::Unmatched, Some(default)) => {
            Customer::Number(default.clone())
        }
        (SaleCustomer::None, None) => {
            return Err(Rejected::new(
                "the sale has no customer and no default customer is configured",
            ));
        }
        (SaleCustomer::Unmatched, None) => {
            return Err(Rejected::new(
                "the sale's customer cannot be matched (no usable e-mail address, no stored link) and no default customer is configured",
            ));
        }
    };
    let date = local_date(sale.sale_date.or(sale.created_at), refs.time_zone);
    let terms = match sale
        .payments
        .first()
        .and_then(|p| p.name.as_deref())
        .and_then(|n| options.payment_terms.get(n))
    {
        None => None,
        Some(code) => match refs.payment_terms.get(&Caseless::new(code)) {
            Some(id) => Some(*id),
            None => {
                return Err(Rejected::new(format!(
                    "payment terms `{code}` do not exist in Business Central"
                )));
            }
        },
    };
    let mut lines = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    let mut total = Decimal::ZERO;
    for l in &sale.line_items {
        let Some(pid) = &l.product_id else { continue };
        if matches!(l.status, Some(LineItemStatus::Voided)) {
            continue;
        }
        match refs.items.get(pid) {
            Some(SaleItem::Found(item)) => {
                lines.push(Line {
                    item: *item,
                    quantity: l.quantity,
                    unit_price: l.price,
                });
                total += l.price_total;
            }
            Some(SaleItem::Pending) => {}
            Some(SaleItem::Missing(label)) => absent.push(label.clone()),
            None => absent.push(pid.0.clone()),
        }
    }
    let document = SalesDocument {
        key,
        input: input(options.document, &ext, &customer, date, terms, lines),
        total_excluding_tax: total,
        customer_pending: customer == Customer::Pending,
    };
    if !absent.is_empty() {
        absent.sort();
        absent.dedup();
        return Err(Rejected {
            reason: format!("items missing in Business Central: {}", absent.join(", ")),
            fields: Some(document.header_fields()),
        });
    }
    Ok(document)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Customer {
    Id(CustomerId),
    Number(String),
    Pending,
}

fn input(
    kind: DocumentKind,
    ext: &str,
    customer: &Customer,
    date: Option<NaiveDate>,
    terms: Option<PaymentTermId>,
    lines: Vec<Line>,
) -> SalesDocumentInput {
    match kind {
        DocumentKind::Order => {
            let mut d = SalesOrderInput::new().external_document_number(ext);
            match customer {
                Customer::Id(id) => d = d.customer_id(*id),
                Customer::Number(n) => d = d.customer_number(n.as_str()),
                Customer::Pending => {}
            }
            if let Some(date) = date {
                d = d.order_date(date).posting_date(date);
            }
            if let Some(t) = terms {
                d = d.payment_terms_id(t);
            }
            let mut line_inputs = Vec::with_capacity(lines.len());
            for l in lines {
                let mut i = SalesOrderLineInput::new()
                    .line_type(LineType::Item)
                    .item_id(l.item.item)
                    .quantity(l.quantity)
                    .unit_price(l.unit_price);
                if let Some(v) = l.item.variant {
                    i = i.item_variant_id(v);
                }
                line_inputs.push(i);
            }
            d.sales_order_lines = Some(line_inputs);
            SalesDocumentInput::Order(d)
        }
        DocumentKind::Invoice => {
            let mut d = SalesInvoiceInput::new().external_document_number(ext);
            match customer {
                Customer::Id(id) => d = d.customer_id(*id),
                Customer::Number(n) => d = d.customer_number(n.as_str()),
                Customer::Pending => {}
            }
            if let Some(date) = date {
                d = d.invoice_date(date).posting_date(date);
            }
            if let Some(t) = terms {
                d = d.payment_terms_id(t);
            }
            let mut line_inputs = Vec::with_capacity(lines.len());
            for l in lines {
                let mut i = SalesInvoiceLineInput::new()
                    .line_type(LineType::Item)
                    .item_id(l.item.item)
                    .quantity(l.quantity)
                    .unit_price(l.unit_price);
                if let Some(v) = l.item.variant {
                    i = i.item_variant_id(v);
                }
                line_inputs.push(i);
            }
            d.sales_invoice_lines = Some(line_inputs);
            SalesDocumentInput::Invoice(d)
        }
    }
}

impl SalesDocument {
    /// The request body (the input as JSON, lines included).
    pub fn body(&self) -> Map<String, Value> {
        let v = match &self.input {
            SalesDocumentInput::Order(d) => serde_json::to_value(d),
            SalesDocumentInput::Invoice(d) => serde_json::to_value(d),
        };
        match v {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        match &self.input {
            SalesDocumentInput::Order(d) => d.sales_order_lines.as_ref().map_or(0, Vec::len),
            SalesDocumentInput::Invoice(d) => d.sales_invoice_lines.as_ref().map_or(0, Vec::len),
        }
    }

    /// The header as the plan and the activity log show it: external document number,
    /// customer, date, payment terms.
    pub fn header_fields(&self) -> Fields {
        let (ext, customer_id, customer_number, date_field, date, terms) = match &self.input {
            SalesDocumentInput::Order(d) => (
                &d.external_document_number,
                d.customer_id,
                &d.customer_number,
                "orderDate",
                d.order_date,
                d.payment_terms_id,
            ),
            SalesDocumentInput::Invoice(d) => (
                &d.external_document_number,
                d.customer_id,
                &d.customer_number,
                "invoiceDate",
                d.invoice_date,
                d.payment_terms_id,
            ),
        };
        let mut f =
            Fields::new().with("externalDocumentNumber", ext.as_deref().unwrap_or_default());
        if let Some(id) = customer_id {
            f.insert("customerId", id.to_string());
        } else if let Some(n) = customer_number {
            f.insert("customerNumber", n.as_str());
        } else if self.customer_pending {
            f.insert("customerId", "(ensured on a real run)");
        }
        if let Some(d) = date {
            f.insert(date_field, d);
        }
        if let Some(t) = terms {
            f.insert("paymentTermsId", t.to_string());
        }
        f
    }

    /// What the plan and the activity log show: the header, the number of lines and the total.
    pub fn fields(&self) -> Fields {
        let mut f = self.header_fields();
        f.insert("lines", Decimal::from(self.line_count()));
        f.insert("totalExcludingTax", self.total_excluding_tax);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightspeed_x::{LineItem, Payment};
    use rust_decimal_macros::dec;
    use sync_core::fields::FieldValue;

    fn id<T: std::str::FromStr>(n: u64) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
    }

    fn line(product: &str, qty: Decimal, price: Decimal) -> LineItem {
        LineItem {
            product_id: Some(ProductId::new(product)),
            quantity: qty,
            price,
            price_total: qty * price,
            ..LineItem::default()
        }
    }

    fn sale() -> Sale {
        Sale {
            invoice_number: Some(" 1042 ".into()),
            sale_date: Some("2026-03-01T23:30:00Z".parse().unwrap()),
            line_items: vec![
                line("p1", dec!(2), dec!(9.50)),
                line("p2", dec!(1), dec!(3)),
            ],
            ..Sale::default()
        }
    }

    fn items() -> HashMap<ProductId, SaleItem> {
        HashMap::from([
            (
                ProductId::new("p1"),
                SaleItem::Found(ItemRef {
                    item: id(1),
                    variant: None,
                }),
            ),
            (
                ProductId::new("p2"),
                SaleItem::Found(ItemRef {
                    item: id(2),
                    variant: Some(id(3)),
                }),
            ),
        ])
    }

    fn options() -> SalesOptions {
        SalesOptions {
            external_document_prefix: "LS-".into(),
            ..SalesOptions::default()
        }
    }

    #[test]
    fn an_order_for_a_linked_customer_with_item_lines() {
        let items = items();
        let terms = HashMap::new();
        let refs = SaleReferences {
            customer: SaleCustomer::Linked(id(9)),
            items: &items,
            payment_terms: &terms,
            time_zone: Some(chrono_tz::Pacific::Auckland),
        };
        let doc = build(&sale(), &refs, &options()).unwrap();
        assert_eq!(doc.key.as_ref().unwrap().as_str(), "LS-1042");
        let SalesDocumentInput::Order(o) = &doc.input else {
            panic!("an order was expected")
        };
        assert_eq!(o.external_document_number.as_deref(), Some("LS-1042"));
        assert_eq!(o.customer_id, Some(id(9)));
        assert_eq!(o.customer_number, None);
        // 23:30 UTC is the next morning in Auckland.
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!((o.order_date, o.posting_date), (Some(day), Some(day)));
        let lines = o.sales_order_lines.as_ref().unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].item_id, Some(id(1)));
        assert_eq!(lines[0].item_variant_id, None);
        assert_eq!(lines[0].line_type, Some(LineType::Item));
        assert_eq!(
            (lines[0].quantity, lines[0].unit_price),
            (Some(dec!(2)), Some(dec!(9.50)))
        );
        assert_eq!(lines[1].item_variant_id, Some(id(3)));
        let f = doc.fields();
        assert_eq!(
            f.get("totalExcludingTax"),
            Some(&FieldValue::Decimal(dec!(22)))
        );
        assert_eq!(f.get("lines"), Some(&FieldValue::Decimal(dec!(2))));
        assert_eq!(f.get("orderDate"), Some(&FieldValue::from(day)));
        assert_eq!(
            f.get("customerId"),
            Some(&FieldValue::from(id::<CustomerId>(9).to_string()))
        );
        let body = doc.body();
        assert_eq!(body["externalDocumentNumber"], "LS-1042");
        assert_eq!(body["salesOrderLines"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["salesOrderLines"][0]["lineType"], "Item");
        assert_eq!(body["orderDate"], "2026-03-02");
    }

    #[test]
    fn an_invoice_for_the_default_customer_with_payment_terms() {
        let items = items();
        let terms = HashMap::from([(Caseless::new("COD"), id::<PaymentTermId>(7))]);
        let refs = SaleReferences {
            customer: SaleCustomer::None,
            items: &items,
            payment_terms: &terms,
            time_zone: None,
        };
        let mut o = options();
        o.document = DocumentKind::Invoice;
        o.default_customer_number = Some("10000".into());
        o.payment_terms.insert("Cash".into(), "cod".into());
        let mut s = sale();
        s.payments = vec![Payment {
            name: Some("Cash".into()),
            ..Payment::default()
        }];
        let doc = build(&s, &refs, &o).unwrap();
        let SalesDocumentInput::Invoice(i) = &doc.input else {
            panic!("an invoice was expected")
        };
        assert_eq!(i.customer_number.as_deref(), Some("10000"));
        assert_eq!(i.customer_id, None);
        assert_eq!(i.payment_terms_id, Some(id(7)));
        assert_eq!(i.invoice_date, NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(i.sales_invoice_lines.as_ref().map(Vec::len), Some(2));
        let f = doc.fields();
        assert_eq!(f.get("customerNumber"), Some(&FieldValue::from("10000")));
        assert!(f.get("orderDate").is_none());
        assert!(doc.body().contains_key("salesInvoiceLines"));
        // An unmatched customer goes to the default customer too.
        let refs = SaleReferences {
            customer: SaleCustomer::Unmatched,
            ..refs
        };
        let doc = build(&s, &refs, &o).unwrap();
        assert!(doc.fields().get("customerNumber").is_some());
    }

    #[test]
    fn discounted_lines_send_the_price_after_discount_and_voided_lines_are_left_out() {
        let items = items();
        let terms = HashMap::new();
        let refs = SaleReferences {
            customer: SaleCustomer::Linked(id(9)),
            items: &items,
            payment_terms: &terms,
            time_zone: None,
        };
        let mut s = sale();
        s.line_items = vec![
            LineItem {
                discount: dec!(2.50),
                discount_total: dec!(7.50),
                ..line("p1", dec!(3), dec!(7.50))
            },
            LineItem {
                status: Some(LineItemStatus::Voided),
                ..line("p2", dec!(1), dec!(3))
            },
            LineItem {
                product_id: None,
                ..line("p2", dec!(1), dec!(3))
            },
        ];
        let doc = build(&s, &refs, &options()).unwrap();
        let SalesDocumentInput::Order(o) = &doc.input else {
            panic!("an order was expected")
        };
        let lines = o.sales_order_lines.as_ref().unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].unit_price, Some(dec!(7.50)));
        assert_eq!(lines[0].quantity, Some(dec!(3)));
        assert_eq!(doc.total_excluding_tax, dec!(22.50));
    }

    #[test]
    fn returns_keep_negative_quantities() {
        let items = items();
        let terms = HashMap::new();
        let refs = SaleReferences {
            customer: SaleCustomer::Linked(id(9)),
            items: &items,
            payment_terms: &terms,
            time_zone: None,
        };
        let mut s = sale();
        s.line_items = vec![line("p1", dec!(-1), dec!(9.50))];
        let doc = build(&s, &refs, &options()).unwrap();
        assert_eq!(doc.total_excluding_tax, dec!(-9.50));
        assert_eq!(
            doc.body()["salesOrderLines"][0]["quantity"].to_string(),
            "-1"
        );
    }

    #[test]
    fn rejections_name_the_reason() {
        let items = items();
        let terms = HashMap::new();
        let refs = SaleReferences {
            customer: SaleCustomer::None,
            items: &items,
            payment_terms: &terms,
            time_zone: None,
        };
        let err = build(&sale(), &refs, &options()).unwrap_err();
        assert!(err.reason.contains("no default customer"), "{}", err.reason);
        let refs = SaleReferences {
            customer: SaleCustomer::Unmatched,
            ..refs
        };
        let err = build(&sale(), &refs, &options()).unwrap_err();
        assert!(err.reason.contains("cannot be matched"), "{}", err.reason);

        let mut o = options();
        o.payment_terms.insert("Card".into(), "NET30".into());
        let mut s = sale();
        s.payments = vec![Payment {
            name: Some("Card".into()),
            ..Payment::default()
        }];
        let refs = SaleReferences {
            customer: SaleCustomer::Linked(id(9)),
            ..refs
        };
        let err = build(&s, &refs, &o).unwrap_err();
        assert_eq!(
            err.reason,
            "payment terms `NET30` do not exist in Business Central"
        );

        let partial = HashMap::from([(ProductId::new("p1"), SaleItem::Missing("SKU-1".into()))]);
        let refs = SaleReferences {
            items: &partial,
            ..refs
        };
        let err = build(&sale(), &refs, &options()).unwrap_err();
        assert_eq!(err.reason, "items missing in Business Central: SKU-1, p2");
        let fields = err.fields.unwrap();
        assert_eq!(
            fields.get("externalDocumentNumber"),
            Some(&FieldValue::from("LS-1042"))
        );
    }

    #[test]
    fn pending_references_plan_a_document_without_them() {
        let items = HashMap::from([(ProductId::new("p1"), SaleItem::Pending)]);
        let terms = HashMap::new();
        let refs = SaleReferences {
            customer: SaleCustomer::Pending,
            items: &items,
            payment_terms: &terms,
            time_zone: None,
        };
        let mut s = sale();
        s.line_items.truncate(1);
        let doc = build(&s, &refs, &options()).unwrap();
        assert_eq!(
            doc.fields().get("customerId"),
            Some(&FieldValue::from("(ensured on a real run)"))
        );
        assert_eq!(doc.line_count(), 0);
        assert!(!doc.body().contains_key("customerId"));
    }

    #[test]
    fn keys_compare_without_case_as_business_central_does() {
        let mut s = sale();
        s.invoice_number = Some("ab-7".into());
        let lower = key_of(&s, &external_document_number(&s, "ls-")).unwrap();
        s.invoice_number = Some("AB-7".into());
        let upper = key_of(&s, &external_document_number(&s, "LS-")).unwrap();
        assert_eq!(lower, upper);
        assert_eq!(lower.as_str(), "ls-ab-7");
    }

    #[test]
    fn keys_refuse_missing_and_long_numbers() {
        let mut s = sale();
        s.invoice_number = Some("  ".into());
        assert_eq!(key_of(&s, "LS-"), Err(KeyError::Missing));
        s.invoice_number = Some("1".repeat(40));
        let ext = external_document_number(&s, "");
        assert!(matches!(key_of(&s, &ext), Err(KeyError::Invalid(_))));
    }
}
