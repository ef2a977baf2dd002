//! The real `patto` binary, run as an operator would run it, on SQLite in scratch
//! directories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("patto-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn patto(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_patto"));
    command
        .env_remove("PATTO_DATABASE_URL")
        .env_remove("PATTO_LANG")
        .env_remove("PATTO_SMTP_URL")
        .env_remove("PATTO_MAIL_FROM")
        .env_remove("PATTO_MAIL_MAX_ATTEMPTS")
        .env_remove("PATTO_PUBLIC_URL")
        .env_remove("PATTO_TRUSTED_KEYS")
        .env_remove("PATTO_OPERATOR_EMAIL")
        .env("PATTO_DATA_DIR", data_dir)
        .env("PATTO_WORKFLOWS_DIR", WORKFLOWS);
    command
}

/// A running `patto serve`. Dropping it kills the process and waits for it, also when
/// the test fails, so that no server outlives its test.
struct ServerProcess {
    child: Child,
    /// `host:port` from the server's first line on stdout.
    address: String,
    /// Everything the server writes on stderr, read on a thread of its own so that a
    /// chatty server never blocks on a full pipe.
    stderr: Option<JoinHandle<String>>,
}

impl ServerProcess {
    /// Starts `command` (a `patto ... serve --bind 127.0.0.1:0`) and waits for the line
    /// that names its address.
    fn start(command: &mut Command) -> ServerProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let mut server = ServerProcess {
            child,
            address: String::new(),
            stderr: Some(stderr),
        };
        let mut first_line = String::new();
        BufReader::new(server.child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        server.address = first_line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| {
                let stderr = server.stop();
                panic!("no address in {first_line:?}; stderr: {stderr}")
            })
            .to_owned();
        server
    }

    /// A GET on the server: its status code and body.
    fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::blocking::get(self.url(path)).unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    }

    /// The URL of `path` on the server.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the server and returns what it wrote on stderr.
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(command: &mut Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.success(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

#[test]
fn the_shipped_workflows_pass_the_check() {
    let scratch = Scratch::new();
    let (ok, stdout, stderr) = run(patto(&scratch.0).args(["workflows", "check", WORKFLOWS]));
    assert!(ok, "{stderr}");
    for name in [
        "pact",
        "protocol",
        "diagnosis",
        "reporting-model",
        "social-report",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
}

#[test]
fn a_broken_definition_is_rejected_with_file_and_line() {
    let scratch = Scratch::new();
    let dir = scratch.0.join("workflows");
    std::fs::create_dir_all(&dir).unwrap();
    let broken = r#"name = "broken"
version = 1
title = { it = "Rotto", en = "Broken" }

[[states]]
name = "drafting"
initial = true

[[transitions]]
name = "share"
from = ["drafting"]
to = "nowhere"
roles = ["coordinator"]
guards = ["has_versions"]
"#;
    std::fs::write(dir.join("broken.toml"), broken).unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0).arg("workflows").arg("check").arg(&dir));
    assert!(!ok);
    assert!(stderr.contains("broken.toml:12:"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    assert!(stderr.contains("broken.toml:14:"), "{stderr}");
    assert!(stderr.contains("has_versions"), "{stderr}");
    assert!(stderr.contains("patto workflows check"), "{stderr}");
}

#[test]
fn graphs_are_mermaid_state_diagrams() {
    let scratch = Scratch::new();
    let (ok, stdout, _) = run(patto(&scratch.0).args(["workflows", "graph", "pact"]));
    assert!(ok);
    assert!(stdout.starts_with("stateDiagram-v2"), "{stdout}");
    assert!(stdout.contains("[*] --> drafting"), "{stdout}");
    assert!(stdout.contains("drafting --> sharing: share"), "{stdout}");
    let (ok, _, stderr) =
        run(patto(&scratch.0).args(["--lang", "en", "workflows", "graph", "patto"]));
    assert!(!ok);
    assert!(stderr.contains("no workflow named 'patto'"), "{stderr}");
    assert!(stderr.contains("pact"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    let scratch = Scratch::new();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["backup", "--help"],
        vec!["workflows", "check", "--help"],
        vec!["workflows", "graph", "--help"],
        vec!["demo", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["operator", "add", "--help"],
        vec!["token", "create", "--help"],
        vec!["bench", "transitions", "--help"],
        vec!["bench", "verify", "--help"],
        vec!["keygen", "--help"],
        vec!["statement", "--help"],
        vec!["sign", "--help"],
        vec!["signature", "list", "--help"],
        vec!["signature", "submit", "--help"],
        vec!["signature", "decline", "--help"],
        vec!["keys", "request", "--help"],
        vec!["keys", "register", "--help"],
        vec!["keys", "approve", "--help"],
        vec!["keys", "revoke", "--help"],
        vec!["keys", "list", "--help"],
        vec!["server-key", "--help"],
        vec!["evidence", "export", "--help"],
        vec!["verify", "--help"],
        vec!["reporting-model", "check", "--help"],
        vec!["reporting-model", "load", "--help"],
        vec!["survey", "import", "--help"],
        vec!["survey", "export", "--help"],
        vec!["schedule", "next", "--help"],
    ] {
        let (ok, stdout, stderr) = run(patto(&scratch.0).args(&args));
        assert!(ok, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage: patto"), "{args:?}: {stdout}");
    }
}

#[test]
fn demo_then_serve_answers_health_checks() {
    let scratch = Scratch::new();
    let (ok, stdout, stderr) = run(patto(&scratch.0).arg("demo"));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("38 organizzazioni"), "{stdout}");
    // The demo loads only into an empty database, and says what to do instead.
    let (ok, _, stderr) = run(patto(&scratch.0).arg("demo"));
    assert!(!ok);
    assert!(stderr.contains("database vuoto"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0).args(["--lang", "en", "demo"]));
    assert!(!ok);
    assert!(stderr.contains("empty database"), "{stderr}");
    let (ok, stdout, stderr) = run(patto(&scratch.0).args(["audit", "verify", "--all"]));
    assert!(ok, "{stderr}");
    // Four documents (the pact and three protocols), four social reports, the key
    // registry and the directory.
    assert!(stdout.contains("10 catene integre, 0 alterate"), "{stdout}");
    assert!(
        stdout.contains("anagrafica: ogni riga corrisponde alla catena"),
        "{stdout}"
    );

    // Operators are made at the command line, registered first when they are new; the
    // grant is a directory change like any other, so the directory still verifies.
    let (ok, stdout, stderr) = run(patto(&scratch.0).args([
        "--lang",
        "en",
        "operator",
        "add",
        "--email",
        "Operatore@example.org",
        "--name",
        "Olga Operatore",
    ]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("operatore@example.org is now an operator of this instance"),
        "{stdout}"
    );
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "operator",
        "add",
        "--email",
        "operatore@example.org",
        "--name",
        "Olga Operatore",
    ]));
    assert!(!ok);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (ok, stdout, stderr) = run(patto(&scratch.0).args(["audit", "verify", "--all"]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("anagrafica: ogni riga corrisponde alla catena"),
        "{stdout}"
    );

    // The command line mints tokens for operators, and for nobody else.
    let (ok, stdout, stderr) = run(patto(&scratch.0).args([
        "token",
        "create",
        "--email",
        "operatore@example.org",
        "--expires",
        "7",
    ]));
    assert!(ok, "{stderr}");
    let token = stdout.trim();
    assert!(token.starts_with("patto_") && token.len() == 49, "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stderr.contains("non verrà mostrato di nuovo"), "{stderr}");
    let (ok, stdout, stderr) =
        run(patto(&scratch.0).args(["token", "create", "--email", "coordinamento@example.org"]));
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("not an instance operator"), "{stderr}");
    assert!(stderr.contains("log in by e-mail"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "token",
        "create",
        "--email",
        "operatore@example.org",
        "--expires",
        "0",
    ]));
    assert!(!ok);
    assert!(stderr.contains("between 1 and 3650 days"), "{stderr}");

    let mut server =
        ServerProcess::start(patto(&scratch.0).args(["serve", "--bind", "127.0.0.1:0"]));
    assert_eq!(server.get("/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(server.get("/readyz"), (200, "ready\n".to_owned()));
    let stderr = server.stop();
    // Without an SMTP server the server runs, and says once that mail stays queued.
    assert_eq!(
        stderr.matches("posta non configurata").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn an_internal_failure_is_logged_with_its_cause() {
    let scratch = Scratch::new();
    // A data directory that cannot be created, under a plain file.
    let file = scratch.0.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let (ok, _, stderr) = run(patto(&file.join("data"))
        .env("PATTO_LOG_FORMAT", "json")
        .arg("migrate"));
    assert!(!ok);
    let logged: serde_json::Value = stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .find(|event: &serde_json::Value| event["fields"]["message"] == "command failed")
        .unwrap_or_else(|| panic!("no log of the failure in {stderr}"));
    assert_eq!(logged["level"], "ERROR");
    assert_eq!(logged["fields"]["code"], "INTERNAL");
    let cause = logged["fields"]["error"].as_str().unwrap();
    assert!(
        cause.contains("cannot create the data directory"),
        "{cause}"
    );
    // The person at the terminal still gets the plain message.
    assert!(stderr.contains("errore: "), "{stderr}");
}

/// Accepts one SMTP session on `listener`, answering as a mail server that takes
/// everything, and returns the message it was given. (The binary's tests cannot use the
/// test crate's SMTP sink: that crate depends on this one.)
fn receive_one_mail(listener: std::net::TcpListener) -> String {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    writer.write_all(b"220 test ESMTP\r\n").unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("the connection closed before a message arrived");
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => writer.write_all(b"250-test\r\n250 8BITMIME\r\n").unwrap(),
            "DATA" => {
                writer.write_all(b"354 go ahead\r\n").unwrap();
                let mut data = String::new();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                writer.write_all(b"250 queued\r\n").unwrap();
                return data;
            }
            _ => writer.write_all(b"250 ok\r\n").unwrap(),
        }
    }
}

#[test]
fn serve_sends_queued_login_mail_through_the_configured_smtp_server() {
    let scratch = Scratch::new();
    // A login code is asked for before the server starts; its mail waits in the outbox.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = patto_engine::DatabaseConfig::DataDir(scratch.0.clone());
        let engine = patto_engine::Engine::connect(
            &config,
            patto_core::workflow::Catalogue::shipped().unwrap(),
        )
        .await
        .unwrap();
        engine.migrate().await.unwrap();
        engine
            .create_person(
                patto_engine::Actor::System,
                "anna@example.org",
                "Anna Rossi",
                patto_core::Language::It,
            )
            .await
            .unwrap();
        engine
            .request_login("anna@example.org", "127.0.0.1".parse().unwrap())
            .await
            .unwrap();
        engine.close().await.unwrap();
    });

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://{}", listener.local_addr().unwrap());
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(receive_one_mail(listener)));
    let mut server = ServerProcess::start(
        patto(&scratch.0)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("PATTO_SMTP_URL", &smtp)
            .env("PATTO_MAIL_FROM", "Patto <patto@example.org>"),
    );
    // A deadline, not a timing: the worker polls every 2 seconds.
    let mail = received
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("no mail arrived; stderr: {}", server.stop()));
    let stderr = server.stop();
    assert!(mail.contains("To: anna@example.org"), "{mail}");
    assert!(mail.contains("From: Patto <patto@example.org>"), "{mail}");
    assert!(mail.contains("Message-ID: <"), "{mail}");
    assert!(mail.contains("Gentile Anna Rossi"), "{mail}");
    assert!(
        stderr.contains(&format!("invio della posta attivo tramite {smtp}")),
        "{stderr}"
    );
    assert!(!stderr.contains("posta non configurata"), "{stderr}");
}

/// The operator the tests make with `patto operator add`.
const OPERATOR: &str = "operatore@example.org";

/// Makes [`OPERATOR`] an instance operator of the scratch data directory.
fn add_operator(scratch: &Scratch) {
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "operator",
        "add",
        "--email",
        OPERATOR,
        "--name",
        "Operatore",
    ]));
    assert!(ok, "{stderr}");
}

