//! Enrolment at scale: after an import, staff issue enrolment codes in bulk (one per provider, each ending
//! any code of that provider still open) as a CSV for a letter run, and see who has enrolled. Redemption is
//! the existing `POST /v1/enrolments`: the first person to redeem a provider's code becomes its admin.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provider_api_core::accounts::EnrolmentCode;
use provider_api_core::field_error::FieldError;
use provider_api_store::register::{EnrolmentFilter, EnrolmentStanding};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use crate::auth::principal::StaffAdmin;
use crate::auth::secret;
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{Problem, Query, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_enrolment_codes)).routes(routes!(list_enrolments))
}

/// The most codes one run issues: a letter run of the whole register (about 30,000 providers) fits.
const MOST_PER_RUN: i64 = 50_000;

/// Whom to issue codes to: the providers named, or every provider nobody has enrolled for that has no code
/// still redeemable.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"not_enrolled": true, "expires_in_days": 30})))]
pub struct NewEnrolmentCodeRun {
    /// These providers (each code ends any of theirs still open: a reissue).
    #[serde(default)]
    #[validate(length(min = 1, max = 1000))]
    #[schema(nullable = false, max_items = 1000, example = json!(["1-199747506"]))]
    pub provider_ids: Option<Vec<String>>,
    /// Every provider nobody has enrolled for, without a code still redeemable.
    #[serde(default)]
    #[schema(nullable = false)]
    pub not_enrolled: Option<bool>,
    /// How long the codes stay redeemable (1–90 days; default 30).
    #[serde(default)]
    #[validate(range(min = 1, max = 90))]
    #[schema(nullable = false, minimum = 1, maximum = 90, example = 30)]
    pub expires_in_days: Option<u32>,
}

/// One provider's code, for its letter.
#[derive(Serialize, ToSchema)]
pub struct LetterCode {
    pub organisation_id: Uuid,
    #[schema(example = "1-199747506")]
    pub provider_id: String,
    pub provider_name: String,
    /// The provider's postal address as the register gives it (absent when it gives none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub address_line_1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub address_line_2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub town: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub postcode: Option<String>,
    /// Shown in this answer only; only its hash is kept.
    #[schema(example = "pae_kF3q...")]
    pub code: String,
}

provider_api_core::debug_redacting!(LetterCode {
    shown: [organisation_id, provider_id, provider_name, address_line_1, address_line_2, town, county, postcode],
    redacted: [code]
});

/// The codes a run issued.
#[derive(Serialize, ToSchema)]
pub struct EnrolmentCodeRun {
    pub issued: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub codes: Vec<LetterCode>,
}

/// Issue enrolment codes in bulk
///
/// One single-use code per provider (the first person to redeem it, at `POST /v1/enrolments`, becomes the
/// organisation's admin), each ending any code of that provider still open. Name the providers
/// (`provider_ids`: a reissue), or ask for every provider nobody has enrolled for that holds no redeemable
/// code (`not_enrolled`). With `Accept: text/csv` the answer is a CSV for a letter run: `provider_id`,
/// `provider_name`, the address lines, `postcode`, `code`, `expires_on`. The codes appear in this answer only.
#[utoipa::path(
    post,
    path = "/v1/admin/enrolment-code-runs",
    tag = tags::ADMIN,
    operation_id = "issue_enrolment_codes",
    request_body = NewEnrolmentCodeRun,
    responses(
        (status = 201, description = "The codes, shown this once", content(
            (EnrolmentCodeRun = "application/json"),
            (String = "text/csv"),
        )),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 422, description = "Neither or both of `provider_ids` and `not_enrolled`; or a provider ID no provider has"),
    ),
)]
async fn issue_enrolment_codes(
    State(state): State<AppState>,
    StaffAdmin(staff): StaffAdmin,
    headers: HeaderMap,
    ValidatedJson(new): ValidatedJson<NewEnrolmentCodeRun>,
) -> Result<Response, Problem> {
    let now = state.clock.now();
    let expires_at = now + time::Duration::days(i64::from(new.expires_in_days.unwrap_or(30)));
    let standings = match (&new.provider_ids, new.not_enrolled.unwrap_or(false)) {
        (Some(ids), false) => {
            let found = state.store.enrolment_standings(None, Some(ids), start(), MOST_PER_RUN, now).await?;
            let unknown: Vec<FieldError> = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| !found.iter().any(|s| &s.provider_id == *id))
                .map(|(i, id)| {
                    FieldError::new(
                        format!("/provider_ids/{i}"),
                        "unknown_provider",
                        format!("No provider here has the provider ID {id}."),
                    )
                })
                .collect();
            if !unknown.is_empty() {
                return Err(Problem::validation(unknown));
            }
            found
        }
        (None, true) => {
            state
                .store
                .enrolment_standings(Some(EnrolmentFilter::NeedingCode), None, start(), MOST_PER_RUN, now)
                .await?
        }
        _ => {
            return Err(Problem::validation(vec![FieldError::new(
                "",
                "one_of_required",
                "Give either `provider_ids` or `not_enrolled: true`.",
            )]));
        }
    };
    let mut records = Vec::with_capacity(standings.len());
    let mut codes = Vec::with_capacity(standings.len());
    for s in standings {
        let (code, record) = new_code(s.organisation_id, staff.id, now, expires_at);
        records.push(record);
        codes.push(LetterCode {
            organisation_id: s.organisation_id,
            provider_id: s.provider_id,
            provider_name: s.name,
            address_line_1: s.address_line_1,
            address_line_2: s.address_line_2,
            town: s.town,
            county: s.county,
            postcode: s.postcode,
            code,
        });
    }
    state.store.issue_enrolment_codes(&records, now).await?;
    let run = EnrolmentCodeRun { issued: codes.len(), expires_at, codes };
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/csv")));
    if wants_csv {
        let mut response = (StatusCode::CREATED, letter_csv(&run)?).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        response.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"enrolment-codes.csv\""),
        );
        return Ok(response);
    }
    Ok((StatusCode::CREATED, Json(run)).into_response())
}

