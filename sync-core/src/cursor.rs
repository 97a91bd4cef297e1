//! Incremental reading: where the last run stopped.
//!
//! [`Watermark`] follows a last-modified time. It re-reads an overlap window (query with `>=`
//! from [`Watermark::since`]), drops what it already applied by id and modification time, and
//! keeps the exact newest time it applied: never rounded up, so rows with the same or a
//! slightly earlier late-committed timestamp are not lost. [`VersionCursor`] holds an API's
//! opaque version (Lightspeed's `after`).
//!
//! Both advance only when the caller says the records they cover were applied.
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use sync_core::cursor::Watermark;
//!
//! let t = |s| Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, s).unwrap();
//! let mut w = Watermark::new(Duration::from_secs(300));
//! let page = vec![("a".to_string(), t(1)), ("b".to_string(), t(2))];
//! let fresh = w.fresh(page.clone(), |r| (r.0.clone(), r.1));
//! assert_eq!(fresh.len(), 2);
//! // ... apply them, then:
//! w.advance(fresh.iter().map(|r| (r.0.clone(), r.1)));
//! assert_eq!(w.position(), Some(t(2)));
//! // The next read overlaps; the same versions are not applied twice.
//! assert!(w.fresh(page, |r| (r.0.clone(), r.1)).is_empty());
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A last-modified watermark with an overlap window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    at: Option<DateTime<Utc>>,
    overlap: Duration,
    seen: BTreeSet<(DateTime<Utc>, String)>,
}

impl Watermark {
    /// A watermark that has seen nothing yet, with this overlap window.
    pub fn new(overlap: Duration) -> Self {
        Self {
            at: None,
            overlap,
            seen: BTreeSet::new(),
        }
    }

    /// A watermark starting at a given time (for a first run that should not read everything).
    pub fn starting_at(at: DateTime<Utc>, overlap: Duration) -> Self {
        Self {
            at: Some(at),
            ..Self::new(overlap)
        }
    }

    /// The newest modification time applied, exactly as the source gave it.
    pub fn position(&self) -> Option<DateTime<Utc>> {
        self.at
    }

    /// The overlap window.
    pub fn overlap(&self) -> Duration {
        self.overlap
    }

    /// Where the next read starts (inclusive: filter with `>=`); `None` means from the beginning.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        let at = self.at?;
        let lag = TimeDelta::from_std(self.overlap).unwrap_or(TimeDelta::MAX);
        // An overlap reaching before the representable past means "from the beginning".
        at.checked_sub_signed(lag)
    }

    /// Whether this version of a record was not applied already.
    pub fn is_new(&self, id: &str, modified: DateTime<Utc>) -> bool {
        !self.seen.contains(&(modified, id.to_owned()))
    }

    /// Keeps the records not applied already (also dropping repeats within `records`), in order.
    pub fn fresh<T>(
        &self,
        records: Vec<T>,
        version: impl Fn(&T) -> (String, DateTime<Utc>),
    ) -> Vec<T> {
        let mut batch: BTreeSet<(DateTime<Utc>, String)> = BTreeSet::new();
        records
            .into_iter()
            .filter(|r| {
                let (id, m) = version(r);
                self.is_new(&id, m) && batch.insert((m, id))
            })
            .collect()
    }

    /// Records that these versions were applied (failed ones included when the caller keeps them
    /// for retry) and moves the watermark to the newest of them. Never moves backwards.
    pub fn advance(&mut self, applied: impl IntoIterator<Item = (String, DateTime<Utc>)>) {
        for (id, m) in applied {
            if self.at.is_none_or(|at| m > at) {
                self.at = Some(m);
            }
            self.seen.insert((m, id));
        }
        if let Some(since) = self.since() {
            // Only versions inside the window can be read again.
            self.seen = self.seen.split_off(&(since, String::new()));
        }
    }
}

/// An opaque version cursor, as APIs like Lightspeed X-Series give (`after` = the last `version.max`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCursor {
    after: Option<String>,
}

impl VersionCursor {
    /// A cursor at the beginning.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value to send as `after`, if any.
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// The version to read after, as a number (Lightspeed's `after`); `None` before the first
    /// run or when the stored value is not a number.
    pub fn after_number(&self) -> Option<i64> {
        self.after().and_then(|a| a.parse().ok())
    }

