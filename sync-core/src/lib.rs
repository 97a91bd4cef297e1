//! The generic engine of POS integrations: keys, upsert plans, classification, stock, cursors, state.

pub mod fields;
pub mod key;
pub mod mapping;
pub mod upsert;
