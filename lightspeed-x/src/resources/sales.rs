//! Sales.

use super::{get_one, seg};
use crate::client::Client;
use crate::error::Result;
use crate::ids::SaleId;
use crate::models::Sale;
use crate::paging::ListRequest;
use crate::search::SalesSearch;

/// Sales (`/sales`, and `/search?type=sales` for date ranges).
///
/// The date versions answer `GET /sales` and `GET /sales/{id}` with a restructured sale (`date`,
/// `source`, `totals`, `pricing`...); the same [`Sale`] model reads both shapes.
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
        ListRequest::new(self.client.clone(), self.client.path("sales"), false)
    }

    /// One sale.
    pub async fn get(&self, id: &SaleId) -> Result<Sale> {
        get_one(
            &self.client,
            self.client.path(&format!("sales/{}", seg(id.as_str())?)),
        )
        .await
    }

    /// Search sales by date range, outlet, state... (offset paging).
    pub fn search(&self) -> SalesSearch {
        SalesSearch::new(self.client.clone(), "sales")
    }
}
