//! The Merkle tree and its verifiers: against every public RFC 6962 test vector of the
//! transparency-dev/merkle project (tests/vectors/rfc6962), against a naive transcription of the
//! RFC's recursive definitions, and under random inputs and single-bit corruption.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde::Deserialize;
use stembus::ledger::merkle::{
    CompactTree, Hash, HashField, MerkleTree, ProofError, empty_root, leaf_hash, node_hash,
    verify_consistency, verify_inclusion,
};

/// How many vector files each folder holds. Asserted, so that a missing or emptied folder fails
/// the suite instead of letting it pass on nothing.
const INCLUSION_FILES: usize = 98;
const CONSISTENCY_FILES: usize = 98;

/// The leaves of the RFC 6962 reference tree that the transparency-dev vectors are built from.
const RFC_LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

/// The root of the eight-leaf reference tree.
const RFC_ROOT_8: &str = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

/// SHA-256 of the empty string: the root of the empty tree.
const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---------------------------------------------------------------------------------------------
// Reading the vectors

/// An inclusion vector. Hash fields may be null or absent, which means empty.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    #[serde(default)]
    root: Option<String>,
    #[serde(default)]
    leaf_hash: Option<String>,
    #[serde(default)]
    proof: Option<Vec<Option<String>>>,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    want_err: bool,
}

/// A consistency vector. Hash fields may be null or absent, which means empty.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    #[serde(default)]
    root1: Option<String>,
    #[serde(default)]
    root2: Option<String>,
    #[serde(default)]
    proof: Option<Vec<Option<String>>>,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    want_err: bool,
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc6962")
}

/// Every file below `dir`, recursively, in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The vector files of one kind ("inclusion" or "consistency"). Anything that is not JSON fails
/// the test, so that a vector cannot hide under another extension.
fn vector_files(kind: &str) -> Vec<PathBuf> {
    let files = files_under(&vectors_dir().join(kind));
    for file in &files {
        assert_eq!(
            file.extension().and_then(|e| e.to_str()),
            Some("json"),
            "unexpected file among the vectors: {}",
            file.display()
        );
    }
    files
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

fn b64(field: Option<&String>, path: &Path) -> Vec<u8> {
    field.map_or_else(Vec::new, |text| {
        STANDARD.decode(text).unwrap_or_else(|e| panic!("bad base64 {text:?} in {}: {e}", path.display()))
    })
}

fn b64_list(field: Option<&Vec<Option<String>>>, path: &Path) -> Vec<Vec<u8>> {
    field.map_or_else(Vec::new, |list| list.iter().map(|item| b64(item.as_ref(), path)).collect())
}

fn relative(path: &Path) -> String {
    path.strip_prefix(vectors_dir()).unwrap_or(path).display().to_string()
}

fn run_inclusion(path: &Path) -> (InclusionVector, Result<(), ProofError>) {
    let v: InclusionVector = read_json(path);
    let leaf = b64(v.leaf_hash.as_ref(), path);
    let root = b64(v.root.as_ref(), path);
    let proof = b64_list(v.proof.as_ref(), path);
    let outcome = verify_inclusion(&leaf, v.leaf_idx, v.tree_size, &proof, &root);
    (v, outcome)
}

fn run_consistency(path: &Path) -> (ConsistencyVector, Result<(), ProofError>) {
    let v: ConsistencyVector = read_json(path);
    let root1 = b64(v.root1.as_ref(), path);
    let root2 = b64(v.root2.as_ref(), path);
    let proof = b64_list(v.proof.as_ref(), path);
    let outcome = verify_consistency(v.size1, v.size2, &root1, &root2, &proof);
    (v, outcome)
}

fn hex(text: &str) -> Hash {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}")))
        .collect();
    Hash::try_from(bytes.as_slice()).unwrap_or_else(|e| panic!("not 32 bytes: {text:?}: {e}"))
}

fn to_hash(bytes: &[u8]) -> Hash {
    Hash::try_from(bytes).unwrap_or_else(|e| panic!("not a 32-byte hash: {bytes:?}: {e}"))
}

fn tree_of(leaves: &[&[u8]]) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for leaf in leaves {
        tree.push(leaf);
    }
    tree
}

// ---------------------------------------------------------------------------------------------
// Every vector file: the verifier's outcome is exactly !wantErr

