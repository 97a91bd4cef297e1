//! Value encodings Business Central uses on the wire: encoded enum member names, the empty date
//! `0001-01-01`, the empty GUID and weak ETags.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `@odata.etag` of an entity, sent back verbatim in `If-Match`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ETag(String);

impl ETag {
    /// Wraps an ETag value as received (for example `W/"JzE4OzE7MDA7Jw=="`).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The `*` ETag: matches any version (overwrites concurrent changes).
    pub fn any() -> Self {
        Self("*".to_owned())
    }
    /// The ETag text, as sent in `If-Match`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ETag({})", self.0)
    }
}

impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes an XML-encoded `$metadata` member name (`In_x0020_Review`) into its caption (`In Review`).
pub fn decode_member_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find("_x") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        // `_xHHHH_` is 7 bytes, all ASCII when valid.
        let decoded = tail
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Declares a Business Central enum with its encoded member names and an `Other` variant.
macro_rules! bc_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A member this crate does not know yet (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The encoded member name sent on the wire (as in `$metadata`).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s.as_str(),
                }
            }
            /// Parses an encoded member name; unknown names become `Other`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
            /// The human caption (`Non-Inventory` for `Non_x002D_Inventory`).
            pub fn caption(&self) -> String {
                $crate::values::decode_member_name(self.as_str())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl From<$name> for $crate::query::Literal {
            fn from(v: $name) -> Self {
                $crate::query::Literal::String(v.as_str().to_owned())
            }
        }
    };
}
pub(crate) use bc_enum;

/// Declares a GUID identifier newtype.
macro_rules! bc_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            /// Wraps a GUID.
            pub const fn new(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
            /// The GUID.
            pub const fn uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for $crate::query::Literal {
            fn from(v: $name) -> Self {
                $crate::query::Literal::Guid(v.0)
            }
        }

        impl $crate::entity::EntityKey for $name {
            fn key_segment(&self) -> String {
                self.0.hyphenated().to_string()
            }
        }
    };
}
pub(crate) use bc_id;

/// `Option<NaiveDate>` where `0001-01-01` (and `null`) mean "no date".
pub mod opt_date {
    use super::*;
    use chrono::NaiveDate;

    /// Decodes a date; `0001-01-01`, empty and `null` become `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        match s.as_deref() {
            None | Some("") | Some("0001-01-01") => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }

    /// Encodes a date; `None` becomes `0001-01-01` (clears the date).
    pub fn serialize<S: Serializer>(v: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
            None => s.serialize_str("0001-01-01"),
        }
    }
}

/// `Option<DateTime<Utc>>` where `0001-01-01T00:00:00Z` (and `null`) mean "not set".
pub mod opt_datetime {
    use super::*;
    use chrono::{DateTime, Datelike, SecondsFormat, Utc};

    /// Decodes a date-time; year 1, empty and `null` become `None`. A bare date (as in the
    /// official `contact` example, `"2021-06-01"`) is midnight UTC of that day.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        match s.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => {
                let dt = match DateTime::parse_from_rfc3339(s) {
                    Ok(dt) => dt.with_timezone(&Utc),
                    Err(e) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|d| d.and_utc())
                        .ok_or_else(|| serde::de::Error::custom(e))?,
                };
                Ok(if dt.year() <= 1 { None } else { Some(dt) })
            }
        }
    }

    /// Encodes a date-time in UTC with milliseconds, as Business Central sends them.
    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&d.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => s.serialize_str("0001-01-01T00:00:00Z"),
        }
    }
}

/// `Option<Id>` where the empty GUID (and `null`) mean "none".
pub mod opt_guid {
    use super::*;

    /// Decodes a GUID; the all-zero GUID, empty and `null` become `None`.
    pub fn deserialize<'de, D: Deserializer<'de>, T: From<uuid::Uuid>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        match s.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => {
                let id = uuid::Uuid::parse_str(s).map_err(serde::de::Error::custom)?;
                Ok(if id.is_nil() { None } else { Some(T::from(id)) })
            }
        }
    }

    /// Encodes a GUID; `None` becomes the empty GUID.
    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(id) => id.serialize(s),
            None => s.serialize_str("00000000-0000-0000-0000-000000000000"),
        }
    }
}

