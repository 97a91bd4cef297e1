//! Ready-made flows between the APIs, each behind the features of the clients it uses.
//!
//! | flow | features |
//! |---|---|
//! | customers, products and sales from Lightspeed to Business Central; stock from Business Central to Lightspeed | `lightspeed-x` + `business-central` |
//! | sales, transactions, items and staff hours from Lightspeed to TMAS | `lightspeed-x` + `tmas` |
#[cfg(all(feature = "lightspeed-x", feature = "business-central"))]
pub mod lightspeed_business_central;
#[cfg(all(feature = "lightspeed-x", feature = "tmas"))]
pub mod lightspeed_tmas;
