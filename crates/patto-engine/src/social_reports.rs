//! Social reports (Bilanci Sociali): one per organisation (a Comune or the coalition) and
//! year, drafted section by section (one working draft per reporting area, visible only
//! to those involved), then assembled with the survey's values into a document version
//! whose bytes hold the whole report (`patto_core::social_report`). The versions go
//! through the `social-report` workflow like any document's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use patto_core::DocumentKind;
use patto_core::OrganisationCategory;
use patto_core::ids::{DocumentId, OrganisationId, WorkingGroupId};
use patto_core::records::{Document, DocumentVersion, Organisation, WorkflowInstance};
use patto_core::reporting::{FIRST_YEAR, Model};
use patto_core::social_report::{
    ReportInputs, ReportRecord, ReportSubject, SectionDraft, SectionText, SocialReport,
    check_section_text,
};
use patto_store::Tx;
use serde_json::json;

use crate::directory::duplicate_as_conflict;
use crate::documents::NewDocument;
use crate::reading::{readable, require_involved};
use crate::reporting::parse_stored;
use crate::roles::{Access, EDITORS, not_involved, require_on_document};
use crate::{Actor, Engine, EngineError, audit};

/// A social report to create.
#[derive(Clone, Debug)]
pub struct NewSocialReport {
    /// The organisation it is about and that owns it: a Comune or the coalition.
    pub organisation_id: OrganisationId,
    /// The year it reports on.
    pub year: i32,
    /// The working group that drafts it, if any.
    pub working_group_id: Option<WorkingGroupId>,
}

/// A social report a reader may see, with how much of it.
#[derive(Clone, Debug)]
pub struct ReadableReport {
    /// The document holding its versions.
    pub document: Document,
    /// Its organisation and year.
    pub record: ReportRecord,
    /// What the reader may see of it.
    pub access: Access,
}

/// One version of a social report, parsed.
#[derive(Clone, Debug)]
pub struct ReportVersion {
    /// The document.
    pub document: Document,
    /// The version's number.
    pub number: i32,
    /// The SHA-256 of its bytes, hex: what signatures and evidence bind.
    pub sha256: String,
    /// When it was assembled.
    pub created_at: DateTime<Utc>,
    /// Whether it is the published version.
    pub published: bool,
    /// The report it holds.
    pub report: SocialReport,
}

