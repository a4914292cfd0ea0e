//! The regulator's published register, imported (`docs/register.md`): staff import a file uploaded to the
//! regulator's own organisation (`POST /v1/admin/register-imports`), or an operator imports one from disk
//! (`provider-api register import`); both run the same importer. Then enrolment at scale: codes issued in
//! bulk for a letter run, and who has enrolled.

use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provider_api_core::accounts::REGULATOR_ORGANISATION;
use provider_api_core::documents::ScanStatus;
use provider_api_core::field_error::FieldError;
use provider_api_core::register::Source;
use provider_api_store::register::{ImportRow, RegisterImport};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use crate::auth::principal::StaffAdmin;
use crate::http::{Path, Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub mod enrolment;
pub mod import;
pub mod read;

pub use read::Kind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_register_import))
        .routes(routes!(get_register_import))
        .merge(enrolment::router())
}

/// How many refused and conflicting rows a report lists (each count is always whole).
const LISTED_ROWS: i64 = 500;

/// An import that has not moved for this long has stopped (its node went away): run it again; it is
/// idempotent.
const STALLED_AFTER: time::Duration = time::Duration::minutes(10);

/// A file to import.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"document_id": "01937a1e-4c2b-7d10-8a5f-1c2d3e4f5a62", "kind": "csv", "as_of": "2026-12-01"})))]
pub struct NewRegisterImport {
    /// A clean document uploaded to the regulator's own organisation
    /// (`/v1/organisations/00000000-0000-4000-8000-000000000001/uploads`).
    pub document_id: Uuid,
    /// What the file is; by default, what its media type or name says (`.ods`, `.csv`, `.ndjson`).
    #[serde(default)]
    #[schema(nullable = false)]
    pub kind: Option<Kind>,
    /// The date the file speaks for (`yyyy-mm-dd`). Read from the workbook's README sheet when absent; needed
    /// for a CSV or NDJSON file.
    #[serde(default)]
    #[schema(nullable = false, format = Date, example = "2026-12-01")]
    pub as_of: Option<String>,
    /// Compare and report only; change nothing.
    #[serde(default)]
    #[schema(nullable = false)]
    pub dry_run: Option<bool>,
}

/// How an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Running,
    Finished,
    /// Stopped early; `failure` says why. What it committed stays; running it again is safe.
    Failed,
    /// No progress for ten minutes and not finished: the node running it went away. Run it again.
    Interrupted,
}

/// Created, updated and unchanged records of one kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tally {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
}

/// A row that was refused, or found in conflict with what is stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportedRow {
    /// The row's number in the file (the heading row is 1; for NDJSON, the line's).
    pub row: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "1-199747506")]
    pub provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "1-545611283")]
    pub location_id: Option<String>,
    #[schema(example = "`Location Postal Code`: Not a UK postcode.")]
    pub reason: String,
}

/// Rows of one outcome: how many, and the first of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportedRows {
    pub count: i64,
    /// The first 500, in row order.
    pub items: Vec<ReportedRow>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    pub id: Uuid,
    pub status: ImportStatus,
    pub kind: Kind,
    pub source: Source,
    /// The date the file speaks for.
    #[schema(format = Date, example = "2026-12-01")]
    pub as_of: String,
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub document_id: Option<Uuid>,
    pub dry_run: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub finished_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub failure: Option<String>,
    pub rows_read: i64,
    pub providers: Tally,
    pub locations: Tally,
    pub refused: ReportedRows,
    pub conflicts: ReportedRows,
}

impl ImportReport {
    pub fn of(import: &RegisterImport, rows: Vec<ImportRow>, now: OffsetDateTime) -> Self {
        let c = &import.counts;
        let status = match (&import.finished_at, &import.failure) {
            (Some(_), None) => ImportStatus::Finished,
            (Some(_), Some(_)) => ImportStatus::Failed,
            (None, _) if now - import.heartbeat_at > STALLED_AFTER => ImportStatus::Interrupted,
            (None, _) => ImportStatus::Running,
        };
        let listed = |outcome: &str| -> Vec<ReportedRow> {
            rows.iter()
                .filter(|r| r.outcome == outcome)
                .map(|r| ReportedRow {
                    row: r.row_number,
                    provider_id: r.provider_id.clone(),
                    location_id: r.location_id.clone(),
                    reason: r.reason.clone(),
                })
                .collect()
        };
        Self {
            id: import.id,
            status,
            kind: match import.kind.as_str() {
                "ods" => Kind::Ods,
                "csv" => Kind::Csv,
                _ => Kind::Ndjson,
            },
            source: import.source,
            as_of: import.as_of.to_string(),
            file_name: import.file_name.clone(),
            document_id: import.document_id,
            dry_run: import.dry_run,
            started_at: import.started_at,
            finished_at: import.finished_at,
            failure: import.failure.clone(),
            rows_read: c.rows_read,
            providers: Tally {
                created: c.providers_created,
                updated: c.providers_updated,
                unchanged: c.providers_unchanged,
            },
            locations: Tally {
                created: c.locations_created,
                updated: c.locations_updated,
                unchanged: c.locations_unchanged,
            },
            refused: ReportedRows { count: c.rows_refused, items: listed("refused") },
            conflicts: ReportedRows { count: c.rows_in_conflict, items: listed("conflict") },
        }
    }
}

