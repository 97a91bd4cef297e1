//! Deterministic demo data: outlets in several time zones, products with variants, customers with
//! and without company names, days of sales (returns, voided and parked ones included) and shifts.

use super::records::*;
use super::state::State;
use crate::enums::*;
use crate::ids::*;
use crate::models::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

/// What demo data to generate.
#[derive(Clone, Debug)]
pub struct DemoData {
    /// Seed of the generator; the same seed gives the same data.
    pub seed: u64,
    /// Outlets: name and IANA time zone.
    pub outlets: Vec<(String, Tz)>,
    /// Product families; every third one has size variants.
    pub product_families: usize,
    /// Customers (about a third with a company name).
    pub customers: usize,
    /// Days of sales and shifts, ending the day before `end_date`.
    pub days: u32,
    /// The (local) day after the last day of sales.
    pub end_date: NaiveDate,
    /// Sales per outlet per day.
    pub sales_per_day: u32,
}

impl Default for DemoData {
    fn default() -> Self {
        DemoData {
            seed: 42,
            outlets: vec![
                ("Auckland Central".into(), chrono_tz::Pacific::Auckland),
                ("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam),
                ("New York SoHo".into(), chrono_tz::America::New_York),
            ],
            product_families: 9,
            customers: 12,
            days: 3,
            end_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default(),
            sales_per_day: 5,
        }
    }
}

fn dec(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn round5(d: Decimal) -> Decimal {
    d.round_dp(5)
}

/// The SKU the store gives a product created without one (a running number, as on the POS).
fn auto_sku(st: &State) -> String {
    (10_000 + st.products.all().count()).to_string()
}

/// Creates a product (or a family of variants) as `POST /products` does; returns the new ids.
pub(crate) fn insert_product(st: &mut State, input: &ProductCreate) -> Vec<ProductId> {
    let now = Utc::now();
    let tax_rate = st
        .taxes
        .live()
        .into_iter()
        .find(|t| t.is_default)
        .map(|t| t.total_rate())
        .unwrap_or_default();
    let prices =
        |incl: Option<Decimal>, excl: Option<Decimal>| -> (Option<Decimal>, Option<Decimal>) {
            match (incl, excl) {
                (Some(i), _) => (Some(i), Some(round5(i / (Decimal::ONE + tax_rate)))),
                (None, Some(e)) => (Some(round5(e * (Decimal::ONE + tax_rate))), Some(e)),
                _ => (None, None),
            }
        };
    let family = ProductId(st.new_id());
    let outlets: Vec<OutletId> = st
        .outlets
        .all()
        .filter(|o| o.deleted_at.is_none())
        .map(|o| OutletId(o.id.clone()))
        .collect();
    let base = |st: &mut State, id: ProductId| Product {
        id,
        family_id: Some(family.clone()),
        name: input.name.clone(),
        handle: Some(
            input
                .handle
                .clone()
                .unwrap_or_else(|| input.name.to_lowercase().replace(' ', "")),
        ),
        description: input.description.clone(),
        is_active: input.is_active.unwrap_or(true),
        active: input.is_active.unwrap_or(true),
        has_inventory: true,
        brand_id: input.brand_id.clone(),
        supplier_id: input.supplier_id.clone(),
        supplier_code: input.supplier_code.clone(),
        product_type_id: input.product_category_id.clone(),
        tag_ids: input.tag_ids.clone(),
        source: Some(input.source.clone().unwrap_or_else(|| "USER".into())),
        source_id: input.source_id.clone(),
        created_at: Some(now),
        updated_at: Some(now),
        attributes: serde_json::json!([]),
        version: Some(Version(st.version)),
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut levels = Vec::new();
    if input.variants.is_empty() {
        let mut p = base(st, family.clone());
        p.sku = Some(input.sku.clone().unwrap_or_else(|| auto_sku(st)));
        p.product_codes = input.product_codes.clone();
        let (i, e) = prices(input.price_including_tax, input.price_excluding_tax);
        p.price_including_tax = i;
        p.price_excluding_tax = e;
        p.supply_price = input.supply_price;
        st.upsert(|s| &mut s.products, p);
        ids.push(family.clone());
        levels.push((family.clone(), input.inventory.clone()));
    } else {
        let count = input.variants.len() as i64;
        for (n, v) in input.variants.iter().enumerate() {
            let id = if n == 0 {
                family.clone()
            } else {
                ProductId(st.new_id())
            };
            let mut p = base(st, id.clone());
            p.has_variants = true;
            p.variant_count = count;
            if n > 0 {
                p.variant_parent_id = Some(family.clone());
            }
            p.sku = Some(v.sku.clone().unwrap_or_else(|| auto_sku(st)));
            p.variant_options = v
                .variant_definitions
                .iter()
                .map(|d| VariantOption {
                    id: Some(d.attribute_id.clone()),
                    name: d.attribute_id.clone(),
                    value: d.value.clone(),
                })
                .collect();
            let suffix: Vec<&str> = v
                .variant_definitions
                .iter()
                .map(|d| d.value.as_str())
                .collect();
            p.variant_name = Some(if suffix.is_empty() {
                input.name.clone()
            } else {
                format!("{} / {}", input.name, suffix.join(" / "))
            });
            let (i, e) = prices(
                v.price_including_tax.or(input.price_including_tax),
                v.price_excluding_tax.or(input.price_excluding_tax),
            );
            p.price_including_tax = i;
            p.price_excluding_tax = e;
            p.supply_price = v.supply_price.or(input.supply_price);
            st.upsert(|s| &mut s.products, p);
            ids.push(id.clone());
            levels.push((id, v.inventory.clone()));
        }
    }
    for (pid, given) in levels {
        for o in &outlets {
            let level = given.iter().find(|l| &l.outlet_id == o);
            let rec = Inventory {
                id: InventoryId(st.new_id()),
                product_id: pid.clone(),
                outlet_id: o.clone(),
                inventory_level: level.and_then(|l| l.current_amount).unwrap_or_default(),
                reorder_point: level.and_then(|l| l.reorder_point),
                reorder_amount: level.and_then(|l| l.reorder_amount),
                ..Default::default()
            };
            st.upsert(|s| &mut s.inventory, rec);
        }
    }
    ids
}

fn local(tz: Tz, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, minute, 0)
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}

const FIRST: [&str; 12] = [
    "Aroha", "Jan", "Maria", "Liam", "Sofia", "Noah", "Emma", "Tane", "Ava", "Lucas", "Mila", "Kai",
];
const LAST: [&str; 12] = [
    "Ngata", "de Vries", "Garcia", "Smith", "Jansen", "Brown", "Bakker", "Walker", "Visser", "Lee",
    "Meijer", "Wilson",
];
const COMPANIES: [&str; 4] = [
    "Harbour Cafe Ltd",
    "Bakker & Zn B.V.",
    "SoHo Studio LLC",
    "Kiwi Events Ltd",
];
const PRODUCTS: [&str; 9] = [
    "Linen Shirt",
    "Coffee Beans 1kg",
    "Ceramic Mug",
    "Wool Beanie",
    "Leather Wallet",
    "Tea Towel",
    "Notebook A5",
    "Canvas Tote",
    "Scented Candle",
];

/// Fills an empty state with demo data.
// `..Default::default()` keeps the seed compiling when the models gain fields.
#[allow(clippy::needless_update)]
pub(crate) fn seed(st: &mut State, demo: &DemoData, domain_prefix: &str) {
    let mut rng = StdRng::seed_from_u64(demo.seed);
    let first_tz = demo.outlets.first().map(|o| o.1).unwrap_or(chrono_tz::UTC);
    st.retailer = Retailer {
        id: RetailerId(st.new_id()),
        domain_prefix: domain_prefix.to_owned(),
        name: "Demo Retail".into(),
        timezone: Some(first_tz),
        tax_exclusive: false,
        country: Some("NZ".into()),
        currency: Some(Currency {
            code: "NZD".into(),
            symbol: "$".into(),
        }),
        ..Default::default()
    };
    // Taxes and payment types.
    let no_tax = TaxId(st.new_id());
    let gst = TaxId(st.new_id());
    for (id, name, rate, default) in [
        (no_tax.clone(), "No Tax", 0, false),
        (gst.clone(), "GST", 15, true),
    ] {
        let t = TaxRow {
            id: id.0.clone(),
            name: name.into(),
            display_name: name.into(),
            is_default: default,
            rates: vec![TaxRateRow {
                id: st.new_id(),
                name: name.into(),
                display_name: name.into(),
                rate: Decimal::new(rate, 2),
            }],
            deleted_at: None,
            version: 0,
        };
        st.upsert(|s| &mut s.taxes, t);
    }
    st.retailer.no_tax_group_id = Some(no_tax);
    let mut payment_types = Vec::new();
    for (name, type_id) in [("Cash", 1), ("EFTPOS", 3), ("Store Credit", 8)] {
        let p = PaymentTypeRow {
            id: st.new_id(),
            name: name.into(),
            type_id,
            deleted_at: None,
            version: 0,
        };
        payment_types.push(st.upsert(|s| &mut s.payment_types, p));
    }
    // Outlets, registers, users.
    let mut outlets = Vec::new();
    for (name, tz) in &demo.outlets {
        let mut o = OutletRow::new(st.new_id(), name.clone(), *tz);
        o.default_tax_id = Some(gst.0.clone());
        o.currency = Some("NZD".into());
        o.currency_symbol = Some("$".into());
        o.physical_city = name.split_whitespace().next().unwrap_or("").to_owned();
        outlets.push(st.upsert(|s| &mut s.outlets, o));
    }
    let mut registers = Vec::new();
    for o in &outlets {
        let mut r = RegisterRow::new(
            st.new_id(),
            format!("{} Register 1", o.name),
            o.id.clone(),
            o.name.chars().take(3).collect::<String>().to_uppercase(),
        );
        r.receipt_template_id = super::shape::stable_id(st, "receipt-template");
        registers.push(st.upsert(|s| &mut s.registers, r));
    }
    st.retailer.discount_product_id = None;
    // An admin and a manager for all outlets, and two cashiers restricted to each outlet.
    let mut staff: Vec<(String, AccountType, Vec<OutletId>)> = vec![
        ("admin".into(), AccountType::Admin, Vec::new()),
        ("manager".into(), AccountType::Manager, Vec::new()),
    ];
    for (n, o) in outlets.iter().enumerate() {
        for k in 1..=2 {
            staff.push((
                format!("cashier{}{k}", n + 1),
                AccountType::Cashier,
                vec![OutletId(o.id.clone())],
            ));
        }
    }
    let mut users = Vec::new();
    for (name, kind, restricted) in staff {
        let created = local(first_tz, demo.end_date, 0, 0) - Duration::days(400);
        let u = UserRow {
            id: st.new_id(),
            display_name: format!("Demo {name}"),
            email: format!("{name}@demo.example"),
            email_verified_at: None,
            is_primary_user: name == "admin",
            username: name,
            account_type: kind.as_str().to_owned(),
            roles: Vec::new(),
            enabled: true,
            restricted_outlet_id: None,
            restricted_outlet_ids: restricted.into_iter().map(|o| o.0).collect(),
            permissions: Vec::new(),
            target_daily: Decimal::ZERO,
            target_weekly: Decimal::ZERO,
            target_monthly: Decimal::ZERO,
            seen_at: created,
            created_at: created,
            updated_at: created,
            deleted_at: None,
            version: 0,
        };
        users.push(st.upsert(|s| &mut s.users, u));
    }
    // Products (every third family has three size variants), with stock at every outlet.
    let mut sellable: Vec<Product> = Vec::new();
    for f in 0..demo.product_families {
        let name = PRODUCTS
            .get(f % PRODUCTS.len())
            .copied()
            .unwrap_or("Product");
        let name = if f >= PRODUCTS.len() {
            format!("{name} {}", f / PRODUCTS.len() + 1)
        } else {
            name.to_owned()
        };
        let price = dec(rng.random_range(500..12000));
        let sku_base = format!(
            "{}-{}",
            name.split_whitespace().next().unwrap_or("P").to_uppercase(),
            1000 + f
        );
        let stock = |rng: &mut StdRng| {
            outlets
                .iter()
                .map(|o| InventoryLevel {
                    outlet_id: OutletId(o.id.clone()),
                    current_amount: Some(Decimal::from(rng.random_range(0..40))),
                    reorder_point: Some(Decimal::from(5)),
                    reorder_amount: Some(Decimal::from(20)),
                })
                .collect::<Vec<_>>()
        };
        let mut input = ProductCreate {
            name: name.clone(),
            price_including_tax: Some(price),
            supply_price: Some(round5(price * Decimal::new(45, 2))),
            ..Default::default()
        };
        if f % 3 == 0 {
            input.variants = ["S", "M", "L"]
                .iter()
                .map(|size| VariantCreate {
                    sku: Some(format!("{sku_base}-{size}")),
                    variant_definitions: vec![VariantAttributeValue {
                        attribute_id: "Size".into(),
                        value: (*size).into(),
                    }],
                    inventory: stock(&mut rng),
                    ..Default::default()
                })
                .collect();
        } else {
            input.sku = Some(sku_base);
            input.product_codes = vec![ProductCode {
                kind: ProductCodeType::Ean,
                code: format!("94{:011}", 1_000_000 + f as u64 * 7919),
            }];
            input.inventory = stock(&mut rng);
        }
        for id in insert_product(st, &input) {
            if let Some(p) = st.products.get(id.as_str()) {
                sellable.push(p.clone());
            }
        }
    }
    // Customers: the walk-in customer, then people, about a third of them for a company.
    let walkin = Customer {
        id: CustomerId(st.new_id()),
        customer_code: Some("WALKIN".into()),
        ..Default::default()
    };
    st.upsert(|s| &mut s.customers, walkin);
    let mut customers = Vec::new();
    for n in 0..demo.customers {
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n * 5 + 3) % LAST.len()];
        let company = (n % 3 == 1).then(|| COMPANIES[(n / 3) % COMPANIES.len()].to_owned());
        let email = (n % 4 != 3).then(|| {
            format!(
                "{}.{}{}@example.com",
                first.to_lowercase(),
                last.to_lowercase().replace(' ', ""),
                n
            )
        });
        let c = Customer {
            id: CustomerId(st.new_id()),
            customer_code: Some(format!("{first}-{:04}", n + 1)),
            name: Some(format!("{first} {last}")),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            company_name: company,
            email,
            phone: Some(format!("+64 9 555 {:04}", n)),
            physical_address_1: Some(format!("{} Queen Street", n + 1)),
            physical_city: Some("Auckland".into()),
            physical_postcode: Some("1010".into()),
            physical_country_id: Some("NZ".into()),
            enable_loyalty: n % 2 == 0,
            created_at: Some(local(first_tz, demo.end_date, 9, 0) - Duration::days(30 + n as i64)),
            ..Default::default()
        };
        customers.push(st.upsert(|s| &mut s.customers, c));
    }
    // Days of sales and shifts, in each outlet's local business hours.
    let gst_rate = Decimal::new(15, 2);
    let mut sale_counter = 0u64;
    for d in (1..=demo.days).rev() {
        let day = demo.end_date - Duration::days(i64::from(d));
        for (oi, o) in outlets.iter().enumerate() {
            let tz = o.time_zone;
            let Some(register) = registers.get(oi) else {
                continue;
            };
            // Shifts: the outlet's two cashiers, staggered.
            let cashiers: Vec<UserRow> = users
                .iter()
                .filter(|u| u.restricted_outlet_ids.contains(&o.id))
                .cloned()
                .collect();
            for (ui, u) in cashiers.iter().enumerate() {
                let start = local(tz, day, 8 + ui as u32, 0);
                let sh = ShiftRow {
                    id: st.new_id(),
                    retailer_id: st.retailer.id.0.clone(),
                    user_id: u.id.clone(),
                    time_in: start,
                    time_out: Some(start + Duration::hours(8)),
                    created_at: start,
                    updated_at: start + Duration::hours(8),
                    updated_by: u.id.clone(),
                    version: 0,
                };
                st.upsert(|s| &mut s.shifts, sh);
            }
            let mut closed_today: Vec<Sale> = Vec::new();
            for n in 0..demo.sales_per_day {
                let minute = rng.random_range(0..60);
                let at = local(tz, day, 9 + (n * 8 / demo.sales_per_day.max(1)), minute);
                let lines = rng.random_range(1..4usize);
                let mut items = Vec::new();
                for l in 0..lines {
                    let Some(p) = sellable.get(rng.random_range(0..sellable.len().max(1))) else {
                        continue;
                    };
                    let qty = Decimal::from(rng.random_range(1..4));
                    let price = p.price_excluding_tax.unwrap_or_default();
                    let tax = round5(price * gst_rate);
                    items.push(LineItem {
                        id: LineItemId(st.new_id()),
                        product_id: Some(p.id.clone()),
                        tax_id: Some(gst.clone()),
                        quantity: qty,
                        price,
                        price_total: round5(price * qty),
                        cost: p.supply_price.unwrap_or_default(),
                        cost_total: round5(p.supply_price.unwrap_or_default() * qty),
                        tax,
                        tax_total: round5(tax * qty),
                        status: Some(LineItemStatus::Confirmed),
                        sequence: l as i64,
                        ..Default::default()
                    });
                }
                let customer = (n % 2 == 0)
                    .then(|| {
                        customers
                            .get(rng.random_range(0..customers.len().max(1)))
                            .map(|c| c.id.clone())
                    })
                    .flatten();
                sale_counter += 1;
                let (status, state) = match sale_counter % 8 {
                    3 => (SaleStatus::Saved, SaleState::Parked),
                    6 => (SaleStatus::Voided, SaleState::Voided),
                    _ => (SaleStatus::Closed, SaleState::Closed),
                };
                let sale = build_sale(
                    st,
                    o,
                    register,
                    &users,
                    items,
                    customer,
                    at,
                    status,
                    state,
                    &payment_types,
                );
                let sale = st.upsert(|s| &mut s.sales, sale);
                if sale.is_closed() {
                    closed_today.push(sale);
                }
            }
            // One return per outlet per day, of the first completed sale's first line.
            if let Some(orig) = closed_today.first()
                && let Some(line) = orig.line_items.first()
            {
                let mut back = line.clone();
                back.id = LineItemId(st.new_id());
                back.quantity = -Decimal::ONE;
                back.price_total = -back.price;
                back.cost_total = -back.cost;
                back.tax_total = -back.tax;
                back.is_return = true;
                let at = orig.sale_date.unwrap_or_else(Utc::now) + Duration::hours(2);
                let mut ret = build_sale(
                    st,
                    o,
                    register,
                    &users,
                    vec![back],
                    orig.customer_id.clone(),
                    at,
                    SaleStatus::Closed,
                    SaleState::Closed,
                    &payment_types,
                );
                ret.return_for = Some(orig.id.clone());
                st.upsert(|s| &mut s.sales, ret);
            }
        }
    }
    // Consignments: a received supplier order and an open transfer.
    if let (Some(first), Some(second)) = (outlets.first(), outlets.get(1)) {
        let at = local(first_tz, demo.end_date, 10, 0) - Duration::days(i64::from(demo.days));
        for (kind, status, source) in [
            (ConsignmentType::Supplier, ConsignmentStatus::Received, None),
            (
                ConsignmentType::Outlet,
                ConsignmentStatus::Sent,
                Some(OutletId(second.id.clone())),
            ),
        ] {
            let received = status == ConsignmentStatus::Received;
            let c = ConsignmentRow {
                id: st.new_id(),
                outlet_id: first.id.clone(),
                name: format!("{kind} {}", at.format("%Y-%m-%d")),
                consignment_date: at,
                due_at: None,
                received_at: received.then_some(at + Duration::days(1)),
                kind: kind.as_str().to_owned(),
                status: status.as_str().to_owned(),
                supplier_id: None,
                source_outlet_id: source.map(|o| o.0),
                supplier_invoice: None,
                reference: None,
                total_count_gain: None,
                total_cost_gain: None,
                total_count_loss: None,
                total_cost_loss: None,
                created_at: at,
                updated_at: at,
                deleted_at: None,
                version: 0,
            };
            let c = st.upsert(|s| &mut s.consignments, c);
            let mut lines = super::state::Table::default();
            for p in sellable.iter().take(3) {
                let v = st.next_version();
                lines.put(ConsignmentProductRow {
                    product_id: p.id.0.clone(),
                    product_sku: p.sku.clone(),
                    count: Some(Decimal::from(10)),
                    received: if received {
                        Decimal::from(10)
                    } else {
                        Decimal::ZERO
                    },
                    cost: p.supply_price,
                    is_included: true,
                    status: "SUCCESS".into(),
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                    deleted_at: None,
                    version: v,
                });
            }
            st.consignment_products.insert(c.id.clone(), lines);
        }
    }
}

