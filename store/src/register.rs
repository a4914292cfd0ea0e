//! The register import's storage (`docs/register.md`), written once for both engines: what is stored of the
//! providers and locations a batch of rows names, and the batch's writes — records, their event-feed entries,
//! their audit entries, and the import's counts and reported rows — in one transaction.

use async_trait::async_trait;
use provider_api_core::audit::NewEntry;
use provider_api_core::register::{LocationState, ProviderState, Source, StoredLocation, StoredProvider};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::StoreError;

/// An import, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegisterImport {
    pub id: Uuid,
    /// `ods`, `csv` or `ndjson`.
    pub kind: String,
    pub source: Source,
    pub as_of: Date,
    pub document_id: Option<Uuid>,
    pub file_name: String,
    pub sha256: Option<String>,
    /// Compared and reported only: nothing written but the import's own record.
    pub dry_run: bool,
    pub started_by: Option<Uuid>,
    pub started_at: OffsetDateTime,
    pub heartbeat_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub failure: Option<String>,
    #[sqlx(flatten)]
    pub counts: ImportCounts,
}

/// What an import has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportCounts {
    pub rows_read: i64,
    pub providers_created: i64,
    pub providers_updated: i64,
    pub providers_unchanged: i64,
    pub locations_created: i64,
    pub locations_updated: i64,
    pub locations_unchanged: i64,
    pub rows_refused: i64,
    pub rows_in_conflict: i64,
}

/// A row an import refused, or found in conflict with what is stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRow {
    pub row_number: i64,
    /// `refused` or `conflict`.
    pub outcome: String,
    pub provider_id: Option<String>,
    pub location_id: Option<String>,
    pub reason: String,
}

/// A provider to create or update.
#[derive(Debug, Clone)]
pub struct ProviderWrite {
    pub organisation_id: Uuid,
    pub provider_id: String,
    /// Set on creation only (see `ProviderState`).
    pub name: String,
    pub state: ProviderState,
    pub create: bool,
}

/// A location to create or update (all of its imported fields are written).
#[derive(Debug, Clone)]
pub struct LocationWrite {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: String,
    pub state: LocationState,
    pub create: bool,
}

/// An event-feed entry for a created or updated record.
#[derive(Debug, Clone)]
pub struct RegisterEvent {
    pub organisation_id: Uuid,
    /// `organisation` or `location`.
    pub object_type: &'static str,
    pub object_id: Uuid,
    /// `register_created` or `register_updated`.
    pub action: &'static str,
    pub location_id: Option<Uuid>,
}

/// One batch of an import: written whole or not at all.
#[derive(Debug, Clone)]
pub struct RegisterBatch {
    pub import_id: Uuid,
    pub source: Source,
    pub as_of: Date,
    pub at: OffsetDateTime,
    pub providers: Vec<ProviderWrite>,
    pub locations: Vec<LocationWrite>,
    pub events: Vec<RegisterEvent>,
    pub audit: Vec<NewEntry>,
    /// The import's counts after this batch.
    pub counts: ImportCounts,
    pub rows: Vec<ImportRow>,
}

/// A provider and how far it has come to enrolling.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EnrolmentStanding {
    pub organisation_id: Uuid,
    /// When the provider's record was made: with its id, where a page of them starts.
    pub created_at: OffsetDateTime,
    pub provider_id: String,
    pub name: String,
    pub address_line_1: Option<String>,
    pub address_line_2: Option<String>,
    pub town: Option<String>,
    pub county: Option<String>,
    pub postcode: Option<String>,
    /// People who belong to it: more than none is enrolled.
    pub members: i64,
    /// Its latest enrolment code, if any.
    pub code_created_at: Option<OffsetDateTime>,
    pub code_expires_at: Option<OffsetDateTime>,
    pub code_redeemed_at: Option<OffsetDateTime>,
    pub code_ended_at: Option<OffsetDateTime>,
}

/// Which providers to list by their enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolmentFilter {
    /// Someone belongs to it.
    Enrolled,
    /// Nobody yet; a code is out and still redeemable.
    Waiting,
    /// Nobody belongs; its latest code expired, was ended, or was used by someone who has since left.
    Expired,
    /// Nobody yet, and no code was ever issued.
    NotIssued,
    /// Nobody yet and no redeemable code: those a letter run should reach.
    NeedingCode,
}

