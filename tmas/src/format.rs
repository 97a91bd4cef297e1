//! The layout choices TMAS's file import offers: delimiter, date format, time column, line ending.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

/// Field delimiter: TMAS reads comma-, semicolon- or tab-delimited files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Delimiter {
    /// `,` (`.csv`).
    #[default]
    Comma,
    /// `;`.
    Semicolon,
    /// Tab (`.txt`).
    Tab,
}

impl Delimiter {
    /// The delimiter character.
    pub fn as_char(self) -> char {
        match self {
            Delimiter::Comma => ',',
            Delimiter::Semicolon => ';',
            Delimiter::Tab => '\t',
        }
    }

    /// The file extension that fits: `csv` for comma and semicolon, `txt` for tab.
    pub fn extension(self) -> &'static str {
        match self {
            Delimiter::Comma | Delimiter::Semicolon => "csv",
            Delimiter::Tab => "txt",
        }
    }
}

/// Date format of the date column, one of those TMAS's import setup offers.
///
/// TMAS's public guide says the date "must use one of the formats offered by the setup wizard"
/// without listing them; these are the common unambiguous layouts. Pick the one configured in TMAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DateFormat {
    /// `MM/dd/yyyy` (`03/29/2026`), the format TMAS's own web API uses.
    #[default]
    MonthDayYear,
    /// `dd/MM/yyyy` (`29/03/2026`).
    DayMonthYear,
    /// `yyyy-MM-dd` (`2026-03-29`).
    Iso,
    /// `yyyyMMdd` (`20260329`).
    Compact,
    /// `dd.MM.yyyy` (`29.03.2026`).
    DayMonthYearDots,
    /// `MM-dd-yyyy` (`03-29-2026`).
    MonthDayYearDashes,
}

impl DateFormat {
    /// Every supported format.
    pub const ALL: [DateFormat; 6] = [
        DateFormat::MonthDayYear,
        DateFormat::DayMonthYear,
        DateFormat::Iso,
        DateFormat::Compact,
        DateFormat::DayMonthYearDots,
        DateFormat::MonthDayYearDashes,
    ];

    /// The chrono pattern.
    pub fn pattern(self) -> &'static str {
        match self {
            DateFormat::MonthDayYear => "%m/%d/%Y",
            DateFormat::DayMonthYear => "%d/%m/%Y",
            DateFormat::Iso => "%Y-%m-%d",
            DateFormat::Compact => "%Y%m%d",
            DateFormat::DayMonthYearDots => "%d.%m.%Y",
            DateFormat::MonthDayYearDashes => "%m-%d-%Y",
        }
    }

    /// Formats a date; always zero-padded, four-digit year.
    pub fn format(self, date: NaiveDate) -> String {
        date.format(self.pattern()).to_string()
    }

    /// Parses a date written in this format (exact width, as written by [`DateFormat::format`]).
    pub fn parse(self, text: &str) -> Option<NaiveDate> {
        let expected_len = if self == DateFormat::Compact { 8 } else { 10 };
        if text.len() != expected_len {
            return None;
        }
        NaiveDate::parse_from_str(text, self.pattern()).ok()
    }
}

/// How the interval start is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeColumn {
    /// A separate `Hour` column, `HH` (two digits, 24-hour clock, start of the interval). Hourly files only.
    #[default]
    Hour,
    /// A separate `Time` column, `HH:mm`: needed for 30- and 15-minute intervals.
    HourMinute,
    /// No separate column: the date column holds `date HH:mm` ("Date & Time").
    InDate,
}

/// Line ending of every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineEnding {
    /// `\r\n`.
    #[default]
    CrLf,
    /// `\n`.
    Lf,
}

impl LineEnding {
    /// The bytes.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::CrLf => "\r\n",
            LineEnding::Lf => "\n",
        }
    }
}

/// Layout of a summary file (one row per location and interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SummaryFormat {
    /// Field delimiter.
    pub delimiter: Delimiter,
    /// Date format.
    pub date_format: DateFormat,
    /// How the interval start is written.
    pub time_column: TimeColumn,
    /// Line ending.
    pub line_ending: LineEnding,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Whether the optional Staff Hours column is present.
    pub staff_hours: bool,
}

impl Default for SummaryFormat {
    fn default() -> Self {
        Self {
            delimiter: Delimiter::Comma,
            date_format: DateFormat::MonthDayYear,
            time_column: TimeColumn::Hour,
            line_ending: LineEnding::CrLf,
            header: true,
            staff_hours: false,
        }
    }
}

/// Layout of a transaction log (one row per transaction).
///
/// Columns: Location ID, Date, Time (`HH:mm:ss`), Transaction ID, Items, Total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransactionLogFormat {
    /// Field delimiter.
    pub delimiter: Delimiter,
    /// Date format.
    pub date_format: DateFormat,
    /// Line ending.
    pub line_ending: LineEnding,
    /// Whether the first line names the columns.
    pub header: bool,
}

impl Default for TransactionLogFormat {
    fn default() -> Self {
        Self {
            delimiter: Delimiter::Comma,
            date_format: DateFormat::MonthDayYear,
            line_ending: LineEnding::CrLf,
            header: true,
        }
    }
}

/// A money amount as TMAS reads it: `.` decimals, two places, no thousands separator, leading minus.
/// Rounds half away from zero; zero (also a negative zero) is `0.00`.
pub fn format_amount(amount: Decimal) -> String {
    let rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if rounded.is_zero() {
        return "0.00".to_owned();
    }
    format!("{rounded:.2}")
}

/// A quantity (items): `.` decimals, no trailing zeros (`3`, `2.5`, `-1`), at most three places.
pub fn format_quantity(quantity: Decimal) -> String {
    let rounded = quantity
        .round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    if rounded.is_zero() {
        return "0".to_owned();
    }
    rounded.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts() {
        assert_eq!(format_amount(dec!(0)), "0.00");
        assert_eq!(format_amount(dec!(-0.001)), "0.00");
        assert_eq!(format_amount(dec!(1234567.5)), "1234567.50");
        assert_eq!(format_amount(dec!(-12.345)), "-12.35");
        assert_eq!(format_amount(dec!(12.344)), "12.34");
        assert_eq!(format_amount(dec!(7)), "7.00");
    }

    #[test]
    fn quantities() {
        assert_eq!(format_quantity(dec!(3.000)), "3");
        assert_eq!(format_quantity(dec!(2.50)), "2.5");
        assert_eq!(format_quantity(dec!(-1)), "-1");
        assert_eq!(format_quantity(dec!(0.0)), "0");
        assert_eq!(format_quantity(dec!(1000000)), "1000000");
    }

    #[test]
    fn dates_round_trip_in_every_format() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let expected = [
            "03/09/2026",
            "09/03/2026",
            "2026-03-09",
            "20260309",
            "09.03.2026",
            "03-09-2026",
        ];
        for (f, e) in DateFormat::ALL.iter().zip(expected) {
            assert_eq!(f.format(d), e);
            assert_eq!(f.parse(e), Some(d));
        }
        assert_eq!(DateFormat::MonthDayYear.parse("3/9/2026"), None);
    }
}
