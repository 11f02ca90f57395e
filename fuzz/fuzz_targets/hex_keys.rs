//! Hexadecimal, public keys and signatures as they come from outside: request bodies, receipts,
//! exports and the command line.
//!
//! Properties: never panics; accepted hex is exactly the hex of the bytes it decodes to, but
//! for letter case (no sign, no space, no other spelling); an accepted public key re-encodes
//! to the same 32 bytes (no non-canonical point); a signature verifies, one by one or in a
//! batch, only if it is the signer's own signature over those exact bytes.
#![no_main]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use stembus::core::keys::Bytes;
use stembus::ledger::log::{hex, unhex};
use stembus::ledger::signature::{BatchItem, PublicKey, sign, verify, verify_batch};

fn signer() -> &'static (SigningKey, PublicKey) {
    static SIGNER: OnceLock<(SigningKey, PublicKey)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = PublicKey::of(&key);
        (key, public)
    })
}

fuzz_target!(|data: &[u8]| {
    // Text: hex of keys, signatures and hashes.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(bytes) = unhex(text) {
            assert_eq!(hex(&bytes), text.to_ascii_lowercase(), "unhex accepted {text:?}");
        }
        if let Some(b) = Bytes::<32>::from_hex(text) {
            assert_eq!(b.to_hex(), text.to_ascii_lowercase(), "a key's hex accepted as {text:?}");
        }
        if let Some(b) = Bytes::<64>::from_hex(text) {
            assert_eq!(b.to_hex(), text.to_ascii_lowercase(), "a signature's hex accepted as {text:?}");
        }
        if let Ok(key) = PublicKey::from_hex(text) {
            assert_eq!(key.to_hex(), text.to_ascii_lowercase(), "a public key accepted as {text:?}");
        }
    }

    // Bytes: a public key and a signature over a message.
    if data.len() >= 32 {
        let (key_bytes, rest) = data.split_at(32);
        if let Ok(key) = PublicKey::from_slice(key_bytes) {
            assert_eq!(key.as_bytes().as_slice(), key_bytes, "a key accepted in another encoding");
            if rest.len() >= 64 {
                let (signature, message) = rest.split_at(64);
                let signature: [u8; 64] = signature.try_into().unwrap_or([0; 64]);
                // Any key and any signature: verification answers, it never panics.
                let _ = verify(&key, message, &signature).map_err(|e| e.to_string());
            }
        }
    }
    if data.len() >= 64 {
        let (key, public) = signer();
        let (candidate, message) = data.split_at(64);
        let candidate: [u8; 64] = candidate.try_into().unwrap_or([0; 64]);
        let real = sign(key, message);
        assert_eq!(verify(public, message, &real), Ok(()), "a real signature fails");
        let one = verify(public, message, &candidate);
        let batch = verify_batch(&[
            BatchItem { key: public, statement_bytes: message, signature: &real },
            BatchItem { key: public, statement_bytes: message, signature: &candidate },
        ]);
        if one.is_ok() || batch.is_ok() {
            assert_eq!(candidate, real, "a signature other than the signer's verifies");
        }
        // A real signature over other bytes does not verify for these.
        let mut other = message.to_vec();
        other.push(0);
        assert!(verify(public, &other, &real).is_err(), "a signature verifies for other bytes");
    }
});
