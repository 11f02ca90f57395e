// The voter's signing device in the browser: a non-extractable Ed25519 key made with WebCrypto
// and kept in IndexedDB (a CryptoKey is structured-cloneable, so the secret half never leaves
// the browser's key store, not even to this script), the statements of docs/encoding.md signed
// with it, the JSON API called with the page's session cookie and CSRF token, and ballot
// receipts kept in IndexedDB and checked against the latest signed tree head.
//
// Exports (ES module): enrolKey, browserKey, signStatement, castBallot, signDeclaration,
// checkReceipt, receipts, api. Pages wire it through data- attributes (voter.js).
import * as enc from "./encoding.js";

const DB = "stembus";

function csrf() {
  const meta = document.querySelector('meta[name="stembus-csrf"]');
  return meta ? meta.content : "";
}

/** A problem of the API, with its rule and article when the statutes refused. */
export class Problem extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.rule = body && body.rule;
    this.article = body && body.article;
  }
}

/** Calls /api/v1 with the session cookie; changes carry the CSRF token. */
export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-stembus-csrf"] = csrf();
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const value = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Problem(response.status, value);
  return value;
}

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys", { keyPath: "id" });
      if (!db.objectStoreNames.contains("receipts")) db.createObjectStore("receipts", { keyPath: "id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name, mode, f) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const request = f(tx.objectStore(name));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const keyId = (association, person) => `${association}/${person}`;

/** This browser's key for the person, if it holds one: {publicKey (hex), privateKey, lastSequence}. */
export async function browserKey(association, person) {
  return store("keys", "readonly", (s) => s.get(keyId(association, person)));
}

async function saveKey(record) {
  return store("keys", "readwrite", (s) => s.put(record));
}

/**
 * Makes a non-extractable Ed25519 key, proves possession by signing its key statement
 * (action enrol), and enrols it with the service. Returns the public key (hex).
 */
export async function enrolKey(association, person) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  if (pair.privateKey.extractable) throw new Error("the browser made an extractable key");
  const publicKey = enc.hex(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
  const sequence = 0;
  const bytes = enc.keyBytes({ association, person, action: "enrol", public_key: publicKey, sequence });
  const signature = enc.hex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, bytes)));
  await api("POST", `/associations/${association}/persons/${person}/keys`, { key: publicKey, sequence, signature });
  await saveKey({ id: keyId(association, person), association, person, publicKey, privateKey: pair.privateKey, lastSequence: sequence });
  return publicKey;
}

/**
 * Signs the statement `build(sequence)` returns with this browser's key, at a sequence number
 * above every one the key has signed (the service's key ring and this browser's own memory).
 * Returns {key, sequence, signature, bytes}.
 */
export async function signStatement(association, person, build) {
  const record = await browserKey(association, person);
  if (!record) throw new Error("no-key");
  const keys = await api("GET", `/associations/${association}/persons/${person}/keys`);
  const current = keys.find((k) => k.status === "current");
  if (!current || current.key !== record.publicKey) throw new Error("not-current");
  const last = BigInt(Math.max(0, current.last_sequence)) > BigInt(record.lastSequence) ? BigInt(current.last_sequence) : BigInt(record.lastSequence);
  const sequence = last + 1n;
  // Remember the number before it is used: a statement signed but never sent leaves a gap,
  // which the service allows, never a number used twice.
  record.lastSequence = sequence.toString();
  await saveKey(record);
  const bytes = build(sequence.toString());
  const signature = enc.hex(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, record.privateKey, bytes)));
  return { key: record.publicKey, sequence: Number(sequence), signature, bytes };
}

/** Signs the chair's declaration of a poll's outcome: returns {key, sequence, signature}. */
export async function signDeclaration(f) {
  const signed = await signStatement(f.association, f.chair, (sequence) => enc.declarationBytes({ ...f, sequence }));
  return { key: signed.key, sequence: signed.sequence, signature: signed.signature };
}

