//! The `pos-sync` command a retailer runs, as a library: its configuration (command line and
//! environment), and the webhook receiver that starts near-real-time runs.
//!
//! Install the command with `cargo install --path pos-sync`; `pos-sync --help` lists every
//! setting with its environment variable. The [`config`] module reads the same settings for
//! programs of your own; [`webhooks`] serves the Lightspeed and Business Central webhooks.
//! Without the `demo` feature this crate carries no sandbox.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
#[cfg(feature = "demo")]
#[cfg_attr(docsrs, doc(cfg(feature = "demo")))]
pub mod demo;
pub mod webhooks;

pub use config::*;
#[cfg(feature = "demo")]
pub use demo::BcSetup;
