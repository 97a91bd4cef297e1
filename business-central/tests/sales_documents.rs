//! Sales orders and invoices against the sandbox: deep insert, lines, outstanding quantities,
//! shipAndInvoice and post.

use business_central::models::*;
use business_central::query::{Expand, Field, Query};
use business_central::sandbox::Sandbox;
use business_central::{Error, SalesOrderId};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

#[tokio::test]
async fn open_orders_expose_outstanding_quantities() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    let orders: Vec<SalesOrder> = company
        .sales_orders()
        .list(
            Query::new()
                .filter(Field::new("status").eq(SalesOrderStatus::Open))
                .expand("salesOrderLines"),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(orders.len(), 3);
    let web1001 = orders
        .iter()
        .find(|o| o.external_document_number == "WEB-1001")
        .unwrap();
    let lines = web1001.sales_order_lines.as_ref().unwrap();
    let tshirt = lines
        .iter()
        .find(|l| l.line_object_number == "1002")
        .unwrap();
    assert_eq!(tshirt.quantity, dec!(5));
    assert_eq!(tshirt.shipped_quantity, dec!(2));
    assert_eq!(tshirt.outstanding_quantity(), dec!(3));
    assert_eq!(web1001.customer_name, "Adatum Corporation");
    assert_eq!(
        web1001.total_amount_excluding_tax,
        dec!(2) * dec!(89.95) + dec!(5) * dec!(39.50)
    );

    // Lines through the company-level set need a documentId filter, as in Business Central.
    let err = company
        .sales_order_lines()
        .list_all(Query::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Document Id"), "{err}");
    let by_doc = company
        .sales_order_lines()
        .list_all(Query::new().filter(Field::new("documentId").eq(web1001.id.unwrap())))
        .await
        .unwrap();
    assert_eq!(by_doc.len(), 2);
}

#[tokio::test]
async fn deep_insert_order_with_lines_then_ship_and_invoice() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    let before = sb.stats().requests;
    let input = SalesOrderInput::new()
        .customer_number("60000")
        .external_document_number("LS-10042")
        .line(
            SalesOrderLineInput::new()
                .line_object_number("1000")
                .quantity(dec!(2)),
        )
        .line(
            SalesOrderLineInput::new()
                .line_object_number("1005")
                .quantity(dec!(3))
                .unit_price(dec!(12.50)),
        )
        .line(
            SalesOrderLineInput::new()
                .line_type(LineType::Comment)
                .description("Gift, please wrap"),
        );
    let order = company
        .sales_orders()
        .create_with_lines(&input)
        .await
        .unwrap();
    assert_eq!(sb.stats().requests - before, 2, "token + one POST");
    assert!(order.number.starts_with("S-ORD"));
    assert_eq!(order.customer_name, "Siobhán O'Brien");
    assert_eq!(order.status, SalesOrderStatus::Draft);
    let lines = order.sales_order_lines.clone().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].sequence, 10000);
    assert_eq!(lines[0].unit_price, dec!(89.95));
    assert_eq!(lines[1].amount_excluding_tax, dec!(37.50));
    assert_eq!(order.total_amount_excluding_tax, dec!(179.90) + dec!(37.50));

    // Idempotency check before any retry: find by external document number (quote-safe).
    let found = company
        .sales_orders()
        .lookup("externalDocumentNumber", ["LS-10042"], 20, Query::new())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // Add, update and delete a line; the header's ETag changes with its lines.
    let order_lines = company.sales_orders().lines(order.id.unwrap());
    let extra = order_lines
        .create(
            &SalesOrderLineInput::new()
                .line_object_number("1006")
                .quantity(dec!(1)),
        )
        .await
        .unwrap();
    assert_eq!(extra.sequence, 40000);
    let extra = order_lines
        .update_entity(&extra, &SalesOrderLineInput::new().quantity(dec!(4)))
        .await
        .unwrap();
    assert_eq!(extra.amount_excluding_tax, dec!(96));
    let err = order_lines
        .update_entity(
            &extra,
            &SalesOrderLineInput::new().line_object_number("1000"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot change"), "{err}");
    order_lines
        .delete(&extra.id.unwrap(), extra.etag.as_ref())
        .await
        .unwrap();
    let header = company
        .sales_orders()
        .get(&order.id.unwrap())
        .await
        .unwrap();
    assert_ne!(header.etag, order.etag);

    // Ship and invoice: inventory goes down, a posted invoice appears, the order is gone.
    let inv_before = sb
        .entities::<Item>()
        .into_iter()
        .find(|i| i.number == "1000")
        .unwrap()
        .inventory;
    company
        .sales_orders()
        .ship_and_invoice(order.id.unwrap())
        .await
        .unwrap();
    let inv_after = sb
        .entities::<Item>()
        .into_iter()
        .find(|i| i.number == "1000")
        .unwrap()
        .inventory;
    assert_eq!(inv_before - inv_after, dec!(2));
    let gone = company.sales_orders().get(&order.id.unwrap()).await;
    assert!(matches!(gone, Err(Error::NotFound(_))));
    let invoices: Vec<SalesInvoice> = company
        .sales_invoices()
        .list(
            Query::new()
                .filter(Field::new("orderNumber").eq(order.number.as_str()))
                .expand("salesInvoiceLines"),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].status, SalesInvoiceStatus::Open);
    assert_eq!(invoices[0].sales_invoice_lines.as_ref().unwrap().len(), 3);
    let sales: Vec<ItemLedgerEntry> = company
        .item_ledger_entries()
        .list(Query::new().filter(Field::new("documentNumber").eq(invoices[0].number.as_str())))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sales.len(), 2);
    assert!(
        sales
            .iter()
            .all(|e| e.entry_type == ItemLedgerEntryType::Sale && e.quantity < Decimal::ZERO)
    );
}

