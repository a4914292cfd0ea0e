//! Every fixture GOV.UK Frontend publishes for its components (`components/*/fixtures.json`, the HTML its own
//! Nunjucks renders for each set of options), rendered by the portal's environment: the markup must be the
//! same, whitespace between tags aside.

use provider_api_govuk::{GOVUK_FRONTEND, environment};
use regex::Regex;

/// Fixtures the environment cannot match, and why. Each is an option the portal never passes.
const KNOWN: &[(&str, &str, &str)] = &[(
    "footer",
    "with empty meta",
    "`meta: {}` is truthy in JavaScript and falsy in Jinja; the portal gives its footer links",
)];

fn normalised(html: &str) -> String {
    let html = Regex::new(r">\s+").unwrap().replace_all(html.trim(), ">").into_owned();
    let html = Regex::new(r"\s+<").unwrap().replace_all(&html, "<").into_owned();
    Regex::new(r"\s+").unwrap().replace_all(&html, " ").into_owned()
}

fn macro_name(component: &str) -> String {
    let pascal: String = component
        .split('-')
        .map(|word| {
            let mut letters = word.chars();
            letters.next().map(|first| first.to_uppercase().chain(letters).collect::<String>()).unwrap_or_default()
        })
        .collect();
    format!("govuk{pascal}")
}

#[test]
fn every_published_fixture_of_every_component_renders_as_govuk_frontend_renders_it() {
    let env = environment(|_| None);
    let components = GOVUK_FRONTEND.get_dir("components").expect("the components are vendored");
    let (mut rendered, mut different) = (0, Vec::new());
    for directory in components.dirs() {
        let component = directory.path().file_name().unwrap().to_str().unwrap();
        let fixtures = directory.get_file(directory.path().join("fixtures.json")).expect("fixtures.json");
        let fixtures: serde_json::Value = serde_json::from_slice(fixtures.contents()).unwrap();
        let name = macro_name(component);
        let source = format!("{{% from \"components/{component}/macro.njk\" import {name} %}}{{{{ {name}(params) }}}}");
        for fixture in fixtures["fixtures"].as_array().unwrap() {
            let title = fixture["name"].as_str().unwrap();
            if KNOWN.iter().any(|(c, f, _)| *c == component && *f == title) {
                continue;
            }
            let params = minijinja::Value::from_serialize(&fixture["options"]);
            match env.render_str(&source, minijinja::context! { params }) {
                Ok(html) if normalised(&html) == normalised(fixture["html"].as_str().unwrap()) => rendered += 1,
                Ok(html) => different.push(format!(
                    "{component} / {title}:\n  got  {}\n  want {}",
                    normalised(&html),
                    normalised(fixture["html"].as_str().unwrap())
                )),
                Err(error) => {
                    let mut cause = format!("{error}");
                    let mut source: &dyn std::error::Error = &error;
                    while let Some(next) = source.source() {
                        cause.push_str(&format!(" <- {next}"));
                        source = next;
                    }
                    different.push(format!("{component} / {title}: {cause}"));
                }
            }
        }
    }
    assert!(different.is_empty(), "{} of the fixtures differ:\n{}", different.len(), different.join("\n"));
    assert!(rendered > 700, "only {rendered} fixtures were compared");
}