/// Reads an exact decimal from a JSON scalar: a number (its digits as sent) or a decimal string.
fn decimal_from_scalar<E: serde::de::Error>(
    s: pos_http::json::Scalar,
) -> Result<Option<rust_decimal::Decimal>, E> {
    use pos_http::json::Scalar;
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let text = match s {
        Scalar::Null => return Ok(None),
        Scalar::Number(t) | Scalar::Text(t) => t,
        Scalar::Bool(b) => return Err(E::custom(format!("expected a decimal, found {b}"))),
        Scalar::Other => return Err(E::custom("expected a decimal, found an object or a list")),
    };
    let t = text.trim();
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_str(t))
        .or_else(|_| Decimal::from_scientific(t))
        .map(Some)
        .map_err(|_| E::custom(format!("invalid decimal {t:?}")))
}

/// A `Decimal` that accepts JSON numbers (exactly, without floats) and strings; `null` is zero.
///
/// Numbers are exact when decoded from JSON text; through `serde_json::Value` they are exact up to
/// 15 significant digits (see `pos_http::json`).
pub mod decimal {
    use super::*;
    use rust_decimal::Decimal;

    /// Decodes an exact decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = pos_http::json::Scalar::deserialize(d)?;
        Ok(decimal_from_scalar::<D::Error>(s)?.unwrap_or_default())
    }

    /// Encodes a decimal as an exact JSON number.
    pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        pos_http::json::serialize_number_text(&v.to_string(), s)
    }
}

/// An `Option<Decimal>` sent as an exact JSON number.
pub mod opt_decimal {
    use super::*;
    use rust_decimal::Decimal;

    /// Decodes an optional exact decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        decimal_from_scalar::<D::Error>(pos_http::json::Scalar::deserialize(d)?)
    }

    /// Encodes an optional decimal as an exact JSON number.
    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => pos_http::json::serialize_number_text(&v.to_string(), s),
            None => s.serialize_none(),
        }
    }
}

/// `null` decodes as the type's default (Business Central sends `null` for some empty values).
pub fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    #[derive(Deserialize, Serialize)]
    struct Money {
        #[serde(with = "decimal")]
        a: Decimal,
        #[serde(default, with = "opt_decimal")]
        b: Option<Decimal>,
    }

    #[test]
    fn decimals_are_never_rounded() {
        for text in [
            "2.63158",
            "0.1",
            "1e-7",
            "123456789012345678.25",
            "-0.00001",
        ] {
            let want = Decimal::from_scientific(text)
                .or_else(|_| Decimal::from_str(text))
                .unwrap();
            let body = format!(r#"{{"a": {text}, "b": {text}}}"#);
            let m: Money = serde_json::from_str(&body).unwrap();
            assert_eq!((m.a, m.b), (want, Some(want)), "{text}");
            let out = serde_json::to_string(&m).unwrap();
            assert!(out.contains(&format!(r#""a":{want}"#)), "{out}");
            let s: Money = serde_json::from_str(&format!(r#"{{"a": "{text}"}}"#)).unwrap();
            assert_eq!(s.a, want, "{text}");
        }
        let m: Money = serde_json::from_str(r#"{"a": null, "b": null}"#).unwrap();
        assert_eq!((m.a, m.b), (Decimal::ZERO, None));
        assert!(serde_json::from_str::<Money>(r#"{"a": true}"#).is_err());
        // Through a `Value`: exact up to 15 significant digits.
        let v: serde_json::Value = serde_json::from_str(r#"{"a": 2.63158, "b": 0.1}"#).unwrap();
        let m: Money = serde_json::from_value(v).unwrap();
        assert_eq!(m.a, Decimal::from_str("2.63158").unwrap());
        assert_eq!(m.b, Some(Decimal::from_str("0.1").unwrap()));
    }

    #[test]
    fn decodes_member_names() {
        assert_eq!(decode_member_name("Non_x002D_Inventory"), "Non-Inventory");
        assert_eq!(decode_member_name("_x0020_"), " ");
        assert_eq!(
            decode_member_name("Positive_x0020_Adjmt_x002E_"),
            "Positive Adjmt."
        );
        assert_eq!(decode_member_name("Bad_x00"), "Bad_x00");
        assert_eq!(decode_member_name("x_xZZZZ_y"), "x_xZZZZ_y");
        assert_eq!(decode_member_name("Ünïcode_x0020_ok"), "Ünïcode ok");
    }
}
