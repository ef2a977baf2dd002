//! The Diagnosi part of `patto demo`: the coalition's Diagnosi di sicurezza e legalità,
//! drafted by the coalition's coordinator, put to consultation (a partner comments, the
//! comment is resolved), and approved by the signatures of two of its three partner
//! signatories (its quorum), through the
//! same engine services people use; then the demo pact, still in drafting, cites some of
//! its items.
//!
//! Every problem, count, policy outcome and need here is invented for the demonstration
//! and labelled as demo data (the summary and every source say so); the names of the
//! organisations and of the real programmes a policy refers to are the only real facts.

use std::collections::HashMap;

use anyhow::Context;
use patto_core::diagnosis::{DiagnosisDraft, NoteDraft, PolicyDraft, ProblemDraft};
use patto_core::ids::{DocumentId, OrganisationId, PersonId};
use patto_core::records::SignatoryEntry;
use patto_core::{Language, Role};
use patto_engine::{Actor, Engine, NewDiagnosis};

use crate::demo::fire;

/// The edition year of the demo diagnosis.
pub const DEMO_DIAGNOSIS_YEAR: i32 = 2025;

/// Where the demo's counts come from: nowhere real.
const DEMO_SOURCE: &str = "Dati dimostrativi generati da patto demo (non reali)";

/// The partners whose referents approve the diagnosis, by organisation slug: none of
/// them signs the pact, whose keys are made later.
pub const DIAGNOSIS_SIGNATORIES: [&str; 3] = [
    "questura-palermo",
    "carabinieri-palermo",
    "associazione-legalita-madonie",
];

/// The items of the diagnosis the demo pact responds to.
pub const CITED_ITEMS: [&str; 4] = ["problema-1", "problema-4", "problema-6", "bisogno-4"];

/// Who takes part, as the demo directory has them.
pub struct Cast {
    /// The coalition, whose territory the diagnosis is about.
    pub coalition: OrganisationId,
    /// The coalition's coordinator, who drafts it.
    pub coordinator: PersonId,
    /// A partner's referent who comments during the consultation.
    pub commenter: PersonId,
    /// The signatories: organisation slug, organisation, referent.
    pub signatories: Vec<(String, OrganisationId, PersonId)>,
}

/// The demo diagnosis, as loaded.
pub struct DemoDiagnosis {
    /// Its document: the consultation part of the demo attaches to it.
    pub document_id: DocumentId,
    /// How many problems it lists.
    pub problems: usize,
}

/// Creates the diagnosis and saves its content; it stays in drafting, where its
/// questionnaire is written before the consultation opens.
pub async fn draft(engine: &Engine, cast: &Cast) -> anyhow::Result<DemoDiagnosis> {
    let coordinating = Actor::Person(cast.coordinator);
    let document = engine
        .create_diagnosis(
            coordinating,
            NewDiagnosis {
                organisation_id: cast.coalition,
                year: DEMO_DIAGNOSIS_YEAR,
                working_group_id: None,
            },
        )
        .await?;
    let version = engine
        .save_diagnosis(coordinating, document.id, content())
        .await?;
    Ok(DemoDiagnosis {
        document_id: document.id,
        problems: version.diagnosis.problems.len(),
    })
}

/// A partner comments on the diagnosis while it is in consultation.
pub async fn comment(engine: &Engine, cast: &Cast, diagnosis: DocumentId) -> anyhow::Result<()> {
    engine
        .add_comment(
            Actor::Person(cast.commenter),
            diagnosis,
            None,
            "Gli sportelli di ascolto per le vittime di usura devono essere riservati e vicini ai piccoli Comuni (commento dimostrativo).",
        )
        .await?;
    Ok(())
}

