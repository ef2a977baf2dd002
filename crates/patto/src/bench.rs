//! `patto bench`: benchmarks that print figures.
//!
//! `schedules` creates review schedules all due at one instant and fires them with
//! scheduler workers: the time the burst takes, how late each review fired, and the
//! process's resident memory.
//!
//! `transitions` measures committed workflow transitions per second through the engine.
//! It uses the shipped `social-report` workflow and alternates `submit_for_review`
//! (guard `has_version`, notifies the coordinator) with `revise` (notifies the working
//! group): every firing claims the instance version, reads the guard facts, checks the
//! roles, moves the state, appends one chained event and writes one outbox row, in one
//! transaction. Each run is followed by a run of a reference doing the same writes with
//! no Patto in between — pgbench with `docs/benchmarks/pgbench-transition.sql` on
//! PostgreSQL, a plain single-writer loop on SQLite — and the figures printed are the
//! medians of both and of their ratio. It never writes benchmark rows into a database
//! that holds data unless `--scratch` says that database is a scratch one.
//!
//! `bundle` builds an evidence bundle in memory, with as many endorsements (each by its
//! own key, registered and approved in the key registry) and audit events as asked, and
//! measures how long verifying it takes: verification is linear in the bundle's size.
//!
//! `api` measures GraphQL requests per second and their latency: concurrent clients ask
//! the server, over loopback HTTP, for a signed pact's versions, signers and available
//! transitions.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use patto_core::ids::DocumentId;
use patto_core::records::SignatoryEntry;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{Actor, DatabaseConfig, Engine, FireRequest, NewDocument, NewOrganisation};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};
use url::Url;

use crate::config::GlobalOptions;
use crate::messages::Message;

mod portal;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Fire workflow transitions from concurrent clients and report throughput and latency.
    Transitions(TransitionsArgs),
    /// Verify Ed25519 signatures one by one and in a batch, and report signatures per second.
    Verify(VerifyArgs),
    /// Fire a burst of review schedules all due at once and report the time it takes,
    /// how late reviews fire (p50, p99) and the resident memory.
    Schedules(SchedulesArgs),
    /// Build an evidence bundle in memory and report how long verifying it takes.
    Bundle(BundleArgs),
    /// Send a GraphQL query from concurrent clients over HTTP and report requests per
    /// second and latency.
    Api(ApiArgs),
    /// Load the demo data and report the median time to serve each page type of the
    /// public portal.
    Portal(portal::PortalArgs),
    /// Deliver queued mail with the mail worker into a local SMTP sink and report
    /// messages per second, beside Postfix's smtp-source into the same sink.
    Outbox(crate::bench_outbox::OutboxArgs),
}

