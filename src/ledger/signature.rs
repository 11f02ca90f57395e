//! Ed25519 signatures over canonical statement bytes ([`super::canonical`]), verified strictly,
//! and the replay guard that refuses a signer's statement whose sequence number does not
//! increase.
//!
//! Strict means: a public key is refused unless its encoding is canonical and its point has
//! prime order (no small-order key, no key with a low-order component); a signature is refused
//! unless its scalar S is canonical (below the group order), its point R is canonically
//! encoded and not of small order, and ed25519-dalek's `verify_strict` accepts it. What this
//! accepts among the C2SP edge-case vectors is stated in `docs/encoding.md` and asserted by
//! `tests/ledger/signatures.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::canonical::{EncodingError, Statement};

/// The length of a public key in bytes.
pub const PUBLIC_KEY_LENGTH: usize = 32;
/// The length of a signature in bytes: R (32) then S (32).
pub const SIGNATURE_LENGTH: usize = 64;

/// The order of the prime-order subgroup, l = 2^252 + 27742317777372353535851937790883648493,
/// little-endian.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// A person's Ed25519 public key, parsed strictly: canonically encoded, on the curve, of prime
/// order. Every key an honest client makes (WebCrypto, the CLI) is one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Why 32 bytes are not a key Stembus accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    #[error("a public key is 32 bytes, not {0}")]
    WrongLength(usize),
    #[error("a public key is 64 hexadecimal digits")]
    NotHex,
    #[error("the public key is not the encoding of a point on the curve")]
    NotOnCurve,
    #[error("the public key is a non-canonical encoding of its point")]
    NonCanonical,
    #[error("the public key is a point of small order (a weak key that any signature may match)")]
    SmallOrder,
    #[error("the public key has a low-order component: no honest key generator makes such a key")]
    MixedOrder,
}

/// Why a signature is refused. Each variant names the one check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature's scalar S is not below the group order (a non-canonical, malleable signature)")]
    NonCanonicalScalar,
    #[error("the signature's point R is not the encoding of a point on the curve")]
    RNotOnCurve,
    #[error("the signature's point R is not canonically encoded")]
    RNonCanonical,
    #[error("the signature's point R is of small order")]
    RSmallOrder,
    #[error("the signature does not match this key and these bytes")]
    Mismatch,
    #[error("item {index} of the batch: {reason}")]
    InBatch { index: usize, reason: Box<SignatureError> },
    #[error("the batch equation failed although every item verified on its own")]
    BatchRejected,
}

/// p = 2^255 - 19, little-endian: a canonical encoding has its y below it.
const FIELD_PRIME: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The canonical encodings of the eight points of small order (orders 1, 2, 4 and 8): the
/// whole torsion subgroup of edwards25519, as listed with the C2SP vectors. A canonically
/// encoded point is of small order exactly when it is one of these.
const SMALL_ORDER_POINTS: [[u8; 32]; 8] = [
    [0; 32],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5,
        0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5,
        0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a,
        0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a,
        0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
];

