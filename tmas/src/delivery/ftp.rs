//! Delivery to an FTP server, optionally with explicit TLS (FTPES), through `suppaftp`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use suppaftp::FtpError;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::tokio_rustls::TlsConnector;
use suppaftp::tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use suppaftp::types::FileType;
use url::Url;

use super::{Deliver, Delivered, DeliveryError, ImportFile, RetryPolicy, TEMP_SUFFIX, check_name};
use crate::error::WriteError;

/// Transport security of the FTP connection.
#[derive(Clone, Default)]
pub enum FtpTls {
    /// Plain FTP.
    #[default]
    None,
    /// Explicit TLS (`AUTH TLS`, FTPES) on the normal port, control and data channels encrypted.
    Explicit {
        /// Name the server certificate must be valid for.
        domain: String,
        /// TLS settings; `None` uses the Mozilla root certificates.
        config: Option<Arc<ClientConfig>>,
    },
}

impl fmt::Debug for FtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FtpTls::None => f.write_str("None"),
            FtpTls::Explicit { domain, config } => f
                .debug_struct("Explicit")
                .field("domain", domain)
                .field("custom_config", &config.is_some())
                .finish(),
        }
    }
}

/// An FTP or FTPS server to upload import files to.
///
/// Each upload goes to `<name>.part`, then is renamed to `<name>`; a failed attempt is retried
/// with backoff when the failure is transient (connection errors, 4xx replies), not when the
/// server refuses for good (5xx replies such as a wrong password).
#[derive(Clone)]
pub struct FtpTarget {
    host: String,
    port: u16,
    user: String,
    password: SecretString,
    directory: String,
    tls: FtpTls,
    retry: RetryPolicy,
    connect_timeout: Duration,
}

impl fmt::Debug for FtpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("directory", &self.directory)
            .field("tls", &self.tls)
            .field("retry", &self.retry)
            .finish()
    }
}

enum Attempt {
    Transient(String),
    Permanent(String),
    Content(WriteError),
}

fn classify(e: FtpError) -> Attempt {
    match e {
        FtpError::UnexpectedResponse(r) if (400..500).contains(&r.status.code()) => {
            Attempt::Transient(format!(
                "{} {}",
                r.status.code(),
                String::from_utf8_lossy(&r.body).trim()
            ))
        }
        FtpError::UnexpectedResponse(r) => Attempt::Permanent(format!(
            "{} {}",
            r.status.code(),
            String::from_utf8_lossy(&r.body).trim()
        )),
        FtpError::ConnectionError(e) => Attempt::Transient(format!("connection: {e}")),
        FtpError::BadResponse => Attempt::Transient("bad response from the server".into()),
        other => Attempt::Permanent(other.to_string()),
    }
}

