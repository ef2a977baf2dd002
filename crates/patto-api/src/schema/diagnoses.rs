//! Diagnoses (Diagnosi di sicurezza e legalità): reading a diagnosis and its versions
//! (parsed), creating one for a territory and year, saving its content as a new version,
//! and the items of approved diagnoses that a pact or protocol cites. Transitions
//! (consultation, approval) go through `fire` like any document's.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_core::diagnosis::{self, DiagnosisDraft, NoteDraft, PolicyDraft, ProblemDraft};
use patto_core::ids::{DocumentId, OrganisationId, WorkingGroupId};
use patto_engine::{CitedItem, DiagnosisVersion as EngineVersion, NewDiagnosis, ReadableDiagnosis};

use super::mutation::acting;
use super::types::Document;
use super::{id_of, page, request};
use crate::error::{ApiError, ApiResult, engine};

/// The queries of diagnoses.
#[derive(Default)]
pub struct DiagnosisQuery;

/// The mutations of diagnoses.
#[derive(Default)]
pub struct DiagnosisMutation;

/// A diagnosis: one per territory (a Comune or the coalition) and edition year.
pub struct Diagnosis(ReadableDiagnosis);

#[Object]
impl Diagnosis {
    /// The document holding its versions; fire its transitions with `fire`.
    async fn document(&self) -> Document {
        Document {
            document: self.0.document.clone(),
            access: self.0.access,
        }
    }

    /// The document's id, for the mutations.
    async fn id(&self) -> ID {
        ID(self.0.document.id.to_string())
    }

    /// The edition year.
    async fn year(&self) -> i32 {
        self.0.record.year
    }

    /// The id of the organisation whose territory it is about.
    async fn organisation_id(&self) -> ID {
        ID(self.0.record.organisation_id.to_string())
    }

    /// A version, parsed: the approved one for the public; any for those involved (the
    /// latest when no number is given).
    async fn version(&self, ctx: &Context<'_>, number: Option<i32>) -> ApiResult<DiagnosisVersion> {
        let cx = request(ctx)?;
        engine(
            cx.engine
                .readable_diagnosis_version(cx.actor, &self.0.document.slug, number)
                .await,
        )
        .map(DiagnosisVersion::from)
    }
}

/// The territory a diagnosis is about.
#[derive(SimpleObject)]
pub struct DiagnosisTerritory {
    /// The organisation's slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// `municipality` or `coalition`.
    pub category: String,
    /// The ISTAT code of a Comune.
    pub istat_code: Option<String>,
}

/// One version of a diagnosis, with everything it holds.
#[derive(SimpleObject)]
pub struct DiagnosisVersion {
    /// Its number.
    pub number: i32,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Whether it is the approved, published version.
    pub published: bool,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// The format of its bytes (`patto/diagnosis/v1`).
    pub format: String,
    /// Its title.
    pub title: String,
    /// The edition year.
    pub year: i32,
    /// The territory.
    pub territory: DiagnosisTerritory,
    /// An introduction, in Markdown.
    pub summary: String,
    /// The problems felt most.
    pub problems: Vec<DiagnosisProblem>,
    /// The local policies so far.
    pub local_policies: Vec<DiagnosisPolicy>,
    /// The supra-local policies so far.
    pub supra_local_policies: Vec<DiagnosisPolicy>,
    /// The strengths.
    pub strengths: Vec<DiagnosisNote>,
    /// The weaknesses.
    pub weaknesses: Vec<DiagnosisNote>,
    /// What local people expect and need.
    pub needs: Vec<DiagnosisNote>,
}