/// Is the little-endian number `a` below `b`?
fn below(a: &[u8; 32], b: &[u8; 32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Is this the one canonical encoding of its point (if it is a point)? Its y must be below p,
/// and where x = 0 (y = 1 or y = p - 1) the sign bit must be clear. A byte check: no field
/// arithmetic.
fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    if !below(&y, &FIELD_PRIME) {
        return false;
    }
    let negative = bytes[31] & 0x80 != 0;
    let x_is_zero = y == SMALL_ORDER_POINTS[2] || y == SMALL_ORDER_POINTS[7];
    !(negative && x_is_zero)
}

/// The ways a point encoding fails the checks shared by keys and the R of signatures.
enum PointFault {
    NotOnCurve,
    NonCanonical,
    SmallOrder,
}

/// The checks on a point's encoding that need no point arithmetic: canonical and not one of
/// the small-order points.
fn check_point_encoding(bytes: &[u8; 32]) -> Result<(), PointFault> {
    if !is_canonical_encoding(bytes) {
        return Err(PointFault::NonCanonical);
    }
    if SMALL_ORDER_POINTS.contains(bytes) {
        return Err(PointFault::SmallOrder);
    }
    Ok(())
}

/// The point of `bytes`, if it is on the curve, canonically encoded and not of small order.
fn strict_point(bytes: &[u8; 32]) -> Result<VerifyingKey, PointFault> {
    let point = VerifyingKey::from_bytes(bytes).map_err(|_| PointFault::NotOnCurve)?;
    check_point_encoding(bytes)?;
    Ok(point)
}

impl PublicKey {
    /// The key of these 32 bytes, refusing a non-canonical encoding, a point off the curve, a
    /// point of small order and a point with a low-order component.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Result<Self, PublicKeyError> {
        let key = Self::from_checked_bytes(bytes)?;
        if !key.0.to_edwards().is_torsion_free() {
            return Err(PublicKeyError::MixedOrder);
        }
        Ok(key)
    }

    /// The key of 32 bytes that [`PublicKey::from_bytes`] accepted before (a key enrolled in
    /// an association's key ring): decoded and its encoding checked again, but not multiplied
    /// out to check its torsion, which costs as much as a signature verification. For bytes
    /// not known to have passed `from_bytes`, use that.
    pub fn from_checked_bytes(bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Result<Self, PublicKeyError> {
        strict_point(bytes).map(Self).map_err(|fault| match fault {
            PointFault::NotOnCurve => PublicKeyError::NotOnCurve,
            PointFault::NonCanonical => PublicKeyError::NonCanonical,
            PointFault::SmallOrder => PublicKeyError::SmallOrder,
        })
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, PublicKeyError> {
        let array: &[u8; PUBLIC_KEY_LENGTH] =
            bytes.try_into().map_err(|_| PublicKeyError::WrongLength(bytes.len()))?;
        Self::from_bytes(array)
    }

    /// The key of 64 hexadecimal digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, PublicKeyError> {
        let bytes = decode_hex(text).ok_or(PublicKeyError::NotHex)?;
        Self::from_slice(&bytes)
    }

    /// The public half of a signing key (always a valid key).
    pub fn of(signing_key: &SigningKey) -> Self {
        Self(signing_key.verifying_key())
    }

    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.0.to_bytes()
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LENGTH] {
        self.0.as_bytes()
    }

    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        ::hex::encode(self.as_bytes())
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// Hexadecimal digits only: `u8::from_str_radix` alone would also take a `+` sign.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Signs canonical statement bytes. Ed25519 is deterministic: the same key and bytes always
/// give the same signature.
pub fn sign(signing_key: &SigningKey, statement_bytes: &[u8]) -> [u8; SIGNATURE_LENGTH] {
    signing_key.sign(statement_bytes).to_bytes()
}

/// Is the little-endian scalar below the group order?
fn scalar_is_canonical(s: &[u8; 32]) -> bool {
    below(s, &GROUP_ORDER)
}

/// S and R of a signature.
fn halves(signature: &[u8; SIGNATURE_LENGTH]) -> ([u8; 32], [u8; 32]) {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    s.copy_from_slice(&signature[32..]);
    (r, s)
}

fn point_fault_of_r(fault: PointFault) -> SignatureError {
    match fault {
        PointFault::NotOnCurve => SignatureError::RNotOnCurve,
        PointFault::NonCanonical => SignatureError::RNonCanonical,
        PointFault::SmallOrder => SignatureError::RSmallOrder,
    }
}

/// The checks `verify_strict` makes on a signature before its equation, one by one so the
/// error can say which failed.
fn check_signature_encoding(signature: &[u8; SIGNATURE_LENGTH]) -> Result<(), SignatureError> {
    let (r, s) = halves(signature);
    if !scalar_is_canonical(&s) {
        return Err(SignatureError::NonCanonicalScalar);
    }
    strict_point(&r).map_err(point_fault_of_r)?;
    Ok(())
}

/// The same checks without decompressing R (the batch equation does that and fails when R is
/// no point): byte comparisons only. The batch equation itself makes none of them.
fn check_signature_bytes(signature: &[u8; SIGNATURE_LENGTH]) -> bool {
    let (r, s) = halves(signature);
    scalar_is_canonical(&s) && check_point_encoding(&r).is_ok()
}

/// Verifies a signature over canonical statement bytes strictly (ed25519-dalek's
/// `verify_strict`, after the encoding checks that name what failed).
pub fn verify(
    key: &PublicKey,
    statement_bytes: &[u8],
    signature: &[u8; SIGNATURE_LENGTH],
) -> Result<(), SignatureError> {
    check_signature_encoding(signature)?;
    key.0
        .verify_strict(statement_bytes, &Signature::from_bytes(signature))
        .map_err(|_| SignatureError::Mismatch)
}

/// One signature to verify in a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    pub key: &'a PublicKey,
    pub statement_bytes: &'a [u8],
    pub signature: &'a [u8; SIGNATURE_LENGTH],
}

