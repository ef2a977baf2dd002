//! Every mail template, in one place: the files in `templates/`, built into the binary.
//! Each template is one plain-text file per language with a `subject` and a `body`
//! block; the HTML part is the body's paragraphs in one shared layout per language,
//! which escapes what it shows. Italian is the default; people whose language is
//! English get English. Times are shown in Europe/Rome (the `rome` filter), links are
//! built from `PATTO_PUBLIC_URL`, and a mail naming a review date carries it as an
//! `.ics` calendar attachment.
//!
//! A template's parameters are the outbox row's JSON payload; a row's secret (a login
//! code, a consultation link's token) is added as `code`, the link to the row's document
//! as `link` and the public address as `public_url`. A parameter
//! the template uses but the row lacks is an error, never an empty gap in a mail.

use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};
use patto_core::records::OutgoingMail;

use crate::NotifyError;
use crate::calendar::Event;

/// Lists every template once: the names the worker claims, and their files built in.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        /// The templates this worker can render; rows of other templates stay queued.
        pub const TEMPLATES: &[&str] = &[$($name),*];

        /// (file name, source) of every template file.
        const FILES: &[(&str, &str)] = &[
            $(
                (concat!($name, ".it.txt"), include_str!(concat!("../templates/", $name, ".it.txt"))),
                (concat!($name, ".en.txt"), include_str!(concat!("../templates/", $name, ".en.txt"))),
            )*
            ("layout.it.html", include_str!("../templates/layout.it.html")),
            ("layout.en.html", include_str!("../templates/layout.en.html")),
        ];
    };
}

templates!(
    "login_code",
    // Queued by the shipped workflow definitions' `notify` effects.
    "sharing_opened",
    "consultation_opened",
    "signing_opened",
    "approval_opened",
    "validation_opened",
    "signing_cancelled",
    "pact_in_force",
    "protocol_in_force",
    "diagnosis_approved",
    "reporting_model_validated",
    "pact_closed",
    "protocol_closed",
    "document_withdrawn",
    "review_opened",
    "review_concluded",
    "amendment_started",
    "social_report_approved",
    "social_report_published",
    "review_requested",
    "changes_requested",
    "adoption_requested",
    // Queued by the engine itself.
    "signature_declined",
    "comment_added",
    "signature_reminder",
    "signed_by_organisation",
    "status_report_requested",
    "commitment_overdue",
    "consultation_invitation",
);

/// The languages templates exist in; the first is the default.
const LANGUAGES: &[&str] = &["it", "en"];

/// The zone mail shows times in.
const ZONE: chrono_tz::Tz = chrono_tz::Europe::Rome;

/// The last line of every mail, in every language.
const SIGNATURE: &str = "Patto, Città a Rete Madonie-Termini";

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// An iCalendar event for the review date the mail names, if it names one.
    pub calendar: Option<String>,
}

/// The template environment.
pub struct Templates {
    environment: Environment<'static>,
    public_url: String,
}

