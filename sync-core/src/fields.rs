//! Field values as the planner compares them.
//!
//! A record is a map of field names to [`FieldValue`]s. Comparison normalises what targets
//! normalise: text is trimmed, empty text equals a missing value, decimals compare by value
//! (`1.50` equals `1.5`), and a decimal equals text that parses to the same number.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One field's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldValue {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// A number (money, quantities and counts alike).
    Decimal(Decimal),
    /// A flag.
    Bool(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    DateTime(DateTime<Utc>),
}

impl FieldValue {
    /// Whether two values are the same once normalised (see the module docs).
    pub fn same_as(&self, other: &FieldValue) -> bool {
        use FieldValue::*;
        match (self.normalised(), other.normalised()) {
            (Null, Null) => true,
            (Text(a), Text(b)) => a == b,
            (Decimal(a), Decimal(b)) => a == b,
            (Decimal(a), Text(b)) | (Text(b), Decimal(a)) => {
                rust_decimal::Decimal::from_str(&b).is_ok_and(|b| b == a)
            }
            (Bool(a), Bool(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (DateTime(a), DateTime(b)) => a == b,
            _ => false,
        }
    }

    /// Like [`FieldValue::same_as`], but text compares without case (for targets that upper-case
    /// code fields, as Business Central does).
    pub fn same_ignoring_case(&self, other: &FieldValue) -> bool {
        match (self.normalised(), other.normalised()) {
            (FieldValue::Text(a), FieldValue::Text(b)) => a.to_lowercase() == b.to_lowercase(),
            _ => self.same_as(other),
        }
    }

    /// The normalised form: trimmed text, empty text as [`FieldValue::Null`], decimals without trailing zeros.
    pub fn normalised(&self) -> FieldValue {
        match self {
            FieldValue::Text(t) => {
                let t = t.trim();
                if t.is_empty() {
                    FieldValue::Null
                } else {
                    FieldValue::Text(t.to_owned())
                }
            }
            FieldValue::Decimal(d) => FieldValue::Decimal(d.normalize()),
            other => other.clone(),
        }
    }

    /// The value as plain JSON (decimals as strings, so no precision is lost).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Null => serde_json::Value::Null,
            FieldValue::Text(t) => serde_json::Value::String(t.clone()),
            FieldValue::Decimal(d) => serde_json::Value::String(d.to_string()),
            FieldValue::Bool(b) => serde_json::Value::Bool(*b),
            FieldValue::Date(d) => serde_json::Value::String(d.to_string()),
            FieldValue::DateTime(t) => {
                serde_json::Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
        }
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The number, if this is a decimal or text holding one.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            FieldValue::Decimal(d) => Some(*d),
            FieldValue::Text(t) => Decimal::from_str(t.trim()).ok(),
            _ => None,
        }
    }
}

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Text(v.to_owned())
    }
}
impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Text(v)
    }
}
impl From<Decimal> for FieldValue {
    fn from(v: Decimal) -> Self {
        FieldValue::Decimal(v)
    }
}
impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}
impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Decimal(Decimal::from(v))
    }
}
impl From<NaiveDate> for FieldValue {
    fn from(v: NaiveDate) -> Self {
        FieldValue::Date(v)
    }
}
impl From<DateTime<Utc>> for FieldValue {
    fn from(v: DateTime<Utc>) -> Self {
        FieldValue::DateTime(v)
    }
}
impl<T: Into<FieldValue>> From<Option<T>> for FieldValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(FieldValue::Null, Into::into)
    }
}

/// A record's fields by name, in name order (so plans and logs are deterministic).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(BTreeMap<String, FieldValue>);

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a field (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<FieldValue>) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds or replaces a field.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<FieldValue>) {
        self.0.insert(name.into(), value.into());
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.get(name)
    }

    /// Removes a field.
    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        self.0.remove(name)
    }

    /// Whether a field is present.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The field names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes `other`'s fields over these (an update applied to a stored record).
    pub fn merge(&mut self, other: &Fields) {
        for (k, v) in &other.0 {
            self.0.insert(k.clone(), v.clone());
        }
    }

    /// The fields of `self` whose value differs from `current` (a missing field counts as null),
    /// skipping the names in `except`.
    pub fn diff(&self, current: &Fields, except: impl Fn(&str) -> bool) -> Fields {
        self.diff_with(current, |name, a, b| !except(name) && !a.same_as(b))
    }

    /// The fields of `self` for which `differs(name, new, current)` holds (a missing current
    /// field counts as null).
    pub fn diff_with(
        &self,
        current: &Fields,
        differs: impl Fn(&str, &FieldValue, &FieldValue) -> bool,
    ) -> Fields {
        let mut out = Fields::new();
        for (k, v) in &self.0 {
            let cur = current.get(k).unwrap_or(&FieldValue::Null);
            if differs(k, v, cur) {
                out.0.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// The fields as a plain JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }
}

impl<K: Into<String>, V: Into<FieldValue>> FromIterator<(K, V)> for Fields {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Fields(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl IntoIterator for Fields {
    type Item = (String, FieldValue);
    type IntoIter = std::collections::btree_map::IntoIter<String, FieldValue>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn normalised_comparison() {
        let t = |s: &str| FieldValue::from(s);
        assert!(t(" a ").same_as(&t("a")));
        assert!(!t("a").same_as(&t("A")));
        assert!(t("  ").same_as(&FieldValue::Null));
        assert!(FieldValue::from(dec!(1.50)).same_as(&FieldValue::from(dec!(1.5))));
        assert!(FieldValue::from(dec!(2)).same_as(&t(" 2.000 ")));
        assert!(!FieldValue::from(dec!(2)).same_as(&t("2.01")));
        assert!(!FieldValue::from(dec!(0)).same_as(&FieldValue::Null));
        assert!(!FieldValue::Bool(false).same_as(&FieldValue::Null));
        assert!(t(" ab-1").same_ignoring_case(&t("AB-1")));
        assert!(!t("ab-1").same_ignoring_case(&t("AB-2")));
        assert!(FieldValue::from(dec!(1.0)).same_ignoring_case(&t("1")));
    }

    #[test]
    fn diff_only_changed_and_not_excepted() {
        let src = Fields::new()
            .with("name", "Ann ")
            .with("price", dec!(10.0))
            .with("city", "Utrecht")
            .with("description", "long");
        let cur = Fields::new()
            .with("name", "Ann")
            .with("price", dec!(10))
            .with("city", "Delft");
        let d = src.diff(&cur, |n| n == "description");
        assert_eq!(d, Fields::new().with("city", "Utrecht"));
    }

    #[test]
    fn json_keeps_decimal_precision() {
        let f = Fields::new()
            .with("p", dec!(0.10))
            .with("n", FieldValue::Null);
        assert_eq!(f.to_json(), serde_json::json!({"n": null, "p": "0.10"}));
    }
}
