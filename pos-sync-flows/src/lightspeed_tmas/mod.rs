//! Lightspeed X-Series -> TMAS: sales, transactions, items and staff hours per outlet and interval,
//! in each outlet's own time zone, written as a TMAS summary file and delivered.
//!
//! Each run, per mapped outlet:
//!
//! - **which days**: on the outlet's first run the last [`TmasOptions::backfill_days`] days plus
//!   today (at most [`MAX_BACKFILL_DAYS`]); later runs re-send the local days touched by the
//!   [rolling window](TmasOptions::rolling_window) (default 3 hours, from the previous run on, so a
//!   missed run is caught up), plus the days of clock-ins changed within the
//!   [shift edit window](TmasOptions::shift_edit_window) (48 hours). A summary file replaces whole
//!   days in TMAS, so every re-sent day is recomputed in full and late edits land.
//! - **reads**: the outlets, the shifts changed since the last run (the version cursor; clock-ins
//!   of recent days are kept in the flow's state), and the closed sales of the outlets' date ranges
//!   (offset paging): one search across the outlets when their ranges line up (the same days,
//!   shifted by time zones), else one per outlet. Users are read only when a clock-in cannot be placed otherwise.
//! - **counts** by the rules of [`sale_totals`]: closed sales only; voided, deleted and parked
//!   ones never; returns negative (one transaction unless [`ReturnRule::NotATransaction`]); tax
//!   excluded unless [`SalesAmount::IncludingTax`]; items are summed quantities. Staff hours come
//!   from clock-ins split across the intervals they cover; open shifts count up to now. Shifts
//!   do not name an outlet: see [`TmasOptions::staff_outlets`] for how they are placed.
//! - **writes** one summary file per outlet (TMAS location id by [`LocationMapping`], by default
//!   the last 8 characters of the outlet GUID) and delivers it through a [`tmas::delivery::Deliver`]
//!   (a directory or an FTP server). Outlets whose mapping is missing or disabled are reported by
//!   name (skipped); invalid or shared TMAS ids stop the run before anything is sent.
//!
//! The state (per-outlet watermark, shift cursor, recent clock-ins) is the flow's cursor in the
//! [`StateStore`](sync_core::state::StateStore); it moves only when the run succeeds, and per outlet
//! only when its file was delivered. A dry run computes the rows and sends nothing.
//! [`LightspeedToTmas::last_run`] has the rows and counts of the latest run per outlet; the
//! activity log has one entry per outlet file.
//!
//! ```no_run
//! # async fn demo(client: lightspeed_x::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions};
//! use sync_core::run::Runner;
//! use sync_core::state::SqliteStore;
//! use tmas::delivery::{Delivery, DirectoryTarget};
//!
//! let flow = LightspeedToTmas::new(client, Delivery::Directory(DirectoryTarget::new("outbox")))
//!     .with_options(TmasOptions::default().with_backfill_days(7)?)?;
//! let runner = Runner::new(Arc::new(SqliteStore::open("sync.db").await?));
//! let report = runner.run_once(&flow, "my-store").await?;
//! println!("{report}");
//! for outlet in flow.last_run().map(|r| r.outlets).unwrap_or_default() {
//!     println!("{}: {} rows", outlet.name, outlet.rows);
//! }
//! # Ok(()) }
//! ```

mod aggregate;
mod options;

pub use aggregate::{ShiftSpan, sale_totals};
pub use options::{
    LocationMapping, MAX_BACKFILL_DAYS, ReturnRule, SalesAmount, TmasFlowError, TmasOptions,
};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use futures::TryStreamExt;
use lightspeed_x::{Outlet, OutletId, Sale, SaleState, UserId, Version};
use serde::{Deserialize, Serialize};
use tmas::delivery::{Deliver, SummaryFile, file_name};
use tmas::{
    DateRange, LocationId, LocationIdError, LocationIdStrategy, LocationMap, LocationMapError,
    LocationProblem, SourceLocation, SummaryData, SummarySpec,
};

use sync_core::run::{Flow, FlowError, RunContext};
use sync_core::upsert::{Outcome, RecordOutcome};

use aggregate::{add_shift, attribute_shift, local_date, utc_bounds};

/// The flow's name (part of its state scope).
pub const FLOW_NAME: &str = "lightspeed-to-tmas";

/// A source of the current time (tests and replays pin it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The flow's state between runs, stored as its cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TmasCursor {
    /// Per outlet id: the time of the last run whose file was delivered.
    #[serde(default)]
    pub outlets: BTreeMap<String, DateTime<Utc>>,
    /// The shift version cursor.
    #[serde(default)]
    pub shift_version: i64,
    /// Clock-ins of recent days (and open ones), so a re-sent day has every shift without
    /// re-reading them all.
    #[serde(default)]
    pub shifts: Vec<ShiftSpan>,
}

