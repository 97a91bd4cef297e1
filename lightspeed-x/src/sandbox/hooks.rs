//! Webhook payloads in the API 1.0 shapes (string money, zone-less dates) and their delivery.

use super::state::State;
use crate::enums::WebhookType;
use crate::models::*;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// An event waiting to be delivered to the matching webhooks.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub kind: WebhookType,
    pub payload: Value,
}

fn money(d: Decimal) -> String {
    format!("{:.5}", d)
}

fn zoneless(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(t.format("%Y-%m-%d %H:%M:%S").to_string()))
        .unwrap_or(Value::Null)
}

pub(crate) fn customer_payload(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "customer_code": c.customer_code,
        "customer_group_id": c.customer_group_id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "company_name": c.company_name,
        "email": c.email,
        "phone": c.phone,
        "mobile": c.mobile,
        "balance": money(c.balance),
        "loyalty_balance": money(c.loyalty_balance),
        "year_to_date": money(c.year_to_date),
        "enable_loyalty": c.enable_loyalty,
        "do_not_email": c.do_not_email,
        "points": 0,
        "note": c.note,
        "sex": c.gender,
        "date_of_birth": c.date_of_birth.as_ref().map(|d| format!("{d} 00:00:00")),
        "created_at": zoneless(c.created_at),
        "updated_at": zoneless(c.updated_at),
        "deleted_at": zoneless(c.deleted_at),
        "contact": {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company_name": c.company_name,
            "email": c.email,
            "phone": c.phone,
            "mobile": c.mobile,
            "physical_address1": c.physical_address_1,
            "physical_address2": c.physical_address_2,
            "physical_city": c.physical_city,
            "physical_postcode": c.physical_postcode,
            "physical_country_id": c.physical_country_id,
            "postal_address1": c.postal_address_1,
            "postal_city": c.postal_city,
            "postal_postcode": c.postal_postcode,
            "postal_country_id": c.postal_country_id,
        },
    })
}

pub(crate) fn customer_event(c: &Customer) -> Event {
    Event {
        kind: WebhookType::CustomerUpdate,
        payload: customer_payload(c),
    }
}

fn inventory_record(i: &Inventory) -> Value {
    json!({
        "id": i.id,
        "outlet_id": i.outlet_id,
        "product_id": i.product_id,
        "count": i.inventory_level,
        "reorder_point": i.reorder_point.map(|d| d.to_string()).unwrap_or_else(|| "0".into()),
        "restock_level": i.reorder_amount.map(|d| d.to_string()).unwrap_or_else(|| "0".into()),
        "attributed_cost": null,
    })
}

pub(crate) fn product_event(st: &State, p: &Product) -> Event {
    let inventory: Vec<Value> = st
        .inventory
        .all()
        .filter(|i| i.product_id == p.id)
        .map(inventory_record)
        .collect();
    Event {
        kind: WebhookType::ProductUpdate,
        payload: json!({
            "id": p.id,
            "name": p.variant_name.clone().unwrap_or_else(|| p.name.clone()),
            "base_name": p.name,
            "handle": p.handle,
            "sku": p.sku,
            "active": p.is_active,
            "supply_price": p.supply_price.map(money),
            "variant_parent_id": p.variant_parent_id,
            "source": p.source,
            "source_id": p.source_id,
            "inventory": inventory,
            "deleted_at": zoneless(p.deleted_at),
        }),
    }
}

pub(crate) fn inventory_event(st: &State, i: &Inventory) -> Event {
    let mut payload = inventory_record(i);
    if let Some(o) = st.outlets.get(i.outlet_id.as_str())
        && let Some(map) = payload.as_object_mut()
    {
        map.insert(
            "outlet".into(),
            json!({ "id": o.id, "name": o.name, "time_zone": o.time_zone.name() }),
        );
        map.insert("version".into(), json!(i.version));
    }
    Event {
        kind: WebhookType::InventoryUpdate,
        payload,
    }
}

pub(crate) fn sale_event(st: &State, s: &Sale) -> Event {
    let customer = s
        .customer_id
        .as_ref()
        .and_then(|c| st.customers.get(c.as_str()))
        .map(customer_payload);
    let lines: Vec<Value> = s
        .line_items
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "product_id": l.product_id,
                "quantity": l.quantity,
                "price": money(l.price),
                "price_total": money(l.price_total),
                "tax": money(l.tax),
                "tax_total": money(l.tax_total),
                "discount": money(l.discount),
                "loyalty_value": money(l.loyalty_value),
                "tax_id": l.tax_id,
                "price_set": l.price_set,
            })
        })
        .collect();
    let payments: Vec<Value> = s
        .payments
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "amount": p.amount,
                "payment_date": p.payment_date.map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                "retailer_payment_type_id": p.retailer_payment_type_id,
                "payment_type_id": 1,
            })
        })
        .collect();
    let paid: Decimal = s.payments.iter().map(|p| p.amount).sum();
    Event {
        kind: WebhookType::SaleUpdate,
        payload: json!({
            "id": s.id,
            "register_id": s.register_id,
            "customer_id": s.customer_id,
            "user_id": s.user_id,
            "invoice_number": s.invoice_number,
            "status": s.status,
            "note": s.note,
            "short_code": s.short_code,
            "source": s.source,
            "sale_date": s.sale_date.map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            "created_at": zoneless(s.created_at),
            "updated_at": s.updated_at.map(|d| crate::decode::format_timestamp(&d)),
            "deleted_at": zoneless(s.deleted_at),
            "customer": customer,
            "register_sale_products": lines,
            "register_sale_payments": payments,
            "totals": {
                "total_price": money(s.total_price),
                "total_tax": money(s.total_tax),
                "total_payment": money(paid),
                "total_to_pay": money(s.total_including_tax() - paid),
                "total_loyalty": money(s.total_loyalty),
            },
            "version": s.version,
        }),
    }
}
