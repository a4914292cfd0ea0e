//! Nunjucks source adapted to minijinja as it is loaded, so the vendored templates stay exactly as published.
//! Each rule is one difference between the two languages that GOV.UK Frontend's templates meet; the fixture
//! test fails if a new version needs another.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// The macro the environment supplies in Rust (`attributes.rs`): its import would shadow it.
static ATTRIBUTES_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\{%-?\s*from\s+"[^"]*macros/attributes\.njk"\s+import\s+govukAttributes\s*-?%\}"#).unwrap()
});

/// `{% for x in xs %}{% set found = … found %}{% endfor %}`: Nunjucks lets the `set` change `found` outside
/// the loop; Jinja keeps it inside, so the loop accumulates in a namespace instead.
static ACCUMULATING_LOOP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{%(-?)\s*for (\w+) in ([^%]+?)\s*%\}(\s*)\{%\s*set (\w+) = ([^%]+?)\s*%\}(\s*)\{%\s*endfor\s*(-?)%\}")
        .unwrap()
});

static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"\belseif\b", "elif"),
        (r"(\S+)\s*!==\s*undefined\b", "$1 is defined"),
        (r"(\S+)\s*===\s*undefined\b", "$1 is undefined"),
        (r"===", "=="),
        (r"!==", "!="),
        (r"\bundefined\b", "none"),
        (r"\bnull\b", "none"),
        // `items.length` is an attribute in JavaScript, a filter in Jinja.
        (r"([\w.]+)\.length\b", "($1 | length)"),
        // Object literals with bare keys (`{ value: item }`): Jinja's keys are expressions.
        (r"\{(\s*)(\w+):", "{$1\"$2\":"),
        (r",(\s*)(\w+):", ",$1\"$2\":"),
        // Iterating an object's pairs.
        (r"for (\w+), (\w+) in ([\w.]+)", "for $1, $2 in ($3 | pairs)"),
        // `+` joins strings in JavaScript (and a missing part is nothing); Jinja's `~` does the same. The one
        // sum the templates make adds a number literal, which stays a sum, and a list added to (`xs + [x]`,
        // in the portal's own templates) stays a list.
        (r"\s\+\s([^\d\[])", " ~ $1"),
    ]
    .into_iter()
    .map(|(pattern, replacement)| (Regex::new(pattern).unwrap(), replacement))
    .collect()
});

/// The template `source`, in the Jinja minijinja reads.
pub fn adapt(source: &str) -> String {
    let source = ATTRIBUTES_IMPORT.replace_all(source, "");
    let source = ACCUMULATING_LOOP.replace_all(&source, |c: &Captures| {
        let name = &c[5];
        let itself = Regex::new(&format!(r"\b{name}\b")).expect("a variable name is a valid pattern");
        format!(
            "{{%{open} set __loop = namespace(value={name}) %}}{{% for {item} in {list} %}}{before}\
{{% set __loop.value = {expression} %}}{after}{{% endfor %}}{{% set {name} = __loop.value {close}%}}",
            open = &c[1],
            item = &c[2],
            list = &c[3],
            before = &c[4],
            expression = itself.replace_all(&c[6], "__loop.value"),
            after = &c[7],
            close = &c[8],
        )
    });
    let mut adapted = String::with_capacity(source.len());
    let mut rest: &str = &source;
    while let Some((before, code, after)) = next_code(rest) {
        adapted.push_str(before);
        adapted.push_str(&RULES.iter().fold(code.to_owned(), |code, (pattern, replacement)| {
            pattern.replace_all(&code, *replacement).into_owned()
        }));
        rest = after;
    }
    adapted.push_str(rest);
    adapted
}

