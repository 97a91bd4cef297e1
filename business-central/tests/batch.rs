//! `$batch` against the sandbox: creates, per-operation errors, stop-at-first-failure,
//! continue-on-error and snapshot rollback.

use business_central::batch::{Batch, BatchOutcome};
use business_central::models::*;
use business_central::query::Query;
use business_central::sandbox::Sandbox;
use business_central::{Error, InvalidInput};
use rust_decimal_macros::dec;

fn customer(n: &str) -> CustomerInput {
    CustomerInput::new()
        .number(n)
        .display_name(format!("Batch {n}"))
}

#[tokio::test]
async fn batch_of_creates_is_one_request() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let customers = client.company(sb.company_id()).customers();
    let mut batch = Batch::new();
    for i in 0..50 {
        batch
            .create(format!("c{i}"), &customers, &customer(&format!("B{i:03}")))
            .unwrap();
    }
    let orders = client.company(sb.company_id()).sales_orders();
    batch
        .create(
            "order",
            &orders,
            &SalesOrderInput::new().customer_number("B000").line(
                SalesOrderLineInput::new()
                    .line_object_number("1000")
                    .quantity(dec!(1)),
            ),
        )
        .unwrap();
    sb.reset_stats();
    let mut resp = client.batch(&batch).await.unwrap();
    assert_eq!(sb.stats().count("POST /v2.0/"), 1);
    assert!(resp.all_succeeded());
    let c7: Customer = resp.take("c7").unwrap().decode("c7").unwrap();
    assert_eq!(c7.number, "B007");
    let order: SalesOrder = resp.take("order").unwrap().decode("order").unwrap();
    assert_eq!(order.customer_name, "Batch B000");
    assert_eq!(order.total_amount_excluding_tax, dec!(89.95));
    assert_eq!(sb.entities::<Customer>().len(), 58);
}

#[tokio::test]
async fn stops_at_first_failure_by_default() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let customers = client.company(sb.company_id()).customers();
    let mut batch = Batch::new();
    batch.create("a", &customers, &customer("N1")).unwrap();
    batch.create("dup", &customers, &customer("10000")).unwrap();
    batch.create("c", &customers, &customer("N3")).unwrap();
    let mut resp = client.batch(&batch).await.unwrap();
    assert!(resp.get("a").unwrap().is_success());
    let dup = resp.take("dup").unwrap().into_result("dup").unwrap_err();
    assert_eq!(
        dup.code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    assert!(matches!(resp.get("c"), Some(BatchOutcome::NotExecuted)));
    let numbers: Vec<_> = sb
        .entities::<Customer>()
        .into_iter()
        .map(|c| c.number)
        .collect();
    assert!(
        numbers.contains(&"N1".to_owned()),
        "earlier operations stay committed"
    );
    assert!(!numbers.contains(&"N3".to_owned()));
}

#[tokio::test]
async fn continue_on_error_runs_everything() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let company = client.company(sb.company_id());
    let items = company.items();
    let shoe = items
        .lookup("number", ["1000"], 1, Query::new())
        .await
        .unwrap()
        .remove(0);
    let mut batch = Batch::new().continue_on_error(true);
    batch
        .create("dup", &company.customers(), &customer("10000"))
        .unwrap();
    batch
        .update(
            "stale",
            &items,
            &shoe.id.unwrap(),
            &business_central::ETag::new("W/\"stale\""),
            &ItemInput::new().display_name("x"),
        )
        .unwrap();
    batch
        .update(
            "ok",
            &items,
            &shoe.id.unwrap(),
            shoe.etag.as_ref().unwrap(),
            &ItemInput::new().display_name("Trail Runner Shoe 2"),
        )
        .unwrap();
    batch
        .get(
            "read",
            &items,
            &shoe.id.unwrap(),
            &Query::new().select(["displayName"]),
        )
        .unwrap();
    let mut resp = client.batch(&batch).await.unwrap();
    assert_eq!(resp.succeeded(), 2);
    assert!(matches!(
        resp.take("stale").unwrap().into_result("stale"),
        Err(Error::Conflict(_))
    ));
    let read: Item = resp.take("read").unwrap().decode("read").unwrap();
    assert_eq!(read.display_name, "Trail Runner Shoe 2");
}

#[tokio::test]
async fn snapshot_rolls_back_everything() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let customers = client.company(sb.company_id()).customers();
    let mut batch = Batch::new().snapshot(true);
    batch.create("a", &customers, &customer("S1")).unwrap();
    batch.create("b", &customers, &customer("S2")).unwrap();
    batch.create("dup", &customers, &customer("20000")).unwrap();
    let mut resp = client.batch(&batch).await.unwrap();
    assert!(matches!(resp.take("a"), Some(BatchOutcome::NotExecuted)));
    assert!(resp.take("dup").unwrap().into_result("dup").is_err());
    assert_eq!(sb.entities::<Customer>().len(), 8, "nothing committed");
}

#[tokio::test]
async fn refuses_101_operations_locally_and_server_side() {
    let sb = Sandbox::start().await.unwrap();
    let customers = sb.client().company(sb.company_id()).customers();
    let mut batch = Batch::new();
    for i in 0..100 {
        batch
            .create(i.to_string(), &customers, &customer(&format!("X{i}")))
            .unwrap();
    }
    let err = batch
        .create("100", &customers, &customer("X100"))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput(InvalidInput::BatchTooLarge { got: 101, max: 100 })
    ));
    assert_eq!(batch.len(), 100);
    // A hand-made oversize request to the sandbox is refused like Business Central does.
    let http = sb.client().http().clone();
    let body = serde_json::json!({"requests": (0..101).map(|i| serde_json::json!({"id": i.to_string(), "method": "GET", "url": "companies"})).collect::<Vec<_>>()});
    let err = http
        .post("api/v2.0/$batch")
        .json(&body)
        .send()
        .await
        .unwrap_err();
    let err = Error::from(err);
    assert!(err.to_string().contains("too many parts"), "{err}");
}
