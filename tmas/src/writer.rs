//! Writers for TMAS's two import files: the summary file and the transaction log.
//!
//! Both stream: rows are encoded into chunks of about 64 KiB and handed to the output one chunk at a
//! time, so a year of 15-minute rows for hundreds of locations never sits in memory. The same input
//! always gives the same bytes.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::iter::Peekable;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::WriteError;
use crate::format::{
    SummaryFormat, TimeColumn, TransactionLogFormat, format_amount, format_quantity,
};
use crate::model::{
    DateRange, Interval, IntervalStart, LocationId, SummaryRow, Totals, TransactionRow,
};

const CHUNK_SIZE: usize = 64 * 1024;

/// What a summary file covers: layout, interval, local date range and the set of locations.
///
/// The file has a row for every interval of every date of the range for every location, in the
/// order location, date, interval; intervals without data are zero rows, so a re-import of the file
/// overwrites whatever TMAS held for that range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummarySpec {
    format: SummaryFormat,
    interval: Interval,
    range: DateRange,
    locations: Vec<LocationId>,
}

impl SummarySpec {
    /// A spec; fails when no location is given or when an `HH` column is asked for sub-hour intervals.
    pub fn new(
        format: SummaryFormat,
        interval: Interval,
        range: DateRange,
        locations: impl IntoIterator<Item = LocationId>,
    ) -> Result<Self, WriteError> {
        let locations: Vec<LocationId> = locations
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if locations.is_empty() {
            return Err(WriteError::InvalidSpec("no locations".into()));
        }
        if format.time_column == TimeColumn::Hour && interval != Interval::Hour {
            return Err(WriteError::InvalidSpec(format!(
                "an HH column cannot name {}-minute intervals; use TimeColumn::HourMinute or InDate",
                interval.minutes()
            )));
        }
        Ok(Self {
            format,
            interval,
            range,
            locations,
        })
    }

    /// The layout.
    pub fn format(&self) -> &SummaryFormat {
        &self.format
    }

    /// The interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// The local date range.
    pub fn range(&self) -> DateRange {
        self.range
    }

    /// The locations, sorted.
    pub fn locations(&self) -> &[LocationId] {
        &self.locations
    }

    /// Number of data rows the file will have.
    pub fn row_count(&self) -> u64 {
        self.locations.len() as u64 * self.range.len_days() * u64::from(self.interval.per_day())
    }

    /// The header line (without line ending).
    pub fn header(&self) -> String {
        let d = self.format.delimiter.as_char();
        let mut cols: Vec<&str> = vec!["Location ID"];
        match self.format.time_column {
            TimeColumn::Hour => cols.extend(["Date", "Hour"]),
            TimeColumn::HourMinute => cols.extend(["Date", "Time"]),
            TimeColumn::InDate => cols.push("Date & Time"),
        }
        cols.extend(["Sales", "Transactions", "Items"]);
        if self.format.staff_hours {
            cols.push("Staff Hours");
        }
        cols.join(&d.to_string())
    }

    fn encode_row(
        &self,
        location: &LocationId,
        date: chrono::NaiveDate,
        start: IntervalStart,
        t: &Totals,
        out: &mut String,
    ) {
        let d = self.format.delimiter.as_char();
        let date_text = self.format.date_format.format(date);
        // Writing into a String cannot fail.
        let _ = match self.format.time_column {
            TimeColumn::Hour => write!(out, "{location}{d}{date_text}{d}{:02}", start.hour()),
            TimeColumn::HourMinute => write!(out, "{location}{d}{date_text}{d}{start}"),
            TimeColumn::InDate => write!(out, "{location}{d}{date_text} {start}"),
        };
        let _ = write!(
            out,
            "{d}{}{d}{}{d}{}",
            format_amount(t.sales),
            t.transactions,
            format_quantity(t.items)
        );
        if self.format.staff_hours {
            let _ = write!(
                out,
                "{d}{}",
                format_amount(t.staff_hours.unwrap_or_default())
            );
        }
        out.push_str(self.format.line_ending.as_str());
    }
}

/// Encodes a summary file chunk by chunk. `rows` must be sorted by location, date and interval
/// start (as [`crate::bucket::SummaryData::rows`] yields them), each key at most once; missing
/// intervals become zero rows.
pub struct SummaryChunks<'a, I: Iterator<Item = SummaryRow>> {
    spec: &'a SummarySpec,
    rows: Peekable<I>,
    header_done: bool,
    loc: usize,
    dates: Vec<chrono::NaiveDate>,
    date: usize,
    starts: Vec<IntervalStart>,
    slot: usize,
    failed: bool,
}

