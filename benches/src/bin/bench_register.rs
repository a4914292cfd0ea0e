//! Importing the regulator's register (docs/register.md): a generated file of N locations (default 60,000)
//! in the published layout, imported by the real `provider-api register import` command into a fresh
//! SQLite file and a fresh PostgreSQL database. Prints, per engine: the first import's time, rows/s and peak
//! resident memory; a second import of the same file (which must report 0 changes) and of the same rows as
//! the ODS workbook. The ceiling, measured in the same run: reading the file alone (no database), in a
//! process of its own, for CSV and for ODS; and, for comparison, the peak of loading the workbook's sheet
//! whole with calamine. Peaks are each process's own maximum resident set (`wait4`'s `ru_maxrss`).
//!
//!     PROVIDER_API_BIN=target/release/provider-api TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         target/release/bench_register [LOCATIONS]
//!
//! Target (issue 20): the first import under a minute on PostgreSQL; enforced, as are 0 changes the second
//! time.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use provider_api_http::register::read::{self, Item, Kind};
use provider_api_tests::TestDatabase;
use provider_api_tests::register::RegisterFile;
use time::macros::date;

/// A child process's outcome: its output, how long it took and its peak resident memory.
struct Measured {
    stdout: String,
    stderr: String,
    elapsed: Duration,
    peak_kib: u64,
    success: bool,
}

