//! The content of a Diagnosi di sicurezza e legalità (security and legality diagnosis):
//! one per territory (a Comune, named by its ISTAT code, or the whole coalition) and
//! edition year, recording the problems felt most (each with its frequency and perceived
//! seriousness), the local and supra-local policies so far, the strengths and weaknesses
//! of the territory, and what its people expect and need.
//!
//! A diagnosis version is stored as the bytes of one document version: canonical JSON
//! (RFC 8785) tagged with [`FORMAT`], so that an approved version is hash-bound as a
//! whole. Every item has an id (lowercase letters, digits and hyphens, usable as a page
//! anchor) that stays with it from version to version: editors send the ids back when they
//! save a new version, new items get an id never used before in the diagnosis, and an id
//! never changes its kind (a problem's id never names a strength). Pacts and protocols
//! cite items by these ids. Pure code: validating, serialising and parsing; the engine
//! gathers the inputs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DocumentId, OrganisationId, PersonId};

/// The format tag of the version bytes of a diagnosis.
pub const FORMAT: &str = "patto/diagnosis/v1";

/// The longest one-line text of an item (a title, who, a period, a source), in characters.
pub const MAX_LINE: usize = 300;

/// The longest description or outcome of an item, in characters: several paragraphs.
pub const MAX_TEXT: usize = 10_000;

/// The most items one list of a diagnosis may hold: far more than a readable diagnosis
/// has, short of a pasted database.
pub const MAX_ITEMS: usize = 200;

/// The longest item id, in characters.
pub const MAX_ID: usize = 60;

/// The lowest and highest perceived seriousness: 1 (lieve, minor) to 5 (gravissima,
/// very serious).
pub const SERIOUSNESS: std::ops::RangeInclusive<u8> = 1..=5;

/// Why bytes could not be read as a diagnosis.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiagnosisFormatError {
    /// Not JSON at all.
    #[error("the version is not a diagnosis: it is not JSON ({0})")]
    NotJson(String),
    /// JSON without a format tag.
    #[error("the version is not a diagnosis: it has no `format` tag (expected `{FORMAT}`)")]
    MissingFormat,
    /// A format this Patto does not read.
    #[error(
        "the diagnosis is in format `{0}`, which this Patto does not read; it reads `{FORMAT}` (a newer Patto may have written it: upgrade to read it)"
    )]
    UnknownFormat(String),
    /// The right tag with a body that does not match it.
    #[error("the diagnosis claims format `{FORMAT}` but does not match it: {0}")]
    Invalid(String),
}

/// Why a drafted diagnosis was refused: every problem found, each saying where and what
/// to do. Nothing is saved when there is one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the diagnosis was not saved: {}", .0.join("; "))]
pub struct DiagnosisContentError(pub Vec<String>);

/// The territory a diagnosis is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    /// The organisation's slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its category: `municipality` (a Comune) or `coalition` (the whole coalition).
    pub category: String,
    /// Its ISTAT code, for a Comune.
    pub istat_code: Option<String>,
}

/// How often a problem occurs, on an ordinal scale of four steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrequencyLevel {
    /// Rarely: a few episodes a year at most.
    Rare,
    /// Now and then: several episodes a year.
    Occasional,
    /// Often: every month.
    Frequent,
    /// Very often: every week or more.
    VeryFrequent,
}

impl FrequencyLevel {
    /// Every level, lowest first.
    pub const ALL: [FrequencyLevel; 4] = [
        FrequencyLevel::Rare,
        FrequencyLevel::Occasional,
        FrequencyLevel::Frequent,
        FrequencyLevel::VeryFrequent,
    ];

    /// The code name, as the JSON and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FrequencyLevel::Rare => "rare",
            FrequencyLevel::Occasional => "occasional",
            FrequencyLevel::Frequent => "frequent",
            FrequencyLevel::VeryFrequent => "very_frequent",
        }
    }

    /// The level of a code name, or a message listing the known ones.
    pub fn parse(text: &str) -> Result<FrequencyLevel, String> {
        FrequencyLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a frequency; use one of {}",
                    crate::text::escape_line(text),
                    FrequencyLevel::ALL.map(FrequencyLevel::as_str).join(", ")
                )
            })
    }
}

