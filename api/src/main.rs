use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use provider_api::config::Config;
use provider_api::{Application, DOCS_ROUTE, openapi, store, telemetry};

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
    /// Write the OpenAPI document the code describes.
    Openapi {
        /// Where to write it.
        #[arg(long, default_value = openapi::SPEC_PATH)]
        out: PathBuf,
        /// Only check that the file is current; exit 1 when it is not.
        #[arg(long)]
        check: bool,
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
        return write_spec(out, *check);
    }
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let application = Application::build(config).await?;
            let address = application.local_addr();
            tracing::info!(%address, "provider API listening");
            eprintln!("Provider API: http://{address}/v1   API docs: http://{address}{DOCS_ROUTE}");
            application.run_until_stopped().await?;
        }
        Command::Migrate => {
            let store = store::open(&config).await.context("could not open the database")?;
            store.migrate().await.context("could not migrate the database")?;
            store.close().await;
            eprintln!("provider-api: the database is up to date");
        }
        Command::Openapi { .. } => unreachable!("handled before configuration"),
    }
    Ok(ExitCode::SUCCESS)
}

fn write_spec(out: &std::path::Path, check: bool) -> anyhow::Result<ExitCode> {
    let spec = openapi::spec_json();
    if check {
        let current = std::fs::read_to_string(out).unwrap_or_default();
        if current != spec {
            eprintln!("provider-api: {} is stale; run `cargo run -p provider-api -- openapi`", out.display());
            return Ok(ExitCode::FAILURE);
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(out, spec).with_context(|| format!("could not write {}", out.display()))?;
    eprintln!("provider-api: wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}
