//! The configuration of the `pos-sync` command and of the examples: environment variables (each
//! also a flag of the command, see [`Settings`]) and the run flags ([`RunArgs`]). A missing or
//! malformed setting is an error that names it. The command (`cargo run -p pos-sync -- --flows
//! ...`) runs the configured flows against configured accounts only, with its state in
//! `SYNC_STATE`; the examples start in-process sandboxes when nothing is configured.
//!
//! | variable | meaning |
//! |---|---|
//! | `LIGHTSPEED_DOMAIN_PREFIX`, `LIGHTSPEED_TOKEN` | a Lightspeed X-Series store and a personal token |
//! | `LIGHTSPEED_BASE_URL` | overrides the URL built from the prefix |
//! | `LIGHTSPEED_API_VERSION` | the API version: `2026-07` (default) or another date version `YYYY-MM`, or `2.0` for the legacy 2.0/2.1 API |
//! | `BC_TENANT_ID`, `BC_ENVIRONMENT`, `BC_CLIENT_ID`, `BC_CLIENT_SECRET`, `BC_COMPANY_ID` | Business Central (cloud) |
//! | `BC_BASE_URL`, `BC_TOKEN_URL` | overrides (e.g. on-premises) |
//! | `BC_USERNAME`, `BC_WEB_SERVICE_KEY` | basic auth instead of client credentials |
//! | `TMAS_FTP_URL` or `TMAS_OUTPUT_DIR` | where TMAS files go (`ftp://user:password@host:port/dir`, or a directory) |
//! | `TMAS_LOCATION_MAP` | `outlet=TMASID,...` (outlet id or exact name; `off` disables an outlet) |
//! | `BC_DEFAULT_CUSTOMER` | customer number for sales without a customer (Lightspeed -> Business Central) |
//! | `LIGHTSPEED_OUTLET_ID` | the outlet whose stock Business Central sets (default: the store's only outlet) |
//! | `SYNC_STATE` | the SQLite state file (default `pos-sync-state.sqlite` in the working directory) |
//! | `WEBHOOK_LISTEN`, `WEBHOOK_PUBLIC_URL`, `WEBHOOK_SERVE` | `webhook_receiver`: the address it listens on, the URL Lightspeed and Business Central call, and (any value) keep serving the sandboxes instead of the demo |
//! | `LIGHTSPEED_CLIENT_SECRET`, `BC_WEBHOOK_CLIENT_STATE` | `webhook_receiver`: the key that signs Lightspeed deliveries, the `clientState` of Business Central subscriptions |
//!
//! Flags: `--once` (the default) or `--schedule "hourly at :02"` (also `"daily at 06:00"` or a
//! five-field cron expression, read in UTC), `--dry-run`, `--backfill-days N`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use sync_core::run::Schedule;

/// A setting that is missing or malformed, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable or flag.
    pub name: String,
    /// What is wrong.
    pub problem: String,
}

impl ConfigError {
    /// A problem with the setting `name`.
    pub fn new(name: &str, problem: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Where settings are read from: the process environment, or a table in tests.
pub trait Env {
    /// The value of a variable, `None` when unset or empty.
    fn var(&self, name: &str) -> Result<Option<String>, ConfigError>;

    /// A variable that must be set.
    fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.var(name)?
            .ok_or_else(|| ConfigError::new(name, "is not set"))
    }
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Result<Option<String>, ConfigError> {
        match std::env::var(name) {
            Ok(v) if v.trim().is_empty() => Ok(None),
            Ok(v) => Ok(Some(v.trim().to_owned())),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(ConfigError::new(name, "is not valid UTF-8"))
            }
        }
    }
}

impl Env for BTreeMap<&str, &str> {
    fn var(&self, name: &str) -> Result<Option<String>, ConfigError> {
        Ok(self
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()))
    }
}

