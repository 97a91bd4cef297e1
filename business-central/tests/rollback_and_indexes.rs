//! Failed snapshot change sets and failed deep inserts leave the sandbox exactly as before
//! (rows, their order, ids, ETags, number series, unique keys); lookups stay right after
//! updates and deletes; server-driven pages resume after the last row answered.

use business_central::batch::{Batch, BatchOutcome};
use business_central::models::*;
use business_central::query::{Field, Query};
use business_central::sandbox::Sandbox;
use futures::TryStreamExt;
use rust_decimal_macros::dec;
use serde_json::Value;

const SETS: &[&str] = &[
    "items",
    "customers",
    "itemVariants",
    "salesOrders",
    "salesOrderLines",
    "salesInvoices",
    "salesInvoiceLines",
    "itemLedgerEntries",
];

/// Every row of the sets above, as stored.
fn dump(sb: &Sandbox) -> Vec<(&'static str, Vec<Value>)> {
    SETS.iter().map(|s| (*s, sb.rows(s))).collect()
}

/// The same without the times of day, to compare two sandboxes.
fn timeless(sb: &Sandbox) -> Vec<(&'static str, Vec<Value>)> {
    let mut d = dump(sb);
    for (_, rows) in &mut d {
        for r in rows {
            if let Some(m) = r.as_object_mut() {
                m.remove("lastModifiedDateTime");
            }
        }
    }
    d
}

fn item(sb: &Sandbox, number: &str) -> Item {
    sb.entities::<Item>()
        .into_iter()
        .find(|i| i.number == number)
        .unwrap()
}

fn order(ext: &str, items: &[&str]) -> SalesOrderInput {
    let mut o = SalesOrderInput::new()
        .customer_number("10000")
        .external_document_number(ext);
    for i in items {
        o = o.line(
            SalesOrderLineInput::new()
                .line_object_number(*i)
                .quantity(dec!(2)),
        );
    }
    o
}

/// Creates, a deep insert, an update of a unique key and deletes, then `failing` ops.
fn change_set(sb: &Sandbox, failing: bool) -> Batch {
    let client = sb.client();
    let company = client.company(sb.company_id());
    let (items, customers, orders) = (company.items(), company.customers(), company.sales_orders());
    let mut batch = Batch::new().snapshot(true);
    batch
        .create(
            "new-item",
            &items,
            &ItemInput::new().number("NEW-1").display_name("New"),
        )
        .unwrap();
    batch
        .create(
            "series-customer",
            &customers,
            &CustomerInput::new().display_name("From the number series"),
        )
        .unwrap();
    let i1000 = item(sb, "1000");
    batch
        .update(
            "renumber",
            &items,
            i1000.id.as_ref().unwrap(),
            i1000.etag.as_ref().unwrap(),
            &ItemInput::new().number("X-1000"),
        )
        .unwrap();
    batch
        .create("deep", &orders, &order("RB-1", &["1002", "1003"]))
        .unwrap();
    let c20000 = sb
        .entities::<Customer>()
        .into_iter()
        .find(|c| c.number == "20000")
        .unwrap();
    batch
        .delete(
            "del-customer",
            &customers,
            c20000.id.as_ref().unwrap(),
            c20000.etag.as_ref(),
        )
        .unwrap();
    let first_order = sb.entities::<SalesOrder>().remove(0);
    batch
        .delete("del-order", &orders, first_order.id.as_ref().unwrap(), None)
        .unwrap();
    if failing {
        batch
            .create(
                "dup",
                &customers,
                &CustomerInput::new().number("10000").display_name("Dup"),
            )
            .unwrap();
    }
    batch
}

