//! The shipped definitions in `workflows/`: they load, they agree with the
//! files on disk, and every state of each can be reached by legal moves.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use patto_core::DocumentKind;
use patto_core::workflow::{
    Catalogue, CommitmentTally, Definition, Facts, Guard, SigningTally, Transition, fire,
    next_automatic,
};

const SHIPPED: [&str; 5] = [
    "diagnosis",
    "pact",
    "protocol",
    "reporting-model",
    "social-report",
];

fn shipped() -> Catalogue {
    match Catalogue::shipped() {
        Ok(catalogue) => catalogue,
        Err(problems) => panic!("shipped workflows are invalid: {problems:#?}"),
    }
}

/// Facts under which every guard of `transition` holds.
fn facts_for(transition: &Transition) -> Facts {
    let parent_state = transition.guards.iter().find_map(|guard| match guard {
        Guard::ParentIn { states } => states.first().cloned(),
        _ => None,
    });
    let owner_category = transition.guards.iter().find_map(|guard| match guard {
        Guard::OwnerIn { categories } => categories.first().cloned(),
        _ => None,
    });
    let signatory_categories = transition
        .guards
        .iter()
        .find_map(|guard| match guard {
            Guard::SignatoriesInclude { categories } => Some(categories.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Facts {
        version_count: 1,
        unresolved_comments: 0,
        signing: Some(SigningTally {
            required: 3,
            signed: 3,
        }),
        commitments: CommitmentTally {
            total: 4,
            unassigned: 0,
        },
        parent_state,
        child_states: Vec::new(),
        owner_category,
        signatory_categories,
    }
}

/// Breadth-first search from the initial state, firing manual transitions
/// with the roles they list and letting automatic ones fire themselves.
fn reachable(def: &Definition) -> BTreeSet<String> {
    let initial = def.initial_state().name.clone();
    let mut seen = BTreeSet::from([initial.clone()]);
    let mut queue = VecDeque::from([initial]);
    while let Some(state) = queue.pop_front() {
        for transition in def
            .transitions
            .iter()
            .filter(|transition| transition.from.contains(&state))
        {
            let facts = facts_for(transition);
            let step = if transition.automatic {
                next_automatic(def, &state, &facts).unwrap_or_else(|| {
                    panic!("{}: automatic `{}` did not fire", def.name, transition.name)
                })
            } else {
                fire(def, &state, &transition.name, &transition.roles, &facts).unwrap_or_else(
                    |err| {
                        panic!(
                            "{}: `{}` from `{state}` rejected: {err}",
                            def.name, transition.name
                        )
                    },
                )
            };
            assert_eq!(step.from, state);
            if seen.insert(step.to.clone()) {
                queue.push_back(step.to);
            }
        }
    }
    seen
}

#[test]
fn shipped_catalogue_has_the_five_workflows_named_after_document_kinds() {
    let catalogue = shipped();
    let names: Vec<&str> = catalogue.names().collect();
    assert_eq!(names, SHIPPED);
    for kind in DocumentKind::ALL {
        let def = catalogue.get(kind.workflow_name()).unwrap();
        // Version 2 of the pact and the protocol lets the scheduler open reviews; the
        // reporting model is on version 3 because its adoption and its validating
        // signatures are bound to the Regione and the decision body; the social report
        // is on version 2 because the coalition's report is adopted by the decision body.
        let expected = match kind {
            DocumentKind::Pact | DocumentKind::Protocol | DocumentKind::SocialReport => 2,
            DocumentKind::ReportingModel => 3,
            DocumentKind::Diagnosis => 1,
        };
        assert_eq!(def.version, expected, "{}", def.name);
        assert!(!def.title_it.is_empty() && !def.title_en.is_empty());
    }
    assert_eq!(
        catalogue.get("protocol").unwrap().parent.as_deref(),
        Some("pact")
    );
}

#[test]
fn shipped_and_on_disk_catalogues_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
    let on_disk = Catalogue::load_dir(&dir).unwrap_or_else(|problems| panic!("{problems:#?}"));
    let shipped = shipped();
    assert!(on_disk.names().eq(shipped.names()));
    for name in SHIPPED {
        assert_eq!(on_disk.get(name), shipped.get(name));
        let source = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
        assert_eq!(shipped.source(name), Some(source.as_str()));
        assert_eq!(on_disk.source(name), Some(source.as_str()));
    }
}

#[test]
fn every_state_of_every_shipped_workflow_is_reachable_by_legal_moves() {
    let catalogue = shipped();
    for name in SHIPPED {
        let def = catalogue.get(name).unwrap();
        let reached = reachable(def);
        for state in &def.states {
            assert!(
                reached.contains(&state.name),
                "{name}: state `{}` not reached",
                state.name
            );
        }
        assert!(def.states.iter().filter(|state| state.is_final).count() >= 1);
    }
}

#[test]
fn signing_states_open_a_round_and_the_automatic_exit_needs_signatures() {
    let catalogue = shipped();
    for (name, signing, signed_state) in [
        ("pact", "signing", "in_force"),
        ("protocol", "signing", "implementation"),
        ("diagnosis", "approval", "approved"),
        ("reporting-model", "validation", "validated"),
    ] {
        let def = catalogue.get(name).unwrap();
        assert!(
            def.state(signing)
                .unwrap()
                .on_enter
                .iter()
                .any(|effect| effect.kind() == "open_signing"),
            "{name}: `{signing}` opens no signing round"
        );
        let pending = Facts {
            signing: Some(SigningTally {
                required: 3,
                signed: 1,
            }),
            ..Facts::default()
        };
        assert_eq!(next_automatic(def, signing, &pending), None, "{name}");
        let complete = Facts {
            signing: Some(SigningTally {
                required: 3,
                signed: 3,
            }),
            ..Facts::default()
        };
        assert_eq!(
            next_automatic(def, signing, &complete).map(|step| step.to),
            Some(signed_state.to_owned()),
            "{name}"
        );
    }
    // The diagnosis needs only two thirds of the signatures.
    let diagnosis = catalogue.get("diagnosis").unwrap();
    let two_of_three = Facts {
        signing: Some(SigningTally {
            required: 3,
            signed: 2,
        }),
        ..Facts::default()
    };
    assert!(next_automatic(diagnosis, "approval", &two_of_three).is_some());
}

#[test]
fn protocols_follow_the_pact() {
    let catalogue = shipped();
    let protocol = catalogue.get("protocol").unwrap();
    let roles = [patto_core::Role::Member];
    let mut facts = Facts {
        version_count: 1,
        parent_state: Some("signing".to_owned()),
        ..Facts::default()
    };
    let err = fire(protocol, "drafting", "share", &roles, &facts).unwrap_err();
    assert!(err.to_string().contains("`signing`"), "{err}");
    facts.parent_state = Some("under_review".to_owned());
    assert!(fire(protocol, "drafting", "share", &roles, &facts).is_ok());

    let pact = catalogue.get("pact").unwrap();
    let coordinator = [patto_core::Role::Coordinator];
    let open_children = Facts {
        child_states: vec![patto_core::workflow::ChildState {
            slug: "anti-racket".to_owned(),
            state: "implementation".to_owned(),
        }],
        ..Facts::default()
    };
    let err = fire(pact, "in_force", "close", &coordinator, &open_children).unwrap_err();
    assert!(
        err.to_string().contains("`anti-racket` (implementation)"),
        "{err}"
    );
}

#[test]
fn mermaid_diagram_of_the_pact_has_its_edges() {
    let pact = shipped().get("pact").unwrap().to_mermaid();
    assert!(pact.starts_with("stateDiagram-v2\n"));
    for line in [
        "    [*] --> drafting",
        "    drafting --> sharing: share",
        "    signing --> in_force: ⚡ enter_force",
        "    in_force --> closed: close",
        "    under_review --> closed: close",
        "    closed --> [*]",
        "    withdrawn --> [*]",
    ] {
        assert!(
            pact.lines().any(|l| l == line),
            "missing `{line}` in\n{pact}"
        );
    }
    assert!(!pact.contains("in_force --> [*]"));
}
