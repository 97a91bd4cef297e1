//! The API shapes of the sandbox's records, per version, as the official specs document them.
//!
//! A record is turned into a JSON object, then completed and reshaped here by the sandbox's own
//! field lists (every key the spec documents, with the value the real API sends when the store
//! has nothing: `null` where nullable, a placeholder image, the walk-in customer, ...). The 2026-07
//! shapes are built from the 2.0 ones (sales, inventory and payment types differ most).

use super::records::ApiRecord;
use super::routes::{Kind, Ver};
use super::state::State;
use serde_json::{Map, Value, json};

/// The placeholder image the real API sends for a product without one.
pub(crate) const PLACEHOLDER_IMAGE: &str =
    "https://secure.vendhq.com/images/placeholder/product/no-image-white-standard.png";
const PLACEHOLDER_THUMB: &str =
    "https://secure.vendhq.com/images/placeholder/product/no-image-white-thumb.png";

fn put(o: &mut Map<String, Value>, key: &str, value: Value) {
    if !o.contains_key(key) {
        o.insert(key.to_owned(), value);
    }
}

fn put_if_null(o: &mut Map<String, Value>, key: &str, value: Value) {
    if o.get(key).is_none_or(Value::is_null) {
        o.insert(key.to_owned(), value);
    }
}

/// The id of the store's walk-in customer (`customer_code` `WALKIN`), if there is one.
pub(crate) fn walkin_id(st: &State) -> Option<String> {
    st.customers
        .all()
        .find(|c| c.customer_code.as_deref() == Some("WALKIN"))
        .map(|c| c.id.0.clone())
}

/// The id of the store's default customer group ("All Customers").
pub(crate) fn default_group_id(st: &State) -> String {
    let r = st.retailer.id.0.as_str();
    if r.len() >= 8 {
        format!("{}-0000-4000-8000-00000000c0de", &r[..8])
    } else {
        "00000000-0000-4000-8000-00000000c0de".to_owned()
    }
}

/// A record in the API shape of a version.
pub(crate) fn render<T: ApiRecord>(st: &State, kind: Kind, v: Ver, row: &T) -> Value {
    let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
    let Some(o) = value.as_object_mut() else {
        return value;
    };
    match kind {
        Kind::Outlet => outlet(st, o, v),
        Kind::User => user(o),
        Kind::Product => product(st, o, v),
        Kind::Inventory => inventory(o, v),
        Kind::Customer => customer(st, o, v),
        Kind::Sale => return sale(st, o, v),
        Kind::PaymentType => payment_type(o, v),
        Kind::ConsignmentProduct => consignment_product(o),
        Kind::Register | Kind::Tax | Kind::Consignment | Kind::Shift => {}
    }
    value
}

fn outlet(st: &State, o: &mut Map<String, Value>, v: Ver) {
    // An outlet trades in the store's currency and uses the store's default tax unless set.
    let currency = st.retailer.currency.as_ref();
    put_if_null(
        o,
        "currency",
        json!(currency.map_or("NZD", |c| c.code.as_str())),
    );
    put_if_null(
        o,
        "currency_symbol",
        json!(currency.map_or("$", |c| c.symbol.as_str())),
    );
    if let Some(tax) = st.taxes.all().find(|t| t.is_default) {
        put_if_null(o, "default_tax_id", json!(tax.id));
    }
    // Text the store left empty is an empty string, never null.
    put_if_null(o, "email", json!(""));
    for k in [
        "physical_address_1",
        "physical_address_2",
        "physical_suburb",
        "physical_city",
        "physical_postcode",
        "physical_state",
        "physical_country_id",
    ] {
        put_if_null(o, k, json!(""));
    }
    if v == Ver::Dated {
        for k in ["latitude", "longitude", "phone"] {
            put(o, k, Value::Null);
        }
    }
}

