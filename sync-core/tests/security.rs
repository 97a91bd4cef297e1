//! Security properties of the build and of the state on disk: the SQLite state file (it holds
//! tokens) is readable by its owner only, also when it existed before with a looser mode; and the
//! dependency graph has rustls only (no OpenSSL, no native-tls).

#![cfg(feature = "sqlite")]

use std::collections::BTreeSet;

use secrecy::{ExposeSecret, SecretString};
use sync_core::state::{SqliteStore, StateStore};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn the_token_store_file_is_private_even_when_it_was_not() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");

    // New: created 0600, and its write-ahead log with it.
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .save_token("shop", "lightspeed", &SecretString::from("rt-1"))
        .await
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("state.sqlite-wal");
    assert_eq!(mode(&wal), 0o600);

    // Loosened by someone (a copy, a umask, a chmod): opening restores 0600 on every file.
    for p in [&path, &wal] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let shm = dir.path().join("state.sqlite-shm");
    if shm.exists() {
        std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&wal), 0o600);
    if shm.exists() {
        assert_eq!(mode(&shm), 0o600);
    }
    let token = again
        .load_token("shop", "lightspeed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.expose_secret(), "rt-1");

    // A pre-existing empty file (e.g. made by `touch`) with a loose mode becomes the store, 0600.
    let touched = dir.path().join("touched.sqlite");
    std::fs::write(&touched, b"").unwrap();
    std::fs::set_permissions(&touched, std::fs::Permissions::from_mode(0o666)).unwrap();
    let _store = SqliteStore::open(&touched).await.unwrap();
    assert_eq!(mode(&touched), 0o600);
}

/// Packages that would bring OpenSSL or the platform's TLS instead of rustls.
const FORBIDDEN: [&str; 7] = [
    "openssl",
    "openssl-sys",
    "openssl-src",
    "native-tls",
    "tokio-native-tls",
    "hyper-tls",
    "postgres-native-tls",
];

/// Package names in a Cargo.lock.
fn locked_packages(lock: &str) -> BTreeSet<String> {
    lock.lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn only_rustls_is_in_the_dependency_graph() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).unwrap();
    let packages = locked_packages(&lock);
    assert!(packages.contains("rustls"), "rustls is the TLS stack");
    assert!(packages.contains("sync-core") && packages.len() > 100);
    for name in FORBIDDEN {
        assert!(!packages.contains(name), "{name} is in Cargo.lock");
    }

    // Cargo.lock lists every package of every feature and platform, so this covers the
    // optional ones too (PostgreSQL, the FTP client, the sandboxes).
    for p in ["reqwest", "tokio-rustls", "suppaftp", "tokio-postgres"] {
        assert!(packages.contains(p), "{p}");
    }
}
