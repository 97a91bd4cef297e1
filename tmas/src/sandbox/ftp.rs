//! An in-process FTP server (built on `libunftp`) that imports received files as TMAS does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use chrono::NaiveDate;
use libunftp::ServerBuilder;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{self, ErrorKind, Fileinfo, StorageBackend};

use crate::delivery::{FtpTarget, RetryPolicy, TEMP_SUFFIX};
use crate::format::{SummaryFormat, TransactionLogFormat};
use crate::import::{ImportError, parse_summary, parse_transaction_log};
use crate::model::{
    Interval, IntervalStart, LocationId, SummaryRow, Totals, TransactionId, TransactionRow,
};

/// How the sandbox's TMAS account is set up to read files.
///
/// The default reads TMAS's documented summary layout with or without the optional Staff Hours
/// column (told apart by the header), so it accepts both `SummaryFormat::default()` files and
/// what `sync-core`'s TMAS flow writes by default (with staff hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSettings {
    /// Layout of summary files.
    pub summary: SummaryFormat,
    /// Interval of summary files.
    pub interval: Interval,
    /// Layout of transaction logs.
    pub transaction_log: TransactionLogFormat,
    /// Whether a summary file with a header may add or leave out the optional Staff Hours column
    /// whatever `summary.staff_hours` says, the header naming the columns (default `true`).
    /// `false`: the column must be exactly as configured.
    pub staff_hours_by_header: bool,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            summary: SummaryFormat::default(),
            interval: Interval::default(),
            transaction_log: TransactionLogFormat::default(),
            staff_hours_by_header: true,
        }
    }
}

impl ImportSettings {
    /// The summary layout a file is read with: the configured one, or, when the header names the
    /// columns and shows the optional Staff Hours column the other way, that one.
    pub fn summary_format_for(&self, bytes: &[u8]) -> SummaryFormat {
        let configured = self.summary;
        if !self.staff_hours_by_header || !configured.header {
            return configured;
        }
        let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            return configured;
        };
        let names_staff = line.rsplit(configured.delimiter.as_char()).next() == Some("Staff Hours");
        SummaryFormat {
            staff_hours: names_staff,
            ..configured
        }
    }
}

/// Which import a received file went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivedKind {
    /// Read as a summary file.
    Summary,
    /// Read as a transaction log (its name contains `transactions`).
    TransactionLog,
}

/// One import the sandbox ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// The file name.
    pub file: String,
    /// Which import read it.
    pub kind: ReceivedKind,
    /// Rows imported, or why the file was rejected (nothing is imported from a rejected file).
    pub result: Result<usize, ImportError>,
}

#[derive(Debug, Default)]
struct State {
    settings: ImportSettings,
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
    summary: BTreeMap<(LocationId, NaiveDate, IntervalStart), Totals>,
    transactions: BTreeMap<(LocationId, TransactionId), TransactionRow>,
    imports: Vec<ImportRecord>,
    /// Uploads still to cut off, each after this many bytes.
    cut_uploads: Vec<usize>,
}

/// TMAS reads `.csv`, `.txt` and `.xls*` files; anything else (a `.part` upload, a hidden file) is
/// left alone until renamed.
fn importable(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.')
        && !lower.ends_with(TEMP_SUFFIX)
        && (lower.ends_with(".csv") || lower.ends_with(".txt"))
}

impl State {
    fn import(&mut self, path: &str) {
        let Some(bytes) = self.files.get(path) else {
            return;
        };
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        let (kind, result) = if name.to_ascii_lowercase().contains("transactions") {
            let r = parse_transaction_log(bytes, &self.settings.transaction_log).map(|rows| {
                let n = rows.len();
                for row in rows {
                    self.transactions
                        .insert((row.location.clone(), row.transaction.clone()), row);
                }
                n
            });
            (ReceivedKind::TransactionLog, r)
        } else {
            let r = parse_summary(
                bytes,
                &self.settings.summary_format_for(bytes),
                self.settings.interval,
            )
            .map(|rows| {
                let n = rows.len();
                // A re-import replaces the rows of the same location and interval.
                for row in rows {
                    self.summary
                        .insert((row.location, row.date, row.start), row.totals);
                }
                n
            });
            (ReceivedKind::Summary, r)
        };
        self.imports.push(ImportRecord {
            file: name,
            kind,
            result,
        });
    }
}

fn key(path: &Path) -> String {
    path.to_string_lossy().trim_matches('/').to_owned()
}

fn not_found() -> storage::Error {
    storage::Error::from(ErrorKind::PermanentFileNotAvailable)
}

#[derive(Debug, Clone)]
struct Meta {
    len: u64,
    dir: bool,
}

