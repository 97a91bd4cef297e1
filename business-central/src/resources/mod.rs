//! Typed handles to entity sets: list (a lazily paging `Stream`), get, create, update, delete,
//! bulk key lookups, and the sales documents' bound actions and deep inserts.

mod entity_set;
mod sales;

pub use entity_set::{EntitySet, Page};
pub(crate) use entity_set::id_and_etag as id_and_etag_pub;
