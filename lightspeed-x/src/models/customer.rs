use super::versioned;
use crate::decode;
use crate::ids::{CustomerGroupId, CustomerId, Version};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A customer (`/customers`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    /// Customer id.
    pub id: CustomerId,
    /// Loyalty/customer code (`WALKIN` for the walk-in customer).
    pub customer_code: Option<String>,
    /// Full name (deprecated by the API).
    pub name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company name; present for business customers.
    pub company_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Customer group.
    pub customer_group_id: Option<CustomerGroupId>,
    /// Phone.
    pub phone: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// Fax.
    pub fax: Option<String>,
    /// Twitter handle.
    pub twitter: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Gender (`M`, `F` or none).
    pub gender: Option<String>,
    /// Date of birth, as sent (`1963-03-03`).
    pub date_of_birth: Option<String>,
    /// Physical address line 1.
    pub physical_address_1: Option<String>,
    /// Physical address line 2.
    pub physical_address_2: Option<String>,
    /// Physical suburb.
    pub physical_suburb: Option<String>,
    /// Physical city.
    pub physical_city: Option<String>,
    /// Physical postcode.
    pub physical_postcode: Option<String>,
    /// Physical state.
    pub physical_state: Option<String>,
    /// Physical country code.
    pub physical_country_id: Option<String>,
    /// Postal address line 1.
    pub postal_address_1: Option<String>,
    /// Postal address line 2.
    pub postal_address_2: Option<String>,
    /// Postal suburb.
    pub postal_suburb: Option<String>,
    /// Postal city.
    pub postal_city: Option<String>,
    /// Postal postcode.
    pub postal_postcode: Option<String>,
    /// Postal state.
    pub postal_state: Option<String>,
    /// Postal country code.
    pub postal_country_id: Option<String>,
    /// Custom field 1.
    pub custom_field_1: Option<String>,
    /// Custom field 2.
    pub custom_field_2: Option<String>,
    /// Custom field 3.
    pub custom_field_3: Option<String>,
    /// Custom field 4.
    pub custom_field_4: Option<String>,
    /// Loyalty enabled.
    #[serde(with = "decode::flexible_bool")]
    pub enable_loyalty: bool,
    /// Opted out of e-mail.
    #[serde(with = "decode::flexible_bool")]
    pub do_not_email: bool,
    /// Spend this year.
    #[serde(with = "decode::decimal")]
    pub year_to_date: Decimal,
    /// Account balance (negative = owes).
    #[serde(with = "decode::decimal")]
    pub balance: Decimal,
    /// Loyalty balance.
    #[serde(with = "decode::decimal")]
    pub loyalty_balance: Decimal,
    /// On-account limit.
    #[serde(with = "decode::decimal_opt")]
    pub on_account_limit: Option<Decimal>,
    /// Tax id (business tax number).
    pub tax_id: Option<String>,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted (listed only with `deleted=true`).
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Customer);

impl Customer {
    /// Whether the customer is a business (has a non-empty company name).
    pub fn is_company(&self) -> bool {
        self.company_name
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
    }
}

/// Body to create a customer (`POST /customers`), and the changed fields of a [`CustomerUpdate`].
///
/// `first_name` and `last_name` are always sent: both specs require the keys (the values may be `null`,
/// e.g. for a company-only customer). Every other field is sent only when set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerInput {
    /// First name (the key is always sent; `null` when unknown).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name (the key is always sent; `null` when unknown).
    #[serde(default)]
    pub last_name: Option<String>,
    /// Company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Customer code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_code: Option<String>,
    /// Customer group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group_id: Option<CustomerGroupId>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Mobile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Date of birth (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Physical address line 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_address_1: Option<String>,
    /// Physical address line 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_address_2: Option<String>,
    /// Physical city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_city: Option<String>,
    /// Physical postcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_postcode: Option<String>,
    /// Physical country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_country_id: Option<String>,
    /// Loyalty enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_loyalty: Option<bool>,
    /// Opted out of e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_email: Option<bool>,
    /// Tax id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
}

/// Body of `PUT /customers/{id}`: the changed fields plus the names the customer keeps.
///
/// Both specs require the `first_name` and `last_name` keys on every PUT and allow `null`, which stores no
/// name; they say nothing about keeping a name that is left out. So an update always carries the names to
/// store, and this type can only be built with them: [`CustomerUpdate::new`] takes them from the customer
/// as read (changes to the names in `changes` win), [`CustomerUpdate::with_names`] takes them explicitly.
/// Every other field is sent only when set in `changes`, as in [`CustomerInput`].
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerUpdate {
    first_name: Option<String>,
    last_name: Option<String>,
    changes: CustomerInput,
}

impl CustomerUpdate {
    /// Changes to `current`: a name not set in `changes` keeps the value `current` has.
    pub fn new(current: &Customer, changes: CustomerInput) -> Self {
        CustomerUpdate {
            first_name: changes
                .first_name
                .clone()
                .or_else(|| current.first_name.clone()),
            last_name: changes
                .last_name
                .clone()
                .or_else(|| current.last_name.clone()),
            changes,
        }
    }

    /// Changes with the complete names to store (`None` stores no name); the names in `changes` are
    /// ignored.
    pub fn with_names(
        first_name: Option<String>,
        last_name: Option<String>,
        changes: CustomerInput,
    ) -> Self {
        CustomerUpdate {
            first_name,
            last_name,
            changes,
        }
    }

    /// The first name sent.
    pub fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }

    /// The last name sent.
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }

    /// The other changed fields.
    pub fn changes(&self) -> &CustomerInput {
        &self.changes
    }
}

impl Serialize for CustomerUpdate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let body = CustomerInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            ..self.changes.clone()
        };
        body.serialize(s)
    }
}
