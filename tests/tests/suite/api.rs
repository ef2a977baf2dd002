//! The GraphQL API over real HTTP, on a server bound to port 0, on both backends: the
//! whole pact lifecycle, what each reader sees, the error codes, the cost of a page of
//! documents in SQL statements, the limits and the security headers. Also the checks that
//! `schema.graphql` matches the schema and that every engine service has a field.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser as _;
use patto_api::{ApiConfig, ENGINE_SERVICES, Exposure};
use patto_core::ids::{OrganisationId, PersonId, WorkingGroupId};
use patto_core::records::SignatoryEntry;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{Actor, Engine, NewDocument, NewOrganisation};
use patto_tests::{TestSessions, http_get, http_request};
use serde_json::{Value, json};

use crate::engine::{Ctx, shipped};
use crate::login::LoginServer;

const SYSTEM: Actor = Actor::System;

/// A server on port 0 over the test's engine, with its token sessions.
pub(crate) async fn serve(
    engine: Arc<Engine>,
    sessions: Arc<TestSessions>,
    config: ApiConfig,
) -> SocketAddr {
    crate::login::serve_with_peers(engine, sessions, config).await
}

pub(crate) fn config_with_key() -> ApiConfig {
    ApiConfig {
        server_key: Some(Arc::new(patto_sign::generate_key())),
        ..ApiConfig::default()
    }
}

/// Posts a GraphQL operation, with a bearer token when given; returns the whole body.
pub(crate) async fn graphql(
    address: SocketAddr,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let body = serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap();
    let authorization = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(value) = &authorization {
        headers.push(("Authorization", value.as_str()));
    }
    http_request(address, "POST", "/graphql", &headers, &body)
        .await
        .json()
}

/// The data of a successful answer; fails the test, showing the errors, otherwise.
pub(crate) fn data(answer: &Value) -> &Value {
    assert!(
        answer.get("errors").is_none(),
        "unexpected errors: {}",
        answer["errors"]
    );
    &answer["data"]
}

/// The code of the first error of an answer.
pub(crate) fn code(answer: &Value) -> String {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
        .to_owned()
}

/// Counts the error codes the tests of this module produce.
#[derive(Default)]
struct Codes(BTreeSet<String>);

impl Codes {
    fn expect(&mut self, answer: &Value, expected: &str) {
        assert_eq!(code(answer), expected, "{answer}");
        assert!(
            answer["errors"][0]["extensions"]["requestId"].is_string(),
            "every error carries the request id: {answer}"
        );
        self.0.insert(expected.to_owned());
    }
}

pub(crate) async fn organisation(engine: &Engine, slug: &str) -> OrganisationId {
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: format!("Ente {slug}"),
                category: OrganisationCategory::Association,
                istat_code: None,
            },
        )
        .await
        .unwrap()
        .id
}

pub(crate) async fn person(engine: &Engine, name: &str) -> PersonId {
    engine
        .create_person(SYSTEM, &format!("{name}@example.org"), name, Language::It)
        .await
        .unwrap()
        .id
}

/// The directory of the lifecycle, set up as an operator would from the command line.
pub(crate) struct Directory {
    pub owner: OrganisationId,
    pub group: WorkingGroupId,
    pub signing: Vec<(OrganisationId, PersonId)>,
    pub coordinator: PersonId,
    pub member: PersonId,
    pub partner: PersonId,
    pub outsider: PersonId,
}

/// The Comuni whose mayors sign, in the order of `Directory::signing`.
const SIGNING_COMUNI: [&str; 3] = ["cefalu", "termini", "petralia"];

