//! The meeting's log as an append-only Merkle tree, hashed as RFC 6962 / RFC 9162 prescribe, with
//! inclusion proofs (a receipt: "your ballot is leaf `i` of the log of size `n` whose root is `r`")
//! and consistency proofs ("the log of size `m` is a prefix of the log of size `n`": nothing was
//! removed or rewritten since a voter or auditor last looked).
//!
//! We follow the RFC exactly, rather than a variant of our own, so that anyone can check a receipt
//! with any Certificate Transparency tooling, and so that the public test vectors of the
//! transparency-dev project apply to us unchanged.
//!
//! Three parts that share nothing but the hash functions:
//! - [`MerkleTree`] is the log server's side. It keeps every completed subtree hash, so that
//!   appending costs amortised one node hash and any proof for any earlier size costs O(log n)
//!   lookups: a log of a million ballots is built in well under a second and answers proofs at
//!   once.
//! - [`CompactTree`] is the auditor's side of building: it reads a log once, keeps O(log n)
//!   hashes, and gives the root at the current size and the consistency proof from the last
//!   size it marked.
//! - [`verify_inclusion`] and [`verify_consistency`] are the voter's and auditor's side. They use
//!   only the proof and the hashes they are given, never a tree, implement the bit-walking
//!   algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, take their input as bytes straight from
//!   an export (so a malformed hash is reported, not assumed away by a type), and never panic.

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest: the hash of a leaf, of an inner node or of a whole tree (its root).
pub type Hash = [u8; 32];

/// Length in bytes of every hash in the tree.
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix of a leaf hash (RFC 6962 section 2.1). Without it, the hash of an inner
/// node could be passed off as the hash of a leaf whose data is the two child hashes.
const LEAF_PREFIX: u8 = 0x00;

/// Domain-separation prefix of an inner node hash (RFC 6962 section 2.1).
const NODE_PREFIX: u8 = 0x01;

/// The hash of a leaf: SHA-256(0x00 || data). This is what the log stores for each event, and what
/// a receipt proves to be in the tree.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an inner node: SHA-256(0x01 || left || right). Left and right are ordered, so the
/// tree commits to the order of the log and not only to its contents.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 section 2.1), which is not a
/// leaf hash and so cannot be confused with the root of any non-empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n`: the size of the left subtree when RFC 6962 splits a
/// range of `n >= 2` leaves. Returns 0 for `n < 2`, where there is nothing to split.
/// RFC 6962 section 2.1.2 SUBPROOF(m, D[0:n], true) for `size1` ≤ `size2`, with `range_hash(lo,
/// hi)` giving MTH(D[lo:hi]): the one walk both trees use, each with its own store of hashes.
/// `complete` stays true while D[lo:hi] is the prefix that starts at leaf 0, whose root the
/// verifier already holds (root1), so it need not be sent.
fn consistency_path(
    size1: usize,
    size2: usize,
    range_hash: impl Fn(usize, usize) -> Option<Hash>,
) -> Option<Vec<Hash>> {
    let (mut lo, mut hi) = (0, size2);
    let mut complete = true;
    let mut path = Vec::new();
    loop {
        if size1 == hi {
            if !complete {
                path.push(range_hash(lo, hi)?);
            }
            break;
        }
        let k = split_point(hi - lo);
        if size1 - lo <= k {
            path.push(range_hash(lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(lo, lo + k)?);
            lo += k;
            complete = false;
        }
    }
    path.reverse();
    Some(path)
}

fn split_point(n: usize) -> usize {
    if n < 2 {
        return 0;
    }
    let exponent = usize::BITS - 1 - (n - 1).leading_zeros();
    1 << exponent
}

/// An append-only Merkle tree over leaf hashes, as RFC 6962 section 2.1 defines it.
///
/// It keeps, for each level `k`, the hash of every *completed* subtree of `2^k` leaves that starts at
/// a multiple of `2^k` (level 0 holds the leaf hashes themselves). In RFC 6962's tree of any size,
/// every node is either such a completed subtree or lies on the right border, and the right border
/// has at most one node per level. So the root of any earlier size, and every hash in a proof, is
/// found with O(log n) lookups and at most O(log n) node hashes, without rehashing whole subtrees.
/// Appending costs amortised one node hash; the whole structure holds fewer than `2n` hashes.
#[derive(Clone, Default)]
pub struct MerkleTree {
    /// `levels[k][i]` is the hash of leaves `[i * 2^k, (i + 1) * 2^k)`. `levels[0]` is the leaves.
    levels: Vec<Vec<Hash>>,
}

impl fmt::Debug for MerkleTree {
    // A log holds up to millions of hashes; show what identifies it, not all of them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerkleTree")
            .field("len", &self.len())
            .field("levels", &self.levels.len())
            .finish_non_exhaustive()
    }
}

