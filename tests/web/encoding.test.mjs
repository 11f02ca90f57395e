// Checks static/encoding.js, the browser's canonical encoder and proof verifier, against the
// repository's vectors: every statement of tests/vectors/encoding-v1.json byte for byte, its
// signature verified with WebCrypto and remade from the seed, and every RFC 6962 inclusion and
// consistency vector of tests/vectors/rfc6962 with the verdict it wants. Run by
// tests/web/encoding.rs (`cargo test --test web encoding`); prints the counts it checked.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as enc from "../../static/encoding.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let failures = 0;
const fail = (what) => {
  failures++;
  console.error(`FAIL ${what}`);
};

// Sequence numbers above 2^53 would lose digits in JSON.parse: read them as strings.
const text = readFileSync(join(root, "tests/vectors/encoding-v1.json"), "utf8").replace(/"sequence": (\d+)/g, '"sequence": "$1"');
const vectors = JSON.parse(text);
const PKCS8_ED25519 = enc.unhex("302e020100300506032b657004220420");
let statements = 0;
for (const v of vectors.vectors) {
  const bytes = enc.statementBytes(v.kind, v.fields);
  if (enc.hex(bytes) !== v.bytes) fail(`${v.name}: bytes\n  got  ${enc.hex(bytes)}\n  want ${v.bytes}`);
  if (bytes.length !== v.length) fail(`${v.name}: length ${bytes.length}, want ${v.length}`);
  if (!(await enc.verifySignature(v.public_key, bytes, v.signature))) fail(`${v.name}: signature does not verify`);
  const secret = await crypto.subtle.importKey("pkcs8", enc.concat(PKCS8_ED25519, enc.unhex(v.seed)), { name: "Ed25519" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, secret, bytes));
  if (enc.hex(signature) !== v.signature) fail(`${v.name}: signature made from the seed differs`);
  // A changed byte must not verify.
  const changed = bytes.slice();
  changed[changed.length - 1] ^= 1;
  if (await enc.verifySignature(v.public_key, changed, v.signature)) fail(`${v.name}: a changed statement verifies`);
  statements++;
}

// Refusals of the encoder: what it cannot encode it refuses rather than guessing.
const base = vectors.vectors[0].fields;
for (const [what, fields] of [
  ["unknown choice", { ...base, choice: "maybe" }],
  ["bad uuid", { ...base, member: "raalte" }],
  ["negative sequence", { ...base, sequence: -1 }],
  ["sequence beyond u64", { ...base, sequence: "18446744073709551616" }],
]) {
  let refused = false;
  try {
    enc.ballotBytes(fields);
  } catch {
    refused = true;
  }
  if (!refused) fail(`the encoder accepted a ballot with ${what}`);
}

const b64 = (s) => Uint8Array.from(Buffer.from(s || "", "base64"));
const counts = { inclusion: 0, consistency: 0 };
for (const kind of ["inclusion", "consistency"]) {
  const dir = join(root, "tests/vectors/rfc6962", kind);
  for (const sub of readdirSync(dir)) {
    if (!statSync(join(dir, sub)).isDirectory()) continue;
    for (const file of readdirSync(join(dir, sub)).filter((f) => f.endsWith(".json"))) {
      const t = JSON.parse(readFileSync(join(dir, sub, file), "utf8"));
      const proof = (t.proof || []).map(b64);
      let error = null;
      try {
        if (kind === "inclusion") await enc.verifyInclusion(b64(t.leafHash), t.leafIdx, t.treeSize, proof, b64(t.root));
        else await enc.verifyConsistency(t.size1, t.size2, b64(t.root1), b64(t.root2), proof);
      } catch (e) {
        error = e;
      }
      if (Boolean(error) !== Boolean(t.wantErr)) {
        fail(`${kind}/${sub}/${file} (${t.desc}): ${error ? `refused: ${error.message}` : "accepted"}, want ${t.wantErr ? "refused" : "accepted"}`);
      }
      counts[kind]++;
    }
  }
}

// A tree head's bytes: the layout of docs/encoding.md, timestamp in microseconds.
const head = {
  association: "d0f61842-3398-5de9-8809-55b125323e53",
  meeting: null,
  size: 3,
  root: "00".repeat(32),
  timestamp: "2026-03-01T08:00:00.000001Z",
};
const headBytes = enc.treeHeadBytes(head);
const expectedHead = "7374656d6275732f76312f747265652d6865616400" + "d0f6184233985de9880955b125323e53" + "00".repeat(16) + "0000000000000003" + "00".repeat(32) + (1772352000000001n).toString(16).padStart(16, "0");
if (enc.hex(headBytes) !== expectedHead) fail(`tree head bytes\n  got  ${enc.hex(headBytes)}\n  want ${expectedHead}`);

console.log(`statements ${statements}, inclusion vectors ${counts.inclusion}, consistency vectors ${counts.consistency}, failures ${failures}`);
process.exit(failures === 0 ? 0 : 1);
