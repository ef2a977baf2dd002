//! The consultation of a Diagnosi: a questionnaire that the coordinators of the owning
//! organisation write while the diagnosis is drafted, opened for a period together with
//! the workflow's `open_consultation` transition, answered once by each partner
//! organisation through a personal link and anonymously by citizens through a public
//! link, and tallied per question for partners and citizens apart.
//!
//! Answers are accepted only while the consultation is open: it was opened, the
//! document is still in the `consultation` state it entered then (any later transition
//! closes the consultation for good), the period has begun and not ended, and nobody
//! closed it. An answer is stored with its audience and nothing else: no person, link,
//! address or time. It is not an audit event either — the chain is kept for ever and
//! exported, and a free text may hold personal data that must be erasable — but closing
//! the consultation appends an event with the number of answers of each audience and the
//! SHA-256 of all the answers, which binds the results to the chain.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use patto_core::consultation::{
    Audience, ConsultationRecord, Questionnaire, RawAnswers, StoredAnswers, Tally,
};
use patto_core::ids::DocumentId;
use patto_core::records::{Document, Organisation, WorkflowInstance};
use patto_core::{DocumentKind, Role};
use patto_store::{NewOutboxMessage, PeopleSet, Tx};
use serde_json::json;

use crate::auth::random_bytes;
use crate::mail::new_message_id;
use crate::roles::{require_on_document, roles_on};
use crate::workflow::{FireRequest, TRANSITION_EVENT};
use crate::{Actor, Engine, EngineError, RateLimit, audit};

/// The template of the mail that gives a partner organisation's coordinators its
/// personal link.
pub const CONSULTATION_INVITATION_TEMPLATE: &str = "consultation_invitation";

/// How many anonymous answers one client address may give, across consultations: enough
/// for a family or an office behind one address, too few to stuff the results.
pub const PUBLIC_ANSWERS_PER_CLIENT: RateLimit = RateLimit {
    max: 20,
    window: Duration::from_secs(3600),
};

/// The longest a consultation may stay open.
const MAX_PERIOD_DAYS: i64 = 366;
/// The state of the `diagnosis` workflow in which answers are taken.
const CONSULTATION_STATE: &str = "consultation";
/// The transition that enters it.
const OPEN_TRANSITION: &str = "open_consultation";
/// Who writes, opens and closes the consultation and reads its results while it runs.
const COORDINATORS: [Role; 1] = [Role::Coordinator];
/// The pause point between a partner answer's checks and its write, for the race test.
pub(crate) const PAUSE_BEFORE_PARTNER_ANSWER: &str = "consultation_partner_answer";

/// Where a consultation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsultationStatus {
    /// Being written: not opened yet.
    Draft,
    /// Opened, but its period has not begun.
    Scheduled,
    /// Taking answers.
    Open,
    /// Closed: by a coordinator, at the end of its period, or because the document left
    /// the `consultation` state.
    Closed,
}

impl ConsultationStatus {
    /// The status's name: `draft`, `scheduled`, `open`, `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationStatus::Draft => "draft",
            ConsultationStatus::Scheduled => "scheduled",
            ConsultationStatus::Open => "open",
            ConsultationStatus::Closed => "closed",
        }
    }
}

/// A consultation as its coordinators see it.
#[derive(Clone, Debug)]
pub struct ConsultationView {
    /// The diagnosis it belongs to.
    pub document: Document,
    /// The consultation.
    pub record: ConsultationRecord,
    /// Where it stands now.
    pub status: ConsultationStatus,
    /// How many partner organisations were sent a link.
    pub links_sent: u32,
    /// How many of those links were used.
    pub links_used: u32,
}

/// A consultation as anyone may see it through its public link: what the form needs.
#[derive(Clone, Debug)]
pub struct PublicConsultation {
    /// The diagnosis the consultation belongs to.
    pub document_id: DocumentId,
    /// The diagnosis's title.
    pub title: String,
    /// The unguessable part of the public link.
    pub public_slug: String,
    /// The questionnaire.
    pub questionnaire: Questionnaire,
    /// When answers start being accepted.
    pub opens_at: Option<DateTime<Utc>>,
    /// When they stop.
    pub closes_at: Option<DateTime<Utc>>,
    /// Where it stands now.
    pub status: ConsultationStatus,
    /// For a partner's link: whether it was used already.
    pub link_used: Option<bool>,
    /// For a partner's link: the partner organisation's name.
    pub partner_name: Option<String>,
}

