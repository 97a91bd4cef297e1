//! The counting rules: which sales count, for how much, and how clock-ins become staff hours.
//! Pure functions, so the rules are tested without any API.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lightspeed_x::{LineItemStatus, OutletId, Sale, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tmas::{DateRange, LocationId, SummaryData, Totals};

use super::options::{ReturnRule, SalesAmount, TmasOptions};

/// What a sale contributes to its interval, or `None` when it does not count.
///
/// The rules: only completed sales count (parked, open, on-account or layby sales still in
/// progress do not); voided and deleted sales never count (a sale voided after it was sent
/// disappears from its interval on the next re-send); a return is a sale with a negative amount
/// and negative items, at the time of the return, and counts as one transaction unless
/// [`ReturnRule::NotATransaction`]. Sales are tax exclusive unless [`SalesAmount::IncludingTax`].
/// Items are the sum of line quantities, voided lines left out.
pub fn sale_totals(sale: &Sale, options: &TmasOptions) -> Option<Totals> {
    if sale.deleted_at.is_some() || sale.is_voided() || !sale.is_closed() {
        return None;
    }
    let sales = match options.sales_amount {
        SalesAmount::ExcludingTax => sale.total_price,
        SalesAmount::IncludingTax => sale.total_including_tax(),
    };
    let items: Decimal = sale
        .line_items
        .iter()
        .filter(|l| l.status != Some(LineItemStatus::Voided))
        .map(|l| l.quantity)
        .sum();
    let transactions = match options.returns {
        ReturnRule::NotATransaction if sale.is_return() => 0,
        _ => 1,
    };
    Some(Totals {
        sales,
        transactions,
        items,
        staff_hours: None,
    })
}

/// The UTC instants `[start, end)` of a local date range in a zone.
pub(crate) fn utc_bounds(range: DateRange, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, _) = lightspeed_x::search::local_day_range(range.first(), tz).ok()?;
    let (_, end) = lightspeed_x::search::local_day_range(range.last(), tz).ok()?;
    Some((start, end))
}

/// The local date of an instant in a zone.
pub(crate) fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// A clock-in as the flow keeps it between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftSpan {
    /// The shift id.
    pub id: String,
    /// Who clocked in.
    pub user: Option<UserId>,
    /// Clock-in.
    pub time_in: DateTime<Utc>,
    /// Clock-out; `None` while the shift is open.
    pub time_out: Option<DateTime<Utc>>,
}

impl ShiftSpan {
    /// The worked time `[start, end)`: an open shift (or one clocked out in the future) runs up to `now`.
    pub fn worked(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = self.time_out.unwrap_or(now).min(now);
        (self.time_in, end.max(self.time_in))
    }
}

/// Adds a shift's worked time inside `[from, to)` to `data`, split across the intervals it covers
/// by the real time spent in each.
pub(crate) fn add_shift(
    data: &mut SummaryData,
    location: &LocationId,
    tz: Tz,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    shift: &ShiftSpan,
    now: DateTime<Utc>,
) {
    let (start, end) = shift.worked(now);
    let (start, end) = (start.max(from), end.min(to));
    if start < end {
        data.add_staff_time(location, &tz, start, end);
    }
}

