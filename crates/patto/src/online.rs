//! The online commands: log in to a Patto server by e-mail, keep the session token on
//! this machine, and sign or request keys through the server's GraphQL API with it.
//!
//! The secret key never leaves the machine: statements are fetched, shown and signed
//! here, and only the signature travels. The session token is a secret too: it is kept
//! in a file readable by its owner only (refused otherwise, as ssh refuses a readable
//! key), and sent only over HTTPS to a server whose certificate is trusted (the
//! platform's roots, or only the CA given with `--ca-file`), or in plain HTTP to this
//! machine itself.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use patto_core::Language;
use patto_core::ids::SignatureRequestId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::GlobalOptions;
use crate::files::{self, Existing};
use crate::messages::Message;

/// Where the sessions are kept, beside the server's address.
#[derive(Args, Clone, Debug)]
pub struct ServerArgs {
    /// The Patto server, e.g. https://patto.example.org (plain http only to this
    /// machine, e.g. http://localhost:8080).
    #[arg(long)]
    pub server: String,
    /// Trust only this CA (PEM) for the server's certificate, instead of the system's
    /// certificate authorities: for a server on an intranet with a CA of its own.
    #[arg(long = "ca-file", env = "PATTO_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// The file of your sessions; defaults to $XDG_CONFIG_HOME/patto/sessions.json (or
    /// ~/.config/patto/sessions.json). It must be readable by you only.
    #[arg(long = "sessions-file", env = "PATTO_SESSIONS_FILE")]
    pub sessions_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Your e-mail address, as registered in Patto.
    #[arg(long)]
    pub email: String,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

/// A server's base address, checked and written one way, which is also the key of its
/// session in the sessions file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl(url::Url);

impl ServerUrl {
    /// Parses `--server`: HTTPS, or plain HTTP to this machine only, since a session
    /// token sent in clear over a network is a session given away.
    pub fn parse(text: &str, language: Language) -> anyhow::Result<ServerUrl> {
        let refused = || {
            anyhow::anyhow!(
                "{}",
                Message::ServerUrlInvalid { given: text }.text(language)
            )
        };
        let mut url = url::Url::parse(text.trim()).map_err(|_| refused())?;
        if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
            return Err(refused());
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => bail!(
                "{}",
                Message::ServerUrlInClear { given: text }.text(language)
            ),
            _ => return Err(refused()),
        }
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
        Ok(ServerUrl(url))
    }

    /// The key of this server in the sessions file, and how it is shown.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    fn graphql(&self) -> String {
        format!("{}/graphql", self.as_str())
    }

    fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

/// One stored session.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSession {
    /// Who logged in.
    pub email: String,
    /// The bearer token.
    pub token: String,
    /// When the server said it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The sessions file: one session per server.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SessionsFile {
    servers: BTreeMap<String, StoredSession>,
}

/// The sessions file of this user.
pub struct Sessions {
    path: PathBuf,
}

impl Sessions {
    /// The file given, or the per-user default.
    pub fn of(args: &ServerArgs, language: Language) -> anyhow::Result<Sessions> {
        let path = match &args.sessions_file {
            Some(path) => path.clone(),
            None => default_sessions_path()
                .with_context(|| Message::NoConfigDirectory.text(language))?,
        };
        Ok(Sessions { path })
    }

    /// Where the sessions are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The session kept for a server, if any.
    pub fn get(&self, server: &ServerUrl) -> anyhow::Result<Option<StoredSession>> {
        Ok(self.read()?.servers.remove(server.as_str()))
    }

    /// Keeps a session for a server, replacing an earlier one.
    pub fn put(&self, server: &ServerUrl, session: StoredSession) -> anyhow::Result<()> {
        let mut file = self.read()?;
        file.servers.insert(server.as_str().to_owned(), session);
        self.write(&file)
    }

    /// Forgets the session of a server; whether there was one.
    pub fn remove(&self, server: &ServerUrl) -> anyhow::Result<bool> {
        let mut file = self.read()?;
        let removed = file.servers.remove(server.as_str()).is_some();
        if removed {
            self.write(&file)?;
        }
        Ok(removed)
    }

