//! CPU throughput of the hot paths: decoding API pages, planning upserts, bucketing sales for TMAS.
//!
//! `cargo bench -p pos-sync-benches --bench cpu`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sync_core::fields::Fields;
use sync_core::key::{KeyError, Keyed, Sku};
use sync_core::upsert::{Existing, Planner, SourceRecord, TargetIndex};

fn product(i: usize) -> Value {
    json!({
        "id": format!("7a1c0000-0000-4000-8000-{i:012}"),
        "name": format!("Product {i}"),
        "variant_name": format!("Product {i} / Blue / M"),
        "handle": format!("product{i}"),
        "sku": format!("sku-{i}"),
        "product_codes": [{"type": "EAN", "code": format!("942{i:010}")}],
        "active": true, "is_active": true, "has_inventory": true, "has_variants": i.is_multiple_of(3),
        "variant_options": [{"id": "va-1", "name": "Size", "value": "M"}],
        "price_including_tax": "23.00", "price_excluding_tax": 20.0, "supply_price": 9.5,
        "brand": {"id": "b-1", "name": "Coastline", "version": 11},
        "categories": [{"id": "c-1", "name": "Shirts"}],
        "description": "<p>A shirt.</p>",
        "created_at": "2024-05-01T10:00:00+00:00",
        "updated_at": "2024-05-02 10:00:00",
        "version": 1000 + i,
    })
}

fn sale(i: usize) -> Value {
    let lines: Vec<Value> = (0..(1 + i % 5))
        .map(|l| {
            json!({
                "id": format!("l-{i}-{l}"), "product_id": format!("p-{l}"), "quantity": 1 + l,
                "price": 20, "price_total": 20 * (1 + l), "tax": 3, "tax_total": 3 * (1 + l),
                "discount": 0, "cost": 9.5, "status": "CONFIRMED", "sequence": l, "is_return": false
            })
        })
        .collect();
    json!({
        "id": format!("5a1e0000-0000-4000-8000-{i:012}"), "outlet_id": "o-1", "register_id": "r-1",
        "user_id": "u-1", "customer_id": "c-1", "invoice_number": i.to_string(), "status": "CLOSED",
        "state": "closed", "total_price": 100.0, "total_tax": 15, "created_at": "2026-11-01T09:00:00+00:00",
        "sale_date": "2026-11-01T09:00:00Z", "line_items": lines, "version": 10_000 + i
    })
}

fn decode(c: &mut Criterion) {
    let products = serde_json::to_vec(&json!({
        "data": (0..10_000).map(product).collect::<Vec<_>>(),
        "version": {"min": 1000, "max": 10_999}
    }))
    .unwrap_or_default();
    let sales = serde_json::to_vec(&json!({
        "data": (0..500).map(sale).collect::<Vec<_>>(),
        "version": {"min": 10_000, "max": 10_499}
    }))
    .unwrap_or_default();
    let mut g = c.benchmark_group("decode");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("lightspeed products page of 10,000", |b| {
        b.iter(|| {
            let page: lightspeed_x::Page<lightspeed_x::Product> = pos_decode(&products);
            black_box(page.data.len())
        })
    });
    g.throughput(Throughput::Elements(500));
    g.bench_function("lightspeed sales page of 500", |b| {
        b.iter(|| {
            let page: lightspeed_x::Page<lightspeed_x::Sale> = pos_decode(&sales);
            black_box(page.data.len())
        })
    });
    g.finish();
}

fn pos_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

#[derive(Clone)]
struct Item {
    sku: String,
    name: String,
    price: Decimal,
}

impl Keyed for Item {
    type Key = Sku;
    fn key(&self) -> Result<Sku, KeyError> {
        Sku::parse(&self.sku)
    }
}

impl SourceRecord for Item {
    fn source_id(&self) -> String {
        self.sku.clone()
    }
    fn fields(&self) -> Fields {
        Fields::new()
            .with("displayName", self.name.as_str())
            .with("unitPrice", self.price)
    }
}

fn plan(c: &mut Criterion) {
    const N: usize = 100_000;
    let records: Vec<Item> = (0..N)
        .map(|i| Item {
            sku: format!("SKU-{i:06}"),
            name: format!("Item {i}"),
            price: Decimal::new(1000 + (i as i64 % 500), 2),
        })
        .collect();
    let mut index = TargetIndex::new();
    for (i, r) in records.iter().enumerate() {
        // a tenth differ in price, so the plan has updates as well as unchanged records
        let price = if i.is_multiple_of(10) {
            r.price + Decimal::ONE
        } else {
            r.price
        };
        if let Ok(key) = r.key() {
            index.insert(
                key,
                Existing::new(
                    format!("id-{i}"),
                    Fields::new()
                        .with("displayName", r.name.as_str())
                        .with("unitPrice", price),
                ),
            );
        }
    }
    let planner = Planner::new();
    let mut g = c.benchmark_group("upsert");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("plan 100,000 records against an index of 100,000", |b| {
        b.iter_batched(
            || records.clone(),
            |records| black_box(planner.plan(records, &index).counts()),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bucket(c: &mut Criterion) {
    const N: i64 = 1_000_000;
    let tz = chrono_tz::Europe::Amsterdam;
    let locations: Vec<tmas::model::LocationId> = (0..50)
        .filter_map(|i| tmas::model::LocationId::new(format!("{i:08}")).ok())
        .collect();
    let start: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut g = c.benchmark_group("tmas");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("bucket 1,000,000 sales into hourly rows", |b| {
        b.iter(|| {
            let mut data = tmas::bucket::SummaryData::new(tmas::model::Interval::Hour);
            for i in 0..N {
                let loc = &locations[(i as usize) % locations.len()];
                let at = start + Duration::seconds(i * 2);
                data.add_sale(loc, &tz, at, Decimal::new(1999, 2), Decimal::ONE);
            }
            black_box(data.len())
        })
    });
    g.finish();
}

criterion_group!(benches, decode, plan, bucket);
criterion_main!(benches);
