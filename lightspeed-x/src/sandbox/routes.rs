//! The HTTP surface of the sandbox, following the real paths, bodies and errors.

// Handlers return the API's error response as the `Err` value; its size does not matter here.
#![allow(clippy::result_large_err)]

use super::records::ApiRecord;
use super::state::{IssuedToken, Record, State, Table};
use super::{Shared, hooks};
use crate::decode::parse_timestamp;
use crate::ids::*;
use crate::models::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

type S = AxState<Arc<Shared>>;

/// Default and largest page sizes of the version-cursor lists.
const DEFAULT_PAGE: usize = 1000;
const MAX_PAGE: usize = 10_000;

/// The API version a route was reached under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ver {
    /// `/api/2.0` (and `/api/2.1` for product writes).
    Legacy,
    /// `/api/2026-07`.
    Dated,
}

/// The kind of record a route answers with (its shape differs per version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Outlet,
    Register,
    User,
    Product,
    Inventory,
    Customer,
    Sale,
    PaymentType,
    Tax,
    Consignment,
    ConsignmentProduct,
    Shift,
}

macro_rules! list_route {
    ($v:expr, $kind:expr, $table:ident, $deleted:expr) => {
        get(move |s: S, h: HeaderMap, q: RawQuery| {
            list(s, h, q, |st| &st.$table, $deleted, $v, $kind)
        })
    };
}

macro_rules! one_route {
    ($v:expr, $kind:expr, $table:ident) => {
        get(move |s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.$table, $v, $kind))
    };
}

/// The resource routes of one API version.
fn api(v: Ver) -> Router<Arc<Shared>> {
    let mut r = Router::new()
        .route(
            "/retailer",
            get(move |s: S, h: HeaderMap| retailer(s, h, v)),
        )
        .route("/outlets", list_route!(v, Kind::Outlet, outlets, true))
        .route("/outlets/{id}", one_route!(v, Kind::Outlet, outlets))
        .route(
            "/registers",
            list_route!(v, Kind::Register, registers, true),
        )
        .route("/registers/{id}", one_route!(v, Kind::Register, registers))
        .route("/users", list_route!(v, Kind::User, users, false))
        .route("/users/{id}", one_route!(v, Kind::User, users))
        .route("/user", get(move |s: S, h: HeaderMap| me(s, h, v)))
        .route(
            "/products",
            list_route!(v, Kind::Product, products, true).post(create_product),
        )
        .route(
            "/customers",
            list_route!(v, Kind::Customer, customers, true)
                .post(move |s: S, h: HeaderMap, b: Bytes| create_customer(s, h, b, v)),
        )
        .route(
            "/customers/{id}",
            one_route!(v, Kind::Customer, customers)
                .put(move |s: S, h: HeaderMap, p: Path<String>, b: Bytes| {
                    update_customer(s, h, p, b, v)
                })
                .delete(delete_customer),
        )
        .route("/sales", list_route!(v, Kind::Sale, sales, false))
        .route("/sales/{id}", one_route!(v, Kind::Sale, sales))
        .route(
            "/payment_types",
            list_route!(v, Kind::PaymentType, payment_types, false),
        )
        .route("/taxes", list_route!(v, Kind::Tax, taxes, false))
        .route("/outlet_taxes", get(outlet_taxes))
        .route(
            "/consignments",
            get(move |s: S, h: HeaderMap, q: RawQuery| consignments(s, h, q, v)),
        )
        .route(
            "/consignments/{id}",
            one_route!(v, Kind::Consignment, consignments),
        )
        .route(
            "/consignments/{id}/products",
            get(move |s: S, h: HeaderMap, p: Path<String>, q: RawQuery| {
                consignment_products(s, h, p, q, v)
            }),
        )
        .route("/shifts", list_route!(v, Kind::Shift, shifts, false))
        .route(
            "/search",
            get(move |s: S, h: HeaderMap, q: RawQuery| search(s, h, q, v)),
        )
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", axum::routing::delete(delete_webhook));
    match v {
        Ver::Legacy => {
            r = r
                .route(
                    "/products/{id}",
                    one_route!(v, Kind::Product, products).delete(delete_product),
                )
                .route("/products/{id}/inventory", get(product_inventory))
                .route(
                    "/inventory",
                    list_route!(v, Kind::Inventory, inventory, false),
                );
        }
        Ver::Dated => {
            r = r
                .route(
                    "/products/{id}",
                    one_route!(v, Kind::Product, products)
                        .delete(delete_product)
                        .put(update_product),
                )
                // 2026-07 has no `GET /inventory`: it answers like an unknown route.
                .route(
                    "/inventory",
                    post(inventory_filter)
                        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") }),
                )
                .route("/inventory/{product_id}", get(inventory_of_product))
                .route(
                    "/stock_adjustments",
                    get(super::adjustments::list_stock_adjustments)
                        .post(super::adjustments::create_stock_adjustments),
                )
                .route(
                    "/custom_inventory_adjustment_reasons",
                    get(super::adjustments::list_custom_reasons)
                        .post(super::adjustments::create_custom_reason),
                )
                .route(
                    "/custom_inventory_adjustment_reasons/{id}",
                    put(super::adjustments::update_custom_reason),
                );
        }
    }
    r
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/connect", get(connect))
        .route("/api/1.0/token", post(token))
        .nest("/api/2.0", api(Ver::Legacy))
        .route("/api/2.1/products/{id}", put(update_product))
        .nest("/api/2026-07", api(Ver::Dated))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            super::oracle::check,
        ))
        .layer(axum::middleware::map_response_with_state(
            shared.clone(),
            rate_headers,
        ))
        .with_state(shared)
}

