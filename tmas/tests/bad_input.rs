//! Bad input for the TMAS parsers: the import parsers (summary files, transaction logs) and the
//! traffic XML decoder. Truncated, mutated and hostile bodies, huge numbers, invalid UTF-8 and
//! deep nesting end in a value or a typed error, never a panic.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tmas::import::{ImportError, parse_summary, parse_transaction_log};
use tmas::traffic::{TrafficError, decode_traffic_xml};
use tmas::{
    DateFormat, Delimiter, Interval, LineEnding, SummaryFormat, TimeColumn, TransactionLogFormat,
};

fn expected(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/expected/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const TRAFFIC: &str = "<?xml version='1.0' encoding='iso-8859-1'?>\n<TRAFFIC>\n\
<data storeId=\"0007\" trafficDate=\"2026-04-01 13:00\" trafficValue=\"42.0\" passByTrafficValue=\"0.0\"/>\n\
<data storeId=\"0007|2\" trafficDate=\"2026-04-01 14:00\" trafficValue=\"17\" passByTrafficValue=\"\"/>\n\
<outputMessage text=\"Traffic Data generated successfully.\"/>\n</TRAFFIC>\n";

/// The layouts the fixtures under `tests/expected/` were written in (and the hourly default).
fn formats() -> Vec<(SummaryFormat, Interval)> {
    let hourly = SummaryFormat::default();
    vec![
        (hourly, Interval::Hour),
        (
            SummaryFormat {
                staff_hours: true,
                ..hourly
            },
            Interval::Hour,
        ),
        (
            SummaryFormat {
                delimiter: Delimiter::Semicolon,
                date_format: DateFormat::DayMonthYearDots,
                time_column: TimeColumn::HourMinute,
                line_ending: LineEnding::Lf,
                header: false,
                staff_hours: false,
            },
            Interval::HalfHour,
        ),
        (
            SummaryFormat {
                delimiter: Delimiter::Tab,
                date_format: DateFormat::Iso,
                time_column: TimeColumn::InDate,
                ..hourly
            },
            Interval::QuarterHour,
        ),
    ]
}

/// Every parser on one body; every error is typed (its `Display` works and names something).
fn parse_all(bytes: &[u8]) -> usize {
    let mut ok = 0;
    for (format, interval) in formats() {
        match parse_summary(bytes, &format, interval) {
            Ok(rows) => {
                ok += 1;
                for r in rows {
                    // Amounts are exact decimals; nothing overflowed on the way.
                    let _ = r.totals.sales.checked_add(Decimal::ZERO);
                }
            }
            Err(e) => check(&e),
        }
    }
    for header in [true, false] {
        for delimiter in [Delimiter::Comma, Delimiter::Semicolon] {
            let format = TransactionLogFormat {
                header,
                delimiter,
                ..TransactionLogFormat::default()
            };
            match parse_transaction_log(bytes, &format) {
                Ok(_) => ok += 1,
                Err(e) => check(&e),
            }
        }
    }
    match decode_traffic_xml(bytes) {
        Ok(_) => ok += 1,
        Err(e) => assert!(
            matches!(e, TrafficError::Decode { .. } | TrafficError::Api(_)),
            "untyped traffic failure: {e:?}"
        ),
    }
    ok
}

fn check(e: &ImportError) {
    assert!(!e.reason.is_empty(), "an error says why: {e:?}");
    let _ = e.to_string();
}

#[test]
fn fixtures_parse_as_written() {
    let cases = [
        ("summary_hourly_comma.csv", 1),
        ("summary_halfhour_semicolon.csv", 2),
        ("summary_quarter_tab.txt", 3),
    ];
    for (name, i) in cases {
        let (format, interval) = formats()[i];
        let rows = parse_summary(&expected(name), &format, interval).unwrap();
        assert!(!rows.is_empty(), "{name}");
    }
    let log = parse_transaction_log(
        &expected("transactions_semicolon.csv"),
        &TransactionLogFormat {
            delimiter: Delimiter::Semicolon,
            date_format: DateFormat::Compact,
            ..TransactionLogFormat::default()
        },
    );
    assert!(log.is_ok(), "{log:?}");
    let traffic = decode_traffic_xml(TRAFFIC.as_bytes()).unwrap();
    assert_eq!(traffic.len(), 2);
}

#[test]
fn hostile_bodies_end_in_typed_errors() {
    let huge = format!(
        "Location ID,Date,Hour,Sales,Transactions,Items\r\n0001,03/29/2026,14,{},{},{}\r\n",
        "9".repeat(400),
        "9".repeat(60),
        "1e999999999"
    );
    let deep = format!(
        "<TRAFFIC>{}{}</TRAFFIC>",
        "<a>".repeat(5000),
        "</a>".repeat(5000)
    );
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\r\n\r\n".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x41],
        b"Location ID,Date,Hour,Sales,Transactions,Items\r\n\xff\xfe,03/29/2026,14,1,1,1\r\n"
            .to_vec(),
        huge.into_bytes(),
        b"Location ID,Date,Hour,Sales,Transactions,Items\r\n0001,02/30/2026,25,-0,-1,NaN\r\n"
            .to_vec(),
        deep.into_bytes(),
        b"<TRAFFIC><data storeId=\"7\" trafficDate=\"2026-13-45 99:99\" trafficValue=\"1e400\"/></TRAFFIC>"
            .to_vec(),
        b"<TRAFFIC><data storeId=\"7\" trafficDate=\"2026-04-01\" trafficValue=\"99999999999999999999999999999999\"/></TRAFFIC>"
            .to_vec(),
        b"<TRAFFIC><outputMessage text=\"Invalid API key\"/></TRAFFIC>".to_vec(),
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><TRAFFIC>&b;</TRAFFIC>".to_vec(),
    ];
    for b in &bodies {
        parse_all(b);
    }
    // A count too large for the model is an error, not a wrap-around.
    let e = decode_traffic_xml(&bodies[8]);
    assert!(e.is_err() || e.unwrap()[0].visitors > Decimal::ZERO);
    assert!(matches!(
        decode_traffic_xml(&bodies[9]),
        Err(TrafficError::Api(m)) if m.contains("Invalid API key")
    ));
}

