//! Registration applications, registered details and the organisation event feed, written once for both
//! engines (as `shared.rs`).
//!
//! A decision and the changes it makes to the registered details are one transaction, as are a change, its
//! history entries and the stored response of the idempotent request that made it. The event feed is
//! written by triggers on the history tables (see the migration), so no code path can forget it.

use async_trait::async_trait;
use provider_api_core::registrations::model::{Application, Event, Filter, SectionRow};
use provider_api_core::registrations::registered::{Changes, RegisteredDetails};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::idempotency::Completion;

/// The `constraint` of the conflict a decision meets when what it changes has changed since (a location
/// already removed, a condition already lifted): the decision is not written.
pub const DETAILS_CHANGED: &str = "registered_details_changed";

/// What became of a section edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionWrite {
    Written,
    /// The section's version was not the one expected.
    Stale,
    /// The application is no longer editable (it was sent meanwhile).
    Frozen,
}

/// An entry of the organisation's event feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganisationEvent {
    pub seq: i64,
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub object_type: provider_api_core::events::ObjectType,
    pub object_id: Uuid,
    pub action: String,
    pub status: String,
    pub location_id: Option<Uuid>,
    /// On a submission's event: the reference its receipt quotes.
    pub reference: Option<String>,
}

/// Which events a reader may see.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub notifications: bool,
    /// Documents' scan results.
    pub documents: bool,
    /// `None`: notifications and documents at every location (and those of none); otherwise only those at
    /// these locations.
    pub locations: Option<Vec<Uuid>>,
    pub applications: bool,
}

