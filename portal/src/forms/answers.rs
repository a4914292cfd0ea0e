//! A page's answers between the HTML form and the notification's content (JSON). Nothing is judged here: the
//! API validates every field and says which are wrong (by JSON Pointer), so what someone typed reaches it as
//! typed, and a date that is not one is passed on for the API to refuse at that field.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Kind, Question, all_questions, entry};
use crate::england_time::ENGLAND;

/// What the form posted: each name with every value it was sent with (checkboxes send several).
pub struct Posted(BTreeMap<String, Vec<String>>);

impl Posted {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in pairs {
            fields.entry(name).or_default().push(value);
        }
        Self(fields)
    }

    fn one(&self, name: &str) -> &str {
        self.0.get(name).and_then(|values| values.first()).map_or("", |v| v.trim())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).into_iter().flatten().filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_owned()).collect()
    }
}

/// The page's answers as a JSON Merge Patch of the content: every question on the page (revealed ones
/// included) is set, or `null` when left empty, so clearing an answer removes it.
pub fn merge_patch(questions: &[Question], posted: &Posted) -> Value {
    let mut patch = Map::new();
    for question in all_questions(questions) {
        if matches!(question.kind, Kind::Group { .. }) {
            continue;
        }
        if let Some((object, key)) = entry(&mut patch, &question.pointer) {
            object.insert(key, answer(question, posted));
        }
    }
    // A follow-up whose answer is not chosen is removed, though the browser still posts what was typed into it
    // (a hidden conditional reveal keeps its inputs): changing "Somewhere else" back must not send the details.
    for question in all_questions(questions) {
        let unasked: Vec<&Question> = match &question.kind {
            Kind::Choice { choices, .. } => {
                let chosen = posted.all(&question.name);
                let asked: Vec<&str> = choices
                    .iter()
                    .filter(|c| chosen.contains(&c.value))
                    .flat_map(|c| c.reveals.iter().map(|q| q.pointer.as_str()))
                    .collect();
                choices
                    .iter()
                    .filter(|c| !chosen.contains(&c.value))
                    .flat_map(|c| all_questions(&c.reveals))
                    .filter(|q| !asked.contains(&q.pointer.as_str()))
                    .collect()
            }
            Kind::YesNo { reveals_on_yes, reveals_on_no } => match posted.one(&question.name) {
                "true" => all_questions(reveals_on_no),
                "false" => all_questions(reveals_on_yes),
                _ => all_questions(reveals_on_yes).into_iter().chain(all_questions(reveals_on_no)).collect(),
            },
            _ => Vec::new(),
        };
        for hidden in unasked {
            if let Some((object, key)) = entry(&mut patch, &hidden.pointer) {
                object.insert(key, Value::Null);
            }
        }
    }
    // An optional group left wholly empty (no person involved, say) is removed, not left as an empty object
    // that would then lack its required parts.
    for question in all_questions(questions) {
        if matches!(question.kind, Kind::Group { .. })
            && !question.required
            && let Some((object, key)) = entry(&mut patch, &question.pointer)
            && object.get(&key).is_some_and(all_empty)
        {
            object.insert(key, Value::Null);
        }
    }
    Value::Object(patch)
}

fn all_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(members) => members.values().all(all_empty),
        _ => false,
    }
}

fn answer(question: &Question, posted: &Posted) -> Value {
    let name = &question.name;
    let text = |value: &str| if value.is_empty() { Value::Null } else { Value::from(value) };
    match &question.kind {
        // An NHS number is written in groups ("943 476 5919"); the API takes the ten digits.
        Kind::Text { input_type: "numeric", .. } => {
            text(&posted.one(name).chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>())
        }
        Kind::Text { .. } | Kind::LongText { .. } => text(posted.one(name)),
        Kind::Number => match posted.one(name) {
            "" => Value::Null,
            typed => typed.parse::<i64>().map_or_else(|_| Value::from(typed), Value::from),
        },
        Kind::YesNo { .. } => match posted.one(name) {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Null,
        },
        Kind::Choice { multiple: false, .. } => text(posted.one(name)),
        Kind::Choice { multiple: true, .. } => match posted.all(name) {
            chosen if chosen.is_empty() => Value::Null,
            chosen => Value::from(chosen),
        },
        Kind::Date => date(posted, name).map_or(Value::Null, Value::from),
        Kind::DateTime => {
            let time = posted.one(&format!("{name}-time"));
            match (date(posted, name), time) {
                (None, "") => Value::Null,
                (Some(day), time) => Value::from(in_england(&day, time).unwrap_or_else(|| format!("{day}T{time}"))),
                (None, time) => Value::from(format!("T{time}")),
            }
        }
        Kind::Group { .. } => Value::Null,
    }
}

/// `YYYY-MM-DD` from the date's three boxes, zero-padded when they are numbers; as typed when not (for the API to
/// say so); `None` when all are empty.
fn date(posted: &Posted, name: &str) -> Option<String> {
    let part = |which: &str| posted.one(&format!("{name}-{which}")).to_owned();
    let (day, month, year) = (part("day"), part("month"), part("year"));
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return None;
    }
    let number = |s: &str| s.parse::<u32>().ok();
    Some(match (number(&day), number(&month), number(&year)) {
        (Some(d), Some(m), Some(y)) => format!("{y:04}-{m:02}-{d:02}"),
        _ => format!("{year}-{month}-{day}"),
    })
}

