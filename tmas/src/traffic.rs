//! Client for TMAS's traffic web API (`GET /tmas/manTrafExp`), which exports visitor counts as XML.
//!
//! The API allows one call every 2 seconds and at most a month per call: the client paces itself
//! through pos-http's limiter and splits longer ranges into calls of at most a calendar month.

use std::time::Duration;

use chrono::{Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use pos_http::{ExposeSecret, HttpClient, RateLimit, SecretString};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::LocationId;

/// The public TMAS host.
pub const DEFAULT_BASE_URL: &str = "https://www.smssoftware.net";
/// Path of the traffic export under the base URL.
pub const TRAFFIC_PATH: &str = "tmas/manTrafExp";
/// The documented limit: one call per this period.
pub const MIN_CALL_SPACING: Duration = Duration::from_secs(2);

/// Why a traffic request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrafficError {
    /// The query cannot be sent as it is.
    #[error("invalid traffic query: {0}")]
    InvalidQuery(String),
    /// The connection failed or timed out (messages have the API key removed).
    #[error("transport: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// Whether the server may have seen the request.
        may_have_reached_server: bool,
    },
    /// The server answered with an error status.
    #[error("HTTP {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// TMAS's `outputMessage`, or the body.
        message: String,
    },
    /// Still throttled after retries.
    #[error("rate limited by TMAS (retry after {retry_after:?})")]
    RateLimited {
        /// What the server asked for.
        retry_after: Option<Duration>,
    },
    /// TMAS answered with an error message instead of data.
    #[error("TMAS refused the request: {0}")]
    Api(String),
    /// The XML could not be decoded.
    #[error("cannot decode the traffic XML at `{path}`: {message}")]
    Decode {
        /// Element or attribute that failed.
        path: String,
        /// Why.
        message: String,
    },
}

/// Which export TMAS produces (`reqType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ReqType {
    /// `td`: traffic per location and interval.
    #[default]
    Td,
    /// `tdd`: traffic detailed per location and counter (`storeId` carries `id|counter name|device`).
    Tdd,
    /// Another value TMAS documents.
    Other(String),
}

impl ReqType {
    /// The parameter value.
    pub fn as_str(&self) -> &str {
        match self {
            ReqType::Td => "td",
            ReqType::Tdd => "tdd",
            ReqType::Other(s) => s,
        }
    }
}

/// The date range of a query: whole days, or from/to times at minute precision (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficRange {
    /// Whole days, `fromDate=MM/dd/YYYY`.
    Days {
        /// First day.
        first: NaiveDate,
        /// Last day (inclusive).
        last: NaiveDate,
    },
    /// Times, `fromDate=MM/dd/YYYY-HH|mm`.
    Times {
        /// From.
        from: NaiveDateTime,
        /// To (inclusive).
        to: NaiveDateTime,
    },
}

/// One traffic export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficQuery {
    /// The range (store-local dates and times, as TMAS keeps them).
    pub range: TrafficRange,
    /// Interval in minutes (`interval`): 15, 30, 60 or 1440 for daily totals. Under a minute needs
    /// TMAS's Real-Time subscription.
    pub interval_minutes: u32,
    /// Only business hours (`hours=1`) or all hours (`hours=0`).
    pub business_hours_only: bool,
    /// Export type.
    pub req_type: ReqType,
    /// The location (`locationId`).
    pub location: Option<LocationId>,
    /// A location group (`groupid`).
    pub group_id: Option<String>,
    /// Also return days that were incomplete (the `I` suffix on `fromDate`).
    pub include_incomplete_days: bool,
}

impl TrafficQuery {
    /// Hourly traffic of one location for whole days `first..=last`.
    pub fn hourly(location: LocationId, first: NaiveDate, last: NaiveDate) -> Self {
        Self {
            range: TrafficRange::Days { first, last },
            interval_minutes: 60,
            business_hours_only: false,
            req_type: ReqType::Td,
            location: Some(location),
            group_id: None,
            include_incomplete_days: false,
        }
    }

    /// The same query for a different range.
    pub fn with_range(&self, range: TrafficRange) -> Self {
        Self {
            range,
            ..self.clone()
        }
    }

