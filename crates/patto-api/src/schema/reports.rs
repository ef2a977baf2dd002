//! Social reports (Bilanci Sociali): reading a report, its section drafts and its
//! versions (parsed), creating a report for an organisation and year, saving a section,
//! assembling a version. Transitions (submit, approve, publish) go through `fire` like
//! any document's.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_core::ids::{DocumentId, OrganisationId, WorkingGroupId};
use patto_core::social_report::{self, SectionDraft, SectionText};
use patto_engine::{NewSocialReport, ReadableReport, ReportVersion};

use super::mutation::acting;
use super::types::Document;
use super::{id_of, request};
use crate::error::{ApiResult, engine};

/// The queries of social reports.
#[derive(Default)]
pub struct ReportQuery;

/// The mutations of social reports.
#[derive(Default)]
pub struct ReportMutation;

/// A social report: one per organisation (a Comune or the coalition) and year.
pub struct SocialReport(ReadableReport);

#[Object]
impl SocialReport {
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

    /// The year it reports on.
    async fn year(&self) -> i32 {
        self.0.record.year
    }

    /// The id of the organisation it is about.
    async fn organisation_id(&self) -> ID {
        ID(self.0.record.organisation_id.to_string())
    }

    /// The reporting-model version it is drafted against.
    async fn model_version(&self) -> i32 {
        i32::try_from(self.0.record.model_version).unwrap_or(i32::MAX)
    }

    /// The working drafts of its sections, one per area saved so far: only those
    /// involved in the report see them (FORBIDDEN otherwise).
    async fn sections(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReportSectionDraft>> {
        let cx = request(ctx)?;
        let drafts = engine(
            cx.engine
                .readable_report_sections(cx.actor, self.0.document.id)
                .await,
        )?;
        Ok(drafts.into_iter().map(ReportSectionDraft::from).collect())
    }

    /// A version, parsed: the published one for the public; any for those involved
    /// (the latest when no number is given).
    async fn version(
        &self,
        ctx: &Context<'_>,
        number: Option<i32>,
    ) -> ApiResult<SocialReportVersion> {
        let cx = request(ctx)?;
        engine(
            cx.engine
                .readable_report_version(cx.actor, &self.0.document.slug, number)
                .await,
        )
        .map(SocialReportVersion::from)
    }
}

/// The working draft of one section.
#[derive(SimpleObject)]
pub struct ReportSectionDraft {
    /// The reporting area's code.
    pub area: String,
    /// The narrative, in Markdown.
    pub narrative: String,
    /// The goals for the next year, in Markdown.
    pub goals: String,
    /// Who saved it last.
    pub updated_by: ID,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<SectionDraft> for ReportSectionDraft {
    fn from(draft: SectionDraft) -> Self {
        ReportSectionDraft {
            area: draft.area,
            narrative: draft.text.narrative,
            goals: draft.text.goals,
            updated_by: ID(draft.updated_by.to_string()),
            updated_at: draft.updated_at,
        }
    }
}

/// One version of a social report, with every figure it holds.
#[derive(SimpleObject)]
pub struct SocialReportVersion {
    /// Its number.
    pub number: i32,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Whether it is the published version.
    pub published: bool,
    /// When it was assembled.
    pub created_at: DateTime<Utc>,
    /// The format of its bytes (`patto/social-report/v1`).
    pub format: String,
    /// Its title.
    pub title: String,
    /// The year it reports on.
    pub year: i32,
    /// The slug of the organisation it is about.
    pub organisation: String,
    /// The name of that organisation.
    pub organisation_name: String,
    /// The reporting-model version it was drafted against.
    pub model_version: i32,
    /// A section per reporting area.
    pub sections: Vec<ReportSection>,
}

impl From<ReportVersion> for SocialReportVersion {
    fn from(version: ReportVersion) -> Self {
        let report = version.report;
        SocialReportVersion {
            number: version.number,
            sha256: version.sha256,
            published: version.published,
            created_at: version.created_at,
            format: report.format,
            title: report.title,
            year: report.year,
            organisation: report.subject.slug,
            organisation_name: report.subject.name,
            model_version: i32::try_from(report.model_version).unwrap_or(i32::MAX),
            sections: report
                .sections
                .into_iter()
                .map(ReportSection::from)
                .collect(),
        }
    }
}

/// A section of a report version.
#[derive(SimpleObject)]
pub struct ReportSection {
    /// The area's code.
    pub area: String,
    /// The area's Italian name.
    pub name: String,
    /// The area's English name.
    pub name_en: String,
    /// The narrative, in Markdown.
    pub narrative: String,
    /// The goals for the next year, in Markdown.
    pub goals: String,
    /// The indicators of the area with their figures.
    pub indicators: Vec<ReportIndicator>,
}

impl From<social_report::Section> for ReportSection {
    fn from(section: social_report::Section) -> Self {
        ReportSection {
            area: section.area,
            name: section.name.it,
            name_en: section.name.en,
            narrative: section.narrative,
            goals: section.goals,
            indicators: section
                .indicators
                .into_iter()
                .map(ReportIndicator::from)
                .collect(),
        }
    }
}

/// An indicator of a section, with the figures the version froze.
#[derive(SimpleObject)]
pub struct ReportIndicator {
    /// Its code.
    pub code: String,
    /// Its Italian name.
    pub name: String,
    /// Its unit (`percent`, `euro`...).
    pub unit: String,
    /// `higher_is_better` or `lower_is_better`.
    pub polarity: String,
    /// Where its values come from.
    pub source: String,
    /// `improving`, `worsening`, `stable` or `not_enough_data`.
    pub trend: String,
    /// The organisation's values, by year.
    pub values: Vec<ReportValue>,
    /// The Comuni's median, by year.
    pub coalition_median: Vec<ReportMedian>,
}

impl From<social_report::IndicatorTable> for ReportIndicator {
    fn from(table: social_report::IndicatorTable) -> Self {
        ReportIndicator {
            code: table.code,
            name: table.name.it,
            unit: table.unit.as_str().to_owned(),
            polarity: table.polarity.as_str().to_owned(),
            source: table.source,
            trend: table.trend.as_str().to_owned(),
            values: table
                .values
                .into_iter()
                .map(|v| ReportValue {
                    year: v.year,
                    value: v.value.to_string(),
                    source: v.source,
                    note: v.note,
                })
                .collect(),
            coalition_median: table
                .coalition_median
                .into_iter()
                .map(|m| ReportMedian {
                    year: m.year,
                    median: m.median.to_string(),
                    comuni: i32::try_from(m.comuni).unwrap_or(i32::MAX),
                })
                .collect(),
        }
    }
}

/// One year's value.
#[derive(SimpleObject)]
pub struct ReportValue {
    /// The year.
    pub year: i32,
    /// The value, with a decimal point.
    pub value: String,
    /// Where it was taken from.
    pub source: String,
    /// A free note.
    pub note: String,
}

/// The Comuni's median for one year.
#[derive(SimpleObject)]
pub struct ReportMedian {
    /// The year.
    pub year: i32,
    /// The median, with a decimal point.
    pub median: String,
    /// How many Comuni gave a value.
    pub comuni: i32,
}

#[Object]
impl ReportQuery {
    /// The social report held by the document with this slug
    /// (`bilancio-sociale-ORGANISATION-YEAR`), if the caller may see it.
    async fn social_report(&self, ctx: &Context<'_>, slug: String) -> ApiResult<SocialReport> {
        let cx = request(ctx)?;
        engine(cx.engine.readable_social_report(cx.actor, &slug).await).map(SocialReport)
    }

