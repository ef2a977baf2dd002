//! Keys, statements, signatures and evidence at the command line. `keygen`, `sign` and
//! `verify` work offline and never open the database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use patto_core::ids::{SignatureRequestId, SigningKeyId};
use patto_core::records::SigningKey;
use patto_engine::{Actor, Engine};

use crate::config::GlobalOptions;
use crate::files;
use crate::messages::Message;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the secret key (mode 0600); the public key goes to FILE.pub.
    #[arg(long)]
    pub out: PathBuf,
    /// Key file format: PEM (PKCS#8 secret, SPKI public, as OpenSSL uses) or the raw keys
    /// in base64url.
    #[arg(long, value_enum, default_value_t = KeyFormat::Pem)]
    pub format: KeyFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormat {
    Pem,
    Base64url,
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// Secret key (PKCS#8 PEM, from `patto keygen` or `openssl genpkey -algorithm ed25519`).
    #[arg(long)]
    pub key: PathBuf,
    /// Where to write the raw 64-byte signature; defaults to STATEMENT.sig.
    #[arg(long, conflicts_with = "base64")]
    pub out: Option<PathBuf>,
    /// Print the signature in base64url instead of writing a file.
    #[arg(long)]
    pub base64: bool,
    /// The statement file, signed byte for byte.
    pub statement: PathBuf,
}

