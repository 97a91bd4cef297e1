//! Turning timestamped POS events (UTC instants) into per-location, per-interval totals in each
//! store's local time, correct across daylight-saving changes.
//!
//! Rows are keyed by local date and wall-clock interval, as TMAS keys them. On a 23-hour day the
//! skipped hour simply has no events (the writer still writes its zero row, keeping every day's
//! grid the same); on a 25-hour day both occurrences of the repeated hour land in the one row
//! TMAS has for it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::model::{
    Interval, IntervalStart, LocationId, SummaryKey, SummaryRow, Totals, TransactionId,
    TransactionRow,
};

/// Per-location, per-interval totals, ready for [`crate::writer::write_summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryData {
    interval: Interval,
    map: BTreeMap<SummaryKey, Totals>,
}

impl SummaryData {
    /// Empty totals for `interval`.
    pub fn new(interval: Interval) -> Self {
        Self {
            interval,
            map: BTreeMap::new(),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// Adds totals to a local date and wall-clock time (floored to the interval start).
    pub fn add_local(
        &mut self,
        location: &LocationId,
        date: NaiveDate,
        start: IntervalStart,
        totals: &Totals,
    ) {
        let start = self.interval.start_of(start.time());
        self.map
            .entry((location.clone(), date, start))
            .or_default()
            .add(totals);
    }

    /// Adds totals that happened at the UTC instant `at` in a store whose time zone is `tz`.
    pub fn add_at<Z: TimeZone>(
        &mut self,
        location: &LocationId,
        tz: &Z,
        at: DateTime<Utc>,
        totals: &Totals,
    ) {
        let local = at.with_timezone(tz).naive_local();
        let start = self.interval.start_of(local.time());
        self.map
            .entry((location.clone(), local.date(), start))
            .or_default()
            .add(totals);
    }

    /// Adds one sale (one transaction) at `at`: its amount and item count. A refund is a sale with
    /// negative amount and items.
    pub fn add_sale<Z: TimeZone>(
        &mut self,
        location: &LocationId,
        tz: &Z,
        at: DateTime<Utc>,
        sales: Decimal,
        items: Decimal,
    ) {
        self.add_at(
            location,
            tz,
            at,
            &Totals {
                sales,
                transactions: 1,
                items,
                staff_hours: None,
            },
        );
    }

    /// Adds a staff member's worked time `[start, end)` (a clock-in), split over the intervals it
    /// covers in local time by the real time spent in each. Does nothing when `end <= start`.
    pub fn add_staff_time<Z: TimeZone>(
        &mut self,
        location: &LocationId,
        tz: &Z,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) {
        let interval_len = TimeDelta::minutes(i64::from(self.interval.minutes()));
        let mut t = start;
        while t < end {
            let local = t.with_timezone(tz).naive_local();
            let slot = self.interval.start_of(local.time());
            let elapsed = local.time().signed_duration_since(slot.time());
            let remaining = interval_len - elapsed;
            // Time-zone changes fall on interval boundaries of local time, so `remaining` never
            // crosses one; `max` guards the loop against a zone that breaks that rule.
            let next = (t + remaining.max(TimeDelta::seconds(1))).min(end);
            let millis = (next - t).num_milliseconds();
            let hours = Decimal::from(millis) / Decimal::from(3_600_000);
            self.map
                .entry((location.clone(), local.date(), slot))
                .or_default()
                .add(&Totals {
                    staff_hours: Some(hours),
                    ..Totals::default()
                });
            t = next;
        }
    }

    /// The totals of one location, local date and interval.
    pub fn get(
        &self,
        location: &LocationId,
        date: NaiveDate,
        start: IntervalStart,
    ) -> Option<&Totals> {
        self.map.get(&(location.clone(), date, start))
    }

    /// Every row with data, sorted by location, date and interval start (the order the summary
    /// writer needs).
    pub fn rows(&self) -> impl Iterator<Item = SummaryRow> + Send + '_ {
        self.map
            .iter()
            .map(|((location, date, start), totals)| SummaryRow {
                location: location.clone(),
                date: *date,
                start: *start,
                totals: *totals,
            })
    }

    /// Locations that have data.
    pub fn locations(&self) -> BTreeSet<LocationId> {
        self.map.keys().map(|(l, _, _)| l.clone()).collect()
    }

    /// Number of rows with data.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is no data.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A transaction-log row for a transaction at the UTC instant `at` in a store whose time zone is `tz`.
pub fn transaction_at<Z: TimeZone>(
    location: LocationId,
    tz: &Z,
    at: DateTime<Utc>,
    transaction: TransactionId,
    items: Decimal,
    total: Decimal,
) -> TransactionRow {
    TransactionRow {
        location,
        local_time: at.with_timezone(tz).naive_local(),
        transaction,
        items,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Amsterdam;
    use rust_decimal_macros::dec;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn loc() -> LocationId {
        LocationId::new("0001").unwrap()
    }

    fn h(hour: u32) -> IntervalStart {
        IntervalStart::new(hour, 0).unwrap()
    }

    #[test]
    fn spring_forward_day_has_no_hour_two() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let mut d = SummaryData::new(Interval::Hour);
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        d.add_sale(
            &loc(),
            &Amsterdam,
            utc("2026-03-29T00:59:59Z"),
            dec!(10),
            dec!(1),
        ); // 01:59 CET
        d.add_sale(
            &loc(),
            &Amsterdam,
            utc("2026-03-29T01:00:00Z"),
            dec!(20),
            dec!(2),
        ); // 03:00 CEST
        assert_eq!(d.get(&loc(), day, h(1)).unwrap().sales, dec!(10));
        assert!(d.get(&loc(), day, h(2)).is_none());
        assert_eq!(d.get(&loc(), day, h(3)).unwrap().sales, dec!(20));
    }

    #[test]
    fn fall_back_day_sums_both_hour_twos() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:xx happens twice.
        let mut d = SummaryData::new(Interval::Hour);
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        d.add_sale(
            &loc(),
            &Amsterdam,
            utc("2026-10-25T00:30:00Z"),
            dec!(10),
            dec!(1),
        ); // 02:30 CEST
        d.add_sale(
            &loc(),
            &Amsterdam,
            utc("2026-10-25T01:30:00Z"),
            dec!(5.5),
            dec!(2),
        ); // 02:30 CET
        let t = d.get(&loc(), day, h(2)).unwrap();
        assert_eq!((t.sales, t.transactions, t.items), (dec!(15.5), 2, dec!(3)));
    }

    #[test]
    fn staff_time_split_across_intervals_and_dst() {
        let mut d = SummaryData::new(Interval::Hour);
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        // 01:30 CEST .. 03:30 CET is three real hours: 0.5 in hour 01, 2 in hour 02 (twice), 0.5 in 03.
        d.add_staff_time(
            &loc(),
            &Amsterdam,
            utc("2026-10-24T23:30:00Z"),
            utc("2026-10-25T02:30:00Z"),
        );
        assert_eq!(
            d.get(&loc(), day, h(1)).unwrap().staff_hours,
            Some(dec!(0.5))
        );
        assert_eq!(d.get(&loc(), day, h(2)).unwrap().staff_hours, Some(dec!(2)));
        assert_eq!(
            d.get(&loc(), day, h(3)).unwrap().staff_hours,
            Some(dec!(0.5))
        );
        let total: Decimal = d.rows().filter_map(|r| r.totals.staff_hours).sum();
        assert_eq!(total, dec!(3));
    }

    #[test]
    fn quarter_hours_and_spring_forward_staff() {
        let mut d = SummaryData::new(Interval::QuarterHour);
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        // 01:50 CET .. 03:10 CEST is 20 real minutes.
        d.add_staff_time(
            &loc(),
            &Amsterdam,
            utc("2026-03-29T00:50:00Z"),
            utc("2026-03-29T01:10:00Z"),
        );
        let total: Decimal = d.rows().filter_map(|r| r.totals.staff_hours).sum();
        assert_eq!(total.round_dp(6), dec!(0.333333));
        assert!(
            d.get(&loc(), day, IntervalStart::new(1, 45).unwrap())
                .is_some()
        );
        assert!(
            d.get(&loc(), day, IntervalStart::new(3, 0).unwrap())
                .is_some()
        );
        assert_eq!(d.len(), 2);
    }
}
