//! The Lightspeed <-> Business Central flows end to end against both sandboxes: the final state
//! of the target is checked record by record; second runs write nothing; crashed runs resume
//! without duplicates or gaps.
#![cfg(feature = "lightspeed-business-central")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use business_central::models::{
    Contact, Customer as BcCustomer, CustomerInput, Item, ItemCategory, ItemInput, ItemVariant,
    PaymentTerm, SalesInvoice, SalesInvoiceLine, SalesOrder, SalesOrderInput, SalesOrderLine,
};
use business_central::sandbox::Sandbox as BcSandbox;
use chrono::{TimeZone, Utc};
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox, SandboxConfig};
use lightspeed_x::{
    CustomerInput as LsCustomerInput, InventoryLevel, OutletId, ProductCode, ProductCodeType,
    ProductCreate, ProductId, ProductType, VariantAttributeValue, VariantCreate,
};
use pos_http::sandbox::FaultConfig;
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, DocumentKind, MissingItems, ProductOptions,
    ProductsFlow, Returns, SalesFlow, SalesOptions, StockFlow, StockOptions, sales::is_eligible,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sync_core::log::ActivityQuery;
use sync_core::run::{RunReport, Runner};
use sync_core::state::MemoryStore;

struct World {
    ls: LsSandbox,
    bc: BcSandbox,
    accounts: Accounts,
    runner: Runner,
}

async fn world(demo: DemoData) -> World {
    let ls = LsSandbox::start_with(SandboxConfig::default(), Some(demo))
        .await
        .unwrap();
    let bc = BcSandbox::start().await.unwrap();
    let accounts = Accounts::new(ls.client().await.unwrap(), bc.client(), bc.company_id());
    World {
        ls,
        bc,
        accounts,
        runner: Runner::new(Arc::new(MemoryStore::new())),
    }
}

