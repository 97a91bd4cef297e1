//! Exact request shape of the traffic client.

use chrono::NaiveDate;
use rust_decimal_macros::dec;
use tmas::LocationId;
use tmas::traffic::{TrafficClient, TrafficQuery};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn sends_documented_parameters() {
    let server = MockServer::start().await;
    let body = "<?xml version='1.0' encoding='iso-8859-1'?>\n<TRAFFIC>\n\
<data storeId=\"0007\" trafficDate=\"2026-04-01 13:00\" trafficValue=\"42.0\" passByTrafficValue=\"0.0\"/>\n\
<outputMessage text=\"Traffic Data generated successfully.\"/>\n</TRAFFIC>\n";
    Mock::given(method("GET"))
        .and(path("/tmas/manTrafExp"))
        .and(query_param("fromDate", "04/01/2026"))
        .and(query_param("toDate", "04/02/2026"))
        .and(query_param("interval", "60"))
        .and(query_param("hours", "0"))
        .and(query_param("reqType", "td"))
        .and(query_param("apiKey", "s3cret key"))
        .and(query_param("locationId", "0007"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/xml"))
        .expect(1)
        .mount(&server)
        .await;
    let client = TrafficClient::builder("s3cret key".to_owned().into())
        .base_url(server.uri())
        .build()
        .unwrap();
    assert!(!format!("{client:?}").contains("s3cret"));
    let d = |day| NaiveDate::from_ymd_opt(2026, 4, day).unwrap();
    let counts = client
        .traffic(&TrafficQuery::hourly(
            LocationId::new("0007").unwrap(),
            d(1),
            d(2),
        ))
        .await
        .unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].visitors, dec!(42.0));
    let requests = server.received_requests().await.unwrap();
    let raw = requests[0].url.query().unwrap().to_owned();
    assert!(
        raw.starts_with("fromDate=04/01/2026&toDate=04/02/2026&"),
        "{raw}"
    );
    assert!(raw.contains("apiKey=s3cret%20key"), "{raw}");
}
