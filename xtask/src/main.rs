//! `cargo xtask test`: every test of the project, on a fresh machine. The document tests need a real ClamAV
//! daemon and a real S3-compatible server, the email tests a real SMTP server (aiosmtpd), the portal's pages
//! Chromium; this installs them first (idempotently, quietly) and fails loudly, naming what it could not
//! install. It never skips a test.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

/// The newest s3s-fs release that builds with the toolchain this project pins (`rust-version`).
const S3S_FS_VERSION: &str = "0.14.1";

const USAGE: &str = "\
usage: cargo xtask <task>

  test [FILTER…]   install what the tests need (clamd, s3s-fs, aiosmtpd, redis-server, Chromium, the
                   browser tests' npm packages), then
                   run every test: the workspace on the
                   embedded SQLite database with documents on S3 (s3s-fs), then the document and
                   hostile-input tests on the filesystem store. Set TEST_DATABASE_URL=postgres://… to run them on PostgreSQL instead.
                   FILTER is passed to `cargo test` (and the filesystem run is left out). On PostgreSQL
                   only the suites that use the database run (tests/api, tests/storage, tests/portal).
  tools            install what the tests need, and print where the tools are";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let task = args.next().and_then(|a| a.into_string().ok());
    let rest: Vec<OsString> = args.collect();
    let outcome = match task.as_deref() {
        Some("test") => tools().and_then(|tools| test(&tools, &rest)),
        Some("tools") if rest.is_empty() => tools().map(|tools| {
            println!(
                "clamd: {}\ns3s-fs: {}\nchromium: {}\naiosmtpd: {}\nredis-server: {}",
                tools.clamd.display(),
                tools.s3s_fs.display(),
                tools.chromium.display(),
                tools.aiosmtpd.display(),
                tools.redis_server.display()
            );
        }),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure::Usage),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage) => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Install { what, why }) => {
            eprintln!("cargo xtask: FAILED to install {what}: {why}");
            ExitCode::FAILURE
        }
        Err(Failure::Tests(code)) => {
            eprintln!("cargo xtask: tests FAILED");
            ExitCode::from(code)
        }
    }
}

enum Failure {
    Usage,
    Install { what: &'static str, why: String },
    Tests(u8),
}

struct Tools {
    clamd: PathBuf,
    s3s_fs: PathBuf,
    chromium: PathBuf,
    aiosmtpd: PathBuf,
    redis_server: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn tools() -> Result<Tools, Failure> {
    let tools = Tools {
        clamd: clamd()?,
        s3s_fs: s3s_fs()?,
        chromium: chromium()?,
        aiosmtpd: aiosmtpd()?,
        redis_server: redis_server()?,
    };
    browser_packages()?;
    Ok(tools)
}

/// The tests start their own clamd (a signature database of EICAR alone); the binary comes from Debian.
fn clamd() -> Result<PathBuf, Failure> {
    debian_package(
        "clamd (Debian packages clamav-daemon and clamav)",
        &["clamav-daemon", "clamav"],
        &["/usr/sbin/clamd", "/usr/bin/clamd"],
    )
}

/// The tests' SMTP server: aiosmtpd, a maintained Python package, from Debian (run with Debian's Python).
fn aiosmtpd() -> Result<PathBuf, Failure> {
    debian_package(
        "aiosmtpd (Debian package python3-aiosmtpd)",
        &["python3-aiosmtpd"],
        &["/usr/lib/python3/dist-packages/aiosmtpd/__init__.py"],
    )
}

/// The shared-limit tests start a private Redis of their own to stop mid-run (the machine's Redis on 6379 is
/// shared, and must keep running); the binary comes from Debian.
fn redis_server() -> Result<PathBuf, Failure> {
    debian_package("redis-server (Debian package redis-server)", &["redis-server"], &["/usr/bin/redis-server"])
}

/// The portal's browser tests drive Debian's Chromium (not a browser downloaded by npm) with Node.
fn chromium() -> Result<PathBuf, Failure> {
    debian_package("Node.js (Debian packages nodejs and npm)", &["nodejs", "npm"], &["/usr/bin/node"])?;
    debian_package("Chromium (Debian package chromium)", &["chromium"], &["/usr/bin/chromium"])
}

/// The browser tests' npm packages (playwright-core, axe-core), at the versions `tests/browser/package-lock.json`
/// pins, installed when they are not there already.
fn browser_packages() -> Result<(), Failure> {
    const WHAT: &str = "the browser tests' npm packages (npm ci in tests/browser)";
    let folder = workspace_root().join("tests").join("browser");
    let installed = folder.join("node_modules").join(".package-lock.json");
    let wanted = std::fs::read(folder.join("package-lock.json"))
        .map_err(|e| Failure::Install { what: WHAT, why: format!("tests/browser/package-lock.json: {e}") })?;
    // npm writes what it installed to node_modules/.package-lock.json; the same packages need nothing.
    if std::fs::read(&installed).is_ok_and(|have| same_packages(&have, &wanted)) {
        return Ok(());
    }
    eprintln!("cargo xtask: installing {WHAT}…");
    run_quietly(Command::new("npm").args(["ci", "--silent", "--no-audit", "--no-fund"]).current_dir(&folder))
        .map_err(|why| Failure::Install { what: WHAT, why })?;
    Ok(())
}

/// Whether npm's record of what it installed names the packages the lock file pins (its `packages`, less the
/// root entry the lock file has and the record does not).
fn same_packages(installed: &[u8], lock: &[u8]) -> bool {
    let packages = |bytes: &[u8]| -> Option<Vec<(String, String)>> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut found = Vec::new();
        for (at, _) in text.match_indices("\"node_modules/") {
            let name = text[at + 1..].split('"').next()?.to_owned();
            let version = text[at..].split("\"version\": \"").nth(1)?.split('"').next()?.to_owned();
            found.push((name, version));
        }
        found.sort();
        found.dedup();
        Some(found)
    };
    packages(installed).is_some_and(|have| Some(have) == packages(lock))
}

/// Installs Debian `packages` with apt-get (as root, or through `sudo -n`) unless one of `binaries` exists.
fn debian_package(what: &'static str, packages: &[&str], binaries: &[&str]) -> Result<PathBuf, Failure> {
    let find = || binaries.iter().map(PathBuf::from).find(|p| p.exists());
    if let Some(found) = find() {
        return Ok(found);
    }
    eprintln!("cargo xtask: installing {what}…");
    let root = run_quietly(Command::new("id").arg("-u")).is_ok_and(|out| out.stdout.trim_ascii() == b"0");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run_quietly(&mut command)
    };
    apt(&["update", "-qq"]).map_err(|why| Failure::Install { what, why })?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend_from_slice(packages);
    apt(&install).map_err(|why| Failure::Install {
        what,
        why: if root { why } else { format!("{why}\n(not root, and `sudo -n` was refused or failed)") },
    })?;
    find().ok_or(Failure::Install { what, why: "apt-get succeeded but the program did not appear".into() })
}

