//! Keys, statements, signatures and evidence at the command line. `keygen`, `sign` and
//! `verify` work offline and never open the database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use patto_core::Language;
use patto_core::ids::{SignatureRequestId, SigningKeyId};
use patto_core::records::SigningKey;
use patto_engine::ApprovalOutcome;

use crate::config::GlobalOptions;
use crate::files::{self, Existing};
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
    /// Secret key (PKCS#8 PEM, from `patto keygen` or `openssl genpkey -algorithm ed25519`),
    /// readable by its owner only.
    #[arg(long)]
    pub key: PathBuf,
    /// Sign online: fetch the statement of this signature request from --server, sign it
    /// here and submit the signature with your session (see `patto login`).
    #[arg(long, requires = "server", conflicts_with = "statement")]
    pub request: Option<SignatureRequestId>,
    /// The Patto server to sign on (with --request), e.g. https://patto.example.org
    /// (plain http only to this machine).
    #[arg(long, requires = "request")]
    pub server: Option<String>,
    /// The file of your sessions (see `patto login`).
    #[arg(
        long = "sessions-file",
        env = "PATTO_SESSIONS_FILE",
        requires = "server"
    )]
    pub sessions_file: Option<PathBuf>,
    /// Trust only this CA (PEM) for the server's certificate (see `patto login`);
    /// unused offline.
    #[arg(long = "ca-file", env = "PATTO_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Where to write the raw 64-byte signature; defaults to STATEMENT.sig.
    #[arg(long, conflicts_with_all = ["base64", "server"])]
    pub out: Option<PathBuf>,
    /// Replace the signature file if it exists.
    #[arg(long, conflicts_with_all = ["base64", "server"])]
    pub force: bool,
    /// Print the signature in base64url, on the last line, instead of writing a file.
    #[arg(long, conflicts_with = "server")]
    pub base64: bool,
    /// The document as you received it: refuse to sign unless its SHA-256 is the one the
    /// statement names.
    #[arg(long)]
    pub document: Option<PathBuf>,
    /// Sign without asking for confirmation (what is signed is still printed).
    #[arg(long)]
    pub yes: bool,
    /// The statement file from `patto statement`, signed byte for byte (offline).
    #[arg(required_unless_present = "request")]
    pub statement: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StatementArgs {
    /// Signature request id (see `patto signature list DOCUMENT`).
    #[arg(long)]
    pub request: SignatureRequestId,
    /// Write the statement to this new file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
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
    /// Make a key registration request (offline): a statement naming you, the
    /// organisation the key signs for and the key, signed with that key to prove you
    /// hold it. Submit it within 24 hours.
    Request {
        /// Your secret key (from `patto keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Your e-mail address, as registered in Patto (online, that of your session by
        /// default).
        #[arg(long, required_unless_present = "server")]
        email: Option<String>,
        /// The slug of the organisation the key will sign for.
        #[arg(long)]
        organisation: String,
        /// Where to write the request; defaults to KEY.registration.json.
        #[arg(long, conflicts_with = "server")]
        out: Option<PathBuf>,
        /// Submit the request to this Patto server with your session (see `patto
        /// login`) instead of writing it to a file.
        #[arg(long)]
        server: Option<String>,
        /// The file of your sessions (see `patto login`).
        #[arg(
            long = "sessions-file",
            env = "PATTO_SESSIONS_FILE",
            requires = "server"
        )]
        sessions_file: Option<PathBuf>,
        /// Trust only this CA (PEM) for the server's certificate (see `patto login`);
        /// unused offline.
        #[arg(long = "ca-file", env = "PATTO_CA_FILE")]
        ca_file: Option<PathBuf>,
    },
    /// Register your own key from a request made with `patto keys request`; acts as the
    /// operator running it, who must be the key's holder (others submit their request
    /// through their own session).
    Register {
        /// The registration request file.
        registration: PathBuf,
    },
    /// Approve a pending key as the operator running this command: only where the
    /// holder is their organisation's only coordinator or admin, and then two different
    /// operators approve. Coordinators and admins approve through their own session.
    Approve {
        /// Key id.
        key: SigningKeyId,
        /// Reference of the act that designated the holder (e.g. the protocol number of
        /// a PEC or a delibera).
        #[arg(long = "act")]
        act_reference: Option<String>,
    },
    /// Revoke a key as the operator running this command: later signatures with it are
    /// refused, earlier ones stay valid.
    Revoke {
        /// Key id.
        key: SigningKeyId,
        /// Why.
        #[arg(long)]
        reason: String,
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
        /// Output file, created new.
        #[arg(long)]
        out: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// `patto verify` checks a bundle against a server key the reader already trusts, given
/// by one of `--server-key`, `--server-fingerprint` or the trust file `PATTO_TRUSTED_KEYS`.
///
/// Exit codes: 0 valid (every check passed and the seal is by a trusted key); 1 invalid
/// (a check failed, or the seal is by a key that is not trusted); 2 the key or trust file
/// given is unusable; 3 origin unverified (every check passed, but no trusted key was
/// given, so anyone could have made the bundle); 4 the bundle is unreadable (missing, not
/// a bundle, or of an unknown format).
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The evidence bundle.
    pub bundle: PathBuf,
    /// Trust this server public key, as written by `patto server-key --out` (SPKI PEM).
    #[arg(long, conflicts_with = "server_fingerprint")]
    pub server_key: Option<PathBuf>,
    /// Trust the server key with this fingerprint (SHA256:..., as the coalition publishes
    /// it and `patto server-key --fingerprint` prints it).
    #[arg(long)]
    pub server_fingerprint: Option<String>,
    /// A file of trusted server keys, one per line: the fingerprint, a space and a label
    /// (lines starting with # are comments). Used when neither option above is given.
    #[arg(long, env = "PATTO_TRUSTED_KEYS")]
    pub trusted_keys: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ServerKeyArgs {
    /// Write the public key (SPKI PEM) to this new file, exactly as `patto verify
    /// --server-key` reads it.
    #[arg(long, conflicts_with = "fingerprint")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print only the fingerprint.
    #[arg(long)]
    pub fingerprint: bool,
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
    let (secret_text, public_text) = match args.format {
        KeyFormat::Pem => (
            patto_sign::secret_key_to_pem(&key)?,
            patto_sign::public_key_to_pem(&public)?,
        ),
        KeyFormat::Base64url => (
            format!("{}\n", patto_sign::secret_key_to_text(&key)),
            format!("{}\n", patto_sign::public_key_to_text(&public)),
        ),
    };
    files::write_private(&args.out, secret_text.as_bytes(), Existing::Keep)?;
    files::write_public(&public_path, public_text.as_bytes(), Existing::Keep)?;
    println!(
        "{}",
        Message::KeyGenerated {
            secret: args.out.display().to_string(),
            public: public_path.display().to_string(),
            public_key: patto_sign::public_key_to_text(&public),
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

/// `patto sign`: reads the statement, shows what it commits the signatory to, checks the
/// document against it when given, asks for confirmation and signs the exact bytes.
/// Online (`--server` and `--request`), the statement comes from the server and the
/// signature goes back to it (see [`crate::online::sign`]).
pub async fn sign(global: &GlobalOptions, args: &SignArgs) -> anyhow::Result<ExitCode> {
    if let (Some(server), Some(request)) = (&args.server, args.request) {
        let server = crate::online::ServerArgs {
            server: server.clone(),
            sessions_file: args.sessions_file.clone(),
            ca_file: args.ca_file.clone(),
        };
        return crate::online::sign(
            global,
            &server,
            request,
            &args.key,
            args.document.as_deref(),
            args.yes,
        )
        .await;
    }
    let Some(statement_path) = &args.statement else {
        bail!("give the statement file to sign, or --server and --request to sign online");
    };
    sign_offline(global, args, statement_path)
}

/// `patto sign STATEMENT`: signs a statement file offline.
fn sign_offline(
    global: &GlobalOptions,
    args: &SignArgs,
    statement_path: &Path,
) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let key = read_signing_key(&args.key)?;
    let bytes = files::read(statement_path)?;
    let statement = patto_sign::Statement::from_canonical(&bytes).with_context(|| {
        format!(
            "{} is not an endorsement statement as Patto issues it, and only those are signed here; get yours with `patto statement --request N --out FILE`",
            statement_path.display()
        )
    })?;
    show_and_confirm(language, &statement, args.document.as_deref(), args.yes)?;
    let signature = patto_sign::sign(&key, &bytes);
    if args.base64 {
        println!("{}", patto_sign::encode_signature(&signature));
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = statement_path.as_os_str().to_owned();
        name.push(".sig");
        PathBuf::from(name)
    });
    files::write_public(&out, &signature, Existing::forced(args.force))?;
    println!(
        "{}",
        Message::Signed {
            signature: out.display().to_string(),
            fingerprint: patto_sign::fingerprint(&key.verifying_key()),
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}

/// A secret key to sign with, from a file readable by its owner only.
pub fn read_signing_key(path: &Path) -> anyhow::Result<patto_sign::SigningKey> {
    patto_sign::parse_secret_key(&files::read_secret(path)?)
        .with_context(|| {
            format!(
                "{} cannot be used to sign: it is not an Ed25519 secret key (PKCS#8 PEM or base64url); make one with `patto keygen`",
                path.display()
            )
        })
}

/// What every signing shows before it signs, offline or online: checks the document
/// against the statement when one is given, prints what the statement commits the
/// signatory to, and asks for confirmation unless `yes`.
pub fn show_and_confirm(
    language: Language,
    statement: &patto_sign::Statement,
    document: Option<&Path>,
    yes: bool,
) -> anyhow::Result<()> {
    if let Some(document) = document {
        let found = patto_sign::content_hash(&files::read(document)?);
        if found != statement.content_sha256 {
            bail!(
                "{} has SHA-256 {found}, but the statement is for content with SHA-256 {}: it is not the document this statement endorses, so nothing was signed",
                document.display(),
                statement.content_sha256
            );
        }
    }
    println!(
        "{}",
        Message::SignSummary {
            statement,
            document_checked: document.is_some(),
        }
        .text(language)
    );
    if !yes {
        confirm(language)?;
    }
    Ok(())
}

/// Asks on the terminal whether to sign; without a terminal there is nobody to ask, and
/// signing is refused unless `--yes` says the caller has read what is signed.
fn confirm(language: Language) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("{}", Message::ConfirmNoTerminal.text(language));
    }
    print!("{}", Message::ConfirmPrompt.text(language));
    std::io::stdout().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    let answer = answer.trim().to_lowercase();
    if ["s", "si", "sì", "y", "yes"].contains(&answer.as_str()) {
        Ok(())
    } else {
        bail!("{}", Message::ConfirmDeclined.text(language));
    }
}

pub async fn statement(global: &GlobalOptions, args: &StatementArgs) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let statement = engine.statement_for(args.request).await?;
    match &args.out {
        // The exact bytes, without a newline: they are what gets signed.
        None => print!("{statement}"),
        Some(path) => {
            files::write_public(path, statement.as_bytes(), Existing::forced(args.force))?
        }
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
            // The operator running the command relays what the signatory signed: the
            // signature itself shows whose key made it, and the audit names the relay.
            let operator = global.operator(&engine).await?;
            let signature = read_signature(signature)?;
            let statement = match statement {
                Some(path) => Some(files::read(path)?),
                None => None,
            };
            let outcome = engine
                .submit_signature(operator, *request, statement.as_deref(), &signature)
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
            // Declining is the signatory's own act: this works only for an operator
            // declining a request addressed to themself.
            let operator = global.operator(&engine).await?;
            let outcome = engine.decline_signature(operator, *request, reason).await?;
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

pub async fn keys(global: &GlobalOptions, command: &KeysCommand) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let engine = match command {
        KeysCommand::Request {
            key,
            email,
            organisation,
            out: _,
            server: Some(server),
            sessions_file,
            ca_file,
        } => {
            let server = crate::online::ServerArgs {
                server: server.clone(),
                sessions_file: sessions_file.clone(),
                ca_file: ca_file.clone(),
            };
            return crate::online::request_key(
                global,
                &server,
                key,
                email.as_deref(),
                organisation,
            )
            .await;
        }
        KeysCommand::Request {
            key,
            email,
            organisation,
            out,
            server: None,
            sessions_file: _,
            ca_file: _,
        } => {
            let email = email
                .as_deref()
                .context("give your e-mail address with --email")?;
            return request_key_registration(global, key, email, organisation, out.as_deref());
        }
        _ => global.engine().await?,
    };
    let key = match command {
        KeysCommand::Request { .. } => bail!("`patto keys request` works offline"),
        KeysCommand::Register { registration } => {
            let operator = global.operator(&engine).await?;
            engine
                .register_key(operator, &files::read(registration)?)
                .await?
        }
        KeysCommand::Approve { key, act_reference } => {
            let operator = global.operator(&engine).await?;
            match engine
                .approve_key(operator, *key, act_reference.as_deref())
                .await?
            {
                ApprovalOutcome::Approved(key) => key,
                ApprovalOutcome::AwaitingSecondOperator(key) => {
                    println!(
                        "{}",
                        Message::KeyAwaitingSecondOperator { id: key.id }.text(language)
                    );
                    key
                }
            }
        }
        KeysCommand::Revoke { key, reason } => {
            let operator = global.operator(&engine).await?;
            engine.revoke_key(operator, *key, reason).await?
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

/// A key registration request made now: the statement naming the holder, the
/// organisation and the key, signed with that key, as the JSON file the server takes.
pub fn registration_request(
    key: &patto_sign::SigningKey,
    email: &str,
    organisation: &str,
) -> String {
    let made_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    patto_sign::KeyRegistration::new(
        &email.trim().to_lowercase(),
        organisation.trim(),
        &key.verifying_key(),
        &made_at,
    )
    .sign(key)
    .to_json()
}

/// `patto keys request`: signs a registration statement with the key it registers.
fn request_key_registration(
    global: &GlobalOptions,
    key_path: &Path,
    email: &str,
    organisation: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let key = read_signing_key(key_path)?;
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut name = key_path.as_os_str().to_owned();
        name.push(".registration.json");
        PathBuf::from(name)
    });
    files::write_public(
        &out,
        registration_request(&key, email, organisation).as_bytes(),
        files::Existing::Keep,
    )?;
    println!(
        "{}",
        Message::RegistrationWritten {
            path: out.display().to_string(),
            fingerprint: patto_sign::fingerprint(&key.verifying_key()),
            organisation,
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

fn key_line(key: &SigningKey) -> Message<'_> {
    Message::KeyLine {
        id: key.id,
        fingerprint: &key.fingerprint,
        status: key.status,
    }
}

/// `patto server-key`: the public key as PEM on stdout (or in `--out`), so that the output
/// can be handed to `patto verify --server-key` as it is; the explanation goes to stderr.
pub fn server_key(global: &GlobalOptions, args: &ServerKeyArgs) -> anyhow::Result<ExitCode> {
    let key = global.server_key()?.verifying_key();
    let fingerprint = patto_sign::fingerprint(&key);
    if args.fingerprint {
        println!("{fingerprint}");
        return Ok(ExitCode::SUCCESS);
    }
    let pem = patto_sign::public_key_to_pem(&key)?;
    match &args.out {
        Some(path) => files::write_public(path, pem.as_bytes(), Existing::forced(args.force))?,
        None => print!("{pem}"),
    }
    eprintln!(
        "{}",
        Message::ServerKey {
            public_key: patto_sign::public_key_to_text(&key),
            fingerprint,
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
        force,
    } = command;
    let server_key = global.server_key()?;
    let engine = global.engine().await?;
    let bundle = engine
        .export_evidence(document, *version, &server_key)
        .await?;
    files::write_public(out, bundle.as_bytes(), Existing::forced(*force))?;
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

/// The exit codes of `patto verify`, as documented on [`VerifyArgs`].
mod verify_exit {
    pub const VALID: u8 = 0;
    pub const INVALID: u8 = 1;
    pub const BAD_TRUST: u8 = 2;
    pub const ORIGIN_UNVERIFIED: u8 = 3;
    pub const UNREADABLE: u8 = 4;
}

/// What the reader trusts: fingerprints of server keys, with the label to show for each.
struct Trust {
    fingerprints: Vec<(String, String)>,
}

impl Trust {
    /// The trust the options give, or `None` when they give none.
    fn from_args(args: &VerifyArgs) -> anyhow::Result<Option<Trust>> {
        if let Some(path) = &args.server_key {
            let key = patto_sign::parse_public_key(&files::read_text(path)?).with_context(|| {
                format!(
                    "{} is not a server public key; write one with `patto server-key --out FILE`",
                    path.display()
                )
            })?;
            return Ok(Some(Trust {
                fingerprints: vec![(patto_sign::fingerprint(&key), path.display().to_string())],
            }));
        }
        if let Some(fingerprint) = &args.server_fingerprint {
            let fingerprint = fingerprint.trim();
            check_fingerprint(fingerprint).context("--server-fingerprint")?;
            return Ok(Some(Trust {
                fingerprints: vec![(fingerprint.to_owned(), "--server-fingerprint".to_owned())],
            }));
        }
        let Some(path) = &args.trusted_keys else {
            return Ok(None);
        };
        let text = files::read_text(path)?;
        let mut fingerprints = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (fingerprint, label) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            check_fingerprint(fingerprint).with_context(|| {
                format!(
                    "{}:{}: write one trusted key per line as its fingerprint, a space and a label, e.g. \"SHA256:... Città a Rete Madonie-Termini\"",
                    path.display(),
                    number + 1
                )
            })?;
            fingerprints.push((fingerprint.to_owned(), label.trim().to_owned()));
        }
        if fingerprints.is_empty() {
            bail!("{} lists no trusted key", path.display());
        }
        Ok(Some(Trust { fingerprints }))
    }

    fn label_of(&self, fingerprint: &str) -> &str {
        self.fingerprints
            .iter()
            .find(|(trusted, _)| trusted == fingerprint)
            .map_or("", |(_, label)| label.as_str())
    }
}

/// A fingerprint as `patto server-key --fingerprint` prints it: "SHA256:" and 43
/// characters of base64url.
fn check_fingerprint(text: &str) -> anyhow::Result<()> {
    let well_formed = text.strip_prefix("SHA256:").is_some_and(|digest| {
        digest.len() == 43
            && digest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if well_formed {
        Ok(())
    } else {
        bail!(
            "{:?} is not a key fingerprint: it reads SHA256: followed by 43 letters, digits, - or _",
            text
        )
    }
}

/// `patto verify`: checks everything the bundle holds, then whether a trusted key sealed
/// it; the exit code tells the outcomes apart (see [`VerifyArgs`]).
pub fn verify(global: &GlobalOptions, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let path = args.bundle.display().to_string();
    let trust = match Trust::from_args(args) {
        Ok(trust) => trust,
        Err(error) => {
            eprintln!(
                "{}",
                Message::TrustUnusable {
                    problem: format!("{error:#}")
                }
                .text(language)
            );
            return Ok(ExitCode::from(verify_exit::BAD_TRUST));
        }
    };
    let bytes = match files::read(&args.bundle) {
        Ok(bytes) => bytes,
        Err(error) => {
            println!(
                "{}",
                Message::BundleUnreadable {
                    path: &path,
                    problem: format!("{error:#}"),
                }
                .text(language)
            );
            return Ok(ExitCode::from(verify_exit::UNREADABLE));
        }
    };
    let verdict = match &trust {
        Some(trust) => {
            let fingerprints: Vec<String> =
                trust.fingerprints.iter().map(|(f, _)| f.clone()).collect();
            patto_sign::verify_bundle_trusting(&bytes, &fingerprints)
        }
        None => patto_sign::verify_bundle(&bytes),
    };
    let (message, code) = match &verdict {
        Ok(report) => match &trust {
            Some(trust) => (
                Message::BundleReport {
                    report,
                    trusted_as: Some(trust.label_of(&report.server_fingerprint)),
                },
                verify_exit::VALID,
            ),
            None => (
                Message::BundleReport {
                    report,
                    trusted_as: None,
                },
                verify_exit::ORIGIN_UNVERIFIED,
            ),
        },
        Err(error) if error.is_unreadable() => (
            Message::BundleUnreadable {
                path: &path,
                problem: error.to_string(),
            },
            verify_exit::UNREADABLE,
        ),
        Err(error) => (
            Message::BundleInvalid {
                path: &path,
                problem: error.to_string(),
            },
            verify_exit::INVALID,
        ),
    };
    println!("{}", message.text(language));
    Ok(ExitCode::from(code))
}