/// A stable UUID-shaped id of a store-level object the sandbox does not model.
pub(crate) fn stable_id(st: &State, what: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in st.retailer.id.0.bytes().chain(what.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 4) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn user(o: &mut Map<String, Value>) {
    let id = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    let image = format!("https://secure.vendhq.com/images/placeholder/user/{id}.png");
    put_if_null(o, "image_source", json!(image));
    put_if_null(
        o,
        "images",
        json!({ "original": image, "standard": image, "thumb": image, "ss": image, "st": image, "sl": image, "sm": image }),
    );
    let created = o
        .get("created_at")
        .filter(|v| !v.is_null())
        .cloned()
        .unwrap_or(json!("2020-01-01T00:00:00+00:00"));
    put_if_null(o, "created_at", created.clone());
    put_if_null(o, "seen_at", created.clone());
    put_if_null(o, "updated_at", created);
    put(o, "enabled_mfa", Value::Null);
    put(o, "require_password_change", json!(false));
    put(o, "rules", json!({}));
    let tail: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    put(o, "switch_id", json!(format!("usi:{tail}")));
    put(o, "time_until_deletion", Value::Null);
    for k in ["target_daily", "target_weekly", "target_monthly"] {
        put_if_null(o, k, json!(0));
    }
}

/// Removes keys whose value is `null` (the API leaves such keys out rather than sending null).
fn drop_nulls(o: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if o.get(*k).is_some_and(Value::is_null) {
            o.remove(*k);
        }
    }
}

/// Removes every `null` in a value, at any depth.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, x| !x.is_null());
            o.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn product(st: &State, o: &mut Map<String, Value>, v: Ver) {
    let _ = st;
    put_if_null(o, "image_url", json!(PLACEHOLDER_IMAGE));
    put_if_null(o, "image_thumbnail_url", json!(PLACEHOLDER_THUMB));
    put_if_null(o, "supply_price", json!(0));
    // Objects the store has none of are empty objects (as in the spec's examples); inside them,
    // what the store does not know is left out.
    for k in ["brand", "supplier", "type", "product_type"] {
        if k != "product_type" {
            put_if_null(o, k, json!({}));
        }
        if let Some(inner) = o.get_mut(k).filter(|v| v.is_object()) {
            strip_nulls(inner);
        }
    }
    // Measurements and bills of materials are left out when the product has none.
    drop_nulls(
        o,
        &[
            "weight",
            "weight_unit",
            "length",
            "width",
            "height",
            "dimensions_unit",
            "composite_bom",
        ],
    );
    if v == Ver::Dated {
        put(o, "skuImages", json!([]));
        put(o, "customizations", json!([]));
        put(
            o,
            "packaging",
            json!({ "breaks_into": [], "made_from": [] }),
        );
        let pid = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        if let Some(Value::Array(codes)) = o.get_mut("product_codes") {
            for (n, c) in codes.iter_mut().enumerate() {
                if let Some(c) = c.as_object_mut() {
                    put(c, "id", json!(format!("{pid}-code-{n}")));
                }
            }
        }
    }
}

/// Consignment lines carry their quantities and cost as decimal strings (`"10.00000"`).
fn consignment_product(o: &mut Map<String, Value>) {
    for k in ["count", "received", "cost"] {
        match o.get(k).cloned() {
            Some(Value::Number(n)) => {
                let text = n.to_string();
                let fixed = text
                    .parse::<rust_decimal::Decimal>()
                    .map(|d| format!("{:.5}", d))
                    .unwrap_or(text);
                o.insert(k.to_owned(), json!(fixed));
            }
            Some(Value::String(_)) => {}
            _ if k == "received" => {
                o.insert(k.to_owned(), json!("0.00000"));
            }
            _ => {}
        }
    }
}

fn inventory(o: &mut Map<String, Value>, v: Ver) {
    if v == Ver::Dated {
        let level = o.remove("inventory_level").unwrap_or(json!(0));
        o.insert("current_inventory_level".into(), level);
        put(o, "quantity_to_procure", json!(0));
        put(o, "average_cost", Value::Null);
        put(o, "reorder_method", Value::Null);
        put(o, "reorder_target", Value::Null);
    }
}

