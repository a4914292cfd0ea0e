//! Reading well-formed JSON into a request type, with errors that know their kind.
//!
//! serde_json reports every shape error as one error type whose kind is only in its English message. Read
//! through [`from_tree`] instead, the derived `Deserialize` impls call back into [`ShapeError`]'s
//! constructors (`missing_field`, `unknown_field`, `invalid_type`, ...), so the public error code comes from
//! which one was called, and the wording, which serde owns, is only ever shown as the detail.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, Expected, IntoDeserializer, Unexpected, Visitor};
use serde_json::Value;

/// What went wrong, as the public error code names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeErrorKind {
    /// A field the type requires is absent.
    Required,
    /// A field the type does not have.
    UnknownField,
    /// A field given twice (the tree keeps one; `extract` reports duplicates from the bytes first).
    DuplicateField,
    /// A value of the wrong JSON type (a string for a number, ...).
    InvalidType,
    /// A value of the right type that the field refuses (an unknown enum value, a bad length, or a newtype's
    /// own rule).
    InvalidValue,
}

impl ShapeErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::UnknownField => "unknown_field",
            Self::DuplicateField => "duplicate_field",
            Self::InvalidType => "invalid_type",
            Self::InvalidValue => "invalid_value",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    pub kind: ShapeErrorKind,
    /// For `Required` and `DuplicateField`: the field, which the path does not yet include.
    pub field: Option<String>,
    /// serde's wording.
    pub message: String,
}

impl ShapeError {
    /// serde's own wording for an error, from its plain error type (whose constructors keep the defaults).
    fn worded(kind: ShapeErrorKind, field: Option<&str>, message: de::value::Error) -> Self {
        Self { kind, field: field.map(str::to_owned), message: message.to_string() }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

impl de::Error for ShapeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self { kind: ShapeErrorKind::InvalidValue, field: None, message: message.to_string() }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::worded(ShapeErrorKind::InvalidType, None, de::Error::invalid_type(unexpected, expected))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::worded(ShapeErrorKind::InvalidValue, None, de::Error::invalid_value(unexpected, expected))
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        Self::worded(ShapeErrorKind::InvalidValue, None, de::Error::invalid_length(len, expected))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::worded(ShapeErrorKind::InvalidValue, None, de::Error::unknown_variant(variant, expected))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::worded(ShapeErrorKind::UnknownField, None, de::Error::unknown_field(field, expected))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::worded(ShapeErrorKind::Required, Some(field), de::Error::missing_field(field))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::worded(ShapeErrorKind::DuplicateField, Some(field), de::Error::duplicate_field(field))
    }
}

/// Reads `T` from a parsed JSON tree, reporting the path to the first error (as serde stops at it).
pub fn from_tree<T: DeserializeOwned>(tree: &Value) -> Result<T, serde_path_to_error::Error<ShapeError>> {
    serde_path_to_error::deserialize(Tree(tree))
}

/// A JSON value as a serde deserializer whose error is [`ShapeError`].
#[derive(Clone, Copy)]
struct Tree<'de>(&'de Value);

impl<'de> IntoDeserializer<'de, ShapeError> for Tree<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn members<'de>(
    object: &'de serde_json::Map<String, Value>,
) -> MapDeserializer<'de, impl Iterator<Item = (&'de str, Tree<'de>)>, ShapeError> {
    MapDeserializer::new(object.iter().map(|(key, value)| (key.as_str(), Tree(value))))
}

impl<'de> de::Deserializer<'de> for Tree<'de> {
    type Error = ShapeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    // Without arbitrary precision every JSON number is one of the three.
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(Tree));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(object) => {
                let mut map = members(object);
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, ShapeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(variant.as_str().into_deserializer()),
            // `{"variant": content}`, as serde_json reads an externally tagged enum.
            Value::Object(object) if object.len() == 1 => {
                visitor.visit_enum(MapAccessDeserializer::new(members(object)))
            }
            other => Err(de::Error::invalid_type(unexpected(other), &"a string or an object with one key")),
        }
    }

    /// An object only. Derived `Deserialize` impls also accept an array, read positionally (`["A", {...}]` as
    /// `{"name": "A", "address": {...}}`), which no client means and the API does not document.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq
        tuple tuple_struct map identifier ignored_any
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => n.as_f64().map_or(Unexpected::Other("number"), Unexpected::Float),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read only by the deserializer
    struct Person {
        name: String,
        age: Option<u8>,
        role: Role,
        tags: Vec<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Role {
        Drafter,
        Submitter,
    }

    fn error(value: Value) -> (ShapeErrorKind, String, Option<String>) {
        let error = from_tree::<Person>(&value).unwrap_err();
        let path = error.path().to_string();
        let inner = error.into_inner();
        (inner.kind, path, inner.field)
    }

    #[test]
    fn each_kind_comes_from_the_constructor_serde_called_not_its_words() {
        let base = json!({"name": "Sam", "role": "drafter", "tags": []});
        assert!(from_tree::<Person>(&base).is_ok());
        let with = |key: &str, value: Value| {
            let mut v = base.clone();
            v[key] = value;
            v
        };
        assert_eq!(
            error(json!({"role": "drafter", "tags": []})),
            (ShapeErrorKind::Required, ".".into(), Some("name".into()))
        );
        assert_eq!(error(with("nickname", json!("S"))).0, ShapeErrorKind::UnknownField);
        assert_eq!(error(with("age", json!("ten"))), (ShapeErrorKind::InvalidType, "age".into(), None));
        assert_eq!(error(with("age", json!(300))).0, ShapeErrorKind::InvalidValue);
        assert_eq!(error(with("role", json!("overlord"))), (ShapeErrorKind::InvalidValue, "role".into(), None));
        assert_eq!(error(with("tags", json!(["a", 1]))), (ShapeErrorKind::InvalidType, "tags[1]".into(), None));
    }

    #[test]
    fn an_object_is_never_read_from_an_array() {
        let positional = json!(["Sam", null, "drafter", []]);
        assert_eq!(error(positional), (ShapeErrorKind::InvalidType, ".".into(), None));
    }

    #[test]
    fn the_wording_is_serdes_own() {
        let error = from_tree::<Person>(&json!({"name": 5, "role": "drafter", "tags": []})).unwrap_err();
        assert_eq!(error.into_inner().message, "invalid type: integer `5`, expected a string");
    }
}
