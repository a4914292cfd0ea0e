//! Any notification form, read from its published JSON Schema: the pages (`x-pages`), and on each page the
//! questions, each with the GOV.UK component that asks it. Nothing here knows a notification type or a field
//! by name: what a question is comes from the schema alone (its type, format, labelled choices, length), so a
//! new type needs no portal change. See docs/notifications.md "How a form is asked".
//!
//! A question that the law requires only after a particular answer (`allOf` of `if`/`then` in the schema) is
//! revealed under that answer's choice, as GOV.UK's conditional reveal does. Fields that go together
//! (`dependentRequired`) say so in their hints, as the schema's own descriptions do.

pub mod answers;

use serde::Serialize;
use serde_json::{Map, Value};

/// One page of a form: a topic, and the questions on it.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub title: String,
    pub questions: Vec<Question>,
}

/// A question: where its answer goes in the form (a JSON Pointer), how it is named in the HTML form and
/// identified on the page, and how it is asked.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub pointer: String,
    /// The HTML form field's name (and the prefix of a date's parts).
    pub name: String,
    /// The HTML id, which an error summary links to.
    pub id: String,
    pub title: String,
    pub hint: Option<String>,
    pub required: bool,
    pub kind: Kind,
    /// Another answer of the form to offer here when this one is empty (the schema's `x-suggested-from`, a
    /// Relative JSON Pointer, made absolute): nothing typed twice (WCAG 2.2 3.3.7).
    pub suggested_from: Option<String>,
}

/// How a question is asked (the GOV.UK component).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "component", rename_all = "snake_case")]
pub enum Kind {
    /// A text input; `input_type` is `text`, `email` or `numeric` (digits, such as an NHS number).
    Text { input_type: &'static str, max_length: Option<u64> },
    /// A textarea with a character count.
    LongText { max_length: u64 },
    /// Day, month and year.
    Date,
    /// Day, month and year, and a time (in England's time).
    DateTime,
    /// A whole number.
    Number,
    /// Radios (one answer) or checkboxes (several). `options_from` names where the choices are listed when
    /// the schema does not list them (the regulated activities, say).
    Choice { choices: Vec<Choice>, multiple: bool, options_from: Option<String> },
    /// Yes or no.
    YesNo { reveals_on_yes: Vec<Question>, reveals_on_no: Vec<Question> },
    /// Questions about one thing (a person, a contact), asked together under a heading.
    Group { questions: Vec<Question> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// Questions shown once this choice is made.
    pub reveals: Vec<Question>,
}

/// Why a schema cannot be asked as a form: a fault in the published schema, never in what someone typed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error("the schema has no x-pages")]
    NoPages,
    #[error("{0}: no such field in the schema")]
    UnknownField(String),
    #[error("{0}: the schema does not say how to ask it")]
    Unsupported(String),
}

/// A form's schema, with the document its `$ref`s resolve against (the published schema itself, whose
/// references are `#/$defs/…`; or an OpenAPI document, whose are `#/components/schemas/…`).
pub struct Form<'a> {
    root: &'a Value,
    schema: &'a Value,
}

impl PartialEq for Question {
    fn eq(&self, other: &Self) -> bool {
        self.pointer == other.pointer && self.kind == other.kind && self.required == other.required
    }
}

impl<'a> Form<'a> {
    /// A published form schema, self-contained.
    pub fn published(schema: &'a Value) -> Self {
        Self { root: schema, schema }
    }

    /// The form `schema` within `root`, against which its references resolve.
    pub fn within(root: &'a Value, schema: &'a Value) -> Self {
        Self { root, schema }
    }

