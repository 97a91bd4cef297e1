//! The activity log: per run and per record, what came from the source, what was sent, what the
//! target answered, and the outcome.
//!
//! Personal data (names, e-mail addresses, phone numbers, addresses) is redacted before an entry
//! is built unless the caller opts in with [`Redaction::include_personal`]. Record keys that are
//! personal (e-mail addresses) are stored only as a SHA-256 digest of their canonical form, so
//! entries stay queryable by key ([`ActivityQuery::key`]) without storing the address.
//!
//! ```
//! use serde_json::json;
//! use sync_core::log::Redaction;
//!
//! let r = Redaction::default();
//! let out = r.redact_json(&json!({"email": "a@b.nl", "first_name": "Ann", "sku": "A1", "note": "mail a@b.nl"}));
//! assert_eq!(out, json!({"email": "[redacted]", "first_name": "[redacted]", "sku": "A1", "note": "mail [redacted]"}));
//! ```

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::key::{Email, Key, KeyText};
use crate::upsert::{Outcome, RecordOutcome};

/// The placeholder that replaces personal data.
pub const REDACTED: &str = "[redacted]";

/// One activity log entry: a record's outcome, or a run-level message (no source id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// The run it belongs to.
    pub run_id: String,
    /// The flow.
    pub flow: String,
    /// The tenant.
    pub tenant: String,
    /// When it was logged.
    pub at: DateTime<Utc>,
    /// The record's source id (`None` for run-level entries).
    pub source_id: Option<String>,
    /// The record's key in clear, when it is not personal or the caller opted in.
    pub key: Option<String>,
    /// SHA-256 (hex) of the key's canonical form; what queries by key match.
    pub key_digest: Option<String>,
    /// The outcome (`None` for run-level entries).
    pub outcome: Option<Outcome>,
    /// The reason or message.
    pub message: Option<String>,
    /// What came from the source.
    pub source: Option<Value>,
    /// What was sent to the target.
    pub sent: Option<Value>,
    /// What the target answered.
    pub answer: Option<Value>,
}

/// The digest stored for a key (hex SHA-256 of its canonical form).
pub fn key_digest<K: Key>(key: &K) -> String {
    digest(&key.canonical())
}

fn digest(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Which personal data to redact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    include_personal: bool,
    exact: BTreeSet<String>,
    containing: BTreeSet<String>,
    kept: BTreeSet<String>,
}

fn norm_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Default for Redaction {
    fn default() -> Self {
        let exact = [
            "name",
            "fullname",
            "customername",
            "contactname",
            "displayname",
            "surname",
            "initials",
            "vat",
            "iban",
            "dob",
        ];
        let containing = [
            "email",
            "phone",
            "mobile",
            "fax",
            "address",
            "street",
            "housenumber",
            "postcode",
            "postalcode",
            "zip",
            "city",
            "firstname",
            "lastname",
            "familyname",
            "givenname",
            "middlename",
            "birth",
            "contact",
            "personname",
            "taxnumber",
            "vatnumber",
            "bankaccount",
        ];
        Self {
            include_personal: false,
            exact: exact.iter().map(|s| (*s).to_owned()).collect(),
            containing: containing.iter().map(|s| (*s).to_owned()).collect(),
            kept: BTreeSet::new(),
        }
    }
}

impl Redaction {
    /// Keeps personal data in the log (the caller takes responsibility for it).
    pub fn include_personal(mut self, include: bool) -> Self {
        self.include_personal = include;
        self
    }
    /// Whether personal data is kept.
    pub fn includes_personal(&self) -> bool {
        self.include_personal
    }
    /// Also redacts fields with this name (compared without case, `_` or `-`).
    pub fn redact_field(mut self, name: &str) -> Self {
        let n = norm_name(name);
        self.kept.remove(&n);
        self.exact.insert(n);
        self
    }
    /// Never redacts fields with this name (for example `name` in a product flow).
    pub fn keep_field(mut self, name: &str) -> Self {
        self.kept.insert(norm_name(name));
        self
    }

    /// Whether a field of this name holds personal data.
    pub fn is_personal_field(&self, name: &str) -> bool {
        let n = norm_name(name);
        if self.kept.contains(&n) {
            return false;
        }
        self.exact.contains(&n) || self.containing.iter().any(|c| n.contains(c.as_str()))
    }

