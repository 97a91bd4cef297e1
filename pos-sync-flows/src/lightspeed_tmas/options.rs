//! Options of the Lightspeed -> TMAS flow, with their defaults, and its errors.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use lightspeed_x::{OutletId, UserId};
use tmas::{Interval, LocationIdStrategy, SummaryFormat, TimeColumn};

/// Most days a backfill may cover: TMAS's own re-import goes back at most 60 days.
pub const MAX_BACKFILL_DAYS: u32 = 60;

/// Which sales amount is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SalesAmount {
    /// Excluding tax (the default; what TMAS's own import sends).
    #[default]
    ExcludingTax,
    /// Including tax.
    IncludingTax,
}

/// Whether a return counts as a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnRule {
    /// A return is one transaction with negative sales and items (as [`tmas::SummaryData::add_sale`]
    /// counts a refund).
    #[default]
    CountAsTransaction,
    /// A return lowers sales and items but is not a transaction (so it does not raise conversion).
    NotATransaction,
}

/// How outlets become TMAS locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationMapping {
    /// The id strategy; default: the last 8 characters of the outlet GUID, as TMAS's X-Series guide
    /// prescribes. With [`LocationIdStrategy::Table`] the keys may be outlet ids or exact outlet
    /// names; an outlet missing from the table is reported by name and not sent.
    pub strategy: LocationIdStrategy,
    /// Outlets (ids or exact names) that are not sent, reported by name (TMAS's "not functional").
    pub disabled: BTreeSet<String>,
}

impl Default for LocationMapping {
    fn default() -> Self {
        Self {
            strategy: LocationIdStrategy::lightspeed_x(),
            disabled: BTreeSet::new(),
        }
    }
}

/// What the flow sends and how far back it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmasOptions {
    /// Interval of the rows: 60 (default), 30 or 15 minutes, in each outlet's local time.
    pub interval: Interval,
    /// Sales excluding (default) or including tax.
    pub sales_amount: SalesAmount,
    /// Whether returns count as transactions.
    pub returns: ReturnRule,
    /// Days before today sent on the first run of an outlet (default 3, at most [`MAX_BACKFILL_DAYS`]).
    pub backfill_days: u32,
    /// How far back each later run re-sends, so late edits land (default 3 hours). A summary file
    /// replaces whole days, so the window is widened to the local days it touches.
    pub rolling_window: Duration,
    /// How far back a changed clock-in re-sends its days (default 48 hours).
    pub shift_edit_window: Duration,
    /// Layout of the summary file (default: TMAS's, with the Staff Hours column).
    pub format: SummaryFormat,
    /// Outlets to TMAS locations.
    pub locations: LocationMapping,
    /// Clock-ins of these users count at this outlet (Lightspeed shifts do not name an outlet).
    pub staff_outlets: BTreeMap<UserId, OutletId>,
}

impl Default for TmasOptions {
    fn default() -> Self {
        Self {
            interval: Interval::Hour,
            sales_amount: SalesAmount::default(),
            returns: ReturnRule::default(),
            backfill_days: 3,
            rolling_window: Duration::from_secs(3 * 3600),
            shift_edit_window: Duration::from_secs(48 * 3600),
            format: SummaryFormat {
                staff_hours: true,
                ..SummaryFormat::default()
            },
            locations: LocationMapping::default(),
            staff_outlets: BTreeMap::new(),
        }
    }
}

impl TmasOptions {
    /// Sets the interval, switching the time column to `HH:mm` for 30- and 15-minute rows.
    pub fn with_interval(mut self, interval: Interval) -> Self {
        self.interval = interval;
        if interval != Interval::Hour && self.format.time_column == TimeColumn::Hour {
            self.format.time_column = TimeColumn::HourMinute;
        }
        self
    }

    /// Sets the backfill, refusing more than [`MAX_BACKFILL_DAYS`].
    pub fn with_backfill_days(mut self, days: u32) -> Result<Self, TmasFlowError> {
        self.backfill_days = days;
        self.validate()?;
        Ok(self)
    }

    /// Checks the options.
    pub fn validate(&self) -> Result<(), TmasFlowError> {
        if self.backfill_days > MAX_BACKFILL_DAYS {
            return Err(TmasFlowError::BackfillTooLong {
                days: self.backfill_days,
                max: MAX_BACKFILL_DAYS,
            });
        }
        if self.format.time_column == TimeColumn::Hour && self.interval != Interval::Hour {
            return Err(TmasFlowError::InvalidOptions(format!(
                "an hour column cannot name {}-minute rows; use TimeColumn::HourMinute",
                self.interval.minutes()
            )));
        }
        if self.rolling_window.is_zero() {
            return Err(TmasFlowError::InvalidOptions(
                "the rolling window is zero".into(),
            ));
        }
        Ok(())
    }
}

/// Why the flow could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TmasFlowError {
    /// The backfill is longer than TMAS re-imports.
    #[error("a backfill of {days} days is too long: TMAS re-imports at most {max} days")]
    BackfillTooLong {
        /// Days asked for.
        days: u32,
        /// The limit.
        max: u32,
    },
    /// The options contradict each other.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// Outlets map to invalid or shared TMAS ids (nothing was sent).
    #[error("TMAS location mapping: {0}")]
    Locations(#[from] tmas::LocationMapError),
    /// Reading Lightspeed failed.
    #[error("Lightspeed: {0}")]
    Lightspeed(#[from] lightspeed_x::Error),
    /// The summary file could not be built.
    #[error("TMAS file: {0}")]
    Write(#[from] tmas::WriteError),
}