/// One outlet, no generated customers, products or sales.
fn bare() -> DemoData {
    DemoData {
        outlets: vec![("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 0,
        customers: 0,
        days: 0,
        sales_per_day: 0,
        ..DemoData::default()
    }
}

fn outlet(w: &World) -> OutletId {
    w.ls.state().outlets().live()[0].id.clone()
}

fn customers_by_email(bc: &BcSandbox, email: &str) -> Vec<BcCustomer> {
    bc.entities::<BcCustomer>()
        .into_iter()
        .filter(|c| c.email.eq_ignore_ascii_case(email))
        .collect()
}

fn person(first: &str, last: &str, email: Option<&str>) -> LsCustomerInput {
    LsCustomerInput {
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: email.map(str::to_owned),
        ..Default::default()
    }
}

fn assert_quiet(r: &RunReport) {
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!((r.created, r.updated), (0, 0), "{r}");
}

#[tokio::test]
async fn customers_are_classified_matched_by_email_and_never_duplicated() {
    let w = world(bare()).await;
    let ls = &w.accounts.lightspeed;
    // A company customer with a postal address (the billing address) and a person behind it.
    let ann = ls
        .customers()
        .create(&LsCustomerInput {
            company_name: Some("Harbour Cafe Ltd".into()),
            phone: Some("+31 20 555 0101".into()),
            physical_address_1: Some("Damrak 1".into()),
            physical_city: Some("Amsterdam".into()),
            physical_postcode: Some("1012 LG".into()),
            physical_country_id: Some("NL".into()),
            ..person("Ann", "Ngata", Some("ann@harbour.example"))
        })
        .await
        .unwrap();
    w.ls.update_customer(&ann.id, |c| {
        c.postal_address_1 = Some("Postbus 12".into());
        c.postal_city = Some("Haarlem".into());
        c.postal_postcode = Some("2000 AA".into());
        c.postal_country_id = Some("NL".into());
    });
    // A person that Business Central already knows, with the address in another case.
    let bob = ls
        .customers()
        .create(&person("Bob", "Smith", Some("Bob.Smith@Example.com")))
        .await
        .unwrap();
    w.bc.insert::<BcCustomer>(&CustomerInput {
        display_name: Some("B. Smith (old)".into()),
        email: Some("bob.smith@example.com".into()),
        ..Default::default()
    })
    .unwrap();
    // No e-mail: reported, never created.
    let cara = ls
        .customers()
        .create(&person("Cara", "Visser", None))
        .await
        .unwrap();
    // A company name that is the person's own name: a person.
    ls.customers()
        .create(&LsCustomerInput {
            company_name: Some("Lee Dan".into()),
            ..person("Dan", "Lee", Some("dan@lee.example"))
        })
        .await
        .unwrap();
    let eve = ls
        .customers()
        .create(&person("Eve", "Jansen", Some("eve@jansen.example")))
        .await
        .unwrap();
    let before = w.bc.entities::<BcCustomer>().len();

    let options = CustomerOptions {
        payment_terms_code: Some("14 DAYS".into()),
        payment_method_code: Some("CASH".into()),
        ..CustomerOptions::default()
    };
    let flow = CustomersFlow::new(w.accounts.clone(), options);
    let preview = w.runner.dry_run(&flow, "t").await.unwrap();
    assert_eq!((preview.created, preview.updated), (3, 1), "{preview}");
    assert_eq!(
        w.bc.entities::<BcCustomer>().len(),
        before,
        "a dry run writes nothing"
    );

    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!((r.created, r.updated, r.unchanged), (3, 1, 0), "{r}");
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].source_id, cara.id.0);
    assert!(
        r.skipped[0].reason.contains("no stored link"),
        "{}",
        r.skipped[0].reason
    );
    assert!(r.requests > 0 && r.requests < 20, "{} requests", r.requests);
    assert_eq!(w.bc.entities::<BcCustomer>().len(), before + 3);

    let terms = w.bc.entities::<PaymentTerm>();
    let days14 = terms.iter().find(|t| t.code == "14 DAYS").unwrap().id;
    let harbour = customers_by_email(&w.bc, "ann@harbour.example");
    assert_eq!(harbour.len(), 1);
    let h = &harbour[0];
    assert_eq!(h.display_name, "Harbour Cafe Ltd");
    assert_eq!(h.r#type.as_str(), "Company");
    assert_eq!(
        (
            h.address_line1.as_str(),
            h.city.as_str(),
            h.postal_code.as_str(),
            h.country.as_str()
        ),
        ("Postbus 12", "Haarlem", "2000 AA", "NL")
    );
    assert_eq!(h.phone_number, "+31 20 555 0101");
    assert_eq!(h.payment_terms_id, days14);
    let contacts: Vec<Contact> =
        w.bc.entities::<Contact>()
            .into_iter()
            .filter(|c| c.email == "ann@harbour.example")
            .collect();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].r#type.as_str(), "Person");
    assert_eq!(contacts[0].display_name, "Ann Ngata");
    assert_eq!(contacts[0].company_name, "Harbour Cafe Ltd");

    let smith = customers_by_email(&w.bc, "bob.smith@example.com");
    assert_eq!(smith.len(), 1, "matched without case, not duplicated");
    assert_eq!(smith[0].display_name, "Bob Smith");
    assert_eq!(smith[0].r#type.as_str(), "Person");
    let dan = customers_by_email(&w.bc, "dan@lee.example");
    assert_eq!(
        (dan[0].display_name.as_str(), dan[0].r#type.as_str()),
        ("Dan Lee", "Person")
    );
    assert!(
        customers_by_email(&w.bc, "")
            .iter()
            .all(|c| !c.display_name.contains("Cara"))
    );
    let _ = bob;

    // The activity log has every record, without the personal data.
    let log = w
        .runner
        .store()
        .query_activity(&ActivityQuery::run(r.run_id.clone()))
        .await
        .unwrap();
    assert_eq!(log.len(), 5);
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("ann@harbour.example") && !text.contains("Ngata"),
        "{text}"
    );

    // Nothing changed: nothing is read from Business Central, nothing written.
    let bc_before = w.bc.stats().requests;
    let again = w.runner.run_once(&flow, "t").await.unwrap();
    assert_quiet(&again);
    assert_eq!(w.bc.stats().requests, bc_before);

    // Eve loses her address: the stored link still finds her.
    w.ls.update_customer(&eve.id, |c| {
        c.email = None;
        c.last_name = Some("Jansen-Bakker".into());
    });
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!((r.created, r.updated), (0, 1), "{r}");
    assert_eq!(w.bc.entities::<BcCustomer>().len(), before + 3);
    assert!(
        w.bc.entities::<BcCustomer>()
            .iter()
            .any(|c| c.display_name == "Eve Jansen-Bakker")
    );
    assert_quiet(&w.runner.run_once(&flow, "t").await.unwrap());
}

async fn create_product(w: &World, p: ProductCreate) -> Vec<ProductId> {
    w.accounts.lightspeed.products().create(&p).await.unwrap()
}

#[tokio::test]
async fn products_become_items_variants_and_categories() {
    let w = world(bare()).await;
    let mug = create_product(
        &w,
        ProductCreate {
            name: "Mug".into(),
            sku: Some("mug-01".into()),
            description: Some("<p>Stoneware, <b>350 ml</b></p>".into()),
            price_excluding_tax: Some(dec!(10.00)),
            supply_price: Some(dec!(4.25)),
            product_codes: vec![
                ProductCode {
                    kind: ProductCodeType::Custom,
                    code: "M1".into(),
                },
                ProductCode {
                    kind: ProductCodeType::Ean,
                    code: "8712345678906".into(),
                },
            ],
            ..Default::default()
        },
    )
    .await;
    w.ls.update_product(&mug[0], |p| {
        p.product_type = Some(ProductType {
            name: "Kitchen Ware".into(),
            ..Default::default()
        })
    });
    create_product(
        &w,
        ProductCreate {
            name: "Tee".into(),
            price_excluding_tax: Some(dec!(20)),
            variants: ["S", "M"]
                .iter()
                .map(|s| VariantCreate {
                    sku: Some(format!("TEE-{s}")),
                    variant_definitions: vec![VariantAttributeValue {
                        attribute_id: "Size".into(),
                        value: (*s).into(),
                    }],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        },
    )
    .await;
    let long = create_product(
        &w,
        ProductCreate {
            name: "Long".into(),
            sku: Some("THIS-SKU-IS-WAY-TOO-LONG-1".into()),
            price_excluding_tax: Some(dec!(1)),
            ..Default::default()
        },
    )
    .await;
    // Business Central already has the mug, upper-cased, with another name.
    w.bc.insert::<Item>(&ItemInput {
        number: Some("MUG-01".into()),
        display_name: Some("Old mug".into()),
        ..Default::default()
    })
    .unwrap();
    let items_before = w.bc.entities::<Item>().len();

    let options = ProductOptions {
        block_new_items: true,
        ..ProductOptions::default()
    };
    let flow = ProductsFlow::new(w.accounts.clone(), options);
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    // Items: mug updated, tee created; variants S and M created; the long SKU failed.
    assert_eq!((r.created, r.updated), (3, 1), "{r}: {:?}", r.failed);
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].source_id, long[0].0);
    assert!(
        r.failed[0].reason.contains("not truncated"),
        "{}",
        r.failed[0].reason
    );
    let items = w.bc.entities::<Item>();
    assert_eq!(items.len(), items_before + 1);
    assert!(items.iter().all(|i| !i.number.starts_with("THIS-SKU")));

    let mug = items.iter().find(|i| i.number == "MUG-01").unwrap();
    assert_eq!(mug.display_name, "Mug");
    assert_eq!((mug.unit_price, mug.unit_cost), (dec!(10), dec!(4.25)));
    assert!(!mug.price_includes_tax);
    assert_eq!(mug.gtin, "8712345678906");
    assert_eq!(mug.item_category_code, "KITCHEN-WARE");
    assert!(!mug.blocked, "an existing item is never blocked");
    let category =
        w.bc.entities::<ItemCategory>()
            .into_iter()
            .find(|c| c.code == "KITCHEN-WARE")
            .unwrap();
    assert_eq!(category.display_name, "Kitchen Ware");

    let tee = items.iter().find(|i| i.number == "TEE-S").unwrap();
    assert_eq!(
        (tee.display_name.as_str(), tee.unit_price),
        ("Tee", dec!(20))
    );
    assert!(tee.blocked, "new items are blocked by option");
    let mut variants: Vec<(String, String)> =
        w.bc.entities::<ItemVariant>()
            .into_iter()
            .filter(|v| v.item_number == "TEE-S")
            .map(|v| (v.code, v.description))
            .collect();
    variants.sort();
    assert_eq!(
        variants,
        vec![
            ("M".to_owned(), "Tee / M".to_owned()),
            ("S".to_owned(), "Tee / S".to_owned())
        ]
    );

    let again = w.runner.run_once(&flow, "t").await.unwrap();
    assert_eq!((again.created, again.updated), (0, 0), "{again}");

    // A price change updates only the price; the name edited in Business Central stays as
    // Lightspeed says (it is mapped), the description is never sent on update.
    let mug_ls = w.ls.state().product_by_sku("mug-01").unwrap();
    w.ls.update_product(&mug_ls.id, |p| p.price_excluding_tax = Some(dec!(11.50)));
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert_eq!((r.created, r.updated), (0, 1), "{r}");
    let mug =
        w.bc.entities::<Item>()
            .into_iter()
            .find(|i| i.number == "MUG-01")
            .unwrap();
    assert_eq!(mug.unit_price, dec!(11.50));
}

fn lines_of(bc: &BcSandbox, order: &SalesOrder) -> Vec<SalesOrderLine> {
    let mut l: Vec<SalesOrderLine> = bc
        .entities::<SalesOrderLine>()
        .into_iter()
        .filter(|l| l.document_id == order.id)
        .collect();
    l.sort_by_key(|l| l.sequence);
    l
}

fn orders_by_ext(bc: &BcSandbox) -> BTreeMap<String, Vec<SalesOrder>> {
    let mut m: BTreeMap<String, Vec<SalesOrder>> = BTreeMap::new();
    for o in bc.entities::<SalesOrder>() {
        m.entry(o.external_document_number.clone())
            .or_default()
            .push(o);
    }
    m
}

#[tokio::test]
async fn sales_become_orders_with_lines_customers_and_skips() {
    let demo = DemoData {
        outlets: vec![("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 4,
        customers: 8,
        days: 2,
        sales_per_day: 4,
        ..DemoData::default()
    };
    let w = world(demo).await;
    let sales = w.ls.state().sales().live();
    let eligible: Vec<_> = sales.iter().filter(|s| is_eligible(s)).cloned().collect();
    assert!(
        eligible.len() >= 4 && eligible.len() < sales.len(),
        "demo data has voided or parked sales"
    );
    // One sale is already in Business Central (for example entered by hand): skipped, not duplicated.
    let taken = eligible[0].invoice_number.clone().unwrap();
    w.bc.insert::<SalesOrder>(&SalesOrderInput {
        customer_number: Some("20000".into()),
        external_document_number: Some(format!("LS-{taken}")),
        ..Default::default()
    })
    .unwrap();

    let mut options = SalesOptions {
        default_customer_number: Some("10000".into()),
        missing_items: MissingItems::Create,
        external_document_prefix: "LS-".into(),
        batch_size: 3,
        ..SalesOptions::default()
    };
    options.payment_terms.insert("Cash".into(), "COD".into());
    let flow = SalesFlow::new(w.accounts.clone(), options);
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!(r.created, eligible.len() - 1, "{r}");
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].source_id, eligible[0].id.0);

    let cod =
        w.bc.entities::<PaymentTerm>()
            .into_iter()
            .find(|t| t.code == "COD")
            .unwrap()
            .id;
    let by_ext = orders_by_ext(&w.bc);
    let ls_customers = w.ls.state().customers().live();
    let ls_products = w.ls.state().products().live();
    let mut negative_lines = 0;
    for s in &sales {
        let ext = format!("LS-{}", s.invoice_number.clone().unwrap_or_default());
        let docs = by_ext.get(&ext).cloned().unwrap_or_default();
        if !is_eligible(s) {
            assert!(docs.is_empty(), "voided or parked sale {ext} was sent");
            continue;
        }
        assert_eq!(docs.len(), 1, "{ext} exactly once");
        if s.id == eligible[0].id {
            assert_eq!(docs[0].customer_number, "20000");
            continue;
        }
        let doc = &docs[0];
        // The customer: matched by e-mail, else the default customer.
        let customer = s
            .customer_id
            .as_ref()
            .and_then(|id| ls_customers.iter().find(|c| &c.id == id));
        match customer.and_then(|c| c.email.clone()) {
            Some(email) => {
                let bc_customer = customers_by_email(&w.bc, &email);
                assert_eq!(bc_customer.len(), 1, "{email}");
                assert_eq!(doc.customer_number, bc_customer[0].number);
            }
            None => assert_eq!(doc.customer_number, "10000", "{ext}"),
        }
        if s.payments.first().and_then(|p| p.name.as_deref()) == Some("Cash") {
            assert_eq!(doc.payment_terms_id, cod, "{ext}");
        }
        // The lines: one per sold line, with item, variant, quantity and price.
        let lines = lines_of(&w.bc, doc);
        negative_lines += lines.iter().filter(|l| l.quantity < Decimal::ZERO).count();
        let sold: Vec<_> = s
            .line_items
            .iter()
            .filter(|l| l.product_id.is_some())
            .collect();
        assert_eq!(lines.len(), sold.len(), "{ext}");
        for (l, sl) in lines.iter().zip(&sold) {
            let p = ls_products
                .iter()
                .find(|p| Some(&p.id) == sl.product_id.as_ref())
                .unwrap();
            assert_eq!(l.quantity, sl.quantity, "{ext}");
            assert_eq!(l.unit_price, sl.price, "{ext}");
            let item =
                w.bc.entities::<Item>()
                    .into_iter()
                    .find(|i| i.id == l.item_id)
                    .unwrap();
            if p.has_variants {
                assert!(l.item_variant_id.is_some(), "{ext}: variant line");
                let v =
                    w.bc.entities::<ItemVariant>()
                        .into_iter()
                        .find(|v| v.id == l.item_variant_id)
                        .unwrap();
                assert_eq!(v.item_number, item.number);
                assert_eq!(v.code, p.variant_options[0].value.to_uppercase());
            } else {
                assert_eq!(item.number, p.sku.clone().unwrap().to_uppercase());
            }
        }
    }
    assert!(negative_lines > 0, "returns are sent as negative lines");
    let docs_before = w.bc.entities::<SalesOrder>().len();
    let again = w.runner.run_once(&flow, "t").await.unwrap();
    assert_quiet(&again);
    assert_eq!(w.bc.entities::<SalesOrder>().len(), docs_before);
}

#[tokio::test]
async fn missing_items_fail_the_sale_with_their_skus() {
    let w = world(bare()).await;
    let ids = create_product(
        &w,
        ProductCreate {
            name: "Candle".into(),
            sku: Some("CANDLE-1".into()),
            price_excluding_tax: Some(dec!(5)),
            ..Default::default()
        },
    )
    .await;
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
    let sale =
        w.ls.add_sale(&outlet(&w), &[(ids[0].clone(), dec!(2))], None, at)
            .unwrap();
    let options = SalesOptions {
        default_customer_number: Some("10000".into()),
        ..SalesOptions::default()
    };
    let flow = SalesFlow::new(w.accounts.clone(), options);
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert_eq!(r.created, 0);
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].source_id, sale.id.0);
    assert!(
        r.failed[0].reason.contains("CANDLE-1"),
        "{}",
        r.failed[0].reason
    );
    // Once the item exists, the next run retries the sale and sends it.
    let products = ProductsFlow::new(w.accounts.clone(), ProductOptions::default());
    w.runner.run_once(&products, "t").await.unwrap();
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!(r.created, 1);
    let docs = orders_by_ext(&w.bc);
    let doc = &docs[sale.invoice_number.as_deref().unwrap()][0];
    assert_eq!(doc.customer_number, "10000");
    let lines = lines_of(&w.bc, doc);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].line_object_number.as_str(), lines[0].quantity),
        ("CANDLE-1", dec!(2))
    );
}

