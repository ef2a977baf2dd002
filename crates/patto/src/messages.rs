//! Every message the command line prints for staff, in Italian (the default) and English.
//! Keeping them in one place keeps the two languages in step.

use std::borrow::Cow;

use patto_core::Language;
use patto_core::ids::{SignatureRequestId, SigningKeyId, SigningRoundId};
use patto_core::schedule::{CronError, CronErrorKind, CronField, DEFAULT_TIME_ZONE};
use patto_core::status::{SignatureRequestStatus, SigningKeyStatus, SigningRoundStatus};

/// The parts of the demo data, reported as they are loaded.
#[derive(Clone, Copy)]
pub enum DemoPart {
    Organisations,
    People,
    Network,
    Documents,
    ProtocolsInForce,
    Reviews,
    ReportingModel,
    SurveyValues,
    SocialReports,
    Diagnosis,
    ConsultationAnswers,
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
    /// The stderr line at start that says which workflow definitions are in use.
    DefinitionsInUse {
        source: String,
        names: String,
    },
    DefinitionsFolder {
        dir: String,
    },
    DefinitionsBuiltIn,
    WorkflowsRefused {
        source: String,
        problems: Vec<String>,
    },
    ShuttingDown,
    BackupUsePgDump,
    BackupExists {
        path: String,
    },
    BackupNoDatabase {
        target: String,
    },
    BackupDone {
        target: String,
        path: String,
        key: &'a str,
    },
    LogSettingIgnored {
        variable: &'a str,
        value: String,
        problem: String,
        default: &'a str,
    },
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
    DirectoryRowMissing {
        table: &'a str,
        id: i64,
    },
    DirectoryRowUnrecorded {
        table: &'a str,
        id: i64,
        found: String,
    },
    DirectoryRowAltered {
        table: &'a str,
        id: i64,
        expected: String,
        found: String,
    },
    DirectoryMatches {
        rows_differing: usize,
    },
    OperatorGranted {
        email: &'a str,
    },
    BadOutboxStatus {
        given: &'a str,
        expected: &'a str,
    },
    OutboxListed {
        count: usize,
    },
    OutboxRequeued {
        count: u64,
    },
    TokenCreated {
        email: &'a str,
        expires_at: String,
    },
    MailNotConfigured,
    MailWorkerStarted {
        server: String,
    },
    ReportingModelValid {
        file: &'a str,
        version: u32,
        areas: usize,
        indicators: usize,
    },
    ReportingModelLoaded {
        version: u32,
        sha256: &'a str,
    },
    SurveyImported {
        inserted: usize,
        replaced: usize,
        organisations: String,
        version: u32,
    },
    SurveyRowProblem {
        row: usize,
        column: &'a str,
        reason: &'a str,
    },
    SurveyNothingImported {
        problems: usize,
    },
    SurveyUnknownFormat {
        file: &'a str,
    },
    BenchSetup {
        instances: usize,
        clients: usize,
        target: String,
        /// Seconds of each pgbench run on PostgreSQL; `None` for SQLite's plain loop.
        pgbench_seconds: Option<u32>,
    },
    BenchRefused {
        target: String,
    },
    BenchRun {
        run: usize,
        transitions: usize,
        seconds: f64,
        per_second: f64,
        reference_per_second: f64,
    },
    BenchSummary {
        runs: usize,
        median_per_second: f64,
        median_reference_per_second: f64,
        median_ratio: f64,
        p50_ms: f64,
        p99_ms: f64,
        conflicts: usize,
    },
    BenchSchedulesSetup {
        schedules: usize,
        documents: usize,
        workers: usize,
        target: String,
    },
    BenchSchedules {
        schedules: usize,
        seconds: f64,
        per_second: f64,
        p50_ms: f64,
        p99_ms: f64,
        seeded_mib: f64,
        after_mib: f64,
        peak_mib: f64,
    },
    BenchOutboxSetup {
        messages: usize,
        concurrency: usize,
        sink: String,
    },
    BenchOutboxRun {
        run: usize,
        per_second: f64,
        reference: Option<f64>,
        mean_bytes: u64,
    },
    BenchOutboxSummary {
        runs: usize,
        per_second: f64,
        reference: Option<f64>,
    },
    BenchOutboxNoReference,
    BenchApiSetup {
        clients: usize,
        target: String,
    },
    BenchApiRun {
        run: usize,
        requests: usize,
        seconds: f64,
        per_second: f64,
    },
    BenchApiSummary {
        runs: usize,
        median_per_second: f64,
        p50_ms: f64,
        p99_ms: f64,
    },
    BenchPortalSetup {
        requests: usize,
        target: String,
    },
    BenchPortalPage {
        page: String,
        path: String,
        median_ms: f64,
        bytes: usize,
    },
    BenchVerify {
        signatures: usize,
        runs: usize,
        single_per_second: f64,
        batch_per_second: f64,
    },
    BenchBundle {
        endorsements: usize,
        events: usize,
        bytes: usize,
        runs: usize,
        median_ms: f64,
    },
    KeyGenerated {
        secret: String,
        public: String,
        public_key: String,
        fingerprint: String,
    },
    Signed {
        signature: String,
        fingerprint: String,
    },
    RequestLine {
        request: SignatureRequestId,
        round: SigningRoundId,
        version: i32,
        round_status: SigningRoundStatus,
        organisation: &'a str,
        email: &'a str,
        status: SignatureRequestStatus,
    },
    SignatureAccepted {
        request: SignatureRequestId,
        state: &'a str,
    },
    SignatureDeclined {
        request: SignatureRequestId,
    },
    RegistrationWritten {
        path: String,
        fingerprint: String,
        organisation: &'a str,
    },
    KeyAwaitingSecondOperator {
        id: SigningKeyId,
    },
    KeyLine {
        id: SigningKeyId,
        fingerprint: &'a str,
        status: SigningKeyStatus,
    },
    ServerKey {
        public_key: String,
        fingerprint: String,
    },
    EvidenceWritten {
        path: String,
        bytes: usize,
    },
    /// A bundle whose every check passed; `trusted_as` is the label of the trusted key
    /// that sealed it, or `None` when no trusted key was given.
    BundleReport {
        report: &'a patto_sign::BundleReport,
        trusted_as: Option<&'a str>,
    },
    BundleInvalid {
        path: &'a str,
        problem: String,
    },
    BundleUnreadable {
        path: &'a str,
        problem: String,
    },
    TrustUnusable {
        problem: String,
    },
    SignSummary {
        statement: &'a patto_sign::Statement,
        document_checked: bool,
    },
    ConfirmPrompt,
    ConfirmNoTerminal,
    ConfirmDeclined,
    DemoKeys {
        dir: String,
    },
    CronInvalid {
        expression: &'a str,
        error: &'a CronError,
    },
    UnknownTimeZone {
        zone: &'a str,
    },
    InvalidInstant {
        text: &'a str,
    },
    NoFireTimes,
    ServerUrlInvalid {
        given: &'a str,
    },
    ServerUrlInClear {
        given: &'a str,
    },
    CaFileUnreadable {
        file: &'a str,
    },
    CaFileInvalid {
        file: &'a str,
    },
    ServerCertificateRefused {
        server: &'a str,
        problem: &'a str,
    },
    NoConfigDirectory,
    ServerRefused {
        code: &'a str,
        message: &'a str,
    },
    ServerUnusable {
        server: &'a str,
        problem: &'a str,
    },
    NotLoggedIn {
        server: &'a str,
    },
    LoginCodeRequested {
        email: &'a str,
        server: &'a str,
    },
    LoginCodePrompt,
    LoginNoCode,
    LoggedIn {
        name: &'a str,
        server: &'a str,
        expires_at: String,
        file: String,
    },
    LoggedOut {
        server: &'a str,
    },
    SessionAlreadyEnded {
        server: &'a str,
    },
    NoSessionToEnd {
        server: &'a str,
    },
    ServerStatementUnusable {
        request: i64,
    },
    ServerStatementMismatch {
        request: i64,
        field: &'a str,
    },
    KeyRequestSubmitted {
        id: &'a str,
        fingerprint: &'a str,
        organisation: &'a str,
        status: &'a str,
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
            Message::DefinitionsInUse { source, names } => {
                format!("definizioni dei workflow in uso: {source} ({names})")
            }
            Message::DefinitionsFolder { dir } => format!("la cartella {dir}"),
            Message::DefinitionsBuiltIn => "quelle incorporate nel programma".to_owned(),
            Message::WorkflowsRefused { source, problems } => format!(
                "le definizioni dei workflow ({source}) non superano il controllo:\n{}\ncorreggile (`patto workflows check` le ricontrolla) o scegli un'altra cartella con --workflows-dir o PATTO_WORKFLOWS_DIR",
                problems.join("\n")
            ),
            Message::ShuttingDown => "arresto in corso: termino le richieste aperte".to_owned(),
            Message::BackupUsePgDump => "`patto backup` copia i database SQLite; per PostgreSQL usa pg_dump, ad esempio `pg_dump --format=custom --file=patto.dump \"$PATTO_DATABASE_URL\"` (vedi il README, sezione Backups)".to_owned(),
            Message::BackupExists { path } => format!(
                "{path} esiste già: una copia di sicurezza non sovrascrive mai un file; scegli un nome nuovo"
            ),
            Message::BackupNoDatabase { target } => format!(
                "non c'è nessun database da copiare ({target}); indica la cartella dati giusta con --data-dir o PATTO_DATA_DIR"
            ),
            Message::BackupDone { target, path, key } => format!(
                "copia coerente di {target} scritta in {path}. La chiave del server ({key}) non è inclusa: conservane una copia a parte, in un luogo sicuro"
            ),
            Message::LogSettingIgnored {
                variable,
                value,
                problem,
                default,
            } => format!(
                "{variable}={value:?} non è valido ({problem}); uso {default}. Correggi la variabile per scegliere i log"
            ),
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
                        "documenti creati (il patto con i commenti dei partner e i protocolli operativi)",
                    DemoPart::ProtocolsInForce =>
                        "protocolli firmati con le chiavi dimostrative ed entrati in vigore (uno resta in stesura)",
                    DemoPart::Reviews =>
                        "verifiche svolte, con lo stato riferito di ogni impegno",
                    DemoPart::ReportingModel =>
                        "indicatori nel modello di rendicontazione predefinito",
                    DemoPart::SurveyValues =>
                        "valori della ricognizione (dati dimostrativi generati, non reali)",
                    DemoPart::SocialReports =>
                        "bilanci sociali pubblicati (la coalizione e tre Comuni)",
                    DemoPart::Diagnosis =>
                        "problemi nella diagnosi della coalizione, approvata e citata dal patto (dati dimostrativi)",
                    DemoPart::ConsultationAnswers =>
                        "risposte (dimostrative) alla consultazione della Diagnosi, chiusa",
                }
            ),
            Message::DemoDone { target } => {
                format!("dati dimostrativi caricati in {target}; avvia il server con `patto serve`")
            }
            Message::ChainIntact { document, events } => {
                format!("{document}: catena integra ({events} eventi)")
            }
            Message::ChainBroken { document, problem } => {
                format!("{}: CATENA ALTERATA: {}", shown(document), shown(problem))
            }
            Message::ChainsSummary { intact, broken } => {
                format!("{intact} catene integre, {broken} alterate")
            }
            Message::DirectoryRowMissing { table, id } => format!(
                "anagrafica: la riga {id} di {table} è registrata nella catena ma manca dal database"
            ),
            Message::DirectoryRowUnrecorded { table, id, found } => format!(
                "anagrafica: la riga {id} di {table} è nel database ma non è mai stata registrata nella catena: {found}"
            ),
            Message::DirectoryRowAltered {
                table,
                id,
                expected,
                found,
            } => format!(
                "anagrafica: la riga {id} di {table} differisce dalla catena: registrata {expected}, trovata {found}"
            ),
            Message::DirectoryMatches { rows_differing } => {
                if *rows_differing == 0 {
                    "anagrafica: ogni riga corrisponde alla catena".to_owned()
                } else {
                    format!("anagrafica: {rows_differing} righe differiscono dalla catena")
                }
            }
            Message::OperatorGranted { email } => {
                format!("{email} è ora operatore dell'istanza")
            }
            Message::BadOutboxStatus { given, expected } => {
                format!("stato '{given}' sconosciuto: scrivi uno tra {expected}")
            }
            Message::OutboxListed { count } => format!("{count} messaggi"),
            Message::OutboxRequeued { count } => {
                format!("{count} messaggi rimessi in coda: il server li invierà a breve")
            }
            Message::TokenCreated { email, expires_at } => format!(
                "token per {email}, valido fino al {expires_at}: conservalo in un posto sicuro, non verrà mostrato di nuovo"
            ),
            Message::MailNotConfigured => "posta non configurata (PATTO_SMTP_URL non impostato): le e-mail, compresi i codici di accesso, restano in coda finché non si configura un server SMTP".to_owned(),
            Message::MailWorkerStarted { server } => {
                format!("invio della posta attivo tramite {server}")
            }
            Message::ReportingModelValid {
                file,
                version,
                areas,
                indicators,
            } => format!(
                "{file}: modello di rendicontazione versione {version} valido, {areas} ambiti e {indicators} indicatori"
            ),
            Message::ReportingModelLoaded { version, sha256 } => {
                format!("modello di rendicontazione versione {version} caricato (SHA-256 {sha256})")
            }
            Message::SurveyImported {
                inserted,
                replaced,
                organisations,
                version,
            } => format!(
                "ricognizione importata: {inserted} valori nuovi, {replaced} sostituiti, per {organisations} (modello versione {version})"
            ),
            Message::SurveyRowProblem {
                row,
                column,
                reason,
            } => format!("riga {row}, colonna «{column}»: {reason}"),
            Message::SurveyNothingImported { problems } => format!(
                "nessun valore importato: {problems} problemi nel file; correggili e importa di nuovo il file intero"
            ),
            Message::SurveyUnknownFormat { file } => {
                format!("{file}: formato non riconosciuto; usa un file .csv o .xlsx")
            }
            Message::BenchSetup {
                instances,
                clients,
                target,
                pgbench_seconds,
            } => {
                let reference = match pgbench_seconds {
                    Some(seconds) => format!(
                        "pgbench con docs/benchmarks/pgbench-transition.sql, {clients} client, {seconds} s per giro"
                    ),
                    None => "un ciclo SQLite semplice con un solo scrittore (BEGIN; 1 UPDATE + 2 INSERT; COMMIT; WAL, synchronous=FULL)".to_owned(),
                };
                format!(
                    "benchmark transizioni: {instances} istanze, {clients} client, su {target}; riferimento: {reference}"
                )
            }
            Message::BenchRefused { target } => format!(
                "{target} contiene già dati e il benchmark vi scriverebbe righe permanenti: ometti --database-url (usa un database temporaneo), indica un database vuoto, oppure aggiungi --scratch se è un database di prova"
            ),
            Message::BenchRun {
                run,
                transitions,
                seconds,
                per_second,
                reference_per_second,
            } => format!(
                "giro {run}: {transitions} transizioni in {seconds:.2} s = {per_second:.0} transizioni/s; riferimento {reference_per_second:.0}/s; rapporto {:.2}",
                per_second / reference_per_second
            ),
            Message::BenchSummary {
                runs,
                median_per_second,
                median_reference_per_second,
                median_ratio,
                p50_ms,
                p99_ms,
                conflicts,
            } => format!(
                "mediana su {runs} giri: {median_per_second:.0} transizioni confermate/s, riferimento {median_reference_per_second:.0}/s, rapporto {median_ratio:.2}; latenza p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms; conflitti {conflicts}"
            ),
            Message::BenchSchedulesSetup {
                schedules,
                documents,
                workers,
                target,
            } => format!(
                "benchmark scadenze: {schedules} calendari di revisione su {documents} documenti, {workers} worker, su {target}"
            ),
            Message::BenchSchedules {
                schedules,
                seconds,
                per_second,
                p50_ms,
                p99_ms,
                seeded_mib,
                after_mib,
                peak_mib,
            } => format!(
                "{schedules} revisioni scattate in {seconds:.2} s = {per_second:.0} revisioni/s; ritardo p50 {p50_ms:.0} ms, p99 {p99_ms:.0} ms; memoria residente {seeded_mib:.1} MiB con i calendari, {after_mib:.1} MiB dopo (picco {peak_mib:.1} MiB)"
            ),
            Message::BenchOutboxSetup {
                messages,
                concurrency,
                sink,
            } => format!(
                "benchmark posta: {messages} messaggi per giro, {concurrency} worker (e sessioni smtp-source), nel ricevitore SMTP {sink}, su un database SQLite di prova"
            ),
            Message::BenchOutboxRun {
                run,
                per_second,
                reference,
                mean_bytes,
            } => match reference {
                Some(reference) => format!(
                    "giro {run}: Patto {per_second:.0} messaggi/s; smtp-source {reference:.0} messaggi/s ({mean_bytes} byte ciascuno)"
                ),
                None => format!(
                    "giro {run}: Patto {per_second:.0} messaggi/s ({mean_bytes} byte ciascuno)"
                ),
            },
            Message::BenchOutboxSummary {
                runs,
                per_second,
                reference,
            } => match reference {
                Some(reference) => format!(
                    "mediana su {runs} giri: Patto {per_second:.0} messaggi/s, smtp-source {reference:.0} messaggi/s, rapporto {:.2}",
                    per_second / reference
                ),
                None => format!("mediana su {runs} giri: Patto {per_second:.0} messaggi/s"),
            },
            Message::BenchOutboxNoReference => "smtp-source di Postfix non è installato, quindi manca il riferimento: installalo con `apt-get install postfix` (Debian; il programma è in /usr/sbin) e ripeti il benchmark".to_owned(),
            Message::BenchApiSetup { clients, target } => {
                format!("benchmark API GraphQL: {clients} client concorrenti, su {target}")
            }
            Message::BenchApiRun {
                run,
                requests,
                seconds,
                per_second,
            } => format!(
                "giro {run}: {requests} richieste in {seconds:.2} s = {per_second:.0} richieste/s"
            ),
            Message::BenchApiSummary {
                runs,
                median_per_second,
                p50_ms,
                p99_ms,
            } => format!(
                "mediana su {runs} giri: {median_per_second:.0} richieste/s; latenza p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms"
            ),
            Message::BenchPortalSetup { requests, target } => format!(
                "benchmark del portale sui dati dimostrativi in {target}: {requests} richieste per tipo di pagina, una alla volta"
            ),
            Message::BenchPortalPage {
                page,
                path,
                median_ms,
                bytes,
            } => format!("{page:<22} {path:<44} mediana {median_ms:>7.2} ms  {bytes:>7} byte"),
            Message::BenchVerify {
                signatures,
                runs,
                single_per_second,
                batch_per_second,
            } => format!(
                "verifica di {signatures} firme Ed25519, mediana su {runs} giri: {single_per_second:.0} firme/s una alla volta, {batch_per_second:.0} firme/s in blocco"
            ),
            Message::BenchBundle {
                endorsements,
                events,
                bytes,
                runs,
                median_ms,
            } => format!(
                "verifica di un pacchetto di prove con {endorsements} firme e {events} eventi di audit ({bytes} byte), mediana su {runs} giri: {median_ms:.0} ms"
            ),
            Message::KeyGenerated {
                secret,
                public,
                public_key,
                fingerprint,
            } => format!(
                "chiave segreta scritta in {secret} (solo il proprietario può leggerla: non condividerla)\nchiave pubblica scritta in {public}\nchiave pubblica: {public_key}\nimpronta: {fingerprint}\nregistra la chiave pubblica e chiedi a un coordinatore della tua organizzazione di approvarla"
            ),
            Message::Signed {
                signature,
                fingerprint,
            } => {
                format!("firma scritta in {signature} con la chiave {fingerprint}")
            }
            Message::RequestLine {
                request,
                round,
                version,
                round_status,
                organisation,
                email,
                status,
            } => format!(
                "richiesta {request} (giro {round} sulla versione {version}, {}): {} — {}: {}",
                italian_round_status(*round_status),
                shown(organisation),
                shown(email),
                italian_request_status(*status)
            ),
            Message::SignatureAccepted { request, state } => format!(
                "firma accettata per la richiesta {request}; il documento ora è nello stato '{state}'"
            ),
            Message::SignatureDeclined { request } => format!(
                "rifiuto registrato per la richiesta {request}; i coordinatori sono stati avvisati"
            ),
            Message::RegistrationWritten {
                path,
                fingerprint,
                organisation,
            } => format!(
                "richiesta di registrazione della chiave {fingerprint} per {organisation} scritta in {path}; inviala entro 24 ore dalla tua sessione"
            ),
            Message::KeyAwaitingSecondOperator { id } => format!(
                "approvazione registrata: la chiave {id} attende l'approvazione di un secondo operatore"
            ),
            Message::KeyLine {
                id,
                fingerprint,
                status,
            } => {
                format!(
                    "chiave {id}: {fingerprint} ({})",
                    italian_key_status(*status)
                )
            }
            Message::ServerKey {
                public_key,
                fingerprint,
            } => format!("chiave pubblica del server: {public_key}\nimpronta: {fingerprint}"),
            Message::EvidenceWritten { path, bytes } => format!(
                "pacchetto di prove scritto in {path} ({bytes} byte); verificalo con `patto verify {path}`"
            ),
            Message::BundleReport { report, trusted_as } => {
                bundle_report(report, *trusted_as, Language::It)
            }
            Message::BundleInvalid { path, problem } => {
                format!("{}: NON VALIDO: {}", shown(path), shown(problem))
            }
            Message::BundleUnreadable { path, problem } => format!(
                "{}: ILLEGGIBILE, non è un pacchetto di prove che questa versione sa leggere: {}",
                shown(path),
                shown(problem)
            ),
            Message::TrustUnusable { problem } => format!(
                "chiave fidata inutilizzabile: {}",
                shown(problem)
            ),
            Message::SignSummary {
                statement,
                document_checked,
            } => sign_summary(statement, *document_checked, Language::It),
            Message::ConfirmPrompt => "Firmare questa dichiarazione? [s/N] ".to_owned(),
            Message::ConfirmNoTerminal => "nessun terminale su cui chiedere conferma: rileggi la dichiarazione qui sopra e aggiungi --yes per firmarla".to_owned(),
            Message::ConfirmDeclined => "non firmato: nessuna firma è stata fatta".to_owned(),
            Message::DemoKeys { dir } => format!(
                "demo: chiavi dimostrative dei firmatari in {dir} (solo per la demo, mai per firme reali); il patto è stato firmato ed è in vigore"
            ),
            Message::CronInvalid { expression, error } => cron_invalid(
                expression,
                error,
                &italian_cron_problem(error),
                "espressione cron non valida",
            ),
            Message::UnknownTimeZone { zone } => format!(
                "fuso orario sconosciuto `{zone}`; usa un nome IANA come `{DEFAULT_TIME_ZONE}`"
            ),
            Message::InvalidInstant { text } => format!(
                "`{text}` non è un istante RFC 3339; scrivilo con la differenza dal tempo universale, come 2026-03-29T00:00:00+01:00"
            ),
            Message::NoFireTimes => {
                "nessuna esecuzione prevista (il calendario arriva fino al 2100)".to_owned()
            }
            Message::ServerUrlInvalid { given } => format!(
                "`{}` non è l'indirizzo di un server Patto; scrivilo come https://patto.example.org (o http://localhost:8080 per un server su questa macchina)",
                shown(given)
            ),
            Message::ServerUrlInClear { given } => format!(
                "`{}` è in chiaro (http): il token della sessione viaggerebbe leggibile da chiunque sulla rete; usa l'indirizzo https del server (http è ammesso solo verso questa macchina, ad esempio attraverso un tunnel SSH)",
                shown(given)
            ),
            Message::CaFileUnreadable { file } => format!(
                "non riesco a leggere il certificato della CA {}; indica con --ca-file (o PATTO_CA_FILE) un file PEM leggibile",
                shown(file)
            ),
            Message::CaFileInvalid { file } => format!(
                "{} non contiene certificati PEM (blocchi -----BEGIN CERTIFICATE-----); indica con --ca-file il certificato della CA che ha firmato quello del server",
                shown(file)
            ),
            Message::ServerCertificateRefused { server, problem } => format!(
                "il certificato TLS di {} non è affidabile ({}): la connessione è stata chiusa e nulla è stato inviato; se il server usa una CA propria dell'ente, indicane il certificato con --ca-file (o PATTO_CA_FILE), e verifica che l'indirizzo sia quello scritto nel certificato",
                shown(server),
                shown(problem)
            ),
            Message::NoConfigDirectory => "non so dove tenere le sessioni: né XDG_CONFIG_HOME né HOME sono impostate; indica il file con --sessions-file o PATTO_SESSIONS_FILE".to_owned(),
            Message::ServerRefused { code, message } => format!(
                "il server ha rifiutato la richiesta ({}): {}",
                shown(code),
                shown(message)
            ),
            Message::ServerUnusable { server, problem } => format!(
                "nessuna risposta utilizzabile da {}: {}; controlla l'indirizzo e la rete e riprova",
                shown(server),
                shown(problem)
            ),
            Message::NotLoggedIn { server } => format!(
                "nessuna sessione valida su {}: accedi prima con `patto login --server {} --email TUO_INDIRIZZO`",
                shown(server),
                shown(server)
            ),
            Message::LoginCodeRequested { email, server } => format!(
                "se {} è registrato su {}, gli è stato inviato per e-mail un codice di accesso valido 15 minuti",
                shown(email),
                shown(server)
            ),
            Message::LoginCodePrompt => "Codice ricevuto per e-mail: ".to_owned(),
            Message::LoginNoCode => {
                "nessun codice inserito: non hai effettuato l'accesso; riprova con `patto login`".to_owned()
            }
            Message::LoggedIn {
                name,
                server,
                expires_at,
                file,
            } => format!(
                "accesso effettuato su {} come {}; la sessione scade il {expires_at} ed è conservata in {file} (leggibile solo da te)",
                shown(server),
                shown(name)
            ),
            Message::LoggedOut { server } => format!(
                "sessione su {} chiusa e dimenticata su questa macchina",
                shown(server)
            ),
            Message::SessionAlreadyEnded { server } => format!(
                "la sessione su {} era già chiusa o scaduta; è stata dimenticata su questa macchina",
                shown(server)
            ),
            Message::NoSessionToEnd { server } => format!(
                "nessuna sessione su {} da chiudere",
                shown(server)
            ),
            Message::ServerStatementUnusable { request } => format!(
                "il server non ha dato una dichiarazione di firma valida per la richiesta {request}: nulla è stato firmato"
            ),
            Message::ServerStatementMismatch { request, field } => format!(
                "la dichiarazione data dal server per la richiesta {request} non corrisponde alla richiesta né alla tua sessione (differisce: {field}): nulla è stato firmato; segnalalo a chi gestisce il server"
            ),
            Message::KeyRequestSubmitted {
                id,
                fingerprint,
                organisation,
                status,
            } => format!(
                "chiave {} ({}) registrata per {} (stato: {}); un coordinatore o amministratore dell'ente deve approvarla prima che possa firmare",
                shown(id),
                shown(fingerprint),
                shown(organisation),
                shown(status)
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
            Message::DefinitionsInUse { source, names } => {
                format!("workflow definitions in use: {source} ({names})")
            }
            Message::DefinitionsFolder { dir } => format!("the folder {dir}"),
            Message::DefinitionsBuiltIn => "built into the binary".to_owned(),
            Message::WorkflowsRefused { source, problems } => format!(
                "the workflow definitions ({source}) fail the check:\n{}\nfix them (`patto workflows check` checks them again) or choose another folder with --workflows-dir or PATTO_WORKFLOWS_DIR",
                problems.join("\n")
            ),
            Message::ShuttingDown => "shutting down: finishing open requests".to_owned(),
            Message::BackupUsePgDump => "`patto backup` copies SQLite databases; for PostgreSQL use pg_dump, e.g. `pg_dump --format=custom --file=patto.dump \"$PATTO_DATABASE_URL\"` (see README, Backups)".to_owned(),
            Message::BackupExists { path } => format!(
                "{path} already exists: a backup never overwrites a file; choose a new name"
            ),
            Message::BackupNoDatabase { target } => format!(
                "there is no database to copy ({target}); give the right data directory with --data-dir or PATTO_DATA_DIR"
            ),
            Message::BackupDone { target, path, key } => format!(
                "consistent copy of {target} written to {path}. The server key ({key}) is not included: keep a copy of it separately, somewhere safe"
            ),
            Message::LogSettingIgnored {
                variable,
                value,
                problem,
                default,
            } => format!(
                "{variable}={value:?} is not valid ({problem}); using {default}. Fix the variable to choose the logs"
            ),
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
                        "documents created (the pact with partners' comments and the operational protocols)",
                    DemoPart::ProtocolsInForce =>
                        "protocols signed with the demo keys and in force (one is still being drafted)",
                    DemoPart::Reviews => "reviews held, with each commitment's reported status",
                    DemoPart::ReportingModel => "indicators in the default reporting model",
                    DemoPart::SurveyValues => "survey values (generated demo data, not real)",
                    DemoPart::SocialReports =>
                        "social reports published (the coalition and three Comuni)",
                    DemoPart::Diagnosis =>
                        "problems in the coalition's diagnosis, approved and cited by the pact (demo data)",
                    DemoPart::ConsultationAnswers =>
                        "(demo) answers to the Diagnosi's consultation, closed",
                }
            ),
            Message::DemoDone { target } => {
                format!("demo data loaded into {target}; start the server with `patto serve`")
            }
            Message::ChainIntact { document, events } => {
                format!("{document}: chain intact ({events} events)")
            }
            Message::ChainBroken { document, problem } => {
                format!("{}: CHAIN ALTERED: {}", shown(document), shown(problem))
            }
            Message::ChainsSummary { intact, broken } => {
                format!("{intact} chains intact, {broken} altered")
            }
            Message::DirectoryRowMissing { table, id } => format!(
                "directory: {table} row {id} is recorded in the chain but missing from the database"
            ),
            Message::DirectoryRowUnrecorded { table, id, found } => format!(
                "directory: {table} row {id} is in the database but was never recorded in the chain: {found}"
            ),
            Message::DirectoryRowAltered {
                table,
                id,
                expected,
                found,
            } => format!(
                "directory: {table} row {id} differs from the chain: recorded {expected}, found {found}"
            ),
            Message::DirectoryMatches { rows_differing } => {
                if *rows_differing == 0 {
                    "directory: every row matches the chain".to_owned()
                } else {
                    format!("directory: {rows_differing} rows differ from the chain")
                }
            }
            Message::OperatorGranted { email } => {
                format!("{email} is now an operator of this instance")
            }
            Message::BadOutboxStatus { given, expected } => {
                format!("unknown status '{given}': write one of {expected}")
            }
            Message::OutboxListed { count } => format!("{count} messages"),
            Message::OutboxRequeued { count } => {
                format!("{count} messages queued again: the server will send them shortly")
            }
            Message::TokenCreated { email, expires_at } => format!(
                "token for {email}, valid until {expires_at}: keep it somewhere safe, it will not be shown again"
            ),
            Message::MailNotConfigured => "mail is not configured (PATTO_SMTP_URL is not set): e-mail, login codes included, stays queued until an SMTP server is configured".to_owned(),
            Message::MailWorkerStarted { server } => {
                format!("sending mail through {server}")
            }
            Message::ReportingModelValid {
                file,
                version,
                areas,
                indicators,
            } => format!(
                "{file}: reporting model version {version} is valid, {areas} areas and {indicators} indicators"
            ),
            Message::ReportingModelLoaded { version, sha256 } => {
                format!("reporting model version {version} loaded (SHA-256 {sha256})")
            }
            Message::SurveyImported {
                inserted,
                replaced,
                organisations,
                version,
            } => format!(
                "survey imported: {inserted} new values, {replaced} replaced, for {organisations} (model version {version})"
            ),
            Message::SurveyRowProblem {
                row,
                column,
                reason,
            } => format!("row {row}, column \"{column}\": {reason}"),
            Message::SurveyNothingImported { problems } => format!(
                "nothing was imported: {problems} problems in the file; fix them and import the whole file again"
            ),
            Message::SurveyUnknownFormat { file } => {
                format!("{file}: unknown format; use a .csv or .xlsx file")
            }
            Message::BenchSetup {
                instances,
                clients,
                target,
                pgbench_seconds,
            } => {
                let reference = match pgbench_seconds {
                    Some(seconds) => format!(
                        "pgbench with docs/benchmarks/pgbench-transition.sql, {clients} clients, {seconds} s a run"
                    ),
                    None => "a plain single-writer SQLite loop (BEGIN; 1 UPDATE + 2 INSERTs; COMMIT; WAL, synchronous=FULL)".to_owned(),
                };
                format!(
                    "transition benchmark: {instances} instances, {clients} clients, on {target}; reference: {reference}"
                )
            }
            Message::BenchRefused { target } => format!(
                "{target} already holds data and the benchmark would write permanent rows into it: leave out --database-url (a temporary database is used), name an empty database, or add --scratch if it is a scratch database"
            ),
            Message::BenchRun {
                run,
                transitions,
                seconds,
                per_second,
                reference_per_second,
            } => format!(
                "run {run}: {transitions} transitions in {seconds:.2} s = {per_second:.0} transitions/s; reference {reference_per_second:.0}/s; ratio {:.2}",
                per_second / reference_per_second
            ),
            Message::BenchSummary {
                runs,
                median_per_second,
                median_reference_per_second,
                median_ratio,
                p50_ms,
                p99_ms,
                conflicts,
            } => format!(
                "median of {runs} runs: {median_per_second:.0} committed transitions/s, reference {median_reference_per_second:.0}/s, ratio {median_ratio:.2}; latency p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms; conflicts {conflicts}"
            ),
            Message::BenchSchedulesSetup {
                schedules,
                documents,
                workers,
                target,
            } => format!(
                "schedule benchmark: {schedules} review schedules over {documents} documents, {workers} workers, on {target}"
            ),
            Message::BenchSchedules {
                schedules,
                seconds,
                per_second,
                p50_ms,
                p99_ms,
                seeded_mib,
                after_mib,
                peak_mib,
            } => format!(
                "{schedules} reviews fired in {seconds:.2} s = {per_second:.0} reviews/s; lateness p50 {p50_ms:.0} ms, p99 {p99_ms:.0} ms; resident memory {seeded_mib:.1} MiB with the schedules, {after_mib:.1} MiB after (peak {peak_mib:.1} MiB)"
            ),
            Message::BenchOutboxSetup {
                messages,
                concurrency,
                sink,
            } => format!(
                "outbox benchmark: {messages} messages per run, {concurrency} workers (and smtp-source sessions), into the SMTP sink {sink}, on a scratch SQLite database"
            ),
            Message::BenchOutboxRun {
                run,
                per_second,
                reference,
                mean_bytes,
            } => match reference {
                Some(reference) => format!(
                    "run {run}: Patto {per_second:.0} messages/s; smtp-source {reference:.0} messages/s ({mean_bytes} bytes each)"
                ),
                None => format!("run {run}: Patto {per_second:.0} messages/s ({mean_bytes} bytes each)"),
            },
            Message::BenchOutboxSummary {
                runs,
                per_second,
                reference,
            } => match reference {
                Some(reference) => format!(
                    "median of {runs} runs: Patto {per_second:.0} messages/s, smtp-source {reference:.0} messages/s, ratio {:.2}",
                    per_second / reference
                ),
                None => format!("median of {runs} runs: Patto {per_second:.0} messages/s"),
            },
            Message::BenchOutboxNoReference => "Postfix's smtp-source is not installed, so there is no reference: install it with `apt-get install postfix` (Debian; the program is in /usr/sbin) and run the benchmark again".to_owned(),
            Message::BenchApiSetup { clients, target } => {
                format!("GraphQL API benchmark: {clients} concurrent clients, on {target}")
            }
            Message::BenchApiRun {
                run,
                requests,
                seconds,
                per_second,
            } => format!(
                "run {run}: {requests} requests in {seconds:.2} s = {per_second:.0} requests/s"
            ),
            Message::BenchApiSummary {
                runs,
                median_per_second,
                p50_ms,
                p99_ms,
            } => format!(
                "median of {runs} runs: {median_per_second:.0} requests/s; latency p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms"
            ),
            Message::BenchPortalSetup { requests, target } => format!(
                "portal benchmark on the demo data in {target}: {requests} requests per page type, one at a time"
            ),
            Message::BenchPortalPage {
                page,
                path,
                median_ms,
                bytes,
            } => format!("{page:<22} {path:<44} median {median_ms:>7.2} ms  {bytes:>7} bytes"),
            Message::BenchVerify {
                signatures,
                runs,
                single_per_second,
                batch_per_second,
            } => format!(
                "verification of {signatures} Ed25519 signatures, median of {runs} runs: {single_per_second:.0} signatures/s one by one, {batch_per_second:.0} signatures/s in a batch"
            ),
            Message::BenchBundle {
                endorsements,
                events,
                bytes,
                runs,
                median_ms,
            } => format!(
                "verification of an evidence bundle with {endorsements} signatures and {events} audit events ({bytes} bytes), median of {runs} runs: {median_ms:.0} ms"
            ),
            Message::KeyGenerated {
                secret,
                public,
                public_key,
                fingerprint,
            } => format!(
                "secret key written to {secret} (readable by its owner only: never share it)\npublic key written to {public}\npublic key: {public_key}\nfingerprint: {fingerprint}\nregister the public key and ask a coordinator of your organisation to approve it"
            ),
            Message::Signed {
                signature,
                fingerprint,
            } => {
                format!("signature written to {signature} with key {fingerprint}")
            }
            Message::RequestLine {
                request,
                round,
                version,
                round_status,
                organisation,
                email,
                status,
            } => format!(
                "request {request} (round {round} on version {version}, {round_status}): {} — {}: {status}",
                shown(organisation),
                shown(email)
            ),
            Message::SignatureAccepted { request, state } => format!(
                "signature accepted for request {request}; the document is now in state '{state}'"
            ),
            Message::SignatureDeclined { request } => {
                format!("decline recorded for request {request}; the coordinators have been told")
            }
            Message::RegistrationWritten {
                path,
                fingerprint,
                organisation,
            } => format!(
                "registration request for key {fingerprint} for {organisation} written to {path}; submit it within 24 hours from your session"
            ),
            Message::KeyAwaitingSecondOperator { id } => {
                format!("approval recorded: key {id} waits for a second operator's approval")
            }
            Message::KeyLine {
                id,
                fingerprint,
                status,
            } => {
                format!("key {id}: {fingerprint} ({status})")
            }
            Message::ServerKey {
                public_key,
                fingerprint,
            } => {
                format!("server public key: {public_key}\nfingerprint: {fingerprint}")
            }
            Message::EvidenceWritten { path, bytes } => format!(
                "evidence bundle written to {path} ({bytes} bytes); check it with `patto verify {path}`"
            ),
            Message::BundleReport { report, trusted_as } => {
                bundle_report(report, *trusted_as, Language::En)
            }
            Message::BundleInvalid { path, problem } => {
                format!("{}: INVALID: {}", shown(path), shown(problem))
            }
            Message::BundleUnreadable { path, problem } => format!(
                "{}: UNREADABLE, not an evidence bundle this version can read: {}",
                shown(path),
                shown(problem)
            ),
            Message::TrustUnusable { problem } => {
                format!("unusable trusted key: {}", shown(problem))
            }
            Message::SignSummary {
                statement,
                document_checked,
            } => sign_summary(statement, *document_checked, Language::En),
            Message::ConfirmPrompt => "Sign this statement? [y/N] ".to_owned(),
            Message::ConfirmNoTerminal => "no terminal to ask for confirmation on: read the statement above and add --yes to sign it".to_owned(),
            Message::ConfirmDeclined => "not signed: no signature was made".to_owned(),
            Message::DemoKeys { dir } => format!(
                "demo: the signatories' demo keys are in {dir} (for the demo only, never for real signatures); the pact was signed and is in force"
            ),
            Message::CronInvalid { expression, error } => cron_invalid(
                expression,
                error,
                &error.to_string(),
                "invalid cron expression",
            ),
            Message::UnknownTimeZone { zone } => format!(
                "unknown time zone `{zone}`; use an IANA name such as `{DEFAULT_TIME_ZONE}`"
            ),
            Message::InvalidInstant { text } => format!(
                "`{text}` is not an RFC 3339 instant; write it with its offset from UTC, as in 2026-03-29T00:00:00+01:00"
            ),
            Message::NoFireTimes => "no fire times ahead (the calendar ends in 2100)".to_owned(),
            Message::ServerUrlInvalid { given } => format!(
                "`{}` is not the address of a Patto server; write it like https://patto.example.org (or http://localhost:8080 for a server on this machine)",
                shown(given)
            ),
            Message::ServerUrlInClear { given } => format!(
                "`{}` is in clear (http): the session token would travel readable by anyone on the network; use the server's https address (http is allowed only to this machine, e.g. through an SSH tunnel)",
                shown(given)
            ),
            Message::CaFileUnreadable { file } => format!(
                "cannot read the CA certificate {}; give a readable PEM file with --ca-file (or PATTO_CA_FILE)",
                shown(file)
            ),
            Message::CaFileInvalid { file } => format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE----- blocks); give with --ca-file the certificate of the CA that signed the server's",
                shown(file)
            ),
            Message::ServerCertificateRefused { server, problem } => format!(
                "the TLS certificate of {} is not trusted ({}): the connection was closed and nothing was sent; if the server uses its organisation's own CA, give that CA's certificate with --ca-file (or PATTO_CA_FILE), and check that the address is the one the certificate names",
                shown(server),
                shown(problem)
            ),
            Message::NoConfigDirectory => "nowhere to keep sessions: neither XDG_CONFIG_HOME nor HOME is set; name the file with --sessions-file or PATTO_SESSIONS_FILE".to_owned(),
            Message::ServerRefused { code, message } => format!(
                "the server refused the request ({}): {}",
                shown(code),
                shown(message)
            ),
            Message::ServerUnusable { server, problem } => format!(
                "no usable answer from {}: {}; check the address and the network and try again",
                shown(server),
                shown(problem)
            ),
            Message::NotLoggedIn { server } => format!(
                "no valid session on {}: log in first with `patto login --server {} --email YOUR_ADDRESS`",
                shown(server),
                shown(server)
            ),
            Message::LoginCodeRequested { email, server } => format!(
                "if {} is registered on {}, a login code valid for 15 minutes was sent to it",
                shown(email),
                shown(server)
            ),
            Message::LoginCodePrompt => "Code received by e-mail: ".to_owned(),
            Message::LoginNoCode => {
                "no code entered: you are not logged in; try `patto login` again".to_owned()
            }
            Message::LoggedIn {
                name,
                server,
                expires_at,
                file,
            } => format!(
                "logged in to {} as {}; the session expires at {expires_at} and is kept in {file} (readable by you only)",
                shown(server),
                shown(name)
            ),
            Message::LoggedOut { server } => format!(
                "session on {} ended and forgotten on this machine",
                shown(server)
            ),
            Message::SessionAlreadyEnded { server } => format!(
                "the session on {} had already ended or expired; it was forgotten on this machine",
                shown(server)
            ),
            Message::NoSessionToEnd { server } => {
                format!("no session on {} to end", shown(server))
            }
            Message::ServerStatementUnusable { request } => format!(
                "the server gave no valid signing statement for request {request}: nothing was signed"
            ),
            Message::ServerStatementMismatch { request, field } => format!(
                "the statement the server gave for request {request} does not match the request or your session (it differs in: {field}): nothing was signed; tell whoever runs the server"
            ),
            Message::KeyRequestSubmitted {
                id,
                fingerprint,
                organisation,
                status,
            } => format!(
                "key {} ({}) registered for {} (status: {}); a coordinator or admin of the organisation must approve it before it signs",
                shown(id),
                shown(fingerprint),
                shown(organisation),
                shown(status)
            ),
        }
    }
}