impl Engine {
    /// Creates the social report of an organisation (a Comune or the coalition) for a
    /// year, drafted against the latest reporting model: a document of kind
    /// `social_report` owned by that organisation, named `bilancio-sociale-SLUG-YEAR`.
    /// One report per organisation and year. Its coordinators and admins may.
    pub async fn create_social_report(
        &self,
        actor: Actor,
        new: NewSocialReport,
    ) -> Result<Document, EngineError> {
        let last_year = Utc::now().year() + 1;
        if !(FIRST_YEAR..=last_year).contains(&new.year) {
            return Err(EngineError::Validation(format!(
                "{} is not a year a social report can cover; give a year from {FIRST_YEAR} to {last_year}",
                new.year
            )));
        }
        let tx = self.store().begin().await?;
        let organisation = tx
            .organisation(new.organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", new.organisation_id))?;
        if !is_reporting(&organisation) {
            return Err(EngineError::Validation(format!(
                "'{}' is a {}: social reports are written by Comuni (municipality) and by the coalition",
                organisation.slug, organisation.category
            )));
        }
        let model = tx.latest_reporting_model().await?.ok_or_else(|| {
            EngineError::Validation(
                "no reporting model is loaded; load one with `patto reporting-model load FILE` before creating a report"
                    .to_owned(),
            )
        })?;
        if let Some(existing) = tx.social_report_for(organisation.id, new.year).await? {
            let document = tx.document(existing.document_id).await?;
            return Err(EngineError::Conflict(format!(
                "the social report of '{}' for {} already exists ('{}'); edit its sections instead",
                organisation.slug,
                new.year,
                document.map(|d| d.slug).unwrap_or_default()
            )));
        }
        let document = self
            .insert_document(
                &tx,
                actor,
                &NewDocument {
                    kind: DocumentKind::SocialReport,
                    slug: format!("bilancio-sociale-{}-{}", organisation.slug, new.year),
                    title: format!("Bilancio sociale {} — {}", new.year, organisation.name),
                    parent_id: None,
                    owner_organisation_id: organisation.id,
                    working_group_id: new.working_group_id,
                },
            )
            .await?;
        tx.insert_social_report(&ReportRecord {
            document_id: document.id,
            organisation_id: organisation.id,
            year: new.year,
            model_version: model.version,
        })
        .await
        .map_err(|error| {
            duplicate_as_conflict(
                error,
                "social report",
                format!("{} {}", organisation.slug, new.year),
            )
        })?;
        tx.commit().await?;
        Ok(document)
    }

    /// Saves the working draft of one section (a reporting area of the report's model):
    /// its narrative and its goals for the next year, in Markdown. Those who may edit the
    /// document may; not once the report is published, whose figures are frozen.
    pub async fn save_report_section(
        &self,
        actor: Actor,
        document_id: DocumentId,
        area: &str,
        text: SectionText,
    ) -> Result<SectionDraft, EngineError> {
        check_section_text("narrative", &text.narrative).map_err(EngineError::Validation)?;
        check_section_text("goals", &text.goals).map_err(EngineError::Validation)?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        let record = report_of(&tx, &document).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "edit a section").await?;
        self.require_open(&tx, &document, &instance).await?;
        let person = actor.person_id().ok_or_else(|| {
            EngineError::Validation("a section is drafted by a person".to_owned())
        })?;
        let model = model_of(&tx, &record).await?;
        if !model.areas.iter().any(|a| a.code == area) {
            return Err(EngineError::Validation(format!(
                "the reporting model version {} has no area `{area}`; its areas are: {}",
                model.version,
                model
                    .areas
                    .iter()
                    .map(|a| a.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let draft = tx
            .save_section_draft(document.id, area, &text, person)
            .await?;
        audit::append(
            &tx,
            &mut instance,
            "report_section_saved",
            actor,
            &json!({
                "area": area,
                "narrative_sha256": patto_sign::content_hash(text.narrative.as_bytes()),
                "goals_sha256": patto_sign::content_hash(text.goals.as_bytes()),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Assembles the sections' drafts and the survey's values, as they are now, into a
    /// new version of the report (canonical JSON, `patto/social-report/v1`), commented
    /// and approved like any version. Those who may edit the document may; not once the
    /// report is published.
    pub async fn assemble_social_report(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<ReportVersion, EngineError> {
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        let record = report_of(&tx, &document).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "assemble a version").await?;
        self.require_open(&tx, &document, &instance).await?;
        let model = model_of(&tx, &record).await?;
        let organisation = tx
            .organisation(record.organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", record.organisation_id))?;
        let drafts: BTreeMap<String, SectionText> = tx
            .section_drafts(document.id)
            .await?
            .into_iter()
            .map(|draft| (draft.area, draft.text))
            .collect();
        // The coalition median is taken over every Comune of the instance: an instance
        // serves one coalition.
        let comuni: BTreeSet<OrganisationId> = tx
            .organisations()
            .await?
            .into_iter()
            .filter(|o| o.category == OrganisationCategory::Municipality.as_str())
            .map(|o| o.id)
            .collect();
        let all_values = tx.survey_values(None).await?;
        let (own_values, comuni_values): (Vec<_>, Vec<_>) = (
            all_values
                .iter()
                .filter(|v| v.organisation_id == organisation.id)
                .cloned()
                .collect(),
            all_values
                .iter()
                .filter(|v| comuni.contains(&v.organisation_id))
                .cloned()
                .collect(),
        );
        let report = SocialReport::assemble(ReportInputs {
            subject: ReportSubject {
                slug: organisation.slug.clone(),
                name: organisation.name.clone(),
                category: organisation.category.clone(),
                istat_code: organisation.istat_code.clone(),
            },
            year: record.year,
            title: document.title.clone(),
            model: &model,
            drafts: &drafts,
            own_values: &own_values,
            comuni_values: &comuni_values,
        });
        let bytes = report
            .to_bytes()
            .map_err(|error| EngineError::Internal(error.to_string()))?;
        let version = self
            .append_version(&tx, actor, &document, &mut instance, bytes)
            .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(ReportVersion {
            number: version.number,
            sha256: version.content_sha256,
            created_at: version.created_at,
            published: false,
            document,
            report,
        })
    }

    /// The social reports `actor` may see, of one organisation (by slug) or of all: the
    /// public sees the published ones.
    pub async fn readable_social_reports(
        &self,
        actor: Actor,
        organisation: Option<&str>,
    ) -> Result<Vec<ReadableReport>, EngineError> {
        let tx = self.store().read().await?;
        let filter = match organisation {
            Some(slug) => Some(
                tx.organisation_by_slug(slug)
                    .await?
                    .ok_or_else(|| EngineError::not_found("organisation", slug))?
                    .id,
            ),
            None => None,
        };
        let records = tx.social_reports(filter).await?;
        let ids: Vec<DocumentId> = records.iter().map(|r| r.document_id).collect();
        let documents = tx.documents_by_ids(&ids).await?;
        let mut by_document: BTreeMap<DocumentId, ReportRecord> =
            records.into_iter().map(|r| (r.document_id, r)).collect();
        let mut reports: Vec<ReadableReport> = readable(&tx, actor, documents)
            .await?
            .into_iter()
            .filter_map(|readable| {
                by_document
                    .remove(&readable.document.id)
                    .map(|record| ReadableReport {
                        document: readable.document,
                        record,
                        access: readable.access,
                    })
            })
            .collect();
        tx.commit().await?;
        reports.sort_by_key(|r| (r.record.organisation_id, r.record.year));
        Ok(reports)
    }

    /// The social report held by the document with this slug, if `actor` may see it.
    pub async fn readable_social_report(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<ReadableReport, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        let record = report_of(&tx, &document).await?;
        let readable = readable(&tx, actor, vec![document.clone()])
            .await?
            .pop()
            .ok_or_else(|| not_involved(&document, "drafts"))?;
        tx.commit().await?;
        Ok(ReadableReport {
            document: readable.document,
            record,
            access: readable.access,
        })
    }

    /// The working drafts of a report's sections: only those involved in it see them.
    pub async fn readable_report_sections(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<SectionDraft>, EngineError> {
        let tx = self.store().read().await?;
        let document = require_involved(&tx, actor, document_id, "section drafts").await?;
        report_of(&tx, &document).await?;
        let drafts = tx.section_drafts(document.id).await?;
        tx.commit().await?;
        Ok(drafts)
    }

    /// A version of a social report, parsed: the published one for the public (the
    /// portal calls this as [`Actor::Public`]); those involved may ask for any version,
    /// and get the latest when they give no number.
    pub async fn readable_report_version(
        &self,
        actor: Actor,
        slug: &str,
        number: Option<i32>,
    ) -> Result<ReportVersion, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        report_of(&tx, &document).await?;
        let access = readable(&tx, actor, vec![document.clone()])
            .await?
            .pop()
            .map(|r| r.access)
            .ok_or_else(|| not_involved(&document, "drafts"))?;
        let wanted = match (access, number) {
            (Access::Involved, Some(number)) => Some(number),
            (Access::Involved, None) => tx.latest_version(document.id).await?.map(|v| v.number),
            (Access::Published, None) => document.published_version,
            (Access::Published, Some(number)) if Some(number) == document.published_version => {
                Some(number)
            }
            (Access::Published | Access::Hidden, _) => {
                return Err(not_involved(&document, "unpublished versions"));
            }
        };
        let version: DocumentVersion = match wanted {
            Some(number) => tx.version_by_number(document.id, number).await?,
            None => None,
        }
        .ok_or_else(|| {
            EngineError::not_found(
                "version of social report",
                format!(
                    "{slug} {}",
                    number.map_or("latest".to_owned(), |n| n.to_string())
                ),
            )
        })?;
        tx.commit().await?;
        let report = SocialReport::parse(&version.content).map_err(|error| {
            EngineError::Internal(format!(
                "version {} of '{slug}' cannot be read: {error}",
                version.number
            ))
        })?;
        Ok(ReportVersion {
            published: document.published_version == Some(version.number),
            number: version.number,
            sha256: version.content_sha256,
            created_at: version.created_at,
            document,
            report,
        })
    }

    /// Fails with CONFLICT when the report's workflow has ended (published, withdrawn):
    /// what was published stays as it was.
    async fn require_open(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &WorkflowInstance,
    ) -> Result<(), EngineError> {
        let definition = self.definition_of(tx, instance).await?;
        let ended = definition
            .state(&instance.state)
            .is_some_and(|state| state.is_final);
        if ended {
            return Err(EngineError::Conflict(format!(
                "'{}' is {}: its sections and figures are frozen; create the next year's report instead",
                document.slug, instance.state
            )));
        }
        Ok(())
    }
}

/// Whether an organisation writes social reports: the Comuni and the coalition.
fn is_reporting(organisation: &Organisation) -> bool {
    organisation.category == OrganisationCategory::Municipality.as_str()
        || organisation.category == OrganisationCategory::Coalition.as_str()
}

/// The report a document holds, or VALIDATION when it is another kind of document.
async fn report_of(tx: &Tx, document: &Document) -> Result<ReportRecord, EngineError> {
    tx.social_report(document.id).await?.ok_or_else(|| {
        EngineError::Validation(format!(
            "'{}' is a {}, not a social report",
            document.slug, document.kind
        ))
    })
}

/// The reporting model a report is drafted against.
async fn model_of(tx: &Tx, record: &ReportRecord) -> Result<Model, EngineError> {
    let stored = tx
        .reporting_model(record.model_version)
        .await?
        .ok_or_else(|| EngineError::not_found("reporting model version", record.model_version))?;
    parse_stored(&stored)
}