/// A real S3 protocol server backed by a folder, built from crates.io into the target folder.
fn s3s_fs() -> Result<PathBuf, Failure> {
    const WHAT: &str = "s3s-fs (cargo install s3s-fs)";
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let root = target.join("tools");
    let binary = root.join("bin").join("s3s-fs");
    if binary.exists() {
        return Ok(binary);
    }
    eprintln!("cargo xtask: installing {WHAT} {S3S_FS_VERSION} into {} (a few minutes, once)…", root.display());
    run_quietly(
        Command::new(cargo())
            .args(["install", "--quiet", "--locked", "s3s-fs", "--version", S3S_FS_VERSION, "--features", "binary"])
            .arg("--root")
            .arg(&root),
    )
    .map_err(|why| Failure::Install { what: WHAT, why })?;
    if binary.exists() { Ok(binary) } else { Err(Failure::Install { what: WHAT, why: "no binary appeared".into() }) }
}

fn test(tools: &Tools, filter: &[OsString]) -> Result<(), Failure> {
    let root = workspace_root();
    let postgres = std::env::var_os("TEST_DATABASE_URL").is_some_and(|v| !v.is_empty());
    let engine = if postgres { "PostgreSQL (TEST_DATABASE_URL)" } else { "SQLite" };
    eprintln!("cargo xtask: every test on {engine}, documents on S3 (s3s-fs)");
    let mut workspace = Command::new(cargo());
    workspace
        .current_dir(&root)
        .env("TEST_S3S_FS", &tools.s3s_fs)
        .env("TEST_CHROMIUM", &tools.chromium)
        .env("TEST_REDIS_SERVER", &tools.redis_server);
    if postgres && filter.is_empty() {
        // Only the black-box suites reach the database named by TEST_DATABASE_URL: the API's, the storage
        // conformance suite and the portal's. The crates' own unit and doc tests, the architecture rules and
        // the pages in Chromium (the same HTML whichever database is behind the API) do not, and the SQLite
        // run has just run them: a second run would only cost CI minutes.
        // `--workspace` with the suites named, not `-p provider-api-tests`: the same package selection as the
        // SQLite run, so the same features and the same build (another selection recompiles for a minute).
        workspace.args(["test", "--workspace", "--locked", "--test", "api", "--test", "storage", "--test", "portal"]);
        eprintln!("cargo xtask: the API, storage and portal suites (those that use the database) on PostgreSQL");
    } else {
        workspace.args(["test", "--workspace", "--locked"]).args(filter);
    }
    run_tests(&mut workspace)?;
    if filter.is_empty() {
        // The same document tests against the filesystem store, the embedded default, and the hostile-input
        // corpus, which counts stored files only there (s3s-fs keeps bookkeeping files of its own).
        eprintln!("cargo xtask: document and hostile-input tests on {engine}, documents on the filesystem store");
        let mut filesystem = Command::new(cargo());
        filesystem
            .current_dir(&root)
            .args(["test", "--workspace", "--locked", "--test", "api", "--", "documents::", "hostile::"])
            .env_remove("TEST_S3S_FS");
        run_tests(&mut filesystem)?;
    }
    Ok(())
}

fn run_tests(command: &mut Command) -> Result<(), Failure> {
    let status = command.status().map_err(|e| Failure::Install { what: "cargo", why: e.to_string() })?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Failure::Tests(u8::try_from(code).unwrap_or(1).max(1))),
        None => Err(Failure::Tests(1)),
    }
}

/// Runs a command with its output captured, and returns that output only when it fails.
fn run_quietly(command: &mut Command) -> Result<Output, String> {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| format!("`{shown}` could not start: {e}"))?;
    if output.status.success() {
        return Ok(output);
    }
    let tail = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    Err(format!("`{shown}` exited with {}\n{}\n{}", output.status, tail(&output.stdout), tail(&output.stderr)))
}
