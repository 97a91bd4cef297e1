//! TMAS retail analytics: data model, import-file writers, delivery and the traffic API.
//!
//! TMAS has no push API for sales: it imports POS data from files delivered to an FTP server
//! (a summary row per location and interval, or a transaction log), and it exports foot traffic
//! through a web API. This crate writes those files exactly as TMAS's import reads them,
//! delivers them so that a half-written file is never picked up, reads traffic back, and
//! computes the conversion metrics TMAS exists for.

pub mod bucket;
pub mod error;
pub mod format;
pub mod location;
pub mod model;
pub mod writer;

pub use bucket::SummaryData;
pub use error::{LocationIdError, LocationMapError, LocationProblem, WriteError};
pub use format::{DateFormat, Delimiter, LineEnding, SummaryFormat, TimeColumn, TransactionLogFormat};
pub use location::{LocationIdStrategy, LocationMap, SourceLocation};
pub use model::{
    DateRange, Interval, IntervalStart, LocationId, SummaryRow, Totals, TransactionId, TransactionRow,
};
pub use writer::{SummarySpec, TransactionLogSpec, write_summary, write_summary_async, write_transaction_log, write_transaction_log_async};
