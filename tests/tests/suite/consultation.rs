//! The consultation of a Diagnosi on both backends: its coordinator writes the
//! questionnaire and opens it with the workflow, partner organisations answer once each
//! through their mailed links, citizens anonymously through the public link (rate-limited
//! per client), results are tallied for partners and citizens apart and become public
//! once it closes. Every refusal is tried as an attack: another organisation's
//! coordinator, a forged token, a link used twice (also by two concurrent answers), the
//! public reading results early, answers to a draft or to a closed consultation. The
//! same through the GraphQL API and through the portal's forms over real HTTP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{Duration, Utc};
use patto_core::consultation::{Questionnaire, RawAnswers, ResultDetail};
use patto_core::ids::{DocumentId, OrganisationId, PersonId};
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, CONSULTATION_INVITATION_TEMPLATE, ConsultationStatus, Engine, EngineError, ErrorCode,
    FireRequest, NewDocument, NewOrganisation, PUBLIC_ANSWERS_PER_CLIENT,
};
use patto_tests::{TestSessions, http_request};
use serde_json::{Value, json};

use crate::api::{code, data, graphql};
use crate::engine::{Ctx, shipped};

const SYSTEM: Actor = Actor::System;

engine_cases!(super::shipped() =>
    consultation_from_questionnaire_to_public_results,
    leaving_the_consultation_state_closes_it_for_good,
    two_concurrent_answers_with_one_link_save_one,
    public_answers_are_rate_limited_per_client,
    consultation_through_the_api,
    consultation_through_the_portal_forms,
);

/// The questionnaire the tests use: every kind of question.
pub(crate) fn questionnaire() -> Questionnaire {
    serde_json::from_value(json!({
        "introduction": "Questionario di prova.",
        "questions": [
            {"id": "problema", "text": "Il problema più sentito?", "required": true,
             "kind": "single_choice", "options": [
                {"id": "furti", "label": "Furti"}, {"id": "spaccio", "label": "Spaccio"}]},
            {"id": "luoghi", "text": "Dove ti senti meno sicuro?", "kind": "multiple_choice",
             "max_selections": 2, "options": [
                {"id": "centro", "label": "Centro"}, {"id": "periferia", "label": "Periferia"},
                {"id": "stazione", "label": "Stazione"}]},
            {"id": "sicurezza", "text": "Quanto ti senti sicuro?", "required": true,
             "kind": "scale", "min": 1, "max": 5, "min_label": "Per niente", "max_label": "Del tutto"},
            {"id": "proposte", "text": "Che cosa chiedi?", "kind": "free_text", "max_length": 200}
        ]
    }))
    .unwrap()
}