    fn read(&self) -> anyhow::Result<SessionsFile> {
        let metadata = match std::fs::symlink_metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SessionsFile::default());
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", self.path.display()));
            }
        };
        if !metadata.file_type().is_file() {
            bail!(
                "{} is not a regular file (a link or a directory); move it away and log in again",
                self.path.display()
            );
        }
        // Read as a secret: refused when group or others may read it.
        let text = files::read_secret(&self.path)?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a Patto sessions file; move it away and log in again",
                self.path.display()
            )
        })
    }

    fn write(&self, file: &SessionsFile) -> anyhow::Result<()> {
        if let Some(dir) = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let text = serde_json::to_string_pretty(file)?;
        files::write_private(&self.path, text.as_bytes(), Existing::Replace)
    }
}

/// `$XDG_CONFIG_HOME/patto/sessions.json`, else `~/.config/patto/sessions.json`.
fn default_sessions_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("patto").join("sessions.json"))
}

/// Creates a directory (and its parents) that only its owner may enter.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// A GraphQL client for one server.
pub struct Client {
    server: ServerUrl,
    http: reqwest::Client,
    language: Language,
}

/// How a call to the server failed.
#[derive(Debug)]
pub enum CallError {
    /// The server answered with a GraphQL error.
    Refused {
        /// Its `extensions.code`.
        code: String,
        /// Its message.
        message: String,
    },
    /// The server's TLS certificate is not trusted (an unknown CA, another name, expired):
    /// the connection ended before anything was sent.
    Untrusted(String),
    /// No usable answer: the server is unreachable or answered something else.
    Unusable(String),
}

impl CallError {
    /// The error as the command reports it.
    pub fn report(self, client: &Client) -> anyhow::Error {
        let message = match &self {
            CallError::Refused { code, message } => Message::ServerRefused { code, message },
            CallError::Untrusted(problem) => Message::ServerCertificateRefused {
                server: client.server.as_str(),
                problem,
            },
            CallError::Unusable(problem) => Message::ServerUnusable {
                server: client.server.as_str(),
                problem,
            },
        };
        anyhow::anyhow!("{}", message.text(client.language))
    }
}

/// How long one call may take before the command gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    /// A client for `server`; over HTTPS it trusts the platform's certificate
    /// authorities, or only the CA in `ca_file` when given.
    pub fn new(
        server: ServerUrl,
        ca_file: Option<&Path>,
        language: Language,
    ) -> anyhow::Result<Client> {
        let mut builder = crate::http_client::builder()
            .timeout(CALL_TIMEOUT)
            // A redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if server.is_https() {
            builder = builder.https_only(true);
            // A CA file given for a plain-HTTP server on this machine (say, through
            // PATTO_CA_FILE set for another server) has nothing to check, and is unused.
            if let Some(path) = ca_file {
                builder = builder.tls_certs_only(read_ca_file(path, language)?);
            }
        }
        let http = builder.build().context("cannot set up the HTTP client")?;
        Ok(Client {
            server,
            http,
            language,
        })
    }

    /// Runs one GraphQL operation; returns its `data`.
    pub async fn call(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, CallError> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut request = self
            .http
            .post(self.server.graphql())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(send_error)?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| CallError::Unusable(error.to_string()))?;
        let mut answer: Value = serde_json::from_str(&text).map_err(|_| {
            CallError::Unusable(format!(
                "HTTP {status} with a body that is not a GraphQL answer"
            ))
        })?;
        if let Some(error) = answer
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|errors| errors.first())
        {
            return Err(CallError::Refused {
                code: error["extensions"]["code"]
                    .as_str()
                    .unwrap_or("UNKNOWN")
                    .to_owned(),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        match answer.get_mut("data").map(Value::take) {
            Some(data) if data.is_object() => Ok(data),
            _ => Err(CallError::Unusable(format!(
                "HTTP {status} without data or errors"
            ))),
        }
    }

    /// Runs an operation and reports a failure as the command's error.
    async fn call_or_report(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        match self.call(token, query, variables).await {
            Ok(data) => Ok(data),
            Err(error) => Err(error.report(self)),
        }
    }
}

/// The certificates of `--ca-file`: PEM, one or more `CERTIFICATE` blocks.
fn read_ca_file(path: &Path, language: Language) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path)
        .with_context(|| Message::CaFileUnreadable { file: &file }.text(language))?;
    match reqwest::Certificate::from_pem_bundle(&bytes) {
        Ok(certificates) if !certificates.is_empty() => Ok(certificates),
        _ => bail!("{}", Message::CaFileInvalid { file: &file }.text(language)),
    }
}