/// `patto` run by [`OPERATOR`] (`--operator`).
fn as_operator(scratch: &Scratch) -> Command {
    let mut command = patto(&scratch.0);
    command.args(["--operator", OPERATOR]);
    command
}

/// The rows `patto outbox list` prints, split into their tab-separated columns.
fn outbox_rows(scratch: &Scratch, status: &str) -> Vec<Vec<String>> {
    let (ok, stdout, stderr) =
        run(as_operator(scratch).args(["outbox", "list", "--status", status]));
    assert!(ok, "{stderr}");
    stdout
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn mail_that_cannot_be_sent_is_listed_as_failed_and_retried_on_request() {
    let scratch = Scratch::new();
    // The demo shares a pact: its partners' mail waits in the outbox.
    assert!(run(patto(&scratch.0).arg("demo")).0);
    add_operator(&scratch);
    // The outbox is the operator's: without one, or as someone who is not, it is
    // refused with what to do.
    for command in [
        &["outbox", "list"][..],
        &["outbox", "retry", "--all-failed"],
    ] {
        let (ok, stdout, stderr) = run(patto(&scratch.0).args(command));
        assert!(!ok, "{command:?}: {stdout}");
        assert!(stderr.contains("--operator"), "{command:?}: {stderr}");
        let (ok, stdout, stderr) = run(patto(&scratch.0)
            .args(["--operator", "referente.cefalu@example.org"])
            .args(command));
        assert!(!ok, "{command:?}: {stdout}");
        assert!(stderr.contains("not an operator"), "{command:?}: {stderr}");
    }
    let pending = outbox_rows(&scratch, "pending");
    assert!(!pending.is_empty());
    assert!(
        pending
            .iter()
            .all(|row| row[1] == "pending" && row[2] == "0")
    );

    // Nothing listens on this port: with one attempt allowed, every message fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut server = ServerProcess::start(
        patto(&scratch.0)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("PATTO_SMTP_URL", &smtp)
            .env("PATTO_MAIL_FROM", "Patto <patto@example.org>")
            .env("PATTO_MAIL_MAX_ATTEMPTS", "1"),
    );
    // A deadline, not a timing: the worker polls every 2 seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while outbox_rows(&scratch, "failed").len() < pending.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "the mail did not fail; stderr: {}",
            server.stop()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    server.stop();
    let failed = outbox_rows(&scratch, "failed");
    assert_eq!(failed.len(), pending.len());
    for row in &failed {
        assert_eq!(row[2], "1", "{row:?}");
        assert_ne!(row[6], "-", "no last error in {row:?}");
    }

    // One message, then all the others.
    let (ok, stdout, stderr) = run(as_operator(&scratch).args(["outbox", "retry", &failed[0][0]]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 messaggi rimessi in coda"), "{stdout}");
    assert_eq!(outbox_rows(&scratch, "failed").len(), failed.len() - 1);
    let (ok, stdout, _) =
        run(as_operator(&scratch).args(["outbox", "retry", "--all-failed", "--lang", "en"]));
    assert!(ok);
    assert!(
        stdout.contains(&format!("{} messages queued again", failed.len() - 1)),
        "{stdout}"
    );
    let requeued = outbox_rows(&scratch, "pending");
    assert_eq!(requeued.len(), pending.len());
    assert!(requeued.iter().all(|row| row[2] == "0"), "{requeued:?}");

    // A message that is not failed cannot be retried, and says where to look.
    let (code, _, stderr) = exit(as_operator(&scratch).args(["outbox", "retry", &failed[0][0]]));
    assert_ne!(code, 0);
    assert!(stderr.contains("outbox list --status failed"), "{stderr}");
    let (code, _, stderr) =
        exit(as_operator(&scratch).args(["outbox", "list", "--status", "lost"]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("pending, sent, failed, dropped"),
        "{stderr}"
    );
}

#[test]
fn an_smtp_server_without_a_sender_is_refused_at_start() {
    let scratch = Scratch::new();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PATTO_SMTP_URL", "smtp://127.0.0.1:2525"));
    assert!(!ok);
    assert!(stderr.contains("PATTO_MAIL_FROM"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PATTO_SMTP_URL", "http://mail.example.org")
        .env("PATTO_MAIL_FROM", "patto@example.org"));
    assert!(!ok);
    assert!(stderr.contains("smtp://HOST:PORT"), "{stderr}");
}

#[test]
fn schedule_next_prints_fire_instants_and_points_at_mistakes() {
    let scratch = Scratch::new();
    // 02:30 does not exist in Rome on 29 March 2026: the clock jumps from 02:00 to 03:00.
    let (ok, stdout, stderr) = run(patto(&scratch.0).args([
        "schedule",
        "next",
        "30 2 * * *",
        "--from",
        "2026-03-27T12:00:00+01:00",
        "-n",
        "3",
    ]));
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        "2026-03-28T02:30:00+01:00\n2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n"
    );
    let (ok, stdout, _) = run(patto(&scratch.0).args([
        "schedule",
        "next",
        "0 9 1 * 1",
        "--tz",
        "America/New_York",
        "--from",
        "2026-06-28T00:00:00-04:00",
        "-n",
        "2",
    ]));
    assert!(ok);
    assert_eq!(
        stdout,
        "2026-06-29T09:00:00-04:00\n2026-07-01T09:00:00-04:00\n"
    );

    let (ok, stdout, stderr) = run(patto(&scratch.0).args(["schedule", "next", "0 25 * * *"]));
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr,
        "espressione cron non valida: colonna 3, campo ora: 25 è fuori intervallo; usa 0-23\n  0 25 * * *\n    ^\n"
    );
    let (ok, _, stderr) =
        run(patto(&scratch.0).args(["--lang", "en", "schedule", "next", "0 9 * * mon,FUN"]));
    assert!(!ok);
    assert!(
        stderr.starts_with("invalid cron expression: column 13, day-of-week field: `FUN` is not a number nor a day name (SUN-SAT)\n"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "--lang",
        "en",
        "schedule",
        "next",
        "0 9 * * *",
        "--tz",
        "Europe/Palermo",
    ]));
    assert!(!ok);
    assert!(
        stderr.contains("unknown time zone `Europe/Palermo`"),
        "{stderr}"
    );
    let (ok, _, stderr) =
        run(patto(&scratch.0).args(["schedule", "next", "0 9 * * *", "--from", "yesterday"]));
    assert!(!ok);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

#[test]
fn a_busy_port_is_reported_with_what_to_do() {
    let scratch = Scratch::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (ok, _, stderr) = run(patto(&scratch.0).args(["serve", "--bind", &address]));
    assert!(!ok);
    assert!(stderr.contains("--bind"), "{stderr}");
}

/// A change made to a parsed evidence bundle.
type BundleChange = fn(&mut serde_json::Value);

/// Whether `openssl` can be run. When it cannot, the test says so on stderr and skips,
/// except in CI (`CI` set), where a missing `openssl` fails the test: CI must check
/// interoperability, not skip it silently.
fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl command is not on PATH, and CI must run the interoperability checks; install openssl"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIP openssl: the openssl command is not on PATH; install it to run the interoperability checks"
        );
    }
    found
}