fn raw(pairs: &[(&str, &[&str])]) -> RawAnswers {
    pairs
        .iter()
        .map(|(q, v)| (q.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn good(problem: &str, point: &str, text: &str) -> RawAnswers {
    raw(&[
        ("problema", &[problem]),
        ("luoghi", &["centro"]),
        ("sicurezza", &[point]),
        ("proposte", &[text]),
    ])
}

fn client(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, n))
}

/// The organisations and people of a consultation.
pub(crate) struct Setting {
    pub coordinator: Actor,
    pub other_coordinator: Actor,
    pub partner_member: Actor,
    pub diagnosis: DocumentId,
}

async fn organisation(
    engine: &Engine,
    slug: &str,
    category: OrganisationCategory,
) -> OrganisationId {
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: format!("Ente {slug}"),
                category,
                istat_code: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn person(engine: &Engine, name: &str, at: OrganisationId, role: Role) -> PersonId {
    let id = engine
        .create_person(SYSTEM, &format!("{name}@example.org"), name, Language::It)
        .await
        .unwrap()
        .id;
    engine.add_membership(SYSTEM, id, at, role).await.unwrap();
    id
}

/// The coalition owning a diagnosis in drafting, two partner organisations in its network
/// (each with a coordinator, one with a plain member too), and an organisation outside it
/// with its own coordinator.
pub(crate) async fn setting(engine: &Engine, tag: &str) -> Setting {
    let owner = organisation(
        engine,
        &format!("coalizione{tag}"),
        OrganisationCategory::Coalition,
    )
    .await;
    let partner = organisation(
        engine,
        &format!("partner{tag}"),
        OrganisationCategory::Association,
    )
    .await;
    let second = organisation(
        engine,
        &format!("secondo{tag}"),
        OrganisationCategory::Association,
    )
    .await;
    let outside = organisation(
        engine,
        &format!("esterno{tag}"),
        OrganisationCategory::Association,
    )
    .await;
    let network = engine
        .create_network(SYSTEM, &format!("rete{tag}"), "Rete")
        .await
        .unwrap();
    for member in [owner, partner, second] {
        engine
            .add_network_member(SYSTEM, network.id, member)
            .await
            .unwrap();
    }
    let coordinator = person(
        engine,
        &format!("coordinatrice{tag}"),
        owner,
        Role::Coordinator,
    )
    .await;
    person(
        engine,
        &format!("partner-coord{tag}"),
        partner,
        Role::Coordinator,
    )
    .await;
    person(
        engine,
        &format!("secondo-coord{tag}"),
        second,
        Role::Coordinator,
    )
    .await;
    let partner_member = person(
        engine,
        &format!("partner-membro{tag}"),
        partner,
        Role::Member,
    )
    .await;
    let other_coordinator = person(
        engine,
        &format!("altro-coord{tag}"),
        outside,
        Role::Coordinator,
    )
    .await;
    let coordinator = Actor::Person(coordinator);
    let slug = format!("diagnosi{tag}");
    let diagnosis = engine
        .create_document(
            coordinator,
            NewDocument {
                kind: DocumentKind::Diagnosis,
                slug: slug.clone(),
                title: "Diagnosi di prova".into(),
                parent_id: None,
                owner_organisation_id: owner,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    engine
        .add_version(coordinator, diagnosis.id, b"Testo della diagnosi".to_vec())
        .await
        .unwrap();
    Setting {
        coordinator,
        other_coordinator: Actor::Person(other_coordinator),
        partner_member: Actor::Person(partner_member),
        diagnosis: diagnosis.id,
    }
}

/// Writes the questionnaire and opens the consultation from a minute ago for a day;
/// returns its public slug.
pub(crate) async fn open(engine: &Engine, s: &Setting) -> String {
    engine
        .save_questionnaire(s.coordinator, s.diagnosis, questionnaire())
        .await
        .unwrap();
    let now = Utc::now();
    engine
        .open_consultation(
            s.coordinator,
            s.diagnosis,
            now - Duration::minutes(1),
            now + Duration::days(1),
        )
        .await
        .unwrap()
        .record
        .public_slug
}

/// Sends the partners' links and takes them from the outbox, as their mail would bring
/// them: (organisation slug, token), one per organisation.
pub(crate) async fn links(engine: &Engine, s: &Setting) -> Vec<(String, String)> {
    engine
        .send_partner_links(s.coordinator, s.diagnosis)
        .await
        .unwrap();
    let mails = engine
        .claim_mail(
            &[CONSULTATION_INVITATION_TEMPLATE],
            100,
            Duration::seconds(60),
        )
        .await
        .unwrap();
    let mut links: Vec<(String, String)> = mails
        .iter()
        .map(|mail| {
            let payload: Value = serde_json::from_str(&mail.payload).unwrap();
            (
                payload["organisation_slug"].as_str().unwrap().to_owned(),
                mail.secret.clone().unwrap(),
            )
        })
        .collect();
    links.sort();
    links.dedup();
    links
}

fn code_of<T: std::fmt::Debug>(result: Result<T, EngineError>) -> ErrorCode {
    result.unwrap_err().code()
}

async fn consultation_from_questionnaire_to_public_results(ctx: &Ctx) {
    let engine = &ctx.engine;
    let s = setting(engine, "").await;
    // Another organisation's coordinator cannot write it; a bad questionnaire is refused
    // whole, naming each problem.
    assert_eq!(
        code_of(
            engine
                .save_questionnaire(s.other_coordinator, s.diagnosis, questionnaire())
                .await
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code_of(
            engine
                .save_questionnaire(s.partner_member, s.diagnosis, questionnaire())
                .await
        ),
        ErrorCode::Forbidden
    );
    let mut bad = questionnaire();
    bad.questions[1].id = "problema".into();
    let refused = engine
        .save_questionnaire(s.coordinator, s.diagnosis, bad)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert!(refused.to_string().contains("used twice"), "{refused}");
    let saved = engine
        .save_questionnaire(s.coordinator, s.diagnosis, questionnaire())
        .await
        .unwrap();
    let slug = saved.record.public_slug.clone();
    assert_eq!(slug.len(), 43, "256 random bits, base64url");
    assert_eq!(saved.status, ConsultationStatus::Draft);
    // A draft's consultation is nobody's to see or answer.
    assert_eq!(
        code_of(engine.public_consultation(&slug, None).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), client(1))
                .await
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code_of(engine.send_partner_links(s.coordinator, s.diagnosis).await),
        ErrorCode::Conflict
    );
    // A period that already ended, or ends before it begins, is refused.
    let now = Utc::now();
    assert_eq!(
        code_of(
            engine
                .open_consultation(
                    s.coordinator,
                    s.diagnosis,
                    now - Duration::days(2),
                    now - Duration::days(1)
                )
                .await
        ),
        ErrorCode::Validation
    );
    assert_eq!(
        code_of(
            engine
                .open_consultation(
                    s.other_coordinator,
                    s.diagnosis,
                    now,
                    now + Duration::days(1)
                )
                .await
        ),
        ErrorCode::Forbidden
    );
    let opened = engine
        .open_consultation(
            s.coordinator,
            s.diagnosis,
            now - Duration::minutes(1),
            now + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(opened.status, ConsultationStatus::Open);
    // Opening fired the workflow's transition, with its notification to the partners.
    let instance = engine.instance_of(s.diagnosis).await.unwrap();
    assert_eq!(instance.state, "consultation");
    assert!(
        engine
            .outbox(Some(instance.id))
            .await
            .unwrap()
            .iter()
            .any(|m| m.template == "consultation_opened")
    );
    // Once opened, the questions are frozen and it opens once.
    assert_eq!(
        code_of(
            engine
                .save_questionnaire(s.coordinator, s.diagnosis, questionnaire())
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(
        code_of(
            engine
                .open_consultation(s.coordinator, s.diagnosis, now, now + Duration::days(1))
                .await
        ),
        ErrorCode::Conflict
    );
    // One link per partner organisation, none for the owner or an outsider, sent to
    // their coordinators; sending again sends nothing new.
    let links = links(engine, &s).await;
    assert_eq!(
        links.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(),
        vec!["partner", "secondo"]
    );
    let again = engine
        .send_partner_links(s.coordinator, s.diagnosis)
        .await
        .unwrap();
    assert!(again.sent.is_empty());
    assert_eq!(again.already_sent.len(), 2);
    let (partner_token, second_token) = (&links[0].1, &links[1].1);
    assert_eq!(partner_token.len(), 43);
    // A forged token, or one with a character changed, is no link.
    let mut forged = partner_token.clone();
    forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
    for token in [forged.as_str(), "not-a-token", ""] {
        assert_eq!(
            code_of(
                engine
                    .answer_as_partner(token, &good("furti", "3", ""))
                    .await
            ),
            ErrorCode::Unauthenticated
        );
    }
    // Bad answers are refused with every problem by question, and use nothing up.
    let refused = engine
        .answer_as_partner(
            partner_token,
            &raw(&[
                ("problema", &["rapine"]),
                ("luoghi", &["centro", "periferia", "stazione"]),
                ("sicurezza", &["9"]),
                ("ignota", &["x"]),
            ]),
        )
        .await
        .unwrap_err();
    let EngineError::Answers(problems) = &refused else {
        panic!("{refused:?}")
    };
    let questions: Vec<&str> = problems.iter().map(|p| p.question.as_str()).collect();
    assert_eq!(questions, vec!["ignota", "problema", "luoghi", "sicurezza"]);
    assert_eq!(refused.code(), ErrorCode::Validation);
    engine
        .answer_as_partner(partner_token, &good("usura-no", "3", ""))
        .await
        .unwrap_err();
    engine
        .answer_as_partner(partner_token, &good("spaccio", "2", "Testo del partner"))
        .await
        .unwrap();
    // The same link twice: CONFLICT, and the link says it was used.
    assert_eq!(
        code_of(
            engine
                .answer_as_partner(partner_token, &good("furti", "5", ""))
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(
        engine
            .public_consultation(&slug, Some(partner_token))
            .await
            .unwrap()
            .link_used,
        Some(true)
    );
    for (problem, point, text, n) in [
        ("furti", "4", "Più luce", 1),
        ("furti", "2", "", 2),
        ("spaccio", "5", "", 3),
    ] {
        engine
            .answer_as_citizen(&slug, &good(problem, point, text), client(n))
            .await
            .unwrap();
    }
    let control = engine
        .answer_as_citizen(&slug, &good("furti", "3", "riga\u{1b}[2J"), client(9))
        .await
        .unwrap_err();
    assert_eq!(control.code(), ErrorCode::Validation);
    // Before the close: the coordinators see everything, the public nothing.
    for outsider in [Actor::Public, s.other_coordinator, s.partner_member] {
        assert_eq!(
            code_of(engine.consultation_results(outsider, &slug).await),
            ErrorCode::Forbidden
        );
    }
    let results = engine
        .consultation_results(s.coordinator, &slug)
        .await
        .unwrap();
    assert!(results.texts_included);
    assert_eq!(results.partners.respondents, 1);
    assert_eq!(results.citizens.respondents, 3);
    let ResultDetail::Choices(counts) = &results.citizens.questions[0].detail else {
        panic!()
    };
    assert_eq!(
        counts.iter().map(|c| c.count).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let ResultDetail::Scale(scale) = &results.citizens.questions[2].detail else {
        panic!()
    };
    assert!((scale.mean.unwrap() - 11.0 / 3.0).abs() < 1e-9);
    assert_eq!(scale.median, Some(4.0));
    let ResultDetail::Texts(texts) = &results.citizens.questions[3].detail else {
        panic!()
    };
    assert_eq!(texts, &vec!["Più luce".to_owned()]);
    // Closing: by a coordinator only, once; it records the answers' digest.
    assert_eq!(
        code_of(
            engine
                .close_consultation(s.other_coordinator, s.diagnosis)
                .await
        ),
        ErrorCode::Forbidden
    );
    let closed = engine
        .close_consultation(s.coordinator, s.diagnosis)
        .await
        .unwrap();
    assert_eq!(closed.status, ConsultationStatus::Closed);
    assert_eq!((closed.links_sent, closed.links_used), (2, 1));
    assert_eq!(
        code_of(engine.close_consultation(s.coordinator, s.diagnosis).await),
        ErrorCode::Conflict
    );
    // After the close nobody answers: not a citizen, not the unused link.
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), client(4))
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(
        code_of(
            engine
                .answer_as_partner(second_token, &good("furti", "3", ""))
                .await
        ),
        ErrorCode::Conflict
    );
    // The public now reads the tallies, without the free texts (their number only).
    let public = engine
        .consultation_results(Actor::Public, &slug)
        .await
        .unwrap();
    assert!(!public.texts_included);
    assert_eq!(public.citizens.respondents, 3);
    assert_eq!(public.citizens.questions[3].answered, 1);
    let ResultDetail::Texts(texts) = &public.citizens.questions[3].detail else {
        panic!()
    };
    assert!(texts.is_empty());
    assert_eq!(
        engine.closed_consultations().await.unwrap()[0].public_slug,
        slug
    );
    // The audit trail holds the consultation's steps, never an answer, and verifies.
    let history = engine
        .readable_history(s.coordinator, s.diagnosis)
        .await
        .unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "consultation_questionnaire_saved",
        "consultation_opened",
        "consultation_links_sent",
        "consultation_closed",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let closing = history
        .iter()
        .find(|e| e.kind == "consultation_closed")
        .unwrap();
    let payload: Value = serde_json::from_str(&closing.payload).unwrap();
    assert_eq!(payload["partner_answers"], 1);
    assert_eq!(payload["citizen_answers"], 3);
    assert!(history.iter().all(|e| !e.payload.contains("Più luce")));
    assert!(
        engine
            .verify_chain(engine.instance_of(s.diagnosis).await.unwrap().id)
            .await
            .unwrap()
            .problem
            .is_none()
    );
}

async fn leaving_the_consultation_state_closes_it_for_good(ctx: &Ctx) {
    let engine = &ctx.engine;
    let s = setting(engine, "").await;
    let slug = open(engine, &s).await;
    engine
        .answer_as_citizen(&slug, &good("furti", "3", ""), client(1))
        .await
        .unwrap();
    let fire = |transition: &'static str| async move {
        let instance = engine.instance_of(s.diagnosis).await.unwrap();
        engine
            .fire(
                s.coordinator,
                FireRequest {
                    document_id: s.diagnosis,
                    transition: transition.to_owned(),
                    expected_version: instance.version,
                },
            )
            .await
            .unwrap();
    };
    fire("revise").await;
    assert_eq!(
        engine
            .public_consultation(&slug, None)
            .await
            .unwrap()
            .status,
        ConsultationStatus::Closed
    );
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), client(2))
                .await
        ),
        ErrorCode::Conflict
    );
    // Back in consultation through the plain transition: the closed one stays closed.
    fire("open_consultation").await;
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), client(3))
                .await
        ),
        ErrorCode::Conflict
    );
    assert_eq!(
        engine
            .consultation_results(Actor::Public, &slug)
            .await
            .unwrap()
            .citizens
            .respondents,
        1
    );
}