    /// Splits the range into calls of at most one calendar month each, in order.
    pub fn split_by_month(&self) -> Result<Vec<TrafficQuery>, TrafficError> {
        let mut out = Vec::new();
        match self.range {
            TrafficRange::Days { first, last } => {
                if last < first {
                    return Err(TrafficError::InvalidQuery(
                        "the range ends before it starts".into(),
                    ));
                }
                let mut cur = first;
                while cur <= last {
                    let end = cur
                        .checked_add_months(Months::new(1))
                        .and_then(|d| d.pred_opt())
                        .map_or(last, |d| d.min(last));
                    out.push(self.with_range(TrafficRange::Days {
                        first: cur,
                        last: end,
                    }));
                    match end.succ_opt() {
                        Some(next) => cur = next,
                        None => break,
                    }
                }
            }
            TrafficRange::Times { from, to } => {
                if to < from {
                    return Err(TrafficError::InvalidQuery(
                        "the range ends before it starts".into(),
                    ));
                }
                let mut cur = from;
                while cur <= to {
                    let end = cur
                        .checked_add_months(Months::new(1))
                        .map(|d| d - TimeDelta::minutes(1))
                        .map_or(to, |d| d.min(to));
                    out.push(self.with_range(TrafficRange::Times { from: cur, to: end }));
                    cur = end + TimeDelta::minutes(1);
                }
            }
        }
        Ok(out)
    }

    /// Whether the range spans at most one calendar month (what one call may ask for).
    pub fn within_one_month(&self) -> bool {
        match self.range {
            TrafficRange::Days { first, last } => {
                first <= last
                    && first
                        .checked_add_months(Months::new(1))
                        .is_some_and(|m| last < m)
            }
            TrafficRange::Times { from, to } => {
                from <= to
                    && from
                        .checked_add_months(Months::new(1))
                        .is_some_and(|m| to < m)
            }
        }
    }

    /// The query string, encoded as TMAS documents it (`/` and `|` literal), API key included.
    fn query_string(&self, api_key: &str) -> String {
        let (from, to) = match self.range {
            TrafficRange::Days { first, last } => (
                first.format("%m/%d/%Y").to_string(),
                last.format("%m/%d/%Y").to_string(),
            ),
            TrafficRange::Times { from, to } => (
                from.format("%m/%d/%Y-%H|%M").to_string(),
                to.format("%m/%d/%Y-%H|%M").to_string(),
            ),
        };
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let mut q = format!(
            "fromDate={from}{}&toDate={to}&interval={}&hours={}&reqType={}&apiKey={}",
            if self.include_incomplete_days {
                "I"
            } else {
                ""
            },
            self.interval_minutes,
            u8::from(self.business_hours_only),
            enc(self.req_type.as_str()),
            enc(api_key),
        );
        if let Some(l) = &self.location {
            q.push_str("&locationId=");
            q.push_str(l.as_str());
        }
        if let Some(g) = &self.group_id {
            q.push_str("&groupid=");
            q.push_str(&enc(g));
        }
        q
    }
}

/// Visitors counted at one location (or counter) in one interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficCount {
    /// The TMAS location id (the part of `storeId` before the first `|`).
    pub location_id: String,
    /// Counter or location name (`storeId`'s second part, `tdd` exports).
    pub counter: Option<String>,
    /// Device id (`storeId`'s third part, `tdd` exports).
    pub device: Option<String>,
    /// Local start of the interval (`trafficDate`).
    pub start: NaiveDateTime,
    /// Visitors (`trafficValue`, or `trafficIn` when only in/out are given).
    pub visitors: Decimal,
    /// Passers-by (`passByTrafficValue`), when reported.
    pub pass_by: Option<Decimal>,
    /// Entries (`trafficIn`), when reported.
    pub traffic_in: Option<Decimal>,
    /// Exits (`trafficOut`), when reported.
    pub traffic_out: Option<Decimal>,
}

impl TrafficCount {
    /// The location id as a [`LocationId`], when it is a valid one.
    pub fn location(&self) -> Option<LocationId> {
        LocationId::new(self.location_id.clone()).ok()
    }
}

#[derive(Debug, Deserialize)]
struct TrafficXml {
    #[serde(rename = "data", default)]
    data: Vec<DataXml>,
    #[serde(rename = "outputMessage", default)]
    output_message: Option<MessageXml>,
}

