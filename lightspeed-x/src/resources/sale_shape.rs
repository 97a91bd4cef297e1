//! The 2026-07 sale, read into the fields of [`crate::models::Sale`].
//!
//! `GET /sales` and `GET /sales/{id}` of the date versions answer a restructured sale: `date`,
//! `source {author {id}, outlet_id, register_id, id, type}`, `totals {price, tax, loyalty}`,
//! `_metadata.version`, `return {original_sale_id}`, taxes as `{id, tax}`, adjustments with a
//! `total`, lines with `product {id}`, `pricing {price, total, cost, ...}`, `tax {id, amount,
//! total}`, `return {is_return}` and `_metadata {sequence, is_price_override, tax_components}`,
//! payments with `date`, `type {config_id, id, name}` and `source {outlet_id, register_id}`.
//! [`sale_to_legacy`] moves each of these to the field the model reads (the 2.0 name), so one
//! model serves both versions. A record already in the 2.0 shape is left as it is, and a 2.0
//! field that is present is never overwritten.

use serde_json::{Map, Value};

/// Moves the 2026-07 fields of one sale record to their 2.0 names (see the module docs).
pub(crate) fn sale_to_legacy(sale: &mut Value) {
    let Some(sale) = sale.as_object_mut() else {
        return;
    };
    rename(sale, "date", "sale_date");
    if let Some(source) = take_object(sale, "source") {
        copy(&source, &["author", "id"], sale, "user_id");
        copy(&source, &["outlet_id"], sale, "outlet_id");
        copy(&source, &["register_id"], sale, "register_id");
        copy(&source, &["id"], sale, "source_id");
        copy(&source, &["type"], sale, "source");
    }
    if let Some(totals) = take_object(sale, "totals") {
        copy(&totals, &["price"], sale, "total_price");
        copy(&totals, &["tax"], sale, "total_tax");
        copy(&totals, &["loyalty"], sale, "total_loyalty");
    }
    if let Some(meta) = take_object(sale, "_metadata") {
        copy(&meta, &["version"], sale, "version");
    }
    if let Some(ret) = take_object(sale, "return") {
        copy(&ret, &["original_sale_id"], sale, "return_for");
    }
    for tax in objects(sale, "taxes") {
        rename(tax, "tax", "amount");
    }
    for adjustment in objects(sale, "adjustments") {
        rename(adjustment, "total", "value");
    }
    for line in objects(sale, "line_items") {
        line_to_legacy(line);
    }
    for payment in objects(sale, "payments") {
        payment_to_legacy(payment);
    }
}

fn line_to_legacy(line: &mut Map<String, Value>) {
    if let Some(product) = take_object(line, "product") {
        copy(&product, &["id"], line, "product_id");
    }
    if let Some(pricing) = take_object(line, "pricing") {
        for (from, to) in [
            ("price", "price"),
            ("total", "price_total"),
            ("cost", "cost"),
            ("cost_total", "cost_total"),
            ("discount", "discount"),
            ("discount_total", "discount_total"),
            ("loyalty_amount", "loyalty_value"),
        ] {
            copy(&pricing, &[from], line, to);
        }
    }
    // `tax` is a number (the unit tax) in 2.0 and an object in 2026-07.
    if let Some(tax) = take_object(line, "tax") {
        copy(&tax, &["id"], line, "tax_id");
        copy(&tax, &["amount"], line, "tax");
        copy(&tax, &["total"], line, "tax_total");
    }
    if let Some(ret) = take_object(line, "return") {
        copy(&ret, &["is_return"], line, "is_return");
    }
    if let Some(meta) = take_object(line, "_metadata") {
        copy(&meta, &["sequence"], line, "sequence");
        copy(&meta, &["is_price_override"], line, "price_set");
        copy(&meta, &["tax_components"], line, "tax_components");
    }
}

fn payment_to_legacy(payment: &mut Map<String, Value>) {
    rename(payment, "date", "payment_date");
    if let Some(kind) = take_object(payment, "type") {
        copy(&kind, &["config_id"], payment, "retailer_payment_type_id");
        copy(&kind, &["id"], payment, "payment_type_id");
        copy(&kind, &["name"], payment, "name");
    }
    if let Some(source) = take_object(payment, "source") {
        copy(&source, &["outlet_id"], payment, "outlet_id");
        copy(&source, &["register_id"], payment, "register_id");
    }
}