#[test]
fn every_inclusion_vector_has_the_expected_outcome() {
    let files = vector_files("inclusion");
    assert_eq!(files.len(), INCLUSION_FILES, "inclusion vector files");
    let mut wrong = Vec::new();
    let mut accepted = 0;
    for path in &files {
        let (v, outcome) = run_inclusion(path);
        accepted += usize::from(outcome.is_ok());
        if outcome.is_ok() == v.want_err {
            wrong.push(format!(
                "{} ({}): wantErr {} but got {outcome:?}",
                relative(path),
                v.desc,
                v.want_err
            ));
        }
    }
    assert!(wrong.is_empty(), "inclusion vectors:\n{}", wrong.join("\n"));
    // Five happy paths and the single-entry tree whose root is its leaf.
    assert_eq!(accepted, 6, "accepted inclusion vectors");
}

#[test]
fn every_consistency_vector_has_the_expected_outcome() {
    let files = vector_files("consistency");
    assert_eq!(files.len(), CONSISTENCY_FILES, "consistency vector files");
    let mut wrong = Vec::new();
    let mut accepted = 0;
    for path in &files {
        let (v, outcome) = run_consistency(path);
        accepted += usize::from(outcome.is_ok());
        if outcome.is_ok() == v.want_err {
            wrong.push(format!(
                "{} ({}): wantErr {} but got {outcome:?}",
                relative(path),
                v.desc,
                v.want_err
            ));
        }
    }
    assert!(wrong.is_empty(), "consistency vectors:\n{}", wrong.join("\n"));
    // Five happy paths and equal sizes with equal roots.
    assert_eq!(accepted, 6, "accepted consistency vectors");
}

#[test]
fn vector_folder_holds_only_the_two_kinds_and_the_licence() {
    let all = files_under(&vectors_dir());
    assert_eq!(all.len(), INCLUSION_FILES + CONSISTENCY_FILES + 1);
    for file in &all {
        let name = relative(file);
        assert!(
            name.starts_with("inclusion/") || name.starts_with("consistency/") || name == "LICENSE",
            "unexpected file {name}"
        );
    }
}

