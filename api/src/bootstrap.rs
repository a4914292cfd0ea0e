//! Records made outside the API: the first staff administrator, and a demo provider for trying the API.

use std::collections::BTreeSet;

use provider_api_core::accounts::{
    ApiClient, IntegratorApp, Location, Membership, Organisation, User, normalise_email,
};
use provider_api_core::capability::{Capability, Role, StaffRole};
use provider_api_core::domain::Postcode;
use provider_api_core::registrations::registered::{Changes, new_identifier};
use provider_api_store::{Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::{password, secret};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// What `provider-api demo` prints: everything a script needs to call the API as each demo principal.
#[derive(Clone, Serialize)]
pub struct DemoCredentials {
    pub organisation_id: Uuid,
    pub location_id: Uuid,
    pub users: Vec<DemoUser>,
    pub client_id: Uuid,
    pub client_secret: String,
    /// A third party's public application (PKCE) the demo people can sign in through and consent to.
    pub integrator_app_id: Uuid,
    /// A first-party public application, as the regulator's provider portal would be: people signed in through
    /// it may also manage API clients' credentials (within their own reach).
    pub portal_app_id: Uuid,
    /// A first-party public application holding the `staff` scope too, as the regulator's own staff portal
    /// would: staff (made with `create-staff`) sign in through it to use `/v1/admin/`.
    pub staff_app_id: Uuid,
    pub redirect_uri: String,
}

provider_api_core::debug_redacting!(DemoCredentials {
    shown: [
        organisation_id,
        location_id,
        users,
        client_id,
        integrator_app_id,
        portal_app_id,
        staff_app_id,
        redirect_uri
    ],
    redacted: [client_secret]
});

#[derive(Clone, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub roles: Vec<Role>,
}

provider_api_core::debug_redacting!(DemoUser { shown: [email, roles], redacted: [password] });

/// What the demo care home is registered for.
pub const DEMO_ACTIVITIES: &[&str] = &[
    "personal_care",
    "accommodation_nursing_or_personal_care",
    "treatment_of_disease_disorder_or_injury",
    "nursing_care",
];

/// Creates a demo provider with one (registered) location, an admin, a drafter, two submitters (the second to
/// approve what the first edits), and an API client with every scope and the drafter and submitter roles. Each run makes a new one (its emails carry a fresh tag),
/// so it never collides with an earlier demo.
pub async fn create_demo(store: &dyn Store, now: OffsetDateTime) -> Result<DemoCredentials, BootstrapError> {
    let tag = secret::hex(&secret::random_bytes::<3>());
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: format!("Demo Care Ltd ({tag})"),
        provider_id: None,
        four_eyes: true,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store.create_organisation(&organisation).await?;
    let location = Location {
        id: Uuid::new_v4(),
        organisation_id: organisation.id,
        location_id: None,
        name: "Demo House".into(),
        address_line_1: "1 Example Street".into(),
        address_line_2: None,
        town: "Newcastle upon Tyne".into(),
        postcode: Postcode::parse("NE1 4ST").expect("a valid postcode").to_string(),
        created_at: now,
    };
    store.create_location(&location).await?;
    // A registered provider, as if its entry had been brought across from the register: notifications are
    // only accepted for registered locations and activities.
    let registration = Changes {
        provider_id: Some(new_identifier()),
        register_locations: vec![(location.id, new_identifier())],
        add_activities: DEMO_ACTIVITIES.iter().map(|a| (location.id, (*a).to_owned())).collect(),
        ..Default::default()
    };
    store.record_registration(organisation.id, &registration, now).await?;

    let mut users = Vec::new();
    // A second submitter, last (so the first three keep their places), is the colleague who approves what the
    // first submitter last edited (docs/review.md).
    let people = [
        (Role::Admin, "admin"),
        (Role::Drafter, "drafter"),
        (Role::Submitter, "submitter"),
        (Role::Submitter, "reviewer"),
    ];
    for (role, name) in people {
        let email = format!("{name}.{tag}@demo-care.example");
        let password = secret::generate("");
        let user = new_user(&email, &format!("Demo {name}"), Some(&password), &BTreeSet::new(), now);
        store.create_user(&user).await?;
        store
            .put_membership(&Membership {
                user_id: user.id,
                organisation_id: organisation.id,
                roles: [role].into_iter().collect(),
                location_ids: None,
                created_at: now,
            })
            .await?;
        users.push(DemoUser { email, password, roles: vec![role] });
    }

    let client_secret = secret::generate(secret::prefix::CLIENT_SECRET);
    let client = ApiClient {
        id: Uuid::new_v4(),
        organisation_id: organisation.id,
        name: "Demo care-management system".into(),
        secret_hash: Some(secret::hash(&client_secret)),
        jwks: None,
        roles: [Role::Drafter, Role::Submitter].into_iter().collect(),
        scopes: Capability::provider().collect(),
        location_ids: None,
        created_by: None,
        created_at: now,
        revoked_at: None,
        last_used_at: None,
    };
    store.create_api_client(&client).await?;

    let redirect_uri = "http://localhost:3000/callback".to_owned();
    let public_app = |name: String, scopes: &[Capability], first_party: bool| IntegratorApp {
        id: Uuid::new_v4(),
        name,
        redirect_uris: redirect_uri.clone(),
        secret_hash: None,
        scopes: scopes.iter().copied().collect(),
        created_by: None,
        created_at: now,
        revoked_at: None,
        first_party,
    };
    let provider_scopes: Vec<Capability> = Capability::provider().collect();
    // A third party's application people sign in to and consent to: it acts within what they grant it.
    let app = public_app(format!("Demo integrator: Care Notes Online ({tag})"), &provider_scopes, false);
    // The regulator's own provider portal: a first-party session, in which admins manage API clients.
    let portal_app = public_app(format!("Provider portal ({tag})"), &provider_scopes, true);
    let staff_app = public_app(format!("Regulator staff portal ({tag})"), Capability::ALL, true);
    for each in [&app, &portal_app, &staff_app] {
        store.create_integrator_app(each).await?;
    }

    Ok(DemoCredentials {
        organisation_id: organisation.id,
        location_id: location.id,
        users,
        client_id: client.id,
        client_secret,
        integrator_app_id: app.id,
        portal_app_id: portal_app.id,
        staff_app_id: staff_app.id,
        redirect_uri,
    })
}

