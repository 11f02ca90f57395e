//! Canonical bytes of the statements people sign: a ballot, an electronically recorded proxy,
//! the chair's declaration of a poll's outcome, the enrolment, rotation or revocation of a
//! person's key, and a vote on a resolution outside a meeting.
//!
//! The encoding (version 1) is documented byte by byte in `docs/encoding.md`, with test vectors
//! in `tests/vectors/encoding-v1.json`. In short: a domain tag of ASCII bytes naming the kind
//! and version (`stembus/v1/ballot`) and a 0x00, then fixed-width fields in a fixed order: ids
//! as their 16 raw UUID bytes, enums as one code byte, integers big-endian, an optional value
//! as a presence byte (0x00 absent, 0x01 present) and the value, a list as a big-endian `u32`
//! count and its entries in strictly ascending order. Nothing here is serde: the bytes are
//! written and read by hand, so they change only when this file says so.
//!
//! Every parser is strict: it accepts exactly the bytes its `to_bytes` writes and nothing else,
//! so `from_bytes(b)?.to_bytes() == b` for every accepted `b`, and two different byte strings
//! never mean the same statement. Version 1 bytes never change meaning; a new version gets a
//! new domain tag.

use std::collections::BTreeMap;
use std::fmt;

use uuid::Uuid;

use crate::core::ids::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, ResolutionId,
};
use crate::core::{Choice, Instruction, Outcome, ProxyHolder};

/// The version of the encoding this module writes and reads.
pub const VERSION: u32 = 1;

/// The domain tag of a ballot, version 1 (with its terminating 0x00).
pub const TAG_BALLOT: &[u8] = b"stembus/v1/ballot\0";
/// The domain tag of a proxy, version 1 (with its terminating 0x00).
pub const TAG_PROXY: &[u8] = b"stembus/v1/proxy\0";
/// The domain tag of the chair's declaration, version 1 (with its terminating 0x00).
pub const TAG_DECLARATION: &[u8] = b"stembus/v1/declaration\0";
/// The domain tag of a key enrolment, rotation or revocation, version 1 (with its 0x00).
pub const TAG_KEY: &[u8] = b"stembus/v1/key\0";
/// The domain tag of a vote on a resolution outside a meeting, version 1 (with its 0x00).
pub const TAG_RESOLUTION_VOTE: &[u8] = b"stembus/v1/resolution-vote\0";

/// Every domain tag starts with this.
const TAG_PREFIX: &str = "stembus/";
/// The version part of every version 1 tag.
const TAG_VERSION: &str = "v1";
/// A tag (with its 0x00) is never longer than this; longer input without a 0x00 is no tag.
const MAX_TAG_LEN: usize = 64;

/// The kinds of signed statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatementKind {
    Ballot,
    Proxy,
    Declaration,
    Key,
    ResolutionVote,
}

impl StatementKind {
    pub const ALL: [StatementKind; 5] = [
        StatementKind::Ballot,
        StatementKind::Proxy,
        StatementKind::Declaration,
        StatementKind::Key,
        StatementKind::ResolutionVote,
    ];

    /// The kind's name in the domain tag.
    pub const fn name(self) -> &'static str {
        match self {
            StatementKind::Ballot => "ballot",
            StatementKind::Proxy => "proxy",
            StatementKind::Declaration => "declaration",
            StatementKind::Key => "key",
            StatementKind::ResolutionVote => "resolution-vote",
        }
    }

    /// The kind's version 1 domain tag, with its terminating 0x00.
    pub const fn tag(self) -> &'static [u8] {
        match self {
            StatementKind::Ballot => TAG_BALLOT,
            StatementKind::Proxy => TAG_PROXY,
            StatementKind::Declaration => TAG_DECLARATION,
            StatementKind::Key => TAG_KEY,
            StatementKind::ResolutionVote => TAG_RESOLUTION_VOTE,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a key statement does with the key it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyAction {
    /// A person registers their first key.
    Enrol,
    /// A person replaces their key by the one named.
    Rotate,
    /// The key named is no longer the person's: nothing it signs from now on counts.
    Revoke,
}

/// A ballot, signed by the person who casts it for the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BallotStatement {
    pub association: AssociationId,
    pub meeting: MeetingId,
    pub item: AgendaItemId,
    /// The poll in the meeting; `None` for an advance ballot (Art. 8.13), cast before any poll.
    pub poll: Option<PollId>,
    pub member: MemberId,
    /// Who casts the ballot: the member's representative or its proxy holder.
    pub person: PersonId,
    pub choice: Choice,
    /// The signer's own counter, strictly increasing over everything that key signs.
    pub sequence: u64,
}