/// The settings of the command: each a flag and an environment variable (the variable is what
/// [`Env`] looks up). Secrets never show their value in `--help`.
#[derive(Clone, Default, clap::Args)]
pub struct Settings {
    /// Lightspeed X-Series: the store's domain prefix (`PREFIX.retail.lightspeed.app`).
    #[arg(long, env = "LIGHTSPEED_DOMAIN_PREFIX", value_name = "PREFIX")]
    pub lightspeed_domain_prefix: Option<String>,
    /// Lightspeed X-Series: a personal token (prefer the environment variable: command lines are visible to other users).
    #[arg(
        long,
        env = "LIGHTSPEED_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub lightspeed_token: Option<String>,
    /// Lightspeed X-Series: overrides the URL built from the domain prefix.
    #[arg(long, env = "LIGHTSPEED_BASE_URL", value_name = "URL")]
    pub lightspeed_base_url: Option<String>,
    /// Lightspeed X-Series: the API version, `2026-07` (default), another date version `YYYY-MM`, or `2.0` (legacy).
    #[arg(long, env = "LIGHTSPEED_API_VERSION", value_name = "VERSION")]
    pub lightspeed_api_version: Option<String>,
    /// Lightspeed X-Series: replaces the documented limit of a one-register store (`350/300`), or `off` against a sandbox.
    #[arg(long, env = "LIGHTSPEED_RATE_LIMIT", value_name = "REQUESTS/SECONDS")]
    pub lightspeed_rate_limit: Option<String>,
    /// The outlet whose stock Business Central sets (default: the store's only outlet).
    #[arg(long, env = "LIGHTSPEED_OUTLET_ID", value_name = "ID")]
    pub lightspeed_outlet_id: Option<String>,
    /// Business Central (cloud): the Entra tenant.
    #[arg(long, env = "BC_TENANT_ID", value_name = "TENANT")]
    pub bc_tenant_id: Option<String>,
    /// Business Central (cloud): the environment [default: production].
    #[arg(long, env = "BC_ENVIRONMENT", value_name = "NAME")]
    pub bc_environment: Option<String>,
    /// Business Central: the Entra application (client) id.
    #[arg(long, env = "BC_CLIENT_ID", value_name = "ID")]
    pub bc_client_id: Option<String>,
    /// Business Central: the Entra client secret (prefer the environment variable).
    #[arg(
        long,
        env = "BC_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub bc_client_secret: Option<String>,
    /// Business Central: the company id.
    #[arg(long, env = "BC_COMPANY_ID", value_name = "GUID")]
    pub bc_company_id: Option<String>,
    /// Business Central: overrides the environment root (everything before `/api/`), e.g. on-premises.
    #[arg(long, env = "BC_BASE_URL", value_name = "URL")]
    pub bc_base_url: Option<String>,
    /// Business Central: overrides the Entra token endpoint.
    #[arg(long, env = "BC_TOKEN_URL", value_name = "URL")]
    pub bc_token_url: Option<String>,
    /// Business Central: basic auth user, instead of client credentials.
    #[arg(long, env = "BC_USERNAME", value_name = "USER")]
    pub bc_username: Option<String>,
    /// Business Central: the basic-auth web-service access key (prefer the environment variable).
    #[arg(
        long,
        env = "BC_WEB_SERVICE_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub bc_web_service_key: Option<String>,
    /// Business Central: the customer number for sales without a customer.
    #[arg(long, env = "BC_DEFAULT_CUSTOMER", value_name = "NUMBER")]
    pub bc_default_customer: Option<String>,
    /// TMAS: the FTP server files go to (`ftp://user:password@host:port/dir`, `ftpes://` for explicit TLS); prefer the environment variable.
    #[arg(long, env = "TMAS_FTP_URL", value_name = "URL", hide_env_values = true)]
    pub tmas_ftp_url: Option<String>,
    /// TMAS: a directory files go to, instead of an FTP server.
    #[arg(long, env = "TMAS_OUTPUT_DIR", value_name = "DIR")]
    pub tmas_output_dir: Option<String>,
    /// TMAS: location ids by outlet id or exact name (`off` disables an outlet); default: the last 8 characters of the outlet id.
    #[arg(long, env = "TMAS_LOCATION_MAP", value_name = "OUTLET=TMASID,...")]
    pub tmas_location_map: Option<String>,
    /// The SQLite state file [default: pos-sync-state.sqlite in the working directory].
    #[arg(long, env = "SYNC_STATE", value_name = "FILE")]
    pub sync_state: Option<String>,
    /// How long the run lock of a process that died mid-run keeps other runs out [default: 900].
    #[arg(long, env = "SYNC_LOCK_TTL", value_name = "SECONDS")]
    pub sync_lock_ttl: Option<String>,
}

