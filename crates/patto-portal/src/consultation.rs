//! The consultation pages: the questionnaire as an HTML form that posts to itself
//! (`/consultazioni/{slug}` for citizens, `/consultazioni/{slug}/{token}` for a partner
//! organisation's personal link), the thank-you page, and the aggregated results once
//! the consultation has closed (`/consultazioni/{slug}/risultati`).
//!
//! The forms need no JavaScript. Against cross-site submissions each form carries a
//! nonce — a random value, the consultation's slug and an expiry, signed with a key this
//! process made at start — and a post is refused when the nonce does not verify or when
//! the browser says (`Origin`, or `Referer` without it) that the form came from another
//! site. A refused or invalid answer shows the form again with what was typed and each
//! error beside its field.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::header::{HOST, ORIGIN, REFERER, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use patto_core::Language;
use patto_core::consultation::{
    AnswerProblem, AnswerReason, QuestionKind, RawAnswers, ResultDetail, Tally,
};
use patto_engine::{ConsultationStatus, EngineError, PublicConsultation, client_address};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Portal;
use crate::error::PortalError;
use crate::pages::{Page, date, href};
use crate::text::Texts;

/// How long a form may stay open before it is sent.
const NONCE_VALIDITY_SECONDS: i64 = 4 * 3600;
/// The form field carrying the nonce.
const NONCE_FIELD: &str = "nonce";
/// The prefix of each question's field name: `q-{question id}`.
const FIELD_PREFIX: &str = "q-";

/// The key that signs the forms' nonces, made at start: a nonce is good only for the
/// process that made it (a restart asks citizens to send the form again).
pub(crate) struct NonceKey([u8; 32]);

impl NonceKey {
    pub(crate) fn new() -> NonceKey {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        NonceKey(key)
    }

    fn mac(&self, slug: &str, random: &str, expiry: i64) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).ok()?;
        mac.update(format!("{slug}\n{random}\n{expiry}").as_bytes());
        Some(mac)
    }

    /// A new nonce for a form of the consultation `slug`.
    fn issue(&self, slug: &str) -> String {
        let mut random = [0u8; 16];
        rand::fill(&mut random);
        let random = hex(&random);
        let expiry = Utc::now().timestamp() + NONCE_VALIDITY_SECONDS;
        let signature = self
            .mac(slug, &random, expiry)
            .map(|mac| hex(&mac.finalize().into_bytes()))
            .unwrap_or_default();
        format!("{random}.{expiry}.{signature}")
    }

    /// Whether a nonce was made here for this consultation and has not expired.
    fn verify(&self, slug: &str, nonce: &str) -> bool {
        let mut parts = nonce.split('.');
        let (Some(random), Some(expiry), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(expiry) = expiry.parse::<i64>() else {
            return false;
        };
        let Some(signature) = unhex(signature) else {
            return false;
        };
        expiry > Utc::now().timestamp()
            && self
                .mac(slug, random, expiry)
                .is_some_and(|mac| mac.verify_slice(&signature).is_ok())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether the browser says the post came from this site. Browsers send `Origin` with
/// every form post; a post without it (an old browser, a privacy setting) is judged by
/// `Referer`, and one with neither is let through, since the nonce still has to verify.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let claimed = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|v| v.to_str().ok());
    match claimed {
        None => true,
        Some(url) => {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            rest.is_some_and(|rest| rest.split('/').next() == Some(host))
        }
    }
}

/// Who is answering: a citizen, or a partner organisation with its link's token.
#[derive(Clone, Copy)]
enum Respondent<'a> {
    Citizen,
    Partner(&'a str),
}

impl Respondent<'_> {
    fn path(&self, slug: &str) -> String {
        match self {
            Respondent::Citizen => format!("/consultazioni/{slug}"),
            Respondent::Partner(token) => format!("/consultazioni/{slug}/{token}"),
        }
    }

    fn token(&self) -> Option<&str> {
        match self {
            Respondent::Citizen => None,
            Respondent::Partner(token) => Some(token),
        }
    }
}

/// What the form shows beside the questions: what was typed and what was wrong.
#[derive(Default)]
struct Entered {
    values: RawAnswers,
    problems: Vec<AnswerProblem>,
    /// A problem with the whole submission (an expired form, another site, too many
    /// answers), shown above the form.
    general: Option<String>,
}

