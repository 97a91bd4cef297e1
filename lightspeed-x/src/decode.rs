//! Lenient decoding shared by every model: money and quantities as [`Decimal`] from a JSON
//! number or a decimal string, timestamps in the several formats the API uses, and time zones.
//!
//! The modules here are meant for `#[serde(with = "...")]`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
use std::str::FromStr;

/// Parses a decimal from the text of a JSON number or a decimal string (`"56.52174"`, `"1e-3"`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_str(t))
        .or_else(|_| Decimal::from_scientific(t))
        .ok()
}

/// Parses a timestamp in any of the formats the API sends, as UTC.
///
/// Accepted: RFC 3339 with an offset or `Z` (with or without fractions), the zone-less
/// `2017-12-06 04:30:39` and `2017-12-06T04:30:39` (both UTC, as the API documents), offsets
/// written `+0000`, and a bare date (`1963-03-03`, midnight UTC).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if t.is_empty() || t.starts_with("0000-00-00") {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let with_space_t = t.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&with_space_t) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
    }
    None
}

/// Formats a timestamp the way API 2.0 writes them: `2014-09-11T21:09:59+00:00`.
pub fn format_timestamp(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Parses an IANA time zone name, with a clear error for an unknown one.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    Tz::from_str(name.trim()).map_err(|_| format!("unknown time zone {name:?}"))
}

// Numbers keep the digits they were sent with (see `pos_http::json` for when that holds).
use pos_http::json::Scalar;

fn decimal_from_scalar<E: serde::de::Error>(s: Scalar) -> Result<Option<Decimal>, E> {
    match s {
        Scalar::Null => Ok(None),
        Scalar::Number(n) => parse_decimal(&n)
            .map(Some)
            .ok_or_else(|| E::custom(format!("invalid decimal number {n}"))),
        Scalar::Text(t) if t.trim().is_empty() => Ok(None),
        Scalar::Text(t) => parse_decimal(&t)
            .map(Some)
            .ok_or_else(|| E::custom(format!("invalid decimal string {t:?}"))),
        Scalar::Bool(b) => Err(E::custom(format!("expected a decimal, found {b}"))),
        Scalar::Other => Err(E::custom("expected a decimal, found an object or a list")),
    }
}

fn serialize_decimal_number<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    pos_http::json::serialize_number_text(&value.normalize().to_string(), s)
}

/// `Decimal` from a number or a string; `null` or `""` become zero. Serialises as a JSON number.
pub mod decimal {
    use super::*;

    /// Deserialises a decimal from a number or a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        Ok(decimal_from_scalar::<D::Error>(Scalar::deserialize(d)?)?.unwrap_or(Decimal::ZERO))
    }

    /// Serialises a decimal as a JSON number.
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        serialize_decimal_number(value, s)
    }
}

/// `Option<Decimal>` from a number, a string, `null` or `""`. Serialises as a JSON number or `null`.
pub mod decimal_opt {
    use super::*;

    /// Deserialises an optional decimal from a number or a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        decimal_from_scalar::<D::Error>(Scalar::deserialize(d)?)
    }

    /// Serialises an optional decimal as a JSON number or `null`.
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serialize_decimal_number(v, s),
            None => s.serialize_none(),
        }
    }
}

/// `Option<DateTime<Utc>>` through [`parse_timestamp`]; `null`, `""` and zero dates become `None`.
pub mod timestamp_opt {
    use super::*;

    /// Deserialises an optional timestamp in any supported format.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(t) if t.trim().is_empty() || t.starts_with("0000-00-00") => Ok(None),
            Some(t) => parse_timestamp(&t)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("invalid timestamp {t:?}"))),
        }
    }

    /// Serialises an optional timestamp in the API 2.0 format.
    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&format_timestamp(v)),
            None => s.serialize_none(),
        }
    }
}

/// `Option<Tz>` from an IANA name; an unknown name is a decode error naming it.
pub mod time_zone_opt {
    use super::*;

    /// Deserialises an optional IANA time zone.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(t) if t.trim().is_empty() => Ok(None),
            Some(t) => parse_time_zone(&t).map(Some).map_err(D::Error::custom),
        }
    }

    /// Serialises an optional time zone as its IANA name.
    pub fn serialize<S: Serializer>(value: &Option<Tz>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(v.name()),
            None => s.serialize_none(),
        }
    }
}

/// `Option<String>` that also accepts numbers and booleans (ids such as `"1"` arrive as `1`).
pub mod string_opt {
    use super::*;