/// A rejected cron expression: the problem, then the expression with a caret under the
/// column it names.
fn cron_invalid(expression: &str, error: &CronError, problem: &str, heading: &str) -> String {
    let caret = format!("{}^", " ".repeat(error.column.saturating_sub(1)));
    format!("{heading}: {problem}\n  {expression}\n  {caret}")
}

/// The Italian counterpart of [`CronError`]'s English message.
fn italian_cron_problem(error: &CronError) -> String {
    let place = match error.field {
        Some(field) => format!(
            "colonna {}, campo {}",
            error.column,
            italian_cron_field(field)
        ),
        None => format!("colonna {}", error.column),
    };
    let reason = match &error.kind {
        CronErrorKind::FieldCount { found } => format!(
            "servono esattamente 5 campi (minuto ora giorno-del-mese mese giorno-della-settimana), trovati {found}"
        ),
        CronErrorKind::EmptyItem => {
            "elemento vuoto nell'elenco; separa i valori con una sola virgola, come in `1,15`"
                .to_owned()
        }
        CronErrorKind::MissingValue => {
            "manca un valore; scrivi entrambi gli estremi dell'intervallo, come in `1-5`".to_owned()
        }
        CronErrorKind::UnknownValue { text } => {
            let names = match error.field {
                Some(CronField::Month) => " né un nome di mese (JAN-DEC)",
                Some(CronField::DayOfWeek) => " né un nome di giorno (SUN-SAT)",
                Some(CronField::Minute | CronField::Hour | CronField::DayOfMonth) | None => "",
            };
            format!("`{text}` non è un numero{names}")
        }
        CronErrorKind::OutOfRange { value } => {
            let (low, high) = error.field.map_or((0, 0), CronField::bounds);
            let sunday = if error.field == Some(CronField::DayOfWeek) {
                " (0 e 7 sono domenica)"
            } else {
                ""
            };
            format!("{value} è fuori intervallo; usa {low}-{high}{sunday}")
        }
        CronErrorKind::BackwardRange { from, to } => format!(
            "l'intervallo {from}-{to} va all'indietro; scrivi prima il valore minore"
        ),
        CronErrorKind::InvalidStep { text } => {
            format!("il passo `{text}` deve essere un numero intero di almeno 1")
        }
        CronErrorKind::StepWithoutRange => {
            "un passo richiede prima un intervallo o `*`, come in `*/10` o `5-59/10`".to_owned()
        }
        CronErrorKind::NeverMatches => {
            "questi giorni non cadono mai nei mesi scelti, quindi la pianificazione non scatterebbe mai"
                .to_owned()
        }
    };
    format!("{place}: {reason}")
}