impl Settings {
    /// Each setting by its variable name, with its value when set.
    pub fn values(&self) -> [(&'static str, Option<&str>); 21] {
        [
            (
                "LIGHTSPEED_DOMAIN_PREFIX",
                self.lightspeed_domain_prefix.as_deref(),
            ),
            ("LIGHTSPEED_TOKEN", self.lightspeed_token.as_deref()),
            ("LIGHTSPEED_BASE_URL", self.lightspeed_base_url.as_deref()),
            (
                "LIGHTSPEED_API_VERSION",
                self.lightspeed_api_version.as_deref(),
            ),
            (
                "LIGHTSPEED_RATE_LIMIT",
                self.lightspeed_rate_limit.as_deref(),
            ),
            ("LIGHTSPEED_OUTLET_ID", self.lightspeed_outlet_id.as_deref()),
            ("BC_TENANT_ID", self.bc_tenant_id.as_deref()),
            ("BC_ENVIRONMENT", self.bc_environment.as_deref()),
            ("BC_CLIENT_ID", self.bc_client_id.as_deref()),
            ("BC_CLIENT_SECRET", self.bc_client_secret.as_deref()),
            ("BC_COMPANY_ID", self.bc_company_id.as_deref()),
            ("BC_BASE_URL", self.bc_base_url.as_deref()),
            ("BC_TOKEN_URL", self.bc_token_url.as_deref()),
            ("BC_USERNAME", self.bc_username.as_deref()),
            ("BC_WEB_SERVICE_KEY", self.bc_web_service_key.as_deref()),
            ("BC_DEFAULT_CUSTOMER", self.bc_default_customer.as_deref()),
            ("TMAS_FTP_URL", self.tmas_ftp_url.as_deref()),
            ("TMAS_OUTPUT_DIR", self.tmas_output_dir.as_deref()),
            ("TMAS_LOCATION_MAP", self.tmas_location_map.as_deref()),
            ("SYNC_STATE", self.sync_state.as_deref()),
            ("SYNC_LOCK_TTL", self.sync_lock_ttl.as_deref()),
        ]
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SECRETS: [&str; 4] = [
            "LIGHTSPEED_TOKEN",
            "BC_CLIENT_SECRET",
            "BC_WEB_SERVICE_KEY",
            "TMAS_FTP_URL",
        ];
        let mut d = f.debug_struct("Settings");
        for (name, value) in self.values() {
            match value {
                Some(_) if SECRETS.contains(&name) => d.field(name, &"[redacted]"),
                Some(v) => d.field(name, &v),
                None => continue,
            };
        }
        d.finish()
    }
}

/// The parsed settings; a variable that is not a setting of the command is read from the
/// process environment.
impl Env for Settings {
    fn var(&self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.values().into_iter().find(|(n, _)| *n == name) {
            Some((_, value)) => Ok(value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())),
            None => ProcessEnv.var(name),
        }
    }
}

/// How often a command runs.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Once, then exit.
    Once,
    /// On a schedule until Ctrl-C; the text is the flag's value.
    Scheduled(Schedule, String),
}

/// The run flags of the command and the examples, as parsed from the command line (or their
/// environment variables); [`RunArgs::resolve`] turns them into [`Flags`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Run once, then exit (the default).
    #[arg(long, env = "SYNC_ONCE", conflicts_with = "schedule")]
    pub once: bool,
    /// Keep running on a schedule until Ctrl-C: "hourly at :MM", "daily at HH:MM" or a
    /// five-field cron expression, all in UTC.
    #[arg(long, env = "SYNC_SCHEDULE", value_name = "WHEN")]
    pub schedule: Option<String>,
    /// Compute and report what would be written, and write nothing (runs once).
    #[arg(long, env = "SYNC_DRY_RUN", conflicts_with = "schedule")]
    pub dry_run: bool,
    /// On a first run, read this many days back (sales and TMAS).
    #[arg(long, env = "SYNC_BACKFILL_DAYS", value_name = "DAYS")]
    pub backfill_days: Option<u32>,
}

impl RunArgs {
    /// The flags, with the schedule parsed.
    pub fn resolve(&self) -> Result<Flags, ConfigError> {
        let mode = match &self.schedule {
            Some(text) => Mode::Scheduled(parse_schedule(text)?, text.clone()),
            None => Mode::Once,
        };
        Ok(Flags {
            mode,
            dry_run: self.dry_run,
            backfill_days: self.backfill_days,
        })
    }
}

/// Runs the example once or on a schedule. Without settings it uses in-process sandboxes; the
/// accounts come from the environment variables of `pos-sync --help`.
#[derive(Debug, clap::Parser)]
struct ExampleCli {
    #[command(flatten)]
    run: RunArgs,
}

