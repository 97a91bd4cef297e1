//! Typed models of the API 2.0 objects, and the request bodies the client sends.
//!
//! Every struct tolerates missing and unknown fields; money and quantities are [`Decimal`]
//! decoded from numbers or strings; timestamps go through [`crate::decode::parse_timestamp`].
//!
//! [`Decimal`]: rust_decimal::Decimal

mod consignment;
mod customer;
mod inventory;
mod outlet;
mod payment_type;
mod product;
mod register;
mod retailer;
mod sale;
mod sale_wire;
mod shift;
mod tax;
mod user;
mod webhook;

pub use consignment::*;
pub use customer::*;
pub use inventory::*;
pub use outlet::*;
pub use payment_type::*;
pub use product::*;
pub use register::*;
pub use retailer::*;
pub use sale::*;
pub use shift::*;
pub use tax::*;
pub use user::*;
pub use webhook::*;

use crate::ids::Version;
use serde::{Deserialize, Serialize};

/// An object that carries the global `version` counter, so a list can be resumed from it.
pub trait Versioned {
    /// The object's version, if the API sent one.
    fn version(&self) -> Option<Version>;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl $crate::models::Versioned for $t {
            fn version(&self) -> Option<$crate::ids::Version> { self.version }
        }
    )*};
}
pub(crate) use versioned;

/// A `{key, value}` attribute pair (outlets, products).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attribute {
    /// Attribute key.
    pub key: String,
    /// Attribute value (any JSON).
    pub value: serde_json::Value,
}

#[cfg(test)]
mod tests;
