#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/seeds/<target>/) from the repository's own
test vectors and the small real export. Run from anywhere; the output is committed.

    python3 fuzz/seeds/make-seeds.py
"""
import hashlib
import json
import pathlib

root = pathlib.Path(__file__).resolve().parents[2]
seeds = root / "fuzz" / "seeds"


def put(target, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


# Written anew, except the inputs that once broke a property (crash-*), kept as regressions.
for target in ["canonical_parse", "api_payloads", "export_line", "verify_export", "hex_keys"]:
    for old in (seeds / target).glob("*"):
        if not old.name.startswith("crash-"):
            old.unlink()

# The canonical encoding: every valid and every invalid vector of the independent implementation.
encoding = json.loads((root / "tests/vectors/encoding-v1.json").read_text())
for v in encoding["vectors"] + encoding["invalid"]:
    put("canonical_parse", bytes.fromhex(v["bytes"]))

# Keys and signatures: the C2SP Ed25519 edge cases, as hex text and as key ‖ signature ‖ message.
ed = json.loads((root / "tests/vectors/ed25519/ed25519vectors.json").read_text())
for v in ed[:40]:
    put("hex_keys", v["key"])
    put("hex_keys", v["sig"])
    put("hex_keys", bytes.fromhex(v["key"]) + bytes.fromhex(v["sig"]) + v["msg"].encode())
for v in encoding["vectors"]:
    if "public_key" in v:
        put("hex_keys", v["public_key"])
        put("hex_keys", v["public_key"].upper())
        put("hex_keys", v["signature"])

# Request bodies, as the API documents them; the first byte picks the payload kind.
vector = next(v for v in encoding["vectors"] if "signature" in v)
signed = {"key": vector["public_key"], "sequence": 1, "signature": vector["signature"]}
bodies = [
    (0, {"member": "raalte", "choice": "for", "signature": signed}),
    (0, {"member": "e9461f43-9d92-528c-9597-ac9c739286eb", "choice": "abstain", "signature": None}),
    (1, {"id": "p1", "grantor": "deventer", "holder": {"holder": "member", "member": "raalte"},
         "instructions": {"jaarrekening-2023": "for", "begroting-2025": "free"}, "signature": signed}),
    (1, {"grantor": "deventer", "holder": {"holder": "notary", "person": "notaris-van-dam"}}),
    (2, {"outcome": "adopted", "signature": signed}),
    (3, {"key": vector["public_key"], "sequence": 1, "signature": vector["signature"]}),
    (4, {"key": vector["public_key"], "sequence": 2, "signature": vector["signature"],
         "new_key_signature": vector["signature"]}),
    (5, {"sequence": 3, "signature": vector["signature"]}),
    (5, {}),
    (6, {"member": "raalte", "choice": "against", "signature": signed}),
]
for pick, body in bodies:
    put("api_payloads", bytes([pick]) + json.dumps(body).encode())

# The export: the whole small export, and each kind of line in it.
export = (seeds / "export" / "small-meeting.jsonl").read_bytes()
put("verify_export", export)
lines = export.split(b"\n")
seen = set()
for line in lines:
    if not line:
        continue
    kind = json.loads(line)["type"]
    event = json.loads(json.loads(line).get("body", "{}")).get("event") if kind == "entry" else None
    if (kind, event) not in seen:
        seen.add((kind, event))
        put("export_line", line)