fn openssl_verifies(public_key: &Path, message: &Path, signature: &Path) -> bool {
    let output = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(public_key)
        .args(["-rawin", "-in"])
        .arg(message)
        .arg("-sigfile")
        .arg(signature)
        .output()
        .unwrap();
    output.status.success()
        && String::from_utf8_lossy(&output.stdout).contains("Signature Verified Successfully")
}

#[test]
fn keygen_writes_a_private_key_and_never_overwrites() {
    let scratch = Scratch::new();
    let key = scratch.0.join("anna.pem");
    let (ok, stdout, stderr) = run(patto(&scratch.0).arg("keygen").arg("--out").arg(&key));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("SHA256:"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let public = std::fs::read_to_string(scratch.0.join("anna.pem.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    let before = std::fs::read(&key).unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0).arg("keygen").arg("--out").arg(&key));
    assert!(!ok);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&key).unwrap(), before);

    // Raw base64url keys work for signing and registering just as PEM keys do.
    let raw = scratch.0.join("raw.key");
    assert!(
        run(patto(&scratch.0)
            .args(["keygen", "--format", "base64url", "--out"])
            .arg(&raw))
        .0
    );
    let public = std::fs::read_to_string(scratch.0.join("raw.key.pub")).unwrap();
    let public = patto_sign::parse_public_key(&public).unwrap();
    let statement = scratch.0.join("statement.json");
    std::fs::write(&statement, sample_statement(b"x")).unwrap();
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--key"])
        .arg(&raw)
        .arg("--base64")
        .arg(&statement));
    assert!(ok, "{stderr}");
    let signature = patto_sign::decode_signature(stdout.lines().last().unwrap()).unwrap();
    patto_sign::verify(&public, sample_statement(b"x").as_bytes(), &signature).unwrap();
}

#[test]
fn signatures_interoperate_with_openssl_both_ways() {
    if !openssl_available() {
        return;
    }
    let scratch = Scratch::new();
    let statement = scratch.0.join("statement.json");
    std::fs::write(&statement, sample_statement(b"one")).unwrap();

    // patto keygen + patto sign, verified by OpenSSL.
    let key = scratch.0.join("patto.pem");
    assert!(run(patto(&scratch.0).arg("keygen").arg("--out").arg(&key)).0);
    let signature = scratch.0.join("statement.sig");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--key"])
        .arg(&key)
        .arg("--out")
        .arg(&signature)
        .arg(&statement));
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(&signature).unwrap().len(), 64);
    assert!(openssl_verifies(
        &scratch.0.join("patto.pem.pub"),
        &statement,
        &signature
    ));
    // OpenSSL notices a changed statement.
    let changed = scratch.0.join("changed.json");
    std::fs::write(&changed, sample_statement(b"two")).unwrap();
    assert!(!openssl_verifies(
        &scratch.0.join("patto.pem.pub"),
        &changed,
        &signature
    ));

    // An OpenSSL key signs with patto sign and verifies in Patto.
    let openssl_key = scratch.0.join("openssl.pem");
    let openssl_public = scratch.0.join("openssl.pub");
    assert!(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&openssl_key)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&openssl_key)
            .arg("-out")
            .arg(&openssl_public)
            .status()
            .unwrap()
            .success()
    );
    #[cfg(unix)]
    {
        // However OpenSSL created it, the secret key must be its owner's alone.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&openssl_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--key"])
        .arg(&openssl_key)
        .arg("--base64")
        .arg(&statement));
    assert!(ok, "{stderr}");
    let signature = patto_sign::decode_signature(stdout.lines().last().unwrap()).unwrap();
    let public =
        patto_sign::parse_public_key(&std::fs::read_to_string(&openssl_public).unwrap()).unwrap();
    patto_sign::verify(&public, &std::fs::read(&statement).unwrap(), &signature).unwrap();
    assert!(patto_sign::verify(&public, b"other", &signature).is_err());
}

#[test]
fn the_signed_demo_pact_exports_evidence_that_verifies_and_catches_changes() {
    let scratch = Scratch::new();
    assert!(run(patto(&scratch.0).arg("demo")).0);
    let bundle = scratch.0.join("patto.json");
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .args(["evidence", "export", "patto-sicurezza-legalita", "--out"])
        .arg(&bundle));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("patto verify"), "{stdout}");

    // `patto server-key` prints exactly what `--server-key` reads.
    let server_public = scratch.0.join("server.pub");
    let (ok, pem, stderr) = run(patto(&scratch.0).arg("server-key"));
    assert!(ok, "{stderr}");
    std::fs::write(&server_public, pem).unwrap();
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .arg("verify")
        .arg(&bundle)
        .arg("--server-key")
        .arg(&server_public));
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("VALIDO"), "{stdout}");
    assert_eq!(stdout.matches("sottoscrive il").count(), 5, "{stdout}");
    assert_eq!(stdout.matches("approvata il").count(), 5, "{stdout}");
    // The report names, under each endorsement, who registered and who approved its key,
    // and the approver is never the key's own holder.
    let mut signer = None;
    for line in stdout.lines() {
        if let Some(endorsement) = line.strip_prefix("- ") {
            let person = endorsement
                .split(" — ")
                .nth(1)
                .and_then(|rest| rest.split(':').next());
            signer = person.map(str::to_owned);
        } else if let Some(step) = line
            .trim_start()
            .strip_prefix("chiave registrata il ")
            .or_else(|| line.trim_start().strip_prefix("chiave approvata il "))
        {
            let (_, by) = step
                .split_once(" da ")
                .unwrap_or_else(|| panic!("nobody named: {line}"));
            let by = by.split(", atto di designazione").next().unwrap();
            assert!(!by.is_empty(), "{line}");
            if line.contains("approvata") {
                assert_ne!(
                    Some(by),
                    signer.as_deref(),
                    "a holder approved their own key: {line}"
                );
            }
        }
    }
    assert!(stdout.contains("non sono una firma digitale"), "{stdout}");
    let (ok, stdout, _) = run(patto(&scratch.0)
        .args(["--lang", "en", "verify"])
        .arg(&bundle)
        .arg("--server-key")
        .arg(&server_public));
    assert!(ok);
    assert!(stdout.contains("VALID"), "{stdout}");

    // The fingerprint in the report is the server's, and pinning another key fails.
    let (ok, fingerprint, _) = run(patto(&scratch.0).args(["server-key", "--fingerprint"]));
    assert!(ok);
    let (_, report, _) = run(patto(&scratch.0).arg("verify").arg(&bundle));
    assert!(report.contains(fingerprint.trim()), "{report}");
    let other = scratch.0.join("other.pem");
    assert!(run(patto(&scratch.0).arg("keygen").arg("--out").arg(&other)).0);
    let (ok, _, _) = run(patto(&scratch.0)
        .arg("verify")
        .arg(&bundle)
        .arg("--server-key")
        .arg(scratch.0.join("other.pem.pub")));
    assert!(!ok);

    // OpenSSL verifies every statement of the bundle with its signatory's key.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    if openssl_available() {
        let keys = parsed["keys"].as_array().unwrap();
        for (i, endorsement) in parsed["endorsements"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let key = keys
                .iter()
                .find(|k| k["id"] == endorsement["key_id"])
                .unwrap();
            let public =
                patto_sign::public_key_from_base64url(key["public_key"].as_str().unwrap()).unwrap();
            let pem = scratch.0.join(format!("key{i}.pub"));
            std::fs::write(&pem, patto_sign::public_key_to_pem(&public).unwrap()).unwrap();
            let statement = scratch.0.join(format!("statement{i}.json"));
            std::fs::write(&statement, endorsement["statement"].as_str().unwrap()).unwrap();
            let signature = scratch.0.join(format!("statement{i}.sig"));
            std::fs::write(
                &signature,
                patto_sign::decode_signature(endorsement["signature"].as_str().unwrap()).unwrap(),
            )
            .unwrap();
            assert!(
                openssl_verifies(&pem, &statement, &signature),
                "endorsement {i}"
            );
        }
    }

    // Changes are caught and named: the content, a statement, a signature, an audit
    // event, the seal.
    let changes: Vec<(&str, BundleChange)> = vec![
        (
            "content",
            (|b| b["version"]["content_base64"] = "QUJD".into()),
        ),
        (
            "statement",
            (|b| {
                let s = b["endorsements"][0]["statement"]
                    .as_str()
                    .unwrap()
                    .replace("\"version\":1", "\"version\":2");
                b["endorsements"][0]["statement"] = s.into();
            }),
        ),
        (
            "signature",
            (|b| {
                let s = b["endorsements"][1]["signature"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                b["endorsements"][1]["signature"] = b["endorsements"][0]["signature"].clone();
                b["endorsements"][0]["signature"] = s.into();
            }),
        ),
        (
            "audit event",
            (|b| b["audit"]["events"][1]["kind"] = "note".into()),
        ),
        (
            "seal",
            (|b| b["seal"] = b["endorsements"][0]["signature"].clone()),
        ),
    ];
    for (what, change) in changes {
        let mut tampered = parsed.clone();
        change(&mut tampered);
        // Written canonically, so that only the change itself is wrong.
        let tampered_path = scratch.0.join("tampered.json");
        std::fs::write(&tampered_path, serde_json::to_string(&tampered).unwrap()).unwrap();
        let (ok, stdout, _) = run(patto(&scratch.0)
            .arg("verify")
            .arg(&tampered_path)
            .arg("--server-key")
            .arg(&server_public));
        assert!(!ok, "a changed {what} was accepted");
        assert!(stdout.contains("NON VALIDO"), "{what}: {stdout}");
    }
    // One changed byte anywhere, e.g. in the title.
    let flipped = text.replacen("legalità", "legalitá", 1);
    let flipped_path = scratch.0.join("flipped.json");
    std::fs::write(&flipped_path, flipped).unwrap();
    assert!(!run(patto(&scratch.0).arg("verify").arg(&flipped_path)).0);
}

