//! Every notification type as data: its regulation, deadline, schema version and form. The published JSON
//! Schema of each form is generated here from the Rust types, and is the very schema the server validates
//! drafts and submissions against (see `validation.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::openapi::schema::{Discriminator, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::forms::*;
use crate::field_error::FieldError;
use crate::forms::schema::{DIALECT, collect_definitions, rewrite_refs};

/// When the regulations say a notification is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    WithoutDelay,
    WhenOutcomeKnown,
    AsSoonAsReasonablyPracticable,
    /// Within 28 days of the event.
    #[serde(rename = "within_28_days")]
    Within28Days,
    /// Planned: 28 days before; emergency: within 5 working days.
    AsStatedForAbsence,
}

/// Whether a notification concerns one of the organisation's locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocationRule {
    /// It happened at a location, which must be named.
    Required,
    /// It may concern one location or the whole provider.
    Optional,
}

#[derive(Debug, Clone, Copy)]
pub struct TypeInfo {
    pub title: &'static str,
    pub regulation: &'static str,
    pub deadline: Deadline,
    pub location: LocationRule,
    /// The type of the notification this one is a later part of (named in `follows_id`).
    pub follows: Option<NotificationType>,
    /// Bumped whenever the form changes; a submission records the version it was made against.
    pub schema_version: u32,
}

macro_rules! catalogue {
    ($($variant:ident = $text:literal => $form:ident {
        title: $title:literal, regulation: $regulation:literal, deadline: $deadline:ident,
        location: $location:ident, follows: $follows:expr, version: $version:literal $(,)?
    }),+ $(,)?) => {
        /// A statutory notification's type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum NotificationType {
            $(#[serde(rename = $text)] $variant,)+
        }

        // By hand: the derive does not see a `rename` whose value came through a macro.
        impl PartialSchema for NotificationType {
            fn schema() -> RefOr<Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .description(Some("A statutory notification's type; `GET /v1/notification-types` describes each."))
                    .into()
            }
        }

        impl ToSchema for NotificationType {}

        impl NotificationType {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub fn info(self) -> TypeInfo {
                match self {
                    $(Self::$variant => TypeInfo {
                        title: $title,
                        regulation: $regulation,
                        deadline: Deadline::$deadline,
                        location: LocationRule::$location,
                        follows: $follows,
                        schema_version: $version,
                    },)+
                }
            }

            /// The form's schema name, its schema, and every schema it refers to.
            fn form_schemas(self) -> (String, RefOr<Schema>, Vec<(String, RefOr<Schema>)>) {
                match self {
                    $(Self::$variant => {
                        let mut referenced = Vec::new();
                        <$form as ToSchema>::schemas(&mut referenced);
                        (<$form as ToSchema>::name().into_owned(), <$form as PartialSchema>::schema(), referenced)
                    })+
                }
            }
        }

        /// A complete notification: one of the regulator's forms, told apart by `type`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(untagged)]
        pub enum NotificationContent {
            $($variant($form),)+
        }

        impl NotificationContent {
            /// Reads a form of a known type (the discriminator has been read already, so serde need not
            /// guess among the variants).
            pub fn parse(kind: NotificationType, value: Value) -> Result<Self, serde_json::Error> {
                match kind {
                    $(NotificationType::$variant => serde_json::from_value(value).map(Self::$variant),)+
                }
            }

            pub fn kind(&self) -> NotificationType {
                match self {
                    $(Self::$variant(_) => NotificationType::$variant,)+
                }
            }

            pub fn cross_checks(&self, errors: &mut Vec<FieldError>) {
                match self {
                    $(Self::$variant(form) => form.cross_checks(errors),)+
                }
            }
        }
    };
}

