//! Configuration shared by every command: where the data is, which workflow definitions
//! to load, and the language of messages.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use patto_core::Language;
use patto_core::workflow::Catalogue;
use patto_engine::{Actor, DatabaseConfig, Engine};

use crate::messages::Message;

/// The server key's file name inside the data directory.
pub const SERVER_KEY_FILE: &str = "server-key.pem";

#[derive(Args, Clone, Debug)]
pub struct GlobalOptions {
    /// Directory of the embedded SQLite database (used when no database URL is given).
    #[arg(
        long,
        env = "PATTO_DATA_DIR",
        default_value = "./patto-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL (postgres://...) or SQLite (sqlite://...) URL; overrides --data-dir.
    #[arg(long, env = "PATTO_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory of workflow definitions; defaults to ./workflows when it exists, else to
    /// the definitions built into the binary.
    #[arg(long, env = "PATTO_WORKFLOWS_DIR", global = true)]
    pub workflows_dir: Option<PathBuf>,

    /// The server's Ed25519 secret key (PKCS#8 PEM); defaults to server-key.pem in the
    /// data directory, created there on first use.
    #[arg(long, env = "PATTO_SERVER_KEY", global = true)]
    pub server_key: Option<PathBuf>,

    /// The e-mail address of the instance operator running this command. Commands that
    /// change keys or signatures, load the reporting model, import the survey or manage
    /// the outbox act as this operator and are recorded so;
    /// it must be a person made operator with `patto operator add`.
    #[arg(long, env = "PATTO_OPERATOR_EMAIL", global = true)]
    pub operator: Option<String>,

    /// Language of messages: it (default) or en.
    #[arg(long = "lang", env = "PATTO_LANG", default_value = "it", global = true)]
    pub language: Language,
}

impl GlobalOptions {
    pub fn database(&self) -> DatabaseConfig {
        DatabaseConfig::from_parts(self.database_url.clone(), self.data_dir.clone())
    }

    /// Connects, brings the schema up to date, and loads the workflow definitions.
    pub async fn engine(&self) -> anyhow::Result<Engine> {
        let catalogue = self.catalogue()?;
        open_engine(&self.database(), catalogue).await
    }

    /// The operator running this command, as the actor it acts as.
    ///
    /// The command line opens the database directly, so it cannot authenticate anyone:
    /// whoever can run it can read and write the database anyway. What it can do is
    /// never act anonymously: each change is attributed to a named, registered operator,
    /// who answers for it, and never to a person acting in their own name (approving a
    /// key, declining, signing), which happens through their own session or a statement
    /// signed by their own key.
    pub async fn operator(&self, engine: &Engine) -> anyhow::Result<Actor> {
        let email = self.operator.as_deref().context(
            "this command acts as the instance operator who runs it: give your e-mail address with --operator or PATTO_OPERATOR_EMAIL (operators are made with `patto operator add`)",
        )?;
        let person = engine.person_by_email(email).await?;
        if !engine.is_operator(person.id).await? {
            anyhow::bail!(
                "{email} is not an operator of this instance: only an operator runs this command (see `patto operator add`)"
            );
        }
        Ok(Actor::Person(person.id))
    }

    /// The server's signing key: the configured file, or `server-key.pem` in the data
    /// directory, created on first use.
    pub fn server_key(&self) -> anyhow::Result<patto_sign::SigningKey> {
        let path = match &self.server_key {
            Some(path) => path.clone(),
            None => {
                let path = self.data_dir.join(SERVER_KEY_FILE);
                if !path.exists() {
                    std::fs::create_dir_all(&self.data_dir).with_context(|| {
                        format!(
                            "cannot create the data directory {}",
                            self.data_dir.display()
                        )
                    })?;
                    let key = patto_sign::generate_key();
                    let pem = patto_sign::secret_key_to_pem(&key)?;
                    crate::files::write_private(
                        &path,
                        pem.as_bytes(),
                        crate::files::Existing::Keep,
                    )?;
                    return Ok(key);
                }
                path
            }
        };
        let pem = crate::files::read_secret(&path).with_context(|| {
            "the server key is unreadable; point PATTO_SERVER_KEY at a key made with `patto keygen`"
        })?;
        patto_sign::secret_key_from_pem(&pem).with_context(|| {
            format!(
                "{} is not an Ed25519 secret key in PKCS#8 PEM",
                path.display()
            )
        })
    }