/// Creates a member of the regulator's staff (`provider-api create-staff`).
pub async fn create_staff(
    store: &dyn Store,
    email: &str,
    display_name: &str,
    password: &str,
    roles: &BTreeSet<StaffRole>,
    now: OffsetDateTime,
) -> Result<User, BootstrapError> {
    password::check_new(password).map_err(|why| BootstrapError::Invalid(why.to_owned()))?;
    if !email.contains('@') || display_name.trim().is_empty() || roles.is_empty() {
        return Err(BootstrapError::Invalid("give an email, a name and at least one staff role".into()));
    }
    let user = new_user(email, display_name, Some(password), roles, now);
    store.create_user(&user).await?;
    Ok(user)
}

fn new_user(email: &str, name: &str, password: Option<&str>, staff: &BTreeSet<StaffRole>, now: OffsetDateTime) -> User {
    User {
        id: Uuid::new_v4(),
        email: email.trim().to_owned(),
        email_normalised: normalise_email(email),
        display_name: name.trim().to_owned(),
        password_hash: password.map(password::hash),
        staff_roles: staff.iter().copied().collect(),
        disabled: false,
        created_at: now,
    }
}

/// The provider portal's registration for a deployment that serves it beside the API (the run command's
/// default): a first-party, confidential application with every provider scope, at a fixed id, whose redirect
/// URIs are the portal's callback at the addresses given. It is made on first start and brought up to date on
/// every start after, with a new secret each time (the portal in this process is the only holder, so nothing
/// else needs the old one). Returns the secret.
pub async fn ensure_local_portal_app(
    store: &dyn Store,
    id: Uuid,
    redirect_uris: &[String],
    now: OffsetDateTime,
) -> Result<String, BootstrapError> {
    let client_secret = secret::generate(secret::prefix::CLIENT_SECRET);
    let app = IntegratorApp {
        id,
        name: "Provider portal".into(),
        redirect_uris: redirect_uris.join("\n"),
        secret_hash: Some(secret::hash(&client_secret)),
        scopes: Capability::provider().collect(),
        created_by: None,
        created_at: now,
        revoked_at: None,
        first_party: true,
    };
    match store.integrator_app(id).await? {
        Some(registered) if !registered.first_party => {
            return Err(BootstrapError::Invalid(format!(
                "the application {id} is registered as a third party's; give the portal another client id"
            )));
        }
        Some(registered) if registered.revoked_at.is_some() => {
            return Err(BootstrapError::Invalid(format!(
                "the portal's application {id} has been revoked; a new start does not bring it back (configure \
                 portal_client_id and portal_client_secret, or register it again)"
            )));
        }
        Some(_) => {
            store.update_integrator_app(&app).await?;
        }
        None => store.create_integrator_app(&app).await?,
    }
    Ok(client_secret)
}
