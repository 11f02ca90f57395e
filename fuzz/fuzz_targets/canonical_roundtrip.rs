//! The canonical encoding from the other side: statements built from arbitrary fields.
//!
//! Properties: `from_bytes(to_bytes(s)) == s` for every statement of every kind (parse after
//! encode is the identity), the encoding has the length `encoded_len` says, and two different
//! statements never have the same bytes.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use stembus::core::{
    AgendaItemId, AssociationId, Choice, Instruction, MeetingId, MemberId, Outcome, PersonId, PollId,
    ProxyHolder, ProxyId, ResolutionId,
};
use stembus::ledger::canonical::{
    BallotStatement, DeclarationStatement, KeyAction, KeyStatement, ProxyStatement, ResolutionVoteStatement,
    Statement,
};
use uuid::Uuid;

fn uuid(u: &mut Unstructured<'_>) -> Result<Uuid> {
    Ok(Uuid::from_bytes(u.arbitrary()?))
}

fn choice(u: &mut Unstructured<'_>) -> Result<Choice> {
    Ok(*u.choose(&[Choice::For, Choice::Against, Choice::Abstain])?)
}

fn holder(u: &mut Unstructured<'_>) -> Result<ProxyHolder> {
    let id = uuid(u)?;
    let person = PersonId::from_uuid(id);
    Ok(match u.int_in_range(0..=4u8)? {
        0 => ProxyHolder::Member { member: MemberId::from_uuid(id) },
        1 => ProxyHolder::ConnectedPerson { person },
        2 => ProxyHolder::SupervisoryBoardChair { person },
        3 => ProxyHolder::Notary { person },
        _ => ProxyHolder::Lawyer { person },
    })
}

fn statement(u: &mut Unstructured<'_>) -> Result<Statement> {
    let association = AssociationId::from_uuid(uuid(u)?);
    Ok(match u.int_in_range(0..=4u8)? {
        0 => Statement::Ballot(BallotStatement {
            association,
            meeting: MeetingId::from_uuid(uuid(u)?),
            item: AgendaItemId::from_uuid(uuid(u)?),
            poll: if u.arbitrary()? { Some(PollId::from_uuid(uuid(u)?)) } else { None },
            member: MemberId::from_uuid(uuid(u)?),
            person: PersonId::from_uuid(uuid(u)?),
            choice: choice(u)?,
            sequence: u.arbitrary()?,
        }),
        1 => {
            let mut instructions = BTreeMap::new();
            for _ in 0..u.int_in_range(0..=8u8)? {
                let instruction = *u.choose(&[
                    Instruction::For,
                    Instruction::Against,
                    Instruction::Abstain,
                    Instruction::Free,
                ])?;
                instructions.insert(AgendaItemId::from_uuid(uuid(u)?), instruction);
            }
            Statement::Proxy(ProxyStatement {
                association,
                meeting: MeetingId::from_uuid(uuid(u)?),
                proxy: ProxyId::from_uuid(uuid(u)?),
                grantor: MemberId::from_uuid(uuid(u)?),
                person: PersonId::from_uuid(uuid(u)?),
                holder: holder(u)?,
                instructions,
                sequence: u.arbitrary()?,
            })
        }
        2 => Statement::Declaration(DeclarationStatement {
            association,
            meeting: MeetingId::from_uuid(uuid(u)?),
            poll: PollId::from_uuid(uuid(u)?),
            chair: PersonId::from_uuid(uuid(u)?),
            outcome: *u.choose(&[Outcome::Adopted, Outcome::Rejected, Outcome::NoQuorum])?,
            votes_for: u.arbitrary()?,
            votes_against: u.arbitrary()?,
            abstentions: u.arbitrary()?,
            sequence: u.arbitrary()?,
        }),
        3 => Statement::Key(KeyStatement {
            association,
            person: PersonId::from_uuid(uuid(u)?),
            public_key: u.arbitrary()?,
            action: *u.choose(&[KeyAction::Enrol, KeyAction::Rotate, KeyAction::Revoke])?,
            sequence: u.arbitrary()?,
        }),
        _ => Statement::ResolutionVote(ResolutionVoteStatement {
            association,
            resolution: ResolutionId::from_uuid(uuid(u)?),
            member: MemberId::from_uuid(uuid(u)?),
            person: PersonId::from_uuid(uuid(u)?),
            choice: choice(u)?,
            sequence: u.arbitrary()?,
        }),
    })
}

fn check(s: &Statement) -> Vec<u8> {
    let bytes = s.to_bytes();
    let back = Statement::from_bytes(&bytes)
        .unwrap_or_else(|e| panic!("the parser refuses what the encoder wrote: {e}: {s:?}"));
    assert_eq!(&back, s, "parse(encode(s)) differs from s");
    match s {
        Statement::Ballot(b) => {
            assert_eq!(bytes.len(), b.encoded_len());
            assert_eq!(BallotStatement::from_bytes(&bytes).as_ref(), Ok(b));
        }
        Statement::Proxy(p) => {
            assert_eq!(bytes.len(), p.encoded_len());
            assert_eq!(ProxyStatement::from_bytes(&bytes).as_ref(), Ok(p));
        }
        Statement::Declaration(d) => assert_eq!(DeclarationStatement::from_bytes(&bytes).as_ref(), Ok(d)),
        Statement::Key(k) => assert_eq!(KeyStatement::from_bytes(&bytes).as_ref(), Ok(k)),
        Statement::ResolutionVote(v) => {
            assert_eq!(ResolutionVoteStatement::from_bytes(&bytes).as_ref(), Ok(v))
        }
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(first) = statement(&mut u) else { return };
    let first_bytes = check(&first);
    // A second statement: equal bytes only for equal statements (the encoding is injective).
    let Ok(second) = statement(&mut u) else { return };
    let second_bytes = check(&second);
    assert_eq!(first == second, first_bytes == second_bytes, "{first:?} and {second:?}");
});
