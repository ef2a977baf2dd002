//! Reading one definition file: TOML syntax, shape and vocabulary; the
//! single-file graph checks are in [`graph`].
//!
//! The file is read through toml's spanned document tree rather than a serde
//! derive, because a derive stops at the first error while authors need every
//! problem of a file, each with its line and column, in one run.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Definition, Effect, Guard, Intent, Problem, SigningOrder, State, Transition};
use crate::Role;
use crate::schedule::{DEFAULT_TIME_ZONE, parse_cron, parse_time_zone};

mod graph;

use graph::check_graph;

type Value<'i> = Spanned<DeValue<'i>>;

/// A string read from the file, with the byte offset of its token.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub(crate) text: String,
    pub(crate) at: usize,
}

/// A definition together with where its cross-file references were written,
/// so that [`super::Catalogue`] can point at them.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) definition: Definition,
    pub(crate) name_at: usize,
    pub(crate) parent: Option<Located>,
    pub(crate) state_refs: Vec<StateRefs>,
}

/// Which related workflow a guard's state list refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Related {
    Parent,
    Children,
}

/// The states listed by one `parent_in` or `children_in` guard.
#[derive(Debug)]
pub(crate) struct StateRefs {
    pub(crate) related: Related,
    pub(crate) at: usize,
    pub(crate) states: Vec<Located>,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "version",
    "title",
    "parent",
    "states",
    "transitions",
];
const TITLE_KEYS: &[&str] = &["it", "en"];
const STATE_KEYS: &[&str] = &["name", "initial", "final", "on_enter"];
const TRANSITION_KEYS: &[&str] = &[
    "name",
    "from",
    "to",
    "roles",
    "guards",
    "automatic",
    "effects",
];

/// Collects problems for one file.
struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, at: usize, message: String) {
        self.problems
            .push(Problem::at(self.file, self.source, at, message));
    }

    fn line_of(&self, at: usize) -> usize {
        Problem::at(self.file, self.source, at, String::new()).line
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], place: &str) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                self.report(
                    key.span().start,
                    format!(
                        "unknown key `{}` in {place}; expected one of: {}",
                        key.get_ref(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn required<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        key: &str,
        at: usize,
        place: &str,
    ) -> Option<&'t Value<'i>> {
        let value = table.get(key);
        if value.is_none() {
            self.report(at, format!("missing key `{key}` in {place}"));
        }
        value
    }

    fn wrong_type(&mut self, value: &Value<'_>, what: &str, expected: &str) {
        self.report(
            value.span().start,
            format!(
                "{what} must be {expected}, found {}",
                value.get_ref().type_str()
            ),
        );
    }

    fn string(&mut self, value: &Value<'_>, what: &str) -> Option<Located> {
        match value.get_ref() {
            DeValue::String(text) => Some(Located {
                text: text.to_string(),
                at: value.span().start,
            }),
            _ => {
                self.wrong_type(value, what, "a string");
                None
            }
        }
    }

    /// Reads a state, transition or template name; these appear in diagrams,
    /// storage and API calls, so they are restricted to snake_case.
    fn identifier(&mut self, value: &Value<'_>, what: &str) -> Option<Located> {
        let located = self.string(value, what)?;
        if is_identifier(&located.text, &['_']) {
            Some(located)
        } else {
            self.report(
                located.at,
                format!(
                    "{what} `{}` must start with a lowercase letter and contain only lowercase letters, digits and `_`",
                    located.text
                ),
            );
            None
        }
    }

    fn boolean(&mut self, value: &Value<'_>, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            _ => {
                self.wrong_type(value, what, "true or false");
                None
            }
        }
    }

    fn array<'t, 'i>(&mut self, value: &'t Value<'i>, what: &str) -> &'t [Value<'i>] {
        match value.get_ref() {
            DeValue::Array(items) => items,
            _ => {
                self.wrong_type(value, what, "an array");
                &[]
            }
        }
    }

    /// Reads a list of names that must not be empty, such as `from` or a guard's `states`.
    fn name_list(&mut self, value: &Value<'_>, what: &str) -> Vec<Located> {
        let items = self.array(value, what);
        if items.is_empty() && matches!(value.get_ref(), DeValue::Array(_)) {
            self.report(
                value.span().start,
                format!("{what} must list at least one state"),
            );
        }
        let names: Vec<Located> = items
            .iter()
            .filter_map(|item| self.identifier(item, &format!("each entry of {what}")))
            .collect();
        names
    }

    fn roles(&mut self, value: &Value<'_>, what: &str) -> Vec<Role> {
        let items = self.array(value, what);
        let mut roles = Vec::new();
        for item in items {
            let Some(name) = self.string(item, &format!("each entry of {what}")) else {
                continue;
            };
            match name.text.parse::<Role>() {
                Ok(role) if roles.contains(&role) => {
                    self.report(name.at, format!("role `{role}` is listed twice in {what}"));
                }
                Ok(role) => roles.push(role),
                Err(err) => self.report(name.at, format!("{err}")),
            }
        }
        roles
    }

    fn table<'t, 'i>(&mut self, value: &'t Value<'i>, what: &str) -> Option<&'t DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(value, what, "a table");
                None
            }
        }
    }
}

