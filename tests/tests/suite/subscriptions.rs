//! Subscriptions over a real WebSocket (`graphql-transport-ws`) to servers on port 0, on
//! both backends: who may open a connection, what a subscriber receives of a document's
//! events and when it stops, the limits, and events committed through another server
//! sharing the PostgreSQL database. Also the GraphiQL page, which must load everything
//! from this server.
//!
//! Where a test must show that something is *not* sent, it relies on order instead of
//! waiting: a subscription's messages come in the order of the events that cause them,
//! so whatever would have leaked arrives before a later message the test provokes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use patto_api::{ApiConfig, MAX_SUBSCRIPTIONS_PER_CONNECTION};
use patto_core::DocumentKind;
use patto_core::ids::DocumentId;
use patto_engine::{Actor, Backend, Engine, FEED_CAPACITY, Followed, NewDocument};
use patto_tests::{TestSessions, http_request};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::api::{
    Directory, config_with_key, data, directory, fire, graphql, instance_version, serve,
};
use crate::engine::{Ctx, shipped};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a message before it fails rather than hangs. It guards
/// against a hang; no test asserts how quickly anything arrives.
const PATIENCE: Duration = Duration::from_secs(60);

/// The subscription the tests open.
const INSTANCE_EVENTS: &str = "subscription($d: String!, $after: Int!) { instanceEvents(document: $d, after: $after) { seq kind payload } }";

/// Opens a WebSocket to `/graphql` with the `graphql-transport-ws` subprotocol, with an
/// `Authorization` header on the upgrade request when given; the HTTP status when the
/// upgrade is refused.
async fn open(address: SocketAddr, header_token: Option<&str>) -> Result<Socket, u16> {
    let mut request = format!("ws://{address}/graphql")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(token) = header_token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(
                response.headers()["sec-websocket-protocol"],
                "graphql-transport-ws"
            );
            Ok(socket)
        }
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(error) => panic!("cannot open the WebSocket: {error}"),
    }
}

/// How a connection's initialisation ended.
enum Init {
    Acknowledged(Box<Connection>),
    /// The server closed the connection, with this code and reason.
    Closed(u16, String),
}

/// An initialised `graphql-transport-ws` connection.
pub(crate) struct Connection {
    socket: Socket,
}

/// Opens a connection and sends `connection_init` with this payload.
async fn init(address: SocketAddr, payload: Value) -> Init {
    let socket = open(address, None).await.unwrap();
    init_on(socket, payload).await
}

async fn init_on(mut socket: Socket, payload: Value) -> Init {
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("no answer to connection_init")
            .expect("the connection ended without an answer to connection_init")
            .unwrap();
        match message {
            Message::Text(text) => {
                let message: Value = serde_json::from_str(text.as_str()).unwrap();
                assert_eq!(message["type"], "connection_ack", "{message}");
                return Init::Acknowledged(Box::new(Connection { socket }));
            }
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a code");
                return Init::Closed(u16::from(frame.code), frame.reason.to_string());
            }
            Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
        }
    }
}

/// A connection whose `connection_init` carries this bearer token.
pub(crate) async fn connect(address: SocketAddr, token: &str) -> Connection {
    match init(
        address,
        json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await
    {
        Init::Acknowledged(connection) => *connection,
        Init::Closed(code, reason) => panic!("refused ({code}): {reason}"),
    }
}

impl Connection {
    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.socket
            .send(Message::text(
                json!({
                    "type": "subscribe",
                    "id": id,
                    "payload": { "query": query, "variables": variables },
                })
                .to_string(),
            ))
            .await
            .unwrap();
    }

    pub(crate) async fn follow(&mut self, id: &str, document: &str, after: i64) {
        self.subscribe(
            id,
            INSTANCE_EVENTS,
            json!({ "d": document, "after": after }),
        )
        .await;
    }

    /// The next `next`, `error` or `complete` message.
    async fn message(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("no message came")
                .expect("the connection ended")
                .unwrap();
            match message {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Close(frame) => panic!("the server closed the connection: {frame:?}"),
                Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
            }
        }
    }

    /// The next `count` events of subscription `id`, failing on anything else.
    pub(crate) async fn events(&mut self, id: &str, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        while events.len() < count {
            let message = self.message().await;
            assert_eq!(message["id"], id, "{message}");
            assert_eq!(message["type"], "next", "{message}");
            assert!(message["payload"].get("errors").is_none(), "{message}");
            events.push(message["payload"]["data"]["instanceEvents"].clone());
        }
        events
    }
}