#[derive(Args, Debug)]
pub struct ApiArgs {
    /// Concurrent clients, each on its own connection.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Requests sent in each run, spread over the clients.
    #[arg(long, default_value_t = 5000)]
    pub requests: usize,
    /// Runs; the throughput reported is their median.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

#[derive(Args, Debug)]
pub struct SchedulesArgs {
    /// Review schedules to create, all due at the same instant.
    #[arg(long, default_value_t = 100_000)]
    pub schedules: usize,
    /// Documents the schedules are spread over.
    #[arg(long, default_value_t = 100)]
    pub documents: usize,
    /// Scheduler workers firing the burst together, as several `patto serve` would.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// The configured database is a scratch database: write benchmark rows into it even
    /// if it holds data (see `bench transitions --scratch`).
    #[arg(long)]
    pub scratch: bool,
}

#[derive(Args, Debug)]
pub struct BundleArgs {
    /// Endorsements in the bundle, each by its own key.
    #[arg(long, default_value_t = 1000)]
    pub endorsements: usize,
    /// Events in the document's audit chain (at least one per endorsement).
    #[arg(long, default_value_t = 20000)]
    pub events: usize,
    /// Runs; the time reported is their median.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Signatures to verify in each run, each by its own key over its own statement.
    #[arg(long, default_value_t = 1000)]
    pub signatures: usize,
    /// Runs; the figures reported are their medians.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Args, Debug)]
pub struct TransitionsArgs {
    /// Workflow instances to create; each client works on its own share of them. The
    /// default, 16 per client, is the shape of the pgbench reference.
    #[arg(long)]
    pub instances: Option<usize>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Transitions fired in each run.
    #[arg(long, default_value_t = 2000)]
    pub transitions: usize,
    /// Runs, each followed by a run of the reference; the figures reported are medians.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Seconds of each pgbench run, the reference on PostgreSQL.
    #[arg(long, default_value_t = 5)]
    pub reference_seconds: u32,
    /// The configured database is a scratch database: write benchmark rows into it even
    /// if it holds data. Without it the benchmark refuses a SQLite database that holds
    /// data, and on PostgreSQL works in a database of its own that it drops afterwards.
    #[arg(long)]
    pub scratch: bool,
}

pub async fn run(global: &GlobalOptions, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Transitions(args) => transitions(global, args).await,
        BenchCommand::Verify(args) => verify(global, &args),
        BenchCommand::Schedules(args) => schedules(global, args).await,
        BenchCommand::Bundle(args) => bundle(global, &args),
        BenchCommand::Api(args) => api(global, args).await,
        BenchCommand::Portal(args) => portal::run(global, args).await,
        BenchCommand::Outbox(args) => crate::bench_outbox::run(global, args).await,
    }
}

/// The system clock moved by a fixed amount: the burst's schedules are created due at an
/// instant in the future, and the workers see that instant arrive the moment the burst
/// starts, so that lateness counts from then.
struct ShiftedClock(chrono::Duration);

impl patto_scheduler::Clock for ShiftedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

/// The resident set size of this process (`VmRSS`) and its peak (`VmHWM`), in MiB; zero
/// where `/proc` is not available.
fn resident_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn schedules(global: &GlobalOptions, args: SchedulesArgs) -> anyhow::Result<()> {
    if args.schedules == 0 || args.documents == 0 || args.workers == 0 {
        bail!("give at least one schedule, one document and one worker");
    }
    let workplace = Workplace::choose(global, args.scratch).await?;
    let measured = burst(global, &args, &workplace.config).await;
    let cleaned = workplace.clean_up().await;
    measured.and(cleaned)
}

async fn burst(
    global: &GlobalOptions,
    args: &SchedulesArgs,
    config: &DatabaseConfig,
) -> anyhow::Result<()> {
    let engine = Arc::new(crate::config::open_engine(config, global.catalogue()?).await?);
    if !args.scratch && !engine.is_empty().await? {
        bail!(
            "{}",
            Message::BenchRefused {
                target: config.describe()
            }
            .text(global.language)
        );
    }
    println!(
        "{}",
        Message::BenchSchedulesSetup {
            schedules: args.schedules,
            documents: args.documents,
            workers: args.workers,
            target: config.describe()
        }
        .text(global.language)
    );
    let (_, documents) = setup(&engine, args.documents).await?;
    let due = chrono::Utc::now() + chrono::Duration::days(1);
    let due = due - chrono::Duration::nanoseconds(i64::from(due.timestamp_subsec_nanos()));
    for (n, document) in documents.iter().enumerate() {
        let share =
            args.schedules / args.documents + usize::from(n < args.schedules % args.documents);
        engine
            .add_due_review_schedules(Actor::System, *document, "0 9 * * *", due, share)
            .await?;
    }
    let (seeded_mib, _) = resident_mib();
    let clock: Arc<dyn patto_scheduler::Clock> = Arc::new(ShiftedClock(due - chrono::Utc::now()));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(args.workers);
    for _ in 0..args.workers {
        let worker = patto_scheduler::Worker::new(
            engine.clone(),
            clock.clone(),
            patto_scheduler::WorkerConfig::default(),
        );
        workers.push(tokio::spawn(async move { worker.tick().await }));
    }
    let mut failures = 0;
    for worker in workers {
        failures += worker
            .await
            .context("a scheduler worker stopped")??
            .failures;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (after_mib, peak_mib) = resident_mib();
    let mut lateness = Vec::with_capacity(args.schedules);
    for document in &documents {
        let instance = engine.instance_of(*document).await?;
        for review in engine.reviews(instance.id).await? {
            lateness.push(
                (review.fired_at - review.scheduled_for)
                    .to_std()
                    .unwrap_or_default(),
            );
        }
    }
    if lateness.len() != args.schedules || failures > 0 {
        bail!(
            "{} reviews fired for {} schedules ({failures} failures): the burst did not fire each schedule once",
            lateness.len(),
            args.schedules
        );
    }
    lateness.sort();
    println!(
        "{}",
        Message::BenchSchedules {
            schedules: args.schedules,
            seconds,
            per_second: args.schedules as f64 / seconds,
            p50_ms: percentile(&lateness, 0.50),
            p99_ms: percentile(&lateness, 0.99),
            seeded_mib,
            after_mib,
            peak_mib,
        }
        .text(global.language)
    );
    Ok(())
}

/// A bundle of `endorsements` signatures and `events` audit events, sealed, then verified
/// `runs` times against the server key.
fn bundle(global: &GlobalOptions, args: &BundleArgs) -> anyhow::Result<()> {
    use serde_json::json;
    if args.runs == 0 || args.endorsements == 0 || args.events < args.endorsements {
        bail!(
            "give at least one endorsement, at least as many events as endorsements, and one run"
        );
    }
    let at = |second: usize| {
        format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}.000000Z",
            1 + second / 86_400,
            second / 3600 % 24,
            second / 60 % 60,
            second % 60
        )
    };
    let content = b"Patto di prova per la misura della verifica\n";
    let sha256 = patto_sign::content_hash(content);
    let server = patto_sign::generate_key();
    let mut key_events = Vec::with_capacity(2 * args.endorsements);
    let mut audit = Vec::with_capacity(args.events);
    let mut keys = Vec::with_capacity(args.endorsements);
    let mut endorsements = Vec::with_capacity(args.endorsements);
    let fillers = args.events - args.endorsements;
    for i in 0..args.endorsements {
        let id = i as i64 + 1;
        let key = patto_sign::generate_key();
        let public = key.verifying_key();
        let public_key = patto_sign::public_key_to_base64url(&public);
        key_events.push((
            "key_registered".to_owned(),
            Some(id),
            json!({"key": id, "person": id, "public_key": public_key}),
            at(2 * i),
        ));
        key_events.push((
            "key_approved".to_owned(),
            Some(0),
            json!({"key": id, "person": id}),
            at(2 * i + 1),
        ));
        let statement = patto_sign::Statement::new(
            id,
            1,
            "patto-di-prova",
            "Patto di prova",
            1,
            &sha256,
            id,
            &format!("Firmatario {id}"),
            id,
            &format!("Comune {id}"),
            "endorse",
            &at(0),
        )
        .to_canonical();
        let signature = patto_sign::encode_signature(&patto_sign::sign(&key, statement.as_bytes()));
        audit.push((
            "signature_accepted".to_owned(),
            Some(id),
            json!({"request": id, "key": id, "person": id, "organisation": id,
                   "statement_sha256": patto_sign::content_hash(statement.as_bytes()),
                   "signature": signature}),
            at(200_000 + i),
        ));
        keys.push(patto_sign::BundleKey {
            id,
            person_id: id,
            fingerprint: patto_sign::fingerprint(&public),
            public_key,
        });
        endorsements.push(patto_sign::Endorsement {
            request_id: id,
            statement,
            signature,
            key_id: id,
        });
    }
    // The other events of a long history, before the signatures.
    let history = (0..fillers).map(|i| {
        (
            "transition".to_owned(),
            Some(0),
            json!({"from": "drafting", "to": "sharing", "transition": "share", "n": i}),
            at(100_000 + i % 90_000),
        )
    });
    let audit: Vec<_> = history.chain(audit).collect();
    let bundle = patto_sign::Bundle {
        format: patto_sign::BUNDLE_FORMAT.to_owned(),
        exported_at: at(400_000),
        document: patto_sign::BundleDocument {
            id: 1,
            slug: "patto-di-prova".to_owned(),
            title: "Patto di prova".to_owned(),
            kind: "pact".to_owned(),
        },
        version: patto_sign::BundleVersion {
            number: 1,
            sha256,
            content_base64: base64_standard(content),
            created_at: at(0),
        },
        endorsements,
        keys,
        people: Vec::new(),
        key_chain: patto_sign::BundleChain::build(0, key_events)?,
        audit: patto_sign::BundleChain::build(1, audit)?,
        server: patto_sign::BundleServer {
            public_key: String::new(),
            fingerprint: String::new(),
        },
        seal: String::new(),
    };
    let text = patto_sign::seal(bundle, &server)?;
    let public = server.verifying_key();
    let mut times = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let started = Instant::now();
        patto_sign::verify_bundle_pinned(text.as_bytes(), &public)
            .context("the benchmark bundle did not verify")?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        Message::BenchBundle {
            endorsements: args.endorsements,
            events: args.events,
            bytes: text.len(),
            runs: args.runs,
            median_ms: times[times.len() / 2],
        }
        .text(global.language)
    );
    Ok(())
}