#[async_trait]
pub trait RegistrationStore: Send + Sync {
    async fn insert_application(
        &self,
        application: &Application,
        sections: &[SectionRow],
        events: &[Event],
        done: Option<&Completion>,
    ) -> Result<(), StoreError>;
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError>;
    async fn application_sections(&self, id: Uuid) -> Result<Vec<SectionRow>, StoreError>;
    /// Writes a section (whose `version` is the new one) if its stored version is `expected_version` and the
    /// application is still editable, moving the application's version on and recording its last editor.
    async fn update_section(
        &self,
        section: &SectionRow,
        expected_version: i64,
        event: &Event,
    ) -> Result<SectionWrite, StoreError>;
    /// Writes every mutable column of `application` (whose `version` is the new one) if the stored version is
    /// `expected_version`, with its history entries, stored response and changes to the registered details,
    /// in one transaction; `false` (and nothing written) when someone else changed it first.
    async fn update_application(
        &self,
        application: &Application,
        expected_version: i64,
        events: &[Event],
        done: Option<&Completion>,
        changes: Option<&Changes>,
    ) -> Result<bool, StoreError>;
    async fn append_application_event(&self, event: &Event) -> Result<(), StoreError>;
    async fn application_events(&self, application_id: Uuid) -> Result<Vec<Event>, StoreError>;
    /// Up to `limit` applications matching `filter` created after `(created_at, id)`, in that order.
    async fn applications(
        &self,
        filter: &Filter,
        after_created: OffsetDateTime,
        after_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Application>, StoreError>;
    async fn registered_details(&self, organisation_id: Uuid) -> Result<RegisteredDetails, StoreError>;
    /// Records registered details that did not come from an application here (a provider registered before
    /// this service, whose register entry is brought across), in one transaction.
    async fn record_registration(
        &self,
        organisation_id: Uuid,
        changes: &Changes,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The organisation's registered locations, each with its registered activities (empty when none), in one
    /// read: what notifications are checked against.
    async fn registered_activities(&self, organisation_id: Uuid) -> Result<Vec<(Uuid, Vec<String>)>, StoreError>;
    /// Up to `limit` of the organisation's events numbered above `after`, in order.
    async fn organisation_events(
        &self,
        organisation_id: Uuid,
        after: i64,
        filter: &EventFilter,
        limit: i64,
    ) -> Result<Vec<OrganisationEvent>, StoreError>;
}

macro_rules! impl_registration_queries {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::registrations::RegistrationStore for $store {
            async fn insert_application(
                &self,
                a: &provider_api_core::registrations::model::Application,
                sections: &[provider_api_core::registrations::model::SectionRow],
                events: &[provider_api_core::registrations::model::Event],
                done: Option<&$crate::idempotency::Completion>,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO registration_applications (id, organisation_id, kind, status, version, \
                     created_by_user, created_by_client, edited_by_user, edited_by_client, created_at, updated_at, \
                     reference, submitted_at, submitted_by_user, submitted_by_client, content_sha256, receipt, \
                     accepted_at, inspector_id, decided_at, workflow) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                )
                .bind(a.id)
                .bind(a.organisation_id)
                .bind(&a.kind)
                .bind(&a.status)
                .bind(a.version)
                .bind(a.created_by_user)
                .bind(a.created_by_client)
                .bind(a.edited_by_user)
                .bind(a.edited_by_client)
                .bind(a.created_at)
                .bind(a.updated_at)
                .bind(&a.reference)
                .bind(a.submitted_at)
                .bind(a.submitted_by_user)
                .bind(a.submitted_by_client)
                .bind(&a.content_sha256)
                .bind(&a.receipt)
                .bind(a.accepted_at)
                .bind(a.inspector_id)
                .bind(a.decided_at)
                .bind(&a.workflow)
                .execute(&mut *tx)
                .await?;
                if !sections.is_empty() {
                    let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                        "INSERT INTO registration_application_sections (application_id, name, content, version, \
                         edited_by_user, edited_by_client, updated_at) ",
                    );
                    query.push_values(sections, |mut row, s| {
                        row.push_bind(s.application_id)
                            .push_bind(s.name.clone())
                            .push_bind(s.content.clone())
                            .push_bind(s.version)
                            .push_bind(s.edited_by_user)
                            .push_bind(s.edited_by_client)
                            .push_bind(s.updated_at);
                    });
                    query.build().execute(&mut *tx).await?;
                }
                insert_application_events(&mut *tx, events).await?;
                if let Some(done) = done {
                    complete(&mut *tx, done).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn application(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<provider_api_core::registrations::model::Application>, $crate::StoreError> {
                Ok(sqlx::query("SELECT * FROM registration_applications WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?.decoded("registration_applications")?)
            }

            async fn application_sections(
                &self,
                id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::registrations::model::SectionRow>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM registration_application_sections WHERE application_id = $1 ORDER BY name",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?.decoded("registration_application_sections")?)
            }

            async fn update_section(
                &self,
                s: &provider_api_core::registrations::model::SectionRow,
                expected_version: i64,
                event: &provider_api_core::registrations::model::Event,
            ) -> Result<$crate::registrations::SectionWrite, $crate::StoreError> {
                use $crate::registrations::SectionWrite;
                let mut tx = self.pool.begin().await?;
                // The application first: it is the row a submission changes, so an edit racing a submission
                // (or an approval) either lands before it (and moves the version the submission's If-Match
                // names) or sees it. The edit clears any approval: it was of the version the edit moves on from.
                let editable = sqlx::query(
                    "UPDATE registration_applications SET version = version + 1, edited_by_user = $1, \
                     edited_by_client = $2, updated_at = $3, approved_by_user = NULL, approved_version = NULL, \
                     approved_at = NULL WHERE id = $4 AND status IN ('draft', 'returned')",
                )
                .bind(s.edited_by_user)
                .bind(s.edited_by_client)
                .bind(s.updated_at)
                .bind(s.application_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if editable == 0 {
                    return Ok(SectionWrite::Frozen);
                }
                let written = sqlx::query(
                    "UPDATE registration_application_sections SET content = $1, version = $2, edited_by_user = $3, \
                     edited_by_client = $4, updated_at = $5 WHERE application_id = $6 AND name = $7 AND version = $8",
                )
                .bind(&s.content)
                .bind(s.version)
                .bind(s.edited_by_user)
                .bind(s.edited_by_client)
                .bind(s.updated_at)
                .bind(s.application_id)
                .bind(&s.name)
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if written == 0 {
                    return Ok(SectionWrite::Stale);
                }
                insert_application_events(&mut *tx, std::slice::from_ref(event)).await?;
                tx.commit().await?;
                Ok(SectionWrite::Written)
            }

            async fn update_application(
                &self,
                a: &provider_api_core::registrations::model::Application,
                expected_version: i64,
                events: &[provider_api_core::registrations::model::Event],
                done: Option<&$crate::idempotency::Completion>,
                changes: Option<&provider_api_core::registrations::registered::Changes>,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let updated = sqlx::query(
                    "UPDATE registration_applications SET status = $1, version = $2, edited_by_user = $3, \
                     edited_by_client = $4, updated_at = $5, reference = $6, submitted_at = $7, \
                     submitted_by_user = $8, submitted_by_client = $9, content_sha256 = $10, receipt = $11, \
                     accepted_at = $12, inspector_id = $13, decided_at = $14, workflow = $15, \
                     approved_by_user = $18, approved_version = $19, approved_at = $20 \
                     WHERE id = $16 AND version = $17",
                )
                .bind(&a.status)
                .bind(a.version)
                .bind(a.edited_by_user)
                .bind(a.edited_by_client)
                .bind(a.updated_at)
                .bind(&a.reference)
                .bind(a.submitted_at)
                .bind(a.submitted_by_user)
                .bind(a.submitted_by_client)
                .bind(&a.content_sha256)
                .bind(&a.receipt)
                .bind(a.accepted_at)
                .bind(a.inspector_id)
                .bind(a.decided_at)
                .bind(&a.workflow)
                .bind(a.id)
                .bind(expected_version)
                .bind(a.approved_by_user)
                .bind(a.approved_version)
                .bind(a.approved_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Ok(false);
                }
                if let Some(changes) = changes {
                    apply_changes(&mut tx, a.organisation_id, Some(a.id), a.updated_at, changes).await?;
                }
                insert_application_events(&mut *tx, events).await?;
                if let Some(done) = done {
                    complete(&mut *tx, done).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn append_application_event(
                &self,
                event: &provider_api_core::registrations::model::Event,
            ) -> Result<(), $crate::StoreError> {
                insert_application_events(&self.pool, std::slice::from_ref(event)).await
            }

            async fn application_events(
                &self,
                application_id: uuid::Uuid,
            ) -> Result<Vec<provider_api_core::registrations::model::Event>, $crate::StoreError> {
                Ok(sqlx::query(
                    "SELECT * FROM registration_application_events WHERE application_id = $1 ORDER BY id",
                )
                .bind(application_id)
                .fetch_all(&self.pool)
                .await?.decoded("registration_application_events")?)
            }

            async fn applications(
                &self,
                filter: &provider_api_core::registrations::model::Filter,
                after_created: time::OffsetDateTime,
                after_id: uuid::Uuid,
                limit: i64,
            ) -> Result<Vec<provider_api_core::registrations::model::Application>, $crate::StoreError> {
                let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                    "SELECT * FROM registration_applications WHERE (created_at, id) > (",
                );
                query.push_bind(after_created).push(", ").push_bind(after_id).push(")");
                if let Some(organisation_id) = filter.organisation_id {
                    query.push(" AND organisation_id = ").push_bind(organisation_id);
                }
                if !filter.statuses.is_empty() {
                    query.push(" AND status IN (");
                    let mut list = query.separated(", ");
                    for status in &filter.statuses {
                        list.push_bind(status.as_str());
                    }
                    query.push(")");
                }
                if let Some(kind) = &filter.kind {
                    query.push(" AND kind = ").push_bind(kind.clone());
                }
                if let Some(inspector) = filter.inspector_id {
                    query.push(" AND inspector_id = ").push_bind(inspector);
                }
                if let Some(at) = filter.submitted_before {
                    query.push(" AND submitted_at < ").push_bind(at);
                }
                if let Some(at) = filter.accepted_before {
                    query.push(" AND accepted_at < ").push_bind(at);
                }
                query.push(" ORDER BY created_at, id LIMIT ").push_bind(limit);
                Ok(query.build().fetch_all(&self.pool).await?.decoded("registration_applications")?)
            }

            async fn registered_details(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<provider_api_core::registrations::registered::RegisteredDetails, $crate::StoreError> {
                use provider_api_core::registrations::registered::*;
                let provider_id: Option<(Option<String>,)> =
                    sqlx::query("SELECT provider_id FROM organisations WHERE id = $1")
                        .bind(organisation_id)
                        .fetch_optional(&self.pool)
                        .await?.decoded("organisations")?;
                type LocationRow = (
                    uuid::Uuid,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    Option<time::OffsetDateTime>,
                    Option<String>,
                    Option<time::Date>,
                );
                let rows: Vec<LocationRow> = sqlx::query(
                    "SELECT l.id, l.location_id, l.name, m.full_name, m.email, m.registered_at, p.full_name, p.as_of \
                     FROM locations l LEFT JOIN registered_managers m ON m.location_id = l.id \
                     LEFT JOIN published_managers p ON p.location_id = l.id \
                     WHERE l.organisation_id = $1 AND l.registered_at IS NOT NULL AND l.deregistered_at IS NULL \
                     ORDER BY l.created_at, l.id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("locations")?;
                let activities: Vec<(uuid::Uuid, String)> = sqlx::query(
                    "SELECT a.location_id, a.activity FROM location_activities a \
                     JOIN locations l ON l.id = a.location_id WHERE l.organisation_id = $1 ORDER BY a.activity",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("location_activities")?;
                let locations = rows
                    .into_iter()
                    .map(|(id, location_id, name, full_name, email, registered_at, published, as_of)| RegisteredLocation {
                        id,
                        location_id,
                        name,
                        activities: activities.iter().filter(|(l, _)| *l == id).map(|(_, a)| a.clone()).collect(),
                        manager: match (full_name, email, registered_at) {
                            (Some(full_name), Some(email), Some(registered_at)) => {
                                Some(RegisteredManager { full_name, email, registered_at })
                            }
                            _ => None,
                        },
                        published_manager: published.zip(as_of).map(|(full_name, as_of)| PublishedManager {
                            full_name,
                            verified: false,
                            as_of,
                        }),
                    })
                    .collect();
                let conditions = sqlx::query(
                    "SELECT id, location_id, wording, imposed_at FROM registration_conditions \
                     WHERE organisation_id = $1 AND removed_at IS NULL AND (location_id IS NULL OR location_id IN \
                     (SELECT id FROM locations WHERE deregistered_at IS NULL)) ORDER BY imposed_at, id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("registration_conditions")?;
                let partners = sqlx::query(
                    "SELECT id, full_name, email, registered_at FROM registered_partners \
                     WHERE organisation_id = $1 AND removed_at IS NULL ORDER BY registered_at, id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("registered_partners")?;
                Ok(RegisteredDetails {
                    provider_id: provider_id.and_then(|(p,)| p),
                    locations,
                    conditions,
                    partners,
                })
            }

            async fn record_registration(
                &self,
                organisation_id: uuid::Uuid,
                changes: &provider_api_core::registrations::registered::Changes,
                at: time::OffsetDateTime,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                apply_changes(&mut tx, organisation_id, None, at, changes).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn registered_activities(
                &self,
                organisation_id: uuid::Uuid,
            ) -> Result<Vec<(uuid::Uuid, Vec<String>)>, $crate::StoreError> {
                let rows: Vec<(uuid::Uuid, Option<String>)> = sqlx::query(
                    "SELECT l.id, a.activity FROM locations l LEFT JOIN location_activities a ON a.location_id = l.id \
                     WHERE l.organisation_id = $1 AND l.registered_at IS NOT NULL AND l.deregistered_at IS NULL \
                     ORDER BY l.id",
                )
                .bind(organisation_id)
                .fetch_all(&self.pool)
                .await?.decoded("locations")?;
                let mut locations: Vec<(uuid::Uuid, Vec<String>)> = Vec::new();
                for (location, activity) in rows {
                    if locations.last().is_none_or(|(l, _)| *l != location) {
                        locations.push((location, Vec::new()));
                    }
                    let entry = locations.last_mut().expect("pushed above");
                    entry.1.extend(activity);
                }
                Ok(locations)
            }

            async fn organisation_events(
                &self,
                organisation_id: uuid::Uuid,
                after: i64,
                filter: &$crate::registrations::EventFilter,
                limit: i64,
            ) -> Result<Vec<$crate::registrations::OrganisationEvent>, $crate::StoreError> {
                let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                    "SELECT seq, id, at, object_type, object_id, action, status, location_id, reference \
                     FROM organisation_events WHERE organisation_id = ",
                );
                query.push_bind(organisation_id).push(" AND seq > ").push_bind(after).push(" AND (1 = 0");
                for (shown, object_type) in [(filter.notifications, "notification"), (filter.documents, "document")] {
                    if !shown {
                        continue;
                    }
                    query.push(" OR (object_type = ").push_bind(object_type);
                    if let Some(locations) = &filter.locations {
                        query.push(" AND location_id IN (");
                        let mut list = query.separated(", ");
                        list.push_bind(uuid::Uuid::nil());
                        for location in locations {
                            list.push_bind(*location);
                        }
                        query.push(")");
                    }
                    query.push(")");
                }
                if filter.applications {
                    query.push(" OR object_type = 'registration_application'");
                }
                // The register's changes to the organisation's record are everyone's to see; a location's, those
                // who may see the location.
                query.push(" OR object_type = 'organisation' OR (object_type = 'location'");
                if let Some(locations) = &filter.locations {
                    query.push(" AND location_id IN (");
                    let mut list = query.separated(", ");
                    list.push_bind(uuid::Uuid::nil());
                    for location in locations {
                        list.push_bind(*location);
                    }
                    query.push(")");
                }
                query.push(")");
                query.push(") ORDER BY seq LIMIT ").push_bind(limit);
                Ok(query.build().fetch_all(&self.pool).await?.decoded("organisation_events")?)
            }
        }

        /// Writes what a decision changes in the registered details.
        async fn apply_changes(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::Dialect>::Database>,
            organisation_id: uuid::Uuid,
            application_id: Option<uuid::Uuid>,
            now: time::OffsetDateTime,
            c: &provider_api_core::registrations::registered::Changes,
        ) -> Result<(), $crate::StoreError> {
            // Each change must find what it changes as the application saw it; otherwise the whole decision
            // is refused (and rolled back with the transaction).
            let changed = || $crate::StoreError::Conflict {
                constraint: $crate::registrations::DETAILS_CHANGED.to_owned(),
            };
            let exactly_one = |rows: u64| if rows == 1 { Ok(()) } else { Err(changed()) };
            if let Some(provider_id) = &c.provider_id {
                sqlx::query("UPDATE organisations SET provider_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(provider_id)
                    .bind(now)
                    .bind(organisation_id)
                    .execute(&mut **tx)
                    .await?;
            }
            for l in &c.new_locations {
                sqlx::query(
                    "INSERT INTO locations (id, organisation_id, location_id, name, address_line_1, address_line_2, \
                     town, postcode, created_at, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                )
                .bind(l.id)
                .bind(organisation_id)
                .bind(&l.location_id)
                .bind(&l.name)
                .bind(&l.line_1)
                .bind(&l.line_2)
                .bind(&l.town)
                .bind(&l.postcode)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            for (id, location_id) in &c.register_locations {
                sqlx::query(
                    "UPDATE locations SET location_id = $1, registered_at = $2 WHERE id = $3 AND organisation_id = $4",
                )
                .bind(location_id)
                .bind(now)
                .bind(id)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?;
            }
            let deregister: Vec<uuid::Uuid> = if c.cancel_all {
                sqlx::query(
                    "SELECT id FROM locations WHERE organisation_id = $1 AND registered_at IS NOT NULL \
                     AND deregistered_at IS NULL",
                )
                .bind(organisation_id)
                .fetch_all(&mut **tx)
                .await?.decoded::<(uuid::Uuid,)>("locations")?
                .into_iter()
                .map(|(id,)| id)
                .collect()
            } else {
                c.deregister_locations.clone()
            };
            for id in &deregister {
                let rows = sqlx::query(
                    "UPDATE locations SET deregistered_at = $1 WHERE id = $2 AND organisation_id = $3 \
                     AND registered_at IS NOT NULL AND deregistered_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                exactly_one(rows)?;
                sqlx::query("DELETE FROM location_activities WHERE location_id = $1").bind(id).execute(&mut **tx).await?;
                sqlx::query("DELETE FROM registered_managers WHERE location_id = $1").bind(id).execute(&mut **tx).await?;
            }
            let mut touched: Vec<uuid::Uuid> = c.add_activities.iter().map(|(l, _)| *l).collect();
            touched.extend(c.managers.iter().map(|(l, _)| *l));
            touched.sort();
            touched.dedup();
            for location in &touched {
                let active: Option<(uuid::Uuid,)> = sqlx::query(
                    "SELECT id FROM locations WHERE id = $1 AND organisation_id = $2 AND registered_at IS NOT NULL \
                     AND deregistered_at IS NULL",
                )
                .bind(location)
                .bind(organisation_id)
                .fetch_optional(&mut **tx)
                .await?.decoded("locations")?;
                active.ok_or_else(changed)?;
            }
            for (location, activity) in &c.add_activities {
                sqlx::query(
                    "INSERT INTO location_activities (location_id, activity, registered_at, application_id) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (location_id, activity) DO NOTHING",
                )
                .bind(location)
                .bind(activity)
                .bind(now)
                .bind(application_id)
                .execute(&mut **tx)
                .await?;
            }
            for (location, activity) in &c.remove_activities {
                let rows = sqlx::query("DELETE FROM location_activities WHERE location_id = $1 AND activity = $2")
                    .bind(location)
                    .bind(activity)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                exactly_one(rows)?;
            }
            for (location, manager) in &c.managers {
                sqlx::query("DELETE FROM registered_managers WHERE location_id = $1")
                    .bind(location)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO registered_managers (location_id, full_name, email, registered_at, application_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(location)
                .bind(&manager.full_name)
                .bind(&manager.email)
                .bind(manager.registered_at)
                .bind(application_id)
                .execute(&mut **tx)
                .await?;
            }
            for location in &c.remove_managers {
                let rows = sqlx::query("DELETE FROM registered_managers WHERE location_id = $1")
                    .bind(location)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                exactly_one(rows)?;
            }
            for condition in &c.add_conditions {
                sqlx::query(
                    "INSERT INTO registration_conditions (id, organisation_id, location_id, wording, imposed_at, \
                     application_id) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(condition.id)
                .bind(organisation_id)
                .bind(condition.location_id)
                .bind(&condition.wording)
                .bind(condition.imposed_at)
                .bind(application_id)
                .execute(&mut **tx)
                .await?;
            }
            for id in &c.remove_conditions {
                let rows = sqlx::query(
                    "UPDATE registration_conditions SET removed_at = $1 WHERE id = $2 AND organisation_id = $3 \
                     AND removed_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                exactly_one(rows)?;
            }
            for (id, wording) in &c.vary_conditions {
                let rows = sqlx::query(
                    "UPDATE registration_conditions SET wording = $1 WHERE id = $2 AND organisation_id = $3 \
                     AND removed_at IS NULL",
                )
                .bind(wording)
                .bind(id)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                exactly_one(rows)?;
            }
            for partner in &c.add_partners {
                sqlx::query(
                    "INSERT INTO registered_partners (id, organisation_id, full_name, email, registered_at, \
                     application_id) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(partner.id)
                .bind(organisation_id)
                .bind(&partner.full_name)
                .bind(&partner.email)
                .bind(partner.registered_at)
                .bind(application_id)
                .execute(&mut **tx)
                .await?;
            }
            for id in &c.remove_partners {
                let rows = sqlx::query(
                    "UPDATE registered_partners SET removed_at = $1 WHERE id = $2 AND organisation_id = $3 \
                     AND removed_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                exactly_one(rows)?;
            }
            // What a decision touched now speaks as of today, so an older register file never undoes it
            // (docs/register.md, "Precedence").
            let mut decided: Vec<uuid::Uuid> = c.new_locations.iter().map(|l| l.id).collect();
            decided.extend(c.register_locations.iter().map(|(id, _)| *id));
            decided.extend(deregister.iter().copied());
            decided.extend(c.add_activities.iter().chain(&c.remove_activities).map(|(l, _)| *l));
            decided.extend(c.managers.iter().map(|(l, _)| *l));
            decided.extend(c.remove_managers.iter().copied());
            decided.sort();
            decided.dedup();
            for location in &decided {
                sqlx::query(
                    "UPDATE locations SET register_source = 'decision', register_as_of = $1 \
                     WHERE id = $2 AND organisation_id = $3",
                )
                .bind(now.date())
                .bind(location)
                .bind(organisation_id)
                .execute(&mut **tx)
                .await?;
            }
            if c.provider_id.is_some() {
                sqlx::query("UPDATE organisations SET register_source = 'decision', register_as_of = $1 WHERE id = $2")
                    .bind(now.date())
                    .bind(organisation_id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// One statement for all of a change's history entries.
        async fn insert_application_events<'e, E>(
            executor: E,
            events: &[provider_api_core::registrations::model::Event],
        ) -> Result<(), $crate::StoreError>
        where
            E: sqlx::Executor<'e, Database = <$store as $crate::Dialect>::Database>,
        {
            if events.is_empty() {
                return Ok(());
            }
            let mut query = sqlx::QueryBuilder::<<$store as $crate::Dialect>::Database>::new(
                "INSERT INTO registration_application_events (id, application_id, at, action, from_status, \
                 to_status, actor_user, actor_client, section, fields, message, due_on, thread_id, attachments, version) ",
            );
            query.push_values(events, |mut row, e| {
                row.push_bind(e.id)
                    .push_bind(e.application_id)
                    .push_bind(e.at)
                    .push_bind(e.action.clone())
                    .push_bind(e.from_status.clone())
                    .push_bind(e.to_status.clone())
                    .push_bind(e.actor_user)
                    .push_bind(e.actor_client)
                    .push_bind(e.section.clone())
                    .push_bind(e.fields.clone())
                    .push_bind(e.message.clone())
                    .push_bind(e.due_on.clone())
                    .push_bind(e.thread_id)
                    .push_bind(e.attachments.clone())
                    .push_bind(e.version);
            });
            query.build().execute(executor).await?;
            Ok(())
        }
    };
}
pub(crate) use impl_registration_queries;
