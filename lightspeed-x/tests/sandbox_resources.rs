//! Every resource against the sandbox.
#![cfg(feature = "sandbox")]

use chrono::{NaiveDate, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use lightspeed_x::sandbox::{DemoData, Sandbox};
use lightspeed_x::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::HashSet;

async fn seeded() -> (Sandbox, Client) {
    let sb = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let client = sb.client().await.unwrap();
    (sb, client)
}

#[tokio::test]
async fn retailer_outlets_registers_users() {
    let (sb, client) = seeded().await;
    let r = client.retailer().await.unwrap();
    assert_eq!(r.domain_prefix, "demo");

    let outlets = client.outlets().list().all().await.unwrap();
    assert_eq!(outlets.len(), 3);
    let zones: HashSet<_> = outlets.iter().filter_map(|o| o.time_zone).collect();
    assert!(zones.contains(&chrono_tz::Pacific::Auckland));
    assert!(zones.contains(&chrono_tz::Europe::Amsterdam));
    assert!(zones.contains(&chrono_tz::America::New_York));
    let one = client.outlets().get(&outlets[1].id).await.unwrap();
    assert_eq!(one, outlets[1]);

    let regs = client.registers().list().all().await.unwrap();
    assert_eq!(regs.len(), 3);
    assert!(regs.iter().all(|r| r.outlet_id.is_some()));
    let users = client.users().list().all().await.unwrap();
    assert_eq!(
        users.len(),
        2 + 2 * 3,
        "admin, manager, two cashiers per outlet"
    );
    for o in &outlets {
        assert_eq!(
            users
                .iter()
                .filter(|u| u.restricted_outlet_ids.contains(&o.id))
                .count(),
            2
        );
    }
    let me = client.users().me().await.unwrap();
    assert_eq!(me.account_type, Some(AccountType::Admin));
    assert_eq!(sb.state().users().len(), users.len());
}

#[tokio::test]
async fn products_page_by_version_cursor_and_resume() {
    let (sb, client) = seeded().await;
    let expected = sb.state().products().len();
    let mut stream = client.products().list().page_size(4).stream();
    let mut seen = Vec::new();
    let mut cursor_mid = None;
    while let Some(p) = stream.next().await {
        seen.push(p.unwrap());
        if seen.len() == 8 {
            cursor_mid = Some(stream.cursor());
        }
    }
    assert_eq!(seen.len(), expected);
    // Full pages of 4, then the empty page that ends the list.
    assert_eq!(stream.pages_fetched() as usize, expected.div_ceil(4) + 1);
    let ids: HashSet<_> = seen.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids.len(), expected, "no duplicates");
    // Variants share a family.
    let families: HashSet<_> = seen.iter().filter_map(|p| p.family_id.clone()).collect();
    assert!(families.len() < expected);
    assert!(seen.iter().any(|p| p.variant_parent_id.is_some()));

    // Resume from the cursor after two full pages: exactly the rest arrives.
    let rest = client
        .products()
        .list()
        .page_size(4)
        .after(cursor_mid.unwrap())
        .all()
        .await
        .unwrap();
    assert_eq!(rest.len(), expected - 8);

    // A change after the final cursor is all an incremental read sees.
    let end = stream.cursor();
    let changed = sb
        .update_product(&seen[0].id, |p| p.name = "Renamed".into())
        .unwrap();
    let delta = client.products().list().after(end).all().await.unwrap();
    assert_eq!(delta.len(), 1);
    assert_eq!(delta[0].id, changed.id);
    assert_eq!(delta[0].name, "Renamed");
}