/// Standard base64 with padding, as bundles carry document content.
fn base64_standard(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Statement-sized messages signed by distinct keys, verified with `verify_strict` one at
/// a time and then all at once with batch verification.
fn verify(global: &GlobalOptions, args: &VerifyArgs) -> anyhow::Result<()> {
    if args.signatures == 0 || args.runs == 0 {
        bail!("give at least one signature and one run");
    }
    let keys: Vec<_> = (0..args.signatures)
        .map(|_| patto_sign::generate_key())
        .collect();
    let messages: Vec<Vec<u8>> = (0..args.signatures)
        .map(|i| format!(r#"{{"domain":"patto/endorsement/v1","request":{i},"version":1,"content_sha256":"{}"}}"#, "ab".repeat(32)).into_bytes())
        .collect();
    let signatures: Vec<[u8; 64]> = keys
        .iter()
        .zip(&messages)
        .map(|(key, message)| patto_sign::sign(key, message))
        .collect();
    let public: Vec<_> = keys.iter().map(|k| k.verifying_key()).collect();
    let items: Vec<_> = public
        .iter()
        .zip(&messages)
        .zip(&signatures)
        .map(|((key, message), signature)| (key, message.as_slice(), signature))
        .collect();
    let mut single = Vec::with_capacity(args.runs);
    let mut batch = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let started = Instant::now();
        for (key, message, signature) in &items {
            patto_sign::verify(key, message, signature.as_slice())
                .context("a benchmark signature did not verify")?;
        }
        single.push(args.signatures as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        patto_sign::verify_batch(&items).context("the benchmark batch did not verify")?;
        batch.push(args.signatures as f64 / started.elapsed().as_secs_f64());
    }
    single.sort_by(f64::total_cmp);
    batch.sort_by(f64::total_cmp);
    println!(
        "{}",
        Message::BenchVerify {
            signatures: args.signatures,
            runs: args.runs,
            single_per_second: single[single.len() / 2],
            batch_per_second: batch[batch.len() / 2],
        }
        .text(global.language)
    );
    Ok(())
}

/// Removes a scratch directory when the benchmark ends, however it ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(prefix: &str) -> anyhow::Result<ScratchDir> {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the scratch directory {}", dir.display()))?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the transitions are compared with: the database doing the same writes with no
/// Patto in between.
enum Reference {
    /// A plain single-writer loop on a SQLite file in this directory, beside Patto's.
    SqliteLoop { dir: PathBuf },
    /// `docs/benchmarks/pgbench-limit.sh` against the server of this URL.
    Pgbench { server: Url },
}

/// Where the benchmark writes, and what it removes afterwards.
struct Workplace {
    config: DatabaseConfig,
    reference: Reference,
    /// The SQLite data directory made for this run.
    _scratch_dir: Option<ScratchDir>,
    /// The PostgreSQL database made for this run: (server URL, database name).
    scratch_database: Option<(String, String)>,
}

impl Workplace {
    /// Never the configured database unless it is empty or `--scratch` says it may be
    /// written: without a URL a scratch SQLite directory, with a PostgreSQL URL a scratch
    /// database on that server.
    async fn choose(global: &GlobalOptions, scratch: bool) -> anyhow::Result<Workplace> {
        let Some(url) = &global.database_url else {
            let dir = ScratchDir::new("patto-bench")?;
            return Ok(Workplace {
                config: DatabaseConfig::DataDir(dir.0.clone()),
                reference: Reference::SqliteLoop { dir: dir.0.clone() },
                _scratch_dir: Some(dir),
                scratch_database: None,
            });
        };
        let config = DatabaseConfig::Url(url.clone());
        if url.starts_with("sqlite:") {
            let dir = sqlite_directory(url);
            return Ok(Workplace {
                config,
                reference: Reference::SqliteLoop { dir },
                _scratch_dir: None,
                scratch_database: None,
            });
        }
        let server = Url::parse(url)
            .with_context(|| format!("cannot read the database URL {}", config.describe()))?;
        if scratch {
            return Ok(Workplace {
                config,
                reference: Reference::Pgbench { server },
                _scratch_dir: None,
                scratch_database: None,
            });
        }
        let name = format!("patto_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(url)
            .await
            .with_context(|| format!("cannot connect to {}", config.describe()))?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .with_context(|| {
                format!(
                    "cannot create the scratch database {name} on {}; give a user allowed to create databases",
                    config.describe()
                )
            })?;
        admin.close().await.ok();
        let mut scratch_url = server.clone();
        scratch_url.set_path(&format!("/{name}"));
        Ok(Workplace {
            config: DatabaseConfig::Url(scratch_url.to_string()),
            reference: Reference::Pgbench { server },
            _scratch_dir: None,
            scratch_database: Some((url.clone(), name)),
        })
    }

    /// Drops the scratch PostgreSQL database, if one was made.
    async fn clean_up(self) -> anyhow::Result<()> {
        if let Some((server, name)) = &self.scratch_database {
            let mut admin = admin_connection(server).await?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot drop the scratch database {name}; drop it by hand"))?;
            admin.close().await.ok();
        }
        Ok(())
    }
}

/// A connection for creating and dropping the scratch database; creating and dropping
/// take a while, which is no news worth a slow-statement warning.
async fn admin_connection(url: &str) -> anyhow::Result<PgConnection> {
    let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
    Ok(PgConnection::connect_with(&options).await?)
}

/// The directory of a `sqlite://PATH?...` URL's file, where the reference loop writes too
/// so that both use the same disk.
fn sqlite_directory(url: &str) -> PathBuf {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

async fn transitions(global: &GlobalOptions, args: TransitionsArgs) -> anyhow::Result<()> {
    let instances = args.instances.unwrap_or(args.clients * 16);
    if args.clients == 0 || instances < args.clients {
        bail!(
            "give at least one client and at least as many instances as clients (--instances >= --clients)"
        );
    }
    if args.runs == 0 || args.transitions == 0 || args.reference_seconds == 0 {
        bail!("give at least one run, one transition per run and one second per reference run");
    }
    let workplace = Workplace::choose(global, args.scratch).await?;
    let measured = measure(global, &args, instances, &workplace).await;
    let cleaned = workplace.clean_up().await;
    measured.and(cleaned)
}

/// Interleaved runs: Patto, the reference, Patto, the reference...; each pair's ratio
/// is taken in the same conditions, and the summary reports the medians.
async fn measure(
    global: &GlobalOptions,
    args: &TransitionsArgs,
    instances: usize,
    workplace: &Workplace,
) -> anyhow::Result<()> {
    let engine =
        Arc::new(crate::config::open_engine(&workplace.config, global.catalogue()?).await?);
    if !args.scratch && !engine.is_empty().await? {
        bail!(
            "{}",
            Message::BenchRefused {
                target: workplace.config.describe()
            }
            .text(global.language)
        );
    }
    let reference_seconds = match workplace.reference {
        Reference::SqliteLoop { .. } => None,
        Reference::Pgbench { .. } => Some(args.reference_seconds),
    };
    println!(
        "{}",
        Message::BenchSetup {
            instances,
            clients: args.clients,
            target: workplace.config.describe(),
            pgbench_seconds: reference_seconds,
        }
        .text(global.language)
    );
    let (actor, documents) = setup(&engine, instances).await?;
    let sqlite_reference = match &workplace.reference {
        Reference::SqliteLoop { dir } => Some(PlainSqliteLoop::create(dir, instances).await?),
        Reference::Pgbench { .. } => None,
    };
    let pgbench = match &workplace.reference {
        Reference::Pgbench { server } => Some(Pgbench::new(server)?),
        Reference::SqliteLoop { .. } => None,
    };

    let mut throughputs = Vec::with_capacity(args.runs);
    let mut references = Vec::with_capacity(args.runs);
    let mut ratios = Vec::with_capacity(args.runs);
    let mut latencies = Vec::with_capacity(args.runs * args.transitions);
    let mut conflicts = 0;
    for run in 1..=args.runs {
        let started = Instant::now();
        let mut clients = Vec::with_capacity(args.clients);
        for client in 0..args.clients {
            let mine: Vec<DocumentId> = documents
                .iter()
                .skip(client)
                .step_by(args.clients)
                .copied()
                .collect();
            // Spread the run's transitions over the clients, the first ones taking the
            // remainder.
            let quota = args.transitions / args.clients
                + usize::from(client < args.transitions % args.clients);
            let engine = engine.clone();
            clients.push(tokio::spawn(async move {
                client_loop(&engine, actor, &mine, quota).await
            }));
        }
        for client in clients {
            let outcome = client.await.context("a benchmark client stopped")??;
            latencies.extend(outcome.latencies);
            conflicts += outcome.conflicts;
        }
        let seconds = started.elapsed().as_secs_f64();
        let per_second = args.transitions as f64 / seconds;
        let reference_per_second = match (&sqlite_reference, &pgbench) {
            (Some(reference), _) => reference.run(args.transitions).await?,
            (None, Some(pgbench)) => pgbench.run(args.clients, args.reference_seconds)?,
            (None, None) => bail!("no reference to compare with"),
        };
        throughputs.push(per_second);
        references.push(reference_per_second);
        ratios.push(per_second / reference_per_second);
        println!(
            "{}",
            Message::BenchRun {
                run,
                transitions: args.transitions,
                seconds,
                per_second,
                reference_per_second,
            }
            .text(global.language)
        );
    }
    latencies.sort();
    println!(
        "{}",
        Message::BenchSummary {
            runs: args.runs,
            median_per_second: median(&mut throughputs),
            median_reference_per_second: median(&mut references),
            median_ratio: median(&mut ratios),
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            conflicts,
        }
        .text(global.language)
    );
    if let Some(reference) = sqlite_reference {
        reference.remove().await;
    }
    Ok(())
}

/// The reference on SQLite: one writer doing what a transition writes (one UPDATE of an
/// instance row, one event INSERT, one outbox INSERT) in a transaction of its own,
/// committed with `synchronous = FULL` in WAL mode, as Patto's database is. It uses the
/// driver Patto uses (sqlx) directly, in a file of its own beside Patto's.
struct PlainSqliteLoop {
    connection: tokio::sync::Mutex<SqliteConnection>,
    file: PathBuf,
    rows: i64,
}

impl PlainSqliteLoop {
    async fn create(dir: &Path, rows: usize) -> anyhow::Result<PlainSqliteLoop> {
        let file = dir.join(format!(
            "reference-{}.sqlite3",
            uuid::Uuid::new_v4().simple()
        ));
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .disable_statement_logging();
        let mut connection = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("cannot create {}", file.display()))?;
        // The tables of docs/benchmarks/pgbench-limit.sh, in SQLite's types.
        sqlx::raw_sql(
            "CREATE TABLE bench_instances (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL);
             CREATE TABLE bench_events (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id INTEGER NOT NULL,
               prev_hash TEXT NOT NULL, hash TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
               recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
             CREATE TABLE bench_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
               instance_id INTEGER, recipient TEXT NOT NULL, template TEXT NOT NULL, payload TEXT NOT NULL,
               status TEXT NOT NULL DEFAULT 'pending', created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
        )
        .execute(&mut connection)
        .await?;
        let rows = i64::try_from(rows).context("too many instances")?;
        for id in 1..=rows {
            sqlx::query(
                "INSERT INTO bench_instances (id, state, version) VALUES (?, 'drafting', 1)",
            )
            .bind(id)
            .execute(&mut connection)
            .await?;
        }
        Ok(PlainSqliteLoop {
            connection: tokio::sync::Mutex::new(connection),
            file,
            rows,
        })
    }

    /// Commits `transactions` transactions one after another; returns them per second.
    async fn run(&self, transactions: usize) -> anyhow::Result<f64> {
        let mut connection = self.connection.lock().await;
        let started = Instant::now();
        for n in 0..transactions {
            let id = i64::try_from(n).unwrap_or(i64::MAX) % self.rows + 1;
            let mut tx = connection.begin().await?;
            sqlx::query(
                "UPDATE bench_instances SET version = version + 1, \
                 state = CASE WHEN state = 'drafting' THEN 'review' ELSE 'drafting' END WHERE id = ?",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO bench_events (instance_id, prev_hash, hash, kind, payload) \
                 VALUES (?, ?, ?, 'transition', '{\"transition\":\"submit_for_review\",\"from\":\"drafting\",\"to\":\"review\"}')",
            )
            .bind(id)
            .bind(uuid::Uuid::new_v4().simple().to_string())
            .bind(uuid::Uuid::new_v4().simple().to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO bench_outbox (message_id, instance_id, recipient, template, payload) \
                 VALUES (?, ?, 'bench@example.org', 'review_requested', '{}')",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(transactions as f64 / started.elapsed().as_secs_f64())
    }

    async fn remove(self) {
        let PlainSqliteLoop {
            connection, file, ..
        } = self;
        connection.into_inner().close().await.ok();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

/// The reference on PostgreSQL: `docs/benchmarks/pgbench-limit.sh` with
/// `docs/benchmarks/pgbench-transition.sql`, both as checked in (built into the binary),
/// run against the benchmark's server; the script makes and drops a database of its own.
struct Pgbench {
    dir: ScratchDir,
    environment: Vec<(&'static str, String)>,
}

const PGBENCH_SCRIPT: &str = include_str!("../../../docs/benchmarks/pgbench-limit.sh");
const PGBENCH_TRANSACTION: &str = include_str!("../../../docs/benchmarks/pgbench-transition.sql");

impl Pgbench {
    fn new(server: &Url) -> anyhow::Result<Pgbench> {
        let dir = ScratchDir::new("patto-pgbench")?;
        std::fs::write(dir.0.join("pgbench-limit.sh"), PGBENCH_SCRIPT)?;
        std::fs::write(dir.0.join("pgbench-transition.sql"), PGBENCH_TRANSACTION)?;
        // libpq's variables, from the URL Patto uses.
        let mut environment = vec![(
            "PGHOST",
            server.host_str().unwrap_or("127.0.0.1").to_owned(),
        )];
        if let Some(port) = server.port() {
            environment.push(("PGPORT", port.to_string()));
        }
        if !server.username().is_empty() {
            environment.push(("PGUSER", decoded(server.username())));
        }
        if let Some(password) = server.password() {
            environment.push(("PGPASSWORD", decoded(password)));
        }
        Ok(Pgbench { dir, environment })
    }

    /// One pgbench run; returns its transactions per second.
    fn run(&self, clients: usize, seconds: u32) -> anyhow::Result<f64> {
        let output = std::process::Command::new("bash")
            .arg(self.dir.0.join("pgbench-limit.sh"))
            .arg(clients.to_string())
            .arg(seconds.to_string())
            .envs(self.environment.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .context("cannot run bash for the pgbench reference")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "the pgbench reference failed (it needs pgbench, psql, createdb and dropdb from PostgreSQL's client tools, and a user allowed to create databases): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|tps| tps.parse().ok())
            .with_context(|| format!("pgbench printed no tps line: {stdout}"))
    }
}

fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// One organisation with a coordinator who is also the working group's only member, and
/// `instances` social reports with one version each, so that each notification reaches
/// exactly one person.
async fn setup(engine: &Engine, instances: usize) -> anyhow::Result<(Actor, Vec<DocumentId>)> {
    let system = Actor::System;
    let prefix = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let organisation = engine
        .create_organisation(
            system,
            NewOrganisation {
                slug: prefix.clone(),
                name: format!("Benchmark {prefix}"),
                category: OrganisationCategory::Other,
                istat_code: None,
            },
        )
        .await?;
    let person = engine
        .create_person(
            system,
            &format!("{prefix}@example.org"),
            "Benchmark",
            Language::It,
        )
        .await?;
    engine
        .add_membership(system, person.id, organisation.id, Role::Coordinator)
        .await?;
    let group = engine
        .create_working_group(system, &format!("{prefix}-gdl"), "Benchmark")
        .await?;
    engine
        .add_working_group_member(system, group.id, person.id)
        .await?;
    let actor = Actor::Person(person.id);
    let mut documents = Vec::with_capacity(instances);
    for i in 0..instances {
        let document = engine
            .create_document(
                actor,
                NewDocument {
                    kind: DocumentKind::SocialReport,
                    slug: format!("{prefix}-{i}"),
                    title: format!("Bilancio sociale {i}"),
                    parent_id: None,
                    owner_organisation_id: organisation.id,
                    working_group_id: Some(group.id),
                },
            )
            .await?;
        engine
            .add_version(
                actor,
                document.id,
                format!("Bilancio sociale {i}").into_bytes(),
            )
            .await?;
        documents.push(document.id);
    }
    Ok((actor, documents))
}

struct ClientOutcome {
    latencies: Vec<Duration>,
    conflicts: usize,
}

async fn client_loop(
    engine: &Engine,
    actor: Actor,
    documents: &[DocumentId],
    quota: usize,
) -> anyhow::Result<ClientOutcome> {
    let mut known = Vec::with_capacity(documents.len());
    for document in documents {
        let instance = engine.instance_of(*document).await?;
        known.push((instance.state, instance.version));
    }
    let mut latencies = Vec::with_capacity(quota);
    let mut conflicts = 0;
    for n in 0..quota {
        let slot = n % documents.len();
        let (state, version) = &known[slot];
        let transition = if state == "drafting" {
            "submit_for_review"
        } else {
            "revise"
        };
        let started = Instant::now();
        let result = engine
            .fire(
                actor,
                FireRequest {
                    document_id: documents[slot],
                    transition: transition.to_owned(),
                    expected_version: *version,
                },
            )
            .await;
        match result {
            Ok(outcome) => {
                latencies.push(started.elapsed());
                known[slot] = (outcome.state, outcome.version);
            }
            Err(error) if error.code() == patto_engine::ErrorCode::Conflict => {
                conflicts += 1;
                let instance = engine.instance_of(documents[slot]).await?;
                known[slot] = (instance.state, instance.version);
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(ClientOutcome {
        latencies,
        conflicts,
    })
}

/// The query `patto bench api` sends: a published pact's versions, signatures with their
/// signers, and the transitions leaving its state.
pub const API_QUERY: &str = "query($slug: String!) { document(slug: $slug) { versions { edges { node { number sha256 } } } signatures { edges { node { signer { name } } } } availableTransitions { name } } }";

/// Serves the API on a loopback port and has `clients` concurrent clients send
/// [`API_QUERY`] about a pact signed by three organisations, as the public.
async fn api(global: &GlobalOptions, args: ApiArgs) -> anyhow::Result<()> {
    if args.clients == 0 || args.runs == 0 || args.requests < args.clients {
        bail!("give at least one client and one run, and at least as many requests as clients");
    }
    let workplace = Workplace::choose(global, false).await?;
    let measured = measure_api(global, &args, &workplace.config).await;
    let cleaned = workplace.clean_up().await;
    measured.and(cleaned)
}

/// The runs of `bench api`, in the database chosen for them.
async fn measure_api(
    global: &GlobalOptions,
    args: &ApiArgs,
    config: &DatabaseConfig,
) -> anyhow::Result<()> {
    let engine = Arc::new(crate::config::open_engine(config, global.catalogue()?).await?);
    println!(
        "{}",
        Message::BenchApiSetup {
            clients: args.clients,
            target: config.describe()
        }
        .text(global.language)
    );
    let slug = signed_pact(&engine).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = crate::server::router(
        engine.clone(),
        Arc::new(patto_api::EngineSessions(engine.clone())),
        patto_api::ApiConfig::default(),
    );
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{address}/graphql");
    let body = format!(
        r#"{{"query": {}, "variables": {{"slug": "{slug}"}}}}"#,
        serde_json::Value::from(API_QUERY)
    );
    let mut throughputs = Vec::with_capacity(args.runs);
    let mut latencies = Vec::with_capacity(args.runs * args.requests);
    for run in 1..=args.runs {
        let started = Instant::now();
        let mut clients = Vec::with_capacity(args.clients);
        for client in 0..args.clients {
            let quota =
                args.requests / args.clients + usize::from(client < args.requests % args.clients);
            let (url, body) = (url.clone(), body.clone());
            clients.push(tokio::spawn(
                async move { api_client(&url, &body, quota).await },
            ));
        }
        for client in clients {
            latencies.extend(client.await.context("a benchmark client stopped")??);
        }
        let seconds = started.elapsed().as_secs_f64();
        let per_second = args.requests as f64 / seconds;
        throughputs.push(per_second);
        println!(
            "{}",
            Message::BenchApiRun {
                run,
                requests: args.requests,
                seconds,
                per_second
            }
            .text(global.language)
        );
    }
    server.abort();
    throughputs.sort_by(f64::total_cmp);
    latencies.sort();
    println!(
        "{}",
        Message::BenchApiSummary {
            runs: args.runs,
            median_per_second: throughputs[throughputs.len() / 2],
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
        }
        .text(global.language)
    );
    Ok(())
}

/// One client: `quota` requests one after another on one connection, each checked for
/// an answer without errors.
async fn api_client(url: &str, body: &str, quota: usize) -> anyhow::Result<Vec<Duration>> {
    let client = crate::http_client::builder().build()?;
    let mut latencies = Vec::with_capacity(quota);
    for _ in 0..quota {
        let started = Instant::now();
        let answer = client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await?
            .text()
            .await?;
        latencies.push(started.elapsed());
        if answer.contains("\"errors\"") {
            bail!("the benchmark query failed: {answer}");
        }
    }
    Ok(latencies)
}

/// A pact with two versions, shared, frozen and signed by three organisations' signatories
/// with approved keys, so that it is in force and published.
async fn signed_pact(engine: &Engine) -> anyhow::Result<String> {
    let system = Actor::System;
    let prefix = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let organisation = |slug: String| NewOrganisation {
        name: format!("Benchmark {slug}"),
        slug,
        category: OrganisationCategory::Other,
        istat_code: None,
    };
    let owner = engine
        .create_organisation(system, organisation(prefix.clone()))
        .await?;
    let coordinator = engine
        .create_person(
            system,
            &format!("{prefix}@example.org"),
            "Benchmark",
            Language::It,
        )
        .await?;
    engine
        .add_membership(system, coordinator.id, owner.id, Role::Coordinator)
        .await?;
    let actor = Actor::Person(coordinator.id);
    let pact = engine
        .create_document(
            actor,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: format!("{prefix}-pact"),
                title: "Patto di benchmark".to_owned(),
                parent_id: None,
                owner_organisation_id: owner.id,
                working_group_id: None,
            },
        )
        .await?;
    for text in ["Prima stesura", "Seconda stesura"] {
        engine
            .add_version(actor, pact.id, text.as_bytes().to_vec())
            .await?;
    }
    let mut signers = Vec::new();
    for n in 0..3 {
        let comune = engine
            .create_organisation(system, organisation(format!("{prefix}-{n}")))
            .await?;
        let person = engine
            .create_person(
                system,
                &format!("{prefix}-{n}@example.org"),
                &format!("Sindaco {n}"),
                Language::It,
            )
            .await?;
        engine
            .add_membership(system, person.id, comune.id, Role::Member)
            .await?;
        let comune_coordinator = engine
            .create_person(
                system,
                &format!("{prefix}-{n}-coordinator@example.org"),
                &format!("Segretario {n}"),
                Language::It,
            )
            .await?;
        engine
            .add_membership(system, comune_coordinator.id, comune.id, Role::Coordinator)
            .await?;
        // The signatory proves they hold the key and a coordinator of the Comune approves
        // it: the paths a real holder and coordinator take, since the system binds no key.
        let key = patto_sign::generate_key();
        let registration = crate::signing::registration_request(&key, &person.email, &comune.slug);
        let registered = engine
            .register_key(Actor::Person(person.id), registration.as_bytes())
            .await?;
        engine
            .approve_key(Actor::Person(comune_coordinator.id), registered.id, None)
            .await?;
        signers.push((
            SignatoryEntry {
                organisation: comune.id,
                person: person.id,
            },
            key,
        ));
    }
    let entries: Vec<SignatoryEntry> = signers.iter().map(|(entry, _)| *entry).collect();
    engine.set_signatories(actor, pact.id, &entries).await?;
    for transition in ["share", "freeze"] {
        let instance = engine.instance_of(pact.id).await?;
        engine
            .fire(
                actor,
                FireRequest {
                    document_id: pact.id,
                    transition: transition.to_owned(),
                    expected_version: instance.version,
                },
            )
            .await?;
    }
    for view in engine.signature_requests(pact.id).await? {
        let (entry, key) = signers
            .iter()
            .find(|(entry, _)| entry.person == view.request.person_id)
            .context("a signature request for someone not on the list")?;
        let statement = engine.statement_for(view.request.id).await?;
        let signature = patto_sign::sign(key, statement.as_bytes());
        engine
            .submit_signature(
                Actor::Person(entry.person),
                view.request.id,
                None,
                &signature,
            )
            .await?;
    }
    Ok(pact.slug)
}

/// The value below which `fraction` of the sorted samples fall, in milliseconds.
fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.50), 50.0);
        assert_eq!(percentile(&samples, 0.99), 99.0);
        assert_eq!(percentile(&samples[..1], 0.99), 1.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