impl Templates {
    /// Loads every template; fails when one does not parse. Links point under
    /// `public_url`.
    pub fn load(public_url: &str) -> Result<Self, NotifyError> {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.add_filter("rome", rome_time);
        environment.add_filter("day", calendar_day);
        for (name, source) in FILES {
            environment
                .add_template(name, source)
                .map_err(|error| NotifyError::Render {
                    template: (*name).to_owned(),
                    reason: error.to_string(),
                })?;
        }
        Ok(Templates {
            environment,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Renders an outbox row in its recipient's language.
    pub fn render(&self, mail: &OutgoingMail) -> Result<RenderedMail, NotifyError> {
        let render_error = |reason: String| NotifyError::Render {
            template: mail.template.clone(),
            reason,
        };
        let language = LANGUAGES
            .iter()
            .find(|known| **known == mail.language)
            .unwrap_or(&LANGUAGES[0]);
        let mut parameters: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&mail.payload)
                .map_err(|error| render_error(format!("payload is not a JSON object: {error}")))?;
        if let Some(secret) = &mail.secret {
            parameters.insert("code".to_owned(), serde_json::Value::String(secret.clone()));
        }
        let slug = parameters
            .get("document")
            .and_then(|document| document.get("slug"))
            .and_then(serde_json::Value::as_str);
        let link = match slug {
            Some(slug) => format!("{}/documents/{slug}", self.public_url),
            None => self.public_url.clone(),
        };
        parameters.insert("link".to_owned(), serde_json::Value::String(link.clone()));
        // Templates whose link is not the document's (a consultation's personal link)
        // build it from the public address.
        parameters.insert(
            "public_url".to_owned(),
            serde_json::Value::String(self.public_url.clone()),
        );
        let calendar = parameters
            .get("scheduled_at")
            .and_then(serde_json::Value::as_str)
            .map(|at| review_event(mail, &parameters, at, &self.public_url, &link))
            .transpose()
            .map_err(render_error)?;
        let context = Value::from_serialize(&parameters);
        let name = format!("{}.{language}.txt", mail.template);
        let template = self
            .environment
            .get_template(&name)
            .map_err(|error| render_error(error.to_string()))?;
        let mut captured = template
            .render_captured(&context)
            .map_err(|error| render_error(error.to_string()))?;
        let mut block = |block: &str| {
            captured
                .with_state_mut(|state| state.render_block(block))
                .map_err(|error| render_error(error.to_string()))
        };
        let subject = block("subject")?.trim().to_owned();
        let body = block("body")?.trim().to_owned();
        let text = format!("{body}\n\n{link}\n\n-- \n{SIGNATURE}\n");
        let paragraphs: Vec<&str> = body
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let html = self
            .environment
            .get_template(&format!("layout.{language}.html"))
            .and_then(|layout| {
                layout.render(minijinja::context! { paragraphs => paragraphs, link => link })
            })
            .map_err(|error| render_error(error.to_string()))?;
        Ok(RenderedMail {
            subject,
            text,
            html,
            calendar,
        })
    }
}

/// The `rome` filter: an RFC 3339 instant as a date and time in Europe/Rome.
fn rome_time(instant: &str) -> Result<String, minijinja::Error> {
    let parsed = DateTime::parse_from_rfc3339(instant).map_err(|error| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("'{instant}' is not an RFC 3339 time: {error}"),
        )
    })?;
    Ok(parsed
        .with_timezone(&ZONE)
        .format("%d/%m/%Y %H:%M %Z")
        .to_string())
}

/// The `day` filter: a calendar date (`2026-06-30`, as commitments' due dates are
/// queued) shown as a date, `30/06/2026`, with no time: a due date is a day in Rome, not
/// an instant. An RFC 3339 instant (mail queued before due dates were dates) shows as
/// its date in Europe/Rome.
fn calendar_day(value: &str) -> Result<String, minijinja::Error> {
    let date = match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) => date,
        Err(_) => DateTime::parse_from_rfc3339(value)
            .map_err(|error| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!(
                        "'{value}' is neither a date (YYYY-MM-DD) nor an RFC 3339 time: {error}"
                    ),
                )
            })?
            .with_timezone(&ZONE)
            .date_naive(),
    };
    Ok(date.format("%d/%m/%Y").to_string())
}

/// The calendar event for the review date a mail names. Its UID is the review's (from
/// the payload's `review` id and the host of `PATTO_PUBLIC_URL`), the same in every
/// recipient's mail and every repeat; a mail with a date but no review id falls back to
/// the row's Message-ID.
fn review_event(
    mail: &OutgoingMail,
    parameters: &serde_json::Map<String, serde_json::Value>,
    scheduled_at: &str,
    public_url: &str,
    link: &str,
) -> Result<String, String> {
    let start = DateTime::parse_from_rfc3339(scheduled_at)
        .map_err(|error| format!("scheduled_at '{scheduled_at}' is not an RFC 3339 time: {error}"))?
        .with_timezone(&Utc);
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .filter(|host| !host.is_empty())
        .unwrap_or("patto");
    let uid = match parameters.get("review").and_then(serde_json::Value::as_i64) {
        Some(review) => format!("review-{review}@{host}"),
        None => mail
            .message_id
            .trim_matches(|c| c == '<' || c == '>')
            .to_owned(),
    };
    let title = parameters
        .get("document")
        .and_then(|document| document.get("title"))
        .and_then(serde_json::Value::as_str);
    let summary = match (mail.language.as_str(), title) {
        ("en", Some(title)) => format!("Review of “{title}”"),
        ("en", None) => "Patto review".to_owned(),
        (_, Some(title)) => format!("Verifica di «{title}»"),
        (_, None) => "Verifica Patto".to_owned(),
    };
    Ok(Event {
        uid: &uid,
        start,
        stamp: Utc::now(),
        summary: &summary,
        url: link,
    }
    .to_ics())
}

