//! Typed async client for the Lightspeed Retail X-Series API (formerly Vend).
//!
//! * [`Client::builder`]: a store by domain prefix (`https://{prefix}.retail.lightspeed.app`) or an
//!   explicit base URL; the API version ([`ApiVersion`]: the date version 2026-07 by default,
//!   spoken with its own paths and shapes such as `POST /inventory` in pages of 5,000, or the
//!   legacy `2.0` + `2.1` for an account that needs it);
//!   a personal token or OAuth ([`oauth`]) with rotating refresh tokens saved to a [`TokenStore`]
//!   before use; the documented rate limit (`300 x registers + 50` per 5 minutes) by default.
//! * One handle per resource: [`Client::outlets`], [`Client::products`], [`Client::inventory`],
//!   [`Client::customers`], [`Client::sales`], [`Client::shifts`]...; every list is a
//!   [`ListRequest`] that pages lazily by the `version` cursor ([`VersionStream::cursor`] is the
//!   resume point; a cursor that does not advance is [`Error::CursorNotAdvancing`]).
//! * `/search` ([`SearchRequest`]): sales by outlet and date range (or a local day in the outlet's
//!   time zone), customers by e-mail, products by SKU (lower-cased for the API), offset paging.
//! * Typed models ([`models`]): money and quantities as `Decimal` from numbers or strings,
//!   timestamps through one lenient parser ([`decode`]), enums with an `Other` variant, id newtypes.
//! * [`webhook`]: typed events for the seven webhook types and `X-Signature` verification.
//! * Feature `sandbox`: [`sandbox::Sandbox`], an in-process fake of the API with demo data.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use lightspeed_x::{Client, Version};
//!
//! # async fn run() -> lightspeed_x::Result<()> {
//! let client = Client::builder()
//!     .domain_prefix("mystore")
//!     .personal_token(std::env::var("LS_TOKEN").unwrap_or_default().into())
//!     .registers(2)
//!     .build()
//!     .await?;
//! // Incremental read: everything changed since a stored cursor, tombstones included.
//! let mut customers = client.customers().list().after(Version(0)).page_size(500).deleted(true).stream();
//! while let Some(c) = customers.try_next().await? {
//!     println!("{} {:?}", c.id, c.deleted_at);
//! }
//! let resume_from = customers.cursor();
//! # let _ = resume_from; Ok(()) }
//! ```
//!
//! With the `sandbox` feature, the same code runs against an in-process store (see [`sandbox`]).

pub mod client;
pub mod decode;
pub mod enums;
pub mod error;
pub mod ids;
pub mod models;
pub mod oauth;
pub mod paging;
pub mod resources;
pub mod search;
pub mod webhook;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use client::{
    ApiVersion, Client, ClientBuilder, MAX_DATED_INVENTORY_PAGE, documented_rate_limit,
};
pub use enums::*;
pub use error::{Error, Result};
pub use ids::*;
pub use models::*;
pub use oauth::{Callback, MemoryTokenStore, OAuthApp, TokenSet, TokenStore, TokenStoreError};
pub use paging::{ListRequest, Page, VersionRange, VersionStream};
pub use pos_http::{RateLimit, RetryPolicy, SecretString};
pub use search::{CustomerSearch, ProductSearch, SalesSearch, SearchRequest};
pub use webhook::{WebhookDelivery, WebhookEvent};