impl FtpTarget {
    /// A plain-FTP target.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        password: SecretString,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            user: user.into(),
            password,
            directory: String::new(),
            tls: FtpTls::None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
        }
    }

    /// A target from a URL: `ftp://user:password@host:port/dir` (plain) or `ftpes://...`
    /// (explicit TLS). Percent-escapes in user and password are decoded.
    pub fn from_url(url: &str) -> Result<Self, DeliveryError> {
        let u =
            Url::parse(url).map_err(|e| DeliveryError::Config(format!("invalid FTP URL: {e}")))?;
        let explicit = match u.scheme() {
            "ftp" => false,
            "ftpes" => true,
            other => {
                return Err(DeliveryError::Config(format!(
                    "unsupported scheme `{other}` (use ftp:// or ftpes:// for explicit TLS)"
                )));
            }
        };
        let host = match u.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(h) => h.to_string(),
            None => return Err(DeliveryError::Config("the FTP URL has no host".into())),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = if u.username().is_empty() {
            "anonymous".to_owned()
        } else {
            decode(u.username())
        };
        let password = SecretString::from(decode(u.password().unwrap_or("")));
        let mut t = Self::new(host.clone(), u.port().unwrap_or(21), user, password);
        let dir = u.path().trim_matches('/');
        if !dir.is_empty() {
            t.directory = decode(dir);
        }
        if explicit {
            t.tls = FtpTls::Explicit {
                domain: host,
                config: None,
            };
        }
        Ok(t)
    }

    /// Uploads into this directory on the server (relative to the login directory).
    pub fn directory(mut self, dir: impl Into<String>) -> Self {
        self.directory = dir.into();
        self
    }

    /// Uses explicit TLS; `config` `None` trusts the Mozilla root certificates.
    pub fn explicit_tls(
        mut self,
        domain: impl Into<String>,
        config: Option<Arc<ClientConfig>>,
    ) -> Self {
        self.tls = FtpTls::Explicit {
            domain: domain.into(),
            config,
        };
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the timeout for connecting and logging in.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn tls_config(config: &Option<Arc<ClientConfig>>) -> Result<Arc<ClientConfig>, String> {
        if let Some(c) = config {
            return Ok(c.clone());
        }
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let c =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Arc::new(c))
    }

    async fn connect(&self) -> Result<AsyncRustlsFtpStream, Attempt> {
        let fut = async {
            let mut ftp = AsyncRustlsFtpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(classify)?;
            if let FtpTls::Explicit { domain, config } = &self.tls {
                let config = Self::tls_config(config).map_err(Attempt::Permanent)?;
                let connector = AsyncRustlsConnector::from(TlsConnector::from(config));
                ftp = ftp.into_secure(connector, domain).await.map_err(classify)?;
            }
            ftp.login(self.user.as_str(), self.password.expose_secret())
                .await
                .map_err(classify)?;
            ftp.transfer_type(FileType::Binary)
                .await
                .map_err(classify)?;
            if !self.directory.is_empty() {
                ftp.cwd(&self.directory).await.map_err(classify)?;
            }
            Ok(ftp)
        };
        tokio::time::timeout(self.connect_timeout, fut)
            .await
            .unwrap_or_else(|_| {
                Err(Attempt::Transient(
                    "timed out connecting and logging in".into(),
                ))
            })
    }

    async fn attempt(&self, name: &str, file: &dyn ImportFile) -> Result<u64, Attempt> {
        let mut ftp = self.connect().await?;
        let temp = format!("{name}{TEMP_SUFFIX}");
        let mut upload = ftp.put_with_stream(&temp).await.map_err(classify)?;
        match file.write_to(&mut upload).await {
            Ok(bytes) => {
                upload.finish().await.map_err(classify)?;
                ftp.rename(temp.as_str(), name).await.map_err(classify)?;
                let _ = ftp.quit().await;
                Ok(bytes)
            }
            Err(e) => {
                // Close the data connection, then remove the partial upload (best effort: the
                // temporary name is never imported, and the next attempt overwrites it).
                drop(upload);
                let _ = tokio::time::timeout(Duration::from_secs(10), ftp.rm(&temp)).await;
                let _ = ftp.quit().await;
                Err(match e {
                    WriteError::Io(e) => Attempt::Transient(format!("upload interrupted: {e}")),
                    other => Attempt::Content(other),
                })
            }
        }
    }
}

#[async_trait::async_trait]
impl Deliver for FtpTarget {
    async fn deliver(&self, name: &str, file: &dyn ImportFile) -> Result<Delivered, DeliveryError> {
        check_name(name)?;
        let max = self.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.attempt(name, file).await {
                Ok(bytes) => {
                    return Ok(Delivered {
                        name: name.to_owned(),
                        bytes,
                        attempts: attempt,
                    });
                }
                Err(Attempt::Content(e)) => return Err(DeliveryError::Write(e)),
                Err(Attempt::Permanent(message)) => {
                    return Err(DeliveryError::Ftp {
                        name: name.to_owned(),
                        attempts: attempt,
                        message,
                        transient: false,
                    });
                }
                Err(Attempt::Transient(message)) => {
                    if attempt >= max {
                        return Err(DeliveryError::Ftp {
                            name: name.to_owned(),
                            attempts: attempt,
                            message,
                            transient: true,
                        });
                    }
                    tracing::warn!(host = %self.host, file = name, attempt, %message, "FTP upload failed; retrying");
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parsing_and_redacted_debug() {
        let t =
            FtpTarget::from_url("ftp://shop%40chain:s3cr%2Ft@ftp.example.com:2121/in/pos").unwrap();
        assert_eq!((t.host(), t.port()), ("ftp.example.com", 2121));
        assert_eq!(t.user, "shop@chain");
        assert_eq!(t.password.expose_secret(), "s3cr/t");
        assert_eq!(t.directory, "in/pos");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("s3cr"), "{dbg}");
        let tls = FtpTarget::from_url("ftpes://u:p@h/").unwrap();
        assert!(matches!(tls.tls, FtpTls::Explicit { ref domain, .. } if domain == "h"));
        assert!(FtpTarget::from_url("sftp://h/").is_err());
        let v6 = FtpTarget::from_url("ftp://u:p@[::1]:2121/").unwrap();
        assert_eq!(
            (v6.host(), v6.port(), v6.directory.as_str()),
            ("::1", 2121, "")
        );
    }

    #[test]
    fn default_tls_config_builds() {
        assert!(FtpTarget::tls_config(&None).is_ok());
    }

    #[test]
    fn reply_classes() {
        let resp = |code| {
            FtpError::UnexpectedResponse(suppaftp::types::Response {
                status: suppaftp::Status::from(code),
                body: b"x".to_vec(),
            })
        };
        assert!(matches!(classify(resp(421)), Attempt::Transient(_)));
        assert!(matches!(classify(resp(530)), Attempt::Permanent(_)));
    }
}
