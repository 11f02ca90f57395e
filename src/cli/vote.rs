//! Signing in, enrolling a key, casting a signed ballot, and a signed vote on a resolution
//! outside a meeting.

use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use serde_json::json;

use super::client::{
    self, Api, BallotReceipt, Key, Meeting, Poll, Resolution, ResolutionVoteReceipt, Session, SignatureView,
};
use super::keyfile::{KeyFile, next_sequence, now_micros};
use super::receipt::{self, ResolutionReceipt, StoredReceipt};
use super::{CliError, EnrolArgs, ResolutionVoteArgs, SignInArgs, VoteArgs, choice_word};
use crate::core::{
    AgendaItemId, Association, AssociationId, Choice, Command, MeetingId, MemberId, PersonId, PollId,
    ResolutionId, RulesProfile,
};
use crate::ledger::author;
use crate::ledger::canonical::{BallotStatement, ResolutionVoteStatement};
use crate::ledger::log::hex;
use crate::ledger::signature;

fn parse<T: FromStr>(text: &str, what: &str) -> Result<T, CliError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| CliError::Usage(format!("{what} {text}: {e}")))
}

fn failed(what: impl Into<String>) -> CliError {
    CliError::Verification(what.into())
}

/// `stembus sign-in`: asks a one-time code for the address, reads it from standard input and
/// prints the session token on standard output (everything else goes to standard error).
pub fn sign_in(args: &SignInArgs) -> Result<(), CliError> {
    let api = Api::new(&args.server.server)?;
    let _: serde_json::Value =
        api.post("/sign-in-links", &json!({"association": args.association, "email": args.email}))?;
    eprintln!(
        "If {} is registered in {}, a one-time code has been sent to it.",
        args.email, args.association
    );
    eprint!("Code: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read the code from standard input: {e}")))?;
    let code = line.trim();
    if code.is_empty() {
        return Err(CliError::Usage("no code given; ask for a new one with `stembus sign-in`".into()));
    }
    let session: Session = api.post("/sessions", &json!({"code": code}))?;
    let token = session.token.ok_or_else(|| failed("the service started a session but sent no token"))?;
    let roles = if session.roles.is_empty() { "no roles".to_owned() } else { session.roles.join(", ") };
    eprintln!(
        "Signed in as person {} ({roles}) until {}. Keep the token: export {}=<the line below>",
        session.person,
        session.expires_at,
        super::TOKEN_VARIABLE
    );
    println!("{token}");
    Ok(())
}

/// The person the session is of, after checking that it is a session in `association`.
fn current_person(api: &Api, association: AssociationId) -> Result<PersonId, CliError> {
    let session: Session = api.get("/sessions/current")?;
    let of: AssociationId = parse(&session.association, "the session's association")?;
    if of != association {
        return Err(CliError::Usage(format!(
            "the session in {} is for association {}, not {association}; sign in to that association",
            super::TOKEN_VARIABLE,
            session.association
        )));
    }
    parse(&session.person, "the session's person")
}

fn keys_path(association: AssociationId, person: PersonId) -> String {
    format!("/associations/{association}/persons/{person}/keys")
}

/// Where receipts are stored: `--receipts`, or the key file's directory.
fn receipts_dir(receipts: Option<&PathBuf>, key: &std::path::Path) -> PathBuf {
    match receipts {
        Some(dir) => dir.clone(),
        None => match key.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => dir.to_owned(),
            None => PathBuf::from("."),
        },
    }
}

/// The person's key record of the key `public`, which must be their current key.
fn current_key(
    api: &Api,
    association: AssociationId,
    person: PersonId,
    public: &str,
) -> Result<Key, CliError> {
    let keys: Vec<Key> = api.get(&keys_path(association, person))?;
    let record = keys.into_iter().find(|k| k.key.eq_ignore_ascii_case(public)).ok_or_else(|| {
        CliError::Usage(format!("key {public} is not enrolled as yours; run `stembus enrol` first"))
    })?;
    if record.status != "current" {
        return Err(CliError::Usage(format!(
            "key {public} is {}: what it signs no longer counts",
            record.status
        )));
    }
    Ok(record)
}