/// A valid body of each kind, to be cut or mutated.
fn seeds() -> Vec<Vec<u8>> {
    vec![
        expected("summary_hourly_comma.csv"),
        expected("summary_halfhour_semicolon.csv"),
        expected("summary_quarter_tab.txt"),
        expected("transactions_semicolon.csv"),
        TRAFFIC.as_bytes().to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn truncated_bodies_never_panic(which in 0usize..5, cut in any::<prop::sample::Index>()) {
        let body = &seeds()[which];
        let cut = cut.index(body.len() + 1);
        parse_all(&body[..cut]);
    }

    #[test]
    fn mutated_bodies_never_panic(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
    ) {
        let mut body = seeds()[which].clone();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        parse_all(&body);
    }

    #[test]
    fn spliced_fields_never_panic(
        which in 0usize..4,
        field in prop_oneof![
            "[0-9]{1,80}",
            "-?[0-9]{1,40}\\.[0-9]{1,40}",
            "[0-9]e[0-9]{1,12}",
            "\\PC{0,20}",
            Just(String::new()),
        ],
        line in 1usize..6,
        column in 0usize..7,
    ) {
        // Replace one field of one data line with something hostile.
        let body = String::from_utf8(seeds()[which].clone()).unwrap();
        let delimiter = [',', ';', '\t', ';'][which];
        let newline = if which == 1 { "\n" } else { "\r\n" };
        let mut lines: Vec<String> = body.split(newline).map(str::to_owned).collect();
        if let Some(l) = lines.get_mut(line) {
            let mut fields: Vec<&str> = l.split(delimiter).collect();
            if column < fields.len() {
                fields[column] = &field;
            }
            *l = fields.join(&delimiter.to_string());
        }
        parse_all(lines.join(newline).as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
    }

    #[test]
    fn traffic_attributes_never_panic(
        store in "\\PC{0,12}",
        date in "\\PC{0,20}",
        value in prop_oneof!["[0-9]{1,60}", "-?[0-9]{0,30}\\.[0-9]{0,30}", "\\PC{0,10}"],
    ) {
        let esc = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
        let body = format!(
            "<TRAFFIC><data storeId=\"{}\" trafficDate=\"{}\" trafficValue=\"{}\" passByTrafficValue=\"{}\"/></TRAFFIC>",
            esc(&store), esc(&date), esc(&value), esc(&value)
        );
        parse_all(body.as_bytes());
    }
}
