//! Gathering what the checklist needs (registered details, reference data, today's date, how each attached
//! document's scan went) for core's pure [`assess`].

use std::collections::BTreeMap;
use std::sync::Arc;

use provider_api_core::registrations::checklist::{Checklist, Facts, assess, attached_documents};
use provider_api_core::registrations::{ApplicationType, SectionName};
use serde_json::Value;
use uuid::Uuid;

use crate::http::Problem;
use crate::state::AppState;

/// What the rules beyond the schemas need to know about an application of `kind` with these sections.
async fn gather_facts(
    state: &AppState,
    kind: ApplicationType,
    organisation_id: Uuid,
    sections: BTreeMap<SectionName, Value>,
) -> Result<Facts, Problem> {
    let registered = state.store.registered_details(organisation_id).await?;
    Ok(Facts {
        kind,
        at: state.clock.now_for(organisation_id),
        activity_codes: state.activity_codes.clone(),
        service_types: state.service_types.clone(),
        service_user_bands: state.service_user_bands.clone(),
        registered: Arc::new(registered),
        sections: Arc::new(sections),
    })
}

/// The checklist of an application of `kind` whose sections hold `sections` (every section of the type, `{}`
/// when not started).
pub async fn build(
    state: &AppState,
    kind: ApplicationType,
    organisation_id: Uuid,
    sections: BTreeMap<SectionName, Value>,
) -> Result<Checklist, Problem> {
    let facts = gather_facts(state, kind, organisation_id, sections).await?;
    let mut scans = BTreeMap::new();
    for id in attached_documents(&facts.sections) {
        // Another organisation's document is as good as none.
        if let Some(document) = state.store.document(id).await?.filter(|d| d.organisation_id == organisation_id) {
            scans.insert(id, document.status());
        }
    }
    Ok(assess(&facts, &scans))
}