pub(crate) async fn directory(engine: &Engine) -> Directory {
    let owner = organisation(engine, "madonie").await;
    let prefecture = organisation(engine, "prefettura").await;
    let network = engine.create_network(SYSTEM, "rete", "Rete").await.unwrap();
    for organisation in [owner, prefecture] {
        engine
            .add_network_member(SYSTEM, network.id, organisation)
            .await
            .unwrap();
    }
    let group = engine
        .create_working_group(SYSTEM, "gruppo", "Gruppo")
        .await
        .unwrap()
        .id;
    let coordinator = person(engine, "coordinatrice").await;
    engine
        .add_membership(SYSTEM, coordinator, owner, Role::Coordinator)
        .await
        .unwrap();
    let member = person(engine, "membro").await;
    engine
        .add_working_group_member(SYSTEM, group, member)
        .await
        .unwrap();
    let partner = person(engine, "partner").await;
    engine
        .add_membership(SYSTEM, partner, prefecture, Role::Member)
        .await
        .unwrap();
    let outsider = person(engine, "estraneo").await;
    let mut signing = Vec::new();
    for name in SIGNING_COMUNI {
        let comune = organisation(engine, name).await;
        let signatory = person(engine, &format!("sindaco-{name}")).await;
        engine
            .add_membership(SYSTEM, signatory, comune, Role::Member)
            .await
            .unwrap();
        // The coordinator also coordinates each Comune, so that they may approve the
        // keys of its signatory.
        engine
            .add_membership(SYSTEM, coordinator, comune, Role::Coordinator)
            .await
            .unwrap();
        signing.push((comune, signatory));
    }
    Directory {
        owner,
        group,
        signing,
        coordinator,
        member,
        partner,
        outsider,
    }
}

