//! Typed async client for the Microsoft Dynamics 365 Business Central API v2.0.

pub mod entity;
pub mod error;
pub mod ids;
pub mod models;
pub mod query;
pub mod values;

pub use entity::{Entity, EntityKey, WritableEntity};
pub use error::{ApiError, Error, ErrorCode, ErrorFamily, InvalidInput};
pub use ids::*;
pub use query::{Expand, Field, Filter, Literal, Order, Query};
pub use values::ETag;
pub mod auth;
pub mod batch;
pub mod client;
pub mod resources;
pub mod webhook;

pub use auth::ClientCredentials;
pub use client::{Api, ApiRoute, Client, ClientBuilder, CompanyScope, Deployment};
pub use resources::{EntitySet, Page};
pub use pos_http::{RateLimit, RetryPolicy, SecretString};