/// What sending the partners' links did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerLinksSent {
    /// The organisations sent a new link now.
    pub sent: Vec<Organisation>,
    /// The organisations that had a link already (nothing was sent to them again).
    pub already_sent: Vec<Organisation>,
    /// The organisations without a coordinator to send a link to: add one, then send
    /// again.
    pub unreachable: Vec<Organisation>,
}

/// The aggregated results of a consultation.
#[derive(Clone, Debug)]
pub struct ConsultationResults {
    /// The consultation, as anyone may see it.
    pub consultation: PublicConsultation,
    /// The partners' answers, tallied.
    pub partners: Tally,
    /// The citizens' answers, tallied.
    pub citizens: Tally,
    /// Whether the free texts are included. They are for the coordinators only: a text
    /// may name people or hold other personal data, and is not published unread.
    pub texts_included: bool,
}

impl Engine {
    /// Writes the questionnaire of a diagnosis's consultation, creating the consultation
    /// (with its unguessable public slug) the first time. A coordinator of the owning
    /// organisation may, while the document is `drafting` and the consultation was
    /// never opened. The questionnaire is checked whole (`VALIDATION` lists every
    /// problem).
    pub async fn save_questionnaire(
        &self,
        actor: Actor,
        document_id: DocumentId,
        questionnaire: Questionnaire,
    ) -> Result<ConsultationView, EngineError> {
        questionnaire.check().map_err(|problems| {
            EngineError::Validation(format!(
                "the questionnaire was not saved: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_diagnosis(&document)?;
        require_on_document(
            &tx,
            actor,
            &document,
            &COORDINATORS,
            "write the questionnaire",
        )
        .await?;
        if instance.state != "drafting" {
            return Err(EngineError::Conflict(format!(
                "'{}' is in {}: the questionnaire is written while the diagnosis is drafting; fire `revise` first if the workflow allows it",
                document.slug, instance.state
            )));
        }
        let record = match tx.consultation_of(document.id).await? {
            Some(existing) if existing.opened_seq.is_some() => {
                return Err(EngineError::Conflict(format!(
                    "the consultation of '{}' was opened already: its questionnaire can no longer change, so that every answer answers the same questions",
                    document.slug
                )));
            }
            Some(existing) => {
                tx.set_questionnaire(existing.id, &questionnaire, actor.person_id())
                    .await?;
                ConsultationRecord {
                    questionnaire: questionnaire.clone(),
                    ..existing
                }
            }
            None => {
                tx.insert_consultation(
                    document.id,
                    &questionnaire,
                    &new_secret(),
                    actor.person_id(),
                )
                .await?
            }
        };
        audit::append(
            &tx,
            &mut instance,
            "consultation_questionnaire_saved",
            actor,
            &json!({
                "questions": questionnaire.questions.len(),
                "questionnaire_sha256": questionnaire_hash(&questionnaire)?,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ConsultationView {
            document,
            record,
            status: ConsultationStatus::Draft,
            links_sent: 0,
            links_used: 0,
        })
    }

    /// Opens the consultation for the period from `opens_at` to `closes_at` and, in the
    /// same transaction, fires the workflow's `open_consultation` transition (with its
    /// notifications). A coordinator may, once, while the document is `drafting` with a
    /// questionnaire saved; the period must end in the future, after it begins, within
    /// a year.
    pub async fn open_consultation(
        &self,
        actor: Actor,
        document_id: DocumentId,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> Result<ConsultationView, EngineError> {
        let now = Utc::now();
        if closes_at <= opens_at || closes_at <= now {
            return Err(EngineError::Validation(
                "the consultation must close after it opens and in the future; give a later closes_at".to_owned(),
            ));
        }
        if closes_at - opens_at > chrono::Duration::days(MAX_PERIOD_DAYS) {
            return Err(EngineError::Validation(format!(
                "a consultation stays open at most {MAX_PERIOD_DAYS} days; give an earlier closes_at"
            )));
        }
        let tx = self.store().begin().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        require_diagnosis(&document)?;
        require_on_document(
            &tx,
            actor,
            &document,
            &COORDINATORS,
            "open the consultation",
        )
        .await?;
        let record = tx.consultation_of(document.id).await?.ok_or_else(|| {
            EngineError::Validation(format!(
                "'{}' has no questionnaire yet; save one with saveQuestionnaire first",
                document.slug
            ))
        })?;
        if record.opened_seq.is_some() {
            return Err(EngineError::Conflict(format!(
                "the consultation of '{}' was opened already; a diagnosis has one consultation",
                document.slug
            )));
        }
        let instance = tx
            .instance_of_document(document.id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document.id))?;
        let (document, mut instance, steps) = self
            .fire_within(
                &tx,
                actor,
                &FireRequest {
                    document_id: document.id,
                    transition: OPEN_TRANSITION.to_owned(),
                    expected_version: instance.version,
                },
            )
            .await?;
        if instance.state != CONSULTATION_STATE || steps.len() != 1 {
            return Err(EngineError::Internal(format!(
                "the `{OPEN_TRANSITION}` transition of '{}' did not leave the document in `{CONSULTATION_STATE}`; check the diagnosis workflow definition",
                document.slug
            )));
        }
        let opened_seq = instance.event_count;
        tx.open_consultation(
            record.id,
            opens_at,
            closes_at,
            opened_seq,
            actor.person_id(),
        )
        .await?;
        audit::append(
            &tx,
            &mut instance,
            "consultation_opened",
            actor,
            &json!({
                "opens_at": opens_at.to_rfc3339(),
                "closes_at": closes_at.to_rfc3339(),
                "questionnaire_sha256": questionnaire_hash(&record.questionnaire)?,
            }),
        )
        .await?;
        tx.commit().await?;
        let record = ConsultationRecord {
            opens_at: Some(opens_at),
            closes_at: Some(closes_at),
            opened_seq: Some(opened_seq),
            ..record
        };
        let status = status_at(&record, &instance, false, Utc::now());
        Ok(ConsultationView {
            document,
            record,
            status,
            links_sent: 0,
            links_used: 0,
        })
    }

    /// Closes the consultation now, or records that it closed (at the end of its period
    /// or when the document left `consultation`), appending an event with the number of
    /// answers of each audience and the SHA-256 of all the answers. A coordinator may;
    /// `CONFLICT` when it was never opened or its closing is recorded already.
    pub async fn close_consultation(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<ConsultationView, EngineError> {
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_diagnosis(&document)?;
        require_on_document(
            &tx,
            actor,
            &document,
            &COORDINATORS,
            "close the consultation",
        )
        .await?;
        let record = consultation_of(&tx, &document).await?;
        if record.opened_seq.is_none() {
            return Err(EngineError::Conflict(format!(
                "the consultation of '{}' was never opened; there is nothing to close",
                document.slug
            )));
        }
        if record.closed_at.is_some() {
            return Err(EngineError::Conflict(format!(
                "the consultation of '{}' is closed already",
                document.slug
            )));
        }
        let now = Utc::now();
        // A consultation that ended by itself is recorded as closed when it ended.
        let closed_at = record.closes_at.map_or(now, |end| end.min(now));
        tx.close_consultation(record.id, closed_at).await?;
        // Invitations still waiting to go out would carry links that no longer work.
        tx.drop_pending_outbox_of_instance(
            instance.id,
            CONSULTATION_INVITATION_TEMPLATE,
            "the consultation closed before it could be sent",
        )
        .await?;
        let answers = tx.consultation_answers(record.id).await?;
        let digest = answers_digest(&answers)?;
        audit::append(
            &tx,
            &mut instance,
            "consultation_closed",
            actor,
            &json!({
                "closed_at": closed_at.to_rfc3339(),
                "partner_answers": count(&answers, Audience::Partner),
                "citizen_answers": count(&answers, Audience::Citizen),
                "answers_sha256": digest,
            }),
        )
        .await?;
        let (links_sent, links_used) = link_counts(&tx, &record).await?;
        tx.commit().await?;
        Ok(ConsultationView {
            document,
            record: ConsultationRecord {
                closed_at: Some(closed_at),
                ..record
            },
            status: ConsultationStatus::Closed,
            links_sent,
            links_used,
        })
    }

    /// Sends each partner organisation of the diagnosis (every organisation sharing a
    /// network with its owner) a personal link, by mail to its coordinators: one link
    /// per organisation, which answers once for it. The link's 256-bit token is kept as
    /// its SHA-256 only; the mail carries it until it is sent, and expires when the
    /// consultation closes. Organisations that had a link are not sent another. A
    /// coordinator may, once the consultation is opened and until it closes.
    pub async fn send_partner_links(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<PartnerLinksSent, EngineError> {
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_diagnosis(&document)?;
        require_on_document(
            &tx,
            actor,
            &document,
            &COORDINATORS,
            "send the partners' links",
        )
        .await?;
        let record = consultation_of(&tx, &document).await?;
        let left = left_consultation(&tx, &record, &instance).await?;
        let status = status_at(&record, &instance, left, Utc::now());
        let closes_at = match (status, record.closes_at) {
            (ConsultationStatus::Scheduled | ConsultationStatus::Open, Some(closes_at)) => {
                closes_at
            }
            (_, _) => {
                return Err(EngineError::Conflict(format!(
                    "the consultation of '{}' is {}: links are sent once it is opened and until it closes",
                    document.slug,
                    status.as_str()
                )));
            }
        };
        let with_link: Vec<_> = tx
            .consultation_links(record.id)
            .await?
            .into_iter()
            .map(|link| link.organisation_id)
            .collect();
        let mut outcome = PartnerLinksSent {
            sent: Vec::new(),
            already_sent: Vec::new(),
            unreachable: Vec::new(),
        };
        for organisation in tx
            .partner_organisations(document.owner_organisation_id)
            .await?
        {
            if with_link.contains(&organisation.id) {
                outcome.already_sent.push(organisation);
                continue;
            }
            let coordinators = tx
                .people_in(&[PeopleSet::WithMembership {
                    role: Role::Coordinator.as_str(),
                    organisation_id: organisation.id,
                }])
                .await?;
            if coordinators.is_empty() {
                outcome.unreachable.push(organisation);
                continue;
            }
            let token = new_secret();
            tx.insert_consultation_link(record.id, organisation.id, &token_hash(&token))
                .await?;
            for person in coordinators {
                let payload = json!({
                    "name": person.name,
                    "organisation": organisation.name,
                    "organisation_slug": organisation.slug,
                    "document_title": document.title,
                    "public_slug": record.public_slug,
                    "closes_at": closes_at.to_rfc3339(),
                })
                .to_string();
                tx.insert_expiring_outbox_message(
                    NewOutboxMessage {
                        message_id: &new_message_id(),
                        instance_id: Some(instance.id),
                        event_seq: None,
                        person_id: person.id,
                        recipient: &person.email,
                        language: &person.language,
                        template: CONSULTATION_INVITATION_TEMPLATE,
                        payload: &payload,
                    },
                    &token,
                    closes_at,
                )
                .await?;
            }
            outcome.sent.push(organisation);
        }
        if !outcome.sent.is_empty() {
            audit::append(
                &tx,
                &mut instance,
                "consultation_links_sent",
                actor,
                &json!({
                    "organisations": outcome.sent.iter().map(|o| o.slug.as_str()).collect::<Vec<_>>(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The consultation of a diagnosis as its coordinators see it.
    pub async fn consultation(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<ConsultationView, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        require_diagnosis(&document)?;
        require_on_document(&tx, actor, &document, &COORDINATORS, "see the consultation").await?;
        let record = consultation_of(&tx, &document).await?;
        let instance = instance_of(&tx, &document).await?;
        let left = left_consultation(&tx, &record, &instance).await?;
        let (links_sent, links_used) = link_counts(&tx, &record).await?;
        tx.commit().await?;
        let status = status_at(&record, &instance, left, Utc::now());
        Ok(ConsultationView {
            document,
            record,
            status,
            links_sent,
            links_used,
        })
    }

    /// A consultation by its public slug, as the form shows it: anyone may see it once
    /// it was opened (a consultation still being written is `NOT_FOUND`). With a
    /// partner's token, the link must be one of this consultation's (`UNAUTHENTICATED`
    /// otherwise) and the answer says whether it was used.
    pub async fn public_consultation(
        &self,
        public_slug: &str,
        token: Option<&str>,
    ) -> Result<PublicConsultation, EngineError> {
        let tx = self.store().read().await?;
        let (consultation, _) = self.public_view(&tx, public_slug, token).await?;
        tx.commit().await?;
        Ok(consultation)
    }

    /// Answers a consultation with a partner organisation's personal link: the token is
    /// the credential. Refused with `UNAUTHENTICATED` for a token that is no link,
    /// `CONFLICT` when the consultation is not open or the link was used (of two
    /// concurrent answers with one link, exactly one is saved), `VALIDATION` (every
    /// problem, by question) for answers that do not fit the questionnaire.
    pub async fn answer_as_partner(
        &self,
        token: &str,
        raw: &RawAnswers,
    ) -> Result<(), EngineError> {
        let hash = token_hash(token);
        let link = {
            let tx = self.store().read().await?;
            let link = tx
                .consultation_link_by_hash(&hash)
                .await?
                .ok_or_else(invalid_link)?;
            tx.commit().await?;
            link
        };
        if link.used {
            return Err(link_used());
        }
        // The checks above read without a lock; the conditional update below decides.
        self.pause(PAUSE_BEFORE_PARTNER_ANSWER).await;
        let tx = self.store().begin().await?;
        let record = tx
            .consultations()
            .await?
            .into_iter()
            .find(|c| c.id == link.consultation_id)
            .ok_or_else(invalid_link)?;
        let answers = self.accept_answers(&tx, &record, raw).await?;
        if !tx.use_consultation_link(record.id, &hash).await? {
            return Err(link_used());
        }
        tx.insert_consultation_answers(record.id, Audience::Partner, &answers)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Answers a consultation anonymously through its public link. `client` is the
    /// answering client's address (behind trusted proxies): it is counted in memory
    /// against [`PUBLIC_ANSWERS_PER_CLIENT`] (`RATE_LIMITED` beyond it) and never stored.
    /// Refused with `NOT_FOUND` for an unknown slug, `CONFLICT` when the consultation is
    /// not open, `VALIDATION` (every problem, by question) for answers that do not fit.
    pub async fn answer_as_citizen(
        &self,
        public_slug: &str,
        raw: &RawAnswers,
        client: IpAddr,
    ) -> Result<(), EngineError> {
        let key = client.to_canonical().to_string();
        let limiter = self.answer_limiter();
        if !limiter.has_room(&key, Instant::now()) {
            return Err(EngineError::RateLimited(
                "too many answers from this network: wait an hour and try again".to_owned(),
            ));
        }
        let tx = self.store().begin().await?;
        let record = tx
            .consultation_by_slug(public_slug)
            .await?
            .ok_or_else(|| EngineError::not_found("consultation", public_slug))?;
        if record.opened_seq.is_none() {
            return Err(EngineError::not_found("consultation", public_slug));
        }
        let answers = self.accept_answers(&tx, &record, raw).await?;
        tx.insert_consultation_answers(record.id, Audience::Citizen, &answers)
            .await?;
        tx.commit().await?;
        // Only saved answers count: a citizen correcting a form is not held back.
        limiter.record(&key, Instant::now());
        Ok(())
    }

    /// The results of a consultation, by its public slug, tallied for partners and
    /// citizens apart. Its coordinators see them at any time, free texts included;
    /// anyone else once the consultation has closed, without the free texts (their
    /// number only). `FORBIDDEN` for others before the close.
    pub async fn consultation_results(
        &self,
        actor: Actor,
        public_slug: &str,
    ) -> Result<ConsultationResults, EngineError> {
        let tx = self.store().read().await?;
        let (consultation, record) = self.public_view(&tx, public_slug, None).await?;
        let document = tx
            .document(record.document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", record.document_id))?;
        let coordinator = !roles_on(&tx, actor, &document, &COORDINATORS)
            .await?
            .is_empty();
        if !coordinator && consultation.status != ConsultationStatus::Closed {
            return Err(EngineError::Forbidden(
                "the results of a consultation are public once it closes; until then only the coordinators of the diagnosis see them".to_owned(),
            ));
        }
        let answers = tx.consultation_answers(record.id).await?;
        tx.commit().await?;
        let of = |audience: Audience| {
            record.questionnaire.tally(
                answers
                    .iter()
                    .filter(|a| a.audience == audience)
                    .map(|a| &a.answers),
            )
        };
        let (mut partners, mut citizens) = (of(Audience::Partner), of(Audience::Citizen));
        if !coordinator {
            for tally in [&mut partners, &mut citizens] {
                for question in &mut tally.questions {
                    if let patto_core::consultation::ResultDetail::Texts(texts) =
                        &mut question.detail
                    {
                        texts.clear();
                    }
                }
            }
        }
        Ok(ConsultationResults {
            consultation,
            partners,
            citizens,
            texts_included: coordinator,
        })
    }

    /// The slugs of the consultations whose results are public (closed), oldest first,
    /// with their diagnosis's title: what the portal lists.
    pub async fn closed_consultations(&self) -> Result<Vec<PublicConsultation>, EngineError> {
        let tx = self.store().read().await?;
        let mut closed = Vec::new();
        for record in tx.consultations().await? {
            if record.opened_seq.is_none() {
                continue;
            }
            let (consultation, _) = self.public_view(&tx, &record.public_slug, None).await?;
            if consultation.status == ConsultationStatus::Closed {
                closed.push(consultation);
            }
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Reads a consultation by slug as anyone may see it, with its stored record.
    async fn public_view(
        &self,
        tx: &Tx,
        public_slug: &str,
        token: Option<&str>,
    ) -> Result<(PublicConsultation, ConsultationRecord), EngineError> {
        let record = tx
            .consultation_by_slug(public_slug)
            .await?
            .filter(|r| r.opened_seq.is_some())
            .ok_or_else(|| EngineError::not_found("consultation", public_slug))?;
        let document = tx
            .document(record.document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", record.document_id))?;
        let (link_used, partner_name) = match token {
            None => (None, None),
            Some(token) => {
                let link = tx
                    .consultation_link_by_hash(&token_hash(token))
                    .await?
                    .filter(|link| link.consultation_id == record.id)
                    .ok_or_else(invalid_link)?;
                let organisation = tx.organisation(link.organisation_id).await?;
                (Some(link.used), organisation.map(|o| o.name))
            }
        };
        let instance = instance_of(tx, &document).await?;
        let left = left_consultation(tx, &record, &instance).await?;
        let status = status_at(&record, &instance, left, Utc::now());
        Ok((
            PublicConsultation {
                document_id: document.id,
                title: document.title,
                public_slug: record.public_slug.clone(),
                questionnaire: record.questionnaire.clone(),
                opens_at: record.opens_at,
                closes_at: record.closes_at,
                status,
                link_used,
                partner_name,
            },
            record,
        ))
    }

    /// Checks, inside the answer's write transaction, that the consultation takes
    /// answers now and that the answers fit its questionnaire.
    async fn accept_answers(
        &self,
        tx: &Tx,
        record: &ConsultationRecord,
        raw: &RawAnswers,
    ) -> Result<patto_core::consultation::Answers, EngineError> {
        let document = tx
            .document(record.document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", record.document_id))?;
        let instance = instance_of(tx, &document).await?;
        let left = left_consultation(tx, record, &instance).await?;
        match status_at(record, &instance, left, Utc::now()) {
            ConsultationStatus::Open => {}
            ConsultationStatus::Draft | ConsultationStatus::Scheduled => {
                return Err(EngineError::Conflict(
                    "this consultation is not open yet: come back when its period begins"
                        .to_owned(),
                ));
            }
            ConsultationStatus::Closed => {
                return Err(EngineError::Conflict(
                    "this consultation is closed and takes no more answers".to_owned(),
                ));
            }
        }
        record
            .questionnaire
            .check_answers(raw)
            .map_err(EngineError::Answers)
    }
}

/// Where a consultation stands at `now`, given its document's instance and whether the
/// document left the `consultation` state since it was opened.
fn status_at(
    record: &ConsultationRecord,
    instance: &WorkflowInstance,
    left: bool,
    now: DateTime<Utc>,
) -> ConsultationStatus {
    let (Some(_), Some(opens_at), Some(closes_at)) =
        (record.opened_seq, record.opens_at, record.closes_at)
    else {
        return ConsultationStatus::Draft;
    };
    if record.closed_at.is_some()
        || now >= closes_at
        || left
        || instance.state != CONSULTATION_STATE
    {
        ConsultationStatus::Closed
    } else if now < opens_at {
        ConsultationStatus::Scheduled
    } else {
        ConsultationStatus::Open
    }
}

/// Whether the document took any transition after the one that opened the
/// consultation: leaving `consultation`, even to come back, closes it.
async fn left_consultation(
    tx: &Tx,
    record: &ConsultationRecord,
    instance: &WorkflowInstance,
) -> Result<bool, EngineError> {
    let Some(opened_seq) = record.opened_seq else {
        return Ok(false);
    };
    if instance.state != CONSULTATION_STATE {
        return Ok(true);
    }
    Ok(tx
        .events(instance.id)
        .await?
        .iter()
        .any(|event| event.seq > opened_seq && event.kind == TRANSITION_EVENT))
}

fn require_diagnosis(document: &Document) -> Result<(), EngineError> {
    if document.kind == DocumentKind::Diagnosis.as_str() {
        Ok(())
    } else {
        Err(EngineError::Validation(format!(
            "'{}' is a {}: consultations belong to a diagnosis",
            document.slug, document.kind
        )))
    }
}

async fn consultation_of(tx: &Tx, document: &Document) -> Result<ConsultationRecord, EngineError> {
    tx.consultation_of(document.id)
        .await?
        .ok_or_else(|| EngineError::not_found("consultation of document", &document.slug))
}

async fn instance_of(tx: &Tx, document: &Document) -> Result<WorkflowInstance, EngineError> {
    tx.instance_of_document(document.id)
        .await?
        .ok_or_else(|| EngineError::not_found("workflow instance of document", document.id))
}

async fn link_counts(tx: &Tx, record: &ConsultationRecord) -> Result<(u32, u32), EngineError> {
    let links = tx.consultation_links(record.id).await?;
    let used = links.iter().filter(|l| l.used).count();
    Ok((saturate(links.len()), saturate(used)))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn count(answers: &[StoredAnswers], audience: Audience) -> usize {
    answers.iter().filter(|a| a.audience == audience).count()
}

/// The SHA-256 of every answer of a consultation: the canonical JSON of each, one per
/// line, partners first, in the order stored.
fn answers_digest(answers: &[StoredAnswers]) -> Result<String, EngineError> {
    let mut lines = String::new();
    for audience in [Audience::Partner, Audience::Citizen] {
        for stored in answers.iter().filter(|a| a.audience == audience) {
            lines.push_str(audience.as_str());
            lines.push(' ');
            lines.push_str(
                &stored
                    .answers
                    .to_json()
                    .map_err(|e| EngineError::Internal(e.to_string()))?,
            );
            lines.push('\n');
        }
    }
    Ok(patto_sign::content_hash(lines.as_bytes()))
}

fn questionnaire_hash(questionnaire: &Questionnaire) -> Result<String, EngineError> {
    let json = serde_json::to_value(questionnaire)
        .map_err(|error| EngineError::Internal(format!("questionnaire: {error}")))?;
    let canonical = patto_sign::canonical_json(&json)
        .map_err(|error| EngineError::Internal(format!("questionnaire: {error}")))?;
    Ok(patto_sign::content_hash(canonical.as_bytes()))
}

/// A new 256-bit random secret, base64url without padding (43 characters): a partner's
/// token, or a public slug nobody can guess.
fn new_secret() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

fn token_hash(token: &str) -> String {
    patto_sign::content_hash(token.trim().as_bytes())
}

fn invalid_link() -> EngineError {
    EngineError::Unauthenticated(
        "this consultation link is not valid: use the link from the invitation e-mail exactly as it was sent".to_owned(),
    )
}

fn link_used() -> EngineError {
    EngineError::Conflict(
        "this link has been used already: each partner organisation answers once".to_owned(),
    )
}