impl MerkleTree {
    /// An empty tree. Its root is [`empty_root`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf whose hash was already computed (for instance read back from the store) and
    /// returns its index. Completes every subtree that this leaf closes, so later proofs find them.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.len();
        let mut carry = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(carry);
            // An odd count means the last subtree on this level has no right sibling yet.
            if row.len() % 2 != 0 {
                break;
            }
            let (Some(left), Some(right)) = (row.get(row.len() - 2), row.last()) else {
                break;
            };
            carry = node_hash(left, right);
            level += 1;
        }
        index
    }

    /// Appends a leaf with the given data (hashed with [`leaf_hash`]) and returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// The number of leaves: the current tree size.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of leaf `index`, if the tree has that many leaves: what a receipt for it carries.
    pub fn leaf_hash_at(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// The root of the tree at its current size (MTH of all leaves, RFC 6962 section 2.1).
    pub fn root(&self) -> Hash {
        // The current size is always within the tree, so this cannot be None; the fallback only
        // keeps the library free of unwrap.
        self.root_at(self.len()).unwrap_or_else(empty_root)
    }

    /// The root the tree had when it held `size` leaves, or None if it has not reached that size.
    /// A log serves tree heads of earlier sizes to clients that are catching up, so this must not
    /// require keeping old copies of the tree.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        let size = self.size_within(size)?;
        if size == 0 {
            return Some(empty_root());
        }
        self.range_hash(0, size)
    }

    /// The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves: RFC 6962
    /// section 2.1.1 PATH (RFC 9162 section 2.1.3.1), sibling hashes from the leaf upward.
    /// None if `index >= size` or the tree has not reached `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        let size = self.size_within(size)?;
        let index = usize::try_from(index).ok()?;
        if index >= size {
            return None;
        }
        // PATH(m, D[lo:hi]) descends into the half that holds m and records the other half's hash.
        // The RFC appends each recorded hash after the path of the deeper level, so we collect top
        // down and reverse.
        let (mut lo, mut hi) = (0, size);
        let mut path = Vec::new();
        while hi - lo > 1 {
            let k = split_point(hi - lo);
            if index < lo + k {
                path.push(self.range_hash(lo + k, hi)?);
                hi = lo + k;
            } else {
                path.push(self.range_hash(lo, lo + k)?);
                lo += k;
            }
        }
        path.reverse();
        Some(path)
    }

    /// The consistency proof between the trees of `size1` and `size2` leaves: RFC 6962 section
    /// 2.1.2 PROOF (RFC 9162 section 2.1.4.1). Empty when the sizes are equal.
    ///
    /// None if `size1 > size2`, if the tree has not reached `size2`, or if `size1` is 0: every log
    /// extends the empty log, so such a proof would prove nothing, and [`verify_consistency`]
    /// rejects it rather than let a caller mistake it for evidence.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Option<Vec<Hash>> {
        let size2 = self.size_within(size2)?;
        let size1 = usize::try_from(size1).ok()?;
        if size1 == 0 || size1 > size2 {
            return None;
        }
        consistency_path(size1, size2, |lo, hi| self.range_hash(lo, hi))
    }

    /// `size` as an index into the levels, if the tree has reached it.
    fn size_within(&self, size: u64) -> Option<usize> {
        let size = usize::try_from(size).ok()?;
        let len = self.levels.first().map_or(0, Vec::len);
        (size <= len).then_some(size)
    }

    /// MTH(D[lo:hi]) for `lo < hi <= len`. A range that is a completed, aligned subtree is one
    /// lookup; otherwise the range is split as RFC 6962 splits it. In the splits that PATH, PROOF
    /// and the root make, `lo` is a multiple of the left part, so the left part is always a lookup
    /// and only the right border recurses: O(log n) in total.
    fn range_hash(&self, lo: usize, hi: usize) -> Option<Hash> {
        let n = hi.checked_sub(lo)?;
        if n == 0 {
            return None;
        }
        if n.is_power_of_two() && lo % n == 0 {
            let level = usize::try_from(n.trailing_zeros()).ok()?;
            return self.levels.get(level)?.get(lo / n).copied();
        }
        let k = split_point(n);
        let left = self.range_hash(lo, lo + k)?;
        let right = self.range_hash(lo + k, hi)?;
        Some(node_hash(&left, &right))
    }
}