    /// Follows `$ref`s to the schema itself; the referring schema's own `title` and `description` stay the
    /// caller's to read (they say how the field is asked in this form).
    fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
                Some(pointer) => match self.root.pointer(pointer) {
                    Some(target) => node = target,
                    None => return node,
                },
                None => return node,
            }
        }
        node
    }

    /// The pages, in order.
    pub fn pages(&self) -> Result<Vec<Page>, SchemaError> {
        let pages = self.schema.get("x-pages").and_then(Value::as_array).ok_or(SchemaError::NoPages)?;
        pages
            .iter()
            .map(|page| {
                let title = page.get("title").and_then(Value::as_str).unwrap_or_default().to_owned();
                let pointers: Vec<&str> = page
                    .get("fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut questions = Vec::new();
                for pointer in &pointers {
                    questions.push(self.question(pointer)?);
                }
                Ok(Page { title, questions: self.with_reveals(questions) })
            })
            .collect()
    }

    /// The schema of the object holding `pointer`'s field, the field's own schema (as referred to, with its
    /// title and description), and whether the object requires it.
    fn field(&self, pointer: &str) -> Result<(&'a Value, &'a Value, bool), SchemaError> {
        let unknown = || SchemaError::UnknownField(pointer.to_owned());
        let mut parent = self.resolve(self.schema);
        let mut tokens = pointer.trim_start_matches('/').split('/').peekable();
        loop {
            let token = tokens.next().ok_or_else(unknown)?;
            let field = parent.get("properties").and_then(|p| p.get(token)).ok_or_else(unknown)?;
            if tokens.peek().is_none() {
                let required = parent
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|names| names.iter().any(|n| n == token));
                return Ok((parent, field, required));
            }
            parent = self.resolve(field);
        }
    }

    /// The question that asks the field at `pointer`.
    pub fn question(&self, pointer: &str) -> Result<Question, SchemaError> {
        let (_, field, required) = self.field(pointer)?;
        let resolved = self.resolve(field);
        let text = |key: &str| field.get(key).or_else(|| resolved.get(key)).and_then(Value::as_str).map(str::to_owned);
        let title = text("title").ok_or_else(|| SchemaError::Unsupported(format!("{pointer} (no title)")))?;
        let kind = self.kind(pointer, resolved)?;
        Ok(Question {
            pointer: pointer.to_owned(),
            name: pointer.trim_start_matches('/').replace('/', "."),
            id: pointer.trim_start_matches('/').replace(['/', '_'], "-"),
            title,
            hint: field.get("description").and_then(Value::as_str).map(str::to_owned),
            required,
            kind,
            suggested_from: text("x-suggested-from").and_then(|relative| absolute(pointer, &relative)),
        })
    }

    fn kind(&self, pointer: &str, schema: &'a Value) -> Result<Kind, SchemaError> {
        let unsupported = || SchemaError::Unsupported(pointer.to_owned());
        let choices = |schema: &Value| -> Option<Vec<Choice>> {
            let options = schema.get("oneOf")?.as_array()?;
            options
                .iter()
                .map(|o| {
                    Some(Choice {
                        value: o.get("const")?.as_str()?.to_owned(),
                        label: o.get("title")?.as_str()?.to_owned(),
                        reveals: Vec::new(),
                    })
                })
                .collect()
        };
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                let properties = schema.get("properties").and_then(Value::as_object).ok_or_else(unsupported)?;
                let questions = properties
                    .keys()
                    .map(|name| self.question(&format!("{pointer}/{name}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Kind::Group { questions: self.with_reveals(questions) })
            }
            Some("boolean") => Ok(Kind::YesNo { reveals_on_yes: Vec::new(), reveals_on_no: Vec::new() }),
            Some("integer") => Ok(Kind::Number),
            Some("array") => {
                let items = self.resolve(schema.get("items").ok_or_else(unsupported)?);
                let options_from = items.get("x-options-from").and_then(Value::as_str).map(str::to_owned);
                match (choices(items), options_from) {
                    (Some(choices), options_from) => Ok(Kind::Choice { choices, multiple: true, options_from }),
                    (None, Some(from)) => {
                        Ok(Kind::Choice { choices: Vec::new(), multiple: true, options_from: Some(from) })
                    }
                    (None, None) => Err(unsupported()),
                }
            }
            Some("string") => {
                if let Some(choices) = choices(schema) {
                    return Ok(Kind::Choice { choices, multiple: false, options_from: None });
                }
                let max_length = schema.get("maxLength").and_then(Value::as_u64);
                Ok(match schema.get("format").and_then(Value::as_str) {
                    Some("date" | "past-date") => Kind::Date,
                    Some("date-time" | "past-date-time") => Kind::DateTime,
                    Some("email") => Kind::Text { input_type: "email", max_length },
                    Some("nhs-number") => Kind::Text { input_type: "numeric", max_length },
                    _ => match max_length {
                        Some(max) if max > LONG_TEXT => Kind::LongText { max_length: max },
                        _ => Kind::Text { input_type: "text", max_length },
                    },
                })
            }
            _ => Err(unsupported()),
        }
    }

    /// Moves each question that one of the others' answers calls for (the object's `allOf` of `if`/`then`)
    /// under the choice that calls for it.
    fn with_reveals(&self, mut questions: Vec<Question>) -> Vec<Question> {
        let Some(first) = questions.first() else { return questions };
        let parent_pointer = first.pointer.rsplit_once('/').map_or("", |(parent, _)| parent).to_owned();
        let parent = match parent_pointer.is_empty() {
            true => self.resolve(self.schema),
            false => match self.field(&parent_pointer) {
                Ok((_, field, _)) => self.resolve(field),
                Err(_) => return questions,
            },
        };
        for (trigger, answers, revealed) in conditions(parent) {
            let trigger_pointer = format!("{parent_pointer}/{trigger}");
            let revealed_pointer = format!("{parent_pointer}/{revealed}");
            let Some(at) = questions.iter().position(|q| q.pointer == revealed_pointer) else { continue };
            if !questions.iter().any(|q| q.pointer == trigger_pointer) {
                continue;
            }
            let question = questions.remove(at);
            let Some(host) = questions.iter_mut().find(|q| q.pointer == trigger_pointer) else { continue };
            match &mut host.kind {
                Kind::Choice { choices, .. } => {
                    for choice in choices.iter_mut().filter(|c| answers.contains(&Value::from(c.value.clone()))) {
                        choice.reveals.push(question.clone());
                    }
                }
                Kind::YesNo { reveals_on_yes, reveals_on_no } => {
                    if answers.contains(&Value::Bool(true)) {
                        reveals_on_yes.push(question.clone());
                    }
                    if answers.contains(&Value::Bool(false)) {
                        reveals_on_no.push(question);
                    }
                }
                _ => {}
            }
        }
        questions
    }
}