/// Signs the statement `statement(sequence)` with the key file's key at its next sequence
/// number (above the file's last and the service's last for the key `record`), records the
/// number in the key file before anything is sent, and casts the vote for `member` at `path`.
/// Returns the signed bytes, the signature and the service's answer.
fn sign_and_cast<T: serde::de::DeserializeOwned>(
    api: &Api,
    file: &mut KeyFile,
    record: &Key,
    statement: impl FnOnce(u64) -> Vec<u8>,
    path: &str,
    member: MemberId,
    choice: Choice,
) -> Result<(Vec<u8>, SignatureView, T), CliError> {
    let sequence = next_sequence(file.last_sequence(), Some(record.last_sequence), now_micros());
    let bytes = statement(sequence);
    let signed = SignatureView {
        key: file.public_hex(),
        sequence,
        signature: hex(&signature::sign(file.key(), &bytes)),
    };
    file.record_sequence(sequence)?;
    let answer = api.post(
        path,
        &json!({"member": member.to_string(), "choice": choice_word(choice), "signature": signed}),
    )?;
    Ok((bytes, signed, answer))
}

/// `stembus enrol`: registers the key file's key as the signed-in person's key, signed by the
/// key itself (proof of possession), and checks the receipt of the enrolment.
pub fn enrol(args: &EnrolArgs) -> Result<(), CliError> {
    let association: AssociationId = parse(&args.association, "--association")?;
    let mut file = KeyFile::load(&args.key)?;
    let api = Api::with_session(&args.server.server)?;
    let person = current_person(&api, association)?;
    let public = file.public_hex();
    let keys: Vec<Key> = api.get(&keys_path(association, person))?;
    if let Some(known) = keys.iter().find(|k| k.key.eq_ignore_ascii_case(&public)) {
        if known.status == "current" {
            println!("key {public} is already the enrolled key of person {person}");
            return Ok(());
        }
        return Err(CliError::Usage(format!(
            "key {public} was {} and is never enrolled again; make a new key with `stembus keygen`",
            known.status
        )));
    }
    let service_key = client::service_key(&api)?;
    // The statement binds only the association's id; the rules profile plays no part in it.
    let shell = Association::with_id(association, RulesProfile::dimpact_2023());
    let sequence = next_sequence(file.last_sequence(), None, now_micros());
    let Command::EnrolKey { key, sequence, signature, .. } =
        author::enrol(&shell, person, file.key(), sequence)
    else {
        return Err(CliError::Usage("the enrolment could not be signed".into()));
    };
    file.record_sequence(sequence)?;
    let answer: Key = api.post(
        &keys_path(association, person),
        &json!({"key": key.to_hex(), "sequence": sequence, "signature": signature.to_hex()}),
    )?;
    if !answer.key.eq_ignore_ascii_case(&public) || answer.status != "current" {
        return Err(failed(format!(
            "the service answered with key {} ({}), not the key {public} just enrolled",
            answer.key, answer.status
        )));
    }
    println!("enrolled key {public} as the key of person {person}");
    match &answer.log_receipt {
        Some(r) => {
            let head = receipt::verify_log_receipt(
                r.leaf_index,
                &r.leaf_hash,
                &r.inclusion_proof,
                &r.tree_head,
                &service_key,
                association,
                None,
            )
            .map_err(|e| {
                failed(format!("the key is enrolled, but the receipt of the enrolment does not verify: {e}"))
            })?;
            println!(
                "  entry {} of the association's log, included in the head of size {} signed at {} (verified with the service key {service_key})",
                r.leaf_index, head.head.size, r.tree_head.timestamp
            );
        }
        None => println!("  (the service gave no receipt of the enrolment)"),
    }
    Ok(())
}

