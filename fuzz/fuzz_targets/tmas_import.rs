//! TMAS import files as the TMAS sandbox reads what it receives: summary files (every layout the
//! writers produce) and transaction logs. Each body ends in rows or a typed `ImportError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmas::import::{parse_summary, parse_transaction_log};
use tmas::{
    DateFormat, Delimiter, Interval, LineEnding, SummaryFormat, TimeColumn, TransactionLogFormat,
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the layout; the rest is the file.
    let Some((pick, body)) = data.split_first() else {
        return;
    };
    let delimiter = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab][usize::from(pick % 3)];
    let date_format = [
        DateFormat::MonthDayYear,
        DateFormat::DayMonthYear,
        DateFormat::Iso,
        DateFormat::Compact,
        DateFormat::DayMonthYearDots,
    ][usize::from((pick / 3) % 5)];
    let (time_column, interval) = [
        (TimeColumn::Hour, Interval::Hour),
        (TimeColumn::HourMinute, Interval::HalfHour),
        (TimeColumn::InDate, Interval::QuarterHour),
    ][usize::from((pick / 15) % 3)];
    let format = SummaryFormat {
        delimiter,
        date_format,
        time_column,
        line_ending: if pick & 0x40 == 0 { LineEnding::CrLf } else { LineEnding::Lf },
        header: pick & 0x80 == 0,
        staff_hours: pick % 2 == 0,
    };
    match parse_summary(body, &format, interval) {
        Ok(rows) => {
            for r in rows {
                let _ = (r.totals.sales.is_sign_negative(), r.start.to_string());
            }
        }
        Err(e) => assert!(!e.reason.is_empty()),
    }
    let log = TransactionLogFormat {
        delimiter,
        date_format,
        header: pick & 0x80 == 0,
        ..TransactionLogFormat::default()
    };
    if let Err(e) = parse_transaction_log(body, &log) {
        assert!(!e.reason.is_empty());
    }
});