impl storage::Metadata for Meta {
    fn len(&self) -> u64 {
        self.len
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
    fn is_file(&self) -> bool {
        !self.dir
    }
    fn is_symlink(&self) -> bool {
        false
    }
    fn modified(&self) -> storage::Result<SystemTime> {
        Ok(SystemTime::UNIX_EPOCH)
    }
    fn gid(&self) -> u32 {
        0
    }
    fn uid(&self) -> u32 {
        0
    }
}

#[derive(Debug, Clone)]
struct MemoryStorage {
    state: Arc<Mutex<State>>,
}

impl MemoryStorage {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl StorageBackend<DefaultUser> for MemoryStorage {
    type Metadata = Meta;

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<Meta> {
        let k = key(path.as_ref());
        let s = self.lock();
        if k.is_empty() || s.dirs.contains(&k) {
            return Ok(Meta { len: 0, dir: true });
        }
        s.files
            .get(&k)
            .map(|f| Meta {
                len: f.len() as u64,
                dir: false,
            })
            .ok_or_else(not_found)
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Meta>>> {
        let k = key(path.as_ref());
        let prefix = if k.is_empty() {
            String::new()
        } else {
            format!("{k}/")
        };
        let s = self.lock();
        let direct = |p: &String| {
            p.strip_prefix(&prefix)
                .filter(|rest| !rest.contains('/'))
                .map(str::to_owned)
        };
        let mut out = Vec::new();
        for d in &s.dirs {
            if let Some(name) = direct(d) {
                out.push(Fileinfo {
                    path: PathBuf::from(name),
                    metadata: Meta { len: 0, dir: true },
                });
            }
        }
        for (f, bytes) in &s.files {
            if let Some(name) = direct(f) {
                out.push(Fileinfo {
                    path: PathBuf::from(name),
                    metadata: Meta {
                        len: bytes.len() as u64,
                        dir: false,
                    },
                });
            }
        }
        Ok(out)
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        let k = key(path.as_ref());
        let bytes = self.lock().files.get(&k).cloned().ok_or_else(not_found)?;
        let start = usize::try_from(start_pos)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        Ok(Box::new(std::io::Cursor::new(bytes[start..].to_vec())))
    }

    async fn put<
        P: AsRef<Path> + Send + Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        _u: &DefaultUser,
        mut input: R,
        path: P,
        start_pos: u64,
    ) -> storage::Result<u64> {
        let k = key(path.as_ref());
        let cut = {
            let mut s = self.lock();
            if s.cut_uploads.is_empty() {
                None
            } else {
                Some(s.cut_uploads.remove(0))
            }
        };
        let mut received = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let mut interrupted = false;
        loop {
            let n = input
                .read(&mut buf)
                .await
                .map_err(|e| storage::Error::new(ErrorKind::ConnectionClosed, e))?;
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
            if let Some(limit) = cut
                && received.len() >= limit
            {
                received.truncate(limit);
                interrupted = true;
                break;
            }
        }
        let mut s = self.lock();
        let mut content = s.files.get(&k).cloned().unwrap_or_default();
        content.truncate(usize::try_from(start_pos).unwrap_or(usize::MAX));
        content.extend_from_slice(&received);
        let len = received.len() as u64;
        // Like a disk-backed server, what arrived before a cut stays under the name it was sent to.
        s.files.insert(k.clone(), content);
        if interrupted {
            return Err(storage::Error::from(ErrorKind::LocalError));
        }
        if importable(&k) {
            s.import(&k);
        }
        Ok(len)
    }