fn is_identifier(text: &str, separators: &[char]) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separators.contains(&c))
}

/// A state as read, before the definition-wide checks.
struct RawState {
    name: Option<Located>,
    at: usize,
    initial: Option<usize>,
    is_final: bool,
    on_enter: Vec<Effect>,
}

/// A transition as read, before the definition-wide checks.
struct RawTransition {
    name: Option<Located>,
    at: usize,
    from: Vec<Located>,
    to: Option<Located>,
    roles: Vec<Role>,
    guards: Vec<Guard>,
    automatic: bool,
    effects: Vec<Effect>,
}

impl RawTransition {
    fn label(&self) -> &str {
        self.name.as_ref().map_or("?", |name| name.text.as_str())
    }
}

pub(crate) fn parse(source: &str, file: &str) -> Result<Parsed, Vec<Problem>> {
    let mut checker = Checker {
        file,
        source,
        problems: Vec::new(),
    };
    let (document, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        // A document with syntax errors is only partially read, so checking
        // its contents would report problems that are not really there.
        for error in errors {
            let at = error.span().map_or(0, |span| span.start);
            checker.report(at, format!("TOML syntax error: {}", error.message().trim()));
        }
        return Err(checker.problems);
    }
    let document = document.get_ref();
    checker.unknown_keys(document, TOP_KEYS, "the top level");

    let name = read_name(&mut checker, document, file);
    let version = read_version(&mut checker, document);
    let (title_it, title_en) = read_title(&mut checker, document);
    let parent = document
        .get("parent")
        .and_then(|value| checker.string(value, "`parent`"));
    if let (Some(parent), Some(name)) = (&parent, &name)
        && parent.text == name.text
    {
        checker.report(
            parent.at,
            format!("workflow `{}` cannot be its own parent", name.text),
        );
    }

    let mut state_refs = Vec::new();
    let states_at = document.get("states").map(|value| value.span().start);
    let states: Vec<RawState> = match checker.required(document, "states", 0, "the top level") {
        Some(value) => checker
            .array(value, "`states`")
            .iter()
            .filter_map(|item| read_state(&mut checker, item))
            .collect(),
        None => Vec::new(),
    };
    let transitions: Vec<RawTransition> = match document.get("transitions") {
        Some(value) => checker
            .array(value, "`transitions`")
            .iter()
            .filter_map(|item| read_transition(&mut checker, item, &mut state_refs))
            .collect(),
        None => Vec::new(),
    };

    if parent.is_none() {
        for refs in state_refs
            .iter()
            .filter(|refs| refs.related == Related::Parent)
        {
            checker.report(
                refs.at,
                "guard `parent_in` needs a parent workflow; set `parent = \"...\"` at the top level or remove the guard".to_owned(),
            );
        }
    }

    check_graph(&mut checker, &states, &transitions, states_at);

    if !checker.problems.is_empty() {
        let mut problems = checker.problems;
        problems.sort_by_key(|problem| (problem.line, problem.column));
        return Err(problems);
    }

    let definition = Definition {
        name: name
            .as_ref()
            .map(|name| name.text.clone())
            .unwrap_or_default(),
        version,
        title_it,
        title_en,
        parent: parent.as_ref().map(|parent| parent.text.clone()),
        states: states
            .into_iter()
            .map(|state| State {
                name: state.name.map(|name| name.text).unwrap_or_default(),
                initial: state.initial.is_some(),
                is_final: state.is_final,
                on_enter: state.on_enter,
            })
            .collect(),
        transitions: transitions
            .into_iter()
            .map(|transition| Transition {
                name: transition.name.map(|name| name.text).unwrap_or_default(),
                from: transition.from.into_iter().map(|from| from.text).collect(),
                to: transition.to.map(|to| to.text).unwrap_or_default(),
                roles: transition.roles,
                guards: transition.guards,
                automatic: transition.automatic,
                effects: transition.effects,
            })
            .collect(),
    };
    Ok(Parsed {
        definition,
        name_at: name.map_or(0, |name| name.at),
        parent,
        state_refs,
    })
}