/// An import's report as stored now.
pub async fn report(
    store: &dyn provider_api_store::Store,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<ImportReport>, provider_api_store::StoreError> {
    let Some(import) = store.register_import(id).await? else { return Ok(None) };
    let mut rows = store.register_import_rows(id, "refused", LISTED_ROWS).await?;
    rows.extend(store.register_import_rows(id, "conflict", LISTED_ROWS).await?);
    Ok(Some(ImportReport::of(&import, rows, now)))
}

/// An import that is still running (not finished, and moved within the last ten minutes), if any.
pub async fn running_import(
    store: &dyn provider_api_store::Store,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, provider_api_store::StoreError> {
    let recent = store.register_imports(now - time::Duration::days(2), Uuid::nil(), 1000).await?;
    Ok(recent.iter().find(|i| i.finished_at.is_none() && now - i.heartbeat_at <= STALLED_AFTER).map(|i| i.id))
}

/// The date a file speaks for, as given.
pub fn parse_as_of(text: &str) -> Option<Date> {
    Date::parse(text.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Import the regulator's register
///
/// Starts importing a register file already uploaded (tus) to the regulator's own organisation
/// `00000000-0000-4000-8000-000000000001` and scanned clean: the monthly `HSCA_Active_Locations` workbook
/// (ODS), a CSV of its main sheet, or syndication records as NDJSON. Answers 202 at once with the import as it
/// starts; `GET` its `Location` for progress and the report: rows read, providers and locations created,
/// updated and unchanged, and every refused or conflicting row with why. Idempotent: the same file again
/// changes nothing. See docs/register.md.
#[utoipa::path(
    post,
    path = "/v1/admin/register-imports",
    tag = tags::ADMIN,
    operation_id = "start_register_import",
    request_body = NewRegisterImport,
    responses(
        (status = 202, description = "Started; `Location` is where to follow it", body = ImportReport,
            headers(("Location" = String, description = "The import"))),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 404, description = "No such document among the regulator's files"),
        (status = 409, description = "The document is not scanned clean (`document_not_clean`), or another import is running (`import_running`)"),
        (status = 422, description = "The kind or date cannot be told, the workbook's README gives no date, or the date is after today"),
    ),
)]
async fn start_register_import(
    State(state): State<AppState>,
    StaffAdmin(staff): StaffAdmin,
    ValidatedJson(new): ValidatedJson<NewRegisterImport>,
) -> Result<Response, Problem> {
    let document = state
        .store
        .document(new.document_id)
        .await?
        .filter(|d| d.organisation_id == REGULATOR_ORGANISATION)
        .ok_or_else(|| Problem::not_found("There is no such document among the regulator's own files."))?;
    if document.status() != ScanStatus::Clean {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "document_not_clean",
            "The document cannot be imported",
            "Only a document the malware scan found clean is imported; wait for its scan, or upload it again.",
        ));
    }
    let kind = new
        .kind
        .or_else(|| Kind::of_media_type(&document.media_type))
        .or_else(|| Kind::of_name(&document.filename))
        .ok_or_else(|| {
            Problem::validation(vec![FieldError::new(
                "/kind",
                "kind_required",
                "Say which kind of file this is: ods, csv or ndjson (its type and name do not say).",
            )])
        })?;
    let given = match new.as_of.as_deref() {
        None => None,
        Some(text) => Some(parse_as_of(text).ok_or_else(|| {
            Problem::validation(vec![FieldError::new("/as_of", "date_format", "Give the date as yyyy-mm-dd.")])
        })?),
    };
    let today = state.clock.now().date();
    if given.is_some_and(|d| d > today) {
        return Err(Problem::validation(vec![FieldError::new(
            "/as_of",
            "as_of_in_future",
            "A register file cannot speak for a date after today: check the date.",
        )]));
    }
    if let Some(running) = running_import(state.store.as_ref(), state.clock.now()).await? {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "import_running",
            "Another import is running",
            format!("Import {running} is still running; one import at a time. Follow it, then start this one."),
        ));
    }
    if given.is_none() && kind != Kind::Ods {
        return Err(Problem::validation(vec![FieldError::new(
            "/as_of",
            "as_of_required",
            "Give the date this file speaks for (yyyy-mm-dd): only the workbook says it itself.",
        )]));
    }
    let path = std::env::temp_dir().join(format!("provider-api-register-{}", Uuid::now_v7()));
    copy_document(&state, document.id, &path).await?;
    let as_of = match given {
        Some(date) => date,
        None => {
            let read = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read::ods_as_of(&path)).await
            };
            match read {
                Ok(Ok(Some(date))) => date,
                outcome => {
                    let _ = tokio::fs::remove_file(&path).await;
                    let why = match outcome {
                        Ok(Err(error)) => format!("The workbook cannot be read: {error}."),
                        _ => "The workbook's README sheet gives no `as at` date: give `as_of`.".to_owned(),
                    };
                    return Err(Problem::validation(vec![FieldError::new("/as_of", "as_of_required", why)]));
                }
            }
        }
    };
    if as_of > today {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(Problem::validation(vec![FieldError::new(
            "/as_of",
            "as_of_in_future",
            format!("The workbook says it is as at {as_of}, after today: check the file."),
        )]));
    }
    let request = import::Request {
        kind,
        as_of,
        file_name: document.filename.clone(),
        document_id: Some(document.id),
        sha256: Some(document.sha256.clone()),
        dry_run: new.dry_run.unwrap_or(false),
        started_by: Some(staff.id),
    };
    let now = state.clock.now();
    let started = match import::start(state.store.as_ref(), now, &request).await {
        Ok(started) => started,
        Err(error) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error.into());
        }
    };
    let (store, clock, running) = (state.store.clone(), state.clock.clone(), started.clone());
    tokio::spawn(async move {
        if let Err(error) = import::run(store, clock, &running, kind, path.clone()).await {
            tracing::error!(import_id = %running.id, %error, "the register import stopped");
        }
        let _ = tokio::fs::remove_file(&path).await;
    });
    let body = ImportReport::of(&started, Vec::new(), now);
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/admin/register-imports/{}", started.id)).expect("ASCII"),
    );
    Ok(response)
}

