//! GOV.UK Frontend's `govukAttributes` macro (`macros/attributes.njk`), in Rust: it builds its output in a loop
//! by `set`, which Nunjucks lets escape the loop and Jinja does not. Same rules as the macro's documentation.

use minijinja::value::ValueKind;
use minijinja::{Error, Value};

use super::{escape, javascript_string};

/// ` name="value"` for each attribute: a string (or `safe` markup) is output as it is; a mapping gives each
/// name either a value or `{value, optional}`. A missing value is `name=""` unless optional; an optional `true`
/// is the bare boolean attribute, an optional `false` or missing value is left out.
pub fn govuk_attributes(attributes: Value) -> Result<Value, Error> {
    match attributes.kind() {
        ValueKind::String => return Ok(Value::from_safe_string(attributes.to_string())),
        ValueKind::Map => {}
        _ => return Ok(Value::from_safe_string(String::new())),
    }
    let mut html = String::new();
    for name in attributes.try_iter()? {
        let item = attributes.get_item(&name)?;
        let (value, optional) = if item.kind() == ValueKind::Map && !item.is_safe() {
            (item.get_attr("value")?, item.get_attr("optional")?)
        } else {
            (item, Value::from(false))
        };
        let optional = optional.kind() == ValueKind::Bool && optional.is_true();
        let missing = value.is_undefined() || value.is_none();
        let boolean = (value.kind() == ValueKind::Bool).then(|| value.is_true());
        let name = escape(&name.to_string());
        if optional && boolean == Some(true) {
            html.push(' ');
            html.push_str(&name);
        } else if !optional || !(missing || boolean == Some(false)) {
            let written = match () {
                _ if missing => String::new(),
                _ if value.is_safe() => value.to_string(),
                _ => escape(&javascript_string(&value)),
            };
            html.push_str(&format!(" {name}=\"{written}\""));
        }
    }
    Ok(Value::from_safe_string(html))
}