/// Every API response carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
async fn rate_headers(AxState(shared): S, mut response: Response) -> Response {
    let (limit, window) = shared
        .config
        .rate_limit
        .unwrap_or((350, std::time::Duration::from_secs(300)));
    let now = tokio::time::Instant::now();
    let used = match shared.served.lock() {
        Ok(mut w) => {
            while w.front().is_some_and(|t| now.duration_since(*t) >= window) {
                w.pop_front();
            }
            w.push_back(now);
            w.len() as u64
        }
        Err(_) => 0,
    };
    let remaining = u64::from(limit).saturating_sub(used);
    let headers = response.headers_mut();
    if let Ok(v) = limit.to_string().parse() {
        headers.insert("x-ratelimit-limit", v);
    }
    if let Ok(v) = remaining.to_string().parse() {
        headers.insert("x-ratelimit-remaining", v);
    }
    response
}

pub(crate) fn error(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "error": msg }))).into_response()
}

fn data(status: StatusCode, value: serde_json::Value) -> Response {
    (status, axum::Json(json!({ "data": value }))).into_response()
}

fn lock(shared: &Shared) -> Result<std::sync::MutexGuard<'_, State>, Response> {
    shared
        .state
        .lock()
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "sandbox state poisoned"))
}

/// Checks `Authorization: Bearer <token>` against the personal token and issued OAuth tokens.
pub(crate) fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let invalid = || error(StatusCode::UNAUTHORIZED, "Access token is not valid");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(invalid)?;
    let token = value.strip_prefix("Bearer ").ok_or_else(invalid)?.trim();
    if shared.config.personal_token.as_deref() == Some(token) {
        return Ok(());
    }
    let st = lock(shared)?;
    match st.access_tokens.get(token) {
        Some(t) if t.expires_at > Utc::now() => Ok(()),
        _ => Err(invalid()),
    }
}

fn parse_query(raw: Option<String>) -> Result<Vec<(String, String)>, Response> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or("")).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("invalid query string: {e}"),
        )
    })
}

fn q_get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn q_int(q: &[(String, String)], key: &str) -> Result<Option<i64>, Response> {
    match q_get(q, key) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("{key} must be an integer"),
            )
        }),
    }
}

/// A version-cursor page: `{"data": [...], "version": {"min", "max"}}`; an empty page repeats the
/// cursor it was asked for (the real API always sends `version`).
fn page_json<T: ApiRecord>(st: &State, rows: Vec<T>, after: i64, v: Ver, kind: Kind) -> Response {
    let (min, max) = if rows.is_empty() {
        (after, after)
    } else {
        (
            rows.iter().map(Record::record_version).min().unwrap_or(0),
            rows.iter().map(Record::record_version).max().unwrap_or(0),
        )
    };
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| super::shape::render(st, kind, v, r))
        .collect();
    (
        StatusCode::OK,
        axum::Json(json!({ "data": data, "version": { "min": min, "max": max } })),
    )
        .into_response()
}

/// The cursor and page size of a version-cursor list.
fn cursor(q: &[(String, String)], max: usize) -> Result<(i64, Option<i64>, usize), Response> {
    let after = q_int(q, "after")?.unwrap_or(0);
    let before = q_int(q, "before")?;
    let size = match q_int(q, "page_size")? {
        None => DEFAULT_PAGE.min(max),
        Some(n) if n < 1 => {
            return Err(error(StatusCode::BAD_REQUEST, "page_size must be positive"));
        }
        Some(n) => usize::try_from(n).unwrap_or(max).min(max),
    };
    Ok((after, before, size))
}