/// What one run did for one outlet.
#[derive(Debug, Clone, PartialEq)]
pub struct OutletRun {
    /// The outlet.
    pub outlet_id: OutletId,
    /// Its name.
    pub name: String,
    /// Its TMAS location id.
    pub location: LocationId,
    /// Its time zone.
    pub time_zone: Tz,
    /// The local dates sent (or computed, in a dry run).
    pub dates: DateRange,
    /// Rows in the file (every interval of every date).
    pub rows: u64,
    /// Rows with data (the others are zero rows).
    pub rows_with_data: usize,
    /// Sales read from Lightspeed.
    pub sales_read: usize,
    /// Sales counted by the rules.
    pub sales_counted: usize,
    /// The delivered file's name (`None` in a dry run or when delivery failed).
    pub file: Option<String>,
    /// The computed totals, by date and interval.
    pub data: SummaryData,
}

/// An outlet that was not sent, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedOutlet {
    /// The outlet.
    pub outlet_id: OutletId,
    /// Its name.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// What the latest run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TmasRunSummary {
    /// The run's time.
    pub at: DateTime<Utc>,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Per sent outlet.
    pub outlets: Vec<OutletRun>,
    /// Outlets not sent (mapping missing or disabled, no time zone).
    pub skipped: Vec<SkippedOutlet>,
    /// Clock-ins in the sent days that could not be placed at an outlet.
    pub unplaced_shifts: Vec<String>,
}

impl TmasRunSummary {
    /// The run of one outlet, by name.
    pub fn outlet(&self, name: &str) -> Option<&OutletRun> {
        self.outlets.iter().find(|o| o.name == name)
    }
}

/// The Lightspeed -> TMAS flow.
pub struct LightspeedToTmas {
    client: lightspeed_x::Client,
    delivery: Arc<dyn Deliver>,
    options: TmasOptions,
    clock: Clock,
    last: Mutex<Option<TmasRunSummary>>,
}

impl std::fmt::Debug for LightspeedToTmas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightspeedToTmas")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Outlets with their TMAS ids, and the outlets not sent.
type MappedOutlets = (Vec<(Outlet, LocationId)>, Vec<SkippedOutlet>);

struct Plan {
    outlet: Outlet,
    tz: Tz,
    location: LocationId,
    first_run: bool,
    from: NaiveDate,
    today: NaiveDate,
}

impl LightspeedToTmas {
    /// A flow reading `client` and delivering to `delivery`, with the default options.
    pub fn new(client: lightspeed_x::Client, delivery: impl Deliver + 'static) -> Self {
        Self {
            client,
            delivery: Arc::new(delivery),
            options: TmasOptions::default(),
            clock: Arc::new(Utc::now),
            last: Mutex::new(None),
        }
    }

    /// Sets the options (checked now, and again at each run).
    pub fn with_options(mut self, options: TmasOptions) -> Result<Self, TmasFlowError> {
        options.validate()?;
        self.options = options;
        Ok(self)
    }

    /// Pins the clock (for tests and replays).
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The options.
    pub fn options(&self) -> &TmasOptions {
        &self.options
    }

    /// What the latest run (or dry run) did per outlet.
    pub fn last_run(&self) -> Option<TmasRunSummary> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Maps live outlets to TMAS ids: skipped outlets are returned, invalid or shared ids are an error.
    fn map_outlets(&self, outlets: &[Outlet]) -> Result<MappedOutlets, TmasFlowError> {
        let mapping = &self.options.locations;
        let mut mapped = Vec::new();
        let mut skipped = Vec::new();
        let mut problems = Vec::new();
        for o in outlets {
            let skip = |reason: String| SkippedOutlet {
                outlet_id: o.id.clone(),
                name: o.name.clone(),
                reason,
            };
            if mapping.disabled.contains(o.id.as_str()) || mapping.disabled.contains(&o.name) {
                skipped.push(skip(format!("outlet \"{}\" is disabled for TMAS", o.name)));
                continue;
            }
            let result = match mapping.strategy.map(o.id.as_str()) {
                Err(LocationIdError::NotInTable { .. }) => mapping.strategy.map(&o.name),
                other => other,
            };
            match result {
                Ok(id) => mapped.push((o.clone(), id)),
                Err(LocationIdError::NotInTable { .. }) => skipped.push(skip(format!(
                    "outlet \"{}\" has no TMAS location mapping",
                    o.name
                ))),
                Err(error) => problems.push(LocationProblem::Invalid {
                    source: SourceLocation::new(o.id.as_str(), o.name.as_str()),
                    error,
                }),
            }
        }
        // Two outlets on one TMAS id is refused, naming both.
        let table = LocationIdStrategy::Table(
            mapped
                .iter()
                .map(|(o, id)| (o.id.to_string(), id.to_string()))
                .collect(),
        );
        let sources = mapped
            .iter()
            .map(|(o, _)| SourceLocation::new(o.id.as_str(), o.name.as_str()));
        if let Err(e) = LocationMap::build(&table, sources) {
            problems.extend(e.problems);
        }
        if !problems.is_empty() {
            return Err(LocationMapError { problems }.into());
        }
        Ok((mapped, skipped))
    }

