//! String enums of the API. Each has an `Other` variant so a new value never breaks decoding.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version of the crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(s) => s,
                }
            }
            /// Parses a value (case-insensitive); unknown values become `Other`.
            pub fn parse(s: &str) -> Self {
                $(if s.eq_ignore_ascii_case($text) { return Self::$variant; })*
                Self::Other(s.to_owned())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // `null` (where a non-optional field is sent empty) is an unknown, empty value.
                let s = Option::<String>::deserialize(d)?.unwrap_or_default();
                Ok(Self::parse(&s))
            }
        }
    };
}

string_enum! {
    /// Whether an outlet shows prices with or without tax.
    DisplayPrices { /// Tax-inclusive prices.
        Inclusive = "inclusive", /// Tax-exclusive prices.
        Exclusive = "exclusive" }
}

string_enum! {
    /// A user's account type.
    AccountType { /// A cashier.
        Cashier = "cashier", /// A manager.
        Manager = "manager", /// An administrator.
        Admin = "admin" }
}

string_enum! {
    /// The kind of a product code.
    ProductCodeType { /// A retailer-defined code.
        Custom = "CUSTOM", /// EAN barcode.
        Ean = "EAN", /// ISBN.
        Isbn = "ISBN", /// ITF barcode.
        Itf = "ITF", /// JAN barcode.
        Jan = "JAN", /// UPC barcode.
        Upc = "UPC" }
}

string_enum! {
    /// The legacy sale status.
    SaleStatus {
        /// Parked.
        Saved = "SAVED", /// Completed.
        Closed = "CLOSED", /// On account, open.
        OnAccount = "ONACCOUNT", /// Layby, open.
        Layby = "LAYBY", /// On account, paid.
        OnAccountClosed = "ONACCOUNT_CLOSED", /// Layby, paid.
        LaybyClosed = "LAYBY_CLOSED", /// Waiting to be shipped.
        AwaitingDispatch = "AWAITING_DISPATCH", /// Waiting for pickup.
        AwaitingPickup = "AWAITING_PICKUP", /// Shipped.
        DispatchedClosed = "DISPATCHED_CLOSED", /// Picked up.
        PickedUpClosed = "PICKED_UP_CLOSED", /// Voided.
        Voided = "VOIDED", /// Service order, open.
        Service = "SERVICE", /// Service order, done.
        ServiceClosed = "SERVICE_CLOSED", /// Open (legacy).
        Open = "OPEN"
    }
}

string_enum! {
    /// The sale state.
    SaleState { /// Parked (saved, not completed).
        Parked = "parked", /// In progress (on account, layby, delivery, pickup, service).
        Pending = "pending", /// Voided: items back in stock, payments deleted.
        Voided = "voided", /// Completed.
        Closed = "closed" }
}

string_enum! {
    /// A sale attribute (qualifies the state).
    SaleAttribute { /// On account.
        OnAccount = "onaccount", /// Layby.
        Layby = "layby", /// For delivery.
        Delivery = "delivery", /// For pickup.
        Pickup = "pickup", /// A service order.
        Service = "service" }
}

string_enum! {
    /// The status of a sale line item.
    LineItemStatus { /// Saved.
        Saved = "SAVED", /// Voided.
        Voided = "VOIDED", /// Confirmed.
        Confirmed = "CONFIRMED" }
}

string_enum! {
    /// The kind of a consignment.
    ConsignmentType { /// A stock order from a supplier.
        Supplier = "SUPPLIER", /// A transfer between outlets.
        Outlet = "OUTLET", /// An inventory count.
        Stocktake = "STOCKTAKE", /// A return to a supplier.
        Return = "RETURN" }
}

string_enum! {
    /// The status of a consignment.
    ConsignmentStatus { /// Open.
        Open = "OPEN", /// Sent.
        Sent = "SENT", /// Dispatched.
        Dispatched = "DISPATCHED", /// Received.
        Received = "RECEIVED", /// Count scheduled.
        StocktakeScheduled = "STOCKTAKE_SCHEDULED", /// Count in progress.
        StocktakeInProgress = "STOCKTAKE_IN_PROGRESS", /// Count processed.
        StocktakeInProgressProcessed = "STOCKTAKE_IN_PROGRESS_PROCESSED", /// Count complete.
        StocktakeComplete = "STOCKTAKE_COMPLETE", /// Closed.
        Closed = "CLOSED", /// Cancelled.
        Cancelled = "CANCELLED" }
}

string_enum! {
    /// The event type of a webhook.
    WebhookType { /// A sale was created or changed status.
        SaleUpdate = "sale.update", /// A product changed.
        ProductUpdate = "product.update", /// A customer was created, changed or deleted.
        CustomerUpdate = "customer.update", /// Stock changed.
        InventoryUpdate = "inventory.update", /// A register was closed.
        RegisterClosureCreate = "register_closure.create", /// A transfer was sent.
        ConsignmentSend = "consignment.send", /// A consignment was received.
        ConsignmentReceive = "consignment.receive" }
}

string_enum! {
    /// The unit of a product weight.
    WeightUnit { /// Carat.
        Ct = "CT", /// Gram.
        G = "G", /// Ounce.
        Oz = "OZ", /// Pound.
        Lb = "LB", /// Kilogram.
        Kg = "KG" }
}

impl WebhookType {
    /// All seven documented types.
    pub fn all() -> [WebhookType; 7] {
        [
            WebhookType::SaleUpdate,
            WebhookType::ProductUpdate,
            WebhookType::CustomerUpdate,
            WebhookType::InventoryUpdate,
            WebhookType::RegisterClosureCreate,
            WebhookType::ConsignmentSend,
            WebhookType::ConsignmentReceive,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        let s: SaleStatus = serde_json::from_str(r#""TELEPORTED""#).unwrap();
        assert_eq!(s, SaleStatus::Other("TELEPORTED".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""TELEPORTED""#);
        let c: ProductCodeType = serde_json::from_str(r#""custom""#).unwrap();
        assert_eq!(c, ProductCodeType::Custom);
        assert_eq!(
            serde_json::to_string(&WebhookType::SaleUpdate).unwrap(),
            r#""sale.update""#
        );
        let n: ConsignmentStatus = serde_json::from_str("null").unwrap();
        assert_eq!(n, ConsignmentStatus::Other(String::new()));
        let o: Option<SaleState> = serde_json::from_str("null").unwrap();
        assert_eq!(o, None);
    }
}
