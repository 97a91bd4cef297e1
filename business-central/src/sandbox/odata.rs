//! Server-side OData for the sandbox: `$filter` parsing and evaluation, `$select`, `$orderby`
//! and `$expand` parsing, with Business Central's refusal of `or` across fields.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// A parse or evaluation error, answered as 400.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryError {
    pub code: &'static str,
    pub message: String,
}

fn syntax(message: impl Into<String>) -> QueryError {
    QueryError {
        code: "BadRequest_NotFound",
        message: format!("Bad Request - Error in query syntax. {}", message.into()),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Bare(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, QueryError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax("Unterminated string literal.")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let first = word.chars().next().unwrap_or('0');
                if first.is_ascii_alphabetic() || first == '_' {
                    // GUIDs may start with a letter: keep them bare.
                    if uuid::Uuid::parse_str(&word).is_ok() {
                        out.push(Tok::Bare(word));
                    } else {
                        out.push(Tok::Ident(word));
                    }
                } else {
                    out.push(Tok::Bare(word));
                }
            }
        }
    }
    Ok(out)
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Bare(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Cmp(String, String, Lit),
    Func(String, String, String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    fn fields(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Cmp(f, _, _) | Expr::Func(_, f, _) => {
                out.insert(f.clone());
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            Expr::Not(a) => a.fields(out),
        }
    }

    /// Every field the expression names.
    pub fn field_names(&self) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        self.fields(&mut s);
        s
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            let mut f = left.field_names();
            f.extend(right.field_names());
            if f.len() > 1 {
                return Err(QueryError {
                    code: "BadRequest_NotSupported",
                    message:
                        "The 'OR' operator is not supported on distinct fields on an OData filter."
                            .into(),
                });
            }
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.primary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn literal(&mut self) -> Result<Lit, QueryError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Bare(b)) => Ok(Lit::Bare(b)),
            Some(Tok::Ident(w)) if w == "true" => Ok(Lit::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Lit::Bool(false)),
            Some(Tok::Ident(w)) if w == "null" => Ok(Lit::Null),
            other => Err(syntax(format!("Expression expected, found {other:?}."))),
        }
    }
    fn primary(&mut self) -> Result<Expr, QueryError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err(syntax("')' expected.")),
                }
            }
            Some(Tok::Ident(w)) if w == "not" => Ok(Expr::Not(Box::new(self.primary()?))),
            Some(Tok::Ident(name)) => {
                if self.peek() == Some(&Tok::LParen) {
                    let func = name.to_ascii_lowercase();
                    if !matches!(func.as_str(), "startswith" | "endswith" | "contains") {
                        return Err(syntax(format!("Unknown function '{name}'.")));
                    }
                    self.pos += 1;
                    let field = match self.next() {
                        Some(Tok::Ident(f)) => f,
                        _ => return Err(syntax("Property name expected.")),
                    };
                    if self.next() != Some(Tok::Comma) {
                        return Err(syntax("',' expected."));
                    }
                    let value = match self.next() {
                        Some(Tok::Str(s)) => s,
                        _ => return Err(syntax("String literal expected.")),
                    };
                    if self.next() != Some(Tok::RParen) {
                        return Err(syntax("')' expected."));
                    }
                    return Ok(Expr::Func(func, field, value));
                }
                let op = match self.next() {
                    Some(Tok::Ident(op))
                        if matches!(op.as_str(), "eq" | "ne" | "gt" | "ge" | "lt" | "le") =>
                    {
                        op
                    }
                    other => return Err(syntax(format!("Operator expected, found {other:?}."))),
                };
                let lit = self.literal()?;
                Ok(Expr::Cmp(name, op, lit))
            }
            other => Err(syntax(format!("Expression expected, found {other:?}."))),
        }
    }
}

/// Parses a `$filter` value.
pub(crate) fn parse_filter(s: &str) -> Result<Expr, QueryError> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(syntax("Unexpected tokens at the end of the expression."));
    }
    Ok(e)
}