fn italian_cron_field(field: CronField) -> &'static str {
    match field {
        CronField::Minute => "minuto",
        CronField::Hour => "ora",
        CronField::DayOfMonth => "giorno del mese",
        CronField::Month => "mese",
        CronField::DayOfWeek => "giorno della settimana",
    }
}

/// A signing round's status in Italian (English uses the stored code name).
fn italian_round_status(status: SigningRoundStatus) -> &'static str {
    match status {
        SigningRoundStatus::Open => "aperto",
        SigningRoundStatus::Completed => "concluso",
        SigningRoundStatus::Cancelled => "annullato",
    }
}

/// A signature request's status in Italian.
fn italian_request_status(status: SignatureRequestStatus) -> &'static str {
    match status {
        SignatureRequestStatus::Pending => "in attesa",
        SignatureRequestStatus::Signed => "firmata",
        SignatureRequestStatus::Declined => "rifiutata",
        SignatureRequestStatus::Cancelled => "annullata",
    }
}

/// A signing key's status in Italian.
fn italian_key_status(status: SigningKeyStatus) -> &'static str {
    match status {
        SigningKeyStatus::Pending => "in attesa",
        SigningKeyStatus::Approved => "approvata",
        SigningKeyStatus::Rotated => "sostituita",
        SigningKeyStatus::Revoked => "revocata",
    }
}

