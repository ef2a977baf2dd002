//! Every message the command line prints for staff, in Italian (the default) and English.
//! Keeping them in one place keeps the two languages in step.

use patto_core::Language;

/// The parts of the demo data, reported as they are loaded.
#[derive(Clone, Copy)]
pub enum DemoPart {
    Organisations,
    People,
    Network,
    Documents,
}

/// A message with its arguments already in place.
pub enum Message<'a> {
    WorkflowsValid {
        count: usize,
        names: String,
        dir: &'a str,
    },
    WorkflowsInvalid {
        count: usize,
        dir: &'a str,
    },
    UnknownWorkflow {
        name: &'a str,
        known: String,
    },
    Migrated {
        target: String,
        applied: usize,
    },
    Listening {
        address: String,
        target: String,
    },
    ShuttingDown,
    DemoRefused {
        organisations: usize,
        target: String,
    },
    DemoProgress {
        part: DemoPart,
        count: usize,
    },
    DemoDone {
        target: String,
    },
    ChainIntact {
        document: &'a str,
        events: usize,
    },
    ChainBroken {
        document: &'a str,
        problem: String,
    },
    ChainsSummary {
        intact: usize,
        broken: usize,
    },
    BenchSetup {
        instances: usize,
        clients: usize,
        target: String,
    },
    BenchRun {
        run: usize,
        transitions: usize,
        seconds: f64,
        per_second: f64,
    },
    BenchSummary {
        runs: usize,
        median_per_second: f64,
        p50_ms: f64,
        p99_ms: f64,
        conflicts: usize,
    },
}

impl Message<'_> {
    pub fn text(&self, language: Language) -> String {
        match language {
            Language::It => self.italian(),
            Language::En => self.english(),
        }
    }

    fn italian(&self) -> String {
        match self {
            Message::WorkflowsValid { count, names, dir } => {
                format!("{count} definizioni valide in {dir}: {names}")
            }
            Message::WorkflowsInvalid { count, dir } => format!(
                "{count} problemi nelle definizioni in {dir}; correggili e rilancia `patto workflows check`"
            ),
            Message::UnknownWorkflow { name, known } => {
                format!("nessun workflow di nome '{name}'; quelli disponibili sono: {known}")
            }
            Message::Migrated { target, applied } => {
                format!("schema aggiornato ({applied} migrazioni applicate) su {target}")
            }
            Message::Listening { address, target } => {
                format!("Patto in ascolto su http://{address} (dati: {target})")
            }
            Message::ShuttingDown => "arresto in corso: termino le richieste aperte".to_owned(),
            Message::DemoRefused {
                organisations,
                target,
            } => format!(
                "il database {target} contiene già {organisations} organizzazioni: `patto demo` carica i dati dimostrativi solo in un database vuoto. Usa un'altra cartella dati (--data-dir o PATTO_DATA_DIR) o un database nuovo"
            ),
            Message::DemoProgress { part, count } => format!(
                "demo: {count} {}",
                match part {
                    DemoPart::Organisations => "organizzazioni registrate",
                    DemoPart::People => "persone registrate",
                    DemoPart::Network => "organizzazioni nella rete integrata",
                    DemoPart::Documents =>
                        "documenti creati (patto in condivisione, protocolli in stesura)",
                }
            ),
            Message::DemoDone { target } => {
                format!("dati dimostrativi caricati in {target}; avvia il server con `patto serve`")
            }
            Message::ChainIntact { document, events } => {
                format!("{document}: catena integra ({events} eventi)")
            }
            Message::ChainBroken { document, problem } => {
                format!("{document}: CATENA ALTERATA: {problem}")
            }
            Message::ChainsSummary { intact, broken } => {
                format!("{intact} catene integre, {broken} alterate")
            }
            Message::BenchSetup {
                instances,
                clients,
                target,
            } => {
                format!("benchmark transizioni: {instances} istanze, {clients} client, su {target}")
            }
            Message::BenchRun {
                run,
                transitions,
                seconds,
                per_second,
            } => format!(
                "giro {run}: {transitions} transizioni in {seconds:.2} s = {per_second:.0} transizioni/s"
            ),
            Message::BenchSummary {
                runs,
                median_per_second,
                p50_ms,
                p99_ms,
                conflicts,
            } => format!(
                "mediana su {runs} giri: {median_per_second:.0} transizioni confermate/s; latenza p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms; conflitti {conflicts}"
            ),
        }
    }

    fn english(&self) -> String {
        match self {
            Message::WorkflowsValid { count, names, dir } => {
                format!("{count} valid definitions in {dir}: {names}")
            }
            Message::WorkflowsInvalid { count, dir } => format!(
                "{count} problems in the definitions in {dir}; fix them and run `patto workflows check` again"
            ),
            Message::UnknownWorkflow { name, known } => {
                format!("no workflow named '{name}'; the available ones are: {known}")
            }
            Message::Migrated { target, applied } => {
                format!("schema up to date ({applied} migrations applied) on {target}")
            }
            Message::Listening { address, target } => {
                format!("Patto listening on http://{address} (data: {target})")
            }
            Message::ShuttingDown => "shutting down: finishing open requests".to_owned(),
            Message::DemoRefused {
                organisations,
                target,
            } => format!(
                "the database {target} already holds {organisations} organisations: `patto demo` loads demo data only into an empty database. Use another data directory (--data-dir or PATTO_DATA_DIR) or a new database"
            ),
            Message::DemoProgress { part, count } => format!(
                "demo: {count} {}",
                match part {
                    DemoPart::Organisations => "organisations registered",
                    DemoPart::People => "people registered",
                    DemoPart::Network => "organisations in the partner network",
                    DemoPart::Documents =>
                        "documents created (pact in sharing, protocols in drafting)",
                }
            ),
            Message::DemoDone { target } => {
                format!("demo data loaded into {target}; start the server with `patto serve`")
            }
            Message::ChainIntact { document, events } => {
                format!("{document}: chain intact ({events} events)")
            }
            Message::ChainBroken { document, problem } => {
                format!("{document}: CHAIN ALTERED: {problem}")
            }
            Message::ChainsSummary { intact, broken } => {
                format!("{intact} chains intact, {broken} altered")
            }
            Message::BenchSetup {
                instances,
                clients,
                target,
            } => format!(
                "transition benchmark: {instances} instances, {clients} clients, on {target}"
            ),
            Message::BenchRun {
                run,
                transitions,
                seconds,
                per_second,
            } => format!(
                "run {run}: {transitions} transitions in {seconds:.2} s = {per_second:.0} transitions/s"
            ),
            Message::BenchSummary {
                runs,
                median_per_second,
                p50_ms,
                p99_ms,
                conflicts,
            } => format!(
                "median of {runs} runs: {median_per_second:.0} committed transitions/s; latency p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms; conflicts {conflicts}"
            ),
        }
    }
}
