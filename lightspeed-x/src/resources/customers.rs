//! Customers.

use super::{get_one, seg};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::CustomerId;
use crate::models::{Customer, CustomerInput, CustomerUpdate};
use crate::paging::{ListRequest, Single};
use crate::search::CustomerSearch;

/// Customers (`/customers`).
#[derive(Clone, Debug)]
pub struct Customers {
    client: Client,
}

impl Customers {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// All customers by version cursor (`deleted(true)` includes deleted ones).
    pub fn list(&self) -> ListRequest<Customer> {
        ListRequest::new(self.client.clone(), self.client.path("customers"), true)
    }

    /// One customer.
    pub async fn get(&self, id: &CustomerId) -> Result<Customer> {
        get_one(
            &self.client,
            self.client
                .path(&format!("customers/{}", seg(id.as_str())?)),
        )
        .await
    }

    /// Search customers.
    pub fn search(&self) -> CustomerSearch {
        CustomerSearch::new(self.client.clone(), "customers")
    }

    /// Customers with this e-mail address.
    pub async fn find_by_email(&self, email: &str) -> Result<Vec<Customer>> {
        if !email.contains('@') {
            return Err(Error::InvalidInput("not an e-mail address".into()));
        }
        self.search().email(email).all().await
    }

    /// Creates a customer; `first_name` and `last_name` are always sent, `null` when unknown (a
    /// company-only customer), as the API requires both keys.
    ///
    /// Not retried automatically: on a transport error, look the customer up first.
    pub async fn create(&self, input: &CustomerInput) -> Result<Customer> {
        if input.first_name.is_none() && input.last_name.is_none() && input.company_name.is_none() {
            return Err(Error::InvalidInput(
                "a customer needs a first name, last name or company name".into(),
            ));
        }
        let r: Single<Customer> = self
            .client
            .http()
            .post(&self.client.path("customers"))
            .json(input)
            .json_response()
            .await?;
        Ok(r.data)
    }

    /// Updates a customer: the fields set in the update's changes, and the names it carries (the API
    /// requires both name keys on every PUT; see [`CustomerUpdate`]).
    pub async fn update(&self, id: &CustomerId, input: &CustomerUpdate) -> Result<Customer> {
        let r: Single<Customer> = self
            .client
            .http()
            .put(
                &self
                    .client
                    .path(&format!("customers/{}", seg(id.as_str())?)),
            )
            .json(input)
            .json_response()
            .await?;
        Ok(r.data)
    }

    /// Reads the customer, then updates it with `changes`, keeping its names unless `changes` sets them
    /// (one read more than [`Customers::update`]).
    pub async fn modify(&self, id: &CustomerId, changes: CustomerInput) -> Result<Customer> {
        let current = self.get(id).await?;
        self.update(id, &CustomerUpdate::new(&current, changes))
            .await
    }

    /// Deletes a customer.
    pub async fn delete(&self, id: &CustomerId) -> Result<()> {
        self.client
            .http()
            .delete(
                &self
                    .client
                    .path(&format!("customers/{}", seg(id.as_str())?)),
            )
            .send()
            .await?;
        Ok(())
    }
}
