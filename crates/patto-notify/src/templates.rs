//! Every mail template, in one place: the files in `templates/`, built into the binary.
//! Each template is one plain-text file per language with a `subject` and a `body`
//! block; the HTML part is the body's paragraphs in one shared layout per language,
//! which escapes what it shows. Italian is the default; people whose language is
//! English get English. Times are shown in Europe/Rome (the `rome` filter), links are
//! built from `PATTO_PUBLIC_URL`, and a mail naming a review date carries it as an
//! `.ics` calendar attachment.
//!
//! A template's parameters are the outbox row's JSON payload; a row's secret (a login
//! code) is added as `code`, and the link to the row's document as `link`. A parameter
//! the template uses but the row lacks is an error, never an empty gap in a mail.

use chrono::{DateTime, Utc};
use minijinja::{Environment, UndefinedBehavior, Value};
use patto_core::records::OutgoingMail;

use crate::NotifyError;

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
        let calendar = parameters
            .get("scheduled_at")
            .and_then(serde_json::Value::as_str)
            .map(|at| review_event(mail, at, &link))
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

/// A one-hour iCalendar event at the review's scheduled instant; its UID follows the
/// row's Message-ID, so that a repeated delivery updates the same event.
fn review_event(mail: &OutgoingMail, scheduled_at: &str, link: &str) -> Result<String, String> {
    let start = DateTime::parse_from_rfc3339(scheduled_at)
        .map_err(|error| format!("scheduled_at '{scheduled_at}' is not an RFC 3339 time: {error}"))?
        .with_timezone(&Utc);
    let end = start + chrono::Duration::hours(1);
    let stamp = |at: DateTime<Utc>| at.format("%Y%m%dT%H%M%SZ").to_string();
    let uid = mail.message_id.trim_matches(|c| c == '<' || c == '>');
    let summary = match mail.language.as_str() {
        "en" => "Patto review",
        _ => "Verifica Patto",
    };
    Ok(format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Patto//Patto//IT\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{summary}\r\nURL:{link}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(Utc::now()),
        stamp(start),
        stamp(end),
    ))
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
    fn document_mail_links_to_the_document_and_shows_rome_time() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let payload = r#"{"document": {"id": 7, "slug": "patto-2026", "title": "Patto <educativo>"},
            "commitment": "Doposcuola", "due": "2026-03-29T00:30:00Z"}"#;
        let italian = templates
            .render(&mail("commitment_overdue", "it", payload, None))
            .unwrap();
        assert_eq!(italian.subject, "Impegno scaduto: «Doposcuola»");
        // 00:30 UTC on the spring-forward day is still winter time in Rome (UTC+1).
        assert!(
            italian.text.contains("29/03/2026 01:30 CET"),
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
        assert!(english.text.contains("was due on 29/03/2026 01:30 CET"));
    }

    #[test]
    fn a_review_date_comes_as_a_calendar_event() {
        let templates = Templates::load(PUBLIC_URL).unwrap();
        let payload = r#"{"document": {"id": 7, "slug": "patto-2026", "title": "Patto"},
            "scheduled_at": "2026-07-01T07:00:00Z"}"#;
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
        assert!(
            calendar.contains("DTEND:20260701T080000Z\r\n"),
            "{calendar}"
        );
        assert!(calendar.contains("UID:1@patto\r\n"), "{calendar}");
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