    /// Deserialises a string from a string, number or boolean.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Null => Ok(None),
            Scalar::Number(n) | Scalar::Text(n) => Ok(Some(n)),
            Scalar::Bool(b) => Ok(Some(b.to_string())),
            Scalar::Other => Err(D::Error::custom(
                "expected a string, found an object or a list",
            )),
        }
    }

    /// Serialises an optional string.
    pub fn serialize<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(v),
            None => s.serialize_none(),
        }
    }
}

/// `bool` that also accepts `0`/`1`, `"0"`/`"1"`, `"true"`/`"false"` and `null` (false).
pub mod flexible_bool {
    use super::*;

    /// Deserialises a boolean leniently.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Null => Ok(false),
            Scalar::Bool(b) => Ok(b),
            Scalar::Number(n) => Ok(parse_decimal(&n).is_none_or(|v| !v.is_zero())),
            Scalar::Other => Err(D::Error::custom(
                "expected a boolean, found an object or a list",
            )),
            Scalar::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => Ok(true),
                "" | "0" | "false" | "no" => Ok(false),
                other => Err(D::Error::custom(format!(
                    "expected a boolean, found {other:?}"
                ))),
            },
        }
    }

    /// Serialises a boolean.
    pub fn serialize<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*value)
    }
}

/// `i64` from a number or a numeric string (`"23"`); `null` is zero.
pub mod int_lenient {
    use super::*;

    /// Deserialises an integer from a number or a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Null => Ok(0),
            Scalar::Number(n) => n
                .parse::<i64>()
                .map_err(|_| D::Error::custom(format!("expected an integer, found {n}"))),
            Scalar::Text(t) if t.trim().is_empty() => Ok(0),
            Scalar::Text(t) => t
                .trim()
                .parse::<i64>()
                .map_err(|_| D::Error::custom(format!("expected an integer, found {t:?}"))),
            Scalar::Bool(b) => Err(D::Error::custom(format!("expected an integer, found {b}"))),
            Scalar::Other => Err(D::Error::custom(
                "expected an integer, found an object or a list",
            )),
        }
    }

    /// Serialises an integer.
    pub fn serialize<S: Serializer>(value: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*value)
    }
}

/// A list (or any `Default` value) where `null` means empty: `null` where a list is expected is `[]`.
pub mod null_default {
    use super::*;

    /// Deserialises a value, or its default for `null`.
    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// Serialises the value as it is.
    pub fn serialize<S: Serializer, T: serde::Serialize>(
        value: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

/// A map of strings (image sizes by name) where entries of another type, added by a newer API, are
/// skipped and `null` is an empty map.
pub mod string_map {
    use super::*;
    use std::collections::BTreeMap;

    /// Deserialises the string entries of a JSON object.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        let m: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(d)?;
        Ok(m.unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect())
    }

    /// Serialises the map.
    pub fn serialize<S: Serializer>(
        value: &std::collections::BTreeMap<String, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(value, s)
    }
}

/// A map of decimals (totals by name). Entries that are objects, lists, booleans or `null` (added by a
/// newer API) are skipped and a `null` map is empty; a number or string that is no decimal is an error.
pub mod decimal_map {
    use super::*;
    use std::collections::BTreeMap;

    /// Deserialises the decimal entries of a JSON object.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Decimal>, D::Error> {
        let m: Option<BTreeMap<String, Scalar>> = Option::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (k, v) in m.unwrap_or_default() {
            let text = match v {
                Scalar::Number(n) => n,
                Scalar::Text(t) if t.trim().is_empty() => continue,
                Scalar::Text(t) => t,
                _ => continue,
            };
            let value = parse_decimal(&text)
                .ok_or_else(|| D::Error::custom(format!("invalid decimal {text:?} for {k:?}")))?;
            out.insert(k, value);
        }
        Ok(out)
    }

