//! What a grant changes in the organisation's registered details, worked out from the application's
//! (frozen, checked) sections, with new identifiers in the regulator's format.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::catalogue::{ApplicationType, SectionName};
use super::registered::{Changes, Condition, NewRegisteredLocation, Partner, RegisteredManager, new_identifier};
use super::sections::*;

/// A submitted application's sections no longer read as their types (a bug, or data edited behind the
/// API's back): the decision cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a submitted application's sections cannot be applied: {0}")]
pub struct UnreadableSections(pub String);

/// The changes, and the identifiers assigned: (provider ID, location IDs).
pub fn changes(
    kind: ApplicationType,
    sections: &BTreeMap<SectionName, Value>,
    has_provider_id: bool,
    conditions: &[String],
    now: OffsetDateTime,
) -> Result<(Changes, Option<String>, Vec<String>), UnreadableSections> {
    fn section<T: for<'de> Deserialize<'de>>(
        sections: &BTreeMap<SectionName, Value>,
        name: SectionName,
    ) -> Result<T, UnreadableSections> {
        let value = sections.get(&name).ok_or_else(|| UnreadableSections(format!("the {name} section is missing")))?;
        T::deserialize(value)
            .map_err(|error| UnreadableSections(format!("the {name} section no longer reads as its type: {error}")))
    }
    let manager = |person: &RegulatedPerson| RegisteredManager {
        full_name: person.full_name.as_str().to_owned(),
        email: person.email.as_str().to_owned(),
        registered_at: now,
    };
    let partner = |person: &RegulatedPerson| Partner {
        id: Uuid::now_v7(),
        full_name: person.full_name.as_str().to_owned(),
        email: person.email.as_str().to_owned(),
        registered_at: now,
    };
    let new_location = |l: &ProposedLocation| NewRegisteredLocation {
        id: Uuid::now_v7(),
        location_id: new_identifier(),
        name: l.name.as_str().to_owned(),
        line_1: l.address.line_1.as_str().to_owned(),
        line_2: l.address.line_2.as_ref().map(|t| t.as_str().to_owned()),
        town: l.address.town.as_str().to_owned(),
        postcode: crate::domain::Postcode::parse(l.address.postcode.as_str())
            .map(|p| p.to_string())
            .unwrap_or_else(|_| l.address.postcode.as_str().to_owned()),
    };
    let mut c = Changes::default();
    let mut condition_location = None;
    match kind {
        ApplicationType::NewProvider => {
            let who: ProviderSection = section(sections, SectionName::Who)?;
            let what: ServicesSection = section(sections, SectionName::What)?;
            let places: LocationsSection = section(sections, SectionName::Where)?;
            let managers: ManagersSection = section(sections, SectionName::WhoManages)?;
            if !has_provider_id {
                c.provider_id = Some(new_identifier());
            }
            for location in &places.locations {
                let registered = new_location(location);
                for activity in &what.regulated_activities {
                    c.add_activities.push((registered.id, activity.as_str().to_owned()));
                }
                c.new_locations.push(registered);
            }
            for entry in &managers.managers {
                let index = usize::try_from(entry.location)
                    .map_err(|_| UnreadableSections("a negative location index".into()))?;
                let location = c
                    .new_locations
                    .get(index)
                    .ok_or_else(|| UnreadableSections("a location index out of range".into()))?;
                c.managers.push((location.id, manager(&entry.manager)));
            }
            if who.provider_type == ProviderType::Partnership {
                c.add_partners = who.partners.iter().flatten().map(partner).collect();
            }
        }
        ApplicationType::AddLocation => {
            let place: ProposedLocation = section(sections, SectionName::Where)?;
            let what: ServicesSection = section(sections, SectionName::What)?;
            let who: ManagerSection = section(sections, SectionName::WhoManages)?;
            let registered = new_location(&place);
            for activity in &what.regulated_activities {
                c.add_activities.push((registered.id, activity.as_str().to_owned()));
            }
            c.managers.push((registered.id, manager(&who.manager)));
            condition_location = Some(registered.id);
            c.new_locations.push(registered);
        }
        ApplicationType::RemoveLocation => {
            let what: LocationRemoval = section(sections, SectionName::Where)?;
            c.deregister_locations.push(what.location_id);
        }
        ApplicationType::AddRegulatedActivity | ApplicationType::RemoveRegulatedActivity => {
            let what: ActivityChange = section(sections, SectionName::What)?;
            let pairs = what.regulated_activities.iter().map(|a| (what.location_id, a.as_str().to_owned()));
            if kind == ApplicationType::AddRegulatedActivity {
                c.add_activities.extend(pairs);
                condition_location = Some(what.location_id);
            } else {
                c.remove_activities.extend(pairs);
            }
        }
        ApplicationType::NewRegisteredManager => {
            let who: NewManagerSection = section(sections, SectionName::WhoManages)?;
            c.managers.push((who.location_id, manager(&who.manager)));
        }
        ApplicationType::CancelManagerRegistration => {
            let who: ManagerCancellation = section(sections, SectionName::WhoManages)?;
            c.remove_managers.push(who.location_id);
        }
        ApplicationType::AddPartner => {
            let who: PartnerSection = section(sections, SectionName::Who)?;
            c.add_partners.push(partner(&who.partner));
        }
        ApplicationType::RemovePartner => {
            let who: PartnerRemoval = section(sections, SectionName::Who)?;
            c.remove_partners.push(who.partner_id);
        }
        ApplicationType::VaryCondition => {
            let what: ConditionVariation = section(sections, SectionName::What)?;
            c.vary_conditions.push((what.condition_id, what.proposed_wording.as_str().to_owned()));
        }
        ApplicationType::RemoveCondition => {
            let what: ConditionRemoval = section(sections, SectionName::What)?;
            c.remove_conditions.push(what.condition_id);
        }
        ApplicationType::CancelRegulatedActivities => {
            let what: Cancellation = section(sections, SectionName::What)?;
            match (what.scope, what.location_id, what.regulated_activities) {
                (CancellationScope::All, _, _) => c.cancel_all = true,
                (CancellationScope::Some, Some(location), Some(codes)) => {
                    c.remove_activities.extend(codes.iter().map(|a| (location, a.as_str().to_owned())));
                }
                _ => return Err(UnreadableSections("the cancellation names no location or activities".into())),
            }
        }
    }
    c.add_conditions = conditions
        .iter()
        .map(|wording| Condition {
            id: Uuid::now_v7(),
            location_id: condition_location,
            wording: wording.clone(),
            imposed_at: now,
        })
        .collect();
    let provider_id = c.provider_id.clone();
    let location_ids = c.new_locations.iter().map(|l| l.location_id.clone()).collect();
    Ok((c, provider_id, location_ids))
}
