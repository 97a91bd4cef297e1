//! TMAS's data model: location ids, intervals, summary and transaction-log rows.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rust_decimal::Decimal;

use crate::error::LocationIdError;

/// Longest TMAS location id accepted. TMAS calls it the RefID, "usually a 1-4 digit store number";
/// its real maximum is not published, so this is a generous guard against pasting the wrong field.
pub const MAX_LOCATION_ID_LEN: usize = 32;

/// A TMAS location id (the RefID a store has in TMAS, e.g. `0007` or `5a8ce6a5`).
///
/// Only ASCII letters, digits, `-` and `_`, 1 to [`MAX_LOCATION_ID_LEN`] characters, so it can never
/// clash with a file delimiter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocationId(String);

impl LocationId {
    /// Validates and wraps a TMAS location id.
    pub fn new(id: impl Into<String>) -> Result<Self, LocationIdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(LocationIdError::Empty);
        }
        if id.chars().count() > MAX_LOCATION_ID_LEN {
            return Err(LocationIdError::TooLong {
                id,
                max: MAX_LOCATION_ID_LEN,
            });
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(LocationIdError::IllegalCharacter { id, character: c });
        }
        Ok(Self(id))
    }

    /// The id as written in files and sent to the traffic API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocationId({})", self.0)
    }
}

impl FromStr for LocationId {
    type Err = LocationIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for LocationId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Length of a summary interval: TMAS imports hourly, 30-minute or 15-minute rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Interval {
    /// 60 minutes (the norm).
    #[default]
    Hour,
    /// 30 minutes.
    HalfHour,
    /// 15 minutes.
    QuarterHour,
}

impl Interval {
    /// Length in minutes.
    pub fn minutes(self) -> u32 {
        match self {
            Interval::Hour => 60,
            Interval::HalfHour => 30,
            Interval::QuarterHour => 15,
        }
    }

    /// Builds an interval from its length in minutes (60, 30 or 15).
    pub fn from_minutes(minutes: u32) -> Option<Self> {
        match minutes {
            60 => Some(Interval::Hour),
            30 => Some(Interval::HalfHour),
            15 => Some(Interval::QuarterHour),
            _ => None,
        }
    }

    /// Number of intervals in a wall-clock day.
    pub fn per_day(self) -> u32 {
        24 * 60 / self.minutes()
    }

    /// The start of the interval that contains the local wall-clock time `time`.
    pub fn start_of(self, time: NaiveTime) -> IntervalStart {
        let minute_of_day = time.hour() * 60 + time.minute();
        IntervalStart {
            minute_of_day: (minute_of_day / self.minutes() * self.minutes()) as u16,
        }
    }

    /// Every interval start of a wall-clock day, from 00:00.
    pub fn starts(self) -> impl Iterator<Item = IntervalStart> {
        let step = self.minutes() as u16;
        (0..self.per_day() as u16).map(move |i| IntervalStart {
            minute_of_day: i * step,
        })
    }
}

/// The local wall-clock time at which an interval starts (`13:00` names 13:00-14:00 for hourly rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntervalStart {
    minute_of_day: u16,
}

impl IntervalStart {
    /// An interval start at `hour:minute`; `None` when out of range.
    pub fn new(hour: u32, minute: u32) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self {
            minute_of_day: (hour * 60 + minute) as u16,
        })
    }

    /// Hour of the day, 0-23.
    pub fn hour(self) -> u32 {
        u32::from(self.minute_of_day / 60)
    }

    /// Minute of the hour, 0-59.
    pub fn minute(self) -> u32 {
        u32::from(self.minute_of_day % 60)
    }

    /// As a wall-clock time.
    pub fn time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour(), self.minute(), 0).unwrap_or(NaiveTime::MIN)
    }

    /// Whether this is a valid start for `interval` (on its grid).
    pub fn fits(self, interval: Interval) -> bool {
        u32::from(self.minute_of_day) % interval.minutes() == 0
    }
}

impl fmt::Display for IntervalStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// An inclusive range of local calendar dates (the store's own dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl DateRange {
    /// `first..=last`; `None` when `last` is before `first`.
    pub fn new(first: NaiveDate, last: NaiveDate) -> Option<Self> {
        (first <= last).then_some(Self { first, last })
    }

    /// A single day.
    pub fn day(date: NaiveDate) -> Self {
        Self {
            first: date,
            last: date,
        }
    }

    /// First date (inclusive).
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// Last date (inclusive).
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// Whether `date` is inside the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    /// Number of days in the range.
    pub fn len_days(&self) -> u64 {
        (self.last - self.first).num_days().unsigned_abs() + 1
    }

    /// Every date of the range in order.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let first = self.first;
        (0..self.len_days()).filter_map(move |i| first.checked_add_days(Days::new(i)))
    }
}