/// How often a problem occurs: a level of the ordinal scale, and, when known, a count
/// of cases over a period with where the count comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frequency {
    /// The level.
    pub level: FrequencyLevel,
    /// The number of cases counted, if a count exists.
    pub count: Option<u64>,
    /// The period the count covers (`2025`, `2023-2025`); empty without a count.
    pub period: String,
    /// Where the level or the count comes from (reports to the police, a survey, the
    /// social services' records); never empty.
    pub source: String,
}

/// A problem felt in the territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// Its stable id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// What the problem is, in Markdown.
    pub description: String,
    /// How often it occurs.
    pub frequency: Frequency,
    /// How serious people perceive it, from 1 (minor) to 5 (very serious).
    pub seriousness: u8,
}

/// A policy pursued so far, locally or above the territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Its stable id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// Who carried it out.
    pub who: String,
    /// When (`2019-2023`).
    pub period: String,
    /// What came of it, in Markdown.
    pub outcome: String,
}

/// A strength, a weakness or a need: a title and a description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// Its stable id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// What it is, in Markdown.
    pub description: String,
}

/// A whole diagnosis as one version holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// Always [`FORMAT`].
    pub format: String,
    /// The territory it is about.
    pub territory: Territory,
    /// The edition year.
    pub year: i32,
    /// Its title.
    pub title: String,
    /// An introduction, in Markdown: how the diagnosis was made.
    pub summary: String,
    /// The problems felt most.
    pub problems: Vec<Problem>,
    /// The policies of the territory's own bodies so far.
    pub local_policies: Vec<Policy>,
    /// The policies of bodies above the territory (Regione, State, European Union) so far.
    pub supra_local_policies: Vec<Policy>,
    /// The territory's strengths.
    pub strengths: Vec<Note>,
    /// Its weaknesses.
    pub weaknesses: Vec<Note>,
    /// What local people expect and need.
    pub needs: Vec<Note>,
}

/// The kinds of item of a diagnosis: the list each belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    /// A problem.
    Problem,
    /// A local policy.
    LocalPolicy,
    /// A supra-local policy.
    SupraLocalPolicy,
    /// A strength.
    Strength,
    /// A weakness.
    Weakness,
    /// A need of local people.
    Need,
}

impl ItemKind {
    /// Every kind, in the order a diagnosis lists them.
    pub const ALL: [ItemKind; 6] = [
        ItemKind::Problem,
        ItemKind::LocalPolicy,
        ItemKind::SupraLocalPolicy,
        ItemKind::Strength,
        ItemKind::Weakness,
        ItemKind::Need,
    ];

    /// The code name (`problem`, `local_policy`...), as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Problem => "problem",
            ItemKind::LocalPolicy => "local_policy",
            ItemKind::SupraLocalPolicy => "supra_local_policy",
            ItemKind::Strength => "strength",
            ItemKind::Weakness => "weakness",
            ItemKind::Need => "need",
        }
    }

    /// The name of its list in the JSON and in messages.
    fn list(self) -> &'static str {
        match self {
            ItemKind::Problem => "problems",
            ItemKind::LocalPolicy => "local_policies",
            ItemKind::SupraLocalPolicy => "supra_local_policies",
            ItemKind::Strength => "strengths",
            ItemKind::Weakness => "weaknesses",
            ItemKind::Need => "needs",
        }
    }

    /// The prefix of the ids given to new items of this kind: Italian words, because the
    /// ids appear in the portal's addresses (`/diagnosi/...#problema-3`).
    fn id_prefix(self) -> &'static str {
        match self {
            ItemKind::Problem => "problema",
            ItemKind::LocalPolicy => "politica-locale",
            ItemKind::SupraLocalPolicy => "politica-sovralocale",
            ItemKind::Strength => "punto-di-forza",
            ItemKind::Weakness => "punto-di-debolezza",
            ItemKind::Need => "bisogno",
        }
    }
}

/// One item of a diagnosis as a citation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: ItemKind,
    /// Its title.
    pub title: String,
    /// Its description (a policy's outcome).
    pub description: String,
}

/// A problem as drafted: scale values as text, the id absent for a new problem.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProblemDraft {
    /// Its id; `None` for a new problem, which gets one.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// What the problem is.
    pub description: String,
    /// The frequency level's code name (`rare`, `occasional`, `frequent`, `very_frequent`).
    pub frequency: String,
    /// The number of cases counted, if any.
    pub count: Option<u64>,
    /// The period the count covers.
    pub period: String,
    /// Where the frequency comes from.
    pub source: String,
    /// The perceived seriousness, 1 to 5.
    pub seriousness: i32,
}

