//! Customer classification: company or person.
//!
//! A company name makes a company customer, with the person as its contact. A company name that is
//! empty, only whitespace, or the person's own name does not. The rule is a replaceable function.
//!
//! ```
//! use sync_core::classify::{Classifier, Customer, CustomerParts};
//!
//! let c = Classifier::default();
//! let parts = CustomerParts::new(Some("Bakkerij Jansen BV"), "Piet", "Jansen");
//! match c.classify(&parts) {
//!     Customer::Company { company_name, contact } => {
//!         assert_eq!(company_name, "Bakkerij Jansen BV");
//!         assert_eq!(contact.full_name(), "Piet Jansen");
//!     }
//!     Customer::Person(_) => unreachable!(),
//! }
//! assert!(matches!(c.classify(&CustomerParts::new(Some(" piet  jansen "), "Piet", "Jansen")), Customer::Person(_)));
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A person's name.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Given name, trimmed.
    pub first: String,
    /// Family name, trimmed.
    pub last: String,
}

impl PersonName {
    /// A name (both parts trimmed).
    pub fn new(first: &str, last: &str) -> Self {
        Self {
            first: first.trim().to_owned(),
            last: last.trim().to_owned(),
        }
    }
    /// `first last`, or whichever part exists.
    pub fn full_name(&self) -> String {
        match (self.first.is_empty(), self.last.is_empty()) {
            (false, false) => format!("{} {}", self.first, self.last),
            (false, true) => self.first.clone(),
            (true, _) => self.last.clone(),
        }
    }
    /// Whether both parts are empty.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty() && self.last.is_empty()
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName([redacted])")
    }
}

/// What classification looks at.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerParts {
    /// The company name as the source gives it.
    pub company_name: Option<String>,
    /// The person's name.
    pub person: PersonName,
}

impl CustomerParts {
    /// Parts from a company name and a person's first and last name.
    pub fn new(company_name: Option<&str>, first: &str, last: &str) -> Self {
        Self {
            company_name: company_name.map(str::to_owned),
            person: PersonName::new(first, last),
        }
    }
}

impl fmt::Debug for CustomerParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomerParts([redacted])")
    }
}

/// The kind of customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// A private person.
    Person,
    /// A company (with the person as contact).
    Company,
}

/// A classified customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Customer {
    /// A person customer.
    Person(PersonName),
    /// A company customer and its contact person.
    Company {
        /// The company name, trimmed.
        company_name: String,
        /// The contact person (may be empty when the source has no person name).
        contact: PersonName,
    },
}

impl Customer {
    /// The kind.
    pub fn kind(&self) -> CustomerKind {
        match self {
            Customer::Person(_) => CustomerKind::Person,
            Customer::Company { .. } => CustomerKind::Company,
        }
    }
    /// The customer's display name: the company name, or the person's full name.
    pub fn display_name(&self) -> String {
        match self {
            Customer::Person(p) => p.full_name(),
            Customer::Company { company_name, .. } => company_name.clone(),
        }
    }
}

/// A classification rule.
pub type Rule = Arc<dyn Fn(&CustomerParts) -> CustomerKind + Send + Sync>;

/// Classifies customers with a rule ([`default_rule`] unless replaced).
#[derive(Clone)]
pub struct Classifier {
    rule: Rule,
}

impl Default for Classifier {
    fn default() -> Self {
        Self {
            rule: Arc::new(default_rule),
        }
    }
}

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classifier").finish_non_exhaustive()
    }
}

impl Classifier {
    /// A classifier with a custom rule.
    pub fn with_rule(
        rule: impl Fn(&CustomerParts) -> CustomerKind + Send + Sync + 'static,
    ) -> Self {
        Self {
            rule: Arc::new(rule),
        }
    }

    /// The kind the rule gives.
    pub fn kind(&self, parts: &CustomerParts) -> CustomerKind {
        (self.rule)(parts)
    }

    /// Classifies: the company case yields the company and its contact person.
    pub fn classify(&self, parts: &CustomerParts) -> Customer {
        match (
            self.kind(parts),
            parts.company_name.as_deref().map(str::trim),
        ) {
            (CustomerKind::Company, Some(name)) if !name.is_empty() => Customer::Company {
                company_name: name.to_owned(),
                contact: parts.person.clone(),
            },
            // A custom rule that says "company" without a company name cannot invent one.
            _ => Customer::Person(parts.person.clone()),
        }
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The default rule: a company when the company name is non-blank and differs from the person's
/// name (compared case-insensitively with whitespace collapsed, in either name order).
pub fn default_rule(parts: &CustomerParts) -> CustomerKind {
    let Some(company) = parts.company_name.as_deref() else {
        return CustomerKind::Person;
    };
    let company = fold(company);
    if company.is_empty() {
        return CustomerKind::Person;
    }
    let p = &parts.person;
    let forms = [
        fold(&p.full_name()),
        fold(&format!("{} {}", p.last, p.first)),
        fold(&format!("{}, {}", p.last, p.first)),
    ];
    if forms.contains(&company) {
        CustomerKind::Person
    } else {
        CustomerKind::Company
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rule_cases() {
        let k = |c: Option<&str>| default_rule(&CustomerParts::new(c, "Ann", "de Vries"));
        assert_eq!(k(None), CustomerKind::Person);
        assert_eq!(k(Some("")), CustomerKind::Person);
        assert_eq!(k(Some(" \t ")), CustomerKind::Person);
        assert_eq!(k(Some("ANN  DE VRIES")), CustomerKind::Person);
        assert_eq!(k(Some("de Vries Ann")), CustomerKind::Person);
        assert_eq!(k(Some("de Vries, Ann")), CustomerKind::Person);
        assert_eq!(k(Some("De Vries Holding")), CustomerKind::Company);
        // No person name at all: a company name still makes a company.
        assert_eq!(
            default_rule(&CustomerParts::new(Some("Acme"), "", "")),
            CustomerKind::Company
        );
    }

    #[test]
    fn company_yields_contact_and_rule_is_replaceable() {
        let parts = CustomerParts::new(Some(" Acme BV "), " Jo ", "Lee");
        let c = Classifier::default().classify(&parts);
        assert_eq!(
            c,
            Customer::Company {
                company_name: "Acme BV".into(),
                contact: PersonName::new("Jo", "Lee")
            }
        );
        assert_eq!(c.display_name(), "Acme BV");

        let always_person = Classifier::with_rule(|_| CustomerKind::Person);
        assert_eq!(always_person.classify(&parts).kind(), CustomerKind::Person);
        let always_company = Classifier::with_rule(|_| CustomerKind::Company);
        let no_company = CustomerParts::new(None, "Jo", "Lee");
        assert_eq!(
            always_company.classify(&no_company).display_name(),
            "Jo Lee"
        );
        assert_eq!(format!("{parts:?}"), "CustomerParts([redacted])");
    }
}