/// A proxy recorded electronically (Art. 8.5), signed by the granting member's representative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyStatement {
    pub association: AssociationId,
    pub meeting: MeetingId,
    pub proxy: ProxyId,
    pub grantor: MemberId,
    /// The grantor's representative, who signs.
    pub person: PersonId,
    pub holder: ProxyHolder,
    /// Voting instructions per agenda item; encoded in ascending order of the item's bytes.
    pub instructions: BTreeMap<AgendaItemId, Instruction>,
    pub sequence: u64,
}

/// The chair's declaration of a poll's outcome (Art. 17.5), signed by the chair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclarationStatement {
    pub association: AssociationId,
    pub meeting: MeetingId,
    pub poll: PollId,
    /// The chair who declares and signs.
    pub chair: PersonId,
    pub outcome: Outcome,
    pub votes_for: u64,
    pub votes_against: u64,
    pub abstentions: u64,
    pub sequence: u64,
}

/// The enrolment, rotation or revocation of a person's Ed25519 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStatement {
    pub association: AssociationId,
    pub person: PersonId,
    /// The key enrolled, the new key of a rotation, or the key revoked (32 raw bytes).
    pub public_key: [u8; 32],
    pub action: KeyAction,
    pub sequence: u64,
}

/// A vote on a resolution outside a meeting (Art. 8.12), signed by the person who casts it for
/// the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolutionVoteStatement {
    pub association: AssociationId,
    pub resolution: ResolutionId,
    pub member: MemberId,
    /// Who casts the vote: a representative of the member.
    pub person: PersonId,
    pub choice: Choice,
    /// The signer's own counter, strictly increasing over everything that key signs.
    pub sequence: u64,
}

/// Any signed statement, as its domain tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    Ballot(BallotStatement),
    Proxy(ProxyStatement),
    Declaration(DeclarationStatement),
    Key(KeyStatement),
    ResolutionVote(ResolutionVoteStatement),
}

