// Stembus canonical encoding, version 1 (docs/encoding.md), for the browser: the bytes a
// voter signs, the bytes of a signed tree head, and the RFC 6962 / RFC 9162 proofs a voter
// checks. A port of src/ledger/canonical.rs (encoders only), src/ledger/log.rs (tree head
// bytes) and src/ledger/merkle.rs (verifiers); tests/web/encoding.test.mjs checks it against
// tests/vectors/encoding-v1.json and tests/vectors/rfc6962. No dependencies: SubtleCrypto
// gives SHA-256 and Ed25519.

const TEXT = new TextEncoder();

export const CHOICE = { for: 1, against: 2, abstain: 3 };
export const INSTRUCTION = { for: 1, against: 2, abstain: 3, free: 4 };
export const HOLDER = { member: 1, connected_person: 2, supervisory_board_chair: 3, notary: 4, lawyer: 5 };
export const OUTCOME = { adopted: 1, rejected: 2, no_quorum: 3 };
export const KEY_ACTION = { enrol: 1, rotate: 2, revoke: 3 };

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new Error(`not hexadecimal: ${text}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** The 16 bytes of a UUID, in RFC 4122 order. */
export function uuidBytes(uuid) {
  const digits = String(uuid).replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(digits)) throw new Error(`not a UUID: ${uuid}`);
  return unhex(digits);
}

function u64(n) {
  let v = BigInt(n);
  if (v < 0n || v >= 1n << 64n) throw new Error(`not a u64: ${n}`);
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function i64(n) {
  const v = BigInt(n);
  return u64(v < 0n ? v + (1n << 64n) : v);
}

function u32(n) {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`not a u32: ${n}`);
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function code(table, name, field) {
  const c = table[name];
  if (c === undefined) throw new Error(`unknown ${field}: ${name}`);
  return new Uint8Array([c]);
}

function tag(kind) {
  return concat(TEXT.encode(`stembus/v1/${kind}`), new Uint8Array([0]));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A ballot: `poll` null (or absent) for an advance ballot. */
export function ballotBytes(f) {
  const poll = f.poll ? concat(new Uint8Array([1]), uuidBytes(f.poll)) : new Uint8Array([0]);
  return concat(
    tag("ballot"), uuidBytes(f.association), uuidBytes(f.meeting), uuidBytes(f.item),
    uuidBytes(f.member), uuidBytes(f.person), code(CHOICE, f.choice, "choice"), u64(f.sequence), poll,
  );
}

/**
 * An electronically recorded proxy; `holder` is `{holder: "member", member}` or
 * `{holder: "notary" | …, person}`, `instructions` a list of [item, instruction].
 */
export function proxyBytes(f) {
  const kind = f.holder.holder;
  const holderId = kind === "member" ? f.holder.member : f.holder.person;
  const entries = (f.instructions || []).map(([item, instruction]) => [uuidBytes(item), instruction]);
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1][0], entries[i][0]) === 0) throw new Error("an agenda item has two instructions");
  }
  return concat(
    tag("proxy"), uuidBytes(f.association), uuidBytes(f.meeting), uuidBytes(f.proxy), uuidBytes(f.grantor),
    uuidBytes(f.person), code(HOLDER, kind, "holder kind"), uuidBytes(holderId), u64(f.sequence),
    u32(entries.length), ...entries.map(([item, instruction]) => concat(item, code(INSTRUCTION, instruction, "instruction"))),
  );
}

/** The chair's declaration of a poll's outcome. */
export function declarationBytes(f) {
  return concat(
    tag("declaration"), uuidBytes(f.association), uuidBytes(f.meeting), uuidBytes(f.poll), uuidBytes(f.chair),
    code(OUTCOME, f.outcome, "outcome"), u64(f.for), u64(f.against), u64(f.abstain), u64(f.sequence),
  );
}

/** The enrolment, rotation or revocation of a key; `public_key` is the key in hex. */
export function keyBytes(f) {
  const key = unhex(f.public_key);
  if (key.length !== 32) throw new Error("a public key has 32 bytes");
  return concat(tag("key"), uuidBytes(f.association), uuidBytes(f.person), code(KEY_ACTION, f.action, "key action"), key, u64(f.sequence));
}

/** A vote on a resolution outside a meeting. */
export function resolutionVoteBytes(f) {
  return concat(
    tag("resolution-vote"), uuidBytes(f.association), uuidBytes(f.resolution), uuidBytes(f.member),
    uuidBytes(f.person), code(CHOICE, f.choice, "choice"), u64(f.sequence),
  );
}

/** The bytes of any statement of the test vectors' form: `{kind, fields}`. */
export function statementBytes(kind, fields) {
  switch (kind) {
    case "ballot": return ballotBytes(fields);
    case "proxy": return proxyBytes(fields);
    case "declaration": return declarationBytes(fields);
    case "key": return keyBytes(fields);
    case "resolution_vote":
    case "resolution-vote": return resolutionVoteBytes(fields);
    default: throw new Error(`unknown statement kind ${kind}`);
  }
}

/** Microseconds since the epoch of an RFC 3339 time in UTC ("…T08:00:00.123456Z"). */
export function micros(rfc3339) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(rfc3339);
  if (!m) throw new Error(`not an RFC 3339 time: ${rfc3339}`);
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) throw new Error(`not an RFC 3339 time: ${rfc3339}`);
  const fraction = ((m[2] || "") + "000000").slice(0, 6);
  return BigInt(seconds) * 1000n + BigInt(fraction);
}

/** The bytes the service signs for a tree head (docs/encoding.md, "Tree head bytes"). */
export function treeHeadBytes(head) {
  const stream = head.meeting ? uuidBytes(head.meeting) : new Uint8Array(16);
  const root = unhex(head.root);
  if (root.length !== 32) throw new Error("a root hash has 32 bytes");
  return concat(
    concat(TEXT.encode("stembus/v1/tree-head"), new Uint8Array([0])),
    uuidBytes(head.association), stream, u64(head.size), root, i64(micros(head.timestamp)),
  );
}

// ---- RFC 6962 hashing and the RFC 9162 proof verifiers ------------------------------------

async function sha256(bytes) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

export async function leafHash(entry) {
  return sha256(concat(new Uint8Array([0]), entry));
}

export async function nodeHash(left, right) {
  return sha256(concat(new Uint8Array([1]), left, right));
}

function equal(a, b) {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function bitLen(x) {
  let n = 0;
  while (x > 0n) {
    n++;
    x >>= 1n;
  }
  return n;
}

function countOnes(x) {
  let n = 0;
  while (x > 0n) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

function trailingZeros(x) {
  let n = 0;
  while (x > 0n && (x & 1n) === 0n) {
    n++;
    x >>= 1n;
  }
  return n;
}

function isPowerOfTwo(x) {
  return x > 0n && (x & (x - 1n)) === 0n;
}

function inclusionProofLen(index, size) {
  const inner = bitLen(index ^ (size - 1n));
  return inner + countOnes(index >> BigInt(inner));
}

function consistencyProofLen(size1, size2) {
  const last = size1 - 1n;
  const shift = trailingZeros(size1);
  const diverge = bitLen(last ^ (size2 - 1n));
  const border = countOnes(last >> BigInt(diverge));
  const inner = Math.max(0, diverge - shift);
  return inner + border + (isPowerOfTwo(size1) ? 0 : 1);
}

function hash32(h, what) {
  const b = typeof h === "string" ? unhex(h) : h;
  if (b.length !== 32) throw new Error(`${what} is not a 32-byte hash`);
  return b;
}

/**
 * Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`
 * (RFC 9162 2.1.3.2). Throws an Error saying why not. Hashes are bytes or hex.
 */
export async function verifyInclusion(leaf, index, size, proof, root) {
  let fn = BigInt(index);
  let sn = BigInt(size);
  if (fn >= sn) throw new Error(`index ${index} is beyond the tree of size ${size}`);
  let r = hash32(leaf, "the leaf hash");
  const rootBytes = hash32(root, "the root");
  const expected = inclusionProofLen(fn, sn);
  if (proof.length !== expected) throw new Error(`the proof has ${proof.length} hashes, not ${expected}`);
  const path = proof.map((p, i) => hash32(p, `proof hash ${i}`));
  sn -= 1n;
  for (const p of path) {
    if (sn === 0n) throw new Error("the proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error("the proof is too short");
  if (!equal(r, rootBytes)) throw new Error("the proof does not lead to the root");
}

/**
 * Checks that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2`
 * leaves with `root2` (RFC 9162 2.1.4.2). Throws an Error saying why not.
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  const s1 = BigInt(size1);
  const s2 = BigInt(size2);
  if (s1 > s2) throw new Error(`the first tree (${size1}) is larger than the second (${size2})`);
  if (s1 === 0n) throw new Error("a consistency proof from the empty tree proves nothing");
  const r1 = typeof root1 === "string" ? unhex(root1) : root1;
  const r2 = typeof root2 === "string" ? unhex(root2) : root2;
  if (s1 === s2) {
    if (proof.length !== 0) throw new Error("trees of equal size need an empty proof");
    if (!equal(r1, r2)) throw new Error(`two different roots for the tree of size ${size1}`);
    return;
  }
  hash32(r1, "the first root");
  hash32(r2, "the second root");
  const expected = consistencyProofLen(s1, s2);
  if (proof.length !== expected) throw new Error(`the proof has ${proof.length} hashes, not ${expected}`);
  const path = proof.map((p, i) => hash32(p, `proof hash ${i}`));
  if (isPowerOfTwo(s1)) path.unshift(r1);
  let fn = s1 - 1n;
  let sn = s2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new Error("the proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error("the proof is too short");
  if (!equal(fr, r1)) throw new Error("the proof does not lead to the first root");
  if (!equal(sr, r2)) throw new Error("the proof does not lead to the second root");
}

/** Verifies an Ed25519 signature (hex) over `bytes` with a public key (hex). */
export async function verifySignature(publicKeyHex, bytes, signatureHex) {
  const key = await globalThis.crypto.subtle.importKey("raw", unhex(publicKeyHex), { name: "Ed25519" }, false, ["verify"]);
  return globalThis.crypto.subtle.verify({ name: "Ed25519" }, key, unhex(signatureHex), bytes);
}

/** Verifies a tree head's signature by the service's key; throws if it does not verify. */
export async function verifyHead(head, serviceKeyHex) {
  const ok = await verifySignature(serviceKeyHex, treeHeadBytes(head), head.signature);
  if (!ok) throw new Error(`the tree head of size ${head.size} signed at ${head.timestamp} is not signed by the service key ${serviceKeyHex}`);
}