    /// Moves to a version once the records up to it were applied.
    ///
    /// When both versions are integers, a smaller one is ignored (a cursor never moves backwards).
    pub fn advance(&mut self, to: impl Into<String>) {
        let to = to.into();
        if let (Some(cur), Ok(new)) = (self.after.as_deref(), to.parse::<i128>())
            && cur.parse::<i128>().is_ok_and(|c| new < c)
        {
            return;
        }
        self.after = Some(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: u32, nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, s).unwrap() + TimeDelta::nanoseconds(nanos.into())
    }
    fn v(id: &str, at: DateTime<Utc>) -> (String, DateTime<Utc>) {
        (id.to_owned(), at)
    }

    #[test]
    fn same_instant_rows_are_not_lost() {
        let mut w = Watermark::new(Duration::from_secs(60));
        w.advance([v("a", t(5, 0))]);
        // "b" was committed late with the same timestamp: a `>` query would lose it.
        assert_eq!(w.since(), Some(t(5, 0) - TimeDelta::seconds(60)));
        let next = w.fresh(vec![v("a", t(5, 0)), v("b", t(5, 0))], Clone::clone);
        assert_eq!(next, vec![v("b", t(5, 0))]);
    }

    #[test]
    fn never_rounded_and_never_backwards() {
        let mut w = Watermark::new(Duration::ZERO);
        w.advance([v("a", t(5, 999_999_999))]);
        assert_eq!(w.position(), Some(t(5, 999_999_999)));
        w.advance([v("b", t(1, 0))]);
        assert_eq!(w.position(), Some(t(5, 999_999_999)));
        let json = serde_json::to_string(&w).unwrap();
        let back: Watermark = serde_json::from_str(&json).unwrap();
        assert_eq!(back.position(), w.position());
    }

    #[test]
    fn modified_again_is_new_and_window_is_pruned() {
        let mut w = Watermark::new(Duration::from_secs(10));
        w.advance([v("a", t(0, 0)), v("b", t(1, 0))]);
        assert!(!w.is_new("a", t(0, 0)));
        assert!(w.is_new("a", t(3, 0)));
        w.advance([v("a", t(30, 0))]);
        // Versions older than the window are forgotten.
        assert!(w.is_new("b", t(1, 0)));
        assert!(!w.is_new("a", t(30, 0)));
        assert_eq!(w.seen.len(), 1);
    }

    #[test]
    fn repeats_within_a_read_are_dropped() {
        let w = Watermark::new(Duration::from_secs(10));
        let r = w.fresh(
            vec![v("a", t(1, 0)), v("a", t(1, 0)), v("a", t(2, 0))],
            Clone::clone,
        );
        assert_eq!(r.len(), 2);
        assert_eq!(w.since(), None);
    }

    proptest::proptest! {
        /// Records committed late (by at most the overlap) are read exactly once.
        #[test]
        fn late_commits_are_read_exactly_once(
            versions in proptest::collection::btree_set((0u8..6, 0i64..300), 0..40),
            lags in proptest::collection::vec(0i64..=60, 40),
            every in 1i64..40,
        ) {
            let base = t(0, 0);
            let at = |s: i64| base + TimeDelta::seconds(s);
            // (id, modified, visible from)
            let source: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = versions
                .iter()
                .zip(&lags)
                .map(|(&(id, m), &lag)| (format!("r{id}"), at(m), at(m + lag)))
                .collect();
            let mut w = Watermark::new(Duration::from_secs(60));
            let mut processed = Vec::new();
            let mut now = 0;
            while now <= 400 {
                let since = w.since();
                let read: Vec<(String, DateTime<Utc>)> = source
                    .iter()
                    .filter(|(_, m, vis)| *vis <= at(now) && since.is_none_or(|s| *m >= s))
                    .map(|(id, m, _)| (id.clone(), *m))
                    .collect();
                let fresh = w.fresh(read, Clone::clone);
                processed.extend(fresh.iter().cloned());
                w.advance(fresh);
                // A saved and reloaded cursor behaves the same.
                w = serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
                now += every;
            }
            processed.sort();
            let mut expected: Vec<(String, DateTime<Utc>)> =
                source.iter().map(|(id, m, _)| (id.clone(), *m)).collect();
            expected.sort();
            proptest::prop_assert_eq!(processed, expected);
        }
    }

    #[test]
    fn version_cursor() {
        let mut c = VersionCursor::new();
        assert_eq!(c.after(), None);
        assert_eq!(c.after_number(), None);
        c.advance("120");
        c.advance("99");
        assert_eq!(c.after(), Some("120"));
        c.advance("121");
        assert_eq!(c.after(), Some("121"));
        assert_eq!(c.after_number(), Some(121));
        c.advance("opaque-token");
        assert_eq!(c.after(), Some("opaque-token"));
        assert_eq!(c.after_number(), None);
    }
}
