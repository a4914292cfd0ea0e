//! Running an import: the file is read on a blocking thread a batch at a time (at most two batches in
//! flight, so memory stays flat), each batch is compared with what is stored (`core::register`'s plan), and
//! its writes — records, events, audit entries, counts and reported rows — go in one transaction. A batch the
//! database refuses is retried a row at a time, so one bad row is reported and the rest still land.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use provider_api_core::audit::NewEntry;
use provider_api_core::clock::Clock;
use provider_api_core::register::{
    Catalogue, LocationRecord, Plan, ProviderRecord, ProviderState, Source, plan_location, plan_provider,
};
use provider_api_store::register::{
    ImportCounts, ImportRow, LocationWrite, ProviderWrite, RegisterBatch, RegisterEvent, RegisterImport,
};
use provider_api_store::{Store, StoreError};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::read::{self, Item, Kind};

/// Items per batch: one transaction each.
const BATCH: usize = 500;

/// What to import.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub as_of: Date,
    pub file_name: String,
    pub document_id: Option<Uuid>,
    pub sha256: Option<String>,
    pub dry_run: bool,
    /// The member of staff who started it (`None` for the command line).
    pub started_by: Option<Uuid>,
}

impl Request {
    pub fn source(&self) -> Source {
        match self.kind {
            Kind::Ndjson => Source::Syndication,
            Kind::Ods | Kind::Csv => Source::RegisterFile,
        }
    }
}

/// Records the import as started.
pub async fn start(store: &dyn Store, now: OffsetDateTime, request: &Request) -> Result<RegisterImport, StoreError> {
    let import = RegisterImport {
        id: Uuid::now_v7(),
        kind: request.kind.as_str().to_owned(),
        source: request.source(),
        as_of: request.as_of,
        document_id: request.document_id,
        file_name: request.file_name.clone(),
        sha256: request.sha256.clone(),
        dry_run: request.dry_run,
        started_by: request.started_by,
        started_at: now,
        heartbeat_at: now,
        finished_at: None,
        failure: None,
        counts: ImportCounts::default(),
    };
    store.create_register_import(&import).await?;
    Ok(import)
}

/// Imports the file at `path` into the started `import`, and records how it ended. `Err` says why it stopped
/// early (what was committed before stays: a second run is idempotent).
pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    import: &RegisterImport,
    kind: Kind,
    path: PathBuf,
) -> Result<(), String> {
    let outcome = run_batches(store.clone(), clock.clone(), import, kind, path).await;
    let failure = outcome.as_ref().err().map(String::as_str);
    store.finish_register_import(import.id, clock.now(), failure).await.map_err(|e| e.to_string())?;
    outcome
}

async fn run_batches(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    import: &RegisterImport,
    kind: Kind,
    path: PathBuf,
) -> Result<(), String> {
    let catalogue = catalogue(store.as_ref()).await.map_err(|e| e.to_string())?;
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<Item>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let outcome = read::read(&path, kind, &mut |item| {
            batch.push(item);
            if batch.len() < BATCH {
                return true;
            }
            batches.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_ok()
        });
        // What was read before a failure is imported too (and the failure reported).
        if !batch.is_empty() {
            let _ = batches.blocking_send(batch);
        }
        outcome
    });
    let mut importer = Importer {
        store,
        clock,
        import: import.clone(),
        catalogue,
        providers_seen: HashMap::new(),
        locations_seen: HashMap::new(),
        counts: ImportCounts::default(),
    };
    while let Some(items) = incoming.recv().await {
        if let Err(error) = importer.batch(items).await {
            // Dropping the receiver stops the reader at its next batch.
            drop(incoming);
            let _ = reader.await;
            return Err(format!("the database failed during the import: {error}"));
        }
    }
    match reader.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(panic) => Err(format!("the file reader failed: {panic}")),
    }
}

/// The reference data's names, to resolve the register's.
pub async fn catalogue(store: &dyn Store) -> Result<Catalogue, StoreError> {
    let activities = store.regulated_activities().await?;
    let service_types = store.service_types().await?;
    let bands = store.service_user_bands().await?;
    Ok(Catalogue::new(
        activities.iter().map(|a| (a.code.as_str(), a.name.as_str())),
        service_types.iter().map(|t| (t.code.as_str(), t.name.as_str())),
        bands.iter().map(|b| (b.code.as_str(), b.name.as_str())),
    ))
}

/// A provider this import has already dealt with.
struct SeenProvider {
    organisation_id: Uuid,
    row: usize,
    state: ProviderState,
}

struct Importer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    import: RegisterImport,
    catalogue: Catalogue,
    /// The one thing kept per record across batches: which providers and locations this file has named (and
    /// where first), so a second mention is compared with the first, never written twice.
    providers_seen: HashMap<String, SeenProvider>,
    locations_seen: HashMap<String, usize>,
    /// What has been committed.
    counts: ImportCounts,
}