impl From<EngineVersion> for DiagnosisVersion {
    fn from(version: EngineVersion) -> Self {
        let d = version.diagnosis;
        DiagnosisVersion {
            number: version.number,
            sha256: version.sha256,
            published: version.published,
            created_at: version.created_at,
            format: d.format,
            title: d.title,
            year: d.year,
            territory: DiagnosisTerritory {
                slug: d.territory.slug,
                name: d.territory.name,
                category: d.territory.category,
                istat_code: d.territory.istat_code,
            },
            summary: d.summary,
            problems: d.problems.into_iter().map(DiagnosisProblem::from).collect(),
            local_policies: d
                .local_policies
                .into_iter()
                .map(DiagnosisPolicy::from)
                .collect(),
            supra_local_policies: d
                .supra_local_policies
                .into_iter()
                .map(DiagnosisPolicy::from)
                .collect(),
            strengths: d.strengths.into_iter().map(DiagnosisNote::from).collect(),
            weaknesses: d.weaknesses.into_iter().map(DiagnosisNote::from).collect(),
            needs: d.needs.into_iter().map(DiagnosisNote::from).collect(),
        }
    }
}

/// A problem of a diagnosis.
#[derive(SimpleObject)]
pub struct DiagnosisProblem {
    /// Its stable id (an anchor on the portal's page).
    pub id: String,
    /// A short title.
    pub title: String,
    /// What the problem is, in Markdown.
    pub description: String,
    /// How often it occurs: `rare`, `occasional`, `frequent` or `very_frequent`.
    pub frequency: String,
    /// The number of cases counted, if a count exists.
    pub count: Option<i64>,
    /// The period the count covers.
    pub period: String,
    /// Where the frequency comes from.
    pub source: String,
    /// The perceived seriousness, from 1 (minor) to 5 (very serious).
    pub seriousness: i32,
}

impl From<diagnosis::Problem> for DiagnosisProblem {
    fn from(p: diagnosis::Problem) -> Self {
        DiagnosisProblem {
            id: p.id,
            title: p.title,
            description: p.description,
            frequency: p.frequency.level.as_str().to_owned(),
            count: p
                .frequency
                .count
                .map(|c| i64::try_from(c).unwrap_or(i64::MAX)),
            period: p.frequency.period,
            source: p.frequency.source,
            seriousness: i32::from(p.seriousness),
        }
    }
}

/// A policy of a diagnosis, local or supra-local.
#[derive(SimpleObject)]
pub struct DiagnosisPolicy {
    /// Its stable id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// Who carried it out.
    pub who: String,
    /// When.
    pub period: String,
    /// What came of it, in Markdown.
    pub outcome: String,
}

impl From<diagnosis::Policy> for DiagnosisPolicy {
    fn from(p: diagnosis::Policy) -> Self {
        DiagnosisPolicy {
            id: p.id,
            title: p.title,
            who: p.who,
            period: p.period,
            outcome: p.outcome,
        }
    }
}

/// A strength, weakness or need of a diagnosis.
#[derive(SimpleObject)]
pub struct DiagnosisNote {
    /// Its stable id.
    pub id: String,
    /// A short title.
    pub title: String,
    /// What it is, in Markdown.
    pub description: String,
}

impl From<diagnosis::Note> for DiagnosisNote {
    fn from(n: diagnosis::Note) -> Self {
        DiagnosisNote {
            id: n.id,
            title: n.title,
            description: n.description,
        }
    }
}

/// An item of an approved diagnosis that a pact or protocol responds to.
#[derive(SimpleObject)]
pub struct CitedDiagnosisItem {
    /// The slug of the diagnosis's document.
    pub diagnosis: String,
    /// Its title.
    pub diagnosis_title: String,
    /// The approved version the item was read from.
    pub diagnosis_version: i32,
    /// The item's id.
    pub item_id: String,
    /// `problem`, `local_policy`, `supra_local_policy`, `strength`, `weakness` or `need`.
    pub kind: String,
    /// The item's title.
    pub title: String,
    /// Its description (a policy's outcome).
    pub description: String,
    /// The whole problem, when the item is one: what the citing document answers.
    pub problem: Option<DiagnosisProblem>,
    /// The citing document's latest version when the item was cited.
    pub document_version: Option<i32>,
    /// When it was cited.
    pub cited_at: DateTime<Utc>,
}

