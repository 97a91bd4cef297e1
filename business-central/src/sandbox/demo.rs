//! The deterministic demo company: payment terms and methods, posting groups, a location,
//! customers, items with inventory, and open sales orders with unshipped quantities.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use super::store::{Store, num, standard_meta};
use crate::ids::CompanyId;

const V2: &str = "v2.0";

/// Adds a company with no data.
pub(crate) fn add_company(store: &mut Store, name: &str) -> CompanyId {
    let id = store.new_id();
    let now = super::store::now_string();
    let row = json!({
        "id": id.to_string(),
        "systemVersion": "25.4.29661.29727",
        "timestamp": 0,
        "name": name.chars().take(30).collect::<String>(),
        "displayName": name,
        "businessProfileId": "",
        "systemCreatedAt": now,
        "systemCreatedBy": "00000000-0000-0000-0000-000000000001",
        "systemModifiedAt": now,
        "systemModifiedBy": "00000000-0000-0000-0000-000000000001",
    });
    if let Value::Object(m) = row {
        store.companies.push(m);
    }
    CompanyId(id)
}

fn create(
    store: &mut Store,
    company: Uuid,
    set: &str,
    body: Value,
) -> Option<serde_json::Map<String, Value>> {
    let meta = standard_meta(set)?;
    let Value::Object(b) = body else { return None };
    store.create_deep(V2, company, set, &meta, None, b).ok()
}