/// A date and a time of day (`14:05`, `2:05pm`) in England, with England's offset on that day.
fn in_england(day: &str, time: &str) -> Option<String> {
    let date: jiff::civil::Date = day.parse().ok()?;
    let (hour, minute) = clock_time(time)?;
    let civil = date.at(hour, minute, 0, 0);
    let zoned = civil.to_zoned(ENGLAND.clone()).ok()?;
    Some(zoned.timestamp().display_with_offset(zoned.offset()).to_string())
}

/// Hours and minutes from `14:05`, `14.05`, `2:05pm` or `2pm`.
fn clock_time(typed: &str) -> Option<(i8, i8)> {
    let lower = typed.trim().to_ascii_lowercase();
    let (digits, afternoon) = match (lower.strip_suffix("pm"), lower.strip_suffix("am")) {
        (Some(rest), _) => (rest.trim().to_owned(), Some(true)),
        (None, Some(rest)) => (rest.trim().to_owned(), Some(false)),
        (None, None) => (lower, None),
    };
    let (hour, minute) = match digits.split_once([':', '.']) {
        Some((h, m)) => (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?),
        None => (digits.parse::<i8>().ok()?, 0),
    };
    let hour = match afternoon {
        Some(true) if (1..12).contains(&hour) => hour + 12,
        Some(false) if hour == 12 => 0,
        Some(_) if !(1..=12).contains(&hour) => return None,
        _ => hour,
    };
    ((0..24).contains(&hour) && (0..60).contains(&minute)).then_some((hour, minute))
}

/// What to show in a page's form from the content so far: each HTML field's value (several for checkboxes).
pub fn form_values(questions: &[Question], content: &Value) -> BTreeMap<String, Vec<String>> {
    let mut values = BTreeMap::new();
    for question in all_questions(questions) {
        let Some(answer) = content.pointer(&question.pointer) else { continue };
        let name = question.name.clone();
        match (&question.kind, answer) {
            (Kind::Date, Value::String(day)) => split_date(&mut values, &name, day),
            (Kind::DateTime, Value::String(at)) => {
                let (day, time) = local_parts(at);
                split_date(&mut values, &name, &day);
                values.insert(format!("{name}-time"), vec![time]);
            }
            (_, Value::Array(items)) => {
                values.insert(name, items.iter().map(as_text).collect());
            }
            (_, Value::Object(_)) | (_, Value::Null) => {}
            (_, answer) => {
                values.insert(name, vec![as_text(answer)]);
            }
        }
    }
    values
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn split_date(values: &mut BTreeMap<String, Vec<String>>, name: &str, day: &str) {
    let mut parts = day.splitn(3, '-');
    let (year, month, day) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let trim = |s: &str| s.trim_start_matches('0').to_owned();
    values.insert(format!("{name}-day"), vec![trim(day)]);
    values.insert(format!("{name}-month"), vec![trim(month)]);
    values.insert(format!("{name}-year"), vec![year.to_owned()]);
}

/// A stored date and time as the day and the time of day in England.
fn local_parts(at: &str) -> (String, String) {
    match at.parse::<jiff::Timestamp>() {
        Ok(instant) => {
            let local = instant.to_zoned(ENGLAND.clone());
            (local.date().to_string(), format!("{:02}:{:02}", local.hour(), local.minute()))
        }
        Err(_) => (at.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_nhs_number_is_taken_as_people_write_it() {
        let question = |input_type| Question {
            pointer: "/person/nhs_number".into(),
            name: "person.nhs_number".into(),
            id: "person-nhs-number".into(),
            title: "NHS number".into(),
            hint: None,
            required: false,
            kind: Kind::Text { input_type, max_length: None },
            suggested_from: None,
        };
        for typed in ["943 476 5919", " 943-476-5919 ", "9434765919"] {
            let posted = Posted::new(vec![("person.nhs_number".into(), typed.into())]);
            assert_eq!(answer(&question("numeric"), &posted), Value::from("9434765919"), "{typed:?}");
        }
        let posted = Posted::new(vec![("person.nhs_number".into(), "943 476".into())]);
        assert_eq!(answer(&question("numeric"), &posted), Value::from("943476"), "the API says what is wrong");
        let posted = Posted::new(vec![("person.nhs_number".into(), "Ward 7 - east".into())]);
        assert_eq!(answer(&question("text"), &posted), Value::from("Ward 7 - east"), "other text as typed");
    }

    #[test]
    fn a_time_is_read_as_people_write_it_and_placed_in_englands_day() {
        assert_eq!(clock_time("14:05"), Some((14, 5)));
        assert_eq!(clock_time("2:05pm"), Some((14, 5)));
        assert_eq!(clock_time("12am"), Some((0, 0)));
        assert_eq!(clock_time("12.30pm"), Some((12, 30)));
        assert_eq!(clock_time("25:00"), None);
        assert_eq!(clock_time("soon"), None);
        // Summer time: an hour ahead of UTC; winter: none.
        assert_eq!(in_england("2026-07-01", "00:30").as_deref(), Some("2026-07-01T00:30:00+01:00"));
        assert_eq!(in_england("2026-12-01", "00:30").as_deref(), Some("2026-12-01T00:30:00+00:00"));
        assert_eq!(local_parts("2026-06-30T23:30:00Z"), ("2026-07-01".into(), "00:30".into()));
    }
}