impl<'a, I: Iterator<Item = SummaryRow>> SummaryChunks<'a, I> {
    /// Starts encoding.
    pub fn new(spec: &'a SummarySpec, rows: impl IntoIterator<IntoIter = I>) -> Self {
        Self {
            spec,
            rows: rows.into_iter().peekable(),
            header_done: false,
            loc: 0,
            dates: spec.range.dates().collect(),
            date: 0,
            starts: spec.interval.starts().collect(),
            slot: 0,
            failed: false,
        }
    }

    fn row_error(spec: &SummarySpec, row: &SummaryRow) -> WriteError {
        if spec.locations.binary_search(&row.location).is_err() {
            WriteError::UnknownLocation(row.location.clone())
        } else if !spec.range.contains(row.date) || !row.start.fits(spec.interval) {
            WriteError::OutsideRange {
                location: row.location.clone(),
                date: row.date,
                start: row.start.to_string(),
            }
        } else {
            WriteError::OutOfOrder {
                location: row.location.clone(),
                date: row.date,
                start: row.start.to_string(),
            }
        }
    }

    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, WriteError> {
        let mut out = String::with_capacity(CHUNK_SIZE + 256);
        if !self.header_done {
            self.header_done = true;
            if self.spec.format.header {
                out.push_str(&self.spec.header());
                out.push_str(self.spec.format.line_ending.as_str());
            }
        }
        while out.len() < CHUNK_SIZE && self.loc < self.spec.locations.len() {
            let location = &self.spec.locations[self.loc];
            let date = self.dates[self.date];
            let start = self.starts[self.slot];
            let mut totals = Totals::default();
            if let Some(row) = self.rows.peek() {
                let here = (location, date, start);
                let theirs = (&row.location, row.date, row.start);
                if theirs == here {
                    totals = row.totals;
                    self.rows.next();
                } else if theirs < here {
                    return Err(Self::row_error(self.spec, row));
                }
            }
            self.spec
                .encode_row(location, date, start, &totals, &mut out);
            self.slot += 1;
            if self.slot == self.starts.len() {
                self.slot = 0;
                self.date += 1;
                if self.date == self.dates.len() {
                    self.date = 0;
                    self.loc += 1;
                }
            }
        }
        if self.loc >= self.spec.locations.len()
            && let Some(row) = self.rows.peek()
        {
            return Err(Self::row_error(self.spec, row));
        }
        Ok((!out.is_empty()).then(|| out.into_bytes()))
    }
}