/// Resolves the consultation's comments, submits the diagnosis for approval and has its
/// signatories sign it with demo keys until two thirds have, registered by each referent and approved by
/// a demo coordinator of their organisation; the quorum puts it in `approved`, which
/// publishes it.
pub async fn approve(engine: &Engine, cast: &Cast, diagnosis: DocumentId) -> anyhow::Result<()> {
    let coordinating = Actor::Person(cast.coordinator);
    for comment in engine.comments(diagnosis, None).await? {
        if comment.resolved_at.is_none() {
            engine.resolve_comment(coordinating, comment.id).await?;
        }
    }
    let entries: Vec<SignatoryEntry> = cast
        .signatories
        .iter()
        .map(|(_, organisation, person)| SignatoryEntry {
            organisation: *organisation,
            person: *person,
        })
        .collect();
    engine
        .set_signatories(coordinating, diagnosis, &entries)
        .await?;
    let mut keys = HashMap::new();
    for (slug, organisation, person) in &cast.signatories {
        let key = patto_sign::generate_key();
        let email = format!("referente.{slug}@example.org");
        let registration = crate::signing::registration_request(&key, &email, slug);
        let registered = engine
            .register_key(Actor::Person(*person), registration.as_bytes())
            .await?;
        // A coordinator of the organisation approves the key, as for the pact's keys.
        let approver = engine
            .create_person(
                Actor::System,
                &format!("approvazione-chiavi.{slug}@example.org"),
                &format!("Approvazione chiavi {slug} (demo)"),
                Language::It,
            )
            .await?;
        engine
            .add_membership(Actor::System, approver.id, *organisation, Role::Coordinator)
            .await?;
        engine
            .approve_key(Actor::Person(approver.id), registered.id, None)
            .await?;
        keys.insert(*person, key);
    }
    fire(engine, coordinating, diagnosis, "submit_for_approval").await?;
    for view in engine.signature_requests(diagnosis).await? {
        // Two thirds suffice: the signature that reaches the quorum approves the
        // diagnosis and closes the round, and the rest are no longer asked.
        if engine.instance_of(diagnosis).await?.state == "approved" {
            break;
        }
        let statement = engine.statement_for(view.request.id).await?;
        let key = keys
            .get(&view.request.person_id)
            .with_context(|| format!("no demo key for request {}", view.request.id))?;
        let signature = patto_sign::sign(key, statement.as_bytes());
        engine
            .submit_signature(
                Actor::Person(view.request.person_id),
                view.request.id,
                Some(statement.as_bytes()),
                &signature,
            )
            .await?;
    }
    let state = engine.instance_of(diagnosis).await?.state;
    anyhow::ensure!(
        state == "approved",
        "the demo diagnosis should be approved after its signatures, but it is in {state}"
    );
    Ok(())
}

/// Has the pact (in drafting) cite the diagnosis items it responds to.
pub async fn cite(
    engine: &Engine,
    coordinator: PersonId,
    pact: DocumentId,
    diagnosis: DocumentId,
) -> anyhow::Result<()> {
    let items: Vec<String> = CITED_ITEMS.iter().map(|id| (*id).to_owned()).collect();
    engine
        .cite_diagnosis_items(Actor::Person(coordinator), pact, diagnosis, &items)
        .await?;
    Ok(())
}

fn problem(
    title: &str,
    description: &str,
    frequency: &str,
    count: Option<u64>,
    seriousness: i32,
) -> ProblemDraft {
    ProblemDraft {
        id: None,
        title: title.to_owned(),
        description: description.to_owned(),
        frequency: frequency.to_owned(),
        count,
        period: if count.is_some() {
            "2024".to_owned()
        } else {
            String::new()
        },
        source: DEMO_SOURCE.to_owned(),
        seriousness,
    }
}

fn policy(title: &str, who: &str, period: &str, outcome: &str) -> PolicyDraft {
    PolicyDraft {
        id: None,
        title: title.to_owned(),
        who: who.to_owned(),
        period: period.to_owned(),
        outcome: outcome.to_owned(),
    }
}

fn note(title: &str, description: &str) -> NoteDraft {
    NoteDraft {
        id: None,
        title: title.to_owned(),
        description: description.to_owned(),
    }
}