/// `stembus vote`: signs the ballot on this machine, casts it, checks the receipt the service
/// answers with, and stores the receipt.
pub fn vote(args: &VoteArgs) -> Result<(), CliError> {
    let association: AssociationId = parse(&args.association, "--association")?;
    let meeting: MeetingId = parse(&args.meeting, "--meeting")?;
    let item: AgendaItemId = parse(&args.item, "--item")?;
    let member: MemberId = parse(&args.member, "--member")?;
    let choice = args.choice.choice();
    let mut file = KeyFile::load(&args.key)?;
    let receipts = receipts_dir(args.receipts.as_ref(), &args.key);
    let api = Api::with_session(&args.server.server)?;
    let person = current_person(&api, association)?;

    // Which statement the core will rebuild: a ballot in the open poll on the item while the
    // meeting is in session, an advance ballot (no poll) while it is convened.
    let base = format!("/associations/{association}/meetings/{meeting}");
    let m: Meeting = api.get(&base)?;
    let title =
        m.agenda.iter().find(|i| i.id == item.to_string()).map(|i| i.title.clone()).ok_or_else(|| {
            CliError::Usage(format!("the meeting \"{}\" has no agenda item {}", m.title, args.item))
        })?;
    let poll: Option<PollId> = match m.phase.as_str() {
        "open" => {
            let polls: Vec<Poll> = api.get(&format!("{base}/polls"))?;
            let open = polls.iter().find(|p| p.item == item.to_string() && p.closed_at.is_none()).ok_or_else(|| {
                CliError::Usage(format!(
                    "the meeting \"{}\" is in session, but no poll is open on \"{title}\"; vote when the chair opens one",
                    m.title
                ))
            })?;
            Some(parse(&open.id, "the poll's id")?)
        }
        "convened" => None,
        "draft" => {
            return Err(CliError::Usage(format!("the meeting \"{}\" has not been convened yet", m.title)));
        }
        "closed" => return Err(CliError::Usage(format!("the meeting \"{}\" is closed", m.title))),
        other => return Err(CliError::Usage(format!("the meeting \"{}\" is {other}", m.title))),
    };

    let public = file.public_hex();
    let record = current_key(&api, association, person, &public)?;
    let service_key = client::service_key(&api)?;

    let (bytes, signed, answer): (_, _, BallotReceipt) = sign_and_cast(
        &api,
        &mut file,
        &record,
        |sequence| {
            BallotStatement { association, meeting, item, poll, member, person, choice, sequence }.to_bytes()
        },
        &format!("{base}/agenda-items/{item}/ballots"),
        member,
        choice,
    )?;
    let sequence = signed.sequence;

    let log = answer
        .log_receipt
        .as_ref()
        .ok_or_else(|| failed("the service recorded the ballot but gave no receipt of it in the log"))?;
    let stored = StoredReceipt {
        format: receipt::FORMAT.into(),
        version: receipt::VERSION,
        server: api.server().to_owned(),
        association: association.to_string(),
        meeting: meeting.to_string(),
        item: item.to_string(),
        poll: poll.map(|p| p.to_string()),
        member: member.to_string(),
        person: person.to_string(),
        choice: choice_word(choice).into(),
        via: answer.via.clone(),
        cast_at: answer.cast_at.clone(),
        statement: hex(&bytes),
        signature: signed,
        leaf_index: log.leaf_index,
        leaf_hash: log.leaf_hash.clone(),
        inclusion_proof: log.inclusion_proof.clone(),
        tree_head: log.tree_head.clone(),
        service_key: service_key.to_hex(),
    };
    // Kept whatever the check finds: a receipt that does not verify is evidence too.
    let path = stored.store(&receipts)?;
    let recorded = answer.meeting == stored.meeting
        && answer.item == stored.item
        && answer.poll == stored.poll
        && answer.member == stored.member
        && answer.person == stored.person
        && answer.choice == stored.choice
        && u64::try_from(answer.stream_index).ok() == Some(log.leaf_index);
    if !recorded {
        return Err(failed(format!(
            "the service recorded another ballot than the one signed ({} for member {} on item {} in poll {:?}, entry {}); the receipt is kept in {}",
            answer.choice,
            answer.member,
            answer.item,
            answer.poll,
            answer.stream_index,
            path.display()
        )));
    }
    let (_, head) = stored.verify_offline().map_err(|e| {
        failed(format!("the ballot was accepted, but {e}; the receipt is kept in {}", path.display()))
    })?;

    let how = match poll {
        Some(p) => format!("in poll {p}"),
        None => "as an advance ballot, before the meeting opens".to_owned(),
    };
    println!("ballot cast for member {member} on \"{title}\": {}, {how}", choice_word(choice));
    println!(
        "  entry {} of the meeting's log, included in the head of size {} signed at {} (verified with the service key {service_key})",
        log.leaf_index, head.head.size, log.tree_head.timestamp
    );
    println!("  signed by key {public} at sequence {sequence}");
    println!("  receipt: {}", path.display());
    Ok(())
}