async function serviceKey() {
  return (await api("GET", "/service-key")).public_key;
}

/**
 * Signs and casts a ballot; checks the answer's receipt at once and keeps it. Returns the
 * receipt (the CLI's `stembus-ballot-receipt` format, so `stembus receipt check` reads it too).
 */
export async function castBallot(f) {
  const signed = await signStatement(f.association, f.person, (sequence) => enc.ballotBytes({ ...f, sequence }));
  const path = `/associations/${f.association}/meetings/${f.meeting}/agenda-items/${f.item}/ballots`;
  const answer = await api("POST", path, {
    member: f.member,
    choice: f.choice,
    signature: { key: signed.key, sequence: signed.sequence, signature: signed.signature },
  });
  const log = answer.log_receipt;
  const receipt = {
    format: BALLOT_RECEIPT,
    version: 1,
    server: location.origin,
    association: f.association,
    meeting: answer.meeting,
    item: answer.item,
    poll: answer.poll,
    member: answer.member,
    person: answer.person,
    choice: answer.choice,
    via: answer.via,
    cast_at: answer.cast_at,
    ...(await proof(signed, log)),
  };
  return keep(f, `${receipt.meeting}/${receipt.leaf_index}`, receipt);
}

/** The part of a receipt that proves it: the signed statement and where the log holds it. */
async function proof(signed, log) {
  return {
    statement: enc.hex(signed.bytes),
    signature: { key: signed.key, sequence: signed.sequence, signature: signed.signature },
    leaf_index: log.leaf_index,
    leaf_hash: log.leaf_hash,
    inclusion_proof: log.inclusion_proof,
    tree_head: log.tree_head,
    service_key: await serviceKey(),
  };
}

/** Checks a new receipt on its own and keeps it in this browser under `id`; returns it. */
async function keep(f, id, receipt) {
  await checkOffline(receipt);
  await store("receipts", "readwrite", (s) => s.put({ id, owner: keyId(f.association, f.person), receipt }));
  return receipt;
}

/** The formats of the receipts this browser keeps (the CLI's, so `stembus receipt check` reads
 * them too). */
export const BALLOT_RECEIPT = "stembus-ballot-receipt";
export const RESOLUTION_RECEIPT = "stembus-resolution-vote-receipt";

/**
 * Signs and casts a vote on a resolution outside a meeting (Art. 8.12) for a member the person
 * represents; checks the answer's receipt at once (the vote recorded is the one signed, the head
 * of the association's log signed by the service key, the inclusion proof) and keeps it.
 * Returns the receipt (the CLI's `stembus-resolution-vote-receipt` format).
 */
export async function castResolutionVote(f) {
  const signed = await signStatement(f.association, f.person, (sequence) => enc.resolutionVoteBytes({ ...f, sequence }));
  const answer = await api("POST", `/associations/${f.association}/resolutions/${f.resolution}/votes`, {
    member: f.member,
    choice: f.choice,
    signature: { key: signed.key, sequence: signed.sequence, signature: signed.signature },
  });
  if (answer.resolution !== f.resolution || answer.member !== f.member || answer.person !== f.person || answer.choice !== f.choice) {
    throw new Error("the service recorded another vote than the one signed");
  }
  const log = answer.log_receipt;
  const receipt = {
    format: RESOLUTION_RECEIPT,
    version: 1,
    server: location.origin,
    association: f.association,
    resolution: answer.resolution,
    member: answer.member,
    person: answer.person,
    choice: answer.choice,
    cast_at: answer.cast_at,
    ...(await proof(signed, log)),
  };
  return keep(f, `resolution/${receipt.resolution}/${receipt.leaf_index}`, receipt);
}

/** The receipts this browser keeps for the person, newest first. */
export async function receipts(association, person) {
  const all = (await store("receipts", "readonly", (s) => s.getAll())) || [];
  return all
    .filter((r) => r.owner === keyId(association, person))
    .map((r) => r.receipt)
    .sort((a, b) => (a.cast_at < b.cast_at ? 1 : -1));
}

