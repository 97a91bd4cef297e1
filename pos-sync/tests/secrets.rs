//! Secrets never leak: every flow (products, customers, sales, stock, TMAS) runs with sentinel
//! secrets (a Lightspeed personal token, the Lightspeed client secret that also signs webhooks,
//! OAuth tokens, a Business Central client secret, an FTP password, a database password in a URL),
//! including runs where a secret is refused. Everything is captured: a TRACE-level `tracing`
//! subscriber, the `Debug` and `Display` of every config, client, flow, error and report, the
//! activity log, the raw SQLite state file, and the output of the `pos-sync` command at TRACE.
//! No sentinel appears anywhere. Nor do the customers' e-mail addresses and names: personal data is
//! redacted by default, in the activity log and everywhere else.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use business_central::auth::ClientCredentials;
use business_central::sandbox::Sandbox as BcSandbox;
use lightspeed_x::oauth::{MemoryTokenStore, TokenStore};
use lightspeed_x::sandbox::{DemoData, Sandbox as LsSandbox, SandboxConfig};
use pos_http::{ExposeSecret, SecretString};
use pos_sync::{BusinessCentralConfig, LightspeedConfig, TmasTarget};
use pos_sync_flows::lightspeed_business_central::{
    Accounts, CustomerOptions, CustomersFlow, ProductOptions, ProductsFlow, SalesFlow,
    SalesOptions, StockFlow, StockOptions,
};
use pos_sync_flows::lightspeed_tmas::{LightspeedToTmas, TmasOptions};
use sync_core::log::ActivityQuery;
use sync_core::run::{Flow, Runner};
use sync_core::state::{SqliteStore, StateStore};
use tmas::delivery::FtpTarget;
use tmas::sandbox::{FtpSandbox, ImportSettings};

const LS_TOKEN: &str = "lsxs_pt_SENTINEL0LSTOKEN4d1f";
const LS_CLIENT_SECRET: &str = "SENTINEL1LSCLIENTSECRET9e2a";
const BC_WRONG_SECRET: &str = "SENTINEL2BCSECRET0b7c";
const FTP_PASSWORD: &str = "SENTINEL3FTPPASSWORD5c8d";
const DB_PASSWORD: &str = "SENTINEL4DBPASSWORD1f6e";
/// The client secret the Business Central sandbox accepts (used by the runs that succeed).
const BC_SECRET: &str = business_central::sandbox::CLIENT_SECRET;

/// Everything captured, as text.
#[derive(Default)]
struct Capture {
    parts: Vec<(String, String)>,
}

impl Capture {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.parts.push((what.into(), text.into()));
    }
    fn debug_display<T: std::fmt::Debug + std::fmt::Display>(&mut self, what: &str, v: &T) {
        self.add(format!("{what} (Debug)"), format!("{v:?} {v:#?}"));
        self.add(format!("{what} (Display)"), v.to_string());
    }
    fn debug<T: std::fmt::Debug>(&mut self, what: &str, v: &T) {
        self.add(format!("{what} (Debug)"), format!("{v:?} {v:#?}"));
    }
    /// Panics naming where a sentinel appeared.
    fn assert_free_of(&self, sentinels: &[(&str, String)]) {
        for (what, text) in &self.parts {
            for (name, s) in sentinels {
                assert!(
                    !text.contains(s.as_str()),
                    "the {name} appears in {what}: …{}…",
                    context(text, s)
                );
            }
        }
    }
}

fn context(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let chars: Vec<char> = text[..at].chars().rev().take(80).collect();
    let before: String = chars.into_iter().rev().collect();
    let after: String = text[at..].chars().take(needle.len() + 80).collect();
    format!("{before}{after}")
}

/// The TRACE-level log of this test process.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn demo() -> DemoData {
    DemoData {
        seed: 3,
        outlets: vec![("Amsterdam Centrum".into(), chrono_tz::Europe::Amsterdam)],
        product_families: 9,
        customers: 40,
        days: 3,
        sales_per_day: 15,
        ..DemoData::default()
    }
}

fn flows(a: &Accounts) -> Vec<Box<dyn Flow>> {
    vec![
        Box::new(ProductsFlow::new(a.clone(), ProductOptions::default())),
        Box::new(CustomersFlow::new(a.clone(), CustomerOptions::default())),
        Box::new(SalesFlow::new(
            a.clone(),
            SalesOptions {
                default_customer_number: Some("10000".into()),
                ..SalesOptions::default()
            },
        )),
        Box::new(StockFlow::new(a.clone(), StockOptions::default())),
    ]
}