/// Rejections name the actual fault, not just "invalid".
#[test]
fn vector_rejections_name_the_fault() {
    let inclusion: &[(&str, ProofError)] = &[
        ("inclusion/0/leafIdx-plus-@1.json", ProofError::IndexBeyondSize { index: 1, size: 1 }),
        ("inclusion/0/leafIdx-sub-@1.json", ProofError::IndexBeyondSize { index: u64::MAX, size: 1 }),
        ("inclusion/additional/0/empty-root.json", ProofError::IndexBeyondSize { index: 0, size: 0 }),
        ("inclusion/1/wrong-leaf.json", ProofError::WrongHashLength { field: HashField::LeafHash, len: 9 }),
        (
            "inclusion/single-entry/empty-root.json",
            ProofError::WrongHashLength { field: HashField::Root, len: 0 },
        ),
        ("inclusion/1/trailing-garbage.json", ProofError::WrongProofLength { expected: 3, actual: 4 }),
        ("inclusion/1/removed-component.json", ProofError::WrongProofLength { expected: 3, actual: 2 }),
        ("inclusion/1/treeSize-div-@2.json", ProofError::WrongProofLength { expected: 2, actual: 3 }),
        ("inclusion/1/modified-proof[1]-bit-@3.json", ProofError::RootMismatch),
        ("inclusion/1/random-root.json", ProofError::RootMismatch),
        ("inclusion/1/leafIdx-plus-@1.json", ProofError::RootMismatch),
    ];
    for (name, expected) in inclusion {
        let (_, outcome) = run_inclusion(&vectors_dir().join(name));
        assert_eq!(outcome, Err(expected.clone()), "{name}");
    }

    let consistency: &[(&str, ProofError)] = &[
        (
            "consistency/additional/size1-is-greater-than-size2.json",
            ProofError::Size1GreaterThanSize2 { size1: 1, size2: 0 },
        ),
        ("consistency/additional/size1-is-zero-and-size2-is-not-zero.json", ProofError::Size1Zero),
        ("consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json", ProofError::Size1Zero),
        (
            "consistency/additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one.json",
            ProofError::NonEmptyProofForEqualSizes { size: 1, len: 1 },
        ),
        (
            "consistency/additional/sizes-are-equal-one-but-roots-are-not.json",
            ProofError::RootsDifferForEqualSizes { size: 1 },
        ),
        ("consistency/1/empty-proof.json", ProofError::WrongProofLength { expected: 3, actual: 0 }),
        ("consistency/1/size1-plus-@1.json", ProofError::WrongProofLength { expected: 2, actual: 3 }),
        ("consistency/2/wrong-root1.json", ProofError::WrongHashLength { field: HashField::Root1, len: 9 }),
        ("consistency/2/wrong-root2.json", ProofError::WrongHashLength { field: HashField::Root2, len: 9 }),
        ("consistency/2/preceding-garbage.json", ProofError::WrongProofLength { expected: 3, actual: 4 }),
        ("consistency/2/swapped-roots.json", ProofError::Root1Mismatch),
        ("consistency/1/modified-proof@0-bit-@4.json", ProofError::Root2Mismatch),
    ];
    for (name, expected) in consistency {
        let (_, outcome) = run_consistency(&vectors_dir().join(name));
        assert_eq!(outcome, Err(expected.clone()), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// The tree produces exactly the proofs and roots of the vectors

#[test]
fn reference_tree_has_the_published_roots() {
    assert_eq!(empty_root(), hex(EMPTY_ROOT));
    assert_eq!(MerkleTree::new().root(), hex(EMPTY_ROOT));
    assert_eq!(MerkleTree::new().root_at(0), Some(hex(EMPTY_ROOT)));
    let tree = tree_of(&RFC_LEAVES);
    assert_eq!(tree.len(), 8);
    assert_eq!(tree.root(), hex(RFC_ROOT_8));
    assert_eq!(tree.root_at(8), Some(hex(RFC_ROOT_8)));
    assert_eq!(tree.root_at(9), None);
    assert_eq!(tree.root_at(1), Some(leaf_hash(b"")));
    assert_eq!(tree.root_at(2), Some(node_hash(&leaf_hash(b""), &leaf_hash(b"\x00"))));
}

#[test]
fn tree_reproduces_every_happy_path_inclusion_vector() {
    let tree = tree_of(&RFC_LEAVES);
    let mut checked = 0;
    for path in vector_files("inclusion") {
        if path.file_name().and_then(|n| n.to_str()) != Some("happy-path.json") {
            continue;
        }
        let v: InclusionVector = read_json(&path);
        assert!(!v.want_err, "{}", relative(&path));
        let index = usize::try_from(v.leaf_idx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            leaf_hash(RFC_LEAVES[index]).as_slice(),
            b64(v.leaf_hash.as_ref(), &path),
            "leaf hash of {}",
            relative(&path)
        );
        let proof: Vec<Hash> = b64_list(v.proof.as_ref(), &path).iter().map(|h| to_hash(h)).collect();
        assert_eq!(
            tree.inclusion_proof(v.leaf_idx, v.tree_size),
            Some(proof),
            "proof of {}",
            relative(&path)
        );
        assert_eq!(
            tree.root_at(v.tree_size).map(Vec::from),
            Some(b64(v.root.as_ref(), &path)),
            "root of {}",
            relative(&path)
        );
        checked += 1;
    }
    assert_eq!(checked, 5, "happy-path inclusion vectors checked against the tree");

    // The single-entry vectors are a tree of the one leaf "data".
    let path = vectors_dir().join("inclusion/single-entry/matching-root-and-leaf.json");
    let v: InclusionVector = read_json(&path);
    let single = tree_of(&[b"data"]);
    assert_eq!(single.root().as_slice(), b64(v.root.as_ref(), &path));
    assert_eq!(single.inclusion_proof(0, 1), Some(Vec::new()));
}

#[test]
fn tree_reproduces_every_happy_path_consistency_vector() {
    let tree = tree_of(&RFC_LEAVES);
    let mut checked = 0;
    for path in vector_files("consistency") {
        if path.file_name().and_then(|n| n.to_str()) != Some("happy-path.json") {
            continue;
        }
        let v: ConsistencyVector = read_json(&path);
        assert!(!v.want_err, "{}", relative(&path));
        let proof: Vec<Hash> = b64_list(v.proof.as_ref(), &path).iter().map(|h| to_hash(h)).collect();
        assert_eq!(tree.consistency_proof(v.size1, v.size2), Some(proof), "proof of {}", relative(&path));
        assert_eq!(
            tree.root_at(v.size1).map(Vec::from),
            Some(b64(v.root1.as_ref(), &path)),
            "root1 of {}",
            relative(&path)
        );
        assert_eq!(
            tree.root_at(v.size2).map(Vec::from),
            Some(b64(v.root2.as_ref(), &path)),
            "root2 of {}",
            relative(&path)
        );
        checked += 1;
    }
    assert_eq!(checked, 5, "happy-path consistency vectors checked against the tree");
}

// ---------------------------------------------------------------------------------------------
// The tree against a naive transcription of RFC 6962 section 2.1

/// MTH(D[n]), straight from the recursive definition.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = naive_split(n);
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than n.
fn naive_split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]).
fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = naive_split(n);
    let mut path;
    if m < k {
        path = naive_path(m, &leaves[..k]);
        path.push(naive_root(&leaves[k..]));
    } else {
        path = naive_path(m - k, &leaves[k..]);
        path.push(naive_root(&leaves[..k]));
    }
    path
}

