//! Decoding fixtures written in the documented response shapes: encoded enum members, unknown
//! members and fields, exact decimals, `0001-01-01` as no date, the empty GUID as none.

use business_central::models::*;
use business_central::{Entity, ItemId, SalesOrderId};
use rust_decimal_macros::dec;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[derive(serde::Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[test]
fn customer_with_blank_enum_empty_guid_and_extra_fields() {
    let c: Customer = serde_json::from_str(&fixture("customer.json")).unwrap();
    assert_eq!(
        c.etag.as_ref().unwrap().as_str(),
        "W/\"JzE4Ozg5MDM2MzYwNDgyMzQ1NjE0MjE7MDA7Jw==\""
    );
    assert_eq!(
        c.entity_id().unwrap().to_string(),
        "b37406e8-eaf1-ef11-9b20-d99fd2b71a0f"
    );
    assert_eq!(c.blocked, CustomerBlocked::Blank);
    assert_eq!(c.blocked.caption(), " ");
    assert_eq!(c.r#type, ContactType::Company);
    assert_eq!(c.balance_due, dec!(1234567.891234));
    assert_eq!(c.payment_method_id, None, "empty GUID is none");
    assert_eq!(c.currency_id, None);
    assert!(c.payment_terms_id.is_some());
    assert_eq!(c.tax_area_display_name, "Inländ. Debitoren und Kreditoren");
    assert_eq!(
        c.last_modified_date_time.unwrap().to_rfc3339(),
        "2025-02-23T13:34:29.943+00:00"
    );
}

#[test]
fn items_page_with_encoded_unknown_and_null_values() {
    let page: Page<Item> = serde_json::from_str(&fixture("items.page.json")).unwrap();
    assert_eq!(page.value.len(), 3);
    assert!(page.next_link.unwrap().contains("$skiptoken="));
    let desk = &page.value[0];
    assert_eq!(desk.inventory, dec!(12.5));
    assert_eq!(
        desk.unit_cost.to_string(),
        "780.70000000000001",
        "no float rounding"
    );
    assert_eq!(desk.item_category_id, None);
    assert_eq!(desk.base_unit_of_measure_code, "PCS");
    let service = &page.value[1];
    assert_eq!(service.r#type, ItemType::NonInventory);
    assert_eq!(service.r#type.as_str(), "Non_x002D_Inventory");
    assert_eq!(service.r#type.caption(), "Non-Inventory");
    assert_eq!(
        service.unit_price,
        dec!(25.50),
        "decimal strings are accepted"
    );
    assert!(service.blocked);
    assert_eq!(
        service.last_modified_date_time.unwrap().to_rfc3339(),
        "2026-11-20T07:00:00.500+00:00"
    );
    let future = &page.value[2];
    assert_eq!(
        future.r#type,
        ItemType::Other("Subscription_x0020_Item".into())
    );
    assert_eq!(future.display_name, "", "null is empty");
    assert_eq!(future.inventory, dec!(0));
    assert_eq!(future.etag, None);
}

#[test]
fn sales_order_with_expanded_customer_and_lines() {
    let o: SalesOrder = serde_json::from_str(&fixture("salesOrder.expanded.json")).unwrap();
    assert_eq!(o.status, SalesOrderStatus::InReview);
    assert_eq!(o.requested_delivery_date, None, "0001-01-01 is no date");
    assert_eq!(o.order_date.unwrap().to_string(), "2026-11-08");
    assert_eq!(o.total_amount_including_tax, dec!(413.28));
    assert_eq!(o.shipment_method_id, None);
    assert_eq!(
        o.customer.as_ref().unwrap().blocked,
        CustomerBlocked::Invoice
    );
    let lines = o.sales_order_lines.unwrap();
    assert_eq!(
        lines[0].document_id,
        Some(SalesOrderId::new(o.id.unwrap().uuid()))
    );
    assert_eq!(
        lines[0].item_id,
        Some(
            "26814998-936a-401c-81c1-0e848a64971d"
                .parse::<ItemId>()
                .unwrap()
        )
    );
    assert_eq!(lines[0].account_id, None);
    assert_eq!(lines[0].outstanding_quantity(), dec!(2.5));
    assert_eq!(lines[0].tax_percent, dec!(23));
    assert_eq!(lines[1].line_type, LineType::AllocationAccount);
    assert_eq!(lines[1].shipment_date, None);
    assert_eq!(
        lines[2].line_type,
        LineType::Other("Some_x0020_New_x0020_Type".into())
    );
    assert_eq!(lines[2].outstanding_quantity(), dec!(0), "never below zero");
}

#[test]
fn item_ledger_entries_and_invoice_status() {
    let page: Page<ItemLedgerEntry> =
        serde_json::from_str(&fixture("itemLedgerEntries.page.json")).unwrap();
    assert_eq!(page.value[0].entry_type, ItemLedgerEntryType::PositiveAdjmt);
    assert_eq!(page.value[0].entry_type.caption(), "Positive Adjmt.");
    assert_eq!(page.value[0].source_type, SourceType::Blank);
    assert_eq!(
        page.value[1].document_type,
        ItemLedgerDocumentType::SalesShipment
    );
    assert_eq!(page.value[1].quantity, dec!(-1.5));
    assert_eq!(page.value[1].entry_number, 442);
    let inv: SalesInvoice = serde_json::from_str(&fixture("salesInvoice.json")).unwrap();
    assert_eq!(inv.status, SalesInvoiceStatus::Paid);
    assert_eq!(inv.promised_pay_date, None);
    assert_eq!(
        inv.order_id.unwrap().to_string(),
        "848028e0-0c2c-f011-9a4a-7ced8d0fb545"
    );
    assert_eq!(inv.dispute_status_id, None);
}

#[test]
fn inputs_serialize_only_set_fields_with_encoded_enums_and_exact_numbers() {
    let input = ItemInput::new()
        .number("1000")
        .type_(ItemType::NonInventory)
        .unit_price(dec!(19.90));
    let v = serde_json::to_string(&input).unwrap();
    assert_eq!(
        v,
        r#"{"number":"1000","type":"Non_x002D_Inventory","unitPrice":19.90}"#
    );
    let c = CustomerInput::new()
        .blocked(CustomerBlocked::Blank)
        .display_name("A");
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"displayName":"A","blocked":"_x0020_"}"#
    );
    let line = SalesOrderLineInput::new()
        .shipment_date(chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())
        .item_id("26814998-936a-401c-81c1-0e848a64971d".parse().unwrap());
    assert_eq!(
        serde_json::to_string(&line).unwrap(),
        r#"{"itemId":"26814998-936a-401c-81c1-0e848a64971d","shipmentDate":"2026-01-02"}"#
    );
    // Read models round-trip the empty values as Business Central writes them.
    let o: SalesOrder = serde_json::from_str(&fixture("salesOrder.expanded.json")).unwrap();
    let back = serde_json::to_value(&o).unwrap();
    assert_eq!(back["requestedDeliveryDate"], "0001-01-01");
    assert_eq!(
        back["shipmentMethodId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(back["status"], "In_x0020_Review");
}

#[test]
fn max_lengths_come_from_metadata() {
    let find =
        |fields: &[(&str, usize)], f: &str| fields.iter().find(|(n, _)| *n == f).map(|(_, m)| *m);
    assert_eq!(find(Item::MAX_LENGTHS, "number"), Some(20));
    assert_eq!(find(Item::MAX_LENGTHS, "gtin"), Some(14));
    assert_eq!(find(Customer::MAX_LENGTHS, "email"), Some(80));
    assert_eq!(find(Customer::MAX_LENGTHS, "addressLine2"), Some(50));
    assert_eq!(
        find(SalesOrder::MAX_LENGTHS, "externalDocumentNumber"),
        Some(35)
    );
    assert_eq!(find(ItemVariant::MAX_LENGTHS, "code"), Some(10));
    assert_eq!(find(Subscription::MAX_LENGTHS, "clientState"), Some(2048));
}