async fn two_concurrent_answers_with_one_link_save_one(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let s = setting(&engine, "").await;
    let slug = open(&engine, &s).await;
    let token = links(&engine, &s).await[0].1.clone();
    // The first answer checks the link (unused), then stops before writing; the second
    // answers in full; then the first goes on and must find the link used.
    let point = engine.pause_at("consultation_partner_answer");
    let first = {
        let engine = engine.clone();
        let token = token.clone();
        tokio::spawn(async move {
            engine
                .answer_as_partner(&token, &good("furti", "1", ""))
                .await
        })
    };
    point.reached().await;
    engine
        .answer_as_partner(&token, &good("spaccio", "5", ""))
        .await
        .unwrap();
    point.resume();
    assert_eq!(code_of(first.await.unwrap()), ErrorCode::Conflict);
    let results = engine
        .consultation_results(s.coordinator, &slug)
        .await
        .unwrap();
    assert_eq!(results.partners.respondents, 1);
    let ResultDetail::Choices(counts) = &results.partners.questions[0].detail else {
        panic!()
    };
    assert_eq!(counts[1].count, 1, "the second answer is the one kept");
}

async fn public_answers_are_rate_limited_per_client(ctx: &Ctx) {
    let engine = &ctx.engine;
    let s = setting(engine, "").await;
    let slug = open(engine, &s).await;
    // Refused answers do not count: a citizen correcting the form is not held back.
    for _ in 0..3 {
        engine
            .answer_as_citizen(&slug, &raw(&[("problema", &["x"])]), client(7))
            .await
            .unwrap_err();
    }
    for _ in 0..PUBLIC_ANSWERS_PER_CLIENT.max {
        engine
            .answer_as_citizen(&slug, &good("furti", "3", ""), client(7))
            .await
            .unwrap();
    }
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), client(7))
                .await
        ),
        ErrorCode::RateLimited
    );
    // The IPv4-mapped form of the same address is the same client; another one passes.
    let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
    assert_eq!(
        code_of(
            engine
                .answer_as_citizen(&slug, &good("furti", "3", ""), mapped)
                .await
        ),
        ErrorCode::RateLimited
    );
    engine
        .answer_as_citizen(&slug, &good("furti", "3", ""), client(8))
        .await
        .unwrap();
}

