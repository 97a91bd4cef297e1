//! The OData query builder: the only way this crate builds `$filter`, `$select`, `$expand` and
//! `$orderby`. String literals are escaped (`'` doubles), dates, date-times and GUIDs are bare,
//! `or` across different fields is refused (Business Central refuses it), and the query string
//! is percent-encoded exactly once. `$top` is never used: listing pages server-side.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{Error, InvalidInput};

/// Characters percent-encoded in a query option value. Unreserved characters and the OData
/// punctuation `(),:$*!@/` stay readable; everything else (space, `'`, `&`, `#`, `+`, `=`, `;`,
/// `%`, non-ASCII) is encoded. `'` is encoded because URL parsers encode it in queries anyway:
/// encoding it here keeps the string built equal to the one sent.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'\'')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b';')
    .add(b'=')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Percent-encodes one query option value.
pub(crate) fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// A literal value in a filter expression.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// A string (also enum members), quoted with `'` doubled inside.
    String(String),
    /// An integer, bare.
    Int(i64),
    /// A decimal, bare.
    Decimal(Decimal),
    /// `true` / `false`.
    Bool(bool),
    /// A date, bare: `2024-05-01`.
    Date(NaiveDate),
    /// A date-time in UTC, bare: `2024-05-01T10:00:00.000Z`.
    DateTime(DateTime<Utc>),
    /// A GUID, bare.
    Guid(Uuid),
    /// `null`.
    Null,
}