/// GET of a form page.
pub(crate) async fn form(
    portal: Arc<Portal>,
    language: Language,
    slug: String,
    token: Option<String>,
) -> Response {
    let respondent = match &token {
        Some(token) => Respondent::Partner(token),
        None => Respondent::Citizen,
    };
    let path = respondent.path(&slug);
    match form_page(&portal, language, &slug, respondent, Entered::default()).await {
        Ok(page) => render(&portal, language, &path, page, StatusCode::OK),
        Err(error) => portal.failure(language, &path, error),
    }
}

/// POST of a form: the answers are saved and the visitor sent to the thank-you page,
/// or the form is shown again with what was typed and what was wrong.
pub(crate) async fn submit(
    portal: Arc<Portal>,
    language: Language,
    slug: String,
    token: Option<String>,
    peer: Option<SocketAddr>,
    headers: HeaderMap,
    fields: Vec<(String, String)>,
) -> Response {
    let respondent = match &token {
        Some(token) => Respondent::Partner(token),
        None => Respondent::Citizen,
    };
    let path = respondent.path(&slug);
    let texts = portal.texts(language);
    let mut entered = Entered::default();
    let mut nonce = None;
    for (name, value) in fields {
        if name == NONCE_FIELD {
            nonce = Some(value);
        } else if let Some(question) = name.strip_prefix(FIELD_PREFIX) {
            entered
                .values
                .entry(question.to_owned())
                .or_default()
                .push(value);
        }
    }
    let trusted =
        same_origin(&headers) && nonce.is_some_and(|nonce| portal.nonce_key.verify(&slug, &nonce));
    let outcome = if !trusted {
        Err(texts.get("consultation_error_form"))
    } else {
        let saved = match respondent {
            Respondent::Partner(token) => {
                portal
                    .engine
                    .answer_as_partner(token, &entered.values)
                    .await
            }
            Respondent::Citizen => match peer {
                Some(peer) => {
                    let forwarded: Vec<&str> = headers
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect();
                    let client: IpAddr =
                        client_address(peer.ip(), &forwarded, &portal.trusted_proxies);
                    portal
                        .engine
                        .answer_as_citizen(&slug, &entered.values, client)
                        .await
                }
                None => Err(EngineError::Internal(
                    "the server was started without the connections' addresses, which the consultation's rate limit needs".to_owned(),
                )),
            },
        };
        match saved {
            Ok(()) => {
                return Redirect::to(&href(language, &format!("{path}/grazie"))).into_response();
            }
            Err(EngineError::Answers(problems)) => {
                entered.problems = problems;
                Ok(())
            }
            Err(EngineError::RateLimited(_)) => Err(texts.get("consultation_error_rate")),
            Err(error) if error.code() == patto_engine::ErrorCode::Conflict => {
                // Closed, not open yet, or a link used already: the page says which.
                return form(portal, language, slug, token).await;
            }
            Err(error) => return portal.failure(language, &path, PortalError::Engine(error)),
        }
    };
    if let Err(general) = outcome {
        entered.general = Some(general);
    }
    match form_page(&portal, language, &slug, respondent, entered).await {
        Ok(page) => render(
            &portal,
            language,
            &path,
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(error) => portal.failure(language, &path, error),
    }
}

/// GET of the thank-you page.
pub(crate) async fn thanks(portal: Arc<Portal>, language: Language, path: String) -> Response {
    let texts = portal.texts(language);
    let page = Page {
        template: "consultation_message.html",
        title: texts.get("consultation_thanks_title"),
        section: "",
        crumbs: vec![(texts.get("consultation_thanks_title"), path.clone())],
        body: json!({ "paragraphs": [texts.get("consultation_thanks_text")], "results_href": Value::Null }),
    };
    render(&portal, language, &path, page, StatusCode::OK)
}

fn render(
    portal: &Portal,
    language: Language,
    path: &str,
    page: Page,
    status: StatusCode,
) -> Response {
    match portal.render(language, path, page, status) {
        Ok(mut response) => {
            // Browsers then send this site's origin with the form's post (under the
            // portal's usual `no-referrer` they send `Origin: null`), and the address,
            // which may hold a partner's token, still never leaves the site.
            response
                .headers_mut()
                .insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            response
        }
        Err(error) => portal.failure(language, path, error),
    }
}

/// The form page, or a page saying why there is no form (not open yet, closed, link
/// used).
async fn form_page(
    portal: &Portal,
    language: Language,
    slug: &str,
    respondent: Respondent<'_>,
    entered: Entered,
) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let consultation = match portal
        .engine
        .public_consultation(slug, respondent.token())
        .await
    {
        Ok(consultation) => consultation,
        // A token that is no link of this consultation: the page does not exist.
        Err(error) if error.code() == patto_engine::ErrorCode::Unauthenticated => {
            return Err(PortalError::NotFound);
        }
        Err(error) => return Err(error.into()),
    };
    let path = respondent.path(slug);
    let period = period(texts, language, &consultation);
    let message = |paragraphs: Vec<String>, results: bool| Page {
        template: "consultation_message.html",
        title: consultation.title.clone(),
        section: "",
        crumbs: vec![(texts.get("consultation_crumb"), path.clone())],
        body: json!({
            "paragraphs": paragraphs,
            "results_href": if results {
                Value::from(href(language, &format!("/consultazioni/{slug}/risultati")))
            } else {
                Value::Null
            },
        }),
    };
    match consultation.status {
        ConsultationStatus::Draft | ConsultationStatus::Scheduled => {
            return Ok(message(
                vec![texts.get("consultation_not_open"), period],
                false,
            ));
        }
        ConsultationStatus::Closed => {
            return Ok(message(
                vec![texts.get("consultation_closed"), period],
                true,
            ));
        }
        ConsultationStatus::Open => {}
    }
    if consultation.link_used == Some(true) {
        return Ok(message(
            vec![texts.get("consultation_link_used"), period],
            false,
        ));
    }
    let by_question: BTreeMap<&str, Vec<&AnswerProblem>> =
        entered
            .problems
            .iter()
            .fold(BTreeMap::new(), |mut map, problem| {
                map.entry(problem.question.as_str())
                    .or_default()
                    .push(problem);
                map
            });
    let questions: Vec<Value> = consultation
        .questionnaire
        .questions
        .iter()
        .map(|question| {
            let field = format!("{FIELD_PREFIX}{}", question.id);
            let given: Vec<&str> = entered
                .values
                .get(&question.id)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let errors: Vec<String> = by_question
                .get(question.id.as_str())
                .map(|problems| problems.iter().map(|p| reason(texts, &p.reason)).collect())
                .unwrap_or_default();
            let (kind, choices, hint, text) = match &question.kind {
                QuestionKind::SingleChoice { options } => (
                    "single",
                    choices(
                        &field,
                        options.iter().map(|o| (o.id.clone(), o.label.clone())),
                        &given,
                    ),
                    String::new(),
                    String::new(),
                ),
                QuestionKind::MultipleChoice {
                    options,
                    max_selections,
                } => (
                    "multiple",
                    choices(
                        &field,
                        options.iter().map(|o| (o.id.clone(), o.label.clone())),
                        &given,
                    ),
                    match max_selections {
                        Some(max) => {
                            texts.fill("consultation_hint_max", &[("max", &max.to_string())])
                        }
                        None => texts.get("consultation_hint_any"),
                    },
                    String::new(),
                ),
                QuestionKind::Scale {
                    min,
                    max,
                    min_label,
                    max_label,
                } => (
                    "scale",
                    choices(
                        &field,
                        (*min..=*max).map(|point| {
                            let label = if point == *min {
                                format!("{point} — {min_label}")
                            } else if point == *max {
                                format!("{point} — {max_label}")
                            } else {
                                point.to_string()
                            };
                            (point.to_string(), label)
                        }),
                        &given,
                    ),
                    texts.fill(
                        "consultation_hint_scale",
                        &[
                            ("min", &min.to_string()),
                            ("max", &max.to_string()),
                            ("min_label", min_label),
                            ("max_label", max_label),
                        ],
                    ),
                    String::new(),
                ),
                QuestionKind::FreeText { max_length } => (
                    "text",
                    Vec::new(),
                    texts.fill(
                        "consultation_hint_text",
                        &[("max", &max_length.to_string())],
                    ),
                    given.join("\n"),
                ),
            };
            json!({
                "id": question.id,
                "field": field,
                "text": question.text,
                "required": question.required,
                "kind": kind,
                "choices": choices,
                "hint": hint,
                "value": text,
                "max_length": match &question.kind {
                    QuestionKind::FreeText { max_length } => Value::from(*max_length),
                    QuestionKind::SingleChoice { .. }
                    | QuestionKind::MultipleChoice { .. }
                    | QuestionKind::Scale { .. } => Value::Null,
                },
                "errors": errors,
            })
        })
        .collect();
    let summary: Vec<Value> = entered
        .problems
        .iter()
        .map(|problem| {
            let question = consultation.questionnaire.question(&problem.question);
            json!({
                "href": question.map(|q| format!("#{FIELD_PREFIX}{}", first_input(q))),
                "text": match question {
                    Some(q) => format!("{} — {}", q.text, reason(texts, &problem.reason)),
                    None => reason(texts, &problem.reason),
                },
            })
        })
        .collect();
    let mut general = entered.general;
    if general.is_none() && summary.is_empty() && !entered.values.is_empty() {
        general = Some(texts.get("consultation_error_form"));
    }
    let title = if !summary.is_empty() || general.is_some() {
        format!(
            "{} — {}",
            texts.get("consultation_error_title"),
            consultation.title
        )
    } else {
        consultation.title.clone()
    };
    Ok(Page {
        template: "consultation_form.html",
        title,
        section: "",
        crumbs: vec![(texts.get("consultation_crumb"), path.clone())],
        body: json!({
            "heading": consultation.title,
            "introduction": consultation.questionnaire.introduction,
            "period": period,
            "partner": consultation.partner_name,
            "action": href(language, &path),
            "nonce": portal.nonce_key.issue(slug),
            "questions": questions,
            "summary": summary,
            "general": general,
        }),
    })
}

