//! Reading import files the way TMAS's import does: strict about layout, numbers and dates, and
//! rejecting the whole file with the reason when one line is wrong.
//!
//! The sandbox FTP server uses this to import what it receives; callers can use it to check a file
//! before sending it.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;

use crate::format::{DateFormat, SummaryFormat, TimeColumn, TransactionLogFormat};
use crate::model::{
    Interval, IntervalStart, LocationId, SummaryRow, Totals, TransactionId, TransactionRow,
};

/// Why TMAS would reject a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ImportError {
    /// 1-based line number, when one line is at fault.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl ImportError {
    fn at(line: usize, reason: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            reason: reason.into(),
        }
    }

    fn file(reason: impl Into<String>) -> Self {
        Self {
            line: None,
            reason: reason.into(),
        }
    }
}

fn lines(bytes: &[u8]) -> Result<Vec<&str>, ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ImportError::file(format!("not valid UTF-8 text: {e}")))?;
    if text.is_empty() {
        return Err(ImportError::file("the file is empty"));
    }
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    Ok(lines)
}

/// A fixed-point number: optional leading minus, digits, optional `.` and digits. No thousands
/// separator, no exponent, no plus sign.
fn number(field: &str, what: &str, line: usize) -> Result<Decimal, ImportError> {
    let body = field.strip_prefix('-').unwrap_or(field);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(ImportError::at(
            line,
            format!("{what} `{field}` is not a plain number with `.` decimals"),
        ));
    }
    field
        .parse::<Decimal>()
        .map_err(|e| ImportError::at(line, format!("{what} `{field}`: {e}")))
}

fn date(field: &str, format: DateFormat, line: usize) -> Result<NaiveDate, ImportError> {
    format.parse(field).ok_or_else(|| {
        ImportError::at(
            line,
            format!(
                "date `{field}` does not match the configured format {}",
                format.pattern()
            ),
        )
    })
}

fn hour_minute(field: &str, interval: Interval, line: usize) -> Result<IntervalStart, ImportError> {
    let parsed = (field.len() == 5)
        .then(|| NaiveTime::parse_from_str(field, "%H:%M").ok())
        .flatten()
        .and_then(|t| IntervalStart::new(chrono::Timelike::hour(&t), chrono::Timelike::minute(&t)));
    match parsed {
        Some(s) if s.fits(interval) => Ok(s),
        Some(_) => Err(ImportError::at(
            line,
            format!(
                "time `{field}` is not the start of a {}-minute interval",
                interval.minutes()
            ),
        )),
        None => Err(ImportError::at(
            line,
            format!("time `{field}` is not HH:mm"),
        )),
    }
}

fn location(field: &str, line: usize) -> Result<LocationId, ImportError> {
    LocationId::new(field).map_err(|e| ImportError::at(line, e.to_string()))
}

fn check_header(lines: &[&str], expected: &str) -> Result<usize, ImportError> {
    match lines.first() {
        Some(first) if *first == expected => Ok(1),
        Some(first) => Err(ImportError::at(
            1,
            format!("header `{first}` does not match the configured columns `{expected}`"),
        )),
        None => Err(ImportError::file("the file has no lines")),
    }
}

/// Parses a summary file configured with `format` and `interval`.
pub fn parse_summary(
    bytes: &[u8],
    format: &SummaryFormat,
    interval: Interval,
) -> Result<Vec<SummaryRow>, ImportError> {
    if format.time_column == TimeColumn::Hour && interval != Interval::Hour {
        return Err(ImportError::file(
            "an HH column only names hourly intervals",
        ));
    }
    let lines = lines(bytes)?;
    let d = format.delimiter.as_char();
    let mut expected_cols = match format.time_column {
        TimeColumn::InDate => 5,
        _ => 6,
    };
    if format.staff_hours {
        expected_cols += 1;
    }
    let skip = if format.header {
        let mut cols = vec!["Location ID"];
        match format.time_column {
            TimeColumn::Hour => cols.extend(["Date", "Hour"]),
            TimeColumn::HourMinute => cols.extend(["Date", "Time"]),
            TimeColumn::InDate => cols.push("Date & Time"),
        }
        cols.extend(["Sales", "Transactions", "Items"]);
        if format.staff_hours {
            cols.push("Staff Hours");
        }
        check_header(&lines, &cols.join(&d.to_string()))?
    } else {
        0
    };
    let mut rows = Vec::with_capacity(lines.len());
    let mut seen: HashMap<(LocationId, NaiveDate, IntervalStart), usize> = HashMap::new();
    for (i, text) in lines.iter().enumerate().skip(skip) {
        let line = i + 1;
        let fields: Vec<&str> = text.split(d).collect();
        if fields.len() != expected_cols {
            return Err(ImportError::at(
                line,
                format!("{} fields, expected {expected_cols}", fields.len()),
            ));
        }
        let location = location(fields[0], line)?;
        let (date, start, rest) = match format.time_column {
            TimeColumn::Hour => {
                let date = date(fields[1], format.date_format, line)?;
                let hour = fields[2];
                let h = (hour.len() == 2 && hour.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| hour.parse::<u32>().ok())
                    .flatten()
                    .and_then(|h| IntervalStart::new(h, 0))
                    .ok_or_else(|| {
                        ImportError::at(line, format!("hour `{hour}` is not two digits 00-23"))
                    })?;
                (date, h, &fields[3..])
            }
            TimeColumn::HourMinute => (
                date(fields[1], format.date_format, line)?,
                hour_minute(fields[2], interval, line)?,
                &fields[3..],
            ),
            TimeColumn::InDate => {
                let (date_text, time_text) = fields[1].split_once(' ').ok_or_else(|| {
                    ImportError::at(line, format!("`{}` is not `date HH:mm`", fields[1]))
                })?;
                (
                    date(date_text, format.date_format, line)?,
                    hour_minute(time_text, interval, line)?,
                    &fields[2..],
                )
            }
        };
        let sales = number(rest[0], "sales", line)?;
        let transactions: i64 = {
            let t = rest[1];
            let body = t.strip_prefix('-').unwrap_or(t);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ImportError::at(
                    line,
                    format!("transactions `{t}` is not a whole number"),
                ));
            }
            t.parse()
                .map_err(|_| ImportError::at(line, format!("transactions `{t}` is out of range")))?
        };
        let items = number(rest[2], "items", line)?;
        let staff_hours = if format.staff_hours {
            Some(number(rest[3], "staff hours", line)?)
        } else {
            None
        };
        if let Some(first) = seen.insert((location.clone(), date, start), line) {
            return Err(ImportError::at(
                line,
                format!("repeats location {location}, {date} {start} of line {first}"),
            ));
        }
        rows.push(SummaryRow {
            location,
            date,
            start,
            totals: Totals {
                sales,
                transactions,
                items,
                staff_hours,
            },
        });
    }
    Ok(rows)
}