/// `stembus resolution-vote`: signs a vote on a resolution outside a meeting (Art. 8.12) for a
/// member the signed-in person represents, casts it, checks the answer (the vote recorded is the
/// one signed, and it is in the association's log under a head the service key signed), and
/// stores its receipt for `stembus receipt check`.
pub fn resolution_vote(args: &ResolutionVoteArgs) -> Result<(), CliError> {
    let association: AssociationId = parse(&args.association, "--association")?;
    let resolution: ResolutionId = parse(&args.resolution, "--resolution")?;
    let member: MemberId = parse(&args.member, "--member")?;
    let choice = args.choice.choice();
    let mut file = KeyFile::load(&args.key)?;
    let api = Api::with_session(&args.server.server)?;
    let person = current_person(&api, association)?;
    let path = format!("/associations/{association}/resolutions/{resolution}");
    let r: Resolution = api.get(&path)?;
    if !r.open {
        return Err(CliError::Usage(format!(
            "the resolution \"{}\" is concluded: voting on it has ended",
            r.text
        )));
    }
    let public = file.public_hex();
    let record = current_key(&api, association, person, &public)?;
    let service_key = client::service_key(&api)?;

    let (bytes, signed, answer): (_, _, ResolutionVoteReceipt) = sign_and_cast(
        &api,
        &mut file,
        &record,
        |sequence| {
            ResolutionVoteStatement { association, resolution, member, person, choice, sequence }.to_bytes()
        },
        &format!("{path}/votes"),
        member,
        choice,
    )?;
    let sequence = signed.sequence;
    let log = &answer.log_receipt;
    let stored = ResolutionReceipt {
        format: receipt::RESOLUTION_FORMAT.into(),
        version: receipt::VERSION,
        server: api.server().to_owned(),
        association: association.to_string(),
        resolution: resolution.to_string(),
        member: member.to_string(),
        person: person.to_string(),
        choice: choice_word(choice).into(),
        cast_at: answer.cast_at.clone(),
        statement: hex(&bytes),
        signature: signed,
        leaf_index: log.leaf_index,
        leaf_hash: log.leaf_hash.clone(),
        inclusion_proof: log.inclusion_proof.clone(),
        tree_head: log.tree_head.clone(),
        service_key: service_key.to_hex(),
    };
    // Kept whatever the check finds: a receipt that does not verify is evidence too.
    let stored_at = stored.store(&receipts_dir(args.receipts.as_ref(), &args.key))?;
    if answer.resolution != stored.resolution
        || answer.member != stored.member
        || answer.person != stored.person
        || answer.choice != stored.choice
        || u64::try_from(answer.stream_index).ok() != Some(log.leaf_index)
    {
        return Err(failed(format!(
            "the service recorded another vote than the one signed ({} for member {} on resolution {}, entry {}); the receipt is kept in {}",
            answer.choice,
            answer.member,
            answer.resolution,
            answer.stream_index,
            stored_at.display()
        )));
    }
    let (_, _, head) = stored.verify_offline().map_err(|e| {
        failed(format!("the vote was accepted, but {e}; the receipt is kept in {}", stored_at.display()))
    })?;
    println!("vote cast for member {member} on the resolution \"{}\": {}", r.text, choice_word(choice));
    println!("  voting closes at {}", r.closes_at);
    println!(
        "  entry {} of the association's log, included in the head of size {} signed at {} (verified with the service key {service_key})",
        log.leaf_index, head.head.size, log.tree_head.timestamp
    );
    println!("  signed by key {public} at sequence {sequence}");
    println!("  receipt: {}", stored_at.display());
    Ok(())
}