#[async_trait]
pub trait RegisterStore: Send + Sync {
    /// Up to `limit` providers made after `(created_at, id)`, in that order, matching `filter` (as at `now`), or
    /// those with the given provider IDs.
    async fn enrolment_standings(
        &self,
        filter: Option<EnrolmentFilter>,
        provider_ids: Option<&[String]>,
        after: (OffsetDateTime, Uuid),
        limit: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<EnrolmentStanding>, StoreError>;
    /// Issues `codes` in one transaction, ending every code of those organisations still open (a reissued code
    /// replaces the one before).
    async fn issue_enrolment_codes(
        &self,
        codes: &[provider_api_core::accounts::EnrolmentCode],
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The providers and locations stored under these IDs (those that exist).
    async fn register_records(
        &self,
        provider_ids: &[String],
        location_ids: &[String],
    ) -> Result<(Vec<StoredProvider>, Vec<StoredLocation>), StoreError>;
    async fn create_register_import(&self, import: &RegisterImport) -> Result<(), StoreError>;
    /// Writes the batch in one transaction: records, events and audit entries (chained under the audit lock),
    /// and the import's counts and reported rows.
    async fn apply_register_batch(&self, batch: &RegisterBatch) -> Result<(), StoreError>;
    async fn finish_register_import(
        &self,
        id: Uuid,
        at: OffsetDateTime,
        failure: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn register_import(&self, id: Uuid) -> Result<Option<RegisterImport>, StoreError>;
    /// Up to `limit` of the import's reported rows with this outcome (`refused` or `conflict`), in row order.
    async fn register_import_rows(&self, id: Uuid, outcome: &str, limit: i64) -> Result<Vec<ImportRow>, StoreError>;
    /// Up to `limit` imports started after `(started_at, id)`, in that order.
    async fn register_imports(
        &self,
        after_started: OffsetDateTime,
        after_id: Uuid,
        limit: i64,
    ) -> Result<Vec<RegisterImport>, StoreError>;
}

/// The provenance columns read back as one value.
pub(crate) fn provenance(
    source: Option<String>,
    as_of: Option<Date>,
) -> Result<Option<provider_api_core::register::Provenance>, String> {
    match (source, as_of) {
        (Some(source), Some(as_of)) => {
            Ok(Some(provider_api_core::register::Provenance { source: source.parse()?, as_of }))
        }
        _ => Ok(None),
    }
}

/// Space-separated codes, as stored.
pub(crate) fn codes(text: Option<String>) -> std::collections::BTreeSet<String> {
    text.unwrap_or_default().split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn joined(codes: &std::collections::BTreeSet<String>) -> String {
    codes.iter().map(String::as_str).collect::<Vec<_>>().join(" ")
}

/// Rows per multi-row statement: well inside both engines' limits on bound parameters.
pub(crate) const CHUNK: usize = 400;

macro_rules! impl_register_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::register::RegisterStore for $store {
            async fn register_records(
                &self,
                provider_ids: &[String],
                location_ids: &[String],
            ) -> Result<
                (Vec<provider_api_core::register::StoredProvider>, Vec<provider_api_core::register::StoredLocation>),
                $crate::StoreError,
            > {
                use $crate::register::{codes, provenance};
                type Db = <$store as $crate::Dialect>::Database;
                let corrupt = |table: &'static str, row: String, reason: String| $crate::StoreError::Corrupt {
                    table,
                    row,
                    column: "register_source".to_owned(),
                    reason,
                };
                let mut providers = Vec::new();
                for chunk in provider_ids.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "SELECT id, provider_id, registered_since, companies_house_number, charity_number, \
                         register_source, register_as_of, address_line_1, address_line_2, town, county, postcode \
                         FROM organisations WHERE provider_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    query.push(")");
                    type Row = (
                        uuid::Uuid,
                        String,
                        Option<time::Date>,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        Option<time::Date>,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                        Option<String>,
                    );
                    let rows: Vec<Row> = query.build().fetch_all(&self.pool).await?.decoded("organisations")?;
                    for (
                        id,
                        provider_id,
                        registered_since,
                        companies_house_number,
                        charity_number,
                        source,
                        as_of,
                        line_1,
                        line_2,
                        town,
                        county,
                        postcode,
                    ) in rows
                    {
                        let address = match (line_1, town, postcode) {
                            (Some(line_1), Some(town), Some(postcode)) => {
                                Some(provider_api_core::register::PostalAddress { line_1, line_2, town, county, postcode })
                            }
                            _ => None,
                        };
                        providers.push(provider_api_core::register::StoredProvider {
                            organisation_id: id,
                            provider_id,
                            state: provider_api_core::register::ProviderState {
                                registered_since,
                                companies_house_number,
                                charity_number,
                                address,
                            },
                            provenance: provenance(source, as_of)
                                .map_err(|reason| corrupt("organisations", id.to_string(), reason))?,
                        });
                    }
                }
                let mut locations = Vec::new();
                for chunk in location_ids.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "SELECT l.id, l.organisation_id, o.provider_id, l.location_id, l.name, l.address_line_1, \
                         l.address_line_2, l.town, l.county, l.postcode, l.ods_code, l.care_home, l.beds, \
                         l.registered_since, l.service_types, l.user_bands, l.deregistered_at, l.register_source, \
                         l.register_as_of, m.full_name \
                         FROM locations l JOIN organisations o ON o.id = l.organisation_id \
                         LEFT JOIN published_managers m ON m.location_id = l.id WHERE l.location_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    query.push(")");
                    let rows = query.build().fetch_all(&self.pool).await?;
                    for row in rows {
                        use sqlx::Row as _;
                        let id: uuid::Uuid = row.try_get(0)?;
                        let read = |e: sqlx::Error| corrupt("locations", id.to_string(), e.to_string());
                        locations.push(provider_api_core::register::StoredLocation {
                            id,
                            organisation_id: row.try_get(1).map_err(read)?,
                            provider_id: row.try_get(2).map_err(read)?,
                            location_id: row.try_get(3).map_err(read)?,
                            state: provider_api_core::register::LocationState {
                                name: row.try_get(4).map_err(read)?,
                                address_line_1: row.try_get(5).map_err(read)?,
                                address_line_2: row.try_get(6).map_err(read)?,
                                town: row.try_get(7).map_err(read)?,
                                county: row.try_get(8).map_err(read)?,
                                postcode: row.try_get(9).map_err(read)?,
                                ods_code: row.try_get(10).map_err(read)?,
                                care_home: row.try_get(11).map_err(read)?,
                                beds: row.try_get::<Option<i32>, _>(12).map_err(read)?.map(i64::from),
                                registered_since: row.try_get(13).map_err(read)?,
                                activities: std::collections::BTreeSet::new(),
                                service_types: codes(row.try_get(14).map_err(read)?),
                                user_bands: Some(codes(row.try_get(15).map_err(read)?)),
                                manager_name: row.try_get(19).map_err(read)?,
                            },
                            deregistered_at: row.try_get(16).map_err(read)?,
                            provenance: provenance(row.try_get(17).map_err(read)?, row.try_get(18).map_err(read)?)
                                .map_err(|reason| corrupt("locations", id.to_string(), reason))?,
                        });
                    }
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "SELECT a.location_id, a.activity FROM location_activities a \
                         JOIN locations l ON l.id = a.location_id WHERE l.location_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    query.push(")");
                    let activities: Vec<(uuid::Uuid, String)> =
                        query.build().fetch_all(&self.pool).await?.decoded("location_activities")?;
                    let at: std::collections::HashMap<uuid::Uuid, usize> =
                        locations.iter().enumerate().map(|(i, l): (usize, &provider_api_core::register::StoredLocation)| (l.id, i)).collect();
                    for (location, activity) in activities {
                        if let Some(i) = at.get(&location) {
                            locations[*i].state.activities.insert(activity);
                        }
                    }
                }
                Ok((providers, locations))
            }

            async fn enrolment_standings(
                &self,
                filter: Option<$crate::register::EnrolmentFilter>,
                provider_ids: Option<&[String]>,
                after: (time::OffsetDateTime, uuid::Uuid),
                limit: i64,
                now: time::OffsetDateTime,
            ) -> Result<Vec<$crate::register::EnrolmentStanding>, $crate::StoreError> {
                use $crate::register::EnrolmentFilter;
                type Db = <$store as $crate::Dialect>::Database;
                let mut query = sqlx::QueryBuilder::<Db>::new(
                    "SELECT o.id AS organisation_id, o.created_at, o.provider_id, o.name, o.address_line_1, o.address_line_2, o.town, \
                     o.county, o.postcode, \
                     (SELECT COUNT(*) FROM memberships m WHERE m.organisation_id = o.id) AS members, \
                     c.created_at AS code_created_at, c.expires_at AS code_expires_at, \
                     c.redeemed_at AS code_redeemed_at, c.ended_at AS code_ended_at \
                     FROM organisations o LEFT JOIN enrolment_codes c ON c.code_hash = \
                     (SELECT code_hash FROM enrolment_codes l WHERE l.organisation_id = o.id \
                      ORDER BY l.created_at DESC, l.code_hash LIMIT 1) \
                     WHERE o.provider_id IS NOT NULL AND (o.created_at, o.id) > (",
                );
                query.push_bind(after.0).push(", ").push_bind(after.1).push(")");
                if let Some(ids) = provider_ids {
                    query.push(" AND o.provider_id IN (''");
                    for id in ids {
                        query.push(", ").push_bind(id.clone());
                    }
                    query.push(")");
                }
                let nobody = " AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organisation_id = o.id)";
                match filter {
                    None => {}
                    Some(EnrolmentFilter::Enrolled) => {
                        query.push(" AND EXISTS (SELECT 1 FROM memberships m WHERE m.organisation_id = o.id)");
                    }
                    Some(EnrolmentFilter::Waiting) => {
                        query.push(nobody).push(
                            " AND c.redeemed_at IS NULL AND c.ended_at IS NULL AND c.expires_at > ",
                        );
                        query.push_bind(now);
                    }
                    Some(EnrolmentFilter::Expired) => {
                        query.push(nobody).push(
                            " AND c.code_hash IS NOT NULL AND (c.redeemed_at IS NOT NULL OR c.ended_at IS NOT NULL \
                             OR c.expires_at <= ",
                        );
                        query.push_bind(now).push(")");
                    }
                    Some(EnrolmentFilter::NotIssued) => {
                        query.push(nobody).push(" AND c.code_hash IS NULL");
                    }
                    Some(EnrolmentFilter::NeedingCode) => {
                        query.push(nobody).push(
                            " AND (c.code_hash IS NULL OR c.redeemed_at IS NOT NULL OR c.ended_at IS NOT NULL \
                             OR c.expires_at <= ",
                        );
                        query.push_bind(now).push(")");
                    }
                }
                query.push(" ORDER BY o.created_at, o.id LIMIT ").push_bind(limit);
                Ok(query.build().fetch_all(&self.pool).await?.decoded("organisations")?)
            }

            async fn issue_enrolment_codes(
                &self,
                codes: &[provider_api_core::accounts::EnrolmentCode],
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                type Db = <$store as $crate::Dialect>::Database;
                let mut tx = self.pool.begin().await?;
                for chunk in codes.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new("UPDATE enrolment_codes SET ended_at = ");
                    query.push_bind(at).push(" WHERE redeemed_at IS NULL AND ended_at IS NULL AND organisation_id IN (");
                    let mut list = query.separated(", ");
                    for code in chunk {
                        list.push_bind(code.organisation_id);
                    }
                    query.push(")");
                    query.build().execute(&mut *tx).await?;
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO enrolment_codes (code_hash, organisation_id, issued_by, created_at, expires_at) ",
                    );
                    query.push_values(chunk, |mut row, c| {
                        row.push_bind(c.code_hash.clone())
                            .push_bind(c.organisation_id)
                            .push_bind(c.issued_by)
                            .push_bind(c.created_at)
                            .push_bind(c.expires_at);
                    });
                    query.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_register_import(
                &self,
                i: &$crate::register::RegisterImport,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO register_imports (id, kind, source, as_of, document_id, file_name, sha256, dry_run, \
                     started_by, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(i.id)
                .bind(&i.kind)
                .bind(i.source.as_str())
                .bind(i.as_of)
                .bind(i.document_id)
                .bind(&i.file_name)
                .bind(&i.sha256)
                .bind(i.dry_run)
                .bind(i.started_by)
                .bind(i.started_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn apply_register_batch(
                &self,
                b: &$crate::register::RegisterBatch,
            ) -> Result<(), $crate::StoreError> {
                use $crate::register::joined;
                type Db = <$store as $crate::Dialect>::Database;
                let mut tx = self.pool.begin().await?;
                let source = b.source.as_str();
                // New organisations take their first event numbers as they are inserted.
                let mut events_of: std::collections::HashMap<uuid::Uuid, i64> = std::collections::HashMap::new();
                for e in &b.events {
                    *events_of.entry(e.organisation_id).or_default() += 1;
                }
                let created: Vec<&$crate::register::ProviderWrite> = b.providers.iter().filter(|p| p.create).collect();
                for chunk in created.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO organisations (id, name, provider_id, four_eyes, version, created_at, updated_at, \
                         software_submits, event_seq, registered_since, companies_house_number, charity_number, \
                         register_source, register_as_of, register_import_id, address_line_1, address_line_2, \
                         town, county, postcode) ",
                    );
                    query.push_values(chunk, |mut row, p| {
                        let a = p.state.address.as_ref();
                        row.push_bind(p.organisation_id)
                            .push_bind(p.name.clone())
                            .push_bind(p.provider_id.clone())
                            .push_bind(true)
                            .push_bind(1_i64)
                            .push_bind(b.at)
                            .push_bind(b.at)
                            .push_bind(true)
                            .push_bind(events_of.get(&p.organisation_id).copied().unwrap_or(0))
                            .push_bind(p.state.registered_since)
                            .push_bind(p.state.companies_house_number.clone())
                            .push_bind(p.state.charity_number.clone())
                            .push_bind(source)
                            .push_bind(b.as_of)
                            .push_bind(b.import_id)
                            .push_bind(a.map(|a| a.line_1.clone()))
                            .push_bind(a.and_then(|a| a.line_2.clone()))
                            .push_bind(a.map(|a| a.town.clone()))
                            .push_bind(a.and_then(|a| a.county.clone()))
                            .push_bind(a.map(|a| a.postcode.clone()));
                    });
                    query.build().execute(&mut *tx).await?;
                }
                for p in b.providers.iter().filter(|p| !p.create) {
                    let a = p.state.address.as_ref();
                    sqlx::query(
                        "UPDATE organisations SET registered_since = $2, companies_house_number = $3, \
                         charity_number = $4, register_source = $5, register_as_of = $6, register_import_id = $7, \
                         updated_at = $8, address_line_1 = $9, address_line_2 = $10, town = $11, county = $12, \
                         postcode = $13 WHERE id = $1",
                    )
                    .bind(p.organisation_id)
                    .bind(p.state.registered_since)
                    .bind(&p.state.companies_house_number)
                    .bind(&p.state.charity_number)
                    .bind(source)
                    .bind(b.as_of)
                    .bind(b.import_id)
                    .bind(b.at)
                    .bind(a.map(|a| a.line_1.clone()))
                    .bind(a.and_then(|a| a.line_2.clone()))
                    .bind(a.map(|a| a.town.clone()))
                    .bind(a.and_then(|a| a.county.clone()))
                    .bind(a.map(|a| a.postcode.clone()))
                    .execute(&mut *tx)
                    .await?;
                }
                let new_locations: Vec<&$crate::register::LocationWrite> =
                    b.locations.iter().filter(|l| l.create).collect();
                for chunk in new_locations.chunks($crate::register::CHUNK / 2) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO locations (id, organisation_id, location_id, name, address_line_1, \
                         address_line_2, town, county, postcode, ods_code, care_home, beds, registered_since, \
                         service_types, user_bands, created_at, registered_at, register_source, register_as_of, \
                         register_import_id) ",
                    );
                    query.push_values(chunk, |mut row, l| {
                        let s = &l.state;
                        row.push_bind(l.id)
                            .push_bind(l.organisation_id)
                            .push_bind(l.location_id.clone())
                            .push_bind(s.name.clone())
                            .push_bind(s.address_line_1.clone())
                            .push_bind(s.address_line_2.clone())
                            .push_bind(s.town.clone())
                            .push_bind(s.county.clone())
                            .push_bind(s.postcode.clone())
                            .push_bind(s.ods_code.clone())
                            .push_bind(s.care_home)
                            .push_bind(s.beds.map(|b| b as i32))
                            .push_bind(s.registered_since)
                            .push_bind(joined(&s.service_types))
                            .push_bind(joined(s.user_bands.as_ref().unwrap_or(&Default::default())))
                            .push_bind(b.at)
                            .push_bind(b.at)
                            .push_bind(source)
                            .push_bind(b.as_of)
                            .push_bind(b.import_id);
                    });
                    query.build().execute(&mut *tx).await?;
                }
                for l in b.locations.iter().filter(|l| !l.create) {
                    let s = &l.state;
                    let mut query = sqlx::QueryBuilder::<Db>::new("UPDATE locations SET name = ");
                    query.push_bind(s.name.clone());
                    query.push(", address_line_1 = ").push_bind(s.address_line_1.clone());
                    query.push(", address_line_2 = ").push_bind(s.address_line_2.clone());
                    query.push(", town = ").push_bind(s.town.clone());
                    query.push(", county = ").push_bind(s.county.clone());
                    query.push(", postcode = ").push_bind(s.postcode.clone());
                    query.push(", ods_code = ").push_bind(s.ods_code.clone());
                    query.push(", care_home = ").push_bind(s.care_home);
                    query.push(", beds = ").push_bind(s.beds.map(|b| b as i32));
                    query.push(", registered_since = ").push_bind(s.registered_since);
                    query.push(", service_types = ").push_bind(joined(&s.service_types));
                    if let Some(bands) = &s.user_bands {
                        query.push(", user_bands = ").push_bind(joined(bands));
                    }
                    query.push(", register_source = ").push_bind(source);
                    query.push(", register_as_of = ").push_bind(b.as_of);
                    query.push(", register_import_id = ").push_bind(b.import_id);
                    query.push(" WHERE id = ").push_bind(l.id);
                    query.build().execute(&mut *tx).await?;
                    // Activities the register no longer lists go; those it still lists keep when and how they
                    // were registered (a decision's application among them).
                    let mut query = sqlx::QueryBuilder::<Db>::new("DELETE FROM location_activities WHERE location_id = ");
                    query.push_bind(l.id).push(" AND activity NOT IN (''");
                    for activity in &s.activities {
                        query.push(", ").push_bind(activity.clone());
                    }
                    query.push(")");
                    query.build().execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM published_managers WHERE location_id = $1")
                        .bind(l.id)
                        .execute(&mut *tx)
                        .await?;
                }
                let activities: Vec<(uuid::Uuid, &String)> =
                    b.locations.iter().flat_map(|l| l.state.activities.iter().map(move |a| (l.id, a))).collect();
                for chunk in activities.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO location_activities (location_id, activity, registered_at) ",
                    );
                    query.push_values(chunk, |mut row, (location, activity)| {
                        row.push_bind(*location).push_bind((*activity).clone()).push_bind(b.at);
                    });
                    query.push(" ON CONFLICT (location_id, activity) DO NOTHING");
                    query.build().execute(&mut *tx).await?;
                }
                let managers: Vec<(uuid::Uuid, &String)> =
                    b.locations.iter().filter_map(|l| l.state.manager_name.as_ref().map(|m| (l.id, m))).collect();
                for chunk in managers.chunks($crate::register::CHUNK) {
                    let mut query =
                        sqlx::QueryBuilder::<Db>::new("INSERT INTO published_managers (location_id, full_name, as_of) ");
                    query.push_values(chunk, |mut row, (location, name)| {
                        row.push_bind(*location).push_bind((*name).clone()).push_bind(b.as_of);
                    });
                    query.build().execute(&mut *tx).await?;
                }
                // Event numbers: an organisation created in this batch was inserted holding its count; any other
                // takes a block of numbers, which locks its row until commit (as the triggers do).
                let mut next_seq: std::collections::HashMap<uuid::Uuid, i64> = std::collections::HashMap::new();
                for p in &created {
                    next_seq.insert(p.organisation_id, 1);
                }
                let mut existing: Vec<(&uuid::Uuid, &i64)> =
                    events_of.iter().filter(|(org, _)| !next_seq.contains_key(org)).collect();
                existing.sort();
                for (org, count) in existing {
                    let (last,): (i64,) =
                        sqlx::query_as("UPDATE organisations SET event_seq = event_seq + $1 WHERE id = $2 RETURNING event_seq")
                            .bind(*count)
                            .bind(*org)
                            .fetch_one(&mut *tx)
                            .await?;
                    next_seq.insert(*org, last - count + 1);
                }
                let numbered: Vec<(i64, &$crate::register::RegisterEvent)> = b
                    .events
                    .iter()
                    .map(|e| {
                        let seq = next_seq.get_mut(&e.organisation_id).expect("every event's organisation is numbered");
                        *seq += 1;
                        (*seq - 1, e)
                    })
                    .collect();
                for chunk in numbered.chunks($crate::register::CHUNK / 2) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, \
                         status, location_id) ",
                    );
                    query.push_values(chunk, |mut row, (seq, e)| {
                        row.push_bind(e.organisation_id)
                            .push_bind(*seq)
                            .push_bind(uuid::Uuid::now_v7())
                            .push_bind(b.at)
                            .push_bind(e.object_type)
                            .push_bind(e.object_id)
                            .push_bind(e.action)
                            .push_bind("registered")
                            .push_bind(e.location_id);
                    });
                    query.build().execute(&mut *tx).await?;
                }
                for chunk in b.rows.chunks($crate::register::CHUNK) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO register_import_rows (import_id, row_number, outcome, provider_id, location_id, \
                         reason) ",
                    );
                    query.push_values(chunk, |mut row, r| {
                        row.push_bind(b.import_id)
                            .push_bind(r.row_number)
                            .push_bind(r.outcome.clone())
                            .push_bind(r.provider_id.clone())
                            .push_bind(r.location_id.clone())
                            .push_bind(r.reason.clone());
                    });
                    query.push(" ON CONFLICT DO NOTHING");
                    query.build().execute(&mut *tx).await?;
                }
                let c = &b.counts;
                sqlx::query(
                    "UPDATE register_imports SET rows_read = $2, providers_created = $3, providers_updated = $4, \
                     providers_unchanged = $5, locations_created = $6, locations_updated = $7, \
                     locations_unchanged = $8, rows_refused = $9, rows_in_conflict = $10, heartbeat_at = $11 \
                     WHERE id = $1",
                )
                .bind(b.import_id)
                .bind(c.rows_read)
                .bind(c.providers_created)
                .bind(c.providers_updated)
                .bind(c.providers_unchanged)
                .bind(c.locations_created)
                .bind(c.locations_updated)
                .bind(c.locations_unchanged)
                .bind(c.rows_refused)
                .bind(c.rows_in_conflict)
                .bind(b.at)
                .execute(&mut *tx)
                .await?;
                // Last, so the audit lock is held only for the append and the commit.
                Self::append_audit_in(&mut tx, &b.audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_register_import(
                &self,
                id: uuid::Uuid,
                at: time::OffsetDateTime,
                failure: Option<&str>,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE register_imports SET finished_at = $2, heartbeat_at = $2, failure = $3 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .bind(failure)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn register_import(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::register::RegisterImport>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM register_imports WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .decoded("register_imports")?)
            }

            async fn register_import_rows(
                &self,
                id: uuid::Uuid,
                outcome: &str,
                limit: i64,
            ) -> Result<Vec<$crate::register::ImportRow>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT row_number, outcome, provider_id, location_id, reason FROM register_import_rows \
                     WHERE import_id = $1 AND outcome = $2 ORDER BY row_number, reason LIMIT $3",
                )
                .bind(id)
                .bind(outcome.to_owned())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("register_import_rows")?)
            }

            async fn register_imports(
                &self,
                after_started: time::OffsetDateTime,
                after_id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<$crate::register::RegisterImport>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM register_imports WHERE (started_at, id) > ($1, $2) ORDER BY started_at, id LIMIT $3",
                )
                .bind(after_started)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .decoded("register_imports")?)
            }
        }
    };
}
pub(crate) use impl_register_queries;