impl From<CitedItem> for CitedDiagnosisItem {
    fn from(c: CitedItem) -> Self {
        CitedDiagnosisItem {
            diagnosis: c.diagnosis.slug,
            diagnosis_title: c.diagnosis.title,
            diagnosis_version: c.diagnosis_version,
            item_id: c.item.id,
            kind: c.item.kind.as_str().to_owned(),
            title: c.item.title,
            description: c.item.description,
            problem: c.problem.map(DiagnosisProblem::from),
            document_version: c.document_version,
            cited_at: c.cited_at,
        }
    }
}

/// The items of approved diagnoses that a document cites, as the `Document` type shows
/// them.
pub(super) async fn citations_of(
    ctx: &Context<'_>,
    document: DocumentId,
) -> ApiResult<Vec<CitedDiagnosisItem>> {
    let cx = request(ctx)?;
    let cited = engine(cx.engine.readable_citations(cx.actor, document).await)?;
    Ok(cited.into_iter().map(CitedDiagnosisItem::from).collect())
}

/// A problem to save; leave `id` out for a new problem and one is given.
#[derive(InputObject)]
pub struct ProblemInput {
    /// Its id, as a previous version gave it.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// What the problem is, in Markdown.
    #[graphql(default)]
    pub description: String,
    /// `rare`, `occasional`, `frequent` or `very_frequent`.
    pub frequency: String,
    /// The number of cases counted, if a count exists.
    pub count: Option<i64>,
    /// The period the count covers (`2025`, `2023-2025`).
    #[graphql(default)]
    pub period: String,
    /// Where the frequency comes from.
    pub source: String,
    /// The perceived seriousness, from 1 (minor) to 5 (very serious).
    pub seriousness: i32,
}

/// A policy to save.
#[derive(InputObject)]
pub struct PolicyInput {
    /// Its id, as a previous version gave it.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// Who carried it out.
    #[graphql(default)]
    pub who: String,
    /// When.
    #[graphql(default)]
    pub period: String,
    /// What came of it, in Markdown.
    #[graphql(default)]
    pub outcome: String,
}

/// A strength, weakness or need to save.
#[derive(InputObject)]
pub struct NoteInput {
    /// Its id, as a previous version gave it.
    pub id: Option<String>,
    /// A short title.
    pub title: String,
    /// What it is, in Markdown.
    #[graphql(default)]
    pub description: String,
}

/// The whole content of a diagnosis, saved as its new version.
#[derive(InputObject)]
pub struct DiagnosisInput {
    /// An introduction, in Markdown.
    #[graphql(default)]
    pub summary: String,
    /// The problems.
    #[graphql(default)]
    pub problems: Vec<ProblemInput>,
    /// The local policies so far.
    #[graphql(default)]
    pub local_policies: Vec<PolicyInput>,
    /// The supra-local policies so far.
    #[graphql(default)]
    pub supra_local_policies: Vec<PolicyInput>,
    /// The strengths.
    #[graphql(default)]
    pub strengths: Vec<NoteInput>,
    /// The weaknesses.
    #[graphql(default)]
    pub weaknesses: Vec<NoteInput>,
    /// What local people expect and need.
    #[graphql(default)]
    pub needs: Vec<NoteInput>,
}

