//! What every entity type tells the client: its entity set, key, ETag and field limits.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, InvalidInput};
use crate::values::ETag;

/// A key as it appears in an entity URL: GUIDs bare (`customers(6f7a…)`), strings quoted
/// (`subscriptions('abc')`).
pub trait EntityKey {
    /// The text between the parentheses of `entitySet(...)`.
    fn key_segment(&self) -> String;
}

impl EntityKey for uuid::Uuid {
    fn key_segment(&self) -> String {
        self.hyphenated().to_string()
    }
}

impl EntityKey for String {
    fn key_segment(&self) -> String {
        format!("'{}'", self.replace('\'', "''"))
    }
}

impl EntityKey for str {
    fn key_segment(&self) -> String {
        format!("'{}'", self.replace('\'', "''"))
    }
}

/// An entity type of an API page, readable through an [`EntitySet`](crate::EntitySet).
pub trait Entity: DeserializeOwned + Send + 'static {
    /// The entity set name in URLs (`customers`).
    const ENTITY_SET: &'static str;
    /// Maximum lengths (in characters) of string properties, by JSON name, from `$metadata`.
    const MAX_LENGTHS: &'static [(&'static str, usize)] = &[];
    /// The key type.
    type Id: EntityKey + Clone + Send + Sync + 'static;
    /// The entity's key, when the response carried it.
    fn entity_id(&self) -> Option<Self::Id>;
    /// The entity's `@odata.etag`, when the response carried it.
    fn etag(&self) -> Option<&ETag>;
}

/// An entity type that can be created, updated and deleted through the API.
pub trait WritableEntity: Entity {
    /// The body of a create or update: only the fields that are set are sent.
    type Input: Serialize + Send + Sync;

    /// Checks a create or update body before sending (maximum lengths, nested lines too).
    fn check_body(body: &serde_json::Value) -> Result<(), Error> {
        check_lengths(Self::ENTITY_SET, Self::MAX_LENGTHS, body)
    }
}

/// Checks every string property of a JSON body against `max_lengths` (characters, as Business
/// Central counts them) and names the first one that is too long.
pub fn check_lengths(
    entity: &'static str,
    max_lengths: &[(&'static str, usize)],
    body: &serde_json::Value,
) -> Result<(), Error> {
    let Some(obj) = body.as_object() else {
        return Ok(());
    };
    for (field, max) in max_lengths {
        if let Some(serde_json::Value::String(s)) = obj.get(*field) {
            let length = s.chars().count();
            if length > *max {
                return Err(Error::InvalidInput(InvalidInput::TooLong {
                    entity,
                    field,
                    length,
                    max: *max,
                }));
            }
        }
    }
    Ok(())
}

/// Serializes `input` and checks it against the entity's maximum lengths.
pub(crate) fn to_checked_json<E: WritableEntity>(
    input: &E::Input,
) -> Result<serde_json::Value, Error> {
    let body = to_json(input)?;
    E::check_body(&body)?;
    Ok(body)
}

/// Serializes a request body.
pub(crate) fn to_json<B: Serialize + ?Sized>(input: &B) -> Result<serde_json::Value, Error> {
    serde_json::to_value(input)
        .map_err(|e| Error::InvalidInput(InvalidInput::Other(format!("cannot encode body: {e}"))))
}