#[tokio::test]
async fn partial_shipment_keeps_the_order() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    let order = company
        .sales_orders()
        .lookup(
            "externalDocumentNumber",
            ["WEB-1001"],
            5,
            Query::new().expand(Expand::new("salesOrderLines")),
        )
        .await
        .unwrap()
        .remove(0);
    let lines = company.sales_orders().lines(order.id.unwrap());
    let shoe = order
        .sales_order_lines
        .unwrap()
        .into_iter()
        .find(|l| l.line_object_number == "1000")
        .unwrap();
    lines
        .update_entity(&shoe, &SalesOrderLineInput::new().ship_quantity(dec!(1)))
        .await
        .unwrap();
    company
        .sales_orders()
        .ship_and_invoice(order.id.unwrap())
        .await
        .unwrap();
    let after = company
        .sales_orders()
        .get_with(&order.id.unwrap(), Query::new().expand("salesOrderLines"))
        .await
        .unwrap();
    let shoe = after
        .sales_order_lines
        .unwrap()
        .into_iter()
        .find(|l| l.line_object_number == "1000")
        .unwrap();
    assert_eq!(shoe.shipped_quantity, dec!(1));
    assert_eq!(shoe.outstanding_quantity(), dec!(1));
}

#[tokio::test]
async fn order_validation_errors() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    let err = company
        .sales_orders()
        .create(&SalesOrderInput::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("customerNumber"), "{err}");
    // A deep insert with a bad line creates nothing.
    let before = sb.entities::<SalesOrder>().len();
    let err = company
        .sales_orders()
        .create_with_lines(
            &SalesOrderInput::new()
                .customer_number("10000")
                .line(
                    SalesOrderLineInput::new()
                        .line_object_number("1000")
                        .quantity(dec!(1)),
                )
                .line(
                    SalesOrderLineInput::new()
                        .line_object_number("NOPE")
                        .quantity(dec!(1)),
                ),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match to an Item"),
        "{err}"
    );
    assert_eq!(sb.entities::<SalesOrder>().len(), before);
    // External document number over 35 characters: refused locally.
    let err = company
        .sales_orders()
        .create(
            &SalesOrderInput::new()
                .customer_number("10000")
                .external_document_number("E".repeat(36)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    // Lines nested in a deep insert are checked too.
    let err = company
        .sales_orders()
        .create_with_lines(
            &SalesOrderInput::new()
                .customer_number("10000")
                .line(SalesOrderLineInput::new().description("d".repeat(101))),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("salesOrderLines.description is 101"),
        "{err}"
    );
    let missing = company
        .sales_orders()
        .ship_and_invoice(SalesOrderId::new(uuid::Uuid::nil()))
        .await;
    assert!(matches!(missing, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn invoices_deep_insert_and_post() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    let inv = company
        .sales_invoices()
        .create_with_lines(
            &SalesInvoiceInput::new()
                .customer_number("70000")
                .external_document_number("POS-2026-0001")
                .line(
                    SalesInvoiceLineInput::new()
                        .line_object_number("1002")
                        .quantity(dec!(3)),
                ),
        )
        .await
        .unwrap();
    assert_eq!(inv.status, SalesInvoiceStatus::Draft);
    assert_eq!(inv.total_amount_excluding_tax, dec!(118.50));
    assert_eq!(inv.customer_name, "Jörg Müller");
    let lines = company.sales_invoices().lines(inv.id.unwrap());
    let added = lines
        .create(
            &SalesInvoiceLineInput::new()
                .line_object_number("9000")
                .quantity(dec!(1)),
        )
        .await
        .unwrap();
    assert_eq!(added.unit_price, dec!(5));
    company
        .sales_invoices()
        .post(inv.id.unwrap())
        .await
        .unwrap();
    let posted = company
        .sales_invoices()
        .get(&inv.id.unwrap())
        .await
        .unwrap();
    assert_eq!(posted.status, SalesInvoiceStatus::Open);
    let tshirt = sb
        .entities::<Item>()
        .into_iter()
        .find(|i| i.number == "1002")
        .unwrap();
    assert_eq!(tshirt.inventory, dec!(297));
    let again = company
        .sales_invoices()
        .post(inv.id.unwrap())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already been posted"), "{again}");
    let err = company
        .sales_invoices()
        .update_entity(
            &posted,
            &SalesInvoiceInput::new().external_document_number("X"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("posted"), "{err}");
}

#[tokio::test]
async fn open_order_quantities_by_item_in_one_request() {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    company.customers().list_all(Query::new()).await.unwrap();
    sb.reset_stats();
    let reserved = company.open_order_quantities().await.unwrap();
    assert_eq!(sb.stats().requests, 1);
    // WEB-1001: 1000 x2, 1002 x5 (2 shipped); WEB-1002: 1003 x1, 1005 x10 (4 shipped), 1000 x1;
    // WEB-1003: 1007 x3 (1 shipped).
    assert_eq!(reserved.get("1000"), Some(&dec!(3)));
    assert_eq!(reserved.get("1002"), Some(&dec!(3)));
    assert_eq!(reserved.get("1005"), Some(&dec!(6)));
    assert_eq!(reserved.get("1007"), Some(&dec!(2)));
    assert_eq!(reserved.get("1004"), None);
}
