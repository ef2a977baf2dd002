//! The audit chain: every event of a workflow instance carries the hash of the one before
//! it, and its own hash covers its position, its predecessor, what happened, who did it
//! and when. Changing, reordering, inserting or removing any event breaks a link; removing
//! events at the end is caught against the head recorded with the instance (and, with
//! evidence bundles, against the server's signature over it).

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

/// The hash of an event from its fields (everything but the hash itself): the SHA-256 of
/// the canonical JSON (RFC 8785) of its preimage, whose `payload` member is the payload
/// read as JSON.
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
    let payload = canonical_json(&payload).map_err(|_| ChainError::PayloadNotJson { seq })?;
    event_hash_of_canonical(
        instance_id,
        seq,
        prev_hash,
        kind,
        actor_id,
        &payload,
        recorded_at,
    )
}

/// [`event_hash`] of a payload that is already canonical JSON, as the engine writes it.
/// The canonical form of an object is its members sorted by name, each value in its own
/// canonical form, so the preimage is assembled around the payload (members in the order
/// RFC 8785 sorts them) instead of parsing and canonicalizing the payload again. A payload
/// that is not canonical gives a hash that [`verify_chain`] rejects.
pub fn event_hash_of_canonical(
    instance_id: i64,
    seq: i64,
    prev_hash: &str,
    kind: &str,
    actor_id: Option<i64>,
    canonical_payload: &str,
    recorded_at: &str,
) -> Result<String, ChainError> {
    let text = |value: &str| {
        canonical_json(&serde_json::Value::from(value))
            .map_err(|_| ChainError::PayloadNotJson { seq })
    };
    let actor = actor_id.map_or_else(|| "null".to_owned(), |id| id.to_string());
    let preimage = format!(
        r#"{{"actor":{actor},"at":{},"domain":"patto/event/v1","instance":{instance_id},"kind":{},"payload":{canonical_payload},"prev":{},"seq":{seq}}}"#,
        text(recorded_at)?,
        text(kind)?,
        text(prev_hash)?,
    );
    Ok(content_hash(preimage.as_bytes()))
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

/// Checks a whole chain, in stored order, against the head recorded for it
/// (`expected_count` events ending in `expected_head`).
pub fn verify_chain(
    instance_id: i64,
    links: &[ChainLink],
    expected_count: i64,
    expected_head: &str,
) -> Result<(), ChainError> {
    let mut prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1;
    for link in links {
        if link.instance_id != instance_id {
            return Err(ChainError::ForeignEvent {
                found: link.seq,
                other: link.instance_id,
                expected: instance_id,
            });
        }
        if link.seq != expected_seq {
            return Err(ChainError::OutOfSequence {
                expected: expected_seq,
                found: link.seq,
            });
        }
        if link.prev_hash != prev {
            return Err(ChainError::BrokenLink { seq: link.seq });
        }
        let recomputed = event_hash(
            link.instance_id,
            link.seq,
            &link.prev_hash,
            &link.kind,
            link.actor_id,
            &link.payload,
            &link.recorded_at,
        )?;
        if recomputed != link.hash {
            return Err(ChainError::Altered { seq: link.seq });
        }
        prev = link.hash.clone();
        expected_seq += 1;
    }
    let found = expected_seq - 1;
    if found != expected_count || prev != expected_head {
        return Err(ChainError::HeadMismatch {
            expected: expected_count,
            expected_hash: expected_head.to_owned(),
            found,
            found_hash: prev,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: the canonical JSON of the whole preimage, built as a JSON value.
    fn hash_by_definition(
        instance_id: i64,
        seq: i64,
        prev: &str,
        kind: &str,
        actor_id: Option<i64>,
        payload: &str,
        at: &str,
    ) -> String {
        let preimage = serde_json::json!({
            "domain": "patto/event/v1",
            "instance": instance_id,
            "seq": seq,
            "prev": prev,
            "kind": kind,
            "actor": actor_id,
            "at": at,
            "payload": serde_json::from_str::<serde_json::Value>(payload).unwrap(),
        });
        content_hash(canonical_json(&preimage).unwrap().as_bytes())
    }

    #[test]
    fn the_assembled_preimage_is_the_canonical_one() {
        let payloads = [
            r#"{"transition":"submit_for_review","from":"drafting","to":"review","automatic":false,"effects":[]}"#,
            r#"{"z":1,"a":{"b":[1,2,{"y":null,"x":true}]},"é":"città","\u0001":"tab\there \"quoted\" \\ back"}"#,
            r#"[]"#,
            r#""text""#,
        ];
        for payload in payloads {
            for actor in [None, Some(42)] {
                let canonical =
                    canonical_json(&serde_json::from_str::<serde_json::Value>(payload).unwrap())
                        .unwrap();
                let expected = hash_by_definition(
                    9,
                    3,
                    "ab\"c\n",
                    "kind \u{7} é",
                    actor,
                    payload,
                    "2026-11-27T10:00:00.000001Z",
                );
                let assembled = event_hash_of_canonical(
                    9,
                    3,
                    "ab\"c\n",
                    "kind \u{7} é",
                    actor,
                    &canonical,
                    "2026-11-27T10:00:00.000001Z",
                )
                .unwrap();
                assert_eq!(assembled, expected, "{payload}");
                assert_eq!(
                    event_hash(
                        9,
                        3,
                        "ab\"c\n",
                        "kind \u{7} é",
                        actor,
                        payload,
                        "2026-11-27T10:00:00.000001Z"
                    )
                    .unwrap(),
                    expected
                );
            }
        }
    }

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
}