fn id_of(row: &Option<serde_json::Map<String, Value>>) -> String {
    row.as_ref()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Seeds the demo company; returns its id.
pub(crate) fn seed(store: &mut Store) -> CompanyId {
    let company = add_company(store, "CRONUS International Ltd.");
    let c = company.0;

    let mut terms = Vec::new();
    for (code, name, due, disc) in [
        ("14 DAYS", "Net 14 days", "14D", "0"),
        ("30 DAYS", "Net 30 days", "30D", "0"),
        ("1M(8D)", "1 Month/2% 8 days", "1M", "2"),
        ("COD", "Cash on delivery", "0D", "0"),
    ] {
        let discount: Decimal = disc.parse().unwrap_or_default();
        terms.push(create(
            store,
            c,
            "paymentTerms",
            json!({
                "code": code, "displayName": name, "dueDateCalculation": due,
                "discountDateCalculation": if discount.is_zero() { "" } else { "8D" },
                "discountPercent": num(discount), "calculateDiscountOnCreditMemos": false,
            }),
        ));
    }
    let mut methods = Vec::new();
    for (code, name) in [
        ("CASH", "Cash payment"),
        ("CARD", "Card payment"),
        ("BANK", "Bank transfer"),
    ] {
        methods.push(create(
            store,
            c,
            "paymentMethods",
            json!({"code": code, "displayName": name}),
        ));
    }
    store.seed_row(V2, c, "generalProductPostingGroups", json!({
        "code": "RETAIL", "description": "Retail", "defaultVATProductPostingGroup": "STANDARD", "autoInsertDefault": true}));
    store.seed_row(V2, c, "generalProductPostingGroups", json!({
        "code": "SERVICES", "description": "Services", "defaultVATProductPostingGroup": "REDUCED", "autoInsertDefault": true}));
    store.seed_row(
        V2,
        c,
        "inventoryPostingGroups",
        json!({"code": "RESALE", "description": "Resale items"}),
    );
    create(
        store,
        c,
        "locations",
        json!({
        "code": "MAIN", "displayName": "Main warehouse", "addressLine1": "Main Street 1",
        "city": "Zürich", "country": "CH", "postalCode": "8001"}),
    );
    for (code, name) in [
        ("APPAREL", "Apparel"),
        ("SHOES", "Shoes"),
        ("ACCESSORY", "Accessories"),
    ] {
        create(
            store,
            c,
            "itemCategories",
            json!({"code": code, "displayName": name}),
        );
    }

    let customers = [
        (
            "10000",
            "Adatum Corporation",
            "Company",
            "robert.townes@contoso.com",
            "Atlanta",
            "US",
        ),
        (
            "20000",
            "Trey Research",
            "Company",
            "helen.ray@contoso.com",
            "Chicago",
            "US",
        ),
        (
            "30000",
            "School of Fine Art",
            "Company",
            "meagan.bond@contoso.com",
            "Miami",
            "US",
        ),
        (
            "40000",
            "Alpine Ski House",
            "Company",
            "ian.deberry@contoso.com",
            "Zürich",
            "CH",
        ),
        (
            "50000",
            "Relecloud",
            "Company",
            "jesse.homer@contoso.com",
            "Seattle",
            "US",
        ),
        (
            "60000",
            "Siobhán O'Brien",
            "Person",
            "siobhan.obrien@example.com",
            "Dublin",
            "IE",
        ),
        (
            "70000",
            "Jörg Müller",
            "Person",
            "joerg.mueller@example.com",
            "München",
            "DE",
        ),
        ("80000", "Coho Winery", "Company", "", "Napa", "US"),
    ];
    for (i, (number, name, kind, email, city, country)) in customers.iter().enumerate() {
        let term = id_of(&terms[i % terms.len()]);
        let method = id_of(&methods[i % methods.len()]);
        create(
            store,
            c,
            "customers",
            json!({
                "number": number, "displayName": name, "type": kind, "email": email,
                "addressLine1": format!("{} Main Street", 100 + i), "city": city, "country": country,
                "phoneNumber": format!("+1 555 01{i:02}"), "paymentTermsId": term, "paymentMethodId": method,
            }),
        );
    }

    let items = [
        (
            "1000",
            "Trail Runner Shoe",
            "SHOES",
            "89.95",
            "54.20",
            "120",
        ),
        ("1001", "Road Runner Shoe", "SHOES", "99.00", "61.00", "45"),
        ("1002", "Merino T-Shirt", "APPAREL", "39.50", "18.75", "300"),
        ("1003", "Rain Jacket", "APPAREL", "149.00", "80.00", "12"),
        (
            "1004",
            "Wool Socks (3 pack)",
            "ACCESSORY",
            "19.99",
            "7.10",
            "0",
        ),
        (
            "1005",
            "Water Bottle 0.75 l",
            "ACCESSORY",
            "14.90",
            "4.35",
            "75",
        ),
        ("1006", "Running Cap", "ACCESSORY", "24.00", "9.60", "33"),
        (
            "1007",
            "Compression Tights",
            "APPAREL",
            "69.00",
            "31.00",
            "18",
        ),
    ];
    for (number, name, cat, price, cost, inv) in items {
        create(
            store,
            c,
            "items",
            json!({
                "number": number, "displayName": name, "type": "Inventory", "itemCategoryCode": cat,
                "unitPrice": num(price.parse().unwrap_or_default()), "unitCost": num(cost.parse().unwrap_or_default()),
                "baseUnitOfMeasureCode": "PCS", "gtin": format!("7610000{number}00"),
                "generalProductPostingGroupCode": "RETAIL", "inventoryPostingGroupCode": "RESALE",
            }),
        );
        let qty: Decimal = inv.parse().unwrap_or_default();
        store.set_field(V2, c, "items", ("number", number), "inventory", num(qty));
    }
    create(
        store,
        c,
        "items",
        json!({
            "number": "9000", "displayName": "Gift Wrapping", "type": "Service",
            "unitPrice": num(Decimal::new(500, 2)), "baseUnitOfMeasureCode": "PCS",
            "generalProductPostingGroupCode": "SERVICES",
        }),
    );
    let shoe = store
        .table(V2, c, "items")
        .iter()
        .find(|i| i.get("number") == Some(&json!("1000")))
        .and_then(|i| i.get("id"))
        .cloned();
    if let Some(Value::String(shoe)) = shoe {
        for (code, desc) in [("42", "Size 42"), ("43", "Size 43"), ("44", "Size 44")] {
            create(
                store,
                c,
                "itemVariants",
                json!({"itemId": shoe, "code": code, "description": desc}),
            );
        }
    }

    // Open orders: some lines partly shipped, so outstanding quantities differ from quantities.
    let orders = [
        (
            "10000",
            "WEB-1001",
            vec![("1000", "2", "0"), ("1002", "5", "2")],
        ),
        (
            "20000",
            "WEB-1002",
            vec![("1003", "1", "0"), ("1005", "10", "4"), ("1000", "1", "0")],
        ),
        ("40000", "WEB-1003", vec![("1007", "3", "1")]),
    ];
    for (cust, ext, lines) in orders {
        let lines_json: Vec<Value> = lines
            .iter()
            .map(|(item, qty, _)| json!({"lineType": "Item", "lineObjectNumber": item, "quantity": num(qty.parse().unwrap_or_default())}))
            .collect();
        let order = create(
            store,
            c,
            "salesOrders",
            json!({
            "customerNumber": cust, "externalDocumentNumber": ext, "salesOrderLines": lines_json}),
        );
        let order_id = id_of(&order);
        let line_rows: Vec<_> = store
            .table(V2, c, "salesOrderLines")
            .iter()
            .filter(|l| l.get("documentId").and_then(Value::as_str) == Some(order_id.as_str()))
            .cloned()
            .collect();
        for (row, (_, qty, shipped)) in line_rows.iter().zip(lines.iter()) {
            let shipped: Decimal = shipped.parse().unwrap_or_default();
            let qty: Decimal = qty.parse().unwrap_or_default();
            if let Some(Value::String(id)) = row.get("id") {
                store.set_field(
                    V2,
                    c,
                    "salesOrderLines",
                    ("id", id),
                    "shippedQuantity",
                    num(shipped),
                );
                store.set_field(
                    V2,
                    c,
                    "salesOrderLines",
                    ("id", id),
                    "shipQuantity",
                    num(qty - shipped),
                );
                store.set_field(
                    V2,
                    c,
                    "salesOrderLines",
                    ("id", id),
                    "invoicedQuantity",
                    num(shipped),
                );
            }
        }
        store.set_field(
            V2,
            c,
            "salesOrders",
            ("id", &order_id),
            "status",
            json!("Open"),
        );
    }
    company
}
