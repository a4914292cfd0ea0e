//! Turning fetched rows into records, so that a value the record's types refuse (a status no version of the
//! API wrote, a scope that does not exist) is a [`StoreError::Corrupt`] naming the table, the row's key and
//! the column, never a default further in.
//!
//! Every query that reads records fetches plain rows and calls [`Decoded::decoded`] with the table it reads.

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};
use uuid::Uuid;

use crate::StoreError;

/// Rows fetched by a query (all of them, one, or perhaps one), decoded into records of type `T`.
pub(crate) trait Decoded<R: Row> {
    type Out<T>;
    fn decoded<T>(self, table: &'static str) -> Result<Self::Out<T>, StoreError>
    where
        T: for<'r> FromRow<'r, R>;
}

impl<R: Keyed> Decoded<R> for Vec<R> {
    type Out<T> = Vec<T>;
    fn decoded<T>(self, table: &'static str) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, R>,
    {
        self.iter().map(|row| decode(table, row)).collect()
    }
}

impl<R: Keyed> Decoded<R> for Option<R> {
    type Out<T> = Option<T>;
    fn decoded<T>(self, table: &'static str) -> Result<Option<T>, StoreError>
    where
        T: for<'r> FromRow<'r, R>,
    {
        self.as_ref().map(|row| decode(table, row)).transpose()
    }
}

fn decode<R: Keyed, T: for<'r> FromRow<'r, R>>(table: &'static str, row: &R) -> Result<T, StoreError> {
    T::from_row(row).map_err(|error| match error {
        sqlx::Error::ColumnDecode { index, source } => StoreError::Corrupt {
            table,
            row: row.key(),
            column: index.trim_matches('"').to_owned(),
            reason: source.to_string(),
        },
        other => StoreError::from(other),
    })
}

/// A row that can say which row it is, for the error when one of its values cannot be read.
pub(crate) trait Keyed: Row {
    fn key(&self) -> String;
}

/// The columns that identify a row, in the order tried: `id` alone when a table has one, otherwise every
/// one of the rest the row has (a membership is its user and organisation; a section, its application and
/// name). Secrets are never keys here: tokens and codes are keyed by their hashes.
const KEY_COLUMNS: &[&str] = &[
    "user_id",
    "organisation_id",
    "application_id",
    "notification_id",
    "name",
    "code_hash",
    "token_hash",
    "kid",
    "seq",
];

impl<R> Keyed for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    Uuid: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn key(&self) -> String {
        let value = |column: &str| {
            self.try_get::<Uuid, _>(column)
                .map(|v| v.to_string())
                .or_else(|_| self.try_get::<i64, _>(column).map(|v| v.to_string()))
                .or_else(|_| self.try_get::<String, _>(column))
                .ok()
        };
        if let Some(id) = value("id") {
            return format!("id={id}");
        }
        let parts: Vec<String> =
            KEY_COLUMNS.iter().filter_map(|column| value(column).map(|v| format!("{column}={v}"))).collect();
        if parts.is_empty() { "(no key column)".to_owned() } else { parts.join(" ") }
    }
}