/// The demo's protocol still in drafting (the other two are in force).
const DRAFT_PROTOCOL: &str = "protocollo-videosorveglianza";

/// Opens a signing round on the demo's draft protocol through the engine (as the API
/// would), for the referents of prefettura-palermo and termini-imerese, whose demo keys
/// are approved; returns the two requests' ids, as `signature list` shows them.
fn open_protocol_round(scratch: &Scratch) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let global = patto::config::GlobalOptions {
        data_dir: scratch.0.clone(),
        database_url: None,
        workflows_dir: Some(WORKFLOWS.into()),
        server_key: None,
        operator: None,
        language: patto_core::Language::It,
    };
    runtime.block_on(async {
        let engine = global.engine().await.unwrap();
        let protocol = engine.document_by_slug(DRAFT_PROTOCOL).await.unwrap();
        let coordinator = engine
            .person_by_email("coordinamento@example.org")
            .await
            .unwrap();
        let mut signatories = Vec::new();
        for slug in ["prefettura-palermo", "termini-imerese"] {
            let organisation = engine.organisation_by_slug(slug).await.unwrap();
            let person = engine
                .person_by_email(&format!("referente.{slug}@example.org"))
                .await
                .unwrap();
            signatories.push(patto_core::records::SignatoryEntry {
                organisation: organisation.id,
                person: person.id,
            });
        }
        let actor = patto_engine::Actor::Person(coordinator.id);
        engine
            .set_signatories(actor, protocol.id, &signatories)
            .await
            .unwrap();
        for transition in ["share", "freeze"] {
            let instance = engine.instance_of(protocol.id).await.unwrap();
            engine
                .fire(
                    actor,
                    patto_engine::FireRequest {
                        document_id: protocol.id,
                        transition: transition.into(),
                        expected_version: instance.version,
                    },
                )
                .await
                .unwrap();
        }
    });
    let (ok, listing, stderr) = run(patto(&scratch.0).args(["signature", "list", DRAFT_PROTOCOL]));
    assert!(ok, "{stderr}");
    let request_ids: Vec<String> = listing
        .lines()
        .filter(|l| l.contains("in attesa"))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(request_ids.len(), 2, "{listing}");
    request_ids
}

#[test]
fn a_signatory_signs_offline_and_submits_at_the_command_line() {
    let scratch = Scratch::new();
    assert!(run(patto(&scratch.0).arg("demo")).0);
    let request_ids = open_protocol_round(&scratch);

    // Submitting acts as the operator who runs the command: without one it is refused.
    let statement = scratch.0.join("first-statement.json");
    assert!(
        run(patto(&scratch.0)
            .args(["statement", "--request", &request_ids[0], "--out"])
            .arg(&statement))
        .0
    );
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["signature", "submit", "--request", &request_ids[0]])
        .arg(&statement));
    assert!(!ok);
    assert!(stderr.contains("PATTO_OPERATOR_EMAIL"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "operator",
        "add",
        "--email",
        "operatore@example.org",
        "--name",
        "Operatore",
    ]));
    assert!(ok, "{stderr}");
    let keys = scratch.0.join("demo-keys");
    // A registration request is made offline with the key it registers; the operator
    // cannot submit it for its holder, nor name someone who is not an operator.
    let request_file = scratch.0.join("cefalu.registration.json");
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .args(["keys", "request", "--key"])
        .arg(keys.join("cefalu.pem"))
        .args([
            "--email",
            "referente.cefalu@example.org",
            "--organisation",
            "cefalu",
        ])
        .arg("--out")
        .arg(&request_file));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("24 ore"), "{stdout}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&request_file).unwrap()).unwrap();
    let (statement, _) = patto_sign::SignedRegistration {
        statement: written["statement"].as_str().unwrap().to_owned(),
        signature: written["signature"].as_str().unwrap().to_owned(),
    }
    .verify()
    .unwrap();
    assert_eq!(statement.organisation, "cefalu");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .env("PATTO_OPERATOR_EMAIL", "operatore@example.org")
        .args(["keys", "register"])
        .arg(&request_file));
    assert!(!ok);
    assert!(stderr.contains("only the key holder"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .env("PATTO_OPERATOR_EMAIL", "referente.cefalu@example.org")
        .args(["keys", "revoke", "1", "--reason", "test"]));
    assert!(!ok);
    assert!(stderr.contains("not an operator"), "{stderr}");
    for (request, signer, wrong) in [
        (&request_ids[0], "prefettura-palermo", "termini-imerese"),
        (&request_ids[1], "termini-imerese", "prefettura-palermo"),
    ] {
        let statement = scratch.0.join(format!("statement-{request}.json"));
        let (ok, _, stderr) = run(patto(&scratch.0)
            .args(["statement", "--request", request, "--out"])
            .arg(&statement));
        assert!(ok, "{stderr}");
        // Signed with someone else's key: refused, with what to do.
        let (ok, _, stderr) = run(patto(&scratch.0)
            .args(["sign", "--yes", "--key"])
            .arg(keys.join(format!("{wrong}.pem")))
            .arg("--force")
            .arg("--out")
            .arg(scratch.0.join("wrong.sig"))
            .arg(&statement));
        assert!(ok, "{stderr}");
        let (ok, _, stderr) = run(patto(&scratch.0)
            .env("PATTO_OPERATOR_EMAIL", "operatore@example.org")
            .args(["signature", "submit", "--request", request])
            .arg(scratch.0.join("wrong.sig")));
        assert!(!ok);
        assert!(stderr.contains("does not verify"), "{stderr}");
        // Signed by the signatory: accepted.
        let (ok, _, stderr) = run(patto(&scratch.0)
            .args(["sign", "--yes", "--key"])
            .arg(keys.join(format!("{signer}.pem")))
            .arg(&statement));
        assert!(ok, "{stderr}");
        let mut signature = statement.as_os_str().to_owned();
        signature.push(".sig");
        let (ok, stdout, stderr) = run(patto(&scratch.0)
            .env("PATTO_OPERATOR_EMAIL", "operatore@example.org")
            .env("PATTO_LOG", "info")
            .args(["signature", "submit", "--request", request, "--statement"])
            .arg(&statement)
            .arg(PathBuf::from(signature)));
        assert!(ok, "{stderr}");
        assert!(stdout.contains("firma accettata"), "{stdout}");
        // The signature is logged once committed, with its request and document.
        let logged = stderr
            .lines()
            .find(|line| line.contains("signature accepted"))
            .unwrap_or_else(|| panic!("no log of the signature in {stderr}"));
        assert!(
            logged.contains(&format!("request_id={request}")),
            "{logged}"
        );
    }
    let (_, listing, _) = run(patto(&scratch.0).args(["signature", "list", DRAFT_PROTOCOL]));
    assert_eq!(listing.matches("firmata").count(), 2, "{listing}");
    assert!(listing.contains("concluso"), "{listing}");
}

#[test]
fn migrate_creates_the_database_and_bad_locations_say_what_to_do() {
    let scratch = Scratch::new();
    let (ok, stdout, stderr) = run(patto(&scratch.0).arg("migrate"));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("schema aggiornato"), "{stdout}");
    assert!(scratch.0.join("patto.sqlite3").exists());
    // Running it again changes nothing and still succeeds.
    assert!(run(patto(&scratch.0).arg("migrate")).0);

    let (ok, _, stderr) =
        run(patto(&scratch.0).args(["--database-url", "mysql://db/patto", "migrate"]));
    assert!(!ok);
    assert!(stderr.contains("postgres://"), "{stderr}");
    let file = scratch.0.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .arg("--data-dir")
        .arg(file.join("data"))
        .arg("migrate"));
    assert!(!ok);
    assert!(stderr.contains("PATTO_DATA_DIR"), "{stderr}");
}