/// The store's walk-in customer (`customer_code` `WALKIN`), created when the store has none yet.
pub(crate) fn ensure_walkin(st: &mut State) -> CustomerId {
    if let Some(c) = st
        .customers
        .all()
        .find(|c| c.customer_code.as_deref() == Some("WALKIN"))
    {
        return c.id.clone();
    }
    let walkin = Customer {
        id: CustomerId(st.new_id()),
        customer_code: Some("WALKIN".into()),
        created_at: Some(Utc::now()),
        updated_at: Some(Utc::now()),
        ..Default::default()
    };
    st.upsert(|s| &mut s.customers, walkin).id
}

/// Builds a sale from lines: totals, taxes and a payment for completed sales.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_sale(
    st: &mut State,
    outlet: &OutletRow,
    register: &RegisterRow,
    users: &[UserRow],
    items: Vec<LineItem>,
    customer: Option<CustomerId>,
    at: DateTime<Utc>,
    status: SaleStatus,
    state: SaleState,
    payment_types: &[PaymentTypeRow],
) -> Sale {
    let total_price: Decimal = items.iter().map(|l| l.price_total).sum();
    let total_tax: Decimal = items.iter().map(|l| l.tax_total).sum();
    let invoice = {
        let Some(r) = st.registers.get_mut(&register.id) else {
            return Sale::default();
        };
        r.invoice_sequence += 1;
        format!("{}{}", r.invoice_prefix, r.invoice_sequence)
    };
    let mut payments = Vec::new();
    if state == SaleState::Closed
        && let Some(pt) = payment_types.get((st.id_counter % 2) as usize)
    {
        payments.push(Payment {
            id: PaymentId(st.new_id()),
            name: Some(pt.name.clone()),
            register_id: Some(RegisterId(register.id.clone())),
            outlet_id: Some(OutletId(outlet.id.clone())),
            retailer_payment_type_id: Some(PaymentTypeId(pt.id.clone())),
            payment_type_id: Some(pt.type_id.to_string()),
            payment_date: Some(at),
            amount: total_price + total_tax,
            ..Default::default()
        });
    }
    let taxes = if total_tax.is_zero() {
        Vec::new()
    } else {
        vec![SaleTax {
            id: st
                .taxes
                .live()
                .into_iter()
                .find(|t| t.is_default)
                .map(|t| t.id),
            name: Some("GST".into()),
            rate: Some(Decimal::new(15, 2)),
            amount: total_tax,
        }]
    };
    Sale {
        id: SaleId(st.new_id()),
        outlet_id: Some(OutletId(outlet.id.clone())),
        register_id: Some(RegisterId(register.id.clone())),
        // The outlet's first cashier rings the sale up (or any user when none is restricted to it).
        user_id: users
            .iter()
            .find(|u| u.restricted_outlet_ids.contains(&outlet.id))
            .or_else(|| users.first())
            .map(|u| UserId(u.id.clone())),
        // A sale without a customer belongs to the store's walk-in customer, as on the real API.
        customer_id: Some(customer.unwrap_or_else(|| ensure_walkin(st))),
        invoice_number: Some(invoice.clone()),
        receipt_number: Some(invoice),
        status,
        state: Some(state),
        source: Some("USER".into()),
        short_code: Some(format!(
            "{:06x}",
            st.id_counter.wrapping_mul(2_654_435_761) % 0xff_ffff
        )),
        total_price,
        total_tax,
        sale_date: Some(at),
        created_at: Some(at),
        updated_at: Some(at),
        line_items: items,
        payments,
        taxes,
        ..Default::default()
    }
}
