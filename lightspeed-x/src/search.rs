//! `GET /search`: filtered, sorted results paged by `offset` and `page_size` (at most 1000).
//!
//! The only way to filter sales by date range and outlet, customers by e-mail, and products by SKU.

use crate::client::Client;
use crate::enums::SaleState;
use crate::error::{Error, Result};
use crate::ids::{CustomerId, OutletId, ProductId, RegisterId, SupplierId, UserId};
use crate::models::{Customer, Product, Sale};
use crate::paging::SearchPage;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use futures::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// Largest page the search endpoint returns.
pub const MAX_SEARCH_PAGE: u32 = 1000;

/// Formats a search date filter: `2016-08-08T12:00:00Z`.
pub fn search_date(ts: &DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The UTC range `[start, end)` of a local calendar day in a time zone (for "today's sales").
pub fn local_day_range(day: NaiveDate, tz: Tz) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start_of = |d: NaiveDate| -> Result<DateTime<Utc>> {
        let naive = d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(|| Error::InvalidInput(format!("invalid date {d}")))?;
        // Midnight may not exist (DST gap): take the earliest valid instant after it.
        let local = tz
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            })
            .ok_or_else(|| Error::InvalidInput(format!("no local midnight on {d} in {tz}")))?;
        Ok(local.with_timezone(&Utc))
    };
    let next = day
        .succ_opt()
        .ok_or_else(|| Error::InvalidInput(format!("no day after {day}")))?;
    Ok((start_of(day)?, start_of(next)?))
}

/// A search over one object type.
#[must_use]
pub struct SearchRequest<T> {
    client: Client,
    kind: &'static str,
    params: Vec<(String, String)>,
    page_size: u32,
    offset: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for SearchRequest<T> {
    fn clone(&self) -> Self {
        SearchRequest {
            client: self.client.clone(),
            kind: self.kind,
            params: self.params.clone(),
            page_size: self.page_size,
            offset: self.offset,
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for SearchRequest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be personal data (e-mail addresses), so only the keys are shown.
        let keys: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SearchRequest")
            .field("type", &self.kind)
            .field("filters", &keys)
            .field("page_size", &self.page_size)
            .field("offset", &self.offset)
            .finish()
    }
}

/// Search for sales.
pub type SalesSearch = SearchRequest<Sale>;
/// Search for customers.
pub type CustomerSearch = SearchRequest<Customer>;
/// Search for products.
pub type ProductSearch = SearchRequest<Product>;

impl<T: DeserializeOwned + Send + 'static> SearchRequest<T> {
    pub(crate) fn new(client: Client, kind: &'static str) -> Self {
        SearchRequest {
            client,
            kind,
            params: Vec::new(),
            page_size: MAX_SEARCH_PAGE,
            offset: 0,
            _t: PhantomData,
        }
    }

    fn param(mut self, key: &str, value: impl Into<String>) -> Self {
        self.params.push((key.to_owned(), value.into()));
        self
    }

    /// Results per page (at most 1000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_SEARCH_PAGE);
        self
    }

    /// Skip this many results.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = n;
        self
    }

    /// Sort field.
    pub fn order_by(self, field: &str) -> Self {
        self.param("order_by", field)
    }

    /// Sort direction: ascending when `true`.
    pub fn ascending(self, yes: bool) -> Self {
        self.param("order_direction", if yes { "asc" } else { "desc" })
    }

    /// Include deleted objects.
    pub fn deleted(self, yes: bool) -> Self {
        if yes {
            self.param("deleted", "true")
        } else {
            self
        }
    }

    /// The query string pairs this search sends for one page (for logging and tests).
    pub fn query_pairs(&self, offset: u64) -> Vec<(String, String)> {
        let mut q = vec![("type".to_owned(), self.kind.to_owned())];
        q.extend(self.params.iter().cloned());
        q.push(("page_size".into(), self.page_size.to_string()));
        q.push(("offset".into(), offset.to_string()));
        q
    }

    /// Fetches one page at the current offset.
    pub async fn page(&self) -> Result<Vec<T>> {
        self.fetch(self.offset).await
    }

    async fn fetch(&self, offset: u64) -> Result<Vec<T>> {
        let p: SearchPage<T> = self
            .client
            .http()
            .get(&self.client.path("search"))
            .query(&self.query_pairs(offset))
            .json_response()
            .await?;
        Ok(p.data)
    }

    /// All results, paging by offset until a short or empty page.
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        let start = self.offset;
        stream::try_unfold((self, start, false), |(req, offset, done)| async move {
            if done {
                return Ok(None);
            }
            let items = req.fetch(offset).await?;
            let n = items.len() as u64;
            let finished = n < u64::from(req.page_size);
            if n == 0 {
                return Ok(None);
            }
            Ok(Some((items, (req, offset + n, finished))))
        })
        .map(|page: Result<Vec<T>>| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(vec![Err(e)]).right_stream(),
        })
        .flatten()
        .boxed()
    }

    /// Collects all results.
    pub async fn all(self) -> Result<Vec<T>> {
        use futures::TryStreamExt;
        self.stream().try_collect().await
    }
}