    /// Closed sales in `[from, to)`, of one outlet or (`None`) of every outlet.
    async fn read_sales(
        &self,
        outlet: Option<&OutletId>,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<Sale>, TmasFlowError> {
        // Oldest first: sales made while paging land on the last page instead of shifting the
        // offsets of pages not read yet; a sale seen twice is counted once.
        let mut search = self.client.sales().search();
        if let Some(outlet) = outlet {
            search = search.outlet(outlet);
        }
        let sales: Vec<Sale> = search
            .date_from(from)
            .date_to(to)
            .state(SaleState::Closed)
            .order_by("sale_date")
            .ascending(true)
            .stream()
            .try_collect()
            .await?;
        let mut seen = BTreeSet::new();
        Ok(sales
            .into_iter()
            .filter(|s| seen.insert(s.id.clone()))
            .collect())
    }
}

fn days_before(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(n))).unwrap_or(day)
}

fn span_of(s: &lightspeed_x::Shift) -> Option<ShiftSpan> {
    Some(ShiftSpan {
        id: s.id.to_string(),
        user: s.user_id.clone(),
        time_in: s.time_in?,
        time_out: s.time_out,
    })
}

#[async_trait]
impl Flow for LightspeedToTmas {
    fn name(&self) -> &str {
        FLOW_NAME
    }

    fn requests_made(&self) -> Option<u64> {
        Some(self.client.stats().requests)
    }

    async fn run(&self, ctx: &mut RunContext) -> Result<(), FlowError> {
        self.options.validate()?;
        let opts = &self.options;
        let now = (self.clock)();
        let dry_run = ctx.is_dry_run();
        let mut cursor: TmasCursor = ctx.cursor().await?.unwrap_or_default();
        let rolling = TimeDelta::from_std(opts.rolling_window).unwrap_or(TimeDelta::hours(3));
        let edit_window =
            TimeDelta::from_std(opts.shift_edit_window).unwrap_or(TimeDelta::hours(48));

        // Outlets and their TMAS ids; nothing is sent when a mapping is invalid or shared.
        let outlets: Vec<Outlet> = self
            .client
            .outlets()
            .list()
            .all()
            .await
            .map_err(TmasFlowError::from)?
            .into_iter()
            .filter(|o| o.deleted_at.is_none())
            .collect();
        let only_outlet = match outlets.as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        };
        let (mapped, mut skipped) = self.map_outlets(&outlets)?;
        let mut retailer_tz = None;
        let mut plans = Vec::new();
        for (outlet, location) in mapped {
            let tz = match outlet.time_zone {
                Some(tz) => tz,
                None => {
                    if retailer_tz.is_none() {
                        retailer_tz = Some(
                            self.client
                                .retailer()
                                .await
                                .map_err(TmasFlowError::from)?
                                .timezone,
                        );
                    }
                    match retailer_tz.flatten() {
                        Some(tz) => tz,
                        None => {
                            skipped.push(SkippedOutlet {
                                outlet_id: outlet.id.clone(),
                                name: outlet.name.clone(),
                                reason: format!("outlet \"{}\" has no time zone", outlet.name),
                            });
                            continue;
                        }
                    }
                }
            };
            let today = local_date(now, tz);
            let last = cursor.outlets.get(outlet.id.as_str()).copied();
            let from = match last {
                None => days_before(today, opts.backfill_days),
                Some(last) => local_date(last.min(now) - rolling, tz),
            };
            plans.push(Plan {
                outlet,
                tz,
                location,
                first_run: last.is_none(),
                from: from.max(days_before(today, MAX_BACKFILL_DAYS)).min(today),
                today,
            });
        }

