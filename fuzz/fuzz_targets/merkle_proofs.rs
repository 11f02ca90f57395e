//! The Merkle proof verifiers (src/ledger/merkle.rs), which voters and auditors run on proofs
//! that come from outside, against a real tree of up to 64 leaves.
//!
//! Properties: the true proofs verify; an inclusion proof verifies against the tree's signed
//! root only for the true leaf at its index and only when it equals the tree's own proof, so a
//! forged, altered, shortened or lengthened proof, another leaf or another index never
//! verifies; likewise a consistency proof verifies only when it is the tree's own proof and
//! root1 is the tree's root at size1; nothing panics on any sizes or hashes.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stembus::ledger::merkle::{Hash, MerkleTree, verify_consistency, verify_inclusion};

/// How the proof handed to the verifier is made from the true one.
#[derive(Debug, Arbitrary)]
enum Tamper {
    None,
    FlipBit {
        at: u8,
        byte: u8,
        bit: u8,
    },
    Replace {
        at: u8,
        hash: [u8; 32],
    },
    Drop {
        at: u8,
    },
    Insert {
        at: u8,
        hash: [u8; 32],
    },
    Swap {
        a: u8,
        b: u8,
    },
    Truncate {
        to: u8,
    },
    Forged(Vec<[u8; 32]>),
    /// Hashes of any length, as bytes from a receipt or an export.
    Raw(Vec<Vec<u8>>),
}

fn tampered(proof: &[Hash], how: &Tamper) -> Vec<Vec<u8>> {
    let mut p: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    let at = |i: u8, len: usize| usize::from(i) % len.max(1);
    match how {
        Tamper::None => {}
        Tamper::FlipBit { at: i, byte, bit } => {
            if !p.is_empty() {
                let i = at(*i, p.len());
                p[i][usize::from(*byte) % 32] ^= 1 << (bit % 8);
            }
        }
        Tamper::Replace { at: i, hash } => {
            if !p.is_empty() {
                let i = at(*i, p.len());
                p[i] = hash.to_vec();
            }
        }
        Tamper::Drop { at: i } => {
            if !p.is_empty() {
                let i = at(*i, p.len());
                p.remove(i);
            }
        }
        Tamper::Insert { at: i, hash } => {
            let i = usize::from(*i) % (p.len() + 1);
            p.insert(i, hash.to_vec());
        }
        Tamper::Swap { a, b } => {
            if !p.is_empty() {
                let (a, b) = (at(*a, p.len()), at(*b, p.len()));
                p.swap(a, b);
            }
        }
        Tamper::Truncate { to } => p.truncate(usize::from(*to)),
        Tamper::Forged(hashes) => p = hashes.iter().map(|h| h.to_vec()).collect(),
        Tamper::Raw(hashes) => p = hashes.clone(),
    }
    p
}

#[derive(Debug, Arbitrary)]
struct Case {
    leaves: u8,
    salt: u8,
    inclusion: bool,
    a: u64,
    b: u64,
    /// Whether the claimed leaf (or root1) is the true one, or these bytes.
    claimed: Option<Vec<u8>>,
    tamper: Tamper,
    /// Sizes and indices anywhere in u64, not only inside the tree.
    wild: bool,
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let case = Case::arbitrary(u)?;
    let n = u64::from(case.leaves % 64) + 1;
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.push(&[b'l', case.salt, i as u8]);
    }
    if case.inclusion {
        let (index, size) = if case.wild { (case.a, case.b) } else { (case.a % n, case.b % n + 1) };
        let Some(root) = tree.root_at(size.min(n)) else { return Ok(()) };
        let truth = tree.inclusion_proof(index, size);
        assert_eq!(truth.is_some(), index < size && size <= n, "inclusion_proof({index}, {size}) of {n}");
        let true_leaf = tree.leaf_hash_at(index);
        if let (Some(proof), Some(leaf)) = (&truth, true_leaf) {
            assert_eq!(verify_inclusion(&leaf, index, size, proof, &root), Ok(()), "a true proof fails");
        }
        let leaf = match &case.claimed {
            None => true_leaf.map(|h| h.to_vec()).unwrap_or_default(),
            Some(bytes) => bytes.clone(),
        };
        let proof = tampered(truth.as_deref().unwrap_or(&[]), &case.tamper);
        // Past the tree's size there is no authentic root: the verifier must only not panic.
        if verify_inclusion(&leaf, index, size, &proof, &root).is_ok() && size <= n {
            let truth = truth.unwrap_or_else(|| panic!("verified for index {index} of size {size} of {n}"));
            assert_eq!(
                Some(leaf.as_slice()),
                true_leaf.as_ref().map(|h| h.as_slice()),
                "another leaf verifies"
            );
            let truth: Vec<Vec<u8>> = truth.iter().map(|h| h.to_vec()).collect();
            assert_eq!(proof, truth, "a proof other than the true one verifies");
        }
    } else {
        let (size1, size2) = if case.wild { (case.a, case.b) } else { (case.a % n + 1, case.b % n + 1) };
        let root2 = tree.root_at(size2.min(n)).unwrap_or_default();
        let true_root1 = tree.root_at(size1.min(n)).unwrap_or_default();
        let truth = tree.consistency_proof(size1, size2);
        if size1 <= size2 && size2 <= n && size1 > 0 {
            let proof =
                truth.clone().unwrap_or_else(|| panic!("no consistency proof {size1} → {size2} of {n}"));
            assert_eq!(verify_consistency(size1, size2, &true_root1, &root2, &proof), Ok(()));
        }
        let root1 = match &case.claimed {
            None => true_root1.to_vec(),
            Some(bytes) => bytes.clone(),
        };
        let proof = tampered(truth.as_deref().unwrap_or(&[]), &case.tamper);
        // Past the tree's size there is no authentic root2: the verifier must only not panic.
        if verify_consistency(size1, size2, &root1, &root2, &proof).is_ok() && size2 <= n {
            assert!(size1 <= size2 && size1 > 0, "verified {size1} → {size2} of {n}");
            assert_eq!(root1, true_root1.to_vec(), "another root1 verifies");
            let truth: Vec<Vec<u8>> = truth.unwrap_or_default().iter().map(|h| h.to_vec()).collect();
            assert_eq!(proof, truth, "a proof other than the true one verifies");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
