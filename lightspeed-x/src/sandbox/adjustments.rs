//! 2026-07 stock adjustments and custom inventory adjustment reasons, kept as API-shaped JSON
//! records of the sandbox's own (the client has no model of them yet).

// Handlers return the API's error response as the `Err` value; its size does not matter here.
#![allow(clippy::result_large_err)]

use super::routes::{authorize, error};
use super::state::{Record, State};
use super::{Shared, hooks};
use crate::ids::InventoryId;
use crate::models::Inventory;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::sync::Arc;

type S = AxState<Arc<Shared>>;

/// Reasons that take stock out (quantity below zero).
const NEGATIVE: &[&str] = &["DAMAGE", "EXPIRY", "INTERNAL_USE", "THEFT", "DONATION"];
/// Reasons that bring stock in (quantity above zero).
const POSITIVE: &[&str] = &["STOCK_FOUND", "SAMPLE_FOR_SALE"];

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn lock(shared: &Shared) -> Result<std::sync::MutexGuard<'_, State>, Response> {
    shared
        .state
        .lock()
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "sandbox state poisoned"))
}

fn query(raw: Option<String>) -> Result<Vec<(String, String)>, Response> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| error(StatusCode::BAD_REQUEST, "invalid query string"))
}

fn q_int(q: &[(String, String)], key: &str) -> Result<Option<i64>, Response> {
    match q.iter().find(|(k, _)| k == key) {
        None => Ok(None),
        Some((_, v)) => v.parse().map(Some).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("{key} must be an integer"),
            )
        }),
    }
}

/// A version-cursor page of JSON records (`version` ordered).
fn page(rows: &[Map<String, Value>], raw: Option<String>, default: i64, max: i64) -> Response {
    let run = || -> Result<Response, Response> {
        let q = query(raw)?;
        let after = q_int(&q, "after")?.unwrap_or(0);
        let before = q_int(&q, "before")?;
        let size = q_int(&q, "page_size")?.unwrap_or(default).clamp(1, max);
        let version =
            |r: &Map<String, Value>| r.get("version").and_then(Value::as_i64).unwrap_or(0);
        let mut out: Vec<&Map<String, Value>> = rows
            .iter()
            .filter(|r| version(r) > after && before.is_none_or(|b| version(r) < b))
            .collect();
        out.sort_by_key(|r| version(r));
        out.truncate(usize::try_from(size).unwrap_or(1));
        let min = out.first().map_or(after, |r| version(r));
        let max = out.last().map_or(after, |r| version(r));
        Ok((
            StatusCode::OK,
            axum::Json(json!({ "data": out, "version": { "min": min, "max": max } })),
        )
            .into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// `GET /stock_adjustments` (page size default 100, max 1000).
pub(crate) async fn list_stock_adjustments(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(e) = authorize(&shared, &headers) {
        return e;
    }
    let rows = match lock(&shared) {
        Ok(st) => st.stock_adjustments.clone(),
        Err(e) => return e,
    };
    page(&rows, raw, 100, 1000)
}

/// `POST /stock_adjustments`: 1 to 1000 adjustments; each changes the stock at its outlet.
pub(crate) async fn create_stock_adjustments(
    AxState(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "the request body is not JSON"))?;
        let items = body
            .get("stock_adjustments")
            .and_then(Value::as_array)
            .filter(|a| (1..=1000).contains(&a.len()))
            .ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "stock_adjustments: 1 to 1000 items",
                )
            })?;
        let mut st = lock(&shared)?;
        let user = st
            .users
            .live()
            .into_iter()
            .find(|u| u.account_type == "admin")
            .map(|u| u.id)
            .unwrap_or_default();
        // Everything is checked before anything changes: a batch is all or nothing.
        let mut planned = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
            let unprocessable = |m: &str| {
                error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("stock_adjustments[{n}]: {m}"),
                )
            };
            let (product, outlet, reason) = (text("product_id"), text("outlet_id"), text("reason"));
            let quantity: Decimal = text("quantity")
                .parse()
                .map_err(|_| unprocessable("quantity must be a numeric string"))?;
            if st.products.get(product).is_none_or(|p| p.is_deleted()) {
                return Err(unprocessable("unknown product"));
            }
            if st.outlets.get(outlet).is_none_or(|o| o.is_deleted()) {
                return Err(unprocessable("unknown outlet"));
            }
            let custom = item
                .get("custom_inventory_adjustment_reason_id")
                .and_then(Value::as_str);
            let positive = match (reason, custom) {
                ("CUSTOM", Some(id)) => {
                    let r = st
                        .custom_reasons
                        .iter()
                        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
                        .ok_or_else(|| unprocessable("unknown custom reason"))?;
                    if r.get("enabled") != Some(&json!(true)) {
                        return Err(unprocessable("the custom reason is disabled"));
                    }
                    r.get("type") == Some(&json!("POSITIVE"))
                }
                ("CUSTOM", None) => return Err(unprocessable("custom reason id is required")),
                (_, Some(_)) => return Err(unprocessable("custom reason id only with CUSTOM")),
                (r, None) if POSITIVE.contains(&r) => true,
                (r, None) if NEGATIVE.contains(&r) => false,
                _ => return Err(unprocessable("unknown reason")),
            };
            if quantity.is_zero() || quantity.is_sign_positive() != positive {
                return Err(unprocessable(
                    "the quantity's sign does not match the reason",
                ));
            }
            planned.push((
                product.to_owned(),
                outlet.to_owned(),
                reason.to_owned(),
                custom.map(str::to_owned),
                quantity,
            ));
        }
        let mut created = Vec::new();
        let mut events = Vec::new();
        for (product, outlet, reason, custom, quantity) in planned {
            let existing = st
                .inventory
                .all()
                .find(|i| i.product_id.0 == product && i.outlet_id.0 == outlet)
                .cloned();
            let mut rec = match existing {
                Some(r) => r,
                None => Inventory {
                    id: InventoryId(st.new_id()),
                    product_id: crate::ids::ProductId(product.clone()),
                    outlet_id: crate::ids::OutletId(outlet.clone()),
                    ..Default::default()
                },
            };
            rec.inventory_level += quantity;
            let rec = st.upsert(|s| &mut s.inventory, rec);
            events.push(hooks::inventory_event(&st, &rec));
            let at = now();
            let mut row = Map::new();
            row.insert("id".into(), json!(st.new_id()));
            row.insert("user_id".into(), json!(user));
            row.insert("product_id".into(), json!(product));
            row.insert("outlet_id".into(), json!(outlet));
            row.insert("quantity".into(), json!(quantity.normalize().to_string()));
            row.insert("reason".into(), json!(reason));
            if let Some(c) = custom {
                row.insert("custom_inventory_adjustment_reason_id".into(), json!(c));
            }
            row.insert("created_at".into(), json!(at));
            row.insert("updated_at".into(), json!(at));
            row.insert("version".into(), json!(st.next_version()));
            st.stock_adjustments.push(row.clone());
            created.push(row);
        }
        drop(st);
        for e in events {
            shared.emit(e);
        }
        Ok((StatusCode::CREATED, axum::Json(json!({ "data": created }))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// `GET /custom_inventory_adjustment_reasons` (page size default and max 100).
pub(crate) async fn list_custom_reasons(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(e) = authorize(&shared, &headers) {
        return e;
    }
    let rows = match lock(&shared) {
        Ok(st) => st.custom_reasons.clone(),
        Err(e) => return e,
    };
    page(&rows, raw, 100, 100)
}

/// The `name`, `enabled` and `type` of a reason body, each when given.
type ReasonFields = (Option<String>, Option<bool>, Option<String>);

fn reason_fields(body: &Value) -> Result<ReasonFields, Response> {
    let name = body.get("name").and_then(Value::as_str).map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 30) {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name must be 1 to 30 characters",
        ));
    }
    let kind = body.get("type").and_then(Value::as_str);
    if kind.is_some_and(|k| k != "POSITIVE" && k != "NEGATIVE") {
        return Err(error(StatusCode::UNPROCESSABLE_ENTITY, "type is invalid"));
    }
    Ok((
        name.map(str::to_owned),
        body.get("enabled").and_then(Value::as_bool),
        kind.map(str::to_owned),
    ))
}

