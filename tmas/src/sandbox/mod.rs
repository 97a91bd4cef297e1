//! Test doubles of TMAS (feature `sandbox`): an FTP server that imports what it receives the way
//! TMAS does ([`FtpSandbox`]), and a fake traffic web API ([`TrafficSandbox`]).

mod ftp;

pub use ftp::{FtpSandbox, ImportRecord, ImportSettings, ReceivedKind};

mod traffic;

pub use traffic::{OPEN_HOURS, TrafficSandbox, generated_visitors};
