//! Record keys: the values that match a source record with a target record.
//!
//! Each key type normalises its input in one place. A record without a valid key is reported
//! with the reason ([`KeyError`]), never guessed.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// Why a record has no usable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key field is absent.
    #[error("key is missing")]
    Missing,
    /// The key field is empty or only whitespace.
    #[error("key is empty")]
    Empty,
    /// The key is present but not valid (the reason never repeats the value, which may be personal).
    #[error("key is invalid: {0}")]
    Invalid(String),
}

/// A type usable as a record key.
///
/// Implemented by [`Email`], [`Sku`], [`OrderRef`], [`Caseless`] and `String`; implement it for your own key types.
pub trait Key: Clone + Ord + Hash + fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// Whether the key is personal data (an e-mail address is); the activity log then stores a digest.
    fn is_personal(&self) -> bool {
        false
    }
    /// The form equal keys share (for example the case-folded e-mail address).
    fn canonical(&self) -> String {
        self.to_string()
    }
}

/// A key as text, with what the activity log needs to know about it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyText {
    /// The key as the record gives it (trimmed).
    pub text: String,
    /// The form equal keys share.
    pub canonical: String,
    /// Whether the key is personal data.
    pub personal: bool,
}

impl KeyText {
    /// The text form of a key.
    pub fn of<K: Key>(key: &K) -> Self {
        Self {
            text: key.to_string(),
            canonical: key.canonical(),
            personal: key.is_personal(),
        }
    }
}

impl fmt::Debug for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.personal {
            f.write_str("KeyText([redacted])")
        } else {
            write!(f, "KeyText({:?})", self.text)
        }
    }
}

impl fmt::Display for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Key for String {}

/// A record that carries a key.
pub trait Keyed {
    /// The key type.
    type Key: Key;
    /// The record's key, or why it has none.
    fn key(&self) -> Result<Self::Key, KeyError>;
}

fn trimmed_non_empty(raw: &str) -> Result<&str, KeyError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(KeyError::Empty);
    }
    if t.chars().any(char::is_control) {
        return Err(KeyError::Invalid("contains control characters".into()));
    }
    Ok(t)
}

/// An e-mail address: trimmed, validated, compared case-insensitively.
///
/// ```
/// use sync_core::key::Email;
/// let a = Email::parse("  Ann@Example.COM ").unwrap();
/// assert_eq!(a, Email::parse("ann@example.com").unwrap());
/// assert_eq!(a.as_str(), "Ann@Example.COM");
/// assert!(Email::parse("not an address").is_err());
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    value: String,
    folded: String,
}

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses an address: trims it and checks that it has the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let value = trimmed_non_empty(raw)?;
        if value.len() > Self::MAX_LEN {
            return Err(KeyError::Invalid("longer than 254 characters".into()));
        }
        if value.chars().any(char::is_whitespace) {
            return Err(KeyError::Invalid("contains whitespace".into()));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(KeyError::Invalid("has no @".into()));
        };
        if local.is_empty() || local.contains('@') {
            return Err(KeyError::Invalid(
                "local part is empty or has a second @".into(),
            ));
        }
        if local.len() > 64 {
            return Err(KeyError::Invalid(
                "local part longer than 64 characters".into(),
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(KeyError::Invalid("domain is not valid".into()));
        }
        Ok(Self {
            value: value.to_owned(),
            folded: value.to_lowercase(),
        })
    }

    /// The address as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The case-folded form used for comparison.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.folded == other.folded
    }
}
impl Eq for Email {}
impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Email {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.folded.cmp(&other.folded)
    }
}
impl Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.folded.hash(state);
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data: keep it out of debug output.
        f.write_str("Email([redacted])")
    }
}
impl TryFrom<String> for Email {
    type Error = KeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.value
    }
}
impl std::str::FromStr for Email {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl Key for Email {
    fn is_personal(&self) -> bool {
        true
    }
    fn canonical(&self) -> String {
        self.folded.clone()
    }
}

macro_rules! text_key {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest value accepted.
            pub const MAX_LEN: usize = $max;

            /// Parses a value: trims it; refuses empty values and control characters.
            pub fn parse(raw: &str) -> Result<Self, KeyError> {
                let t = trimmed_non_empty(raw)?;
                if t.chars().count() > Self::MAX_LEN {
                    return Err(KeyError::Invalid(format!("longer than {} characters", Self::MAX_LEN)));
                }
                Ok(Self(t.to_owned()))
            }
            /// The trimmed value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(k: $name) -> Self {
                k.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl Key for $name {}
    };
}

text_key!(
    /// A stock-keeping unit: trimmed, case-sensitive, never empty.
    ///
    /// ```
    /// use sync_core::key::Sku;
    /// assert_eq!(Sku::parse(" AB-1 ").unwrap().as_str(), "AB-1");
    /// assert!(Sku::parse("   ").is_err());
    /// ```
    Sku,
    255
);

text_key!(
    /// An order reference (for example the sale's invoice number sent as the external document number).
    OrderRef,
    255
);

/// Text that the target compares without case (Business Central compares codes, item numbers
/// and external document numbers this way): kept as given (trimmed), but equal, ordered and
/// hashed by its upper-case form, so maps and duplicate checks keyed by it follow the target's
/// rule with no case folding at the call sites.
///
/// ```
/// use sync_core::key::Caseless;
/// let a = Caseless::new(" ab-1 ");
/// assert_eq!(a, Caseless::new("AB-1"));
/// assert_eq!(a.as_str(), "ab-1");
/// assert_eq!(a.folded(), "AB-1");
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Caseless {
    value: String,
    folded: String,
}

