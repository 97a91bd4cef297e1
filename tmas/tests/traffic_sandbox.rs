//! The traffic client against the sandbox traffic API.
#![cfg(feature = "sandbox")]

use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tmas::LocationId;
use tmas::sandbox::{TrafficSandbox, generated_visitors};
use tmas::traffic::{ReqType, TrafficClient, TrafficError, TrafficQuery, TrafficRange};

fn loc(id: &str) -> LocationId {
    LocationId::new(id).unwrap()
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

async fn sandbox() -> TrafficSandbox {
    TrafficSandbox::start([
        (loc("0007"), "Harbour".to_owned()),
        (loc("0008"), "Station".to_owned()),
    ])
    .await
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn hourly_counts_match_generated_values() {
    let sb = sandbox().await;
    let counts = sb
        .client()
        .traffic(&TrafficQuery::hourly(loc("0007"), d(4, 1), d(4, 2)))
        .await
        .unwrap();
    assert_eq!(counts.len(), 48);
    for c in &counts {
        assert_eq!(c.location_id, "0007");
        assert_eq!(c.visitors, generated_visitors("0007", c.start, 60));
        assert_eq!(c.pass_by, Some(c.visitors * Decimal::from(3)));
    }
    let day_total: Decimal = counts.iter().take(24).map(|c| c.visitors).sum();
    assert!(day_total > Decimal::from(100), "{day_total}");
    assert_eq!(counts[0].visitors, Decimal::ZERO, "closed at midnight");
}

#[tokio::test(start_paused = true)]
async fn long_range_is_split_and_calls_are_two_seconds_apart() {
    let sb = sandbox().await;
    let client = sb.client();
    let mut q = TrafficQuery::hourly(loc("0008"), d(1, 15), d(3, 20));
    q.interval_minutes = 1440;
    let started = tokio::time::Instant::now();
    let counts = client.traffic(&q).await.unwrap();
    let elapsed = started.elapsed();
    // 2026-01-15..=2026-03-20 is 65 days, fetched in three calls.
    assert_eq!(counts.len(), 65);
    assert_eq!(sb.stats().count("GET /tmas/manTrafExp"), 3);
    assert!(elapsed >= Duration::from_secs(4), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
    assert_eq!(sb.stats().throttled, 0, "the client never trips the limit");
    assert_eq!(client.stats().requests, 3);
}

#[tokio::test(start_paused = true)]
async fn sandbox_enforces_the_two_second_limit() {
    let sb = sandbox().await;
    // A client that neither paces nor retries.
    let http = pos_http::HttpClient::builder(sb.base_url().as_str())
        .retry(pos_http::RetryPolicy::none())
        .build()
        .unwrap();
    let url = "tmas/manTrafExp";
    let q = format!(
        "fromDate=04/01/2026&toDate=04/01/2026&interval=60&hours=0&reqType=td&apiKey={}&locationId=0007",
        TrafficSandbox::API_KEY
    );
    let first = http.get(url).raw_query(&q).send_any_status().await.unwrap();
    assert_eq!(first.status.as_u16(), 200);
    let second = http
        .get(url)
        .raw_query(&q)
        .send_any_status()
        .await
        .unwrap_err();
    assert!(
        matches!(second, pos_http::Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)),
        "{second}"
    );
    assert_eq!(sb.stats().throttled, 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    let third = http.get(url).raw_query(&q).send_any_status().await.unwrap();
    assert_eq!(third.status.as_u16(), 200);
}

#[tokio::test(start_paused = true)]
async fn errors_are_typed_and_never_show_the_key() {
    let sb = sandbox().await;
    let bad_key = TrafficClient::builder("not-the-key".to_owned().into())
        .base_url(sb.base_url().as_str())
        .build()
        .unwrap();
    let err = bad_key
        .traffic(&TrafficQuery::hourly(loc("0007"), d(4, 1), d(4, 1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TrafficError::Status { status: 403, ref message } if message == "Invalid API Key"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("not-the-key"));

    let err = sb
        .client()
        .traffic(&TrafficQuery::hourly(loc("0009"), d(4, 1), d(4, 1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TrafficError::Status { status: 400, ref message } if message == "Unknown locationId"),
        "{err}"
    );

    // Over a month in one call is refused locally, before sending.
    let err = sb
        .client()
        .traffic_once(&TrafficQuery::hourly(loc("0007"), d(4, 1), d(5, 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, TrafficError::InvalidQuery(_)), "{err}");
}

#[tokio::test(start_paused = true)]
async fn detailed_business_hours_quarter_hours() {
    let sb = sandbox().await;
    let mut q = TrafficQuery::hourly(loc("0007"), d(4, 1), d(4, 1));
    q.req_type = ReqType::Tdd;
    q.business_hours_only = true;
    q.interval_minutes = 15;
    q.range = TrafficRange::Times {
        from: d(4, 1).and_hms_opt(8, 0, 0).unwrap(),
        to: d(4, 1).and_hms_opt(10, 45, 0).unwrap(),
    };
    let counts = sb.client().traffic(&q).await.unwrap();
    // 09:00..=10:45 in quarter hours.
    assert_eq!(counts.len(), 8);
    assert_eq!(counts[0].counter.as_deref(), Some("Harbour - In"));
    assert!(counts[0].device.is_some());
    assert_eq!(counts[0].start, d(4, 1).and_hms_opt(9, 0, 0).unwrap());
}