fn tmas_flow(client: lightspeed_x::Client, target: FtpTarget) -> LightspeedToTmas {
    let at: chrono::DateTime<chrono::Utc> = "2026-01-15T12:00:00Z".parse().unwrap();
    LightspeedToTmas::new(client, target)
        .with_options(TmasOptions::default())
        .unwrap()
        .with_clock(move || at)
}

/// Reads a file and its WAL as text (lossy): what anyone with the file could read.
fn raw_state(path: &std::path::Path) -> String {
    let mut out = String::new();
    for suffix in ["", "-wal"] {
        let p = format!("{}{suffix}", path.display());
        if let Ok(bytes) = std::fs::read(&p) {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_and_no_personal_data_leaks() {
    let trace = Buffer::default();
    let writer = trace.clone();
    // Everything at TRACE, except the FTP client's dump of its control channel (`PASS` and the
    // password): as the `pos-sync` command does, suppaftp is kept at DEBUG (see RELIABILITY.md).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,suppaftp=debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let mut cap = Capture::default();

    let ls = LsSandbox::start_with(
        SandboxConfig {
            personal_token: Some(LS_TOKEN.into()),
            client_secret: LS_CLIENT_SECRET.into(),
            ..SandboxConfig::default()
        },
        Some(demo()),
    )
    .await
    .unwrap();
    let bc = BcSandbox::start().await.unwrap();
    let ftp = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let store = Arc::new(SqliteStore::open(&state).await.unwrap());
    let runner = Runner::new(store.clone());
    cap.debug("runner", &runner);

    // Configuration as a user gives it, through the examples' config readers.
    let env = BTreeMap::from([
        ("LIGHTSPEED_DOMAIN_PREFIX", "demo"),
        ("LIGHTSPEED_TOKEN", LS_TOKEN),
        ("BC_TENANT_ID", business_central::sandbox::TENANT),
        ("BC_CLIENT_ID", business_central::sandbox::CLIENT_ID),
        ("BC_CLIENT_SECRET", BC_SECRET),
        ("BC_COMPANY_ID", "6f7a1c2e-0000-4000-8000-000000000001"),
    ]);
    let ls_url = ls.base_url().to_string();
    let bc_url = bc.base_url();
    let token_url = bc.token_url();
    let mut env_ls = env.clone();
    env_ls.insert("LIGHTSPEED_BASE_URL", &ls_url);
    let ls_config = LightspeedConfig::from_env(&env_ls).unwrap().unwrap();
    cap.debug("LightspeedConfig", &ls_config);
    let mut env_bc = env.clone();
    env_bc.insert("BC_BASE_URL", &bc_url);
    env_bc.insert("BC_TOKEN_URL", &token_url);
    let bc_config = BusinessCentralConfig::from_env(&env_bc).unwrap().unwrap();
    cap.debug("BusinessCentralConfig", &bc_config);
    let ftp_url = format!("ftp://{}:{FTP_PASSWORD}@{}/", FtpSandbox::USER, ftp.addr());
    let wrong_ftp = TmasTarget::from_env(&BTreeMap::from([("TMAS_FTP_URL", ftp_url.as_str())]))
        .unwrap()
        .unwrap();
    cap.debug("TmasTarget", &wrong_ftp);
    let bad_config = BusinessCentralConfig::from_env(&BTreeMap::from([
        ("BC_TENANT_ID", "t"),
        ("BC_CLIENT_SECRET", BC_WRONG_SECRET),
    ]))
    .unwrap_err();
    cap.debug_display("a configuration error", &bad_config);

    // Every flow, with the sentinel Lightspeed token and the Business Central secret.
    let lightspeed = ls_config.client().await.unwrap();
    let business_central = bc.client_builder().build().unwrap();
    let a = Accounts::new(lightspeed.clone(), business_central, bc.company_id());
    cap.debug("Accounts", &a);
    cap.debug("Lightspeed client", &lightspeed);
    for f in flows(&a) {
        let r = runner.run_once(f.as_ref(), "demo").await.unwrap();
        assert!(r.is_success(), "{r}: {:?}", r.failed);
        assert!(r.requests > 0, "{r}");
        cap.debug_display(&format!("report of {}", f.name()), &r);
    }
    // TMAS with the flow's defaults, to the sandbox's default account: accepted.
    let tmas = tmas_flow(lightspeed.clone(), ftp.target());
    let r = runner.run_once(&tmas, "demo").await.unwrap();
    assert!(r.is_success(), "{r}: {:?}", r.failed);
    assert!(!ftp.imports().is_empty());
    for i in ftp.imports() {
        assert!(
            i.result.is_ok(),
            "the default TMAS account reads the flow's default files: {i:?}"
        );
    }
    assert!(
        ftp.summary_rows()
            .iter()
            .any(|r| r.totals.staff_hours.is_some())
    );
    cap.debug_display("report of TMAS", &r);
    cap.debug("TMAS flow", &tmas.last_run());

    // TMAS with a refused FTP password: the outlets fail, reported without the password.
    let TmasTarget::Ftp(wrong) = wrong_ftp else {
        unreachable!()
    };
    let refused = tmas_flow(lightspeed.clone(), wrong.clone());
    let r = runner.run_once(&refused, "ftp-refused").await.unwrap();
    assert!(!r.is_success(), "{r}");
    cap.debug_display("report of TMAS with a refused password", &r);
    cap.debug("FtpTarget", &wrong);

    // Business Central refusing a sentinel secret.
    let refused = ClientCredentials::new(
        business_central::sandbox::TENANT,
        business_central::sandbox::CLIENT_ID,
        SecretString::from(BC_WRONG_SECRET),
    )
    .token_url(bc.token_url());
    cap.debug("ClientCredentials", &refused);
    let rejected = bc
        .client_builder()
        .client_credentials(refused)
        .build()
        .unwrap();
    cap.debug("Business Central client", &rejected);
    let a2 = Accounts::new(lightspeed.clone(), rejected.clone(), bc.company_id());
    let r = runner
        .run_once(
            &CustomersFlow::new(a2, CustomerOptions::default()),
            "bc-refused",
        )
        .await
        .unwrap();
    assert!(!r.is_success(), "{r}");
    cap.debug_display("report of a refused Business Central secret", &r);
    let e = rejected
        .companies()
        .list_all(Default::default())
        .await
        .unwrap_err();
    cap.debug_display("Business Central error", &e);

    // Lightspeed OAuth: the client secret and the issued tokens.
    let redirect = "https://app.example/callback";
    let app = ls.oauth_app(redirect);
    cap.debug("OAuthApp", &app);
    let callback = app
        .parse_callback(
            &ls.approve(redirect, "state-0123456789"),
            "state-0123456789",
        )
        .unwrap();
    let tokens = MemoryTokenStore::new();
    let set = app.exchange_code(&callback).await.unwrap();
    cap.debug("TokenSet", &set);
    tokens.save(&set).await.unwrap();
    cap.debug("MemoryTokenStore", &tokens);
    let oauth = lightspeed_x::Client::builder()
        .base_url(ls.base_url().as_str())
        .domain_prefix("demo")
        .oauth(app.clone(), Arc::new(tokens.clone()))
        .unlimited()
        .build()
        .await
        .unwrap();
    ls.expire_access_tokens(); // the run refreshes: a new pair, also secret
    let a3 = Accounts::new(oauth.clone(), bc.client(), bc.company_id());
    let r = runner
        .run_once(&CustomersFlow::new(a3, CustomerOptions::default()), "oauth")
        .await
        .unwrap();
    assert!(r.is_success(), "{r}");
    cap.debug_display("report of the OAuth run", &r);
    let refreshed = tokens.get("demo").unwrap();
    assert_ne!(
        refreshed.access_token.expose_secret(),
        set.access_token.expose_secret()
    );
    let e = app
        .refresh("demo", &set.refresh_token)
        .await
        .expect_err("a rotated refresh token is refused");
    cap.debug_display("OAuth error", &e);

    // A webhook signed with the client secret; one with a bad signature is refused.
    let body = b"payload=%7B%22id%22%3A%221%22%7D&type=customer.update&domain_prefix=demo";
    let secret = SecretString::from(LS_CLIENT_SECRET);
    let signature = lightspeed_x::webhook::sign(&secret, body);
    lightspeed_x::webhook::verify_signature(&secret, &signature, body).unwrap();
    let e = lightspeed_x::webhook::verify_signature(
        &secret,
        "signature=00,algorithm=HMAC-SHA256",
        body,
    )
    .unwrap_err();
    cap.debug_display("webhook error", &e);
    cap.add("webhook signature", signature);

    // A database URL with a password, refused: the error does not repeat it.
    let url = SecretString::from(format!(
        "postgres://sync:{DB_PASSWORD}@127.0.0.1:1/sync?connect_timeout=2"
    ));
    let e = sync_core::state::PostgresStore::connect(&url)
        .await
        .expect_err("nothing listens on port 1");
    cap.debug_display("PostgreSQL error", &e);

    // The activity log and run history, and the state file as bytes.
    let activity = store
        .query_activity(&ActivityQuery::default())
        .await
        .unwrap();
    assert!(activity.len() > 100, "{} entries", activity.len());
    cap.add("activity log", serde_json::to_string(&activity).unwrap());
    for flow in [
        "lightspeed-customers-to-business-central",
        "lightspeed-to-tmas",
    ] {
        for tenant in ["demo", "oauth", "bc-refused", "ftp-refused"] {
            let runs = store
                .runs(&sync_core::state::Scope::new(flow, tenant), 10)
                .await
                .unwrap();
            cap.add(
                format!("run history of {flow}/{tenant}"),
                serde_json::to_string(&runs).unwrap(),
            );
        }
    }
    drop(runner);
    cap.add("SQLite state file", raw_state(&state));

    // The `pos-sync` command at TRACE level, with the sentinels in its environment; its TMAS
    // target refuses the password.
    let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--flows", "customers,tmas"])
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("LIGHTSPEED_DOMAIN_PREFIX", "demo")
        .env("LIGHTSPEED_TOKEN", LS_TOKEN)
        .env("LIGHTSPEED_BASE_URL", &ls_url)
        .env("BC_BASE_URL", &bc_url)
        .env("BC_TOKEN_URL", &token_url)
        .env("BC_TENANT_ID", business_central::sandbox::TENANT)
        .env("BC_CLIENT_ID", business_central::sandbox::CLIENT_ID)
        .env("BC_CLIENT_SECRET", BC_SECRET)
        .env("BC_COMPANY_ID", bc.company_id().to_string())
        .env("TMAS_FTP_URL", &ftp_url)
        .env("SYNC_STATE", dir.path().join("child.sqlite"))
        .output()
        .unwrap();
    let child = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the TMAS upload is refused:\n{child}"
    );
    assert!(
        child.contains("TRACE") && child.contains("created"),
        "{child}"
    );
    cap.add("pos-sync output", child);
    cap.add(
        "pos-sync state file",
        raw_state(&dir.path().join("child.sqlite")),
    );

    let log = String::from_utf8_lossy(&trace.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("TRACE") && log.contains("/api/2026-07/customers"),
        "the subscriber captured the requests"
    );
    cap.add("TRACE log", log);

    let mut sentinels: Vec<(&str, String)> = vec![
        ("Lightspeed personal token", LS_TOKEN.into()),
        ("Lightspeed client secret", LS_CLIENT_SECRET.into()),
        ("Business Central client secret", BC_SECRET.into()),
        ("refused Business Central secret", BC_WRONG_SECRET.into()),
        ("FTP password", FTP_PASSWORD.into()),
        ("database password", DB_PASSWORD.into()),
    ];
    for (name, s) in [
        ("OAuth access token", &set.access_token),
        ("OAuth refresh token", &set.refresh_token),
        ("refreshed access token", &refreshed.access_token),
        ("refreshed refresh token", &refreshed.refresh_token),
    ] {
        sentinels.push((name, s.expose_secret().to_owned()));
    }
    cap.assert_free_of(&sentinels);

    // Personal data: the customers' e-mail addresses and names (redacted by default).
    let st = ls.state();
    let mut personal = Vec::new();
    for c in st.customers().live() {
        if let Some(e) = c.email.filter(|e| !e.is_empty()) {
            personal.push(("a customer's e-mail address", e));
        }
        if let (Some(f), Some(l)) = (c.first_name, c.last_name) {
            personal.push(("a customer's name", format!("{f} {l}")));
        }
    }
    drop(st);
    assert!(personal.len() > 40);
    // Not in the activity log, nor anywhere else captured (logs, reports, the state files).
    cap.assert_free_of(&personal);
}
