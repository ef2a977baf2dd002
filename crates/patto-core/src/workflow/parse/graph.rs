//! The definition-wide checks of one file, once its states and transitions are
//! read: unique names, exactly one initial state, known state references, who
//! can fire what, and the shape of the state graph (dead ends, unreachable
//! states, cycles of automatic transitions).

use std::collections::{HashMap, HashSet};

use super::{Checker, RawState, RawTransition};

/// Definition-wide checks: names, the initial state, state references,
/// who can fire what, and the shape of the state graph.
pub(super) fn check_graph(
    checker: &mut Checker<'_>,
    states: &[RawState],
    transitions: &[RawTransition],
    states_at: Option<usize>,
) {
    let mut known: HashMap<&str, &RawState> = HashMap::new();
    for state in states {
        let Some(name) = &state.name else { continue };
        if let Some(first) = known.get(name.text.as_str()) {
            let line = checker.line_of(first.name.as_ref().map_or(first.at, |first| first.at));
            checker.report(
                name.at,
                format!(
                    "state `{}` is defined twice (first on line {line}); rename or remove one",
                    name.text
                ),
            );
        } else {
            known.insert(&name.text, state);
        }
    }
    let mut transition_names: HashMap<&str, usize> = HashMap::new();
    for transition in transitions {
        let Some(name) = &transition.name else {
            continue;
        };
        if let Some(first) = transition_names.get(name.text.as_str()) {
            let line = checker.line_of(*first);
            checker.report(
                name.at,
                format!(
                    "transition `{}` is defined twice (first on line {line}); rename or remove one",
                    name.text
                ),
            );
        } else {
            transition_names.insert(&name.text, name.at);
        }
    }

    let initials: Vec<(&str, usize)> = states
        .iter()
        .filter_map(|state| {
            let at = state.initial?;
            Some((
                state.name.as_ref().map_or("?", |name| name.text.as_str()),
                at,
            ))
        })
        .collect();
    match (initials.as_slice(), states_at) {
        // Without a `states` key the missing key has already been reported.
        ([], Some(states_at)) => checker.report(
            states_at,
            "no state has `initial = true`; mark exactly one state as initial".to_owned(),
        ),
        ([], None) | ([_], _) => {}
        ([(first, _), rest @ ..], _) => {
            for (name, at) in rest {
                checker.report(
                    *at,
                    format!(
                        "state `{name}` is marked initial but `{first}` already is; only one state may have `initial = true`"
                    ),
                );
            }
        }
    }

    let mut state_list: Vec<&str> = known.keys().copied().collect();
    state_list.sort_unstable();
    let state_list = state_list.join(", ");
    for transition in transitions {
        let label = transition.label();
        for state in transition.from.iter().chain(&transition.to) {
            if !known.contains_key(state.text.as_str()) {
                checker.report(
                    state.at,
                    format!(
                        "unknown state `{}` in transition `{label}`; known states: {state_list}",
                        state.text
                    ),
                );
            }
        }
        let name_at = transition
            .name
            .as_ref()
            .map_or(transition.at, |name| name.at);
        if transition.automatic && !transition.roles.is_empty() {
            checker.report(
                name_at,
                format!("transition `{label}` is automatic, so the engine fires it and `roles` has no meaning; remove `roles`"),
            );
        }
        if !transition.automatic && transition.roles.is_empty() {
            checker.report(
                name_at,
                format!("transition `{label}` is not automatic and lists no roles, so nobody could fire it; add `roles = [...]` or set `automatic = true`"),
            );
        }
        for from in &transition.from {
            if known
                .get(from.text.as_str())
                .is_some_and(|state| state.is_final)
            {
                checker.report(
                    from.at,
                    format!(
                        "transition `{label}` leaves final state `{}`; a final state ends the workflow, so remove `final = true` or the transition",
                        from.text
                    ),
                );
            }
        }
    }

    // Outgoing edges between known states only: references to unknown
    // states have been reported above and would only add noise here.
    let edges: Vec<(&str, &str, &RawTransition)> = transitions
        .iter()
        .flat_map(|transition| {
            let to = transition.to.as_ref().map(|to| to.text.as_str());
            transition.from.iter().filter_map(move |from| {
                let to = to?;
                Some((from.text.as_str(), to, transition))
            })
        })
        .filter(|(from, to, _)| known.contains_key(from) && known.contains_key(to))
        .collect();

    for state in states {
        let Some(name) = &state.name else { continue };
        let leaves = transitions
            .iter()
            .any(|transition| transition.from.iter().any(|from| from.text == name.text));
        if !state.is_final && !leaves {
            checker.report(
                name.at,
                format!(
                    "state `{}` is not final but no transition leaves it; add a transition from it or mark it `final = true`",
                    name.text
                ),
            );
        }
    }

    if let [(initial, _), ..] = initials.as_slice() {
        let mut reached: HashSet<&str> = HashSet::from([*initial]);
        let mut pending = vec![*initial];
        while let Some(state) = pending.pop() {
            for (from, to, _) in &edges {
                if *from == state && reached.insert(to) {
                    pending.push(to);
                }
            }
        }
        for state in states {
            let Some(name) = &state.name else { continue };
            if !reached.contains(name.text.as_str()) {
                checker.report(
                    name.at,
                    format!(
                        "state `{}` cannot be reached from the initial state `{initial}`; add a transition into it or remove it",
                        name.text
                    ),
                );
            }
        }
    }

    let automatic: Vec<(&str, &str, &RawTransition)> = edges
        .into_iter()
        .filter(|(_, _, transition)| transition.automatic)
        .collect();
    report_automatic_cycles(checker, states, &automatic);
}

/// Depth-first search over automatic edges; every edge back into the current
/// path closes a cycle the engine could follow forever without anyone acting.
fn report_automatic_cycles(
    checker: &mut Checker<'_>,
    states: &[RawState],
    automatic: &[(&str, &str, &RawTransition)],
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }

    fn visit<'s>(
        checker: &mut Checker<'_>,
        state: &'s str,
        automatic: &[(&'s str, &'s str, &'s RawTransition)],
        marks: &mut HashMap<&'s str, Mark>,
        path: &mut Vec<(&'s str, &'s RawTransition)>,
    ) {
        marks.insert(state, Mark::OnPath);
        for (from, to, transition) in automatic {
            if *from != state {
                continue;
            }
            match marks.get(to) {
                Some(Mark::OnPath) => {
                    path.push((state, transition));
                    let start = path.iter().position(|(step, _)| step == to).unwrap_or(0);
                    let cycle = &path[start..];
                    let mut states: Vec<&str> = cycle.iter().map(|(step, _)| *step).collect();
                    states.push(to);
                    let names: Vec<String> = cycle
                        .iter()
                        .map(|(_, transition)| format!("`{}`", transition.label()))
                        .collect();
                    let at = transition
                        .name
                        .as_ref()
                        .map_or(transition.at, |name| name.at);
                    checker.report(
                        at,
                        format!(
                            "automatic transitions {} form a cycle {}; the engine could fire them forever, so make at least one of them manual",
                            names.join(", "),
                            states.join(" -> ")
                        ),
                    );
                    path.pop();
                }
                Some(Mark::Done) => {}
                None => {
                    path.push((state, transition));
                    visit(checker, to, automatic, marks, path);
                    path.pop();
                }
            }
        }
        marks.insert(state, Mark::Done);
    }

    let mut marks = HashMap::new();
    for state in states {
        let Some(name) = &state.name else { continue };
        if !marks.contains_key(name.text.as_str()) {
            visit(checker, &name.text, automatic, &mut marks, &mut Vec::new());
        }
    }
}