#[derive(Debug, Deserialize)]
struct DataXml {
    #[serde(rename = "@storeId", default)]
    store_id: String,
    #[serde(rename = "@trafficDate", default)]
    traffic_date: String,
    #[serde(rename = "@trafficValue", default)]
    traffic_value: Option<String>,
    #[serde(rename = "@passByTrafficValue", default)]
    pass_by: Option<String>,
    #[serde(rename = "@trafficIn", default)]
    traffic_in: Option<String>,
    #[serde(rename = "@trafficOut", default)]
    traffic_out: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageXml {
    #[serde(rename = "@text", default)]
    text: String,
}

/// The body as text: TMAS declares `iso-8859-1`, whose bytes map one-to-one to Unicode code points.
fn body_text(bytes: &[u8]) -> Result<String, TrafficError> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(100)]).to_ascii_lowercase();
    if head.contains("iso-8859-1") || head.contains("latin1") {
        return Ok(bytes.iter().map(|&b| char::from(b)).collect());
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| TrafficError::Decode {
        path: "/".into(),
        message: format!("not UTF-8: {e}"),
    })
}

fn decimal(value: &str, row: usize, attr: &str) -> Result<Decimal, TrafficError> {
    value
        .trim()
        .parse::<Decimal>()
        .map_err(|e| TrafficError::Decode {
            path: format!("TRAFFIC/data[{row}]/@{attr}"),
            message: format!("`{value}`: {e}"),
        })
}

fn optional(
    value: &Option<String>,
    row: usize,
    attr: &str,
) -> Result<Option<Decimal>, TrafficError> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| decimal(v, row, attr))
        .transpose()
}

fn traffic_date(value: &str, row: usize) -> Result<NaiveDateTime, TrafficError> {
    let v = value.trim();
    NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN)))
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%m/%d/%Y %H:%M"))
        .or_else(|_| NaiveDate::parse_from_str(v, "%m/%d/%Y").map(|d| d.and_time(NaiveTime::MIN)))
        .map_err(|_| TrafficError::Decode {
            path: format!("TRAFFIC/data[{row}]/@trafficDate"),
            message: format!("`{value}` is not a date and time"),
        })
}

/// Decodes a `manTrafExp` XML body into traffic counts. A body with no data whose `outputMessage`
/// is not a success message is an [`TrafficError::Api`] error.
pub fn decode_traffic_xml(bytes: &[u8]) -> Result<Vec<TrafficCount>, TrafficError> {
    let text = body_text(bytes)?;
    let xml: TrafficXml = quick_xml::de::from_str(&text).map_err(|e| TrafficError::Decode {
        path: "TRAFFIC".into(),
        message: e.to_string(),
    })?;
    if xml.data.is_empty()
        && let Some(m) = &xml.output_message
        && !m.text.to_ascii_lowercase().contains("success")
        && !m.text.trim().is_empty()
    {
        return Err(TrafficError::Api(m.text.clone()));
    }
    xml.data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut parts = d.store_id.split('|');
            let location_id = parts.next().unwrap_or_default().trim().to_owned();
            let counter = parts
                .next()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            let device = parts
                .next()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            let traffic_in = optional(&d.traffic_in, i, "trafficIn")?;
            let visitors = match optional(&d.traffic_value, i, "trafficValue")? {
                Some(v) => v,
                None => traffic_in.ok_or_else(|| TrafficError::Decode {
                    path: format!("TRAFFIC/data[{i}]"),
                    message: "neither trafficValue nor trafficIn".into(),
                })?,
            };
            Ok(TrafficCount {
                location_id,
                counter,
                device,
                start: traffic_date(&d.traffic_date, i)?,
                visitors,
                pass_by: optional(&d.pass_by, i, "passByTrafficValue")?,
                traffic_in,
                traffic_out: optional(&d.traffic_out, i, "trafficOut")?,
            })
        })
        .collect()
}

/// Builds a [`TrafficClient`].
#[derive(Debug)]
pub struct TrafficClientBuilder {
    base_url: String,
    api_key: SecretString,
    spacing: Duration,
    timeout: Duration,
    retry: pos_http::RetryPolicy,
}

