//! The audit chain: every event of a workflow instance carries the hash of the one before
//! it, and its own hash covers its position, its predecessor, what happened, who did it
//! and when. Changing, reordering, inserting or removing any event breaks a link; removing
//! events at the end is caught against the head recorded with the instance (and, with
//! evidence bundles, against the server's signature over it).
//!
//! Events are hashed under one of two rules. Version 1 (`patto/event/v1`) hashes the
//! event's fields directly. Version 2 (`patto/event/v2`), used for every event recorded
//! since, hashes the SHA-256 of the event's body (kind, actor, time and payload), so that
//! an exported chain can carry an event that does not concern its reader as that hash
//! alone and still be checked link by link. Stored events are never rehashed: a chain
//! holds version 1 events followed by version 2 events, and each is checked by the rule
//! that its hash matches.

use serde_json::json;

use crate::{canonical_json, content_hash};

/// The `prev_hash` of an instance's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored event, as the chain sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLink {
    pub instance_id: i64,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub kind: String,
    pub actor_id: Option<i64>,
    /// Canonical JSON text of the event's payload.
    pub payload: String,
    /// RFC 3339 time with microseconds, as hashed.
    pub recorded_at: String,
}

/// The version 1 hash of an event from its fields (everything but the hash itself).
pub fn event_hash(
    instance_id: i64,
    seq: i64,
    prev_hash: &str,
    kind: &str,
    actor_id: Option<i64>,
    payload: &str,
    recorded_at: &str,
) -> Result<String, ChainError> {
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|_| ChainError::PayloadNotJson { seq })?;
    hash_v1(
        instance_id,
        seq,
        prev_hash,
        kind,
        actor_id,
        &payload,
        recorded_at,
    )
}

/// A new event's payload as stored (its canonical JSON text) and its version 2 hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedEvent {
    /// The payload's canonical JSON text.
    pub payload: String,
    /// The event's version 2 hash.
    pub hash: String,
}

/// Canonicalizes a new event's payload and computes its version 2 hash, as new events
/// are recorded. The hash is [`event_body_hash`] and [`event_hash_v2`] of the same
/// fields, but the body's canonical text is assembled around the payload's canonical
/// text instead of canonicalizing the whole body again: canonical JSON of an object is
/// its members sorted by key, each value in its own canonical form, so the payload's
/// text can be placed as it is. This halves the hashing work on the path of every
/// transition; a test checks it against the general rule over many payloads.
pub fn hash_new_event_v2(
    instance_id: i64,
    seq: i64,
    prev_hash: &str,
    kind: &str,
    actor_id: Option<i64>,
    payload: &serde_json::Value,
    recorded_at: &str,
) -> Result<HashedEvent, ChainError> {
    let canonical = |value: serde_json::Value| {
        canonical_json(&value).map_err(|_| ChainError::PayloadNotJson { seq })
    };
    let payload = canonical_json(payload).map_err(|_| ChainError::PayloadNotJson { seq })?;
    // The members in the order canonical JSON sorts them: actor, at, domain, kind, payload.
    let body = format!(
        r#"{{"actor":{},"at":{},"domain":"patto/event-body/v2","kind":{},"payload":{payload}}}"#,
        canonical(json!(actor_id))?,
        canonical(json!(recorded_at))?,
        canonical(json!(kind))?,
    );
    let hash = event_hash_v2(instance_id, seq, prev_hash, &content_hash(body.as_bytes()))?;
    Ok(HashedEvent { payload, hash })
}

/// The SHA-256 of an event's body (what happened, who did it, when): what a version 2
/// event hash commits to, and what an exported chain shows of an event it withholds.
pub fn event_body_hash(
    kind: &str,
    actor_id: Option<i64>,
    payload: &serde_json::Value,
    recorded_at: &str,
    seq: i64,
) -> Result<String, ChainError> {
    let body = json!({
        "domain": "patto/event-body/v2",
        "kind": kind,
        "actor": actor_id,
        "at": recorded_at,
        "payload": payload,
    });
    let canonical = canonical_json(&body).map_err(|_| ChainError::PayloadNotJson { seq })?;
    Ok(content_hash(canonical.as_bytes()))
}

