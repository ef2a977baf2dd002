//! The pure state machine: whether a transition may fire, given the facts the
//! engine gathered, and which effects it produces.

use std::fmt;

use super::{Definition, Effect, Guard, Transition};
use crate::Role;

/// What the engine knows about a document when a guard is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Number of versions the document has.
    pub version_count: u32,
    /// Unresolved comments on the current version.
    pub unresolved_comments: u32,
    /// The open signing round, or `None` when no round is open.
    pub signing: Option<SigningTally>,
    /// Commitments of the document.
    pub commitments: CommitmentTally,
    /// State of the parent document, or `None` when the document has no parent.
    pub parent_state: Option<String>,
    /// States of the child documents.
    pub child_states: Vec<ChildState>,
    /// The category of the organisation owning the document, when a guard asks.
    pub owner_category: Option<String>,
    /// The categories of the organisations the document's signatories sign for, when a
    /// guard asks.
    pub signatory_categories: Vec<String>,
}

/// Signatures of the open signing round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigningTally {
    /// Signatures the round requires.
    pub required: u32,
    /// Valid signatures collected so far.
    pub signed: u32,
}

/// Commitments of a document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitmentTally {
    /// All commitments.
    pub total: u32,
    /// Commitments missing an owner or a due date.
    pub unassigned: u32,
}

/// The state of one child document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildState {
    /// The child's slug, so a failure can name it.
    pub slug: String,
    /// The child's current state.
    pub state: String,
}

/// A guard that does not hold, with a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct GuardFailure {
    /// The guard's name as written in definition files.
    pub guard: &'static str,
    /// A full sentence saying what is missing and what to do.
    pub reason: String,
}

/// The result of firing a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The transition fired.
    pub transition: String,
    /// The state left.
    pub from: String,
    /// The state entered.
    pub to: String,
    /// The transition's effects, then the target state's `on_enter` effects.
    pub effects: Vec<Effect>,
}

/// Why a transition could not be fired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FireError {
    /// The workflow has no transition with this name.
    #[error(
        "there is no transition `{transition}` in this workflow; check the name against the workflow definition"
    )]
    UnknownTransition {
        /// The requested transition.
        transition: String,
    },
    /// The transition does not start from the current state.
    #[error("transition `{transition}` cannot be fired from state `{state}`; it can be fired only from: {}", .allowed_from.join(", "))]
    NotFromState {
        /// The requested transition.
        transition: String,
        /// The document's current state.
        state: String,
        /// States the transition starts from.
        allowed_from: Vec<String>,
    },
    /// Automatic transitions are fired by the engine only.
    #[error(
        "transition `{transition}` is automatic: the engine fires it as soon as its conditions hold, so it cannot be fired by hand"
    )]
    Automatic {
        /// The requested transition.
        transition: String,
    },
    /// None of the caller's roles may fire the transition.
    #[error("you may not fire transition `{transition}`; it needs one of these roles on the document: {}", RoleList(.allowed))]
    Forbidden {
        /// The requested transition.
        transition: String,
        /// Roles that may fire it.
        allowed: Vec<Role>,
    },
    /// A guard does not hold.
    #[error("guard `{}` does not hold: {}", .0.guard, .0.reason)]
    GuardFailed(GuardFailure),
    /// The document's state is not part of this definition.
    #[error(
        "state `{state}` does not exist in this workflow; the document may have been started with another version of the definition"
    )]
    UnknownState {
        /// The document's current state.
        state: String,
    },
}

/// Formats roles as a comma-separated list for messages.
struct RoleList<'a>(&'a [Role]);

impl fmt::Display for RoleList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, role) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            f.write_str(role.as_str())?;
        }
        Ok(())
    }
}

