//! A fake TMAS traffic web API: `GET /tmas/manTrafExp` with generated, deterministic visitor
//! counts, answered in TMAS's XML and limited to one call per 2 seconds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use pos_http::sandbox::{FaultConfig, FaultHandle, SandboxServer, ServedStats};
use pos_http::{SecretString, Url};
use rust_decimal::Decimal;

use crate::model::LocationId;
use crate::traffic::{MIN_CALL_SPACING, TrafficClient};

/// Opening hours of every generated store: counts are zero outside 09:00-21:00.
pub const OPEN_HOURS: std::ops::Range<u32> = 9..21;

#[derive(Debug)]
struct TrafficState {
    api_key: String,
    locations: BTreeMap<String, String>,
}

/// A stable 64-bit FNV-1a hash, so generated counts never change between runs or platforms.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
    }
    h
}

/// Visitors generated for `location` in the 15-minute slot starting at `slot` (local time).
fn quarter_visitors(location: &str, slot: NaiveDateTime) -> u64 {
    let hour = slot.hour();
    if !OPEN_HOURS.contains(&hour) {
        return 0;
    }
    // Busier around lunch and late afternoon.
    let base: u64 = match hour {
        12 | 13 => 9,
        16..=18 => 8,
        10 | 11 | 14 | 15 => 6,
        _ => 3,
    };
    let stamp = slot.format("%Y%m%d%H%M").to_string();
    base + fnv(&[location.as_bytes(), stamp.as_bytes()]) % 5
}

/// The visitors the sandbox reports for `location` in the `minutes`-long interval starting at
/// `start` (sum of its 15-minute slots): tests use it to know the expected answer.
pub fn generated_visitors(location: &str, start: NaiveDateTime, minutes: u32) -> Decimal {
    let slots = (minutes / 15).max(1);
    let total: u64 = (0..slots)
        .map(|i| quarter_visitors(location, start + TimeDelta::minutes(15 * i64::from(i))))
        .sum();
    Decimal::from(total)
}

fn xml_response(status: StatusCode, body: String) -> Response {
    // TMAS declares iso-8859-1; characters outside it become `?`.
    let bytes: Vec<u8> = body
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=iso-8859-1")],
        bytes,
    )
        .into_response()
}

fn message(status: StatusCode, text: &str) -> Response {
    xml_response(
        status,
        format!(
            "<?xml version='1.0' encoding='iso-8859-1'?>\n<TRAFFIC>\n<outputMessage text=\"{}\"/>\n</TRAFFIC>\n",
            escape(text)
        ),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn parse_date(value: &str) -> Option<(NaiveDateTime, bool)> {
    if let Some((d, t)) = value.split_once('-') {
        let date = NaiveDate::parse_from_str(d, "%m/%d/%Y").ok()?;
        let time = NaiveTime::parse_from_str(t, "%H|%M").ok()?;
        Some((date.and_time(time), true))
    } else {
        let date = NaiveDate::parse_from_str(value, "%m/%d/%Y").ok()?;
        Some((date.and_time(NaiveTime::MIN), false))
    }
}

async fn man_traf_exp(
    State(state): State<Arc<Mutex<TrafficState>>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: BTreeMap<String, String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let v = percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            Some((k.to_owned(), v))
        })
        .collect();
    let (api_key, locations) = match state.lock() {
        Ok(s) => (s.api_key.clone(), s.locations.clone()),
        Err(_) => return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
    };
    if params.get("apiKey") != Some(&api_key) {
        return message(StatusCode::FORBIDDEN, "Invalid API Key");
    }
    let Some(from_raw) = params.get("fromDate") else {
        return message(StatusCode::BAD_REQUEST, "fromDate is required");
    };
    let from_raw = from_raw.strip_suffix('I').unwrap_or(from_raw);
    let (Some((from, _)), Some((to, to_has_time))) = (
        parse_date(from_raw),
        params.get("toDate").and_then(|t| parse_date(t)),
    ) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Dates must be MM/dd/YYYY or MM/dd/YYYY-HH|mm",
        );
    };
    let to = if to_has_time {
        to
    } else {
        to + TimeDelta::days(1) - TimeDelta::minutes(1)
    };
    if to < from {
        return message(StatusCode::BAD_REQUEST, "toDate is before fromDate");
    }
    if from
        .checked_add_months(Months::new(1))
        .is_none_or(|m| to >= m)
    {
        return message(
            StatusCode::BAD_REQUEST,
            "The date range may not exceed one month",
        );
    }
    let minutes: u32 = match params.get("interval").map(String::as_str) {
        Some("0") | Some("60") | None => 60,
        Some("15") => 15,
        Some("30") => 30,
        Some("1440") => 1440,
        Some(other) if other.parse::<u32>().is_ok() => {
            return message(
                StatusCode::BAD_REQUEST,
                "Intervals under 15 minutes need the Real-Time subscription",
            );
        }
        Some(_) => return message(StatusCode::BAD_REQUEST, "Invalid interval"),
    };
    let business_hours = match params.get("hours").map(String::as_str) {
        Some("1") => true,
        Some("0") | None => false,
        Some(_) => return message(StatusCode::BAD_REQUEST, "Invalid hours"),
    };
    let detailed = match params.get("reqType").map(String::as_str) {
        Some("td") | None => false,
        Some("tdd") => true,
        Some(_) => return message(StatusCode::BAD_REQUEST, "Invalid reqType"),
    };
    let selected: Vec<(String, String)> = match (params.get("locationId"), params.get("groupid")) {
        (Some(id), _) => match locations.get(id) {
            Some(name) => vec![(id.clone(), name.clone())],
            None => return message(StatusCode::BAD_REQUEST, "Unknown locationId"),
        },
        (None, Some(_)) => locations.into_iter().collect(),
        (None, None) => {
            return message(StatusCode::BAD_REQUEST, "locationId or groupid is required");
        }
    };

    let step = TimeDelta::minutes(i64::from(minutes));
    let first = if minutes == 1440 {
        from.date().and_time(NaiveTime::MIN)
    } else {
        let m =
            i64::from(from.hour() * 60 + from.minute()) / i64::from(minutes) * i64::from(minutes);
        from.date().and_time(NaiveTime::MIN) + TimeDelta::minutes(m)
    };
    let mut body = String::from("<?xml version='1.0' encoding='iso-8859-1'?>\n<TRAFFIC>\n");
    for (id, name) in &selected {
        let store_id = if detailed {
            let device = fnv(&[id.as_bytes(), b"door"]);
            format!(
                "{id}|{name} - In|{:08X}-{:04X}-{:04X}-{:04X}-{:012X}",
                device >> 32,
                (device >> 16) & 0xffff,
                device & 0xffff,
                (device >> 48) & 0xffff,
                device & 0xffff_ffff_ffff
            )
        } else {
            id.clone()
        };
        let mut t = first;
        while t <= to {
            let hour = t.hour();
            if minutes == 1440 || !business_hours || OPEN_HOURS.contains(&hour) {
                let v = generated_visitors(id, t, minutes);
                body.push_str(&format!(
                    "<data storeId=\"{}\" trafficDate=\"{}\" trafficValue=\"{v}.0\" passByTrafficValue=\"{}.0\"/>\n",
                    escape(&store_id),
                    t.format("%Y-%m-%d %H:%M"),
                    v * Decimal::from(3)
                ));
            }
            t += step;
        }
    }
    body.push_str("<outputMessage text=\"Traffic Data generated successfully.\"/>\n</TRAFFIC>\n");
    xml_response(StatusCode::OK, body)
}