/// Orders two JSON values the way the sandbox compares properties: numbers numerically,
/// GUIDs and strings case-insensitively, date-times as instants.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let x = Decimal::from_str(&x.to_string()).unwrap_or_default();
            let y = Decimal::from_str(&y.to_string()).unwrap_or_default();
            x.cmp(&y)
        }
        (Value::String(x), Value::String(y)) => compare_str(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn compare_str(x: &str, y: &str) -> Ordering {
    if let (Ok(a), Ok(b)) = (
        chrono::DateTime::parse_from_rfc3339(x),
        chrono::DateTime::parse_from_rfc3339(y),
    ) {
        return a.cmp(&b);
    }
    x.to_lowercase().cmp(&y.to_lowercase())
}

fn lit_value(field: &Value, lit: &Lit) -> Result<Value, QueryError> {
    Ok(match lit {
        Lit::Str(s) => Value::String(s.clone()),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Null => Value::Null,
        Lit::Bare(b) => match field {
            Value::Number(_) => Value::Number(
                serde_json::Number::from_str(b)
                    .map_err(|_| syntax(format!("'{b}' is not a valid number.")))?,
            ),
            Value::String(s) => {
                // Bare dates, date-times and GUIDs compare with string-typed properties.
                let ok = uuid::Uuid::parse_str(b).is_ok()
                    || chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_ok()
                    || chrono::DateTime::parse_from_rfc3339(b).is_ok();
                if !ok {
                    return Err(QueryError {
                        code: "BadRequest",
                        message: format!("Cannot compare '{b}' with a property of type string."),
                    });
                }
                if chrono::DateTime::parse_from_rfc3339(s).is_ok()
                    && chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_ok()
                {
                    Value::String(format!("{b}T00:00:00Z"))
                } else {
                    Value::String(b.clone())
                }
            }
            _ => Value::String(b.clone()),
        },
    })
}

/// Evaluates a filter on one entity; unknown properties are an error.
pub(crate) fn eval(e: &Expr, row: &Map<String, Value>) -> Result<bool, QueryError> {
    let get = |f: &str| -> Result<&Value, QueryError> {
        row.get(f).ok_or_else(|| QueryError {
            code: "BadRequest_NotFound",
            message: format!("Could not find a property named '{f}' on type 'Microsoft.NAV'."),
        })
    };
    Ok(match e {
        Expr::And(a, b) => eval(a, row)? && eval(b, row)?,
        Expr::Or(a, b) => eval(a, row)? || eval(b, row)?,
        Expr::Not(a) => !eval(a, row)?,
        Expr::Func(func, field, value) => {
            let v = get(field)?.as_str().unwrap_or("").to_lowercase();
            let value = value.to_lowercase();
            match func.as_str() {
                "startswith" => v.starts_with(&value),
                "endswith" => v.ends_with(&value),
                _ => v.contains(&value),
            }
        }
        Expr::Cmp(field, op, lit) => {
            let fv = get(field)?;
            let lv = lit_value(fv, lit)?;
            let ord = compare_values(fv, &lv);
            match op.as_str() {
                "eq" => ord == Ordering::Equal,
                "ne" => ord != Ordering::Equal,
                "gt" => ord == Ordering::Greater,
                "ge" => ord != Ordering::Less,
                "lt" => ord == Ordering::Less,
                _ => ord != Ordering::Greater,
            }
        }
    })
}

/// The values of a key lookup (`field eq 'a' or field eq 'b' ...`, one field, text or GUID
/// literals that are not date-times), so that rows are matched by a hash probe instead of
/// evaluating the whole expression on each.
#[derive(Debug, Clone)]
pub(crate) struct KeySet {
    field: String,
    values: HashSet<String>,
}

impl KeySet {
    /// The key set of a filter that is only a key lookup.
    pub fn of(e: &Expr) -> Option<KeySet> {
        fn walk(e: &Expr, field: &mut Option<String>, values: &mut HashSet<String>) -> bool {
            match e {
                Expr::Or(a, b) => walk(a, field, values) && walk(b, field, values),
                Expr::Cmp(f, op, lit) if op == "eq" => {
                    let v = match lit {
                        Lit::Str(s) => s,
                        Lit::Bare(b) if uuid::Uuid::parse_str(b).is_ok() => b,
                        _ => return false,
                    };
                    if chrono::DateTime::parse_from_rfc3339(v).is_ok() {
                        return false;
                    }
                    if field.get_or_insert_with(|| f.clone()) != f {
                        return false;
                    }
                    values.insert(v.to_lowercase());
                    true
                }
                _ => false,
            }
        }
        let mut field = None;
        let mut values = HashSet::new();
        if walk(e, &mut field, &mut values) {
            field.map(|field| KeySet { field, values })
        } else {
            None
        }
    }

    /// The field the values are looked up in.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The values looked up, in lower case.
    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        self.values.iter().map(String::as_str)
    }

    /// Whether the row matches, when its property is text (as [`eval`] compares it: without
    /// case); `None` leaves the row to [`eval`].
    pub fn probe(&self, row: &Map<String, Value>) -> Option<bool> {
        let v = row.get(&self.field)?.as_str()?;
        Some(
            if v.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                self.values.contains(v)
            } else {
                self.values.contains(&v.to_lowercase())
            },
        )
    }
}

