//! GOV.UK Frontend for the service's pages (the provider portal's, and the API's own sign-in pages): the
//! components' own Nunjucks templates rendered by minijinja, so the markup is the components' markup at the
//! pinned version (`vendor/govuk-frontend/VERSION`), which a test checks against every fixture GOV.UK
//! Frontend publishes; and the compiled stylesheet and scripts, served from `/assets` ([`assets`]). A crate of
//! its own so that the API and the portal share it without either depending on the other.
//!
//! minijinja reads Jinja, which Nunjucks mostly is. What differs is bridged in two places: the templates'
//! source is adapted as it is loaded ([`nunjucks::adapt`]), and the environment behaves as Nunjucks does where
//! the templates rely on it (JavaScript's way of printing values and of reading what is missing, the
//! `govukAttributes` macro, `Array.includes`).

pub mod assets;
mod attributes;
mod nunjucks;

use include_dir::{Dir, include_dir};
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

/// The pinned GOV.UK Frontend templates, with the fixtures the tests compare against.
pub static GOVUK_FRONTEND: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/vendor/govuk-frontend");

/// The GOV.UK Frontend version the portal's markup and assets come from.
pub fn version() -> &'static str {
    GOVUK_FRONTEND.get_file("VERSION").and_then(|f| f.contents_utf8()).map(str::trim).unwrap_or("unknown")
}

/// The page every page of the service extends (`govuk/page.html`): GOV.UK Frontend's page template
/// (`dist/govuk/template.njk`) in its markup, which cannot be loaded itself (it defines blocks inside a `call`,
/// which minijinja does not allow, and writes an inline script, which the pages' Content Security Policy
/// forbids).
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// An environment that renders GOV.UK Frontend's components (`components/<name>/macro.njk`) and the service's
/// page (`govuk/page.html`), plus the templates `extra` finds by name (the portal's own pages, the API's), which
/// may import or extend them.
pub fn environment(extra: fn(&str) -> Option<&'static str>) -> Environment<'static> {
    let mut env = Environment::new();
    // Nunjucks renders fixtures, and the Design System's examples, with these on.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // Nunjucks reads `params.a.b` as nothing when `a` is absent, as JavaScript reads properties.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_loader(move |name| {
        let own = |name: &str| name.strip_prefix("govuk/").and_then(|n| TEMPLATES.get_file(n)?.contents_utf8());
        let source = match extra(name).or_else(|| own(name)) {
            Some(source) => source,
            None => match GOVUK_FRONTEND.get_file(name).and_then(|f| f.contents_utf8()) {
                Some(source) => source,
                None => return Ok(None),
            },
        };
        Ok(Some(nunjucks::adapt(source)))
    });
    env.set_path_join_callback(|name, parent| nunjucks::join(name, parent).into());
    env.set_formatter(|out, state, value| {
        if value.is_undefined() || value.is_none() {
            return Ok(());
        }
        let text = javascript_string(value);
        if value.is_safe() || state.auto_escape() == AutoEscape::None {
            out.write_str(&text)?;
        } else {
            out.write_str(&escape(&text))?;
        }
        Ok(())
    });
    env.add_filter("escape", |value: Value| {
        if value.is_safe() { value } else { Value::from_safe_string(escape(&javascript_string(&value))) }
    });
    env.add_filter("string", |value: Value| Value::from(javascript_string(&value)));
    env.add_filter("length", |value: Value| -> Result<usize, Error> {
        if value.is_undefined() || value.is_none() {
            return Ok(0);
        }
        value.len().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "this value has no length"))
    });
    env.add_filter("pairs", |value: Value| -> Result<Value, Error> {
        let mut pairs = Vec::new();
        if !(value.is_undefined() || value.is_none()) {
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                pairs.push(Value::from(vec![key, item]));
            }
        }
        Ok(Value::from(pairs))
    });
    env.add_test("truthy", |value: Value| value.is_true());
    env.add_function("govukAttributes", attributes::govuk_attributes);
    env.set_unknown_method_callback(|_: &State, value: &Value, method: &str, args: &[Value]| match method {
        // `[true, false].includes(params.spellcheck)`
        "includes" => {
            let needle = args.first().cloned().unwrap_or(Value::UNDEFINED);
            Ok(Value::from(value.try_iter()?.any(|item| item == needle)))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    });
    env
}

/// How JavaScript writes a value into a string: `true`, not Jinja's `True`.
pub(crate) fn javascript_string(value: &Value) -> String {
    match value.kind() {
        ValueKind::Bool if !value.is_safe() => if value.is_true() { "true" } else { "false" }.to_owned(),
        _ => value.to_string(),
    }
}

/// HTML escaping as Nunjucks does it (`'` as `&#39;`, `/` left alone), so the output is byte for byte the
/// components'.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
