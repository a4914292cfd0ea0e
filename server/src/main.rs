//! The `provider-api` command: serves the API (and the provider portal beside it at `/`), and the
//! operator's commands. A thin composition of the crates that do the work; see `docs/architecture.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use provider_api_core::audit::NewEntry;
use provider_api_core::capability::StaffRole;
use provider_api_core::clock::{Clock, SystemClock};
use provider_api_http::auth::keys::KeyRing;
use provider_api_http::config::Config;
use provider_api_http::{Application, DOCS_ROUTE, audit, bootstrap, openapi, telemetry};
use provider_api_store::Store;

/// The Care Quality Commission's provider API.
///
/// Configuration: built-in defaults, then the TOML file given by --config or PROVIDER_API_CONFIG, then
/// PROVIDER_API_* environment variables (for example PROVIDER_API_BIND, PROVIDER_API_DATABASE_URL).
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): migrates the database, then listens until SIGINT or SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a demo provider (a location, an admin, a drafter, two submitters and an API client) in the
    /// configured database, and print their credentials.
    Demo {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create a member of the regulator's staff. The password is read from PROVIDER_API_STAFF_PASSWORD.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Staff roles, comma-separated: staff_triage, staff_registration, staff_admin.
        #[arg(long, value_delimiter = ',', default_value = "staff_admin")]
        roles: Vec<StaffRole>,
    },
    /// Make a new token-signing key; the old one stays published until its tokens expire.
    RotateKeys,
    /// The regulator's published register (docs/register.md).
    Register {
        #[command(subcommand)]
        command: RegisterCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write the OpenAPI document the code describes (as `cargo run -p provider-api-http --bin
    /// provider-api-openapi` does, which builds the API alone).
    Openapi {
        /// Where to write it.
        #[arg(long, default_value = openapi::SPEC_PATH)]
        out: PathBuf,
        /// Only check that the file is current; exit 1 when it is not.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum RegisterCommand {
    /// Import a register file: the monthly HSCA_Active_Locations workbook (.ods), a CSV of its main sheet, or
    /// syndication records as NDJSON. Prints the report as JSON; exits 1 if the import stopped early.
    /// Idempotent: the same file again changes nothing.
    Import {
        file: PathBuf,
        /// ods, csv or ndjson; by default, what the file's name ends with.
        #[arg(long)]
        kind: Option<String>,
        /// The date the file speaks for (yyyy-mm-dd); read from the workbook's README sheet when absent.
        #[arg(long)]
        as_of: Option<String>,
        /// Compare and report only; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain from the first entry to the last; exit 1 and name the first broken link if it
    /// does not hold. Prints the head (`seq:hash`): keep it outside the database and pass it back with
    /// `--head`, so that removing the newest entries (which leaves a shorter, intact chain) shows too.
    Verify {
        /// A head recorded earlier (`seq:hash`): the chain must still hold that entry with that hash.
        #[arg(long)]
        head: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("provider-api: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(Command::Openapi { out, check }) = &cli.command {
        return openapi::write_or_check(out, *check);
    }
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let mut application = Application::build(config.clone()).await?;
            let address = application.local_addr();
            if config.portal {
                application = provider_api::with_portal(application, &config, Arc::new(SystemClock)).await?;
                eprintln!("Provider portal: http://{address}/");
            }
            tracing::info!(%address, "provider API listening");
            eprintln!("Provider API: http://{address}/v1   API docs: http://{address}{DOCS_ROUTE}");
            // A first run has nobody to sign in as: say how to make a demo provider rather than leave someone at
            // a sign-in page with no account.
            let store = application.store();
            let first = store.organisations_after(time::OffsetDateTime::UNIX_EPOCH, uuid::Uuid::nil(), 1).await;
            if first.is_ok_and(|organisations| organisations.is_empty()) {
                eprintln!(
                    "No provider is set up yet. To try it, stop the server and run `cargo run -p provider-api -- demo` \
(it prints people to sign in as), then start it again."
                );
            }
            application.run_until_stopped().await?;
        }
        Command::Migrate => {
            open_migrated(&config).await?.close().await;
            eprintln!("provider-api: the database is up to date");
        }
        Command::Demo { json } => {
            let store = open_migrated(&config).await?;
            let demo = bootstrap::create_demo(store.as_ref(), SystemClock.now()).await?;
            // Its people and API client hold credentials: on record like any other.
            let entry = NewEntry {
                organisation_id: Some(demo.organisation_id),
                detail: Some(serde_json::json!({"client_id": demo.client_id}).to_string()),
                ..NewEntry::at(
                    SystemClock.now(),
                    "cli.demo",
                    "CLI",
                    &format!("/v1/organisations/{}", demo.organisation_id),
                )
            };
            store.append_audit(&[entry]).await?;
            store.close().await;
            print_demo(&demo, json, &config)?;
        }
        Command::CreateStaff { email, name, roles } => {
            let password = std::env::var("PROVIDER_API_STAFF_PASSWORD")
                .context("set PROVIDER_API_STAFF_PASSWORD to the new account's password")?;
            let store = open_migrated(&config).await?;
            let roles = roles.into_iter().collect();
            let user =
                bootstrap::create_staff(store.as_ref(), &email, &name, &password, &roles, SystemClock.now()).await?;
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let entry = NewEntry {
                detail: Some(serde_json::json!({"roles": roles}).to_string()),
                ..NewEntry::at(SystemClock.now(), "cli.create_staff", "CLI", &format!("/v1/admin/users/{}", user.id))
            };
            store.append_audit(&[entry]).await?;
            store.close().await;
            eprintln!("provider-api: created staff account {} ({})", user.email, user.id);
        }
        Command::RotateKeys => {
            let store = open_migrated(&config).await?;
            let kid = KeyRing::rotate(store.as_ref(), SystemClock.now()).await?;
            let entry = NewEntry {
                detail: Some(serde_json::json!({"kid": kid}).to_string()),
                ..NewEntry::at(SystemClock.now(), "cli.rotate_keys", "CLI", "/.well-known/jwks.json")
            };
            store.append_audit(&[entry]).await?;
            store.close().await;
            eprintln!("provider-api: new signing key {kid}; restart or wait for nodes to pick it up");
        }
        Command::Register { command: RegisterCommand::Import { file, kind, as_of, dry_run } } => {
            use provider_api_http::register::{Kind, import_file, parse_as_of};
            let kind = match kind.as_deref() {
                Some("ods") => Kind::Ods,
                Some("csv") => Kind::Csv,
                Some("ndjson") => Kind::Ndjson,
                Some(other) => anyhow::bail!("--kind is ods, csv or ndjson, not {other}"),
                None => Kind::of_name(&file.to_string_lossy())
                    .context("give --kind: the file's name does not end in .ods, .csv or .ndjson")?,
            };
            let as_of = match as_of.as_deref() {
                None => None,
                Some(text) => Some(parse_as_of(text).context("--as-of is yyyy-mm-dd")?),
            };
            anyhow::ensure!(file.is_file(), "{} is not a file", file.display());
            let store = open_migrated(&config).await?;
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let report = import_file(store.clone(), clock, file.clone(), kind, as_of, dry_run).await?;
            let entry = NewEntry {
                detail: Some(
                    serde_json::json!({"file": file.display().to_string(), "dry_run": dry_run, "status": report.status})
                        .to_string(),
                ),
                ..NewEntry::at(
                    SystemClock.now(),
                    "cli.register_import",
                    "CLI",
                    &format!("/v1/admin/register-imports/{}", report.id),
                )
            };
            store.append_audit(&[entry]).await?;
            store.close().await;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if let Some(failure) = &report.failure {
                eprintln!("provider-api: the import stopped: {failure}");
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Audit { command: AuditCommand::Verify { head } } => {
            let store = open_migrated(&config).await?;
            let verdict = audit::verify(store.as_ref()).await?;
            let recorded = match head.as_deref().map(|h| h.split_once(':')) {
                None => None,
                Some(Some((seq, hash))) => Some((seq.parse::<i64>().context("--head is seq:hash")?, hash.to_owned())),
                Some(None) => anyhow::bail!("--head is seq:hash"),
            };
            let head_holds = match &recorded {
                Some((seq, hash)) => audit::holds_head(store.as_ref(), *seq, hash).await?,
                None => true,
            };
            let head = audit::head(store.as_ref(), verdict.entries).await?;
            store.close().await;
            if let Some((seq, _)) = recorded.as_ref().filter(|_| !head_holds) {
                eprintln!(
                    "provider-api: the audit chain no longer holds entry {seq} with the recorded hash: entries were removed or rewritten"
                );
                return Ok(ExitCode::FAILURE);
            }
            match verdict.first_broken {
                None => {
                    eprintln!("provider-api: the audit chain holds ({} entries)", verdict.entries);
                    println!("{head}");
                }
                Some((seq, why)) => {
                    eprintln!(
                        "provider-api: the audit chain is broken at entry {seq}: {why} ({} entries before it hold)",
                        verdict.entries
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Openapi { .. } => unreachable!("handled before configuration"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn open_migrated(config: &Config) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let store = config.open_store().await.context("could not open the database")?;
    store.migrate().await.context("could not migrate the database")?;
    Ok(store)
}

fn print_demo(demo: &bootstrap::DemoCredentials, json: bool, config: &Config) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(demo)?);
        return Ok(());
    }
    println!("Demo provider created.\n");
    println!("  organisation_id  {}", demo.organisation_id);
    println!("  location_id      {}\n", demo.location_id);
    for user in &demo.users {
        let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
        println!("  {:<10} {}  password {}", roles.join(","), user.email, user.password);
    }
    if config.portal {
        let at = config.public_base_url.clone().unwrap_or_else(|| format!("http://{}", config.bind));
        println!("\n  Each of them can sign in to the provider portal at {at}/ once `provider-api` is serving.");
    }
    println!("\n  API client (drafter, submitter; every scope)");
    println!("  client_id      {}", demo.client_id);
    println!("  client_secret  {}  (shown once)", demo.client_secret);
    println!(
        "\n  Applications for the people to sign in through (public, PKCE S256; redirect_uri {})",
        demo.redirect_uri
    );
    println!("  integrator     {}  a third party: acts within the scopes a person grants it", demo.integrator_app_id);
    println!("  portal         {}  first-party: admins may also manage API clients here", demo.portal_app_id);
    println!("  staff portal   {}  first-party, for the regulator's staff (create-staff)", demo.staff_app_id);
    Ok(())
}