/// A token source that works for a number of requests, then fails every one (a crash).
#[derive(Debug)]
struct FailAfter {
    left: AtomicU64,
}

#[async_trait::async_trait]
impl pos_http::TokenSource for FailAfter {
    async fn authorization(&self) -> Result<pos_http::SecretString, pos_http::AuthError> {
        let ok = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if ok {
            Ok(pos_http::SecretString::from("Bearer test"))
        } else {
            Err(pos_http::AuthError::reauthorize("the process stopped"))
        }
    }
}

async fn crash_world() -> (World, Vec<String>) {
    let ls = LsSandbox::start_with(SandboxConfig::default(), Some(bare()))
        .await
        .unwrap();
    let bc = BcSandbox::builder()
        .require_auth(false)
        .start()
        .await
        .unwrap();
    let accounts = Accounts::new(ls.client().await.unwrap(), bc.client(), bc.company_id());
    let w = World {
        ls,
        bc,
        accounts,
        runner: Runner::new(Arc::new(MemoryStore::new())),
    };
    let mut ids = Vec::new();
    for (n, sku) in ["A-1", "B-2", "C-3"].iter().enumerate() {
        ids.extend(
            create_product(
                &w,
                ProductCreate {
                    name: format!("Product {sku}"),
                    sku: Some((*sku).into()),
                    price_excluding_tax: Some(Decimal::from(n as i64 + 1)),
                    ..Default::default()
                },
            )
            .await,
        );
    }
    w.runner
        .run_once(
            &ProductsFlow::new(w.accounts.clone(), ProductOptions::default()),
            "t",
        )
        .await
        .unwrap();
    let o = outlet(&w);
    let mut refs = Vec::new();
    for n in 0..7i64 {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + chrono::Duration::minutes(n);
        let lines = [(ids[(n % 3) as usize].clone(), Decimal::from(n + 1))];
        let s = w.ls.add_sale(&o, &lines, None, at).unwrap();
        refs.push(s.invoice_number.unwrap());
    }
    (w, refs)
}