fn plural(count: u32, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

impl Guard {
    /// Checks the guard against `facts`; the failure says what is missing and what to do.
    pub fn check(&self, facts: &Facts) -> Result<(), GuardFailure> {
        let fail = |reason: String| {
            Err(GuardFailure {
                guard: self.name(),
                reason,
            })
        };
        match self {
            Guard::HasVersion => {
                if facts.version_count >= 1 {
                    Ok(())
                } else {
                    fail(
                        "The document has no version yet; add a first version before continuing."
                            .to_owned(),
                    )
                }
            }
            Guard::CommentsResolved => match facts.unresolved_comments {
                0 => Ok(()),
                1 => fail(
                    "1 comment on the current version is unresolved; resolve it first.".to_owned(),
                ),
                count => fail(format!(
                    "{count} comments on the current version are unresolved; resolve them first."
                )),
            },
            Guard::AllSigned => {
                let tally = open_round(facts).map_err(|reason| GuardFailure {
                    guard: self.name(),
                    reason,
                })?;
                // More signatures than required can only come from a data
                // error; it must not leave the document stuck in signing.
                if tally.signed >= tally.required {
                    Ok(())
                } else {
                    let missing = tally.required - tally.signed;
                    fail(format!(
                        "{} of {} required signatures are collected; wait for the remaining {} or remind the signatories.",
                        tally.signed,
                        tally.required,
                        plural(missing, "signature", "signatures")
                    ))
                }
            }
            Guard::Quorum {
                numerator,
                denominator,
            } => {
                let tally = open_round(facts).map_err(|reason| GuardFailure {
                    guard: self.name(),
                    reason,
                })?;
                let (signed, required) = (u64::from(tally.signed), u64::from(tally.required));
                let (numerator, denominator) = (u64::from(*numerator), u64::from(*denominator));
                if signed * denominator >= numerator * required {
                    Ok(())
                } else {
                    let needed = (numerator * required).div_ceil(denominator);
                    fail(format!(
                        "{signed} of {required} required signatures are collected, but a quorum of {numerator}/{denominator} needs {needed}; collect {} more.",
                        plural(
                            u32::try_from(needed - signed).unwrap_or(u32::MAX),
                            "signature",
                            "signatures"
                        )
                    ))
                }
            }
            Guard::CommitmentsAssigned => {
                let tally = facts.commitments;
                if tally.total == 0 {
                    fail("The document has no commitments; add at least one, each with an owner organisation and a due date.".to_owned())
                } else if tally.unassigned > 0 {
                    fail(format!(
                        "{} of {} lack an owner or a due date; assign them first.",
                        tally.unassigned,
                        plural(tally.total, "commitment", "commitments")
                    ))
                } else {
                    Ok(())
                }
            }
            Guard::ParentIn { states } => match &facts.parent_state {
                Some(parent) if states.contains(parent) => Ok(()),
                Some(parent) => fail(format!(
                    "The parent document is in state `{parent}`; it must be in {} first.",
                    one_of(states)
                )),
                None => fail(format!(
                    "The document has no parent document; attach it to a parent in {}.",
                    one_of(states)
                )),
            },
            Guard::OwnerIn { categories } => match &facts.owner_category {
                Some(category) if categories.contains(category) => Ok(()),
                Some(category) => fail(format!(
                    "The document belongs to an organisation of category `{category}`; this transition is for documents of {}.",
                    one_of(categories)
                )),
                None => fail("The category of the owning organisation is unknown.".to_owned()),
            },
            Guard::SignatoriesInclude { categories } => {
                let missing: Vec<String> = categories
                    .iter()
                    .filter(|category| !facts.signatory_categories.contains(category))
                    .map(|category| format!("`{category}`"))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    fail(format!(
                        "No signatory signs for an organisation of category {}; add a person of such an organisation to the signatories first.",
                        missing.join(", ")
                    ))
                }
            }
            Guard::ChildrenIn { states } => {
                let pending: Vec<String> = facts
                    .child_states
                    .iter()
                    .filter(|child| !states.contains(&child.state))
                    .map(|child| format!("`{}` ({})", child.slug, child.state))
                    .collect();
                if pending.is_empty() {
                    Ok(())
                } else {
                    fail(format!(
                        "These child documents are not yet in {}: {}; move them there first.",
                        one_of(states),
                        pending.join(", ")
                    ))
                }
            }
        }
    }
}

/// Describes a list of states for a message: "state `a`" or "one of the states `a`, `b`".
fn one_of(states: &[String]) -> String {
    let quoted: Vec<String> = states.iter().map(|state| format!("`{state}`")).collect();
    match quoted.as_slice() {
        [only] => format!("state {only}"),
        _ => format!("one of the states {}", quoted.join(", ")),
    }
}

/// The open signing round with at least one required signature, or why there is none.
fn open_round(facts: &Facts) -> Result<SigningTally, String> {
    match facts.signing {
        None => Err("No signing round is open; open one on the frozen version first.".to_owned()),
        Some(tally) if tally.required == 0 => Err(
            "The signing round has no required signatories; add signatories to the round first."
                .to_owned(),
        ),
        Some(tally) => Ok(tally),
    }
}