    /// Serialises the map with numbers.
    pub fn serialize<S: Serializer>(
        value: &std::collections::BTreeMap<String, Decimal>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(value.len()))?;
        for (k, v) in value {
            m.serialize_entry(k, &DecimalNumber(v))?;
        }
        m.end()
    }

    struct DecimalNumber<'a>(&'a Decimal);
    impl serde::Serialize for DecimalNumber<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_decimal_number(self.0, s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize, Serialize)]
    struct Money {
        #[serde(with = "decimal")]
        a: Decimal,
        #[serde(default, with = "decimal_opt")]
        b: Option<Decimal>,
        #[serde(default, with = "timestamp_opt")]
        t: Option<DateTime<Utc>>,
    }

    #[test]
    fn decimal_from_number_and_string_are_equal() {
        let n: Money = serde_json::from_str(r#"{"a": 2.63158, "b": 126.5}"#).unwrap();
        let s: Money = serde_json::from_str(r#"{"a": "2.63158", "b": "126.50000"}"#).unwrap();
        assert_eq!(n.a, dec!(2.63158));
        assert_eq!(s.a, dec!(2.63158));
        assert_eq!(n.b, s.b);
        let e: Money = serde_json::from_str(r#"{"a": null, "b": ""}"#).unwrap();
        assert_eq!(e.a, Decimal::ZERO);
        assert_eq!(e.b, None);
    }

    #[test]
    fn decimal_keeps_precision_and_serialises_as_number() {
        let m: Money = serde_json::from_str(r#"{"a": 0.1, "b": -25840.85}"#).unwrap();
        assert_eq!(m.a, dec!(0.1));
        let out = serde_json::to_string(&m).unwrap();
        assert!(out.contains(r#""a":0.1"#), "{out}");
        assert!(out.contains(r#""b":-25840.85"#), "{out}");
    }

    #[test]
    fn numbers_are_never_rounded() {
        for (text, want) in [
            ("2.63158", dec!(2.63158)),
            ("0.1", dec!(0.1)),
            ("1e-7", dec!(0.0000001)),
            ("123456789012345678.25", dec!(123456789012345678.25)),
            ("-79228162514264337593543950335", Decimal::MIN),
        ] {
            let body = format!(r#"{{"a": {text}, "b": {text}}}"#);
            let m: Money = serde_json::from_str(&body).unwrap();
            assert_eq!((m.a, m.b), (want, Some(want)), "{text}");
            let m: Money = serde_json::from_slice(body.as_bytes()).unwrap();
            assert_eq!(m.a, want, "{text}");
            // Written back with every digit.
            let out = serde_json::to_string(&m).unwrap();
            let again: Money = serde_json::from_str(&out).unwrap();
            assert_eq!(again.a, want, "{out}");
        }
        // Through a `Value` (buffered), exact up to 15 significant digits.
        for (text, want) in [
            ("2.63158", dec!(2.63158)),
            ("0.1", dec!(0.1)),
            ("25840.85", dec!(25840.85)),
        ] {
            let v: serde_json::Value =
                serde_json::from_str(&format!(r#"{{"a": {text}}}"#)).unwrap();
            assert_eq!(
                serde_json::from_value::<Money>(v).unwrap().a,
                want,
                "{text}"
            );
        }
        let totals: Totals =
            serde_json::from_str(r#"{"m": {"x": 0.1, "y": 123456789012345678.25, "z": {}}}"#)
                .unwrap();
        assert_eq!(totals.m.get("x"), Some(&dec!(0.1)));
        assert_eq!(totals.m.get("y"), Some(&dec!(123456789012345678.25)));
        assert_eq!(totals.m.len(), 2);
    }

    #[derive(Deserialize)]
    struct Totals {
        #[serde(with = "decimal_map")]
        m: std::collections::BTreeMap<String, Decimal>,
    }

    #[test]
    fn bad_decimal_is_an_error_not_a_panic() {
        assert!(serde_json::from_str::<Money>(r#"{"a": "abc"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"a": true}"#).is_err());
    }

    #[test]
    fn timestamps_in_every_documented_format() {
        let want = Utc.with_ymd_and_hms(2017, 12, 6, 4, 30, 39).unwrap();
        for t in [
            "2017-12-06T04:30:39+00:00",
            "2017-12-06T04:30:39Z",
            "2017-12-06 04:30:39",
            "2017-12-06T04:30:39",
            "2017-12-06T17:30:39+13:00",
            "2017-12-06 04:30:39 +0000",
            "2017-12-06T04:30:39+0000",
        ] {
            assert_eq!(parse_timestamp(t), Some(want), "{t}");
        }
        let micro = parse_timestamp("2026-03-31T18:23:47.719422Z").unwrap();
        assert_eq!(micro.timestamp_subsec_micros(), 719422);
        assert_eq!(
            parse_timestamp("1963-03-03"),
            Some(Utc.with_ymd_and_hms(1963, 3, 3, 0, 0, 0).unwrap())
        );
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("0000-00-00 00:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn timestamp_field_errors_name_the_value() {
        let err = serde_json::from_str::<Money>(r#"{"a": 1, "t": "not a date"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a date"), "{err}");
        let ok: Money = serde_json::from_str(r#"{"a": 1, "t": ""}"#).unwrap();
        assert!(ok.t.is_none());
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            parse_time_zone("Pacific/Auckland").unwrap(),
            chrono_tz::Pacific::Auckland
        );
        let err = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("Mars/Olympus"));
    }
}