/// The writes one item makes, and what it adds to the counts.
#[derive(Default, Clone)]
struct RowWrites {
    row: usize,
    /// The provider and location the row is about, for a refusal if it cannot be written.
    provider_id: Option<String>,
    location_id: Option<String>,
    /// A provider this row is the first to name: forgotten again if the row cannot be written, so a later
    /// row of the provider creates it rather than pointing at an organisation that never was.
    first_of_provider: Option<String>,
    providers: Vec<ProviderWrite>,
    locations: Vec<LocationWrite>,
    events: Vec<RegisterEvent>,
    audit: Vec<NewEntry>,
    rows: Vec<ImportRow>,
    delta: ImportCounts,
}

impl RowWrites {
    fn refuse(&mut self, row: usize, provider_id: Option<&str>, location_id: Option<&str>, reason: String) {
        self.report(row, "refused", provider_id, location_id, reason);
        self.delta.rows_refused += 1;
    }

    fn conflict(&mut self, row: usize, provider_id: Option<&str>, location_id: Option<&str>, reason: String) {
        self.report(row, "conflict", provider_id, location_id, reason);
        self.delta.rows_in_conflict += 1;
    }

    fn report(
        &mut self,
        row: usize,
        outcome: &str,
        provider_id: Option<&str>,
        location_id: Option<&str>,
        reason: String,
    ) {
        self.rows.push(ImportRow {
            row_number: row as i64,
            outcome: outcome.to_owned(),
            provider_id: provider_id.map(str::to_owned),
            location_id: location_id.map(str::to_owned),
            reason,
        });
    }

    fn absorb(&mut self, other: RowWrites) {
        self.providers.extend(other.providers);
        self.locations.extend(other.locations);
        self.events.extend(other.events);
        self.audit.extend(other.audit);
        self.rows.extend(other.rows);
        add(&mut self.delta, &other.delta);
    }
}

fn add(total: &mut ImportCounts, delta: &ImportCounts) {
    total.rows_read += delta.rows_read;
    total.providers_created += delta.providers_created;
    total.providers_updated += delta.providers_updated;
    total.providers_unchanged += delta.providers_unchanged;
    total.locations_created += delta.locations_created;
    total.locations_updated += delta.locations_updated;
    total.locations_unchanged += delta.locations_unchanged;
    total.rows_refused += delta.rows_refused;
    total.rows_in_conflict += delta.rows_in_conflict;
}