fn read_name(checker: &mut Checker<'_>, document: &DeTable<'_>, file: &str) -> Option<Located> {
    let name = checker
        .required(document, "name", 0, "the top level")
        .and_then(|value| checker.string(value, "`name`"))?;
    if !is_identifier(&name.text, &['-', '_']) {
        checker.report(
            name.at,
            format!(
                "workflow name `{}` must start with a lowercase letter and contain only lowercase letters, digits, `-` and `_`",
                name.text
            ),
        );
    }
    // The stem rule only applies to real files: the engine also parses
    // stored sources under a label that is not a file name.
    if file.ends_with(".toml") {
        let stem = Path::new(file)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem != name.text {
            checker.report(
                name.at,
                format!(
                    "workflow name `{}` does not match the file name; rename the file to `{}.toml` or set name = \"{stem}\"",
                    name.text, name.text
                ),
            );
        }
    }
    Some(name)
}

fn read_version(checker: &mut Checker<'_>, document: &DeTable<'_>) -> u32 {
    let Some(value) = checker.required(document, "version", 0, "the top level") else {
        return 0;
    };
    let DeValue::Integer(integer) = value.get_ref() else {
        checker.wrong_type(value, "`version`", "an integer");
        return 0;
    };
    match i64::from_str_radix(integer.as_str(), integer.radix()) {
        Ok(version) if version >= 1 => u32::try_from(version).unwrap_or_else(|_| {
            checker.report(
                value.span().start,
                format!("`version` {version} is too large"),
            );
            0
        }),
        _ => {
            checker.report(
                value.span().start,
                format!("`version` must be at least 1, found {}", integer.as_str()),
            );
            0
        }
    }
}

fn read_title(checker: &mut Checker<'_>, document: &DeTable<'_>) -> (String, String) {
    let Some(value) = checker.required(document, "title", 0, "the top level") else {
        return (String::new(), String::new());
    };
    let Some(table) = checker.table(value, "`title`") else {
        return (String::new(), String::new());
    };
    let at = value.span().start;
    checker.unknown_keys(table, TITLE_KEYS, "`title`");
    let mut read = |language: &str| {
        checker
            .required(table, language, at, "`title`")
            .and_then(|value| checker.string(value, &format!("`title.{language}`")))
            .map(|title| title.text)
            .unwrap_or_default()
    };
    (read("it"), read("en"))
}

fn read_state(checker: &mut Checker<'_>, value: &Value<'_>) -> Option<RawState> {
    let table = checker.table(value, "each entry of `states`")?;
    let at = value.span().start;
    checker.unknown_keys(table, STATE_KEYS, "a state");
    let name = checker
        .required(table, "name", at, "a state")
        .and_then(|value| checker.identifier(value, "a state name"));
    let initial = table.get("initial").and_then(|value| {
        checker
            .boolean(value, "`initial`")
            .filter(|initial| *initial)
            .map(|_| value.span().start)
    });
    let is_final = table
        .get("final")
        .and_then(|value| checker.boolean(value, "`final`"))
        .unwrap_or(false);
    if let (Some(initial_at), true) = (initial, is_final) {
        checker.report(
            initial_at,
            "the initial state cannot also be final; the workflow would have nothing to do"
                .to_owned(),
        );
    }
    let on_enter = table
        .get("on_enter")
        .map(|value| read_effects(checker, value, "`on_enter`"))
        .unwrap_or_default();
    Some(RawState {
        name,
        at,
        initial,
        is_final,
        on_enter,
    })
}

