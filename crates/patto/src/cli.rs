//! Commands and their dispatch.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use patto_core::Language;
use patto_core::ids::OutboxMessageId;
use patto_core::status::OutboxStatus;
use patto_core::workflow::Catalogue;
use patto_engine::{
    Actor, DirectoryDifference, Engine, EngineError, ErrorCode, Requeue, TrustedProxies,
};

use crate::bench::BenchCommand;
use crate::config::GlobalOptions;
use crate::messages::Message;
use crate::schedule::ScheduleCommand;
use crate::signing::{
    EvidenceCommand, KeygenArgs, KeysCommand, ServerKeyArgs, SignArgs, SignatureCommand,
    StatementArgs, VerifyArgs,
};
use crate::survey::{ReportingModelCommand, SurveyCommand};

/// Patto: workflows and verifiable endorsements for inter-municipal programmes.
#[derive(Parser, Debug)]
#[command(name = "patto", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "PATTO_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Origins that browsers may call the API from, comma-separated
        /// (e.g. https://portale.example.org); none by default, which keeps CORS closed.
        #[arg(
            long = "cors-origins",
            env = "PATTO_CORS_ORIGINS",
            value_delimiter = ','
        )]
        cors_origins: Vec<String>,
        /// Proxies in front of the server whose X-Forwarded-For header is believed when
        /// telling clients apart (for the login rate limits), comma-separated addresses
        /// or CIDR ranges (e.g. 10.0.0.0/8, ::1); none by default, which makes the peer
        /// of each connection the client.
        #[arg(
            long = "trusted-proxies",
            env = "PATTO_TRUSTED_PROXIES",
            default_value = ""
        )]
        trusted_proxies: TrustedProxies,
        #[command(flatten)]
        mail: crate::config::MailOptions,
        #[command(flatten)]
        reviews: crate::config::ReviewWorkerOptions,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` at the repository root keeps it.
    Schema,
    /// Bring the database schema up to date.
    Migrate,
    /// Write a consistent copy of the SQLite database to a new file, also while the
    /// server runs (PostgreSQL: use pg_dump).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check or draw workflow definitions.
    #[command(subcommand)]
    Workflows(WorkflowsCommand),
    /// Load demo data (the 28 Comuni, partners, a pact and protocols) into an empty database.
    Demo,
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the instance operators (only from the command line, on the server).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Tokens for scripts, for instance operators only.
    #[command(subcommand)]
    Token(TokenCommand),
    /// See the outgoing e-mail and send failed messages again.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Make a new Ed25519 key pair for signing (offline).
    Keygen(KeygenArgs),
    /// Print the statement a signatory must sign for a signature request.
    Statement(StatementArgs),
    /// Sign a statement with your secret key: a statement file offline, or a signature
    /// request on a server (--server, --request), submitted with your session.
    Sign(SignArgs),
    /// Log in to a Patto server with a code sent to your e-mail address, and keep the
    /// session on this machine for the online commands (sign, keys request).
    Login(crate::online::LoginArgs),
    /// End your session on a Patto server and forget it on this machine.
    Logout(crate::online::LogoutArgs),
    /// List, submit or decline signatures.
    #[command(subcommand)]
    Signature(SignatureCommand),
    /// Register, approve, revoke and list signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print or write the server's public key, or its fingerprint (it seals evidence
    /// bundles; publish the fingerprint so that readers can pin it).
    ServerKey(ServerKeyArgs),
    /// Export evidence bundles.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Check an evidence bundle offline against a trusted server key and print who signed
    /// what, when. Exit codes: 0 valid, 1 invalid, 2 unusable key or trust file, 3 origin
    /// unverified (no trusted key given), 4 unreadable bundle.
    Verify(VerifyArgs),
    /// Compute the fire times of review schedules.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Measure performance and print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Check or load the reporting model (areas and indicators).
    #[command(subcommand, name = "reporting-model")]
    ReportingModel(ReportingModelCommand),
    /// Import or export the baseline survey (ricognizione).
    #[command(subcommand)]
    Survey(SurveyCommand),
}

#[derive(Subcommand, Debug)]
pub enum WorkflowsCommand {
    /// Validate every definition in a directory; lists every problem with file:line:column.
    Check {
        /// Directory of definitions.
        #[arg(default_value = "workflows")]
        dir: PathBuf,
    },
    /// Print a workflow as a Mermaid stateDiagram-v2.
    Graph {
        /// Workflow name, e.g. pact.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chains of the audit trail and compare them with their heads.
    Verify {
        /// Slug of the document whose chain to check.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        document: Option<String>,
        /// Check every instance, the key registry and the directory (whose chain is also
        /// replayed and compared with every directory row).
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Make a person an instance operator, registering them first if needed.
    Add {
        /// The person's e-mail address.
        #[arg(long)]
        email: String,
        /// The person's name (used when they are not registered yet).
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// List outgoing e-mail, oldest first: id, status, attempts, template, recipient,
    /// next attempt, last error (never a login code).
    List {
        /// Only messages in this status: pending, sent, failed or dropped.
        #[arg(long)]
        status: Option<String>,
    },
    /// Put failed messages back in the queue, with their attempts counted afresh.
    Retry {
        /// The message's id, as `patto outbox list` shows it.
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<i64>,
        /// Every failed message.
        #[arg(long)]
        all_failed: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a new bearer token for an instance operator (shown once; other people log in
    /// by e-mail).
    Create {
        /// The operator's e-mail address.
        #[arg(long)]
        email: String,
        /// Days until the token expires.
        #[arg(long = "expires", default_value_t = 90)]
        expires_days: u32,
    },
}

/// Runs a command and turns its outcome into an exit code; errors go to stderr with what
/// to do next. An internal failure (the server's own fault) is also logged with its
/// whole cause, so that a command run by a scheduler leaves it in the log.
pub async fn run(cli: Cli) -> ExitCode {
    let language = cli.global.language;
    match dispatch(cli).await {
        Ok(code) => code,
        Err(error) => {
            let internal = error
                .chain()
                .find_map(|cause| cause.downcast_ref::<EngineError>())
                .is_some_and(|engine| engine.code() == ErrorCode::Internal);
            if internal {
                tracing::error!(
                    code = ErrorCode::Internal.as_str(),
                    error = %format!("{error:#}"),
                    "command failed"
                );
            }
            let prefix = match language {
                Language::It => "errore",
                Language::En => "error",
            };
            // Errors quote input (names, paths, file contents): shown escaped, so that
            // they cannot forge lines or send the terminal escape codes.
            let message = format!("{error:#}");
            let shown: Vec<_> = message.lines().map(patto_core::text::escape_line).collect();
            eprintln!("{prefix}: {}", shown.join("\n"));
            ExitCode::FAILURE
        }
    }
}

/// Hands each command to the function that carries it out.
async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Serve {
            bind,
            cors_origins,
            trusted_proxies,
            mail,
            reviews,
        } => {
            crate::server::serve(
                &global,
                bind,
                &cors_origins,
                trusted_proxies,
                &mail,
                &reviews,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", patto_api::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => migrate(&global).await,
        Command::Backup { out } => crate::backup::run(&global, &out).await,
        Command::Workflows(WorkflowsCommand::Check { dir }) => check_workflows(&global, &dir),
        Command::Workflows(WorkflowsCommand::Graph { name }) => graph_workflow(&global, &name),
        Command::Demo => crate::demo::load(&global).await,
        Command::Audit(AuditCommand::Verify { document, all }) => {
            verify_audit(&global, document, all).await
        }
        Command::Operator(OperatorCommand::Add { email, name }) => {
            add_operator(&global, &email, &name).await
        }
        Command::Token(TokenCommand::Create {
            email,
            expires_days,
        }) => create_token(&global, &email, expires_days).await,
        Command::Outbox(command) => outbox(&global, command).await,
        Command::Keygen(args) => crate::signing::keygen(&global, &args),
        Command::Statement(args) => crate::signing::statement(&global, &args).await,
        Command::Sign(args) => crate::signing::sign(&global, &args).await,
        Command::Login(args) => {
            use std::io::IsTerminal;
            let stdin = std::io::stdin();
            let interactive = stdin.is_terminal();
            crate::online::login(&global, &args, &mut stdin.lock(), interactive).await
        }
        Command::Logout(args) => crate::online::logout(&global, &args).await,
        Command::Signature(command) => crate::signing::signature(&global, &command).await,
        Command::Keys(command) => crate::signing::keys(&global, &command).await,
        Command::ServerKey(args) => crate::signing::server_key(&global, &args),
        Command::Evidence(command) => crate::signing::evidence(&global, &command).await,
        Command::Verify(args) => crate::signing::verify(&global, &args),
        Command::Schedule(command) => crate::schedule::run(&global, &command),
        Command::Bench(command) => {
            crate::bench::run(&global, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ReportingModel(command) => crate::survey::reporting_model(&global, &command).await,
        Command::Survey(command) => crate::survey::survey(&global, &command).await,
    }
}

/// `patto operator add`: makes a person an instance operator, registering them first
/// when they are new. Only the command line makes operators.
async fn add_operator(global: &GlobalOptions, email: &str, name: &str) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let engine = global.engine().await?;
    let person = match engine.person_by_email(email).await {
        Ok(person) => person,
        Err(error) if error.code() == ErrorCode::NotFound => {
            engine
                .create_person(Actor::System, email, name, language)
                .await?
        }
        Err(error) => return Err(error.into()),
    };
    engine.grant_operator(Actor::System, person.id).await?;
    println!(
        "{}",
        Message::OperatorGranted {
            email: &person.email
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}

/// `patto outbox list` and `patto outbox retry`, as the instance operator who runs them
/// (`--operator EMAIL`). A listing goes to stdout, one tab-separated row a line; the count to
/// stderr.
async fn outbox(global: &GlobalOptions, command: OutboxCommand) -> anyhow::Result<ExitCode> {
    let language = global.language;
    match command {
        OutboxCommand::List { status } => {
            let status = status
                .map(|status| status.trim().parse::<OutboxStatus>())
                .transpose()
                .map_err(|error| {
                    anyhow::anyhow!(
                        Message::BadOutboxStatus {
                            given: &error.value,
                            expected: &error.expected,
                        }
                        .text(language)
                    )
                })?;
            let engine = global.engine().await?;
            let operator = global.operator(&engine).await?;
            let rows = engine.list_outbox(operator, status).await?;
            for row in &rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    row.id,
                    row.status.as_str(),
                    row.attempts,
                    row.template,
                    row.recipient,
                    row.next_attempt_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    row.last_error
                        .as_deref()
                        .unwrap_or("-")
                        .replace(['\t', '\n'], " "),
                );
            }
            eprintln!(
                "{}",
                Message::OutboxListed { count: rows.len() }.text(language)
            );
        }
        OutboxCommand::Retry { id, all_failed } => {
            let which = match (id, all_failed) {
                (Some(id), false) => Requeue::One(OutboxMessageId::new(id)),
                _ => Requeue::AllFailed,
            };
            let engine = global.engine().await?;
            let operator = global.operator(&engine).await?;
            let count = engine.requeue_mail(operator, which).await?;
            println!("{}", Message::OutboxRequeued { count }.text(language));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `patto token create`: prints a token for an operator on stdout, alone, so that a
/// script can capture it; what it is and when it expires goes to stderr.
async fn create_token(
    global: &GlobalOptions,
    email: &str,
    expires_days: u32,
) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let issued = engine
        .issue_operator_token(Actor::System, email, expires_days)
        .await?;
    println!("{}", issued.token);
    eprintln!(
        "{}",
        Message::TokenCreated {
            email: &issued.person.email,
            expires_at: issued
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

/// Replays the directory chain, prints every row that differs from it and a summary, and
/// returns how many differ.
async fn print_directory_differences(engine: &Engine, language: Language) -> anyhow::Result<usize> {
    let differences = engine.directory_differences().await?;
    for difference in &differences {
        let message = match difference {
            DirectoryDifference::Missing { table, id } => {
                Message::DirectoryRowMissing { table, id: *id }
            }
            DirectoryDifference::Unrecorded { table, id, found } => {
                Message::DirectoryRowUnrecorded {
                    table,
                    id: *id,
                    found: found.to_string(),
                }
            }
            DirectoryDifference::Altered {
                table,
                id,
                expected,
                found,
            } => Message::DirectoryRowAltered {
                table,
                id: *id,
                expected: expected.to_string(),
                found: found.to_string(),
            },
        };
        println!("{}", message.text(language));
    }
    println!(
        "{}",
        Message::DirectoryMatches {
            rows_differing: differences.len()
        }
        .text(language)
    );
    Ok(differences.len())
}

/// `patto migrate`: brings the schema up to date and says how many migrations are applied.
async fn migrate(global: &GlobalOptions) -> anyhow::Result<ExitCode> {
    let engine = global.engine().await?;
    let applied = engine.applied_migrations().await?.len();
    println!(
        "{}",
        Message::Migrated {
            target: global.database().describe(),
            applied
        }
        .text(global.language)
    );
    Ok(ExitCode::SUCCESS)
}

/// `patto workflows check DIR`: every problem of every definition, or a summary.
fn check_workflows(global: &GlobalOptions, dir: &Path) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let shown = dir.display().to_string();
    match Catalogue::load_dir(dir) {
        Ok(catalogue) => {
            let names: Vec<&str> = catalogue.names().collect();
            println!(
                "{}",
                Message::WorkflowsValid {
                    count: names.len(),
                    names: names.join(", "),
                    dir: &shown
                }
                .text(language)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "{}",
                Message::WorkflowsInvalid {
                    count: problems.len(),
                    dir: &shown
                }
                .text(language)
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `patto workflows graph NAME`: the definition as a Mermaid state diagram.
fn graph_workflow(global: &GlobalOptions, name: &str) -> anyhow::Result<ExitCode> {
    let catalogue = global.catalogue()?;
    match catalogue.get(name) {
        Some(definition) => {
            print!("{}", definition.to_mermaid());
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let known: Vec<&str> = catalogue.names().collect();
            eprintln!(
                "{}",
                Message::UnknownWorkflow {
                    name,
                    known: known.join(", ")
                }
                .text(global.language)
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `patto audit verify`: checks one document's chain or every chain (with `--all`, also
/// replays the directory chain against the directory), and fails when any is broken.
async fn verify_audit(
    global: &GlobalOptions,
    document: Option<String>,
    all: bool,
) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let engine = global.engine().await?;
    let verdicts = if all {
        engine.verify_all_chains().await?
    } else {
        let slug = document.context("give a document slug or --all")?;
        let document = engine.document_by_slug(&slug).await?;
        let instance = engine.instance_of(document.id).await?;
        vec![engine.verify_chain(instance.id).await?]
    };
    let mut broken = 0;
    for verdict in &verdicts {
        let label = &verdict.chain;
        match &verdict.problem {
            None => println!(
                "{}",
                Message::ChainIntact {
                    document: label,
                    events: verdict.events
                }
                .text(language)
            ),
            Some(problem) => {
                broken += 1;
                println!(
                    "{}",
                    Message::ChainBroken {
                        document: label,
                        problem: problem.to_string()
                    }
                    .text(language)
                );
            }
        }
    }
    let altered_chains = broken;
    if all {
        broken += print_directory_differences(&engine, language).await?;
    }
    println!(
        "{}",
        Message::ChainsSummary {
            intact: verdicts.len() - altered_chains,
            broken: altered_chains
        }
        .text(language)
    );
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
