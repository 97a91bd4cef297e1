//! Field mapping: which source field feeds which target field.
//!
//! Each flow ships a default mapping; callers override it field by field and can reset one
//! field or all of them to the defaults. Mappings serialise, so overrides can be stored.
//!
//! ```
//! use sync_core::fields::Fields;
//! use sync_core::mapping::{FieldMapping, FieldSource};
//!
//! let mut m = FieldMapping::new([("displayName", "name"), ("email", "email")]);
//! m.set("displayName", FieldSource::field("company_name"));
//! m.set("blocked", FieldSource::constant(false));
//! let src = Fields::new().with("name", "Ann").with("company_name", "Ann BV").with("email", "a@b.nl");
//! let out = m.apply(&src);
//! assert_eq!(out.get("displayName").and_then(|v| v.as_text()), Some("Ann BV"));
//! m.reset("displayName");
//! assert_eq!(m.apply(&src).get("displayName").and_then(|v| v.as_text()), Some("Ann"));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fields::{FieldValue, Fields};

/// Where a target field's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldSource {
    /// The named source field (absent source fields are left out of the result).
    Field(String),
    /// A fixed value (for example a posting group the target requires).
    Constant(FieldValue),
    /// Not sent at all.
    Omit,
}

impl FieldSource {
    /// The named source field.
    pub fn field(name: impl Into<String>) -> Self {
        FieldSource::Field(name.into())
    }
    /// A fixed value.
    pub fn constant(value: impl Into<FieldValue>) -> Self {
        FieldSource::Constant(value.into())
    }
}

/// A default mapping plus the caller's overrides, keyed by target field name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldMapping {
    defaults: BTreeMap<String, FieldSource>,
    overrides: BTreeMap<String, FieldSource>,
}

impl FieldMapping {
    /// A mapping whose defaults copy source field `source` into target field `target` for each `(target, source)` pair.
    pub fn new<T: Into<String>, S: Into<String>>(pairs: impl IntoIterator<Item = (T, S)>) -> Self {
        Self {
            defaults: pairs
                .into_iter()
                .map(|(t, s)| (t.into(), FieldSource::Field(s.into())))
                .collect(),
            overrides: BTreeMap::new(),
        }
    }

    /// Adds or replaces a default (used by flows to build their default mapping).
    pub fn with_default(mut self, target: impl Into<String>, source: FieldSource) -> Self {
        self.defaults.insert(target.into(), source);
        self
    }

    /// Overrides one target field.
    pub fn set(&mut self, target: impl Into<String>, source: FieldSource) -> &mut Self {
        self.overrides.insert(target.into(), source);
        self
    }

    /// Reverts one target field to its default (or removes it if it has none).
    pub fn reset(&mut self, target: &str) -> &mut Self {
        self.overrides.remove(target);
        self
    }

    /// Reverts every field to the defaults.
    pub fn reset_all(&mut self) -> &mut Self {
        self.overrides.clear();
        self
    }

    /// The caller's overrides.
    pub fn overrides(&self) -> &BTreeMap<String, FieldSource> {
        &self.overrides
    }

    /// The mapping in force for each target field (overrides over defaults).
    pub fn effective(&self) -> BTreeMap<&str, &FieldSource> {
        let mut m: BTreeMap<&str, &FieldSource> =
            self.defaults.iter().map(|(k, v)| (k.as_str(), v)).collect();
        for (k, v) in &self.overrides {
            m.insert(k.as_str(), v);
        }
        m
    }

    /// The source for one target field.
    pub fn source_of(&self, target: &str) -> Option<&FieldSource> {
        self.overrides
            .get(target)
            .or_else(|| self.defaults.get(target))
    }

    /// Maps source fields to target fields.
    pub fn apply(&self, source: &Fields) -> Fields {
        let mut out = Fields::new();
        for (target, how) in self.effective() {
            match how {
                FieldSource::Field(name) => {
                    if let Some(v) = source.get(name) {
                        out.insert(target, v.clone());
                    }
                }
                FieldSource::Constant(v) => out.insert(target, v.clone()),
                FieldSource::Omit => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn override_reset_and_serde() {
        let mut m = FieldMapping::new([("number", "sku"), ("unitPrice", "price")])
            .with_default("type", FieldSource::constant("Inventory"));
        let src = Fields::new().with("sku", "A1").with("price", dec!(9.95));
        let out = m.apply(&src);
        assert_eq!(out.len(), 3);
        assert_eq!(out.get("type"), Some(&FieldValue::from("Inventory")));

        m.set("unitPrice", FieldSource::Omit)
            .set("extra", FieldSource::field("missing"));
        let out = m.apply(&src);
        assert!(!out.contains("unitPrice"));
        assert!(!out.contains("extra"));

        let stored = serde_json::to_string(&m).unwrap();
        let back: FieldMapping = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, m);

        m.reset_all();
        assert!(m.overrides().is_empty());
        assert_eq!(
            m.apply(&src).get("unitPrice"),
            Some(&FieldValue::from(dec!(9.95)))
        );
    }
}
