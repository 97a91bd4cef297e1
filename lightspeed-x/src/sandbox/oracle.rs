//! The official specs as the sandbox's referee: every request is checked against the spec of its
//! version before a handler sees it, and every response before it is sent.

use super::Shared;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// A response the sandbox was about to send that does not match the official spec.
#[derive(Clone, Debug)]
pub struct SpecViolation {
    /// `METHOD /api/<version>/path`.
    pub route: String,
    /// The status that was about to be sent.
    pub status: u16,
    /// What differs (JSON pointer and message).
    pub problems: Vec<String>,
}

/// Whether the checks run: the config allows them and the specs are found (decided at start).
pub(crate) fn enabled(shared: &Shared) -> bool {
    shared.spec_checks
}

/// Whether a sandbox with this config checks its traffic.
pub(crate) fn wanted(config: &super::SandboxConfig) -> bool {
    config.spec_checks
        && spec_oracle::reference_dir().is_some()
        && spec_oracle::openapi::lightspeed("2.0").is_some()
}

/// The middleware: request check, handler, response check.
pub(crate) async fn check(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !enabled(&shared) {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let Some((spec, rel)) = spec_oracle::openapi::lightspeed_for(&method, &path) else {
        return next.run(req).await;
    };
    // Routes the spec does not have answer the router's own 404.
    if spec.operation(&method, &rel).is_none() {
        return next.run(req).await;
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return super::routes::error(StatusCode::BAD_REQUEST, "unreadable request body");
    };
    let json_body = parse_json(&bytes);
    if !bytes.is_empty() && json_body.is_none() && method != "GET" {
        return super::routes::error(StatusCode::BAD_REQUEST, "the request body is not JSON");
    }
    // An invalid token is the API's 401 before anything else is looked at.
    if let Err(problems) = spec.validate_request(&method, &rel, &query, json_body.as_ref())
        && super::routes::authorize(&shared, &parts.headers).is_ok()
    {
        let documented = |code: &str| {
            spec.operation(&method, &rel).is_some_and(|op| {
                op.object
                    .get("responses")
                    .and_then(|r| r.get(code))
                    .is_some()
            })
        };
        let status = if documented("422") {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return (
            status,
            axum::Json(json!({
                "error": "The request does not match the API",
                "details": text.join("; "),
            })),
        )
            .into_response();
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return super::routes::error(StatusCode::INTERNAL_SERVER_ERROR, "unreadable response");
    };
    let status = parts.status.as_u16();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let parsed = if bytes.is_empty() {
        None
    } else if is_json {
        parse_json(&bytes)
    } else {
        Some(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    if let Err(problems) = spec.validate_response(&method, &rel, status, parsed.as_ref()) {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let route = format!("{method} {path}");
        if let Ok(mut v) = shared.violations.lock() {
            v.push(SpecViolation {
                route: route.clone(),
                status,
                problems: problems.clone(),
            });
        }
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({
                "error": format!(
                    "sandbox response to {route} ({status}) does not match {}: {}",
                    spec.name(),
                    problems.join("; ")
                ),
            })),
        )
            .into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn parse_json(bytes: &Bytes) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}