fn sales_options() -> SalesOptions {
    SalesOptions {
        default_customer_number: Some("10000".into()),
        batch_size: 2,
        ..SalesOptions::default()
    }
}

fn assert_each_once(bc: &BcSandbox, refs: &[String]) {
    let by_ext = orders_by_ext(bc);
    for r in refs {
        assert_eq!(by_ext.get(r).map(Vec::len), Some(1), "{r}");
        assert_eq!(lines_of(bc, &by_ext[r][0]).len(), 1, "{r}");
    }
}

#[tokio::test]
async fn a_run_stopped_between_batches_resumes_without_duplicates_or_gaps() {
    let (w, refs) = crash_world().await;
    // How many requests the run makes before its first batch: a dry run makes exactly those.
    let before = w.accounts.business_central.stats().requests;
    let flow = SalesFlow::new(w.accounts.clone(), sales_options());
    let preview = w.runner.dry_run(&flow, "t").await.unwrap();
    assert_eq!(preview.created, 7);
    let reads = w.accounts.business_central.stats().requests - before;

    // This process stops after its first two batches (4 documents).
    let crashing =
        w.bc.client_builder()
            .token_source(Arc::new(FailAfter {
                left: AtomicU64::new(reads + 2),
            }))
            .build()
            .unwrap();
    let crashing = Accounts::new(w.accounts.lightspeed.clone(), crashing, w.bc.company_id());
    let r = w
        .runner
        .run_once(&SalesFlow::new(crashing, sales_options()), "t")
        .await
        .unwrap();
    assert_eq!((r.created, r.failed.len()), (4, 3), "{r}");
    assert_eq!(
        w.bc.entities::<SalesOrder>().len() - 3,
        4,
        "the demo's 3 orders plus 4"
    );

    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!(r.created, 3, "{r}");
    assert_each_once(&w.bc, &refs);
    assert_quiet(&w.runner.run_once(&flow, "t").await.unwrap());
}

