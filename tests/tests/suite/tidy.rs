//! Tidy checks on the workspace's own sources, in the manner of rust-analyzer's tidy
//! tests: the layering of ARCHITECTURE.md is enforced by a failing test, not a
//! convention. Only `patto-store` and `migrations` may name SeaORM; the binary `patto`,
//! the API `patto-api`, the scheduler, the mail worker `patto-notify` and the public
//! portal `patto-portal` may not name the store at all, so they reach the data through
//! the engine only; the report renderer `patto-report` names neither the engine nor the
//! store.

use std::fs;
use std::path::{Path, PathBuf};

/// Names that only the persistence crates may use (in manifests and in code).
const SEAORM_NAMES: [&str; 4] = ["sea_orm", "sea-orm", "sea_query", "sea-query"];
/// Names the binary, the API, the scheduler and the mail worker may not use: they talk
/// to the engine, never to the store.
const STORE_NAMES: [&str; 2] = ["patto_store", "patto-store"];
/// Crate directories allowed to name SeaORM.
const PERSISTENCE_CRATES: [&str; 2] = ["crates/patto-store", "migrations"];
/// The crates that reach the data through the engine only: the binary, the API, the
/// scheduler, whose worker fires reviews through engine services, the mail worker and
/// the public portal, which reads as the public through engine services.
const ENGINE_ONLY_CRATES: [&str; 5] = [
    "crates/patto",
    "crates/patto-api",
    "crates/patto-scheduler",
    "crates/patto-notify",
    "crates/patto-portal",
];

/// Names the rendering crate may not use: it renders a parsed report and never reads
/// data itself, so the portal can call it with what the engine returned.
const ENGINE_NAMES: [&str; 2] = ["patto_engine", "patto-engine"];
/// The crates that depend on `patto-core` only: neither the engine nor the store.
const CORE_ONLY_CRATES: [&str; 1] = ["crates/patto-report"];

/// Every member crate's directory, relative to the workspace root.
fn crate_dirs(root: &Path) -> Vec<String> {
    let mut dirs = Vec::new();
    for parent in ["crates", ""] {
        let Ok(entries) = fs::read_dir(root.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join("Cargo.toml").is_file() && path != root {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                dirs.push(relative.replace('\\', "/"));
            }
        }
    }
    dirs.sort();
    dirs
}

/// `Cargo.toml` and every `.rs` file under a crate directory, skipping build output.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" {
                    pending.push(path);
                }
            } else if name == "Cargo.toml" || path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every place where a crate names something its layer forbids, as `path:line: reason`.
pub fn layering_violations(root: &Path) -> Vec<String> {
    let this_file = Path::new(file!());
    let mut violations = Vec::new();
    for dir in crate_dirs(root) {
        let mut forbidden: Vec<&str> = Vec::new();
        if !PERSISTENCE_CRATES.contains(&dir.as_str()) {
            forbidden.extend(SEAORM_NAMES);
        }
        if ENGINE_ONLY_CRATES.contains(&dir.as_str()) {
            forbidden.extend(STORE_NAMES);
        }
        if CORE_ONLY_CRATES.contains(&dir.as_str()) {
            forbidden.extend(STORE_NAMES);
            forbidden.extend(ENGINE_NAMES);
        }
        for file in sources(&root.join(&dir)) {
            let relative = file.strip_prefix(root).unwrap();
            // This file lists the forbidden names; it is the one place allowed to.
            if this_file.ends_with(relative) || relative.ends_with(this_file) {
                continue;
            }
            let text = fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                for name in &forbidden {
                    if line.contains(name) {
                        violations.push(format!(
                            "{}:{}: `{name}` is named outside the crates allowed to",
                            relative.display(),
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    violations
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn only_the_store_and_migrations_name_seaorm_and_engine_only_crates_never_name_the_store() {
    let root = workspace_root();
    assert!(
        crate_dirs(&root).len() >= 7,
        "the workspace's crates were not found under {}",
        root.display()
    );
    let violations = layering_violations(&root);
    assert!(
        violations.is_empty(),
        "layering violations (see ARCHITECTURE.md):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_reports_a_forbidden_use() {
    let root = std::env::temp_dir().join(format!("patto-tidy-{}", uuid::Uuid::new_v4()));
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "crates/patto-store/Cargo.toml",
        "[dependencies]\nsea-orm = \"2\"\n",
    );
    write("crates/patto-store/src/lib.rs", "use sea_orm::Database;\n");
    write("crates/patto-engine/Cargo.toml", "[package]\n");
    write(
        "crates/patto-engine/src/lib.rs",
        "//! ok\nuse sea_orm::Database;\n",
    );
    write(
        "crates/patto/Cargo.toml",
        "[dependencies]\npatto-store = \"0\"\n",
    );
    write("crates/patto/src/main.rs", "fn main() {}\n");
    write("crates/patto-scheduler/Cargo.toml", "[package]\n");
    write(
        "crates/patto-scheduler/src/worker.rs",
        "//! ok\n\nuse patto_store::Tx;\n",
    );
    write("crates/patto-api/Cargo.toml", "[package]\n");
    write(
        "crates/patto-api/src/lib.rs",
        "//! ok\nuse patto_store::Tx;\n",
    );
    let violations = layering_violations(&root);
    fs::remove_dir_all(&root).unwrap();
    assert_eq!(
        violations,
        [
            "crates/patto/Cargo.toml:2: `patto-store` is named outside the crates allowed to",
            "crates/patto-api/src/lib.rs:2: `patto_store` is named outside the crates allowed to",
            "crates/patto-engine/src/lib.rs:2: `sea_orm` is named outside the crates allowed to",
            "crates/patto-scheduler/src/worker.rs:3: `patto_store` is named outside the crates allowed to",
        ]
    );
}

/// Ways of making a reqwest client that skip `patto::http_client`, which installs the
/// TLS provider first: without it reqwest panics when the client is built.
const UNPROVIDED_CLIENTS: [&str; 4] = [
    "reqwest::get(",
    "reqwest::Client::new(",
    "reqwest::Client::builder(",
    "reqwest::ClientBuilder::new(",
];

#[test]
fn every_http_client_is_made_with_the_tls_provider_installed() {
    let root = workspace_root();
    let this_file = Path::new(file!());
    let mut violations = Vec::new();
    for dir in crate_dirs(&root) {
        for file in sources(&root.join(&dir)) {
            let relative = file.strip_prefix(&root).unwrap();
            if this_file.ends_with(relative)
                || relative.ends_with(this_file)
                || relative.ends_with("crates/patto/src/http_client.rs")
            {
                continue;
            }
            let text = fs::read_to_string(&file).unwrap();
            // A blocking client is made where the provider was installed just before.
            let installs = text.contains("install_crypto_provider()");
            for (number, line) in text.lines().enumerate() {
                let blocking = line.contains("reqwest::blocking::") && !installs;
                if blocking || UNPROVIDED_CLIENTS.iter().any(|way| line.contains(way)) {
                    violations.push(format!("{}:{}", relative.display(), number + 1));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "HTTP clients made without patto::http_client:\n{}",
        violations.join("\n")
    );
}