        // Clock-ins changed since the last run. All of them on the first run, and when an outlet
        // seen for the first time backfills further back than the clock-ins kept in the state.
        let previous = cursor.shift_version;
        let incremental = previous > 0;
        let kept_from = now - edit_window - rolling - TimeDelta::days(2);
        let full = !incremental
            || plans.iter().any(|p| {
                p.first_run
                    && utc_bounds(DateRange::day(p.from), p.tz).is_none_or(|b| b.0 < kept_from)
            });
        let fetched: Vec<lightspeed_x::Shift> = self
            .client
            .shifts()
            .list()
            .after(Version(if full { 0 } else { previous }))
            .all()
            .await
            .map_err(TmasFlowError::from)?;
        let mut shifts: BTreeMap<String, ShiftSpan> = std::mem::take(&mut cursor.shifts)
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let mut changed: Vec<ShiftSpan> = Vec::new();
        for s in &fetched {
            let version = s.version.map(|v| v.0).unwrap_or_default();
            cursor.shift_version = cursor.shift_version.max(version);
            let Some(span) = span_of(s) else { continue };
            let old = shifts.insert(span.id.clone(), span.clone());
            if incremental && version > previous {
                changed.extend(old);
                changed.push(span);
            }
        }
        // Days of recently changed clock-ins are re-sent at every outlet they may belong to.
        let edit_from = now - edit_window;
        for s in &changed {
            let (start, end) = s.worked(now);
            if end < edit_from {
                continue;
            }
            let known = s.user.as_ref().and_then(|u| opts.staff_outlets.get(u));
            for p in plans.iter_mut().filter(|p| !p.first_run) {
                if known.is_some_and(|o| o != &p.outlet.id) {
                    continue;
                }
                let day = local_date(start.max(edit_from), p.tz);
                p.from = p.from.min(day);
            }
        }

        // Each outlet's date range, in UTC.
        let mut ranges = Vec::new();
        for p in &plans {
            let range = DateRange::new(p.from, p.today).unwrap_or(DateRange::day(p.today));
            let bounds = utc_bounds(range, p.tz).ok_or_else(|| {
                TmasFlowError::InvalidOptions(format!("no local days {range:?} in {}", p.tz))
            })?;
            ranges.push((range, bounds));
        }
        // One sales search across the outlets when their ranges line up (the usual case: the
        // same days, shifted by time zones), so the extra sales read are at most a day's per
        // outlet; otherwise one search per outlet for its own range.
        let mut sales: BTreeMap<OutletId, Vec<Sale>> = BTreeMap::new();
        let union = ranges
            .iter()
            .map(|(_, b)| *b)
            .reduce(|(a0, b0), (a1, b1)| (a0.min(a1), b0.max(b1)));
        let shortest = ranges.iter().map(|(_, (a, b))| *b - *a).min();
        match (union, shortest) {
            (Some(union), Some(shortest))
                if plans.len() > 1 && union.1 - union.0 <= shortest + TimeDelta::days(1) =>
            {
                let wanted: BTreeSet<&OutletId> = plans.iter().map(|p| &p.outlet.id).collect();
                for sale in self.read_sales(None, union).await? {
                    if let Some(outlet) = sale.outlet_id.clone()
                        && wanted.contains(&outlet)
                    {
                        sales.entry(outlet).or_default().push(sale);
                    }
                }
            }
            _ => {
                for (p, (_, bounds)) in plans.iter().zip(&ranges) {
                    sales.insert(
                        p.outlet.id.clone(),
                        self.read_sales(Some(&p.outlet.id), *bounds).await?,
                    );
                }
            }
        }

        // Users only when some clock-in cannot be placed by the table or the single outlet.
        let in_any_range = |s: &ShiftSpan| {
            let (start, end) = s.worked(now);
            ranges.iter().any(|(_, (a, b))| start < *b && end > *a)
        };
        let needs_users = only_outlet.is_none()
            && shifts.values().any(|s| {
                in_any_range(s)
                    && s.user
                        .as_ref()
                        .is_none_or(|u| !opts.staff_outlets.contains_key(u))
            });
        let mut restricted: BTreeMap<UserId, Vec<OutletId>> = BTreeMap::new();
        if needs_users {
            let users = self
                .client
                .users()
                .list()
                .all()
                .await
                .map_err(TmasFlowError::from)?;
            for u in users {
                let mut ids = u.restricted_outlet_ids.clone();
                if ids.is_empty()
                    && let Some(one) = u.restricted_outlet_id.clone()
                {
                    ids.push(one);
                }
                restricted.insert(u.id, ids);
            }
        }
        let mut placed: BTreeMap<OutletId, Vec<&ShiftSpan>> = BTreeMap::new();
        let mut unplaced_shifts = Vec::new();
        for s in shifts.values().filter(|s| in_any_range(s)) {
            match attribute_shift(
                s,
                &opts.staff_outlets,
                &restricted,
                &sales,
                only_outlet.as_ref(),
                now,
            ) {
                Some(o) => placed.entry(o).or_default().push(s),
                None => unplaced_shifts.push(s.id.clone()),
            }
        }