/// A policy as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDraft {
    /// Its id; `None` for a new policy.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// Who carried it out.
    pub who: String,
    /// When.
    pub period: String,
    /// What came of it.
    pub outcome: String,
}

/// A strength, weakness or need as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoteDraft {
    /// Its id; `None` for a new item.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// What it is.
    pub description: String,
}

/// The content of a diagnosis as its editors send it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiagnosisDraft {
    /// An introduction.
    pub summary: String,
    /// The problems.
    pub problems: Vec<ProblemDraft>,
    /// The local policies.
    pub local_policies: Vec<PolicyDraft>,
    /// The supra-local policies.
    pub supra_local_policies: Vec<PolicyDraft>,
    /// The strengths.
    pub strengths: Vec<NoteDraft>,
    /// The weaknesses.
    pub weaknesses: Vec<NoteDraft>,
    /// The needs.
    pub needs: Vec<NoteDraft>,
}

/// A diagnosis document's subject, as stored: one per territory and edition year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisRecord {
    /// The document holding the diagnosis's versions.
    pub document_id: DocumentId,
    /// The organisation (Comune or coalition) whose territory it is about.
    pub organisation_id: OrganisationId,
    /// The edition year.
    pub year: i32,
}

/// One item of a diagnosis cited by a pact or protocol, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitationRecord {
    /// The citing pact or protocol.
    pub document_id: DocumentId,
    /// The diagnosis document cited.
    pub diagnosis_id: DocumentId,
    /// The version of the diagnosis whose item is cited.
    pub diagnosis_version: i32,
    /// The item's id.
    pub item_id: String,
    /// The citing document's latest version when the citation was made, if it had one.
    pub document_version: Option<i32>,
    /// Who made the citation.
    pub cited_by: PersonId,
    /// When.
    pub cited_at: DateTime<Utc>,
}

/// The ids a diagnosis has used in its earlier versions, with the kind of each.
pub type KnownIds = BTreeMap<String, ItemKind>;

