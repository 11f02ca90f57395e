"""Independent reference implementation of the Stembus canonical encoding v1 (from docs/encoding.md),
used to generate tests/vectors/encoding-v1.json. Signs with pyca/cryptography.

Regenerate: pip install cryptography && python3 tests/vectors/encoding-v1.py > tests/vectors/encoding-v1.json"""
import json, struct, uuid
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

NS = uuid.UUID("5fe24c1a-9d3e-4b7f-8a10-3c6d2e90b1a4")
def named(kind, key): return uuid.uuid5(NS, f"{kind}:{key}")

CHOICE = {"for": 1, "against": 2, "abstain": 3}
INSTR = {"for": 1, "against": 2, "abstain": 3, "free": 4}
OUTCOME = {"adopted": 1, "rejected": 2, "no_quorum": 3}
ACTION = {"enrol": 1, "rotate": 2, "revoke": 3}
HOLDER = {"member": 1, "connected_person": 2, "supervisory_board_chair": 3, "notary": 4, "lawyer": 5}

def u(s): return uuid.UUID(s).bytes
def u64(n): return struct.pack(">Q", n)
def u32(n): return struct.pack(">I", n)

def ballot(f):
    b = b"stembus/v1/ballot\0" + u(f["association"]) + u(f["meeting"]) + u(f["item"]) + u(f["member"]) + u(f["person"])
    b += bytes([CHOICE[f["choice"]]]) + u64(f["sequence"])
    b += b"\0" if f["poll"] is None else b"\1" + u(f["poll"])
    return b

def proxy(f):
    b = b"stembus/v1/proxy\0" + u(f["association"]) + u(f["meeting"]) + u(f["proxy"]) + u(f["grantor"]) + u(f["person"])
    h = f["holder"]; kind = h["holder"]; hid = h["member"] if kind == "member" else h["person"]
    b += bytes([HOLDER[kind]]) + u(hid) + u64(f["sequence"])
    entries = sorted(((u(i), INSTR[x]) for i, x in f["instructions"]), key=lambda e: e[0])
    assert [e[0] for e in entries] == [u(i) for i, _ in f["instructions"]], "listed in canonical order"
    b += u32(len(entries)) + b"".join(i + bytes([x]) for i, x in entries)
    return b

def declaration(f):
    return (b"stembus/v1/declaration\0" + u(f["association"]) + u(f["meeting"]) + u(f["poll"]) + u(f["chair"])
            + bytes([OUTCOME[f["outcome"]]]) + u64(f["for"]) + u64(f["against"]) + u64(f["abstain"]) + u64(f["sequence"]))

def key(f):
    return (b"stembus/v1/key\0" + u(f["association"]) + u(f["person"]) + bytes([ACTION[f["action"]]])
            + bytes.fromhex(f["public_key"]) + u64(f["sequence"]))

def resolution_vote(f):
    return (b"stembus/v1/resolution-vote\0" + u(f["association"]) + u(f["resolution"]) + u(f["member"]) + u(f["person"])
            + bytes([CHOICE[f["choice"]]]) + u64(f["sequence"]))

ENC = {"ballot": ballot, "proxy": proxy, "declaration": declaration, "key": key, "resolution-vote": resolution_vote}