/// Parses a transaction log configured with `format`.
pub fn parse_transaction_log(
    bytes: &[u8],
    format: &TransactionLogFormat,
) -> Result<Vec<TransactionRow>, ImportError> {
    let lines = lines(bytes)?;
    let d = format.delimiter.as_char();
    let skip = if format.header {
        check_header(
            &lines,
            &[
                "Location ID",
                "Date",
                "Time",
                "Transaction ID",
                "Items",
                "Total",
            ]
            .join(&d.to_string()),
        )?
    } else {
        0
    };
    let mut rows = Vec::with_capacity(lines.len());
    for (i, text) in lines.iter().enumerate().skip(skip) {
        let line = i + 1;
        let fields: Vec<&str> = text.split(d).collect();
        if fields.len() != 6 {
            return Err(ImportError::at(
                line,
                format!("{} fields, expected 6", fields.len()),
            ));
        }
        let location = location(fields[0], line)?;
        let date = date(fields[1], format.date_format, line)?;
        let time = (fields[2].len() == 8)
            .then(|| NaiveTime::parse_from_str(fields[2], "%H:%M:%S").ok())
            .flatten()
            .ok_or_else(|| {
                ImportError::at(line, format!("time `{}` is not HH:mm:ss", fields[2]))
            })?;
        let transaction =
            TransactionId::new(fields[3]).map_err(|e| ImportError::at(line, e.to_string()))?;
        rows.push(TransactionRow {
            location,
            local_time: NaiveDateTime::new(date, time),
            transaction,
            items: number(fields[4], "items", line)?,
            total: number(fields[5], "total", line)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Delimiter;

    #[test]
    fn rejects_with_reasons() {
        let f = SummaryFormat::default();
        let head = "Location ID,Date,Hour,Sales,Transactions,Items\r\n";
        let ok = format!("{head}0001,03/29/2026,13,-12.50,3,4\r\n");
        let rows = parse_summary(ok.as_bytes(), &f, Interval::Hour).unwrap();
        assert_eq!(rows[0].totals.sales.to_string(), "-12.50");

        let cases = [
            (
                "0001,03/29/2026,13,1 234.00,3,4",
                "line 2: sales `1 234.00` is not a plain number",
            ),
            (
                "0001,2026-03-29,13,1.00,3,4",
                "line 2: date `2026-03-29` does not match",
            ),
            (
                "0001,03/29/2026,7,1.00,3,4",
                "line 2: hour `7` is not two digits",
            ),
            ("0001,03/29/2026,13,1.00,3", "line 2: 5 fields, expected 6"),
            ("00 1,03/29/2026,13,1.00,3,4", "illegal character"),
            (
                "0001,03/29/2026,13,1.00,3.5,4",
                "transactions `3.5` is not a whole number",
            ),
        ];
        for (line, reason) in cases {
            let err = parse_summary(format!("{head}{line}\r\n").as_bytes(), &f, Interval::Hour)
                .unwrap_err();
            assert!(err.to_string().contains(reason), "{err} / {reason}");
        }
        let dup = format!("{head}0001,03/29/2026,13,1.00,3,4\r\n0001,03/29/2026,13,1.00,3,4\r\n");
        assert!(
            parse_summary(dup.as_bytes(), &f, Interval::Hour)
                .unwrap_err()
                .to_string()
                .contains("line 3: repeats")
        );
        let bad_head = "Store,Date,Hour,Sales,Transactions,Items\r\n";
        assert_eq!(
            parse_summary(bad_head.as_bytes(), &f, Interval::Hour)
                .unwrap_err()
                .line,
            Some(1)
        );
    }

    #[test]
    fn transaction_log() {
        let f = TransactionLogFormat {
            delimiter: Delimiter::Semicolon,
            header: false,
            ..Default::default()
        };
        let rows = parse_transaction_log(b"0001;03/29/2026;13:05:09;R-1;2;19.99\n", &f).unwrap();
        assert_eq!(rows[0].transaction.as_str(), "R-1");
        assert!(parse_transaction_log(b"0001;03/29/2026;13:05;R-1;2;19.99\n", &f).is_err());
    }
}
