//! Diagnoses (Diagnosi di sicurezza e legalità): one per territory (a Comune or the whole
//! coalition) and edition year, whose versions hold the whole diagnosis as canonical JSON
//! (`patto_core::diagnosis`) and go through the `diagnosis` workflow like any document's
//! (drafting, consultation, approval by a quorum of signatures, approved and published).
//! Pacts and protocols in drafting cite the items of an approved diagnosis they respond
//! to; the citations are kept with the citing document and shown with it.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use patto_core::diagnosis::{
    CitationRecord, Diagnosis, DiagnosisDraft, DiagnosisRecord, ItemSummary, KnownIds, Problem,
    Territory,
};
use patto_core::ids::{DocumentId, OrganisationId, WorkingGroupId};
use patto_core::records::{Document, DocumentVersion, Organisation, WorkflowInstance};
use patto_core::reporting::FIRST_YEAR;
use patto_core::{DocumentKind, OrganisationCategory};
use patto_store::Tx;
use serde_json::json;

use crate::directory::duplicate_as_conflict;
use crate::documents::NewDocument;
use crate::reading::readable;
use crate::roles::{Access, EDITORS, not_involved, require_on_document};
use crate::{Actor, Engine, EngineError, audit};

/// A diagnosis to create.
#[derive(Clone, Debug)]
pub struct NewDiagnosis {
    /// The organisation whose territory it is about and that owns it: a Comune or the
    /// coalition.
    pub organisation_id: OrganisationId,
    /// The edition year.
    pub year: i32,
    /// The working group that drafts it, if any.
    pub working_group_id: Option<WorkingGroupId>,
}

/// A diagnosis a reader may see, with how much of it.
#[derive(Clone, Debug)]
pub struct ReadableDiagnosis {
    /// The document holding its versions.
    pub document: Document,
    /// Its territory and year.
    pub record: DiagnosisRecord,
    /// What the reader may see of it.
    pub access: Access,
}

/// One version of a diagnosis, parsed.
#[derive(Clone, Debug)]
pub struct DiagnosisVersion {
    /// The document.
    pub document: Document,
    /// The version's number.
    pub number: i32,
    /// The SHA-256 of its bytes, hex: what signatures and evidence bind.
    pub sha256: String,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Whether it is the published (approved) version.
    pub published: bool,
    /// The diagnosis it holds.
    pub diagnosis: Diagnosis,
}

/// An item of a diagnosis cited by a pact or protocol, as readers see it.
#[derive(Clone, Debug)]
pub struct CitedItem {
    /// The cited diagnosis's document.
    pub diagnosis: Document,
    /// The version of the diagnosis the item was read from (its approved version).
    pub diagnosis_version: i32,
    /// The item.
    pub item: ItemSummary,
    /// The whole problem, when the item is one: what the citing document answers.
    pub problem: Option<Problem>,
    /// The citing document's latest version when the item was cited, if it had one.
    pub document_version: Option<i32>,
    /// When it was cited.
    pub cited_at: DateTime<Utc>,
}

