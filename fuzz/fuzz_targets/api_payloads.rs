//! The JSON bodies the API decodes for signed statements: ballots, proxies, declarations,
//! key enrolments, rotations and revocations, and votes on resolutions outside a meeting.
//!
//! The first byte picks the payload, the rest is the request body. Properties: decoding never
//! panics; whatever is accepted holds exactly what the body says: enums only in their one
//! documented spelling, keys and signatures only as hexadecimal digits of the right length
//! (re-encoded, they give the body's text in lowercase), ids that read back as themselves;
//! and the canonical statement built from an accepted body parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stembus::core::keys::Bytes;
use stembus::core::{
    AgendaItemId, AssociationId, MeetingId, PersonId, PollId, ProxyHolder, ProxyId, ResolutionId, Signed,
};
use stembus::http::api::keys::{EnrolKey, RevokeKey, RotateKey};
use stembus::http::api::polls::{CastBallot, Declare};
use stembus::http::api::proxies::NewProxy;
use stembus::http::api::resolutions::CastResolutionVote;
use stembus::ledger::canonical::{
    BallotStatement, KeyAction, KeyStatement, ProxyStatement, ResolutionVoteStatement, Statement,
};

/// The hex text of an accepted key or signature is the bytes' own hex, but for letter case.
fn same_hex<const N: usize>(text: &Value, parsed: &Bytes<N>) {
    let text = text.as_str().unwrap_or_else(|| panic!("accepted a non-string as hex: {text}"));
    assert_eq!(text.len(), 2 * N, "hex of the wrong length accepted: {text:?}");
    assert_eq!(text.to_ascii_lowercase(), parsed.to_hex(), "another spelling of hex accepted: {text:?}");
}

fn same_signed(value: &Value, signed: &Signed) {
    same_hex(&value["key"], &signed.key);
    same_hex(&value["signature"], &signed.signature);
    assert_eq!(value["sequence"].as_u64(), Some(signed.sequence));
}

/// An enum field holds exactly the name it serialises to.
fn same_enum<T: serde::Serialize>(text: &Value, parsed: &T) {
    assert_eq!(&serde_json::to_value(parsed).unwrap_or(Value::Null), text, "another spelling of an enum");
}

/// An id reads back as itself from its display.
fn id_round_trip<T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug>(id: &T) {
    let again = id.to_string().parse::<T>().ok();
    assert_eq!(again.as_ref(), Some(id), "an id does not read back as itself");
}

fn statement_round_trip(s: Statement) {
    let bytes = s.to_bytes();
    assert_eq!(Statement::from_bytes(&bytes).as_ref(), Ok(&s), "statement does not parse back");
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let association = AssociationId::named("fuzz");
    let meeting = MeetingId::named("alv");
    let person = PersonId::named("caller");
    match pick % 7 {
        0 => {
            let Ok(b) = serde_json::from_slice::<CastBallot>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            same_enum(&v["choice"], &b.choice);
            id_round_trip(&b.member);
            if let Some(signed) = &b.signature {
                same_signed(&v["signature"], signed);
            }
            for poll in [None, Some(PollId::named("poll"))] {
                statement_round_trip(Statement::Ballot(BallotStatement {
                    association,
                    meeting,
                    item: AgendaItemId::named("1"),
                    poll,
                    member: b.member,
                    person,
                    choice: b.choice,
                    sequence: b.signature.map_or(0, |s| s.sequence),
                }));
            }
        }
        1 => {
            let Ok(p) = serde_json::from_slice::<NewProxy>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            id_round_trip(&p.grantor);
            if let Some(id) = &p.id {
                id_round_trip(id);
            }
            let holder: ProxyHolder = p.holder.into();
            let tag = serde_json::to_value(holder).unwrap_or(Value::Null);
            assert_eq!(v["holder"]["holder"], tag["holder"], "another spelling of the holder's kind");
            // Every instruction kept is one the body gives, for an item of the body (two
            // spellings of one UUID are one item: the later wins), in its one spelling.
            let given = v["instructions"].as_object();
            assert!(p.instructions.len() <= given.map_or(0, |o| o.len()), "instructions made up");
            for (item, instruction) in &p.instructions {
                let spelled = serde_json::to_value(instruction).unwrap_or(Value::Null);
                id_round_trip(item);
                let found = given
                    .into_iter()
                    .flatten()
                    .any(|(k, t)| k.parse::<AgendaItemId>().ok().as_ref() == Some(item) && *t == spelled);
                assert!(found, "instruction {instruction:?} for {item:?} is in no spelling of the body");
            }
            if let Some(signed) = &p.signature {
                same_signed(&v["signature"], signed);
            }
            statement_round_trip(Statement::Proxy(ProxyStatement {
                association,
                meeting,
                proxy: p.id.unwrap_or(ProxyId::named("proxy")),
                grantor: p.grantor,
                person,
                holder,
                instructions: p.instructions,
                sequence: p.signature.map_or(0, |s| s.sequence),
            }));
        }
        2 => {
            let Ok(d) = serde_json::from_slice::<Declare>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            same_enum(&v["outcome"], &d.outcome);
            if let Some(signed) = &d.signature {
                same_signed(&v["signature"], signed);
            }
        }
        3 => {
            let Ok(k) = serde_json::from_slice::<EnrolKey>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            same_hex(&v["key"], &k.key);
            same_hex(&v["signature"], &k.signature);
            statement_round_trip(Statement::Key(KeyStatement {
                association,
                person,
                public_key: k.key.0,
                action: KeyAction::Enrol,
                sequence: k.sequence,
            }));
        }
        4 => {
            let Ok(k) = serde_json::from_slice::<RotateKey>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            same_hex(&v["key"], &k.key);
            same_hex(&v["signature"], &k.signature);
            same_hex(&v["new_key_signature"], &k.new_key_signature);
            statement_round_trip(Statement::Key(KeyStatement {
                association,
                person,
                public_key: k.key.0,
                action: KeyAction::Rotate,
                sequence: k.sequence,
            }));
        }
        5 => {
            let Ok(k) = serde_json::from_slice::<RevokeKey>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            if let Some(signature) = &k.signature {
                same_hex(&v["signature"], signature);
            }
            assert_eq!(k.sequence, v.get("sequence").and_then(Value::as_u64));
        }
        _ => {
            let Ok(r) = serde_json::from_slice::<CastResolutionVote>(body) else { return };
            let v: Value =
                serde_json::from_slice(body).unwrap_or_else(|e| panic!("accepted invalid JSON: {e}"));
            same_enum(&v["choice"], &r.choice);
            id_round_trip(&r.member);
            if let Some(signed) = &r.signature {
                same_signed(&v["signature"], signed);
            }
            statement_round_trip(Statement::ResolutionVote(ResolutionVoteStatement {
                association,
                resolution: ResolutionId::named("resolution"),
                member: r.member,
                person,
                choice: r.choice,
                sequence: r.signature.map_or(0, |s| s.sequence),
            }));
        }
    }
});