/// SUBPROOF(m, D[n], b).
fn naive_subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if complete { Vec::new() } else { vec![naive_root(leaves)] };
    }
    let k = naive_split(n);
    let mut proof;
    if m <= k {
        proof = naive_subproof(m, &leaves[..k], complete);
        proof.push(naive_root(&leaves[k..]));
    } else {
        proof = naive_subproof(m - k, &leaves[k..], false);
        proof.push(naive_root(&leaves[..k]));
    }
    proof
}

fn numbered_leaves(n: usize) -> (MerkleTree, Vec<Hash>) {
    let mut tree = MerkleTree::new();
    let mut hashes = Vec::with_capacity(n);
    for i in 0..n {
        let data = format!("ballot {i}");
        let index = tree.push(data.as_bytes());
        assert_eq!(index, i as u64);
        hashes.push(leaf_hash(data.as_bytes()));
    }
    (tree, hashes)
}

/// Every root, inclusion proof and consistency proof of every size up to 70 equals the RFC's
/// recursive definition, and verifies.
#[test]
fn tree_matches_the_rfc_definitions_for_every_size_up_to_70() {
    const N: usize = 70;
    let (tree, leaves) = numbered_leaves(N);
    for size in 0..=N {
        let s = size as u64;
        let root = naive_root(&leaves[..size]);
        assert_eq!(tree.root_at(s), Some(root), "root at {size}");
        assert_eq!(tree.inclusion_proof(s, s), None, "index == size {size}");
        for index in 0..size {
            let i = index as u64;
            let proof = tree
                .inclusion_proof(i, s)
                .unwrap_or_else(|| panic!("no inclusion proof for {index} in {size}"));
            assert_eq!(proof, naive_path(index, &leaves[..size]), "path {index} in {size}");
            verify_inclusion(&leaves[index], i, s, &proof, &root)
                .unwrap_or_else(|e| panic!("inclusion {index} in {size}: {e}"));
        }
        for size1 in 1..=size {
            let s1 = size1 as u64;
            let proof = tree
                .consistency_proof(s1, s)
                .unwrap_or_else(|| panic!("no consistency proof {size1} -> {size}"));
            assert_eq!(proof, naive_subproof(size1, &leaves[..size], true), "proof {size1} -> {size}");
            let root1 = naive_root(&leaves[..size1]);
            verify_consistency(s1, s, &root1, &root, &proof)
                .unwrap_or_else(|e| panic!("consistency {size1} -> {size}: {e}"));
        }
        assert_eq!(tree.consistency_proof(0, s), None, "from empty to {size}");
        assert_eq!(tree.consistency_proof(s + 1, s), None, "shrinking from {size}");
    }
    assert_eq!(tree.root_at(N as u64 + 1), None);
    assert_eq!(tree.inclusion_proof(0, N as u64 + 1), None);
    assert_eq!(tree.consistency_proof(1, N as u64 + 1), None);
    assert_eq!(tree.leaf_hash_at(3), Some(leaves[3]));
    assert_eq!(tree.leaf_hash_at(N as u64), None);
}

