//! What the portal shows, read from the engine as the public (`Actor::Public`): only
//! published documents, their published version, signatories, signatures, commitments
//! and reviews. The engine decides what the public may see; this module only gathers it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use patto_core::ids::{CommitmentId, DocumentId, OrganisationId, PersonId};
use patto_core::records::{
    Commitment, Document, DocumentVersion, Organisation, Review, StatusReport,
};
use patto_core::status::CommitmentStatus;
use patto_core::{DocumentKind, OrganisationCategory};
use patto_engine::{Actor, Engine};

use crate::error::PortalError;

/// The portal reads as the public, always.
const PUBLIC: Actor = Actor::Public;

/// A published document as the public sees it.
#[derive(Clone, Debug)]
pub struct Published {
    /// The document.
    pub document: Document,
    /// Its published version.
    pub version: Option<DocumentVersion>,
    /// Its workflow state.
    pub state: String,
    /// When it was published: its last signature, or its published version's creation
    /// when nobody signed it.
    pub published_at: DateTime<Utc>,
    /// The organisations that signed it (signed requests only).
    pub signed_by: Vec<OrganisationId>,
}

impl Published {
    /// Its kind, when it is one the portal knows.
    pub fn kind(&self) -> Option<DocumentKind> {
        self.document.kind.parse().ok()
    }
}

/// Every published document, most recently published first.
pub async fn published(engine: &Engine) -> Result<Vec<Published>, PortalError> {
    let documents: Vec<Document> = engine
        .readable_documents(PUBLIC)
        .await?
        .into_iter()
        .map(|readable| readable.document)
        .filter(|document| document.published_version.is_some())
        .collect();
    let ids: Vec<DocumentId> = documents.iter().map(|d| d.id).collect();
    let mut versions = engine.readable_versions(PUBLIC, &ids).await?;
    let mut signatures = engine.readable_signatures(PUBLIC, &ids).await?;
    let mut published = Vec::with_capacity(documents.len());
    for document in documents {
        let version = versions
            .remove(&document.id)
            .unwrap_or_default()
            .into_iter()
            .find(|v| Some(v.number) == document.published_version);
        let signed = signatures.remove(&document.id).unwrap_or_default();
        let last_signature = signed.iter().filter_map(|s| s.decided_at).max();
        let published_at = last_signature
            .or_else(|| version.as_ref().map(|v| v.created_at))
            .unwrap_or(document.created_at);
        let mut signed_by: Vec<OrganisationId> = signed.iter().map(|s| s.organisation_id).collect();
        signed_by.sort();
        signed_by.dedup();
        let state = engine.readable_instance(PUBLIC, document.id).await?.state;
        published.push(Published {
            document,
            version,
            state,
            published_at,
            signed_by,
        });
    }
    published.sort_by(|a, b| {
        b.published_at
            .cmp(&a.published_at)
            .then_with(|| a.document.slug.cmp(&b.document.slug))
    });
    Ok(published)
}

/// The directory's organisations, by id (the directory is public).
pub async fn organisations(
    engine: &Engine,
) -> Result<BTreeMap<OrganisationId, Organisation>, PortalError> {
    Ok(engine
        .organisations()
        .await?
        .into_iter()
        .map(|organisation| (organisation.id, organisation))
        .collect())
}

/// Whether an organisation is a Comune.
pub fn is_comune(organisation: &Organisation) -> bool {
    organisation.category == OrganisationCategory::Municipality.as_str()
}

/// Whether an organisation is the coalition.
pub fn is_coalition(organisation: &Organisation) -> bool {
    organisation.category == OrganisationCategory::Coalition.as_str()
}

/// One signatory of a document: the organisation, who signed (or is to sign) for it,
/// and when.
#[derive(Clone, Debug)]
pub struct SignatoryRow {
    /// The organisation signed for.
    pub organisation_id: OrganisationId,
    /// The person who signed, or who is to sign.
    pub signer: String,
    /// When they signed.
    pub signed_at: Option<DateTime<Utc>>,
}