impl TrafficClientBuilder {
    /// Use another host (e.g. the sandbox's base URL).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Space calls further apart than the documented 2 seconds (never closer).
    pub fn call_spacing(mut self, spacing: Duration) -> Self {
        self.spacing = spacing.max(MIN_CALL_SPACING);
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy for throttling and server errors.
    pub fn retry(mut self, retry: pos_http::RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<TrafficClient, TrafficError> {
        let http = HttpClient::builder(&self.base_url)
            .rate_limit(RateLimit::new(1, self.spacing).burst(1))
            .max_in_flight(1)
            .timeout(self.timeout)
            .retry(self.retry)
            .user_agent(concat!("tmas-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TrafficError::InvalidQuery(e.to_string()))?;
        Ok(TrafficClient {
            http,
            api_key: self.api_key,
        })
    }
}

/// Client for the traffic web API.
#[derive(Debug, Clone)]
pub struct TrafficClient {
    http: HttpClient,
    api_key: SecretString,
}

impl TrafficClient {
    /// A builder with the API key (a chain key with the "Traffic WEB API" permission).
    pub fn builder(api_key: SecretString) -> TrafficClientBuilder {
        TrafficClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key,
            spacing: MIN_CALL_SPACING,
            timeout: Duration::from_secs(60),
            retry: pos_http::RetryPolicy::default(),
        }
    }

    /// Request counters of the underlying HTTP client.
    pub fn stats(&self) -> pos_http::Stats {
        self.http.stats()
    }

    fn redact(&self, message: String) -> String {
        let key = self.api_key.expose_secret();
        if key.is_empty() {
            return message;
        }
        let encoded =
            percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        message
            .replace(&encoded, "[redacted]")
            .replace(key, "[redacted]")
    }

    /// One call; the range must span at most one calendar month.
    pub async fn traffic_once(
        &self,
        query: &TrafficQuery,
    ) -> Result<Vec<TrafficCount>, TrafficError> {
        if !query.within_one_month() {
            return Err(TrafficError::InvalidQuery(
                "TMAS accepts at most one month per call; use `traffic` to split the range".into(),
            ));
        }
        if query.location.is_none() && query.group_id.is_none() {
            return Err(TrafficError::InvalidQuery(
                "a location id or a group id is required".into(),
            ));
        }
        let response = self
            .http
            .get(TRAFFIC_PATH)
            .raw_query(&query.query_string(self.api_key.expose_secret()))
            .send_any_status()
            .await
            .map_err(|e| self.map_http(e))?;
        if !response.status.is_success() {
            let message = decode_traffic_xml(&response.body)
                .err()
                .and_then(|e| match e {
                    TrafficError::Api(m) => Some(m),
                    _ => None,
                })
                .unwrap_or_else(|| response.text().chars().take(300).collect());
            return Err(TrafficError::Status {
                status: response.status.as_u16(),
                message: self.redact(message),
            });
        }
        decode_traffic_xml(&response.body)
    }

    /// Traffic for any range: split into calls of at most a month, made one after another (at
    /// most one call per 2 seconds), results concatenated in range order.
    pub async fn traffic(&self, query: &TrafficQuery) -> Result<Vec<TrafficCount>, TrafficError> {
        let mut out = Vec::new();
        for part in query.split_by_month()? {
            out.extend(self.traffic_once(&part).await?);
        }
        Ok(out)
    }

    fn map_http(&self, e: pos_http::Error) -> TrafficError {
        match e {
            pos_http::Error::Transport {
                message,
                may_have_reached_server,
            } => TrafficError::Transport {
                message: self.redact(message),
                may_have_reached_server,
            },
            pos_http::Error::Timeout(d) => TrafficError::Transport {
                message: format!("timed out after {d:?}"),
                may_have_reached_server: true,
            },
            pos_http::Error::RateLimited { retry_after, .. } => {
                TrafficError::RateLimited { retry_after }
            }
            pos_http::Error::Status { status, body, .. } => TrafficError::Status {
                status: status.as_u16(),
                message: self.redact(body),
            },
            other => TrafficError::InvalidQuery(self.redact(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const RECORDED_SHAPE: &[u8] = b"<?xml version='1.0' encoding='iso-8859-1'?>\n<TRAFFIC>\n\
<data storeId=\"0007|Entr\xe9e - In|90852542-57E7-2F0A-DA70-66FA574583A9\" trafficDate=\"2026-04-15 09:00\" trafficValue=\"9.0\" passByTrafficValue=\"0.0\"/>\n\
<data storeId=\"0007\" trafficDate=\"2026-04-15 10:00\" trafficValue=\"12.5\" passByTrafficValue=\"3.0\" extra=\"ignored\"/>\n\
<outputMessage text=\"Traffic Data generated successfully.\"/>\n</TRAFFIC>\n";

    #[test]
    fn decodes_documented_xml_in_latin1() {
        let counts = decode_traffic_xml(RECORDED_SHAPE).unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].location_id, "0007");
        assert_eq!(counts[0].counter.as_deref(), Some("Entrée - In"));
        assert_eq!(
            counts[0].device.as_deref(),
            Some("90852542-57E7-2F0A-DA70-66FA574583A9")
        );
        assert_eq!(counts[0].start.to_string(), "2026-04-15 09:00:00");
        assert_eq!(counts[0].visitors, dec!(9.0));
        assert_eq!(counts[1].visitors, dec!(12.5));
        assert_eq!(counts[1].pass_by, Some(dec!(3.0)));
        assert_eq!(counts[1].counter, None);
    }

    #[test]
    fn in_out_and_errors() {
        let xml = br#"<TRAFFIC><data storeId="A1" trafficDate="2026-04-01" trafficIn="10" trafficOut="8"/></TRAFFIC>"#;
        let c = decode_traffic_xml(xml).unwrap();
        assert_eq!((c[0].visitors, c[0].traffic_out), (dec!(10), Some(dec!(8))));
        let err =
            decode_traffic_xml(br#"<TRAFFIC><outputMessage text="Invalid API Key"/></TRAFFIC>"#)
                .unwrap_err();
        assert!(matches!(err, TrafficError::Api(ref m) if m == "Invalid API Key"));
        let bad = br#"<TRAFFIC><data storeId="A1" trafficDate="2026-04-01 10:00" trafficValue="1,5"/></TRAFFIC>"#;
        let err = decode_traffic_xml(bad).unwrap_err();
        assert!(
            matches!(err, TrafficError::Decode { ref path, .. } if path == "TRAFFIC/data[0]/@trafficValue"),
            "{err}"
        );
        assert!(
            decode_traffic_xml(b"<TRAFFIC></TRAFFIC>")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn month_split() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let q = TrafficQuery::hourly(LocationId::new("0007").unwrap(), d(1, 15), d(3, 20));
        let parts: Vec<_> = q
            .split_by_month()
            .unwrap()
            .into_iter()
            .map(|p| match p.range {
                TrafficRange::Days { first, last } => (first, last),
                TrafficRange::Times { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                (d(1, 15), d(2, 14)),
                (d(2, 15), d(3, 14)),
                (d(3, 15), d(3, 20))
            ]
        );
        assert!(
            q.split_by_month()
                .unwrap()
                .iter()
                .all(TrafficQuery::within_one_month)
        );
        assert!(!q.within_one_month());

        let t = |m, day, h| d(m, day).and_hms_opt(h, 0, 0).unwrap();
        let q = q.with_range(TrafficRange::Times {
            from: t(1, 31, 9),
            to: t(3, 1, 9),
        });
        let parts = q.split_by_month().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0].range,
            TrafficRange::Times {
                from: t(1, 31, 9),
                to: t(2, 28, 8) + TimeDelta::minutes(59)
            }
        );
        assert_eq!(
            parts[1].range,
            TrafficRange::Times {
                from: t(2, 28, 9),
                to: t(3, 1, 9)
            }
        );
    }

    #[test]
    fn query_string_as_documented() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let mut q = TrafficQuery::hourly(LocationId::new("0007").unwrap(), d(4, 1), d(4, 2));
        assert_eq!(
            q.query_string("K3Y"),
            "fromDate=04/01/2026&toDate=04/02/2026&interval=60&hours=0&reqType=td&apiKey=K3Y&locationId=0007"
        );
        q.range = TrafficRange::Times {
            from: d(4, 1).and_hms_opt(9, 30, 0).unwrap(),
            to: d(4, 1).and_hms_opt(17, 0, 0).unwrap(),
        };
        q.include_incomplete_days = true;
        q.business_hours_only = true;
        q.req_type = ReqType::Tdd;
        q.group_id = Some("north".into());
        assert_eq!(
            q.query_string("K3Y"),
            "fromDate=04/01/2026-09|30I&toDate=04/01/2026-17|00&interval=60&hours=1&reqType=tdd&apiKey=K3Y&locationId=0007&groupid=north"
        );
    }
}
