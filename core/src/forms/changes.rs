//! What an edit changed: the JSON Pointers of the members that differ between two versions of a form, for
//! the history ("who changed which fields").

use serde_json::Value;

use crate::field_error::pointer_token;

/// JSON Pointers of the members that differ between two forms (objects are compared member by member;
/// anything else as a whole).
pub fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    fn walk(old: Option<&Value>, new: Option<&Value>, at: &str, out: &mut Vec<String>) {
        match (old, new) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                for key in keys {
                    let path = format!("{at}/{}", pointer_token(key));
                    walk(a.get(key), b.get(key), &path, out);
                }
            }
            (a, b) if a != b => out.push(at.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(Some(old), Some(new), "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changed_fields_names_each_leaf_that_moved() {
        let old = json!({"a": 1, "b": {"c": "x", "d": [1]}, "gone": true});
        let new = json!({"a": 1, "b": {"c": "y", "d": [1, 2]}, "new~/": 0});
        assert_eq!(changed_fields(&old, &new), ["/b/c", "/b/d", "/gone", "/new~0~1"]);
    }
}
