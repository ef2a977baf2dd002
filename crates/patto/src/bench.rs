//! `patto bench`: benchmarks that print figures.
//!
//! `transitions` measures committed workflow transitions per second through the engine.
//! It uses the shipped `social-report` workflow and alternates `submit_for_review`
//! (guard `has_version`, notifies the coordinator) with `revise` (notifies the working
//! group): every firing claims the instance version, reads the guard facts, checks the
//! roles, moves the state, appends one chained event and writes one outbox row, in one
//! transaction.
//!
//! `bundle` builds an evidence bundle in memory, with as many endorsements (each by its
//! own key, registered and approved in the key registry) and audit events as asked, and
//! measures how long verifying it takes: verification is linear in the bundle's size.
//!
//! `api` measures GraphQL requests per second and their latency: concurrent clients ask
//! the server, over loopback HTTP, for a signed pact's versions, signers and available
//! transitions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use patto_core::ids::DocumentId;
use patto_core::records::SignatoryEntry;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{Actor, DatabaseConfig, Engine, FireRequest, NewDocument, NewOrganisation};

use crate::config::GlobalOptions;
use crate::messages::Message;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Fire workflow transitions from concurrent clients and report throughput and latency.
    Transitions(TransitionsArgs),
    /// Verify Ed25519 signatures one by one and in a batch, and report signatures per second.
    Verify(VerifyArgs),
    /// Build an evidence bundle in memory and report how long verifying it takes.
    Bundle(BundleArgs),
    /// Send a GraphQL query from concurrent clients over HTTP and report requests per
    /// second and latency.
    Api(ApiArgs),
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
    /// Workflow instances to create; each client works on its own share of them.
    #[arg(long, default_value_t = 64)]
    pub instances: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Transitions fired in each run.
    #[arg(long, default_value_t = 2000)]
    pub transitions: usize,
    /// Runs; the throughput reported is their median.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

pub async fn run(global: &GlobalOptions, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Transitions(args) => transitions(global, args).await,
        BenchCommand::Verify(args) => verify(global, &args),
        BenchCommand::Bundle(args) => bundle(global, &args),
        BenchCommand::Api(args) => api(global, args).await,
    }
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

/// Removes the scratch SQLite directory when the benchmark ends.
struct ScratchDir(std::path::PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn transitions(global: &GlobalOptions, args: TransitionsArgs) -> anyhow::Result<()> {
    if args.clients == 0 || args.instances < args.clients {
        bail!(
            "give at least one client and at least as many instances as clients (--instances >= --clients)"
        );
    }
    if args.runs == 0 || args.transitions == 0 {
        bail!("give at least one run and one transition per run");
    }
    let (config, _scratch) = bench_database(global);
    let engine = Arc::new(crate::config::open_engine(&config, global.catalogue()?).await?);
    println!(
        "{}",
        Message::BenchSetup {
            instances: args.instances,
            clients: args.clients,
            target: config.describe()
        }
        .text(global.language)
    );
    let (actor, documents) = setup(&engine, args.instances).await?;

    let mut throughputs = Vec::with_capacity(args.runs);
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
        throughputs.push(per_second);
        println!(
            "{}",
            Message::BenchRun {
                run,
                transitions: args.transitions,
                seconds,
                per_second
            }
            .text(global.language)
        );
    }
    throughputs.sort_by(f64::total_cmp);
    latencies.sort();
    println!(
        "{}",
        Message::BenchSummary {
            runs: args.runs,
            median_per_second: throughputs[throughputs.len() / 2],
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            conflicts,
        }
        .text(global.language)
    );
    Ok(())
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

/// A database for a benchmark: the configured one, or a scratch SQLite database that is
/// removed when the returned guard drops, so that the data directory is never touched.
fn bench_database(global: &GlobalOptions) -> (DatabaseConfig, Option<ScratchDir>) {
    match &global.database_url {
        Some(url) => (DatabaseConfig::Url(url.clone()), None),
        None => {
            let dir = std::env::temp_dir().join(format!("patto-bench-{}", uuid::Uuid::new_v4()));
            (DatabaseConfig::DataDir(dir.clone()), Some(ScratchDir(dir)))
        }
    }
}

/// Serves the API on a loopback port and has `clients` concurrent clients send
/// [`API_QUERY`] about a pact signed by three organisations, as the public.
async fn api(global: &GlobalOptions, args: ApiArgs) -> anyhow::Result<()> {
    if args.clients == 0 || args.runs == 0 || args.requests < args.clients {
        bail!("give at least one client and one run, and at least as many requests as clients");
    }
    let (config, _scratch) = bench_database(global);
    let engine = Arc::new(crate::config::open_engine(&config, global.catalogue()?).await?);
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
        Arc::new(patto_api::NoSessions),
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
    let client = reqwest::Client::new();
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
        let key = patto_sign::generate_key();
        let public = patto_sign::public_key_to_pem(&key.verifying_key())?;
        let registered = engine.register_key(system, person.id, &public).await?;
        engine.approve_key(system, registered.id).await?;
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