impl Diagnosis {
    /// Builds a diagnosis from a draft: checks every field (nothing is built when one is
    /// wrong, and every problem is reported), keeps the ids the draft gives, and gives
    /// each new item an id never used in `known` nor in the draft. An id that named an
    /// item of another kind in an earlier version is refused.
    pub fn from_draft(
        territory: Territory,
        year: i32,
        title: String,
        draft: DiagnosisDraft,
        known: &KnownIds,
    ) -> Result<Diagnosis, DiagnosisContentError> {
        let mut errors = Vec::new();
        check_text(&mut errors, "summary", &draft.summary, MAX_TEXT, false);
        // Every id the draft gives, with its kind, first: new ids must avoid them too.
        let mut given: BTreeMap<String, ItemKind> = BTreeMap::new();
        let ids = draft
            .problems
            .iter()
            .map(|p| (ItemKind::Problem, p.id.as_deref()))
            .chain(
                draft
                    .local_policies
                    .iter()
                    .map(|p| (ItemKind::LocalPolicy, p.id.as_deref())),
            )
            .chain(
                draft
                    .supra_local_policies
                    .iter()
                    .map(|p| (ItemKind::SupraLocalPolicy, p.id.as_deref())),
            )
            .chain(
                draft
                    .strengths
                    .iter()
                    .map(|n| (ItemKind::Strength, n.id.as_deref())),
            )
            .chain(
                draft
                    .weaknesses
                    .iter()
                    .map(|n| (ItemKind::Weakness, n.id.as_deref())),
            )
            .chain(
                draft
                    .needs
                    .iter()
                    .map(|n| (ItemKind::Need, n.id.as_deref())),
            );
        for (kind, id) in ids {
            let Some(id) = id else { continue };
            if let Err(reason) = check_item_id(id) {
                errors.push(format!("in {}: {reason}", kind.list()));
                continue;
            }
            if given.insert(id.to_owned(), kind).is_some() {
                errors.push(format!(
                    "the id `{id}` is given to two items; each item needs its own id (leave the id out of a new item and one is given)"
                ));
            }
            if let Some(previous) = known.get(id)
                && *previous != kind
            {
                errors.push(format!(
                    "the id `{id}` named an item of {} in an earlier version and now names one of {}; an id keeps its kind: leave the id out of the new item",
                    previous.list(),
                    kind.list()
                ));
            }
        }
        let mut ids = IdMaker::new(known, &given);
        for kind in ItemKind::ALL {
            let count = match kind {
                ItemKind::Problem => draft.problems.len(),
                ItemKind::LocalPolicy => draft.local_policies.len(),
                ItemKind::SupraLocalPolicy => draft.supra_local_policies.len(),
                ItemKind::Strength => draft.strengths.len(),
                ItemKind::Weakness => draft.weaknesses.len(),
                ItemKind::Need => draft.needs.len(),
            };
            if count > MAX_ITEMS {
                errors.push(format!(
                    "{} has {count} items, more than the {MAX_ITEMS} a diagnosis may list; group them",
                    kind.list()
                ));
            }
        }
        let problems: Vec<Problem> = draft
            .problems
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let at = format!("problems[{i}]");
                check_title(&mut errors, &at, &p.title);
                check_text(
                    &mut errors,
                    &format!("{at}.description"),
                    &p.description,
                    MAX_TEXT,
                    false,
                );
                check_line(&mut errors, &format!("{at}.period"), &p.period);
                check_line(&mut errors, &format!("{at}.source"), &p.source);
                if p.source.trim().is_empty() {
                    errors.push(format!(
                        "{at}.source is empty: say where the frequency comes from (reports to the police, a survey, the social services' records)"
                    ));
                }
                if p.count.is_some() && p.period.trim().is_empty() {
                    errors.push(format!(
                        "{at}.period is empty: say which period the count of cases covers (`2025`, `2023-2025`)"
                    ));
                }
                let level = FrequencyLevel::parse(p.frequency.trim())
                    .map_err(|reason| errors.push(format!("{at}.frequency: {reason}")))
                    .ok();
                let seriousness = u8::try_from(p.seriousness)
                    .ok()
                    .filter(|s| SERIOUSNESS.contains(s));
                if seriousness.is_none() {
                    errors.push(format!(
                        "{at}.seriousness is {}; give the perceived seriousness from {} (minor) to {} (very serious)",
                        p.seriousness,
                        SERIOUSNESS.start(),
                        SERIOUSNESS.end()
                    ));
                }
                Some(Problem {
                    id: ids.id(ItemKind::Problem, p.id),
                    title: p.title.trim().to_owned(),
                    description: p.description,
                    frequency: Frequency {
                        level: level?,
                        count: p.count,
                        period: p.period.trim().to_owned(),
                        source: p.source.trim().to_owned(),
                    },
                    seriousness: seriousness?,
                })
            })
            .collect();
        let mut policies = |kind: ItemKind, drafts: Vec<PolicyDraft>, errors: &mut Vec<String>| {
            drafts
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = format!("{}[{i}]", kind.list());
                    check_title(errors, &at, &p.title);
                    check_line(errors, &format!("{at}.who"), &p.who);
                    check_line(errors, &format!("{at}.period"), &p.period);
                    check_text(
                        errors,
                        &format!("{at}.outcome"),
                        &p.outcome,
                        MAX_TEXT,
                        false,
                    );
                    Policy {
                        id: ids.id(kind, p.id),
                        title: p.title.trim().to_owned(),
                        who: p.who.trim().to_owned(),
                        period: p.period.trim().to_owned(),
                        outcome: p.outcome,
                    }
                })
                .collect::<Vec<_>>()
        };
        let local_policies = policies(ItemKind::LocalPolicy, draft.local_policies, &mut errors);
        let supra_local_policies = policies(
            ItemKind::SupraLocalPolicy,
            draft.supra_local_policies,
            &mut errors,
        );
        let mut notes = |kind: ItemKind, drafts: Vec<NoteDraft>, errors: &mut Vec<String>| {
            drafts
                .into_iter()
                .enumerate()
                .map(|(i, n)| {
                    let at = format!("{}[{i}]", kind.list());
                    check_title(errors, &at, &n.title);
                    check_text(
                        errors,
                        &format!("{at}.description"),
                        &n.description,
                        MAX_TEXT,
                        false,
                    );
                    Note {
                        id: ids.id(kind, n.id),
                        title: n.title.trim().to_owned(),
                        description: n.description,
                    }
                })
                .collect::<Vec<_>>()
        };
        let strengths = notes(ItemKind::Strength, draft.strengths, &mut errors);
        let weaknesses = notes(ItemKind::Weakness, draft.weaknesses, &mut errors);
        let needs = notes(ItemKind::Need, draft.needs, &mut errors);
        if !errors.is_empty() {
            return Err(DiagnosisContentError(errors));
        }
        Ok(Diagnosis {
            format: FORMAT.to_owned(),
            territory,
            year,
            title,
            summary: draft.summary,
            problems,
            local_policies,
            supra_local_policies,
            strengths,
            weaknesses,
            needs,
        })
    }

    /// The version bytes: RFC 8785 canonical JSON, so that the same diagnosis always
    /// gives the same bytes and the same hash.
    pub fn to_bytes(&self) -> Result<Vec<u8>, DiagnosisFormatError> {
        serde_jcs::to_vec(self).map_err(|error| DiagnosisFormatError::Invalid(error.to_string()))
    }

    /// Reads version bytes, refusing any format but [`FORMAT`] with a clear error.
    pub fn parse(bytes: &[u8]) -> Result<Diagnosis, DiagnosisFormatError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|error| DiagnosisFormatError::NotJson(error.to_string()))?;
        match value.get("format") {
            None => return Err(DiagnosisFormatError::MissingFormat),
            Some(serde_json::Value::String(format)) if format == FORMAT => {}
            Some(serde_json::Value::String(format)) => {
                return Err(DiagnosisFormatError::UnknownFormat(format.clone()));
            }
            Some(other) => return Err(DiagnosisFormatError::UnknownFormat(other.to_string())),
        }
        serde_json::from_value(value)
            .map_err(|error| DiagnosisFormatError::Invalid(error.to_string()))
    }

    /// Every item, in the order the diagnosis lists them.
    pub fn items(&self) -> Vec<ItemSummary> {
        let problems = self.problems.iter().map(|p| ItemSummary {
            id: p.id.clone(),
            kind: ItemKind::Problem,
            title: p.title.clone(),
            description: p.description.clone(),
        });
        let policies = |kind: ItemKind, list: &[Policy]| {
            list.iter()
                .map(|p| ItemSummary {
                    id: p.id.clone(),
                    kind,
                    title: p.title.clone(),
                    description: p.outcome.clone(),
                })
                .collect::<Vec<_>>()
        };
        let notes = |kind: ItemKind, list: &[Note]| {
            list.iter()
                .map(|n| ItemSummary {
                    id: n.id.clone(),
                    kind,
                    title: n.title.clone(),
                    description: n.description.clone(),
                })
                .collect::<Vec<_>>()
        };
        problems
            .chain(policies(ItemKind::LocalPolicy, &self.local_policies))
            .chain(policies(
                ItemKind::SupraLocalPolicy,
                &self.supra_local_policies,
            ))
            .chain(notes(ItemKind::Strength, &self.strengths))
            .chain(notes(ItemKind::Weakness, &self.weaknesses))
            .chain(notes(ItemKind::Need, &self.needs))
            .collect()
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<ItemSummary> {
        self.items().into_iter().find(|item| item.id == id)
    }

    /// The problem with this id.
    pub fn problem(&self, id: &str) -> Option<&Problem> {
        self.problems.iter().find(|p| p.id == id)
    }

    /// Every id of this version with its kind: what the next version must respect.
    pub fn known_ids(&self) -> KnownIds {
        self.items()
            .into_iter()
            .map(|item| (item.id, item.kind))
            .collect()
    }
}

