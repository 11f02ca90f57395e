//! The author's side of a signature: which statement a command needs signed, by whom, and the
//! command with its signature filled in. Clients (`stembus vote`, the web pages, tests) sign
//! here what the core checks in `core::handle`.
//!
//! Scenario replays and the demo association have no real persons with real keys: they sign
//! with *scenario keys*, derived from the person's id ([`scenario_key`]). Anyone can compute
//! these keys; they exist so that a recorded meeting can be replayed through the same checks a
//! live one passes, and must never be used for a real meeting.

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use super::canonical::{
    BallotStatement, DeclarationStatement, KeyAction, KeyStatement, ProxyStatement, ResolutionVoteStatement,
    Statement,
};
use super::signature;
use crate::core::{
    Association, Command, KeyBytes, KeySignature, PersonId, Phase, ProxyForm, SignatureBytes, Signed,
};

/// The scenario key of a person: SHA-256 of `stembus/scenario-key\0` and the person's 16 UUID
/// bytes, as an Ed25519 secret key. Public knowledge; for replays and demos only.
pub fn scenario_key(person: PersonId) -> SigningKey {
    let mut hasher = Sha256::new();
    hasher.update(b"stembus/scenario-key\0");
    hasher.update(person.uuid().as_bytes());
    SigningKey::from_bytes(&hasher.finalize().into())
}

/// The public half of a signing key as the log records it.
pub fn key_bytes(key: &SigningKey) -> KeyBytes {
    KeyBytes::from(key.verifying_key().to_bytes())
}

/// The sequence number a key signs next in `state`: one above the last it signed, or 1.
pub fn next_sequence(state: &Association, key: &SigningKey) -> u64 {
    state.keys.get(&key_bytes(key)).map_or(1, |r| r.last_sequence.saturating_add(1))
}

/// The command that enrols `key` as `person`'s key, signed by the key itself.
pub fn enrol(state: &Association, person: PersonId, key: &SigningKey, sequence: u64) -> Command {
    let public = key_bytes(key);
    let statement = KeyStatement {
        association: state.id,
        person,
        public_key: public.0,
        action: KeyAction::Enrol,
        sequence,
    };
    Command::EnrolKey {
        person,
        key: public,
        sequence,
        signature: SignatureBytes::from(signature::sign(key, &statement.to_bytes())),
    }
}

/// The command that replaces `person`'s key `old` by `new`, signed by both.
pub fn rotate(
    state: &Association,
    person: PersonId,
    old: &SigningKey,
    new: &SigningKey,
    sequence: u64,
) -> Command {
    let public = key_bytes(new);
    let bytes = KeyStatement {
        association: state.id,
        person,
        public_key: public.0,
        action: KeyAction::Rotate,
        sequence,
    }
    .to_bytes();
    Command::RotateKey {
        person,
        key: public,
        sequence,
        signature: SignatureBytes::from(signature::sign(old, &bytes)),
        new_key_signature: SignatureBytes::from(signature::sign(new, &bytes)),
    }
}

/// The command by which `person` revokes their own `key`, signed by it.
pub fn revoke(state: &Association, person: PersonId, key: &SigningKey, sequence: u64) -> Command {
    let public = key_bytes(key);
    let bytes = KeyStatement {
        association: state.id,
        person,
        public_key: public.0,
        action: KeyAction::Revoke,
        sequence,
    }
    .to_bytes();
    Command::RevokeKey {
        person,
        key: public,
        signed: Some(KeySignature {
            sequence,
            signature: SignatureBytes::from(signature::sign(key, &bytes)),
        }),
    }
}