fn cursor_page<T: ApiRecord>(
    st: &State,
    table: &Table<T>,
    q: &[(String, String)],
    supports_deleted: bool,
    v: Ver,
    kind: Kind,
) -> Result<Response, Response> {
    let (after, before, size) = cursor(q, MAX_PAGE)?;
    let deleted = supports_deleted && q_get(q, "deleted") == Some("true");
    Ok(page_json(
        st,
        table.page(after, before, size, deleted),
        after,
        v,
        kind,
    ))
}

#[allow(clippy::too_many_arguments)]
async fn list<T: ApiRecord>(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    table: fn(&State) -> &Table<T>,
    supports_deleted: bool,
    v: Ver,
    kind: Kind,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        cursor_page(&st, table(&st), &q, supports_deleted, v, kind)
    };
    run().unwrap_or_else(|e| e)
}

async fn one<T: ApiRecord>(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    table: fn(&State) -> &Table<T>,
    v: Ver,
    kind: Kind,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        match table(&st).get(&id) {
            Some(row) if !row.is_deleted() => Ok(data(
                StatusCode::OK,
                super::shape::render(&st, kind, v, row),
            )),
            _ => Err(error(StatusCode::NOT_FOUND, "not found")),
        }
    };
    run().unwrap_or_else(|e| e)
}

async fn retailer(AxState(shared): S, headers: HeaderMap, v: Ver) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        Ok(data(StatusCode::OK, super::shape::retailer(&st, v)))
    };
    run().unwrap_or_else(|e| e)
}

async fn me(AxState(shared): S, headers: HeaderMap, v: Ver) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        let user = st
            .users
            .live()
            .into_iter()
            .find(|u| u.account_type == "admin")
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "user not found"))?;
        Ok(data(
            StatusCode::OK,
            super::shape::render(&st, Kind::User, v, &user),
        ))
    };
    run().unwrap_or_else(|e| e)
}

async fn product_inventory(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        if st.products.get(&id).is_none_or(|p| p.is_deleted()) {
            return Err(error(StatusCode::NOT_FOUND, "product not found"));
        }
        let mut t = Table::default();
        for i in st.inventory.all().filter(|i| i.product_id.0 == id) {
            t.put(i.clone());
        }
        cursor_page(&st, &t, &q, false, Ver::Legacy, Kind::Inventory)
    };
    run().unwrap_or_else(|e| e)
}

async fn consignments(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    v: Ver,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        let mut t = Table::default();
        for c in st.consignments.all() {
            let keep = q_get(&q, "type").is_none_or(|v| c.kind == v)
                && q_get(&q, "status").is_none_or(|v| c.status == v)
                && q_get(&q, "outlet_id").is_none_or(|v| c.outlet_id == v);
            if keep {
                t.put(c.clone());
            }
        }
        cursor_page(&st, &t, &q, false, v, Kind::Consignment)
    };
    run().unwrap_or_else(|e| e)
}

async fn consignment_products(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    v: Ver,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        if st.consignments.get(&id).is_none() {
            return Err(error(StatusCode::NOT_FOUND, "consignment not found"));
        }
        let empty = Table::default();
        cursor_page(
            &st,
            st.consignment_products.get(&id).unwrap_or(&empty),
            &q,
            false,
            v,
            Kind::ConsignmentProduct,
        )
    };
    run().unwrap_or_else(|e| e)
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("invalid request body at {}: {}", e.path(), e.inner()),
        )
    })
}