/// Sales, transactions, items and staff hours of one location in one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Sales amount (excluding tax unless the caller chose otherwise); negative when refunds win.
    pub sales: Decimal,
    /// Number of transactions.
    pub transactions: i64,
    /// Number of items sold (a decimal, as POS quantities can be fractional).
    pub items: Decimal,
    /// Staff hours worked in the interval, when known.
    pub staff_hours: Option<Decimal>,
}

impl Totals {
    /// Adds `other` into `self` (staff hours add up when either side has them).
    pub fn add(&mut self, other: &Totals) {
        self.sales += other.sales;
        self.transactions += other.transactions;
        self.items += other.items;
        self.staff_hours = match (self.staff_hours, other.staff_hours) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
        };
    }

    /// Whether every figure is zero or absent.
    pub fn is_zero(&self) -> bool {
        self.sales.is_zero()
            && self.transactions == 0
            && self.items.is_zero()
            && self.staff_hours.is_none_or(|h| h.is_zero())
    }
}

/// One row of a TMAS summary file: a location's totals for one interval of a local date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// TMAS location id.
    pub location: LocationId,
    /// Local calendar date of the store.
    pub date: NaiveDate,
    /// Local start of the interval.
    pub start: IntervalStart,
    /// The figures.
    pub totals: Totals,
}

/// Sort key of a summary row: location, date, interval start.
pub type SummaryKey = (LocationId, NaiveDate, IntervalStart);

impl SummaryRow {
    /// The row's sort key.
    pub fn key(&self) -> SummaryKey {
        (self.location.clone(), self.date, self.start)
    }
}

/// A transaction id as the POS knows it (receipt or invoice number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId(String);

impl TransactionId {
    /// Wraps a transaction id; it must be non-empty and free of control characters and quotes.
    pub fn new(id: impl Into<String>) -> Result<Self, crate::error::WriteError> {
        let id = id.into();
        if id.is_empty() || id.chars().any(|c| c.is_control() || c == '"') {
            return Err(crate::error::WriteError::InvalidValue {
                field: "transaction id",
                value: id,
                reason: "must be non-empty, without quotes or control characters",
            });
        }
        Ok(Self(id))
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One row of a TMAS transaction log: one transaction with its item quantity and total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    /// TMAS location id.
    pub location: LocationId,
    /// Local date and time of the store at which the transaction happened.
    pub local_time: NaiveDateTime,
    /// POS transaction id.
    pub transaction: TransactionId,
    /// Items in the transaction (negative for a return).
    pub items: Decimal,
    /// Transaction total (negative for a refund).
    pub total: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_id_validation() {
        assert!(LocationId::new("0007").is_ok());
        assert!(LocationId::new("5a8ce6a5").is_ok());
        assert_eq!(LocationId::new(""), Err(LocationIdError::Empty));
        assert!(matches!(
            LocationId::new("a,b"),
            Err(LocationIdError::IllegalCharacter { character: ',', .. })
        ));
        assert!(matches!(
            LocationId::new("x".repeat(33)),
            Err(LocationIdError::TooLong { max: 32, .. })
        ));
        assert!(LocationId::new("é").is_err());
    }

    #[test]
    fn interval_grid() {
        assert_eq!(Interval::Hour.starts().count(), 24);
        assert_eq!(Interval::HalfHour.starts().count(), 48);
        assert_eq!(Interval::QuarterHour.starts().count(), 96);
        let t = NaiveTime::from_hms_opt(13, 44, 59).unwrap();
        assert_eq!(Interval::Hour.start_of(t).to_string(), "13:00");
        assert_eq!(Interval::HalfHour.start_of(t).to_string(), "13:30");
        assert_eq!(Interval::QuarterHour.start_of(t).to_string(), "13:30");
        assert!(IntervalStart::new(13, 30).unwrap().fits(Interval::HalfHour));
        assert!(!IntervalStart::new(13, 30).unwrap().fits(Interval::Hour));
    }

    #[test]
    fn date_range_days() {
        let r = DateRange::new(
            NaiveDate::from_ymd_opt(2026, 2, 27).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        )
        .unwrap();
        assert_eq!(r.len_days(), 4);
        assert_eq!(r.dates().count(), 4);
        assert!(DateRange::new(r.last(), r.first()).is_none());
    }
}
