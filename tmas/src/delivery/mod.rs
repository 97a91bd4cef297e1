//! Getting import files to TMAS: to a local directory (for a sync tool or mail job to pick up) or
//! to an FTP/FTPS server, always under a temporary name first and renamed when complete, so that
//! TMAS never imports half a file.

mod directory;
mod file;
mod ftp;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use directory::DirectoryTarget;
pub use file::{
    FileKind, ImportFile, SummaryFile, SummaryRows, TransactionLogFile, TransactionRows, file_name,
};
pub use ftp::{FtpTarget, FtpTls};

use crate::error::WriteError;

/// Suffix of the temporary name a file is uploaded under before the rename. TMAS (and the
/// sandbox) only import `.csv`, `.txt` and `.xls*` files, so a `.part` file is never read.
pub const TEMP_SUFFIX: &str = ".part";

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Writing the file's content failed for a reason other than the connection (bad rows...).
    #[error("the file could not be written: {0}")]
    Write(WriteError),
    /// A local file-system operation failed.
    #[error("{operation} failed: {source}")]
    Io {
        /// What was being done.
        operation: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The FTP server refused or the connection failed, after every attempt.
    #[error("FTP delivery of `{name}` failed after {attempts} attempt(s): {message}")]
    Ftp {
        /// The final file name.
        name: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        message: String,
        /// Whether the last error was transient (a retry later may succeed).
        transient: bool,
    },
    /// The target is misconfigured.
    #[error("invalid delivery target: {0}")]
    Config(String),
}

/// What a successful delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The final file name.
    pub name: String,
    /// Bytes written.
    pub bytes: u64,
    /// Attempts it took.
    pub attempts: u32,
}

/// When and how often a failed upload is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, at least 1.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles after each failure.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Wait after failed attempt number `attempt` (1-based): exponential, capped, with up to 25%
    /// random jitter subtracted so that many stores do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        use backon::BackoffBuilder;
        // The same `backon` schedule as `pos-http`'s request retries; the jitter is subtracted so
        // that `max_backoff` stays a real ceiling.
        let exp = backon::ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        let jitter = rand::random_range(0.0..0.25);
        exp.mul_f64(1.0 - jitter)
    }
}

/// Somewhere import files can be delivered.
#[async_trait::async_trait]
pub trait Deliver: Send + Sync {
    /// Delivers `file` under the final name `name`.
    async fn deliver(&self, name: &str, file: &dyn ImportFile) -> Result<Delivered, DeliveryError>;
}

/// The delivery targets this crate provides.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A local directory.
    Directory(DirectoryTarget),
    /// An FTP or FTPS server.
    Ftp(FtpTarget),
}

impl Delivery {
    /// Delivers `file` under its standard name (kind, location set, range, `created`).
    pub async fn send(
        &self,
        file: &dyn ImportFile,
        created: DateTime<Utc>,
    ) -> Result<Delivered, DeliveryError> {
        let name = file_name(file, created);
        self.deliver(&name, file).await
    }
}

#[async_trait::async_trait]
impl Deliver for Delivery {
    async fn deliver(&self, name: &str, file: &dyn ImportFile) -> Result<Delivered, DeliveryError> {
        match self {
            Delivery::Directory(d) => d.deliver(name, file).await,
            Delivery::Ftp(f) => f.deliver(name, file).await,
        }
    }
}

/// Checks a final file name: a plain name (no path), not hidden, not a temporary name.
pub(crate) fn check_name(name: &str) -> Result<(), DeliveryError> {
    if name.is_empty()
        || name.starts_with('.')
        || name.ends_with(TEMP_SUFFIX)
        || name.contains(['/', '\\', '\r', '\n', '\0'])
    {
        return Err(DeliveryError::Config(format!(
            "`{name}` is not a plain file name"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(5),
        };
        let b1 = p.backoff(1);
        assert!(b1 <= Duration::from_secs(2) && b1 >= Duration::from_millis(1500));
        let b2 = p.backoff(2);
        assert!(b2 <= Duration::from_secs(4) && b2 >= Duration::from_secs(3));
        assert!(p.backoff(10) <= Duration::from_secs(5));
    }

    #[test]
    fn names_checked() {
        assert!(check_name("a.csv").is_ok());
        for bad in ["", ".a.csv", "a.csv.part", "../a.csv", "a/b.csv"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