catalogue! {
    Death = "death" => DeathForm {
        title: "Death of a person using the service", regulation: "16",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    DeathOfDetainedPatient = "death_of_detained_patient" => DeathOfDetainedPatientForm {
        title: "Death of a detained mental health patient", regulation: "17",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    DetainedPatientAbsence = "detained_patient_absence" => DetainedPatientAbsenceForm {
        title: "Unauthorised absence of a detained patient (part 1)", regulation: "17",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    DetainedPatientReturn = "detained_patient_return" => DetainedPatientReturnForm {
        title: "Return of an absent detained patient (part 2)", regulation: "17",
        deadline: WithoutDelay, location: Required,
        follows: Some(NotificationType::DetainedPatientAbsence), version: 1,
    },
    SeriousInjury = "serious_injury" => SeriousInjuryForm {
        title: "Serious injury", regulation: "18(2)(a),(b)",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    Abuse = "abuse" => AbuseForm {
        title: "Abuse or allegation of abuse", regulation: "18(2)(e)",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    PoliceIncident = "police_incident" => PoliceIncidentForm {
        title: "Incident reported to or investigated by the police", regulation: "18(2)(f)",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    DolsOutcome = "dols_outcome" => DolsOutcomeForm {
        title: "Outcome of a Deprivation of Liberty Safeguards application", regulation: "18(4A),(4B)",
        deadline: WhenOutcomeKnown, location: Required, follows: None, version: 1,
    },
    ServiceDisruption = "service_disruption" => ServiceDisruptionForm {
        title: "Event that stops the service running safely", regulation: "18(2)(g)",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    Under18InAdultPsychiatricUnit = "under_18_in_adult_psychiatric_unit" => Under18InAdultPsychiatricUnitForm {
        title: "Person under 18 in an adult psychiatric unit for more than 48 hours", regulation: "18(2)(h)",
        deadline: WithoutDelay, location: Required, follows: None, version: 1,
    },
    ManagerAbsence = "manager_absence" => ManagerAbsenceForm {
        title: "Absence of the registered manager for 28 days or more", regulation: "14",
        deadline: AsStatedForAbsence, location: Required, follows: None, version: 1,
    },
    ManagerReturn = "manager_return" => ManagerReturnForm {
        title: "Return of the registered manager", regulation: "14",
        deadline: WithoutDelay, location: Required, follows: Some(NotificationType::ManagerAbsence), version: 1,
    },
    ChangeOfDetails = "change_of_details" => ChangeOfDetailsForm {
        title: "Change to registered details", regulation: "15",
        deadline: AsSoonAsReasonablyPracticable, location: Optional, follows: None, version: 1,
    },
    RevisedStatementOfPurpose = "revised_statement_of_purpose" => RevisedStatementOfPurposeForm {
        title: "Revised statement of purpose", regulation: "12(3)",
        deadline: Within28Days, location: Optional, follows: None, version: 1,
    },
    DeathOfRegisteredProvider = "death_of_registered_provider" => DeathOfRegisteredProviderForm {
        title: "Death of a registered provider", regulation: "21",
        deadline: WithoutDelay, location: Optional, follows: None, version: 1,
    },
    LiquidatorAppointment = "liquidator_appointment" => LiquidatorAppointmentForm {
        title: "Appointment of a liquidator, receiver, trustee or administrator", regulation: "22",
        deadline: Within28Days, location: Optional, follows: None, version: 1,
    },
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NotificationType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown notification type {s:?}"))
    }
}

text_column!(NotificationType);

/// In the OpenAPI document: `oneOf` the forms, with a discriminator mapping each `type` to its form, so
/// generated clients get a tagged enum.
impl PartialSchema for NotificationContent {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new();
        let mut mapping = Vec::new();
        for &kind in NotificationType::ALL {
            let (name, _, _) = kind.form_schemas();
            let reference = format!("#/components/schemas/{name}");
            one_of = one_of.item(Ref::new(reference.clone()));
            mapping.push((kind.as_str().to_owned(), reference));
        }
        one_of
            .discriminator(Some(Discriminator::with_mapping("type", mapping)))
            .description(Some("A complete notification: one of the regulator's forms, told apart by `type`."))
            .into()
    }
}

impl ToSchema for NotificationContent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for &kind in NotificationType::ALL {
            let (name, schema, referenced) = kind.form_schemas();
            schemas.push((name, schema));
            schemas.extend(referenced);
        }
    }
}

/// Each type's form as a self-contained JSON Schema (2020-12): the form with every schema it refers to
/// under `$defs`. Built once.
static PUBLISHED: LazyLock<BTreeMap<NotificationType, Value>> = LazyLock::new(|| {
    NotificationType::ALL
        .iter()
        .map(|&kind| {
            let (name, root, referenced) = kind.form_schemas();
            let mut defs = serde_json::Map::new();
            collect_definitions(referenced, &mut defs);
            for (def_name, def) in defs.iter_mut() {
                super::presentation::decorate(def_name, def);
            }
            let mut schema = serde_json::to_value(root).expect("a schema serialises");
            rewrite_refs(&mut schema);
            super::presentation::decorate(&name, &mut schema);
            let object = schema.as_object_mut().expect("a form's schema is an object");
            let info = kind.info();
            let mut published = serde_json::Map::new();
            published.insert("$schema".into(), json!(DIALECT));
            published.insert(
                "$id".into(),
                json!(format!("urn:cqc:provider-api:notification:{kind}:v{}", info.schema_version)),
            );
            published.insert("title".into(), json!(info.title));
            published.extend(std::mem::take(object));
            if !defs.is_empty() {
                published.insert("$defs".into(), Value::Object(defs));
            }
            // A whole form, so software sees one valid instance (JSON Schema 2020-12 `examples`).
            published.insert("examples".into(), json!([super::examples::example(kind)]));
            (kind, Value::Object(published))
        })
        .collect()
});

impl NotificationType {
    /// The JSON Schema software can validate a form against offline, exactly as the server does.
    pub fn json_schema(self) -> &'static Value {
        &PUBLISHED[&self]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_self_contained_schema_that_forbids_unknown_fields() {
        for &kind in NotificationType::ALL {
            let schema = kind.json_schema();
            assert_eq!(schema["additionalProperties"], json!(false), "{kind}");
            assert_eq!(schema["properties"]["type"]["enum"], json!([kind.as_str()]), "{kind}");
            let text = schema.to_string();
            assert!(!text.contains("#/components/"), "{kind} refers outside itself");
            for target in text.match_indices("#/$defs/").map(|(at, _)| &text[at + 8..]) {
                let name: String = target.chars().take_while(|c| *c != '"').collect();
                assert!(schema["$defs"].get(&name).is_some(), "{kind}: $defs lacks {name}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for &kind in NotificationType::ALL {
            assert_eq!(kind.as_str().parse::<NotificationType>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }
}