const SURVEY_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/survey");
const DEFAULT_MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../patto-core/data/reporting-model.toml"
);

#[test]
fn the_survey_is_imported_whole_or_not_at_all_and_exported_as_open_data() {
    let scratch = Scratch::new();
    let good = format!("{SURVEY_DATA}/good.csv");
    let bad = format!("{SURVEY_DATA}/bad.xlsx");

    // The shipped model checks; a broken copy is refused with file and line.
    let (ok, stdout, stderr) =
        run(patto(&scratch.0).args(["reporting-model", "check", DEFAULT_MODEL]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("24 indicatori"), "{stdout}");
    let broken = scratch.0.join("model.toml");
    let text = std::fs::read_to_string(DEFAULT_MODEL).unwrap();
    std::fs::write(
        &broken,
        text.replacen("areas = [\"ambiente\"]", "areas = [\"ambient\"]", 1),
    )
    .unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .arg("reporting-model")
        .arg("check")
        .arg(&broken));
    assert!(!ok);
    assert!(
        stderr.contains("model.toml:") && stderr.contains("`ambient`"),
        "{stderr}"
    );

    // Importing acts as the operator who runs it: without one it is refused.
    add_operator(&scratch);
    let (ok, _, stderr) = run(patto(&scratch.0).args(["survey", "import", &good]));
    assert!(!ok);
    assert!(stderr.contains("--operator"), "{stderr}");
    // Nothing can be validated before a model is loaded; the demo loads the default one.
    let (ok, _, stderr) = run(as_operator(&scratch).args(["survey", "import", &good]));
    assert!(!ok);
    assert!(stderr.contains("reporting-model load"), "{stderr}");
    assert!(run(patto(&scratch.0).arg("demo")).0);
    // A demo referent is a person, not an operator: the command line does not act for
    // them (they import through the API, logged in).
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["--operator", "referente.cefalu@example.org"])
        .args(["survey", "import", &good]));
    assert!(!ok);
    assert!(stderr.contains("not an operator"), "{stderr}");

    let (ok, _, stderr) = run(as_operator(&scratch).args(["survey", "import", &bad]));
    assert!(!ok);
    assert!(stderr.contains("riga 4, colonna «Valore»"), "{stderr}");
    assert!(
        stderr.contains("nessun valore importato: 6 problemi"),
        "{stderr}"
    );
    // The demo's survey (generated values for 2022-2024) already has both figures: the
    // file replaces them.
    let (ok, stdout, stderr) = run(as_operator(&scratch).args(["survey", "import", &good]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("0 valori nuovi, 2 sostituiti"), "{stdout}");

    // A new model version is loaded by the operator, never anonymously.
    let next = scratch.0.join("model-v2.toml");
    std::fs::write(&next, text.replacen("version = 1", "version = 2", 1)).unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["reporting-model", "load"])
        .arg(&next));
    assert!(!ok);
    assert!(stderr.contains("--operator"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["--operator", "referente.cefalu@example.org"])
        .args(["reporting-model", "load"])
        .arg(&next));
    assert!(!ok);
    assert!(stderr.contains("not an operator"), "{stderr}");
    let (ok, stdout, stderr) = run(as_operator(&scratch)
        .args(["reporting-model", "load"])
        .arg(&next));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("versione 2 caricato"), "{stdout}");

    let (ok, csv, stderr) = run(patto(&scratch.0).args(["survey", "export"]));
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = csv.lines().collect();
    // The header, then 29 organisations (the coalition and 28 Comuni) times 24
    // indicators times 3 years.
    assert_eq!(lines.len(), 1 + 29 * 24 * 3, "{csv}");
    let amb01 = lines
        .iter()
        .find(|line| {
            line.starts_with("cefalu,Comune di Cefalù,")
                && line.contains(",AMB01,")
                && line.contains(",2022,")
        })
        .unwrap_or_else(|| panic!("no AMB01 2022 for Cefalù in {csv}"));
    assert!(
        amb01.contains(",58.9,") && amb01.ends_with(",CC-BY-4.0"),
        "{amb01}"
    );
    let (ok, json, stderr) = run(patto(&scratch.0).args([
        "survey",
        "export",
        "--format",
        "json",
        "--licence",
        "CC0-1.0",
    ]));
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["licence"], "CC0-1.0");
    let lp04 = json["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["comune"] == "cefalu" && v["indicatore"] == "LP04" && v["anno"] == 2022)
        .unwrap();
    assert_eq!(lp04["valore"], "7");
}

/// Runs a command and returns its exit code with what it printed.
fn exit(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// The demo data with the signed pact's evidence exported to `patto.json`.
fn demo_bundle(scratch: &Scratch) -> PathBuf {
    assert!(run(patto(&scratch.0).arg("demo")).0);
    let bundle = scratch.0.join("patto.json");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["evidence", "export", "patto-sicurezza-legalita", "--out"])
        .arg(&bundle));
    assert!(ok, "{stderr}");
    bundle
}

/// The server's secret key of a scratch data directory, as `patto` itself loads it.
fn scratch_server_key(scratch: &Scratch) -> patto_sign::SigningKey {
    patto::config::GlobalOptions {
        data_dir: scratch.0.clone(),
        database_url: None,
        workflows_dir: Some(WORKFLOWS.into()),
        server_key: None,
        language: patto_core::Language::It,
        operator: None,
    }
    .server_key()
    .unwrap()
}

/// The exit codes `patto verify` documents.
const VERIFY_VALID: i32 = 0;
const VERIFY_INVALID: i32 = 1;
const VERIFY_ORIGIN_UNVERIFIED: i32 = 3;
const VERIFY_UNREADABLE: i32 = 4;

#[test]
fn verify_trusts_only_a_server_key_the_reader_already_holds() {
    let scratch = Scratch::new();
    let bundle = demo_bundle(&scratch);

    // A forgery: other content, sealed with a key the forger made.
    let forger = patto_sign::generate_key();
    let mut forged: patto_sign::Bundle =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    forged.document.title = "Patto per la cementificazione".into();
    let forged_path = scratch.0.join("forged.json");
    std::fs::write(&forged_path, patto_sign::seal(forged, &forger).unwrap()).unwrap();

    // Without a key to trust, nothing is vouched for: never exit 0.
    for path in [&forged_path, &bundle] {
        let (code, stdout, stderr) = exit(patto(&scratch.0).arg("verify").arg(path));
        assert_eq!(code, VERIFY_ORIGIN_UNVERIFIED, "{stdout}{stderr}");
        assert!(stdout.contains("NON verificata"), "{stdout}");
        assert!(!stdout.contains("VALIDO:"), "{stdout}");
    }
    let (_, stdout, _) = exit(
        patto(&scratch.0)
            .args(["--lang", "en", "verify"])
            .arg(&bundle),
    );
    assert!(stdout.contains("origin NOT verified"), "{stdout}");

    // `server-key --out` writes exactly what `--server-key` reads; `--fingerprint` prints
    // the fingerprint alone.
    let server_public = scratch.0.join("server.pub");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["server-key", "--out"])
        .arg(&server_public));
    assert!(ok, "{stderr}");
    let (ok, printed, _) = run(patto(&scratch.0).args(["server-key", "--fingerprint"]));
    assert!(ok);
    let fingerprint = printed.strip_suffix('\n').unwrap();
    assert!(fingerprint.starts_with("SHA256:"), "{printed}");
    assert_eq!(fingerprint.len(), "SHA256:".len() + 43, "{printed}");

    // Pinned by file, by fingerprint or by a trust file: the genuine bundle is valid and
    // the forgery is not.
    let trust = scratch.0.join("trusted-keys");
    std::fs::write(
        &trust,
        format!("# chiavi della coalizione\n{fingerprint} Città a Rete Madonie-Termini\n"),
    )
    .unwrap();
    let pins: [(&str, Vec<std::ffi::OsString>); 3] = [
        (
            "--server-key",
            vec!["--server-key".into(), server_public.clone().into()],
        ),
        (
            "--server-fingerprint",
            vec!["--server-fingerprint".into(), fingerprint.into()],
        ),
        ("PATTO_TRUSTED_KEYS", vec![]),
    ];
    for (how, args) in pins {
        let (code, stdout, stderr) = exit(
            patto(&scratch.0)
                .env("PATTO_TRUSTED_KEYS", &trust)
                .arg("verify")
                .arg(&bundle)
                .args(&args),
        );
        assert_eq!(code, VERIFY_VALID, "{how}: {stdout}{stderr}");
        assert!(stdout.contains("VALIDO"), "{how}: {stdout}");
        let (code, stdout, _) = exit(
            patto(&scratch.0)
                .env("PATTO_TRUSTED_KEYS", &trust)
                .arg("verify")
                .arg(&forged_path)
                .args(&args),
        );
        assert_eq!(code, VERIFY_INVALID, "{how}: {stdout}");
        assert!(stdout.contains("NON VALIDO"), "{how}: {stdout}");
    }
    let (_, stdout, _) = exit(
        patto(&scratch.0)
            .env("PATTO_TRUSTED_KEYS", &trust)
            .arg("verify")
            .arg(&bundle),
    );
    assert!(stdout.contains("Città a Rete Madonie-Termini"), "{stdout}");

    // A file that cannot be read or is no bundle has its own code.
    let (code, _, _) = exit(
        patto(&scratch.0)
            .arg("verify")
            .arg(scratch.0.join("missing.json")),
    );
    assert_eq!(code, VERIFY_UNREADABLE);
    let (code, _, _) = exit(patto(&scratch.0).arg("verify").arg(&server_public));
    assert_eq!(code, VERIFY_UNREADABLE);
}

