//! Business Central webhook calls: the `validationToken` handshake and notification bodies. A
//! notification with another `clientState` is never accepted.
#![no_main]

use business_central::SecretString;
use business_central::webhook::{WebhookHandler, WebhookReply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First line: the query string (when not empty); the rest: the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(0);
    let query = String::from_utf8_lossy(&data[..split]);
    let query = (!query.is_empty()).then_some(query.as_ref());
    let body = data.get(split + 1..).unwrap_or_default();
    let handler = WebhookHandler::new(SecretString::from("fuzz-client-state"));
    match handler.handle(query, body) {
        WebhookReply::Notifications(list) => {
            // Accepted only when every clientState was the expected one.
            // (serde skips unknown fields without validating them, so an accepted body may
            // still hold e.g. invalid UTF-8 in a skipped string and not parse as a `Value`.)
            let raw: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            for n in raw["value"].as_array().into_iter().flatten() {
                assert_eq!(n["clientState"], "fuzz-client-state");
            }
            for n in list {
                let _ = (n.entity_id(), n.company_id(), n.entity_set());
            }
        }
        reply => {
            let _ = (reply.status(), reply.body());
        }
    }
});