/// The demo diagnosis's content. Items are listed without ids: the first version gives
/// them `problema-1`, `bisogno-1`... in this order, which [`CITED_ITEMS`] relies on.
fn content() -> DiagnosisDraft {
    DiagnosisDraft {
        summary: "DATI DIMOSTRATIVI generati da `patto demo`: problemi, conteggi ed esiti sono inventati per mostrare il portale e non descrivono il territorio reale.\n\nLa diagnosi riguarda i 28 Comuni della Città a Rete Madonie-Termini ed è stata redatta dal coordinamento della coalizione con i partner della rete integrata, poi sottoposta a consultazione.".to_owned(),
        problems: vec![
            problem(
                "Intimidazioni e danneggiamenti ai danni di imprese e amministratori",
                "Incendi di mezzi, lettere anonime e danneggiamenti segnalati soprattutto nei Comuni dell'entroterra.",
                "occasional",
                Some(14),
                5,
            ),
            problem(
                "Furti in abitazione e nelle aziende agricole",
                "Furti di mezzi, attrezzi e bestiame nelle aree rurali e nelle frazioni.",
                "frequent",
                Some(210),
                4,
            ),
            problem(
                "Abbandono e combustione illecita di rifiuti",
                "Discariche abusive lungo la viabilità secondaria e roghi nei mesi estivi.",
                "very_frequent",
                None,
                3,
            ),
            problem(
                "Rischio di infiltrazioni negli appalti pubblici",
                "Subappalti e forniture per i lavori finanziati dal PNRR esposti a imprese non trasparenti.",
                "occasional",
                None,
                5,
            ),
            problem(
                "Spaccio di stupefacenti tra i giovani",
                "Segnalato nei centri più grandi della costa e nei luoghi della movida estiva.",
                "frequent",
                Some(37),
                4,
            ),
            problem(
                "Usura ed estorsione",
                "Poche denunce a fronte di segnali diffusi di difficoltà delle piccole imprese.",
                "rare",
                Some(3),
                5,
            ),
        ],
        local_policies: vec![
            policy(
                "Videosorveglianza intercomunale",
                "Comuni della Città a Rete (dimostrativo)",
                "2019-2023",
                "Telecamere agli accessi dei centri abitati; manutenzione non sempre garantita (esito dimostrativo).",
            ),
            policy(
                "Sportello antiracket e antiusura",
                "Associazione Legalità Madonie (demo)",
                "2021-2024",
                "Aperto due giorni al mese a rotazione nei Comuni (esito dimostrativo).",
            ),
            policy(
                "Educazione alla legalità nelle scuole",
                "Comuni e istituti comprensivi (dimostrativo)",
                "2022-2024",
                "Incontri con le forze dell'ordine nelle scuole medie (esito dimostrativo).",
            ),
        ],
        supra_local_policies: vec![
            policy(
                "Protocollo di legalità per gli appalti pubblici",
                "Prefettura di Palermo",
                "2018-2024",
                "Controlli antimafia estesi ai subappalti dei Comuni aderenti (esito dimostrativo).",
            ),
            policy(
                "Riutilizzo sociale dei beni confiscati",
                "Agenzia nazionale per i beni sequestrati e confiscati (ANBSC)",
                "2017-2024",
                "Alcuni beni assegnati ai Comuni, altri ancora in attesa di destinazione (esito dimostrativo).",
            ),
            policy(
                "PON Legalità 2014-2020",
                "Ministero dell'Interno",
                "2014-2020",
                "Finanziati progetti di inclusione e videosorveglianza nel territorio (esito dimostrativo).",
            ),
        ],
        strengths: vec![
            note(
                "Rete tra i Comuni",
                "La Città a Rete coordina da anni i 28 Comuni su programmi comuni.",
            ),
            note(
                "Associazionismo diffuso",
                "Associazioni, parrocchie e pro loco attive anche nei centri più piccoli.",
            ),
            note(
                "Presenza delle forze dell'ordine",
                "Stazioni dei Carabinieri e commissariati distribuiti sul territorio.",
            ),
        ],
        weaknesses: vec![
            note(
                "Spopolamento delle aree interne",
                "I centri delle alte Madonie perdono residenti, soprattutto giovani.",
            ),
            note(
                "Distanze e viabilità",
                "Strade lunghe e tortuose rendono lenti i soccorsi e i controlli.",
            ),
            note(
                "Scarsa propensione a denunciare",
                "Timore e sfiducia frenano le denunce di usura ed estorsione.",
            ),
        ],
        needs: vec![
            note(
                "Più presidi e illuminazione nelle frazioni",
                "Chiesti nelle assemblee pubbliche dei Comuni dell'entroterra.",
            ),
            note(
                "Spazi e attività per i giovani",
                "Luoghi di aggregazione aperti anche d'inverno.",
            ),
            note(
                "Ascolto e tutela per le vittime di usura ed estorsione",
                "Sportelli vicini e riservati, con accompagnamento alla denuncia.",
            ),
            note(
                "Trasparenza negli appalti",
                "Sapere chi lavora nei cantieri pubblici e con quali controlli.",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patto_core::diagnosis::{Diagnosis, KnownIds, Territory};

    #[test]
    fn the_demo_content_is_valid_and_holds_the_cited_items() {
        let diagnosis = Diagnosis::from_draft(
            Territory {
                slug: "citta-a-rete-madonie-termini".to_owned(),
                name: "Città a Rete Madonie-Termini".to_owned(),
                category: "coalition".to_owned(),
                istat_code: None,
            },
            DEMO_DIAGNOSIS_YEAR,
            "Diagnosi".to_owned(),
            content(),
            &KnownIds::new(),
        )
        .unwrap();
        for id in CITED_ITEMS {
            assert!(diagnosis.item(id).is_some(), "{id}");
        }
        assert!(diagnosis.summary.starts_with("DATI DIMOSTRATIVI"));
    }
}
