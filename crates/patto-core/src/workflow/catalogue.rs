//! A set of definitions validated together: the shipped ones or a directory.

use std::collections::BTreeMap;
use std::path::Path;

use super::parse::{self, Parsed, Related};
use super::{Definition, Problem};

/// The shipped definition files, embedded so a binary never runs without them.
const SHIPPED: [(&str, &str); 5] = [
    (
        "workflows/pact.toml",
        include_str!("../../../../workflows/pact.toml"),
    ),
    (
        "workflows/protocol.toml",
        include_str!("../../../../workflows/protocol.toml"),
    ),
    (
        "workflows/diagnosis.toml",
        include_str!("../../../../workflows/diagnosis.toml"),
    ),
    (
        "workflows/reporting-model.toml",
        include_str!("../../../../workflows/reporting-model.toml"),
    ),
    (
        "workflows/social-report.toml",
        include_str!("../../../../workflows/social-report.toml"),
    ),
];

#[derive(Debug, Clone)]
struct Entry {
    definition: Definition,
    source: String,
}

/// Validated definitions by name, each with the exact text it came from.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    entries: BTreeMap<String, Entry>,
}

impl Catalogue {
    /// Loads and validates every `*.toml` file in `dir`, then checks the files
    /// against each other. Every problem of every file is returned.
    pub fn load_dir(dir: &Path) -> Result<Catalogue, Vec<Problem>> {
        let unreadable = |what: String| {
            vec![Problem {
                file: dir.display().to_string(),
                line: 1,
                column: 1,
                message: what,
            }]
        };
        let listing = std::fs::read_dir(dir).map_err(|err| {
            unreadable(format!(
                "cannot read the workflow directory: {err}; check the path and its permissions"
            ))
        })?;
        let mut paths = Vec::new();
        for entry in listing {
            let entry = entry
                .map_err(|err| unreadable(format!("cannot list the workflow directory: {err}")))?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        // Sorting keeps problem reports in the same order on every machine.
        paths.sort();
        let mut problems = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            let file = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(source) => files.push((file, source)),
                Err(err) => problems.push(Problem {
                    file,
                    line: 1,
                    column: 1,
                    message: format!("cannot read the file: {err}"),
                }),
            }
        }
        if files.is_empty() && problems.is_empty() {
            return Err(unreadable(
                "the workflow directory contains no `*.toml` definition files".to_owned(),
            ));
        }
        match Catalogue::from_sources(files) {
            Ok(catalogue) if problems.is_empty() => Ok(catalogue),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(more);
                Err(problems)
            }
        }
    }

    /// The five definitions shipped in `workflows/`, embedded at build time.
    pub fn shipped() -> Result<Catalogue, Vec<Problem>> {
        Catalogue::from_sources(
            SHIPPED
                .iter()
                .map(|(file, source)| ((*file).to_owned(), (*source).to_owned())),
        )
    }

    /// Validates `(file, source)` pairs as one set: each file alone, then the
    /// references between them.
    pub fn from_sources(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalogue, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut parsed: Vec<(String, String, Parsed)> = Vec::new();
        for (file, source) in files {
            match parse::parse(&source, &file) {
                Ok(definition) => parsed.push((file, source, definition)),
                Err(more) => problems.extend(more),
            }
        }
        check_references(&parsed, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let entries = parsed
            .into_iter()
            .map(|(_, source, parsed)| {
                (
                    parsed.definition.name.clone(),
                    Entry {
                        definition: parsed.definition,
                        source,
                    },
                )
            })
            .collect();
        Ok(Catalogue { entries })
    }

    /// The definition named `name`.
    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.entries.get(name).map(|entry| &entry.definition)
    }

    /// The exact TOML text the definition named `name` came from; the engine
    /// stores it so that running instances keep their version.
    pub fn source(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|entry| entry.source.as_str())
    }

    /// Names of all definitions, in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// Cross-file checks: unique names, existing parents without cycles, and the