/// One completed subtree: the `2^level` leaves from `start` (a multiple of `2^level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    start: u64,
    level: u32,
    hash: Hash,
}

impl Node {
    fn end(&self) -> u64 {
        self.start + (1u64 << self.level)
    }
}

/// Appends `node` to a list of adjacent completed subtrees and merges siblings, as a binary
/// counter carries: the list stays the fewest aligned subtrees that cover its range.
fn push_node(nodes: &mut Vec<Node>, mut node: Node) {
    while let Some(last) = nodes.last() {
        let span = 1u64 << (node.level + 1);
        if last.level != node.level || last.start % span != 0 || last.end() != node.start {
            break;
        }
        node = Node { start: last.start, level: node.level + 1, hash: node_hash(&last.hash, &node.hash) };
        nodes.pop();
    }
    nodes.push(node);
}

/// The append-only tree as a verifier that reads a log once needs it, in O(log n) memory: the
/// compact range of RFC 6962 (the at most log2(n) completed subtrees whose leaves make up the
/// tree, largest first), from which the root at the current size is folded, and the
/// consistency proof from a marked earlier size (the last signed tree head) to the current one.
///
/// For the proof it keeps the subtrees of the tree at the marked size and the completed
/// subtrees of the leaves appended since: every hash of a consistency proof from `m` to `n` is
/// a subtree of the tree at `m` or of the leaves `m..n` (RFC 9162 section 2.1.4.1), so the
/// proof is the same as [`MerkleTree::consistency_proof`] gives, without keeping any leaf.
#[derive(Debug, Clone, Default)]
pub struct CompactTree {
    /// The completed subtrees of leaves `0..len`, largest first.
    frontier: Vec<Node>,
    /// The marked size and the frontier at it.
    mark: u64,
    at_mark: Vec<Node>,
    /// The completed subtrees of leaves `mark..len`.
    since_mark: Vec<Node>,
    len: u64,
}

impl CompactTree {
    /// An empty tree, marked at size 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.len;
        let node = Node { start: index, level: 0, hash: leaf };
        push_node(&mut self.frontier, node);
        push_node(&mut self.since_mark, node);
        self.len += 1;
        index
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the tree has no leaves yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The root at the current size (MTH of all leaves, RFC 6962 section 2.1): the frontier's
    /// subtrees folded from the right.
    pub fn root(&self) -> Hash {
        let mut nodes = self.frontier.iter().rev();
        let Some(last) = nodes.next() else { return empty_root() };
        nodes.fold(last.hash, |right, left| node_hash(&left.hash, &right))
    }

    /// The size marked last (0 at first).
    pub fn marked(&self) -> u64 {
        self.mark
    }

    /// Marks the current size: later consistency proofs start from here.
    pub fn mark(&mut self) {
        self.mark = self.len;
        self.at_mark.clone_from(&self.frontier);
        self.since_mark.clear();
    }

