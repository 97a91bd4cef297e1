//! Decoding tests on fixtures written in the documented shapes.

use super::*;
use crate::enums::*;
use crate::ids::*;
use crate::paging::{Page, Single};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn misc(key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&fixture("misc.json")).unwrap();
    v[key].to_string()
}

#[test]
fn outlets_with_time_zones_and_unknown_fields() {
    let page: Page<Outlet> = serde_json::from_str(&fixture("outlets.json")).unwrap();
    assert_eq!(page.version.unwrap().max, Version(1002));
    assert_eq!(page.data[0].time_zone, Some(chrono_tz::Pacific::Auckland));
    assert_eq!(page.data[1].time_zone, Some(chrono_tz::Europe::Amsterdam));
    assert_eq!(page.data[0].display_prices, Some(DisplayPrices::Inclusive));
    assert_eq!(page.data[1].latitude.as_deref(), Some("-36.85"));
    assert_eq!(page.data[0].attributes[0].key, "order_reference_prefix");
}

#[test]
fn unknown_time_zone_is_a_decode_error_naming_it() {
    let body = r#"{"data":[{"id":"o","time_zone":"Mars/Olympus_Mons"}]}"#;
    let err = serde_json::from_str::<Page<Outlet>>(body)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Mars/Olympus_Mons"), "{err}");
}

#[test]
fn products_with_variants_codes_and_number_money() {
    let page: Page<Product> = serde_json::from_str(&fixture("products.json")).unwrap();
    let p = &page.data[0];
    assert_eq!(p.price_excluding_tax, Some(dec!(2.63158)));
    assert_eq!(p.price_including_tax, Some(dec!(3.02632)));
    assert_eq!(p.supply_price, Some(dec!(1.1)));
    assert_eq!(p.product_codes[0].kind, ProductCodeType::Ean);
    assert_eq!(p.product_codes[1].kind, ProductCodeType::Custom);
    assert_eq!(p.variant_options[1].value, "M");
    assert_eq!(p.brand.as_ref().unwrap().name, "Coastline");
    assert_eq!(p.product_type.as_ref().unwrap().name, "Shirts");
    assert_eq!(p.product_suppliers[0].price, Some(dec!(19)));
    assert_eq!(p.images[0].sizes["thumb"], "https://img.example/1t.jpg");
    assert_eq!(p.weight, Some(dec!(0.25)));
    assert_eq!(p.weight_unit, Some(WeightUnit::Kg));
    assert!(p.is_sellable());
    let old = &page.data[1];
    assert_eq!(old.price_including_tax, Some(dec!(12.50)));
    assert_eq!(
        old.deleted_at,
        Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap())
    );
}

#[test]
fn customers_number_and_string_money() {
    let page: Page<Customer> = serde_json::from_str(&fixture("customers.json")).unwrap();
    let tony = &page.data[0];
    assert_eq!(tony.balance, dec!(-25840.85));
    assert!(tony.is_company());
    assert_eq!(tony.date_of_birth.as_deref(), Some("1963-03-03"));
    let mere = &page.data[1];
    assert!(!mere.is_company());
    assert_eq!(mere.year_to_date, dec!(12));
    assert_eq!(mere.loyalty_balance, dec!(1.5));
    assert!(mere.enable_loyalty);
    assert_eq!(
        mere.created_at,
        Some(Utc.with_ymd_and_hms(2017, 2, 7, 22, 42, 29).unwrap())
    );
}

#[test]
fn sales_returns_parked_voided() {
    let page: Page<Sale> = serde_json::from_str(&fixture("sales.json")).unwrap();
    let s = &page.data[0];
    assert_eq!(s.total_price, dec!(201.5));
    assert_eq!(s.total_including_tax(), dec!(231.5));
    assert_eq!(s.line_items[0].tax_components[0].total_tax, dec!(30));
    assert_eq!(s.payments[0].amount, dec!(231.5));
    assert_eq!(s.payments[0].payment_type_id.as_deref(), Some("1"));
    assert_eq!(s.adjustments[0].value, dec!(1.5));
    assert!(s.is_closed() && !s.is_return());
    let r = &page.data[1];
    assert!(r.is_return());
    assert_eq!(r.line_items[0].quantity, dec!(-1));
    let parked = &page.data[2];
    assert_eq!(parked.state, Some(SaleState::Parked));
    assert_eq!(
        parked.attributes[1],
        SaleAttribute::Other("teleport".into())
    );
    assert!(!parked.is_closed());
    assert!(page.data[3].is_voided());
}

