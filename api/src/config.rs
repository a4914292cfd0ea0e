//! Configuration: built-in defaults, then an optional TOML file, then `PROVIDER_API_*` environment variables.
//!
//! Everything is checked at start-up and every problem is reported at once, so a bad deployment fails
//! before it takes traffic. Secrets (the database URL may hold a password) are redacted in `Debug` output.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::HeaderValue;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use provider_api_store::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::http::middleware::HttpPolicy;

pub const ENV_PREFIX: &str = "PROVIDER_API_";
/// The environment variable that names a TOML configuration file.
pub const CONFIG_FILE_ENV: &str = "PROVIDER_API_CONFIG";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/provider-api.db";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `development` (the default) or `production`: see [`Environment`].
    #[serde(default)]
    pub environment: Environment,
    /// Address to listen on (`PROVIDER_API_BIND`).
    #[serde(default = "defaults::bind")]
    pub bind: SocketAddr,
    /// `sqlite://path` (the embedded default, created on first start) or `postgres://…`
    /// (`PROVIDER_API_DATABASE_URL`).
    #[serde(default = "defaults::database_url")]
    pub database_url: SecretString,
    /// Most connections the pool opens.
    #[serde(default = "defaults::database_max_connections")]
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before it gets 503 (e.g. `5s`).
    #[serde(default = "defaults::database_acquire_timeout", with = "humantime_serde")]
    pub database_acquire_timeout: Duration,
    /// Largest request body accepted, in bytes.
    #[serde(default = "defaults::body_limit")]
    pub body_limit: usize,
    /// Longest a request may take in all before it gets 503.
    #[serde(default = "defaults::request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Longest a request body may stall before the request gets 408.
    #[serde(default = "defaults::body_timeout", with = "humantime_serde")]
    pub body_timeout: Duration,
    /// How long shutdown waits for in-flight requests before it stops anyway.
    #[serde(default = "defaults::shutdown_grace", with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Browser origins allowed to call the API (CORS); none by default. A list, or a comma-separated string.
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub cors_allowed_origins: Vec<String>,
    /// Addresses of load balancers in front of the API, whose `X-Forwarded-For` is believed (a list, or
    /// comma-separated); none by default, so the TCP peer is the client.
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// The URL clients reach this API at (no trailing slash): the tokens' issuer and the audience of client
    /// assertions. Defaults to `http://` and the bound address, which suits only local use.
    #[serde(default)]
    pub public_base_url: Option<String>,
    /// Lifetime of access tokens (at most 15 minutes).
    #[serde(default = "defaults::access_token_ttl", with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// Requests a minute for each principal (API client or person).
    #[serde(default = "defaults::rate_limit_per_principal")]
    pub rate_limit_per_principal: NonZeroU32,
    /// Requests a minute for each organisation, all its principals together.
    #[serde(default = "defaults::rate_limit_per_organisation")]
    pub rate_limit_per_organisation: NonZeroU32,
    /// Requests a minute for each client address without a valid token.
    #[serde(default = "defaults::rate_limit_per_address")]
    pub rate_limit_per_address: NonZeroU32,
    /// Requests a minute for each client address to the OAuth endpoints (token, sign-in, revocation).
    #[serde(default = "defaults::rate_limit_sign_in_per_address")]
    pub rate_limit_sign_in_per_address: NonZeroU32,
    /// Requests a minute to the token and revocation endpoints for each confidential client authenticating with
    /// its secret (HTTP Basic), wherever they come from: a web application (the portal) makes every person's
    /// token requests from its own address, so it is limited as itself, not as an address.
    #[serde(default = "defaults::rate_limit_sign_in_per_client")]
    pub rate_limit_sign_in_per_client: NonZeroU32,
    /// Where rate limits and sign-in backoff are counted: `memory` (the default: each node counts on its own)
    /// or a Redis URL (`redis://host:port/`), so that every node shares one count. If Redis stops answering,
    /// each node falls back to counting on its own until it answers again (logged, and shown by `/readyz`).
    /// (A Redis URL may carry a password, so it is kept like one.)
    #[serde(default = "defaults::rate_limit_store")]
    pub rate_limit_store: SecretString,
    /// Prefix of every key the limits keep in Redis, so that several deployments can share one Redis.
    #[serde(default = "defaults::rate_limit_key_prefix")]
    pub rate_limit_key_prefix: String,
    /// Where email goes: `smtp://host:port` (or `smtps://…`, `smtp://…?tls=required`, with `user:password@`).
    /// Without it (development only), emails are written to `mail_outbox` instead of being sent.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// Without `smtp_url` (development only), where each email is written, one file each, readable only by the
    /// server's user; the log names the file, with the email's secrets redacted.
    #[serde(default = "defaults::mail_outbox")]
    pub mail_outbox: PathBuf,
    /// The sender of every email.
    #[serde(default = "defaults::mail_from")]
    pub mail_from: String,
    /// `json` (the default: one JSON object a line) or `pretty`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Where document bytes are kept: a folder (the default, `data/documents`), or `s3://bucket[/prefix]`.
    #[serde(default = "defaults::document_storage")]
    pub document_storage: String,
    /// For `s3://` storage: the S3-compatible server (`https://…`); AWS itself when absent.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// For `s3://` storage: the region.
    #[serde(default = "defaults::s3_region")]
    pub s3_region: String,
    /// For `s3://` storage: the access key (else the environment's AWS credentials).
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    #[serde(default)]
    pub s3_secret_access_key: Option<SecretString>,
    /// Largest document, in bytes (default 100 MiB).
    #[serde(default = "defaults::document_max_size")]
    pub document_max_size: u64,
    /// The document types accepted (short names: pdf, docx, xlsx, odt, ods, doc, xls, csv, txt, jpeg, png),
    /// a list or comma-separated; all of them by default.
    #[serde(default = "defaults::document_types", deserialize_with = "list_or_comma_separated")]
    pub document_types: Vec<String>,
    /// How long an unfinished upload is kept after its last progress.
    #[serde(default = "defaults::upload_expiry", with = "humantime_serde")]
    pub upload_expiry: Duration,
    /// The longest one upload request may take, however steadily its bytes arrive (default 15 minutes): a tus
    /// upload keeps what arrived and resumes with another request; a single-request upload must start again.
    #[serde(default = "defaults::upload_request_deadline", with = "humantime_serde")]
    pub upload_request_deadline: Duration,
    /// Upload requests that may stage bytes at once on this node (default 64); past it, 503 with
    /// `Retry-After`. Each holds a blocking thread on the folder store, so this keeps the pool free.
    #[serde(default = "defaults::upload_concurrency")]
    pub upload_concurrency: usize,
    /// Invitation emails an organisation may send in any 24 hours (default 50); past it, 429. Anyone can
    /// create an organisation, so this bounds what each can send in the service's name (one account with
    /// several organisations can send that much for each: there is no allowance per person yet).
    #[serde(default = "defaults::invitations_per_organisation_per_day")]
    pub invitations_per_organisation_per_day: u32,
    /// Unfinished uploads an organisation may have open at once (default 20); past it, 429.
    #[serde(default = "defaults::organisation_open_uploads")]
    pub organisation_open_uploads: u32,
    /// Bytes an organisation may store: its documents, and the declared length of its unfinished uploads
    /// (default 20 GiB); past it, 413.
    #[serde(default = "defaults::organisation_storage_bytes")]
    pub organisation_storage_bytes: u64,
    /// The ClamAV daemon that scans documents: `tcp://host:port` or `unix:///path`. Without it, documents are
    /// not scanned and are marked clean with `scanner: none`.
    #[serde(default)]
    pub clamd_address: Option<String>,
    /// Scan attempts (with backoff) before a document is marked `failed`.
    #[serde(default = "defaults::scan_attempts")]
    pub scan_attempts: u32,
    /// The longest one scan may take.
    #[serde(default = "defaults::scan_timeout", with = "humantime_serde")]
    pub scan_timeout: Duration,
    /// How often the email worker looks for work when no request on this node has woken it (other nodes'
    /// requests, deadline reminders, retries).
    #[serde(default = "defaults::email_poll", with = "humantime_serde")]
    pub email_poll: Duration,
    /// Serve the provider portal at `/` beside the API (`PROVIDER_API_PORTAL`, on by default).
    #[serde(default = "defaults::portal")]
    pub portal: bool,
    /// The origins people reach the portal at (a list, or comma-separated). By default the public base URL,
    /// or else the bound address (with `localhost` too when that is loopback).
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub portal_origins: Vec<String>,
    /// Where the portal keeps its sessions: by default a file beside an SQLite database, or the same
    /// PostgreSQL database (in its own table).
    #[serde(default)]
    pub portal_session_database_url: Option<SecretString>,
    /// The portal's OAuth client id, registered by the regulator's staff as a first-party confidential
    /// application. Without it (the local default) the server registers the portal itself on every start,
    /// with a new secret: right for one node, wrong for several sharing a database.
    #[serde(default)]
    pub portal_client_id: Option<String>,
    /// That client's secret.
    #[serde(default)]
    pub portal_client_secret: Option<SecretString>,
    /// How long a portal session lasts without use.
    #[serde(default = "defaults::portal_idle_timeout", with = "humantime_serde")]
    pub portal_idle_timeout: Duration,
    /// Where emails send people to act (no trailing slash): the portal's address. By default the first of
    /// `portal_origins`, or, with the portal served beside the API, the public base URL. Without one (an API
    /// with no portal), emails give the code and the API operation only.
    #[serde(default)]
    pub portal_url: Option<String>,
}

