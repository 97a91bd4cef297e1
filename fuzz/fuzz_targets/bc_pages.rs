//! Business Central entity pages (customers, items, sales orders with lines), error bodies and
//! `$batch` responses: any bytes end in a value or a typed error, never a panic.
#![no_main]

use business_central::batch::{Batch, BatchOperation, BatchResponse};
use business_central::models::{Customer, Item, SalesOrder, SalesOrderLine};
use business_central::{ApiError, Error};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PageBody<E> {
    #[serde(default = "Vec::new")]
    value: Vec<E>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

fn decode<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let resp = pos_http::Response {
        status: pos_http::StatusCode::OK,
        headers: pos_http::HeaderMap::new(),
        body: data.to_vec().into(),
    };
    if let Err(e) = resp.json::<PageBody<T>>() {
        let e = Error::from(e);
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    }
    let _ = resp.json::<T>();
}

fn batch() -> Batch {
    let mut b = Batch::new();
    for id in ["1", "2", "3"] {
        b.push(BatchOperation {
            id: id.into(),
            method: "GET".into(),
            url: format!("api/v2.0/companies(1)/items({id})"),
            headers: BTreeMap::new(),
            body: None,
        })
        .expect("three operations fit");
    }
    b
}

fuzz_target!(|data: &[u8]| {
    decode::<Customer>(data);
    decode::<Item>(data);
    decode::<SalesOrder>(data);
    decode::<SalesOrderLine>(data);
    let status = data.first().map_or(400, |b| 400 + u16::from(*b % 200));
    let api = ApiError::parse(status, data, Some("corr"));
    let _ = Error::from_api(api).to_string();
    if let Ok(r) = BatchResponse::from_body(&batch(), data) {
        for (id, outcome) in r.into_outcomes() {
            let _ = outcome.decode::<Item>(&id);
        }
    }
});