#[tokio::test]
async fn lost_responses_are_rechecked_not_duplicated() {
    let (w, refs) = crash_world().await;
    // Every write commits, then its response is lost.
    w.bc.faults().update(|f| f.lost_response_per_mille = 1000);
    let flow = SalesFlow::new(w.accounts.clone(), sales_options());
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    w.bc.faults().set(FaultConfig::none());
    assert!(
        w.bc.stats().lost_responses >= 4,
        "every batch lost its response"
    );
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!(r.created, 7, "{r}");
    assert_each_once(&w.bc, &refs);
    assert_quiet(&w.runner.run_once(&flow, "t").await.unwrap());
}

#[tokio::test]
async fn stock_is_inventory_minus_open_orders_written_only_when_different() {
    let w = world(bare()).await;
    let o = outlet(&w);
    // Lightspeed products for some of the demo company's items, with their current stock.
    let mut ls_ids = BTreeMap::new();
    for (sku, level) in [
        ("1001", 45),
        ("1002", 0),
        ("1003", 7),
        ("1004", 3),
        ("1005", 80),
        ("1000", 1),
    ] {
        let ids = create_product(
            &w,
            ProductCreate {
                name: format!("Item {sku}"),
                sku: Some(sku.into()),
                price_excluding_tax: Some(dec!(1)),
                inventory: vec![InventoryLevel::set(o.clone(), Decimal::from(level))],
                ..Default::default()
            },
        )
        .await;
        ls_ids.insert(sku, ids[0].clone());
    }
    // 1004 does not track stock in Lightspeed; 1003 has less in Business Central than is reserved.
    w.ls.update_product(&ls_ids["1004"], |p| p.has_inventory = false);
    assert!(w.bc.set_inventory("1003", dec!(0)));
    let puts_before = w.ls.stats().count("PUT");

    let flow = StockFlow::new(w.accounts.clone(), StockOptions::default());
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    // 1002: 300 - (5 - 2) = 297; 1003: 0 - 1 -> 0; 1005: 75 - (10 - 4) = 69; 1001: 45 unchanged.
    assert_eq!((r.updated, r.unchanged), (3, 1), "{r}");
    let level = |sku: &str| w.ls.state().inventory_level(&ls_ids[sku], &o).unwrap();
    assert_eq!(level("1001"), dec!(45));
    assert_eq!(level("1002"), dec!(297));
    assert_eq!(level("1003"), dec!(0));
    assert_eq!(level("1005"), dec!(69));
    assert_eq!(level("1004"), dec!(3), "not tracked: left alone");
    assert_eq!(level("1000"), dec!(1), "an item with variants: left alone");
    assert_eq!(
        w.ls.stats().count("PUT") - puts_before,
        3,
        "only differing levels are written"
    );
    let skipped: BTreeSet<&str> = r.skipped.iter().map(|n| n.source_id.as_str()).collect();
    assert_eq!(skipped, BTreeSet::from(["1000", "1004", "1006", "1007"]));
    let missing = r.skipped.iter().find(|n| n.source_id == "1006").unwrap();
    assert!(
        missing.reason.contains("no Lightspeed product"),
        "{}",
        missing.reason
    );
    assert!(
        w.ls.state().product_by_sku("1006").is_none(),
        "never created"
    );

    let again = w.runner.run_once(&flow, "t").await.unwrap();
    assert_eq!((again.updated, again.unchanged), (0, 4), "{again}");
    assert_eq!(w.ls.stats().count("PUT") - puts_before, 3);
}