/// A new enrolment code for an organisation, and the record that keeps only its hash.
pub fn new_code(
    organisation_id: Uuid,
    issued_by: Uuid,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> (String, EnrolmentCode) {
    let code = secret::generate(secret::prefix::ENROLMENT_CODE);
    let record = EnrolmentCode {
        code_hash: secret::hash(&code),
        organisation_id,
        issued_by,
        created_at: now,
        expires_at,
        redeemed_at: None,
        redeemed_by: None,
    };
    (code, record)
}

/// Before every provider record.
fn start() -> (OffsetDateTime, Uuid) {
    let after = After::start();
    (after.created_at, after.id)
}

/// The run as a CSV for a letter run.
fn letter_csv(run: &EnrolmentCodeRun) -> Result<String, Problem> {
    let failed = |e: csv::Error| Problem::internal_because(format!("the CSV could not be written: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "provider_id",
            "provider_name",
            "address_line_1",
            "address_line_2",
            "town",
            "county",
            "postcode",
            "code",
            "expires_on",
        ])
        .map_err(failed)?;
    let expires_on = run.expires_at.date().to_string();
    for c in &run.codes {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        writer
            .write_record([
                c.provider_id.clone(),
                // A cell a spreadsheet would take for a formula is written as text.
                csv_safe(&c.provider_name),
                csv_safe(&text(&c.address_line_1)),
                csv_safe(&text(&c.address_line_2)),
                csv_safe(&text(&c.town)),
                csv_safe(&text(&c.county)),
                text(&c.postcode),
                c.code.clone(),
                expires_on.clone(),
            ])
            .map_err(failed)?;
    }
    let bytes =
        writer.into_inner().map_err(|e| Problem::internal_because(format!("the CSV could not be written: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Problem::internal_because(format!("the CSV is not UTF-8: {e}")))
}

/// A value a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, return) is prefixed with `'`.
fn csv_safe(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() }
}

/// Where a provider stands in enrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    /// Someone belongs to it.
    Enrolled,
    /// Nobody yet; a code is out and redeemable.
    Waiting,
    /// Nobody belongs; its latest code expired, was ended, or was used by someone who has since left.
    Expired,
    /// Nobody yet; no code was ever issued.
    NotIssued,
}

/// Which providers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentQuery {
    /// Only providers in this standing.
    pub status: Option<EnrolmentStatus>,
    /// How many to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
}

/// A provider and its enrolment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentView {
    pub organisation_id: Uuid,
    #[schema(example = "1-199747506")]
    pub provider_id: String,
    pub name: String,
    pub status: EnrolmentStatus,
    /// How many people belong to it.
    pub members: i64,
    /// Its latest code: when issued, until when redeemable, and when redeemed.
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code_issued_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code_expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code_redeemed_at: Option<OffsetDateTime>,
}

/// A page of providers.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentPage {
    pub items: Vec<EnrolmentView>,
    /// The cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

fn status_of(s: &EnrolmentStanding, now: OffsetDateTime) -> EnrolmentStatus {
    if s.members > 0 {
        EnrolmentStatus::Enrolled
    } else if s.code_created_at.is_none() {
        EnrolmentStatus::NotIssued
    } else if s.code_redeemed_at.is_none() && s.code_ended_at.is_none() && s.code_expires_at.is_some_and(|e| e > now) {
        EnrolmentStatus::Waiting
    } else {
        EnrolmentStatus::Expired
    }
}

/// Which providers have enrolled
///
/// Every provider record, in the order the records were made, with where it stands: `enrolled` (someone belongs to it),
/// `waiting` (a code is out), `expired` (its code lapsed or was ended unused) or `not_issued`.
#[utoipa::path(
    get,
    path = "/v1/admin/enrolments",
    tag = tags::ADMIN,
    operation_id = "list_enrolments",
    params(EnrolmentQuery),
    responses(
        (status = 200, description = "A page of providers", body = EnrolmentPage),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn list_enrolments(
    State(state): State<AppState>,
    _: StaffAdmin,
    Query(query): Query<EnrolmentQuery>,
) -> Result<Json<EnrolmentPage>, Problem> {
    let paging = PageQuery { limit: query.limit, cursor: query.cursor.clone() };
    let (limit, after) = (paging.limit()?, paging.after()?);
    let filter = query.status.map(|s| match s {
        EnrolmentStatus::Enrolled => EnrolmentFilter::Enrolled,
        EnrolmentStatus::Waiting => EnrolmentFilter::Waiting,
        EnrolmentStatus::Expired => EnrolmentFilter::Expired,
        EnrolmentStatus::NotIssued => EnrolmentFilter::NotIssued,
    });
    let now = state.clock.now();
    let rows =
        state.store.enrolment_standings(filter, None, (after.created_at, after.id), i64::from(limit) + 1, now).await?;
    let (items, next) = page(
        rows,
        limit,
        |s| After { created_at: s.created_at, id: s.organisation_id },
        |s| EnrolmentView {
            status: status_of(&s, now),
            organisation_id: s.organisation_id,
            provider_id: s.provider_id,
            name: s.name,
            members: s.members,
            code_issued_at: s.code_created_at,
            code_expires_at: s.code_expires_at,
            code_redeemed_at: s.code_redeemed_at,
        },
    );
    Ok(Json(EnrolmentPage { items, next }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_cell_that_a_spreadsheet_would_run_is_text() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("Example Care Ltd"), "Example Care Ltd");
    }
}