    /// The consistency proof from the marked size to the current one, as
    /// [`MerkleTree::consistency_proof`] gives it; None when the marked size is 0 (a proof
    /// from the empty tree proves nothing).
    pub fn consistency_proof(&self) -> Option<Vec<Hash>> {
        let (size1, size2) = (self.mark, self.len);
        if size1 == 0 {
            return None;
        }
        let (size1, size2) = (usize::try_from(size1).ok()?, usize::try_from(size2).ok()?);
        consistency_path(size1, size2, |lo, hi| self.range_hash(lo as u64, hi as u64))
    }

    /// MTH(D[lo:hi]) from the kept subtrees: one of them, or split as RFC 6962 splits it. Every
    /// range a consistency proof from the mark asks for is one of them or splits into them.
    fn range_hash(&self, lo: u64, hi: u64) -> Option<Hash> {
        let n = hi.checked_sub(lo)?;
        if n == 0 {
            return None;
        }
        if n.is_power_of_two()
            && let Some(node) =
                self.at_mark.iter().chain(&self.since_mark).find(|node| node.start == lo && node.end() == hi)
        {
            return Some(node.hash);
        }
        if n == 1 {
            return None;
        }
        let k = split_point(usize::try_from(n).ok()?) as u64;
        let left = self.range_hash(lo, lo + k)?;
        let right = self.range_hash(lo + k, hi)?;
        Some(node_hash(&left, &right))
    }
}

/// Which hash in a verifier's input was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashField {
    /// The leaf hash whose inclusion is being proven.
    LeafHash,
    /// The root an inclusion proof is checked against.
    Root,
    /// The root of the smaller tree in a consistency check.
    Root1,
    /// The root of the larger tree in a consistency check.
    Root2,
    /// The hash at this position (from 0) in the proof.
    Proof(usize),
}

impl fmt::Display for HashField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashField::LeafHash => f.write_str("the leaf hash"),
            HashField::Root => f.write_str("the root"),
            HashField::Root1 => f.write_str("root1"),
            HashField::Root2 => f.write_str("root2"),
            HashField::Proof(position) => write!(f, "proof hash {position}"),
        }
    }
}

/// Why a proof does not verify. Each variant names one precise fault, so that an auditor's report
/// can say what is wrong with a receipt, not only that it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size, so the leaf cannot be in that tree.
    #[error("leaf index {index} is beyond a tree of size {size}")]
    IndexBeyondSize {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// A consistency check from a larger tree to a smaller one: an append-only log never shrinks.
    #[error("size1 ({size1}) is greater than size2 ({size2}): a log cannot shrink")]
    Size1GreaterThanSize2 {
        /// The size of the supposedly earlier tree.
        size1: u64,
        /// The size of the supposedly later tree.
        size2: u64,
    },
    /// A consistency check from the empty tree. Every log extends the empty log, so such a check
    /// proves nothing; RFC 9162 defines consistency proofs only from a non-empty tree.
    #[error("a consistency proof from the empty tree (size1 = 0) proves nothing")]
    Size1Zero,
    /// The sizes are equal, so the proof must be empty (the roots are simply compared).
    #[error("the sizes are equal ({size}), so the proof must be empty, but it has {len} hashes")]
    NonEmptyProofForEqualSizes {
        /// The common size.
        size: u64,
        /// The number of hashes in the proof.
        len: usize,
    },
    /// The sizes are equal but the two roots are not: two different trees of one size.
    #[error("the sizes are equal ({size}) but the roots differ")]
    RootsDifferForEqualSizes {
        /// The common size.
        size: u64,
    },
    /// The proof does not have the number of hashes that these indices and sizes determine.
    #[error("the proof has {actual} hashes, but a proof for these sizes has exactly {expected}")]
    WrongProofLength {
        /// The number of hashes a valid proof has.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// A hash in the input does not have the 32 bytes of a SHA-256 digest.
    #[error("{field} is {len} bytes long, but a SHA-256 hash is {HASH_LEN}")]
    WrongHashLength {
        /// Which hash.
        field: HashField,
        /// Its length in bytes.
        len: usize,
    },
    /// The inclusion proof leads from the leaf to a root other than the one given.
    #[error("the inclusion proof does not lead to the given root")]
    RootMismatch,
    /// The consistency proof does not reproduce the root of the smaller tree.
    #[error("the consistency proof does not reproduce root1")]
    Root1Mismatch,
    /// The consistency proof does not reproduce the root of the larger tree.
    #[error("the consistency proof does not reproduce root2")]
    Root2Mismatch,
}

/// Reads `bytes` as a hash, or says which field was malformed.
fn as_hash(bytes: &[u8], field: HashField) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::WrongHashLength { field, len: bytes.len() })
}