/// Checks an item id: 1 to [`MAX_ID`] lowercase ASCII letters, digits and hyphens,
/// starting with a letter, so that it is a valid page anchor and reads the same
/// everywhere.
pub fn check_item_id(id: &str) -> Result<(), String> {
    let shown = crate::text::escape_line(id);
    let mut chars = id.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if id.len() > MAX_ID || !starts_with_letter || !rest_ok {
        return Err(format!(
            "`{shown}` is not an item id: use 1 to {MAX_ID} lowercase letters, digits and hyphens, starting with a letter (or leave the id out of a new item and one is given)"
        ));
    }
    Ok(())
}

/// Gives new items ids of the form `PREFIX-N`, with N above every number any earlier
/// version or the draft used with that prefix, so that the id of a removed item is never
/// given to another.
struct IdMaker {
    taken: BTreeSet<String>,
    next: BTreeMap<&'static str, u64>,
}

impl IdMaker {
    fn new(known: &KnownIds, given: &BTreeMap<String, ItemKind>) -> IdMaker {
        let taken: BTreeSet<String> = known.keys().chain(given.keys()).cloned().collect();
        let mut next = BTreeMap::new();
        for kind in ItemKind::ALL {
            let prefix = kind.id_prefix();
            let highest = taken
                .iter()
                .filter_map(|id| {
                    id.strip_prefix(prefix)?
                        .strip_prefix('-')?
                        .parse::<u64>()
                        .ok()
                })
                .max()
                .unwrap_or(0);
            next.insert(prefix, highest.saturating_add(1));
        }
        IdMaker { taken, next }
    }