/// Why bytes are not a canonical version 1 statement. Offsets count from the first byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("the input ends inside {field} at byte {offset}: {needed} byte(s) needed, {available} left")]
    Truncated { field: &'static str, offset: usize, needed: usize, available: usize },
    #[error("unknown domain tag {tag:?}: not a Stembus statement")]
    UnknownTag { tag: String },
    #[error("domain tag {tag:?} is of version {version:?}; this build reads version v1 only")]
    UnknownVersion { tag: String, version: String },
    #[error("domain tag {tag:?} names the unknown statement kind {kind:?}")]
    UnknownKind { tag: String, kind: String },
    #[error("expected a {expected} statement, found a {found} statement")]
    WrongKind { expected: StatementKind, found: StatementKind },
    #[error("unknown code 0x{code:02x} for {field} at byte {offset}")]
    UnknownCode { field: &'static str, code: u8, offset: usize },
    #[error("presence byte of {field} at byte {offset} is 0x{byte:02x}; only 0x00 and 0x01 are allowed")]
    BadPresence { field: &'static str, byte: u8, offset: usize },
    #[error("{field} are not in ascending order: the entry at byte {offset} sorts before the one before it")]
    Unsorted { field: &'static str, offset: usize },
    #[error("{field} has a duplicate entry at byte {offset}")]
    Duplicate { field: &'static str, offset: usize },
    #[error("{count} byte(s) after the end of the statement at byte {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

// Code tables. A code is never reused for another meaning; 0x00 is never a code, so an
// all-zero field is never a valid enum.

fn choice_code(choice: Choice) -> u8 {
    match choice {
        Choice::For => 0x01,
        Choice::Against => 0x02,
        Choice::Abstain => 0x03,
    }
}

fn choice_of(code: u8) -> Option<Choice> {
    match code {
        0x01 => Some(Choice::For),
        0x02 => Some(Choice::Against),
        0x03 => Some(Choice::Abstain),
        _ => None,
    }
}

fn instruction_code(instruction: Instruction) -> u8 {
    match instruction {
        Instruction::For => 0x01,
        Instruction::Against => 0x02,
        Instruction::Abstain => 0x03,
        Instruction::Free => 0x04,
    }
}

fn instruction_of(code: u8) -> Option<Instruction> {
    match code {
        0x01 => Some(Instruction::For),
        0x02 => Some(Instruction::Against),
        0x03 => Some(Instruction::Abstain),
        0x04 => Some(Instruction::Free),
        _ => None,
    }
}

fn outcome_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Adopted => 0x01,
        Outcome::Rejected => 0x02,
        Outcome::NoQuorum => 0x03,
    }
}

fn outcome_of(code: u8) -> Option<Outcome> {
    match code {
        0x01 => Some(Outcome::Adopted),
        0x02 => Some(Outcome::Rejected),
        0x03 => Some(Outcome::NoQuorum),
        _ => None,
    }
}

fn key_action_code(action: KeyAction) -> u8 {
    match action {
        KeyAction::Enrol => 0x01,
        KeyAction::Rotate => 0x02,
        KeyAction::Revoke => 0x03,
    }
}

fn key_action_of(code: u8) -> Option<KeyAction> {
    match code {
        0x01 => Some(KeyAction::Enrol),
        0x02 => Some(KeyAction::Rotate),
        0x03 => Some(KeyAction::Revoke),
        _ => None,
    }
}

/// The holder's kind code and the 16 bytes of its id (a member's or a person's).
fn holder_parts(holder: ProxyHolder) -> (u8, Uuid) {
    match holder {
        ProxyHolder::Member { member } => (0x01, member.uuid()),
        ProxyHolder::ConnectedPerson { person } => (0x02, person.uuid()),
        ProxyHolder::SupervisoryBoardChair { person } => (0x03, person.uuid()),
        ProxyHolder::Notary { person } => (0x04, person.uuid()),
        ProxyHolder::Lawyer { person } => (0x05, person.uuid()),
    }
}

fn holder_of(code: u8, id: Uuid) -> Option<ProxyHolder> {
    let person = PersonId::from_uuid(id);
    match code {
        0x01 => Some(ProxyHolder::Member { member: MemberId::from_uuid(id) }),
        0x02 => Some(ProxyHolder::ConnectedPerson { person }),
        0x03 => Some(ProxyHolder::SupervisoryBoardChair { person }),
        0x04 => Some(ProxyHolder::Notary { person }),
        0x05 => Some(ProxyHolder::Lawyer { person }),
        _ => None,
    }
}

/// Appends fields in their canonical form.
struct Writer(Vec<u8>);

impl Writer {
    fn new(kind: StatementKind, body_len: usize) -> Self {
        let tag = kind.tag();
        let mut bytes = Vec::with_capacity(tag.len() + body_len);
        bytes.extend_from_slice(tag);
        Self(bytes)
    }

    fn uuid(&mut self, id: Uuid) {
        self.0.extend_from_slice(id.as_bytes());
    }

    fn code(&mut self, code: u8) {
        self.0.push(code);
    }

    fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn optional_uuid(&mut self, id: Option<Uuid>) {
        match id {
            None => self.0.push(0x00),
            Some(id) => {
                self.0.push(0x01);
                self.uuid(id);
            }
        }
    }
}

/// Reads fields in their canonical form, refusing anything else.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader past the domain tag of `expected`, or why the bytes do not start with it.
    fn after_tag(bytes: &'a [u8], expected: StatementKind) -> Result<Self, EncodingError> {
        let (found, pos) = read_tag(bytes)?;
        if found != expected {
            return Err(EncodingError::WrongKind { expected, found });
        }
        Ok(Self { bytes, pos })
    }

    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], EncodingError> {
        let available = self.bytes.len() - self.pos;
        if available < n {
            return Err(EncodingError::Truncated { field, offset: self.pos, needed: n, available });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EncodingError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn uuid(&mut self, field: &'static str) -> Result<Uuid, EncodingError> {
        Ok(Uuid::from_bytes(self.array::<16>(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, EncodingError> {
        Ok(u32::from_be_bytes(self.array::<4>(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, EncodingError> {
        Ok(u64::from_be_bytes(self.array::<8>(field)?))
    }

    fn code<T>(&mut self, field: &'static str, decode: fn(u8) -> Option<T>) -> Result<T, EncodingError> {
        let offset = self.pos;
        let [code] = self.array::<1>(field)?;
        decode(code).ok_or(EncodingError::UnknownCode { field, code, offset })
    }

    fn optional_uuid(&mut self, field: &'static str) -> Result<Option<Uuid>, EncodingError> {
        let offset = self.pos;
        match self.array::<1>(field)? {
            [0x00] => Ok(None),
            [0x01] => Ok(Some(self.uuid(field)?)),
            [byte] => Err(EncodingError::BadPresence { field, byte, offset }),
        }
    }

    fn finish(self) -> Result<(), EncodingError> {
        let count = self.bytes.len() - self.pos;
        if count == 0 { Ok(()) } else { Err(EncodingError::TrailingBytes { offset: self.pos, count }) }
    }
}

/// The kind named by the domain tag at the start of `bytes`, and where the tag ends.
fn read_tag(bytes: &[u8]) -> Result<(StatementKind, usize), EncodingError> {
    let window = &bytes[..bytes.len().min(MAX_TAG_LEN)];
    let Some(end) = window.iter().position(|&b| b == 0x00) else {
        let truncated = bytes.len() < MAX_TAG_LEN
            && StatementKind::ALL.iter().any(|k| k.tag().len() > bytes.len() && k.tag().starts_with(bytes));
        return Err(if truncated {
            EncodingError::Truncated { field: "domain tag", offset: bytes.len(), needed: 1, available: 0 }
        } else {
            EncodingError::UnknownTag { tag: shown(window) }
        });
    };
    let tag_bytes = &window[..end];
    let unknown = || EncodingError::UnknownTag { tag: shown(tag_bytes) };
    let text = std::str::from_utf8(tag_bytes).map_err(|_| unknown())?;
    let rest = text.strip_prefix(TAG_PREFIX).ok_or_else(unknown)?;
    let (version, kind) = rest.split_once('/').ok_or_else(unknown)?;
    if version != TAG_VERSION {
        return Err(EncodingError::UnknownVersion { tag: text.to_owned(), version: version.to_owned() });
    }
    let kind = StatementKind::from_name(kind)
        .ok_or_else(|| EncodingError::UnknownKind { tag: text.to_owned(), kind: kind.to_owned() })?;
    Ok((kind, end + 1))
}

/// Bytes of a tag as text fit for an error message.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(MAX_TAG_LEN).collect()
}

impl BallotStatement {
    /// The length of the encoding: 124 bytes with a poll, 108 for an advance ballot.
    pub fn encoded_len(&self) -> usize {
        TAG_BALLOT.len() + 5 * 16 + 1 + 8 + 1 + if self.poll.is_some() { 16 } else { 0 }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(StatementKind::Ballot, self.encoded_len());
        w.uuid(self.association.uuid());
        w.uuid(self.meeting.uuid());
        w.uuid(self.item.uuid());
        w.uuid(self.member.uuid());
        w.uuid(self.person.uuid());
        w.code(choice_code(self.choice));
        w.u64(self.sequence);
        w.optional_uuid(self.poll.map(|p| p.uuid()));
        w.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut r = Reader::after_tag(bytes, StatementKind::Ballot)?;
        let statement = Self::read_body(&mut r)?;
        r.finish()?;
        Ok(statement)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            association: AssociationId::from_uuid(r.uuid("association")?),
            meeting: MeetingId::from_uuid(r.uuid("meeting")?),
            item: AgendaItemId::from_uuid(r.uuid("agenda item")?),
            member: MemberId::from_uuid(r.uuid("member")?),
            person: PersonId::from_uuid(r.uuid("person")?),
            choice: r.code("choice", choice_of)?,
            sequence: r.u64("sequence")?,
            poll: r.optional_uuid("poll")?.map(PollId::from_uuid),
        })
    }
}

impl ProxyStatement {
    /// The length of the encoding: 126 bytes and 17 per instruction.
    pub fn encoded_len(&self) -> usize {
        TAG_PROXY.len() + 5 * 16 + 1 + 16 + 8 + 4 + self.instructions.len() * 17
    }

    /// The canonical bytes.
    ///
    /// # Panics
    /// Never for a proxy of a real meeting: only with more than `u32::MAX` instructions, which
    /// no agenda has.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(StatementKind::Proxy, self.encoded_len());
        w.uuid(self.association.uuid());
        w.uuid(self.meeting.uuid());
        w.uuid(self.proxy.uuid());
        w.uuid(self.grantor.uuid());
        w.uuid(self.person.uuid());
        let (holder_code, holder_id) = holder_parts(self.holder);
        w.code(holder_code);
        w.uuid(holder_id);
        w.u64(self.sequence);
        // A BTreeMap keyed by id iterates in ascending order of the id's 16 bytes (a UUID
        // orders as its bytes), which is the canonical order.
        let count = u32::try_from(self.instructions.len())
            .unwrap_or_else(|_| panic!("a proxy with more than u32::MAX instructions"));
        w.u32(count);
        for (item, instruction) in &self.instructions {
            w.uuid(item.uuid());
            w.code(instruction_code(*instruction));
        }
        w.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut r = Reader::after_tag(bytes, StatementKind::Proxy)?;
        let statement = Self::read_body(&mut r)?;
        r.finish()?;
        Ok(statement)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, EncodingError> {
        let association = AssociationId::from_uuid(r.uuid("association")?);
        let meeting = MeetingId::from_uuid(r.uuid("meeting")?);
        let proxy = ProxyId::from_uuid(r.uuid("proxy")?);
        let grantor = MemberId::from_uuid(r.uuid("grantor")?);
        let person = PersonId::from_uuid(r.uuid("person")?);
        let holder_offset = r.pos;
        let holder_code = r.code("holder kind", |c| holder_of(c, Uuid::nil()).map(|_| c))?;
        let holder_id = r.uuid("holder id")?;
        let holder = holder_of(holder_code, holder_id).ok_or(EncodingError::UnknownCode {
            field: "holder kind",
            code: holder_code,
            offset: holder_offset,
        })?;
        let sequence = r.u64("sequence")?;
        let count = r.u32("instruction count")?;
        let mut instructions = BTreeMap::new();
        let mut previous: Option<Uuid> = None;
        // Entries are read one by one (never allocated from the count), so a false count costs
        // no more memory than the input itself.
        for _ in 0..count {
            let offset = r.pos;
            let item = r.uuid("instruction item")?;
            if let Some(previous) = previous {
                if item == previous {
                    return Err(EncodingError::Duplicate { field: "instructions", offset });
                }
                if item.as_bytes() < previous.as_bytes() {
                    return Err(EncodingError::Unsorted { field: "instructions", offset });
                }
            }
            previous = Some(item);
            let instruction = r.code("instruction", instruction_of)?;
            instructions.insert(AgendaItemId::from_uuid(item), instruction);
        }
        Ok(Self { association, meeting, proxy, grantor, person, holder, instructions, sequence })
    }
}

impl DeclarationStatement {
    /// The length of the encoding: always 120 bytes.
    pub const ENCODED_LEN: usize = 23 + 4 * 16 + 1 + 4 * 8;

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(StatementKind::Declaration, Self::ENCODED_LEN);
        w.uuid(self.association.uuid());
        w.uuid(self.meeting.uuid());
        w.uuid(self.poll.uuid());
        w.uuid(self.chair.uuid());
        w.code(outcome_code(self.outcome));
        w.u64(self.votes_for);
        w.u64(self.votes_against);
        w.u64(self.abstentions);
        w.u64(self.sequence);
        w.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut r = Reader::after_tag(bytes, StatementKind::Declaration)?;
        let statement = Self::read_body(&mut r)?;
        r.finish()?;
        Ok(statement)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            association: AssociationId::from_uuid(r.uuid("association")?),
            meeting: MeetingId::from_uuid(r.uuid("meeting")?),
            poll: PollId::from_uuid(r.uuid("poll")?),
            chair: PersonId::from_uuid(r.uuid("chair")?),
            outcome: r.code("outcome", outcome_of)?,
            votes_for: r.u64("votes for")?,
            votes_against: r.u64("votes against")?,
            abstentions: r.u64("abstentions")?,
            sequence: r.u64("sequence")?,
        })
    }
}

impl KeyStatement {
    /// The length of the encoding: always 88 bytes.
    pub const ENCODED_LEN: usize = 15 + 2 * 16 + 1 + 32 + 8;

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(StatementKind::Key, Self::ENCODED_LEN);
        w.uuid(self.association.uuid());
        w.uuid(self.person.uuid());
        w.code(key_action_code(self.action));
        w.raw(&self.public_key);
        w.u64(self.sequence);
        w.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut r = Reader::after_tag(bytes, StatementKind::Key)?;
        let statement = Self::read_body(&mut r)?;
        r.finish()?;
        Ok(statement)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            association: AssociationId::from_uuid(r.uuid("association")?),
            person: PersonId::from_uuid(r.uuid("person")?),
            action: r.code("key action", key_action_of)?,
            public_key: r.array::<32>("public key")?,
            sequence: r.u64("sequence")?,
        })
    }
}

impl ResolutionVoteStatement {
    /// The length of the encoding: always 100 bytes.
    pub const ENCODED_LEN: usize = 27 + 4 * 16 + 1 + 8;

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(StatementKind::ResolutionVote, Self::ENCODED_LEN);
        w.uuid(self.association.uuid());
        w.uuid(self.resolution.uuid());
        w.uuid(self.member.uuid());
        w.uuid(self.person.uuid());
        w.code(choice_code(self.choice));
        w.u64(self.sequence);
        w.0
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let mut r = Reader::after_tag(bytes, StatementKind::ResolutionVote)?;
        let statement = Self::read_body(&mut r)?;
        r.finish()?;
        Ok(statement)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, EncodingError> {
        Ok(Self {
            association: AssociationId::from_uuid(r.uuid("association")?),
            resolution: ResolutionId::from_uuid(r.uuid("resolution")?),
            member: MemberId::from_uuid(r.uuid("member")?),
            person: PersonId::from_uuid(r.uuid("person")?),
            choice: r.code("choice", choice_of)?,
            sequence: r.u64("sequence")?,
        })
    }
}

impl Statement {
    pub fn kind(&self) -> StatementKind {
        match self {
            Statement::Ballot(_) => StatementKind::Ballot,
            Statement::Proxy(_) => StatementKind::Proxy,
            Statement::Declaration(_) => StatementKind::Declaration,
            Statement::Key(_) => StatementKind::Key,
            Statement::ResolutionVote(_) => StatementKind::ResolutionVote,
        }
    }

    /// The signer's sequence number.
    pub fn sequence(&self) -> u64 {
        match self {
            Statement::Ballot(s) => s.sequence,
            Statement::Proxy(s) => s.sequence,
            Statement::Declaration(s) => s.sequence,
            Statement::Key(s) => s.sequence,
            Statement::ResolutionVote(s) => s.sequence,
        }
    }

    /// The association the statement is bound to.
    pub fn association(&self) -> AssociationId {
        match self {
            Statement::Ballot(s) => s.association,
            Statement::Proxy(s) => s.association,
            Statement::Declaration(s) => s.association,
            Statement::Key(s) => s.association,
            Statement::ResolutionVote(s) => s.association,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Statement::Ballot(s) => s.to_bytes(),
            Statement::Proxy(s) => s.to_bytes(),
            Statement::Declaration(s) => s.to_bytes(),
            Statement::Key(s) => s.to_bytes(),
            Statement::ResolutionVote(s) => s.to_bytes(),
        }
    }

    /// The statement of whatever kind the domain tag names, read strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EncodingError> {
        let (kind, pos) = read_tag(bytes)?;
        let mut r = Reader { bytes, pos };
        let statement = match kind {
            StatementKind::Ballot => Statement::Ballot(BallotStatement::read_body(&mut r)?),
            StatementKind::Proxy => Statement::Proxy(ProxyStatement::read_body(&mut r)?),
            StatementKind::Declaration => Statement::Declaration(DeclarationStatement::read_body(&mut r)?),
            StatementKind::Key => Statement::Key(KeyStatement::read_body(&mut r)?),
            StatementKind::ResolutionVote => {
                Statement::ResolutionVote(ResolutionVoteStatement::read_body(&mut r)?)
            }
        };
        r.finish()?;
        Ok(statement)
    }
}

impl From<BallotStatement> for Statement {
    fn from(s: BallotStatement) -> Self {
        Statement::Ballot(s)
    }
}

impl From<ProxyStatement> for Statement {
    fn from(s: ProxyStatement) -> Self {
        Statement::Proxy(s)
    }
}

impl From<DeclarationStatement> for Statement {
    fn from(s: DeclarationStatement) -> Self {
        Statement::Declaration(s)
    }
}

impl From<KeyStatement> for Statement {
    fn from(s: KeyStatement) -> Self {
        Statement::Key(s)
    }
}

impl From<ResolutionVoteStatement> for Statement {
    fn from(s: ResolutionVoteStatement) -> Self {
        Statement::ResolutionVote(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tags_are_the_kind_names_under_stembus_v1() {
        for kind in StatementKind::ALL {
            let expected = format!("{TAG_PREFIX}{TAG_VERSION}/{}\0", kind.name());
            assert_eq!(kind.tag(), expected.as_bytes());
            assert_eq!(read_tag(kind.tag()), Ok((kind, kind.tag().len())));
        }
    }

    #[test]
    fn fixed_lengths_match_the_writer() {
        let d = DeclarationStatement {
            association: AssociationId::named("a"),
            meeting: MeetingId::named("m"),
            poll: PollId::named("p"),
            chair: PersonId::named("c"),
            outcome: Outcome::Adopted,
            votes_for: 1,
            votes_against: 2,
            abstentions: 3,
            sequence: 4,
        };
        assert_eq!(d.to_bytes().len(), DeclarationStatement::ENCODED_LEN);
        let k = KeyStatement {
            association: AssociationId::named("a"),
            person: PersonId::named("c"),
            public_key: [7; 32],
            action: KeyAction::Rotate,
            sequence: 9,
        };
        assert_eq!(k.to_bytes().len(), KeyStatement::ENCODED_LEN);
        let v = ResolutionVoteStatement {
            association: AssociationId::named("a"),
            resolution: ResolutionId::named("r"),
            member: MemberId::named("m"),
            person: PersonId::named("c"),
            choice: Choice::Abstain,
            sequence: 5,
        };
        assert_eq!(v.to_bytes().len(), ResolutionVoteStatement::ENCODED_LEN);
        assert_eq!(TAG_RESOLUTION_VOTE.len(), 27);
    }
}