impl Literal {
    /// The literal as OData text (before URL encoding).
    pub fn to_odata(&self) -> String {
        match self {
            Literal::String(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Int(i) => i.to_string(),
            Literal::Decimal(d) => d.normalize().to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Date(d) => d.format("%Y-%m-%d").to_string(),
            Literal::DateTime(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            Literal::Guid(g) => g.hyphenated().to_string(),
            Literal::Null => "null".to_owned(),
        }
    }
}

macro_rules! literal_from {
    ($($t:ty => |$v:ident| $e:expr),+ $(,)?) => {
        $(impl From<$t> for Literal {
            fn from($v: $t) -> Self {
                $e
            }
        })+
    };
}
literal_from! {
    &str => |v| Literal::String(v.to_owned()),
    String => |v| Literal::String(v),
    &String => |v| Literal::String(v.clone()),
    i32 => |v| Literal::Int(v.into()),
    i64 => |v| Literal::Int(v),
    u32 => |v| Literal::Int(v.into()),
    Decimal => |v| Literal::Decimal(v),
    bool => |v| Literal::Bool(v),
    NaiveDate => |v| Literal::Date(v),
    DateTime<Utc> => |v| Literal::DateTime(v),
    Uuid => |v| Literal::Guid(v),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CmpOp {
    /// The OData keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Cmp {
        field: String,
        op: CmpOp,
        value: Literal,
    },
    Func {
        name: &'static str,
        field: String,
        value: Literal,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

impl Node {
    fn fields<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Node::Cmp { field, .. } | Node::Func { field, .. } => {
                out.insert(field);
            }
            Node::And(a, b) | Node::Or(a, b) => {
                a.fields(out);
                b.fields(out);
            }
        }
    }

    fn render(&self, out: &mut String, parent_is_and: bool) {
        match self {
            Node::Cmp { field, op, value } => {
                let _ = write!(out, "{field} {} {}", op.as_str(), value.to_odata());
            }
            Node::Func { name, field, value } => {
                let _ = write!(out, "{name}({field},{})", value.to_odata());
            }
            Node::And(a, b) => {
                a.render(out, true);
                out.push_str(" and ");
                b.render(out, true);
            }
            Node::Or(a, b) => {
                if parent_is_and {
                    out.push('(');
                }
                a.render(out, false);
                out.push_str(" or ");
                b.render(out, false);
                if parent_is_and {
                    out.push(')');
                }
            }
        }
    }
}

/// A `$filter` expression. Build one from a [`Field`]:
///
/// ```
/// use business_central::query::{Filter, Field};
/// let f = Field::new("displayName").eq("O'Brien").and(Field::new("blocked").eq("_x0020_"));
/// assert_eq!(f.to_odata(), "displayName eq 'O''Brien' and blocked eq '_x0020_'");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Node);

impl Filter {
    /// Shorthand for [`Field::new`].
    pub fn field(name: impl Into<String>) -> Field {
        Field::new(name)
    }

    /// Both conditions.
    pub fn and(self, other: Filter) -> Filter {
        Filter(Node::And(Box::new(self.0), Box::new(other.0)))
    }

    /// Either condition. Refused (as Business Central refuses it) when the two sides name
    /// different fields.
    pub fn or(self, other: Filter) -> Result<Filter, Error> {
        let mut fields = BTreeSet::new();
        self.0.fields(&mut fields);
        other.0.fields(&mut fields);
        if fields.len() > 1 {
            return Err(Error::InvalidInput(InvalidInput::OrAcrossFields(
                fields.into_iter().map(str::to_owned).collect(),
            )));
        }
        Ok(Filter(Node::Or(Box::new(self.0), Box::new(other.0))))
    }

    /// `field eq v1 or field eq v2 ...`; `None` when `values` is empty.
    pub fn any_of<V: Into<Literal>>(
        field: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Option<Filter> {
        let nodes: Vec<Node> = values
            .into_iter()
            .map(|v| Field::new(field).eq(v).0)
            .collect();
        balanced_or(nodes).map(Filter)
    }

    /// [`Filter::any_of`] in chunks of at most `chunk_size` values, for bulk key lookups that
    /// keep each URL short (one request per chunk).
    pub fn any_of_chunked<V: Into<Literal>>(
        field: &str,
        values: impl IntoIterator<Item = V>,
        chunk_size: usize,
    ) -> Vec<Filter> {
        let chunk_size = chunk_size.max(1);
        let values: Vec<Literal> = values.into_iter().map(Into::into).collect();
        values
            .chunks(chunk_size)
            .filter_map(|chunk| Filter::any_of(field, chunk.iter().cloned()))
            .collect()
    }

    /// The expression as OData text (before URL encoding).
    pub fn to_odata(&self) -> String {
        let mut out = String::new();
        self.0.render(&mut out, false);
        out
    }
}

/// Joins nodes with `or` as a balanced tree. It renders the same text as a left-leaning chain,
/// but its depth (and so the recursion when rendering or dropping it) grows with the logarithm
/// of the number of values: a chain of 100,000 values overflowed the stack.
fn balanced_or(mut nodes: Vec<Node>) -> Option<Node> {
    while nodes.len() > 1 {
        let mut next = Vec::with_capacity(nodes.len().div_ceil(2));
        let mut pairs = nodes.into_iter();
        while let Some(a) = pairs.next() {
            next.push(match pairs.next() {
                Some(b) => Node::Or(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        nodes = next;
    }
    nodes.pop()
}

/// A property to compare; its methods make [`Filter`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field(String);

impl Field {
    /// A property by its JSON name (`number`, `lastModifiedDateTime`).
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }
    fn cmp(self, op: CmpOp, value: impl Into<Literal>) -> Filter {
        Filter(Node::Cmp {
            field: self.0,
            op,
            value: value.into(),
        })
    }
    /// `field eq value`
    pub fn eq(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Eq, value)
    }
    /// `field ne value`
    pub fn ne(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Ne, value)
    }
    /// `field gt value`
    pub fn gt(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Gt, value)
    }
    /// `field ge value`
    pub fn ge(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Ge, value)
    }
    /// `field lt value`
    pub fn lt(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Lt, value)
    }
    /// `field le value`
    pub fn le(self, value: impl Into<Literal>) -> Filter {
        self.cmp(CmpOp::Le, value)
    }
    /// `startswith(field,'prefix')`
    pub fn starts_with(self, prefix: impl Into<String>) -> Filter {
        Filter(Node::Func {
            name: "startswith",
            field: self.0,
            value: Literal::String(prefix.into()),
        })
    }
    /// `contains(field,'text')`
    pub fn contains(self, text: impl Into<String>) -> Filter {
        Filter(Node::Func {
            name: "contains",
            field: self.0,
            value: Literal::String(text.into()),
        })
    }
}

/// Sort direction for `$orderby`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// `$expand` of one navigation property, with its own nested options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expand {
    name: String,
    options: QueryOptions,
}