/// The command-line flags every example takes.
#[derive(Debug, Clone)]
pub struct Flags {
    /// Once or on a schedule.
    pub mode: Mode,
    /// Compute and report, write nothing.
    pub dry_run: bool,
    /// Days of backfill on a first run, when given.
    pub backfill_days: Option<u32>,
}

impl Flags {
    /// Reads the process's arguments; `--help` prints the flags and exits, and a usage error
    /// exits with status 2.
    pub fn from_args() -> Result<Self, ConfigError> {
        <ExampleCli as clap::Parser>::parse().run.resolve()
    }

    /// Parses flags (without the program name); the error names the flag at fault.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, ConfigError> {
        let argv = std::iter::once(String::from("example")).chain(args);
        <ExampleCli as clap::Parser>::try_parse_from(argv)
            .map_err(|e| usage_error(&e))?
            .run
            .resolve()
    }
}

/// A clap error as a [`ConfigError`] naming the argument at fault.
pub fn usage_error(e: &clap::Error) -> ConfigError {
    use clap::error::{ContextKind, ContextValue};
    let name = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.split([' ', '=']).next().unwrap_or(arg).to_owned(),
        _ => "arguments".to_owned(),
    };
    let problem = e.kind().as_str().unwrap_or("is not valid").to_owned();
    ConfigError::new(&name, problem)
}

/// Parses `hourly at :MM`, `daily at HH:MM` (UTC) or a five-field cron expression (UTC).
pub fn parse_schedule(text: &str) -> Result<Schedule, ConfigError> {
    let bad = |why: String| ConfigError::new("--schedule", why);
    let t = text.trim().to_lowercase();
    if let Some(rest) = t.strip_prefix("hourly at :") {
        let minute = rest
            .parse::<u32>()
            .map_err(|_| bad(format!("`{text}`: the minute is not a number")))?;
        return Schedule::hourly_at(minute).map_err(|e| bad(e.to_string()));
    }
    if let Some(rest) = t.strip_prefix("daily at ") {
        let parsed = rest
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)));
        let (h, m) = parsed.ok_or_else(|| bad(format!("`{text}`: expected daily at HH:MM")))?;
        return Schedule::daily_at(h, m, chrono_tz::UTC).map_err(|e| bad(e.to_string()));
    }
    Schedule::cron(&t, chrono_tz::UTC).map_err(|e| {
        bad(format!(
            "`{text}`: expected \"hourly at :MM\", \"daily at HH:MM\" or a cron expression ({e})"
        ))
    })
}

/// A Lightspeed X-Series store from `LIGHTSPEED_*`.
#[derive(Debug, Clone)]
pub struct LightspeedConfig {
    /// The store's domain prefix.
    pub domain_prefix: String,
    /// A personal token.
    pub token: SecretString,
    /// Overrides the URL built from the prefix.
    pub base_url: Option<String>,
    /// `LIGHTSPEED_API_VERSION` (default 2026-07).
    pub api_version: lightspeed_x::ApiVersion,
}

/// `LIGHTSPEED_API_VERSION`: `2026-07` when unset, any date version `YYYY-MM`, or `2.0` (also
/// `legacy`) for the legacy API; anything else is an error naming the variable.
pub fn lightspeed_api_version(env: &impl Env) -> Result<lightspeed_x::ApiVersion, ConfigError> {
    match env.var("LIGHTSPEED_API_VERSION")? {
        None => Ok(lightspeed_x::ApiVersion::default()),
        Some(text) => text.parse().map_err(|_| {
            ConfigError::new(
                "LIGHTSPEED_API_VERSION",
                format!("`{text}` is not a date version like 2026-07, nor 2.0 (legacy)"),
            )
        }),
    }
}

impl LightspeedConfig {
    /// `None` when no `LIGHTSPEED_*` variable is set (use the sandbox); an error when only some are.
    pub fn from_env(env: &impl Env) -> Result<Option<Self>, ConfigError> {
        let prefix = env.var("LIGHTSPEED_DOMAIN_PREFIX")?;
        let token = env.var("LIGHTSPEED_TOKEN")?;
        let base_url = env.var("LIGHTSPEED_BASE_URL")?;
        let api_version = lightspeed_api_version(env)?;
        if prefix.is_none() && token.is_none() && base_url.is_none() {
            return Ok(None);
        }
        let domain_prefix = env.required("LIGHTSPEED_DOMAIN_PREFIX")?;
        lightspeed_x::client::validate_domain_prefix(&domain_prefix)
            .map_err(|e| ConfigError::new("LIGHTSPEED_DOMAIN_PREFIX", e.to_string()))?;
        let token = SecretString::from(env.required("LIGHTSPEED_TOKEN")?);
        if let Some(url) = &base_url {
            url::Url::parse(url)
                .map_err(|e| ConfigError::new("LIGHTSPEED_BASE_URL", format!("not a URL: {e}")))?;
        }
        Ok(Some(Self {
            domain_prefix,
            token,
            base_url,
            api_version,
        }))
    }

