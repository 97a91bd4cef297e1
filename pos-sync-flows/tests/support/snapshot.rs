//! What the Business Central and Lightspeed sandboxes hold after the Lightspeed -> Business Central
//! flows, keyed by business keys so that runs against different sandboxes compare record by
//! record. Shared by the fault tests (`sync-core/tests/reliability.rs`) and the crash tests
//! (`examples/tests/crash.rs`), which include this file with `#[path]`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use business_central::models::{
    Customer as BcCustomer, Item, ItemVariant, SalesOrder, SalesOrderLine,
};
use business_central::sandbox::Sandbox as BcSandbox;
use lightspeed_x::sandbox::Sandbox as LsSandbox;
use rust_decimal::Decimal;

/// A customer as Business Central holds it, without ids.
pub type CustomerRow = (String, String, String, String, String, String, String);
/// A sales line: item number, variant code, quantity, unit price, discount, amounts.
pub type LineRow = (String, String, Decimal, Decimal, Decimal, Decimal, Decimal);

/// What the target holds, keyed by the flows' business keys (ids differ between sandboxes).
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// E-mail (lower case) -> every customer with it.
    pub customers: BTreeMap<String, Vec<CustomerRow>>,
    /// Item number -> every item with it: name, unit price, category code.
    pub items: BTreeMap<String, Vec<(String, Decimal, String)>>,
    /// (Item number, variant code) -> how many.
    pub variants: BTreeMap<(String, String), usize>,
    /// External document number -> every order with it: customer e-mail (or number), lines.
    pub orders: BTreeMap<String, Vec<(String, Vec<LineRow>)>>,
    /// Lightspeed SKU -> inventory level at the outlet (written by the stock flow).
    pub stock: BTreeMap<String, Option<Decimal>>,
}

impl Snapshot {
    pub fn take(ls: &LsSandbox, bc: &BcSandbox) -> Snapshot {
        let bc_customers = bc.entities::<BcCustomer>();
        let mut customers: BTreeMap<String, Vec<CustomerRow>> = BTreeMap::new();
        let mut email_of = BTreeMap::new();
        for c in &bc_customers {
            let email = c.email.to_lowercase();
            email_of.insert(
                c.number.clone(),
                if email.is_empty() {
                    c.number.clone()
                } else {
                    email.clone()
                },
            );
            customers.entry(email).or_default().push((
                c.display_name.clone(),
                c.r#type.as_str().to_owned(),
                c.address_line1.clone(),
                c.city.clone(),
                c.postal_code.clone(),
                c.country.clone(),
                c.phone_number.clone(),
            ));
        }
        let mut items: BTreeMap<String, Vec<(String, Decimal, String)>> = BTreeMap::new();
        for i in bc.entities::<Item>() {
            items.entry(i.number.clone()).or_default().push((
                i.display_name.clone(),
                i.unit_price,
                i.item_category_code.clone(),
            ));
        }
        let mut variants = BTreeMap::new();
        let mut variant_code = BTreeMap::new();
        for v in bc.entities::<ItemVariant>() {
            *variants
                .entry((v.item_number.clone(), v.code.clone()))
                .or_insert(0) += 1;
            variant_code.insert(v.id, v.code.clone());
        }
        let mut lines: BTreeMap<_, Vec<SalesOrderLine>> = BTreeMap::new();
        for l in bc.entities::<SalesOrderLine>() {
            lines.entry(l.document_id).or_default().push(l);
        }
        let mut orders: BTreeMap<String, Vec<(String, Vec<LineRow>)>> = BTreeMap::new();
        for o in bc.entities::<SalesOrder>() {
            let mut ls = lines.remove(&o.id).unwrap_or_default();
            ls.sort_by_key(|l| l.sequence);
            let rows = ls
                .iter()
                .map(|l| {
                    (
                        l.line_object_number.clone(),
                        variant_code
                            .get(&l.item_variant_id)
                            .cloned()
                            .unwrap_or_default(),
                        l.quantity,
                        l.unit_price,
                        l.discount_amount,
                        l.amount_excluding_tax,
                        l.amount_including_tax,
                    )
                })
                .collect();
            let customer = email_of
                .get(&o.customer_number)
                .cloned()
                .unwrap_or_else(|| o.customer_number.clone());
            orders
                .entry(o.external_document_number.clone())
                .or_default()
                .push((customer, rows));
        }
        let st = ls.state();
        let outlet = st.outlets().live()[0].id.clone();
        let stock = st
            .products()
            .live()
            .into_iter()
            .filter_map(|p| {
                let sku = p.sku.clone()?;
                Some((sku, st.inventory_level(&p.id, &outlet)))
            })
            .collect();
        Snapshot {
            customers,
            items,
            variants,
            orders,
            stock,
        }
    }

    /// Every business key is held once (blank e-mails aside: the demo company has such customers).
    pub fn assert_no_duplicates(&self) {
        for (k, v) in &self.customers {
            assert!(k.is_empty() || v.len() == 1, "customer {k} x{}", v.len());
        }
        for (k, v) in &self.items {
            assert_eq!(v.len(), 1, "item {k}");
        }
        for (k, n) in &self.variants {
            assert_eq!(*n, 1, "variant {k:?}");
        }
        for (k, v) in &self.orders {
            assert_eq!(v.len(), 1, "order {k}");
        }
    }

    /// Record by record, so that a failure names the record.
    pub fn assert_same_as(&self, expected: &Snapshot) {
        fn diff<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
            what: &str,
            got: &BTreeMap<K, V>,
            want: &BTreeMap<K, V>,
        ) {
            for (k, v) in want {
                assert_eq!(got.get(k), Some(v), "{what} {k:?}");
            }
            for k in got.keys() {
                assert!(want.contains_key(k), "{what} {k:?} should not exist");
            }
        }
        diff("customer", &self.customers, &expected.customers);
        diff("item", &self.items, &expected.items);
        diff("variant", &self.variants, &expected.variants);
        diff("order", &self.orders, &expected.orders);
        diff("stock of", &self.stock, &expected.stock);
    }
}