/// Verifies many signatures at once: one multiscalar multiplication with random weights for
/// the whole batch, in which the terms of a key that signs several statements are merged into
/// one. When the batch fails, each item is verified on its own and the first that fails is named
/// by its index. An empty batch verifies.
///
/// The batch refuses everything [`verify`] refuses with one exception, which no forgery can use:
/// the key holder can deliberately add a low-order component to the R of their own signature;
/// [`verify`] then refuses it, and so does the batch for a batch that holds only one such
/// signature (its weight is odd, and an odd multiple of a low-order point is never zero), while
/// two such components in one batch may cancel. Statements enter the log only after [`verify`];
/// an auditor who must reproduce [`verify`] exactly on a log it does not trust verifies one by
/// one.
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<(), SignatureError> {
    if items.is_empty() {
        return Ok(());
    }
    if items.iter().all(|item| check_signature_bytes(item.signature)) && batch_equation(items) {
        return Ok(());
    }
    for (index, item) in items.iter().enumerate() {
        verify(item.key, item.statement_bytes, item.signature)
            .map_err(|reason| SignatureError::InBatch { index, reason: Box::new(reason) })?;
    }
    Err(SignatureError::BatchRejected)
}

/// Does the batch equation hold? With, for item i, its signature (R_i, S_i), its key A_i, its
/// challenge k_i = SHA-512(R_i ‖ A_i ‖ statement) mod l and a random odd 128-bit weight z_i:
///
/// [−Σ z_i S_i] B + Σ [z_i] R_i + Σ_A [Σ_{i: A_i = A} z_i k_i] A = 0
///
/// That is ed25519-dalek's `verify_batch` (the same cofactorless equation), except that a key
/// appears in it once with the sum of its items' coefficients rather than once per item, which
/// is the same sum of points. In a meeting's log each member's key signs many ballots, and the
/// multiplication has about as many points as signatures instead of twice as many. The weights
/// come from the operating system's generator: a batch with a wrong signature passes with
/// probability about 2^-127.
fn batch_equation(items: &[BatchItem<'_>]) -> bool {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
    use sha2::{Digest, Sha512};

    let mut random = vec![0u8; 16 * items.len()];
    if getrandom::fill(&mut random).is_err() {
        // No weights, no batch: the items are verified one by one.
        return false;
    }
    let mut base = Scalar::ZERO;
    let mut weights: Vec<Scalar> = Vec::with_capacity(items.len());
    let mut rs: Vec<EdwardsPoint> = Vec::with_capacity(items.len());
    let mut key_of: std::collections::HashMap<&[u8; 32], usize> = std::collections::HashMap::new();
    let mut keys: Vec<EdwardsPoint> = Vec::new();
    let mut key_weights: Vec<Scalar> = Vec::new();
    for (item, z) in items.iter().zip(random.chunks_exact(16)) {
        let (r_bytes, s_bytes) = halves(item.signature);
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else { return false };
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else { return false };
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(z);
        let z = Scalar::from(u128::from_le_bytes(z_bytes) | 1);
        let mut hash = Sha512::new();
        hash.update(r_bytes);
        hash.update(item.key.as_bytes());
        hash.update(item.statement_bytes);
        let k = Scalar::from_bytes_mod_order_wide(&hash.finalize().into());
        base -= z * s;
        weights.push(z);
        rs.push(r);
        let slot = *key_of.entry(item.key.as_bytes()).or_insert_with(|| {
            keys.push(item.key.0.to_edwards());
            key_weights.push(Scalar::ZERO);
            keys.len() - 1
        });
        if let Some(weight) = key_weights.get_mut(slot) {
            *weight += z * k;
        }
    }
    EdwardsPoint::vartime_multiscalar_mul(
        std::iter::once(&base).chain(&weights).chain(&key_weights),
        std::iter::once(&ED25519_BASEPOINT_POINT).chain(&rs).chain(&keys),
    )
    .is_identity()
}

/// Records, per signer key, the last sequence number accepted, and refuses a statement whose
/// sequence number is not greater: a replay (the same number again) or a reordering (a lower
/// one). Sequence numbers count per key over every kind of statement; a rotated key starts its
/// own count, and statements of a revoked key are refused before they get here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceGuard {
    /// Keyed by the 32 bytes of the key, not the parsed key: a million signers stay small.
    last: BTreeMap<[u8; PUBLIC_KEY_LENGTH], u64>,
}

/// Why a statement's sequence number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error("replayed: the signer {signer} already used sequence number {sequence}")]
    Replayed { signer: String, sequence: u64 },
    #[error(
        "out of order: sequence number {sequence} of signer {signer} is below {last}, which was already accepted"
    )]
    OutOfOrder { signer: String, sequence: u64, last: u64 },
}