    /// The social reports the caller may see, of one organisation (by slug) or of all.
    async fn social_reports(
        &self,
        ctx: &Context<'_>,
        organisation: Option<String>,
    ) -> ApiResult<Vec<SocialReport>> {
        let cx = request(ctx)?;
        let reports = engine(
            cx.engine
                .readable_social_reports(cx.actor, organisation.as_deref())
                .await,
        )?;
        Ok(reports.into_iter().map(SocialReport).collect())
    }
}

#[Object]
impl ReportMutation {
    /// Creates the social report of an organisation (a Comune or the coalition) for a
    /// year, against the latest reporting model (its coordinators and admins).
    async fn create_social_report(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
        year: i32,
        working_group: Option<ID>,
    ) -> ApiResult<SocialReport> {
        let (cx, actor) = acting(ctx)?;
        let new = NewSocialReport {
            organisation_id: id_of::<OrganisationId>("organisation", &organisation)?,
            year,
            working_group_id: working_group
                .map(|g| id_of::<WorkingGroupId>("working group", &g))
                .transpose()?,
        };
        let document = engine(cx.engine.create_social_report(actor, new).await)?;
        engine(
            cx.engine
                .readable_social_report(actor, &document.slug)
                .await,
        )
        .map(SocialReport)
    }

    /// Saves the draft of one section (a reporting area): its narrative and goals, in
    /// Markdown (those who may edit the report, until it is published).
    async fn save_report_section(
        &self,
        ctx: &Context<'_>,
        report: ID,
        area: String,
        narrative: String,
        goals: String,
    ) -> ApiResult<ReportSectionDraft> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("report", &report)?;
        engine(
            cx.engine
                .save_report_section(actor, id, &area, SectionText { narrative, goals })
                .await,
        )
        .map(ReportSectionDraft::from)
    }

    /// Assembles the section drafts and the survey's values, as they are now, into a new
    /// version of the report.
    async fn assemble_social_report(
        &self,
        ctx: &Context<'_>,
        report: ID,
    ) -> ApiResult<SocialReportVersion> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("report", &report)?;
        engine(cx.engine.assemble_social_report(actor, id).await).map(SocialReportVersion::from)
    }
}