/** The statement a receipt says was signed: a ballot's, or a vote's on a resolution. */
function receiptStatement(r) {
  if (r.format === BALLOT_RECEIPT && r.version === 1) {
    return enc.ballotBytes({
      association: r.association, meeting: r.meeting, item: r.item, poll: r.poll,
      member: r.member, person: r.person, choice: r.choice, sequence: r.signature.sequence,
    });
  }
  if (r.format === RESOLUTION_RECEIPT && r.version === 1) {
    return enc.resolutionVoteBytes({
      association: r.association, resolution: r.resolution, member: r.member, person: r.person,
      choice: r.choice, sequence: r.signature.sequence,
    });
  }
  throw new Error("this is not a Stembus receipt (of a ballot or of a vote on a resolution, version 1)");
}

/** The log a receipt is of: its meeting's, or (a resolution vote's) the association's. */
function sameLog(head, r) {
  return head.association === r.association && (head.meeting || null) === (r.meeting || null);
}

/** The receipt on its own: its statement, signature, head signature and inclusion proof. */
export async function checkOffline(r) {
  const statement = receiptStatement(r);
  if (enc.hex(statement) !== r.statement) throw new Error("the signed statement does not say what the receipt says");
  if (!(await enc.verifySignature(r.signature.key, statement, r.signature.signature))) throw new Error("the statement's signature does not verify");
  const head = r.tree_head;
  if (!sameLog(head, r)) throw new Error("the tree head is of another log");
  await enc.verifyHead(head, r.service_key);
  await enc.verifyInclusion(r.leaf_hash, r.leaf_index, head.size, r.inclusion_proof, head.root);
}

/**
 * Checks a receipt against its log's latest signed head (the meeting's, or the association's
 * for a resolution vote), as `stembus receipt check` does:
 * the receipt on its own, the service's key unchanged, the latest head signed, consistent with
 * the receipt's head, and still including the ballot. Returns {size, timestamp, from}; throws
 * an Error that says what failed.
 */
export async function checkReceipt(r) {
  await checkOffline(r);
  const key = await serviceKey();
  if (key !== r.service_key) throw new Error(`the service now signs with key ${key}, not with the receipt's key ${r.service_key}`);
  const base = r.meeting ? `/associations/${r.association}/meetings/${r.meeting}` : `/associations/${r.association}`;
  let latest = await api("GET", `${base}/log/head`);
  await enc.verifyHead(latest, key);
  const fresh = await api("GET", `${base}/log/entries/${r.leaf_index}/receipt`);
  await enc.verifyHead(fresh.tree_head, key);
  for (const h of [latest, fresh.tree_head]) {
    if (!sameLog(h, r)) throw new Error("the service answered with a head of another log");
  }
  if (fresh.tree_head.size < latest.size) throw new Error("the service proved the ballot against a head older than its latest");
  if (fresh.tree_head.size > latest.size) latest = fresh.tree_head;
  else if (fresh.tree_head.root !== latest.root) throw new Error(`the service signed two different heads of size ${latest.size}: keep both, this is evidence of a forked log`);
  const from = r.tree_head.size;
  const to = latest.size;
  if (to < from) throw new Error(`the latest head has ${to} entries, fewer than the ${from} of the receipt's head: the log shrank`);
  const proof = to === from ? [] : (await api("GET", `${base}/log/consistency?from=${from}&to=${to}`)).proof;
  try {
    await enc.verifyConsistency(from, to, r.tree_head.root, latest.root, proof);
  } catch (e) {
    throw new Error(`the latest head (size ${to}) does not extend the receipt's head (size ${from}): ${e.message}; keep the receipt as evidence`);
  }
  await enc.verifyInclusion(r.leaf_hash, r.leaf_index, to, fresh.inclusion_proof, latest.root);
  return { size: to, timestamp: latest.timestamp, from };
}
