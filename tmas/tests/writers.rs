//! Writers checked byte for byte against files written by hand from TMAS's import spec.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Amsterdam;
use rust_decimal_macros::dec;
use tmas::bucket::transaction_at;
use tmas::import::{parse_summary, parse_transaction_log};
use tmas::writer::SummaryChunks;
use tmas::{
    DateFormat, DateRange, Delimiter, Interval, LineEnding, LocationId, SummaryData, SummaryFormat,
    SummarySpec, TimeColumn, TransactionId, TransactionLogFormat, TransactionLogSpec, WriteError,
    write_summary, write_summary_async, write_transaction_log,
};

fn loc(id: &str) -> LocationId {
    LocationId::new(id).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn expected(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/expected/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn assert_bytes(actual: &[u8], name: &str) {
    let want = expected(name);
    assert!(
        actual == want.as_slice(),
        "{name} differs:\n--- actual\n{}\n--- expected\n{}",
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&want)
    );
}

/// 23-hour day in Amsterdam, hourly, comma, staff hours; two locations, one without data.
fn spring_forward() -> (SummarySpec, SummaryData) {
    let format = SummaryFormat {
        staff_hours: true,
        ..SummaryFormat::default()
    };
    let spec = SummarySpec::new(
        format,
        Interval::Hour,
        DateRange::day(date(2026, 3, 29)),
        [loc("0002"), loc("0001")],
    )
    .unwrap();
    let mut data = SummaryData::new(Interval::Hour);
    let l = loc("0001");
    data.add_sale(
        &l,
        &Amsterdam,
        utc("2026-03-29T00:59:59Z"),
        dec!(10),
        dec!(1),
    ); // 01:59 CET
    data.add_sale(
        &l,
        &Amsterdam,
        utc("2026-03-29T01:00:00Z"),
        dec!(20.5),
        dec!(2),
    ); // 03:00 CEST
    data.add_sale(
        &l,
        &Amsterdam,
        utc("2026-03-29T10:30:00Z"),
        dec!(-5),
        dec!(-1),
    ); // 12:30 CEST refund
    data.add_staff_time(
        &l,
        &Amsterdam,
        utc("2026-03-29T07:00:00Z"),
        utc("2026-03-29T09:30:00Z"),
    );
    (spec, data)
}

#[test]
fn hourly_comma_on_a_23_hour_day() {
    let (spec, data) = spring_forward();
    let mut out = Vec::new();
    let n = write_summary(&mut out, &spec, data.rows()).unwrap();
    assert_eq!(n as usize, out.len());
    assert_bytes(&out, "summary_hourly_comma.csv");
    assert_eq!(spec.row_count(), 48);

    // Same input, same bytes; the async writer agrees.
    let mut again = Vec::new();
    write_summary(&mut again, &spec, data.rows()).unwrap();
    assert_eq!(out, again);
    let mut async_out = Vec::new();
    futures::executor::block_on(write_summary_async(&mut async_out, &spec, data.rows())).unwrap();
    assert_eq!(out, async_out);

    // And TMAS's reading of it gives back the figures.
    let rows = parse_summary(&out, spec.format(), Interval::Hour).unwrap();
    assert_eq!(rows.len(), 48);
    let sent: Vec<_> = rows.into_iter().filter(|r| !r.totals.is_zero()).collect();
    assert_eq!(sent.len(), 6);
}

#[test]
fn half_hours_semicolon_on_a_25_hour_day() {
    let format = SummaryFormat {
        delimiter: Delimiter::Semicolon,
        date_format: DateFormat::DayMonthYearDots,
        time_column: TimeColumn::HourMinute,
        line_ending: LineEnding::Lf,
        header: false,
        staff_hours: false,
    };
    let spec = SummarySpec::new(
        format,
        Interval::HalfHour,
        DateRange::day(date(2026, 10, 25)),
        [loc("5a8ce6a5")],
    )
    .unwrap();
    let mut data = SummaryData::new(Interval::HalfHour);
    let l = loc("5a8ce6a5");
    // 02:30 CEST and 02:45 CET: both occurrences of the repeated hour land in the one 02:30 row.
    data.add_sale(
        &l,
        &Amsterdam,
        utc("2026-10-25T00:30:00Z"),
        dec!(1000.005),
        dec!(1.5),
    );
    data.add_sale(
        &l,
        &Amsterdam,
        utc("2026-10-25T01:45:00Z"),
        dec!(234.56),
        dec!(2),
    );
    let mut out = Vec::new();
    write_summary(&mut out, &spec, data.rows()).unwrap();
    assert_bytes(&out, "summary_halfhour_semicolon.csv");
}

#[test]
fn quarter_hours_tab_date_and_time_in_new_york() {
    let format = SummaryFormat {
        delimiter: Delimiter::Tab,
        date_format: DateFormat::Iso,
        time_column: TimeColumn::InDate,
        ..SummaryFormat::default()
    };
    let spec = SummarySpec::new(
        format,
        Interval::QuarterHour,
        DateRange::day(date(2026, 3, 8)),
        [loc("NYC-01")],
    )
    .unwrap();
    let mut data = SummaryData::new(Interval::QuarterHour);
    let l = loc("NYC-01");
    data.add_sale(
        &l,
        &New_York,
        utc("2026-03-08T06:59:00Z"),
        dec!(3.1),
        dec!(1),
    ); // 01:59 EST
    data.add_sale(&l, &New_York, utc("2026-03-08T07:00:00Z"), dec!(7), dec!(2)); // 03:00 EDT
    let mut out = Vec::new();
    write_summary(&mut out, &spec, data.rows()).unwrap();
    assert_bytes(&out, "summary_quarter_tab.txt");
    assert_eq!(
        parse_summary(&out, &format, Interval::QuarterHour)
            .unwrap()
            .len(),
        96
    );
}

#[test]
fn transaction_log_semicolon() {
    let format = TransactionLogFormat {
        delimiter: Delimiter::Semicolon,
        date_format: DateFormat::Compact,
        ..TransactionLogFormat::default()
    };
    let spec =
        TransactionLogSpec::new(format, DateRange::day(date(2026, 10, 25)), [loc("0001")]).unwrap();
    let id = |s: &str| TransactionId::new(s).unwrap();
    let rows = vec![
        transaction_at(
            loc("0001"),
            &Amsterdam,
            utc("2026-10-25T00:30:00Z"),
            id("R-1001"),
            dec!(2),
            dec!(19.99),
        ),
        transaction_at(
            loc("0001"),
            &Amsterdam,
            utc("2026-10-25T01:30:00Z"),
            id("R-1002"),
            dec!(1),
            dec!(5),
        ),
        transaction_at(
            loc("0001"),
            &Amsterdam,
            utc("2026-10-25T13:05:09Z"),
            id("R-1003"),
            dec!(-1),
            dec!(-19.99),
        ),
    ];
    let mut out = Vec::new();
    write_transaction_log(&mut out, &spec, rows.clone()).unwrap();
    assert_bytes(&out, "transactions_semicolon.csv");
    assert_eq!(parse_transaction_log(&out, &format).unwrap(), rows);

    // A transaction id holding the delimiter cannot be written.
    let bad = vec![transaction_at(
        loc("0001"),
        &Amsterdam,
        utc("2026-10-25T10:00:00Z"),
        id("A;B"),
        dec!(1),
        dec!(1),
    )];
    assert!(matches!(
        write_transaction_log(&mut Vec::new(), &spec, bad),
        Err(WriteError::InvalidValue {
            field: "transaction id",
            ..
        })
    ));
}

#[test]
fn spec_and_row_errors() {
    let range = DateRange::day(date(2026, 3, 29));
    assert!(matches!(
        SummarySpec::new(
            SummaryFormat::default(),
            Interval::HalfHour,
            range,
            [loc("1")]
        ),
        Err(WriteError::InvalidSpec(_))
    ));
    assert!(SummarySpec::new(SummaryFormat::default(), Interval::Hour, range, []).is_err());
    let spec =
        SummarySpec::new(SummaryFormat::default(), Interval::Hour, range, [loc("1")]).unwrap();
    let mut other = SummaryData::new(Interval::Hour);
    other.add_sale(
        &loc("2"),
        &Amsterdam,
        utc("2026-03-29T10:00:00Z"),
        dec!(1),
        dec!(1),
    );
    assert!(matches!(
        write_summary(&mut Vec::new(), &spec, other.rows()),
        Err(WriteError::UnknownLocation(_))
    ));
    let mut late = SummaryData::new(Interval::Hour);
    late.add_sale(
        &loc("1"),
        &Amsterdam,
        utc("2026-03-30T10:00:00Z"),
        dec!(1),
        dec!(1),
    );
    assert!(matches!(
        write_summary(&mut Vec::new(), &spec, late.rows()),
        Err(WriteError::OutsideRange { .. })
    ));
}

/// Counts bytes and remembers the largest single write: the writer hands over bounded chunks.
#[derive(Default)]
struct Sink {
    bytes: u64,
    lines: u64,
    largest_write: usize,
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        self.largest_write = self.largest_write.max(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_year_of_hourly_rows_streams_in_bounded_chunks() {
    let range = DateRange::new(date(2026, 1, 1), date(2026, 12, 31)).unwrap();
    let locations: Vec<LocationId> = (1..=60).map(|i| loc(&format!("{i:04}"))).collect();
    let spec =
        SummarySpec::new(SummaryFormat::default(), Interval::Hour, range, locations).unwrap();
    let mut sink = Sink::default();
    write_summary(&mut sink, &spec, std::iter::empty()).unwrap();
    assert_eq!(sink.lines, 1 + 60 * 365 * 24);
    assert!(
        sink.largest_write <= 64 * 1024 + 256,
        "{}",
        sink.largest_write
    );
    // The same spec yields its chunks lazily.
    assert!(
        SummaryChunks::new(&spec, std::iter::empty())
            .take(2)
            .all(|c| c.is_ok())
    );
}
