//! The command line: `--help` names every setting without showing a secret's value, and usage
//! errors exit with status 2.

use std::process::Command;

const SECRET: &str = "sentinel-secret-4f1c9";

#[test]
fn help_lists_the_settings_and_hides_secret_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .arg("--help")
        .env_clear()
        .env("LIGHTSPEED_TOKEN", SECRET)
        .env("BC_CLIENT_SECRET", SECRET)
        .env("BC_WEB_SERVICE_KEY", SECRET)
        .env("TMAS_FTP_URL", format!("ftp://u:{SECRET}@h/"))
        .env("LIGHTSPEED_DOMAIN_PREFIX", "shown-prefix")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{help}");
    assert!(!help.contains(SECRET), "{help}");
    assert!(
        help.contains("shown-prefix"),
        "non-secret values are shown: {help}"
    );
    for flag in [
        "--once",
        "--schedule",
        "--dry-run",
        "--backfill-days",
        "--flows",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["--nope"][..],
        &["--flows", "nope"],
        &["--once", "--schedule", "hourly at :02"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // A configuration error (no Lightspeed store configured) is status 2 as well.
    let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LIGHTSPEED_DOMAIN_PREFIX"));
}
