//! The SMTP side: configuration, the pooled transport, and building one message.

use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Body, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use patto_core::records::OutgoingMail;

use crate::NotifyError;
use crate::templates::RenderedMail;

/// Where and as whom to send mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// `PATTO_SMTP_URL`: `smtp://host:25`, `smtp://host:587?tls=starttls`,
    /// `smtps://user:pass@host:465`.
    pub smtp_url: String,
    /// `PATTO_MAIL_FROM`: the sender, e.g. `Patto <patto@example.org>`.
    pub from: String,
    /// `PATTO_PUBLIC_URL`: where people reach Patto; links in mail start with it.
    pub public_url: String,
    /// `PATTO_MAIL_MAX_ATTEMPTS`: attempts at one message before it is left as failed.
    pub max_attempts: i32,
    /// `PATTO_MAIL_LEASE_SECONDS`: how long claimed messages are kept from other
    /// workers; a worker that dies delays its batch by this much.
    pub lease: std::time::Duration,
}

/// A pooled SMTP transport and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Builds the transport; nothing connects until the first message. Call it inside
    /// a Tokio runtime: the connection pool starts its cleaning task here.
    pub fn new(config: &MailConfig) -> Result<Self, NotifyError> {
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|error| NotifyError::From(error.to_string()))?;
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(&config.smtp_url))
                .map_err(|error| NotifyError::SmtpUrl(error.to_string()))?
                .build();
        Ok(Mailer { transport, from })
    }

    /// The message for one outbox row, rendered; fails when the recipient's address or
    /// the rendered text cannot make a message.
    pub(crate) fn message(
        &self,
        mail: &OutgoingMail,
        rendered: RenderedMail,
    ) -> Result<Message, NotifyError> {
        let render_error = |reason: String| NotifyError::Render {
            template: mail.template.clone(),
            reason,
        };
        let to = mail
            .recipient
            .parse::<Mailbox>()
            .map_err(|error| render_error(format!("recipient {}: {error}", mail.recipient)))?;
        // Quoted-printable keeps long lines and accented letters intact through any relay.
        let text = Body::new_with_encoding(rendered.text, ContentTransferEncoding::QuotedPrintable)
            .map_err(|_| render_error("the text part cannot be encoded".to_owned()))?;
        let html = Body::new_with_encoding(rendered.html, ContentTransferEncoding::QuotedPrintable)
            .map_err(|_| render_error("the HTML part cannot be encoded".to_owned()))?;
        let alternative = MultiPart::alternative_plain_html(text, html);
        let body = match rendered.calendar {
            None => alternative,
            Some(calendar) => {
                let calendar_type =
                    ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                        .map_err(|error| render_error(error.to_string()))?;
                MultiPart::mixed().multipart(alternative).singlepart(
                    Attachment::new("review.ics".to_owned()).body(calendar, calendar_type),
                )
            }
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(mail.message_id.clone()))
            .multipart(body)
            .map_err(|error| render_error(error.to_string()))
    }

    /// Sends one message; the error says whether trying again may help.
    pub(crate) async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(SendFailure {
                permanent: error.is_permanent(),
                reason: error.to_string(),
            }),
        }
    }
}

/// Why the SMTP server did not take a message.
pub(crate) struct SendFailure {
    /// A 5xx answer: the same message will be refused again.
    pub(crate) permanent: bool,
    pub(crate) reason: String,
}

/// The SMTP URL safe to print: the password is hidden.
pub fn describe_smtp_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{credentials}@{host}"),
        },
        None => url.to_owned(),
    }
}

/// lettre calls STARTTLS `tls=required`; Patto's documented spelling is `tls=starttls`.
fn lettre_url(url: &str) -> String {
    url.replace("tls=starttls", "tls=required")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> MailConfig {
        MailConfig {
            smtp_url: url.to_owned(),
            from: "Patto <patto@example.org>".to_owned(),
            public_url: "https://patto.example.org".to_owned(),
            max_attempts: 8,
            lease: crate::LEASE,
        }
    }

    #[tokio::test]
    async fn the_documented_url_forms_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.org:587?tls=starttls",
            "smtps://user:secret@mail.example.org:465",
        ] {
            assert!(Mailer::new(&config(url)).is_ok(), "{url}");
        }
    }

    #[test]
    fn printed_urls_hide_the_password() {
        assert_eq!(
            describe_smtp_url("smtps://user:s3cr@t@mail.example.org:465"),
            "smtps://user:***@mail.example.org:465"
        );
        assert_eq!(
            describe_smtp_url("smtp://127.0.0.1:25"),
            "smtp://127.0.0.1:25"
        );
    }

    #[tokio::test]
    async fn bad_urls_and_senders_are_refused_with_what_to_write() {
        let Err(error) = Mailer::new(&config("http://mail.example.org")) else {
            panic!("an HTTP URL was accepted");
        };
        assert!(error.to_string().contains("smtp://HOST:PORT"), "{error}");
        let Err(error) = Mailer::new(&MailConfig {
            from: "not an address".to_owned(),
            ..config("smtp://127.0.0.1:25")
        }) else {
            panic!("a bad sender was accepted");
        };
        assert!(error.to_string().contains("PATTO_MAIL_FROM"), "{error}");
    }
}