#[derive(Args, Debug)]
pub struct StatementArgs {
    /// Signature request id (see `patto signature list DOCUMENT`).
    #[arg(long)]
    pub request: SignatureRequestId,
    /// Write the statement to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum SignatureCommand {
    /// List the signature requests of a document.
    List {
        /// Document slug.
        document: String,
    },
    /// Submit a signature made offline with `patto sign`.
    Submit {
        /// Signature request id.
        #[arg(long)]
        request: SignatureRequestId,
        /// The statement that was signed, to have any difference named field by field.
        #[arg(long)]
        statement: Option<PathBuf>,
        /// The signature: the raw 64-byte file, or a file holding it in base64url.
        signature: PathBuf,
    },
    /// Decline to sign, with a reason the coordinators will read.
    Decline {
        /// Signature request id.
        #[arg(long)]
        request: SignatureRequestId,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Register a person's public key; it can sign once approved.
    Register {
        /// The person's e-mail address.
        #[arg(long)]
        email: String,
        /// Public key file (SPKI PEM, e.g. KEY.pub from `patto keygen`).
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Approve a pending key (replacing the person's previous key, if any).
    Approve {
        /// Key id.
        key: SigningKeyId,
        /// E-mail of the approving coordinator or admin (default: the command line itself).
        #[arg(long)]
        by: Option<String>,
    },
    /// Revoke a key: later signatures with it are refused, earlier ones stay valid.
    Revoke {
        /// Key id.
        key: SigningKeyId,
        /// Why.
        #[arg(long)]
        reason: String,
        /// E-mail of the person revoking (default: the command line itself).
        #[arg(long)]
        by: Option<String>,
    },
    /// List a person's keys.
    List {
        /// The person's e-mail address.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Write the sealed evidence bundle of a document version.
    Export {
        /// Document slug.
        document: String,
        /// Version number (default: the latest).
        #[arg(long)]
        version: Option<i32>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The evidence bundle.
    pub bundle: PathBuf,
    /// Require the bundle to be sealed by this server public key (SPKI PEM or base64url).
    #[arg(long)]
    pub server_key: Option<PathBuf>,
}

pub fn keygen(global: &GlobalOptions, args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let public_path = public_path(&args.out);
    if public_path.exists() {
        bail!(
            "{} already exists and will not be overwritten; choose another --out",
            public_path.display()
        );
    }
    let key = patto_sign::generate_key();
    let public = key.verifying_key();
    files::write_new_private(&args.out, patto_sign::secret_key_to_pem(&key)?.as_bytes())?;
    files::write_new_public(
        &public_path,
        patto_sign::public_key_to_pem(&public)?.as_bytes(),
    )?;
    println!(
        "{}",
        Message::KeyGenerated {
            secret: args.out.display().to_string(),
            public: public_path.display().to_string(),
            public_key: patto_sign::public_key_to_base64url(&public),
            fingerprint: patto_sign::fingerprint(&public),
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

pub fn sign(global: &GlobalOptions, args: &SignArgs) -> anyhow::Result<ExitCode> {
    let pem = files::read_text(&args.key)?;
    let key = patto_sign::parse_secret_key(&pem).with_context(|| {
        format!(
            "{} is not an Ed25519 secret key (PKCS#8 PEM or base64url); make one with `patto keygen`",
            args.key.display()
        )
    })?;
    let statement = files::read(&args.statement)?;
    let signature = patto_sign::sign(&key, &statement);
    if args.base64 {
        println!("{}", patto_sign::encode_signature(&signature));
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = args.statement.as_os_str().to_owned();
        name.push(".sig");
        PathBuf::from(name)
    });
    std::fs::write(&out, signature).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "{}",
        Message::Signed {
            signature: out.display().to_string(),
            fingerprint: patto_sign::fingerprint(&key.verifying_key()),
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn statement(global: &GlobalOptions, args: &StatementArgs) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let statement = engine.statement_for(args.request).await?;
    match &args.out {
        // The exact bytes, without a newline: they are what gets signed.
        None => print!("{statement}"),
        Some(path) => std::fs::write(path, statement.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn signature(
    global: &GlobalOptions,
    command: &SignatureCommand,
) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let language = global.language;
    match command {
        SignatureCommand::List { document } => {
            let document = engine.document_by_slug(document).await?;
            for view in engine.signature_requests(document.id).await? {
                println!(
                    "{}",
                    Message::RequestLine {
                        request: view.request.id,
                        round: view.round.id,
                        version: view.round.version_number,
                        round_status: view.round.status,
                        organisation: &view.organisation,
                        email: &view.person_email,
                        status: view.request.status,
                    }
                    .text(language)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SignatureCommand::Submit {
            request,
            statement,
            signature,
        } => {
            let signature = read_signature(signature)?;
            let statement = match statement {
                Some(path) => Some(files::read(path)?),
                None => None,
            };
            // The operator relays what the signatory signed: the signature itself shows
            // whose key made it.
            let outcome = engine
                .submit_signature(Actor::System, *request, statement.as_deref(), &signature)
                .await?;
            println!(
                "{}",
                Message::SignatureAccepted {
                    request: outcome.request_id,
                    state: &outcome.state,
                }
                .text(language)
            );
            Ok(ExitCode::SUCCESS)
        }
        SignatureCommand::Decline { request, reason } => {
            let outcome = engine
                .decline_signature(Actor::System, *request, reason)
                .await?;
            println!(
                "{}",
                Message::SignatureDeclined {
                    request: outcome.request_id
                }
                .text(language)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A signature file: 64 raw bytes, or base64url text.
fn read_signature(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = files::read(path)?;
    if bytes.len() == patto_sign::SIGNATURE_LENGTH {
        return Ok(bytes);
    }
    let text = String::from_utf8(bytes).ok().with_context(|| {
        format!(
            "{} is neither a 64-byte signature nor base64url text",
            path.display()
        )
    })?;
    Ok(patto_sign::decode_signature(text.trim())
        .with_context(|| {
            format!(
                "{} is neither a 64-byte signature nor base64url text",
                path.display()
            )
        })?
        .to_vec())
}

async fn actor_by_email(engine: &Engine, email: Option<&str>) -> anyhow::Result<Actor> {
    Ok(match email {
        Some(email) => Actor::Person(engine.person_by_email(email).await?.id),
        None => Actor::System,
    })
}

pub async fn keys(global: &GlobalOptions, command: &KeysCommand) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let language = global.language;
    let key = match command {
        KeysCommand::Register { email, public_key } => {
            let person = engine.person_by_email(email).await?;
            let text = files::read_text(public_key)?;
            engine.register_key(Actor::System, person.id, &text).await?
        }
        KeysCommand::Approve { key, by } => {
            let actor = actor_by_email(&engine, by.as_deref()).await?;
            engine.approve_key(actor, *key).await?
        }
        KeysCommand::Revoke { key, reason, by } => {
            let actor = actor_by_email(&engine, by.as_deref()).await?;
            engine.revoke_key(actor, *key, reason).await?
        }
        KeysCommand::List { email } => {
            let person = engine.person_by_email(email).await?;
            for key in engine.keys_of(person.id).await? {
                println!("{}", key_line(&key).text(language));
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", key_line(&key).text(language));
    Ok(ExitCode::SUCCESS)
}

fn key_line(key: &SigningKey) -> Message<'_> {
    Message::KeyLine {
        id: key.id,
        fingerprint: &key.fingerprint,
        status: key.status,
    }
}

pub fn server_key(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    let key = global.server_key()?.verifying_key();
    print!("{}", patto_sign::public_key_to_pem(&key)?);
    println!(
        "{}",
        Message::ServerKey {
            public_key: patto_sign::public_key_to_base64url(&key),
            fingerprint: patto_sign::fingerprint(&key),
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn evidence(
    global: &GlobalOptions,
    command: &EvidenceCommand,
) -> anyhow::Result<ExitCode> {
    let EvidenceCommand::Export {
        document,
        version,
        out,
    } = command;
    let server_key = global.server_key()?;
    let engine = global.engine().await?;
    let bundle = engine
        .export_evidence(document, *version, &server_key)
        .await?;
    std::fs::write(out, bundle.as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "{}",
        Message::EvidenceWritten {
            path: out.display().to_string(),
            bytes: bundle.len(),
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(global: &GlobalOptions, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let bytes = files::read(&args.bundle)?;
    let verdict = match &args.server_key {
        Some(path) => {
            let pinned = patto_sign::parse_public_key(&files::read_text(path)?)
                .with_context(|| format!("{} is not an Ed25519 public key", path.display()))?;
            patto_sign::verify_bundle_pinned(&bytes, &pinned)
        }
        None => patto_sign::verify_bundle(&bytes),
    };
    match verdict {
        Ok(report) => {
            println!(
                "{}",
                Message::BundleReport { report: &report }.text(language)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!(
                "{}",
                Message::BundleInvalid {
                    path: args.bundle.display().to_string(),
                    problem: error.to_string(),
                }
                .text(language)
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