/// The code of a subscription refused when it starts: one message with the error, then
/// its completion.
async fn refusal(connection: &mut Connection, id: &str) -> String {
    let refused = connection.message().await;
    assert_eq!(refused["id"], id, "{refused}");
    assert!(refused["payload"]["data"].is_null(), "{refused}");
    let code = refused["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {refused}"))
        .to_owned();
    assert_eq!(
        connection.message().await,
        json!({ "type": "complete", "id": id })
    );
    code
}

/// The transition names among events.
fn transitions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["kind"] == "transition")
        .map(|e| {
            let payload: Value = serde_json::from_str(e["payload"].as_str().unwrap()).unwrap();
            payload["transition"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

/// A draft pact of the directory's owner, worked on by its group, with a first version
/// by a member of the group: two events.
async fn draft(engine: &Engine, d: &Directory, slug: &str) -> DocumentId {
    let id = engine
        .create_document(
            Actor::System,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: slug.to_owned(),
                title: format!("Patto {slug}"),
                parent_id: None,
                owner_organisation_id: d.owner,
                working_group_id: Some(d.group),
            },
        )
        .await
        .unwrap()
        .id;
    engine
        .add_version(Actor::Person(d.member), id, b"Prima stesura".to_vec())
        .await
        .unwrap();
    id
}

/// The whole history of a document as its coordinator reads it through the API.
async fn history(address: SocketAddr, token: &str, slug: &str) -> Vec<Value> {
    let answer = graphql(
        address,
        Some(token),
        "query($s: String!) { document(slug: $s) { history(first: 100) { edges { node { seq kind payload } } } } }",
        json!({ "s": slug }),
    )
    .await;
    data(&answer)["document"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// A working-group member follows a draft from its first event; a partner, not involved
/// before sharing, follows it too and receives its events once it is shared; both get
/// exactly the history, in order, once each.
async fn subscribers_follow_a_pact(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(d.coordinator);
    let member = sessions.issue(d.member);
    let partner = sessions.issue(d.partner);
    let address = serve(engine.clone(), sessions.clone(), config_with_key()).await;
    let pact = draft(&engine, &d, "patto").await;
    let pact_id = pact.to_string();

    let mut member_events = connect(address, &member).await;
    member_events.follow("m", "patto", 0).await;
    let mut partner_events = connect(address, &partner).await;
    partner_events.follow("p", "patto", 0).await;

    // The member receives the creation of the draft at once.
    let first = member_events.events("m", 1).await;
    assert_eq!(seqs(&first), [1]);

    let version = instance_version(address, &coordinator, "patto").await;
    data(&fire(address, &coordinator, &pact_id, "share", version).await);
    let commented = graphql(
        address,
        Some(&partner),
        "mutation($d: ID!) { addComment(document: $d, body: \"Aggiungere la prefettura\") { id } }",
        json!({ "d": pact_id }),
    )
    .await;
    data(&commented);
    let version = instance_version(address, &coordinator, "patto").await;
    data(&fire(address, &coordinator, &pact_id, "revise", version).await);

    let recorded = history(address, &coordinator, "patto").await;
    assert_eq!(transitions(&recorded), ["share", "revise"]);
    let count = recorded.len();
    let mut received = first;
    received.extend(member_events.events("m", count - 1).await);
    assert_eq!(
        received, recorded,
        "the member receives the history as it is"
    );

    // The partner was not involved when they subscribed; since the pact was shared they
    // are, and receive its events (the earlier ones too, as `history` shows them).
    let partner_received = partner_events.events("p", count).await;
    assert_eq!(partner_received, recorded);

    // Resuming after a seq gives what follows it, and then the new events.
    let mut resumed = connect(address, &member).await;
    resumed.follow("r", "patto", 2).await;
    let rest = resumed.events("r", count - 2).await;
    assert_eq!(rest, recorded[2..]);
    let version = instance_version(address, &coordinator, "patto").await;
    data(&fire(address, &coordinator, &pact_id, "share", version).await);
    let next = resumed.events("r", 1).await;
    assert_eq!(seqs(&next), [count as i64 + 1]);
    assert_eq!(transitions(&next), ["share"]);
}

/// Someone of another organisation subscribes to a draft by its slug: they receive
/// nothing of it, and when their session is revoked the next event ends the stream.
async fn a_draft_is_not_sent_to_others(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(d.coordinator);
    let outsider = sessions.issue(d.outsider);
    let partner = sessions.issue(d.partner);
    let address = serve(engine.clone(), sessions.clone(), config_with_key()).await;
    let pact = draft(&engine, &d, "bozza").await.to_string();

    let mut spy = connect(address, &outsider).await;
    spy.follow("spy", "bozza", 0).await;
    // A partner of the owner, who becomes involved only when the draft is shared: they
    // subscribe too, and the draft stays unshared.
    let mut early_partner = connect(address, &partner).await;
    early_partner.follow("early", "bozza", 0).await;

    // The draft moves on, with a comment of a member and a new version.
    engine
        .add_comment(Actor::Person(d.member), pact.parse().unwrap(), None, "Nota")
        .await
        .unwrap();
    engine
        .add_version(
            Actor::Person(d.coordinator),
            pact.parse().unwrap(),
            b"Testo 2".to_vec(),
        )
        .await
        .unwrap();

    // Revoked sessions end the streams at the next event; nothing came before.
    sessions.revoke(&outsider);
    sessions.revoke(&partner);
    engine
        .add_comment(
            Actor::Person(d.member),
            pact.parse().unwrap(),
            None,
            "Altra nota",
        )
        .await
        .unwrap();
    for (connection, id) in [(&mut spy, "spy"), (&mut early_partner, "early")] {
        let ended = connection.message().await;
        assert_eq!(ended["id"], id, "{ended}");
        assert_eq!(ended["type"], "next", "{ended}");
        assert_eq!(
            ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "the first message is the end of the session, not an event: {ended}"
        );
        assert!(ended["payload"]["data"].is_null(), "{ended}");
        let complete = connection.message().await;
        assert_eq!(complete, json!({ "type": "complete", "id": id }));
    }

    // The coordinator, involved, sees all of it.
    let recorded = history(address, &coordinator, "bozza").await;
    assert_eq!(recorded.len(), 5);

    // An unknown slug is NOT_FOUND; the public cannot follow anything.
    let mut other = connect(address, &sessions.issue(d.outsider)).await;
    other.follow("x", "nessuno", 0).await;
    assert_eq!(refusal(&mut other, "x").await, "NOT_FOUND");
    let mut public = match init(address, json!({})).await {
        Init::Acknowledged(connection) => *connection,
        Init::Closed(code, reason) => panic!("the public may connect ({code}): {reason}"),
    };
    public.follow("pub", "bozza", 0).await;
    assert_eq!(refusal(&mut public, "pub").await, "UNAUTHENTICATED");
}

/// Forged and revoked tokens are refused before anything is acknowledged, in the
/// `connection_init` payload and in the upgrade request's header alike.
async fn bad_tokens_are_refused_at_connection(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let sessions = Arc::new(TestSessions::default());
    let revoked = sessions.issue(d.member);
    sessions.revoke(&revoked);
    let valid = sessions.issue(d.member);
    let address = serve(engine.clone(), sessions.clone(), config_with_key()).await;
    draft(&engine, &d, "patto").await;

    for payload in [
        json!({ "Authorization": "Bearer forged-token" }),
        json!({ "authorization": format!("Bearer {revoked}") }),
        json!({ "Authorization": valid.clone() }),
        json!({ "Authorization": 42 }),
    ] {
        match init(address, payload.clone()).await {
            Init::Closed(code, reason) => {
                assert_eq!(code, 1002, "{payload}: {reason}");
                assert!(reason.starts_with("UNAUTHENTICATED"), "{payload}: {reason}");
            }
            Init::Acknowledged(_) => panic!("{payload} was accepted"),
        }
    }
    assert_eq!(open(address, Some("forged-token")).await.err(), Some(401));
    assert_eq!(open(address, Some(&revoked)).await.err(), Some(401));

    // A valid token in the upgrade header is enough, with an empty payload.
    let socket = open(address, Some(&valid)).await.unwrap();
    let Init::Acknowledged(mut connection) = init_on(socket, json!({})).await else {
        panic!("a valid header token was refused");
    };
    connection.follow("h", "patto", 0).await;
    assert_eq!(seqs(&connection.events("h", 2).await), [1, 2]);

    // Each connection keeps a bounded number of subscriptions open.
    let mut busy = connect(address, &valid).await;
    for n in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
        busy.follow(&format!("s{n}"), "patto", 0).await;
        let first = busy.events(&format!("s{n}"), 2).await;
        assert_eq!(seqs(&first), [1, 2]);
    }
    busy.follow("over", "patto", 0).await;
    assert_eq!(refusal(&mut busy, "over").await, "RATE_LIMITED");
    // Completing one frees its slot.
    busy.socket
        .send(Message::text(
            json!({ "type": "complete", "id": "s0" }).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(
        busy.message().await,
        json!({ "type": "complete", "id": "s0" })
    );
    busy.follow("again", "patto", 0).await;
    assert_eq!(seqs(&busy.events("again", 2).await), [1, 2]);
}

/// Two servers share the database: a subscriber of server A receives a transition
/// fired through server B. On PostgreSQL they are two engines with their own
/// connections, as two `patto serve` processes would be; on SQLite, where one process
/// owns the file, two servers of that process.
async fn events_cross_servers(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(d.coordinator);
    let member = sessions.issue(d.member);
    let server_a = serve(engine.clone(), sessions.clone(), config_with_key()).await;
    let engine_b = match ctx.backend() {
        Backend::Postgres => Arc::new(ctx.another_engine().await),
        Backend::Sqlite => engine.clone(),
    };
    let server_b = serve(engine_b, sessions.clone(), config_with_key()).await;
    let pact = draft(&engine, &d, "patto").await.to_string();

    let mut on_a = connect(server_a, &member).await;
    on_a.follow("a", "patto", 0).await;
    // Once the draft's events came, server A follows the feed: what comes next can
    // only reach it through the feed, not through the history read at subscription.
    assert_eq!(seqs(&on_a.events("a", 2).await), [1, 2]);

    let version = instance_version(server_b, &coordinator, "patto").await;
    data(&fire(server_b, &coordinator, &pact, "share", version).await);
    let shared = on_a.events("a", 1).await;
    assert_eq!(transitions(&shared), ["share"]);
    let version = instance_version(server_b, &coordinator, "patto").await;
    data(&fire(server_b, &coordinator, &pact, "revise", version).await);
    let revised = on_a.events("a", 1).await;
    assert_eq!(transitions(&revised), ["revise"]);
    assert_eq!(seqs(&revised), [4]);
}

/// A follower that does not keep up is told it missed events instead of holding them
/// all; what it missed is in the database.
async fn a_slow_follower_is_told_it_missed_events(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let d = directory(&engine).await;
    let pact = draft(&engine, &d, "patto").await;
    let mut follower = engine.follow_events().await.unwrap();
    let mut quick = engine.follow_events().await.unwrap();
    let extra = FEED_CAPACITY + 10;
    for n in 0..extra {
        engine
            .add_comment(Actor::Person(d.member), pact, None, &format!("Nota {n}"))
            .await
            .unwrap();
        // Another follower keeps up, and sees each event in order.
        match quick.next().await {
            Followed::Event(event) => assert_eq!(event.seq, n as i64 + 3),
            other => panic!("a follower that keeps up got {other:?}"),
        }
    }
    assert!(
        matches!(follower.next().await, Followed::Missed),
        "a follower more than {FEED_CAPACITY} events behind is told it missed some"
    );
    // It then goes on with what the buffer still holds, the latest events last.
    let mut last = 0;
    for _ in 0..FEED_CAPACITY {
        match follower.next().await {
            Followed::Event(event) => {
                assert!(event.seq > last);
                last = event.seq;
            }
            other => panic!("expected a buffered event, got {other:?}"),
        }
    }
    assert_eq!(last, extra as i64 + 2);
}

/// The GraphiQL page comes from this server alone: every script and style it names is
/// same-origin and served with its content type, its CSP names no other host and allows
/// no inline script, and it offers subscriptions over WebSocket.
async fn graphiql_needs_no_other_host(ctx: &Ctx) {
    let sessions = Arc::new(TestSessions::default());
    let address = serve(ctx.engine.clone(), sessions, ApiConfig::default()).await;
    let page = http_request(address, "GET", "/graphql", &[("Accept", "text/html")], b"").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert_eq!(csp, patto_api::GRAPHIQL_CSP);
    for directive in csp.split(';').map(str::trim) {
        let mut words = directive.split_whitespace();
        let name = words.next().unwrap();
        for source in words {
            assert!(
                ["'self'", "'none'", "data:"].contains(&source),
                "{name} allows {source}: {csp}"
            );
        }
    }
    for (directive, expected) in [
        ("script-src", "script-src 'self'"),
        ("style-src", "style-src 'self'"),
    ] {
        assert!(
            csp.split(';').map(str::trim).any(|d| d == expected),
            "{directive} must be 'self' alone: {csp}"
        );
    }
    assert!(!page.body.contains("unpkg"), "{}", page.body);
    assert!(!page.body.contains("<style"), "no inline style");

    let mut referenced = Vec::new();
    for (attribute, tag) in [("src=\"", "<script"), ("href=\"", "<link")] {
        for piece in page.body.split(tag).skip(1) {
            let element = &piece[..piece.find('>').unwrap()];
            let start = element
                .find(attribute)
                .unwrap_or_else(|| panic!("a {tag} without {attribute} is inline: {element}"))
                + attribute.len();
            let url = &element[start..];
            referenced.push((tag, url[..url.find('"').unwrap()].to_owned()));
        }
    }
    assert_eq!(
        referenced
            .iter()
            .filter(|(tag, _)| *tag == "<script")
            .count(),
        4
    );
    assert_eq!(
        referenced.iter().filter(|(tag, _)| *tag == "<link").count(),
        2
    );
    let mut starter = String::new();
    for (tag, url) in &referenced {
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "{url} is not same-origin"
        );
        let asset = http_request(address, "GET", url, &[], b"").await;
        assert_eq!(asset.status, 200, "{url}");
        let content_type = asset.header("content-type").unwrap();
        let expected = if *tag == "<script" {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(content_type.starts_with(expected), "{url}: {content_type}");
        assert_eq!(asset.header("x-content-type-options"), Some("nosniff"));
        assert!(asset.body.len() > 50, "{url} is empty");
        if url.ends_with("patto-graphiql.js") {
            starter = asset.body.clone();
        }
    }
    // The page starts GraphiQL with this server's WebSocket for subscriptions.
    assert!(starter.contains("subscriptionUrl"), "{starter}");
    assert!(
        starter.contains("'ws:'") && starter.contains("'wss:'"),
        "{starter}"
    );
    let missing = http_request(address, "GET", "/graphql/assets/nothing.js", &[], b"").await;
    assert_eq!(missing.status, 404);
}

engine_cases!(super::shipped() =>
    subscribers_follow_a_pact,
    a_draft_is_not_sent_to_others,
    bad_tokens_are_refused_at_connection,
    events_cross_servers,
    a_slow_follower_is_told_it_missed_events,
    graphiql_needs_no_other_host,
);
