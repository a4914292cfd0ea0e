//! Every application type as data: its sections (each a typed struct), the documents it needs, and the
//! published JSON Schema of each section, which is the very schema the server validates against.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{ObjectBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::checklist::Facts;
use super::sections::*;
use crate::field_error::FieldError;
use crate::forms::schema::{DIALECT, collect_definitions, rewrite_refs};
use crate::forms::validation::{Completeness, compile, schema_errors};

/// A named part of an application, edited on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectionName {
    Who,
    What,
    Where,
    WhoManages,
    When,
    How,
    Documents,
    Declaration,
}

impl SectionName {
    pub const ALL: &'static [Self] = &[
        Self::Who,
        Self::What,
        Self::Where,
        Self::WhoManages,
        Self::When,
        Self::How,
        Self::Documents,
        Self::Declaration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Who => "who",
            Self::What => "what",
            Self::Where => "where",
            Self::WhoManages => "who_manages",
            Self::When => "when",
            Self::How => "how",
            Self::Documents => "documents",
            Self::Declaration => "declaration",
        }
    }
}

impl fmt::Display for SectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SectionName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown section {s:?}"))
    }
}

text_column!(SectionName);

type SchemaParts = (String, RefOr<Schema>, Vec<(String, RefOr<Schema>)>);

fn parts<T: ToSchema>() -> SchemaParts {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    (T::name().into_owned(), T::schema(), referenced)
}

fn run_checks<T: Section + for<'de> Deserialize<'de>>(value: &Value, facts: &Facts, at: &str) -> Vec<FieldError> {
    match T::deserialize(value) {
        Ok(section) => {
            let mut errors = Vec::new();
            section.check(facts, at, &mut errors);
            errors
        }
        Err(error) => {
            // The schema and the type are generated together, so this is a bug; say what serde saw.
            tracing::error!(%error, at, "a section passed its schema but not its type");
            vec![FieldError::new(at.to_owned(), "invalid", format!("This section could not be read: {error}."))]
        }
    }
}

macro_rules! application_types {
    ($($variant:ident = $text:literal {
        title: $title:literal,
        sections: [$($section:ident => $ty:ty),+ $(,)?] $(,)?
    }),+ $(,)?) => {
        /// A registration application's type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum ApplicationType {
            $(#[serde(rename = $text)] $variant,)+
        }

        // By hand: the derive does not see a `rename` whose value came through a macro.
        impl PartialSchema for ApplicationType {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .description(Some("A registration application's type; `GET /v1/registration-application-types` \
describes each."))
                    .into()
            }
        }

        impl ToSchema for ApplicationType {}

        impl ApplicationType {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(Self::$variant => $title,)+
                }
            }

            /// The sections of this type, in the order a person fills them in.
            pub fn sections(self) -> &'static [SectionName] {
                match self {
                    $(Self::$variant => &[$(SectionName::$section),+],)+
                }
            }

            fn section_parts(self, section: SectionName) -> Option<SchemaParts> {
                match (self, section) {
                    $($((Self::$variant, SectionName::$section) => Some(parts::<$ty>()),)+)+
                    _ => None,
                }
            }

            /// The rules the schema cannot state, for a section that passed its schema.
            fn section_checks(self, section: SectionName, value: &Value, facts: &Facts, at: &str) -> Vec<FieldError> {
                match (self, section) {
                    $($((Self::$variant, SectionName::$section) => run_checks::<$ty>(value, facts, at),)+)+
                    _ => Vec::new(),
                }
            }

            /// Every section struct, for the OpenAPI document's components.
            pub fn all_section_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $($(
                    schemas.push((<$ty as ToSchema>::name().into_owned(), <$ty as PartialSchema>::schema()));
                    <$ty as ToSchema>::schemas(schemas);
                )+)+
            }
        }
    };
}

