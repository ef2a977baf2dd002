//! Rendering a definition as a Mermaid `stateDiagram-v2`, for
//! `patto workflows graph` and the public pages.

use std::fmt::Write;

use super::Definition;

/// Marks automatic transitions in edge labels, so readers can tell what
/// happens by itself from what a person does.
const AUTOMATIC_MARK: &str = "⚡ ";

pub(super) fn render(def: &Definition) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    // Writing to a String cannot fail, so the results are ignored.
    let _ = writeln!(out, "    [*] --> {}", def.initial_state().name);
    for transition in &def.transitions {
        let mark = if transition.automatic {
            AUTOMATIC_MARK
        } else {
            ""
        };
        for from in &transition.from {
            let _ = writeln!(
                out,
                "    {from} --> {}: {mark}{}",
                transition.to, transition.name
            );
        }
    }
    for state in def.states.iter().filter(|state| state.is_final) {
        let _ = writeln!(out, "    {} --> [*]", state.name);
    }
    out
}