/// Which outlet a clock-in belongs to. Lightspeed shifts name the user, not the outlet, so this
/// tries in order: the caller's user -> outlet table; the user's only restricted outlet; the
/// outlet where the user rang up the most sales during the shift (ties: lowest outlet id); the
/// retailer's only outlet. `None` when none of these decides (the flow reports the shift).
pub(crate) fn attribute_shift(
    shift: &ShiftSpan,
    table: &BTreeMap<UserId, OutletId>,
    restricted: &BTreeMap<UserId, Vec<OutletId>>,
    sales: &BTreeMap<OutletId, Vec<Sale>>,
    only_outlet: Option<&OutletId>,
    now: DateTime<Utc>,
) -> Option<OutletId> {
    let user = shift.user.as_ref();
    if let Some(o) = user.and_then(|u| table.get(u)) {
        return Some(o.clone());
    }
    if let Some([one]) = user.and_then(|u| restricted.get(u)).map(Vec::as_slice) {
        return Some(one.clone());
    }
    if let Some(u) = user {
        let (start, end) = shift.worked(now);
        let mut best: Option<(&OutletId, usize)> = None;
        for (outlet, list) in sales {
            let n = list
                .iter()
                .filter(|s| s.user_id.as_ref() == Some(u))
                .filter(|s| s.sale_date.is_some_and(|d| d >= start && d <= end))
                .count();
            if n > 0 && best.is_none_or(|(_, b)| n > b) {
                best = Some((outlet, n));
            }
        }
        if let Some((o, _)) = best {
            return Some(o.clone());
        }
    }
    only_outlet.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Amsterdam;
    use lightspeed_x::{LineItem, SaleState, SaleStatus};
    use rust_decimal_macros::dec;
    use tmas::{Interval, IntervalStart};

    fn sale(state: SaleState, price: Decimal, tax: Decimal, qty: &[Decimal]) -> Sale {
        Sale {
            state: Some(state.clone()),
            status: match state {
                SaleState::Closed => SaleStatus::Closed,
                SaleState::Voided => SaleStatus::Voided,
                _ => SaleStatus::Saved,
            },
            total_price: price,
            total_tax: tax,
            line_items: qty
                .iter()
                .map(|q| LineItem {
                    quantity: *q,
                    is_return: q.is_sign_negative(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn counting_rules() {
        let o = TmasOptions::default();
        let t = sale_totals(
            &sale(SaleState::Closed, dec!(10), dec!(1.5), &[dec!(2), dec!(1)]),
            &o,
        )
        .unwrap();
        assert_eq!((t.sales, t.transactions, t.items), (dec!(10), 1, dec!(3)));
        assert!(
            sale_totals(
                &sale(SaleState::Voided, dec!(10), dec!(1.5), &[dec!(1)]),
                &o
            )
            .is_none()
        );
        assert!(
            sale_totals(
                &sale(SaleState::Parked, dec!(10), dec!(1.5), &[dec!(1)]),
                &o
            )
            .is_none()
        );
        let mut deleted = sale(SaleState::Closed, dec!(10), dec!(0), &[dec!(1)]);
        deleted.deleted_at = Some(Utc::now());
        assert!(sale_totals(&deleted, &o).is_none());

        let ret = sale(SaleState::Closed, dec!(-4), dec!(-0.6), &[dec!(-1)]);
        let t = sale_totals(&ret, &o).unwrap();
        assert_eq!((t.sales, t.transactions, t.items), (dec!(-4), 1, dec!(-1)));
        let incl = TmasOptions {
            sales_amount: SalesAmount::IncludingTax,
            returns: ReturnRule::NotATransaction,
            ..TmasOptions::default()
        };
        let t = sale_totals(&ret, &incl).unwrap();
        assert_eq!((t.sales, t.transactions), (dec!(-4.6), 0));

        let mut voided_line = sale(SaleState::Closed, dec!(5), dec!(0), &[dec!(2), dec!(7)]);
        voided_line.line_items[1].status = Some(LineItemStatus::Voided);
        assert_eq!(sale_totals(&voided_line, &o).unwrap().items, dec!(2));
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn open_shift_counts_up_to_now_and_dst_split() {
        let loc = LocationId::new("00000001").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let range = DateRange::day(day);
        let bounds = utc_bounds(range, Amsterdam).unwrap();
        assert_eq!((bounds.1 - bounds.0).num_hours(), 25);
        let mut data = SummaryData::new(Interval::Hour);
        // 01:30 CEST .. 03:30 CET: 0.5 h in 01, 2 h in the doubled 02, 0.5 h in 03.
        let closed = ShiftSpan {
            id: "a".into(),
            user: None,
            time_in: utc("2026-10-24T23:30:00Z"),
            time_out: Some(utc("2026-10-25T02:30:00Z")),
        };
        // Open since 10:00 CET; now is 11:15 CET.
        let open = ShiftSpan {
            id: "b".into(),
            user: None,
            time_in: utc("2026-10-25T09:00:00Z"),
            time_out: None,
        };
        let now = utc("2026-10-25T10:15:00Z");
        add_shift(&mut data, &loc, Amsterdam, bounds, &closed, now);
        add_shift(&mut data, &loc, Amsterdam, bounds, &open, now);
        let h = |hour| {
            data.get(&loc, day, IntervalStart::new(hour, 0).unwrap())
                .and_then(|t| t.staff_hours)
        };
        assert_eq!(h(1), Some(dec!(0.5)));
        assert_eq!(h(2), Some(dec!(2)));
        assert_eq!(h(3), Some(dec!(0.5)));
        assert_eq!(h(10), Some(dec!(1)));
        assert_eq!(h(11), Some(dec!(0.25)));
        assert_eq!(h(12), None);
    }

    #[test]
    fn shift_clipped_to_range() {
        let loc = LocationId::new("00000001").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let bounds = utc_bounds(DateRange::day(day), Amsterdam).unwrap();
        assert_eq!((bounds.1 - bounds.0).num_hours(), 23);
        let mut data = SummaryData::new(Interval::HalfHour);
        // 22:00 CET on the 28th .. 01:00 CET on the 29th: only the hour on the 29th counts.
        let s = ShiftSpan {
            id: "a".into(),
            user: None,
            time_in: utc("2026-03-28T21:00:00Z"),
            time_out: Some(utc("2026-03-29T00:00:00Z")),
        };
        add_shift(
            &mut data,
            &loc,
            Amsterdam,
            bounds,
            &s,
            utc("2026-03-30T00:00:00Z"),
        );
        let total: Decimal = data.rows().filter_map(|r| r.totals.staff_hours).sum();
        assert_eq!(total, dec!(1));
        assert_eq!(data.len(), 2);
    }

    #[test]
    fn attribution_order() {
        let u = UserId::new("u1");
        let (a, b) = (OutletId::new("a"), OutletId::new("b"));
        let shift = ShiftSpan {
            id: "s".into(),
            user: Some(u.clone()),
            time_in: Amsterdam
                .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
            time_out: Some(
                Amsterdam
                    .with_ymd_and_hms(2026, 1, 5, 17, 0, 0)
                    .unwrap()
                    .with_timezone(&Utc),
            ),
        };
        let now = Utc::now();
        let none = BTreeMap::new();
        let sold = |at: DateTime<Utc>| Sale {
            user_id: Some(u.clone()),
            sale_date: Some(at),
            ..Default::default()
        };
        let mut sales = BTreeMap::new();
        sales.insert(
            a.clone(),
            vec![sold(shift.time_in + chrono::Duration::hours(1))],
        );
        sales.insert(
            b.clone(),
            vec![
                sold(shift.time_in + chrono::Duration::hours(2)),
                sold(shift.time_in + chrono::Duration::hours(3)),
            ],
        );
        assert_eq!(
            attribute_shift(&shift, &none, &BTreeMap::new(), &sales, None, now),
            Some(b.clone())
        );
        let restricted = BTreeMap::from([(u.clone(), vec![a.clone()])]);
        assert_eq!(
            attribute_shift(&shift, &none, &restricted, &sales, None, now),
            Some(a.clone())
        );
        let table = BTreeMap::from([(u.clone(), b.clone())]);
        assert_eq!(
            attribute_shift(&shift, &table, &restricted, &sales, None, now),
            Some(b.clone())
        );
        assert_eq!(
            attribute_shift(&shift, &none, &BTreeMap::new(), &BTreeMap::new(), None, now),
            None
        );
        assert_eq!(
            attribute_shift(
                &shift,
                &none,
                &BTreeMap::new(),
                &BTreeMap::new(),
                Some(&a),
                now
            ),
            Some(a)
        );
    }
}
