//! Every mail template, in one place: the files in `templates/`, built into the binary,
//! one subject, plain-text and HTML file per template and language. Italian is the
//! default; people whose language is English get English. HTML templates escape what
//! they interpolate (minijinja escapes by the `.html` extension).
//!
//! A template's parameters are the outbox row's JSON payload; a row's secret (a login
//! code) is added as `code`. A parameter the template uses but the row lacks is an
//! error, never an empty gap in a mail.

use minijinja::{Environment, UndefinedBehavior, Value};
use patto_core::records::OutgoingMail;

use crate::NotifyError;

/// The templates this worker can render; rows of other templates stay queued.
pub const TEMPLATES: &[&str] = &[patto_engine::LOGIN_CODE_TEMPLATE];

/// The languages templates exist in; the first is the default.
const LANGUAGES: &[&str] = &["it", "en"];

/// (file name, source) of every template file.
const FILES: &[(&str, &str)] = &[
    (
        "login_code.it.subject.txt",
        include_str!("../templates/login_code.it.subject.txt"),
    ),
    (
        "login_code.it.txt",
        include_str!("../templates/login_code.it.txt"),
    ),
    (
        "login_code.it.html",
        include_str!("../templates/login_code.it.html"),
    ),
    (
        "login_code.en.subject.txt",
        include_str!("../templates/login_code.en.subject.txt"),
    ),
    (
        "login_code.en.txt",
        include_str!("../templates/login_code.en.txt"),
    ),
    (
        "login_code.en.html",
        include_str!("../templates/login_code.en.html"),
    ),
];

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// The template environment.
pub struct Templates {
    environment: Environment<'static>,
}

impl Templates {
    /// Loads every template; fails when one does not parse.
    pub fn load() -> Result<Self, NotifyError> {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in FILES {
            environment
                .add_template(name, source)
                .map_err(|error| NotifyError::Render {
                    template: (*name).to_owned(),
                    reason: error.to_string(),
                })?;
        }
        Ok(Templates { environment })
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
        let context = Value::from_serialize(&parameters);
        let render = |suffix: &str| {
            let name = format!("{}.{language}.{suffix}", mail.template);
            self.environment
                .get_template(&name)
                .and_then(|template| template.render(&context))
                .map_err(|error| render_error(error.to_string()))
        };
        Ok(RenderedMail {
            subject: render("subject.txt")?.trim().to_owned(),
            text: render("txt")?,
            html: render("html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patto_core::ids::OutboxMessageId;

    fn mail(language: &str, payload: &str, secret: Option<&str>) -> OutgoingMail {
        OutgoingMail {
            id: OutboxMessageId::new(1),
            message_id: "<1@patto>".to_owned(),
            recipient: "a@example.org".to_owned(),
            language: language.to_owned(),
            template: patto_engine::LOGIN_CODE_TEMPLATE.to_owned(),
            payload: payload.to_owned(),
            secret: secret.map(str::to_owned),
            attempts: 0,
        }
    }

    const PAYLOAD: &str = r#"{"name": "Anna <Rossi>", "valid_minutes": 15}"#;

    #[test]
    fn the_login_mail_is_italian_by_default_and_english_on_request() {
        let templates = Templates::load().unwrap();
        let italian = templates
            .render(&mail("it", PAYLOAD, Some("12345678")))
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
        let unknown_language = templates.render(&mail("de", PAYLOAD, Some("1"))).unwrap();
        assert_eq!(unknown_language.subject, italian.subject);
        let english = templates
            .render(&mail("en", PAYLOAD, Some("12345678")))
            .unwrap();
        assert_eq!(english.subject, "Your Patto login code");
        assert!(english.text.contains("Dear Anna"));
        assert!(english.html.contains("12345678"));
    }

    #[test]
    fn a_missing_parameter_or_secret_is_an_error_not_a_gap() {
        let templates = Templates::load().unwrap();
        assert!(templates.render(&mail("it", PAYLOAD, None)).is_err());
        assert!(templates.render(&mail("it", "{}", Some("1"))).is_err());
        assert!(templates.render(&mail("it", "[]", Some("1"))).is_err());
    }

    #[test]
    fn every_known_template_exists_in_every_language() {
        let templates = Templates::load().unwrap();
        for template in TEMPLATES {
            for language in LANGUAGES {
                for suffix in ["subject.txt", "txt", "html"] {
                    let name = format!("{template}.{language}.{suffix}");
                    assert!(templates.environment.get_template(&name).is_ok(), "{name}");
                }
            }
        }
    }
}