    fn id(&mut self, kind: ItemKind, given: Option<String>) -> String {
        if let Some(id) = given {
            return id;
        }
        let prefix = kind.id_prefix();
        let counter = self.next.entry(prefix).or_insert(1);
        loop {
            let id = format!("{prefix}-{counter}");
            *counter = counter.saturating_add(1);
            if self.taken.insert(id.clone()) {
                return id;
            }
        }
    }
}

/// Checks a title: one line, not empty, at most [`MAX_LINE`] characters.
fn check_title(errors: &mut Vec<String>, at: &str, title: &str) {
    if title.trim().is_empty() {
        errors.push(format!("{at}.title is empty: give every item a title"));
    }
    check_line(errors, &format!("{at}.title"), title);
}

/// Checks one line of text: at most [`MAX_LINE`] characters and no control character.
fn check_line(errors: &mut Vec<String>, at: &str, text: &str) {
    check_text(errors, at, text, MAX_LINE, true);
}

/// Checks text: its length and the characters it may carry (one line or several).
fn check_text(errors: &mut Vec<String>, at: &str, text: &str, max: usize, one_line: bool) {
    let length = text.chars().count();
    if length > max {
        errors.push(format!(
            "{at} is {length} characters long, more than the {max} it may hold; shorten it"
        ));
    }
    let unsafe_char = if one_line {
        crate::text::first_unsafe_in_line(text)
    } else {
        crate::text::first_unsafe_in_lines(text)
    };
    if let Some(c) = unsafe_char {
        errors.push(format!(
            "{at} contains the control character {}, which a page cannot show; remove it",
            crate::text::code_point(c)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn territory() -> Territory {
        Territory {
            slug: "cefalu".to_owned(),
            name: "Cefalù".to_owned(),
            category: "municipality".to_owned(),
            istat_code: Some("082027".to_owned()),
        }
    }

    fn problem(id: Option<&str>, title: &str) -> ProblemDraft {
        ProblemDraft {
            id: id.map(str::to_owned),
            title: title.to_owned(),
            description: "Episodi **ripetuti**.\nIn centro.".to_owned(),
            frequency: "frequent".to_owned(),
            count: Some(42),
            period: "2025".to_owned(),
            source: "Denunce alla Stazione dei Carabinieri".to_owned(),
            seriousness: 4,
        }
    }

    fn note(id: Option<&str>, title: &str) -> NoteDraft {
        NoteDraft {
            id: id.map(str::to_owned),
            title: title.to_owned(),
            description: String::new(),
        }
    }

    fn draft() -> DiagnosisDraft {
        DiagnosisDraft {
            summary: "Come è stata fatta.".to_owned(),
            problems: vec![problem(None, "Furti"), problem(Some("racket"), "Racket")],
            local_policies: vec![PolicyDraft {
                id: None,
                title: "Videosorveglianza".to_owned(),
                who: "Comune".to_owned(),
                period: "2020-2023".to_owned(),
                outcome: "Telecamere in centro.".to_owned(),
            }],
            supra_local_policies: Vec::new(),
            strengths: vec![note(None, "Associazioni attive")],
            weaknesses: vec![note(None, "Spopolamento")],
            needs: vec![note(None, "Luoghi per i giovani")],
        }
    }

    fn build(draft: DiagnosisDraft, known: &KnownIds) -> Result<Diagnosis, DiagnosisContentError> {
        Diagnosis::from_draft(territory(), 2026, "Diagnosi".to_owned(), draft, known)
    }

    #[test]
    fn new_items_get_ids_and_given_ids_are_kept() {
        let diagnosis = build(draft(), &KnownIds::new()).unwrap();
        let ids: Vec<&str> = diagnosis.problems.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["problema-1", "racket"]);
        assert_eq!(diagnosis.local_policies[0].id, "politica-locale-1");
        assert_eq!(diagnosis.needs[0].id, "bisogno-1");
        assert_eq!(
            diagnosis.problems[0].frequency.level,
            FrequencyLevel::Frequent
        );
        assert_eq!(diagnosis.item("racket").unwrap().kind, ItemKind::Problem);
        assert_eq!(diagnosis.items().len(), 6);
    }

    #[test]
    fn ids_survive_new_versions_and_removed_ids_are_never_given_again() {
        let first = build(draft(), &KnownIds::new()).unwrap();
        let known = first.known_ids();
        // The next version drops problema-1 and adds a new problem: it must not get
        // problema-1 back, which a pact may cite.
        let mut next = draft();
        next.problems = vec![problem(Some("racket"), "Racket"), problem(None, "Spaccio")];
        let second = build(next, &known).unwrap();
        let ids: Vec<&str> = second.problems.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["racket", "problema-2"]);
        // An id keeps its kind.
        let mut moved = draft();
        moved.strengths = vec![note(Some("racket"), "Racket sconfitto")];
        moved.problems.truncate(1);
        let error = build(moved, &known).unwrap_err();
        assert!(error.to_string().contains("keeps its kind"), "{error}");
    }

    #[test]
    fn every_bad_field_is_reported_and_nothing_is_built() {
        let mut bad = draft();
        bad.problems[0].frequency = "sometimes".to_owned();
        bad.problems[0].seriousness = 7;
        bad.problems[1].title = "  ".to_owned();
        bad.strengths = vec![note(Some("dup"), "A"), note(Some("dup"), "B")];
        bad.weaknesses = vec![note(Some("Bad Id"), "C")];
        bad.needs = vec![note(None, "Riga\u{1b}[2J")];
        let error = build(bad, &KnownIds::new()).unwrap_err();
        let text = error.to_string();
        assert_eq!(error.0.len(), 6, "{text}");
        assert!(text.contains("`sometimes` is not a frequency; use one of rare, occasional, frequent, very_frequent"), "{text}");
        assert!(text.contains("problems[0].seriousness is 7"), "{text}");
        assert!(text.contains("problems[1].title is empty"), "{text}");
        assert!(
            text.contains("the id `dup` is given to two items"),
            "{text}"
        );
        assert!(text.contains("`Bad Id` is not an item id"), "{text}");
        assert!(
            text.contains("needs[0].title contains the control character U+001B"),
            "{text}"
        );
    }

    #[test]
    fn a_count_needs_its_period_and_every_frequency_its_source() {
        let mut bad = draft();
        bad.problems[0].period = String::new();
        bad.problems[1].source = " ".to_owned();
        let text = build(bad, &KnownIds::new()).unwrap_err().to_string();
        assert!(text.contains("problems[0].period is empty"), "{text}");
        assert!(text.contains("problems[1].source is empty"), "{text}");
    }

    #[test]
    fn the_bytes_are_canonical_and_read_back() {
        let diagnosis = build(draft(), &KnownIds::new()).unwrap();
        let bytes = diagnosis.to_bytes().unwrap();
        assert_eq!(Diagnosis::parse(&bytes).unwrap(), diagnosis);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("{\"format\":\"patto/diagnosis/v1\","),
            "{text}"
        );
        assert!(text.contains("\"level\":\"frequent\""), "{text}");
    }

    #[test]
    fn unknown_formats_and_bodies_are_refused_clearly() {
        assert!(matches!(
            Diagnosis::parse(b"plain text"),
            Err(DiagnosisFormatError::NotJson(_))
        ));
        assert_eq!(
            Diagnosis::parse(b"{\"year\":2026}"),
            Err(DiagnosisFormatError::MissingFormat)
        );
        let error = Diagnosis::parse(b"{\"format\":\"patto/social-report/v1\"}").unwrap_err();
        assert!(error.to_string().contains(FORMAT), "{error}");
        let mut value = serde_json::to_value(build(draft(), &KnownIds::new()).unwrap()).unwrap();
        value["problems"][0]["frequency"]["level"] = serde_json::json!("sometimes");
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            Diagnosis::parse(&bytes),
            Err(DiagnosisFormatError::Invalid(_))
        ));
    }

    #[test]
    fn item_ids_are_anchors() {
        assert!(check_item_id("problema-12").is_ok());
        for bad in ["", "1abc", "a b", "A", "a_b", "à", &"a".repeat(MAX_ID + 1)] {
            assert!(check_item_id(bad).is_err(), "{bad:?}");
        }
    }
}