#[tokio::test]
async fn failed_change_set_leaves_the_store_as_before() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let items = client.company(sb.company_id()).items();
    let before = dump(&sb);
    let stats = (sb.rows("salesOrderLines").len(), sb.rows("items").len());

    let mut resp = client.batch(&change_set(&sb, true)).await.unwrap();
    let dup = resp.take("dup").unwrap().into_result("dup").unwrap_err();
    assert_eq!(
        dup.code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    assert!(matches!(
        resp.take("new-item"),
        Some(BatchOutcome::NotExecuted)
    ));
    assert!(
        dump(&sb) == before,
        "rows, order, ids and ETags are as before"
    );
    assert_eq!(
        (sb.rows("salesOrderLines").len(), sb.rows("items").len()),
        stats
    );

    // The renumbered item is found under its old number again, with its old ETag...
    let found: Vec<Item> = items
        .list(Query::new().filter(Field::new("number").eq("1000")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].etag, item(&sb, "1000").etag);
    let by_new: Vec<Item> = items
        .list(Query::new().filter(Field::new("number").eq("X-1000")))
        .try_collect()
        .await
        .unwrap();
    assert!(by_new.is_empty());
    // ...its old number is taken again, and the numbers used in the change set are free.
    let taken = items
        .create(&ItemInput::new().number("1000").display_name("Again"))
        .await
        .unwrap_err();
    assert_eq!(
        taken.code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    for n in ["X-1000", "NEW-1"] {
        let created = items
            .create(&ItemInput::new().number(n).display_name("Free"))
            .await
            .unwrap();
        assert_eq!(created.number, n);
    }
}

#[tokio::test]
async fn retry_after_a_failed_change_set_matches_a_store_that_never_saw_it() {
    let failed = Sandbox::start().await.unwrap();
    let fresh = Sandbox::start().await.unwrap();
    let resp = failed
        .client()
        .batch(&change_set(&failed, true))
        .await
        .unwrap();
    assert!(!resp.all_succeeded());
    for sb in [&failed, &fresh] {
        let mut resp = sb.client().batch(&change_set(sb, false)).await.unwrap();
        assert!(resp.all_succeeded());
        let c: Customer = resp
            .take("series-customer")
            .unwrap()
            .decode("series-customer")
            .unwrap();
        assert_eq!(c.number, "C10010", "the number series was rolled back");
    }
    assert_eq!(item(&failed, "X-1000").number, "X-1000");
    assert!(
        timeless(&failed) == timeless(&fresh),
        "same ids, numbers, ETags and rows as a store without the failed attempt"
    );
}

#[tokio::test]
async fn failed_deep_insert_leaves_no_trace() {
    let failed = Sandbox::start().await.unwrap();
    let fresh = Sandbox::start().await.unwrap();
    let orders = failed.client().company(failed.company_id()).sales_orders();
    let before = dump(&failed);
    let e = orders
        .create_with_lines(&order("BAD-1", &["1000", "1002", "NO-SUCH-ITEM"]))
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().as_str(), "Application_DialogException");
    assert!(dump(&failed) == before);

    // In a batch that goes on after errors, the failed deep insert alone is undone.
    let client = failed.client();
    let company = client.company(failed.company_id());
    let mut batch = Batch::new().continue_on_error(true);
    batch
        .create(
            "k1",
            &company.customers(),
            &CustomerInput::new().number("K1").display_name("K1"),
        )
        .unwrap();
    batch
        .create(
            "bad",
            &company.sales_orders(),
            &order("BAD-2", &["1000", "NO-SUCH-ITEM"]),
        )
        .unwrap();
    let mut resp = client.batch(&batch).await.unwrap();
    assert!(resp.take("k1").unwrap().into_result("k1").is_ok());
    assert!(resp.take("bad").unwrap().into_result("bad").is_err());
    assert_eq!(failed.rows("salesOrders"), before[3].1);
    assert_eq!(failed.rows("salesOrderLines"), before[4].1);

    // The next order gets the id, number and ETags it would have had.
    let fresh_client = fresh.client();
    let fresh_company = fresh_client.company(fresh.company_id());
    fresh_company
        .customers()
        .create(&CustomerInput::new().number("K1").display_name("K1"))
        .await
        .unwrap();
    let fresh_orders = fresh_company.sales_orders();
    let a = orders
        .create_with_lines(&order("OK-1", &["1000", "1002"]))
        .await
        .unwrap();
    let b = fresh_orders
        .create_with_lines(&order("OK-1", &["1000", "1002"]))
        .await
        .unwrap();
    assert_eq!(a.number, b.number);
    assert_eq!(a.etag, b.etag);
    let line_ids = |o: &SalesOrder| {
        o.sales_order_lines
            .iter()
            .flatten()
            .map(|l| l.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(line_ids(&a).len(), 2);
    assert_eq!(line_ids(&a), line_ids(&b));
}

#[tokio::test]
async fn lookups_stay_right_after_updates_and_many_deletes() {
    let sb = Sandbox::builder().demo_data(false).start().await.unwrap();
    let client = sb.client();
    let items = client.company(sb.company_id()).items();
    let mut created = Vec::new();
    for b in 0..2 {
        let mut batch = Batch::new();
        for i in 0..100 {
            let n = b * 100 + i;
            batch
                .create(
                    format!("i{n}"),
                    &items,
                    &ItemInput::new()
                        .number(format!("T-{n:03}"))
                        .display_name("T"),
                )
                .unwrap();
        }
        let mut resp = client.batch(&batch).await.unwrap();
        for i in 0..100 {
            let id = format!("i{}", b * 100 + i);
            created.push(resp.take(&id).unwrap().decode::<Item>(&id).unwrap());
        }
    }
    // Delete all but every tenth, enough for the table to close its gaps.
    for chunk in created
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .collect::<Vec<_>>()
        .chunks(100)
    {
        let mut batch = Batch::new();
        for (i, it) in chunk {
            batch
                .delete(format!("d{i}"), &items, it.id.as_ref().unwrap(), None)
                .unwrap();
        }
        assert!(client.batch(&batch).await.unwrap().all_succeeded());
    }
    let kept: Vec<String> = sb
        .entities::<Item>()
        .into_iter()
        .map(|i| i.number)
        .collect();
    let expected: Vec<String> = (0..200).step_by(10).map(|n| format!("T-{n:03}")).collect();
    assert_eq!(kept, expected, "insertion order kept");

    let gone = items
        .get(created[1].id.as_ref().unwrap())
        .await
        .unwrap_err();
    assert_eq!(gone.code().unwrap().as_str(), "BadRequest_ResourceNotFound");
    let t150 = items.get(created[150].id.as_ref().unwrap()).await.unwrap();
    assert_eq!(t150.number, "T-150");

    // Renumber one; the old number is free, the new one taken, filters find the new one.
    let renamed = items
        .update(
            t150.id.as_ref().unwrap(),
            t150.etag.as_ref().unwrap(),
            &ItemInput::new().number("t-999"),
        )
        .await
        .unwrap();
    let found: Vec<Item> = items
        .list(
            Query::new().filter(
                Field::new("number")
                    .eq("T-999")
                    .or(Field::new("number").eq("T-010"))
                    .unwrap(),
            ),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|i| i.number.as_str()).collect::<Vec<_>>(),
        ["T-010", "t-999"]
    );
    let dup = items
        .create(&ItemInput::new().number("T-999").display_name("Dup"))
        .await
        .unwrap_err();
    assert_eq!(
        dup.code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    for n in ["T-150", "T-001"] {
        items
            .create(&ItemInput::new().number(n).display_name("Again"))
            .await
            .unwrap();
    }
    let last: Vec<String> = sb
        .entities::<Item>()
        .into_iter()
        .rev()
        .take(2)
        .map(|i| i.number)
        .collect();
    assert_eq!(last, ["T-001", "T-150"]);
    assert_eq!(renamed.number, "t-999");
}

/// Creates items `P-000`... with display names alternating `Even` and `Odd`.
async fn numbered_items(sb: &Sandbox, count: usize) -> Vec<Item> {
    let client = sb.client();
    let items = client.company(sb.company_id()).items();
    let mut out = Vec::new();
    for start in (0..count).step_by(100) {
        let mut batch = Batch::new();
        for n in start..(start + 100).min(count) {
            let name = if n % 2 == 0 { "Even" } else { "Odd" };
            batch
                .create(
                    format!("i{n}"),
                    &items,
                    &ItemInput::new()
                        .number(format!("P-{n:03}"))
                        .display_name(name),
                )
                .unwrap();
        }
        let mut resp = client.batch(&batch).await.unwrap();
        for n in start..(start + 100).min(count) {
            let id = format!("i{n}");
            out.push(resp.take(&id).unwrap().decode::<Item>(&id).unwrap());
        }
    }
    out
}

#[tokio::test]
async fn server_driven_pages_resume_where_the_last_one_ended() {
    let sb = Sandbox::builder().demo_data(false).start().await.unwrap();
    let created = numbered_items(&sb, 250).await;
    let client = sb.client();
    let items = client.company(sb.company_id()).items();

    // A filtered read in pages of 50: every match once, in order.
    let pages: Vec<_> = items
        .pages(
            Query::new()
                .filter(Field::new("displayName").eq("Even"))
                .page_size(50),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let numbers: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i.number.clone()))
        .collect();
    let expected: Vec<String> = (0..250).step_by(2).map(|n| format!("P-{n:03}")).collect();
    assert_eq!(numbers, expected);

    // Rows deleted before the next page do not make it skip rows: it starts after the last
    // row answered, as Business Central's key-based skip tokens do.
    let mut stream = items.pages(Query::new().page_size(50));
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.items.last().unwrap().number, "P-049");
    for it in &created[..10] {
        items.delete(it.id.as_ref().unwrap(), None).await.unwrap();
    }
    let second = stream.try_next().await.unwrap().unwrap();
    assert_eq!(second.items[0].number, "P-050");

    // A plain count is still a valid token, and a malformed one is refused.
    let link = first.next_link.unwrap();
    let (base, _) = link.split_once("$skiptoken=").unwrap();
    let page = items
        .resume(&format!("{base}$skiptoken=100"))
        .try_next()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        page.items[0].number, "P-110",
        "100 rows after the 10 deleted"
    );
    let bad = items
        .resume(&format!("{base}$skiptoken=1.2"))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(bad.code().unwrap().as_str(), "BadRequest");
}
