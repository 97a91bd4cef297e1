//! Typed async client for the Lightspeed Retail X-Series API (formerly Vend).

pub mod decode;
pub mod enums;
pub mod ids;
pub mod models;
pub mod webhook;

pub use enums::*;
pub use ids::*;
pub use models::*;