async fn create_product(AxState(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let input: ProductCreate = parse_body(&body)?;
        if input.name.trim().is_empty() {
            return Err(error(StatusCode::BAD_REQUEST, "name cannot be empty"));
        }
        if input.price_including_tax.is_some() && input.price_excluding_tax.is_some() {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "price_including_tax and price_excluding_tax cannot both be set",
            ));
        }
        let mut st = lock(&shared)?;
        let ids = super::seed::insert_product(&mut st, &input);
        let events: Vec<_> = ids
            .iter()
            .filter_map(|id| st.products.get(id.as_str()).cloned())
            .map(|p| hooks::product_event(&st, &p))
            .collect();
        drop(st);
        for e in events {
            shared.emit(e);
        }
        Ok((StatusCode::OK, axum::Json(json!({ "data": ids }))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

async fn update_product(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let update: ProductUpdate = parse_body(&body)?;
        let mut st = lock(&shared)?;
        let Some(product) = st.products.get(&id).filter(|p| !p.is_deleted()).cloned() else {
            return Err(error(StatusCode::NOT_FOUND, "product not found"));
        };
        if let Some(d) = &update.details {
            if d.price_including_tax.is_some() && d.price_excluding_tax.is_some() {
                return Err(error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "only one of price_including_tax and price_excluding_tax may be set",
                ));
            }
            for level in &d.inventory {
                if st
                    .outlets
                    .get(level.outlet_id.as_str())
                    .is_none_or(|o| o.is_deleted())
                {
                    return Err(error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &format!("unknown outlet {}", level.outlet_id),
                    ));
                }
            }
        }
        let mut events = Vec::new();
        if let Some(c) = &update.common {
            let family = product
                .family_id
                .clone()
                .unwrap_or_else(|| product.id.clone());
            let members: Vec<Product> = st
                .products
                .all()
                .filter(|p| {
                    p.family_id.as_ref() == Some(&family) || p.id == family || p.id == product.id
                })
                .cloned()
                .collect();
            for mut p in members {
                if let Some(v) = &c.name {
                    p.name = v.clone();
                }
                if let Some(v) = &c.description {
                    p.description = Some(v.clone());
                }
                if let Some(v) = &c.brand_id {
                    p.brand_id = (!v.is_empty()).then(|| BrandId(v.clone()));
                }
                if let Some(v) = &c.product_category_id {
                    p.product_type_id = (!v.is_empty()).then(|| ProductTypeId(v.clone()));
                }
                if let Some(v) = &c.tag_ids {
                    p.tag_ids = v.clone();
                }
                if let Some(v) = c.track_inventory {
                    p.has_inventory = v;
                }
                p.updated_at = Some(Utc::now());
                let p = st.upsert(|s| &mut s.products, p);
                if p.id != product.id {
                    events.push(hooks::product_event(&st, &p));
                }
            }
        }
        let mut p = st.products.get(&id).cloned().unwrap_or(product);
        if let Some(d) = &update.details {
            if let Some(v) = d.is_active {
                p.is_active = v;
                p.active = v;
            }
            if let Some(v) = &d.product_codes {
                p.product_codes = v.clone();
            }
            if let Some(v) = d.price_excluding_tax {
                p.price_excluding_tax = Some(v);
            }
            if let Some(v) = d.price_including_tax {
                p.price_including_tax = Some(v);
            }
            if let Some(v) = d.loyalty_amount {
                p.loyalty_amount = (v >= Decimal::ZERO).then_some(v);
            }
            for level in &d.inventory {
                let existing = st
                    .inventory
                    .all()
                    .find(|i| i.product_id == p.id && i.outlet_id == level.outlet_id)
                    .cloned();
                let mut rec = match existing {
                    Some(r) => r,
                    None => Inventory {
                        id: InventoryId(st.new_id()),
                        product_id: p.id.clone(),
                        outlet_id: level.outlet_id.clone(),
                        ..Default::default()
                    },
                };
                if let Some(a) = level.current_amount {
                    rec.inventory_level = a;
                }
                if let Some(r) = level.reorder_point {
                    rec.reorder_point = (r >= Decimal::ZERO).then_some(r);
                }
                if let Some(r) = level.reorder_amount {
                    rec.reorder_amount = Some(r);
                }
                let rec = st.upsert(|s| &mut s.inventory, rec);
                events.push(hooks::inventory_event(&st, &rec));
            }
        }
        p.updated_at = Some(Utc::now());
        let p = st.upsert(|s| &mut s.products, p);
        events.push(hooks::product_event(&st, &p));
        drop(st);
        for e in events {
            shared.emit(e);
        }
        Ok((StatusCode::OK, axum::Json(json!({}))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

async fn delete_product(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let mut st = lock(&shared)?;
        let Some(mut p) = st.products.get(&id).filter(|p| !p.is_deleted()).cloned() else {
            return Err(error(StatusCode::NOT_FOUND, "product not found"));
        };
        p.deleted_at = Some(Utc::now());
        p.is_active = false;
        p.active = false;
        let p = st.upsert(|s| &mut s.products, p);
        let e = hooks::product_event(&st, &p);
        drop(st);
        shared.emit(e);
        // The spec documents 200 (with no body schema) for a deleted product.
        Ok((StatusCode::OK, axum::Json(json!({}))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

fn apply_customer(c: &mut Customer, i: &CustomerInput) {
    macro_rules! set {
        ($($f:ident),*) => {$( if let Some(v) = &i.$f { c.$f = Some(v.clone()); } )*};
    }
    set!(
        first_name,
        last_name,
        company_name,
        email,
        customer_code,
        customer_group_id,
        phone,
        mobile,
        note,
        gender,
        date_of_birth,
        physical_address_1,
        physical_address_2,
        physical_city,
        physical_postcode,
        physical_country_id,
        tax_id
    );
    if let Some(v) = i.enable_loyalty {
        c.enable_loyalty = v;
    }
    if let Some(v) = i.do_not_email {
        c.do_not_email = v;
    }
    let name = format!(
        "{} {}",
        c.first_name.as_deref().unwrap_or(""),
        c.last_name.as_deref().unwrap_or("")
    );
    c.name = Some(name.trim().to_owned());
}

async fn create_customer(AxState(shared): S, headers: HeaderMap, body: Bytes, v: Ver) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let input: CustomerInput = parse_body(&body)?;
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&input.first_name) && blank(&input.last_name) && blank(&input.company_name) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "first_name or last_name is required",
            ));
        }
        let mut st = lock(&shared)?;
        let now = Utc::now();
        let mut c = Customer {
            id: CustomerId(st.new_id()),
            created_at: Some(now),
            updated_at: Some(now),
            ..Default::default()
        };
        apply_customer(&mut c, &input);
        if c.customer_code.is_none() {
            let code = format!(
                "{}-{:04X}",
                c.first_name.as_deref().unwrap_or("C"),
                st.id_counter & 0xffff
            );
            c.customer_code = Some(code);
        }
        let c = st.upsert(|s| &mut s.customers, c);
        let e = hooks::customer_event(&c);
        let out = super::shape::render(&st, Kind::Customer, v, &c);
        drop(st);
        shared.emit(e);
        Ok(data(StatusCode::CREATED, out))
    };
    run().unwrap_or_else(|e| e)
}