/// Fires `transition` by hand from `current_state` for a person holding `roles`.
///
/// Checks, in order: the transition exists, the current state exists and is
/// one the transition starts from, the transition is not automatic, one of
/// `roles` is listed by the definition (admins get no implicit
/// rights), and every guard in declaration order; the first failure is returned.
pub fn fire(
    def: &Definition,
    current_state: &str,
    transition: &str,
    roles: &[Role],
    facts: &Facts,
) -> Result<Step, FireError> {
    let found = def
        .transition(transition)
        .ok_or_else(|| FireError::UnknownTransition {
            transition: transition.to_owned(),
        })?;
    if def.state(current_state).is_none() {
        return Err(FireError::UnknownState {
            state: current_state.to_owned(),
        });
    }
    if !found.from.iter().any(|from| from == current_state) {
        return Err(FireError::NotFromState {
            transition: transition.to_owned(),
            state: current_state.to_owned(),
            allowed_from: found.from.clone(),
        });
    }
    if found.automatic {
        return Err(FireError::Automatic {
            transition: transition.to_owned(),
        });
    }
    if !roles.iter().any(|role| found.roles.contains(role)) {
        return Err(FireError::Forbidden {
            transition: transition.to_owned(),
            allowed: found.roles.clone(),
        });
    }
    for guard in &found.guards {
        guard.check(facts).map_err(FireError::GuardFailed)?;
    }
    Ok(step(def, current_state, found))
}

/// The first automatic transition (in declaration order) from `current_state`
/// whose guards all hold, as the step the engine should take next.
pub fn next_automatic(def: &Definition, current_state: &str, facts: &Facts) -> Option<Step> {
    def.transitions
        .iter()
        .filter(|transition| transition.automatic)
        .filter(|transition| transition.from.iter().any(|from| from == current_state))
        .find(|transition| {
            transition
                .guards
                .iter()
                .all(|guard| guard.check(facts).is_ok())
        })
        .map(|transition| step(def, current_state, transition))
}

