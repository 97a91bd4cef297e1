//! Lightspeed X-Series list pages, single objects and error bodies: any bytes end in a value or
//! a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lightspeed_x::{Customer, Error, Inventory, Outlet, Page, Product, Sale};

fn decode<T: serde::de::DeserializeOwned>(data: &[u8]) {
    // The path every list takes: pos-http's JSON decoding, mapped into the crate's error.
    let resp = pos_http::Response {
        status: pos_http::StatusCode::OK,
        headers: pos_http::HeaderMap::new(),
        body: data.to_vec().into(),
    };
    if let Err(e) = resp.json::<Page<T>>() {
        let e = Error::from(e);
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    decode::<Product>(data);
    decode::<Sale>(data);
    decode::<Customer>(data);
    decode::<Outlet>(data);
    decode::<Inventory>(data);
    // Error bodies of any status.
    let status = data.first().map_or(400, |b| 400 + u16::from(*b % 200));
    let e = Error::from(pos_http::Error::Status {
        status: pos_http::StatusCode::from_u16(status).unwrap_or(pos_http::StatusCode::BAD_REQUEST),
        body: String::from_utf8_lossy(data).into_owned(),
        headers: Box::default(),
    });
    let _ = e.to_string();
});