/// The id of the first input of a question's field, where the error summary links to.
fn first_input(question: &patto_core::consultation::Question) -> String {
    match &question.kind {
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options, .. } => {
            options
                .first()
                .map_or(question.id.clone(), |o| format!("{}-{}", question.id, o.id))
        }
        QuestionKind::Scale { min, .. } => format!("{}-{min}", question.id),
        QuestionKind::FreeText { .. } => question.id.clone(),
    }
}

/// The options of a question as radio buttons or check boxes, the ones given checked.
fn choices(
    field: &str,
    options: impl Iterator<Item = (String, String)>,
    given: &[&str],
) -> Vec<Value> {
    options
        .map(|(value, label)| {
            json!({
                "id": format!("{field}-{value}"),
                "value": value,
                "label": label,
                "checked": given.contains(&value.as_str()),
            })
        })
        .collect()
}

/// The period, in words.
fn period(texts: &Texts, language: Language, consultation: &PublicConsultation) -> String {
    match (consultation.opens_at, consultation.closes_at) {
        (Some(opens), Some(closes)) => texts.fill(
            "consultation_period",
            &[
                ("from", &date(language, opens)),
                ("to", &time(language, closes)),
            ],
        ),
        (_, _) => String::new(),
    }
}

/// A date and time in Europe/Rome.
fn time(language: Language, at: chrono::DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Rome);
    match language {
        Language::It => local.format("%d/%m/%Y alle %H:%M").to_string(),
        Language::En => local.format("%-d %B %Y at %H:%M").to_string(),
    }
}