#[tokio::test]
async fn product_create_update_inventory_and_sku_search() {
    let (sb, client) = seeded().await;
    let outlet = sb.state().outlets().live()[0].id.clone();
    let ids = client
        .products()
        .create(&ProductCreate {
            name: "Test Hoodie".into(),
            sku: Some("HOODIE-XL".into()),
            price_including_tax: Some(dec!(69.00)),
            inventory: vec![InventoryLevel::set(outlet.clone(), dec!(4))],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    let p = client.products().get(&ids[0]).await.unwrap();
    assert_eq!(p.price_including_tax, Some(dec!(69.00)));
    assert_eq!(p.price_excluding_tax, Some(dec!(60.0)));

    // Upper-case SKU: the client lower-cases it, so the product is found.
    let found = client.products().find_by_sku("HOODIE-XL").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ids[0]);

    client
        .inventory()
        .set_level(&ids[0], &outlet, dec!(17))
        .await
        .unwrap();
    assert_eq!(sb.state().inventory_level(&ids[0], &outlet), Some(dec!(17)));
    let inv = client
        .products()
        .inventory(&ids[0])
        .unwrap()
        .all()
        .await
        .unwrap();
    assert_eq!(
        inv.iter()
            .find(|i| i.outlet_id == outlet)
            .unwrap()
            .inventory_level,
        dec!(17)
    );

    client
        .products()
        .update(
            &ids[0],
            &ProductUpdate {
                common: Some(ProductCommon {
                    name: Some("Test Hoodie v2".into()),
                    ..Default::default()
                }),
                details: Some(ProductDetails {
                    price_including_tax: Some(dec!(79)),
                    ..Default::default()
                }),
            },
        )
        .await
        .unwrap();
    let p2 = client.products().get(&ids[0]).await.unwrap();
    assert_eq!(p2.name, "Test Hoodie v2");
    assert_eq!(p2.price_including_tax, Some(dec!(79)));
    assert!(p2.version > p.version);

    let err = client
        .products()
        .update(
            &ProductId::new("missing"),
            &ProductUpdate::inventory([InventoryLevel::set(outlet.clone(), dec!(1))]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let bad = client
        .products()
        .create(&ProductCreate {
            name: "x".into(),
            price_including_tax: Some(dec!(1)),
            price_excluding_tax: Some(dec!(1)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidInput(_)));

    // Deleted products are tombstones, only listed with deleted=true.
    client.products().delete(&ids[0]).await.unwrap();
    let live = client.products().list().all().await.unwrap();
    assert!(live.iter().all(|p| p.id != ids[0]));
    let all = client.products().list().deleted(true).all().await.unwrap();
    let tomb = all.iter().find(|p| p.id == ids[0]).unwrap();
    assert!(tomb.deleted_at.is_some());
}

#[tokio::test]
async fn inventory_list_matches_state() {
    let (sb, client) = seeded().await;
    let inv = client.inventory().list().page_size(10).all().await.unwrap();
    assert_eq!(inv.len(), sb.state().inventory().len());
    let total: Decimal = inv.iter().map(|i| i.inventory_level).sum();
    let expect: Decimal = sb
        .state()
        .inventory()
        .live()
        .iter()
        .map(|i| i.inventory_level)
        .sum();
    assert_eq!(total, expect);
}

#[tokio::test]
async fn customers_crud_search_and_tombstones() {
    let (sb, client) = seeded().await;
    let all = client.customers().list().all().await.unwrap();
    assert!(all.iter().any(|c| c.is_company()));
    assert!(
        all.iter()
            .any(|c| !c.is_company() && c.first_name.is_some())
    );
    assert!(
        all.iter()
            .any(|c| c.customer_code.as_deref() == Some("WALKIN"))
    );
    let cursor = all.iter().filter_map(|c| c.version).max().unwrap();

    let created = client
        .customers()
        .create(&CustomerInput {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            email: Some("ada@example.org".into()),
            company_name: Some("Analytical Engines Ltd".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(created.is_company());
    let found = client
        .customers()
        .find_by_email("ADA@example.org")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created.id);

    let updated = client
        .customers()
        .update(
            &created.id,
            &CustomerUpdate::new(
                &created,
                CustomerInput {
                    phone: Some("+44 20 0000".into()),
                    ..Default::default()
                },
            ),
        )
        .await
        .unwrap();
    assert_eq!(updated.phone.as_deref(), Some("+44 20 0000"));
    assert_eq!(updated.first_name.as_deref(), Some("Ada"));
    assert!(updated.version > created.version);

    // Changed on the POS: the version bumps and an incremental read sees it.
    let other = all.iter().find(|c| c.email.is_some()).unwrap().clone();
    sb.update_customer(&other.id, |c| c.note = Some("VIP".into()))
        .unwrap();
    sb.delete_customer(&created.id).unwrap();
    let delta = client.customers().list().after(cursor).all().await.unwrap();
    assert!(
        delta
            .iter()
            .any(|c| c.id == other.id && c.note.as_deref() == Some("VIP"))
    );
    assert!(
        delta.iter().all(|c| c.id != created.id),
        "tombstone hidden without deleted=true"
    );
    let with_deleted = client
        .customers()
        .list()
        .after(cursor)
        .deleted(true)
        .all()
        .await
        .unwrap();
    assert!(
        with_deleted
            .iter()
            .any(|c| c.id == created.id && c.deleted_at.is_some())
    );
    assert!(matches!(
        client.customers().get(&created.id).await,
        Err(Error::NotFound { .. })
    ));

    let err = client
        .customers()
        .create(&CustomerInput::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
}

#[tokio::test]
async fn sales_feed_and_search_by_day_and_outlet() {
    let (sb, client) = seeded().await;
    let sales = client.sales().list().page_size(7).all().await.unwrap();
    assert_eq!(sales.len(), sb.state().sales().len());
    assert!(
        sales
            .iter()
            .any(|s| s.is_return() && s.return_for.is_some())
    );
    assert!(sales.iter().any(|s| s.is_voided()));
    assert!(sales.iter().any(|s| s.state == Some(SaleState::Parked)));
    for s in sales.iter().filter(|s| s.is_closed() && !s.is_return()) {
        let paid: Decimal = s.payments.iter().map(|p| p.amount).sum();
        assert_eq!(paid, s.total_including_tax());
    }
    let one = client.sales().get(&sales[0].id).await.unwrap();
    assert_eq!(one, sales[0]);

    // One local day at the Amsterdam outlet, by search with small pages (offset paging).
    let outlet = sb
        .state()
        .outlets()
        .live()
        .into_iter()
        .find(|o| o.time_zone == Some(chrono_tz::Europe::Amsterdam))
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
    let found = client
        .sales()
        .search()
        .outlet(&outlet.id)
        .local_day(day, chrono_tz::Europe::Amsterdam)
        .unwrap()
        .page_size(2)
        .all()
        .await
        .unwrap();
    let (from, to) =
        lightspeed_x::search::local_day_range(day, chrono_tz::Europe::Amsterdam).unwrap();
    let expected: Vec<_> = sales
        .iter()
        .filter(|s| s.outlet_id.as_ref() == Some(&outlet.id))
        .filter(|s| s.sale_date.is_some_and(|d| d >= from && d < to))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(found.len(), expected.len());
    assert!(
        found
            .iter()
            .all(|s| s.outlet_id.as_ref() == Some(&outlet.id))
    );

    // A sale added now shows up in the feed after the stored cursor.
    let cursor = sales.iter().filter_map(|s| s.version).max().unwrap();
    let product = sb.state().products().live()[1].clone();
    let at = Utc.with_ymd_and_hms(2026, 1, 15, 1, 0, 0).unwrap();
    let before = sb.state().inventory_level(&product.id, &outlet.id).unwrap();
    let added = sb
        .add_sale(&outlet.id, &[(product.id.clone(), dec!(2))], None, at)
        .unwrap();
    let delta = client.sales().list().after(cursor).all().await.unwrap();
    assert_eq!(delta.len(), 1);
    assert_eq!(delta[0].id, added.id);
    assert_eq!(
        sb.state().inventory_level(&product.id, &outlet.id).unwrap(),
        before - dec!(2)
    );
}

#[tokio::test]
async fn payment_types_taxes_consignments_shifts() {
    let (sb, client) = seeded().await;
    let pts = client.payment_types().list().all().await.unwrap();
    assert!(pts.iter().any(|p| p.name == "Cash"));
    let taxes = client.taxes().list().all().await.unwrap();
    let gst = taxes.iter().find(|t| t.is_default).unwrap();
    assert_eq!(gst.total_rate(), dec!(0.15));

    let cons = client.consignments().list().all().await.unwrap();
    assert_eq!(cons.len(), 2);
    let supplier = client
        .consignments()
        .list_filtered(Some(ConsignmentType::Supplier), None, None)
        .all()
        .await
        .unwrap();
    assert_eq!(supplier.len(), 1);
    assert_eq!(supplier[0].status, ConsignmentStatus::Received);
    let lines = client
        .consignments()
        .products(&supplier[0].id)
        .unwrap()
        .all()
        .await
        .unwrap();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.received == Some(dec!(10))));

    let shifts = client.shifts().list().page_size(5).all().await.unwrap();
    assert_eq!(shifts.len(), sb.state().shifts().len());
    assert!(
        shifts
            .iter()
            .all(|s| s.duration() == Some(chrono::Duration::hours(8)))
    );
}

#[tokio::test]
async fn bad_token_is_an_auth_error_that_says_authorise_again() {
    let sb = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .base_url(sb.base_url().as_str())
        .personal_token("wrong".into())
        .unlimited()
        .build()
        .await
        .unwrap();
    let err = client.outlets().list().all().await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert!(err.to_string().contains("authorised again"));
    assert!(err.to_string().contains("Access token is not valid"));
}

#[tokio::test]
async fn ids_that_would_leave_the_path_are_refused() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client().await.unwrap();
    let err = client
        .customers()
        .get(&CustomerId::new("a/b"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert_eq!(sb.stats().requests, 0, "nothing was sent");
}

/// A delivery the receiver refuses is sent again, the same body and signature, backing off, until
/// it is accepted; one that is never accepted stops after the configured retries; deleting the
/// webhook stops its retries.
#[tokio::test]
async fn refused_webhook_deliveries_are_sent_again_with_back_off() {
    use lightspeed_x::sandbox::{SandboxConfig, WebhookRetry};
    use std::time::{Duration, Instant};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let config = SandboxConfig {
        webhook_retry: WebhookRetry {
            retries: 4,
            first_delay: Duration::from_millis(150),
            max_delay: Duration::from_millis(300),
        },
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start_with(config, Some(DemoData::default()))
        .await
        .unwrap();
    let client = sb.client().await.unwrap();
    let receiver = MockServer::start().await;
    // /flaky refuses twice, then accepts; /down always fails.
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    let flaky = format!("{}/flaky", receiver.uri());
    let down = format!("{}/down", receiver.uri());
    client
        .webhooks()
        .create(&flaky, WebhookType::CustomerUpdate)
        .await
        .unwrap();
    client
        .webhooks()
        .create(&down, WebhookType::CustomerUpdate)
        .await
        .unwrap();
    let customer = sb.state().customers().live()[0].id.clone();
    let started = Instant::now();
    sb.update_customer(&customer, |c| c.note = Some("retry me".into()))
        .unwrap();
    sb.flush_webhook_retries().await;
    // Waits of 150, 300, 300 and 300 ms before the 4 retries of /down.
    assert!(
        started.elapsed() >= Duration::from_millis(1050),
        "{:?}",
        started.elapsed()
    );

    let deliveries = sb.state().deliveries().to_vec();
    let to = |url: &str| -> Vec<(u32, Option<u16>)> {
        deliveries
            .iter()
            .filter(|d| d.url == url)
            .map(|d| (d.attempt, d.status))
            .collect()
    };
    assert_eq!(to(&flaky), [(1, Some(503)), (2, Some(503)), (3, Some(200))]);
    assert_eq!(
        to(&down),
        [
            (1, Some(500)),
            (2, Some(500)),
            (3, Some(500)),
            (4, Some(500)),
            (5, Some(500))
        ]
    );
    let first = &deliveries[0];
    assert!(
        deliveries
            .iter()
            .all(|d| d.body == first.body && d.signature == first.signature),
        "every attempt sends the same signed body"
    );
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 8);

    // Deleting a webhook stops its retries: the next event's first delivery to /down fails, the
    // webhook is deleted before the first retry is due, and none follows.
    sb.update_customer(&customer, |c| c.note = Some("again".into()))
        .unwrap();
    sb.flush_webhooks().await;
    let hooks = client.webhooks().list().await.unwrap();
    let down_hook = hooks.iter().find(|h| h.url == down).unwrap();
    client.webhooks().delete(&down_hook.id).await.unwrap();
    sb.flush_webhook_retries().await;
    let deliveries = sb.state().deliveries().to_vec();
    assert_eq!(deliveries.iter().filter(|d| d.url == down).count(), 6);
    assert_eq!(deliveries.iter().filter(|d| d.url == flaky).count(), 4);
}

#[tokio::test]
async fn webhooks_manage_and_deliver_signed() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let (sb, client) = seeded().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let url = format!("{}/hooks", receiver.uri());
    let hook = client
        .webhooks()
        .create(&url, WebhookType::CustomerUpdate)
        .await
        .unwrap();
    let dup = client
        .webhooks()
        .create(&url, WebhookType::CustomerUpdate)
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Conflict { .. }), "{dup:?}");
    client
        .webhooks()
        .create(&url, WebhookType::SaleUpdate)
        .await
        .unwrap();
    assert_eq!(client.webhooks().list().await.unwrap().len(), 2);

    let customer = sb
        .state()
        .customers()
        .live()
        .into_iter()
        .find(|c| c.email.is_some())
        .unwrap();
    sb.update_customer(&customer.id, |c| c.balance = dec!(12.5))
        .unwrap();
    sb.flush_webhooks().await;

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    let sig = req.headers.get("x-signature").unwrap().to_str().unwrap();
    let secret = SecretString::from(sb.config().client_secret.clone());
    webhook::verify_signature(&secret, sig, &req.body).unwrap();
    let delivery = WebhookDelivery::parse(&req.body).unwrap();
    match delivery.event(None).unwrap() {
        WebhookEvent::CustomerUpdate(c) => {
            assert_eq!(c.id, customer.id);
            assert_eq!(c.balance, dec!(12.5));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        delivery.payload.contains("\"balance\":\"12.50000\""),
        "string money in 1.0 shape"
    );

    // A sale on the POS fires sale.update (1.0 shape) to the other subscription.
    let outlet = sb.state().outlets().live()[0].id.clone();
    let product = sb.state().products().live()[0].clone();
    let at = chrono::Utc::now();
    let sale = sb
        .add_sale(
            &outlet,
            &[(product.id.clone(), dec!(1))],
            Some(customer.id.clone()),
            at,
        )
        .unwrap();
    sb.flush_webhooks().await;
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    webhook::verify_signature(
        &secret,
        requests[1]
            .headers
            .get("x-signature")
            .unwrap()
            .to_str()
            .unwrap(),
        &requests[1].body,
    )
    .unwrap();
    match WebhookDelivery::parse(&requests[1].body)
        .unwrap()
        .event(None)
        .unwrap()
    {
        WebhookEvent::SaleUpdate(s) => {
            assert_eq!(s.id, sale.id);
            assert_eq!(s.status.as_deref(), Some("CLOSED"));
            assert_eq!(s.totals.total_price, sale.total_price);
            assert_eq!(s.totals.total_payment, sale.total_including_tax());
            assert_eq!(s.customer.unwrap().id, customer.id);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.state().deliveries().len(), 2);
    assert!(
        sb.state()
            .deliveries()
            .iter()
            .all(|d| d.status == Some(200))
    );

    client.webhooks().delete(&hook.id).await.unwrap();
    assert_eq!(client.webhooks().list().await.unwrap().len(), 1);
    assert!(matches!(
        client.webhooks().delete(&hook.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn stream_errors_do_not_loop() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client().await.unwrap();
    let items: Vec<Result<Outlet>> = client.outlets().list().stream().collect().await;
    assert!(items.is_empty());
    let err = client
        .outlets()
        .list()
        .after(-5)
        .stream()
        .try_collect::<Vec<_>>()
        .await;
    assert!(err.unwrap().is_empty());
}

#[tokio::test]
async fn demo_data_is_deterministic() {
    let a = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let b = Sandbox::start_seeded(DemoData::default()).await.unwrap();
    let summary = |sb: &Sandbox| {
        let st = sb.state();
        let skus: Vec<_> = st.products().live().iter().map(|p| p.sku.clone()).collect();
        let totals: Vec<_> = st
            .sales()
            .live()
            .iter()
            .map(|s| (s.id.clone(), s.total_price, s.sale_date))
            .collect();
        let stock: Vec<_> = st
            .inventory()
            .live()
            .iter()
            .map(|i| i.inventory_level)
            .collect();
        (skus, totals, stock, st.version())
    };
    assert_eq!(summary(&a), summary(&b));
    let other = Sandbox::start_seeded(DemoData {
        seed: 7,
        ..DemoData::default()
    })
    .await
    .unwrap();
    assert_ne!(summary(&a).1, summary(&other).1);
}

#[tokio::test]
async fn seeding_an_empty_store_by_hand() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client().await.unwrap();
    let akl = sb.add_outlet("Auckland", chrono_tz::Pacific::Auckland);
    let ids = sb.add_product(&ProductCreate {
        name: "Tee".into(),
        sku: Some("TEE-1".into()),
        price_excluding_tax: Some(dec!(20)),
        inventory: vec![InventoryLevel::set(akl.id.clone(), dec!(9))],
        ..Default::default()
    });
    let ams = sb.add_outlet("Amsterdam", chrono_tz::Europe::Amsterdam);
    let c = sb.add_customer(Customer {
        first_name: Some("Ana".into()),
        company_name: Some("Ana BV".into()),
        ..Default::default()
    });
    let u = UserId::new("u-1");
    let t0 = Utc.with_ymd_and_hms(2026, 1, 14, 20, 0, 0).unwrap();
    sb.add_shift(&u, t0, Some(t0 + chrono::Duration::hours(4)));

    let inv = client.inventory().list().all().await.unwrap();
    assert_eq!(inv.len(), 2, "one record per outlet");
    assert_eq!(sb.state().inventory_level(&ids[0], &akl.id), Some(dec!(9)));
    assert_eq!(sb.state().inventory_level(&ids[0], &ams.id), Some(dec!(0)));
    assert_eq!(client.registers().list().all().await.unwrap().len(), 2);
    assert!(client.customers().get(&c.id).await.unwrap().is_company());
    let shifts = client.shifts().list().all().await.unwrap();
    assert_eq!(shifts[0].duration(), Some(chrono::Duration::hours(4)));
    let sale = sb
        .add_sale(
            &ams.id,
            &[(ids[0].clone(), dec!(1))],
            Some(c.id.clone()),
            t0,
        )
        .unwrap();
    assert_eq!(sale.total_price, dec!(20));
    assert_eq!(
        sb.state().inventory_level(&ids[0], &ams.id),
        Some(dec!(-1)),
        "stock may go negative"
    );
}
