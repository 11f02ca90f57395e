//! Inputs the fuzz targets found (fuzz/, docs/reliability.md "Fuzzing"), as regressions.

use stembus::core::keys::Bytes;
use stembus::ledger::log::unhex;
use stembus::ledger::signature::PublicKey;

// hex_keys and api_payloads: `u8::from_str_radix` takes a leading `+`, so "+a" read as 0x0a
// and hex with a `+` in place of a digit was accepted as a key, a signature or a hash: two
// spellings of the same bytes. Only hexadecimal digits are hex now.

#[test]
fn hex_with_a_sign_is_no_hex() {
    assert_eq!(unhex("+a"), None);
    assert_eq!(unhex("0a"), Some(vec![0x0a]));
    assert_eq!(unhex("0A"), Some(vec![0x0a]), "either case is hex");
    // The input hex_keys found: a `+` in the middle of a 32-digit text.
    assert_eq!(unhex("ed4928c628d1c2c6eae98139770e+a87"), None);
    assert_eq!(unhex("-1"), None);
    assert_eq!(unhex(" a"), None);
}

#[test]
fn keys_and_signatures_with_a_sign_are_refused() {
    let key = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    assert!(PublicKey::from_hex(key).is_ok());
    let signed = format!("+{}", &key[1..]);
    assert!(PublicKey::from_hex(&signed).is_err(), "{signed}");
    assert!(Bytes::<32>::from_hex(key).is_some());
    assert!(Bytes::<32>::from_hex(&signed).is_none(), "{signed}");
    // The signature api_payloads found in a revocation body.
    let signature = "3866339b92dd32ef52919e1fcca1b975efaf999930971dcff146c5bc8a71b2f15b12739d40239c951c32ab20d726bac260eb+4ef9a7b9d75ad5d3afa3819ae0c";
    assert_eq!(signature.len(), 128);
    assert!(Bytes::<64>::from_hex(signature).is_none());
    assert!(Bytes::<64>::from_hex(&signature.replace('+', "0")).is_some());
}