#[test]
fn verify_escapes_control_characters_in_what_it_prints() {
    let scratch = Scratch::new();
    let bundle = demo_bundle(&scratch);
    let server_public = scratch.0.join("server.pub");
    std::fs::write(
        &server_public,
        patto_sign::public_key_to_pem(&scratch_server_key(&scratch).verifying_key()).unwrap(),
    )
    .unwrap();
    // A genuine seal over a title carrying a forged line, terminal escapes and a
    // right-to-left override, as a careless import might have stored it.
    let mut edited: patto_sign::Bundle =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    edited.document.title =
        "Patto\n- Comune Falso — Mario Rossi: sottoscrive \u{1b}[32mOK\u{1b}[0m \u{202e}otacifirev"
            .into();
    let edited_path = scratch.0.join("edited.json");
    std::fs::write(
        &edited_path,
        patto_sign::seal(edited, &scratch_server_key(&scratch)).unwrap(),
    )
    .unwrap();
    let (_, stdout, stderr) = exit(
        patto(&scratch.0)
            .arg("verify")
            .arg(&edited_path)
            .arg("--server-key")
            .arg(&server_public),
    );
    assert!(stdout.contains("VALIDO"), "{stdout}{stderr}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(!stdout.contains('\u{202e}'), "{stdout:?}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("- Comune Falso")),
        "{stdout}"
    );
    assert!(stdout.contains("\\u{1b}"), "{stdout}");
}

/// A statement as Patto issues it, for offline signing tests.
fn sample_statement(content: &[u8]) -> String {
    patto_sign::Statement::new(
        12,
        3,
        "patto-verde-2026",
        "Patto per il verde",
        2,
        &patto_sign::content_hash(content),
        5,
        "Anna Rossi",
        9,
        "Comune di Cefalù",
        "endorse",
        "2026-11-27T10:00:00.123456Z",
    )
    .to_canonical()
}

#[test]
fn sign_shows_what_is_signed_and_asks_first() {
    let scratch = Scratch::new();
    let key = scratch.0.join("anna.pem");
    assert!(run(patto(&scratch.0).arg("keygen").arg("--out").arg(&key)).0);
    let content = b"Patto per il verde, versione 2\n";
    let document = scratch.0.join("patto.txt");
    std::fs::write(&document, content).unwrap();
    let statement = scratch.0.join("statement.json");
    std::fs::write(&statement, sample_statement(content)).unwrap();
    let signature = scratch.0.join("statement.json.sig");

    // No terminal to ask on and no --yes: nothing is signed.
    let (ok, _, stderr) = run(patto(&scratch.0)
        .arg("sign")
        .arg("--key")
        .arg(&key)
        .arg(&statement)
        .stdin(Stdio::null()));
    assert!(!ok, "signed without confirmation");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(!signature.exists());

    // With --yes it says what it signs.
    let (ok, stdout, stderr) = run(patto(&scratch.0)
        .arg("sign")
        .arg("--yes")
        .arg("--key")
        .arg(&key)
        .arg(&statement));
    assert!(ok, "{stderr}");
    for shown in [
        "patto-verde-2026",
        "versione 2",
        &patto_sign::content_hash(content),
        "Comune di Cefalù",
        "sottoscrive",
    ] {
        assert!(stdout.contains(shown), "{shown} not shown: {stdout}");
    }

    // --document checks the file against the statement's hash.
    let other = scratch.0.join("altro.txt");
    std::fs::write(&other, b"Patto per il cemento\n").unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--base64", "--key"])
        .arg(&key)
        .arg("--document")
        .arg(&other)
        .arg(&statement));
    assert!(!ok, "signed a statement for other content");
    assert!(stderr.contains("SHA-256"), "{stderr}");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--base64", "--key"])
        .arg(&key)
        .arg("--document")
        .arg(&document)
        .arg(&statement));
    assert!(ok, "{stderr}");

    // Anything that is not a statement is refused.
    let letter = scratch.0.join("letter.txt");
    std::fs::write(&letter, b"I owe Mario 1000 euro").unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["sign", "--yes", "--base64", "--key"])
        .arg(&key)
        .arg(&letter));
    assert!(!ok, "signed something that is not a statement");
    assert!(stderr.contains("statement"), "{stderr}");
}

#[test]
fn outputs_are_new_files_unless_forced_and_never_followed_links() {
    let scratch = Scratch::new();
    let bundle = demo_bundle(&scratch);
    let key = scratch.0.join("anna.pem");
    assert!(run(patto(&scratch.0).arg("keygen").arg("--out").arg(&key)).0);
    let statement = scratch.0.join("statement.json");
    std::fs::write(&statement, sample_statement(b"x")).unwrap();

    let precious = scratch.0.join("precious.txt");
    std::fs::write(&precious, b"keep me").unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["statement", "--request", "1", "--out"])
        .arg(&precious));
    assert!(!ok);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    let before = std::fs::read(&bundle).unwrap();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["evidence", "export", "patto-sicurezza-legalita", "--out"])
        .arg(&bundle));
    assert!(!ok);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args([
            "evidence",
            "export",
            "patto-sicurezza-legalita",
            "--force",
            "--out",
        ])
        .arg(&bundle));
    assert!(ok, "{stderr}");
    let link = scratch.0.join("link.sig");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let sign_to = |out: &Path, force: bool| {
        let mut command = patto(&scratch.0);
        command
            .args(["sign", "--yes", "--key"])
            .arg(&key)
            .arg("--out")
            .arg(out)
            .arg(&statement);
        if force {
            command.arg("--force");
        }
        run(&mut command)
    };
    for target in [&precious, &link] {
        let (ok, _, stderr) = sign_to(target, false);
        assert!(!ok, "{} overwritten", target.display());
        assert!(stderr.contains("--force"), "{stderr}");
        assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    }
    // Forced onto a link, the link is replaced and its target left alone.
    let (ok, _, stderr) = sign_to(&link, true);
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    assert_eq!(std::fs::read(&link).unwrap().len(), 64);
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
}

#[test]
fn raw_keys_are_typed_and_secret_keys_stay_private() {
    let scratch = Scratch::new();
    let secret = scratch.0.join("raw.key");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["keygen", "--format", "base64url", "--out"])
        .arg(&secret));
    assert!(ok, "{stderr}");
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    let public_text = std::fs::read_to_string(scratch.0.join("raw.key.pub")).unwrap();
    let secret_raw = secret_text
        .strip_prefix("patto-ed25519-secret:")
        .unwrap_or_else(|| panic!("{secret_text:?}"))
        .strip_suffix('\n')
        .unwrap();
    let public_raw = public_text
        .strip_prefix("patto-ed25519-public:")
        .unwrap_or_else(|| panic!("{public_text:?}"))
        .strip_suffix('\n')
        .unwrap();
    assert_eq!(secret_raw.len(), 43);
    assert_eq!(public_raw.len(), 43);
    let key = patto_sign::parse_secret_key(&secret_text).unwrap();
    assert_eq!(
        patto_sign::public_key_to_base64url(&key.verifying_key()),
        public_raw
    );
    // Neither can be read as the other.
    assert!(matches!(
        patto_sign::parse_public_key(&secret_text),
        Err(patto_sign::SignError::PrivateKeyGiven)
    ));
    assert!(patto_sign::parse_public_key(secret_raw).is_err());
    assert!(patto_sign::parse_secret_key(&public_text).is_err());

    // A secret key others can read is refused, as ssh does.
    let statement = scratch.0.join("statement.json");
    std::fs::write(&statement, sample_statement(b"x")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (ok, _, stderr) = run(patto(&scratch.0)
            .args(["sign", "--yes", "--base64", "--key"])
            .arg(&secret)
            .arg(&statement));
        assert!(!ok, "a readable secret key was used");
        assert!(stderr.contains("chmod 600"), "{stderr}");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (ok, _, stderr) = run(patto(&scratch.0)
            .args(["sign", "--yes", "--base64", "--key"])
            .arg(&secret)
            .arg(&statement));
        assert!(ok, "{stderr}");

        // The data directory and the database are the owner's alone.
        let data = scratch.0.join("data");
        assert!(run(patto(&data).arg("migrate")).0);
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("patto.sqlite3")), 0o600);
    }
}