fn measured(mut command: Command) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().context("spawning")?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reading_out = std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).map(|_| text)
    });
    let reading_err = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).map(|_| text)
    });
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; the pid is our own child's, not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    ensure!(reaped == pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let elapsed = started.elapsed();
    Ok(Measured {
        stdout: reading_out.join().expect("reader thread")?,
        stderr: reading_err.join().expect("reader thread")?,
        elapsed,
        // Linux reports kibibytes.
        peak_kib: usage.ru_maxrss as u64,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The child modes: read a file and count what it holds (the ceiling), or load the sheet with calamine.
fn child_mode(args: &[String]) -> anyhow::Result<bool> {
    match args.get(1).map(String::as_str) {
        Some("--read") => {
            let kind = match args[2].as_str() {
                "csv" => Kind::Csv,
                "ods" => Kind::Ods,
                _ => Kind::Ndjson,
            };
            let (mut rows, mut refused) = (0, 0);
            read::read(Path::new(&args[3]), kind, &mut |item| {
                match item {
                    Item::Refused(_) => refused += 1,
                    _ => rows += 1,
                }
                true
            })?;
            println!("{rows} {refused}");
            Ok(true)
        }
        Some("--calamine") => {
            use calamine::Reader;
            let mut workbook: calamine::Ods<_> = calamine::open_workbook(&args[2])?;
            let range = workbook.worksheet_range(read::MAIN_SHEET)?;
            println!("{} 0", range.height().saturating_sub(1));
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if child_mode(&args)? {
        return Ok(());
    }
    let locations: usize = args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(60_000);
    let binary = PathBuf::from(std::env::var("PROVIDER_API_BIN").context("set PROVIDER_API_BIN to provider-api")?);
    let postgres = std::env::var("TEST_DATABASE_URL").context("set TEST_DATABASE_URL to a PostgreSQL server")?;
    let me = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    let as_of = date!(2026 - 12 - 01);
    let file = RegisterFile::new(locations, as_of);
    let (csv, ods) = (dir.path().join("register.csv"), dir.path().join("register.ods"));
    let started = Instant::now();
    file.write_csv(&csv)?;
    file.write_ods(&ods)?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1_048_576.0).unwrap_or(0.0);
    println!(
        "register import, {locations} generated locations ({} providers): CSV {:.1} MiB, ODS {:.1} MiB, written in {:.1} s",
        RegisterFile::provider_of(locations - 1) + 1,
        size(&csv),
        size(&ods),
        started.elapsed().as_secs_f64()
    );

    println!("\nceiling: reading the file alone (no database), a process each");
    for (kind, path) in [("csv", &csv), ("ods", &ods)] {
        let mut command = Command::new(&me);
        command.args(["--read", kind]).arg(path);
        let run = measured(command)?;
        ensure!(run.success, "reading {kind} failed: {}", run.stderr);
        let rows: usize = run.stdout.split_whitespace().next().context("a count")?.parse()?;
        ensure!(rows == locations, "reading {kind} gave {rows} rows, not {locations}");
        println!(
            "  {kind:<8} {:>8.1} s  {:>9.0} rows/s  peak {:>7.1} MiB",
            run.elapsed.as_secs_f64(),
            rows as f64 / run.elapsed.as_secs_f64(),
            mib(run.peak_kib)
        );
    }
    let mut command = Command::new(&me);
    command.arg("--calamine").arg(&ods);
    let whole = measured(command)?;
    ensure!(whole.success, "calamine failed: {}", whole.stderr);
    println!(
        "  ods, loaded whole by calamine (for comparison, not used): {:.1} s, peak {:.1} MiB",
        whole.elapsed.as_secs_f64(),
        mib(whole.peak_kib)
    );

    let sqlite = TestDatabase::fresh_sqlite();
    let pg = tokio::runtime::Runtime::new()?.block_on(TestDatabase::fresh_postgres(postgres));
    let mut first_on_postgres = Duration::ZERO;
    for (engine, database) in [("SQLite", &sqlite), ("PostgreSQL", &pg)] {
        println!("\n{engine}");
        let provider_api = |args: &[&str]| {
            let mut command = Command::new(&binary);
            // PROVIDER_API_BIN names the binary for this program; the server would read it as configuration.
            command
                .env_remove("PROVIDER_API_BIN")
                .env("PROVIDER_API_DATABASE_URL", database.url())
                .env("RUST_LOG", "warn")
                .args(args);
            command
        };
        let migrated = measured(provider_api(&["migrate"]))?;
        ensure!(migrated.success, "migrate failed: {}", migrated.stderr);
        for (what, path, kind) in [
            ("first import (CSV)", &csv, "csv"),
            ("second import (CSV)", &csv, "csv"),
            ("same rows as ODS", &ods, "ods"),
        ] {
            let path = path.to_string_lossy().into_owned();
            let run = measured(provider_api(&["register", "import", &path, "--kind", kind, "--as-of", "2026-12-01"]))?;
            if !run.success {
                bail!("{what} on {engine} failed: {}\n{}", run.stderr, run.stdout);
            }
            let report: serde_json::Value = serde_json::from_str(&run.stdout).context("the report is JSON")?;
            let count = |pointer: &str| report.pointer(pointer).and_then(serde_json::Value::as_i64).unwrap_or(-1);
            let (created, updated) = (
                count("/providers/created") + count("/locations/created"),
                count("/providers/updated") + count("/locations/updated"),
            );
            println!(
                "  {what:<22} {:>6.1} s  {:>8.0} rows/s  peak {:>6.1} MiB  created {created}, updated {updated}, unchanged {}, refused {}, conflicts {}",
                run.elapsed.as_secs_f64(),
                count("/rows_read") as f64 / run.elapsed.as_secs_f64(),
                mib(run.peak_kib),
                count("/providers/unchanged") + count("/locations/unchanged"),
                count("/refused/count"),
                count("/conflicts/count"),
            );
            ensure!(count("/rows_read") == locations as i64, "{what}: read {} rows", count("/rows_read"));
            if what.starts_with("first") {
                ensure!(count("/locations/created") == locations as i64, "{what}: not every location was created");
                if engine == "PostgreSQL" {
                    first_on_postgres = run.elapsed;
                }
            } else {
                ensure!(
                    created == 0 && updated == 0,
                    "{what}: an import of the same rows changed {created} + {updated}"
                );
            }
        }
    }
    println!(
        "\ntarget: first import on PostgreSQL under 60 s: {:.1} s ({})",
        first_on_postgres.as_secs_f64(),
        if first_on_postgres < Duration::from_secs(60) { "met" } else { "MISSED" }
    );
    ensure!(first_on_postgres < Duration::from_secs(60), "the import took a minute or more on PostgreSQL");
    Ok(())
}