/// Text from data (names, titles, reasons, problems quoting input) as it is printed:
/// control characters and direction overrides escaped, so that it stays on its line and
/// reads in stored order.
fn shown(text: &str) -> Cow<'_, str> {
    patto_core::text::escape_line(text)
}

/// An intent as the signatory reads it.
fn intent_text(intent: &str, language: Language) -> Cow<'_, str> {
    match (language, intent) {
        (Language::It, "endorse") => Cow::Borrowed("sottoscrive"),
        (Language::It, "approve") => Cow::Borrowed("approva"),
        (Language::En, "endorse") => Cow::Borrowed("endorses"),
        (Language::En, "approve") => Cow::Borrowed("approves"),
        (_, other) => shown(other),
    }
}

/// What `patto sign` is about to sign, for the signatory to read before confirming.
fn sign_summary(
    statement: &patto_sign::Statement,
    document_checked: bool,
    language: Language,
) -> String {
    let italian = language == Language::It;
    let document = match statement.document.title.as_deref() {
        Some(title) => format!("«{}» ({})", shown(title), shown(&statement.document.slug)),
        None => shown(&statement.document.slug).into_owned(),
    };
    let signer = statement.signatory.person.display();
    let organisation = shown(&statement.signatory.organisation.name);
    let intent = intent_text(&statement.intent, language);
    let mut lines = if italian {
        vec![
            format!(
                "Dichiarazione da firmare (richiesta {}):",
                statement.request
            ),
            format!("  documento: {document}, versione {}", statement.version),
            format!("  SHA-256 del contenuto: {}", statement.content_sha256),
            format!("  firmatario: {}, per {organisation}", shown(signer)),
            format!("  intento: {intent}"),
        ]
    } else {
        vec![
            format!("Statement to sign (request {}):", statement.request),
            format!("  document: {document}, version {}", statement.version),
            format!("  content SHA-256: {}", statement.content_sha256),
            format!("  signatory: {}, for {organisation}", shown(signer)),
            format!("  intent: {intent}"),
        ]
    };
    lines.push(match (italian, document_checked) {
        (true, true) => "  il documento indicato ha esattamente questo SHA-256".to_owned(),
        (true, false) => "  controlla che il documento che hai letto abbia questo SHA-256 (o usa --document FILE)".to_owned(),
        (false, true) => "  the document given has exactly this SHA-256".to_owned(),
        (false, false) => "  check that the document you read has this SHA-256 (or use --document FILE)".to_owned(),
    });
    lines.join("\n")
}