impl Engine {
    /// Creates the diagnosis of a territory (a Comune or the coalition) for an edition
    /// year: a document of kind `diagnosis` owned by that organisation, named
    /// `diagnosi-SLUG-YEAR`. One diagnosis per territory and year; its coordinators and
    /// admins may create it.
    pub async fn create_diagnosis(
        &self,
        actor: Actor,
        new: NewDiagnosis,
    ) -> Result<Document, EngineError> {
        let last_year = Utc::now().year() + 1;
        if !(FIRST_YEAR..=last_year).contains(&new.year) {
            return Err(EngineError::Validation(format!(
                "{} is not an edition year of a diagnosis; give a year from {FIRST_YEAR} to {last_year}",
                new.year
            )));
        }
        let tx = self.store().begin().await?;
        let organisation = tx
            .organisation(new.organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", new.organisation_id))?;
        if !is_territory(&organisation) {
            return Err(EngineError::Validation(format!(
                "'{}' is a {}: a diagnosis is about the territory of a Comune (municipality) or of the whole coalition",
                organisation.slug, organisation.category
            )));
        }
        if let Some(existing) = tx.diagnosis_for(organisation.id, new.year).await? {
            let document = tx.document(existing.document_id).await?;
            return Err(EngineError::Conflict(format!(
                "the diagnosis of '{}' for {} already exists ('{}'); save a new version of it instead",
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
                    kind: DocumentKind::Diagnosis,
                    slug: format!("diagnosi-{}-{}", organisation.slug, new.year),
                    title: format!(
                        "Diagnosi di sicurezza e legalità {} — {}",
                        new.year, organisation.name
                    ),
                    parent_id: None,
                    owner_organisation_id: organisation.id,
                    working_group_id: new.working_group_id,
                },
            )
            .await?;
        tx.insert_diagnosis(&DiagnosisRecord {
            document_id: document.id,
            organisation_id: organisation.id,
            year: new.year,
        })
        .await
        .map_err(|error| {
            duplicate_as_conflict(
                error,
                "diagnosis",
                format!("{} {}", organisation.slug, new.year),
            )
        })?;
        tx.commit().await?;
        Ok(document)
    }

    /// Saves the content of a diagnosis as its new version (canonical JSON,
    /// `patto/diagnosis/v1`), commented and approved like any version. Items keep the
    /// ids the draft gives; new items get ids never used before in this diagnosis. Those
    /// who may edit the document may, while it is in drafting (from consultation it is
    /// revised back to drafting first). Nothing is saved when any field is wrong.
    pub async fn save_diagnosis(
        &self,
        actor: Actor,
        document_id: DocumentId,
        draft: DiagnosisDraft,
    ) -> Result<DiagnosisVersion, EngineError> {
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        let record = diagnosis_of(&tx, &document).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "edit the diagnosis").await?;
        self.require_drafting(&tx, &document, &instance, "edited")
            .await?;
        let organisation = tx
            .organisation(record.organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", record.organisation_id))?;
        let mut known = KnownIds::new();
        for version in tx.versions_of_documents(&[document.id]).await? {
            known.extend(parse_version(&document, &version)?.known_ids());
        }
        let diagnosis = Diagnosis::from_draft(
            territory(&organisation),
            record.year,
            document.title.clone(),
            draft,
            &known,
        )
        .map_err(|error| EngineError::Validation(error.to_string()))?;
        let bytes = diagnosis
            .to_bytes()
            .map_err(|error| EngineError::Internal(error.to_string()))?;
        let version = self
            .append_version(&tx, actor, &document, &mut instance, bytes)
            .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(DiagnosisVersion {
            number: version.number,
            sha256: version.content_sha256,
            created_at: version.created_at,
            published: false,
            document,
            diagnosis,
        })
    }

    /// The diagnoses `actor` may see, of one territory (by organisation slug) or of all:
    /// the public sees the approved ones; partners see them once shared for consultation.
    pub async fn readable_diagnoses(
        &self,
        actor: Actor,
        organisation: Option<&str>,
    ) -> Result<Vec<ReadableDiagnosis>, EngineError> {
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
        let records = tx.diagnoses(filter).await?;
        let ids: Vec<DocumentId> = records.iter().map(|r| r.document_id).collect();
        let documents = tx.documents_by_ids(&ids).await?;
        let mut by_document: BTreeMap<DocumentId, DiagnosisRecord> =
            records.into_iter().map(|r| (r.document_id, r)).collect();
        let mut diagnoses: Vec<ReadableDiagnosis> = readable(&tx, actor, documents)
            .await?
            .into_iter()
            .filter_map(|readable| {
                by_document
                    .remove(&readable.document.id)
                    .map(|record| ReadableDiagnosis {
                        document: readable.document,
                        record,
                        access: readable.access,
                    })
            })
            .collect();
        tx.commit().await?;
        diagnoses.sort_by_key(|d| (d.record.organisation_id, d.record.year));
        Ok(diagnoses)
    }

    /// The diagnosis held by the document with this slug, if `actor` may see it.
    pub async fn readable_diagnosis(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<ReadableDiagnosis, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        let record = diagnosis_of(&tx, &document).await?;
        let readable = readable(&tx, actor, vec![document.clone()])
            .await?
            .pop()
            .ok_or_else(|| not_involved(&document, "drafts"))?;
        tx.commit().await?;
        Ok(ReadableDiagnosis {
            document: readable.document,
            record,
            access: readable.access,
        })
    }

    /// A version of a diagnosis, parsed: the approved (published) one for the public
    /// (the portal calls this as [`Actor::Public`]); those involved may ask for any
    /// version, and get the latest when they give no number.
    pub async fn readable_diagnosis_version(
        &self,
        actor: Actor,
        slug: &str,
        number: Option<i32>,
    ) -> Result<DiagnosisVersion, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        diagnosis_of(&tx, &document).await?;
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
                return Err(not_involved(&document, "unapproved versions"));
            }
        };
        let version: DocumentVersion = match wanted {
            Some(number) => tx.version_by_number(document.id, number).await?,
            None => None,
        }
        .ok_or_else(|| {
            EngineError::not_found(
                "version of diagnosis",
                format!(
                    "{slug} {}",
                    number.map_or("latest".to_owned(), |n| n.to_string())
                ),
            )
        })?;
        tx.commit().await?;
        let diagnosis = parse_version(&document, &version)?;
        Ok(DiagnosisVersion {
            published: document.published_version == Some(version.number),
            number: version.number,
            sha256: version.content_sha256,
            created_at: version.created_at,
            document,
            diagnosis,
        })
    }