/// A document's signatories in signing order, with who signed for each and when.
pub async fn signatories(
    engine: &Engine,
    document_id: DocumentId,
) -> Result<Vec<SignatoryRow>, PortalError> {
    let mut listed = engine
        .readable_signatories(PUBLIC, &[document_id])
        .await?
        .remove(&document_id)
        .unwrap_or_default();
    listed.sort_by_key(|s| s.position);
    // The latest signature for each organisation: a substitute may have signed in the
    // place of the listed person.
    let mut signed: HashMap<OrganisationId, (PersonId, DateTime<Utc>)> = HashMap::new();
    for request in engine
        .readable_signatures(PUBLIC, &[document_id])
        .await?
        .remove(&document_id)
        .unwrap_or_default()
    {
        if let Some(at) = request.decided_at {
            signed.insert(request.organisation_id, (request.person_id, at));
        }
    }
    let mut people_ids: Vec<PersonId> = listed.iter().map(|s| s.person_id).collect();
    people_ids.extend(signed.values().map(|(person, _)| *person));
    let names: HashMap<PersonId, String> = engine
        .people_by_ids(people_ids)
        .await?
        .into_iter()
        .map(|person| (person.id, person.name))
        .collect();
    Ok(listed
        .into_iter()
        .map(|signatory| {
            let (person, signed_at) = match signed.get(&signatory.organisation_id) {
                Some((person, at)) => (*person, Some(*at)),
                None => (signatory.person_id, None),
            };
            SignatoryRow {
                organisation_id: signatory.organisation_id,
                signer: names.get(&person).cloned().unwrap_or_default(),
                signed_at,
            }
        })
        .collect())
}

/// The commitments of one published document, with how many are done.
#[derive(Clone, Debug)]
pub struct CommitmentGroup {
    /// The document they belong to.
    pub document: Published,
    /// Its commitments, in the order they were made.
    pub commitments: Vec<Commitment>,
    /// The latest status report submitted on each commitment at the document's reviews.
    pub reported: HashMap<CommitmentId, StatusReport>,
}

impl CommitmentGroup {
    /// (done, counted): cancelled commitments are not counted.
    pub fn progress(&self) -> (usize, usize) {
        let counted = self
            .commitments
            .iter()
            .filter(|c| c.status != CommitmentStatus::Cancelled)
            .count();
        let done = self
            .commitments
            .iter()
            .filter(|c| c.status == CommitmentStatus::Done)
            .count();
        (done, counted)
    }
}

/// The commitments of these documents, one group each, leaving out documents without
/// commitments.
pub async fn commitment_groups(
    engine: &Engine,
    documents: &[&Published],
) -> Result<Vec<CommitmentGroup>, PortalError> {
    let mut groups = Vec::new();
    for document in documents {
        let mut commitments = engine
            .readable_commitments(PUBLIC, document.document.id)
            .await?;
        commitments.sort_by_key(|c| (c.created_at, c.id));
        if !commitments.is_empty() {
            groups.push(CommitmentGroup {
                document: (*document).clone(),
                commitments,
                reported: latest_reports(engine, &document.document.slug).await?,
            });
        }
    }
    Ok(groups)
}

/// The latest status report submitted on each commitment of a published document, over
/// all its reviews: what its owner last said of where it stands.
async fn latest_reports(
    engine: &Engine,
    slug: &str,
) -> Result<HashMap<CommitmentId, StatusReport>, PortalError> {
    let mut latest: HashMap<CommitmentId, StatusReport> = HashMap::new();
    for review in engine.readable_reviews(PUBLIC, slug).await? {
        let (_, _, reports) = engine.readable_review(PUBLIC, review.id).await?;
        for report in reports {
            if report.submitted_at.is_none() {
                continue;
            }
            let newer = latest
                .get(&report.commitment_id)
                .is_none_or(|kept| kept.submitted_at < report.submitted_at);
            if newer {
                latest.insert(report.commitment_id, report);
            }
        }
    }
    Ok(latest)
}

/// The reviews of a published document, oldest first.
pub async fn reviews(engine: &Engine, slug: &str) -> Result<Vec<Review>, PortalError> {
    Ok(engine.readable_reviews(PUBLIC, slug).await?)
}

/// The published documents a document page groups commitments from: the document
/// itself, and for a pact the published protocols under it.
pub fn with_children<'a>(all: &'a [Published], document: &'a Published) -> Vec<&'a Published> {
    let mut documents = vec![document];
    let mut children: Vec<&Published> = all
        .iter()
        .filter(|p| p.document.parent_id == Some(document.document.id))
        .collect();
    children.sort_by(|a, b| a.document.title.cmp(&b.document.title));
    documents.extend(children);
    documents
}
