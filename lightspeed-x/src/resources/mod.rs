//! One handle per resource, returned by the [`Client`] accessors.

mod customers;
mod products;
mod sales;
mod simple;
mod webhooks;

pub use customers::Customers;
pub use products::{InventoryApi, Products};
pub use sales::Sales;
pub use simple::{Consignments, Outlets, PaymentTypes, Registers, Shifts, Taxes, Users};
pub use webhooks::Webhooks;

use crate::client::Client;
use crate::error::Result;
use crate::paging::Single;
use serde::de::DeserializeOwned;

/// Encodes an id as one path segment (pos-http percent-encodes it; a `/` is refused here).
pub(crate) fn seg(id: &str) -> Result<&str> {
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        return Err(crate::Error::InvalidInput(format!("invalid id {id:?}")));
    }
    Ok(id)
}

pub(crate) async fn get_one<T: DeserializeOwned>(client: &Client, path: String) -> Result<T> {
    let r: Single<T> = client.http().get(&path).json_response().await?;
    Ok(r.data)
}
