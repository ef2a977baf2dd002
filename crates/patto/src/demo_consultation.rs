//! The demo's consultation of a Diagnosi: a questionnaire written by the diagnosis's
//! coordinator, opened with the workflow's `open_consultation` transition, answered by a
//! few partner organisations through their personal links and by a few citizens through
//! the public link, then closed, so that the portal shows a results page. Every step goes
//! through the engine services the API and the portal call. The answers are demo data,
//! written here, not given by anyone.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context;
use chrono::Utc;
use patto_core::consultation::{Questionnaire, RawAnswers};
use patto_core::ids::DocumentId;
use patto_engine::{Actor, CONSULTATION_INVITATION_TEMPLATE, Engine};

/// The demo questionnaire, as a coordinator would write it.
const QUESTIONNAIRE: &str = r#"{
  "introduction": "Consultazione dimostrativa (dati demo): le domande e le risposte sono inventate per mostrare il funzionamento del portale.",
  "questions": [
    {"id": "problema-principale", "text": "Quale problema di sicurezza e legalità senti di più nel tuo Comune?", "required": true,
     "kind": "single_choice", "options": [
        {"id": "furti", "label": "Furti in casa e nei negozi"},
        {"id": "spaccio", "label": "Spaccio di sostanze stupefacenti"},
        {"id": "vandalismo", "label": "Atti vandalici e degrado degli spazi pubblici"},
        {"id": "usura", "label": "Usura ed estorsioni"},
        {"id": "incendi", "label": "Incendi boschivi dolosi"}]},
    {"id": "luoghi", "text": "In quali luoghi ti senti meno sicuro?", "kind": "multiple_choice", "max_selections": 2,
     "options": [
        {"id": "centro", "label": "Centro storico"},
        {"id": "periferia", "label": "Periferie e contrade"},
        {"id": "stazione", "label": "Stazioni e fermate degli autobus"},
        {"id": "campagna", "label": "Strade di campagna"}]},
    {"id": "sicurezza-percepita", "text": "Quanto ti senti sicuro nel tuo Comune?", "required": true, "kind": "scale",
     "min": 1, "max": 5, "min_label": "Per niente", "max_label": "Del tutto"},
    {"id": "proposte", "text": "Che cosa chiedi al Patto?", "kind": "free_text", "max_length": 1000}
  ]
}"#;

/// The demo answers: the partner organisations' (by slug) and the citizens'.
const PARTNER_ANSWERS: [(&str, &str, &[&str], &str); 3] = [
    ("prefettura-palermo", "usura", &["stazione"], "3"),
    ("cefalu", "furti", &["centro", "stazione"], "4"),
    ("termini-imerese", "spaccio", &["periferia"], "2"),
];
const CITIZEN_ANSWERS: [(&str, &[&str], &str, &str); 6] = [
    (
        "furti",
        &["periferia"],
        "3",
        "Più illuminazione nelle contrade.",
    ),
    ("spaccio", &["stazione", "centro"], "2", ""),
    ("furti", &["campagna"], "4", ""),
    ("vandalismo", &["centro"], "3", "Telecamere nelle piazze."),
    ("incendi", &["campagna"], "4", ""),
    ("furti", &[], "5", ""),
];

/// What the demo consultation did, for the progress report.
pub(crate) struct DemoConsultation {
    /// How many answers were given, partners and citizens together.
    pub answers: usize,
}

fn raw(pairs: &[(&str, &[&str])]) -> RawAnswers {
    pairs
        .iter()
        .map(|(question, values)| {
            (
                (*question).to_owned(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            )
        })
        .collect()
}

/// Adds the questionnaire to the diagnosis `diagnosis` (in `drafting`, owned by the
/// organisation `coordinator` coordinates), runs its consultation with the demo answers
/// through the real paths, and closes it.
pub(crate) async fn run(
    engine: &Engine,
    coordinator: Actor,
    diagnosis: DocumentId,
) -> anyhow::Result<DemoConsultation> {
    let questionnaire: Questionnaire =
        serde_json::from_str(QUESTIONNAIRE).context("the demo questionnaire does not parse")?;
    engine
        .save_questionnaire(coordinator, diagnosis, questionnaire)
        .await?;
    let now = Utc::now();
    let view = engine
        .open_consultation(
            coordinator,
            diagnosis,
            now - chrono::Duration::minutes(1),
            now + chrono::Duration::days(30),
        )
        .await?;
    engine.send_partner_links(coordinator, diagnosis).await?;
    // The demo stands in for the partners' mailboxes: it takes the invitations the mail
    // worker would send (to fictitious example.org addresses) and answers with the links
    // they carry. Closing the consultation drops them, so none is ever mailed.
    let invitations = engine
        .claim_mail(
            &[CONSULTATION_INVITATION_TEMPLATE],
            1000,
            chrono::Duration::seconds(60),
        )
        .await?;
    let mut answers = 0;
    for (slug, problem, places, feeling) in PARTNER_ANSWERS {
        let invitation = invitations.iter().find(|mail| {
            serde_json::from_str::<serde_json::Value>(&mail.payload)
                .ok()
                .and_then(|payload| payload.get("organisation_slug").cloned())
                .is_some_and(|known| known.as_str() == Some(slug))
        });
        let Some(token) = invitation.and_then(|mail| mail.secret.as_deref()) else {
            continue;
        };
        engine
            .answer_as_partner(
                token,
                &raw(&[
                    ("problema-principale", &[problem]),
                    ("luoghi", places),
                    ("sicurezza-percepita", &[feeling]),
                ]),
            )
            .await?;
        answers += 1;
    }
    for (n, (problem, places, feeling, text)) in CITIZEN_ANSWERS.iter().enumerate() {
        // Documentation addresses (RFC 5737), one per demo citizen; they are counted by
        // the rate limit in memory only.
        let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, u8::try_from(n + 1)?));
        engine
            .answer_as_citizen(
                &view.record.public_slug,
                &raw(&[
                    ("problema-principale", &[problem]),
                    ("luoghi", places),
                    ("sicurezza-percepita", &[feeling]),
                    ("proposte", &[text]),
                ]),
                client,
            )
            .await?;
        answers += 1;
    }
    engine.close_consultation(coordinator, diagnosis).await?;
    Ok(DemoConsultation { answers })
}