const SAVE: &str = "mutation($d: ID!, $q: QuestionnaireInput!) { saveQuestionnaire(diagnosis: $d, questionnaire: $q) { publicSlug state questionnaire { questions { id kind options { id } } } } }";
const OPEN: &str = "mutation($d: ID!, $o: DateTime!, $c: DateTime!) { openConsultation(diagnosis: $d, opensAt: $o, closesAt: $c) { state publicSlug } }";
const ANSWER: &str =
    "mutation($t: String!, $a: [AnswerInput!]!) { answerConsultation(token: $t, answers: $a) }";
const ANSWER_PUBLIC: &str = "mutation($s: String!, $a: [AnswerInput!]!) { answerPublicConsultation(slug: $s, answers: $a) }";
const RESULTS: &str = "query($s: String!) { consultationResults(slug: $s) { textsIncluded partners { respondents } citizens { respondents questions { question answered options { option count } distribution { point count } mean median texts } } } }";

fn questionnaire_input() -> Value {
    json!({
        "introduction": "Prova",
        "questions": [
            {"id": "problema", "text": "Il problema più sentito?", "required": true, "kind": "SINGLE_CHOICE",
             "options": [{"id": "furti", "label": "Furti"}, {"id": "spaccio", "label": "Spaccio"}]},
            {"id": "sicurezza", "text": "Quanto ti senti sicuro?", "kind": "SCALE",
             "min": 1, "max": 5, "minLabel": "Per niente", "maxLabel": "Del tutto"},
            {"id": "proposte", "text": "Che cosa chiedi?", "kind": "FREE_TEXT", "maxLength": 100}
        ]
    })
}