/// Why an answer was refused, in the page's language.
fn reason(texts: &Texts, reason: &AnswerReason) -> String {
    match reason {
        AnswerReason::UnknownQuestion => texts.get("consultation_error_unknown"),
        AnswerReason::Missing => texts.get("consultation_error_missing"),
        AnswerReason::OptionNotOffered => texts.get("consultation_error_option"),
        AnswerReason::TooManySelections { max } => {
            texts.fill("consultation_error_too_many", &[("max", &max.to_string())])
        }
        AnswerReason::OutOfScale { min, max } => texts.fill(
            "consultation_error_scale",
            &[("min", &min.to_string()), ("max", &max.to_string())],
        ),
        AnswerReason::TooLong { max } => {
            texts.fill("consultation_error_too_long", &[("max", &max.to_string())])
        }
        AnswerReason::ControlCharacter(c) => {
            texts.fill("consultation_error_control", &[("char", c)])
        }
        AnswerReason::Empty => texts.get("consultation_error_empty"),
    }
}

/// GET of the results page: public once the consultation has closed.
pub(crate) async fn results(
    portal: &Portal,
    language: Language,
    slug: &str,
) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let results = portal
        .engine
        .consultation_results(patto_engine::Actor::Public, slug)
        .await?;
    let path = format!("/consultazioni/{slug}/risultati");
    let questions: Vec<Value> = results
        .consultation
        .questionnaire
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| {
            question_results(texts, index, question, &results.partners, &results.citizens)
        })
        .collect();
    Ok(Page {
        template: "consultation_results.html",
        title: texts.fill(
            "consultation_results_title",
            &[("title", &results.consultation.title)],
        ),
        section: "",
        crumbs: vec![(texts.get("consultation_results_crumb"), path)],
        body: json!({
            "period": period(texts, language, &results.consultation),
            "partners": results.partners.respondents,
            "citizens": results.citizens.respondents,
            "questions": questions,
        }),
    })
}

