//! The HTTP surface of the sandbox, following the real paths, bodies and errors.

// Handlers return the API's error response as the `Err` value; its size does not matter here.
#![allow(clippy::result_large_err)]

use super::state::{IssuedToken, Record, State, Table};
use super::{Shared, hooks};
use crate::decode::parse_timestamp;
use crate::enums::WebhookType;
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
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

type S = AxState<Arc<Shared>>;

/// Default and largest page sizes of the version-cursor lists.
const DEFAULT_PAGE: usize = 1000;
const MAX_PAGE: usize = 10_000;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/connect", get(connect))
        .route("/api/1.0/token", post(token))
        .route("/api/2.0/retailer", get(retailer))
        .route(
            "/api/2.0/outlets",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.outlets, true)),
        )
        .route(
            "/api/2.0/outlets/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.outlets)),
        )
        .route(
            "/api/2.0/registers",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.registers, true)),
        )
        .route(
            "/api/2.0/registers/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.registers)),
        )
        .route(
            "/api/2.0/users",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.users, false)),
        )
        .route(
            "/api/2.0/users/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.users)),
        )
        .route("/api/2.0/user", get(me))
        .route(
            "/api/2.0/products",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.products, true))
                .post(create_product),
        )
        .route(
            "/api/2.0/products/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.products))
                .delete(delete_product),
        )
        .route("/api/2.0/products/{id}/inventory", get(product_inventory))
        .route("/api/2.1/products/{id}", put(update_product))
        .route(
            "/api/2.0/inventory",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.inventory, false)),
        )
        .route(
            "/api/2.0/customers",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.customers, true))
                .post(create_customer),
        )
        .route(
            "/api/2.0/customers/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.customers))
                .put(update_customer)
                .delete(delete_customer),
        )
        .route(
            "/api/2.0/sales",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.sales, false)),
        )
        .route(
            "/api/2.0/sales/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.sales)),
        )
        .route(
            "/api/2.0/payment_types",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.payment_types, false)),
        )
        .route(
            "/api/2.0/taxes",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.taxes, false)),
        )
        .route("/api/2.0/consignments", get(consignments))
        .route(
            "/api/2.0/consignments/{id}",
            get(|s: S, h: HeaderMap, p: Path<String>| one(s, h, p, |st| &st.consignments)),
        )
        .route(
            "/api/2.0/consignments/{id}/products",
            get(consignment_products),
        )
        .route(
            "/api/2.0/shifts",
            get(|s: S, h: HeaderMap, q: RawQuery| list(s, h, q, |st| &st.shifts, false)),
        )
        .route("/api/2.0/search", get(search))
        .route("/api/2.0/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/api/2.0/webhooks/{id}",
            axum::routing::delete(delete_webhook),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
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

fn data<T: Serialize>(status: StatusCode, value: T) -> Response {
    (status, axum::Json(json!({ "data": value }))).into_response()
}

fn lock(shared: &Shared) -> Result<std::sync::MutexGuard<'_, State>, Response> {
    shared
        .state
        .lock()
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "sandbox state poisoned"))
}

/// Checks `Authorization: Bearer <token>` against the personal token and issued OAuth tokens.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
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

fn page_json<T: Record + Serialize>(rows: Vec<T>) -> Response {
    if rows.is_empty() {
        return (StatusCode::OK, axum::Json(json!({ "data": [] }))).into_response();
    }
    let min = rows.iter().map(Record::record_version).min().unwrap_or(0);
    let max = rows.iter().map(Record::record_version).max().unwrap_or(0);
    (
        StatusCode::OK,
        axum::Json(json!({ "data": rows, "version": { "min": min, "max": max } })),
    )
        .into_response()
}