/// states named by `parent_in` and `children_in` guards.
fn check_references(parsed: &[(String, String, Parsed)], problems: &mut Vec<Problem>) {
    let mut by_name: BTreeMap<&str, &Parsed> = BTreeMap::new();
    let mut first_file: BTreeMap<&str, &str> = BTreeMap::new();
    for (file, source, item) in parsed {
        let name = item.definition.name.as_str();
        if let Some(first) = first_file.get(name) {
            problems.push(Problem::at(
                file,
                source,
                item.name_at,
                format!(
                    "workflow `{name}` is already defined in {first}; workflow names must be unique"
                ),
            ));
        } else {
            first_file.insert(name, file);
            by_name.insert(name, item);
        }
    }
    let known: Vec<&str> = by_name.keys().copied().collect();

    for (file, source, item) in parsed {
        let def = &item.definition;
        let mut report = |at: usize, message: String| {
            problems.push(Problem::at(file, source, at, message));
        };
        if let Some(parent) = &item.parent {
            match by_name.get(parent.text.as_str()) {
                None => report(
                    parent.at,
                    format!(
                        "parent workflow `{}` does not exist; known workflows: {}",
                        parent.text,
                        known.join(", ")
                    ),
                ),
                Some(_) if has_parent_cycle(&def.name, &by_name) => report(
                    parent.at,
                    format!(
                        "the parents of `{}` lead back to it; a workflow cannot be its own ancestor",
                        def.name
                    ),
                ),
                Some(_) => {}
            }
        }
        let children: Vec<&Parsed> = by_name
            .values()
            .copied()
            .filter(|child| child.definition.parent.as_deref() == Some(def.name.as_str()))
            .collect();
        for refs in &item.state_refs {
            match refs.related {
                Related::Parent => {
                    let Some(parent) = item
                        .parent
                        .as_ref()
                        .and_then(|parent| by_name.get(parent.text.as_str()))
                    else {
                        // A missing parent has been reported above.
                        continue;
                    };
                    for state in &refs.states {
                        if parent.definition.state(&state.text).is_none() {
                            report(
                                state.at,
                                format!(
                                    "state `{}` does not exist in parent workflow `{}`; its states are: {}",
                                    state.text,
                                    parent.definition.name,
                                    state_names(&parent.definition)
                                ),
                            );
                        }
                    }
                }
                Related::Children => {
                    if children.is_empty() {
                        report(
                            refs.at,
                            format!(
                                "guard `children_in` needs child workflows, but no workflow has parent = \"{}\"; add one or remove the guard",
                                def.name
                            ),
                        );
                    }
                    for child in &children {
                        for state in &refs.states {
                            if child.definition.state(&state.text).is_none() {
                                report(
                                    state.at,
                                    format!(
                                        "state `{}` does not exist in child workflow `{}`; its states are: {}",
                                        state.text,
                                        child.definition.name,
                                        state_names(&child.definition)
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

fn state_names(def: &Definition) -> String {
    let names: Vec<&str> = def.states.iter().map(|state| state.name.as_str()).collect();
    names.join(", ")
}

/// Whether following `parent` links from `name` comes back to `name`.
fn has_parent_cycle(name: &str, by_name: &BTreeMap<&str, &Parsed>) -> bool {
    let mut current = name;
    // A chain longer than the number of workflows must repeat a workflow.
    for _ in 0..=by_name.len() {
        let Some(parent) = by_name
            .get(current)
            .and_then(|item| item.definition.parent.as_deref())
        else {
            return false;
        };
        if parent == name {
            return true;
        }
        current = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow(name: &str, parent: Option<&str>, guard: &str) -> String {
        let parent = parent.map_or(String::new(), |parent| format!("parent = \"{parent}\"\n"));
        format!(
            r#"name = "{name}"
version = 1
title = {{ it = "X", en = "X" }}
{parent}
[[states]]
name = "drafting"
initial = true

[[states]]
name = "closed"
final = true

[[transitions]]
name = "close"
from = ["drafting"]
to = "closed"
roles = ["coordinator"]
guards = [{guard}]
"#
        )
    }

    fn load(files: &[(&str, String)]) -> Result<Catalogue, Vec<Problem>> {
        Catalogue::from_sources(
            files
                .iter()
                .map(|(file, source)| ((*file).to_owned(), source.clone())),
        )
    }

    fn assert_problem(problems: &[Problem], file: &str, line: usize, fragment: &str) {
        assert!(
            problems.iter().any(|problem| problem.file == file
                && problem.line == line
                && problem.message.contains(fragment)),
            "no problem at {file}:{line} containing `{fragment}` in {problems:#?}"
        );
    }

    #[test]
    fn related_workflows_resolve() {
        let catalogue = load(&[
            (
                "parent.toml",
                workflow(
                    "parent",
                    None,
                    r#"{ guard = "children_in", states = ["closed"] }"#,
                ),
            ),
            (
                "child.toml",
                workflow(
                    "child",
                    Some("parent"),
                    r#"{ guard = "parent_in", states = ["drafting"] }"#,
                ),
            ),
        ])
        .unwrap();
        assert_eq!(catalogue.names().collect::<Vec<_>>(), ["child", "parent"]);
        assert!(
            catalogue
                .source("child")
                .unwrap()
                .contains("parent = \"parent\"")
        );
        assert!(catalogue.get("nobody").is_none());
    }

    #[test]
    fn a_missing_parent_is_rejected() {
        let problems = load(&[("child.toml", workflow("child", Some("pact"), ""))]).unwrap_err();
        assert_problem(
            &problems,
            "child.toml",
            4,
            "parent workflow `pact` does not exist",
        );
    }

    #[test]
    fn parent_in_states_must_exist_in_the_parent() {
        let problems = load(&[
            ("parent.toml", workflow("parent", None, "")),
            (
                "child.toml",
                workflow(
                    "child",
                    Some("parent"),
                    r#"{ guard = "parent_in", states = ["in_force"] }"#,
                ),
            ),
        ])
        .unwrap_err();
        assert_problem(
            &problems,
            "child.toml",
            19,
            "state `in_force` does not exist in parent workflow `parent`; its states are: drafting, closed",
        );
    }

    #[test]
    fn children_in_states_must_exist_in_every_child() {
        let problems = load(&[
            (
                "parent.toml",
                workflow(
                    "parent",
                    None,
                    r#"{ guard = "children_in", states = ["closed", "withdrawn"] }"#,
                ),
            ),
            ("child.toml", workflow("child", Some("parent"), "")),
        ])
        .unwrap_err();
        assert_problem(
            &problems,
            "parent.toml",
            18,
            "state `withdrawn` does not exist in child workflow `child`",
        );
        assert_eq!(problems.len(), 1, "{problems:#?}");
    }

    #[test]
    fn children_in_needs_a_child_workflow() {
        let problems = load(&[(
            "parent.toml",
            workflow(
                "parent",
                None,
                r#"{ guard = "children_in", states = ["closed"] }"#,
            ),
        )])
        .unwrap_err();
        assert_problem(
            &problems,
            "parent.toml",
            18,
            "no workflow has parent = \"parent\"",
        );
    }

    #[test]
    fn names_are_unique_across_files_and_parents_do_not_cycle() {
        let problems = load(&[
            ("a/demo.toml", workflow("demo", None, "")),
            ("b/demo.toml", workflow("demo", None, "")),
            ("x.toml", workflow("x", Some("y"), "")),
            ("y.toml", workflow("y", Some("x"), "")),
        ])
        .unwrap_err();
        assert_problem(
            &problems,
            "b/demo.toml",
            1,
            "already defined in a/demo.toml",
        );
        assert_problem(&problems, "x.toml", 4, "lead back to it");
        assert_problem(&problems, "y.toml", 4, "lead back to it");
    }

    #[test]
    fn problems_of_every_file_are_collected() {
        let problems = load(&[
            ("one.toml", workflow("one", None, "\"nope\"")),
            ("two.toml", workflow("two", None, "\"never\"")),
        ])
        .unwrap_err();
        assert_problem(&problems, "one.toml", 18, "unknown guard `nope`");
        assert_problem(&problems, "two.toml", 18, "unknown guard `never`");
    }

    #[test]
    fn an_unreadable_directory_is_a_problem() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-directory");
        let problems = Catalogue::load_dir(&dir).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("cannot read the workflow directory")
        );
        assert_eq!(problems[0].file, dir.display().to_string());
    }
}