#[test]
fn a_sqlite_url_creates_its_file_and_directory_as_the_data_directory_does() {
    let scratch = Scratch::new();
    let file = scratch.0.join("elsewhere/nested/patto.db");
    let url = format!("sqlite://{}", file.display());
    let (ok, stdout, stderr) = run(patto(&scratch.0).args(["--database-url", &url, "migrate"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("schema aggiornato"), "{stdout}");
    assert!(file.is_file());
    // The same URL opens the same database the next time.
    let (ok, _, stderr) = run(patto(&scratch.0).args(["--database-url", &url, "demo"]));
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) =
        run(patto(&scratch.0).args(["--database-url", &url, "audit", "verify", "--all"]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("patto-sicurezza-legalita: catena integra"),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 alterate"), "{stdout}");
}

#[test]
fn the_definitions_in_use_are_named_at_start_and_a_broken_workflows_folder_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.0.join("data");
    let serve_here = || {
        let mut command = patto(&data);
        command
            .env_remove("PATTO_WORKFLOWS_DIR")
            .current_dir(&scratch.0)
            .args(["--lang", "en", "serve", "--bind", "127.0.0.1:0"]);
        command
    };
    // No ./workflows folder: the built-in definitions, and the server says so.
    let stderr = ServerProcess::start(&mut serve_here()).stop();
    assert!(
        stderr.contains("workflow definitions in use: built into the binary"),
        "{stderr}"
    );
    assert!(stderr.contains("social-report"), "{stderr}");

    // A ./workflows folder in the working directory replaces them: the server names it.
    let folder = scratch.0.join("workflows");
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(WORKFLOWS).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            std::fs::copy(&path, folder.join(path.file_name().unwrap())).unwrap();
        }
    }
    let stderr = ServerProcess::start(&mut serve_here()).stop();
    assert!(
        stderr.contains("workflow definitions in use: the folder workflows (diagnosis, pact,"),
        "{stderr}"
    );

    // A definition there that fails the check stops the start, naming file and line.
    std::fs::write(
        folder.join("broken.toml"),
        "name = \"broken\"\nversion = \"one\"\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = run(&mut serve_here());
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("broken.toml:2:"), "{stderr}");
    assert!(stderr.contains("PATTO_WORKFLOWS_DIR"), "{stderr}");
}

#[test]
fn json_logs_name_the_address_the_backend_and_each_request() {
    let scratch = Scratch::new();
    let mut server = ServerProcess::start(
        patto(&scratch.0)
            .env_remove("PATTO_LOG")
            .env("PATTO_LOG_FORMAT", "json")
            .args(["serve", "--bind", "127.0.0.1:0"]),
    );
    let client = reqwest::blocking::Client::new();
    // Every answer carries a request id: a new one, or the caller's own.
    let answer = client.get(server.url("/healthz")).send().unwrap();
    let made = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 36, "{made}");
    let answer = client
        .get(server.url("/readyz"))
        .header("x-request-id", "trace-42")
        .send()
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "trace-42");
    let stderr = server.stop();

    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let start = events
        .iter()
        .find(|event| event["fields"]["message"] == "listening")
        .unwrap_or_else(|| panic!("no JSON start line in {stderr}"));
    assert_eq!(start["level"], "INFO");
    assert_eq!(start["fields"]["address"], server.address.as_str());
    assert_eq!(start["fields"]["backend"], "sqlite");
    let definitions = events
        .iter()
        .find(|event| event["fields"]["message"] == "workflow definitions in use")
        .unwrap_or_else(|| panic!("no definitions line in {stderr}"));
    assert!(
        definitions["fields"]["definitions"]
            .as_str()
            .unwrap()
            .contains("pact"),
        "{definitions}"
    );
}

/// The number of events in a document's chain, from `patto audit verify --all` output.
fn chain_events(verify_output: &str, slug: &str) -> usize {
    let line = verify_output
        .lines()
        .find(|line| line.contains(slug))
        .unwrap_or_else(|| panic!("{slug} is not in {verify_output}"));
    line.split(|c: char| !c.is_ascii_digit())
        .rfind(|number| !number.is_empty())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no event count in {line}"))
}

#[test]
fn a_backup_of_a_live_database_restores_and_verifies() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let scratch = Scratch::new();
    let data = scratch.0.join("data");
    assert!(run(patto(&data).arg("demo")).0);
    let (_, verified, _) = run(patto(&data).args(["--lang", "en", "audit", "verify", "--all"]));
    let demo_events = chain_events(&verified, "patto-sicurezza-legalita");
    let _server = ServerProcess::start(patto(&data).args(["serve", "--bind", "127.0.0.1:0"]));

    // A writer comments on the pact, through the engine, while the copy is made.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written) = (stop.clone(), written.clone());
        let global = patto::config::GlobalOptions {
            data_dir: data.clone(),
            database_url: None,
            workflows_dir: Some(WORKFLOWS.into()),
            server_key: None,
            operator: None,
            language: patto_core::Language::En,
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let engine = global.engine().await.unwrap();
                let pact = engine
                    .document_by_slug("patto-sicurezza-legalita")
                    .await
                    .unwrap();
                let coordinator = engine
                    .person_by_email("coordinamento@example.org")
                    .await
                    .unwrap();
                let actor = patto_engine::Actor::Person(coordinator.id);
                // Bounded, so that a failing test cannot write forever.
                for n in 0..2000 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    engine
                        .add_comment(actor, pact.id, None, &format!("nota {n}"))
                        .await
                        .unwrap();
                    written.fetch_add(1, Ordering::SeqCst);
                }
            });
        })
    };
    while written.load(Ordering::SeqCst) < 5 && !writer.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let backup = scratch.0.join("patto-backup.sqlite3");
    let (ok, stdout, stderr) = run(patto(&data).arg("backup").arg("--out").arg(&backup));
    let written_after_backup = written.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("server-key.pem"), "{stdout}");

    // A second backup to the same file is refused and leaves it as it was.
    let before = std::fs::read(&backup).unwrap();
    let (ok, _, stderr) = run(patto(&data).arg("backup").arg("--out").arg(&backup));
    assert!(!ok);
    assert!(stderr.contains("esiste già"), "{stderr}");
    assert_eq!(std::fs::read(&backup).unwrap(), before);

    // Restored as a data directory, every chain in the copy verifies, and the copy holds
    // the comments written before it began.
    let restored = scratch.0.join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("patto.sqlite3")).unwrap();
    let (ok, verified, stderr) =
        run(patto(&restored).args(["--lang", "en", "audit", "verify", "--all"]));
    assert!(ok, "{verified}{stderr}");
    assert!(verified.contains("0 altered"), "{verified}");
    let restored_events = chain_events(&verified, "patto-sicurezza-legalita");
    assert!(restored_events >= demo_events + 5, "{verified}");
    assert!(
        restored_events <= demo_events + written_after_backup,
        "{verified}"
    );
}

#[test]
fn a_postgres_backup_is_refused_with_pg_dump_and_nothing_is_written() {
    let scratch = Scratch::new();
    let out = scratch.0.join("patto.dump");
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "backup",
            "--out",
        ])
        .arg(&out));
    assert!(!ok);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!out.exists());
    // An empty data directory has nothing to copy, and says where it looked.
    let (ok, _, stderr) = run(patto(&scratch.0.join("empty"))
        .args(["--lang", "en", "backup", "--out"])
        .arg(&out));
    assert!(!ok);
    assert!(stderr.contains("no database to copy"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn bench_refuses_a_database_that_holds_data() {
    let scratch = Scratch::new();
    assert!(run(patto(&scratch.0).arg("demo")).0);
    let chains = || {
        let (ok, stdout, stderr) = run(patto(&scratch.0).args(["audit", "verify", "--all"]));
        assert!(ok, "{stderr}");
        stdout
    };
    let before = chains();
    // The demo's database named by URL, as an operator would configure it: the benchmark
    // must not add its organisation, documents and thousands of events to it.
    let url = format!(
        "sqlite://{}?mode=rwc",
        scratch.0.join("patto.sqlite3").display()
    );
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "--lang",
        "en",
        "--database-url",
        &url,
        "bench",
        "transitions",
        "--instances",
        "2",
        "--clients",
        "1",
        "--transitions",
        "4",
        "--runs",
        "1",
    ]));
    assert!(!ok, "the benchmark wrote into a database holding data");
    assert!(stderr.contains("--scratch"), "{stderr}");
    assert_eq!(chains(), before);

    // Said to be a scratch database, it is benchmarked, beside the plain reference loop.
    let (ok, stdout, stderr) = run(patto(&scratch.0).args([
        "--lang",
        "en",
        "--database-url",
        &url,
        "bench",
        "transitions",
        "--scratch",
        "--instances",
        "2",
        "--clients",
        "1",
        "--transitions",
        "4",
        "--runs",
        "1",
    ]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("reference: a plain single-writer SQLite loop"),
        "{stdout}"
    );
    assert!(stdout.contains("ratio"), "{stdout}");
    assert_ne!(chains(), before);
}

