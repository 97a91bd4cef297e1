//! Writes a bench's section into `BENCHMARKS.md`. Shared by the benches that report there, which
//! include this file with `#[path]`.

/// Replaces the section that starts with `heading` in `BENCHMARKS.md`, keeping every other
/// section; a new section goes before the section headed `before` (when there is one) or at the
/// end.
pub fn write_section(heading: &str, section: &str, before: Option<&str>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let (head, tail) = match text.find(heading) {
        Some(start) => {
            let rest = &text[start + heading.len()..];
            let end = rest.find("\n## ").map(|i| start + heading.len() + i + 1);
            (&text[..start], end.map(|e| &text[e..]).unwrap_or(""))
        }
        None => match before.and_then(|b| text.find(b)) {
            Some(i) => (&text[..i], &text[i..]),
            None => (text.as_str(), ""),
        },
    };
    let mut out = head.trim_end().to_owned();
    out.push_str("\n\n");
    out.push_str(section.trim_end());
    out.push('\n');
    if !tail.is_empty() {
        out.push('\n');
        out.push_str(tail);
    }
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("could not write {path}: {e}");
    }
}
