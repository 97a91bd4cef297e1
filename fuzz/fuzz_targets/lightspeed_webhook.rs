//! Lightspeed webhook deliveries: form parsing, typed events of every type, and `X-Signature`
//! verification. A forged body never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lightspeed_x::webhook::{self, WebhookDelivery, WebhookEvent};
use lightspeed_x::{SecretString, WebhookType};

const TYPES: [&str; 8] = [
    "sale.update",
    "product.update",
    "customer.update",
    "inventory.update",
    "register_closure.create",
    "consignment.send",
    "consignment.receive",
    "gift_card.update",
];

fuzz_target!(|data: &[u8]| {
    // First line: the X-Signature header; the rest: the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let header = String::from_utf8_lossy(&data[..split]);
    let body = data.get(split + 1..).unwrap_or_default();
    let secret = SecretString::from("fuzz-secret");
    if webhook::verify_signature(&secret, &header, body).is_ok() {
        // A header that verifies with one secret is refused with any other.
        let other = SecretString::from("another-secret");
        assert!(webhook::verify_signature(&other, &header, body).is_err());
    }
    assert!(webhook::verify_signature(&secret, &webhook::sign(&secret, body), body).is_ok());

    if let Ok(delivery) = WebhookDelivery::parse(body) {
        let _ = delivery.event(None);
        for t in TYPES {
            let _ = delivery.event(Some(WebhookType::parse(t)));
        }
    }
    // The payload decoders straight from bytes (as text, lossily).
    let text = String::from_utf8_lossy(body);
    for t in TYPES {
        let _ = WebhookEvent::decode(&WebhookType::parse(t), &text);
    }
});