impl Importer {
    async fn batch(&mut self, items: Vec<Item>) -> Result<(), StoreError> {
        let (providers, locations) = self.stored(&items).await?;
        let now = self.clock.now();
        let mut planned = Vec::with_capacity(items.len());
        for item in &items {
            planned.push(self.plan(item, &providers, &locations, now));
        }
        let mut all = RowWrites::default();
        let rows: Vec<RowWrites> = planned;
        // Kept aside in case the batch must be retried a row at a time.
        let retry = rows.clone();
        for row in rows {
            all.absorb(row);
        }
        let mut counts = self.counts;
        add(&mut counts, &all.delta);
        match self.store.apply_register_batch(&self.batch_of(all, counts, now)).await {
            Ok(()) => {
                self.counts = counts;
                Ok(())
            }
            Err(error @ StoreError::Unavailable(_)) => Err(error),
            Err(error) => {
                tracing::warn!(%error, "a batch of the register import was refused; retrying it a row at a time");
                for row in retry {
                    let mut counts = self.counts;
                    add(&mut counts, &row.delta);
                    let written = self.store.apply_register_batch(&self.batch_of(row.clone(), counts, now)).await;
                    match written {
                        Ok(()) => self.counts = counts,
                        Err(error @ StoreError::Unavailable(_)) => return Err(error),
                        Err(error) => {
                            let mut refused = RowWrites::default();
                            refused.delta.rows_read = row.delta.rows_read;
                            refused.refuse(
                                row.row,
                                row.provider_id.as_deref(),
                                row.location_id.as_deref(),
                                format!("the row could not be written: {error}"),
                            );
                            if let Some(provider) = &row.first_of_provider {
                                self.providers_seen.remove(provider);
                            }
                            if let Some(location) = &row.location_id {
                                self.locations_seen.remove(location);
                            }
                            let mut counts = self.counts;
                            add(&mut counts, &refused.delta);
                            self.store.apply_register_batch(&self.batch_of(refused, counts, now)).await?;
                            self.counts = counts;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn batch_of(&self, writes: RowWrites, counts: ImportCounts, at: OffsetDateTime) -> RegisterBatch {
        let dry = self.import.dry_run;
        RegisterBatch {
            import_id: self.import.id,
            source: self.import.source,
            as_of: self.import.as_of,
            at,
            providers: if dry { Vec::new() } else { writes.providers },
            locations: if dry { Vec::new() } else { writes.locations },
            events: if dry { Vec::new() } else { writes.events },
            audit: if dry { Vec::new() } else { writes.audit },
            counts,
            rows: writes.rows,
        }
    }

    /// What is stored of the providers and locations the batch names (those this import has not already
    /// dealt with).
    async fn stored(
        &self,
        items: &[Item],
    ) -> Result<
        (
            HashMap<String, provider_api_core::register::StoredProvider>,
            HashMap<String, provider_api_core::register::StoredLocation>,
        ),
        StoreError,
    > {
        let mut provider_ids = Vec::new();
        let mut location_ids = Vec::new();
        for item in items {
            let (provider, location) = match item {
                Item::Row(r) => (Some(r.provider.provider_id.as_str()), Some(r.location.location_id.as_str())),
                Item::Provider { record, .. } => (Some(record.provider_id.as_str()), None),
                Item::Location { record, .. } => (Some(record.provider_id.as_str()), Some(record.location_id.as_str())),
                Item::Deregistered { provider_id, location_id, .. } => {
                    (Some(provider_id.as_str()), location_id.as_deref())
                }
                Item::Refused(_) => (None, None),
            };
            provider_ids.extend(provider.filter(|p| !self.providers_seen.contains_key(*p)).map(str::to_owned));
            location_ids.extend(location.map(str::to_owned));
        }
        provider_ids.sort();
        provider_ids.dedup();
        location_ids.sort();
        location_ids.dedup();
        let (providers, locations) = self.store.register_records(&provider_ids, &location_ids).await?;
        Ok((
            providers.into_iter().map(|p| (p.provider_id.clone(), p)).collect(),
            locations.into_iter().map(|l| (l.location_id.clone(), l)).collect(),
        ))
    }

    fn plan(
        &mut self,
        item: &Item,
        providers: &HashMap<String, provider_api_core::register::StoredProvider>,
        locations: &HashMap<String, provider_api_core::register::StoredLocation>,
        now: OffsetDateTime,
    ) -> RowWrites {
        let mut w = RowWrites { row: item.row(), ..RowWrites::default() };
        w.delta.rows_read = 1;
        match item {
            Item::Refused(r) => w.refuse(r.row, None, r.location_id.as_deref(), r.reason.clone()),
            Item::Row(r) => {
                if let Some(organisation) = self.provider(&mut w, r.row, &r.provider, providers, now) {
                    self.location(&mut w, r.row, organisation, &r.location, locations, now);
                }
            }
            Item::Provider { row, record } => {
                self.provider(&mut w, *row, record, providers, now);
            }
            Item::Location { row, record } => {
                let provider_id = record.provider_id.as_str();
                let organisation = self
                    .providers_seen
                    .get(provider_id)
                    .map(|p| p.organisation_id)
                    .or_else(|| providers.get(provider_id).map(|p| p.organisation_id));
                match organisation {
                    Some(organisation) => self.location(&mut w, *row, organisation, record, locations, now),
                    None => w.refuse(
                        *row,
                        Some(provider_id),
                        Some(record.location_id.as_str()),
                        format!(
                            "provider {provider_id} is not known here: its provider record must come before its \
                             locations"
                        ),
                    ),
                }
            }
            Item::Deregistered { row, location_id, provider_id, on } => {
                let on = on.map_or_else(|| "an unstated date".to_owned(), |d| d.to_string());
                let active_here = match location_id {
                    Some(id) => locations.get(id).is_some_and(|l| l.deregistered_at.is_none()),
                    None => providers.contains_key(provider_id),
                };
                if active_here {
                    w.conflict(
                        *row,
                        Some(provider_id),
                        location_id.as_deref(),
                        format!(
                            "the register records it deregistered on {on}; it is registered here, and deregistration \
                             is a decision staff make here, never an import"
                        ),
                    );
                }
            }
        }
        w
    }

    /// Deals with a provider's record; the organisation it is (or will be), unless it could not be dealt with.
    fn provider(
        &mut self,
        w: &mut RowWrites,
        row: usize,
        record: &ProviderRecord,
        providers: &HashMap<String, provider_api_core::register::StoredProvider>,
        now: OffsetDateTime,
    ) -> Option<Uuid> {
        let provider_id = record.provider_id.as_str();
        w.provider_id.get_or_insert_with(|| provider_id.to_owned());
        let wanted = ProviderState::from(record);
        if let Some(seen) = self.providers_seen.get(provider_id) {
            if seen.state != wanted {
                w.conflict(
                    row,
                    Some(provider_id),
                    None,
                    format!(
                        "provider {provider_id}'s details here ({}) differ from row {}; the first is kept",
                        seen.state.changes(&wanted).join(", "),
                        seen.row
                    ),
                );
            }
            return Some(seen.organisation_id);
        }
        let stored = providers.get(provider_id);
        let organisation_id = stored.map_or_else(Uuid::new_v4, |p| p.organisation_id);
        match plan_provider(stored, &wanted, self.import.as_of) {
            Plan::Create => {
                w.providers.push(ProviderWrite {
                    organisation_id,
                    provider_id: provider_id.to_owned(),
                    name: record.name.clone(),
                    state: wanted.clone(),
                    create: true,
                });
                self.record(w, now, organisation_id, None, "created", row, provider_id, &["all"]);
                w.delta.providers_created += 1;
            }
            Plan::Update(fields) => {
                w.providers.push(ProviderWrite {
                    organisation_id,
                    provider_id: provider_id.to_owned(),
                    name: record.name.clone(),
                    state: wanted.clone(),
                    create: false,
                });
                self.record(w, now, organisation_id, None, "updated", row, provider_id, &fields);
                w.delta.providers_updated += 1;
            }
            Plan::Unchanged => w.delta.providers_unchanged += 1,
            Plan::Conflict(reason) => w.conflict(row, Some(provider_id), None, reason),
        }
        w.first_of_provider = Some(provider_id.to_owned());
        self.providers_seen.insert(provider_id.to_owned(), SeenProvider { organisation_id, row, state: wanted });
        Some(organisation_id)
    }

    fn location(
        &mut self,
        w: &mut RowWrites,
        row: usize,
        organisation_id: Uuid,
        record: &LocationRecord,
        locations: &HashMap<String, provider_api_core::register::StoredLocation>,
        now: OffsetDateTime,
    ) {
        let location_id = record.location_id.as_str();
        let provider_id = Some(record.provider_id.as_str());
        w.provider_id = Some(record.provider_id.as_str().to_owned());
        w.location_id = Some(location_id.to_owned());
        if let Some(first) = self.locations_seen.get(location_id) {
            w.refuse(
                row,
                provider_id,
                Some(location_id),
                format!("location {location_id} is already in this file, at row {first}"),
            );
            return;
        }
        self.locations_seen.insert(location_id.to_owned(), row);
        let wanted = match self.catalogue.resolve(record) {
            Ok(wanted) => wanted,
            Err(reason) => return w.refuse(row, provider_id, Some(location_id), reason),
        };
        let stored = locations.get(location_id);
        let id = stored.map_or_else(Uuid::new_v4, |l| l.id);
        match plan_location(stored, organisation_id, &record.provider_id, &wanted, self.import.as_of) {
            Plan::Create => {
                w.locations.push(LocationWrite {
                    id,
                    organisation_id,
                    location_id: location_id.to_owned(),
                    state: wanted,
                    create: true,
                });
                self.record(w, now, organisation_id, Some(id), "created", row, location_id, &["all"]);
                w.delta.locations_created += 1;
            }
            Plan::Update(fields) => {
                w.locations.push(LocationWrite {
                    id,
                    organisation_id,
                    location_id: location_id.to_owned(),
                    state: wanted,
                    create: false,
                });
                self.record(w, now, organisation_id, Some(id), "updated", row, location_id, &fields);
                w.delta.locations_updated += 1;
            }
            Plan::Unchanged => w.delta.locations_unchanged += 1,
            Plan::Conflict(reason) => w.conflict(row, provider_id, Some(location_id), reason),
        }
    }

    /// The event-feed entry and the audit entry for a created or updated record.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        w: &mut RowWrites,
        now: OffsetDateTime,
        organisation_id: Uuid,
        location: Option<Uuid>,
        what: &str,
        row: usize,
        register_id: &str,
        fields: &[&str],
    ) {
        let (object_type, object_id, object) = match location {
            Some(id) => ("location", id, format!("/v1/organisations/{organisation_id}/locations/{id}")),
            None => ("organisation", organisation_id, format!("/v1/organisations/{organisation_id}")),
        };
        w.events.push(RegisterEvent {
            organisation_id,
            object_type,
            object_id,
            action: if what == "created" { "register_created" } else { "register_updated" },
            location_id: location,
        });
        w.audit.push(NewEntry {
            actor_user: self.import.started_by,
            organisation_id: Some(organisation_id),
            detail: Some(
                serde_json::json!({
                    "import_id": self.import.id,
                    "row": row,
                    "register_id": register_id,
                    "fields": fields,
                    "source": self.import.source.as_str(),
                    "as_of": self.import.as_of.to_string(),
                })
                .to_string(),
            ),
            ..NewEntry::at(now, &format!("register_import.{what}_{object_type}"), "IMPORT", &object)
        });
    }
}