fn name_taken(st: &State, name: &str, except: Option<&str>) -> bool {
    st.custom_reasons.iter().any(|r| {
        r.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && r.get("id").and_then(Value::as_str) != except
    })
}

/// `POST /custom_inventory_adjustment_reasons`: 200 with the new reason; 409 for a name in use.
pub(crate) async fn create_custom_reason(
    AxState(shared): S,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "the request body is not JSON"))?;
        let (name, enabled, kind) = reason_fields(&body)?;
        let (Some(name), Some(enabled), Some(kind)) = (name, enabled, kind) else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "name, enabled and type are required",
            ));
        };
        let mut st = lock(&shared)?;
        if name_taken(&st, &name, None) {
            return Err(error(
                StatusCode::CONFLICT,
                "a reason with this name exists",
            ));
        }
        let at = now();
        let mut row = Map::new();
        row.insert("id".into(), json!(st.new_id()));
        row.insert("name".into(), json!(name));
        row.insert("enabled".into(), json!(enabled));
        row.insert("type".into(), json!(kind));
        row.insert("is_from_external_source".into(), json!(true));
        row.insert("created_at".into(), json!(at));
        row.insert("updated_at".into(), json!(at));
        row.insert("version".into(), json!(st.next_version()));
        st.custom_reasons.push(row.clone());
        Ok((StatusCode::OK, axum::Json(json!({ "data": row }))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// `PUT /custom_inventory_adjustment_reasons/{id}`: changes name, enabled or type.
pub(crate) async fn update_custom_reason(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "the request body is not JSON"))?;
        let (name, enabled, kind) = reason_fields(&body)?;
        let mut st = lock(&shared)?;
        if name
            .as_deref()
            .is_some_and(|n| name_taken(&st, n, Some(&id)))
        {
            return Err(error(
                StatusCode::CONFLICT,
                "a reason with this name exists",
            ));
        }
        let version = st.next_version();
        let Some(row) = st
            .custom_reasons
            .iter_mut()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()))
        else {
            return Err(error(StatusCode::NOT_FOUND, "reason not found"));
        };
        if let Some(n) = name {
            row.insert("name".into(), json!(n));
        }
        if let Some(e) = enabled {
            row.insert("enabled".into(), json!(e));
        }
        if let Some(k) = kind {
            row.insert("type".into(), json!(k));
        }
        row.insert("updated_at".into(), json!(now()));
        row.insert("version".into(), json!(version));
        let row = row.clone();
        Ok((StatusCode::OK, axum::Json(json!({ "data": row }))).into_response())
    };
    run().unwrap_or_else(|e| e)
}
