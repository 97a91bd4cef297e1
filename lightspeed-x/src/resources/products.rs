//! Products and inventory.

use super::{get_one, seg};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{OutletId, ProductId};
use crate::models::{Inventory, InventoryLevel, Product, ProductCreate, ProductUpdate};
use crate::paging::{ListRequest, Style};
use crate::search::ProductSearch;
use rust_decimal::Decimal;
use serde::Deserialize;

/// Products and variants (`/products`).
#[derive(Clone, Debug)]
pub struct Products {
    client: Client,
}

/// `{"data": [...]}` of `POST /products`: the new ids (the 2.0 schema says objects, its example
/// and 2026-07 say strings; an object is read by its `id`).
#[derive(Deserialize)]
struct CreatedIds {
    #[serde(default)]
    data: Vec<CreatedId>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CreatedId {
    Id(ProductId),
    Object { id: ProductId },
}

impl Products {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// All products and variants by version cursor (`deleted(true)` includes deleted ones).
    pub fn list(&self) -> ListRequest<Product> {
        ListRequest::new(self.client.clone(), self.client.path("products"), true)
    }

    /// One product.
    pub async fn get(&self, id: &ProductId) -> Result<Product> {
        get_one(
            &self.client,
            self.client.path(&format!("products/{}", seg(id.as_str())?)),
        )
        .await
    }

    /// Search products (by SKU, supplier, family...).
    pub fn search(&self) -> ProductSearch {
        ProductSearch::new(self.client.clone(), "products")
    }

    /// Finds products by SKU (lower-cased for the API).
    pub async fn find_by_sku(&self, sku: &str) -> Result<Vec<Product>> {
        self.search().sku(sku).all().await
    }

    /// Creates a product (`POST /products`); returns the ids created (the product, or every variant).
    ///
    /// Not retried automatically: on a transport error, check whether it exists (by SKU) first.
    pub async fn create(&self, product: &ProductCreate) -> Result<Vec<ProductId>> {
        if product.name.trim().is_empty() {
            return Err(Error::InvalidInput("a product needs a name".into()));
        }
        if product.price_including_tax.is_some() && product.price_excluding_tax.is_some() {
            return Err(Error::InvalidInput(
                "set price_including_tax or price_excluding_tax, not both".into(),
            ));
        }
        let r: CreatedIds = self
            .client
            .http()
            .post(&self.client.path("products"))
            .json(product)
            .json_response()
            .await?;
        Ok(r.data
            .into_iter()
            .map(|c| match c {
                CreatedId::Id(id) | CreatedId::Object { id } => id,
            })
            .collect())
    }

    /// Updates a product through `PUT /products/{id}` (`common` and `details`): `/api/2.1/` with the
    /// legacy versions, the date version otherwise.
    ///
    /// A PUT of the same body has the same effect, so it is retried on transient errors.
    pub async fn update(&self, id: &ProductId, update: &ProductUpdate) -> Result<()> {
        if update.common.is_none() && update.details.is_none() {
            return Err(Error::InvalidInput("empty product update".into()));
        }
        if let Some(d) = &update.details
            && d.price_including_tax.is_some()
            && d.price_excluding_tax.is_some()
        {
            return Err(Error::InvalidInput(
                "set price_including_tax or price_excluding_tax, not both".into(),
            ));
        }
        self.client
            .http()
            .put(
                &self
                    .client
                    .update_path(&format!("products/{}", seg(id.as_str())?)),
            )
            .json(update)
            .send()
            .await?;
        Ok(())
    }

    /// Sets absolute inventory levels of a product at outlets (not deltas).
    pub async fn set_inventory(&self, id: &ProductId, levels: Vec<InventoryLevel>) -> Result<()> {
        if levels.is_empty() {
            return Err(Error::InvalidInput("no inventory levels given".into()));
        }
        self.update(id, &ProductUpdate::inventory(levels)).await
    }

    /// Deletes a product.
    pub async fn delete(&self, id: &ProductId) -> Result<()> {
        self.client
            .http()
            .delete(&self.client.path(&format!("products/{}", seg(id.as_str())?)))
            .send()
            .await?;
        Ok(())
    }

    /// Inventory records of one product at every outlet: `GET /inventory/{id}` in the date versions
    /// (pages of up to 5,000), `GET /products/{id}/inventory` in 2.0.
    pub fn inventory(&self, id: &ProductId) -> Result<ListRequest<Inventory>> {
        let id = seg(id.as_str())?;
        Ok(if self.client.api_version().is_dated() {
            ListRequest::inventory(
                self.client.clone(),
                self.client.path(&format!("inventory/{id}")),
                Style::InventoryQuery,
            )
        } else {
            ListRequest::new(
                self.client.clone(),
                self.client.path(&format!("products/{id}/inventory")),
                false,
            )
        })
    }
}

/// Stock levels (`POST /inventory` in the date versions, `GET /inventory` in 2.0).
#[derive(Clone, Debug)]
pub struct InventoryApi {
    client: Client,
}

impl InventoryApi {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// All inventory records by version cursor: `POST /inventory` with a filter body in pages of up
    /// to 5,000 in the date versions (`deleted(true)` sends `include_deleted`), `GET /inventory`
    /// in 2.0.
    pub fn list(&self) -> ListRequest<Inventory> {
        if self.client.api_version().is_dated() {
            ListRequest::inventory(
                self.client.clone(),
                self.client.path("inventory"),
                Style::InventoryFilter,
            )
        } else {
            ListRequest::new(self.client.clone(), self.client.path("inventory"), false)
        }
    }

    /// The inventory records of one product, or with `variants` of every variant of the family
    /// whose root product this is (`POST /inventory` with `product_id` and `variants`; date
    /// versions only).
    pub fn for_product(&self, id: &ProductId, variants: bool) -> Result<ListRequest<Inventory>> {
        if self.client.api_version().is_legacy() {
            return Err(Error::InvalidInput(
                "filtering POST /inventory by product needs a date version; use products().inventory(id) on 2.0".into(),
            ));
        }
        let id = seg(id.as_str())?;
        let mut list = self.list().extra("product_id", id);
        if variants {
            list = list.extra("variants", true);
        }
        Ok(list)
    }

    /// Sets the absolute quantity of one product at one outlet (through the product update).
    pub async fn set_level(
        &self,
        product: &ProductId,
        outlet: &OutletId,
        quantity: Decimal,
    ) -> Result<()> {
        Products::new(self.client.clone())
            .set_inventory(product, vec![InventoryLevel::set(outlet.clone(), quantity)])
            .await
    }
}