impl<I: Iterator<Item = SummaryRow>> Iterator for SummaryChunks<'_, I> {
    type Item = Result<Vec<u8>, WriteError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_chunk() {
            Ok(Some(chunk)) => Some(Ok(chunk)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Writes a summary file to `out`. Returns the number of bytes written.
pub fn write_summary<W: std::io::Write>(
    out: &mut W,
    spec: &SummarySpec,
    rows: impl IntoIterator<Item = SummaryRow>,
) -> Result<u64, WriteError> {
    let mut n = 0;
    for chunk in SummaryChunks::new(spec, rows) {
        let chunk = chunk?;
        out.write_all(&chunk)?;
        n += chunk.len() as u64;
    }
    out.flush()?;
    Ok(n)
}

/// Writes a summary file to an async `out`. Returns the number of bytes written.
pub async fn write_summary_async<W, I>(
    out: &mut W,
    spec: &SummarySpec,
    rows: I,
) -> Result<u64, WriteError>
where
    W: AsyncWrite + Unpin + ?Sized,
    I: IntoIterator<Item = SummaryRow>,
{
    let mut n = 0;
    for chunk in SummaryChunks::new(spec, rows) {
        let chunk = chunk?;
        out.write_all(&chunk).await?;
        n += chunk.len() as u64;
    }
    out.flush().await?;
    Ok(n)
}

/// What a transaction log covers: layout, the local date range and the set of locations
/// (used to check rows and to name the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionLogSpec {
    format: TransactionLogFormat,
    range: DateRange,
    locations: Vec<LocationId>,
}

impl TransactionLogSpec {
    /// A spec; fails when no location is given.
    pub fn new(
        format: TransactionLogFormat,
        range: DateRange,
        locations: impl IntoIterator<Item = LocationId>,
    ) -> Result<Self, WriteError> {
        let locations: Vec<LocationId> = locations
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if locations.is_empty() {
            return Err(WriteError::InvalidSpec("no locations".into()));
        }
        Ok(Self {
            format,
            range,
            locations,
        })
    }

    /// The layout.
    pub fn format(&self) -> &TransactionLogFormat {
        &self.format
    }

    /// The local date range.
    pub fn range(&self) -> DateRange {
        self.range
    }

    /// The locations, sorted.
    pub fn locations(&self) -> &[LocationId] {
        &self.locations
    }

    /// The header line (without line ending).
    pub fn header(&self) -> String {
        let d = self.format.delimiter.as_char().to_string();
        [
            "Location ID",
            "Date",
            "Time",
            "Transaction ID",
            "Items",
            "Total",
        ]
        .join(&d)
    }

    fn encode_row(&self, row: &TransactionRow, out: &mut String) -> Result<(), WriteError> {
        if self.locations.binary_search(&row.location).is_err() {
            return Err(WriteError::UnknownLocation(row.location.clone()));
        }
        if !self.range.contains(row.local_time.date()) {
            return Err(WriteError::OutsideRange {
                location: row.location.clone(),
                date: row.local_time.date(),
                start: row.local_time.time().to_string(),
            });
        }
        let d = self.format.delimiter.as_char();
        if row.transaction.as_str().contains(d) {
            return Err(WriteError::InvalidValue {
                field: "transaction id",
                value: row.transaction.to_string(),
                reason: "contains the file's delimiter",
            });
        }
        let _ = write!(
            out,
            "{}{d}{}{d}{}{d}{}{d}{}{d}{}{}",
            row.location,
            self.format.date_format.format(row.local_time.date()),
            row.local_time.format("%H:%M:%S"),
            row.transaction,
            format_quantity(row.items),
            format_amount(row.total),
            self.format.line_ending.as_str()
        );
        Ok(())
    }
}

/// Encodes a transaction log chunk by chunk, rows in the order given.
pub struct TransactionLogChunks<'a, I: Iterator<Item = TransactionRow>> {
    spec: &'a TransactionLogSpec,
    rows: I,
    header_done: bool,
    done: bool,
}

impl<'a, I: Iterator<Item = TransactionRow>> TransactionLogChunks<'a, I> {
    /// Starts encoding.
    pub fn new(spec: &'a TransactionLogSpec, rows: impl IntoIterator<IntoIter = I>) -> Self {
        Self {
            spec,
            rows: rows.into_iter(),
            header_done: false,
            done: false,
        }
    }
}

impl<I: Iterator<Item = TransactionRow>> Iterator for TransactionLogChunks<'_, I> {
    type Item = Result<Vec<u8>, WriteError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut out = String::with_capacity(CHUNK_SIZE + 256);
        if !self.header_done {
            self.header_done = true;
            if self.spec.format.header {
                out.push_str(&self.spec.header());
                out.push_str(self.spec.format.line_ending.as_str());
            }
        }
        while out.len() < CHUNK_SIZE {
            match self.rows.next() {
                Some(row) => {
                    if let Err(e) = self.spec.encode_row(&row, &mut out) {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        (!out.is_empty()).then(|| Ok(out.into_bytes()))
    }
}

/// Writes a transaction log to `out`. Returns the number of bytes written.
pub fn write_transaction_log<W: std::io::Write>(
    out: &mut W,
    spec: &TransactionLogSpec,
    rows: impl IntoIterator<Item = TransactionRow>,
) -> Result<u64, WriteError> {
    let mut n = 0;
    for chunk in TransactionLogChunks::new(spec, rows) {
        let chunk = chunk?;
        out.write_all(&chunk)?;
        n += chunk.len() as u64;
    }
    out.flush()?;
    Ok(n)
}

/// Writes a transaction log to an async `out`. Returns the number of bytes written.
pub async fn write_transaction_log_async<W, I>(
    out: &mut W,
    spec: &TransactionLogSpec,
    rows: I,
) -> Result<u64, WriteError>
where
    W: AsyncWrite + Unpin + ?Sized,
    I: IntoIterator<Item = TransactionRow>,
{
    let mut n = 0;
    for chunk in TransactionLogChunks::new(spec, rows) {
        let chunk = chunk?;
        out.write_all(&chunk).await?;
        n += chunk.len() as u64;
    }
    out.flush().await?;
    Ok(n)
}