    /// A client builder for the store (prefix, token, base URL, API version).
    pub fn client_builder(&self) -> lightspeed_x::ClientBuilder {
        let b = lightspeed_x::Client::builder()
            .domain_prefix(self.domain_prefix.clone())
            .personal_token(self.token.clone())
            .api_version(self.api_version);
        match &self.base_url {
            Some(url) => b.base_url(url),
            None => b,
        }
    }

    /// A client for the store.
    pub async fn client(&self) -> Result<lightspeed_x::Client, lightspeed_x::Error> {
        self.client_builder().build().await
    }
}

/// Where TMAS files go, from `TMAS_FTP_URL` or `TMAS_OUTPUT_DIR`.
#[derive(Debug, Clone)]
pub enum TmasTarget {
    /// An FTP or FTPS server.
    Ftp(tmas::delivery::FtpTarget),
    /// A local directory.
    Directory(PathBuf),
}

impl TmasTarget {
    /// `None` when neither variable is set; an error when both are, or when one is malformed.
    pub fn from_env(env: &impl Env) -> Result<Option<Self>, ConfigError> {
        match (env.var("TMAS_FTP_URL")?, env.var("TMAS_OUTPUT_DIR")?) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "TMAS_OUTPUT_DIR",
                "set either TMAS_FTP_URL or TMAS_OUTPUT_DIR, not both",
            )),
            (Some(url), None) => tmas::delivery::FtpTarget::from_url(&url)
                .map(|t| Some(TmasTarget::Ftp(t)))
                .map_err(|e| ConfigError::new("TMAS_FTP_URL", e.to_string())),
            (None, Some(dir)) => {
                let path = PathBuf::from(dir);
                if !path.is_dir() {
                    return Err(ConfigError::new(
                        "TMAS_OUTPUT_DIR",
                        format!("{} is not a directory", path.display()),
                    ));
                }
                Ok(Some(TmasTarget::Directory(path)))
            }
            (None, None) => Ok(None),
        }
    }

    /// As a delivery.
    pub fn delivery(&self) -> tmas::delivery::Delivery {
        match self {
            TmasTarget::Ftp(f) => tmas::delivery::Delivery::Ftp(f.clone()),
            TmasTarget::Directory(d) => {
                tmas::delivery::Delivery::Directory(tmas::delivery::DirectoryTarget::new(d))
            }
        }
    }
}

/// `TMAS_LOCATION_MAP`: `outlet=TMASID` pairs separated by commas; the outlet is its id or exact
/// name, and `off` as the id disables the outlet. Unset: the default mapping.
pub fn tmas_location_map(
    env: &impl Env,
) -> Result<Option<pos_sync_flows::lightspeed_tmas::LocationMapping>, ConfigError> {
    let Some(text) = env.var("TMAS_LOCATION_MAP")? else {
        return Ok(None);
    };
    let mut table = BTreeMap::new();
    let mut disabled = BTreeSet::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (outlet, id) = pair
            .rsplit_once('=')
            .map(|(o, i)| (o.trim(), i.trim()))
            .filter(|(o, i)| !o.is_empty() && !i.is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    "TMAS_LOCATION_MAP",
                    format!("`{pair}` is not outlet=TMASID"),
                )
            })?;
        if id.eq_ignore_ascii_case("off") {
            disabled.insert(outlet.to_owned());
        } else {
            tmas::LocationId::new(id)
                .map_err(|e| ConfigError::new("TMAS_LOCATION_MAP", format!("`{pair}`: {e}")))?;
            table.insert(outlet.to_owned(), id.to_owned());
        }
    }
    let strategy = if table.is_empty() {
        tmas::LocationIdStrategy::lightspeed_x()
    } else {
        tmas::LocationIdStrategy::Table(table)
    };
    Ok(Some(pos_sync_flows::lightspeed_tmas::LocationMapping {
        strategy,
        disabled,
    }))
}