// ---------------------------------------------------------------------------------------------
// Corruption: every single-bit change is caught

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8] ^= 1 << (bit % 8);
    flipped
}

/// Every bit of every proof hash, of the leaf and of the root, for every inclusion proof in the
/// eight-leaf reference tree.
#[test]
fn every_bit_flip_breaks_every_inclusion_proof_of_the_reference_tree() {
    let tree = tree_of(&RFC_LEAVES);
    for size in 1..=8u64 {
        let root = tree.root_at(size).unwrap_or_else(|| panic!("root at {size}"));
        for index in 0..size {
            let leaf = leaf_hash(RFC_LEAVES[index as usize]);
            let proof =
                tree.inclusion_proof(index, size).unwrap_or_else(|| panic!("proof {index} in {size}"));
            assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
            for bit in 0..256 {
                assert!(verify_inclusion(&flip(&leaf, bit), index, size, &proof, &root).is_err());
                assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, bit)).is_err());
                for position in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[position] = flip(&bad[position], bit);
                    assert!(
                        verify_inclusion(&leaf, index, size, &bad, &root).is_err(),
                        "bit {bit} of proof hash {position}, leaf {index} of {size}"
                    );
                }
            }
        }
    }
}

/// Every bit of every proof hash and of both roots, for every consistency proof in the eight-leaf
/// reference tree (equal sizes included).
#[test]
fn every_bit_flip_breaks_every_consistency_proof_of_the_reference_tree() {
    let tree = tree_of(&RFC_LEAVES);
    for size2 in 1..=8u64 {
        let root2 = tree.root_at(size2).unwrap_or_else(|| panic!("root at {size2}"));
        for size1 in 1..=size2 {
            let root1 = tree.root_at(size1).unwrap_or_else(|| panic!("root at {size1}"));
            let proof =
                tree.consistency_proof(size1, size2).unwrap_or_else(|| panic!("proof {size1} -> {size2}"));
            assert_eq!(verify_consistency(size1, size2, &root1, &root2, &proof), Ok(()));
            for bit in 0..256 {
                let r1 = flip(&root1, bit);
                let r2 = flip(&root2, bit);
                assert!(verify_consistency(size1, size2, &r1, &root2, &proof).is_err());
                assert!(verify_consistency(size1, size2, &root1, &r2, &proof).is_err());
                for position in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[position] = flip(&bad[position], bit);
                    assert!(
                        verify_consistency(size1, size2, &root1, &root2, &bad).is_err(),
                        "bit {bit} of proof hash {position}, {size1} -> {size2}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors for hand-made inputs

#[test]
fn verifiers_report_each_fault_precisely() {
    let tree = tree_of(&RFC_LEAVES);
    let root = tree.root();
    let leaf = leaf_hash(RFC_LEAVES[5]);
    let proof = tree.inclusion_proof(5, 8).unwrap_or_else(|| panic!("proof 5 in 8"));

    assert_eq!(
        verify_inclusion(&leaf, 8, 8, &proof, &root),
        Err(ProofError::IndexBeyondSize { index: 8, size: 8 })
    );
    assert_eq!(
        verify_inclusion(&leaf[..31], 5, 8, &proof, &root),
        Err(ProofError::WrongHashLength { field: HashField::LeafHash, len: 31 })
    );
    let mut long_element: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    long_element[1].push(0);
    assert_eq!(
        verify_inclusion(&leaf, 5, 8, &long_element, &root),
        Err(ProofError::WrongHashLength { field: HashField::Proof(1), len: 33 })
    );
    assert_eq!(
        verify_inclusion(&leaf, 5, 8, &proof[..2], &root),
        Err(ProofError::WrongProofLength { expected: 3, actual: 2 })
    );
    assert_eq!(verify_inclusion(&leaf, 4, 8, &proof, &root), Err(ProofError::RootMismatch));

    let root3 = tree.root_at(3).unwrap_or_else(|| panic!("root at 3"));
    let consistency = tree.consistency_proof(3, 8).unwrap_or_else(|| panic!("proof 3 -> 8"));
    assert_eq!(verify_consistency(3, 8, &root3, &root, &consistency), Ok(()));
    assert_eq!(
        verify_consistency(8, 3, &root, &root3, &consistency),
        Err(ProofError::Size1GreaterThanSize2 { size1: 8, size2: 3 })
    );
    assert_eq!(verify_consistency(0, 8, &empty_root(), &root, &[] as &[Hash]), Err(ProofError::Size1Zero));
    assert_eq!(
        verify_consistency(8, 8, &root, &root, &consistency),
        Err(ProofError::NonEmptyProofForEqualSizes { size: 8, len: 4 })
    );
    assert_eq!(
        verify_consistency(8, 8, &root, &root3, &[] as &[Hash]),
        Err(ProofError::RootsDifferForEqualSizes { size: 8 })
    );
    assert_eq!(verify_consistency(8, 8, &root, &root, &[] as &[Hash]), Ok(()));
    assert_eq!(
        verify_consistency(3, 8, &root3, &root, &consistency[1..]),
        Err(ProofError::WrongProofLength { expected: 4, actual: 3 })
    );
    assert_eq!(
        verify_consistency(3, 8, &root3[..4], &root, &consistency),
        Err(ProofError::WrongHashLength { field: HashField::Root1, len: 4 })
    );
    assert_eq!(verify_consistency(3, 8, &root, &root, &consistency), Err(ProofError::Root1Mismatch));
    assert_eq!(verify_consistency(3, 8, &root3, &root3, &consistency), Err(ProofError::Root2Mismatch));

    // The messages are for people: they say what is wrong in words.
    assert_eq!(
        ProofError::WrongHashLength { field: HashField::Proof(2), len: 31 }.to_string(),
        "proof hash 2 is 31 bytes long, but a SHA-256 hash is 32"
    );
    assert_eq!(
        ProofError::IndexBeyondSize { index: 9, size: 8 }.to_string(),
        "leaf index 9 is beyond a tree of size 8"
    );
}

// ---------------------------------------------------------------------------------------------
// Scale

/// A large log answers short proofs: logarithmic in its size. (How fast it builds is a
/// benchmark's business, not a test's: timings on a shared machine prove nothing.)
#[test]
fn a_large_log_answers_short_proofs() {
    let n: u64 = if cfg!(debug_assertions) { 1 << 16 } else { 1_000_000 };
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.push(&i.to_be_bytes());
    }
    assert_eq!(tree.len(), n);

    let mut proofs = 0;
    for size in [n, n - 1, n / 2 + 3, 1000, 1] {
        let root = tree.root_at(size).unwrap_or_else(|| panic!("root at {size}"));
        for index in [0, size / 3, size - 1] {
            let proof =
                tree.inclusion_proof(index, size).unwrap_or_else(|| panic!("proof {index} in {size}"));
            assert!(proof.len() <= 20);
            let leaf = leaf_hash(&index.to_be_bytes());
            assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
            proofs += 1;
        }
        let proof = tree.consistency_proof(size, n).unwrap_or_else(|| panic!("proof {size} -> {n}"));
        assert!(proof.len() <= 40);
        assert_eq!(verify_consistency(size, n, &root, &tree.root(), &proof), Ok(()));
        proofs += 1;
    }
    assert_eq!(proofs, 20);
}

// ---------------------------------------------------------------------------------------------
// Properties

/// A tree of `n` leaves "ballot i", and its leaf hashes.
fn random_tree() -> impl Strategy<Value = (usize, usize)> {
    // (number of leaves in the tree, a size within it)
    (1usize..400).prop_flat_map(|n| (Just(n), 1..=n))
}

/// Sizes that exercise the arithmetic at its edges as well as ordinary values.
fn any_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..40,
        any::<u64>(),
        (u64::MAX - 40)..=u64::MAX,
        (0u32..64).prop_map(|e| 1u64 << e),
        (1u32..64).prop_map(|e| (1u64 << e) - 1),
        (0u32..63).prop_map(|e| (1u64 << e) + 1),
    ]
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 32),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Every inclusion proof of a tree of random size verifies against the root of that size.
    #[test]
    fn every_inclusion_proof_verifies((n, size) in random_tree()) {
        let (tree, leaves) = numbered_leaves(n);
        let s = size as u64;
        let root = tree.root_at(s).unwrap_or_else(|| panic!("root at {size}"));
        for (index, leaf) in leaves.iter().enumerate().take(size) {
            let i = index as u64;
            let proof = tree
                .inclusion_proof(i, s)
                .unwrap_or_else(|| panic!("proof {index} in {size}"));
            prop_assert_eq!(verify_inclusion(leaf, i, s, &proof, &root), Ok(()));
        }
    }

    /// Every consistency proof from any earlier size to a random size verifies.
    #[test]
    fn every_consistency_proof_verifies((n, size2) in random_tree()) {
        let (tree, _) = numbered_leaves(n);
        let s2 = size2 as u64;
        let root2 = tree.root_at(s2).unwrap_or_else(|| panic!("root at {size2}"));
        for s1 in 1..=s2 {
            let root1 = tree.root_at(s1).unwrap_or_else(|| panic!("root at {s1}"));
            let proof = tree
                .consistency_proof(s1, s2)
                .unwrap_or_else(|| panic!("proof {s1} -> {size2}"));
            prop_assert_eq!(verify_consistency(s1, s2, &root1, &root2, &proof), Ok(()));
        }
        // And from the current size of a tree that grew beyond it.
        let proof = tree
            .consistency_proof(s2, n as u64)
            .unwrap_or_else(|| panic!("proof {size2} -> {n}"));
        prop_assert_eq!(verify_consistency(s2, n as u64, &root2, &tree.root(), &proof), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Flipping one bit of the leaf, the root or any proof hash makes an inclusion proof fail.
    #[test]
    fn a_flipped_bit_breaks_an_inclusion_proof(
        (n, size) in random_tree(),
        index_seed in any::<usize>(),
        target_seed in any::<usize>(),
        bit in 0usize..256,
    ) {
        let (tree, leaves) = numbered_leaves(n);
        let index = index_seed % size;
        let (i, s) = (index as u64, size as u64);
        let mut root = tree.root_at(s).unwrap_or_else(|| panic!("root at {size}"));
        let mut leaf = leaves[index];
        let mut proof = tree
            .inclusion_proof(i, s)
            .unwrap_or_else(|| panic!("proof {index} in {size}"));
        prop_assert_eq!(verify_inclusion(&leaf, i, s, &proof, &root), Ok(()));
        match target_seed % (proof.len() + 2) {
            0 => leaf = flip(&leaf, bit),
            1 => root = flip(&root, bit),
            position => proof[position - 2] = flip(&proof[position - 2], bit),
        }
        prop_assert!(verify_inclusion(&leaf, i, s, &proof, &root).is_err());
    }

    /// Flipping one bit of either root or any proof hash makes a consistency proof fail.
    #[test]
    fn a_flipped_bit_breaks_a_consistency_proof(
        (n, size2) in random_tree(),
        size1_seed in any::<usize>(),
        target_seed in any::<usize>(),
        bit in 0usize..256,
    ) {
        let (tree, _) = numbered_leaves(n);
        let size1 = 1 + size1_seed % size2;
        let (s1, s2) = (size1 as u64, size2 as u64);
        let mut root1 = tree.root_at(s1).unwrap_or_else(|| panic!("root at {size1}"));
        let mut root2 = tree.root_at(s2).unwrap_or_else(|| panic!("root at {size2}"));
        let mut proof = tree
            .consistency_proof(s1, s2)
            .unwrap_or_else(|| panic!("proof {size1} -> {size2}"));
        prop_assert_eq!(verify_consistency(s1, s2, &root1, &root2, &proof), Ok(()));
        match target_seed % (proof.len() + 2) {
            0 => root1 = flip(&root1, bit),
            1 => root2 = flip(&root2, bit),
            position => proof[position - 2] = flip(&proof[position - 2], bit),
        }
        prop_assert!(verify_consistency(s1, s2, &root1, &root2, &proof).is_err());
    }

    /// The inclusion verifier never panics, whatever it is given, and a proof of the length it
    /// asks for is walked to the end (edge sizes included) and then judged on the root.
    #[test]
    fn inclusion_verifier_never_panics(
        index in any_size(),
        size in any_size(),
        leaf in any_bytes(),
        root in any_bytes(),
        proof in proptest::collection::vec(any_bytes(), 0..70),
        filler in proptest::collection::vec(any::<[u8; 32]>(), 130),
    ) {
        let _ = verify_inclusion(&leaf, index, size, &proof, &root);
        let leaf = [7u8; 32];
        let root = [9u8; 32];
        if let Err(ProofError::WrongProofLength { expected, .. }) =
            verify_inclusion(&leaf, index, size, &[] as &[Hash], &root)
        {
            prop_assert!(expected <= 64, "expected {expected}");
            let outcome = verify_inclusion(&leaf, index, size, &filler[..expected], &root);
            prop_assert_eq!(outcome, Err(ProofError::RootMismatch));
        }
    }

    /// The consistency verifier never panics, whatever it is given, and a proof of the length it
    /// asks for is walked to the end (edge sizes included) and then judged on the roots.
    #[test]
    fn consistency_verifier_never_panics(
        size1 in any_size(),
        size2 in any_size(),
        root1 in any_bytes(),
        root2 in any_bytes(),
        proof in proptest::collection::vec(any_bytes(), 0..70),
        filler in proptest::collection::vec(any::<[u8; 32]>(), 130),
    ) {
        let _ = verify_consistency(size1, size2, &root1, &root2, &proof);
        let root1 = [7u8; 32];
        let root2 = [9u8; 32];
        if let Err(ProofError::WrongProofLength { expected, .. }) =
            verify_consistency(size1, size2, &root1, &root2, &[] as &[Hash])
        {
            prop_assert!((1..=65).contains(&expected), "expected {expected}");
            let outcome = verify_consistency(size1, size2, &root1, &root2, &filler[..expected]);
            prop_assert!(
                matches!(outcome, Err(ProofError::Root1Mismatch | ProofError::Root2Mismatch)),
                "{outcome:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The compact tree of the auditor's verifier

/// Builds both trees over the same leaves, marking the compact one at each of `marks` (sorted),
/// and checks at every size that the roots agree, and at every mark that the consistency proof
/// from the previous mark is the full tree's and verifies.
fn compact_agrees_with_full(n: usize, marks: &[usize]) {
    let (full, leaves) = numbered_leaves(n);
    let mut compact = CompactTree::new();
    assert_eq!(compact.root(), empty_root());
    assert_eq!(compact.consistency_proof(), None, "no proof from the empty tree");
    let mut previous = 0usize;
    for (i, leaf) in leaves.iter().enumerate() {
        compact.push_leaf_hash(*leaf);
        let size = i + 1;
        assert_eq!(compact.len(), size as u64);
        assert_eq!(Some(compact.root()), full.root_at(size as u64), "root at {size}");
        if marks.contains(&size) {
            if previous > 0 {
                let proof = compact.consistency_proof();
                assert_eq!(
                    proof,
                    full.consistency_proof(previous as u64, size as u64),
                    "proof {previous} -> {size}"
                );
                let (Some(proof), Some(root1)) = (proof, full.root_at(previous as u64)) else {
                    panic!("no proof {previous} -> {size}")
                };
                assert_eq!(
                    verify_consistency(previous as u64, size as u64, &root1, &compact.root(), &proof),
                    Ok(())
                );
            }
            compact.mark();
            assert_eq!(compact.marked(), size as u64);
            previous = size;
        }
    }
}

#[test]
fn compact_tree_matches_the_full_tree_for_every_pair_of_sizes_up_to_40() {
    for n in 1..=40 {
        for m in 1..=n {
            compact_agrees_with_full(n, &[m, n]);
        }
    }
}

#[test]
fn compact_tree_keeps_logarithmic_state_over_many_heads() {
    // Heads every 7 entries, then one far later: every proof between consecutive heads.
    let mut marks: Vec<usize> = (1..=150).map(|k| 7 * k).collect();
    marks.push(1500);
    compact_agrees_with_full(1500, &marks);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// At random sizes and random marks (tree heads), the compact tree has the full tree's
    /// roots and consistency proofs.
    #[test]
    fn compact_tree_matches_the_full_tree(
        n in 1usize..700,
        marks in proptest::collection::btree_set(1usize..700, 0..12),
    ) {
        let marks: Vec<usize> = marks.into_iter().filter(|m| *m <= n).collect();
        compact_agrees_with_full(n, &marks);
    }
}
