//! Every entity set against the sandbox: list, get, create, update, delete where writable.

use business_central::models::*;
use business_central::query::{Expand, Field, Order, Query};
use business_central::sandbox::Sandbox;
use business_central::{Error, ErrorFamily};
use futures::TryStreamExt;
use rust_decimal_macros::dec;

async fn setup() -> (Sandbox, business_central::CompanyScope) {
    let sb = Sandbox::start().await.unwrap();
    let company = sb.client().company(sb.company_id());
    (sb, company)
}

#[tokio::test]
async fn companies_are_listed_and_read() {
    let sb = Sandbox::start().await.unwrap();
    let client = sb.client();
    let companies: Vec<Company> = client
        .companies()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(companies.len(), 1);
    assert_eq!(companies[0].display_name, "CRONUS International Ltd.");
    let one = client.companies().get(&sb.company_id()).await.unwrap();
    assert_eq!(one.id, Some(sb.company_id()));
}

#[tokio::test]
async fn customers_crud_with_etags() {
    let (sb, company) = setup().await;
    let customers = company.customers();
    let created = customers
        .create(
            &CustomerInput::new()
                .display_name("Zoë's Bikes")
                .email("zoe@example.com")
                .type_(ContactType::Person),
        )
        .await
        .unwrap();
    assert!(
        created.number.starts_with('C'),
        "number series: {}",
        created.number
    );
    assert_eq!(created.r#type, ContactType::Person);
    assert_eq!(created.blocked, CustomerBlocked::Blank);
    let etag1 = created.etag.clone().unwrap();
    let created_at = created.last_modified_date_time.unwrap();

    let updated = customers
        .update_entity(
            &created,
            &CustomerInput::new()
                .city("Zürich")
                .blocked(CustomerBlocked::Ship),
        )
        .await
        .unwrap();
    assert_eq!(updated.city, "Zürich");
    assert_eq!(updated.blocked, CustomerBlocked::Ship);
    assert_ne!(
        updated.etag.as_ref(),
        Some(&etag1),
        "ETag changes on update"
    );
    assert!(updated.last_modified_date_time.unwrap() >= created_at);

    // Stale ETag: conflict.
    let stale = customers
        .update(
            &created.id.unwrap(),
            &etag1,
            &CustomerInput::new().city("Bern"),
        )
        .await;
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");

    let got = customers.get(&created.id.unwrap()).await.unwrap();
    assert_eq!(got.city, "Zürich");

    customers
        .delete(&created.id.unwrap(), got.etag.as_ref())
        .await
        .unwrap();
    let gone = customers.get(&created.id.unwrap()).await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    assert_eq!(sb.entities::<Customer>().len(), 8);
}

#[tokio::test]
async fn duplicate_number_is_entity_with_same_key_exists() {
    let (_sb, company) = setup().await;
    let err = company
        .customers()
        .create(&CustomerInput::new().number("10000").display_name("Dup"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    assert_eq!(err.code().unwrap().family(), ErrorFamily::Internal);
}

#[tokio::test]
async fn too_long_values_are_refused_before_sending() {
    let (sb, company) = setup().await;
    sb.reset_stats();
    let long_number = "X".repeat(21);
    let err = company
        .items()
        .create(&ItemInput::new().number(long_number).display_name("x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: items.number is 21 characters long, the maximum is 20"
    );
    let email = format!("{}@example.com", "a".repeat(70));
    let err = company
        .customers()
        .create(&CustomerInput::new().display_name("x").email(email))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("customers.email is 82 characters long, the maximum is 80"),
        "{err}"
    );
    assert_eq!(sb.stats().requests, 0, "nothing was sent");
}

#[tokio::test]
async fn contacts_crud() {
    let (_sb, company) = setup().await;
    let c = company
        .contacts()
        .create(
            &ContactInput::new()
                .display_name("Ana Pérez")
                .type_(ContactType::Person)
                .job_title("Buyer"),
        )
        .await
        .unwrap();
    assert_eq!(c.contact_business_relation, ContactBusinessRelation::Blank);
    let u = company
        .contacts()
        .update_entity(&c, &ContactInput::new().company_name("Adatum"))
        .await
        .unwrap();
    assert_eq!(u.company_name, "Adatum");
    let found = company
        .contacts()
        .lookup("number", [c.number.as_str()], 10, Query::new())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    company
        .contacts()
        .delete(&c.id.unwrap(), u.etag.as_ref())
        .await
        .unwrap();
}

#[tokio::test]
async fn items_with_inventory_categories_and_variants() {
    let (sb, company) = setup().await;
    let items: Vec<Item> = company
        .items()
        .list(
            Query::new()
                .filter(Field::new("type").eq(ItemType::Inventory))
                .order_by("number", Order::Asc),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 8);
    assert_eq!(items[0].number, "1000");
    assert_eq!(items[0].inventory, dec!(120));
    assert_eq!(items[0].unit_price, dec!(89.95));
    assert_eq!(items[0].item_category_code, "SHOES");

    let service = company
        .items()
        .lookup("number", ["9000"], 10, Query::new())
        .await
        .unwrap();
    assert_eq!(service[0].r#type, ItemType::Service);

    // Inventory cannot be set on insert; a PATCH posts an adjustment.
    let err = company
        .items()
        .create(
            &ItemInput::new()
                .number("2000")
                .display_name("New")
                .inventory(dec!(5)),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Inventory cannot be changed"),
        "{err}"
    );
    let new = company
        .items()
        .create(
            &ItemInput::new()
                .number("2000")
                .display_name("New")
                .type_(ItemType::NonInventory)
                .item_category_code("SHOES"),
        )
        .await
        .unwrap();
    assert_eq!(new.r#type, ItemType::NonInventory);
    assert!(new.item_category_id.is_some());
    let adjusted = company
        .items()
        .update_entity(&new, &ItemInput::new().inventory(dec!(7)))
        .await
        .unwrap();
    assert_eq!(adjusted.inventory, dec!(7));
    let ledger: Vec<ItemLedgerEntry> = company
        .item_ledger_entries()
        .list(Query::new().filter(Field::new("itemNumber").eq("2000")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].entry_type, ItemLedgerEntryType::PositiveAdjmt);
    assert_eq!(ledger[0].quantity, dec!(7));

    // Variants and expand.
    let shoe = company
        .items()
        .lookup(
            "number",
            ["1000"],
            10,
            Query::new().expand(Expand::new("itemVariants").order_by("code", Order::Desc)),
        )
        .await
        .unwrap()
        .remove(0);
    let variants = shoe.item_variants.unwrap();
    assert_eq!(
        variants.iter().map(|v| v.code.as_str()).collect::<Vec<_>>(),
        ["44", "43", "42"]
    );
    let v = company
        .item_variants()
        .create(
            &ItemVariantInput::new()
                .item_number("1000")
                .code("45")
                .description("Size 45"),
        )
        .await
        .unwrap();
    assert_eq!(v.item_id, shoe.id);
    let dup = company
        .item_variants()
        .create(&ItemVariantInput::new().item_number("1000").code("45"))
        .await;
    assert_eq!(
        dup.unwrap_err().code().unwrap().as_str(),
        "Internal_EntityWithSameKeyExists"
    );
    let cats: Vec<ItemCategory> = company
        .item_categories()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(cats.len(), 3);
    let cat = company
        .item_categories()
        .create(&ItemCategoryInput::new().code("BIKES").display_name("Bikes"))
        .await
        .unwrap();
    company
        .item_categories()
        .delete(&cat.id.unwrap(), None)
        .await
        .unwrap();
    assert_eq!(sb.entities::<ItemCategory>().len(), 3);
}

#[tokio::test]
async fn reference_sets() {
    let (_sb, company) = setup().await;
    let terms: Vec<PaymentTerm> = company
        .payment_terms()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(terms.len(), 4);
    assert!(
        terms
            .iter()
            .any(|t| t.code == "1M(8D)" && t.discount_percent == dec!(2))
    );
    let pt = company
        .payment_terms()
        .create(
            &PaymentTermInput::new()
                .code("60 DAYS")
                .due_date_calculation("60D"),
        )
        .await
        .unwrap();
    let pt2 = company
        .payment_terms()
        .update_entity(&pt, &PaymentTermInput::new().display_name("Net 60"))
        .await
        .unwrap();
    assert_eq!(pt2.display_name, "Net 60");
    let methods: Vec<PaymentMethod> = company
        .payment_methods()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(methods.len(), 3);
    let m = company
        .payment_methods()
        .create(
            &PaymentMethodInput::new()
                .code("TWINT")
                .display_name("Twint"),
        )
        .await
        .unwrap();
    company
        .payment_methods()
        .delete(&m.id.unwrap(), m.etag.as_ref())
        .await
        .unwrap();
    let locs: Vec<Location> = company
        .locations()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(locs[0].code, "MAIN");
    let l = company
        .locations()
        .create(
            &LocationInput::new()
                .code("STORE2")
                .display_name("Store 2")
                .city("Genève"),
        )
        .await
        .unwrap();
    assert_eq!(l.city, "Genève");
    let gpp: Vec<GeneralProductPostingGroup> = company
        .general_product_posting_groups()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(gpp.len(), 2);
    let ipg: Vec<InventoryPostingGroup> = company
        .inventory_posting_groups()
        .list(Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ipg[0].code, "RESALE");
}

#[tokio::test]
async fn customer_expand_payment_terms_and_select() {
    let (_sb, company) = setup().await;
    let c = company
        .customers()
        .list(
            Query::new()
                .filter(Field::new("number").eq("10000"))
                .select(["id", "number", "paymentTermsId"])
                .expand("paymentTerm"),
        )
        .try_collect::<Vec<Customer>>()
        .await
        .unwrap()
        .remove(0);
    assert_eq!(c.display_name, "", "not selected");
    assert_eq!(c.payment_term.unwrap().code, "14 DAYS");
}

#[tokio::test]
async fn sandbox_refuses_out_of_range_numbers_without_panicking() {
    let (sb, company) = setup().await;
    let http = sb.client().http().clone();
    let path = format!("api/v2.0/companies({})/salesOrders", sb.company_id());
    // As text: a `serde_json::Value` cannot hold an integer beyond `u64`.
    let body = r#"{"customerNumber": "10000", "salesOrderLines": [
        {"lineObjectNumber": "1000", "quantity": 79228162514264337593543950335, "unitPrice": 1e300}]}"#;
    let err = Error::from(
        http.post(&path)
            .body(body, "application/json")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.code().unwrap().as_str(),
        "Application_EvaluateException"
    );
    let garbage = http
        .post(&path)
        .body("{not json", "application/json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(Error::from(garbage).code().unwrap().as_str(), "BadRequest");
    let bad_key = company
        .customers()
        .path()
        .replace("customers", "customers(not-a-guid)");
    let e = Error::from(http.get(&bad_key).send().await.unwrap_err());
    assert_eq!(e.api_error().unwrap().status, 400);
    // The sandbox still answers.
    assert_eq!(
        company
            .customers()
            .list_all(Query::new())
            .await
            .unwrap()
            .len(),
        8
    );
}