/// The next `{% … %}` tag or `{{ … }}` expression in `source` (the only places the rules apply, never the HTML
/// around them), with what comes before and after it. An expression ends at the `}}` that closes it, not at
/// one that ends a nested object literal (`{{ f({a: {b: 1}}) }}`), and nothing inside a string ends either.
fn next_code(source: &str) -> Option<(&str, &str, &str)> {
    let start = ["{{", "{%", "{#"].iter().filter_map(|open| source.find(open)).min()?;
    let bytes = source.as_bytes();
    if bytes[start + 1] == b'#' {
        // A comment is left exactly as it is, examples of code in it included.
        let end = source[start..].find("#}").map_or(source.len(), |at| start + at + 2);
        return Some((&source[..end], "", &source[end..]));
    }
    let tag = bytes[start + 1] == b'%';
    let (mut depth, mut quote, mut i) = (0usize, None::<u8>, start + 2);
    while i < bytes.len() {
        let byte = bytes[i];
        match quote {
            Some(_) if byte == b'\\' => i += 1,
            Some(q) if byte == q => quote = None,
            Some(_) => {}
            None => match byte {
                b'"' | b'\'' => quote = Some(byte),
                b'%' if tag && bytes.get(i + 1) == Some(&b'}') => {
                    return Some((&source[..start], &source[start..i + 2], &source[i + 2..]));
                }
                b'{' if !tag => depth += 1,
                b'}' if !tag && depth == 0 && bytes.get(i + 1) == Some(&b'}') => {
                    return Some((&source[..start], &source[start..i + 2], &source[i + 2..]));
                }
                b'}' if !tag => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        i += 1;
    }
    // Unterminated: left as it is, for the parser to report.
    None
}

/// Resolves a relative include or import (`./template.njk`, `../../macros/i18n.njk`) against the template
/// that names it; other names are from the root.
pub fn join(name: &str, parent: &str) -> String {
    if !(name.starts_with("./") || name.starts_with("../")) {
        return name.to_owned();
    }
    let mut parts: Vec<&str> = parent.split('/').collect();
    parts.pop();
    for segment in name.split('/') {
        match segment {
            "." => {}
            ".." => {
                parts.pop();
            }
            segment => parts.push(segment),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_resolve_against_the_including_template() {
        assert_eq!(join("./template.njk", "components/input/macro.njk"), "components/input/template.njk");
        assert_eq!(join("../../macros/i18n.njk", "components/input/template.njk"), "macros/i18n.njk");
        assert_eq!(join("components/hint/macro.njk", "pages/start.html"), "components/hint/macro.njk");
    }

    #[test]
    fn only_code_is_adapted_never_the_html_around_it() {
        let adapted =
            adapt(r#"<p>undefined + null</p>{% if a !== undefined and b === null %}{{ "x" + y }}{% endif %}"#);
        assert_eq!(adapted, r#"<p>undefined + null</p>{% if a is defined and b == none %}{{ "x" ~ y }}{% endif %}"#);
    }

    #[test]
    fn an_expression_ends_where_it_closes_not_inside_a_nested_object_or_string() {
        let adapted = adapt(r#"{{ f({legend: {text: t, classes: "l"}}, hint: {text: "}}"}, items: xs}) }}<p>a: b</p>"#);
        assert_eq!(
            adapted,
            r#"{{ f({"legend": {"text": t, "classes": "l"}}, "hint": {"text": "}}"}, "items": xs}) }}<p>a: b</p>"#
        );
        let commented = adapt("{# {{ {a: 1 #}{{ {b: 2} }}");
        assert_eq!(commented, r#"{# {{ {a: 1 #}{{ {"b": 2} }}"#, "a comment is left as it is");
    }

    #[test]
    fn a_loop_that_accumulates_keeps_its_result() {
        let adapted = adapt("{%- for row in rows %}\n  {% set any = true if row.x else any %}\n{% endfor -%}");
        assert!(adapted.contains("set __loop.value = true if row.x else __loop.value"), "{adapted}");
        assert!(adapted.ends_with("{% set any = __loop.value -%}"), "{adapted}");
    }
}