/// Why [`SequenceGuard::admit`] refuses a signed statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    #[error("the statement is not canonical: {0}")]
    Encoding(#[from] EncodingError),
    #[error("the signature is refused: {0}")]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Sequence(#[from] SequenceError),
}

impl SequenceGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last sequence number accepted from this signer.
    pub fn last(&self, signer: &PublicKey) -> Option<u64> {
        self.last.get(signer.as_bytes()).copied()
    }

    /// Would `sequence` be accepted from this signer now?
    pub fn check(&self, signer: &PublicKey, sequence: u64) -> Result<(), SequenceError> {
        match self.last(signer) {
            Some(last) if sequence == last => {
                Err(SequenceError::Replayed { signer: signer.to_hex(), sequence })
            }
            Some(last) if sequence < last => {
                Err(SequenceError::OutOfOrder { signer: signer.to_hex(), sequence, last })
            }
            _ => Ok(()),
        }
    }

    /// Records `sequence` as the signer's last, if it is greater than the last; call it only
    /// for a statement whose signature verified.
    pub fn accept(&mut self, signer: &PublicKey, sequence: u64) -> Result<(), SequenceError> {
        self.check(signer, sequence)?;
        self.last.insert(signer.to_bytes(), sequence);
        Ok(())
    }

    /// The whole intake of a signed statement: reads the bytes strictly, verifies the signature
    /// strictly, refuses a replay or reordering, and only then records the sequence number.
    /// Nothing is recorded when anything fails.
    pub fn admit(
        &mut self,
        signer: &PublicKey,
        statement_bytes: &[u8],
        signature: &[u8; SIGNATURE_LENGTH],
    ) -> Result<Statement, AdmitError> {
        let statement = Statement::from_bytes(statement_bytes)?;
        verify(signer, statement_bytes, signature)?;
        self.accept(signer, statement.sequence())?;
        Ok(statement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_order_itself_is_not_a_canonical_scalar() {
        assert!(!scalar_is_canonical(&GROUP_ORDER));
        let mut below = GROUP_ORDER;
        below[0] -= 1;
        assert!(scalar_is_canonical(&below));
        assert!(scalar_is_canonical(&[0; 32]));
        assert!(!scalar_is_canonical(&[0xff; 32]));
    }

    /// The byte checks agree with decompressing and re-encoding, and the list of small-order
    /// points with ed25519-dalek's `is_weak`, on every encoding near the ends of the field
    /// (where the non-canonical and most small-order encodings are) and on honest keys.
    #[test]
    fn the_byte_checks_agree_with_point_arithmetic() {
        let mut encodings: Vec<[u8; 32]> = Vec::new();
        for low in 0u8..=40 {
            let mut b = [0u8; 32];
            b[0] = low;
            encodings.push(b);
            let mut high = [0xffu8; 32];
            high[0] = 0xff - low;
            high[31] = 0x7f;
            encodings.push(high);
        }
        encodings.extend(SMALL_ORDER_POINTS);
        encodings
            .extend((1u8..=50).map(|seed| SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes()));
        let with_sign: Vec<[u8; 32]> = encodings
            .iter()
            .map(|b| {
                let mut b = *b;
                b[31] ^= 0x80;
                b
            })
            .collect();
        encodings.extend(with_sign);
        let mut on_curve = 0;
        for bytes in &encodings {
            let Ok(point) = VerifyingKey::from_bytes(bytes) else { continue };
            on_curve += 1;
            let canonical = point.to_edwards().compress().to_bytes() == *bytes;
            assert_eq!(is_canonical_encoding(bytes), canonical, "{bytes:02x?}");
            if canonical {
                assert_eq!(SMALL_ORDER_POINTS.contains(bytes), point.is_weak(), "{bytes:02x?}");
            }
        }
        assert!(on_curve > 100, "{on_curve}");
        for point in SMALL_ORDER_POINTS {
            assert!(VerifyingKey::from_bytes(&point).is_ok_and(|p| p.is_weak()), "{point:02x?}");
        }
    }

    #[test]
    fn hex_round_trips() {
        let key = PublicKey::of(&SigningKey::from_bytes(&[1; 32]));
        assert_eq!(PublicKey::from_hex(&key.to_hex()), Ok(key));
        assert_eq!(PublicKey::from_hex(&key.to_hex().to_uppercase()), Ok(key));
        assert_eq!(PublicKey::from_hex("zz"), Err(PublicKeyError::NotHex));
        assert_eq!(PublicKey::from_hex("00"), Err(PublicKeyError::WrongLength(1)));
    }
}