pub(crate) async fn instance_version(address: SocketAddr, token: &str, slug: &str) -> i64 {
    let answer = graphql(
        address,
        Some(token),
        "query($slug: String!) { document(slug: $slug) { instance { version } } }",
        json!({ "slug": slug }),
    )
    .await;
    data(&answer)["document"]["instance"]["version"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn fire(
    address: SocketAddr,
    token: &str,
    document: &str,
    transition: &str,
    version: i64,
) -> Value {
    graphql(
        address,
        Some(token),
        "mutation($d: ID!, $t: String!, $v: Int!) { fireTransition(document: $d, transition: $t, expectedVersion: $v) { state version steps { transition automatic } } }",
        json!({ "d": document, "t": transition, "v": version }),
    )
    .await
}

/// The whole pact lifecycle through the API, as the people involved do it.
async fn pact_lifecycle(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    // Test tokens for most people; the signatory who signs through the command line
    // logs in for real, by e-mail.
    let sessions = Arc::new(TestSessions::backed_by(engine.clone()));
    let coordinator = sessions.issue(d.coordinator);
    let member = sessions.issue(d.member);
    let partner = sessions.issue(d.partner);
    let outsider = sessions.issue(d.outsider);
    let server = LoginServer::start_with(engine.clone(), sessions.clone(), "").await;
    let address = server.address;
    let mut codes = Codes::default();

    // The coordinator creates the pact; the working group drafts it.
    let created = graphql(
        address,
        Some(&coordinator),
        "mutation($owner: ID!, $group: ID!) { createDocument(kind: \"pact\", slug: \"patto\", title: \"Patto per la legalità\", owner: $owner, workingGroup: $group) { id slug access } }",
        json!({ "owner": d.owner.to_string(), "group": d.group.to_string() }),
    )
    .await;
    let pact = data(&created)["createDocument"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data(&created)["createDocument"]["access"], "involved");
    // A member of the working group follows the pact's events over WebSocket from its
    // creation on; at the end they have received its whole history.
    let mut subscriber = crate::subscriptions::connect(address, &member).await;
    subscriber.follow("lifecycle", "patto", 0).await;
    let add_version = "mutation($d: ID!, $text: String!) { addVersion(document: $d, text: $text) { number sha256 } }";
    for (token, text) in [
        (&member, "Prima stesura"),
        (&coordinator, "Seconda stesura"),
    ] {
        let answer = graphql(
            address,
            Some(token),
            add_version,
            json!({ "d": pact, "text": text }),
        )
        .await;
        data(&answer);
    }

    // A bad kind, an unknown document, a change without a session.
    let bad_kind = graphql(
        address,
        Some(&coordinator),
        "mutation($owner: ID!) { createDocument(kind: \"poem\", slug: \"x\", title: \"X\", owner: $owner) { id } }",
        json!({ "owner": d.owner.to_string() }),
    )
    .await;
    codes.expect(&bad_kind, "VALIDATION");
    let unknown = graphql(
        address,
        Some(&coordinator),
        "{ document(slug: \"nessuno\") { id } }",
        json!({}),
    )
    .await;
    codes.expect(&unknown, "NOT_FOUND");
    let anonymous = graphql(
        address,
        None,
        add_version,
        json!({ "d": pact, "text": "x" }),
    )
    .await;
    codes.expect(&anonymous, "UNAUTHENTICATED");

    // Before sharing, the partner and an outsider see nothing of the draft.
    let draft_query =
        "query { document(slug: \"patto\") { versions { edges { node { number } } } } }";
    for token in [&partner, &outsider] {
        let answer = graphql(address, Some(token), draft_query, json!({})).await;
        codes.expect(&answer, "FORBIDDEN");
    }
    let listed = graphql(
        address,
        Some(&partner),
        "{ documents { edges { node { slug } } } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&listed)["documents"]["edges"], json!([]));

    // The coordinator shares it; a stale version is a conflict.
    let version = instance_version(address, &coordinator, "patto").await;
    let stale = fire(address, &coordinator, &pact, "share", version - 1).await;
    codes.expect(&stale, "CONFLICT");
    let member_share = fire(address, &member, &pact, "share", version).await;
    codes.expect(&member_share, "FORBIDDEN");
    let shared = fire(address, &coordinator, &pact, "share", version).await;
    assert_eq!(data(&shared)["fireTransition"]["state"], "sharing");

    // Now the partner is involved: they read the drafts and comment.
    let drafts = graphql(address, Some(&partner), draft_query, json!({})).await;
    assert_eq!(
        data(&drafts)["document"]["versions"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let commented = graphql(
        address,
        Some(&partner),
        "mutation($d: ID!) { addComment(document: $d, body: \"Aggiungere la prefettura\") { id author { name } } }",
        json!({ "d": pact }),
    )
    .await;
    let comment = data(&commented)["addComment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data(&commented)["addComment"]["author"]["name"], "partner");
    let outsider_comment = graphql(
        address,
        Some(&outsider),
        "mutation($d: ID!) { addComment(document: $d, body: \"Io no\") { id } }",
        json!({ "d": pact }),
    )
    .await;
    codes.expect(&outsider_comment, "FORBIDDEN");

    // The signatories are set; freezing waits for the comment to be resolved, and the
    // available transitions say so.
    let signatories: Vec<Value> = d
        .signing
        .iter()
        .map(|(o, p)| json!({ "organisation": o.to_string(), "person": p.to_string() }))
        .collect();
    let set = graphql(
        address,
        Some(&coordinator),
        "mutation($d: ID!, $s: [SignatoryInput!]!) { setSignatories(document: $d, signatories: $s) }",
        json!({ "d": pact, "s": signatories }),
    )
    .await;
    assert_eq!(data(&set)["setSignatories"], true);
    let available = graphql(
        address,
        Some(&coordinator),
        "{ document(slug: \"patto\") { availableTransitions { name mayFire blockedBy reason } } }",
        json!({}),
    )
    .await;
    let transitions = data(&available)["document"]["availableTransitions"]
        .as_array()
        .unwrap()
        .clone();
    let freeze = transitions.iter().find(|t| t["name"] == "freeze").unwrap();
    assert_eq!(freeze["mayFire"], false);
    assert_eq!(freeze["blockedBy"], "comments_resolved");
    let revise = transitions.iter().find(|t| t["name"] == "revise").unwrap();
    assert_eq!(revise["mayFire"], true);
    let as_member = graphql(
        address,
        Some(&member),
        "{ document(slug: \"patto\") { availableTransitions { name mayFire blockedBy } } }",
        json!({}),
    )
    .await;
    let member_revise = data(&as_member)["document"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "revise")
        .unwrap()
        .clone();
    assert_eq!(member_revise["blockedBy"], "role");
    let version = instance_version(address, &coordinator, "patto").await;
    let early = fire(address, &coordinator, &pact, "freeze", version).await;
    codes.expect(&early, "GUARD_FAILED");
    let resolved = graphql(
        address,
        Some(&member),
        "mutation($c: ID!) { resolveComment(comment: $c) }",
        json!({ "c": comment }),
    )
    .await;
    assert_eq!(data(&resolved)["resolveComment"], true);
    let version = instance_version(address, &coordinator, "patto").await;
    let frozen = fire(address, &coordinator, &pact, "freeze", version).await;
    assert_eq!(data(&frozen)["fireTransition"]["state"], "signing");

    // Each signatory registers a key, the coordinator approves it, and they sign the
    // exact statement the API gives them; the third signature puts the pact in force.
    let requests = graphql(
        address,
        Some(&coordinator),
        "{ document(slug: \"patto\") { signatureRequests { edges { node { id status person { id } } } } } }",
        json!({}),
    )
    .await;
    let requests = data(&requests)["document"]["signatureRequests"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(requests.len(), 3);
    let mut last = Value::Null;
    for (index, ((_, signatory), comune)) in d.signing.iter().zip(SIGNING_COMUNI).enumerate() {
        let request = requests
            .iter()
            .find(|r| r["node"]["person"]["id"] == signatory.to_string())
            .unwrap()["node"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if index == 1 {
            signs_through_the_command_line(
                &server,
                &engine,
                &coordinator,
                *signatory,
                &format!("sindaco-{comune}@example.org"),
                comune,
                &request,
            )
            .await;
            continue;
        }
        let token = sessions.issue(*signatory);
        let key = patto_sign::generate_key();
        // The registration statement is signed by the key it registers: proof of
        // possession, as `patto keys request` writes it.
        let registration = patto::signing::registration_request(
            &key,
            &format!("sindaco-{comune}@example.org"),
            comune,
        );
        let registered = graphql(
            address,
            Some(&token),
            "mutation($r: String!) { registerKey(registration: $r) { id status } }",
            json!({ "r": registration }),
        )
        .await;
        let key_id = data(&registered)["registerKey"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let approved = graphql(
            address,
            Some(&coordinator),
            "mutation($k: ID!) { approveKey(key: $k) { status } }",
            json!({ "k": key_id }),
        )
        .await;
        assert_eq!(data(&approved)["approveKey"]["status"], "approved");
        // Someone not involved cannot even read this request.
        if index == 0 {
            let peek = graphql(
                address,
                Some(&outsider),
                "query($r: ID!) { signatureRequest(id: $r) { statement } }",
                json!({ "r": request }),
            )
            .await;
            codes.expect(&peek, "FORBIDDEN");
        }
        let statement = graphql(
            address,
            Some(&token),
            "query($r: ID!) { signatureRequest(id: $r) { statement documentSlug versionNumber intent organisation } }",
            json!({ "r": request }),
        )
        .await;
        let statement = data(&statement)["signatureRequest"]["statement"]
            .as_str()
            .unwrap()
            .to_owned();
        let submit = "mutation($r: ID!, $s: String!, $t: String) { submitSignature(request: $r, signature: $s, statement: $t) { state steps { transition automatic } } }";
        if index == 0 {
            let wrong = patto_sign::sign(&key, b"something else");
            let refused = graphql(
                address,
                Some(&token),
                submit,
                json!({ "r": request, "s": patto_sign::encode_signature(&wrong), "t": null }),
            )
            .await;
            codes.expect(&refused, "INVALID_SIGNATURE");
        }
        let signature = patto_sign::sign(&key, statement.as_bytes());
        last = graphql(
            address,
            Some(&token),
            submit,
            json!({ "r": request, "s": patto_sign::encode_signature(&signature), "t": statement }),
        )
        .await;
        data(&last);
    }
    assert_eq!(data(&last)["submitSignature"]["state"], "in_force");
    assert_eq!(
        data(&last)["submitSignature"]["steps"][0],
        json!({ "transition": "enter_force", "automatic": true })
    );

    // The public sees the published pact, its signatures and evidence, not its drafts
    // or comments.
    let public = graphql(
        address,
        None,
        "{ document(slug: \"patto\") { access publishedVersion evidenceUrl versions { edges { node { number } } } signatures { edges { node { signer { name } organisation { slug } } } } } }",
        json!({}),
    )
    .await;
    let document = &data(&public)["document"];
    assert_eq!(document["access"], "published");
    assert_eq!(document["publishedVersion"], 2);
    assert_eq!(
        document["versions"]["edges"],
        json!([{ "node": { "number": 2 } }])
    );
    assert_eq!(document["signatures"]["edges"].as_array().unwrap().len(), 3);
    let comments = graphql(
        address,
        None,
        "{ document(slug: \"patto\") { comments { edges { node { body } } } } }",
        json!({}),
    )
    .await;
    codes.expect(&comments, "FORBIDDEN");
    let url = document["evidenceUrl"].as_str().unwrap();
    let (status, bundle) = http_get(address, url).await;
    assert_eq!(status, 200, "{bundle}");
    let bundle: Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(bundle["document"]["slug"], "patto");
    let (status, _) = http_get(address, "/evidence/patto/1.json").await;
    assert_eq!(status, 403, "the public does not get drafts' evidence");

    // A protocol under the pact is drafted by its working group.
    let protocol = graphql(
        address,
        Some(&coordinator),
        "mutation($owner: ID!, $group: ID!, $parent: ID!) { createDocument(kind: \"protocol\", slug: \"protocollo\", title: \"Protocollo appalti\", owner: $owner, parent: $parent, workingGroup: $group) { id } }",
        json!({ "owner": d.owner.to_string(), "group": d.group.to_string(), "parent": pact }),
    )
    .await;
    let protocol = data(&protocol)["createDocument"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drafted = graphql(
        address,
        Some(&member),
        add_version,
        json!({ "d": protocol, "text": "Bozza" }),
    )
    .await;
    assert_eq!(data(&drafted)["addVersion"]["number"], 1);

    // The event history tells the lifecycle, for those involved.
    let history = graphql(
        address,
        Some(&member),
        "{ document(slug: \"patto\") { history(first: 100) { edges { node { kind payload } } } } }",
        json!({}),
    )
    .await;
    let transitions: Vec<String> = data(&history)["document"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["kind"] == "transition")
        .map(|e| {
            let payload: Value =
                serde_json::from_str(e["node"]["payload"].as_str().unwrap()).unwrap();
            payload["transition"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(transitions, ["share", "freeze", "enter_force"]);
    let recorded: Vec<Value> = data(&history)["document"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let received = subscriber.events("lifecycle", recorded.len()).await;
    let kinds = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kinds(&received), kinds(&recorded));
    assert_eq!(
        received
            .iter()
            .map(|e| e["payload"].clone())
            .collect::<Vec<_>>(),
        recorded
            .iter()
            .map(|e| e["payload"].clone())
            .collect::<Vec<_>>(),
        "the subscriber received the lifecycle's events, in order"
    );

    // A server without a key to seal evidence fails inside: the client gets a generic
    // message with the request id, never the details.
    let keyless = serve(engine.clone(), sessions.clone(), ApiConfig::default()).await;
    let internal = graphql(keyless, None, "{ evidence(slug: \"patto\") }", json!({})).await;
    codes.expect(&internal, "INTERNAL");
    let message = internal["errors"][0]["message"].as_str().unwrap();
    let request_id = internal["errors"][0]["extensions"]["requestId"]
        .as_str()
        .unwrap();
    assert!(message.contains(request_id), "{message}");
    assert!(!message.contains("key"), "{message}");

    // Too many login attempts from one client.
    let mut limited = Value::Null;
    for _ in 0..=patto_engine::LoginLimits::default().attempts_per_client.max {
        limited = graphql(
            address,
            None,
            "mutation { login(email: \"nessuno@example.org\", code: \"00000000\") { token } }",
            json!({}),
        )
        .await;
    }
    codes.expect(&limited, "RATE_LIMITED");

    // Every code was produced.
    let expected: BTreeSet<String> = patto_api::Code::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(codes.0, expected);
}

/// One signatory of the lifecycle does it all through the command line's online flow,
/// running the code `patto` runs: `patto login` (reading the mailed code as the person
/// would type it), `patto keys request --server`, and once a coordinator approved the
/// key, `patto sign --server --request --yes`. The secret key stays in a file here.
async fn signs_through_the_command_line(
    server: &LoginServer,
    engine: &Engine,
    coordinator: &str,
    signatory: PersonId,
    email: &str,
    organisation: &str,
    request: &str,
) {
    let scratch = std::env::temp_dir().join(format!("patto-online-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let sessions_file = scratch.join("config").join("sessions.json");
    let key_file = scratch.join("firma.pem");
    let key = patto_sign::generate_key();
    patto::files::write_private(
        &key_file,
        patto_sign::secret_key_to_pem(&key).unwrap().as_bytes(),
        patto::files::Existing::Keep,
    )
    .unwrap();
    let url = format!("http://{}", server.address);
    let global = patto::config::GlobalOptions {
        data_dir: scratch.join("unused"),
        database_url: None,
        workflows_dir: None,
        server_key: None,
        operator: None,
        language: Language::En,
    };

    // `patto login`, on a thread of its own as a terminal would block on the code; the
    // code is typed once it has arrived by mail.
    let (typed, typing) = std::sync::mpsc::channel::<String>();
    let args = patto::online::LoginArgs {
        server: patto::online::ServerArgs {
            server: url.clone(),
            sessions_file: Some(sessions_file.clone()),
            ca_file: None,
        },
        email: email.to_owned(),
    };
    let login = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut terminal = std::io::BufReader::new(TypedLines(typing, Vec::new()));
        runtime
            .block_on(patto::online::login(&global, &args, &mut terminal, false))
            .map_err(|error| format!("{error:#}"))
    });
    // The command asks for the code before it waits for it: send what is due until the
    // login mail has gone out (a deadline, not a timing).
    let mut code = None;
    for _ in 0..600 {
        server.send_mail().await;
        code = server.latest_code_for(email);
        if code.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code = code.expect("the login code was mailed");
    typed.send(format!("{code}\n")).unwrap();
    let logged_in = tokio::task::spawn_blocking(move || login.join().unwrap())
        .await
        .unwrap();
    assert_eq!(logged_in.unwrap(), std::process::ExitCode::SUCCESS);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sessions_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let run = |args: &[&str]| {
        let mut full = vec!["patto", "--lang", "en"];
        full.extend_from_slice(args);
        let cli = patto::Cli::try_parse_from(full).unwrap();
        patto::run(cli)
    };
    let key_path = key_file.to_str().unwrap();
    let sessions_path = sessions_file.to_str().unwrap();
    let requested = run(&[
        "keys",
        "request",
        "--server",
        &url,
        "--key",
        key_path,
        "--organisation",
        organisation,
        "--sessions-file",
        sessions_path,
    ])
    .await;
    assert_eq!(requested, std::process::ExitCode::SUCCESS);
    let pending = engine.keys_of(signatory).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].fingerprint,
        patto_sign::fingerprint(&key.verifying_key())
    );
    let approved = graphql(
        server.address,
        Some(coordinator),
        "mutation($k: ID!) { approveKey(key: $k) { status } }",
        json!({ "k": pending[0].id.to_string() }),
    )
    .await;
    assert_eq!(data(&approved)["approveKey"]["status"], "approved");

    let signed = run(&[
        "sign",
        "--server",
        &url,
        "--request",
        request,
        "--key",
        key_path,
        "--yes",
        "--sessions-file",
        sessions_path,
    ])
    .await;
    assert_eq!(signed, std::process::ExitCode::SUCCESS);
    let views = engine
        .signature_requests(engine.document_by_slug("patto").await.unwrap().id)
        .await
        .unwrap();
    let view = views
        .iter()
        .find(|v| v.request.id.to_string() == request)
        .unwrap();
    assert_eq!(view.request.status.as_str(), "signed");
    std::fs::remove_dir_all(&scratch).unwrap();
}

/// What a person types at the terminal, line by line, as it arrives.
pub(crate) struct TypedLines(
    pub(crate) std::sync::mpsc::Receiver<String>,
    pub(crate) Vec<u8>,
);

impl std::io::Read for TypedLines {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(line) => self.1 = line.into_bytes(),
                Err(_) => return Ok(0),
            }
        }
        let n = buffer.len().min(self.1.len());
        buffer[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

/// A page of 50 documents with their versions, signatories and signers' names costs as
/// many SQL statements as a page of 5.
async fn a_page_costs_a_constant_number_of_statements(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(d.coordinator);
    let address = serve(engine.clone(), sessions, config_with_key()).await;
    let add_documents = |from: usize, to: usize| {
        let engine = engine.clone();
        let signing = d.signing.clone();
        let (owner, group) = (d.owner, d.group);
        let author = Actor::Person(d.coordinator);
        async move {
            for n in from..to {
                let document = engine
                    .create_document(
                        SYSTEM,
                        NewDocument {
                            kind: DocumentKind::Pact,
                            slug: format!("patto-{n}"),
                            title: format!("Patto {n}"),
                            parent_id: None,
                            owner_organisation_id: owner,
                            working_group_id: Some(group),
                        },
                    )
                    .await
                    .unwrap();
                for text in ["uno", "due"] {
                    engine
                        .add_version(author, document.id, text.as_bytes().to_vec())
                        .await
                        .unwrap();
                }
                let entries: Vec<SignatoryEntry> = signing
                    .iter()
                    .map(|(organisation, person)| SignatoryEntry {
                        organisation: *organisation,
                        person: *person,
                    })
                    .collect();
                engine
                    .set_signatories(SYSTEM, document.id, &entries)
                    .await
                    .unwrap();
            }
        }
    };
    let query = "{ documents(first: 50) { edges { node { slug owner { name } versions { edges { node { number sha256 } } } signatories { edges { node { position person { name } organisation { slug } } } } } } } }";
    let mut costs = Vec::new();
    for (from, to) in [(0, 5), (5, 50)] {
        add_documents(from, to).await;
        let before = ctx.store.statements_executed();
        let answer = graphql(address, Some(&coordinator), query, json!({})).await;
        let after = ctx.store.statements_executed();
        let edges = data(&answer)["documents"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), to);
        assert_eq!(
            edges[to - 1]["node"]["signatories"]["edges"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        costs.push(after - before);
    }
    assert_eq!(
        costs[0], costs[1],
        "a page of 5 documents cost {} statements, a page of 50 cost {}",
        costs[0], costs[1]
    );
    assert!(costs[1] <= 30, "a page costs {} statements", costs[1]);
}

/// Limits and abuse: each refusal is a clear error, and the server keeps serving.
async fn limits_and_abuse(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let sessions = Arc::new(TestSessions::default());
    let someone = person(&engine, "qualcuno").await;
    let token = sessions.issue(someone);
    let address = serve(engine.clone(), sessions.clone(), ApiConfig::default()).await;
    let still_serving = || async move {
        let (status, _) = http_get(address, "/healthz").await;
        assert_eq!(status, 200);
        let answer = graphql(
            address,
            None,
            "{ workflows { edges { node { name } } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            data(&answer)["workflows"]["edges"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
    };

    // The introspection query of GraphiQL and other client tools fits the limits: it
    // nests deeper than any query of the schema's own fields.
    let introspection = include_str!("../../data/graphql/introspection.graphql");
    let answer = graphql(address, None, introspection, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(
        answer["data"]["__schema"]["queryType"]["name"], "Query",
        "{answer}"
    );

    // A query deeper than the limit is refused.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(patto_api::MAX_DEPTH),
        "} ".repeat(patto_api::MAX_DEPTH)
    );
    let answer = graphql(address, None, &deep, json!({})).await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{answer}"
    );
    still_serving().await;

    let aliases: String = (0..10_000).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let answer = graphql(address, None, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    still_serving().await;

    let costly: String = (0..300)
        .map(|i| format!("w{i}: workflows {{ edges {{ node {{ name }} }} }} "))
        .collect();
    let answer = graphql(address, None, &format!("{{ {costly} }}"), json!({})).await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{answer}"
    );
    still_serving().await;

    let huge = "x".repeat(patto_api::DEFAULT_BODY_LIMIT + 1);
    let body = serde_json::to_vec(&json!({ "query": "query($s: String!) { document(slug: $s) { id } }", "variables": { "s": huge } })).unwrap();
    let answer = http_request(
        address,
        "POST",
        "/graphql",
        &[("Content-Type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    still_serving().await;

    let answer = http_request(
        address,
        "POST",
        "/graphql",
        &[("Content-Type", "application/json")],
        b"{\"query\": ",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(code(&answer.json()), "VALIDATION");
    still_serving().await;

    let answer = graphql(
        address,
        None,
        "query($s: String!) { document(slug: $s) { id } }",
        json!({ "s": { "not": "a string" } }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    still_serving().await;

    let answer = graphql(
        address,
        None,
        "{ documents(first: 100000) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");

    for forged in ["Bearer forged-token", "Bearer ", "Basic dXNlcjpwYXNz"] {
        let answer = http_request(
            address,
            "POST",
            "/graphql",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", forged),
            ],
            br#"{"query": "{ me { id } }"}"#,
        )
        .await;
        assert_eq!(answer.status, 401, "{forged}: {}", answer.body);
        assert_eq!(code(&answer.json()), "UNAUTHENTICATED");
    }
    let me = graphql(address, Some(&token), "{ me { name email } }", json!({})).await;
    assert_eq!(data(&me)["me"]["email"], "qualcuno@example.org");
    sessions.revoke(&token);
    let revoked = graphql(address, Some(&token), "{ me { name } }", json!({})).await;
    assert_eq!(code(&revoked), "UNAUTHENTICATED");
    still_serving().await;
}

/// Security headers on every answer, GraphiQL with its policy, CORS closed unless
/// configured.
async fn headers_and_cors(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let sessions = Arc::new(TestSessions::default());
    let someone = person(&engine, "qualcuno").await;
    let token = format!("Bearer {}", sessions.issue(someone));
    let closed = serve(engine.clone(), sessions.clone(), ApiConfig::default()).await;

    let page = http_request(closed, "GET", "/graphql", &[("Accept", "text/html")], b"").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("graphiql"), "GraphiQL is served");
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    let authenticated = http_request(
        closed,
        "POST",
        "/graphql",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &token),
        ],
        br#"{"query": "{ me { name } }"}"#,
    )
    .await;
    assert_eq!(authenticated.status, 200);
    assert_eq!(authenticated.header("cache-control"), Some("no-store"));
    assert_eq!(
        authenticated.header("x-content-type-options"),
        Some("nosniff")
    );
    assert!(authenticated.header("x-request-id").is_some());

    let preflight = [
        ("Origin", "https://portale.example.org"),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization, content-type",
        ),
    ];
    let refused = http_request(closed, "OPTIONS", "/graphql", &preflight, b"").await;
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let open = serve(
        engine.clone(),
        sessions,
        ApiConfig {
            cors_origins: vec!["https://portale.example.org".parse().unwrap()],
            ..ApiConfig::default()
        },
    )
    .await;
    let allowed = http_request(open, "OPTIONS", "/graphql", &preflight, b"").await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://portale.example.org")
    );
    let other = http_request(
        open,
        "OPTIONS",
        "/graphql",
        &[
            ("Origin", "https://altro.example.org"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

engine_cases!(super::shipped() =>
    pact_lifecycle,
    a_page_costs_a_constant_number_of_statements,
    limits_and_abuse,
    headers_and_cors,
);

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn schema_graphql_matches_the_schema() {
    let path = workspace_root().join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == patto_api::sdl(),
        "schema.graphql differs from the schema; run `cargo run -p patto -- schema > schema.graphql` and commit it"
    );
}

/// The fields of one type in the SDL.
fn fields_of(sdl: &str, type_name: &str) -> BTreeSet<String> {
    let start = format!("type {type_name} {{");
    let Some(from) = sdl.find(&start) else {
        return BTreeSet::new();
    };
    let body = &sdl[from + start.len()..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('"') && !line.starts_with('#'))
        .filter_map(|line| line.split(['(', ':']).next())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

#[test]
fn every_public_engine_service_has_a_field_or_a_reason() {
    let engine_src = workspace_root().join("crates/patto-engine/src");
    let mut services = BTreeSet::new();
    let mut pending = vec![engine_src];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                // Services are the `pub async fn`s of `impl Engine` blocks, which open
                // and close at the start of a line.
                let mut in_engine = false;
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if line.starts_with("impl Engine {") {
                        in_engine = true;
                    } else if line.starts_with('}') {
                        in_engine = false;
                    }
                    if !in_engine {
                        continue;
                    }
                    if let Some(rest) = line.trim_start().strip_prefix("pub async fn ") {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        services.insert(name);
                    }
                }
            }
        }
    }
    assert!(services.len() > 40, "the engine's services were not found");
    let mapped: BTreeSet<String> = ENGINE_SERVICES.iter().map(|(n, _)| n.to_string()).collect();
    let unmapped: Vec<_> = services.difference(&mapped).collect();
    assert!(
        unmapped.is_empty(),
        "engine services with no GraphQL field and no reason in crates/patto-api/src/coverage.rs: {unmapped:?}"
    );
    let stale: Vec<_> = mapped.difference(&services).collect();
    assert!(
        stale.is_empty(),
        "coverage.rs names services the engine no longer has: {stale:?}"
    );
    let sdl = patto_api::sdl();
    for (service, exposure) in ENGINE_SERVICES {
        if let Exposure::Field { type_name, field } = exposure {
            assert!(
                fields_of(&sdl, type_name).contains(*field),
                "{service} is mapped to {type_name}.{field}, which the schema does not have"
            );
        }
    }
    // The check sees fields: a made-up one is missing.
    assert!(!fields_of(&sdl, "Mutation").contains("noSuchField"));
    assert!(fields_of(&sdl, "Mutation").contains("fireTransition"));
}