impl Expand {
    /// Expands the navigation property `name` (`salesOrderLines`, `customer`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            options: QueryOptions::default(),
        }
    }
    /// Nested `$select`.
    pub fn select<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.options
            .select
            .extend(fields.into_iter().map(Into::into));
        self
    }
    /// Nested `$filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.options.filter = Some(filter);
        self
    }
    /// Nested `$expand`.
    pub fn expand(mut self, expand: impl Into<Expand>) -> Self {
        self.options.expand.push(expand.into());
        self
    }
    /// Nested `$orderby`.
    pub fn order_by(mut self, field: impl Into<String>, order: Order) -> Self {
        self.options.order_by.push((field.into(), order));
        self
    }

    fn render(&self) -> String {
        let inner = self.options.render_pairs();
        if inner.is_empty() {
            self.name.clone()
        } else {
            let parts: Vec<String> = inner.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}({})", self.name, parts.join(";"))
        }
    }
}

impl From<&str> for Expand {
    fn from(name: &str) -> Self {
        Expand::new(name)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
struct QueryOptions {
    filter: Option<Filter>,
    select: Vec<String>,
    expand: Vec<Expand>,
    order_by: Vec<(String, Order)>,
}

impl QueryOptions {
    /// Unencoded `(option, value)` pairs in a stable order.
    fn render_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(f) = &self.filter {
            out.push(("$filter", f.to_odata()));
        }
        if !self.select.is_empty() {
            out.push(("$select", self.select.join(",")));
        }
        if !self.expand.is_empty() {
            let e: Vec<String> = self.expand.iter().map(Expand::render).collect();
            out.push(("$expand", e.join(",")));
        }
        if !self.order_by.is_empty() {
            let o: Vec<String> = self
                .order_by
                .iter()
                .map(|(f, o)| match o {
                    Order::Asc => f.clone(),
                    Order::Desc => format!("{f} desc"),
                })
                .collect();
            out.push(("$orderby", o.join(",")));
        }
        out
    }
}

/// Query options for a list or get: `$filter`, `$select`, `$expand`, `$orderby`, and the page
/// size asked for with `Prefer: odata.maxpagesize`.
///
/// ```
/// use business_central::query::{Query, Field, Expand, Order};
/// let q = Query::new()
///     .filter(Field::new("number").eq("10000"))
///     .select(["id", "number"])
///     .expand(Expand::new("salesOrderLines").select(["id", "quantity"]))
///     .order_by("number", Order::Asc);
/// assert_eq!(
///     q.to_query_string(),
///     "$filter=number%20eq%20%2710000%27&$select=id,number\
///      &$expand=salesOrderLines($select%3Did,quantity)&$orderby=number"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    options: QueryOptions,
    page_size: Option<u32>,
}