fn answers_input(problem: &str, point: &str, text: &str) -> Value {
    json!([
        {"question": "problema", "values": [problem]},
        {"question": "sicurezza", "values": [point]},
        {"question": "proposte", "values": [text]},
    ])
}

async fn consultation_through_the_api(ctx: &Ctx) {
    let engine = &ctx.engine;
    let s = setting(engine, "").await;
    let sessions = Arc::new(TestSessions::default());
    let person = |actor: Actor| match actor {
        Actor::Person(id) => id,
        Actor::System | Actor::Public => unreachable!(),
    };
    let coordinator = sessions.issue(person(s.coordinator));
    let outsider = sessions.issue(person(s.other_coordinator));
    let address =
        crate::api::serve(engine.clone(), sessions, patto_api::ApiConfig::default()).await;
    let d = s.diagnosis.get().to_string();
    // Another organisation's coordinator, and the public, are refused.
    let refused = graphql(
        address,
        Some(&outsider),
        SAVE,
        json!({"d": d, "q": questionnaire_input()}),
    )
    .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let refused = graphql(
        address,
        None,
        SAVE,
        json!({"d": d, "q": questionnaire_input()}),
    )
    .await;
    assert_eq!(code(&refused), "UNAUTHENTICATED");
    let mut missing = questionnaire_input();
    missing["questions"][1]
        .as_object_mut()
        .unwrap()
        .remove("maxLabel");
    let refused = graphql(
        address,
        Some(&coordinator),
        SAVE,
        json!({"d": d, "q": missing}),
    )
    .await;
    assert_eq!(code(&refused), "VALIDATION");
    let saved = graphql(
        address,
        Some(&coordinator),
        SAVE,
        json!({"d": d, "q": questionnaire_input()}),
    )
    .await;
    let saved = &data(&saved)["saveQuestionnaire"];
    assert_eq!(saved["state"], "DRAFT");
    assert_eq!(
        saved["questionnaire"]["questions"][0]["options"][1]["id"],
        "spaccio"
    );
    let slug = saved["publicSlug"].as_str().unwrap().to_owned();
    // A draft's consultation takes no answers.
    let draft = graphql(
        address,
        None,
        ANSWER_PUBLIC,
        json!({"s": slug, "a": answers_input("furti", "3", "")}),
    )
    .await;
    assert_eq!(code(&draft), "NOT_FOUND");
    let now = Utc::now();
    let opened = graphql(
        address,
        Some(&coordinator),
        OPEN,
        json!({"d": d, "o": (now - Duration::minutes(1)).to_rfc3339(), "c": (now + Duration::days(3)).to_rfc3339()}),
    )
    .await;
    assert_eq!(data(&opened)["openConsultation"]["state"], "OPEN");
    let sent = graphql(
        address,
        Some(&coordinator),
        "mutation($d: ID!) { sendPartnerLinks(diagnosis: $d) { sent alreadySent unreachable } }",
        json!({"d": d}),
    )
    .await;
    assert_eq!(
        data(&sent)["sendPartnerLinks"]["sent"],
        json!(["partner", "secondo"])
    );
    let mails = engine
        .claim_mail(
            &[CONSULTATION_INVITATION_TEMPLATE],
            100,
            Duration::seconds(60),
        )
        .await
        .unwrap();
    let token = mails[0].secret.clone().unwrap();
    // The token is the credential: no bearer token needed, and it answers once.
    let answered = graphql(
        address,
        None,
        ANSWER,
        json!({"t": token, "a": answers_input("spaccio", "2", "Dal partner")}),
    )
    .await;
    assert_eq!(data(&answered)["answerConsultation"], true);
    let twice = graphql(
        address,
        None,
        ANSWER,
        json!({"t": token, "a": answers_input("furti", "2", "")}),
    )
    .await;
    assert_eq!(code(&twice), "CONFLICT");
    let forged = graphql(
        address,
        None,
        ANSWER,
        json!({"t": "A".repeat(43), "a": answers_input("furti", "2", "")}),
    )
    .await;
    assert_eq!(code(&forged), "UNAUTHENTICATED");
    let invalid = graphql(
        address,
        None,
        ANSWER_PUBLIC,
        json!({"s": slug, "a": answers_input("furti", "7", "")}),
    )
    .await;
    assert_eq!(code(&invalid), "VALIDATION");
    assert!(
        invalid["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sicurezza")
    );
    for (problem, point) in [("furti", "4"), ("furti", "5")] {
        let answered = graphql(
            address,
            None,
            ANSWER_PUBLIC,
            json!({"s": slug, "a": answers_input(problem, point, "Testo privato")}),
        )
        .await;
        assert_eq!(data(&answered)["answerPublicConsultation"], true);
    }
    // The public and another coordinator read no results before the close.
    for token in [None, Some(outsider.as_str())] {
        let early = graphql(address, token, RESULTS, json!({"s": slug})).await;
        assert_eq!(code(&early), "FORBIDDEN");
    }
    let own = graphql(address, Some(&coordinator), RESULTS, json!({"s": slug})).await;
    let own = &data(&own)["consultationResults"];
    assert_eq!(own["textsIncluded"], true);
    assert_eq!(own["partners"]["respondents"], 1);
    assert_eq!(
        own["citizens"]["questions"][2]["texts"],
        json!(["Testo privato", "Testo privato"])
    );
    let closed = graphql(
        address,
        Some(&coordinator),
        "mutation($d: ID!) { closeConsultation(diagnosis: $d) { state linksSent linksUsed } }",
        json!({"d": d}),
    )
    .await;
    assert_eq!(
        data(&closed)["closeConsultation"],
        json!({"state": "CLOSED", "linksSent": 2, "linksUsed": 1})
    );
    let late = graphql(
        address,
        None,
        ANSWER_PUBLIC,
        json!({"s": slug, "a": answers_input("furti", "3", "")}),
    )
    .await;
    assert_eq!(code(&late), "CONFLICT");
    let public = graphql(address, None, RESULTS, json!({"s": slug})).await;
    let public = &data(&public)["consultationResults"];
    assert_eq!(public["textsIncluded"], false);
    assert_eq!(public["citizens"]["respondents"], 2);
    assert_eq!(
        public["citizens"]["questions"][0]["options"],
        json!([{"option": "furti", "count": 2}, {"option": "spaccio", "count": 0}])
    );
    assert_eq!(public["citizens"]["questions"][1]["mean"], 4.5);
    assert_eq!(public["citizens"]["questions"][2]["answered"], 2);
    assert_eq!(public["citizens"]["questions"][2]["texts"], json!([]));
}