/// Where the service runs. Development (the default) keeps the one-machine conveniences: emails kept in a
/// folder rather than sent, documents served unscanned without a scanner. Production refuses to start
/// without what those conveniences stand in for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

mod defaults {
    use super::*;

    pub fn bind() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }
    pub fn database_url() -> SecretString {
        SecretString::from(DEFAULT_DATABASE_URL)
    }
    pub fn database_max_connections() -> u32 {
        10
    }
    pub fn database_acquire_timeout() -> Duration {
        Duration::from_secs(5)
    }
    pub fn body_limit() -> usize {
        2 * 1024 * 1024
    }
    pub fn request_timeout() -> Duration {
        Duration::from_secs(30)
    }
    pub fn body_timeout() -> Duration {
        Duration::from_secs(15)
    }
    pub fn shutdown_grace() -> Duration {
        Duration::from_secs(30)
    }
    pub fn access_token_ttl() -> Duration {
        Duration::from_secs(15 * 60)
    }
    pub fn mail_from() -> String {
        "Care Quality Commission <no-reply@provider-api.cqc.org.uk>".to_owned()
    }
    pub fn rate_limit_per_principal() -> NonZeroU32 {
        NonZeroU32::new(600).expect("non-zero")
    }
    pub fn rate_limit_per_organisation() -> NonZeroU32 {
        NonZeroU32::new(3000).expect("non-zero")
    }
    pub fn rate_limit_per_address() -> NonZeroU32 {
        NonZeroU32::new(300).expect("non-zero")
    }
    pub fn rate_limit_sign_in_per_address() -> NonZeroU32 {
        NonZeroU32::new(60).expect("non-zero")
    }
    pub fn rate_limit_sign_in_per_client() -> NonZeroU32 {
        NonZeroU32::new(1200).expect("non-zero")
    }
    pub fn document_storage() -> String {
        "data/documents".to_owned()
    }
    pub fn s3_region() -> String {
        "us-east-1".to_owned()
    }
    pub fn document_max_size() -> u64 {
        100 * 1024 * 1024
    }
    pub fn document_types() -> Vec<String> {
        provider_api_core::documents::MediaType::ALL.iter().map(|t| t.short_name().to_owned()).collect()
    }
    pub fn upload_expiry() -> Duration {
        Duration::from_secs(24 * 60 * 60)
    }
    pub fn rate_limit_store() -> SecretString {
        SecretString::from("memory")
    }
    pub fn rate_limit_key_prefix() -> String {
        "provider-api".to_owned()
    }
    pub fn mail_outbox() -> PathBuf {
        PathBuf::from("data/outbox")
    }
    pub fn upload_request_deadline() -> Duration {
        Duration::from_secs(15 * 60)
    }
    pub fn upload_concurrency() -> usize {
        64
    }
    pub fn invitations_per_organisation_per_day() -> u32 {
        50
    }
    pub fn organisation_open_uploads() -> u32 {
        20
    }
    pub fn organisation_storage_bytes() -> u64 {
        20 * 1024 * 1024 * 1024
    }
    pub fn scan_attempts() -> u32 {
        5
    }
    pub fn email_poll() -> Duration {
        Duration::from_secs(5)
    }
    pub fn scan_timeout() -> Duration {
        Duration::from_secs(300)
    }
    pub fn portal() -> bool {
        true
    }
    pub fn portal_idle_timeout() -> Duration {
        Duration::from_secs(30 * 60)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::from_figment(Figment::new()).expect("the defaults are valid")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration is invalid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Config {
    /// Defaults, then the TOML file (the argument, else `PROVIDER_API_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file: Option<PathBuf> =
            file.map(Path::to_path_buf).or_else(|| std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from));
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(vec![format!(
                    "the configuration file {} does not exist",
                    file.display()
                )]));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        // PROVIDER_API_CONFIG names the file, and PROVIDER_API_STAFF_PASSWORD is read by `create-staff`: neither
        // is a configuration key.
        Self::from_figment(figment.merge(Env::prefixed(ENV_PREFIX).ignore(&["config", "staff_password"])))
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Self = figment.extract().map_err(|error: figment::Error| {
            ConfigError::Invalid(error.into_iter().map(|e| e.to_string()).collect())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Where the portal keeps its sessions (see `portal_session_database_url`).
    pub fn portal_session_database_url(&self) -> String {
        if let Some(url) = &self.portal_session_database_url {
            return url.expose_secret().to_owned();
        }
        let database = self.database_url.expose_secret();
        match self.engine() {
            // A file of its own beside the API's, so sessions never wait on the API's writes.
            Some(Engine::Sqlite) => {
                let path = database.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                let folder = Path::new(path).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
                if path.is_empty() || path == ":memory:" || folder.is_empty() {
                    "sqlite://portal-sessions.db".to_owned()
                } else {
                    format!("sqlite://{folder}/portal-sessions.db")
                }
            }
            _ => database.to_owned(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.environment == Environment::Production {
            if self.smtp_url.is_none() {
                problems.push(
                    "smtp_url is required in production: without it, emails (with the codes and links they \
                     carry) are only written to a folder on this machine"
                        .to_owned(),
                );
            }
            if self.clamd_address.is_none() {
                problems.push(
                    "clamd_address is required in production: without it, documents are served without a \
                     malware scan"
                        .to_owned(),
                );
            }
        }
        if self.engine().is_none() {
            problems.push("database_url must start with sqlite: or postgres://".to_owned());
        }
        if self.database_max_connections == 0 {
            problems.push("database_max_connections must be at least 1".to_owned());
        }
        if self.body_limit == 0 {
            problems.push("body_limit must be at least 1 byte".to_owned());
        }
        for (name, value) in [
            ("request_timeout", self.request_timeout),
            ("body_timeout", self.body_timeout),
            ("database_acquire_timeout", self.database_acquire_timeout),
        ] {
            if value.is_zero() {
                problems.push(format!("{name} must be longer than zero"));
            }
        }
        if self.access_token_ttl.is_zero() || self.access_token_ttl > Duration::from_secs(15 * 60) {
            problems.push("access_token_ttl must be between 1s and 15m".to_owned());
        }
        if let Some(url) = &self.public_base_url
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/'))
        {
            problems.push(format!("public_base_url {url:?} must start with https:// (or http://) and not end with /"));
        }
        if let Some(url) = &self.portal_url
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/'))
        {
            problems.push(format!("portal_url {url:?} must start with https:// (or http://) and not end with /"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            problems.push(format!("mail_from {:?} is not an email address (optionally with a name)", self.mail_from));
        }
        if let Some(url) = &self.smtp_url
            && lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.expose_secret()).is_err()
        {
            problems.push("smtp_url is not an smtp:// or smtps:// URL".to_owned());
        }
        if self.portal_client_id.is_some() != self.portal_client_secret.is_some() {
            problems.push("portal_client_id and portal_client_secret go together: give both or neither".to_owned());
        }
        for origin in &self.portal_origins {
            if !(origin.starts_with("https://") || origin.starts_with("http://"))
                || origin.trim_start_matches("https://").trim_start_matches("http://").contains('/')
            {
                problems.push(format!("portal_origins: {origin:?} must be scheme://host[:port], with no path"));
            }
        }
        for proxy in &self.trusted_proxies {
            if proxy.parse::<std::net::IpAddr>().is_err() {
                problems.push(format!("trusted_proxies: {proxy:?} is not an IP address"));
            }
        }
        for origin in &self.cors_allowed_origins {
            if let Err(why) = check_origin(origin) {
                problems.push(format!("cors_allowed_origins: {origin:?} {why}"));
            }
        }
        problems.extend(self.document_problems());
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(problems)) }
    }

    fn document_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.document_max_size == 0 {
            problems.push("document_max_size must be at least 1 byte".to_owned());
        }
        for name in &self.document_types {
            if let Err(why) = name.parse::<provider_api_core::documents::MediaType>() {
                problems.push(format!("document_types: {why}"));
            }
        }
        if self.document_types.is_empty() {
            problems.push("document_types must name at least one type".to_owned());
        }
        if let Some(address) = &self.clamd_address
            && let Err(why) = address.parse::<crate::documents::scan::ClamdAddress>()
        {
            problems.push(format!("clamd_address: {why}"));
        }
        if self.scan_attempts == 0 {
            problems.push("scan_attempts must be at least 1".to_owned());
        }
        if self.upload_concurrency == 0 || self.upload_concurrency > 400 {
            problems
                .push("upload_concurrency must be between 1 and 400 (the blocking pool holds 512 threads)".to_owned());
        }
        if self.rate_limit_store.expose_secret() != "memory"
            && let Err(why) = crate::http::shared_counts::SharedCounts::new(self.rate_limit_store.expose_secret(), "")
        {
            problems.push(format!("rate_limit_store: {why}"));
        }
        if self.invitations_per_organisation_per_day == 0 {
            problems.push("invitations_per_organisation_per_day must be at least 1".to_owned());
        }
        if self.organisation_open_uploads == 0 {
            problems.push("organisation_open_uploads must be at least 1".to_owned());
        }
        for (name, value) in [
            ("upload_expiry", self.upload_expiry),
            ("scan_timeout", self.scan_timeout),
            ("upload_request_deadline", self.upload_request_deadline),
        ] {
            if value.is_zero() {
                problems.push(format!("{name} must be longer than zero"));
            }
        }
        if let Some(bucket) = self.document_storage.strip_prefix("s3://")
            && bucket.split('/').next().unwrap_or_default().is_empty()
        {
            problems.push("document_storage: s3:// needs a bucket, like s3://bucket/prefix".to_owned());
        }
        problems
    }

    /// Where document bytes go.
    pub fn blob_settings(&self) -> crate::documents::blob::BlobSettings {
        use crate::documents::blob::{BlobSettings, S3Settings};
        match self.document_storage.strip_prefix("s3://") {
            None => BlobSettings::Fs(PathBuf::from(&self.document_storage)),
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let prefix = prefix.trim_matches('/');
                BlobSettings::S3(S3Settings {
                    bucket: bucket.to_owned(),
                    prefix: if prefix.is_empty() { String::new() } else { format!("{prefix}/") },
                    endpoint: self.s3_endpoint.clone(),
                    region: self.s3_region.clone(),
                    access_key_id: self.s3_access_key_id.clone(),
                    secret_access_key: self.s3_secret_access_key.clone(),
                })
            }
        }
    }

    /// Limits and scanning for documents.
    pub fn document_settings(&self) -> crate::documents::DocumentSettings {
        crate::documents::DocumentSettings {
            max_size: self.document_max_size,
            allowed_types: self.document_types.iter().filter_map(|t| t.parse().ok()).collect(),
            upload_expiry: self.upload_expiry,
            clamd: self
                .clamd_address
                .as_ref()
                .and_then(|a| a.parse().ok())
                .map(|address| crate::documents::scan::Clamd { address, timeout: self.scan_timeout }),
            scan_attempts: self.scan_attempts,
            request_deadline: self.upload_request_deadline,
            concurrency: self.upload_concurrency,
            open_uploads_quota: self.organisation_open_uploads,
            storage_quota: self.organisation_storage_bytes,
        }
    }

    /// Opens the database this configuration names (without migrating it).
    pub async fn open_store(
        &self,
    ) -> Result<std::sync::Arc<dyn provider_api_store::Store>, provider_api_store::StoreError> {
        let settings = provider_api_store::PoolSettings {
            max_connections: self.database_max_connections,
            acquire_timeout: self.database_acquire_timeout,
        };
        provider_api_store::open(self.database_url.expose_secret(), settings).await
    }

    pub fn engine(&self) -> Option<Engine> {
        Engine::of_url(self.database_url.expose_secret())
    }

    pub fn trusted_proxies(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| p.parse::<std::net::IpAddr>().ok())
            .map(|p| p.to_canonical())
            .collect()
    }

    pub fn quotas(&self) -> crate::http::rate_limit::Quotas {
        crate::http::rate_limit::Quotas {
            per_principal: self.rate_limit_per_principal,
            per_organisation: self.rate_limit_per_organisation,
            per_address: self.rate_limit_per_address,
            sign_in_per_address: self.rate_limit_sign_in_per_address,
            sign_in_per_client: self.rate_limit_sign_in_per_client,
        }
    }

    pub fn http_policy(&self) -> HttpPolicy {
        HttpPolicy {
            body_limit: self.body_limit,
            request_timeout: self.request_timeout,
            body_timeout: self.body_timeout,
            cors_allowed_origins: self
                .cors_allowed_origins
                .iter()
                .map(|origin| HeaderValue::from_str(origin).expect("validated at load"))
                .collect(),
            trusted_proxies: self.trusted_proxies(),
        }
    }
}