    /// A copy of a JSON value with personal fields and e-mail addresses in text replaced.
    pub fn redact_json(&self, value: &Value) -> Value {
        if self.include_personal {
            return value.clone();
        }
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if self.is_personal_field(k) && !v.is_null() {
                            redact_leaves(v)
                        } else {
                            self.redact_json(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::String(s) => Value::String(self.redact_text(s)),
            other => other.clone(),
        }
    }

    /// Text with e-mail addresses replaced (for messages and free-text fields).
    pub fn redact_text(&self, text: &str) -> String {
        if self.include_personal || !text.contains('@') {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            let core = word.trim_matches(|c: char| !c.is_alphanumeric());
            if core.contains('@') && Email::parse(core).is_ok() {
                out.push_str(&word.replacen(core, REDACTED, 1));
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ',' | ';' | '(' | ')') {
                flush(&mut word, &mut out);
                out.push(c);
            } else {
                word.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// Builds the log entry for one record outcome.
    pub fn entry(
        &self,
        run_id: &str,
        flow: &str,
        tenant: &str,
        at: DateTime<Utc>,
        outcome: &RecordOutcome,
    ) -> ActivityEntry {
        let (key, key_digest) = match &outcome.key {
            Some(k) => (self.clear_key(k), Some(digest(&k.canonical))),
            None => (None, None),
        };
        ActivityEntry {
            run_id: run_id.to_owned(),
            flow: flow.to_owned(),
            tenant: tenant.to_owned(),
            at,
            source_id: Some(outcome.source_id.clone()),
            key,
            key_digest,
            outcome: Some(outcome.outcome),
            message: outcome.reason.as_deref().map(|r| self.redact_text(r)),
            source: Some(self.redact_json(&outcome.source)),
            sent: outcome.sent.as_ref().map(|v| self.redact_json(v)),
            answer: outcome.answer.as_ref().map(|v| self.redact_json(v)),
        }
    }

    fn clear_key(&self, k: &KeyText) -> Option<String> {
        if k.personal && !self.include_personal {
            None
        } else {
            Some(k.text.clone())
        }
    }
}

fn redact_leaves(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redact_leaves(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_leaves).collect()),
        Value::Null => Value::Null,
        _ => Value::String(REDACTED.to_owned()),
    }
}

/// A query over the activity log. All set conditions must hold; newest entries first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Only this run.
    pub run_id: Option<String>,
    /// Only this flow.
    pub flow: Option<String>,
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only entries whose key digest is this.
    pub key_digest: Option<String>,
    /// Only failed records.
    pub failures_only: bool,
    /// At most this many entries (`None`: all).
    pub limit: Option<usize>,
}

impl ActivityQuery {
    /// Every entry.
    pub fn all() -> Self {
        Self::default()
    }
    /// Entries of one run.
    pub fn run(run_id: impl Into<String>) -> Self {
        Self {
            run_id: Some(run_id.into()),
            ..Self::default()
        }
    }
    /// Entries about one record key (works whether or not the key was stored in clear).
    pub fn key<K: Key>(key: &K) -> Self {
        Self {
            key_digest: Some(key_digest(key)),
            ..Self::default()
        }
    }
    /// Only failures.
    pub fn failures(mut self) -> Self {
        self.failures_only = true;
        self
    }
    /// Only this flow and tenant.
    pub fn scope(mut self, flow: impl Into<String>, tenant: impl Into<String>) -> Self {
        self.flow = Some(flow.into());
        self.tenant = Some(tenant.into());
        self
    }
    /// At most `n` entries.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Whether an entry matches (used by in-memory stores).
    pub fn matches(&self, e: &ActivityEntry) -> bool {
        self.run_id.as_ref().is_none_or(|r| *r == e.run_id)
            && self.flow.as_ref().is_none_or(|f| *f == e.flow)
            && self.tenant.as_ref().is_none_or(|t| *t == e.tenant)
            && self
                .key_digest
                .as_ref()
                .is_none_or(|k| e.key_digest.as_ref() == Some(k))
            && (!self.failures_only || e.outcome == Some(Outcome::Failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Sku;
    use serde_json::json;

    fn outcome(key: Option<KeyText>) -> RecordOutcome {
        RecordOutcome {
            source_id: "c-1".into(),
            key,
            outcome: Outcome::Failed,
            target_id: None,
            reason: Some("duplicate e-mail <Ann@x.nl>".into()),
            source: json!({"firstName": "Ann", "address": {"street": "Main 1", "country": "NL"}, "points": 3}),
            sent: Some(json!({"displayName": "Ann", "blocked": false})),
            answer: Some(json!({"error": {"message": "x for Ann@x.nl."}})),
        }
    }

    #[test]
    fn redacts_by_default() {
        let email = Email::parse("Ann@X.nl").unwrap();
        let r = Redaction::default();
        let e = r.entry(
            "r1",
            "customers",
            "t",
            Utc::now(),
            &outcome(Some(KeyText::of(&email))),
        );
        assert_eq!(e.key, None);
        assert_eq!(
            e.key_digest.as_deref(),
            Some(key_digest(&Email::parse("ann@x.nl").unwrap()).as_str())
        );
        assert_eq!(e.message.as_deref(), Some("duplicate e-mail <[redacted]>"));
        assert_eq!(
            e.source,
            Some(
                json!({"firstName": "[redacted]", "address": {"street": "[redacted]", "country": "[redacted]"}, "points": 3})
            )
        );
        assert_eq!(
            e.sent,
            Some(json!({"displayName": "[redacted]", "blocked": false}))
        );
        assert_eq!(
            e.answer,
            Some(json!({"error": {"message": "x for [redacted]."}}))
        );
        assert!(ActivityQuery::key(&email).matches(&e));
        assert!(ActivityQuery::run("r1").failures().matches(&e));
        assert!(!ActivityQuery::run("r2").matches(&e));
    }

    #[test]
    fn opt_in_and_field_overrides() {
        let email = Email::parse("ann@x.nl").unwrap();
        let r = Redaction::default().include_personal(true);
        let e = r.entry(
            "r1",
            "f",
            "t",
            Utc::now(),
            &outcome(Some(KeyText::of(&email))),
        );
        assert_eq!(e.key.as_deref(), Some("ann@x.nl"));
        assert_eq!(e.source.unwrap()["firstName"], "Ann");

        let products = Redaction::default()
            .keep_field("name")
            .redact_field("secret_code");
        assert!(!products.is_personal_field("name"));
        assert!(products.is_personal_field("Secret-Code"));
        assert!(products.is_personal_field("physical_postcode"));
        assert!(!products.is_personal_field("sku"));
        let sku = Sku::parse("A1").unwrap();
        let e = products.entry("r", "f", "t", Utc::now(), &outcome(Some(KeyText::of(&sku))));
        assert_eq!(e.key.as_deref(), Some("A1"));
    }

    #[test]
    fn text_without_addresses_is_untouched() {
        let r = Redaction::default();
        assert_eq!(r.redact_text("price @ 5 for x@y"), "price @ 5 for x@y");
        assert_eq!(
            r.redact_text("to: a.b@c.com, d@e.org"),
            "to: [redacted], [redacted]"
        );
    }
}