/// Text longer than this is asked in a textarea with a character count.
const LONG_TEXT: u64 = 500;

/// A Relative JSON Pointer (`2/completed_by/name`: up two levels from `from`, then down) made absolute; `None`
/// when it climbs above the form or is not one.
fn absolute(from: &str, relative: &str) -> Option<String> {
    let (up, down) = relative.split_once('/').map_or((relative, ""), |(up, down)| (up, down));
    let up: usize = up.parse().ok()?;
    let mut tokens: Vec<&str> = from.trim_start_matches('/').split('/').collect();
    tokens.truncate(tokens.len().checked_sub(up)?);
    let base = tokens.iter().map(|t| format!("/{t}")).collect::<String>();
    Some(if down.is_empty() { base } else { format!("{base}/{down}") })
}

/// The object's conditions: (the field answered, the answers that call for another field, that field).
fn conditions(object: &Value) -> Vec<(String, Vec<Value>, String)> {
    let mut found = Vec::new();
    for rule in object.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        let (Some(condition), Some(then)) = (rule.get("if"), rule.get("then")) else { continue };
        let Some(properties) = condition.get("properties").and_then(Value::as_object) else { continue };
        let required: Vec<&str> =
            then.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (trigger, answer) in properties {
            let answers = match (answer.get("const"), answer.get("enum").and_then(Value::as_array)) {
                (Some(value), _) => vec![value.clone()],
                (None, Some(values)) => values.clone(),
                (None, None) => continue,
            };
            for revealed in &required {
                found.push((trigger.clone(), answers.clone(), (*revealed).to_owned()));
            }
        }
    }
    found
}

/// Every question on a page, revealed ones included, each once.
pub fn all_questions(questions: &[Question]) -> Vec<&Question> {
    let mut all = Vec::new();
    for question in questions {
        all.push(question);
        match &question.kind {
            Kind::Group { questions } => all.extend(all_questions(questions)),
            Kind::Choice { choices, .. } => {
                for choice in choices {
                    for revealed in all_questions(&choice.reveals) {
                        if !all.iter().any(|q: &&Question| q.pointer == revealed.pointer) {
                            all.push(revealed);
                        }
                    }
                }
            }
            Kind::YesNo { reveals_on_yes, reveals_on_no } => {
                all.extend(all_questions(reveals_on_yes));
                all.extend(all_questions(reveals_on_no));
            }
            _ => {}
        }
    }
    all
}

/// Whether the form needs an answer at `pointer` given `content`: the field is required in its object, and that
/// object is there or is itself needed (an optional person left out needs none of their details).
pub fn needed(pages: &[Page], pointer: &str, content: &Value) -> bool {
    let questions: Vec<&Question> = pages.iter().flat_map(|p| all_questions(&p.questions)).collect();
    // An object no page asks as a whole (the reporter, whose parts are on pages of their own) is needed: the
    // parts say whether they are.
    let Some(question) = questions.iter().find(|q| q.pointer == pointer) else { return true };
    if !question.required {
        return false;
    }
    match pointer.rsplit_once('/') {
        Some(("", _)) | None => true,
        Some((parent, _)) => content.pointer(parent).is_some() || needed(pages, parent, content),
    }
}

/// The page (by index) a field belongs to: the one whose questions include the pointer or a parent of it.
pub fn page_of(pages: &[Page], pointer: &str) -> Option<usize> {
    pages.iter().position(|page| {
        all_questions(&page.questions).iter().any(|q| {
            pointer == q.pointer || pointer.strip_prefix(q.pointer.as_str()).is_some_and(|rest| rest.starts_with('/'))
        })
    })
}

/// A JSON object's member, creating objects on the way (for setting answers at pointers).
pub(crate) fn entry<'v>(
    root: &'v mut Map<String, Value>,
    pointer: &str,
) -> Option<(&'v mut Map<String, Value>, String)> {
    let mut tokens: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let last = tokens.pop()?.to_owned();
    let mut object = root;
    for token in tokens {
        object = object.entry(token).or_insert_with(|| Value::Object(Map::new())).as_object_mut()?;
    }
    Some((object, last))
}