/// A request that got no answer: a refused certificate is told apart, with rustls's
/// reason; anything else is told with its whole chain of causes, which is where reqwest
/// keeps what actually happened.
fn send_error(error: reqwest::Error) -> CallError {
    let mut causes = vec![error.to_string()];
    let mut refused_certificate = None;
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        if let Some(rustls::Error::InvalidCertificate(reason)) = tls_error(cause) {
            refused_certificate = Some(format!("{reason:?}"));
        }
        source = cause.source();
    }
    causes.dedup();
    match refused_certificate {
        Some(reason) => CallError::Untrusted(reason),
        None => CallError::Unusable(causes.join(": ")),
    }
}

/// The rustls error that `cause` is or wraps: it reaches here inside an io::Error,
/// itself inside another (hyper-rustls wraps tokio-rustls's), and an io::Error's `source`
/// skips what it wraps.
fn tls_error<'e>(cause: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = cause.downcast_ref::<std::io::Error>()?.get_ref()?;
    tls_error(inner)
}

/// The server and the stored session of an online command, ready to call.
pub struct LoggedIn {
    pub client: Client,
    pub session: StoredSession,
}

impl LoggedIn {
    /// The session kept for `--server`; a missing or expired one says to log in.
    pub fn open(args: &ServerArgs, language: Language) -> anyhow::Result<LoggedIn> {
        let server = ServerUrl::parse(&args.server, language)?;
        let sessions = Sessions::of(args, language)?;
        let session = sessions.get(&server)?.filter(|s| s.expires_at > Utc::now());
        let Some(session) = session else {
            bail!(
                "{}",
                Message::NotLoggedIn {
                    server: server.as_str()
                }
                .text(language)
            );
        };
        Ok(LoggedIn {
            client: Client::new(server, args.ca_file.as_deref(), language)?,
            session,
        })
    }

    /// Runs an operation with the session's token.
    pub async fn call(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.client
            .call_or_report(Some(&self.session.token), query, variables)
            .await
    }
}