async fn update_customer(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
    v: Ver,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let input: CustomerInput = parse_body(&body)?;
        let mut st = lock(&shared)?;
        let Some(mut c) = st.customers.get(&id).filter(|c| !c.is_deleted()).cloned() else {
            return Err(error(StatusCode::NOT_FOUND, "customer not found"));
        };
        apply_customer(&mut c, &input);
        c.updated_at = Some(Utc::now());
        let c = st.upsert(|s| &mut s.customers, c);
        let e = hooks::customer_event(&c);
        let out = super::shape::render(&st, Kind::Customer, v, &c);
        drop(st);
        shared.emit(e);
        Ok(data(StatusCode::OK, out))
    };
    run().unwrap_or_else(|e| e)
}

async fn delete_customer(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let mut st = lock(&shared)?;
        let Some(mut c) = st.customers.get(&id).filter(|c| !c.is_deleted()).cloned() else {
            return Err(error(StatusCode::NOT_FOUND, "customer not found"));
        };
        c.deleted_at = Some(Utc::now());
        let c = st.upsert(|s| &mut s.customers, c);
        let e = hooks::customer_event(&c);
        drop(st);
        shared.emit(e);
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    run().unwrap_or_else(|e| e)
}

async fn search(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    v: Ver,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let offset = usize::try_from(q_int(&q, "offset")?.unwrap_or(0).max(0)).unwrap_or(0);
        let size =
            usize::try_from(q_int(&q, "page_size")?.unwrap_or(1000).clamp(1, 1000)).unwrap_or(1000);
        let all = |key: &str| -> Vec<&str> {
            q.iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        // The wanted values of each filter, collected once (not per row).
        let wanted: HashMap<&str, Vec<&str>> = [
            "outlet_id",
            "customer_id",
            "user_id",
            "register_id",
            "state",
            "status",
            "invoice_number",
            "email",
            "customer_code",
            "first_name",
            "last_name",
            "company_name",
            "mobile",
            "phone",
            "supplier_id",
            "variant_parent_id",
        ]
        .into_iter()
        .map(|k| (k, all(k)))
        .collect();
        let matches = |key: &str, value: Option<&str>| {
            let w = wanted.get(key).map(Vec::as_slice).unwrap_or_default();
            w.is_empty() || value.is_some_and(|v| w.contains(&v))
        };
        let deleted = q_get(&q, "deleted") == Some("true");
        let st = lock(&shared)?;
        let rows: Vec<serde_json::Value> = match q_get(&q, "type") {
            Some("sales") => {
                let ts = |key: &str| -> Result<Option<chrono::DateTime<Utc>>, Response> {
                    match q_get(&q, key) {
                        None => Ok(None),
                        Some(v) => parse_timestamp(v).map(Some).ok_or_else(|| {
                            error(StatusCode::BAD_REQUEST, &format!("invalid {key}"))
                        }),
                    }
                };
                let (from, to) = (ts("date_from")?, ts("date_to")?);
                // Sorted and paged by reference: only the page is copied.
                let mut sales: Vec<&Sale> = st
                    .sales
                    .all()
                    .filter(|s| deleted || !s.is_deleted())
                    .filter(|s| matches("outlet_id", s.outlet_id.as_ref().map(|v| v.as_str())))
                    .filter(|s| matches("customer_id", s.customer_id.as_ref().map(|v| v.as_str())))
                    .filter(|s| matches("user_id", s.user_id.as_ref().map(|v| v.as_str())))
                    .filter(|s| matches("register_id", s.register_id.as_ref().map(|v| v.as_str())))
                    .filter(|s| matches("state", s.state.as_ref().map(|v| v.as_str())))
                    .filter(|s| matches("status", Some(s.status.as_str())))
                    .filter(|s| matches("invoice_number", s.invoice_number.as_deref()))
                    .filter(|s| from.is_none_or(|f| s.sale_date.is_some_and(|d| d >= f)))
                    .filter(|s| to.is_none_or(|t| s.sale_date.is_some_and(|d| d < t)))
                    .collect();
                let desc = q_get(&q, "order_direction") == Some("desc");
                sales.sort_by(|a, b| a.sale_date.cmp(&b.sale_date).then(a.id.cmp(&b.id)));
                if desc {
                    sales.reverse();
                }
                sales
                    .into_iter()
                    .skip(offset)
                    .take(size)
                    .map(|r| super::shape::render(&st, Kind::Sale, Ver::Legacy, r))
                    .collect()
            }
            Some("customers") => st
                .customers
                .all()
                .filter(|c| deleted || !c.is_deleted())
                .filter(|c| {
                    let emails = wanted.get("email").map(Vec::as_slice).unwrap_or_default();
                    emails.is_empty()
                        || c.email
                            .as_deref()
                            .is_some_and(|e| emails.iter().any(|w| w.eq_ignore_ascii_case(e)))
                })
                .filter(|c| matches("customer_code", c.customer_code.as_deref()))
                .filter(|c| matches("first_name", c.first_name.as_deref()))
                .filter(|c| matches("last_name", c.last_name.as_deref()))
                .filter(|c| matches("company_name", c.company_name.as_deref()))
                .filter(|c| matches("mobile", c.mobile.as_deref()))
                .filter(|c| matches("phone", c.phone.as_deref()))
                .skip(offset)
                .take(size)
                .map(|r| super::shape::render(&st, Kind::Customer, v, r))
                .collect(),
            Some("products") => {
                // The real index is lower case: an upper-case SKU value finds nothing.
                let skus = all("sku");
                st.products
                    .all()
                    .filter(|p| deleted || !p.is_deleted())
                    .filter(|p| {
                        skus.is_empty()
                            || p.sku
                                .as_deref()
                                .is_some_and(|s| skus.contains(&s.to_lowercase().as_str()))
                    })
                    .filter(|p| matches("supplier_id", p.supplier_id.as_ref().map(|v| v.as_str())))
                    .filter(|p| {
                        matches(
                            "variant_parent_id",
                            p.variant_parent_id.as_ref().map(|v| v.as_str()),
                        )
                    })
                    .skip(offset)
                    .take(size)
                    .map(|r| super::shape::render(&st, Kind::Product, v, r))
                    .collect()
            }
            Some(other) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    &format!("unsupported search type {other}"),
                ));
            }
            None => return Err(error(StatusCode::BAD_REQUEST, "type is required")),
        };
        Ok((StatusCode::OK, axum::Json(json!({ "data": rows }))).into_response())
    };
    run().unwrap_or_else(|e| e)
}