impl SearchRequest<Sale> {
    /// Sales of one outlet.
    pub fn outlet(self, id: &OutletId) -> Self {
        self.param("outlet_id", id.as_str())
    }
    /// Sales on or after this instant.
    pub fn date_from(self, from: DateTime<Utc>) -> Self {
        self.param("date_from", search_date(&from))
    }
    /// Sales before this instant.
    pub fn date_to(self, to: DateTime<Utc>) -> Self {
        self.param("date_to", search_date(&to))
    }
    /// Sales of one local calendar day in the given time zone (an outlet's `time_zone`).
    pub fn local_day(self, day: NaiveDate, tz: Tz) -> Result<Self> {
        let (from, to) = local_day_range(day, tz)?;
        Ok(self.date_from(from).date_to(to))
    }
    /// Sales in a state.
    pub fn state(self, state: SaleState) -> Self {
        self.param("state", state.as_str())
    }
    /// Sales of a customer.
    pub fn customer(self, id: &CustomerId) -> Self {
        self.param("customer_id", id.as_str())
    }
    /// Sales by a user.
    pub fn user(self, id: &UserId) -> Self {
        self.param("user_id", id.as_str())
    }
    /// Sales on a register.
    pub fn register(self, id: &RegisterId) -> Self {
        self.param("register_id", id.as_str())
    }
    /// A sale by invoice number.
    pub fn invoice_number(self, n: &str) -> Self {
        self.param("invoice_number", n)
    }
}

impl SearchRequest<Customer> {
    /// Customers with this e-mail address.
    pub fn email(self, email: &str) -> Self {
        self.param("email", email.trim())
    }
    /// Customers with this code.
    pub fn customer_code(self, code: &str) -> Self {
        self.param("customer_code", code)
    }
    /// Customers with this first name.
    pub fn first_name(self, v: &str) -> Self {
        self.param("first_name", v)
    }
    /// Customers with this last name.
    pub fn last_name(self, v: &str) -> Self {
        self.param("last_name", v)
    }
    /// Customers with this company name.
    pub fn company_name(self, v: &str) -> Self {
        self.param("company_name", v)
    }
    /// Customers with this mobile number.
    pub fn mobile(self, v: &str) -> Self {
        self.param("mobile", v)
    }
    /// Customers with this phone number.
    pub fn phone(self, v: &str) -> Self {
        self.param("phone", v)
    }
}

impl SearchRequest<Product> {
    /// Products with this SKU. The API only matches lower case, so the value is lower-cased here.
    pub fn sku(self, sku: &str) -> Self {
        self.param("sku", sku.trim().to_lowercase())
    }
    /// Products of a supplier.
    pub fn supplier(self, id: &SupplierId) -> Self {
        self.param("supplier_id", id.as_str())
    }
    /// Variants of a product family.
    pub fn variant_parent(self, id: &ProductId) -> Self {
        self.param("variant_parent_id", id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_day_in_time_zones() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let (from, to) = local_day_range(day, chrono_tz::Pacific::Auckland).unwrap();
        assert_eq!(search_date(&from), "2026-01-14T11:00:00Z");
        assert_eq!(search_date(&to), "2026-01-15T11:00:00Z");
        let (from, _) = local_day_range(day, chrono_tz::Europe::Amsterdam).unwrap();
        assert_eq!(search_date(&from), "2026-01-14T23:00:00Z");
        // A DST change day is 23 hours long.
        let dst = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let (a, b) = local_day_range(dst, chrono_tz::Europe::Amsterdam).unwrap();
        assert_eq!((b - a).num_hours(), 23);
    }
}