fn cursor_page<T: Record + Serialize>(
    table: &Table<T>,
    q: &[(String, String)],
    supports_deleted: bool,
) -> Result<Response, Response> {
    let after = q_int(q, "after")?.unwrap_or(0);
    let before = q_int(q, "before")?;
    let size = match q_int(q, "page_size")? {
        None => DEFAULT_PAGE,
        Some(n) if n < 1 => {
            return Err(error(StatusCode::BAD_REQUEST, "page_size must be positive"));
        }
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
    let deleted = supports_deleted && q_get(q, "deleted") == Some("true");
    Ok(page_json(table.page(after, before, size, deleted)))
}

async fn list<T: Record + Serialize>(
    AxState(shared): S,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    table: fn(&State) -> &Table<T>,
    supports_deleted: bool,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        cursor_page(table(&st), &q, supports_deleted)
    };
    run().unwrap_or_else(|e| e)
}

async fn one<T: Record + Serialize>(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    table: fn(&State) -> &Table<T>,
) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        match table(&st).get(&id) {
            Some(row) if !row.is_deleted() => Ok(data(StatusCode::OK, row)),
            _ => Err(error(StatusCode::NOT_FOUND, "not found")),
        }
    };
    run().unwrap_or_else(|e| e)
}

async fn retailer(AxState(shared): S, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        Ok(data(StatusCode::OK, &st.retailer))
    };
    run().unwrap_or_else(|e| e)
}

async fn me(AxState(shared): S, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        let user = st
            .users
            .live()
            .into_iter()
            .find(|u| u.account_type == Some(crate::enums::AccountType::Admin))
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "user not found"))?;
        Ok(data(StatusCode::OK, user))
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
        cursor_page(&t, &q, false)
    };
    run().unwrap_or_else(|e| e)
}

async fn consignments(AxState(shared): S, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let q = parse_query(raw)?;
        let st = lock(&shared)?;
        let mut t = Table::default();
        for c in st.consignments.all() {
            let keep = q_get(&q, "type").is_none_or(|v| c.kind.as_str() == v)
                && q_get(&q, "status").is_none_or(|v| c.status.as_str() == v)
                && q_get(&q, "outlet_id")
                    .is_none_or(|v| c.outlet_id.as_ref().is_some_and(|o| o.0 == v));
            if keep {
                t.put(c.clone());
            }
        }
        cursor_page(&t, &q, false)
    };
    run().unwrap_or_else(|e| e)
}

async fn consignment_products(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
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
            st.consignment_products.get(&id).unwrap_or(&empty),
            &q,
            false,
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
        Ok(StatusCode::NO_CONTENT.into_response())
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

async fn create_customer(AxState(shared): S, headers: HeaderMap, body: Bytes) -> Response {
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
        drop(st);
        shared.emit(e);
        Ok(data(StatusCode::CREATED, c))
    };
    run().unwrap_or_else(|e| e)
}

async fn update_customer(
    AxState(shared): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
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
        drop(st);
        shared.emit(e);
        Ok(data(StatusCode::OK, c))
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

async fn search(AxState(shared): S, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
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
                    .map(to_value)
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
                .map(to_value)
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
                    .map(to_value)
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

fn to_value<T: Serialize>(v: T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn list_webhooks(AxState(shared): S, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let st = lock(&shared)?;
        Ok(data(StatusCode::OK, st.webhooks()))
    };
    run().unwrap_or_else(|e| e)
}

async fn create_webhook(AxState(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Result<Response, Response> {
        authorize(&shared, &headers)?;
        let req: WebhookRequest = parse_body(&body)?;
        if req.url.len() < 3 || url::Url::parse(&req.url).is_err() {
            return Err(error(StatusCode::BAD_REQUEST, "url is invalid"));
        }
        if matches!(req.kind, WebhookType::Other(_)) {
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
        let hook = Webhook {
            id: WebhookId(st.new_id()),
            retailer_id: Some(st.retailer.id.clone()),
            user_id: None,
            url: req.url,
            active: req.active,
            kind: req.kind,
        };
        st.webhooks.insert(hook.id.0.clone(), hook.clone());
        Ok(data(StatusCode::CREATED, hook))
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