/// The person who must sign `command` and the statement they sign (at `sequence`), as the
/// core will rebuild it from `state`; `None` for a command that carries no author's signature.
pub fn statement_for(state: &Association, command: &Command, sequence: u64) -> Option<(PersonId, Statement)> {
    match command {
        Command::CastBallot { meeting, item, member, person, choice, .. } => {
            let m = state.meetings.get(meeting)?;
            let poll = match m.phase {
                Phase::Open => Some(m.open_poll_on(*item)?.id),
                _ => None,
            };
            Some((
                *person,
                Statement::Ballot(BallotStatement {
                    association: state.id,
                    meeting: *meeting,
                    item: *item,
                    poll,
                    member: *member,
                    person: *person,
                    choice: *choice,
                    sequence,
                }),
            ))
        }
        Command::CastResolutionVote { resolution, member, person, choice, .. } => Some((
            *person,
            Statement::ResolutionVote(ResolutionVoteStatement {
                association: state.id,
                resolution: *resolution,
                member: *member,
                person: *person,
                choice: *choice,
                sequence,
            }),
        )),
        Command::GrantProxy {
            meeting,
            proxy,
            grantor,
            holder,
            instructions,
            form: ProxyForm::Electronic,
            ..
        } => {
            let person =
                state.register.representatives.keys().find(|(_, m)| m == grantor).map(|(p, _)| *p)?;
            Some((
                person,
                Statement::Proxy(ProxyStatement {
                    association: state.id,
                    meeting: *meeting,
                    proxy: *proxy,
                    grantor: *grantor,
                    person,
                    holder: *holder,
                    instructions: instructions.clone(),
                    sequence,
                }),
            ))
        }
        Command::DeclareResult { meeting, poll, by, outcome, .. } => {
            let counts = state.meetings.get(meeting)?.polls.get(poll)?.result.as_ref()?.counts;
            Some((
                *by,
                Statement::Declaration(DeclarationStatement {
                    association: state.id,
                    meeting: *meeting,
                    poll: *poll,
                    chair: *by,
                    outcome: *outcome,
                    votes_for: counts.in_favour,
                    votes_against: counts.against,
                    abstentions: counts.abstain,
                    sequence,
                }),
            ))
        }
        _ => None,
    }
}

/// Puts `signed` into the command's signature field; other commands are returned unchanged.
pub fn with_signature(command: Command, signed: Signed) -> Command {
    match command {
        Command::CastBallot { meeting, item, member, person, choice, .. } => {
            Command::CastBallot { meeting, item, member, person, choice, signed: Some(signed) }
        }
        Command::CastResolutionVote { resolution, member, person, choice, .. } => {
            Command::CastResolutionVote { resolution, member, person, choice, signed: Some(signed) }
        }
        Command::GrantProxy { meeting, proxy, grantor, holder, instructions, form, scan_sha256, .. } => {
            Command::GrantProxy {
                meeting,
                proxy,
                grantor,
                holder,
                instructions,
                form,
                signed: Some(signed),
                scan_sha256,
            }
        }
        Command::DeclareResult { meeting, poll, by, outcome, .. } => {
            Command::DeclareResult { meeting, poll, by, outcome, signed: Some(signed) }
        }
        other => other,
    }
}

/// Signs `command` with `key` at `sequence`, if it is a command that needs an author's signature.
pub fn sign(state: &Association, command: Command, key: &SigningKey, sequence: u64) -> Command {
    match statement_for(state, &command, sequence) {
        Some((_, mut statement)) => {
            // A proxy is signed by whichever representative of the grantor holds the key.
            if let (Statement::Proxy(p), Some(owner)) =
                (&mut statement, state.keys.get(&key_bytes(key)).map(|r| r.person))
                && state.register.represents(owner, p.grantor)
            {
                p.person = owner;
            }
            let signed = Signed {
                key: key_bytes(key),
                sequence,
                signature: SignatureBytes::from(signature::sign(key, &statement.to_bytes())),
            };
            with_signature(command, signed)
        }
        None => command,
    }
}

/// A command as a scenario replay gives it: signed with its author's scenario key, with the
/// enrolment of that key to run first when the author has no key yet. A command that needs no signature,
/// that already carries one, or whose author holds another key, is returned as it is.
pub fn with_scenario_signatures(state: &Association, command: Command) -> (Option<Command>, Command) {
    let already_signed = matches!(
        &command,
        Command::CastBallot { signed: Some(_), .. }
            | Command::CastResolutionVote { signed: Some(_), .. }
            | Command::GrantProxy { signed: Some(_), .. }
            | Command::DeclareResult { signed: Some(_), .. }
    );
    let Some((person, _)) = statement_for(state, &command, 0).filter(|_| !already_signed) else {
        return (None, command);
    };
    let key = scenario_key(person);
    match state.keys.current_of(person) {
        None if state.register.person(person).is_some() && state.keys.get(&key_bytes(&key)).is_none() => {
            let enrolment = enrol(state, person, &key, 1);
            (Some(enrolment), sign(state, command, &key, 2))
        }
        Some(current) if current.key == key_bytes(&key) => {
            let sequence = next_sequence(state, &key);
            (None, sign(state, command, &key, sequence))
        }
        _ => (None, command),
    }
}