/// The version 2 hash of an event: its position, its predecessor and its body's hash.
pub fn event_hash_v2(
    instance_id: i64,
    seq: i64,
    prev_hash: &str,
    body_sha256: &str,
) -> Result<String, ChainError> {
    let preimage = json!({
        "domain": "patto/event/v2",
        "instance": instance_id,
        "seq": seq,
        "prev": prev_hash,
        "body": body_sha256,
    });
    let canonical = canonical_json(&preimage).map_err(|_| ChainError::PayloadNotJson { seq })?;
    Ok(content_hash(canonical.as_bytes()))
}

/// What a chain check sees of one event: its link fields and either its whole body or,
/// for an event withheld from an export, its body's hash.
pub struct LinkView<'a> {
    pub seq: i64,
    pub prev_hash: &'a str,
    pub hash: &'a str,
    pub body: LinkBody<'a>,
}

/// The body of an event, or only its hash.
pub enum LinkBody<'a> {
    Full {
        kind: &'a str,
        actor_id: Option<i64>,
        payload: &'a serde_json::Value,
        recorded_at: &'a str,
    },
    Withheld {
        body_sha256: &'a str,
    },
}

/// Whether a stored event's hash is its version 2 hash (so that it may be withheld from
/// an export as its body's hash alone), returning that body hash.
pub fn version_2_body_hash(link: &ChainLink) -> Result<Option<String>, ChainError> {
    let payload: serde_json::Value = serde_json::from_str(&link.payload)
        .map_err(|_| ChainError::PayloadNotJson { seq: link.seq })?;
    let body = event_body_hash(
        &link.kind,
        link.actor_id,
        &payload,
        &link.recorded_at,
        link.seq,
    )?;
    let hash = event_hash_v2(link.instance_id, link.seq, &link.prev_hash, &body)?;
    Ok((hash == link.hash).then_some(body))
}

/// Checks a chain given link by link, in order, against the head recorded for it. Each
/// full event may follow either hashing rule; a withheld one only version 2.
pub fn verify_links<'a>(
    instance_id: i64,
    links: impl IntoIterator<Item = LinkView<'a>>,
    expected_count: i64,
    expected_head: &str,
) -> Result<(), ChainError> {
    let mut prev = GENESIS_HASH;
    let mut expected_seq = 1;
    for link in links {
        if link.seq != expected_seq {
            return Err(ChainError::OutOfSequence {
                expected: expected_seq,
                found: link.seq,
            });
        }
        if link.prev_hash != prev {
            return Err(ChainError::BrokenLink { seq: link.seq });
        }
        let intact = match link.body {
            LinkBody::Full {
                kind,
                actor_id,
                payload,
                recorded_at,
            } => {
                let body = event_body_hash(kind, actor_id, payload, recorded_at, link.seq)?;
                event_hash_v2(instance_id, link.seq, link.prev_hash, &body)? == link.hash
                    || hash_v1(
                        instance_id,
                        link.seq,
                        link.prev_hash,
                        kind,
                        actor_id,
                        payload,
                        recorded_at,
                    )? == link.hash
            }
            LinkBody::Withheld { body_sha256 } => {
                event_hash_v2(instance_id, link.seq, link.prev_hash, body_sha256)? == link.hash
            }
        };
        if !intact {
            return Err(ChainError::Altered { seq: link.seq });
        }
        prev = link.hash;
        expected_seq += 1;
    }
    let found = expected_seq - 1;
    if found != expected_count || prev != expected_head {
        return Err(ChainError::HeadMismatch {
            expected: expected_count,
            expected_hash: expected_head.to_owned(),
            found,
            found_hash: prev.to_owned(),
        });
    }
    Ok(())
}

/// The version 1 hash from a parsed payload.
fn hash_v1(
    instance_id: i64,
    seq: i64,
    prev_hash: &str,
    kind: &str,
    actor_id: Option<i64>,
    payload: &serde_json::Value,
    recorded_at: &str,
) -> Result<String, ChainError> {
    let preimage = json!({
        "domain": "patto/event/v1",
        "instance": instance_id,
        "seq": seq,
        "prev": prev_hash,
        "kind": kind,
        "actor": actor_id,
        "at": recorded_at,
        "payload": payload,
    });
    let canonical = canonical_json(&preimage).map_err(|_| ChainError::PayloadNotJson { seq })?;
    Ok(content_hash(canonical.as_bytes()))
}

