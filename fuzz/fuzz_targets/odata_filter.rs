//! OData filters from arbitrary strings: the escaped literal always ends exactly where the value
//! ends (no value can close the literal and add its own clauses), and the query string decodes
//! back to the same filter text.
#![no_main]

use business_central::query::{Field, Filter, Query};
use libfuzzer_sys::fuzz_target;

/// Reads one OData string literal at the start of `s`; returns its value and the rest.
fn read_literal(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices().peekable();
    let body = &s[1..];
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, c)| *c) == Some('\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some((out, &body[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let values: Vec<&str> = text.split('\u{0}').collect();
    for v in &values {
        let odata = Field::new("number").eq(*v).to_odata();
        let rest = odata
            .strip_prefix("number eq ")
            .expect("field and operator first");
        let (value, tail) = read_literal(rest).expect("a closed literal");
        assert_eq!(value, *v);
        assert!(
            tail.is_empty(),
            "the value ended the literal early: {odata}"
        );

        let f = Field::new("name").contains(*v);
        let inner = f.to_odata();
        let rest = inner
            .strip_prefix("contains(name,")
            .expect("function first");
        let (value, tail) = read_literal(rest).expect("a closed literal");
        assert_eq!(value, *v);
        assert_eq!(tail, ")");

        // Encoded once: decoding the query string gives the filter text back, and no value can
        // start another query option.
        let qs = Query::new()
            .filter(Field::new("number").eq(*v))
            .to_query_string();
        assert!(!qs.contains('&') && !qs.contains('#') && !qs.contains(' '));
        let decoded =
            percent_encoding::percent_decode_str(qs.strip_prefix("$filter=").expect("one option"))
                .decode_utf8()
                .expect("utf-8");
        assert_eq!(decoded, odata);
    }
    if let Some(any) = Filter::any_of("number", values.iter().copied()) {
        let text = any.to_odata();
        let mut rest = text.as_str();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                rest = rest.strip_prefix(" or ").expect("joined with or");
            }
            rest = rest.strip_prefix("number eq ").expect("one field");
            let (value, tail) = read_literal(rest).expect("a closed literal");
            assert_eq!(value, *v);
            rest = tail;
        }
        assert!(rest.is_empty());
    }
});
