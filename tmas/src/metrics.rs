//! Conversion metrics from traffic and sales: what TMAS computes, and what no POS gives on its own.
//!
//! Every ratio is `None` when its divisor is zero or unknown: "no value" is not the same as 0.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::bucket::SummaryData;
use crate::model::{SummaryKey, Totals};
use crate::traffic::TrafficCount;

/// Ratios for one location and interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConversionMetrics {
    /// Visitors counted, when traffic is known.
    pub visitors: Option<Decimal>,
    /// The sales figures.
    pub totals: Totals,
    /// Transactions / visitors, as a fraction (0.25 = 25%), 4 decimal places.
    pub conversion_rate: Option<Decimal>,
    /// Sales / transactions, 2 decimal places.
    pub average_sale: Option<Decimal>,
    /// Items / transactions, 2 decimal places.
    pub items_per_transaction: Option<Decimal>,
    /// Sales / staff hours, 2 decimal places.
    pub sales_per_staff_hour: Option<Decimal>,
}

fn ratio(numerator: Decimal, divisor: Option<Decimal>, places: u32) -> Option<Decimal> {
    let divisor = divisor.filter(|d| !d.is_zero())?;
    numerator
        .checked_div(divisor)
        .map(|r| r.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
}

impl ConversionMetrics {
    /// Computes the ratios for one interval.
    pub fn compute(visitors: Option<Decimal>, totals: Totals) -> Self {
        let transactions = Some(Decimal::from(totals.transactions));
        Self {
            visitors,
            totals,
            conversion_rate: ratio(Decimal::from(totals.transactions), visitors, 4),
            average_sale: ratio(totals.sales, transactions, 2),
            items_per_transaction: ratio(totals.items, transactions, 2),
            sales_per_staff_hour: ratio(totals.sales, totals.staff_hours, 2),
        }
    }
}

/// Joins traffic counts with sales totals by location and interval and computes the metrics for
/// every interval that has either.
///
/// Fetch traffic with `reqType=td` (one count per location) in the same interval as `sales`:
/// counts are summed per location and interval start (floored to the sales interval), so `tdd`
/// exports with separate in and out counters would be counted twice. Counts whose location id is
/// not a valid TMAS id are skipped.
pub fn conversion(
    traffic: &[TrafficCount],
    sales: &SummaryData,
) -> BTreeMap<SummaryKey, ConversionMetrics> {
    let interval = sales.interval();
    let mut visitors: BTreeMap<SummaryKey, Decimal> = BTreeMap::new();
    for c in traffic {
        let Some(location) = c.location() else {
            continue;
        };
        let start = interval.start_of(c.start.time());
        *visitors
            .entry((location, c.start.date(), start))
            .or_default() += c.visitors;
    }
    let mut out = BTreeMap::new();
    for row in sales.rows() {
        let key = row.key();
        let v = visitors.get(&key).copied();
        out.insert(key, ConversionMetrics::compute(v, row.totals));
    }
    for (key, v) in visitors {
        out.entry(key)
            .or_insert_with(|| ConversionMetrics::compute(Some(v), Totals::default()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Interval, IntervalStart, LocationId};
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    #[test]
    fn ratios_and_division_by_zero() {
        let t = Totals {
            sales: dec!(250.00),
            transactions: 8,
            items: dec!(13),
            staff_hours: Some(dec!(2.5)),
        };
        let m = ConversionMetrics::compute(Some(dec!(32)), t);
        assert_eq!(m.conversion_rate, Some(dec!(0.25)));
        assert_eq!(m.average_sale, Some(dec!(31.25)));
        assert_eq!(m.items_per_transaction, Some(dec!(1.63)));
        assert_eq!(m.sales_per_staff_hour, Some(dec!(100.00)));

        let none = ConversionMetrics::compute(Some(dec!(0)), Totals::default());
        assert_eq!(none.conversion_rate, None);
        assert_eq!(none.average_sale, None);
        assert_eq!(none.items_per_transaction, None);
        assert_eq!(none.sales_per_staff_hour, None);
        assert_eq!(ConversionMetrics::compute(None, t).conversion_rate, None);
        let no_staff = Totals {
            staff_hours: Some(dec!(0)),
            ..t
        };
        assert_eq!(
            ConversionMetrics::compute(None, no_staff).sales_per_staff_hour,
            None
        );
    }

    #[test]
    fn joins_traffic_and_sales() {
        let loc = LocationId::new("0007").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let mut sales = SummaryData::new(Interval::Hour);
        let h13 = IntervalStart::new(13, 0).unwrap();
        sales.add_local(
            &loc,
            day,
            h13,
            &Totals {
                sales: dec!(100),
                transactions: 4,
                items: dec!(6),
                staff_hours: None,
            },
        );
        let count = |h, v| TrafficCount {
            location_id: "0007".into(),
            counter: None,
            device: None,
            start: day.and_hms_opt(h, 0, 0).unwrap(),
            visitors: v,
            pass_by: None,
            traffic_in: None,
            traffic_out: None,
        };
        let m = conversion(&[count(13, dec!(20)), count(14, dec!(9))], &sales);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&(loc.clone(), day, h13)].conversion_rate, Some(dec!(0.2)));
        let quiet = m[&(loc, day, IntervalStart::new(14, 0).unwrap())];
        assert_eq!(quiet.conversion_rate, Some(dec!(0)));
        assert_eq!(quiet.average_sale, None);
    }
}
