//! The crate graph is the architecture (`docs/architecture.md`): the compiler keeps the layers apart only if
//! the dependencies do. This reads the resolved graph from `cargo metadata` (normal and build dependencies,
//! transitively; dev-dependencies are the tests' business) and fails when a layer reaches where it must not.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

/// Crates that speak HTTP: a layer below the API must not pull in any of them.
const HTTP: &[&str] = &["axum", "axum-core", "hyper", "hyper-util", "h2", "http", "tower", "tower-http", "reqwest"];
/// The server's own crates: the SDK, which vendors depend on, must not need any of them.
const SERVER: &[&str] = &["provider-api-core", "provider-api-store", "provider-api-http", "provider-api"];

struct Graph {
    names: HashMap<String, String>,
    deps: HashMap<String, Vec<String>>,
    ids: HashMap<String, String>,
}

impl Graph {
    fn load() -> Self {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
        let mut names = HashMap::new();
        let mut ids = HashMap::new();
        for package in metadata["packages"].as_array().unwrap() {
            let (id, name) = (package["id"].as_str().unwrap(), package["name"].as_str().unwrap());
            names.insert(id.to_owned(), name.to_owned());
            if metadata["workspace_members"].as_array().unwrap().iter().any(|m| m == id) {
                ids.insert(name.to_owned(), id.to_owned());
            }
        }
        let mut deps = HashMap::new();
        for node in metadata["resolve"]["nodes"].as_array().unwrap() {
            let linked = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"] != "dev"))
                .map(|d| d["pkg"].as_str().unwrap().to_owned())
                .collect();
            deps.insert(node["id"].as_str().unwrap().to_owned(), linked);
        }
        Self { names, deps, ids }
    }

    /// Every crate `package` builds with, directly or not.
    fn closure(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![self.ids[package].clone()];
        while let Some(id) = stack.pop() {
            for dep in &self.deps[&id] {
                if seen.insert(self.names[dep].clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        seen
    }
}

fn reaching<'a>(closure: &BTreeSet<String>, forbidden: &[&'a str]) -> Vec<&'a str> {
    forbidden.iter().copied().filter(|name| closure.contains(*name)).collect()
}

#[test]
fn core_has_no_http_and_none_of_our_crates() {
    let graph = Graph::load();
    let core = graph.closure("provider-api-core");
    assert_eq!(reaching(&core, HTTP), Vec::<&str>::new(), "core builds with HTTP crates");
    assert_eq!(reaching(&core, SERVER), Vec::<&str>::new(), "core depends on another crate of ours");
    assert!(!core.contains("provider-api-sdk"));
}

#[test]
fn the_store_has_no_http_and_depends_on_core_alone_of_ours() {
    let graph = Graph::load();
    let store = graph.closure("provider-api-store");
    assert_eq!(reaching(&store, HTTP), Vec::<&str>::new(), "the store builds with HTTP crates");
    assert_eq!(reaching(&store, SERVER), vec!["provider-api-core"]);
}

#[test]
fn the_sdk_needs_no_server_crate() {
    let graph = Graph::load();
    let sdk = graph.closure("provider-api-sdk");
    assert_eq!(reaching(&sdk, SERVER), Vec::<&str>::new(), "the SDK depends on a server crate");
    assert!(!sdk.contains("provider-api-sdk-codegen"), "the SDK builds from committed code, not the generator");
}

#[test]
fn the_api_does_not_depend_on_its_clients() {
    let graph = Graph::load();
    let api = graph.closure("provider-api-http");
    assert!(!api.contains("provider-api-sdk"), "the API depends on the SDK");
    assert!(!api.contains("provider-api"), "the API depends on the binary that composes it");
}

#[test]
fn the_black_box_suite_does_not_build_the_benchmarks() {
    let graph = Graph::load();
    let tests = graph.closure("provider-api-tests");
    assert!(!tests.contains("provider-api-benches"));
}

#[test]
fn the_portal_reaches_the_api_only_through_the_sdk() {
    let graph = Graph::load();
    let portal = graph.closure("provider-api-portal");
    assert_eq!(reaching(&portal, SERVER), Vec::<&str>::new(), "the portal depends on a server crate");
    assert!(portal.contains("provider-api-sdk"), "the portal calls the API through the SDK");
    let api = graph.closure("provider-api-http");
    assert!(!api.contains("provider-api-portal"), "the API depends on the portal");
}

#[test]
fn the_govuk_pages_crate_is_neutral_ground() {
    let graph = Graph::load();
    let govuk = graph.closure("provider-api-govuk");
    assert_eq!(reaching(&govuk, SERVER), Vec::<&str>::new(), "the GOV.UK crate depends on a server crate");
    assert!(!govuk.contains("provider-api-sdk") && !govuk.contains("provider-api-portal"));
}
