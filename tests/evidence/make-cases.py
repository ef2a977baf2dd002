#!/usr/bin/env python3
"""Writes the tampered example bundles of tests/evidence/cases.json from v2-pact.json.

Each case changes one thing and, unless the case is about the seal, seals the bundle
again with the example server key (example-server-key.pem, made for these examples
only), as a dishonest server could: what catches the change is then the rule the case
names, not the seal. Needs Python 3 with the `cryptography` package:

    python3 tests/evidence/make-cases.py
"""

import base64
import copy
import hashlib
import json
import pathlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = pathlib.Path(__file__).parent


def canonical(value):
    # RFC 8785 for this data: sorted keys, no spaces, literal non-ASCII, integers only.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seal(bundle, key):
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    bundle["server"] = {
        "public_key": b64url(public),
        "fingerprint": "SHA256:" + b64url(hashlib.sha256(public).digest()),
    }
    unsealed = {k: v for k, v in bundle.items() if k != "seal"}
    bundle["seal"] = b64url(key.sign(canonical(unsealed).encode()))
    return canonical(bundle)


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def rechain(chain):
    """Relinks a chain with version 2 hashes, as a forger rewriting history would
    (docs/evidence-format.md, "Chains")."""
    prev = "0" * 64
    for seq, event in enumerate(chain["events"], start=1):
        body = event.get("body_sha256") or sha256(canonical({
            "domain": "patto/event-body/v2",
            "kind": event["kind"],
            "actor": event["actor_id"],
            "at": event["recorded_at"],
            "payload": event["payload"],
        }))
        event["seq"], event["prev_hash"] = seq, prev
        event["hash"] = sha256(canonical({
            "domain": "patto/event/v2",
            "instance": chain["instance_id"],
            "seq": seq,
            "prev": prev,
            "body": body,
        }))
        prev = event["hash"]
    chain["head_count"], chain["head_hash"] = len(chain["events"]), prev


def main():
    valid = json.loads((HERE / "v2-pact.json").read_text())
    server = serialization.load_pem_private_key(
        (HERE / "example-server-key.pem").read_bytes(), password=None
    )
    forger = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))

    def first_withheld(b):
        return next(e for e in b["audit"]["events"] if "body_sha256" in e)

    def first_accepted(b):
        return next(e for e in b["audit"]["events"] if e.get("kind") == "signature_accepted")

    def not_in_audit(b):
        first_accepted(b)["payload"].update(signature="A" * 86)
        rechain(b["audit"])

    def revoked_before_signing(b):
        signed_at = first_accepted(b)["recorded_at"]
        b["key_chain"]["events"].append({
            "seq": 0, "prev_hash": "", "hash": "", "kind": "key_revoked", "actor_id": None,
            "payload": {"key": b["endorsements"][0]["key_id"], "reason": "persa"},
            "recorded_at": signed_at,
        })
        rechain(b["key_chain"])

    def swap_signatures(b):
        e = b["endorsements"]
        e[0]["signature"], e[1]["signature"] = e[1]["signature"], e[0]["signature"]

    cases = {
        # Sealed by a key other than the server's: consistent, but not the coalition's.
        "forged-server-key": (lambda b: b["document"].update(title="Patto falso"), forger),
        # Changed after sealing: the seal no longer matches.
        "seal-broken": (lambda b: b["document"].update(title="Patto cambiato"), None),
        "content": (lambda b: b["version"].update(content_base64="UGF0dG8gZmFsc28K"), server),
        "audit-event": (lambda b: b["audit"]["events"][1]["payload"].update(number=9), server),
        "audit-truncated": (lambda b: b["audit"]["events"].pop(), server),
        "withheld-body": (lambda b: first_withheld(b).update(body_sha256="0" * 64), server),
        "key-event": (
            lambda b: b["key_chain"]["events"][0]["payload"].update(person=999),
            server,
        ),
        "statement": (
            lambda b: b["endorsements"][0].update(
                statement=b["endorsements"][0]["statement"].replace('"version":1', '"version":2')
            ),
            server,
        ),
        "signature": (swap_signatures, server),
        # The audit chain rewritten so that it no longer records the signature.
        "not-in-audit": (not_in_audit, server),
        # A revocation recorded (by the clock) at or before the signature.
        "revoked-before-signing": (revoked_before_signing, server),
    }
    for name, (change, key) in cases.items():
        bundle = copy.deepcopy(valid)
        change(bundle)
        text = seal(bundle, key) if key else canonical(bundle)
        (HERE / f"v2-{name}.json").write_text(text)
    # Valid content, but not in canonical form.
    (HERE / "v2-not-canonical.json").write_text(json.dumps(valid, indent=2, ensure_ascii=False))
    # A format this version does not know.
    unknown = copy.deepcopy(valid)
    unknown["format"] = "patto/evidence/v9"
    (HERE / "v2-unknown-format.json").write_text(seal(unknown, server))


if __name__ == "__main__":
    main()
