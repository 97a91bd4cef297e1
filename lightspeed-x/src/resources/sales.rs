//! Sales.

use super::sale_shape::sale_to_legacy;
use super::{get_one, get_one_reshaped, seg};
use crate::client::Client;
use crate::error::Result;
use crate::ids::SaleId;
use crate::models::Sale;
use crate::paging::ListRequest;
use crate::search::SalesSearch;

/// Sales (`/sales`, and `/search?type=sales` for date ranges).
///
/// The date versions answer `GET /sales` and `GET /sales/{id}` with a restructured sale (`date`,
/// `source`, `totals`, `pricing`...); it is read into the same [`Sale`] model.
#[derive(Clone, Debug)]
pub struct Sales {
    client: Client,
}

impl Sales {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// All sales by version cursor: the incremental change feed (no date filter here).
    pub fn list(&self) -> ListRequest<Sale> {
        let list = ListRequest::new(self.client.clone(), self.client.path("sales"), false);
        if self.client.api_version().is_dated() {
            list.reshape(sale_to_legacy)
        } else {
            list
        }
    }

    /// One sale.
    pub async fn get(&self, id: &SaleId) -> Result<Sale> {
        let path = self.client.path(&format!("sales/{}", seg(id.as_str())?));
        if self.client.api_version().is_dated() {
            get_one_reshaped(&self.client, path, sale_to_legacy).await
        } else {
            get_one(&self.client, path).await
        }
    }

    /// Search sales by date range, outlet, state... (offset paging).
    pub fn search(&self) -> SalesSearch {
        SalesSearch::new(self.client.clone(), "sales")
    }
}