fn customer(st: &State, o: &mut Map<String, Value>, v: Ver) {
    put_if_null(o, "customer_group_id", json!(default_group_id(st)));
    let created = o.get("created_at").cloned().unwrap_or(Value::Null);
    if created.is_null() {
        o.insert("created_at".into(), json!("2020-01-01T00:00:00+00:00"));
    }
    let created = o.get("created_at").cloned().unwrap_or(Value::Null);
    put_if_null(o, "updated_at", created);
    if o.get("customer_code").is_none_or(Value::is_null) {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        let tail = id.rsplit('-').next().unwrap_or("0000").to_uppercase();
        o.insert("customer_code".into(), json!(format!("C-{tail}")));
    }
    if v == Ver::Dated {
        put(o, "enable_promotional_sms", json!(false));
    }
}

fn payment_type(o: &mut Map<String, Value>, v: Ver) {
    if v == Ver::Dated {
        put(o, "disabled", json!(false));
        put(o, "internal", json!(false));
    }
}

fn sale(st: &State, o: &mut Map<String, Value>, v: Ver) -> Value {
    if o.get("customer_id").is_none_or(Value::is_null)
        && let Some(w) = walkin_id(st)
    {
        o.insert("customer_id".into(), json!(w));
    }
    let user_id = o.get("user_id").cloned().unwrap_or(Value::Null);
    put_if_null(o, "source_id", json!(""));
    if let Some(Value::Array(lines)) = o.get_mut("line_items") {
        for l in lines.iter_mut().filter_map(Value::as_object_mut) {
            put_if_null(l, "salesperson_id", user_id.clone());
        }
    }
    if let Some(Value::Array(payments)) = o.get_mut("payments") {
        for p in payments.iter_mut().filter_map(Value::as_object_mut) {
            drop_nulls(p, &["surcharge"]);
        }
    }
    if v == Ver::Legacy {
        return Value::Object(o.clone());
    }
    // The 2026-07 sale documents no nullable field: what a sale does not have is left out.
    let mut out = sale_2026(o);
    strip_nulls(&mut out);
    out
}

