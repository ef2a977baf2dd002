//! The real `patto` binary, run as an operator would run it, on SQLite in scratch
//! directories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
        .env("PATTO_DATA_DIR", data_dir)
        .env("PATTO_WORKFLOWS_DIR", WORKFLOWS);
    command
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
        vec!["workflows", "check", "--help"],
        vec!["workflows", "graph", "--help"],
        vec!["demo", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["bench", "transitions", "--help"],
        vec!["bench", "verify", "--help"],
        vec!["keygen", "--help"],
        vec!["statement", "--help"],
        vec!["sign", "--help"],
        vec!["signature", "list", "--help"],
        vec!["signature", "submit", "--help"],
        vec!["signature", "decline", "--help"],
        vec!["keys", "register", "--help"],
        vec!["keys", "approve", "--help"],
        vec!["keys", "revoke", "--help"],
        vec!["keys", "list", "--help"],
        vec!["server-key", "--help"],
        vec!["evidence", "export", "--help"],
        vec!["verify", "--help"],
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
    assert!(stdout.contains("4 catene integre, 0 alterate"), "{stdout}");

    let mut server = patto(&scratch.0)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address = first_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first_line:?}"))
        .to_owned();
    let healthz = get(&address, "/healthz");
    let readyz = get(&address, "/readyz");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(healthz.starts_with("HTTP/1.1 200"), "{healthz}");
    assert!(readyz.starts_with("HTTP/1.1 200"), "{readyz}");
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

fn get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