impl Caseless {
    /// The text, trimmed (any text is accepted; parse with a key type first to validate it).
    pub fn new(raw: impl AsRef<str>) -> Self {
        let value = raw.as_ref().trim();
        Self {
            value: value.to_owned(),
            folded: value.to_uppercase(),
        }
    }

    /// Parses a key value: trimmed; empty values and control characters are refused.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        trimmed_non_empty(raw).map(Self::new)
    }

    /// The text as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The upper-case form the comparison uses.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

impl PartialEq for Caseless {
    fn eq(&self, other: &Self) -> bool {
        self.folded == other.folded
    }
}
impl Eq for Caseless {}
impl PartialOrd for Caseless {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Caseless {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.folded.cmp(&other.folded)
    }
}
impl Hash for Caseless {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.folded.hash(state);
    }
}
impl fmt::Display for Caseless {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}
impl fmt::Debug for Caseless {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Caseless({:?})", self.value)
    }
}
impl From<String> for Caseless {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}
impl From<&str> for Caseless {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}
impl From<Caseless> for String {
    fn from(k: Caseless) -> Self {
        k.value
    }
}
impl Key for Caseless {
    fn canonical(&self) -> String {
        self.folded.clone()
    }
}

/// Parses an optional raw key value with the given parser, reporting a missing value as [`KeyError::Missing`].
pub fn parse_opt<K>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<K, KeyError>,
) -> Result<K, KeyError> {
    match raw {
        None => Err(KeyError::Missing),
        Some(v) => parse(v),
    }
}

/// Several records of one batch that share a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate<K> {
    /// The shared key.
    pub key: K,
    /// Positions of the records in the input, in input order.
    pub positions: Vec<usize>,
}

/// Finds keys that more than one record carries (records without a valid key are ignored here).
///
/// ```
/// use sync_core::key::{find_duplicates, Sku};
/// let skus = [Sku::parse("A").ok(), Sku::parse("B").ok(), Sku::parse(" A").ok()];
/// let dups = find_duplicates(skus.iter().map(|k| k.clone().ok_or(sync_core::key::KeyError::Missing)));
/// assert_eq!(dups.len(), 1);
/// assert_eq!(dups[0].positions, vec![0, 2]);
/// ```
pub fn find_duplicates<K: Key>(
    keys: impl IntoIterator<Item = Result<K, KeyError>>,
) -> Vec<Duplicate<K>> {
    let mut seen: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.into_iter().enumerate() {
        if let Ok(k) = k {
            seen.entry(k).or_default().push(i);
        }
    }
    let mut out: Vec<Duplicate<K>> = seen
        .into_iter()
        .filter(|(_, p)| p.len() > 1)
        .map(|(key, positions)| Duplicate { key, positions })
        .collect();
    out.sort_by_key(|d| d.positions.first().copied().unwrap_or(usize::MAX));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_rules() {
        assert_eq!(Email::parse(""), Err(KeyError::Empty));
        assert_eq!(Email::parse("  \t"), Err(KeyError::Empty));
        for bad in [
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@@b.com",
            "a@b_c.com",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(KeyError::Invalid(_))),
                "{bad}"
            );
        }
        let e = Email::parse(" Jo.Smith+x@Sub.Example.org ").unwrap();
        assert_eq!(e.as_str(), "Jo.Smith+x@Sub.Example.org");
        assert_eq!(e.folded(), "jo.smith+x@sub.example.org");
        assert_eq!(format!("{e:?}"), "Email([redacted])");
        assert!(e.is_personal());
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn email_serde_round_trip_validates() {
        let e: Email = serde_json::from_str("\" A@B.nl \"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"A@B.nl\"");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }

    #[test]
    fn sku_and_order_ref() {
        assert_eq!(Sku::parse(" x ").unwrap().as_str(), "x");
        assert_ne!(Sku::parse("x").unwrap(), Sku::parse("X").unwrap());
        assert_eq!(Sku::parse(""), Err(KeyError::Empty));
        assert!(Sku::parse("a\u{0}b").is_err());
        assert!(Sku::parse(&"x".repeat(256)).is_err());
        assert_eq!(OrderRef::parse("  1001").unwrap().to_string(), "1001");
        assert_eq!(parse_opt(None, Sku::parse), Err(KeyError::Missing));
        assert!(!Sku::parse("x").unwrap().is_personal());
    }

    #[test]
    fn duplicates_in_input_order() {
        let keys = ["b", "a", "b", "", "a", "c", "b"].map(Sku::parse);
        let d = find_duplicates(keys);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].key.as_str(), "b");
        assert_eq!(d[0].positions, vec![0, 2, 6]);
        assert_eq!(d[1].positions, vec![1, 4]);
    }

    proptest! {
        #[test]
        fn email_normalisation_is_stable(local in "[A-Za-z0-9._%+-]{1,20}", domain in "[A-Za-z0-9]{1,10}\\.[A-Za-z]{2,6}", pad in "[ \t]{0,3}") {
            let raw = format!("{pad}{local}@{domain}{pad}");
            let e = Email::parse(&raw).unwrap();
            let again = Email::parse(e.as_str()).unwrap();
            prop_assert_eq!(&again, &e);
            prop_assert_eq!(again.as_str(), e.as_str());
            prop_assert_eq!(Email::parse(&raw.to_uppercase()).unwrap(), e);
        }

        #[test]
        fn sku_normalisation_is_stable(raw in "\\PC{0,30}") {
            if let Ok(s) = Sku::parse(&raw) {
                let again = Sku::parse(s.as_str()).unwrap();
                prop_assert_eq!(&again, &s);
                prop_assert_eq!(s.as_str(), s.as_str().trim());
                prop_assert!(!s.as_str().is_empty());
            } else {
                prop_assert!(raw.trim().is_empty() || raw.trim().chars().count() > Sku::MAX_LEN);
            }
        }
    }
}
