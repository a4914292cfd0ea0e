//! Forms from schemas: every published notification form can be asked (every field has a component, lies on
//! exactly one page, and a field the law requires after an answer is revealed under that answer), and a fixture
//! schema with every kind of question, `if`/`then` and `dependentRequired` is asked as GOV.UK would, its answers
//! turned into a JSON Merge Patch and back.

use provider_api_portal::forms::answers::{Posted, form_values, merge_patch};
use provider_api_portal::forms::{Form, Kind, Page, Question, all_questions, page_of};
use serde_json::{Value, json};

const SPEC: &str = include_str!("../../openapi/v1.json");

fn find<'a>(questions: &'a [Question], pointer: &str) -> &'a Question {
    all_questions(questions).into_iter().find(|q| q.pointer == pointer).unwrap_or_else(|| panic!("no {pointer}"))
}

/// Every leaf field of an object schema (resolving `#/components/schemas/…`), as JSON Pointers.
fn leaves(spec: &Value, schema: &Value, prefix: &str, out: &mut Vec<String>) {
    let mut node = schema;
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        node = spec.pointer(target.trim_start_matches('#')).unwrap();
    }
    match node.get("properties").and_then(Value::as_object) {
        Some(properties) if node.get("type") == Some(&json!("object")) => {
            for (name, field) in properties {
                leaves(spec, field, &format!("{prefix}/{name}"), out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

#[test]
fn every_published_notification_form_can_be_asked_page_by_page() {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let forms: Vec<(&String, &Value)> = schemas.iter().filter(|(_, s)| s.get("x-pages").is_some()).collect();
    assert_eq!(forms.len(), 16, "every notification type's form");
    for (name, schema) in forms {
        let pages = Form::within(&spec, schema).pages().unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut fields = Vec::new();
        leaves(&spec, schema, "", &mut fields);
        for field in fields.iter().filter(|f| *f != "/type") {
            let on: Vec<usize> = (0..pages.len())
                .filter(|&i| all_questions(&pages[i].questions).iter().any(|q| &q.pointer == field))
                .collect();
            assert_eq!(on.len(), 1, "{name}{field} is asked on pages {on:?}");
            assert_eq!(page_of(&pages, field), Some(on[0]), "{name}{field}");
        }
        for page in &pages {
            assert!(!page.title.is_empty() && !page.questions.is_empty(), "{name}: {}", page.title);
            for question in all_questions(&page.questions) {
                assert!(!question.title.is_empty(), "{name}{}", question.pointer);
                if let Kind::Choice { choices, options_from, .. } = &question.kind {
                    assert!(!choices.is_empty() || options_from.is_some(), "{name}{}: no choices", question.pointer);
                }
            }
        }
    }
}

#[test]
fn a_field_required_after_an_answer_is_revealed_under_that_answer() {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let death = &spec["components"]["schemas"]["DeathForm"];
    let pages = Form::within(&spec, death).pages().unwrap();
    let all: Vec<&Question> = pages.iter().flat_map(|p| &p.questions).collect();
    let place = all.iter().find(|q| q.pointer == "/place").expect("where they died is asked");
    let Kind::Choice { choices, multiple: false, .. } = &place.kind else { panic!("radios: {:?}", place.kind) };
    for choice in choices {
        let revealed: Vec<&str> = choice.reveals.iter().map(|q| q.pointer.as_str()).collect();
        let expected: &[&str] = if choice.value == "other" { &["/place_details"] } else { &[] };
        assert_eq!(revealed, expected, "under {}", choice.value);
    }
    assert!(!all.iter().any(|q| q.pointer == "/place_details"), "asked only under its answer");
    let present = all.iter().find(|q| q.pointer == "/staff_present").unwrap();
    let Kind::YesNo { reveals_on_no, reveals_on_yes } = &present.kind else { panic!("yes or no") };
    assert!(reveals_on_yes.is_empty());
    assert_eq!(reveals_on_no.iter().map(|q| q.pointer.as_str()).collect::<Vec<_>>(), ["/last_seen_at"]);
}

/// A form no notification has: every kind of question, a nested object, a condition and fields that go together.
fn fixture() -> Value {
    json!({
        "type": "object",
        "required": ["when", "colour", "happened"],
        "properties": {
            "type": {"type": "string", "enum": ["fixture"]},
            "when": {"type": "string", "format": "past-date", "title": "When was it?", "description": "For example, 27 3 2026."},
            "at": {"type": "string", "format": "past-date-time", "title": "At what time?"},
            "colour": {"type": "string", "title": "Which colour?", "oneOf": [
                {"const": "red", "title": "Red"}, {"const": "other", "title": "Another colour"}]},
            "colour_details": {"type": "string", "maxLength": 200, "title": "Which other colour?"},
            "tags": {"type": "array", "title": "Which apply?", "items": {"$ref": "#/$defs/Tag"}},
            "injured": {"type": "boolean", "title": "Was anyone hurt?"},
            "count": {"type": "integer", "title": "How many?"},
            "happened": {"type": "string", "maxLength": 5000, "title": "What happened?"},
            "person": {"$ref": "#/$defs/Person", "title": "The person"}
        },
        "allOf": [
            {"if": {"properties": {"colour": {"const": "other"}}, "required": ["colour"]},
             "then": {"required": ["colour_details"], "description": "Say which colour."}}
        ],
        "x-pages": [
            {"title": "When", "fields": ["/when", "/at"]},
            {"title": "Colour", "fields": ["/colour", "/colour_details", "/tags"]},
            {"title": "What happened", "fields": ["/injured", "/count", "/happened"]},
            {"title": "The person", "fields": ["/person"]}
        ],
        "$defs": {
            "Tag": {"type": "string", "oneOf": [{"const": "a", "title": "A"}, {"const": "b", "title": "B"}]},
            "Person": {
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "format": "email", "title": "Email address"},
                    "nhs_number": {"type": "string", "format": "nhs-number", "title": "NHS number (optional)",
                        "description": "If you give it, give their date of birth too."},
                    "date_of_birth": {"type": "string", "format": "past-date", "title": "Date of birth (optional)",
                        "description": "If you give it, give their NHS number too."}
                },
                "dependentRequired": {"nhs_number": ["date_of_birth"], "date_of_birth": ["nhs_number"]}
            }
        }
    })
}

fn pages() -> Vec<Page> {
    Form::published(&fixture()).pages().unwrap()
}

#[test]
fn a_fixture_form_is_asked_with_the_component_each_field_needs() {
    let pages = pages();
    let titles: Vec<&str> = pages.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["When", "Colour", "What happened", "The person"]);
    let all: Vec<Question> = pages.iter().flat_map(|p| p.questions.clone()).collect();
    assert_eq!(find(&all, "/when").kind, Kind::Date);
    assert!(find(&all, "/when").required && !find(&all, "/at").required);
    assert_eq!(find(&all, "/when").hint.as_deref(), Some("For example, 27 3 2026."));
    assert_eq!(find(&all, "/at").kind, Kind::DateTime);
    assert_eq!(find(&all, "/count").kind, Kind::Number);
    assert_eq!(find(&all, "/happened").kind, Kind::LongText { max_length: 5000 });
    assert!(matches!(find(&all, "/tags").kind, Kind::Choice { multiple: true, ref choices, .. } if choices.len() == 2));
    assert!(matches!(find(&all, "/injured").kind, Kind::YesNo { .. }));
    assert_eq!(find(&all, "/person/email").kind, Kind::Text { input_type: "email", max_length: None });
    assert_eq!(find(&all, "/person/nhs_number").kind, Kind::Text { input_type: "numeric", max_length: None });
    assert!(find(&all, "/person/email").required && !find(&all, "/person/nhs_number").required);
    assert_eq!(find(&all, "/person/nhs_number").id, "person-nhs-number");
    assert_eq!(find(&all, "/person/nhs_number").name, "person.nhs_number");
    // Fields that go together are asked together, each saying so.
    assert!(find(&all, "/person/date_of_birth").hint.as_deref().unwrap().contains("NHS number"));

    let colour_page = &pages[1].questions;
    assert_eq!(colour_page.iter().map(|q| q.pointer.as_str()).collect::<Vec<_>>(), ["/colour", "/tags"]);
    let Kind::Choice { choices, .. } = &colour_page[0].kind else { panic!() };
    assert!(choices[0].reveals.is_empty());
    assert_eq!(choices[1].reveals[0].pointer, "/colour_details", "revealed under \"Another colour\"");
    assert_eq!(page_of(&pages, "/colour_details"), Some(1), "an error on it is shown on its page");
    assert_eq!(page_of(&pages, "/person/date_of_birth"), Some(3));
}

#[test]
fn answers_become_a_merge_patch_and_come_back_to_the_form() {
    let pages = pages();
    let posted = |pairs: &[(&str, &str)]| Posted::new(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect());

    let when = merge_patch(
        &pages[0].questions,
        &posted(&[
            ("when-day", "7"),
            ("when-month", "3"),
            ("when-year", "2026"),
            ("at-day", "1"),
            ("at-month", "7"),
            ("at-year", "2026"),
            ("at-time", "2:30pm"),
        ]),
    );
    assert_eq!(when, json!({"when": "2026-03-07", "at": "2026-07-01T14:30:00+01:00"}));

    let colour = merge_patch(
        &pages[1].questions,
        &posted(&[("colour", "other"), ("colour_details", " teal "), ("tags", "a"), ("tags", "b")]),
    );
    assert_eq!(colour, json!({"colour": "other", "colour_details": "teal", "tags": ["a", "b"]}));
    // A follow-up typed, then its answer changed: the hidden follow-up is still posted, and must not be kept.
    let changed_mind = merge_patch(&pages[1].questions, &posted(&[("colour", "red"), ("colour_details", "teal")]));
    assert_eq!(changed_mind["colour_details"], Value::Null, "a follow-up its answer no longer asks is removed");
    let cleared = merge_patch(&pages[1].questions, &posted(&[("colour", "red")]));
    assert_eq!(cleared, json!({"colour": "red", "colour_details": null, "tags": null}), "emptied answers are removed");

    let typed_badly =
        merge_patch(&pages[0].questions, &posted(&[("when-day", "31"), ("when-month", "two"), ("when-year", "2026")]));
    assert_eq!(typed_badly["when"], "2026-two-31", "passed on as typed, for the API to refuse at /when");

    let happened = merge_patch(&pages[2].questions, &posted(&[("injured", "false"), ("count", "3"), ("happened", "")]));
    assert_eq!(happened, json!({"injured": false, "count": 3, "happened": null}));

    let person = merge_patch(
        &pages[3].questions,
        &posted(&[("person.email", "a@b.example"), ("person.nhs_number", "9434765919")]),
    );
    assert_eq!(person, json!({"person": {"email": "a@b.example", "nhs_number": "9434765919", "date_of_birth": null}}));

    let content = json!({"when": "2026-03-07", "at": "2026-07-01T13:30:00Z", "colour": "other", "colour_details": "teal",
        "tags": ["a", "b"], "injured": false, "count": 3, "person": {"email": "a@b.example"}});
    let values = form_values(&pages.iter().flat_map(|p| p.questions.clone()).collect::<Vec<_>>(), &content);
    let value = |name: &str| values.get(name).cloned().unwrap_or_default();
    assert_eq!(
        (value("when-day"), value("when-month"), value("when-year")),
        (vec!["7".into()], vec!["3".into()], vec!["2026".into()])
    );
    assert_eq!(value("at-time"), ["14:30"], "shown in England's time");
    assert_eq!(value("tags"), ["a", "b"]);
    assert_eq!(value("colour_details"), ["teal"]);
    assert_eq!(value("injured"), ["false"]);
    assert_eq!(value("count"), ["3"]);
    assert_eq!(value("person.email"), ["a@b.example"]);
}

/// The person to contact is usually the one completing the form: every published form offers that answer
/// (`x-suggested-from`, a Relative JSON Pointer) rather than asking it twice (WCAG 2.2 3.3.7).
#[test]
fn the_contact_is_offered_from_who_completed_the_form_in_every_published_form() {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas.iter().filter(|(_, s)| s.get("x-pages").is_some()) {
        let pages = Form::within(&spec, schema).pages().unwrap();
        let questions: Vec<Question> = pages.into_iter().flat_map(|p| p.questions).collect();
        for (field, from) in [("name", "/reporter/completed_by/name"), ("role", "/reporter/completed_by/role")] {
            let question = find(&questions, &format!("/reporter/contact/{field}"));
            assert_eq!(question.suggested_from.as_deref(), Some(from), "{name}: contact {field}");
        }
        assert_eq!(find(&questions, "/reporter/completed_by/name").suggested_from, None, "{name}");
    }
    // Where the same kind of field sits elsewhere and the pointer would climb out of the form, nothing is offered.
    let climbing = json!({"type": "object", "x-pages": [{"title": "Who", "fields": ["/name"]}], "properties": {
        "name": {"type": "string", "title": "Name", "x-suggested-from": "2/completed_by/name"}}});
    let pages = Form::published(&climbing).pages().unwrap();
    assert_eq!(pages[0].questions[0].suggested_from, None);
}