    async fn del<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        let k = key(path.as_ref());
        self.lock()
            .files
            .remove(&k)
            .map(|_| ())
            .ok_or_else(not_found)
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        let k = key(path.as_ref());
        self.lock().dirs.insert(k);
        Ok(())
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        from: P,
        to: P,
    ) -> storage::Result<()> {
        let (from, to) = (key(from.as_ref()), key(to.as_ref()));
        let mut s = self.lock();
        let bytes = s.files.remove(&from).ok_or_else(not_found)?;
        s.files.insert(to.clone(), bytes);
        if importable(&to) {
            s.import(&to);
        }
        Ok(())
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        let k = key(path.as_ref());
        let mut s = self.lock();
        let prefix = format!("{k}/");
        if s.files.keys().any(|f| f.starts_with(&prefix)) {
            return Err(storage::Error::from(ErrorKind::PermanentDirectoryNotEmpty));
        }
        s.dirs
            .remove(&k)
            .then_some(())
            .ok_or_else(|| storage::Error::from(ErrorKind::PermanentDirectoryNotAvailable))
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(
        &self,
        _u: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        let k = key(path.as_ref());
        if k.is_empty() || self.lock().dirs.contains(&k) {
            Ok(())
        } else {
            Err(storage::Error::from(
                ErrorKind::PermanentDirectoryNotAvailable,
            ))
        }
    }
}

#[derive(Debug)]
struct PasswordAuth {
    user: String,
    password: String,
}

#[async_trait::async_trait]
impl Authenticator for PasswordAuth {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        if username != self.user {
            return Err(AuthenticationError::BadUser);
        }
        if creds.password.as_deref() != Some(self.password.as_str()) {
            return Err(AuthenticationError::BadPassword);
        }
        Ok(Principal {
            username: username.to_owned(),
        })
    }
}

/// An FTP server on 127.0.0.1 (random port) standing in for TMAS's FTP import.
///
/// Every `.csv`/`.txt` file that is stored or renamed into place is parsed with the account's
/// [`ImportSettings`]: a malformed file is rejected with the reason and imports nothing; a good one
/// replaces the rows of the same location and interval (or the same transaction), as a TMAS
/// re-import does. Files under a temporary name (`.part`, hidden) are kept but not read.
/// Files whose name contains `transactions` go to the transaction-log import, others to the
/// summary import.
#[derive(Debug)]
pub struct FtpSandbox {
    addr: SocketAddr,
    user: String,
    password: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl FtpSandbox {
    /// The user name the sandbox accepts.
    pub const USER: &'static str = "tmas";
    /// The password the sandbox accepts.
    pub const PASSWORD: &'static str = "sandbox";

    /// Starts a server with the given import settings.
    pub async fn start(settings: ImportSettings) -> std::io::Result<Self> {
        Self::start_inner(settings, None).await
    }

    /// Starts a server that also offers explicit TLS (`AUTH TLS`), with a PEM certificate chain and
    /// private key.
    pub async fn start_ftps(
        settings: ImportSettings,
        cert_chain_pem: impl Into<PathBuf>,
        key_pem: impl Into<PathBuf>,
    ) -> std::io::Result<Self> {
        Self::start_inner(settings, Some((cert_chain_pem.into(), key_pem.into()))).await
    }

    async fn start_inner(
        settings: ImportSettings,
        tls: Option<(PathBuf, PathBuf)>,
    ) -> std::io::Result<Self> {
        if let Some((cert, key)) = &tls {
            // Fail now on unreadable TLS material rather than on every connection later.
            for path in [cert, key] {
                std::fs::metadata(path).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                })?;
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            settings,
            ..State::default()
        }));
        let storage = MemoryStorage {
            state: state.clone(),
        };
        let auth = Arc::new(PasswordAuth {
            user: Self::USER.to_owned(),
            password: Self::PASSWORD.to_owned(),
        });
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let storage = storage.clone();
                let mut builder = ServerBuilder::with_authenticator(
                    Box::new(move || storage.clone()),
                    auth.clone(),
                )
                .greeting("TMAS sandbox FTP");
                if let Some((cert, key)) = &tls {
                    builder = builder.ftps(cert.clone(), key.clone());
                }
                let built = builder.build();
                if let Ok(server) = built {
                    tokio::spawn(async move {
                        let _ = server.service(stream).await;
                    });
                }
            }
        });
        Ok(Self {
            addr,
            user: Self::USER.to_owned(),
            password: Self::PASSWORD.to_owned(),
            state,
            accept,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ftp://tmas:sandbox@127.0.0.1:{port}/`.
    pub fn url(&self) -> String {
        format!("ftp://{}:{}@{}/", self.user, self.password, self.addr)
    }

    /// A delivery target for this server (quick retries, to keep tests fast).
    pub fn target(&self) -> FtpTarget {
        FtpTarget::new(
            self.addr.ip().to_string(),
            self.addr.port(),
            self.user.clone(),
            self.password.clone().into(),
        )
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: std::time::Duration::from_millis(50),
            max_backoff: std::time::Duration::from_millis(200),
        })
    }

    /// Creates a directory on the server.
    pub fn create_dir(&self, dir: &str) {
        self.lock().dirs.insert(dir.trim_matches('/').to_owned());
    }

    /// Cuts off the next uploads: the `n`th next `STOR` stops after `after_bytes[n]` bytes and the
    /// server answers `451`, keeping what arrived under the name it was sent to.
    pub fn cut_next_uploads(&self, after_bytes: &[usize]) {
        self.lock().cut_uploads.extend_from_slice(after_bytes);
    }

    /// Names (paths) of the files the server holds.
    pub fn files(&self) -> Vec<String> {
        self.lock().files.keys().cloned().collect()
    }

    /// The bytes of a file the server holds.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().files.get(path.trim_matches('/')).cloned()
    }

    /// Every import run so far, in order.
    pub fn imports(&self) -> Vec<ImportRecord> {
        self.lock().imports.clone()
    }

    /// The imported summary rows, sorted by location, date and interval.
    pub fn summary_rows(&self) -> Vec<SummaryRow> {
        self.lock()
            .summary
            .iter()
            .map(|((location, date, start), totals)| SummaryRow {
                location: location.clone(),
                date: *date,
                start: *start,
                totals: *totals,
            })
            .collect()
    }

    /// The imported totals of one location, date and interval.
    pub fn summary(
        &self,
        location: &LocationId,
        date: NaiveDate,
        start: IntervalStart,
    ) -> Option<Totals> {
        self.lock()
            .summary
            .get(&(location.clone(), date, start))
            .copied()
    }

    /// The imported transactions, by location and transaction id.
    pub fn transactions(&self) -> Vec<TransactionRow> {
        self.lock().transactions.values().cloned().collect()
    }

    /// Stops accepting connections.
    pub fn shutdown(&self) {
        self.accept.abort();
    }
}

impl Drop for FtpSandbox {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