fn read_transition(
    checker: &mut Checker<'_>,
    value: &Value<'_>,
    state_refs: &mut Vec<StateRefs>,
) -> Option<RawTransition> {
    let table = checker.table(value, "each entry of `transitions`")?;
    let at = value.span().start;
    checker.unknown_keys(table, TRANSITION_KEYS, "a transition");
    let name = checker
        .required(table, "name", at, "a transition")
        .and_then(|value| checker.identifier(value, "a transition name"));
    let from = checker
        .required(table, "from", at, "a transition")
        .map(|value| checker.name_list(value, "`from`"))
        .unwrap_or_default();
    let to = checker
        .required(table, "to", at, "a transition")
        .and_then(|value| checker.identifier(value, "`to`"));
    let roles = table
        .get("roles")
        .map(|value| checker.roles(value, "`roles`"))
        .unwrap_or_default();
    let guards = match table.get("guards") {
        Some(value) => checker
            .array(value, "`guards`")
            .iter()
            .filter_map(|item| read_guard(checker, item, state_refs))
            .collect(),
        None => Vec::new(),
    };
    let automatic = table
        .get("automatic")
        .and_then(|value| checker.boolean(value, "`automatic`"))
        .unwrap_or(false);
    let effects = table
        .get("effects")
        .map(|value| read_effects(checker, value, "`effects`"))
        .unwrap_or_default();
    Some(RawTransition {
        name,
        at,
        from,
        to,
        roles,
        guards,
        automatic,
        effects,
    })
}

fn read_guard(
    checker: &mut Checker<'_>,
    value: &Value<'_>,
    state_refs: &mut Vec<StateRefs>,
) -> Option<Guard> {
    let at = value.span().start;
    let (name, table) = match value.get_ref() {
        DeValue::String(name) => (name.to_string(), None),
        DeValue::Table(table) => {
            let name = checker
                .required(table, "guard", at, "a guard table")
                .and_then(|value| checker.string(value, "`guard`"))?;
            (name.text, Some(table))
        }
        _ => {
            checker.wrong_type(
                value,
                "a guard",
                "a guard name or an inline table such as { guard = \"quorum\", ratio = \"2/3\" }",
            );
            return None;
        }
    };
    let allowed: &[&str] = match name.as_str() {
        "has_version" | "comments_resolved" | "all_signed" | "commitments_assigned" => &["guard"],
        "quorum" => &["guard", "ratio"],
        "parent_in" | "children_in" => &["guard", "states"],
        "owner_in" | "signatories_include" => &["guard", "categories"],
        _ => {
            checker.report(
                at,
                format!(
                    "unknown guard `{name}`; expected one of: {}",
                    Guard::NAMES.join(", ")
                ),
            );
            return None;
        }
    };
    let Some(table) = table else {
        return match name.as_str() {
            "has_version" => Some(Guard::HasVersion),
            "comments_resolved" => Some(Guard::CommentsResolved),
            "all_signed" => Some(Guard::AllSigned),
            "commitments_assigned" => Some(Guard::CommitmentsAssigned),
            _ => {
                let example = if name == "quorum" {
                    "ratio = \"2/3\"".to_owned()
                } else if name == "owner_in" || name == "signatories_include" {
                    "categories = [\"coalition\"]".to_owned()
                } else {
                    "states = [\"...\"]".to_owned()
                };
                checker.report(
                    at,
                    format!(
                        "guard `{name}` needs parameters; write {{ guard = \"{name}\", {example} }}"
                    ),
                );
                None
            }
        };
    };
    checker.unknown_keys(table, allowed, &format!("guard `{name}`"));
    let place = format!("guard `{name}`");
    match name.as_str() {
        "has_version" => Some(Guard::HasVersion),
        "comments_resolved" => Some(Guard::CommentsResolved),
        "all_signed" => Some(Guard::AllSigned),
        "commitments_assigned" => Some(Guard::CommitmentsAssigned),
        "quorum" => {
            let ratio = checker
                .required(table, "ratio", at, &place)
                .and_then(|value| checker.string(value, "`ratio`"))?;
            match parse_ratio(&ratio.text) {
                Some((numerator, denominator)) => Some(Guard::Quorum {
                    numerator,
                    denominator,
                }),
                None => {
                    checker.report(
                        ratio.at,
                        format!(
                            "quorum ratio `{}` must be written n/d with 0 < n <= d, e.g. \"2/3\"",
                            ratio.text
                        ),
                    );
                    None
                }
            }
        }
        "owner_in" | "signatories_include" => {
            let list = checker.required(table, "categories", at, &place)?;
            let categories = checker.name_list(list, &format!("`categories` of guard `{name}`"));
            let mut names = Vec::new();
            for category in &categories {
                match category.text.parse::<crate::OrganisationCategory>() {
                    Ok(_) => names.push(category.text.clone()),
                    Err(error) => checker.report(category.at, error.to_string()),
                }
            }
            (!names.is_empty() && names.len() == categories.len()).then(|| {
                if name == "owner_in" {
                    Guard::OwnerIn { categories: names }
                } else {
                    Guard::SignatoriesInclude { categories: names }
                }
            })
        }
        _ => {
            let list = checker.required(table, "states", at, &place)?;
            let states = checker.name_list(list, &format!("`states` of guard `{name}`"));
            if states.is_empty() {
                return None;
            }
            let names: Vec<String> = states.iter().map(|state| state.text.clone()).collect();
            let (related, guard) = if name == "parent_in" {
                (Related::Parent, Guard::ParentIn { states: names })
            } else {
                (Related::Children, Guard::ChildrenIn { states: names })
            };
            state_refs.push(StateRefs {
                related,
                at,
                states,
            });
            Some(guard)
        }
    }
}