#[tokio::test]
async fn sales_as_invoices_with_returns_skipped() {
    let w = world(bare()).await;
    let ids = create_product(
        &w,
        ProductCreate {
            name: "Candle".into(),
            sku: Some("CANDLE-1".into()),
            price_excluding_tax: Some(dec!(5)),
            ..Default::default()
        },
    )
    .await;
    w.runner
        .run_once(
            &ProductsFlow::new(w.accounts.clone(), ProductOptions::default()),
            "t",
        )
        .await
        .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 23, 30, 0).unwrap();
    let sale =
        w.ls.add_sale(&outlet(&w), &[(ids[0].clone(), dec!(3))], None, at)
            .unwrap();
    let ret =
        w.ls.add_sale(&outlet(&w), &[(ids[0].clone(), dec!(-1))], None, at)
            .unwrap();
    let options = SalesOptions {
        document: DocumentKind::Invoice,
        returns: Returns::Skip,
        default_customer_number: Some("30000".into()),
        ..SalesOptions::default()
    };
    let flow = SalesFlow::new(w.accounts.clone(), options);
    let r = w.runner.run_once(&flow, "t").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert_eq!((r.created, r.skipped.len()), (1, 1), "{r}");
    assert_eq!(r.skipped[0].source_id, ret.id.0);
    let invoices: Vec<SalesInvoice> =
        w.bc.entities::<SalesInvoice>()
            .into_iter()
            .filter(|i| Some(i.external_document_number.as_str()) == sale.invoice_number.as_deref())
            .collect();
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(inv.customer_number, "30000");
    // 23:30 UTC is the next day in Amsterdam: the outlet's date.
    assert_eq!(
        inv.invoice_date,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 3)
    );
    let lines: Vec<SalesInvoiceLine> =
        w.bc.entities::<SalesInvoiceLine>()
            .into_iter()
            .filter(|l| l.document_id == inv.id)
            .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (
            lines[0].line_object_number.as_str(),
            lines[0].quantity,
            lines[0].unit_price
        ),
        ("CANDLE-1", dec!(3), dec!(5))
    );
    let orders = orders_by_ext(&w.bc);
    assert!(!orders.contains_key(sale.invoice_number.as_deref().unwrap()));
    assert_quiet(&w.runner.run_once(&flow, "t").await.unwrap());
}
