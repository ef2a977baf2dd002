//! Workflow definitions and the pure state machine that runs them.
//!
//! A definition is data read from a TOML file in `workflows/` (see
//! `workflows/README.md` for the format). [`Definition::parse`] validates one
//! file, [`Catalogue`] validates a set of files against each other, and
//! [`fire`] / [`next_automatic`] decide what a transition does given the
//! [`Facts`] the engine gathered. Nothing here performs IO except reading the
//! definition files themselves.

mod catalogue;
mod machine;
mod mermaid;
mod parse;

use std::fmt;

use serde_json::json;

use crate::Role;
use crate::domain::named_enum;

pub use catalogue::Catalogue;
pub use machine::{
    ChildState, CommitmentTally, Facts, FireError, GuardFailure, SigningTally, Step, fire,
    next_automatic,
};

/// A validated workflow definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// Unique name; equals the file stem.
    pub name: String,
    /// Bumped whenever a definition that running instances may use changes.
    pub version: u32,
    /// Italian title, shown by default.
    pub title_it: String,
    /// English title, shown on request.
    pub title_en: String,
    /// Name of the parent workflow (protocol -> "pact"); used by `parent_in` and `children_in`.
    pub parent: Option<String>,
    /// States in declaration order.
    pub states: Vec<State>,
    /// Transitions in declaration order; the order decides which automatic transition fires first.
    pub transitions: Vec<Transition>,
}

/// One state of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Unique name within the workflow.
    pub name: String,
    /// Whether instances start here; exactly one state is initial.
    pub initial: bool,
    /// Whether the state ends the workflow; final states have no outgoing transitions.
    pub is_final: bool,
    /// Effects run every time the state is entered, after the transition's own effects.
    pub on_enter: Vec<Effect>,
}

/// One transition of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Unique name within the workflow; this is what people fire.
    pub name: String,
    /// States the transition may be fired from.
    pub from: Vec<String>,
    /// Target state.
    pub to: String,
    /// Roles allowed to fire it by hand; empty for automatic transitions.
    pub roles: Vec<Role>,
    /// Conditions checked in order; all must hold.
    pub guards: Vec<Guard>,
    /// Whether the engine fires it by itself as soon as its guards hold.
    pub automatic: bool,
    /// Effects run when the transition fires, before the target state's `on_enter`.
    pub effects: Vec<Effect>,
}

/// A condition from the closed guard vocabulary, checked against [`Facts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The document has at least one version.
    HasVersion,
    /// No comment on the current version is unresolved.
    CommentsResolved,
    /// A signing round is open and every required signature is collected.
    AllSigned,
    /// A signing round is open and at least `numerator/denominator` of the required signatures are collected.
    Quorum {
        /// Numerator of the ratio, at least 1.
        numerator: u32,
        /// Denominator of the ratio, at least the numerator.
        denominator: u32,
    },
    /// There is at least one commitment and each has an owner and a due date.
    CommitmentsAssigned,
    /// The parent document is in one of `states`.
    ParentIn {
        /// States of the parent workflow.
        states: Vec<String>,
    },
    /// Every child document is in one of `states`.
    ChildrenIn {
        /// States of the child workflows.
        states: Vec<String>,
    },
    /// The organisation owning the document is of one of `categories` (a coalition's
    /// social report is approved by its decision body, a Comune's by the Comune).
    OwnerIn {
        /// Organisation categories (`municipality`, `coalition`...).
        categories: Vec<String>,
    },
    /// For each of `categories`, one of the document's signatories signs for an
    /// organisation of that category (the reporting model is validated by the Regione:
    /// its validation opens only with the Regione among those who sign it).
    SignatoriesInclude {
        /// Organisation categories (`region`...).
        categories: Vec<String>,
    },
}

impl Guard {
    /// Every guard name, as written in definition files.
    pub const NAMES: &'static [&'static str] = &[
        "has_version",
        "comments_resolved",
        "all_signed",
        "quorum",
        "commitments_assigned",
        "parent_in",
        "children_in",
        "owner_in",
        "signatories_include",
    ];

    /// The name used in definition files and in [`GuardFailure::guard`].
    pub fn name(&self) -> &'static str {
        match self {
            Guard::HasVersion => "has_version",
            Guard::CommentsResolved => "comments_resolved",
            Guard::AllSigned => "all_signed",
            Guard::Quorum { .. } => "quorum",
            Guard::CommitmentsAssigned => "commitments_assigned",
            Guard::ParentIn { .. } => "parent_in",
            Guard::ChildrenIn { .. } => "children_in",
            Guard::OwnerIn { .. } => "owner_in",
            Guard::SignatoriesInclude { .. } => "signatories_include",
        }
    }
}

named_enum! {
    /// What a signature in a signing round means.
    Intent, "signing intent" {
        /// The signatory's organisation subscribes to the document.
        Endorse => "endorse",
        /// The signatory's body approves or validates the document.
        Approve => "approve",
    }
}

named_enum! {
    /// Whether signatories of a round may sign in any order.
    SigningOrder, "signing order" {
        /// Everyone may sign at once.
        Parallel => "parallel",
        /// Signatories sign one after another, in list order.
        Sequential => "sequential",
    }
}