/// The value of the form's nonce in a page.
fn nonce(html: &str) -> String {
    let start = html.find("name=\"nonce\" value=\"").unwrap() + "name=\"nonce\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn post_form(
    address: SocketAddr,
    path: &str,
    body: &str,
    origin: Option<&str>,
) -> patto_tests::HttpAnswer {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    http_request(address, "POST", path, &headers, body.as_bytes()).await
}

async fn get(address: SocketAddr, path: &str) -> patto_tests::HttpAnswer {
    http_request(address, "GET", path, &[], b"").await
}

async fn consultation_through_the_portal_forms(ctx: &Ctx) {
    let engine = &ctx.engine;
    let s = setting(engine, "").await;
    let sessions = Arc::new(TestSessions::default());
    let address =
        crate::api::serve(engine.clone(), sessions, patto_api::ApiConfig::default()).await;
    let origin = format!("http://{address}");
    // A draft's consultation has no page.
    engine
        .save_questionnaire(s.coordinator, s.diagnosis, questionnaire())
        .await
        .unwrap();
    let slug = engine
        .consultation(s.coordinator, s.diagnosis)
        .await
        .unwrap()
        .record
        .public_slug;
    assert_eq!(
        get(address, &format!("/consultazioni/{slug}")).await.status,
        404
    );
    let now = Utc::now();
    engine
        .open_consultation(
            s.coordinator,
            s.diagnosis,
            now - Duration::minutes(1),
            now + Duration::days(1),
        )
        .await
        .unwrap();
    let path = format!("/consultazioni/{slug}");
    let form = get(address, &path).await;
    assert_eq!(form.status, 200);
    // Under the portal's usual `no-referrer` a browser would post with `Origin: null`.
    assert_eq!(form.header("referrer-policy"), Some("same-origin"));
    for expected in [
        "<form method=\"post\" action=\"/consultazioni/",
        "<legend",
        "<label class=\"form-check-label\" for=\"q-problema-furti\">Furti</label>",
        "type=\"checkbox\" name=\"q-luoghi\"",
        "<textarea",
        "maxlength=\"200\"",
    ] {
        assert!(form.body.contains(expected), "{expected} in {}", form.body);
    }
    // The required question left out, too long a text: the form comes back with what
    // was typed and each error tied to its field, and nothing is saved.
    let typed = "Più illuminazione & panchine";
    let long = "x".repeat(201);
    let body = format!(
        "nonce={}&q-luoghi=centro&q-luoghi=stazione&q-sicurezza=4&q-proposte={}",
        nonce(&form.body),
        urlencode(&long)
    );
    let refused = post_form(address, &path, &body, Some(&origin)).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("id=\"q-problema-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("aria-describedby=\"q-problema-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("questa domanda è obbligatoria"));
    assert!(refused.body.contains("href=\"#q-problema-furti\""));
    assert!(refused.body.contains("il testo supera i 200 caratteri"));
    assert!(refused.body.contains(&long), "the text typed is kept");
    assert!(
        refused
            .body
            .contains("id=\"q-luoghi-stazione\" value=\"stazione\" checked")
    );
    assert!(
        refused
            .body
            .contains("id=\"q-sicurezza-4\" value=\"4\" checked")
    );
    // From another site, or without the form's nonce: refused, and what was typed kept.
    let good_body = |nonce: &str| {
        format!(
            "nonce={nonce}&q-problema=furti&q-luoghi=centro&q-sicurezza=4&q-proposte={}",
            urlencode(typed)
        )
    };
    let forged = post_form(
        address,
        &path,
        &good_body(&nonce(&form.body)),
        Some("https://evil.example.net"),
    )
    .await;
    assert_eq!(forged.status, 422);
    assert!(forged.body.contains("non proviene da questo sito"));
    assert!(forged.body.contains("Più illuminazione &amp; panchine"));
    let no_nonce = post_form(address, &path, &good_body("0.0.0"), Some(&origin)).await;
    assert_eq!(no_nonce.status, 422);
    let null_origin = post_form(address, &path, &good_body(&nonce(&form.body)), Some("null")).await;
    assert_eq!(null_origin.status, 422);
    assert_eq!(
        engine
            .consultation_results(s.coordinator, &slug)
            .await
            .unwrap()
            .citizens
            .respondents,
        0
    );
    let saved = post_form(
        address,
        &path,
        &good_body(&nonce(&form.body)),
        Some(&origin),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let thanks = saved.header("location").unwrap().to_owned();
    assert_eq!(thanks, format!("{path}/grazie"));
    let thanks = get(address, &thanks).await;
    assert_eq!(thanks.status, 200);
    assert!(thanks.body.contains("Grazie per le risposte"));
    let results = engine
        .consultation_results(s.coordinator, &slug)
        .await
        .unwrap();
    assert_eq!(results.citizens.respondents, 1);
    let ResultDetail::Texts(texts) = &results.citizens.questions[3].detail else {
        panic!()
    };
    assert_eq!(texts, &vec![typed.to_owned()]);
    // A partner's personal link: its page names the organisation, answers once.
    let links = links(engine, &s).await;
    let partner_path = format!("/consultazioni/{slug}/{}", links[0].1);
    let partner_form = get(address, &partner_path).await;
    assert_eq!(partner_form.status, 200);
    assert!(partner_form.body.contains("Ente partner"));
    let saved = post_form(
        address,
        &partner_path,
        &good_body(&nonce(&partner_form.body)),
        Some(&origin),
    )
    .await;
    assert_eq!(saved.status, 303);
    let used = get(address, &partner_path).await;
    assert!(
        used.body.contains("è già stata inviata una risposta"),
        "{}",
        used.body
    );
    let again = post_form(
        address,
        &partner_path,
        &good_body(&nonce(&partner_form.body)),
        Some(&origin),
    )
    .await;
    assert_ne!(again.status, 303);
    assert_eq!(
        engine
            .consultation_results(s.coordinator, &slug)
            .await
            .unwrap()
            .partners
            .respondents,
        1
    );
    // A forged token has no page; the results are not public before the close.
    assert_eq!(
        get(
            address,
            &format!("/consultazioni/{slug}/{}", "A".repeat(43))
        )
        .await
        .status,
        404
    );
    assert_eq!(get(address, &format!("{path}/risultati")).await.status, 404);
    engine
        .close_consultation(s.coordinator, s.diagnosis)
        .await
        .unwrap();
    let closed = get(address, &path).await;
    assert!(closed.body.contains("La consultazione è chiusa"));
    assert!(!closed.body.contains("<form"));
    let results = get(address, &format!("{path}/risultati")).await;
    assert_eq!(results.status, 200);
    assert!(results.body.contains("<caption>"));
    assert!(results.body.contains("<th scope=\"row\">Furti</th>"));
    assert!(
        !results.body.contains(typed),
        "free texts are not published"
    );
    let english = get(address, &format!("/en{path}/risultati")).await;
    assert!(english.body.contains("Results of the consultation"));
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
