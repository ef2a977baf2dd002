//! A small SMTP server over real TCP on loopback, started by the tests themselves so that
//! `cargo test --workspace` needs no mail server installed. It speaks enough of RFC 5321
//! for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
//! accepts, and can be told to refuse messages with a temporary error, or to take its
//! time over each one (so that a test can stop a sender half-way through a batch).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A message the sink accepted.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as transmitted (headers and body, dot-unstuffed).
    pub data: String,
}

impl ReceivedMail {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The subject, with the RFC 2047 encoded words lettre writes for non-ASCII text
    /// (`=?utf-8?b?BASE64?=`) decoded.
    pub fn subject(&self) -> Option<String> {
        use base64::Engine as _;
        let raw = self.header("Subject")?;
        let mut subject = String::new();
        // Whitespace between two encoded words is not part of the text.
        let mut previous_encoded = false;
        for word in raw.split(' ') {
            let encoded = word
                .strip_prefix("=?utf-8?b?")
                .or_else(|| word.strip_prefix("=?UTF-8?B?"))
                .and_then(|rest| rest.strip_suffix("?="));
            match encoded {
                Some(base64_text) => {
                    if !subject.is_empty() && !previous_encoded {
                        subject.push(' ');
                    }
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(base64_text)
                        .ok()?;
                    subject.push_str(&String::from_utf8(bytes).ok()?);
                    previous_encoded = true;
                }
                None => {
                    if !subject.is_empty() {
                        subject.push(' ');
                    }
                    subject.push_str(word);
                    previous_encoded = false;
                }
            }
        }
        Some(subject)
    }

    /// The message with quoted-printable soft line breaks and escapes decoded, enough to
    /// search the text parts for what a template wrote.
    pub fn decoded(&self) -> String {
        String::from_utf8_lossy(&quoted_printable(&self.data)).into_owned()
    }

    /// The first MIME part whose `Content-Type` starts with `content_type`: its headers
    /// (unfolded, as written) and its body decoded from its transfer encoding (base64,
    /// quoted-printable, or as sent).
    pub fn part(&self, content_type: &str) -> Option<(String, Vec<u8>)> {
        use base64::Engine as _;
        let body = self.data.split_once("\r\n\r\n")?.1;
        body.split("\r\n--").find_map(|chunk| {
            let (headers, content) = chunk.split_once("\r\n\r\n")?;
            let headers = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
            let declared = headers.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })?;
            if !declared.starts_with(content_type) {
                return None;
            }
            let encoding = headers
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.trim()
                        .eq_ignore_ascii_case("content-transfer-encoding")
                        .then(|| value.trim().to_ascii_lowercase())
                })
                .unwrap_or_default();
            let decoded = match encoding.as_str() {
                "base64" => base64::engine::general_purpose::STANDARD
                    .decode(content.replace("\r\n", ""))
                    .ok()?,
                "quoted-printable" => quoted_printable(content),
                _ => content.as_bytes().to_vec(),
            };
            Some((headers, decoded))
        })
    }
}

/// Quoted-printable decoded: soft line breaks joined, `=XX` escapes turned into bytes.
fn quoted_printable(text: &str) -> Vec<u8> {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The running sink.
pub struct SmtpSink {
    /// Where it listens.
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refusing: Arc<AtomicBool>,
    refused: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Starts listening on a free loopback port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let behaviour = Behaviour {
            refusing: refusing.clone(),
            refused: refused.clone(),
            delay_ms: delay_ms.clone(),
        };
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, store.clone(), behaviour.clone()));
            }
        });
        SmtpSink {
            address,
            received,
            refusing,
            refused,
            delay_ms,
            task,
        }
    }

    /// The `PATTO_SMTP_URL` that reaches it.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// From now on, answer every message with `451` (try again later), or accept again.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// How many messages were refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }

    /// From now on, wait this long before answering each message's data (zero: answer
    /// at once).
    pub fn slow_down(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(millis, Ordering::SeqCst);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How sessions answer, shared with the [`SmtpSink`] that sets it.
#[derive(Clone)]
struct Behaviour {
    refusing: Arc<AtomicBool>,
    refused: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<ReceivedMail>>>, behaviour: Behaviour) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    if writer.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => "250 ok\r\n",
            "RSET" => {
                from.clear();
                to.clear();
                "250 ok\r\n"
            }
            "MAIL" => {
                from = address_in(&command);
                "250 ok\r\n"
            }
            "RCPT" => {
                to.push(address_in(&command));
                "250 ok\r\n"
            }
            "DATA" => {
                if writer.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                let delay = behaviour.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                if behaviour.refusing.load(Ordering::SeqCst) {
                    behaviour.refused.fetch_add(1, Ordering::SeqCst);
                    "451 try again later\r\n"
                } else {
                    received.lock().unwrap().push(ReceivedMail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                    "250 queued\r\n"
                }
            }
            "QUIT" => {
                let _ = writer.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "502 not implemented\r\n",
        };
        if writer.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The address inside `<...>` of a MAIL or RCPT command.
fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