/// Splits at `sep` outside parentheses and quotes.
pub(crate) fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// Where a server-driven page starts: how many rows came before it and, for pages in
/// insertion order, the table position of its first row with the table's layout generation
/// (so that the rows before it are not filtered again).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct SkipToken {
    pub count: usize,
    pub resume: Option<(usize, u64)>,
}

impl SkipToken {
    /// Parses `count` or `count.position.generation`.
    fn parse(v: &str) -> Option<SkipToken> {
        let mut parts = v.split('.');
        let count = parts.next()?.parse().ok()?;
        let resume = match (parts.next(), parts.next()) {
            (None, _) => None,
            (Some(slot), Some(generation)) => Some((slot.parse().ok()?, generation.parse().ok()?)),
            (Some(_), None) => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(SkipToken { count, resume })
    }
}

impl std::fmt::Display for SkipToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.resume {
            Some((slot, generation)) => write!(f, "{}.{slot}.{generation}", self.count),
            None => write!(f, "{}", self.count),
        }
    }
}

/// Query options of one level (top level or inside `$expand(...)`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub filter: Option<Expr>,
    pub select: Option<Vec<String>>,
    pub expand: Vec<(String, Options)>,
    pub order_by: Vec<(String, bool)>,
    pub top: Option<usize>,
    pub skip_token: Option<SkipToken>,
}

impl Options {
    /// Parses `(name, value)` pairs, already percent-decoded.
    pub fn parse(pairs: &[(String, String)]) -> Result<Options, QueryError> {
        let mut o = Options::default();
        for (k, v) in pairs {
            match k.as_str() {
                "$filter" => o.filter = Some(parse_filter(v)?),
                "$select" => o.select = Some(split_top(v, ',')),
                "$expand" => {
                    for part in split_top(v, ',') {
                        let (name, inner) = match part.split_once('(') {
                            Some((n, rest)) => {
                                let inner = rest
                                    .strip_suffix(')')
                                    .ok_or_else(|| syntax("')' expected in $expand."))?;
                                let pairs: Vec<(String, String)> = split_top(inner, ';')
                                    .into_iter()
                                    .filter_map(|p| {
                                        p.split_once('=').map(|(a, b)| (a.to_owned(), b.to_owned()))
                                    })
                                    .collect();
                                (n.trim().to_owned(), Options::parse(&pairs)?)
                            }
                            None => (part, Options::default()),
                        };
                        o.expand.push((name, inner));
                    }
                }
                "$orderby" => {
                    for part in split_top(v, ',') {
                        let mut words = part.split_whitespace();
                        let field = words.next().unwrap_or("").to_owned();
                        let desc =
                            matches!(words.next(), Some(d) if d.eq_ignore_ascii_case("desc"));
                        o.order_by.push((field, desc));
                    }
                }
                "$top" => {
                    o.top = Some(v.parse().map_err(|_| syntax("Invalid $top."))?);
                }
                "$skiptoken" => {
                    o.skip_token = Some(SkipToken::parse(v).ok_or_else(|| QueryError {
                        code: "BadRequest",
                        message: "The skip token is not valid.".into(),
                    })?);
                }
                "company" | "tenant" | "$schemaversion" | "$count" => {}
                other if other.starts_with('$') => {
                    return Err(syntax(format!(
                        "The query parameter '{other}' is not supported."
                    )));
                }
                _ => {}
            }
        }
        Ok(o)
    }

    /// Sorts rows by `$orderby`.
    pub fn sort<R: std::borrow::Borrow<Map<String, Value>>>(&self, rows: &mut [R]) {
        self.sort_with(rows, |r| r.borrow());
    }

