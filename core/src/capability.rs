//! What a principal may do: roles grant capabilities, a token's scopes limit them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An enum whose variants are known by fixed strings (in JSON, in scopes, in storage): declares it with
/// `ALL`, `as_str`, `Display` and `FromStr`, so each string is written once.
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) { $($(#[$doc:meta])* $variant:ident = $text:tt,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown {} {s:?}", $what))
            }
        }
    };
}

named_enum! {
    /// A thing a principal may be allowed to do in an organisation. Scopes use the same names.
    pub enum Capability ("scope") {
        /// Read the organisation, its locations and members.
        OrgRead = "org:read",
        /// Change settings, members, invitations and API clients.
        OrgAdmin = "org:admin",
        NotificationsRead = "notifications:read",
        NotificationsWrite = "notifications:write",
        NotificationsSubmit = "notifications:submit",
        DocumentsRead = "documents:read",
        DocumentsWrite = "documents:write",
        RegistrationsRead = "registrations:read",
        RegistrationsWrite = "registrations:write",
        RegistrationsSubmit = "registrations:submit",
        /// Use the signed-in person's regulator staff role (`/v1/admin/`): for the regulator's own
        /// applications only. No provider role grants it.
        Staff = "staff",
    }
}

impl Capability {
    /// Everything a provider's role can grant: every capability but `staff`.
    pub fn provider() -> impl Iterator<Item = Capability> {
        Self::ALL.iter().copied().filter(|c| *c != Self::Staff)
    }
}

named_enum! {
    /// A role a person (through a membership) or an API client holds in an organisation.
    pub enum Role ("role") {
        /// Manages members, invitations, API clients and settings.
        Admin = "admin",
        /// Prepares drafts.
        Drafter = "drafter",
        /// Reviews, edits and submits.
        Submitter = "submitter",
        /// Reads only.
        Viewer = "viewer",
    }
}

named_enum! {
    /// The regulator's own staff roles; they work across providers through `/v1/admin/` only.
    pub enum StaffRole ("staff role") {
        /// Triage of notifications.
        StaffTriage = "staff_triage",
        /// Registration assessment.
        StaffRegistration = "staff_registration",
        /// Provider records, enrolment codes, user accounts.
        StaffAdmin = "staff_admin",
    }
}

impl Role {
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability::*;
        const READ: [Capability; 4] = [OrgRead, NotificationsRead, DocumentsRead, RegistrationsRead];
        match self {
            Self::Viewer => &READ,
            // Admins upload too (an organisation's papers are often theirs to provide), but do not draft.
            Self::Admin => &[OrgRead, OrgAdmin, NotificationsRead, DocumentsRead, DocumentsWrite, RegistrationsRead],
            Self::Drafter => &[
                OrgRead,
                NotificationsRead,
                DocumentsRead,
                RegistrationsRead,
                NotificationsWrite,
                DocumentsWrite,
                RegistrationsWrite,
            ],
            Self::Submitter => &[
                OrgRead,
                NotificationsRead,
                DocumentsRead,
                RegistrationsRead,
                NotificationsWrite,
                DocumentsWrite,
                RegistrationsWrite,
                NotificationsSubmit,
                RegistrationsSubmit,
            ],
        }
    }
}

/// Every capability the roles grant together.
pub fn granted_by(roles: &BTreeSet<Role>) -> BTreeSet<Capability> {
    roles.iter().flat_map(|role| role.capabilities().iter().copied()).collect()
}

/// Parses a space-separated list (the form scopes take in OAuth, and roles take in storage).
pub fn parse_list<T: FromStr<Err = String> + Ord>(text: &str) -> Result<BTreeSet<T>, String> {
    text.split_ascii_whitespace().map(T::from_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_model_says() {
        let submitter: BTreeSet<Role> = [Role::Submitter].into();
        assert!(granted_by(&submitter).contains(&Capability::NotificationsSubmit));
        let drafter: BTreeSet<Role> = [Role::Drafter].into();
        assert!(!granted_by(&drafter).contains(&Capability::NotificationsSubmit));
        assert!(granted_by(&drafter).contains(&Capability::NotificationsWrite));
        let viewer: BTreeSet<Role> = [Role::Viewer].into();
        assert!(granted_by(&viewer).iter().all(|c| c.as_str().ends_with(":read")));
        let admin: BTreeSet<Role> = [Role::Admin].into();
        assert!(granted_by(&admin).contains(&Capability::OrgAdmin));
        assert!(!granted_by(&admin).contains(&Capability::NotificationsWrite), "admin alone does not draft");
        assert!(granted_by(&admin).contains(&Capability::DocumentsWrite), "admin uploads documents");
    }

    #[test]
    fn scope_strings_round_trip() {
        for &capability in Capability::ALL {
            assert_eq!(capability.as_str().parse::<Capability>(), Ok(capability));
            assert_eq!(serde_json::to_value(capability).unwrap(), capability.as_str());
        }
        assert_eq!(parse_list::<Role>("drafter submitter").unwrap().len(), 2);
        assert!(parse_list::<Capability>("org:read bogus").is_err());
    }
}