    /// Where the workflow definitions come from: the configured folder, else `./workflows`
    /// when the working directory has one, else the definitions built into the binary.
    pub fn definitions_source(&self) -> DefinitionsSource {
        let default_dir = Path::new("workflows");
        match &self.workflows_dir {
            Some(dir) => DefinitionsSource::Folder(dir.clone()),
            None if default_dir.is_dir() => DefinitionsSource::Folder(default_dir.to_owned()),
            None => DefinitionsSource::BuiltIn,
        }
    }

    /// The workflow definitions, validated. A folder with any problem is refused whole,
    /// with every problem as `file:line:column` and how to choose another folder.
    pub fn catalogue(&self) -> anyhow::Result<Catalogue> {
        let source = self.definitions_source();
        let loaded = match &source {
            DefinitionsSource::Folder(dir) => Catalogue::load_dir(dir),
            DefinitionsSource::BuiltIn => Catalogue::shipped(),
        };
        loaded.map_err(|problems| {
            anyhow::anyhow!(
                "{}",
                Message::WorkflowsRefused {
                    source: source.describe(self.language),
                    problems: problems.iter().map(ToString::to_string).collect(),
                }
                .text(self.language)
            )
        })
    }
}

/// Where `patto serve` sends e-mail.
#[derive(Args, Clone, Debug)]
pub struct MailOptions {
    /// SMTP server: smtp://HOST:PORT, smtp://HOST:587?tls=starttls or
    /// smtps://USER:PASSWORD@HOST:465. Without it mail stays queued.
    #[arg(long, env = "PATTO_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of Patto's e-mail, e.g. "Patto <patto@example.org>".
    #[arg(long, env = "PATTO_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Where people reach Patto; links in e-mail start with it.
    #[arg(
        long,
        env = "PATTO_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,

    /// Attempts at sending one message before it is left as failed (the waits between
    /// them double from 30 seconds, with jitter, up to 6 hours).
    #[arg(long, env = "PATTO_MAIL_MAX_ATTEMPTS", default_value_t = patto_notify::MAX_ATTEMPTS,
          value_parser = clap::value_parser!(i32).range(1..=100))]
    pub mail_max_attempts: i32,
}

impl MailOptions {
    /// The mail configuration, `None` when no SMTP server is set; an SMTP server without
    /// a sender is an error.
    pub fn config(&self) -> anyhow::Result<Option<patto_notify::MailConfig>> {
        let Some(smtp_url) = self.smtp_url.clone().filter(|url| !url.trim().is_empty()) else {
            return Ok(None);
        };
        let from = self
            .mail_from
            .clone()
            .filter(|from| !from.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "PATTO_SMTP_URL is set but PATTO_MAIL_FROM is not: set it to the sender's address, such as \"Patto <patto@example.org>\""
                )
            })?;
        Ok(Some(patto_notify::MailConfig {
            smtp_url,
            from,
            public_url: self.public_url.clone(),
            max_attempts: self.mail_max_attempts,
        }))
    }
}

/// Connects to a database and brings its schema up to date, saying which database could
/// not be migrated when that fails.
pub async fn open_engine(config: &DatabaseConfig, catalogue: Catalogue) -> anyhow::Result<Engine> {
    let engine = Engine::connect(config, catalogue).await?;
    engine
        .migrate()
        .await
        .with_context(|| format!("cannot migrate {}", config.describe()))?;
    Ok(engine)
}

/// Where the workflow definitions in use come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefinitionsSource {
    /// A folder of `*.toml` files: the configured one, or `./workflows`.
    Folder(PathBuf),
    /// The definitions built into the binary.
    BuiltIn,
}

impl DefinitionsSource {
    /// A description for staff, e.g. "the folder workflows".
    pub fn describe(&self, language: Language) -> String {
        match self {
            DefinitionsSource::Folder(dir) => Message::DefinitionsFolder {
                dir: dir.display().to_string(),
            }
            .text(language),
            DefinitionsSource::BuiltIn => Message::DefinitionsBuiltIn.text(language),
        }
    }
}
