//! Import files ready for delivery, and their names.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWrite;

use crate::bucket::SummaryData;
use crate::error::WriteError;
use crate::model::{DateRange, LocationId, SummaryRow, TransactionRow};
use crate::writer::{
    SummarySpec, TransactionLogSpec, write_summary_async, write_transaction_log_async,
};

/// The two kinds of TMAS import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// One row per location and interval.
    Summary,
    /// One row per transaction.
    TransactionLog,
}

impl FileKind {
    /// The word used in file names: `summary` or `transactions`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Summary => "summary",
            FileKind::TransactionLog => "transactions",
        }
    }
}

/// A file that can be written (again, for every delivery attempt) to an async output.
#[async_trait::async_trait]
pub trait ImportFile: Send + Sync {
    /// Which kind of file.
    fn kind(&self) -> FileKind;
    /// The locations it covers, sorted.
    fn locations(&self) -> &[LocationId];
    /// The local date range it covers.
    fn range(&self) -> DateRange;
    /// File extension without the dot (`csv` or `txt`).
    fn extension(&self) -> &'static str;
    /// Writes the whole file to `out`, returning the number of bytes.
    async fn write_to(&self, out: &mut (dyn AsyncWrite + Unpin + Send)) -> Result<u64, WriteError>;
}

/// A source of summary rows sorted by location, date and interval start, readable more than once.
pub trait SummaryRows: Send + Sync {
    /// The rows, in order.
    fn summary_rows(&self) -> Box<dyn Iterator<Item = SummaryRow> + Send + '_>;
}

impl SummaryRows for SummaryData {
    fn summary_rows(&self) -> Box<dyn Iterator<Item = SummaryRow> + Send + '_> {
        Box::new(self.rows())
    }
}

impl SummaryRows for Vec<SummaryRow> {
    fn summary_rows(&self) -> Box<dyn Iterator<Item = SummaryRow> + Send + '_> {
        Box::new(self.iter().cloned())
    }
}

impl<T: SummaryRows + ?Sized> SummaryRows for Arc<T> {
    fn summary_rows(&self) -> Box<dyn Iterator<Item = SummaryRow> + Send + '_> {
        (**self).summary_rows()
    }
}

/// A source of transaction-log rows, readable more than once.
pub trait TransactionRows: Send + Sync {
    /// The rows, in file order.
    fn transaction_rows(&self) -> Box<dyn Iterator<Item = TransactionRow> + Send + '_>;
}

impl TransactionRows for Vec<TransactionRow> {
    fn transaction_rows(&self) -> Box<dyn Iterator<Item = TransactionRow> + Send + '_> {
        Box::new(self.iter().cloned())
    }
}

impl<T: TransactionRows + ?Sized> TransactionRows for Arc<T> {
    fn transaction_rows(&self) -> Box<dyn Iterator<Item = TransactionRow> + Send + '_> {
        (**self).transaction_rows()
    }
}

/// A summary file: its spec and its rows.
#[derive(Debug, Clone)]
pub struct SummaryFile<R> {
    spec: SummarySpec,
    rows: R,
}

impl<R: SummaryRows> SummaryFile<R> {
    /// A summary file for `spec` with `rows`.
    pub fn new(spec: SummarySpec, rows: R) -> Self {
        Self { spec, rows }
    }

    /// The spec.
    pub fn spec(&self) -> &SummarySpec {
        &self.spec
    }

    /// The whole file in memory (for small files and tests).
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::new();
        crate::writer::write_summary(&mut out, &self.spec, self.rows.summary_rows())?;
        Ok(out)
    }
}

#[async_trait::async_trait]
impl<R: SummaryRows> ImportFile for SummaryFile<R> {
    fn kind(&self) -> FileKind {
        FileKind::Summary
    }
    fn locations(&self) -> &[LocationId] {
        self.spec.locations()
    }
    fn range(&self) -> DateRange {
        self.spec.range()
    }
    fn extension(&self) -> &'static str {
        self.spec.format().delimiter.extension()
    }
    async fn write_to(&self, out: &mut (dyn AsyncWrite + Unpin + Send)) -> Result<u64, WriteError> {
        write_summary_async(out, &self.spec, self.rows.summary_rows()).await
    }
}

/// A transaction log: its spec and its rows.
#[derive(Debug, Clone)]
pub struct TransactionLogFile<R> {
    spec: TransactionLogSpec,
    rows: R,
}

impl<R: TransactionRows> TransactionLogFile<R> {
    /// A transaction log for `spec` with `rows`.
    pub fn new(spec: TransactionLogSpec, rows: R) -> Self {
        Self { spec, rows }
    }

    /// The whole file in memory (for small files and tests).
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::new();
        crate::writer::write_transaction_log(&mut out, &self.spec, self.rows.transaction_rows())?;
        Ok(out)
    }
}

#[async_trait::async_trait]
impl<R: TransactionRows> ImportFile for TransactionLogFile<R> {
    fn kind(&self) -> FileKind {
        FileKind::TransactionLog
    }
    fn locations(&self) -> &[LocationId] {
        self.spec.locations()
    }
    fn range(&self) -> DateRange {
        self.spec.range()
    }
    fn extension(&self) -> &'static str {
        self.spec.format().delimiter.extension()
    }
    async fn write_to(&self, out: &mut (dyn AsyncWrite + Unpin + Send)) -> Result<u64, WriteError> {
        write_transaction_log_async(out, &self.spec, self.rows.transaction_rows()).await
    }
}

/// The standard file name: `tmas-{kind}_{locations}_{first}-{last}_{created}.{ext}`, e.g.
/// `tmas-summary_0001_20260301-20260331_20260401T000200Z.csv`.
///
/// One location is named by its id; several by their count and a short hash of the sorted ids
/// (`12loc-1a2b3c4d`), so the same set always gives the same name part.
pub fn file_name(file: &dyn ImportFile, created: DateTime<Utc>) -> String {
    let locations = file.locations();
    let set = match locations {
        [one] => one.to_string(),
        many => {
            let mut hasher = Sha256::new();
            for l in many {
                hasher.update(l.as_str().as_bytes());
                hasher.update(b"\n");
            }
            let digest = hasher.finalize();
            format!("{}loc-{}", many.len(), hex::encode(&digest[..4]))
        }
    };
    let range = file.range();
    format!(
        "tmas-{}_{}_{}-{}_{}.{}",
        file.kind().as_str(),
        set,
        range.first().format("%Y%m%d"),
        range.last().format("%Y%m%d"),
        created.format("%Y%m%dT%H%M%SZ"),
        file.extension()
    )
}