/// The SQLite state file: `SYNC_STATE`, or `pos-sync-state.sqlite` in the working directory.
pub fn state_path(env: &impl Env) -> Result<PathBuf, ConfigError> {
    Ok(env
        .var("SYNC_STATE")?
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("pos-sync-state.sqlite")))
}

/// How a Business Central client authenticates.
#[derive(Debug, Clone)]
pub enum BcAuth {
    /// Entra client credentials (`BC_CLIENT_ID`, `BC_CLIENT_SECRET`, optional `BC_TOKEN_URL`).
    ClientCredentials {
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        secret: SecretString,
        /// Overrides the token endpoint.
        token_url: Option<String>,
    },
    /// Basic auth with a web-service access key (`BC_USERNAME`, `BC_WEB_SERVICE_KEY`).
    Basic {
        /// The user name.
        user: String,
        /// The web-service access key.
        key: SecretString,
    },
}

/// A Business Central company from `BC_*`.
#[derive(Debug, Clone)]
pub struct BusinessCentralConfig {
    /// The Entra tenant (cloud).
    pub tenant: Option<String>,
    /// The environment name (cloud, default `production`).
    pub environment: String,
    /// Overrides the environment root (everything before `/api/`), e.g. on-premises.
    pub base_url: Option<String>,
    /// How to authenticate.
    pub auth: BcAuth,
    /// The company.
    pub company: business_central::CompanyId,
}

impl BusinessCentralConfig {
    /// `None` when no `BC_*` variable is set (use the sandbox); an error naming the first
    /// missing or malformed one otherwise.
    pub fn from_env(env: &impl Env) -> Result<Option<Self>, ConfigError> {
        const ALL: [&str; 9] = [
            "BC_TENANT_ID",
            "BC_ENVIRONMENT",
            "BC_CLIENT_ID",
            "BC_CLIENT_SECRET",
            "BC_COMPANY_ID",
            "BC_BASE_URL",
            "BC_TOKEN_URL",
            "BC_USERNAME",
            "BC_WEB_SERVICE_KEY",
        ];
        let mut any = false;
        for name in ALL {
            any |= env.var(name)?.is_some();
        }
        if !any {
            return Ok(None);
        }
        let base_url = env.var("BC_BASE_URL")?;
        for (name, value) in [
            ("BC_BASE_URL", &base_url),
            ("BC_TOKEN_URL", &env.var("BC_TOKEN_URL")?),
        ] {
            if let Some(url) = value {
                url::Url::parse(url)
                    .map_err(|e| ConfigError::new(name, format!("not a URL: {e}")))?;
            }
        }
        let tenant = match &base_url {
            Some(_) => env.var("BC_TENANT_ID")?,
            None => Some(env.required("BC_TENANT_ID")?),
        };
        let auth = if env.var("BC_USERNAME")?.is_some() || env.var("BC_WEB_SERVICE_KEY")?.is_some()
        {
            BcAuth::Basic {
                user: env.required("BC_USERNAME")?,
                key: SecretString::from(env.required("BC_WEB_SERVICE_KEY")?),
            }
        } else {
            BcAuth::ClientCredentials {
                client_id: env.required("BC_CLIENT_ID")?,
                secret: SecretString::from(env.required("BC_CLIENT_SECRET")?),
                token_url: env.var("BC_TOKEN_URL")?,
            }
        };
        if matches!(auth, BcAuth::ClientCredentials { .. }) && tenant.is_none() {
            return Err(ConfigError::new(
                "BC_TENANT_ID",
                "is not set (client credentials need it)",
            ));
        }
        let company = env.required("BC_COMPANY_ID")?;
        let company = company.parse().map_err(|_| {
            ConfigError::new(
                "BC_COMPANY_ID",
                format!("`{company}` is not a company id (a GUID)"),
            )
        })?;
        Ok(Some(Self {
            tenant,
            environment: env
                .var("BC_ENVIRONMENT")?
                .unwrap_or_else(|| "production".into()),
            base_url,
            auth,
            company,
        }))
    }

    /// A client for the environment.
    pub fn client(&self) -> Result<business_central::Client, business_central::Error> {
        let mut b = business_central::Client::builder();
        b = match (&self.base_url, &self.tenant) {
            (Some(url), _) => b.base_url(url.clone()),
            (None, Some(tenant)) => b.cloud(tenant.clone(), self.environment.clone()),
            (None, None) => b,
        };
        b = match &self.auth {
            BcAuth::Basic { user, key } => b.basic_auth(user.clone(), key.clone()),
            BcAuth::ClientCredentials {
                client_id,
                secret,
                token_url,
            } => {
                let mut creds = business_central::ClientCredentials::new(
                    self.tenant.clone().unwrap_or_default(),
                    client_id.clone(),
                    secret.clone(),
                );
                if let Some(url) = token_url {
                    creds = creds.token_url(url.clone());
                }
                b.client_credentials(creds)
            }
        };
        b.build()
    }
}