/// Reads every hash in a proof, or says which one was malformed.
fn proof_hashes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .enumerate()
        .map(|(position, hash)| as_hash(hash.as_ref(), HashField::Proof(position)))
        .collect()
}

/// Number of significant bits in `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// The length of a valid inclusion proof for leaf `index < size`: one hash per level where the path
/// to the leaf and the path to the last leaf have diverged (`inner`), plus one per left sibling on
/// the shared right border above that (`border`). Computing it up front lets a verifier say "wrong
/// proof length" instead of only "root mismatch".
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The length of a valid consistency proof for `0 < size1 < size2`: the inclusion proof of the last
/// leaf of the smaller tree in the larger one, minus the levels inside the largest completed subtree
/// that ends the smaller tree, plus that subtree's hash unless it is the whole smaller tree (size1
/// a power of two), whose root the verifier already holds.
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let last = size1 - 1;
    let shift = size1.trailing_zeros();
    let diverge = bit_len(last ^ (size2 - 1));
    let border = last.checked_shr(diverge).unwrap_or(0).count_ones();
    let inner = diverge.saturating_sub(shift);
    let seed = usize::from(!size1.is_power_of_two());
    (inner + border) as usize + seed
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`,
/// given its inclusion proof: the algorithm of RFC 9162 section 2.1.3.2.
///
/// Uses only its arguments, never a tree: this is what a voter runs on a receipt. Hashes are taken
/// as bytes, exactly as they come out of an export, and a hash of the wrong length is reported as
/// such. Never panics.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let leaf = as_hash(leaf_hash, HashField::LeafHash)?;
    let root = as_hash(root, HashField::Root)?;
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
    }
    let proof = proof_hashes(proof)?;
    let wrong_length = ProofError::WrongProofLength { expected, actual: proof.len() };

    // fn walks the leaf's position up the tree, sn the last leaf's; where they meet is the right
    // border, along which the siblings are always on the left.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = leaf;
    for p in &proof {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2`, given their consistency proof: the algorithm of RFC 9162 section
/// 2.1.4.2, for `0 < size1 < size2`.
///
/// Equal sizes need no proof: the proof must be empty and the roots identical (compared byte for
/// byte, as the transparency-dev verifier and its test vectors do; the roots themselves must be
/// authenticated by the signed tree heads they come from). `size1 = 0` is rejected, since every
/// log extends the empty log and such a check would prove nothing.
///
/// Uses only its arguments, never a tree: this is what an auditor runs between two tree heads.
/// Never panics.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[P],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::Size1GreaterThanSize2 { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::Size1Zero);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes { size: size1, len: proof.len() });
        }
        if root1 != root2 {
            return Err(ProofError::RootsDifferForEqualSizes { size: size1 });
        }
        return Ok(());
    }
    let root1 = as_hash(root1, HashField::Root1)?;
    let root2 = as_hash(root2, HashField::Root2)?;
    let expected = consistency_proof_len(size1, size2);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, actual: proof.len() });
    }
    let mut path = proof_hashes(proof)?;
    let wrong_length = ProofError::WrongProofLength { expected, actual: proof.len() };

    // When the smaller tree is a completed subtree, its root is the starting point of the walk and
    // is not repeated in the proof.
    if size1.is_power_of_two() {
        path.insert(0, root1);
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(wrong_length);
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // fr rebuilds the smaller tree's root, sr the larger one's, from the same hashes.
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(wrong_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_length);
    }
    if fr != root1 {
        return Err(ProofError::Root1Mismatch);
    }
    if sr != root2 {
        return Err(ProofError::Root2Mismatch);
    }
    Ok(())
}