/// Something the engine does when a transition fires or a state is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Queue an e-mail from `template` to every person holding one of `roles`.
    Notify {
        /// Recipients, by role relative to the document.
        roles: Vec<Role>,
        /// Template name, resolved per language by the notifier.
        template: String,
    },
    /// Open a signing round on the current (now frozen) version.
    OpenSigning {
        /// What the signatures mean.
        intent: Intent,
        /// Whether signatories sign in order.
        order: SigningOrder,
    },
    /// Start (or replace) the document's review checkpoint schedule.
    StartReviews {
        /// Standard 5-field cron expression, validated by [`crate::schedule::parse_cron`].
        cron: String,
        /// IANA time zone the expression is read in.
        time_zone: String,
    },
    /// Stop the document's review checkpoint schedule.
    StopReviews,
    /// Publish the current version on the public portal.
    Publish,
}

impl Effect {
    /// Every effect name, as written in definition files.
    pub const NAMES: &'static [&'static str] = &[
        "notify",
        "open_signing",
        "start_reviews",
        "stop_reviews",
        "publish",
    ];

    /// The name used in definition files and stored with queued effects.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Notify { .. } => "notify",
            Effect::OpenSigning { .. } => "open_signing",
            Effect::StartReviews { .. } => "start_reviews",
            Effect::StopReviews => "stop_reviews",
            Effect::Publish => "publish",
        }
    }

    /// The effect's parameters as a JSON object, so the engine can store it beside [`Effect::kind`].
    pub fn params(&self) -> serde_json::Value {
        match self {
            Effect::Notify { roles, template } => json!({ "roles": roles, "template": template }),
            Effect::OpenSigning { intent, order } => json!({ "intent": intent, "order": order }),
            Effect::StartReviews { cron, time_zone } => {
                json!({ "cron": cron, "time_zone": time_zone })
            }
            Effect::StopReviews | Effect::Publish => json!({}),
        }
    }
}

/// A reason a definition file was rejected, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct Problem {
    /// The file name or path as given to the parser.
    pub file: String,
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Problem {
    /// Locates `offset` (a byte offset into `source`) as a 1-based line and column.
    pub(crate) fn at(file: &str, source: &str, offset: usize, message: String) -> Problem {
        let offset = offset.min(source.len());
        // Spans from the TOML parser always fall on character boundaries; this
        // guard keeps a stray offset from producing a wrong column instead.
        let before = source.get(..offset).unwrap_or(source);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        let column = before[line_start..].chars().count() + 1;
        Problem {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }
}

impl Definition {
    /// Parses and validates one definition file, collecting every problem found.
    ///
    /// `file` names the source in problems; when it ends in `.toml`, its stem
    /// must equal the definition's `name`. Checks that need other files
    /// (parent workflow, `parent_in` / `children_in` states) are made by
    /// [`Catalogue`].
    pub fn parse(source: &str, file: &str) -> Result<Definition, Vec<Problem>> {
        parse::parse(source, file).map(|parsed| parsed.definition)
    }

    /// The state instances start in.
    ///
    /// # Panics
    ///
    /// Panics if the definition has no states at all, which a definition
    /// returned by [`Definition::parse`] never has.
    pub fn initial_state(&self) -> &State {
        // Validation guarantees exactly one initial state, so the fallback to
        // the first state only matters for hand-built definitions.
        self.states
            .iter()
            .find(|state| state.initial)
            .unwrap_or(&self.states[0])
    }

    /// The state named `name`, if the workflow has one.
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|state| state.name == name)
    }

    /// The transition named `name`, if the workflow has one.
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions
            .iter()
            .find(|transition| transition.name == name)
    }

    /// Renders the workflow as a Mermaid `stateDiagram-v2`.
    pub fn to_mermaid(&self) -> String {
        mermaid::render(self)
    }
}

impl fmt::Display for Definition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.name, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effect_kind_and_params_describe_the_effect() {
        let notify = Effect::Notify {
            roles: vec![Role::Partner, Role::Signatory],
            template: "signing_opened".into(),
        };
        assert_eq!(notify.kind(), "notify");
        assert_eq!(
            notify.params(),
            json!({ "roles": ["partner", "signatory"], "template": "signing_opened" })
        );
        let signing = Effect::OpenSigning {
            intent: Intent::Approve,
            order: SigningOrder::Sequential,
        };
        assert_eq!(signing.kind(), "open_signing");
        assert_eq!(
            signing.params(),
            json!({ "intent": "approve", "order": "sequential" })
        );
        let reviews = Effect::StartReviews {
            cron: "0 9 1 */6 *".into(),
            time_zone: "Europe/Rome".into(),
        };
        assert_eq!(reviews.kind(), "start_reviews");
        assert_eq!(reviews.params()["time_zone"], "Europe/Rome");
        assert_eq!(Effect::StopReviews.kind(), "stop_reviews");
        assert_eq!(Effect::Publish.params(), json!({}));
    }

    #[test]
    fn problems_locate_offsets_as_one_based_lines_and_columns() {
        let source = "a = 1\nbè = 2\n";
        let problem = Problem::at("x.toml", source, source.find('2').unwrap(), "bad".into());
        assert_eq!((problem.line, problem.column), (2, 6));
        assert_eq!(problem.to_string(), "x.toml:2:6: bad");
        let first = Problem::at("x.toml", source, 0, "bad".into());
        assert_eq!((first.line, first.column), (1, 1));
    }
}
