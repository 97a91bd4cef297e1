//! TMAS retail analytics: data model, import-file writers, delivery and the traffic API.
//!
//! TMAS (StoreTraffic's Traffic Monitoring and Analysis System) has no push API for sales: it
//! imports POS data from files delivered to an FTP server, either a summary row per location and
//! interval (sales, transactions, items, staff hours) or a transaction log, and it exports foot
//! traffic through an XML web API. This crate:
//!
//! - models TMAS's data ([`LocationId`], [`Interval`], [`SummaryRow`], [`TransactionRow`]), with
//!   [`Decimal`](rust_decimal::Decimal) money and quantities and store-local dates;
//! - maps source locations to TMAS ids ([`LocationIdStrategy`], [`LocationMap`]): last N characters
//!   (8 for Lightspeed X-Series outlet GUIDs), zero-padded numbers, unchanged, or a table; invalid
//!   ids and two locations sharing an id are reported together, naming the locations, before
//!   anything is written;
//! - buckets UTC sales and clock-ins into each store's local intervals ([`SummaryData`]), correct
//!   on 23- and 25-hour days;
//! - writes both files exactly as the import reads them ([`writer`]): comma, semicolon or tab,
//!   a configured date format, `HH` interval starts, `.` decimals, `0.00` for empty intervals,
//!   every interval of the range for every location, streamed in bounded chunks;
//! - delivers them to a directory or an FTP/FTPS server under a temporary name, renamed when
//!   complete, with retries ([`delivery`]);
//! - reads traffic back ([`traffic::TrafficClient`]: one call per 2 seconds, ranges split by month)
//!   and computes conversion rate, average sale, items per transaction and sales per staff hour
//!   ([`metrics`]);
//! - with the `sandbox` feature, provides an FTP server that imports files as TMAS does and a fake
//!   traffic API ([`sandbox`]).
//!
//! # Example: a POS-to-TMAS hourly run
//!
//! For each outlet: map its id, bucket its sales (excluding tax) and clock-ins in its time zone,
//! write one summary file for the range and deliver it. Here the target is the sandbox FTP server.
//!
#![cfg_attr(feature = "sandbox", doc = "```rust")]
#![cfg_attr(not(feature = "sandbox"), doc = "```rust,ignore")]
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use rust_decimal_macros::dec;
//! use tmas::delivery::{Delivery, SummaryFile};
//! use tmas::sandbox::{FtpSandbox, ImportSettings};
//! use tmas::{
//!     DateRange, Interval, IntervalStart, LocationIdStrategy, LocationMap, SourceLocation,
//!     SummaryData, SummaryFormat, SummarySpec,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Outlets as the POS knows them, with their time zones.
//! let outlets = [
//!     ("0adaafb3-6583-11e5-fb60-c4ad5a8ce6a5", "Harbour", chrono_tz::Europe::Amsterdam),
//!     ("06e94082-ed4e-11e5-f98b-09f6a1d5ad2b", "Station", chrono_tz::Europe::Amsterdam),
//! ];
//! // TMAS's X-Series guide: the last 8 characters of the outlet GUID. Fails before any write
//! // if an id is invalid or two outlets share one.
//! let map = LocationMap::build(
//!     &LocationIdStrategy::lightspeed_x(),
//!     outlets.iter().map(|(id, name, _)| SourceLocation::new(*id, *name)),
//! )?;
//!
//! // Sales (excluding tax) and clock-ins, as UTC instants from the POS.
//! let mut data = SummaryData::new(Interval::Hour);
//! let (harbour, _, tz) = outlets[0];
//! let harbour = map.get(harbour).expect("mapped");
//! data.add_sale(harbour, &tz, Utc.with_ymd_and_hms(2026, 3, 29, 12, 5, 0).unwrap(), dec!(41.32), dec!(3));
//! data.add_staff_time(
//!     harbour,
//!     &tz,
//!     Utc.with_ymd_and_hms(2026, 3, 29, 8, 0, 0).unwrap(),
//!     Utc.with_ymd_and_hms(2026, 3, 29, 16, 30, 0).unwrap(),
//! );
//!
//! // One file for the day: every hour of every outlet, zero rows included.
//! let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
//! let format = SummaryFormat { staff_hours: true, ..SummaryFormat::default() };
//! let spec = SummarySpec::new(format, Interval::Hour, DateRange::day(day), map.locations())?;
//! let file = SummaryFile::new(spec, data);
//!
//! // Deliver: upload as `<name>.part`, rename to `<name>` when complete.
//! let tmas = FtpSandbox::start(ImportSettings { summary: format, ..ImportSettings::default() }).await?;
//! let delivery = Delivery::Ftp(tmas.target());
//! let delivered = delivery.send(&file, Utc::now()).await?;
//! assert!(delivered.name.starts_with("tmas-summary_2loc-"));
//!
//! // TMAS imported 2 outlets x 24 hours; 14:00 local holds the sale.
//! assert_eq!(tmas.summary_rows().len(), 48);
//! let two_pm = tmas.summary(harbour, day, IntervalStart::new(14, 0).unwrap()).unwrap();
//! assert_eq!(two_pm.sales, dec!(41.32));
//! assert_eq!(two_pm.staff_hours, Some(dec!(1.00)));
//! # Ok(())
//! # }
//! ```
//!
//! Deliver to a production server with
//! [`FtpTarget::from_url`](delivery::FtpTarget::from_url)`("ftpes://user:pass@ftp.example.com/in")`
//! (explicit TLS) or to a local directory with [`DirectoryTarget`](delivery::DirectoryTarget).

pub mod bucket;
pub mod delivery;
pub mod error;
pub mod format;
pub mod import;
pub mod location;
pub mod metrics;
pub mod model;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod traffic;
pub mod writer;

pub use bucket::SummaryData;
pub use error::{Error, LocationIdError, LocationMapError, LocationProblem, Result, WriteError};
pub use format::{
    DateFormat, Delimiter, LineEnding, SummaryFormat, TimeColumn, TransactionLogFormat,
};
pub use location::{LocationIdStrategy, LocationMap, SourceLocation};
pub use model::{
    DateRange, Interval, IntervalStart, LocationId, SummaryRow, Totals, TransactionId,
    TransactionRow,
};
pub use writer::{
    SummarySpec, TransactionLogSpec, write_summary, write_summary_async, write_transaction_log,
    write_transaction_log_async,
};
