//! The meeting every measurement uses: `n` members, each represented by its own person with
//! its own Ed25519 key, all checked in electronically, and an electronic poll open on one
//! ordinary motion. The same commands build it through the service (intake, scale-out, audit)
//! or through the core alone (recount).

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use stembus::core::register::{Capacity, MemberKind};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Association, AssociationId, Choice, Command, Convener, DecisionKind,
    Instant, MeetingId, MemberId, Mode, MotionSpec, PersonId, PollId, PollMethod, SignatureBytes, Signed,
};
use stembus::ledger::{author, signature};

pub const REGISTERED_AT: &str = "2026-05-01T10:00:00+02:00";
pub const CHECKED_IN_AT: &str = "2026-06-10T18:55:00+02:00";
pub const OPENED_AT: &str = "2026-06-10T19:00:00+02:00";
pub const POLL_AT: &str = "2026-06-10T19:05:00+02:00";
/// The moment of every ballot: the servers' clocks stand still here.
pub const VOTE_AT: &str = "2026-06-10T19:06:00+02:00";

pub fn at(text: &str) -> Instant {
    text.parse().unwrap_or_default()
}

pub fn association() -> AssociationId {
    AssociationId::named("bench")
}

pub fn meeting() -> MeetingId {
    MeetingId::named("alv")
}

pub fn item() -> AgendaItemId {
    AgendaItemId::named("motion")
}

pub fn poll() -> PollId {
    PollId::named("poll")
}

pub fn member(i: usize) -> MemberId {
    MemberId::named(&format!("m{i}"))
}

pub fn person(i: usize) -> PersonId {
    PersonId::named(&format!("p{i}"))
}

pub fn chair() -> PersonId {
    PersonId::named("chair")
}

/// Voter `i`'s own key, derived from the run's random seed: distinct per voter and per run.
pub fn voter_key(seed: &[u8; 32], i: usize) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"stembus-bench voter key\0");
    h.update(seed);
    h.update((i as u64).to_be_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// Registers members `lo..hi`, each with its representative.
pub fn register(lo: usize, hi: usize) -> Vec<(Command, Instant)> {
    let t = at(REGISTERED_AT);
    let mut commands = Vec::with_capacity(3 * (hi - lo));
    for i in lo..hi {
        commands.push((
            Command::RegisterMember {
                member: member(i),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            },
            t,
        ));
        commands.push((
            Command::RegisterPerson {
                person: person(i),
                name: format!("Wethouder {i}"),
                email: None,
                profession: None,
            },
            t,
        ));
        commands.push((
            Command::AssignRepresentative {
                person: person(i),
                member: member(i),
                capacity: Capacity::PortfolioHolder,
            },
            t,
        ));
    }
    commands
}

/// Enrols the keys of voters `lo..hi`, each signed by the key itself (sequence 1).
pub fn enrol(state: &Association, keys: &[SigningKey], lo: usize) -> Vec<(Command, Instant)> {
    let t = at(REGISTERED_AT);
    keys.iter().enumerate().map(|(k, key)| (author::enrol(state, person(lo + k), key, 1), t)).collect()
}

/// The chair, the meeting and its convocation.
pub fn convene() -> Vec<(Command, Instant)> {
    let t = at(REGISTERED_AT);
    vec![
        (
            Command::RegisterPerson {
                person: chair(),
                name: "Voorzitter".into(),
                email: None,
                profession: None,
            },
            t,
        ),
        (Command::AppointSupervisoryBoardChair { person: chair(), deputy: false }, t),
        (
            Command::CreateMeeting {
                meeting: meeting(),
                title: "Algemene ledenvergadering".into(),
                starts_at: at("2026-06-10T19:00:00+02:00"),
                place: "Online".into(),
                agenda: vec![AgendaItemSpec {
                    item: item(),
                    title: "Voorstel".into(),
                    motion: Some(MotionSpec {
                        text: "Het voorstel wordt aangenomen.".into(),
                        kind: DecisionKind::Ordinary,
                        proposal: None,
                        board_proposal_approved: false,
                    }),
                    carried_from: None,
                    concerns_member: None,
                    annual_accounts: false,
                }],
                follow_up_of: None,
                request: None,
            },
            t,
        ),
        (
            Command::ConveneMeeting {
                meeting: meeting(),
                by: Convener::Board,
                advance_voting: false,
                electronic_participation: Some("Online".into()),
            },
            t,
        ),
    ]
}

/// Voters `lo..hi` check in electronically.
pub fn check_in(lo: usize, hi: usize) -> Vec<(Command, Instant)> {
    let t = at(CHECKED_IN_AT);
    (lo..hi)
        .map(|i| {
            (
                Command::CheckIn {
                    meeting: meeting(),
                    member: member(i),
                    person: person(i),
                    mode: Mode::Electronic,
                },
                t,
            )
        })
        .collect()
}

/// The meeting opens and the chair opens the poll on the motion.
pub fn open_poll() -> Vec<(Command, Instant)> {
    vec![
        (
            Command::OpenMeeting { meeting: meeting(), chair: chair(), appointed_by_meeting: false },
            at(OPENED_AT),
        ),
        (
            Command::OpenPoll {
                meeting: meeting(),
                poll: poll(),
                item: item(),
                method: PollMethod::Electronic,
                by: chair(),
                revote_of: None,
            },
            at(POLL_AT),
        ),
    ]
}

/// Voter `i`'s ballot, unsigned.
pub fn ballot(i: usize, choice: Choice) -> Command {
    Command::CastBallot {
        meeting: meeting(),
        item: item(),
        member: member(i),
        person: person(i),
        choice,
        signed: None,
    }
}

/// The choice of a voter's `k`-th ballot: for and against in turn, so that recasts change it.
pub fn choice(i: usize, k: usize) -> Choice {
    if (i + k) % 2 == 0 { Choice::For } else { Choice::Against }
}

/// The signature `key` puts on `command` at `sequence`, over the statement the core rebuilds
/// from `state` (the poll open).
pub fn sign(state: &Association, command: &Command, key: &SigningKey, sequence: u64) -> Option<Signed> {
    let (_, statement) = author::statement_for(state, command, sequence)?;
    Some(Signed {
        key: author::key_bytes(key),
        sequence,
        signature: SignatureBytes::from(signature::sign(key, &statement.to_bytes())),
    })
}

/// `command` (a ballot) with its signature filled in.
pub fn signed_ballot(
    state: &Association,
    i: usize,
    choice: Choice,
    key: &SigningKey,
    sequence: u64,
) -> Command {
    let mut command = ballot(i, choice);
    let signed = sign(state, &command, key, sequence);
    if let Command::CastBallot { signed: s, .. } = &mut command {
        *s = signed;
    }
    command
}
