/// What can go wrong setting up or running the mail worker.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `PATTO_SMTP_URL` does not parse.
    #[error(
        "PATTO_SMTP_URL is not a usable SMTP URL ({0}); write it as smtp://HOST:PORT, smtp://HOST:587?tls=starttls or smtps://USER:PASSWORD@HOST:465"
    )]
    SmtpUrl(String),
    /// `PATTO_MAIL_FROM` is missing or not an address.
    #[error(
        "PATTO_MAIL_FROM must be the sender's address, such as \"Patto <patto@example.org>\" ({0})"
    )]
    From(String),
    /// The lease is longer than a duration can be.
    #[error("PATTO_MAIL_LEASE_SECONDS is too large ({0}); a few minutes is usual")]
    Lease(u64),
    /// An outbox row cannot be turned into a message.
    #[error("cannot render {template} mail: {reason}")]
    Render {
        /// The template's name.
        template: String,
        /// Why not.
        reason: String,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] patto_engine::EngineError),
}