/// A fake traffic API on 127.0.0.1 (random port), built on pos-http's sandbox server: it answers
/// `GET /tmas/manTrafExp` for its locations with generated counts ([`generated_visitors`]),
/// refuses ranges over a month and a wrong API key, and answers `429` (with an `outputMessage`)
/// to a second call within 2 seconds.
#[derive(Debug)]
pub struct TrafficSandbox {
    server: SandboxServer,
    state: Arc<Mutex<TrafficState>>,
}

impl TrafficSandbox {
    /// The API key the sandbox accepts.
    pub const API_KEY: &'static str = "sandbox-traffic-key";

    /// Starts the API for `locations` (id and name), with the 2-second limit and no other faults.
    pub async fn start(
        locations: impl IntoIterator<Item = (LocationId, String)>,
    ) -> std::io::Result<Self> {
        Self::start_with(locations, FaultConfig::none()).await
    }

    /// Starts the API with extra faults; the 2-second limit is always on.
    pub async fn start_with(
        locations: impl IntoIterator<Item = (LocationId, String)>,
        mut faults: FaultConfig,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(TrafficState {
            api_key: Self::API_KEY.to_owned(),
            locations: locations
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
        }));
        faults.rate_limit = Some((1, MIN_CALL_SPACING));
        faults.throttle_wait = MIN_CALL_SPACING;
        faults.throttle_response = Arc::new(|wait: Duration| {
            let mut r = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded: one call every two seconds",
            );
            if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        });
        let router = Router::new()
            .route("/tmas/manTrafExp", get(man_traf_exp))
            .with_state(state.clone());
        let server = SandboxServer::start(router, faults).await?;
        Ok(Self { server, state })
    }

    /// Base URL to give [`TrafficClient`].
    pub fn base_url(&self) -> Url {
        self.server.base_url()
    }

    /// A client for this sandbox.
    ///
    /// # Panics
    ///
    /// Never in practice: the sandbox's own base URL is always valid.
    pub fn client(&self) -> TrafficClient {
        TrafficClient::builder(SecretString::from(Self::API_KEY))
            .base_url(self.base_url().as_str())
            .build()
            .unwrap_or_else(|e| panic!("sandbox client: {e}"))
    }

    /// Adds or renames a location.
    pub fn add_location(&self, id: LocationId, name: impl Into<String>) {
        if let Ok(mut s) = self.state.lock() {
            s.locations.insert(id.to_string(), name.into());
        }
    }

    /// What the server served.
    pub fn stats(&self) -> ServedStats {
        self.server.stats()
    }

    /// Changes faults at run time.
    pub fn faults(&self) -> FaultHandle {
        self.server.faults()
    }
}
