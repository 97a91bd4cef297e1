//! Checks API traffic against the official specifications.
//!
//! The sandboxes are written by us, like the clients, so a client bug could hide behind a matching sandbox
//! bug. This crate is the referee: it reads the official documents (Lightspeed's OpenAPI specs, Business
//! Central's `$metadata`) and says whether a request or a response matches them.
//!
//! The official files are not copied into this repository. They are found in a reference folder:
//! `POS_SYNC_REFERENCE_DIR` when set, otherwise `../shared/reference` beside the workspace root.
//! - [`reference_dir`] answers `None` when the folder is missing (a sandbox then checks nothing);
//! - [`require_reference_dir`] is for the contract tests: it fails with a message naming the path, unless
//!   `POS_SYNC_SKIP_SPEC_TESTS=1` opts out explicitly.

use std::path::{Path, PathBuf};

pub mod metadata;
pub mod openapi;

/// The environment variable that names the reference folder.
pub const REFERENCE_DIR_VAR: &str = "POS_SYNC_REFERENCE_DIR";
/// The environment variable that, set to `1`, lets the contract tests pass without the reference folder.
pub const SKIP_VAR: &str = "POS_SYNC_SKIP_SPEC_TESTS";

/// Where the reference folder is expected: `POS_SYNC_REFERENCE_DIR`, or `../shared/reference` beside the
/// workspace root.
pub fn expected_reference_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(REFERENCE_DIR_VAR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    // This crate sits one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("reference")
}

/// The reference folder, when it exists.
pub fn reference_dir() -> Option<PathBuf> {
    let dir = expected_reference_dir();
    dir.join("README.md").is_file().then_some(dir)
}

/// Whether the user opted out of the contract tests (`POS_SYNC_SKIP_SPEC_TESTS=1`).
pub fn skip_requested() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1")
}

/// The reference folder for a contract test: `None` only when the user opted out; panics with the
/// expected path when the folder is missing otherwise.
pub fn require_reference_dir() -> Option<PathBuf> {
    if let Some(dir) = reference_dir() {
        return Some(dir);
    }
    if skip_requested() {
        eprintln!("{SKIP_VAR}=1: the official specifications are not checked");
        return None;
    }
    panic!(
        "the official specifications were not found at {} (set {REFERENCE_DIR_VAR} to the folder that \
         holds lightspeed-x/openapi and business-central/metadata, or {SKIP_VAR}=1 to skip these checks)",
        expected_reference_dir().display()
    );
}