    /// Sorts items by `$orderby` of the row each holds.
    pub fn sort_with<T>(&self, rows: &mut [T], row: impl Fn(&T) -> &Map<String, Value>) {
        if self.order_by.is_empty() {
            return;
        }
        rows.sort_by(|a, b| {
            let (a, b) = (row(a), row(b));
            for (f, desc) in &self.order_by {
                let o = compare_values(
                    a.get(f).unwrap_or(&Value::Null),
                    b.get(f).unwrap_or(&Value::Null),
                );
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    /// Applies `$select` (keeping the ETag and expanded properties).
    pub fn project(&self, row: &mut Map<String, Value>) {
        if let Some(sel) = &self.select {
            row.retain(|k, _| {
                k == "@odata.etag"
                    || sel.iter().any(|s| s == k)
                    || self.expand.iter().any(|(n, _)| n == k)
            });
        }
    }
}

/// Splits and percent-decodes a raw query string (`+` is a space, as in forms).
pub(crate) fn decode_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_and_evaluates() {
        let r = row(
            json!({"number":"C0001","displayName":"O'Brien Søn","balanceDue":12.5,
            "lastModifiedDateTime":"2026-01-02T10:00:00.000Z","orderDate":"2026-01-02",
            "customerId":"6f7a0000-0000-0000-0000-00000000000a","blocked":false}),
        );
        let t = |f: &str| eval(&parse_filter(f).unwrap(), &r).unwrap();
        assert!(t("displayName eq 'O''Brien Søn'"));
        assert!(t("displayName eq 'o''brien søn'"));
        assert!(t("number eq 'X' or number eq 'C0001'"));
        assert!(t("balanceDue gt 12 and balanceDue le 12.5"));
        assert!(t("lastModifiedDateTime gt 2026-01-02T09:59:59.999Z"));
        assert!(t("orderDate ge 2026-01-02 and orderDate lt 2026-01-03"));
        assert!(t("customerId eq 6F7A0000-0000-0000-0000-00000000000A"));
        assert!(t(
            "startswith(displayName,'o''b') and contains(displayName,'SØN')"
        ));
        assert!(t(
            "(number eq 'A' or number eq 'C0001') and blocked eq false"
        ));
        assert!(!t("number ne 'C0001'"));
    }

    #[test]
    fn key_sets_decide_like_eval() {
        let f = parse_filter(
            "number eq 'A-1' or number eq 'b''2' or number eq 6F7A0000-0000-0000-0000-00000000000A",
        )
        .unwrap();
        let k = KeySet::of(&f).unwrap();
        for (v, hit) in [
            (json!("a-1"), Some(true)),
            (json!("B'2"), Some(true)),
            (json!("6f7a0000-0000-0000-0000-00000000000a"), Some(true)),
            (json!("A-10"), Some(false)),
            (json!(12), None),
        ] {
            let r = row(json!({ "number": v }));
            assert_eq!(k.probe(&r), hit, "{r:?}");
            if let Some(hit) = hit {
                assert_eq!(eval(&f, &r).unwrap(), hit, "{r:?}");
            }
        }
        assert!(k.probe(&row(json!({"other": "A-1"}))).is_none());
        for not_keys in [
            "number eq 'A' or email eq 'b'",
            "number eq 'A' and blocked eq false",
            "number ne 'A'",
            "number eq 12",
            "lastModifiedDateTime eq '2026-01-02T10:00:00Z'",
        ] {
            if let Ok(f) = parse_filter(not_keys) {
                assert!(KeySet::of(&f).is_none(), "{not_keys}");
            }
        }
    }

    #[test]
    fn skip_tokens_round_trip() {
        for (text, token) in [
            (
                "20000",
                SkipToken {
                    count: 20000,
                    resume: None,
                },
            ),
            (
                "50.61.2",
                SkipToken {
                    count: 50,
                    resume: Some((61, 2)),
                },
            ),
        ] {
            assert_eq!(SkipToken::parse(text), Some(token));
            assert_eq!(token.to_string(), text);
        }
        for bad in ["", "x", "1.2", "1.2.3.4", "-1", "1.x.0"] {
            assert_eq!(SkipToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn refuses_or_across_fields_and_bad_syntax() {
        let e = parse_filter("number eq 'A' or email eq 'b'").unwrap_err();
        assert!(e.message.contains("OR"));
        assert!(parse_filter("number eq 'A").is_err());
        assert!(parse_filter("number xx 'A'").is_err());
        assert!(parse_filter("(number eq 'A'").is_err());
        let r = row(json!({"number":"A"}));
        assert!(eval(&parse_filter("nope eq 'A'").unwrap(), &r).is_err());
    }

    #[test]
    fn expand_options() {
        let o = Options::parse(&[(
            "$expand".into(),
            "salesOrderLines($select=id,quantity;$filter=quantity gt 1),customer".into(),
        )])
        .unwrap();
        assert_eq!(o.expand.len(), 2);
        assert_eq!(o.expand[0].1.select.as_ref().unwrap().len(), 2);
        assert!(o.expand[0].1.filter.is_some());
        assert_eq!(
            decode_query("a=b%20c&%24filter=x%27y"),
            vec![
                ("a".to_owned(), "b c".to_owned()),
                ("$filter".to_owned(), "x'y".to_owned())
            ]
        );
    }
}
