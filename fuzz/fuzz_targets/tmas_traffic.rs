//! TMAS traffic API answers (`manTrafExp` XML): each body ends in traffic counts or a typed
//! `TrafficError` (decode or API message), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmas::traffic::{TrafficError, decode_traffic_xml};

fuzz_target!(|data: &[u8]| {
    match decode_traffic_xml(data) {
        Ok(counts) => {
            for c in counts {
                let _ = (c.location_id.len(), c.start, c.visitors.is_sign_negative());
            }
        }
        Err(TrafficError::Decode { path, .. }) => assert!(!path.is_empty()),
        Err(TrafficError::Api(_)) => {}
        Err(other) => panic!("not a decoding error: {other:?}"),
    }
});