#[test]
fn bench_on_postgresql_works_in_a_scratch_database_it_drops() {
    let Ok(url) = std::env::var("PATTO_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PATTO_TEST_DATABASE_URL must be set in CI so that PostgreSQL is tested"
        );
        // Written to the process's stderr directly: the harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "SKIP postgres: PATTO_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let scratch = Scratch::new();
    let (ok, stdout, stderr) = run(patto(&scratch.0).args([
        "--lang",
        "en",
        "--database-url",
        &url,
        "bench",
        "transitions",
        "--instances",
        "2",
        "--clients",
        "2",
        "--transitions",
        "4",
        "--runs",
        "1",
        "--reference-seconds",
        "1",
    ]));
    assert!(ok, "{stderr}");
    // The configured database is only the server's address: the transitions ran in a
    // database of the benchmark's own, beside pgbench running the checked-in transaction.
    assert!(stdout.contains("/patto_bench_"), "{stdout}");
    assert!(
        stdout.contains("reference: pgbench with docs/benchmarks/pgbench-transition.sql"),
        "{stdout}"
    );
    assert!(stdout.contains("ratio"), "{stdout}");
    let scratch_name = stdout
        .split("/patto_bench_")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_alphanumeric()).next())
        .map(|suffix| format!("patto_bench_{suffix}"))
        .unwrap();
    let (ok, stdout, stderr) = run(Command::new("psql")
        .arg(&url)
        .args(["-Atc", "SELECT datname FROM pg_database"]));
    assert!(ok, "{stderr}");
    assert!(
        !stdout.contains(&scratch_name),
        "{scratch_name} was left behind"
    );
}

#[test]
fn verify_exits_with_the_documented_code_for_each_example_bundle() {
    let scratch = Scratch::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/evidence");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    for case in manifest["cases"].as_array().unwrap() {
        let file = dir.join(case["file"].as_str().unwrap());
        let server_key = dir.join(case["server_key"].as_str().unwrap());
        let (code, stdout, stderr) = exit(
            patto(&scratch.0)
                .arg("verify")
                .arg(&file)
                .arg("--server-key")
                .arg(&server_key),
        );
        assert_eq!(
            i64::from(code),
            case["exit_pinned"].as_i64().unwrap(),
            "{case}: {stdout}{stderr}"
        );
        let (code, stdout, stderr) = exit(patto(&scratch.0).arg("verify").arg(&file));
        assert_eq!(
            i64::from(code),
            case["exit_unpinned"].as_i64().unwrap(),
            "{case}: {stdout}{stderr}"
        );
    }
}

/// A mail server for the binary's tests: it takes every message of every session and
/// hands each over as it arrives. Returns its `PATTO_SMTP_URL`.
fn mail_server() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok((stream, _)) = listener.accept() {
            let sender = sender.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut reader = BufReader::new(stream.try_clone()?);
                let mut writer = stream;
                writer.write_all(b"220 test ESMTP\r\n")?;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    match line.get(..4).unwrap_or("").to_ascii_uppercase().as_str() {
                        "EHLO" => writer.write_all(b"250-test\r\n250 8BITMIME\r\n")?,
                        "QUIT" => return writer.write_all(b"221 bye\r\n"),
                        "DATA" => {
                            writer.write_all(b"354 go ahead\r\n")?;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if reader.read_line(&mut line)? == 0 || line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            writer.write_all(b"250 queued\r\n")?;
                            let _ = sender.send(data);
                        }
                        _ => writer.write_all(b"250 ok\r\n")?,
                    }
                }
            });
        }
    });
    (url, received)
}

/// The eight-digit code of a login mail: alone on its line.
fn login_code(mail: &str) -> Option<String> {
    mail.lines()
        .map(str::trim)
        .find(|line| line.len() == 8 && line.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

#[test]
fn a_person_logs_in_requests_a_key_and_signs_online_with_the_real_binary() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new();
    assert!(run(patto(&scratch.0).arg("demo")).0);
    let request_ids = open_protocol_round(&scratch);
    let (smtp, mail) = mail_server();
    let mut server = ServerProcess::start(
        patto(&scratch.0)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("PATTO_SMTP_URL", &smtp)
            .env("PATTO_MAIL_FROM", "Patto <patto@example.org>"),
    );
    let url = server.url("");
    let config = scratch.0.join("config");
    let online = |args: &[&str]| {
        let mut command = patto(&scratch.0);
        command
            .env("XDG_CONFIG_HOME", &config)
            .env_remove("PATTO_SESSIONS_FILE")
            .args(args)
            .stdin(Stdio::null());
        command
    };
    let email = "referente.termini-imerese@example.org";

    // `patto login` asks for the code, which the person reads in the mail and types.
    let mut login = online(&["login", "--server", &url, "--email", email])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The demo's workflow mail goes out too: the login mail is the one to this address
    // with a code (a deadline, not a timing: the worker polls every 2 seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let code = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let message = mail
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no login mail; server: {}", server.stop()));
        if message.contains(&format!("To: {email}"))
            && let Some(code) = login_code(&message)
        {
            break code;
        }
    };
    login
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{code}\n").as_bytes())
        .unwrap();
    let Output {
        status,
        stdout,
        stderr,
    } = login.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    );
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("accesso effettuato"), "{stdout}");
    assert!(
        !stdout.contains(&code),
        "the login shows the code: {stdout}"
    );
    let sessions = config.join("patto").join("sessions.json");
    let kept = std::fs::read_to_string(&sessions).unwrap();
    assert!(kept.contains("patto_") && !kept.contains(&code), "{kept}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sessions), 0o600);
    assert_eq!(mode(&config.join("patto")), 0o700);

    let key = scratch.0.join("demo-keys").join("termini-imerese.pem");
    let sign = |extra: &[&str]| {
        let mut args = vec![
            "sign",
            "--server",
            &url,
            "--request",
            &request_ids[1],
            "--key",
            key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&mut online(&args))
    };
    // A sessions file others can read is refused, as a readable key is.
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, stderr) = sign(&["--yes"]);
    assert!(!ok);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Without a terminal to confirm on and without --yes, nothing is signed.
    let (ok, stdout, stderr) = sign(&[]);
    assert!(!ok);
    assert!(stdout.contains("SHA-256 del contenuto"), "{stdout}");
    assert!(stderr.contains("--yes"), "{stderr}");
    // Signed here, submitted with the session.
    let (ok, stdout, stderr) = sign(&["--yes"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("documento: «"), "{stdout}");
    assert!(stdout.contains("firma accettata"), "{stdout}");
    let (_, listing, _) = run(patto(&scratch.0).args(["signature", "list", DRAFT_PROTOCOL]));
    assert_eq!(listing.matches("firmata").count(), 1, "{listing}");
    // The same request cannot be signed twice.
    let (ok, _, stderr) = sign(&["--yes"]);
    assert!(!ok);
    assert!(stderr.contains("il server ha rifiutato"), "{stderr}");

    // A new key, requested online with proof of possession: pending until approved.
    let new_key = scratch.0.join("nuova.pem");
    assert!(run(patto(&scratch.0).args(["keygen", "--out"]).arg(&new_key)).0);
    let (ok, stdout, stderr) = run(&mut online(&[
        "keys",
        "request",
        "--server",
        &url,
        "--key",
        new_key.to_str().unwrap(),
        "--organisation",
        "termini-imerese",
    ]));
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("registrata per termini-imerese"),
        "{stdout}"
    );
    let (_, keys, _) = run(patto(&scratch.0).args(["keys", "list", "--email", email]));
    assert!(keys.contains("in attesa"), "{keys}");

    // Logging out revokes the session and forgets it; the online commands then ask to
    // log in.
    let (ok, stdout, stderr) = run(&mut online(&["logout", "--server", &url]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("chiusa"), "{stdout}");
    assert!(
        !std::fs::read_to_string(&sessions)
            .unwrap()
            .contains("patto_")
    );
    let (ok, _, stderr) = sign(&["--yes"]);
    assert!(!ok);
    assert!(stderr.contains("patto login --server"), "{stderr}");
    // Plain HTTP to another machine would show the token to the network: refused.
    let (ok, _, stderr) = run(&mut online(&[
        "--lang",
        "en",
        "login",
        "--server",
        "http://patto.example.org",
        "--email",
        email,
    ]));
    assert!(!ok);
    assert!(stderr.contains("SSH"), "{stderr}");
    // No listing shows the code either (the outbox is listed by an operator).
    let (ok, _, stderr) = run(patto(&scratch.0).args([
        "operator",
        "add",
        "--email",
        "operatore@example.org",
        "--name",
        "Operatore",
    ]));
    assert!(ok, "{stderr}");
    let (ok, listing, stderr) = run(patto(&scratch.0)
        .env("PATTO_OPERATOR_EMAIL", "operatore@example.org")
        .args(["outbox", "list"]));
    assert!(ok, "{stderr}");
    assert!(listing.contains("login_code"), "{listing}");
    assert!(!listing.contains(&code), "{listing}");
    server.stop();
}

#[test]
fn serve_refuses_a_trusted_proxy_list_that_does_not_parse() {
    let scratch = Scratch::new();
    let (ok, _, stderr) = run(patto(&scratch.0)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PATTO_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.org"));
    assert!(!ok);
    assert!(stderr.contains("proxy.example.org"), "{stderr}");
    assert!(stderr.contains("PATTO_TRUSTED_PROXIES"), "{stderr}");
}