/// An origin is a scheme, a host and an optional port: nothing else (RFC 6454).
fn check_origin(origin: &str) -> Result<(), &'static str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '*', '@']) {
        return Err("must be only a scheme, a host and an optional port, like https://portal.example.org");
    }
    HeaderValue::from_str(origin).map(drop).map_err(|_| "is not a valid header value")
}

fn list_or_comma_separated<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::String(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(items.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(Figment::new().merge(Toml::string(toml)))
    }

    #[test]
    fn defaults_are_the_embedded_sqlite_database_on_localhost_8080() {
        let config = Config::default();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.engine(), Some(Engine::Sqlite));
        assert!(config.cors_allowed_origins.is_empty());
    }

    #[test]
    fn the_database_url_never_appears_in_debug_output() {
        let config = with(r#"database_url = "postgres://app:hunter2@db/provider""#).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert_eq!(config.engine(), Some(Engine::Postgres));
    }

    #[test]
    fn a_redis_password_never_appears_in_debug_output() {
        let config = with(r#"rate_limit_store = "redis://:hunter2@cache:6379/""#).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = with(
            r#"
            database_url = "mysql://db"
            body_limit = 0
            request_timeout = "0s"
            cors_allowed_origins = ["https://ok.example", "ftp://bad.example", "https://x.example/path"]
            "#,
        )
        .unwrap_err()
        .to_string();
        for expected in ["database_url", "body_limit", "request_timeout", "ftp://bad.example", "/path"] {
            assert!(error.contains(expected), "{expected} missing from: {error}");
        }
    }

    #[test]
    fn durations_read_as_human_text_and_origins_as_a_comma_separated_list() {
        let config = with(
            r#"
            request_timeout = "2m"
            cors_allowed_origins = "https://portal.example, http://localhost:3000"
            "#,
        )
        .unwrap();
        assert_eq!(config.request_timeout, Duration::from_secs(120));
        assert_eq!(config.cors_allowed_origins, ["https://portal.example", "http://localhost:3000"]);
    }

    #[test]
    fn a_bad_bind_address_is_refused_with_its_name() {
        let error = with(r#"bind = "localhost""#).unwrap_err().to_string();
        assert!(error.contains("bind"), "{error}");
    }

    #[test]
    fn unknown_keys_are_refused_so_typos_do_not_pass_silently() {
        let error = with("bodylimit = 5").unwrap_err().to_string();
        assert!(error.contains("bodylimit"), "{error}");
    }
}