#[cfg(test)]
mod tests {
    use super::*;
    use patto_core::ids::OutboxMessageId;

    const PUBLIC_URL: &str = "https://patto.example.org/";

    fn mail(template: &str, language: &str, payload: &str, secret: Option<&str>) -> OutgoingMail {
        OutgoingMail {
            id: OutboxMessageId::new(1),
            message_id: "<1@patto>".to_owned(),
            recipient: "a@example.org".to_owned(),
            language: language.to_owned(),
            template: template.to_owned(),
            payload: payload.to_owned(),
            secret: secret.map(str::to_owned),
            attempts: 0,
        }
    }

    fn login(language: &str, payload: &str, secret: Option<&str>) -> OutgoingMail {
        mail(patto_engine::LOGIN_CODE_TEMPLATE, language, payload, secret)
    }

    const PAYLOAD: &str = r#"{"name": "Anna <Rossi>", "valid_minutes": 15}"#;

    #[test]
    fn the_login_mail_is_italian_by_default_and_english_on_request() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let italian = templates
            .render(&login("it", PAYLOAD, Some("12345678")))
            .unwrap();
        assert_eq!(italian.subject, "Il tuo codice di accesso a Patto");
        assert!(
            italian.text.contains("Gentile Anna <Rossi>"),
            "{}",
            italian.text
        );
        assert!(italian.text.contains("12345678"));
        assert!(italian.text.contains("15 minuti"));
        // The HTML part escapes what it interpolates.
        assert!(
            italian.html.contains("Anna &lt;Rossi&gt;"),
            "{}",
            italian.html
        );
        assert!(!italian.html.contains("Anna <Rossi>"));
        let unknown_language = templates.render(&login("de", PAYLOAD, Some("1"))).unwrap();
        assert_eq!(unknown_language.subject, italian.subject);
        let english = templates
            .render(&login("en", PAYLOAD, Some("12345678")))
            .unwrap();
        assert_eq!(english.subject, "Your Patto login code");
        assert!(english.text.contains("Dear Anna"));
        assert!(english.html.contains("12345678"));
        assert_eq!(english.calendar, None);
    }

    #[test]
    fn the_consultation_invitation_carries_the_personal_link_in_both_languages() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let payload = r#"{"name": "Anna", "organisation": "Pro Loco", "document_title": "Diagnosi 2026",
            "public_slug": "abc", "closes_at": "2026-12-31T22:59:00Z"}"#;
        let template = patto_engine::CONSULTATION_INVITATION_TEMPLATE;
        let italian = templates
            .render(&mail(template, "it", payload, Some("TOKEN123")))
            .unwrap();
        // The public address's trailing slash is not doubled in the link.
        let link = format!(
            "{}/consultazioni/abc/TOKEN123",
            PUBLIC_URL.trim_end_matches('/')
        );
        assert!(italian.text.contains(&link), "{}", italian.text);
        assert!(
            italian.text.contains("31/12/2026 23:59"),
            "{}",
            italian.text
        );
        assert!(italian.subject.contains("Pro Loco"));
        let english = templates
            .render(&mail(template, "en", payload, Some("TOKEN123")))
            .unwrap();
        assert!(english.text.contains(&link));
        assert!(english.text.contains("once") || english.text.contains("one answer"));
        // Without its token the mail is not sent with a hole where the link should be.
        assert!(
            templates
                .render(&mail(template, "it", payload, None))
                .is_err()
        );
    }

    #[test]
    fn a_missing_parameter_or_secret_is_an_error_not_a_gap() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        assert!(templates.render(&login("it", PAYLOAD, None)).is_err());
        assert!(templates.render(&login("it", "{}", Some("1"))).is_err());
        assert!(templates.render(&login("it", "[]", Some("1"))).is_err());
        assert!(
            templates
                .render(&mail("no_such_template", "it", "{}", None))
                .is_err()
        );
    }

    #[test]
    fn document_mail_links_to_the_document_and_shows_a_due_date_as_a_date() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let payload = r#"{"document": {"id": 7, "slug": "patto-2026", "title": "Patto <educativo>"},
            "commitment": "Doposcuola", "due": "2026-06-30"}"#;
        let italian = templates
            .render(&mail("commitment_overdue", "it", payload, None))
            .unwrap();
        assert_eq!(italian.subject, "Impegno scaduto: «Doposcuola»");
        // A date, with no time of day: not "30/06/2026 02:00 CEST" (midnight UTC).
        assert!(
            italian.text.contains("è scaduto il 30/06/2026 e non"),
            "{}",
            italian.text
        );
        assert!(
            italian
                .text
                .contains("https://patto.example.org/documents/patto-2026"),
            "{}",
            italian.text
        );
        // minijinja escapes slashes too in HTML; a browser reads the same address.
        assert!(
            italian.html.contains(
                r#"<a href="https:&#x2f;&#x2f;patto.example.org&#x2f;documents&#x2f;patto-2026">"#
            ),
            "{}",
            italian.html
        );
        assert!(italian.html.contains("Patto &lt;educativo&gt;"));
        let english = templates
            .render(&mail("commitment_overdue", "en", payload, None))
            .unwrap();
        assert_eq!(english.subject, "Commitment overdue: “Doposcuola”");
        assert!(
            english.text.contains("was due on 30/06/2026 and"),
            "{}",
            english.text
        );
    }

    #[test]
    fn a_due_instant_queued_before_dates_shows_as_its_day_in_rome() {
        assert_eq!(calendar_day("2026-06-30").unwrap(), "30/06/2026");
        // Midnight UTC, as older rows carry it, is the same day in Rome.
        assert_eq!(
            calendar_day("2026-06-30T00:00:00+00:00").unwrap(),
            "30/06/2026"
        );
        // 23:30 UTC on 24 October is already the 25th in Rome (CEST, UTC+2).
        assert_eq!(calendar_day("2026-10-24T23:30:00Z").unwrap(), "25/10/2026");
        assert!(calendar_day("30 June").is_err());
    }

    #[test]
    fn a_review_date_comes_as_a_calendar_event_named_after_the_review() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let payload = r#"{"document": {"id": 7, "slug": "patto-2026", "title": "Patto"},
            "review": 12, "scheduled_at": "2026-07-01T07:00:00Z"}"#;
        let rendered = templates
            .render(&mail("review_opened", "it", payload, None))
            .unwrap();
        assert!(
            rendered.text.contains("01/07/2026 09:00 CEST"),
            "{}",
            rendered.text
        );
        let calendar = rendered.calendar.unwrap();
        assert!(
            calendar.contains("DTSTART:20260701T070000Z\r\n"),
            "{calendar}"
        );
        assert!(calendar.contains("METHOD:PUBLISH\r\n"), "{calendar}");
        assert!(
            calendar.contains("SUMMARY:Verifica di «Patto»\r\n"),
            "{calendar}"
        );
        // The same review has the same UID in another person's mail.
        assert!(
            calendar.contains("UID:review-12@patto.example.org\r\n"),
            "{calendar}"
        );
        let mut other = mail("review_opened", "en", payload, None);
        other.message_id = "<2@patto>".to_owned();
        let other = templates.render(&other).unwrap().calendar.unwrap();
        assert!(
            other.contains("UID:review-12@patto.example.org\r\n"),
            "{other}"
        );
        // Without a review id the event falls back to the message's own id.
        let unnamed = templates
            .render(&mail(
                "review_opened",
                "it",
                r#"{"document": {"id": 7, "slug": "p", "title": "Patto"}, "scheduled_at": "2026-07-01T07:00:00Z"}"#,
                None,
            ))
            .unwrap();
        assert!(unnamed.calendar.unwrap().contains("UID:1@patto\r\n"));
        // Without a date there is nothing to put in a calendar.
        let undated = templates
            .render(&mail(
                "review_opened",
                "it",
                r#"{"document": {"id": 7, "slug": "p", "title": "Patto"}}"#,
                None,
            ))
            .unwrap();
        assert_eq!(undated.calendar, None);
    }

    #[test]
    fn every_known_template_exists_in_every_language() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        for template in TEMPLATES {
            for language in LANGUAGES {
                let name = format!("{template}.{language}.txt");
                assert!(templates.environment.get_template(&name).is_ok(), "{name}");
            }
        }
    }
}