    /// Records which items of a diagnosis a pact or protocol responds to, replacing the
    /// items it cited from that diagnosis before (an empty list removes them). The items
    /// are read from the diagnosis's approved version, which the citation keeps: a
    /// citation never points at a draft, so whoever may read the pact may read what it
    /// cites. Those who may edit the citing document may, while it is in drafting.
    pub async fn cite_diagnosis_items(
        &self,
        actor: Actor,
        document_id: DocumentId,
        diagnosis_id: DocumentId,
        items: &[String],
    ) -> Result<Vec<CitedItem>, EngineError> {
        let person = actor
            .person_id()
            .ok_or_else(|| EngineError::Validation("a citation is made by a person".to_owned()))?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        if !matches!(
            document.kind.parse::<DocumentKind>(),
            Ok(DocumentKind::Pact | DocumentKind::Protocol)
        ) {
            return Err(EngineError::Validation(format!(
                "'{}' is a {}: only a pact or a protocol cites the items of a diagnosis",
                document.slug, document.kind
            )));
        }
        require_on_document(&tx, actor, &document, &EDITORS, "cite a diagnosis").await?;
        self.require_drafting(&tx, &document, &instance, "changed in what it cites")
            .await?;
        let diagnosis_document = tx
            .document(diagnosis_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", diagnosis_id))?;
        diagnosis_of(&tx, &diagnosis_document).await?;
        if readable(&tx, actor, vec![diagnosis_document.clone()])
            .await?
            .is_empty()
        {
            return Err(not_involved(&diagnosis_document, "drafts"));
        }
        let approved = diagnosis_document.published_version.ok_or_else(|| {
            EngineError::Validation(format!(
                "'{}' is not approved yet: a pact or protocol cites the items of an approved diagnosis, whose text everyone can read",
                diagnosis_document.slug
            ))
        })?;
        let version = tx
            .version_by_number(diagnosis_document.id, approved)
            .await?
            .ok_or_else(|| {
                EngineError::not_found(
                    "version of diagnosis",
                    format!("{} {approved}", diagnosis_document.slug),
                )
            })?;
        let diagnosis = parse_version(&diagnosis_document, &version)?;
        let mut seen = BTreeSet::new();
        let wanted: Vec<&String> = items.iter().filter(|id| seen.insert(*id)).collect();
        let unknown: Vec<String> = wanted
            .iter()
            .filter(|id| diagnosis.item(id).is_none())
            .map(|id| format!("`{}`", patto_core::text::escape_line(id)))
            .collect();
        if !unknown.is_empty() {
            return Err(EngineError::Validation(format!(
                "the approved version {approved} of '{}' has no item {}; its items are: {}",
                diagnosis_document.slug,
                unknown.join(", "),
                diagnosis
                    .items()
                    .iter()
                    .map(|item| item.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let document_version = tx.latest_version(document.id).await?.map(|v| v.number);
        let cited_at = Utc::now();
        let records: Vec<CitationRecord> = wanted
            .iter()
            .map(|id| CitationRecord {
                document_id: document.id,
                diagnosis_id: diagnosis_document.id,
                diagnosis_version: approved,
                item_id: (*id).clone(),
                document_version,
                cited_by: person,
                cited_at,
            })
            .collect();
        tx.replace_citations(document.id, diagnosis_document.id, &records)
            .await?;
        audit::append(
            &tx,
            &mut instance,
            "diagnosis_items_cited",
            actor,
            &json!({
                "diagnosis": diagnosis_document.slug,
                "diagnosis_version": approved,
                "diagnosis_sha256": version.content_sha256,
                "items": wanted,
                "document_version": document_version,
            }),
        )
        .await?;
        tx.commit().await?;
        records
            .into_iter()
            .map(|record| cited(&diagnosis_document, &diagnosis, record))
            .collect()
    }

    /// The diagnosis items a pact or protocol cites, if `actor` may see the document:
    /// each with the diagnosis and version it comes from and, for a problem, the
    /// problem whole.
    pub async fn readable_citations(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<CitedItem>, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        if readable(&tx, actor, vec![document.clone()])
            .await?
            .is_empty()
        {
            return Err(not_involved(&document, "drafts"));
        }
        let citations = tx.citations_of(document.id).await?;
        let mut diagnoses: BTreeMap<(DocumentId, i32), (Document, Diagnosis)> = BTreeMap::new();
        let mut items = Vec::with_capacity(citations.len());
        for citation in citations {
            let key = (citation.diagnosis_id, citation.diagnosis_version);
            let (diagnosis_document, diagnosis) = match diagnoses.entry(key) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(entry) => {
                    let diagnosis_document = tx
                        .document(citation.diagnosis_id)
                        .await?
                        .ok_or_else(|| EngineError::not_found("document", citation.diagnosis_id))?;
                    let version = tx
                        .version_by_number(citation.diagnosis_id, citation.diagnosis_version)
                        .await?
                        .ok_or_else(|| {
                            EngineError::not_found(
                                "version of diagnosis",
                                format!(
                                    "{} {}",
                                    diagnosis_document.slug, citation.diagnosis_version
                                ),
                            )
                        })?;
                    let diagnosis = parse_version(&diagnosis_document, &version)?;
                    entry.insert((diagnosis_document, diagnosis))
                }
            };
            items.push(cited(diagnosis_document, diagnosis, citation)?);
        }
        tx.commit().await?;
        Ok(items)
    }

    /// Fails with CONFLICT unless the document's workflow is in its initial state
    /// (drafting): a diagnosis under consultation or approval, or a pact being shared or
    /// signed, is not changed under its readers' eyes.
    async fn require_drafting(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &WorkflowInstance,
        what: &str,
    ) -> Result<(), EngineError> {
        let definition = self.definition_of(tx, instance).await?;
        let initial = &definition.initial_state().name;
        if &instance.state != initial {
            return Err(EngineError::Conflict(format!(
                "'{}' is in {}: it can be {what} only in {initial}; {}",
                document.slug,
                instance.state,
                if definition
                    .state(&instance.state)
                    .is_some_and(|state| state.is_final)
                {
                    "it has ended and stays as it is"
                } else {
                    "take it back to drafting first (revise, cancel the approval or signing)"
                }
            )));
        }
        Ok(())
    }
}

/// A citation with the item it names, read from the diagnosis version it keeps. The
/// item was checked when the citation was made and versions never change, so an item
/// missing here means the database was changed behind the engine's back.
fn cited(
    document: &Document,
    diagnosis: &Diagnosis,
    record: CitationRecord,
) -> Result<CitedItem, EngineError> {
    let item = diagnosis.item(&record.item_id).ok_or_else(|| {
        EngineError::Internal(format!(
            "a citation names the item `{}`, which version {} of '{}' does not hold",
            record.item_id, record.diagnosis_version, document.slug
        ))
    })?;
    Ok(CitedItem {
        diagnosis: document.clone(),
        diagnosis_version: record.diagnosis_version,
        problem: diagnosis.problem(&record.item_id).cloned(),
        item,
        document_version: record.document_version,
        cited_at: record.cited_at,
    })
}

/// Whether an organisation's territory has a diagnosis: a Comune's or the coalition's.
fn is_territory(organisation: &Organisation) -> bool {
    organisation.category == OrganisationCategory::Municipality.as_str()
        || organisation.category == OrganisationCategory::Coalition.as_str()
}

/// The territory of an organisation, as a diagnosis names it.
fn territory(organisation: &Organisation) -> Territory {
    Territory {
        slug: organisation.slug.clone(),
        name: organisation.name.clone(),
        category: organisation.category.clone(),
        istat_code: organisation.istat_code.clone(),
    }
}

/// The diagnosis a document holds, or VALIDATION when it is another kind of document.
async fn diagnosis_of(tx: &Tx, document: &Document) -> Result<DiagnosisRecord, EngineError> {
    tx.diagnosis(document.id).await?.ok_or_else(|| {
        EngineError::Validation(format!(
            "'{}' is a {}, not a diagnosis",
            document.slug, document.kind
        ))
    })
}

/// A stored version of a diagnosis, parsed; one that does not parse is an internal error
/// (every version of a diagnosis is written by `save_diagnosis`).
fn parse_version(document: &Document, version: &DocumentVersion) -> Result<Diagnosis, EngineError> {
    Diagnosis::parse(&version.content).map_err(|error| {
        EngineError::Internal(format!(
            "version {} of '{}' cannot be read: {error}",
            version.number, document.slug
        ))
    })
}