impl Query {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `$filter` (replacing an earlier one; combine with [`Filter::and`]).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.options.filter = Some(filter);
        self
    }
    /// Adds properties to `$select`.
    pub fn select<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.options
            .select
            .extend(fields.into_iter().map(Into::into));
        self
    }
    /// Adds a navigation property to `$expand`.
    pub fn expand(mut self, expand: impl Into<Expand>) -> Self {
        self.options.expand.push(expand.into());
        self
    }
    /// Adds a sort key to `$orderby`.
    pub fn order_by(mut self, field: impl Into<String>, order: Order) -> Self {
        self.options.order_by.push((field.into(), order));
        self
    }
    /// Asks the server for pages of at most `size` entities (`Prefer: odata.maxpagesize`);
    /// overrides the client's default page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }
    /// The requested page size, if any.
    pub fn requested_page_size(&self) -> Option<u32> {
        self.page_size
    }
    /// The `$filter`, if any.
    pub fn filter_expr(&self) -> Option<&Filter> {
        self.options.filter.as_ref()
    }
    /// The percent-encoded query string (without `?`), empty when no option is set.
    pub fn to_query_string(&self) -> String {
        self.options
            .render_pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode_query_value(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn doubles_quotes_and_encodes_once() {
        let q = Query::new().filter(Field::new("displayName").eq("O'Brien & Søn #1+2=3;%"));
        assert_eq!(
            q.to_query_string(),
            "$filter=displayName%20eq%20%27O%27%27Brien%20%26%20S%C3%B8n%20%231%2B2%3D3%3B%25%27"
        );
    }

    #[test]
    fn non_ascii_is_utf8_percent_encoded() {
        let f = Field::new("city").starts_with("Zürich");
        assert_eq!(f.to_odata(), "startswith(city,'Zürich')");
        assert_eq!(
            Query::new().filter(f).to_query_string(),
            "$filter=startswith(city,%27Z%C3%BCrich%27)"
        );
    }

    #[test]
    fn bare_dates_datetimes_guids_numbers() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
        let g = Uuid::parse_str("6F7A0000-0000-0000-0000-00000000000A").unwrap();
        let f = Field::new("orderDate")
            .ge(d)
            .and(Field::new("lastModifiedDateTime").gt(t))
            .and(Field::new("customerId").eq(g))
            .and(Field::new("quantity").lt(Decimal::new(1250, 2)))
            .and(Field::new("sequence").le(10000))
            .and(Field::new("blocked").ne(true));
        assert_eq!(
            f.to_odata(),
            "orderDate ge 2024-05-01 and lastModifiedDateTime gt 2024-05-01T10:00:00.000Z \
             and customerId eq 6f7a0000-0000-0000-0000-00000000000a and quantity lt 12.5 \
             and sequence le 10000 and blocked ne true"
        );
    }

    #[test]
    fn or_across_fields_is_refused() {
        let err = Field::new("number")
            .eq("A")
            .or(Field::new("email").eq("a@b.c"))
            .unwrap_err();
        assert!(err.to_string().contains("email"), "{err}");
        // Nested: an `and` mixing fields inside an `or` is refused too.
        let mixed = Field::new("number").eq("A").and(Field::new("city").eq("X"));
        assert!(Field::new("number").eq("B").or(mixed).is_err());
    }

    #[test]
    fn or_on_one_field_is_parenthesised_under_and() {
        let f = Field::new("number")
            .eq("A")
            .or(Field::new("number").eq("B"))
            .unwrap()
            .and(Field::new("blocked").eq(false));
        assert_eq!(
            f.to_odata(),
            "(number eq 'A' or number eq 'B') and blocked eq false"
        );
    }

    #[test]
    fn any_of_and_chunks() {
        assert_eq!(Filter::any_of::<&str>("number", []), None);
        let f = Filter::any_of("number", ["A", "B'C"]).unwrap();
        assert_eq!(f.to_odata(), "number eq 'A' or number eq 'B''C'");
        let chunks = Filter::any_of_chunked("number", ["1", "2", "3", "4", "5"], 2);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2].to_odata(), "number eq '5'");
    }

    #[test]
    fn any_of_is_shallow_and_keeps_the_order() {
        let values: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
        let f = Filter::any_of("number", values.iter().map(String::as_str)).unwrap();
        fn depth(n: &Node) -> usize {
            match n {
                Node::And(a, b) | Node::Or(a, b) => 1 + depth(a).max(depth(b)),
                _ => 1,
            }
        }
        assert!(depth(&f.0) <= 18, "{}", depth(&f.0));
        let text = f.to_odata();
        let got: Vec<&str> = text.split(" or ").collect();
        assert_eq!(got.len(), values.len());
        assert!(
            got.iter()
                .zip(&values)
                .all(|(g, v)| *g == format!("number eq '{v}'"))
        );
        let five = Filter::any_of("n", ["1", "2", "3", "4", "5"]).unwrap();
        assert_eq!(
            five.and(Field::new("b").eq(true)).to_odata(),
            "(n eq '1' or n eq '2' or n eq '3' or n eq '4' or n eq '5') and b eq true"
        );
    }

    #[test]
    fn nested_expand_and_orderby() {
        let q = Query::new()
            .expand(
                Expand::new("salesOrderLines")
                    .select(["id", "quantity"])
                    .expand(Expand::new("item").select(["number"])),
            )
            .expand("customer")
            .order_by("orderDate", Order::Desc)
            .order_by("number", Order::Asc);
        assert_eq!(
            q.to_query_string(),
            "$expand=salesOrderLines($select%3Did,quantity%3B$expand%3Ditem($select%3Dnumber)),customer\
             &$orderby=orderDate%20desc,number"
        );
        assert_eq!(Query::new().to_query_string(), "");
        assert!(!q.to_query_string().contains("$top"));
    }
}