def keypair(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk

association = str(named("association", "dimpact"))
meeting = str(named("meeting", "alv-2024-12-11"))
other_meeting = str(named("meeting", "alv-2025-06-18"))
item_a = str(named("item", "jaarrekening-2023"))
item_b = str(named("item", "begroting-2025"))
poll = str(named("poll", "jaarrekening-2023-1"))
raalte = str(named("member", "raalte"))
deventer = str(named("member", "deventer"))
jansen = str(named("person", "j-jansen"))
de_boer = str(named("person", "p-de-boer"))
notary = str(named("person", "notaris-van-dam"))
chair = str(named("person", "voorzitter-rvc"))
resolution = str(named("resolution", "contributie-2027"))

names = {association: "association dimpact", meeting: "meeting alv-2024-12-11", item_a: "item jaarrekening-2023",
         item_b: "item begroting-2025", poll: "poll jaarrekening-2023-1", raalte: "member raalte",
         deventer: "member deventer", jansen: "person j-jansen", de_boer: "person p-de-boer",
         notary: "person notaris-van-dam", chair: "person voorzitter-rvc",
         resolution: "resolution contributie-2027"}

voter_seed = bytes([1]) * 32
chair_seed = bytes([2]) * 32
grantor_seed = bytes([3]) * 32
new_seed = bytes([4]) * 32
_, voter_pk = keypair(voter_seed)
_, new_pk = keypair(new_seed)

instr = sorted([(item_a, "for"), (item_b, "free")], key=lambda e: uuid.UUID(e[0]).bytes)

specs = [
    ("ballot in a poll", "ballot", voter_seed, dict(association=association, meeting=meeting, item=item_a, poll=poll,
        member=raalte, person=jansen, choice="for", sequence=1)),
    ("advance ballot (no poll)", "ballot", voter_seed, dict(association=association, meeting=meeting, item=item_b, poll=None,
        member=raalte, person=jansen, choice="against", sequence=2)),
    ("ballot by a proxy holder, large sequence", "ballot", voter_seed, dict(association=association, meeting=meeting, item=item_a,
        poll=poll, member=deventer, person=jansen, choice="abstain", sequence=0x0000010203040506)),
    ("proxy to another member with two instructions", "proxy", grantor_seed, dict(association=association, meeting=meeting,
        proxy=str(named("proxy", "deventer-2024")), grantor=deventer, person=de_boer,
        holder={"holder": "member", "member": raalte}, instructions=instr, sequence=1)),
    ("proxy to a notary without instructions", "proxy", grantor_seed, dict(association=association, meeting=other_meeting,
        proxy=str(named("proxy", "deventer-2025")), grantor=deventer, person=de_boer,
        holder={"holder": "notary", "person": notary}, instructions=[], sequence=2)),
    ("declaration: adopted", "declaration", chair_seed, {"association": association, "meeting": meeting, "poll": poll,
        "chair": chair, "outcome": "adopted", "for": 25, "against": 3, "abstain": 2, "sequence": 7}),
    ("declaration: no quorum", "declaration", chair_seed, {"association": association, "meeting": meeting, "poll": poll,
        "chair": chair, "outcome": "no_quorum", "for": 0, "against": 0, "abstain": 0, "sequence": 8}),
    ("key enrolment, signed by the key it enrols", "key", voter_seed, dict(association=association, person=jansen,
        public_key=voter_pk.hex(), action="enrol", sequence=0)),
    ("key rotation, signed by the old key, naming the new", "key", voter_seed, dict(association=association, person=jansen,
        public_key=new_pk.hex(), action="rotate", sequence=3)),
    ("key revocation, signed by the key revoked", "key", new_seed, dict(association=association, person=jansen,
        public_key=new_pk.hex(), action="revoke", sequence=1)),
    ("vote on a resolution outside a meeting", "resolution-vote", voter_seed, dict(association=association,
        resolution=resolution, member=raalte, person=jansen, choice="for", sequence=4)),
    ("vote on a resolution for another member, large sequence", "resolution-vote", grantor_seed, dict(
        association=association, resolution=resolution, member=deventer, person=de_boer, choice="abstain",
        sequence=0x0102030405060708)),
]

vectors = []
for name, kind, seed, fields in specs:
    sk, pk = keypair(seed)
    b = ENC[kind](fields)
    sig = sk.sign(b)
    vectors.append({"name": name, "kind": kind, "fields": fields, "length": len(b), "bytes": b.hex(),
                    "seed": seed.hex(), "public_key": pk.hex(), "signature": sig.hex()})

# Non-canonical inputs that every v1 parser must refuse.
good_ballot = bytes.fromhex(vectors[0]["bytes"])
good_advance = bytes.fromhex(vectors[1]["bytes"])
good_proxy = bytes.fromhex(vectors[3]["bytes"])
good_vote = bytes.fromhex(vectors[10]["bytes"])
vote_choice_at = 27 + 4 * 16
entries_at = 126
swapped = good_proxy[:entries_at] + good_proxy[entries_at + 17:entries_at + 34] + good_proxy[entries_at:entries_at + 17]
dup = good_proxy[:entries_at] + good_proxy[entries_at:entries_at + 17] * 2
invalid = [
    ("trailing byte", "trailing_bytes", good_ballot + b"\0"),
    ("truncated by one byte", "truncated", good_ballot[:-1]),
    ("truncated inside the domain tag", "truncated", good_ballot[:10]),
    ("empty input", "truncated", b""),
    ("version 2 tag", "unknown_version", b"stembus/v2/ballot\0" + good_ballot[18:]),
    ("unknown kind", "unknown_kind", b"stembus/v1/vote\0" + good_ballot[18:]),
    ("foreign tag", "unknown_tag", b"example/v1/ballot\0" + good_ballot[18:]),
    ("tag without its 0x00", "unknown_tag", b"stembus/v1/ballot" + good_ballot[18:]),
    ("choice code 0x00", "unknown_code", good_ballot[:98] + b"\x00" + good_ballot[99:]),
    ("choice code 0x04", "unknown_code", good_ballot[:98] + b"\x04" + good_ballot[99:]),
    ("poll presence byte 0x02", "bad_presence", good_ballot[:107] + b"\x02" + good_ballot[108:]),
    ("poll absent but 16 bytes follow", "trailing_bytes", good_advance + bytes(16)),
    ("poll present but missing", "truncated", good_advance[:107] + b"\x01"),
    ("holder kind 0x06", "unknown_code", good_proxy[:97] + b"\x06" + good_proxy[98:]),
    ("instruction code 0x05", "unknown_code", good_proxy[:entries_at + 16] + b"\x05" + good_proxy[entries_at + 17:]),
    ("instructions out of order", "unsorted", swapped),
    ("duplicate instruction", "duplicate", dup),
    ("instruction count larger than the entries", "truncated", good_proxy[:122] + u32(3) + good_proxy[126:]),
    ("instruction count smaller than the entries", "trailing_bytes", good_proxy[:122] + u32(1) + good_proxy[126:]),
    ("resolution vote choice code 0x00", "unknown_code", good_vote[:vote_choice_at] + b"\x00" + good_vote[vote_choice_at + 1:]),
    ("resolution vote with a poll presence byte after it", "trailing_bytes", good_vote + b"\0"),
    ("resolution vote truncated inside the sequence", "truncated", good_vote[:-4]),
]
assert swapped != good_proxy

doc = {
    "encoding": "Stembus canonical statements, version 1",
    "specification": "docs/encoding.md",
    "generated_by": "an independent Python implementation of docs/encoding.md, signed with pyca/cryptography (Ed25519, RFC 8032)",
    "notes": [
        "Ids are UUIDs; the encoding carries their 16 bytes in RFC 4122 order (the hex of the UUID without dashes).",
        "The ids are UUID v5 of readable keys in the Stembus namespace 5fe24c1a-9d3e-4b7f-8a10-3c6d2e90b1a4; 'names' says which.",
        "seed is the 32-byte Ed25519 secret key (RFC 8032); public_key and signature are hex.",
        "Instructions are listed as [item, instruction] pairs in canonical order (ascending item bytes).",
    ],
    "names": names,
    "vectors": vectors,
    "invalid": [{"name": n, "error": e, "bytes": b.hex()} for n, e, b in invalid],
}
print(json.dumps(doc, indent=2))