/// Why a chain does not verify. Each names the first event where it went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {seq} has a payload that is not valid JSON")]
    PayloadNotJson { seq: i64 },
    #[error("event {found} belongs to instance {other}, not to instance {expected}")]
    ForeignEvent {
        found: i64,
        other: i64,
        expected: i64,
    },
    #[error(
        "expected event number {expected} but found {found}: events are missing, inserted or reordered"
    )]
    OutOfSequence { expected: i64, found: i64 },
    #[error(
        "event {seq} does not follow the event before it (its previous-hash link is broken): an event was removed, inserted or reordered"
    )]
    BrokenLink { seq: i64 },
    #[error("event {seq} was altered: its content no longer matches its hash")]
    Altered { seq: i64 },
    #[error(
        "the chain ends at event {found} with hash {found_hash}, but the recorded head is event {expected} with hash {expected_hash}: events were removed or added at the end"
    )]
    HeadMismatch {
        expected: i64,
        expected_hash: String,
        found: i64,
        found_hash: String,
    },
}

/// Checks a whole stored chain, in stored order, against the head recorded for it
/// (`expected_count` events ending in `expected_head`).
pub fn verify_chain(
    instance_id: i64,
    links: &[ChainLink],
    expected_count: i64,
    expected_head: &str,
) -> Result<(), ChainError> {
    let mut payloads = Vec::with_capacity(links.len());
    for link in links {
        if link.instance_id != instance_id {
            return Err(ChainError::ForeignEvent {
                found: link.seq,
                other: link.instance_id,
                expected: instance_id,
            });
        }
        let payload: serde_json::Value = serde_json::from_str(&link.payload)
            .map_err(|_| ChainError::PayloadNotJson { seq: link.seq })?;
        payloads.push(payload);
    }
    verify_links(
        instance_id,
        links.iter().zip(&payloads).map(|(link, payload)| LinkView {
            seq: link.seq,
            prev_hash: &link.prev_hash,
            hash: &link.hash,
            body: LinkBody::Full {
                kind: &link.kind,
                actor_id: link.actor_id,
                payload,
                recorded_at: &link.recorded_at,
            },
        }),
        expected_count,
        expected_head,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainLink> {
        let mut links = Vec::new();
        let mut prev = GENESIS_HASH.to_owned();
        for seq in 1..=n {
            let payload = format!(r#"{{"n":{seq}}}"#);
            let at = format!("2026-11-27T10:00:{seq:02}.000000Z");
            let hash = event_hash(7, seq, &prev, "note", Some(1), &payload, &at).unwrap();
            links.push(ChainLink {
                instance_id: 7,
                seq,
                prev_hash: prev.clone(),
                hash: hash.clone(),
                kind: "note".into(),
                actor_id: Some(1),
                payload,
                recorded_at: at,
            });
            prev = hash;
        }
        links
    }

    fn head(links: &[ChainLink]) -> (i64, String) {
        let last = links.last().unwrap();
        (last.seq, last.hash.clone())
    }

    #[test]
    fn version_1_events_followed_by_version_2_events_verify() {
        let mut links = chain(2);
        let mut prev = links[1].hash.clone();
        for seq in 3..=4 {
            let at = format!("2026-11-27T10:00:{seq:02}.000000Z");
            let HashedEvent { payload, hash } =
                hash_new_event_v2(7, seq, &prev, "note", None, &json!({ "n": seq }), &at).unwrap();
            links.push(ChainLink {
                instance_id: 7,
                seq,
                prev_hash: prev.clone(),
                hash: hash.clone(),
                kind: "note".into(),
                actor_id: None,
                payload,
                recorded_at: at,
            });
            prev = hash;
        }
        let (count, hash) = head(&links);
        assert_eq!(verify_chain(7, &links, count, &hash), Ok(()));
        let mut edited = links.clone();
        edited[3].payload = r#"{"n":99}"#.into();
        assert_eq!(
            verify_chain(7, &edited, count, &hash),
            Err(ChainError::Altered { seq: 4 })
        );
        // Only a version 2 event can be withheld as its body's hash.
        let payload: serde_json::Value = serde_json::from_str(&links[2].payload).unwrap();
        assert_eq!(
            version_2_body_hash(&links[2]).unwrap(),
            Some(event_body_hash("note", None, &payload, &links[2].recorded_at, 3).unwrap())
        );
        assert_eq!(version_2_body_hash(&links[0]).unwrap(), None);
    }

    #[test]
    fn an_intact_chain_verifies() {
        let links = chain(4);
        let (count, hash) = head(&links);
        assert_eq!(verify_chain(7, &links, count, &hash), Ok(()));
        assert_eq!(verify_chain(7, &[], 0, GENESIS_HASH), Ok(()));
    }

    #[test]
    fn an_edited_payload_or_actor_is_caught() {
        let links = chain(3);
        let (count, hash) = head(&links);
        let mut edited = links.clone();
        edited[1].payload = r#"{"n":99}"#.into();
        assert_eq!(
            verify_chain(7, &edited, count, &hash),
            Err(ChainError::Altered { seq: 2 })
        );
        let mut edited = links.clone();
        edited[0].actor_id = Some(2);
        assert_eq!(
            verify_chain(7, &edited, count, &hash),
            Err(ChainError::Altered { seq: 1 })
        );
    }

    #[test]
    fn reordering_insertion_and_removal_are_caught() {
        let links = chain(4);
        let (count, hash) = head(&links);
        let mut swapped = links.clone();
        swapped.swap(1, 2);
        assert!(matches!(
            verify_chain(7, &swapped, count, &hash),
            Err(ChainError::OutOfSequence { .. })
        ));
        // Renumbering after a swap still breaks the previous-hash links.
        for (i, link) in swapped.iter_mut().enumerate() {
            link.seq = i as i64 + 1;
        }
        assert!(matches!(
            verify_chain(7, &swapped, count, &hash),
            Err(ChainError::BrokenLink { .. })
        ));
        let mut missing = links.clone();
        missing.remove(1);
        assert!(verify_chain(7, &missing, count, &hash).is_err());
        let truncated = &links[..3];
        assert!(matches!(
            verify_chain(7, truncated, count, &hash),
            Err(ChainError::HeadMismatch { .. })
        ));
    }

    /// The assembled body of [`hash_new_event_v2`] hashes exactly as the general rule
    /// that verification uses, for payloads of every JSON shape: nested objects with keys
    /// that sort differently as UTF-16 and as bytes, escapes, numbers of every kind.
    #[test]
    fn the_fast_new_event_hash_equals_the_general_rule_over_many_payloads() {
        // A small deterministic generator (xorshift), so that a failure reproduces.
        struct Seed(u64);
        impl Seed {
            fn next(&mut self, below: u64) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 % below
            }
        }
        const KEYS: [&str; 9] = [
            "to",
            "from",
            "a",
            "\u{e9}t\u{e0}",
            "\u{1f600}",
            "\u{ff61}",
            "quote\"d",
            "",
            "Z",
        ];
        fn value(seed: &mut Seed, depth: u32) -> serde_json::Value {
            match seed.next(if depth == 0 { 6 } else { 8 }) {
                0 => serde_json::Value::Null,
                1 => json!(seed.next(2) == 1),
                2 => json!((seed.next(u64::MAX) as i64).wrapping_sub(i64::MAX / 2)),
                3 => json!((seed.next(1_000_000) as f64) / 7.0 - 5_000.0),
                4 => json!(format!(
                    "line\n{}\t\"{}\\",
                    seed.next(100),
                    KEYS[seed.next(9) as usize]
                )),
                5 => json!(KEYS[seed.next(9) as usize]),
                6 => serde_json::Value::Array(
                    (0..seed.next(4)).map(|_| value(seed, depth - 1)).collect(),
                ),
                _ => serde_json::Value::Object(
                    (0..seed.next(5))
                        .map(|_| {
                            (
                                KEYS[seed.next(9) as usize].to_owned(),
                                value(seed, depth - 1),
                            )
                        })
                        .collect(),
                ),
            }
        }
        let mut seed = Seed(0x9e37_79b9_7f4a_7c15);
        for round in 0..2_000_i64 {
            let payload = serde_json::Value::Object(
                (0..seed.next(6))
                    .map(|_| (KEYS[seed.next(9) as usize].to_owned(), value(&mut seed, 3)))
                    .collect(),
            );
            let actor = (round % 3 != 0).then_some(round * 7919);
            let kind = KEYS[seed.next(9) as usize];
            let at = format!("2026-11-27T10:{:02}:00.{round:06}Z", round % 60);
            let fast =
                hash_new_event_v2(9, round + 1, GENESIS_HASH, kind, actor, &payload, &at).unwrap();
            let body = event_body_hash(kind, actor, &payload, &at, round + 1).unwrap();
            let general = event_hash_v2(9, round + 1, GENESIS_HASH, &body).unwrap();
            assert_eq!(fast.hash, general, "payload {payload}");
            assert_eq!(fast.payload, canonical_json(&payload).unwrap());
        }
    }
}
