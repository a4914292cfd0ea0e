//! Cursor pagination: `?limit=` (1–100, default 50) and `?cursor=`; a page says `next` until the last one.
//! Pages are ordered by (creation time, id), and the cursor is the last item's pair, so items inserted while
//! a client pages through neither shift nor repeat what it sees.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Problem;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
}

/// Where a page starts: after this (creation time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

impl After {
    /// Before everything.
    pub fn start() -> Self {
        Self { created_at: OffsetDateTime::UNIX_EPOCH, id: Uuid::nil() }
    }

    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at.unix_timestamp_nanos(), self.id))
    }

    fn decode(cursor: &str) -> Option<Self> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let (nanos, id) = text.split_once(':')?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
        Some(Self { created_at, id: id.parse().ok()? })
    }
}

/// The moment `amount` before `now`, for an age filter whose largest value the spec states as `maximum`
/// (400 beyond it, rather than a date outside the calendar).
pub fn ago(
    now: OffsetDateTime,
    amount: Option<u32>,
    maximum: u32,
    unit: time::Duration,
    name: &str,
) -> Result<Option<OffsetDateTime>, Problem> {
    match amount {
        None => Ok(None),
        Some(amount) if amount <= maximum => Ok(Some(now - unit * amount)),
        Some(_) => Err(invalid(&format!("{name} must be at most {maximum}."))),
    }
}

/// Where a feed read by number starts (`?after=`, the last `seq` read; 0 or absent for the start) and how many
/// to return (`?limit=`, 1–500, default 100): 400 outside those.
pub fn by_seq(after: Option<i64>, limit: Option<u32>) -> Result<(i64, u32), Problem> {
    let after = match after {
        None => 0,
        Some(after @ 0..) => after,
        Some(_) => return Err(invalid("after is the seq of the last item read: 0 or more.")),
    };
    let limit = match limit {
        None => 100,
        Some(limit @ 1..=500) => limit,
        Some(_) => return Err(invalid("limit must be between 1 and 500.")),
    };
    Ok((after, limit))
}

fn invalid(detail: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_query", "The query string is invalid", detail)
}

impl PageQuery {
    pub fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit @ 1..=MAX_LIMIT) => Ok(limit),
            Some(_) => Err(invalid("limit must be between 1 and 100.")),
        }
    }

    pub fn after(&self) -> Result<After, Problem> {
        match &self.cursor {
            None => Ok(After::start()),
            Some(cursor) => After::decode(cursor).ok_or_else(|| invalid("The cursor is not one this API gave out.")),
        }
    }
}

/// Splits up to `limit + 1` rows fetched in order into a page's items and the cursor of the next page: the
/// extra row, if present, proves there is a next page without a count query. (Each collection has its own
/// page type, `{items, next}`, so the spec names its item schema rather than inlining it.)
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> After,
    view: impl Fn(R) -> T,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|last| key(last).encode()) } else { None };
    (rows.into_iter().map(view).collect(), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_beyond_its_maximum_is_refused_not_a_panic() {
        assert!(
            ago(OffsetDateTime::UNIX_EPOCH + time::Duration::weeks(2800), None, 10, time::Duration::DAY, "days")
                .unwrap()
                .is_none()
        );
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::weeks(2800);
        let day_ago = ago(now, Some(1), 10, time::Duration::DAY, "days").unwrap().unwrap();
        assert_eq!(now - day_ago, time::Duration::DAY);
        assert_eq!(
            ago(
                OffsetDateTime::UNIX_EPOCH + time::Duration::weeks(2800),
                Some(u32::MAX),
                10,
                time::Duration::HOUR,
                "hours"
            )
            .unwrap_err()
            .status,
            400
        );
    }

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let after = After { created_at: OffsetDateTime::UNIX_EPOCH + time::Duration::weeks(2800), id: Uuid::new_v4() };
        assert_eq!(After::decode(&after.encode()), Some(after));
        let query = PageQuery { limit: Some(0), cursor: Some("!!".into()) };
        assert_eq!(query.limit().unwrap_err().status, 400);
        assert_eq!(query.after().unwrap_err().code, "invalid_query");
    }

    #[test]
    fn the_extra_row_means_a_next_page() {
        let rows: Vec<u32> = (0..4).collect();
        let key = |n: &u32| After { created_at: OffsetDateTime::UNIX_EPOCH, id: Uuid::from_u128(u128::from(*n)) };
        let (items, next) = page(rows.clone(), 3, key, |n| n);
        assert_eq!(items, [0, 1, 2]);
        assert!(next.is_some());
        let (_, next) = page(rows, 4, key, |n| n);
        assert!(next.is_none());
    }
}
