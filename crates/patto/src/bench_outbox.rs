//! `patto bench outbox`: how many messages per second the real mail worker delivers.
//!
//! Each run queues `--messages` review mail (rendered with its calendar event, as in
//! production) in a scratch SQLite database of its own, then lets `--concurrency` mail
//! workers — each with its own pooled SMTP connection, as that many `patto serve` would
//! — claim, render, send and mark them, into an SMTP sink on loopback in this process.
//! The reference, in the same run and into the same sink: Postfix's `smtp-source`
//! sending as many messages of the same mean size over as many sessions. The figures
//! printed are the medians over the runs and their ratio. Without `smtp-source` the
//! benchmark says how to install it and prints Patto's figure alone.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use patto_core::Language;
use patto_engine::{Actor, DatabaseConfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::config::GlobalOptions;
use crate::messages::Message;

#[derive(Args, Debug)]
pub struct OutboxArgs {
    /// Messages queued and delivered in each run.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Mail workers sending at once (and `smtp-source` sessions).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Runs; the figures reported are their medians.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// Where `smtp-source` is looked for besides `PATH`: Debian installs it in /usr/sbin,
/// which an ordinary user's `PATH` lacks.
const SMTP_SOURCE_PLACES: &[&str] = &["smtp-source", "/usr/sbin/smtp-source"];

pub async fn run(global: &GlobalOptions, args: OutboxArgs) -> anyhow::Result<()> {
    if args.messages == 0 || args.concurrency == 0 || args.runs == 0 {
        bail!("give at least one message, one worker and one run");
    }
    let sink = Sink::start().await?;
    let reference = SMTP_SOURCE_PLACES
        .iter()
        .find(|program| {
            std::process::Command::new(program)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
        .copied();
    println!(
        "{}",
        Message::BenchOutboxSetup {
            messages: args.messages,
            concurrency: args.concurrency,
            sink: sink.address.to_string(),
        }
        .text(global.language)
    );
    let mut patto = Vec::with_capacity(args.runs);
    let mut postfix = Vec::with_capacity(args.runs);
    for run in 1..=args.runs {
        let scratch = Scratch::new()?;
        let measured = deliver(global, &args, &sink, &scratch.0).await;
        drop(scratch);
        let (per_second, mean_bytes) = measured?;
        patto.push(per_second);
        let reference_rate = match reference {
            Some(program) => Some(smtp_source(program, &args, &sink, mean_bytes).await?),
            None => None,
        };
        if let Some(rate) = reference_rate {
            postfix.push(rate);
        }
        println!(
            "{}",
            Message::BenchOutboxRun {
                run,
                per_second,
                reference: reference_rate,
                mean_bytes,
            }
            .text(global.language)
        );
    }
    let patto = crate::bench::median(&mut patto);
    let reference = (!postfix.is_empty()).then(|| crate::bench::median(&mut postfix));
    println!(
        "{}",
        Message::BenchOutboxSummary {
            runs: args.runs,
            per_second: patto,
            reference,
        }
        .text(global.language)
    );
    if reference.is_none() {
        eprintln!("{}", Message::BenchOutboxNoReference.text(global.language));
    }
    Ok(())
}

/// One run of Patto: queues the messages, then times the workers until the sink has
/// them all. Returns messages per second and the mean size of a message in bytes.
async fn deliver(
    global: &GlobalOptions,
    args: &OutboxArgs,
    sink: &Sink,
    dir: &std::path::Path,
) -> anyhow::Result<(f64, u64)> {
    let config = DatabaseConfig::DataDir(dir.to_owned());
    let engine = Arc::new(crate::config::open_engine(&config, global.catalogue()?).await?);
    let person = engine
        .create_person(
            Actor::System,
            "bench@example.org",
            "Benchmark",
            Language::It,
        )
        .await?;
    let payload = json!({
        "document": { "id": 1, "slug": "patto-2026", "title": "Patto per la sicurezza e la legalità" },
        "review": 1,
        "scheduled_at": "2027-01-01T08:00:00+00:00",
        "skipped": 0,
    });
    engine
        .queue_mail_in_bulk(
            Actor::System,
            person.id,
            "review_opened",
            &payload,
            args.messages,
        )
        .await?;
    let mail = patto_notify::MailConfig {
        smtp_url: format!("smtp://{}", sink.address),
        from: "Patto <patto@example.org>".to_owned(),
        public_url: "https://patto.example.org".to_owned(),
        max_attempts: patto_notify::MAX_ATTEMPTS,
        lease: patto_notify::LEASE,
    };
    let (messages_before, bytes_before) = sink.counts();
    let started = Instant::now();
    let mut workers = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let worker = patto_notify::Worker::new(engine.clone(), &mail)?;
        workers.push(tokio::spawn(async move { worker.run_once().await }));
    }
    let mut failed = 0;
    for worker in workers {
        let delivery = worker.await.context("a mail worker stopped")??;
        failed += delivery.retried + delivery.failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (messages_after, bytes_after) = sink.counts();
    let delivered = messages_after - messages_before;
    if failed > 0 || delivered != args.messages as u64 {
        bail!(
            "the sink took {delivered} of {} messages ({failed} not sent): the run does not count",
            args.messages
        );
    }
    match Arc::into_inner(engine) {
        Some(engine) => engine.close().await?,
        None => bail!("a mail worker still holds the benchmark database"),
    }
    Ok((
        args.messages as f64 / seconds,
        (bytes_after - bytes_before) / delivered,
    ))
}

/// One run of the reference: `smtp-source` sends the same number of messages of the
/// same size over as many sessions into the same sink.
async fn smtp_source(
    program: &str,
    args: &OutboxArgs,
    sink: &Sink,
    mean_bytes: u64,
) -> anyhow::Result<f64> {
    let (before, _) = sink.counts();
    let mut command = std::process::Command::new(program);
    // `-d` keeps each session's connection for its next message, as the workers' pools
    // do.
    command.args([
        "-d",
        "-s",
        &args.concurrency.to_string(),
        "-m",
        &args.messages.to_string(),
        "-l",
        &mean_bytes.to_string(),
        "-f",
        "patto@example.org",
        "-t",
        "bench@example.org",
        &sink.address.to_string(),
    ]);
    let started = Instant::now();
    // The sink answers on the runtime's threads while this one waits for the process.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .context("the smtp-source run stopped")?
        .with_context(|| format!("cannot run {program}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let (after, _) = sink.counts();
    if !output.status.success() || after - before != args.messages as u64 {
        bail!(
            "smtp-source delivered {} of {} messages: {}",
            after - before,
            args.messages,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(args.messages as f64 / seconds)
}

/// A scratch directory for one run's database, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("patto-bench-outbox-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An SMTP server on loopback that accepts every message and only counts messages and
/// their bytes: the receiving end is the same, and as cheap as it can be, for Patto and
/// for the reference.
struct Sink {
    address: std::net::SocketAddr,
    messages: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on loopback for the SMTP sink")?;
        let address = listener.local_addr()?;
        let messages = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let (counted, sized) = (messages.clone(), bytes.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(sink_session(stream, counted.clone(), sized.clone()));
            }
        });
        Ok(Sink {
            address,
            messages,
            bytes,
            task,
        })
    }

    /// Messages accepted and their bytes, so far.
    fn counts(&self) -> (u64, u64) {
        (
            self.messages.load(Ordering::SeqCst),
            self.bytes.load(Ordering::SeqCst),
        )
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP session: enough of RFC 5321 for lettre and `smtp-source` (EHLO/HELO, MAIL,
/// RCPT, DATA, RSET, NOOP, QUIT); every message is accepted.
async fn sink_session(stream: TcpStream, messages: Arc<AtomicU64>, bytes: Arc<AtomicU64>) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    if writer.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb: Vec<u8> = line.iter().take(4).map(u8::to_ascii_uppercase).collect();
        let answer: &[u8] = match verb.as_slice() {
            b"EHLO" => b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            b"DATA" => {
                if writer.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut size = 0_u64;
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    size += line.len() as u64;
                }
                messages.fetch_add(1, Ordering::SeqCst);
                bytes.fetch_add(size, Ordering::SeqCst);
                b"250 queued\r\n"
            }
            b"QUIT" => {
                let _ = writer.write_all(b"221 bye\r\n").await;
                return;
            }
            b"HELO" | b"MAIL" | b"RCPT" | b"RSET" | b"NOOP" => b"250 ok\r\n",
            _ => b"502 not implemented\r\n",
        };
        if writer.write_all(answer).await.is_err() {
            return;
        }
    }
}