#[test]
fn inventory_without_envelope_version() {
    let page: Page<Inventory> = serde_json::from_str(&fixture("inventory.json")).unwrap();
    assert!(page.version.is_none());
    assert_eq!(page.max_version(), Some(Version(3426971)));
    assert_eq!(page.data[1].inventory_level, dec!(12.5));
    assert_eq!(page.data[2].inventory_level, dec!(-10));
    let newer: Inventory =
        serde_json::from_str(r#"{"id":"x","current_inventory_level":"7","version":1}"#).unwrap();
    assert_eq!(newer.inventory_level, dec!(7));
}

#[test]
fn other_resources() {
    let r: Single<Retailer> = serde_json::from_str(&misc("retailer")).unwrap();
    assert_eq!(r.data.timezone, Some(chrono_tz::Pacific::Auckland));
    assert_eq!(r.data.currency.unwrap().code, "NZD");

    let regs: Page<Register> = serde_json::from_str(&misc("registers")).unwrap();
    assert_eq!(regs.data[0].invoice_sequence, 3);
    assert!(regs.data[0].is_open);

    let users: Page<User> = serde_json::from_str(&misc("users")).unwrap();
    assert_eq!(users.data[0].account_type, Some(AccountType::Manager));
    assert_eq!(users.data[0].roles[0].id.as_deref(), Some("7"));
    assert_eq!(users.data[0].target_monthly, Some(dec!(1000)));

    let pts: Page<PaymentType> = serde_json::from_str(&misc("payment_types")).unwrap();
    assert_eq!(pts.data[1].type_id, 106);

    let taxes: Page<Tax> = serde_json::from_str(&misc("taxes")).unwrap();
    assert_eq!(taxes.data[1].total_rate(), dec!(0.15));

    let shifts: Page<Shift> = serde_json::from_str(&misc("shifts")).unwrap();
    assert_eq!(shifts.data[0].duration(), Some(chrono::Duration::hours(3)));
    assert_eq!(shifts.data[1].time_out, None);
    assert_eq!(
        shifts.data[1].time_in,
        Some(Utc.with_ymd_and_hms(2024, 6, 24, 8, 0, 0).unwrap())
    );

    let cons: Page<Consignment> = serde_json::from_str(&misc("consignments")).unwrap();
    assert_eq!(cons.data[0].kind, ConsignmentType::Supplier);
    assert_eq!(
        cons.data[1].status,
        ConsignmentStatus::Other("STOCKTAKE_FUTURE_STATE".into())
    );
    let lines: Page<ConsignmentProduct> =
        serde_json::from_str(&misc("consignment_products")).unwrap();
    assert_eq!(lines.data[0].cost, Some(dec!(4.50)));

    let hooks: Page<Webhook> = serde_json::from_str(&misc("webhooks")).unwrap();
    assert_eq!(hooks.data[0].kind, WebhookType::SaleUpdate);
}

#[test]
fn product_update_body_shape() {
    let body = ProductUpdate::inventory([InventoryLevel::set("o-1", dec!(21))]);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"details": {"inventory": [{"outlet_id": "o-1", "current_amount": 21}]}})
    );
}

#[test]
fn models_round_trip_through_json() {
    let page: Page<Sale> = serde_json::from_str(&fixture("sales.json")).unwrap();
    let text = serde_json::to_string(&page.data[0]).unwrap();
    let back: Sale = serde_json::from_str(&text).unwrap();
    assert_eq!(back, page.data[0]);
    let page: Page<Product> = serde_json::from_str(&fixture("products.json")).unwrap();
    let back: Product =
        serde_json::from_str(&serde_json::to_string(&page.data[0]).unwrap()).unwrap();
    assert_eq!(back, page.data[0]);
}