application_types! {
    NewProvider = "new_provider" {
        title: "Register as a new provider (individual, partnership or organisation)",
        sections: [Who => ProviderSection, What => ServicesSection, Where => LocationsSection,
            WhoManages => ManagersSection, When => Timing, How => HowSection, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    NewRegisteredManager = "new_registered_manager" {
        title: "Register a manager for a location",
        sections: [WhoManages => NewManagerSection, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    AddLocation = "add_location" {
        title: "Add a location",
        sections: [Where => ProposedLocation, What => ServicesSection, WhoManages => ManagerSection, When => Timing,
            How => HowSection, Documents => DocumentsSection, Declaration => Declaration],
    },
    RemoveLocation = "remove_location" {
        title: "Remove a location",
        sections: [Where => LocationRemoval, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    AddRegulatedActivity = "add_regulated_activity" {
        title: "Add regulated activities at a location",
        sections: [What => ActivityChange, When => Timing, How => HowSection, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    RemoveRegulatedActivity = "remove_regulated_activity" {
        title: "Remove regulated activities at a location",
        sections: [What => ActivityChange, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    AddPartner = "add_partner" {
        title: "Add a partner",
        sections: [Who => PartnerSection, When => Timing, Documents => DocumentsSection, Declaration => Declaration],
    },
    RemovePartner = "remove_partner" {
        title: "Remove a partner",
        sections: [Who => PartnerRemoval, When => Timing, Documents => DocumentsSection, Declaration => Declaration],
    },
    VaryCondition = "vary_condition" {
        title: "Vary a condition of registration",
        sections: [What => ConditionVariation, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    RemoveCondition = "remove_condition" {
        title: "Remove a condition of registration",
        sections: [What => ConditionRemoval, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
    CancelRegulatedActivities = "cancel_regulated_activities" {
        title: "Cancel one or all regulated activities",
        sections: [What => Cancellation, When => Timing, Documents => DocumentsSection, Declaration => Declaration],
    },
    CancelManagerRegistration = "cancel_manager_registration" {
        title: "Cancel a manager's registration",
        sections: [WhoManages => ManagerCancellation, When => Timing, Documents => DocumentsSection,
            Declaration => Declaration],
    },
}

impl fmt::Display for ApplicationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApplicationType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown application type {s:?}"))
    }
}

text_column!(ApplicationType);

impl ApplicationType {
    pub fn has_section(self, section: SectionName) -> bool {
        self.sections().contains(&section)
    }

    /// The documents an application of this type must carry, each a separate file. Every application but a
    /// whole cancellation needs a statement of purpose; a cancellation of `all` needs none.
    pub fn required_documents(self, sections: &BTreeMap<SectionName, Value>) -> Vec<DocumentPurpose> {
        use DocumentPurpose::*;
        match self {
            Self::NewProvider => vec![
                StatementOfPurpose,
                FinancialViabilityStatement,
                BusinessPlan,
                GovernancePolicy,
                MedicinesPolicy,
                OrganisationalStructure,
                StaffingStructure,
                Insurance,
            ],
            Self::AddLocation => vec![StatementOfPurpose, StaffingStructure],
            Self::AddPartner => vec![StatementOfPurpose, FinancialViabilityStatement],
            Self::CancelRegulatedActivities
                if sections.get(&SectionName::What).and_then(|w| w.get("scope")) == Some(&json!("all")) =>
            {
                Vec::new()
            }
            _ => vec![StatementOfPurpose],
        }
    }

    /// The published, self-contained JSON Schema (2020-12) of one of this type's sections.
    pub fn section_schema(self, section: SectionName) -> Option<&'static Value> {
        PUBLISHED.get(&(self, section))
    }

    /// Every problem with a section's content, pointers prefixed with `at`. A draft may lack required
    /// fields; a complete check also applies the rules the schema cannot state. Checked as at `checked_at`.
    pub fn check_section(
        self,
        section: SectionName,
        content: &Value,
        completeness: Completeness,
        facts: Option<&Facts>,
        checked_at: OffsetDateTime,
        at: &str,
    ) -> Vec<FieldError> {
        let Some(validator) = VALIDATORS.get(&(self, section)) else {
            return vec![FieldError::new(at.to_owned(), "no_such_section", "This type has no such section.")];
        };
        let mut errors: Vec<FieldError> =
            schema_errors(validator, &PUBLISHED[&(self, section)], content, completeness, checked_at)
                .into_iter()
                .map(|e| FieldError { pointer: format!("{at}{}", e.pointer), ..e })
                .collect();
        if errors.is_empty()
            && completeness == Completeness::Complete
            && let Some(facts) = facts
        {
            errors.extend(self.section_checks(section, content, facts, at));
        }
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        errors.dedup();
        errors
    }
}

static PUBLISHED: LazyLock<BTreeMap<(ApplicationType, SectionName), Value>> = LazyLock::new(|| {
    let mut published = BTreeMap::new();
    for &kind in ApplicationType::ALL {
        for &section in kind.sections() {
            let (_, root, referenced) = kind.section_parts(section).expect("listed sections have schemas");
            let mut defs = serde_json::Map::new();
            collect_definitions(referenced, &mut defs);
            let mut schema = serde_json::to_value(root).expect("a schema serialises");
            rewrite_refs(&mut schema);
            let mut document = serde_json::Map::new();
            document.insert("$schema".into(), json!(DIALECT));
            document.insert("$id".into(), json!(format!("urn:cqc:provider-api:registration:{kind}:{section}:v1")));
            document.extend(std::mem::take(schema.as_object_mut().expect("a section's schema is an object")));
            if !defs.is_empty() {
                document.insert("$defs".into(), Value::Object(defs));
            }
            // A whole section, so software sees one valid instance (JSON Schema 2020-12 `examples`).
            let example = super::examples::example(kind, section).expect("every listed section has an example");
            document.insert("examples".into(), json!([example]));
            published.insert((kind, section), Value::Object(document));
        }
    }
    published
});

static VALIDATORS: LazyLock<BTreeMap<(ApplicationType, SectionName), jsonschema::Validator>> = LazyLock::new(|| {
    PUBLISHED
        .iter()
        .map(|(&(kind, section), schema)| {
            let validator =
                compile(schema).unwrap_or_else(|error| panic!("the schema of {kind}/{section} compiles: {error}"));
            ((kind, section), validator)
        })
        .collect()
});

/// Compiles every section schema now, so one the validator rejects stops the server at start-up.
pub fn prepare() {
    LazyLock::force(&VALIDATORS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_schema_is_self_contained_and_closed() {
        for &kind in ApplicationType::ALL {
            assert!(kind.has_section(SectionName::Declaration), "{kind} needs a declaration");
            assert!(kind.has_section(SectionName::Documents), "{kind} takes documents");
            for &section in kind.sections() {
                let schema = kind.section_schema(section).expect("published");
                assert_eq!(schema["additionalProperties"], json!(false), "{kind}/{section}");
                assert!(!schema.to_string().contains("#/components/"), "{kind}/{section} refers outside itself");
            }
        }
        prepare();
    }

    #[test]
    fn names_round_trip() {
        for &kind in ApplicationType::ALL {
            assert_eq!(kind.as_str().parse::<ApplicationType>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        for &section in SectionName::ALL {
            assert_eq!(serde_json::to_value(section).unwrap(), json!(section.as_str()));
        }
    }
}