/// The 2026-07 sale: totals, sources and line pricing as nested objects.
fn sale_2026(o: &Map<String, Value>) -> Value {
    let g = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
    let num = |v: &Value| v.clone();
    let dec = |v: &Value| {
        v.to_string()
            .trim_matches('"')
            .parse::<rust_decimal::Decimal>()
            .unwrap_or_default()
    };
    // A JSON number with the decimal's exact digits.
    let out = |d: rust_decimal::Decimal| {
        serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap_or(json!(0))
    };
    let lines: Vec<Value> = o
        .get("line_items")
        .and_then(Value::as_array)
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    let f = |k: &str| l.get(k).cloned().unwrap_or(Value::Null);
                    json!({
                        "_metadata": {
                            "is_price_override": f("price_set"),
                            "sequence": f("sequence"),
                            "tax_components": f("tax_components"),
                        },
                        "customizations": [],
                        "gift_card_number": f("gift_card_number"),
                        "id": f("id"),
                        "note": f("note"),
                        "pricing": {
                            "cost": num(&f("cost")),
                            "cost_total": num(&f("cost_total")),
                            "discount": num(&f("discount")),
                            "discount_total": num(&f("discount_total")),
                            "loyalty_amount": num(&f("loyalty_value")),
                            "loyalty_amount_total": out(dec(&f("loyalty_value")) * dec(&f("quantity"))),
                            "price": num(&f("price")),
                            "total": num(&f("price_total")),
                        },
                        "product": { "id": f("product_id") },
                        "promotions": [],
                        "quantity": f("quantity"),
                        "return": { "is_return": f("is_return"), "reason": "" },
                        "salesperson_id": f("salesperson_id"),
                        "source": { "register_id": g("register_id") },
                        "status": f("status"),
                        "surcharges": [],
                        "tax": {
                            "amount": num(&f("tax")),
                            "id": f("tax_id"),
                            "total": num(&f("tax_total")),
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let payments: Vec<Value> = o
        .get("payments")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let f = |k: &str| p.get(k).cloned().unwrap_or(Value::Null);
                    json!({
                        "_metadata": { "register_open_sequence_id": g("register_open_sequence_id") },
                        "amount": f("amount"),
                        "billing_address_id": Value::Null,
                        "date": f("payment_date"),
                        "deleted_at": f("deleted_at"),
                        "external_applications": [],
                        "external_attributes": [],
                        "id": f("id"),
                        "source": {
                            "id": g("source_id"),
                            "outlet_id": f("outlet_id"),
                            "register_id": f("register_id"),
                        },
                        "surcharge": Value::Null,
                        "type": {
                            "config_id": f("retailer_payment_type_id"),
                            "id": f("payment_type_id"),
                            "name": f("name"),
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let taxes: Vec<Value> = o
        .get("taxes")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| json!({ "id": t.get("id"), "tax": t.get("amount") }))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "_metadata": {
            "complete_open_sequence_id": g("register_open_sequence_id"),
            "has_unsynced_on_account_payments": false,
            "version": g("version"),
            "xero_reference": Value::Null,
        },
        "adjustments": [],
        "attributes": o.get("attributes").cloned().unwrap_or(json!([])),
        "created_at": g("created_at"),
        "customer_id": g("customer_id"),
        "date": g("sale_date"),
        "deleted_at": g("deleted_at"),
        "ecom_custom_charges": [],
        "external_applications": [],
        "id": g("id"),
        "invoice_number": g("invoice_number"),
        "line_items": lines,
        "note": o.get("note").filter(|n| !n.is_null()).cloned().unwrap_or(json!("")),
        "payments": payments,
        "receipt_number": g("receipt_number"),
        "return": {
            "is_return": g("return_for").is_string(),
            "original_sale_id": g("return_for"),
            "return_sale_ids": [],
        },
        "short_code": g("short_code"),
        "source": {
            "author": { "id": g("user_id") },
            "id": g("source_id"),
            "outlet_id": g("outlet_id"),
            "register_id": g("register_id"),
            "type": g("source"),
        },
        "state": g("state"),
        "taxes": taxes,
        "totals": {
            "loyalty": g("total_loyalty"),
            "price": g("total_price"),
            "price_incl_tax": out(dec(&g("total_price")) + dec(&g("total_tax"))),
            "surcharge": 0,
            "tax": g("total_tax"),
        },
        "updated_at": g("updated_at"),
    })
}

/// The retailer in the API shape of a version.
pub(crate) fn retailer(st: &State, v: Ver) -> Value {
    let mut value = serde_json::to_value(&st.retailer).unwrap_or(Value::Null);
    if let Some(o) = value.as_object_mut() {
        put_if_null(o, "account_status", json!("active"));
        put_if_null(o, "account_type", json!("retailer"));
        put_if_null(o, "culture", json!("en-NZ"));
        put_if_null(
            o,
            "discount_product_id",
            json!(stable_id(st, "discount-product")),
        );
        put_if_null(
            o,
            "gift_cards",
            json!({ "enabled": false, "never_enabled": true }),
        );
        put_if_null(o, "loyalty", json!({ "enabled": false }));
        let prefix = st.retailer.domain_prefix.clone();
        put_if_null(
            o,
            "store_url",
            json!(format!("https://{prefix}.retail.lightspeed.app")),
        );
        if v == Ver::Dated {
            put(o, "embedded_barcode_option", json!("none"));
            put(o, "enable_line_item_consolidation", json!(false));
            put(o, "on_account", json!({}));
            put(o, "sso_enabled", json!(false));
        }
    }
    value
}

/// A webhook subscription in the API shape (`id`, `retailer_id`, `user_id`, `url`, `active`, `type`).
pub(crate) fn webhook(w: &super::records::WebhookRow) -> Value {
    serde_json::to_value(w).unwrap_or(Value::Null)
}

/// `GET /outlet_taxes` rows: per-outlet tax overrides of single products. The sandbox's products
/// all use their outlet's default tax, so there are none.
pub(crate) fn outlet_taxes(st: &State) -> Vec<Value> {
    let _ = st;
    Vec::new()
}