fn parse_ratio(text: &str) -> Option<(u32, u32)> {
    let (numerator, denominator) = text.split_once('/')?;
    let numerator: u32 = numerator.trim().parse().ok()?;
    let denominator: u32 = denominator.trim().parse().ok()?;
    (numerator > 0 && numerator <= denominator).then_some((numerator, denominator))
}

fn read_effects(checker: &mut Checker<'_>, value: &Value<'_>, what: &str) -> Vec<Effect> {
    checker
        .array(value, what)
        .iter()
        .filter_map(|item| read_effect(checker, item))
        .collect()
}

fn read_effect(checker: &mut Checker<'_>, value: &Value<'_>) -> Option<Effect> {
    let table = match value.get_ref() {
        DeValue::Table(table) => table,
        _ => {
            checker.wrong_type(
                value,
                "an effect",
                "an inline table such as { effect = \"publish\" }",
            );
            return None;
        }
    };
    let at = value.span().start;
    let kind = checker
        .required(table, "effect", at, "an effect")
        .and_then(|value| checker.string(value, "`effect`"))?;
    let place = format!("effect `{}`", kind.text);
    let allowed: &[&str] = match kind.text.as_str() {
        "notify" => &["effect", "roles", "template"],
        "open_signing" => &["effect", "intent", "order"],
        "start_reviews" => &["effect", "cron", "tz"],
        "stop_reviews" | "publish" => &["effect"],
        _ => {
            checker.report(
                kind.at,
                format!(
                    "unknown effect `{}`; expected one of: {}",
                    kind.text,
                    Effect::NAMES.join(", ")
                ),
            );
            return None;
        }
    };
    checker.unknown_keys(table, allowed, &place);
    match kind.text.as_str() {
        "notify" => {
            let roles = checker
                .required(table, "roles", at, &place)
                .map(|value| {
                    let roles = checker.roles(value, "`roles` of effect `notify`");
                    if roles.is_empty()
                        && matches!(value.get_ref(), DeValue::Array(items) if items.is_empty())
                    {
                        checker.report(
                            value.span().start,
                            "effect `notify` must list at least one role to notify".to_owned(),
                        );
                    }
                    // The scheduler is the review worker: an e-mail to it reaches nobody.
                    if roles.contains(&Role::Scheduler) {
                        checker.report(
                            value.span().start,
                            "effect `notify` cannot notify the role `scheduler`: no person holds it; name the roles of the people to tell".to_owned(),
                        );
                    }
                    roles
                })
                .unwrap_or_default();
            let template = checker
                .required(table, "template", at, &place)
                .and_then(|value| checker.identifier(value, "a template name"))?;
            Some(Effect::Notify {
                roles,
                template: template.text,
            })
        }
        "open_signing" => {
            let intent = checker
                .required(table, "intent", at, &place)
                .and_then(|value| checker.string(value, "`intent`"))
                .and_then(|intent| match intent.text.parse::<Intent>() {
                    Ok(intent) => Some(intent),
                    Err(err) => {
                        checker.report(intent.at, err.to_string());
                        None
                    }
                });
            let order = match table.get("order") {
                Some(value) => checker.string(value, "`order`").and_then(|order| {
                    match order.text.parse::<SigningOrder>() {
                        Ok(order) => Some(order),
                        Err(err) => {
                            checker.report(order.at, err.to_string());
                            None
                        }
                    }
                }),
                None => Some(SigningOrder::Parallel),
            };
            Some(Effect::OpenSigning {
                intent: intent?,
                order: order?,
            })
        }
        "start_reviews" => {
            let cron = checker
                .required(table, "cron", at, &place)
                .and_then(|value| checker.string(value, "`cron`"))
                .and_then(|cron| match parse_cron(&cron.text) {
                    Ok(spec) => Some(spec.text().to_owned()),
                    Err(why) => {
                        checker.report(cron.at, format!("invalid cron expression: {why}"));
                        None
                    }
                });
            let time_zone = match table.get("tz") {
                Some(value) => {
                    checker
                        .string(value, "`tz`")
                        .and_then(|tz| match parse_time_zone(&tz.text) {
                            Ok(_) => Some(tz.text),
                            Err(why) => {
                                checker.report(tz.at, why);
                                None
                            }
                        })
                }
                None => Some(DEFAULT_TIME_ZONE.to_owned()),
            };
            Some(Effect::StartReviews {
                cron: cron?,
                time_zone: time_zone?,
            })
        }
        "stop_reviews" => Some(Effect::StopReviews),
        _ => Some(Effect::Publish),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "name = \"demo\"\nversion = 1\ntitle = { it = \"Prova\", en = \"Demo\" }\n";

    /// Parses `HEADER` followed by `body` (so body line 1 is file line 4) and
    /// returns the problems, failing if the file is accepted.
    fn problems(body: &str) -> Vec<Problem> {
        match Definition::parse(&format!("{HEADER}{body}"), "demo.toml") {
            Ok(def) => panic!("accepted: {def:?}"),
            Err(problems) => problems,
        }
    }

    /// Asserts that a problem on `line` mentions `fragment`.
    fn assert_problem(problems: &[Problem], line: usize, fragment: &str) {
        assert!(
            problems
                .iter()
                .any(|problem| problem.line == line && problem.message.contains(fragment)),
            "no problem on line {line} containing `{fragment}` in {problems:#?}"
        );
        assert!(problems.iter().all(|problem| problem.file == "demo.toml"));
    }

    const VALID_BODY: &str = r#"
[[states]]
name = "draft"
initial = true

[[states]]
name = "done"
final = true

[[transitions]]
name = "finish"
from = ["draft"]
to = "done"
roles = ["coordinator"]
"#;

    #[test]
    fn a_small_valid_definition_is_accepted_with_defaults() {
        let def = Definition::parse(&format!("{HEADER}{VALID_BODY}"), "demo.toml").unwrap();
        assert_eq!(def.name, "demo");
        assert_eq!(def.title_it, "Prova");
        assert_eq!(def.initial_state().name, "draft");
        let finish = def.transition("finish").unwrap();
        assert!(!finish.automatic);
        assert!(finish.guards.is_empty());
        assert_eq!(finish.roles, vec![Role::Coordinator]);
        assert!(def.state("done").unwrap().is_final);
    }

    #[test]
    fn syntax_errors_are_located() {
        let problems = problems("\n[[states]]\nname = = \"draft\"\n");
        assert_problem(&problems, 6, "TOML syntax error");
        assert_eq!(problems[0].column, 8);
    }

    #[test]
    fn unknown_keys_are_rejected_everywhere() {
        let body = VALID_BODY.replace("final = true", "final = true\ncolour = \"red\"");
        let problems = problems(&format!("owner = \"x\"\n{body}"));
        assert_problem(&problems, 4, "unknown key `owner` in the top level");
        assert_problem(&problems, 13, "unknown key `colour` in a state");
    }

    #[test]
    fn missing_keys_are_reported() {
        let problems = match Definition::parse("[[states]]\ninitial = true\n", "demo.toml") {
            Err(problems) => problems,
            Ok(def) => panic!("accepted {def:?}"),
        };
        assert_problem(&problems, 1, "missing key `name` in the top level");
        assert_problem(&problems, 1, "missing key `version`");
        assert_problem(&problems, 1, "missing key `name` in a state");
    }

    #[test]
    fn unknown_states_in_from_and_to_are_rejected() {
        let body = VALID_BODY
            .replace("from = [\"draft\"]", "from = [\"draft\", \"drfat\"]")
            .replace("to = \"done\"", "to = \"dnoe\"");
        let problems = problems(&body);
        assert_problem(
            &problems,
            15,
            "unknown state `drfat` in transition `finish`; known states: done, draft",
        );
        assert_problem(&problems, 16, "unknown state `dnoe`");
    }

    #[test]
    fn unknown_roles_list_the_accepted_ones() {
        let problems = problems(&VALID_BODY.replace("\"coordinator\"]", "\"mayor\"]"));
        assert_problem(
            &problems,
            17,
            "unknown role `mayor`; expected one of: admin, coordinator, member, signatory, partner, scheduler",
        );
    }

    #[test]
    fn nobody_is_notified_as_the_scheduler() {
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            "roles = [\"coordinator\", \"scheduler\"]\neffects = [{ effect = \"notify\", roles = [\"scheduler\"], template = \"finished\" }]",
        );
        let problems = problems(&body);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_problem(&problems, 18, "cannot notify the role `scheduler`");
    }

    #[test]
    fn unknown_guards_and_effects_list_the_accepted_ones() {
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            "roles = [\"coordinator\"]\nguards = [\"is_nice\"]\neffects = [{ effect = \"tweet\" }]",
        );
        let problems = problems(&body);
        assert_problem(
            &problems,
            18,
            "unknown guard `is_nice`; expected one of: has_version,",
        );
        assert_problem(
            &problems,
            19,
            "unknown effect `tweet`; expected one of: notify, open_signing,",
        );
    }

    #[test]
    fn bad_guard_and_effect_parameters_are_rejected() {
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            r#"roles = ["coordinator"]
guards = [
  { guard = "quorum", ratio = "4/3" },
  "quorum",
  { guard = "children_in", states = [] },
  { guard = "all_signed", ratio = "1/2" },
]
effects = [
  { effect = "open_signing", intent = "agree", order = "random" },
  { effect = "notify", roles = [], template = "x" },
]"#,
        );
        let problems = problems(&body);
        assert_problem(&problems, 19, "must be written n/d with 0 < n <= d");
        assert_problem(&problems, 20, "guard `quorum` needs parameters");
        assert_problem(&problems, 21, "must list at least one state");
        assert_problem(&problems, 22, "unknown key `ratio` in guard `all_signed`");
        assert_problem(
            &problems,
            25,
            "unknown signing intent `agree`; expected one of: endorse, approve",
        );
        assert_problem(&problems, 25, "unknown signing order `random`");
        assert_problem(&problems, 26, "at least one role");
    }

    #[test]
    fn duplicate_states_and_transitions_are_rejected() {
        let body = format!(
            "{VALID_BODY}\n[[states]]\nname = \"done\"\nfinal = true\n\n[[transitions]]\nname = \"finish\"\nfrom = [\"draft\"]\nto = \"done\"\nroles = [\"admin\"]\n"
        );
        let problems = problems(&body);
        assert_problem(
            &problems,
            20,
            "state `done` is defined twice (first on line 10)",
        );
        assert_problem(
            &problems,
            24,
            "transition `finish` is defined twice (first on line 14)",
        );
    }

    #[test]
    fn exactly_one_initial_state_is_required() {
        let problems_none = problems(&VALID_BODY.replace("initial = true", ""));
        assert_problem(&problems_none, 5, "no state has `initial = true`");
        let problems_two = problems(&VALID_BODY.replace("final = true", "initial = true"));
        assert_problem(
            &problems_two,
            11,
            "state `done` is marked initial but `draft` already is",
        );
    }

    #[test]
    fn unreachable_and_dead_end_states_are_rejected() {
        let body = format!("{VALID_BODY}\n[[states]]\nname = \"limbo\"\n");
        let problems = problems(&body);
        assert_problem(
            &problems,
            20,
            "state `limbo` cannot be reached from the initial state `draft`",
        );
        assert_problem(
            &problems,
            20,
            "state `limbo` is not final but no transition leaves it",
        );
    }

    #[test]
    fn final_states_cannot_be_left() {
        let body = format!(
            "{VALID_BODY}\n[[transitions]]\nname = \"reopen\"\nfrom = [\"done\"]\nto = \"draft\"\nroles = [\"admin\"]\n"
        );
        assert_problem(
            &problems(&body),
            21,
            "transition `reopen` leaves final state `done`",
        );
    }

    #[test]
    fn cycles_of_automatic_transitions_are_rejected() {
        let body = format!(
            "{VALID_BODY}\n[[states]]\nname = \"a\"\n\n[[states]]\nname = \"b\"\n\n[[transitions]]\nname = \"go_a\"\nfrom = [\"draft\"]\nto = \"a\"\nroles = [\"admin\"]\n\n[[transitions]]\nname = \"a_to_b\"\nfrom = [\"a\"]\nto = \"b\"\nautomatic = true\n\n[[transitions]]\nname = \"b_to_a\"\nfrom = [\"b\"]\nto = \"a\"\nautomatic = true\n\n[[transitions]]\nname = \"stay\"\nfrom = [\"draft\"]\nto = \"draft\"\nautomatic = true\n"
        );
        let problems = problems(&body);
        assert_problem(
            &problems,
            38,
            "automatic transitions `a_to_b`, `b_to_a` form a cycle a -> b -> a",
        );
        assert_problem(
            &problems,
            44,
            "automatic transitions `stay` form a cycle draft -> draft",
        );
        assert_eq!(
            problems
                .iter()
                .filter(|p| p.message.contains("cycle"))
                .count(),
            2,
            "{problems:#?}"
        );
    }

    #[test]
    fn manual_transitions_need_roles_and_automatic_ones_must_not_have_them() {
        let body = VALID_BODY.replace("roles = [\"coordinator\"]", "");
        assert_problem(&problems(&body), 14, "nobody could fire it");
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            "roles = [\"admin\"]\nautomatic = true",
        );
        assert_problem(&problems(&body), 14, "is automatic, so the engine fires it");
    }

    #[test]
    fn review_schedules_need_a_valid_cron_and_time_zone() {
        let body = VALID_BODY.replace(
            "final = true",
            "final = true\non_enter = [\n  { effect = \"start_reviews\", cron = \"61 * * * *\" },\n  { effect = \"start_reviews\", cron = \"0 9 * * 1\", tz = \"Mars/Olympus\" },\n]",
        );
        let problems = problems(&body);
        assert_problem(&problems, 13, "invalid cron expression");
        assert_problem(&problems, 14, "unknown time zone `Mars/Olympus`");
    }

    #[test]
    fn start_reviews_defaults_to_rome_time() {
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            "roles = [\"coordinator\"]\neffects = [{ effect = \"start_reviews\", cron = \"0 9 * * 7\" }]",
        );
        let def = Definition::parse(&format!("{HEADER}{body}"), "demo.toml").unwrap();
        assert_eq!(
            def.transition("finish").unwrap().effects,
            vec![Effect::StartReviews {
                cron: "0 9 * * 7".into(),
                time_zone: "Europe/Rome".into()
            }]
        );
    }

    #[test]
    fn name_must_match_the_file_and_version_must_be_positive() {
        let source = format!(
            "{}{VALID_BODY}",
            HEADER.replace("version = 1", "version = 0")
        );
        let problems = Definition::parse(&source, "workflows/other.toml").unwrap_err();
        assert_eq!(problems[0].line, 1);
        assert!(
            problems[0]
                .message
                .contains("rename the file to `demo.toml` or set name = \"other\"")
        );
        assert_eq!(problems[1].line, 2);
        assert!(problems[1].message.contains("`version` must be at least 1"));
        // A label that is not a file name, as used for stored sources, is not compared.
        let stored = format!("{HEADER}{VALID_BODY}");
        assert!(Definition::parse(&stored, "demo@1").is_ok());
    }

    #[test]
    fn parent_in_needs_a_parent() {
        let body = VALID_BODY.replace(
            "roles = [\"coordinator\"]",
            "roles = [\"coordinator\"]\nguards = [{ guard = \"parent_in\", states = [\"in_force\"] }]",
        );
        assert_problem(
            &problems(&body),
            18,
            "guard `parent_in` needs a parent workflow",
        );
    }

    #[test]
    fn all_problems_are_collected_and_sorted_by_position() {
        let body = VALID_BODY
            .replace("\"coordinator\"]", "\"mayor\"]")
            .replace("to = \"done\"", "to = \"gone\"");
        let problems = problems(&format!("extra = 1\n{body}"));
        assert!(problems.len() >= 3, "{problems:#?}");
        let positions: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted);
    }
}
