//! Typed async client for the Microsoft Dynamics 365 Business Central API v2.0 and custom API
//! routes, with an in-process sandbox (feature `sandbox`).
//!
//! - **Where**: [`ClientBuilder::cloud`] (tenant and environment), [`ClientBuilder::on_premises`]
//!   (`https://host:port/instance`) or [`ClientBuilder::base_url`]; [`Client::company`] scopes to
//!   a company; [`Client::custom_api`] reaches `/api/{publisher}/{group}/{version}`.
//! - **Auth**: Entra client credentials ([`ClientCredentials`], token cached until shortly
//!   before `expires_in`, refreshed single-flight and once after a 401) or basic auth with a
//!   web-service access key.
//! - **Queries**: [`query`] is the only way to build `$filter`, `$select`, `$expand` and
//!   `$orderby`: literals escaped, dates and GUIDs bare, `or` across fields refused, encoded once.
//! - **Entity sets**: [`EntitySet`] lists as a lazily paging `Stream` (following
//!   `@odata.nextLink` with `Prefer: odata.maxpagesize`, never `$top`), gets, creates, updates
//!   with `If-Match`, deletes, and looks up keys in bulk ([`EntitySet::lookup`]). Sales orders
//!   and invoices add deep insert and the bound actions `shipAndInvoice` and `post`.
//! - **Models**: [`models`] has every property of the `$metadata`, enums with encoded member
//!   names and an `Other` variant, `Decimal` amounts, `0001-01-01` and the empty GUID as `None`;
//!   maximum lengths are checked before sending.
//! - **`$batch`**: [`batch::Batch`], at most 100 operations, `Isolation: snapshot` and
//!   continue-on-error, results mapped back per operation.
//! - **Webhooks**: [`webhook`] manages subscriptions and answers the handshake.
//! - **Errors**: one [`Error`] with the API's code family and correlation id; 409
//!   `Request_EntityChanged` and 412 are both [`Error::Conflict`].
//! - **Limits**: 6,000 requests per 5 minutes and 5 in flight by default (pos-http paces and
//!   retries; a create is never retried blindly).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), business_central::Error> {
//! use business_central::models::{SalesOrderInput, SalesOrderLineInput};
//! use business_central::query::{Field, Filter, Query};
//! use business_central::sandbox::Sandbox;
//! use futures::TryStreamExt;
//! use rust_decimal::Decimal;
//!
//! // Against the real service: Client::builder().cloud(tenant, "production")
//! //     .client_credentials(ClientCredentials::new(tenant, client_id, secret)).build()?
//! let sandbox = Sandbox::start().await.expect("sandbox");
//! let client = sandbox.client();
//! let company = client.company(sandbox.company_id());
//!
//! // Stock of some items, in one request.
//! let items = company
//!     .items()
//!     .lookup("number", ["1000", "1002"], 50, Query::new().select(["number", "inventory"]))
//!     .await?;
//! assert_eq!(items.len(), 2);
//!
//! // Customers changed since a watermark, page by page.
//! let since = chrono::Utc::now() - chrono::Duration::days(1);
//! let changed: Vec<_> = company
//!     .customers()
//!     .list(Query::new().filter(Field::new("lastModifiedDateTime").gt(since)))
//!     .try_collect()
//!     .await?;
//! assert!(!changed.is_empty());
//!
//! // An order and its lines in one request.
//! let order = company
//!     .sales_orders()
//!     .create_with_lines(
//!         &SalesOrderInput::new()
//!             .customer_number("10000")
//!             .external_document_number("POS-42")
//!             .line(SalesOrderLineInput::new().line_object_number("1000").quantity(Decimal::ONE)),
//!     )
//!     .await?;
//! assert_eq!(order.sales_order_lines.map(|l| l.len()), Some(1));
//! # let _ = Filter::any_of("number", ["A"]);
//! # Ok(()) }
//! ```

pub mod auth;
pub mod batch;
pub mod client;
pub mod entity;
pub mod error;
pub mod ids;
pub mod models;
pub mod query;
pub mod resources;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod values;
pub mod webhook;

pub use auth::ClientCredentials;
pub use client::{Api, ApiRoute, Client, ClientBuilder, CompanyScope, Deployment};
pub use entity::{Entity, EntityKey, WritableEntity};
pub use error::{ApiError, Error, ErrorCode, ErrorFamily, InvalidInput, Result};
pub use ids::*;
pub use pos_http::{RateLimit, RetryPolicy, SecretString};
pub use query::{Expand, Field, Filter, Literal, Order, Query};
pub use resources::{CreateOutcome, EntitySet, Page};
pub use values::ETag;