async fn list_webhooks(AxState(shared): S, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        let hooks: Vec<serde_json::Value> =
            st.webhooks.values().map(super::shape::webhook).collect();
        Ok(data(StatusCode::OK, serde_json::Value::Array(hooks)))
    };
    run().unwrap_or_else(|e| e)
}

async fn create_webhook(AxState(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let req: super::records::WebhookInput = parse_body(&body)?;
        if req.url.len() < 3 || url::Url::parse(&req.url).is_err() {
            return Err(error(StatusCode::BAD_REQUEST, "url is invalid"));
        }
        if !super::records::WEBHOOK_TYPES.contains(&req.kind.as_str()) {
            return Err(error(StatusCode::BAD_REQUEST, "type is invalid"));
        }
        let mut st = lock(&shared)?;
        if st
            .webhooks
            .values()
            .any(|w| w.kind == req.kind && w.url == req.url)
        {
            return Err(error(
                StatusCode::CONFLICT,
                "A webhook with this type and URL already exists.",
            ));
        }
        let hook = super::records::WebhookRow {
            id: st.new_id(),
            retailer_id: st.retailer.id.0.clone(),
            user_id: None,
            url: req.url,
            active: req.active,
            kind: req.kind,
        };
        st.webhooks.insert(hook.id.clone(), hook.clone());
        Ok(data(StatusCode::CREATED, super::shape::webhook(&hook)))
    };
    run().unwrap_or_else(|e| e)
}

