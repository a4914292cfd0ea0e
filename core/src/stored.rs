//! How typed values are kept in text columns, so that a record read from either engine is typed at the store
//! boundary and an unknown value is an error there, never a default further in.
//!
//! - An enum (a status, a kind, a scan result) is its `as_str` name: [`text_column!`] gives it the column
//!   type of text and decodes it with its `FromStr`, whose error names the value.
//! - A set (roles, scopes, location ids) is a [`SpaceList`]: space-separated, the form OAuth gives scopes.
//! - A structured value (attachments, a workflow) is [`JsonText`]: JSON in a text column (not `json`/`jsonb`:
//!   both engines keep it as written, and SQLite has no JSON type).
//!
//! With the `sqlx` feature (the store enables it) these decode straight from a row; sqlx reports a failure as
//! a decode error naming the column, and the store adds the table and the row's key (`store::decode`).

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A set kept as space-separated text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceList<T: Ord>(pub BTreeSet<T>);

impl<T: Ord> Default for SpaceList<T> {
    fn default() -> Self {
        Self(BTreeSet::new())
    }
}

impl<T: Ord> Deref for SpaceList<T> {
    type Target = BTreeSet<T>;
    fn deref(&self) -> &BTreeSet<T> {
        &self.0
    }
}

impl<T: Ord> From<BTreeSet<T>> for SpaceList<T> {
    fn from(set: BTreeSet<T>) -> Self {
        Self(set)
    }
}

impl<T: Ord> FromIterator<T> for SpaceList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self(items.into_iter().collect())
    }
}

impl<T: Ord + fmt::Display> fmt::Display for SpaceList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl<T: Ord + FromStr> FromStr for SpaceList<T>
where
    T::Err: fmt::Display,
{
    type Err = String;
    /// Every item must parse: one unknown item fails the whole list, naming it.
    fn from_str(text: &str) -> Result<Self, String> {
        text.split_ascii_whitespace()
            .map(|item| item.parse::<T>().map_err(|e| format!("{item:?} in the list: {e}")))
            .collect()
    }
}

/// A value kept as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T> Deref for JsonText<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> fmt::Display for JsonText<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Serialising our own types to a string cannot fail (no maps with non-string keys here).
        f.write_str(&serde_json::to_string(&self.0).map_err(|_| fmt::Error)?)
    }
}

impl<T: DeserializeOwned> FromStr for JsonText<T> {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map(Self).map_err(|e| format!("not the JSON expected: {e}"))
    }
}

/// Gives a type that is `FromStr` (with a `Display` error) and `Display` the column type of text: decoded
/// through `FromStr`, bound as its `Display` text.
macro_rules! text_column {
    ($name:ident $(< $($param:ident : $bound:path),+ >)?) => {
        #[cfg(feature = "sqlx")]
        impl<DB: sqlx::Database $($(, $param: $bound)+)?> sqlx::Type<DB> for $name $(< $($param),+ >)?
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx::Database $($(, $param: $bound)+)?> sqlx::Decode<'r, DB> for $name $(< $($param),+ >)?
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                text.parse::<Self>().map_err(|e| e.to_string().into())
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx::Database $($(, $param: $bound)+)?> sqlx::Encode<'q, DB> for $name $(< $($param),+ >)?
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.to_string(), buf)
            }
        }
    };
}

/// For an enum with `as_str` and serde names (the same strings): `Display` as its name, `FromStr` through serde
/// (an unknown name is an error saying what `$what` it is not), and the column type of text.
macro_rules! named_by_serde {
    ($name:ident, $what:literal) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                serde_json::from_value(serde_json::Value::String(s.to_owned()))
                    .map_err(|_| format!("unknown {} {s:?}", $what))
            }
        }

        text_column!($name);
    };
}

text_column!(SpaceList<T: ListItem>);
text_column!(JsonText<T: JsonItem>);

/// What a [`SpaceList`] can hold in a column: anything written as, and parsed from, one word.
pub trait ListItem: Ord + fmt::Display + FromStr<Err: fmt::Display> {}
impl<T: Ord + fmt::Display + FromStr<Err: fmt::Display>> ListItem for T {}

/// What a [`JsonText`] can hold in a column.
pub trait JsonItem: Serialize + DeserializeOwned {}
impl<T: Serialize + DeserializeOwned> JsonItem for T {}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::capability::{Capability, Role};

    #[test]
    fn a_list_round_trips_through_its_text() {
        let roles: SpaceList<Role> = [Role::Submitter, Role::Drafter].into_iter().collect();
        assert_eq!(roles.to_string(), "drafter submitter");
        assert_eq!("drafter  submitter".parse::<SpaceList<Role>>(), Ok(roles));
        assert_eq!("".parse::<SpaceList<Role>>(), Ok(SpaceList::default()));
        let ids: SpaceList<Uuid> = [Uuid::nil()].into_iter().collect();
        assert_eq!(ids.to_string().parse::<SpaceList<Uuid>>(), Ok(ids));
    }

    #[test]
    fn one_unknown_item_fails_the_list_and_is_named() {
        let error = "org:read org:everything".parse::<SpaceList<Capability>>().unwrap_err();
        assert!(error.contains("\"org:everything\""), "{error}");
        let error = "not-a-uuid".parse::<SpaceList<Uuid>>().unwrap_err();
        assert!(error.contains("\"not-a-uuid\""), "{error}");
    }

    #[test]
    fn json_text_refuses_the_wrong_shape() {
        assert_eq!("[1,2]".parse::<JsonText<Vec<u8>>>(), Ok(JsonText(vec![1, 2])));
        assert!("{\"a\":1}".parse::<JsonText<Vec<u8>>>().is_err());
        assert_eq!(JsonText(vec![1u8]).to_string(), "[1]");
    }
}