/// `patto login`: asks the server for a code, reads it from `input` (the terminal), and
/// keeps the session token.
pub async fn login(
    global: &GlobalOptions,
    args: &LoginArgs,
    input: &mut dyn BufRead,
    interactive: bool,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let language = global.language;
    let server = ServerUrl::parse(&args.server.server, language)?;
    let sessions = Sessions::of(&args.server, language)?;
    // Checked before anything is asked, so that an unusable file is found now.
    sessions.get(&server)?;
    let client = Client::new(server.clone(), args.server.ca_file.as_deref(), language)?;
    client
        .call_or_report(
            None,
            "mutation($email: String!) { requestLogin(email: $email) }",
            json!({ "email": args.email }),
        )
        .await?;
    println!(
        "{}",
        Message::LoginCodeRequested {
            email: &args.email,
            server: server.as_str(),
        }
        .text(language)
    );
    if interactive {
        print!("{}", Message::LoginCodePrompt.text(language));
        std::io::stdout().flush()?;
    }
    let mut code = String::new();
    input.read_line(&mut code)?;
    let code = code.trim();
    if code.is_empty() {
        bail!("{}", Message::LoginNoCode.text(language));
    }
    let data = client
        .call_or_report(
            None,
            "mutation($email: String!, $code: String!) { login(email: $email, code: $code) { token expiresAt person { name email } } }",
            json!({ "email": args.email, "code": code }),
        )
        .await?;
    let login = &data["login"];
    let unusable =
        || CallError::Unusable("the login answer has no token".to_owned()).report(&client);
    let session = StoredSession {
        email: login["person"]["email"]
            .as_str()
            .ok_or_else(unusable)?
            .to_owned(),
        token: login["token"].as_str().ok_or_else(unusable)?.to_owned(),
        expires_at: login["expiresAt"]
            .as_str()
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .ok_or_else(unusable)?
            .with_timezone(&Utc),
    };
    let expires_at = session.expires_at;
    sessions.put(&server, session)?;
    println!(
        "{}",
        Message::LoggedIn {
            name: login["person"]["name"].as_str().unwrap_or_default(),
            server: server.as_str(),
            expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            file: sessions.path().display().to_string(),
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}

/// `patto logout`: revokes the session on the server and forgets it here. A session
/// the server no longer knows (expired, revoked) is forgotten all the same; one the
/// server could not be asked about is kept, so that logging out can be tried again.
pub async fn logout(global: &GlobalOptions, args: &LogoutArgs) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let server = ServerUrl::parse(&args.server.server, language)?;
    let sessions = Sessions::of(&args.server, language)?;
    let Some(session) = sessions.get(&server)? else {
        println!(
            "{}",
            Message::NoSessionToEnd {
                server: server.as_str()
            }
            .text(language)
        );
        return Ok(ExitCode::SUCCESS);
    };
    let client = Client::new(server.clone(), args.server.ca_file.as_deref(), language)?;
    let ended = match client
        .call(Some(&session.token), "mutation { logout }", json!({}))
        .await
    {
        Ok(_) => Message::LoggedOut {
            server: server.as_str(),
        },
        Err(CallError::Refused { code, .. }) if code == "UNAUTHENTICATED" => {
            Message::SessionAlreadyEnded {
                server: server.as_str(),
            }
        }
        Err(error) => return Err(error.report(&client)),
    };
    sessions.remove(&server)?;
    println!("{}", ended.text(language));
    Ok(ExitCode::SUCCESS)
}

/// `patto sign --server`: fetches the request's exact statement, shows it and asks (as
/// the offline `patto sign` does, with the same code), signs it here and submits the
/// signature.
pub async fn sign(
    global: &GlobalOptions,
    server: &ServerArgs,
    request: SignatureRequestId,
    key: &Path,
    document: Option<&Path>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let language = global.language;
    // The key is read first: a key that cannot sign stops the command before anything
    // is fetched.
    let key = crate::signing::read_signing_key(key)?;
    let online = LoggedIn::open(server, language)?;
    let data = online
        .call(
            "query($r: ID!) { me { id email } signatureRequest(id: $r) { documentSlug versionNumber intent organisation person { id } statement } }",
            json!({ "r": request.to_string() }),
        )
        .await?;
    let bytes = data["signatureRequest"]["statement"]
        .as_str()
        .ok_or_else(|| {
            CallError::Unusable("the answer has no statement".to_owned()).report(&online.client)
        })?
        .as_bytes()
        .to_vec();
    let statement = patto_sign::Statement::from_canonical(&bytes).with_context(|| {
        Message::ServerStatementUnusable {
            request: request.get(),
        }
        .text(language)
    })?;
    if let Some(field) = statement_mismatch(&statement, request, &data, &online.session) {
        bail!(
            "{}",
            Message::ServerStatementMismatch {
                request: request.get(),
                field,
            }
            .text(language)
        );
    }
    crate::signing::show_and_confirm(language, &statement, document, yes)?;
    let signature = patto_sign::sign(&key, &bytes);
    let text = String::from_utf8(bytes)?;
    let data = online
        .call(
            "mutation($r: ID!, $s: String!, $t: String) { submitSignature(request: $r, signature: $s, statement: $t) { state } }",
            json!({
                "r": request.to_string(),
                "s": patto_sign::encode_signature(&signature),
                "t": text,
            }),
        )
        .await?;
    println!(
        "{}",
        Message::SignatureAccepted {
            request,
            state: data["submitSignature"]["state"]
                .as_str()
                .unwrap_or_default(),
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}

/// The first way in which a statement the server handed out for `request` is not that
/// request's, or not the logged-in person's: its request id, or what the same answer says
/// of the request (document, version, intent, organisation, signatory) and of the caller.
/// The content hash is checked against the document itself with `--document`. A server
/// that answered with another request's statement, through a mix-up or on purpose, would
/// otherwise get a signature the person never meant to give; none of these checks needs
/// the server to be honest about anything but the statement it returned.
fn statement_mismatch(
    statement: &patto_sign::Statement,
    request: SignatureRequestId,
    data: &Value,
    session: &StoredSession,
) -> Option<&'static str> {
    let described = &data["signatureRequest"];
    let id_of = |value: &Value| value.as_str().and_then(|id| id.parse::<i64>().ok());
    let me = id_of(&data["me"]["id"]);
    let person = statement.signatory.person.id;
    let session_email = data["me"]["email"]
        .as_str()
        .is_some_and(|email| email.eq_ignore_ascii_case(&session.email));
    // A version 1 statement names the person by e-mail address: that of the session.
    let statement_email = statement
        .signatory
        .person
        .email
        .as_deref()
        .is_none_or(|email| email.eq_ignore_ascii_case(&session.email));
    let checks = [
        ("request", statement.request == request.get()),
        (
            "document",
            described["documentSlug"].as_str() == Some(statement.document.slug.as_str()),
        ),
        (
            "version",
            described["versionNumber"].as_i64() == Some(i64::from(statement.version)),
        ),
        (
            "intent",
            described["intent"].as_str() == Some(statement.intent.as_str()),
        ),
        (
            "organisation",
            described["organisation"].as_str()
                == Some(statement.signatory.organisation.name.as_str()),
        ),
        (
            "person",
            me == Some(person)
                && id_of(&described["person"]["id"]) == Some(person)
                && session_email
                && statement_email,
        ),
    ];
    checks
        .into_iter()
        .find(|(_, same)| !same)
        .map(|(field, _)| field)
}

/// `patto keys request --server`: makes the proof-of-possession registration statement
/// here, as the offline command does, and submits it with the session.
pub async fn request_key(
    global: &GlobalOptions,
    server: &ServerArgs,
    key: &Path,
    email: Option<&str>,
    organisation: &str,
) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let key = crate::signing::read_signing_key(key)?;
    let online = LoggedIn::open(server, language)?;
    let email = email.unwrap_or(&online.session.email);
    let registration = crate::signing::registration_request(&key, email, organisation);
    let data = online
        .call(
            "mutation($r: String!) { registerKey(registration: $r) { id fingerprint status } }",
            json!({ "r": registration }),
        )
        .await?;
    let registered = &data["registerKey"];
    println!(
        "{}",
        Message::KeyRequestSubmitted {
            id: registered["id"].as_str().unwrap_or_default(),
            fingerprint: registered["fingerprint"].as_str().unwrap_or_default(),
            organisation,
            status: registered["status"].as_str().unwrap_or_default(),
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_https_or_this_machine_and_written_one_way() {
        let it = Language::It;
        let parsed = ServerUrl::parse("http://127.0.0.1:8080/", it).unwrap();
        assert_eq!(parsed.as_str(), "http://127.0.0.1:8080");
        assert_eq!(parsed.graphql(), "http://127.0.0.1:8080/graphql");
        assert_eq!(
            ServerUrl::parse("http://LocalHost:8080/base/", it)
                .unwrap()
                .as_str(),
            "http://localhost:8080/base"
        );
        assert_eq!(
            ServerUrl::parse("https://patto.example.org/", it)
                .unwrap()
                .graphql(),
            "https://patto.example.org/graphql"
        );
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:80",
        ] {
            assert!(ServerUrl::parse(local, it).is_ok(), "{local}");
        }
        let clear = ServerUrl::parse("http://patto.example.org", Language::En).unwrap_err();
        assert!(clear.to_string().contains("in clear"), "{clear}");
        for bad in ["patto.example.org", "ftp://x.org", "https://x.org/?a=b", ""] {
            assert!(ServerUrl::parse(bad, it).is_err(), "{bad}");
        }
    }
}
