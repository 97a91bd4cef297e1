//! Identifier newtypes. X-Series ids are opaque strings (mostly UUIDs, some numeric "flake" ids),
//! so each is kept as the exact text the API sent.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps an id string.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as the API writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

id_type! {
    /// A retailer (store account) id.
    RetailerId;
    /// An outlet id.
    OutletId;
    /// A register id.
    RegisterId;
    /// A user id.
    UserId;
    /// A product (or variant) id.
    ProductId;
    /// A brand id.
    BrandId;
    /// A supplier id.
    SupplierId;
    /// A product category (formerly product type) id.
    ProductTypeId;
    /// A tag id (shown as `categories` on products).
    TagId;
    /// A tax (tax group) id.
    TaxId;
    /// A tax rate id.
    TaxRateId;
    /// A customer id.
    CustomerId;
    /// A customer group id.
    CustomerGroupId;
    /// A sale id.
    SaleId;
    /// A sale line item id.
    LineItemId;
    /// A sale payment id.
    PaymentId;
    /// A retailer payment type id.
    PaymentTypeId;
    /// An inventory record id.
    InventoryId;
    /// A consignment id.
    ConsignmentId;
    /// A shift (clock-in) id.
    ShiftId;
    /// A webhook id.
    WebhookId;
    /// A product image id.
    ImageId;
}

/// The global change counter every 2.0 object carries; the cursor for incremental reads.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Version(pub i64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<i64> for Version {
    fn from(v: i64) -> Self {
        Version(v)
    }
}