/// The tables of one question: a row per option or scale point, with the partners'
/// and the citizens' counts side by side.
fn question_results(
    texts: &Texts,
    index: usize,
    question: &patto_core::consultation::Question,
    partners: &Tally,
    citizens: &Tally,
) -> Value {
    let of = |tally: &Tally| tally.questions.get(index).cloned();
    let (Some(p), Some(c)) = (of(partners), of(citizens)) else {
        return json!({ "text": question.text, "rows": [], "texts": Value::Null, "summary": [] });
    };
    let decimal = |value: Option<f64>| {
        value.map_or("—".to_owned(), |v| format!("{v:.2}").replace('.', ","))
    };
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    let mut text_counts = Value::Null;
    match (&p.detail, &c.detail) {
        (ResultDetail::Choices(pc), ResultDetail::Choices(cc)) => {
            for (po, co) in pc.iter().zip(cc) {
                rows.push(json!({ "label": po.label, "partners": po.count, "citizens": co.count }));
            }
        }
        (ResultDetail::Scale(ps), ResultDetail::Scale(cs)) => {
            for ((point, pn), (_, cn)) in ps.distribution.iter().zip(&cs.distribution) {
                let label = if Some(point) == ps.distribution.first().map(|(p, _)| p) {
                    format!("{point} — {}", ps.min_label)
                } else if Some(point) == ps.distribution.last().map(|(p, _)| p) {
                    format!("{point} — {}", ps.max_label)
                } else {
                    point.to_string()
                };
                rows.push(json!({ "label": label, "partners": pn, "citizens": cn }));
            }
            summary.push(json!({ "label": texts.get("consultation_mean"), "partners": decimal(ps.mean), "citizens": decimal(cs.mean) }));
            summary.push(json!({ "label": texts.get("consultation_median"), "partners": decimal(ps.median), "citizens": decimal(cs.median) }));
        }
        (_, _) => {
            text_counts = json!({ "partners": p.answered, "citizens": c.answered });
        }
    }
    json!({
        "text": question.text,
        "answered_partners": p.answered,
        "answered_citizens": c.answered,
        "rows": rows,
        "summary": summary,
        "texts": text_counts,
    })
}

/// Axum's view of a form post: the peer's address when the server knows it.
pub(crate) type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Turns the optional connection info into the peer's address.
pub(crate) fn peer(peer: Peer) -> Option<SocketAddr> {
    peer.map(|Extension(ConnectInfo(address))| address)
}

/// GET `/consultazioni/{slug}/risultati`.
pub(crate) async fn results_answer(
    portal: Arc<Portal>,
    language: Language,
    slug: String,
) -> Response {
    let path = format!("/consultazioni/{slug}/risultati");
    let page = results(&portal, language, &slug).await;
    match page {
        Ok(page) => render(&portal, language, &path, page, StatusCode::OK),
        Err(error) => portal.failure(language, &path, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_verify_for_their_consultation_only_and_not_when_altered() {
        let key = NonceKey::new();
        let nonce = key.issue("abc");
        assert!(key.verify("abc", &nonce));
        assert!(!key.verify("abd", &nonce));
        assert!(!NonceKey::new().verify("abc", &nonce));
        let mut altered = nonce.clone();
        altered.replace_range(0..1, if nonce.starts_with('0') { "1" } else { "0" });
        assert!(!key.verify("abc", &altered));
        assert!(!key.verify("abc", "x.y.z"));
        // An expiry moved later does not verify either: it is signed.
        let parts: Vec<&str> = nonce.split('.').collect();
        let later = format!(
            "{}.{}.{}",
            parts[0],
            parts[1].parse::<i64>().unwrap() + 10,
            parts[2]
        );
        assert!(!key.verify("abc", &later));
    }

    #[test]
    fn posts_from_another_site_are_recognised() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "portale.example.org".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(ORIGIN, "https://portale.example.org".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(ORIGIN, "https://evil.example.net".parse().unwrap());
        assert!(!same_origin(&headers));
        headers.insert(ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&headers));
        headers.remove(ORIGIN);
        headers.insert(
            REFERER,
            "http://portale.example.org/consultazioni/x"
                .parse()
                .unwrap(),
        );
        assert!(same_origin(&headers));
        headers.insert(
            REFERER,
            "http://portale.example.org.evil.net/".parse().unwrap(),
        );
        assert!(!same_origin(&headers));
    }
}
