// Checks static/encoding.js on a real receipt of the service (written by tests/web/encoding.rs
// into the file named on the command line): the heads' signatures over the tree head bytes
// the browser builds, the inclusion proof, the consistency proof to the latest head, the fresh
// inclusion proof in it; and that changed heads and proofs are refused.
import { readFileSync } from "node:fs";
import * as enc from "../../static/encoding.js";

const c = JSON.parse(readFileSync(process.argv[2], "utf8"));
const key = c.service_key;
const r = c.receipt;
let checks = 0;
let failures = 0;
const expect = async (what, f, ok) => {
  checks++;
  let error = null;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  if (Boolean(error) === ok) {
    failures++;
    console.error(`FAIL ${what}: ${error ? error.message : "accepted"}`);
  }
};

await expect("the receipt's head is signed", () => enc.verifyHead(r.tree_head, key), true);
await expect("the receipt's leaf is in its head", () => enc.verifyInclusion(r.leaf_hash, r.leaf_index, r.tree_head.size, r.inclusion_proof, r.tree_head.root), true);
await expect("the latest head is signed", () => enc.verifyHead(c.latest, key), true);
await expect("the latest head extends the receipt's", () => enc.verifyConsistency(r.tree_head.size, c.latest.size, r.tree_head.root, c.latest.root, c.consistency.proof), true);
await expect("the leaf is in the latest head", () => enc.verifyInclusion(r.leaf_hash, r.leaf_index, c.latest.size, c.fresh.inclusion_proof, c.latest.root), true);
const moved = { ...c.latest, timestamp: c.latest.timestamp.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10)) };
await expect("a head with another time is not signed", () => enc.verifyHead(moved, key), false);
const otherRoot = r.tree_head.root.replace(/^./, (d) => (d === "0" ? "1" : "0"));
await expect("a consistency proof to another root fails", () => enc.verifyConsistency(r.tree_head.size, c.latest.size, otherRoot, c.latest.root, c.consistency.proof), false);
console.log(`receipt checks ${checks}, failures ${failures}`);
process.exit(failures === 0 ? 0 : 1);