/// Who took a step in a key's life, as the report names them after the step.
fn by_actor(actor: &patto_sign::Actor, language: Language) -> String {
    use patto_sign::Actor;
    match (actor, language) {
        (Actor::System, Language::It) => "dal sistema (operatore)".to_owned(),
        (Actor::System, Language::En) => "by the system (operator)".to_owned(),
        (
            Actor::Person {
                name: Some(name), ..
            },
            Language::It,
        ) => format!("da {}", shown(name)),
        (
            Actor::Person {
                name: Some(name), ..
            },
            Language::En,
        ) => format!("by {}", shown(name)),
        (Actor::Person { id, name: None }, Language::It) => format!("dalla persona {id}"),
        (Actor::Person { id, name: None }, Language::En) => format!("by person {id}"),
    }
}

/// The human report of a bundle whose checks all passed: valid when `trusted_as` names
/// the trusted key that sealed it, of unverified origin otherwise. Every text from the
/// bundle is shown escaped.
fn bundle_report(
    report: &patto_sign::BundleReport,
    trusted_as: Option<&str>,
    language: Language,
) -> String {
    let italian = language == Language::It;
    let title = shown(&report.document_title);
    let slug = shown(&report.document_slug);
    let kind = shown(&report.document_kind);
    let exported_at = shown(&report.exported_at);
    let mut lines = Vec::new();
    lines.push(match (italian, trusted_as) {
        (true, Some(_)) => format!(
            "Pacchetto di prove VALIDO: «{title}» ({slug}, {kind}), versione {}, SHA-256 {}",
            report.version_number, report.version_sha256
        ),
        (false, Some(_)) => format!(
            "Evidence bundle VALID: \"{title}\" ({slug}, {kind}), version {}, SHA-256 {}",
            report.version_number, report.version_sha256
        ),
        (true, None) => format!(
            "Pacchetto di prove coerente, ma di origine NON verificata: «{title}» ({slug}, {kind}), versione {}, SHA-256 {}",
            report.version_number, report.version_sha256
        ),
        (false, None) => format!(
            "Evidence bundle consistent, but its origin NOT verified: \"{title}\" ({slug}, {kind}), version {}, SHA-256 {}",
            report.version_number, report.version_sha256
        ),
    });
    let fingerprint = &report.server_fingerprint;
    lines.push(match (italian, trusted_as) {
        (true, Some(label)) => format!(
            "Sigillato il {exported_at} dalla chiave del server {fingerprint}, che hai indicato come fidata ({}).",
            shown(label)
        ),
        (false, Some(label)) => format!(
            "Sealed at {exported_at} by the server key {fingerprint}, which you trust ({}).",
            shown(label)
        ),
        (true, None) => format!(
            "Sigillato il {exported_at} dalla chiave {fingerprint}, che NON è stata confrontata con una chiave fidata: chiunque può creare un pacchetto coerente con una propria chiave. Verifica con --server-fingerprint (l'impronta pubblicata dalla coalizione), --server-key FILE o PATTO_TRUSTED_KEYS."
        ),
        (false, None) => format!(
            "Sealed at {exported_at} by the key {fingerprint}, which was NOT compared with a trusted key: anyone can make a consistent bundle with a key of their own. Verify with --server-fingerprint (the fingerprint the coalition publishes), --server-key FILE or PATTO_TRUSTED_KEYS."
        ),
    });
    lines.push(if italian {
        format!(
            "Registro di audit integro: {} eventi ({} eventi non pertinenti mostrati solo come impronta). Firme: {}.",
            report.audit_event_count,
            report.withheld_event_count,
            report.endorsements.len()
        )
    } else {
        format!(
            "Audit trail intact: {} events ({} unrelated events shown as hashes only). Signatures: {}.",
            report.audit_event_count,
            report.withheld_event_count,
            report.endorsements.len()
        )
    });
    for e in &report.endorsements {
        let intent = intent_text(&e.intent, language);
        let organisation = shown(&e.organisation);
        let person = match &e.email {
            Some(email) if *email != e.person => format!("{} <{}>", shown(&e.person), shown(email)),
            _ => shown(&e.person).into_owned(),
        };
        let signed_at = shown(&e.signed_at);
        let key = &e.key_fingerprint;
        lines.push(if italian {
            format!("- {organisation} — {person}: {intent} il {signed_at} con la chiave {key}")
        } else {
            format!("- {organisation} — {person}: {intent} at {signed_at} with key {key}")
        });
        let registered_by = by_actor(&e.key_registered.by, language);
        let registered_at = shown(&e.key_registered.at);
        lines.push(if italian {
            format!("  chiave registrata il {registered_at} {registered_by}")
        } else {
            format!("  key registered at {registered_at} {registered_by}")
        });
        for approval in &e.key_approvals {
            let approved_by = by_actor(&approval.step.by, language);
            let approved_at = shown(&approval.step.at);
            let act = match &approval.act_reference {
                Some(reference) if italian => {
                    format!(", atto di designazione: {}", shown(reference))
                }
                Some(reference) => format!(", designating act: {}", shown(reference)),
                None => String::new(),
            };
            lines.push(if italian {
                format!("  chiave approvata il {approved_at} {approved_by}{act}")
            } else {
                format!("  key approved at {approved_at} {approved_by}{act}")
            });
        }
        if let Some(signed_title) = &e.signed_title
            && *signed_title != report.document_title
        {
            lines.push(if italian {
                format!("  firmato quando il titolo era «{}»", shown(signed_title))
            } else {
                format!("  signed when the title was \"{}\"", shown(signed_title))
            });
        }
        if let Some((at, reason)) = &e.revoked_at {
            let (at, reason) = (shown(at), shown(reason));
            lines.push(if italian {
                format!(
                    "  firma fatta prima della revoca della chiave ({at}: {reason}): resta valida"
                )
            } else {
                format!("  signed before the key was revoked ({at}: {reason}): it stays valid")
            });
        }
        if let Some(at) = &e.rotated_at {
            let at = shown(at);
            lines.push(if italian {
                format!("  la chiave è stata poi sostituita ({at}): la firma resta valida")
            } else {
                format!("  the key was later replaced ({at}): the signature stays valid")
            });
        }
    }
    lines.push(if italian {
        "Firme elettroniche Ed25519 con forte prova di integrità; non sono una firma digitale qualificata (CAdES/PAdES).".to_owned()
    } else {
        "Ed25519 electronic signatures with strong integrity evidence; not a qualified Italian firma digitale (CAdES/PAdES).".to_owned()
    });
    lines.join("\n")
}