impl DiagnosisInput {
    fn into_draft(self) -> ApiResult<DiagnosisDraft> {
        let problems = self
            .problems
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let count = p
                    .count
                    .map(|c| {
                        u64::try_from(c).map_err(|_| {
                            ApiError::Validation(format!(
                                "problems[{i}].count is {c}; a count of cases is zero or more (leave it out when there is no count); nothing was saved"
                            ))
                        })
                    })
                    .transpose()?;
                Ok(ProblemDraft {
                    id: p.id,
                    title: p.title,
                    description: p.description,
                    frequency: p.frequency,
                    count,
                    period: p.period,
                    source: p.source,
                    seriousness: p.seriousness,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let policies = |list: Vec<PolicyInput>| {
            list.into_iter()
                .map(|p| PolicyDraft {
                    id: p.id,
                    title: p.title,
                    who: p.who,
                    period: p.period,
                    outcome: p.outcome,
                })
                .collect()
        };
        let notes = |list: Vec<NoteInput>| {
            list.into_iter()
                .map(|n| NoteDraft {
                    id: n.id,
                    title: n.title,
                    description: n.description,
                })
                .collect()
        };
        Ok(DiagnosisDraft {
            summary: self.summary,
            problems,
            local_policies: policies(self.local_policies),
            supra_local_policies: policies(self.supra_local_policies),
            strengths: notes(self.strengths),
            weaknesses: notes(self.weaknesses),
            needs: notes(self.needs),
        })
    }
}

#[Object]
impl DiagnosisQuery {
    /// The diagnosis held by the document with this slug (`diagnosi-TERRITORY-YEAR`), if
    /// the caller may see it.
    async fn diagnosis(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Diagnosis> {
        let cx = request(ctx)?;
        engine(cx.engine.readable_diagnosis(cx.actor, &slug).await).map(Diagnosis)
    }

    /// The diagnoses the caller may see, of one territory (by organisation slug) or of
    /// all, by id: the approved ones for everyone, the others for those involved.
    async fn diagnoses(
        &self,
        ctx: &Context<'_>,
        organisation: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Diagnosis>> {
        let cx = request(ctx)?;
        let mut diagnoses = engine(
            cx.engine
                .readable_diagnoses(cx.actor, organisation.as_deref())
                .await,
        )?;
        diagnoses.sort_by_key(|d| d.document.id);
        page(diagnoses, |d| d.document.id.get(), Diagnosis, after, first)
    }
}

#[Object]
impl DiagnosisMutation {
    /// Creates the diagnosis of a territory (a Comune or the coalition, by its
    /// organisation) for an edition year (its coordinators and admins).
    async fn create_diagnosis(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
        year: i32,
        working_group: Option<ID>,
    ) -> ApiResult<Diagnosis> {
        let (cx, actor) = acting(ctx)?;
        let new = NewDiagnosis {
            organisation_id: id_of::<OrganisationId>("organisation", &organisation)?,
            year,
            working_group_id: working_group
                .map(|g| id_of::<WorkingGroupId>("working group", &g))
                .transpose()?,
        };
        let document = engine(cx.engine.create_diagnosis(actor, new).await)?;
        engine(cx.engine.readable_diagnosis(actor, &document.slug).await).map(Diagnosis)
    }

    /// Saves the whole content of a diagnosis as its new version (those who may edit it,
    /// while it is in drafting). Send back the ids of the items a previous version had;
    /// new items get one. Every wrong field is reported and nothing is saved.
    async fn save_diagnosis(
        &self,
        ctx: &Context<'_>,
        diagnosis: ID,
        content: DiagnosisInput,
    ) -> ApiResult<DiagnosisVersion> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("diagnosis", &diagnosis)?;
        let draft = content.into_draft()?;
        engine(cx.engine.save_diagnosis(actor, id, draft).await).map(DiagnosisVersion::from)
    }

    /// Records the items of an approved diagnosis that a pact or protocol in drafting
    /// responds to, replacing those it cited from that diagnosis before (an empty list
    /// removes them). Returns every item the document now cites from it.
    async fn cite_diagnosis_items(
        &self,
        ctx: &Context<'_>,
        document: ID,
        diagnosis: ID,
        items: Vec<String>,
    ) -> ApiResult<Vec<CitedDiagnosisItem>> {
        let (cx, actor) = acting(ctx)?;
        let document: DocumentId = id_of("document", &document)?;
        let diagnosis: DocumentId = id_of("diagnosis", &diagnosis)?;
        let cited = engine(
            cx.engine
                .cite_diagnosis_items(actor, document, diagnosis, &items)
                .await,
        )?;
        Ok(cited.into_iter().map(CitedDiagnosisItem::from).collect())
    }
}