#[test]
fn sale_in_the_2026_07_shape_maps_to_the_same_fields() {
    let body = serde_json::json!({"data": {
        "id": "s1",
        "date": "2026-03-01T10:00:00+00:00",
        "state": "closed",
        "source": {"author": {"id": "u1"}, "id": "ext-9", "outlet_id": "o1", "register_id": "r1", "type": "SHOPIFY"},
        "totals": {"price": 10, "price_incl_tax": 11.5, "tax": 1.5, "loyalty": 0.2, "surcharge": 0},
        "return": {"is_return": false, "original_sale_id": null},
        "_metadata": {"version": 42},
        "line_items": [{
            "id": "l1", "product": {"id": "p1"}, "quantity": 2,
            "pricing": {"price": 5, "total": 10, "cost": 2, "cost_total": 4, "discount": 0, "discount_total": 0, "loyalty_amount": 0.1},
            "tax": {"id": "t1", "amount": 0.75, "total": 1.5},
            "return": {"is_return": false},
            "_metadata": {"is_price_override": true, "sequence": 3, "tax_components": [{"rate_id": "tr1", "total_tax": 1.5}]}
        }],
        "payments": [{
            "id": "pay1", "amount": 11.5, "date": "2026-03-01T10:00:05+00:00",
            "source": {"outlet_id": "o1", "register_id": "r1"},
            "type": {"config_id": "pt1", "id": "1", "name": "Cash"},
            "surcharge": {"rule": "card", "amount": 0.3}
        }],
        "taxes": [{"id": "t1", "tax": 1.5}],
        "adjustments": [{"adjustment_type": "SURCHARGE", "name": "Card fee", "total": 0.3}]
    }});
    let s: Single<Sale> = serde_json::from_value(body).unwrap();
    let s = s.data;
    assert_eq!(
        s.sale_date,
        Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap())
    );
    assert_eq!(s.user_id, Some(UserId::new("u1")));
    assert_eq!(s.outlet_id, Some(OutletId::new("o1")));
    assert_eq!(s.register_id, Some(RegisterId::new("r1")));
    assert_eq!(
        (s.source.as_deref(), s.source_id.as_deref()),
        (Some("SHOPIFY"), Some("ext-9"))
    );
    assert_eq!(
        (s.total_price, s.total_tax, s.total_loyalty),
        (dec!(10), dec!(1.5), dec!(0.2))
    );
    assert_eq!(s.total_including_tax(), dec!(11.5));
    assert_eq!(s.version, Some(Version(42)));
    assert!(s.is_closed());
    let l = &s.line_items[0];
    assert_eq!(l.product_id, Some(ProductId::new("p1")));
    assert_eq!(l.tax_id, Some(TaxId::new("t1")));
    assert_eq!(
        (l.quantity, l.price, l.price_total),
        (dec!(2), dec!(5), dec!(10))
    );
    assert_eq!(
        (l.cost, l.cost_total, l.loyalty_value),
        (dec!(2), dec!(4), dec!(0.1))
    );
    assert_eq!((l.tax, l.tax_total), (dec!(0.75), dec!(1.5)));
    assert!(l.price_set);
    assert_eq!(l.sequence, 3);
    assert_eq!(l.tax_components[0].total_tax, dec!(1.5));
    let p = &s.payments[0];
    assert_eq!(p.retailer_payment_type_id, Some(PaymentTypeId::new("pt1")));
    assert_eq!(p.name.as_deref(), Some("Cash"));
    assert_eq!(p.register_id, Some(RegisterId::new("r1")));
    assert_eq!(
        p.payment_date,
        Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 5).unwrap())
    );
    assert_eq!(
        p.surcharge,
        Some(Surcharge {
            rule: Some("card".into()),
            amount: dec!(0.3)
        })
    );
    assert_eq!(s.taxes[0].amount, dec!(1.5));
    assert_eq!(s.adjustments[0].kind(), Some("SURCHARGE"));
    assert_eq!(s.adjustments[0].value, dec!(0.3));
}

#[test]
fn surcharge_object_or_bare_amount_and_null_lists() {
    let sale = r#"{"id": "s", "status": "CLOSED", "attributes": null, "line_items": null,
        "taxes": null, "adjustments": null, "payments": [
        {"id": "a", "amount": "5.00", "surcharge": {"rule": "2 rates", "amount": "0.15"}},
        {"id": "b", "amount": 5, "surcharge": 0.2},
        {"id": "c", "amount": 5, "surcharge": null}]}"#;
    let s: Sale = serde_json::from_str(sale).unwrap();
    assert!(s.line_items.is_empty() && s.attributes.is_empty() && s.taxes.is_empty());
    let amounts: Vec<_> = s
        .payments
        .iter()
        .map(|p| p.surcharge.as_ref().map(|x| x.amount))
        .collect();
    assert_eq!(amounts, vec![Some(dec!(0.15)), Some(dec!(0.2)), None]);
    assert_eq!(
        s.payments[0].surcharge.as_ref().unwrap().rule.as_deref(),
        Some("2 rates")
    );
    let u: User =
        serde_json::from_str(r#"{"id": "u", "permissions": null, "roles": null}"#).unwrap();
    assert!(u.permissions.is_empty() && u.roles.is_empty());
    let empty: Page<User> =
        serde_json::from_str(r#"{"data": [], "version": {"min": null, "max": null}}"#).unwrap();
    assert_eq!(empty.version, None);
    let wrapped: Single<User> = serde_json::from_str(r#"{"data": [{"id": "u1"}]}"#).unwrap();
    assert_eq!(wrapped.data.id, UserId::new("u1"));
}

#[test]
fn line_tax_as_a_2_0_number_is_kept() {
    let l: LineItem =
        serde_json::from_str(r#"{"id": "l", "tax": 0.75, "tax_total": "1.50", "tax_id": "t"}"#)
            .unwrap();
    assert_eq!((l.tax, l.tax_total), (dec!(0.75), dec!(1.5)));
    assert_eq!(l.tax_id, Some(TaxId::new("t")));
    let l: LineItem = serde_json::from_str(r#"{"id": "l", "tax": "0.75"}"#).unwrap();
    assert_eq!(l.tax, dec!(0.75));
}
