//! Typed handles to entity sets: list (a lazily paging `Stream`), get, create, update, delete,
//! bulk key lookups, and the sales documents' bound actions and deep inserts.

mod entity_set;
mod sales;

pub(crate) use entity_set::id_and_etag;
pub use entity_set::{CreateOutcome, EntitySet, Page};