/// Waits until the next time of `schedule`, or returns `false` on Ctrl-C.
pub async fn wait_for(schedule: &Schedule) -> bool {
    let now = chrono::Utc::now();
    let Some(next) = schedule.next_after(now) else {
        return false;
    };
    let wait = (next - now).to_std().unwrap_or_default();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => false,
        () = tokio::time::sleep(wait) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags() {
        let f = Flags::parse(args(&["--dry-run", "--backfill-days", "7"])).unwrap();
        assert!(f.dry_run && matches!(f.mode, Mode::Once));
        assert_eq!(f.backfill_days, Some(7));
        let f = Flags::parse(args(&["--schedule", "hourly at :02"])).unwrap();
        let Mode::Scheduled(s, _) = f.mode else {
            panic!()
        };
        let t = "2026-03-29T00:30:00Z".parse().unwrap();
        assert_eq!(
            s.next_after(t),
            Some("2026-03-29T01:02:00Z".parse().unwrap())
        );
        assert!(Flags::parse(args(&["--schedule=daily at 06:00"])).is_ok());
        let e = Flags::parse(args(&["--backfill-days", "x"])).unwrap_err();
        assert_eq!(e.name, "--backfill-days");
        assert_eq!(
            Flags::parse(args(&["--backfill-days"])).unwrap_err().name,
            "--backfill-days"
        );
        assert_eq!(
            Flags::parse(args(&["--schedule", "sometimes"]))
                .unwrap_err()
                .name,
            "--schedule"
        );
        assert_eq!(Flags::parse(args(&["--nope"])).unwrap_err().name, "--nope");
        assert_eq!(
            Flags::parse(args(&["--dry-run", "--schedule", "hourly at :02"]))
                .unwrap_err()
                .name,
            "--dry-run"
        );
    }

    #[test]
    fn lightspeed_env() {
        let none: BTreeMap<&str, &str> = BTreeMap::new();
        assert!(LightspeedConfig::from_env(&none).unwrap().is_none());
        let partial = BTreeMap::from([("LIGHTSPEED_DOMAIN_PREFIX", "shop")]);
        assert_eq!(
            LightspeedConfig::from_env(&partial).unwrap_err().name,
            "LIGHTSPEED_TOKEN"
        );
        let bad = BTreeMap::from([
            ("LIGHTSPEED_DOMAIN_PREFIX", "a b"),
            ("LIGHTSPEED_TOKEN", "t"),
        ]);
        assert_eq!(
            LightspeedConfig::from_env(&bad).unwrap_err().name,
            "LIGHTSPEED_DOMAIN_PREFIX"
        );
        let ok = BTreeMap::from([
            ("LIGHTSPEED_DOMAIN_PREFIX", "shop"),
            ("LIGHTSPEED_TOKEN", "t"),
        ]);
        let c = LightspeedConfig::from_env(&ok).unwrap().unwrap();
        assert_eq!(c.domain_prefix, "shop");
        assert_eq!(c.api_version, lightspeed_x::ApiVersion::V2026_07);
        assert!(!format!("{c:?}").contains("\"t\""), "the token is redacted");
    }

    #[test]
    fn lightspeed_api_version_setting() {
        let with = |v: &'static str| {
            BTreeMap::from([
                ("LIGHTSPEED_DOMAIN_PREFIX", "shop"),
                ("LIGHTSPEED_TOKEN", "t"),
                ("LIGHTSPEED_API_VERSION", v),
            ])
        };
        let version = |v| LightspeedConfig::from_env(&with(v)).map(|c| c.unwrap().api_version);
        assert_eq!(version("2.0").unwrap(), lightspeed_x::ApiVersion::legacy());
        assert_eq!(
            version("2026-07").unwrap(),
            lightspeed_x::ApiVersion::V2026_07
        );
        assert_eq!(version("2026-10").unwrap().to_string(), "2026-10");
        for bad in ["2.1", "2026-13", "july", "2026/07"] {
            let e = version(bad).unwrap_err();
            assert_eq!(e.name, "LIGHTSPEED_API_VERSION", "{bad}");
            assert!(e.problem.contains(bad), "{e}");
        }
        // Read (and refused when malformed) even when the sandbox is used.
        let alone = BTreeMap::from([("LIGHTSPEED_API_VERSION", "2.0")]);
        assert!(LightspeedConfig::from_env(&alone).unwrap().is_none());
        assert_eq!(
            lightspeed_api_version(&alone).unwrap(),
            lightspeed_x::ApiVersion::LEGACY
        );
        let bad = BTreeMap::from([("LIGHTSPEED_API_VERSION", "3")]);
        assert_eq!(
            LightspeedConfig::from_env(&bad).unwrap_err().name,
            "LIGHTSPEED_API_VERSION"
        );
    }

    #[tokio::test]
    async fn the_client_speaks_the_configured_version() {
        let env = BTreeMap::from([
            ("LIGHTSPEED_DOMAIN_PREFIX", "shop"),
            ("LIGHTSPEED_TOKEN", "t"),
            ("LIGHTSPEED_API_VERSION", "2.0"),
        ]);
        let c = LightspeedConfig::from_env(&env).unwrap().unwrap();
        let client = c.client().await.unwrap();
        assert_eq!(client.api_version(), lightspeed_x::ApiVersion::LEGACY);
    }

    #[test]
    fn tmas_env() {
        let both = BTreeMap::from([
            ("TMAS_FTP_URL", "ftp://a:b@h/"),
            ("TMAS_OUTPUT_DIR", "/tmp"),
        ]);
        assert_eq!(
            TmasTarget::from_env(&both).unwrap_err().name,
            "TMAS_OUTPUT_DIR"
        );
        let missing = BTreeMap::from([("TMAS_OUTPUT_DIR", "/no/such/dir")]);
        assert_eq!(
            TmasTarget::from_env(&missing).unwrap_err().name,
            "TMAS_OUTPUT_DIR"
        );
        let bad = BTreeMap::from([("TMAS_FTP_URL", "http://x/")]);
        assert_eq!(TmasTarget::from_env(&bad).unwrap_err().name, "TMAS_FTP_URL");

        let map = BTreeMap::from([(
            "TMAS_LOCATION_MAP",
            "Main Street=0001, abc-123=0002,Popup=off",
        )]);
        let m = tmas_location_map(&map).unwrap().unwrap();
        assert!(m.disabled.contains("Popup"));
        assert_eq!(m.strategy.map("Main Street").unwrap().as_str(), "0001");
        let bad = BTreeMap::from([("TMAS_LOCATION_MAP", "Main Street")]);
        assert_eq!(
            tmas_location_map(&bad).unwrap_err().name,
            "TMAS_LOCATION_MAP"
        );
        let bad = BTreeMap::from([("TMAS_LOCATION_MAP", "a=x y")]);
        assert_eq!(
            tmas_location_map(&bad).unwrap_err().name,
            "TMAS_LOCATION_MAP"
        );
    }

    #[test]
    fn business_central_env() {
        let none: BTreeMap<&str, &str> = BTreeMap::new();
        assert!(BusinessCentralConfig::from_env(&none).unwrap().is_none());
        let partial = BTreeMap::from([("BC_TENANT_ID", "t")]);
        assert_eq!(
            BusinessCentralConfig::from_env(&partial).unwrap_err().name,
            "BC_CLIENT_ID"
        );
        let mut ok = BTreeMap::from([
            ("BC_TENANT_ID", "t"),
            ("BC_CLIENT_ID", "c"),
            ("BC_CLIENT_SECRET", "s3cret"),
            ("BC_COMPANY_ID", "not-a-guid"),
        ]);
        assert_eq!(
            BusinessCentralConfig::from_env(&ok).unwrap_err().name,
            "BC_COMPANY_ID"
        );
        ok.insert("BC_COMPANY_ID", "6f7a1c2e-0000-4000-8000-000000000001");
        let c = BusinessCentralConfig::from_env(&ok).unwrap().unwrap();
        assert_eq!(c.environment, "production");
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the secret is redacted"
        );
        assert!(c.client().is_ok());
        let basic = BTreeMap::from([
            ("BC_BASE_URL", "https://bc.example.com:7048/bc"),
            ("BC_USERNAME", "admin"),
            ("BC_COMPANY_ID", "6f7a1c2e-0000-4000-8000-000000000001"),
        ]);
        assert_eq!(
            BusinessCentralConfig::from_env(&basic).unwrap_err().name,
            "BC_WEB_SERVICE_KEY"
        );
    }
}