fn step(def: &Definition, from: &str, transition: &Transition) -> Step {
    let on_enter = def
        .state(&transition.to)
        .map(|state| state.on_enter.as_slice())
        .unwrap_or_default();
    Step {
        transition: transition.name.clone(),
        from: from.to_owned(),
        to: transition.to.clone(),
        effects: transition.effects.iter().chain(on_enter).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{Intent, SigningOrder};

    fn round(required: u32, signed: u32) -> Facts {
        Facts {
            signing: Some(SigningTally { required, signed }),
            ..Facts::default()
        }
    }

    fn reason(guard: &Guard, facts: &Facts) -> String {
        let failure = guard.check(facts).unwrap_err();
        assert_eq!(failure.guard, guard.name());
        failure.reason
    }

    #[test]
    fn has_version_needs_one_version() {
        let facts = Facts {
            version_count: 1,
            ..Facts::default()
        };
        assert!(Guard::HasVersion.check(&facts).is_ok());
        assert!(reason(&Guard::HasVersion, &Facts::default()).contains("add a first version"));
    }

    #[test]
    fn comments_resolved_needs_no_open_comment() {
        assert!(Guard::CommentsResolved.check(&Facts::default()).is_ok());
        let facts = Facts {
            unresolved_comments: 2,
            ..Facts::default()
        };
        assert_eq!(
            reason(&Guard::CommentsResolved, &facts),
            "2 comments on the current version are unresolved; resolve them first."
        );
        let facts = Facts {
            unresolved_comments: 1,
            ..Facts::default()
        };
        assert!(
            reason(&Guard::CommentsResolved, &facts)
                .starts_with("1 comment on the current version is")
        );
    }

    #[test]
    fn all_signed_needs_an_open_complete_round() {
        assert!(Guard::AllSigned.check(&round(3, 3)).is_ok());
        assert!(reason(&Guard::AllSigned, &round(3, 2)).contains(
            "2 of 3 required signatures are collected; wait for the remaining 1 signature"
        ));
        assert!(reason(&Guard::AllSigned, &Facts::default()).contains("No signing round is open"));
        assert!(reason(&Guard::AllSigned, &round(0, 0)).contains("no required signatories"));
    }

    #[test]
    fn quorum_compares_the_signed_share_with_the_ratio() {
        let two_thirds = Guard::Quorum {
            numerator: 2,
            denominator: 3,
        };
        assert!(two_thirds.check(&round(3, 2)).is_ok());
        assert!(two_thirds.check(&round(6, 4)).is_ok());
        assert!(two_thirds.check(&round(7, 5)).is_ok());
        assert_eq!(
            reason(&two_thirds, &round(7, 4)),
            "4 of 7 required signatures are collected, but a quorum of 2/3 needs 5; collect 1 signature more."
        );
        assert!(reason(&two_thirds, &Facts::default()).contains("No signing round is open"));
        assert!(reason(&two_thirds, &round(0, 0)).contains("no required signatories"));
    }

    #[test]
    fn signatories_include_needs_every_category_among_the_signatories() {
        let guard = Guard::SignatoriesInclude {
            categories: vec!["decision_body".into(), "region".into()],
        };
        let facts = |categories: &[&str]| Facts {
            signatory_categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            ..Facts::default()
        };
        assert!(
            guard
                .check(&facts(&["decision_body", "coalition", "region"]))
                .is_ok()
        );
        assert_eq!(
            reason(&guard, &facts(&["decision_body", "coalition"])),
            "No signatory signs for an organisation of category `region`; add a person of such an organisation to the signatories first."
        );
        assert!(reason(&guard, &Facts::default()).contains("`decision_body`, `region`"));
    }

    #[test]
    fn commitments_assigned_needs_owned_commitments() {
        let facts = |total, unassigned| Facts {
            commitments: CommitmentTally { total, unassigned },
            ..Facts::default()
        };
        assert!(Guard::CommitmentsAssigned.check(&facts(3, 0)).is_ok());
        assert!(reason(&Guard::CommitmentsAssigned, &facts(0, 0)).contains("has no commitments"));
        assert_eq!(
            reason(&Guard::CommitmentsAssigned, &facts(3, 2)),
            "2 of 3 commitments lack an owner or a due date; assign them first."
        );
    }

    #[test]
    fn parent_in_needs_a_parent_in_one_of_the_states() {
        let guard = Guard::ParentIn {
            states: vec!["in_force".into(), "under_review".into()],
        };
        let facts = |parent: Option<&str>| Facts {
            parent_state: parent.map(str::to_owned),
            ..Facts::default()
        };
        assert!(guard.check(&facts(Some("under_review"))).is_ok());
        assert_eq!(
            reason(&guard, &facts(Some("drafting"))),
            "The parent document is in state `drafting`; it must be in one of the states `in_force`, `under_review` first."
        );
        assert!(reason(&guard, &facts(None)).contains("has no parent document"));
    }

    #[test]
    fn children_in_needs_every_child_in_the_states() {
        let guard = Guard::ChildrenIn {
            states: vec!["closed".into()],
        };
        let child = |slug: &str, state: &str| ChildState {
            slug: slug.into(),
            state: state.into(),
        };
        assert!(guard.check(&Facts::default()).is_ok());
        let facts = Facts {
            child_states: vec![child("schools", "closed"), child("anti-racket", "signing")],
            ..Facts::default()
        };
        assert_eq!(
            reason(&guard, &facts),
            "These child documents are not yet in state `closed`: `anti-racket` (signing); move them there first."
        );
        let done = Facts {
            child_states: vec![child("schools", "closed")],
            ..Facts::default()
        };
        assert!(guard.check(&done).is_ok());
    }

    const SOURCE: &str = r#"
name = "demo"
version = 1
title = { it = "Prova", en = "Demo" }

[[states]]
name = "drafting"
initial = true

[[states]]
name = "signing"
on_enter = [{ effect = "open_signing", intent = "endorse" }]

[[states]]
name = "in_force"
final = true
on_enter = [{ effect = "publish" }]

[[transitions]]
name = "freeze"
from = ["drafting"]
to = "signing"
roles = ["coordinator", "member"]
guards = ["has_version", "comments_resolved"]
effects = [{ effect = "notify", roles = ["signatory"], template = "signing_opened" }]

[[transitions]]
name = "skip_signing"
from = ["signing"]
to = "in_force"
automatic = true
guards = [{ guard = "quorum", ratio = "1/1" }]

[[transitions]]
name = "enter_force"
from = ["signing"]
to = "in_force"
automatic = true
guards = ["all_signed"]
effects = [{ effect = "stop_reviews" }]
"#;

    fn demo() -> Definition {
        Definition::parse(SOURCE, "demo.toml").unwrap()
    }

    fn ready() -> Facts {
        Facts {
            version_count: 1,
            ..Facts::default()
        }
    }

    #[test]
    fn fire_returns_transition_effects_then_on_enter_effects() {
        let step = fire(&demo(), "drafting", "freeze", &[Role::Member], &ready()).unwrap();
        assert_eq!(
            (step.from.as_str(), step.to.as_str()),
            ("drafting", "signing")
        );
        assert_eq!(step.transition, "freeze");
        assert_eq!(
            step.effects,
            vec![
                Effect::Notify {
                    roles: vec![Role::Signatory],
                    template: "signing_opened".into()
                },
                Effect::OpenSigning {
                    intent: Intent::Endorse,
                    order: SigningOrder::Parallel
                },
            ]
        );
    }

    #[test]
    fn fire_rejects_unknown_transitions_and_states() {
        let err = fire(&demo(), "drafting", "sign", &[Role::Member], &ready()).unwrap_err();
        assert!(matches!(err, FireError::UnknownTransition { .. }));
        let err = fire(&demo(), "limbo", "freeze", &[Role::Member], &ready()).unwrap_err();
        assert_eq!(
            err,
            FireError::UnknownState {
                state: "limbo".into()
            }
        );
    }

    #[test]
    fn fire_rejects_the_wrong_state() {
        let err = fire(&demo(), "signing", "freeze", &[Role::Member], &ready()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "transition `freeze` cannot be fired from state `signing`; it can be fired only from: drafting"
        );
    }

    #[test]
    fn fire_refuses_automatic_transitions() {
        let err = fire(
            &demo(),
            "signing",
            "enter_force",
            &[Role::Admin],
            &round(1, 1),
        )
        .unwrap_err();
        assert_eq!(
            err,
            FireError::Automatic {
                transition: "enter_force".into()
            }
        );
    }

    #[test]
    fn fire_allows_only_the_listed_roles_even_for_admins() {
        let err = fire(
            &demo(),
            "drafting",
            "freeze",
            &[Role::Admin, Role::Partner],
            &ready(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "you may not fire transition `freeze`; it needs one of these roles on the document: coordinator, member"
        );
    }

    #[test]
    fn fire_reports_the_first_failing_guard() {
        let facts = Facts {
            unresolved_comments: 3,
            ..Facts::default()
        };
        let err = fire(&demo(), "drafting", "freeze", &[Role::Coordinator], &facts).unwrap_err();
        let FireError::GuardFailed(failure) = &err else {
            panic!("unexpected {err:?}");
        };
        assert_eq!(failure.guard, "has_version");
        assert!(
            err.to_string()
                .starts_with("guard `has_version` does not hold: The document has no version yet")
        );
        let facts = Facts {
            unresolved_comments: 3,
            ..ready()
        };
        let err = fire(&demo(), "drafting", "freeze", &[Role::Coordinator], &facts).unwrap_err();
        assert!(matches!(
            err,
            FireError::GuardFailed(GuardFailure {
                guard: "comments_resolved",
                ..
            })
        ));
    }

    #[test]
    fn next_automatic_takes_the_first_declared_transition_that_holds() {
        let def = demo();
        assert_eq!(next_automatic(&def, "signing", &round(2, 1)), None);
        assert_eq!(next_automatic(&def, "signing", &Facts::default()), None);
        let step = next_automatic(&def, "signing", &round(2, 2)).unwrap();
        assert_eq!(step.transition, "skip_signing");
        assert_eq!(step.effects, vec![Effect::Publish]);
        assert_eq!(next_automatic(&def, "drafting", &round(2, 2)), None);
        assert_eq!(next_automatic(&def, "limbo", &round(2, 2)), None);
    }

    #[test]
    fn mermaid_marks_automatic_edges_and_final_states() {
        let diagram = demo().to_mermaid();
        assert_eq!(
            diagram,
            "stateDiagram-v2\n    [*] --> drafting\n    drafting --> signing: freeze\n    signing --> in_force: ⚡ skip_signing\n    signing --> in_force: ⚡ enter_force\n    in_force --> [*]\n"
        );
    }
}
