//! Server-driven paging and OData queries against the sandbox.

use business_central::models::*;
use business_central::query::{Expand, Field, Filter, Order, Query};
use business_central::sandbox::Sandbox;
use business_central::{Error, InvalidInput};
use futures::{StreamExt, TryStreamExt};
use rust_decimal_macros::dec;

async fn with_customers(n: usize) -> Sandbox {
    let sb = Sandbox::start().await.unwrap();
    for i in 0..n {
        sb.insert::<Customer>(
            &CustomerInput::new()
                .number(format!("P{i:04}"))
                .display_name(format!("Paging customer {i}")),
        )
        .unwrap();
    }
    sb
}

#[tokio::test]
async fn follows_next_links_with_maxpagesize() {
    let sb = with_customers(25).await;
    let client = sb.client_builder().page_size(10).build().unwrap();
    let set = client.company(sb.company_id()).customers();
    sb.reset_stats();
    let all: Vec<Customer> = set.list(Query::new()).try_collect().await.unwrap();
    assert_eq!(all.len(), 33);
    let mut numbers: Vec<_> = all.iter().map(|c| c.number.clone()).collect();
    numbers.dedup();
    assert_eq!(numbers.len(), 33, "no duplicates across pages");
    assert_eq!(sb.stats().count("GET /v2.0/"), 4, "4 pages of at most 10");

    // Per-query page size and a resumable cursor.
    let mut pages = set.pages(Query::new().page_size(30));
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.items.len(), 30);
    let link = first.next_link.unwrap();
    assert!(!link.contains("$top"));
    let rest: Vec<_> = set.resume(&link).try_collect().await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].items.len(), 3);
    assert!(rest[0].next_link.is_none());
}

#[tokio::test]
async fn filters_with_quotes_non_ascii_dates_and_bulk_lookup() {
    let sb = Sandbox::start().await.unwrap();
    let customers = sb.client().company(sb.company_id()).customers();
    let by_name = customers
        .list_all(Query::new().filter(Field::new("displayName").eq("Siobhán O'Brien")))
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].number, "60000");
    let munich = customers
        .list_all(Query::new().filter(Field::new("city").starts_with("Münch")))
        .await
        .unwrap();
    assert_eq!(munich[0].display_name, "Jörg Müller");
    let contains = customers
        .list_all(Query::new().filter(Field::new("displayName").contains("&")))
        .await
        .unwrap();
    assert!(contains.is_empty());
    let weird = customers
        .create(&CustomerInput::new().display_name("A&B #1 + 50% = ?/'x'"))
        .await
        .unwrap();
    let found = customers
        .list_all(Query::new().filter(Field::new("displayName").eq("A&B #1 + 50% = ?/'x'")))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, weird.id);

    // Bulk key lookup in chunks: 3 requests for 7 numbers in chunks of 3.
    sb.reset_stats();
    let numbers = ["10000", "20000", "30000", "40000", "50000", "NOPE", "80000"];
    let hits = customers
        .lookup("number", numbers, 3, Query::new().select(["id", "number"]))
        .await
        .unwrap();
    assert_eq!(hits.len(), 6);
    assert_eq!(sb.stats().count("GET"), 3);

    // Incremental: modified since a watermark.
    let since = weird.last_modified_date_time.unwrap() - chrono::Duration::milliseconds(1);
    let changed = customers
        .list_all(Query::new().filter(Field::new("lastModifiedDateTime").gt(since)))
        .await
        .unwrap();
    assert!(changed.iter().any(|c| c.id == weird.id));
    let orders = sb.client().company(sb.company_id()).sales_orders();
    let today = chrono::Utc::now().date_naive();
    let recent = orders
        .list_all(
            Query::new().filter(
                Field::new("orderDate")
                    .ge(today)
                    .and(Field::new("customerId").eq(by_name[0].id.unwrap().uuid())),
            ),
        )
        .await
        .unwrap();
    assert!(recent.is_empty());
}

#[tokio::test]
async fn or_across_fields_refused_locally_and_by_the_server() {
    let local = Field::new("number").eq("1").or(Field::new("email").eq("x"));
    assert!(matches!(
        local,
        Err(Error::InvalidInput(InvalidInput::OrAcrossFields(_)))
    ));
    // A single-field `or` combined with another field under `and` is fine.
    let sb = Sandbox::start().await.unwrap();
    let items = sb.client().company(sb.company_id()).items();
    let f = Filter::any_of("number", ["1000", "1001", "9000"])
        .unwrap()
        .and(Field::new("type").eq(ItemType::Inventory));
    let got = items
        .list_all(Query::new().filter(f).order_by("unitPrice", Order::Desc))
        .await
        .unwrap();
    assert_eq!(
        got.iter().map(|i| i.number.as_str()).collect::<Vec<_>>(),
        ["1001", "1000"]
    );
    let cheap = items
        .list_all(
            Query::new().filter(
                Field::new("unitPrice")
                    .lt(dec!(20))
                    .and(Field::new("unitPrice").ge(dec!(14.90))),
            ),
        )
        .await
        .unwrap();
    assert_eq!(cheap.len(), 2);
}

#[tokio::test]
async fn select_and_nested_expand() {
    let sb = Sandbox::start().await.unwrap();
    let orders = sb.client().company(sb.company_id()).sales_orders();
    let q = Query::new()
        .filter(Field::new("externalDocumentNumber").eq("WEB-1002"))
        .select(["id", "number"])
        .expand(
            Expand::new("salesOrderLines")
                .select(["id", "quantity", "itemId", "lineObjectNumber"])
                .filter(Field::new("quantity").gt(1))
                .expand(Expand::new("item").select(["number", "inventory"])),
        )
        .expand("customer");
    let o = orders.list_all(q).await.unwrap().remove(0);
    assert_eq!(o.external_document_number, "", "not selected");
    let lines = o.sales_order_lines.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].quantity, dec!(10));
    assert_eq!(lines[0].description, "");
    let item = lines[0].item.as_ref().unwrap();
    assert_eq!((item.number.as_str(), item.inventory), ("1005", dec!(75)));
    assert_eq!(o.customer.unwrap().number, "20000");
}