        // Totals, files and deliveries.
        let mut outcomes = Vec::new();
        for s in &skipped {
            outcomes.push(
                RecordOutcome::new(s.outlet_id.as_str(), Outcome::Skipped)
                    .with_reason(s.reason.clone()),
            );
        }
        for id in &unplaced_shifts {
            outcomes.push(
                RecordOutcome::new(format!("shift:{id}"), Outcome::Skipped).with_reason(
                    "clock-in not counted: no outlet could be determined for it; set staff_outlets",
                ),
            );
        }
        let mut runs = Vec::new();
        for (p, (range, bounds)) in plans.iter().zip(ranges) {
            let mut data = SummaryData::new(opts.interval);
            let outlet_sales = sales.get(&p.outlet.id).map(Vec::as_slice).unwrap_or(&[]);
            let mut counted = 0;
            for sale in outlet_sales {
                let (Some(at), Some(totals)) = (sale.sale_date, sale_totals(sale, opts)) else {
                    continue;
                };
                if at < bounds.0 || at >= bounds.1 {
                    continue;
                }
                data.add_at(&p.location, &p.tz, at, &totals);
                counted += 1;
            }
            for s in placed.get(&p.outlet.id).into_iter().flatten() {
                add_shift(&mut data, &p.location, p.tz, bounds, s, now);
            }
            let spec = SummarySpec::new(opts.format, opts.interval, range, [p.location.clone()])
                .map_err(TmasFlowError::from)?;
            let rows = spec.row_count();
            let rows_with_data = data.len();
            let file = SummaryFile::new(spec, data.clone());
            let name = file_name(&file, now);
            let sent = serde_json::json!({
                "outlet": p.outlet.name,
                "location": p.location.as_str(),
                "first": range.first().to_string(),
                "last": range.last().to_string(),
                "rows": rows,
                "rows_with_data": rows_with_data,
                "sales_read": outlet_sales.len(),
                "sales_counted": counted,
                "file": name,
            });
            let base = RecordOutcome::new(p.outlet.id.as_str(), Outcome::Created)
                .with_target_id(name.clone())
                .with_reason(format!(
                    "{rows} rows ({rows_with_data} with data) for {} .. {} of outlet \"{}\"",
                    range.first(),
                    range.last(),
                    p.outlet.name
                ))
                .with_sent(sent);
            let mut delivered = None;
            if dry_run {
                outcomes.push(base);
            } else {
                match self.delivery.deliver(&name, &file).await {
                    Ok(d) => {
                        cursor.outlets.insert(p.outlet.id.to_string(), now);
                        outcomes.push(base.with_answer(serde_json::json!({
                            "file": d.name, "bytes": d.bytes, "attempts": d.attempts,
                        })));
                        delivered = Some(name);
                    }
                    Err(e) => outcomes.push(RecordOutcome {
                        outcome: Outcome::Failed,
                        reason: Some(format!(
                            "delivering the TMAS file of outlet \"{}\" failed: {e}",
                            p.outlet.name
                        )),
                        ..base
                    }),
                }
            }
            runs.push(OutletRun {
                outlet_id: p.outlet.id.clone(),
                name: p.outlet.name.clone(),
                location: p.location.clone(),
                time_zone: p.tz,
                dates: range,
                rows,
                rows_with_data,
                sales_read: outlet_sales.len(),
                sales_counted: counted,
                file: delivered,
                data,
            });
        }
        ctx.record(&outcomes).await?;
        if outcomes.iter().any(|o| o.outcome == Outcome::Failed) {
            // Read the changed clock-ins again next run, so their days reach the outlets that failed.
            cursor.shift_version = previous;
        }

        // Keep the clock-ins that a later re-send can still need.
        cursor.shifts = shifts
            .into_values()
            .filter(|s| s.time_out.is_none_or(|t| t >= kept_from))
            .collect();
        let known: BTreeSet<&str> = outlets.iter().map(|o| o.id.as_str()).collect();
        cursor.outlets.retain(|id, _| known.contains(id.as_str()));
        ctx.stage_cursor(&cursor)?;

        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(TmasRunSummary {
            at: now,
            dry_run,
            outlets: runs,
            skipped,
            unplaced_shifts,
        });
        Ok(())
    }
}