async fn delete_webhook(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let mut st = lock(&shared)?;
        match st.webhooks.remove(&id) {
            Some(_) => Ok((StatusCode::OK, axum::Json(json!({}))).into_response()),
            None => Err(error(StatusCode::NOT_FOUND, "webhook not found")),
        }
    };
    run().unwrap_or_else(|e| e)
}

/// The authorisation page: approves at once and redirects back with a code.
async fn connect(AxState(shared): S, RawQuery(raw): RawQuery) -> Response {
    let run = || -> Result<Response, Response> {
        let q = parse_query(raw)?;
        if q_get(&q, "response_type") != Some("code") {
            return Err(error(StatusCode::BAD_REQUEST, "response_type must be code"));
        }
        if q_get(&q, "client_id") != Some(shared.config.client_id.as_str()) {
            return Err(error(StatusCode::BAD_REQUEST, "unknown client_id"));
        }
        if q_get(&q, "scope").is_none_or(str::is_empty) {
            return Err(error(StatusCode::BAD_REQUEST, "scope is required"));
        }
        let redirect = q_get(&q, "redirect_uri")
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "redirect_uri is required"))?;
        let mut url = url::Url::parse(redirect)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "redirect_uri is invalid"))?;
        let mut st = lock(&shared)?;
        let code = st.new_token("code");
        st.auth_codes.insert(code.clone(), redirect.to_owned());
        let prefix = st.retailer.domain_prefix.clone();
        url.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("domain_prefix", &prefix)
            .append_pair("state", q_get(&q, "state").unwrap_or(""));
        Ok((StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// `POST /api/1.0/token`: code exchange and refresh with rotating refresh tokens.
async fn token(
    AxState(shared): S,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, Response> {
        if raw.as_deref().is_some_and(|r| {
            r.contains("client_secret") || r.contains("refresh_token") || r.contains("code=")
        }) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "parameters must be sent in the request body",
            ));
        }
        let form_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !form_type.starts_with("application/x-www-form-urlencoded") {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "expected a form-encoded body",
            ));
        }
        let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| error(StatusCode::BAD_REQUEST, "invalid form body"))?;
        let field = |k: &str| form.get(k).map(String::as_str);
        if field("client_id") != Some(shared.config.client_id.as_str())
            || field("client_secret") != Some(shared.config.client_secret.as_str())
        {
            return Err(error(StatusCode::UNAUTHORIZED, "invalid_client"));
        }
        let mut st = lock(&shared)?;
        match field("grant_type") {
            Some("authorization_code") => {
                let code = field("code").unwrap_or("");
                let Some(redirect) = st.auth_codes.remove(code) else {
                    return Err(error(StatusCode::BAD_REQUEST, "invalid_grant"));
                };
                if field("redirect_uri") != Some(redirect.as_str()) {
                    return Err(error(StatusCode::BAD_REQUEST, "invalid_grant"));
                }
            }
            Some("refresh_token") => {
                let rt = field("refresh_token").unwrap_or("");
                // Rotation: a refresh token works once.
                if st.refresh_tokens.remove(rt).is_none() {
                    return Err(error(StatusCode::BAD_REQUEST, "invalid_grant"));
                }
            }
            _ => return Err(error(StatusCode::BAD_REQUEST, "unsupported_grant_type")),
        }
        let ttl = shared.config.access_token_ttl;
        let access = st.new_token("lsxs_at");
        let refresh = st.new_token("lsxs_rt");
        let expires_at =
            Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(7));
        st.access_tokens
            .insert(access.clone(), IssuedToken { expires_at });
        st.refresh_tokens.insert(refresh.clone(), ());
        let prefix = st.retailer.domain_prefix.clone();
        Ok((
            StatusCode::OK,
            axum::Json(json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires": expires_at.timestamp(),
                "expires_in": ttl.as_secs(),
                "refresh_token": refresh,
                "domain_prefix": prefix,
                "scope": "",
            })),
        )
            .into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// `GET /outlet_taxes`: the tax of each outlet (the default tax where none is set).
