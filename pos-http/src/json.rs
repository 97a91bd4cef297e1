//! Exact JSON numbers without `serde_json`'s `arbitrary_precision` feature.
//!
//! [`Scalar`] reads a JSON scalar and keeps a number's text as it was written, so that a client can
//! parse money into an exact decimal; [`serialize_number_text`] writes such text back as a JSON number.
//!
//! Exactness depends on the path: decoding from JSON text (`serde_json::from_str`, `from_slice`,
//! `from_reader`, which is how every client decodes responses) sees the digits as sent, via
//! `serde_json`'s `RawValue` protocol. A number that was first buffered (`serde_json::from_value`,
//! `#[serde(untagged)]`, `#[serde(flatten)]`) arrives as an integer (exact) or an `f64`, which is
//! written back with the shortest digits that round-trip: exact for every decimal of at most 15
//! significant digits, rounded beyond.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// `serde_json`'s name for its raw-value protocol (`serde_json::value::RawValue` uses the same).
const RAW_TOKEN: &str = "$serde_json::private::RawValue";
/// `serde_json`'s name for a buffered number when some crate enables `arbitrary_precision`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A JSON scalar as it arrives, before it is interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// A number, as the text of its digits (`2.63158`, `-1e-7`, `123456789012345678.25`).
    Number(String),
    /// A string.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// An object or a list (skipped).
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(RAW_TOKEN, ScalarVisitor)
    }
}

fn from_raw<E: de::Error>(raw: &str) -> Result<Scalar, E> {
    let t = raw.trim();
    match t.as_bytes().first() {
        None => Err(E::custom("empty JSON value")),
        Some(b'"') => serde_json::from_str::<String>(t)
            .map(Scalar::Text)
            .map_err(E::custom),
        Some(b'{' | b'[') => Ok(Scalar::Other),
        Some(b't') if t == "true" => Ok(Scalar::Bool(true)),
        Some(b'f') if t == "false" => Ok(Scalar::Bool(false)),
        Some(b'n') if t == "null" => Ok(Scalar::Null),
        Some(b'-' | b'0'..=b'9') => Ok(Scalar::Number(t.to_owned())),
        Some(_) => Err(E::custom(format!("unexpected JSON value {t:?}"))),
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(d)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("not a finite number: {v}")));
        }
        // `Display` writes the shortest digits that read back as the same `f64`.
        Ok(Scalar::Number(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        let Some(key) = map.next_key::<KeyOrRaw>()? else {
            return Ok(Scalar::Other);
        };
        match key.0 {
            Some(true) => return from_raw(&map.next_value::<CowStr<'de>>()?.0),
            Some(false) => {
                return Ok(Scalar::Number(
                    map.next_value::<CowStr<'de>>()?.0.into_owned(),
                ));
            }
            None => {}
        }
        map.next_value::<IgnoredAny>()?;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// A map key; `Some(true)` for the raw-value marker, `Some(false)` for the number marker.
struct KeyOrRaw(Option<bool>);

impl<'de> Deserialize<'de> for KeyOrRaw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyOrRaw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyOrRaw, E> {
                Ok(KeyOrRaw(match v {
                    RAW_TOKEN => Some(true),
                    NUMBER_TOKEN => Some(false),
                    _ => None,
                }))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<KeyOrRaw, E> {
                Ok(KeyOrRaw(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<KeyOrRaw, E> {
                Ok(KeyOrRaw(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<KeyOrRaw, E> {
                Ok(KeyOrRaw(None))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A string, borrowed when the input allows it.
struct CowStr<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CowStr<'de>, E> {
                Ok(CowStr(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Writes `text` (the digits of a number, such as a decimal's `to_string()`) as a JSON number.
///
/// Through `serde_json::to_string`/`to_vec`/`to_writer` the digits are written as given; through
/// `serde_json::to_value` they become an `f64` number (see the module's note on exactness).
pub fn serialize_number_text<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(text.to_owned())
        .map_err(serde::ser::Error::custom)?;
    if !matches!(
        from_raw::<serde_json::Error>(raw.get()),
        Ok(Scalar::Number(_))
    ) {
        return Err(serde::ser::Error::custom(format!(
            "not a JSON number: {text:?}"
        )));
    }
    raw.serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        v: Scalar,
    }

    fn num(s: &str) -> Scalar {
        Scalar::Number(s.to_owned())
    }

    #[test]
    fn text_keeps_every_digit() {
        for n in [
            "2.63158",
            "0.1",
            "1e-7",
            "-0.000001",
            "123456789012345678.25",
            "79228162514264337593543950335",
        ] {
            let r: Row = serde_json::from_str(&format!(r#"{{"v": {n}}}"#)).unwrap();
            assert_eq!(r.v, num(n), "{n}");
            let r: Row = serde_json::from_slice(format!(r#"{{"v":{n}}}"#).as_bytes()).unwrap();
            assert_eq!(r.v, num(n), "{n}");
        }
    }

    #[test]
    fn other_scalars() {
        let r: Vec<Scalar> =
            serde_json::from_str(r#"["a\"b", true, null, {"x": 1}, [1, 2], ""]"#).unwrap();
        assert_eq!(
            r,
            vec![
                Scalar::Text("a\"b".into()),
                Scalar::Bool(true),
                Scalar::Null,
                Scalar::Other,
                Scalar::Other,
                Scalar::Text(String::new()),
            ]
        );
    }

    #[test]
    fn value_path_is_exact_up_to_fifteen_digits() {
        let v = serde_json::json!({"v": 2.63158});
        assert_eq!(serde_json::from_value::<Row>(v).unwrap().v, num("2.63158"));
        let v: serde_json::Value = serde_json::from_str(r#"{"v": 0.1}"#).unwrap();
        assert_eq!(serde_json::from_value::<Row>(v).unwrap().v, num("0.1"));
        let v: serde_json::Value = serde_json::from_str(r#"{"v": 123456789012345678}"#).unwrap();
        assert_eq!(
            serde_json::from_value::<Row>(v).unwrap().v,
            num("123456789012345678")
        );
        let v: serde_json::Value = serde_json::from_str(r#"{"v": {"x": 1}}"#).unwrap();
        assert_eq!(serde_json::from_value::<Row>(v).unwrap().v, Scalar::Other);
    }

    #[test]
    fn numbers_serialise_as_written() {
        struct N(&'static str);
        impl Serialize for N {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_number_text(self.0, s)
            }
        }
        assert_eq!(
            serde_json::to_string(&N("123456789012345678.25")).unwrap(),
            "123456789012345678.25"
        );
        assert!(serde_json::to_string(&N("abc")).is_err());
    }
}