/// Streams a stored document to a file (never whole in memory).
async fn copy_document(state: &AppState, document_id: Uuid, path: &std::path::Path) -> Result<(), Problem> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let failed = |e: std::io::Error| crate::documents::writer::storage_failed(e);
    let mut stream = state.documents.blobs.read(document_id, None).await.map_err(failed)?;
    let mut file = tokio::fs::File::create(path).await.map_err(failed)?;
    while let Some(chunk) = stream.next().await {
        if let Err(error) = file.write_all(&chunk.map_err(failed)?).await {
            let _ = tokio::fs::remove_file(path).await;
            return Err(failed(error));
        }
    }
    file.flush().await.map_err(failed)?;
    Ok(())
}

/// A register import's progress and report
///
/// How far the import has come (`running`, `finished`, `failed` with why, or `interrupted`), what it has
/// created, updated and left unchanged, and the rows it refused or found in conflict, each with its row number
/// and reason (the first 500 of each; the counts are whole).
#[utoipa::path(
    get,
    path = "/v1/admin/register-imports/{import_id}",
    tag = tags::ADMIN,
    operation_id = "get_register_import",
    params(("import_id" = Uuid, Path, description = "The import")),
    responses(
        (status = 200, description = "The import as it stands", body = ImportReport),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 404, description = "No such import"),
    ),
)]
async fn get_register_import(
    State(state): State<AppState>,
    _: StaffAdmin,
    Path(import_id): Path<Uuid>,
) -> Result<Json<ImportReport>, Problem> {
    report(state.store.as_ref(), import_id, state.clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found("There is no such register import."))
}

/// Runs an import of a file on disk to its end (the operator's command), and its report.
pub async fn import_file(
    store: std::sync::Arc<dyn provider_api_store::Store>,
    clock: std::sync::Arc<dyn provider_api_core::clock::Clock>,
    path: PathBuf,
    kind: Kind,
    as_of: Option<Date>,
    dry_run: bool,
) -> anyhow::Result<ImportReport> {
    use anyhow::Context;
    let as_of = match as_of {
        Some(date) => date,
        None if kind == Kind::Ods => {
            let at = path.clone();
            tokio::task::spawn_blocking(move || read::ods_as_of(&at))
                .await??
                .context("the workbook's README sheet gives no `as at` date: give --as-of")?
        }
        None => anyhow::bail!("give --as-of (yyyy-mm-dd): only the workbook says its date itself"),
    };
    anyhow::ensure!(as_of <= clock.now().date(), "the file's date ({as_of}) is after today: check it");
    if let Some(running) = running_import(store.as_ref(), clock.now()).await? {
        anyhow::bail!("import {running} is still running; one import at a time");
    }
    let sha256 = {
        let at = path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use sha2::Digest;
            let mut hasher = sha2::Sha256::new();
            std::io::copy(&mut std::fs::File::open(&at)?, &mut hasher)?;
            Ok(provider_api_core::hex(&hasher.finalize()))
        })
        .await??
    };
    let request = import::Request {
        kind,
        as_of,
        file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        document_id: None,
        sha256: Some(sha256),
        dry_run,
        started_by: None,
    };
    let started = import::start(store.as_ref(), clock.now(), &request).await?;
    let outcome = import::run(store.clone(), clock.clone(), &started, kind, path).await;
    let report = report(store.as_ref(), started.id, clock.now()).await?.context("the import's record vanished")?;
    if let Err(error) = outcome {
        tracing::error!(%error, "the register import stopped");
    }
    Ok(report)
}