async fn outlet_taxes(AxState(shared): S, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let (after, before, size) = cursor(&q, MAX_PAGE)?;
        let st = lock(&shared)?;
        let rows = super::shape::outlet_taxes(&st);
        let rows: Vec<serde_json::Value> = rows
            .into_iter()
            .filter(|r| {
                let v = r["version"].as_i64().unwrap_or(0);
                v > after && before.is_none_or(|b| v < b)
            })
            .take(size)
            .collect();
        let versions = rows.iter().filter_map(|r| r["version"].as_i64());
        let (min, max) = versions.fold((None, None), |(lo, hi): (Option<i64>, Option<i64>), v| {
            (
                Some(lo.map_or(v, |l| l.min(v))),
                Some(hi.map_or(v, |h| h.max(v))),
            )
        });
        Ok((
            StatusCode::OK,
            axum::Json(json!({
                "data": rows,
                "version": { "min": min.unwrap_or(after), "max": max.unwrap_or(after) },
            })),
        )
            .into_response())
    };
    run().unwrap_or_else(|e| e)
}

/// Largest page of the 2026-07 inventory reads.
const MAX_INVENTORY_PAGE: usize = 5000;

/// Inventory records of the 2026-07 reads: version order (or reversed), a bare JSON array.
#[allow(clippy::too_many_arguments)]
fn inventory_rows(
    st: &State,
    product: Option<&str>,
    variants: bool,
    include_deleted: bool,
    after: i64,
    before: Option<i64>,
    size: usize,
    desc: bool,
) -> Response {
    let family: Option<Vec<String>> = product.map(|pid| {
        if variants {
            st.products
                .all()
                .filter(|p| {
                    p.id.0 == pid
                        || p.family_id.as_ref().is_some_and(|f| f.0 == pid)
                        || p.variant_parent_id.as_ref().is_some_and(|f| f.0 == pid)
                })
                .map(|p| p.id.0.clone())
                .collect()
        } else {
            vec![pid.to_owned()]
        }
    });
    let product_live = |id: &str| st.products.get(id).is_some_and(|p| !p.is_deleted());
    let mut rows: Vec<&Inventory> = st
        .inventory
        .all()
        .filter(|i| i.record_version() > after && before.is_none_or(|b| i.record_version() < b))
        .filter(|i| family.as_ref().is_none_or(|f| f.contains(&i.product_id.0)))
        .filter(|i| include_deleted || (!i.is_deleted() && product_live(i.product_id.as_str())))
        .collect();
    rows.sort_by_key(|i| i.record_version());
    if desc {
        rows.reverse();
    }
    let out: Vec<serde_json::Value> = rows
        .into_iter()
        .take(size)
        .map(|i| super::shape::render(st, Kind::Inventory, Ver::Dated, i))
        .collect();
    (StatusCode::OK, axum::Json(serde_json::Value::Array(out))).into_response()
}

/// The filter body of 2026-07 `POST /inventory`.
#[derive(serde::Deserialize)]
struct InventoryFilter {
    after: Option<i64>,
    before: Option<i64>,
    size: Option<i64>,
    product_id: Option<String>,
    #[serde(default)]
    variants: bool,
    #[serde(default)]
    include_deleted: bool,
    sort_direction: Option<String>,
}

/// 2026-07 `POST /inventory`: inventory records by a filter body (`size` default 1000, max 5000).
async fn inventory_filter(AxState(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let f: InventoryFilter = if body.is_empty() {
            parse_body(&Bytes::from_static(b"{}"))?
        } else {
            parse_body(&body)?
        };
        let size = match f.size {
            None => DEFAULT_PAGE,
            Some(n) if n < 1 => {
                return Err(error(StatusCode::BAD_REQUEST, "size must be positive"));
            }
            Some(n) => usize::try_from(n)
                .unwrap_or(MAX_INVENTORY_PAGE)
                .min(MAX_INVENTORY_PAGE),
        };
        let st = lock(&shared)?;
        // The spec's default order is descending.
        let desc = f.sort_direction.as_deref() != Some("asc");
        Ok(inventory_rows(
            &st,
            f.product_id.as_deref(),
            f.variants,
            f.include_deleted,
            f.after.unwrap_or(0),
            f.before,
            size,
            desc,
        ))
    };
    run().unwrap_or_else(|e| e)
}

/// 2026-07 `GET /inventory/{product_id}`: a product's inventory records at every outlet.
async fn inventory_of_product(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let (after, before, size) = cursor(&q, MAX_INVENTORY_PAGE)?;
        let st = lock(&shared)?;
        if st.products.get(&id).is_none() {
            return Err(error(StatusCode::NOT_FOUND, "product not found"));
        }
        Ok(inventory_rows(
            &st,
            Some(&id),
            q_get(&q, "variants") == Some("true"),
            q_get(&q, "include_deleted") == Some("true"),
            after,
            before,
            size,
            q_get(&q, "order_direction") == Some("desc"),
        ))
    };
    run().unwrap_or_else(|e| e)
}