/// Removes `key` when it holds an object (the 2026-07 form) and returns it.
fn take_object(map: &mut Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    if !map.get(key).is_some_and(Value::is_object) {
        return None;
    }
    match map.remove(key) {
        Some(Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// Moves `from` to `to` unless `to` is already there.
fn rename(map: &mut Map<String, Value>, from: &str, to: &str) {
    if map.contains_key(to) {
        return;
    }
    if let Some(v) = map.remove(from) {
        map.insert(to.to_owned(), v);
    }
}

/// Sets `to` from the value at `path` inside `source`, unless `to` is already there or the value
/// is missing.
fn copy(source: &Map<String, Value>, path: &[&str], target: &mut Map<String, Value>, to: &str) {
    if target.contains_key(to) {
        return;
    }
    let mut value = None;
    let mut at = source;
    for (i, key) in path.iter().enumerate() {
        match at.get(*key) {
            Some(Value::Object(o)) if i + 1 < path.len() => at = o,
            Some(v) if i + 1 == path.len() => value = Some(v.clone()),
            _ => return,
        }
    }
    if let Some(v) = value {
        target.insert(to.to_owned(), v);
    }
}

/// The objects of the array at `key` (none when it is missing or not an array).
fn objects<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Sale;
    use rust_decimal_macros::dec;
    use serde_json::json;

    /// A sale in the 2026-07 response schema of `GET /sales/{sale_id}`.
    fn dated_sale() -> Value {
        json!({
            "id": "s-1",
            "date": "2026-07-03T10:00:00Z",
            "state": "closed",
            "attributes": [],
            "customer_id": "c-1",
            "invoice_number": "INV-1",
            "note": "n",
            "source": {"author": {"id": "u-1"}, "outlet_id": "o-1", "register_id": "r-1",
                       "id": "ext-9", "type": "USER"},
            "totals": {"price": 20.5, "price_incl_tax": 23.575, "tax": 3.075, "loyalty": 0,
                       "surcharge": 0},
            "_metadata": {"version": 4411},
            "return": {"is_return": false, "original_sale_id": "s-0", "return_sale_ids": []},
            "taxes": [{"id": "t-1", "tax": 3.075}],
            "adjustments": [{"adjustment_type": "SURCHARGE", "name": "Card", "total": 0.5}],
            "line_items": [{
                "id": "l-1", "quantity": 2, "note": "gift", "status": "CONFIRMED",
                "salesperson_id": "u-2",
                "product": {"id": "p-1"},
                "pricing": {"price": 10.25, "total": 20.5, "cost": 4, "cost_total": 8,
                            "discount": 0, "discount_total": 0, "loyalty_amount": 0},
                "tax": {"id": "t-1", "amount": 1.5375, "total": 3.075},
                "return": {"is_return": false},
                "_metadata": {"sequence": 1, "is_price_override": true,
                              "tax_components": [{"rate_id": "rate-1", "total_tax": 3.075}]},
                "source": {"register_id": "r-1"}
            }],
            "payments": [{
                "id": "pay-1", "amount": 23.575, "date": "2026-07-03T10:01:00Z",
                "type": {"config_id": "pt-1", "id": "1", "name": "Cash"},
                "source": {"outlet_id": "o-1", "register_id": "r-1"}
            }]
        })
    }

    #[test]
    fn a_dated_sale_reads_into_the_model() {
        let mut v = dated_sale();
        sale_to_legacy(&mut v);
        let s: Sale = serde_json::from_value(v).unwrap();
        assert_eq!(s.id.as_str(), "s-1");
        assert_eq!(
            s.sale_date.unwrap().to_rfc3339(),
            "2026-07-03T10:00:00+00:00"
        );
        assert_eq!(s.user_id.unwrap().as_str(), "u-1");
        assert_eq!(s.outlet_id.unwrap().as_str(), "o-1");
        assert_eq!(s.register_id.unwrap().as_str(), "r-1");
        assert_eq!(s.source.as_deref(), Some("USER"));
        assert_eq!(s.source_id.as_deref(), Some("ext-9"));
        assert_eq!(s.return_for.unwrap().as_str(), "s-0");
        assert_eq!((s.total_price, s.total_tax), (dec!(20.5), dec!(3.075)));
        assert_eq!(s.version, Some(crate::Version(4411)));
        assert_eq!(s.taxes[0].amount, dec!(3.075));
        assert_eq!(s.adjustments[0].value, dec!(0.5));
        let l = &s.line_items[0];
        assert_eq!(l.product_id.as_ref().unwrap().as_str(), "p-1");
        assert_eq!(l.tax_id.as_ref().unwrap().as_str(), "t-1");
        assert_eq!(
            (l.price, l.price_total, l.cost_total),
            (dec!(10.25), dec!(20.5), dec!(8))
        );
        assert_eq!((l.tax, l.tax_total), (dec!(1.5375), dec!(3.075)));
        assert_eq!((l.sequence, l.price_set, l.is_return), (1, true, false));
        assert_eq!(l.tax_components[0].total_tax, dec!(3.075));
        assert_eq!(l.salesperson_id.as_ref().unwrap().as_str(), "u-2");
        let p = &s.payments[0];
        assert_eq!(
            p.retailer_payment_type_id.as_ref().unwrap().as_str(),
            "pt-1"
        );
        assert_eq!(p.payment_type_id.as_deref(), Some("1"));
        assert_eq!(p.name.as_deref(), Some("Cash"));
        assert_eq!(p.amount, dec!(23.575));
        assert!(p.payment_date.is_some());
        assert_eq!(p.register_id.as_ref().unwrap().as_str(), "r-1");
    }

    #[test]
    fn a_legacy_sale_is_left_alone() {
        let legacy = json!({
            "id": "s-2", "sale_date": "2026-07-03T10:00:00Z", "source": "USER", "user_id": "u-1",
            "total_price": 10, "version": 7,
            "line_items": [{"id": "l", "product_id": "p", "tax": 1.5, "tax_id": "t", "price": 10}],
            "payments": [{"id": "pay", "payment_date": "2026-07-03T10:00:00Z", "amount": 11.5,
                          "surcharge": {"rule": "r", "amount": 0}}]
        });
        let mut v = legacy.clone();
        sale_to_legacy(&mut v);
        assert_eq!(v, legacy);
    }
}
