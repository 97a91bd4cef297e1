//! Ready-made flows between the APIs, on the [`sync_core`] engine, one feature per flow pair
//! (both on by default).
//!
//! | flow | feature |
//! |---|---|
//! | customers, products and sales from Lightspeed to Business Central; stock from Business Central to Lightspeed | `lightspeed-business-central` |
//! | sales, transactions, items and staff hours from Lightspeed to TMAS | `lightspeed-tmas` |
//!
//! Each flow implements [`sync_core::run::Flow`]: hand it to a [`sync_core::run::Runner`] with a
//! [`sync_core::state::StateStore`].
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "lightspeed-business-central")]
#[cfg_attr(docsrs, doc(cfg(feature = "lightspeed-business-central")))]
pub mod lightspeed_business_central;
#[cfg(feature = "lightspeed-tmas")]
#[cfg_attr(docsrs, doc(cfg(feature = "lightspeed-tmas")))]
pub mod lightspeed_tmas;
