//! Which notices an event causes, to whom, and with what content (issue 5). Pure: computed
//! from the state *after* the event, the event itself and where it was logged; the outbox,
//! the worker and the transports (`src/mail/mod.rs`) send them, [`super::render`] turns one
//! into a message.
//!
//! # Kinds and recipients
//!
//! | event | kind | to |
//! |---|---|---|
//! | `MeetingConvened` | `convocation` | every member with a registered address (Art. 8.3: registering one is consent), in its language; a suspended member only when an agenda item treats its own case (`AgendaItem::concerns_member`, Art. 6.9, 8.8) |
//! | `MeetingConvened` with advance voting open | `advance_voting_reminder` | every member that is not suspended and has an address; `send_after` one day before the window closes (the scheduled opening), but not before it opens. [`still_due`] drops it when the meeting has opened (or is no longer convened), the member has cast an advance ballot on every motion, is suspended, or no longer has that address |
//! | `ProxyGranted`, `ProxyRevoked` | `proxy_granted`, `proxy_revoked` | the granting member (its address, its language) and the holder: a holding member at its address in its language; a person (connected person, chair of the supervisory board, notary, lawyer) at the person's address, in the granting member's language for a connected person and in Dutch for the others (persons have no language of their own) |
//! | `BallotCast` | `ballot_receipt` | the person who cast it, at the person's address, or else at the member's; in the member's language |
//! | `ResolutionVoteCast` | `ballot_receipt` (no meeting) | as for a ballot |
//! | `ResultDeclared` | `outcome` | every member with an address, suspended ones included (the decision binds them too), in its language |
//! | `MeetingRequested` | `members_request` | each requesting member with an address |
//! | `DeclarationChallenged` | `outcome_challenged` | whoever heard the outcome (every member with an address): the declared outcome was disputed at once, a new poll is held and replaces it (Art. 17.5) |
//! | `ResolutionProposed` | `resolution_proposed` | every member with an address that is not suspended (each must vote for, Art. 8.12): the text, the kind, when voting closes, the page where its representative signs the vote, and the command (`stembus resolution-vote`) with the API address it sends the vote to |
//! | `ResolutionConcluded` | `resolution_concluded` | every member with an address, suspended ones included (the decision binds them too): the outcome, the votes and who did not vote |
//!
//! Nobody without a registered address gets anything: there is no other channel here.
//!
//! `Notice::member` is the member the notice is for or about (the addressee, the granting
//! member for a proxy's holder who is a person, the member voted for); `Notice::person` is the
//! person addressed or concerned (the person who cast a ballot, a holder who is a person).
//!
//! # Context
//!
//! Every value a template shows is in `context`, already in the recipient's language: dates
//! and times in Europe/Amsterdam as the statutes count days, kinds and choices in words (from
//! `templates/mail/LANG/terms.toml`), with the stable codes beside them. The convocation's
//! context also carries what [`super::render`] needs for its attachments: the proposals'
//! texts and the meeting's start and end in UTC.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::core::calendar::{Period, add_days, day_of, days_strictly_between};
use crate::core::ids::{MeetingId, MemberId, PersonId, PollId, ResolutionId};
use crate::core::profile::{Majority, Notice as NoticeRule, UnanimityInMeeting};
use crate::core::register::{Language, Member};
use crate::core::{
    AgendaItem, AgendaItemId, Association, Ballot, Convener, Convocation, ConvocationStatement, DecisionKind,
    Event, Fact, Fraction, Instant, Instruction, Meeting, MembersRequest, Outcome, Phase, Provision,
    ProxyHolder, ProxyId, Via,
};

/// What a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Convocation,
    ProxyGranted,
    ProxyRevoked,
    BallotReceipt,
    Outcome,
    AdvanceVotingReminder,
    MembersRequest,
    ResolutionProposed,
    ResolutionConcluded,
    OutcomeChallenged,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 10] = [
        NoticeKind::Convocation,
        NoticeKind::ProxyGranted,
        NoticeKind::ProxyRevoked,
        NoticeKind::BallotReceipt,
        NoticeKind::Outcome,
        NoticeKind::AdvanceVotingReminder,
        NoticeKind::MembersRequest,
        NoticeKind::ResolutionProposed,
        NoticeKind::ResolutionConcluded,
        NoticeKind::OutcomeChallenged,
    ];

    /// The stable code: the serde name, and the name of the kind's template files.
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Convocation => "convocation",
            NoticeKind::ProxyGranted => "proxy_granted",
            NoticeKind::ProxyRevoked => "proxy_revoked",
            NoticeKind::BallotReceipt => "ballot_receipt",
            NoticeKind::Outcome => "outcome",
            NoticeKind::AdvanceVotingReminder => "advance_voting_reminder",
            NoticeKind::MembersRequest => "members_request",
            NoticeKind::ResolutionProposed => "resolution_proposed",
            NoticeKind::ResolutionConcluded => "resolution_concluded",
            NoticeKind::OutcomeChallenged => "outcome_challenged",
        }
    }
}

/// One message to one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The registered e-mail address.
    pub to: String,
    pub language: Language,
    pub member: Option<MemberId>,
    pub person: Option<PersonId>,
    pub meeting: Option<MeetingId>,
    /// Not to be sent before this moment (a reminder); None: at once.
    pub send_after: Option<Instant>,
    /// The template's variables (everything the templates show, already formatted: dates in
    /// Europe/Amsterdam as the statutes count days).
    pub context: Value,
}

/// What the notices say about the service itself.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub association_name: String,
    /// The address people use, without a trailing slash (one is removed if given).
    pub public_url: String,
    /// The address the mail comes from (`mail_from`), the invitation's organizer; None: the
    /// invitation names the public address instead.
    pub organizer_email: Option<String>,
}

/// Where the event was logged: its stream, its index in the stream and its leaf hash (hex).
#[derive(Debug, Clone)]
pub struct EntryInfo {
    pub stream: String,
    pub index: u64,
    pub leaf_hash: String,
}

/// The notices an event causes, computed from the state after the event (pure).
pub fn notices_for(state: &Association, event: &Event, entry: &EntryInfo, ctx: &MailContext) -> Vec<Notice> {
    match &event.fact {
        Fact::MeetingConvened { meeting, .. } => convocation_notices(state, *meeting, ctx),
        Fact::ProxyGranted { meeting, proxy } => {
            proxy_notices(state, *meeting, proxy.id, NoticeKind::ProxyGranted, ctx)
        }
        Fact::ProxyRevoked { meeting, proxy } => {
            proxy_notices(state, *meeting, *proxy, NoticeKind::ProxyRevoked, ctx)
        }
        Fact::BallotCast { meeting, poll, item, ballot } => {
            ballot_receipt(state, *meeting, *poll, *item, ballot, entry, ctx).into_iter().collect()
        }
        Fact::ResolutionVoteCast { resolution, ballot } => {
            resolution_receipt(state, *resolution, ballot, entry, ctx).into_iter().collect()
        }
        Fact::ResultDeclared { meeting, poll, by, outcome, .. } => {
            outcome_notices(state, *meeting, *poll, *by, *outcome, ctx)
        }
        Fact::MeetingRequested { request } => request_notices(state, request, ctx),
        Fact::DeclarationChallenged { meeting, poll, supporters } => {
            challenge_notices(state, *meeting, *poll, supporters.len(), ctx)
        }
        Fact::ResolutionProposed { resolution, .. } => {
            resolution_notices(state, *resolution, NoticeKind::ResolutionProposed, ctx)
        }
        Fact::ResolutionConcluded { resolution, .. } => {
            resolution_notices(state, *resolution, NoticeKind::ResolutionConcluded, ctx)
        }
        _ => Vec::new(),
    }
}

/// Whether a notice that waited (`send_after`) still applies in `state` (a reminder for a
/// meeting that opened, or whose member already voted in advance on every item, does not).
pub fn still_due(state: &Association, notice: &Notice) -> bool {
    match notice.kind {
        NoticeKind::AdvanceVotingReminder => {
            let (Some(meeting), Some(member)) = (notice.meeting, notice.member) else { return false };
            let Some(m) = state.meetings.get(&meeting) else { return false };
            let Some(registered) = state.register.member(member) else { return false };
            if m.phase != Phase::Convened || m.advance_window().is_none() || registered.suspended {
                return false;
            }
            // The address may have been withdrawn or changed since: registering one is the
            // consent to be written to (Art. 8.3).
            if registered.email.as_ref().map(|e| e.as_str()) != Some(notice.to.as_str()) {
                return false;
            }
            m.agenda
                .iter()
                .filter(|i| i.motion.is_some())
                .any(|i| m.advance_ballots.get(&i.id).is_none_or(|b| !b.contains_key(&member)))
        }
        _ => true,
    }
}

// ---- the words ------------------------------------------------------------------------------

const NL_TERMS: &str = include_str!("../../templates/mail/nl/terms.toml");
const EN_TERMS: &str = include_str!("../../templates/mail/en/terms.toml");

/// The words of one language (`templates/mail/LANG/terms.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Terms {
    weekdays: Vec<String>,
    months: Vec<String>,
    date: String,
    moment: String,
    pub(crate) invite_filename: String,
    proposal_filename: String,
    list_and: String,
    periods: BTreeMap<String, String>,
    fractions: BTreeMap<String, String>,
    majorities: BTreeMap<String, String>,
    decision_kinds: BTreeMap<String, String>,
    choices: BTreeMap<String, String>,
    instructions: BTreeMap<String, String>,
    outcomes: BTreeMap<String, String>,
    vias: BTreeMap<String, String>,
    holders: BTreeMap<String, String>,
    forms: BTreeMap<String, String>,
    conveners: BTreeMap<String, String>,
    poll_methods: BTreeMap<String, String>,
}

fn parse_terms(text: &str, language: &str) -> Terms {
    // The files are compiled in and tested; a failure here is a defect in the build itself.
    match toml::from_str::<Terms>(text) {
        Ok(t) if t.weekdays.len() == 7 && t.months.len() == 12 => t,
        Ok(_) => panic!("templates/mail/{language}/terms.toml needs 7 weekdays and 12 months"),
        Err(e) => panic!("templates/mail/{language}/terms.toml is invalid: {e}"),
    }
}

pub(crate) fn terms(language: Language) -> &'static Terms {
    static NL: OnceLock<Terms> = OnceLock::new();
    static EN: OnceLock<Terms> = OnceLock::new();
    match language {
        Language::Nl => NL.get_or_init(|| parse_terms(NL_TERMS, "nl")),
        Language::En => EN.get_or_init(|| parse_terms(EN_TERMS, "en")),
    }
}

fn word(table: &BTreeMap<String, String>, key: &str) -> String {
    table.get(key).cloned().unwrap_or_else(|| key.replace('_', " "))
}

/// The serde name of a unit variant (`statute_amendment`, `for`, `no_quorum`).
fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

impl Terms {
    /// A calendar day: "woensdag 10 juni 2026", "Wednesday 10 June 2026".
    pub(crate) fn date(&self, day: NaiveDate) -> String {
        let weekday = self.weekdays.get(day.weekday().num_days_from_monday() as usize);
        let month = self.months.get(day.month0() as usize);
        self.date
            .replace("{weekday}", weekday.map_or("", String::as_str))
            .replace("{day}", &day.day().to_string())
            .replace("{month}", month.map_or("", String::as_str))
            .replace("{year}", &day.year().to_string())
    }

    /// A moment as a Dutch clock shows it: "woensdag 10 juni 2026, 19:00 uur".
    pub(crate) fn moment(&self, moment: Instant) -> String {
        let local = moment.with_timezone(&Amsterdam);
        self.moment
            .replace("{date}", &self.date(local.date_naive()))
            .replace("{time}", &local.format("%H:%M").to_string())
    }

    fn period(&self, period: Period) -> String {
        let (key, n) = match period {
            Period::Days(n) => (if n == 1 { "day" } else { "days" }, n),
            Period::Weeks(n) => (if n == 1 { "week" } else { "weeks" }, n),
            Period::Months(n) => (if n == 1 { "month" } else { "months" }, n),
        };
        word(&self.periods, key).replace("{n}", &n.to_string())
    }

    fn fraction(&self, fraction: Fraction) -> String {
        let key = fraction.to_string();
        self.fractions.get(&key).cloned().unwrap_or(key)
    }

    fn majority(&self, majority: Majority, unanimity: UnanimityInMeeting) -> String {
        match majority {
            Majority::MoreThan(f) => {
                word(&self.majorities, "more_than").replace("{fraction}", &self.fraction(f))
            }
            Majority::AtLeast(f) => {
                word(&self.majorities, "at_least").replace("{fraction}", &self.fraction(f))
            }
            Majority::Unanimous => word(&self.majorities, &format!("unanimous_{}", code(&unanimity))),
        }
    }

    /// "a, b en c".
    fn list(&self, items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} {} {last}", rest.join(", "), self.list_and),
        }
    }

    fn proposal_filename(&self, number: usize) -> String {
        self.proposal_filename.replace("{number}", &number.to_string())
    }
}

// ---- shared pieces of context ---------------------------------------------------------------

/// Someone a notice goes to.
struct Recipient {
    to: String,
    language: Language,
    member: Option<MemberId>,
    person: Option<PersonId>,
    name: String,
}

fn member_recipient(member: &Member) -> Option<Recipient> {
    Some(Recipient {
        to: member.email.as_ref()?.to_string(),
        language: member.language,
        member: Some(member.id),
        person: None,
        name: member.name.clone(),
    })
}

fn notice(kind: NoticeKind, r: &Recipient, meeting: Option<MeetingId>, context: Value) -> Notice {
    Notice {
        kind,
        to: r.to.clone(),
        language: r.language,
        member: r.member,
        person: r.person,
        meeting,
        send_after: None,
        context,
    }
}

fn base_url(ctx: &MailContext) -> &str {
    ctx.public_url.trim_end_matches('/')
}

/// The context every notice has, with `fields` added.
fn context(ctx: &MailContext, state: &Association, r: &Recipient, fields: Value) -> Value {
    let mut map = Map::new();
    map.insert("association".into(), json!(ctx.association_name));
    map.insert("association_id".into(), json!(state.id.to_string()));
    map.insert("public_url".into(), json!(base_url(ctx)));
    map.insert("language".into(), json!(code(&r.language)));
    map.insert("recipient".into(), json!({ "name": r.name, "address": r.to }));
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

fn is_link(place: &str) -> bool {
    let p = place.trim();
    (p.starts_with("https://") || p.starts_with("http://")) && !p.contains(char::is_whitespace)
}

fn meeting_json(m: &Meeting, t: &Terms) -> Value {
    json!({
        "id": m.id.to_string(),
        "title": m.title,
        "starts": t.moment(m.starts_at),
        "date": t.date(day_of(m.starts_at)),
        "time": m.starts_at.with_timezone(&Amsterdam).format("%H:%M").to_string(),
        "place": m.place,
        "place_is_link": is_link(&m.place),
        "starts_at_utc": m.starts_at.to_rfc3339(),
        "ends_at_utc": super::ical::default_end(m.starts_at).to_rfc3339(),
        "follow_up": m.follow_up_of.is_some(),
    })
}

fn item_number(m: &Meeting, item: AgendaItemId) -> usize {
    m.agenda.iter().position(|i| i.id == item).map_or(0, |p| p + 1)
}

fn item_json(state: &Association, t: &Terms, item: &AgendaItem, number: usize) -> Value {
    let profile = &state.profile;
    let motion = item.motion.as_ref().map(|mo| {
        let rule = profile.decision(mo.kind);
        json!({
            "text": mo.text,
            "kind": code(&mo.kind),
            "kind_label": word(&t.decision_kinds, &code(&mo.kind)),
            "article": rule.article,
            "majority": t.majority(rule.majority, profile.readings.unanimity_in_meeting),
            "quorum": t.fraction(rule.quorum),
            "proposal_attached": mo.proposal.is_some(),
            "proposal_filename": mo.proposal.as_ref().map(|_| t.proposal_filename(number)),
        })
    });
    json!({
        "id": item.id.to_string(),
        "number": number,
        "title": item.title,
        "motion": motion,
        "concerns_member": item.concerns_member.map(|m| state.register.member_name(m)),
        "annual_accounts": item.annual_accounts,
    })
}

// ---- the convocation and the reminder -------------------------------------------------------

fn convocation_notices(state: &Association, meeting: MeetingId, ctx: &MailContext) -> Vec<Notice> {
    let Some(m) = state.meetings.get(&meeting) else { return Vec::new() };
    let Some(c) = &m.convocation else { return Vec::new() };
    let concerned: BTreeSet<MemberId> = m.agenda.iter().filter_map(|i| i.concerns_member).collect();
    let mut out = Vec::new();
    let mut by_language: BTreeMap<bool, Value> = BTreeMap::new();
    for member in state.register.members.values() {
        if member.suspended && !concerned.contains(&member.id) {
            continue;
        }
        let Some(r) = member_recipient(member) else { continue };
        let fields = by_language
            .entry(r.language == Language::En)
            .or_insert_with(|| convocation_fields(state, m, c, terms(r.language)))
            .clone();
        let mut context = context(ctx, state, &r, fields);
        if let Value::Object(map) = &mut context {
            map.insert(
                "member".into(),
                json!({ "id": member.id.to_string(), "name": member.name, "suspended": member.suspended }),
            );
        }
        out.push(notice(NoticeKind::Convocation, &r, Some(m.id), context));
    }
    if let Some(window) = &c.advance_voting {
        let send_after = (window.closes - Duration::days(1)).max(window.opens);
        for member in state.register.voting_members() {
            let Some(r) = member_recipient(member) else { continue };
            let t = terms(r.language);
            let items: Vec<Value> = m
                .agenda
                .iter()
                .enumerate()
                .filter(|(_, i)| i.motion.is_some())
                .map(|(n, i)| item_json(state, t, i, n + 1))
                .collect();
            let fields = json!({
                "meeting": meeting_json(m, t),
                "member": { "id": member.id.to_string(), "name": member.name },
                "advance": {
                    "opens": t.moment(window.opens),
                    "closes": t.moment(window.closes),
                    "reminder_at": t.moment(send_after),
                    "article": state.profile.article(Provision::AdvanceVoting),
                },
                "items": items,
            });
            let mut n =
                notice(NoticeKind::AdvanceVotingReminder, &r, Some(m.id), context(ctx, state, &r, fields));
            n.send_after = Some(send_after);
            out.push(n);
        }
    }
    out
}

fn convocation_fields(state: &Association, m: &Meeting, c: &Convocation, t: &Terms) -> Value {
    let profile = &state.profile;
    let agenda: Vec<Value> =
        m.agenda.iter().enumerate().map(|(n, item)| item_json(state, t, item, n + 1)).collect();
    let numbered = |ids: &[AgendaItemId]| -> Vec<Value> {
        ids.iter()
            .filter_map(|id| m.item(*id).map(|i| json!({ "number": item_number(m, *id), "title": i.title })))
            .collect()
    };

    let mut special = Value::Null;
    let mut advance = Value::Null;
    let mut electronic = Value::Null;
    let mut follow_up = Value::Null;
    for statement in &c.statements {
        match statement {
            ConvocationStatement::SpecialProposals { items, article } => {
                let items: Vec<Value> = items
                    .iter()
                    .filter_map(|id| {
                        let i = m.item(*id)?;
                        let kind = code(&i.motion.as_ref()?.kind);
                        Some(json!({
                            "number": item_number(m, *id),
                            "title": i.title,
                            "kind": kind,
                            "kind_label": word(&t.decision_kinds, &kind),
                        }))
                    })
                    .collect();
                special = json!({ "article": article, "items": items });
            }
            ConvocationStatement::AdvanceVotingOpen { opens, closes, article } => {
                advance =
                    json!({ "opens": t.moment(*opens), "closes": t.moment(*closes), "article": article });
            }
            ConvocationStatement::ElectronicParticipation { conditions, article } => {
                electronic = json!({ "conditions": conditions, "article": article });
            }
            ConvocationStatement::FollowUp { first_meeting, first_day, items, article, text } => {
                let titles: Vec<String> = items
                    .iter()
                    .filter_map(|id| m.item(*id))
                    .map(|i| format!("\u{201c}{}\u{201d}", i.title))
                    .collect();
                let second_meeting = items
                    .iter()
                    .filter_map(|id| m.item(*id))
                    .any(|i| i.motion.as_ref().is_some_and(|mo| mo.kind == DecisionKind::Entrenched));
                follow_up = json!({
                    "first_meeting": first_meeting.to_string(),
                    "first_title": state.meetings.get(first_meeting).map(|f| f.title.clone()),
                    "first_day": t.date(*first_day),
                    "items": numbered(items),
                    "items_text": t.list(&titles),
                    "article": article,
                    "second_meeting": second_meeting,
                    "text": text,
                });
            }
        }
    }
    // The convocation's own fields, should a statement be missing.
    if advance.is_null()
        && let Some(w) = &c.advance_voting
    {
        advance = json!({
            "opens": t.moment(w.opens),
            "closes": t.moment(w.closes),
            "article": profile.article(Provision::AdvanceVoting),
        });
    }
    if electronic.is_null()
        && let Some(conditions) = &c.electronic_participation
    {
        electronic = json!({
            "conditions": conditions,
            "article": profile.article(Provision::ElectronicParticipation),
        });
    }

    let is_special = !special.is_null();
    let (rule, provision) = if is_special {
        (NoticeRule::Special, Provision::SpecialConvocation)
    } else {
        (NoticeRule::Ordinary, Provision::ConvocationNotice)
    };
    let convened_on = day_of(c.at);
    let meeting_day = day_of(m.starts_at);
    let proposals: Vec<Value> = m
        .agenda
        .iter()
        .enumerate()
        .filter_map(|(n, item)| {
            let motion = item.motion.as_ref()?;
            let text = motion.proposal.as_ref()?;
            Some(json!({
                "number": n + 1,
                "title": item.title,
                "motion": motion.text,
                "kind_label": word(&t.decision_kinds, &code(&motion.kind)),
                "filename": t.proposal_filename(n + 1),
                "text": text,
            }))
        })
        .collect();
    let convener = match c.by {
        Convener::Board => "board",
        Convener::SupervisoryBoard => "supervisory_board",
        Convener::Requesters { .. } => "requesters",
    };
    json!({
        "meeting": meeting_json(m, t),
        "convocation": {
            "date": t.date(convened_on),
            "at": t.moment(c.at),
            "at_utc": c.at.to_rfc3339(),
            "convener": convener,
            "convener_label": word(&t.conveners, convener),
            "days_before": days_strictly_between(convened_on, meeting_day),
            "notice_days": profile.notice_days(rule),
            "latest_day": t.date(add_days(meeting_day, -i64::from(profile.notice_days(rule)) - 1)),
            "article": profile.article(provision),
            "registered_address_article": profile.article(Provision::ConvocationNotice),
            "proxy_article": profile.article(Provision::Representation),
        },
        "agenda": agenda,
        "special": special,
        "advance": advance,
        "electronic": electronic,
        "follow_up": follow_up,
        "proposals": proposals,
        "invite_filename": t.invite_filename,
    })
}

// ---- proxies --------------------------------------------------------------------------------

fn proxy_notices(
    state: &Association,
    meeting: MeetingId,
    proxy: ProxyId,
    kind: NoticeKind,
    ctx: &MailContext,
) -> Vec<Notice> {
    let register = &state.register;
    let Some(m) = state.meetings.get(&meeting) else { return Vec::new() };
    let Some(p) = m.proxies.get(&proxy) else { return Vec::new() };
    let Some(grantor) = register.member(p.grantor) else { return Vec::new() };

    let holder_kind = match p.holder {
        ProxyHolder::Member { .. } => "member",
        ProxyHolder::ConnectedPerson { .. } => "connected_person",
        ProxyHolder::SupervisoryBoardChair { .. } => "supervisory_board_chair",
        ProxyHolder::Notary { .. } => "notary",
        ProxyHolder::Lawyer { .. } => "lawyer",
    };
    let (holder_name, holder) = match p.holder {
        ProxyHolder::Member { member } => {
            (register.member_name(member), register.member(member).and_then(member_recipient))
        }
        ProxyHolder::ConnectedPerson { person }
        | ProxyHolder::SupervisoryBoardChair { person }
        | ProxyHolder::Notary { person }
        | ProxyHolder::Lawyer { person } => {
            let language =
                if holder_kind == "connected_person" { grantor.language } else { Language::default() };
            let r = register.person(person).and_then(|x| {
                Some(Recipient {
                    to: x.email.as_ref()?.to_string(),
                    language,
                    member: Some(grantor.id),
                    person: Some(person),
                    name: x.name.clone(),
                })
            });
            (register.person_name(person), r)
        }
    };
    let holder_member = match p.holder {
        ProxyHolder::Member { member } => Some(member),
        _ => None,
    };

    let mut out = Vec::new();
    for (role, r) in [("grantor", member_recipient(grantor)), ("holder", holder)] {
        let Some(r) = r else { continue };
        let t = terms(r.language);
        let instructions: Vec<Value> = m
            .agenda
            .iter()
            .enumerate()
            .filter(|(_, i)| i.motion.is_some())
            .map(|(n, i)| {
                let instruction = p.instructions.get(&i.id).copied().unwrap_or(Instruction::Free);
                json!({
                    "number": n + 1,
                    "title": i.title,
                    "motion": i.motion.as_ref().map(|mo| mo.text.clone()),
                    "instruction": code(&instruction),
                    "instruction_label": word(&t.instructions, &code(&instruction)),
                })
            })
            .collect();
        let fields = json!({
            "role": role,
            "meeting": meeting_json(m, t),
            "proxy": {
                "id": p.id.to_string(),
                "form": code(&p.form),
                "form_label": word(&t.forms, &code(&p.form)),
                "received": t.moment(p.received_at),
                "revoked": p.revoked_at.map(|at| t.moment(at)),
                "signed": p.signed.is_some(),
                "revocable_until_opening": state.profile.readings.proxy_revocable_until_opening,
                "own_presence_precedes": state.profile.readings.own_presence_precedes_proxy,
                "instructions_binding": state.profile.readings.voting_instructions_binding,
                "article": state.profile.article(Provision::Representation),
            },
            "grantor": { "id": grantor.id.to_string(), "name": grantor.name },
            "holder": {
                "name": holder_name,
                "kind": holder_kind,
                "kind_label": word(&t.holders, holder_kind),
                "member": holder_member.map(|h| h.to_string()),
            },
            "instructions": instructions,
        });
        out.push(notice(kind, &r, Some(m.id), context(ctx, state, &r, fields)));
    }
    out
}

// ---- receipts -------------------------------------------------------------------------------

/// The person who cast a ballot, at their address, or else the member's; the member's language.
fn caster<'s>(state: &'s Association, ballot: &Ballot) -> Option<(Recipient, &'s Member)> {
    let member = state.register.member(ballot.member)?;
    let person = state.register.person(ballot.person);
    let to = person.and_then(|p| p.email.as_ref()).or(member.email.as_ref())?.to_string();
    let name = person.map_or_else(|| member.name.clone(), |p| p.name.clone());
    Some((
        Recipient {
            to,
            language: member.language,
            member: Some(member.id),
            person: Some(ballot.person),
            name,
        },
        member,
    ))
}

fn entry_json(entry: &EntryInfo) -> Value {
    json!({ "stream": entry.stream, "index": entry.index, "leaf_hash": entry.leaf_hash })
}

fn ballot_receipt(
    state: &Association,
    meeting: MeetingId,
    poll: Option<PollId>,
    item: AgendaItemId,
    ballot: &Ballot,
    entry: &EntryInfo,
    ctx: &MailContext,
) -> Option<Notice> {
    let m = state.meetings.get(&meeting)?;
    let agenda_item = m.item(item)?;
    let (r, member) = caster(state, ballot)?;
    let t = terms(r.language);
    let via = match ballot.via {
        Via::Own => "own",
        Via::Proxy { .. } => "proxy",
        Via::Advance => "advance",
    };
    let stream_url = format!("{}/api/v1/associations/{}/meetings/{}/log", base_url(ctx), state.id, m.id);
    let fields = json!({
        "meeting": meeting_json(m, t),
        "item": item_json(state, t, agenda_item, item_number(m, item)),
        "member": { "id": member.id.to_string(), "name": member.name },
        "person": { "id": ballot.person.to_string(), "name": state.register.person_name(ballot.person) },
        "ballot": {
            "choice": code(&ballot.choice),
            "choice_label": word(&t.choices, &code(&ballot.choice)),
            "via": via,
            "via_label": word(&t.vias, via),
            "advance": poll.is_none(),
            "poll": poll.map(|p| p.to_string()),
            "cast_at": t.moment(ballot.cast_at),
            "signed": ballot.signed.is_some(),
            "replaces_earlier": state.profile.readings.later_ballot_replaces,
        },
        "resolution": Value::Null,
        "entry": entry_json(entry),
        "verify": {
            "server": base_url(ctx),
            "head_url": format!("{stream_url}/head"),
            "receipt_url": format!("{stream_url}/entries/{}/receipt", entry.index),
            "receipt_file": format!("receipt-{}-{}.json", m.id, entry.index),
        },
    });
    Some(notice(NoticeKind::BallotReceipt, &r, Some(m.id), context(ctx, state, &r, fields)))
}

fn resolution_receipt(
    state: &Association,
    resolution: ResolutionId,
    ballot: &Ballot,
    entry: &EntryInfo,
    ctx: &MailContext,
) -> Option<Notice> {
    let res = state.resolutions.get(&resolution)?;
    let (r, member) = caster(state, ballot)?;
    let t = terms(r.language);
    let stream_url = format!("{}/api/v1/associations/{}/log", base_url(ctx), state.id);
    let fields = json!({
        "meeting": Value::Null,
        "item": Value::Null,
        "member": { "id": member.id.to_string(), "name": member.name },
        "person": { "id": ballot.person.to_string(), "name": state.register.person_name(ballot.person) },
        "ballot": {
            "choice": code(&ballot.choice),
            "choice_label": word(&t.choices, &code(&ballot.choice)),
            "cast_at": t.moment(ballot.cast_at),
            "signed": ballot.signed.is_some(),
        },
        "resolution": {
            "id": res.id.to_string(),
            "text": res.text,
            "kind_label": word(&t.decision_kinds, &code(&res.kind)),
            "closes": t.moment(res.closes_at),
            "article": state.profile.article(Provision::WrittenResolution),
        },
        "entry": entry_json(entry),
        "verify": {
            "server": base_url(ctx),
            "head_url": format!("{stream_url}/head"),
            "receipt_url": format!("{stream_url}/entries/{}/receipt", entry.index),
            "receipt_file": Value::Null,
        },
    });
    Some(notice(NoticeKind::BallotReceipt, &r, None, context(ctx, state, &r, fields)))
}

// ---- outcomes -------------------------------------------------------------------------------

fn outcome_notices(
    state: &Association,
    meeting: MeetingId,
    poll: PollId,
    by: PersonId,
    outcome: Outcome,
    ctx: &MailContext,
) -> Vec<Notice> {
    let Some(m) = state.meetings.get(&meeting) else { return Vec::new() };
    let Some(p) = m.polls.get(&poll) else { return Vec::new() };
    let Some(result) = &p.result else { return Vec::new() };
    let Some(item) = m.item(p.item) else { return Vec::new() };
    let profile = &state.profile;
    let number = item_number(m, item.id);
    let mut by_language: BTreeMap<bool, Value> = BTreeMap::new();
    let mut out = Vec::new();
    for member in state.register.members.values() {
        let Some(r) = member_recipient(member) else { continue };
        let fields = by_language
            .entry(r.language == Language::En)
            .or_insert_with(|| {
                let t = terms(r.language);
                let follow_up = result.follow_up.as_ref().map(|w| {
                    json!({ "earliest": t.date(w.earliest), "latest": t.date(w.latest), "article": w.article })
                });
                json!({
                    "meeting": meeting_json(m, t),
                    "item": item_json(state, t, item, number),
                    "outcome": code(&outcome),
                    "outcome_label": word(&t.outcomes, &code(&outcome)),
                    "declared": {
                        "at": p.declaration.as_ref().map(|d| t.moment(d.at)),
                        "by": state.register.person_name(by),
                        "article": profile.article(Provision::Declaration),
                    },
                    "poll": {
                        "id": p.id.to_string(),
                        "method": code(&p.method),
                        "method_label": word(&t.poll_methods, &code(&p.method)),
                        "revote": p.revote_of.is_some(),
                    },
                    "result": {
                        "kind_label": word(&t.decision_kinds, &code(&result.kind)),
                        "counts": {
                            "for": result.counts.in_favour,
                            "against": result.counts.against,
                            "abstain": result.counts.abstain,
                        },
                        "votes_cast": result.votes_cast,
                        "presence": {
                            "in_person": result.presence.in_person,
                            "electronically": result.presence.electronically,
                            "by_proxy": result.presence.by_proxy,
                            "by_advance_ballot": result.presence.by_advance_ballot,
                            "total": result.presence.total(),
                        },
                        "taken_at": t.moment(result.taken_at),
                        "quorum": {
                            "fraction": t.fraction(result.quorum.required),
                            "members_in_office": result.quorum.members_in_office,
                            "needed": result.quorum.needed,
                            "present_or_represented": result.quorum.present_or_represented,
                            "met": result.quorum.met,
                            "waived": result.quorum.waived,
                        },
                        "majority": {
                            "words": t.majority(result.majority.required, profile.readings.unanimity_in_meeting),
                            "needed_for": result.majority.needed_for,
                            "reached": result.majority.reached,
                        },
                        "article": result.decided_by.article,
                        "tie": result.outcome != Outcome::NoQuorum
                            && result.decided_by.article == profile.article(Provision::Tie)
                            && result.counts.in_favour == result.counts.against,
                        "lapsed_advance_ballots": result.lapsed_advance_ballots,
                        "verifiable": result.verifiable_ballot_by_ballot,
                        "follow_up": follow_up,
                        "explanation": result.explanation,
                    },
                })
            })
            .clone();
        out.push(notice(NoticeKind::Outcome, &r, Some(m.id), context(ctx, state, &r, fields)));
    }
    out
}

/// The outcome every member was sent is disputed: a new poll is held (Art. 17.5).
fn challenge_notices(
    state: &Association,
    meeting: MeetingId,
    poll: PollId,
    supporters: usize,
    ctx: &MailContext,
) -> Vec<Notice> {
    let Some(m) = state.meetings.get(&meeting) else { return Vec::new() };
    let Some(p) = m.polls.get(&poll) else { return Vec::new() };
    let (Some(declaration), Some(item)) = (&p.declaration, m.item(p.item)) else { return Vec::new() };
    let number = item_number(m, item.id);
    let mut by_language: BTreeMap<bool, Value> = BTreeMap::new();
    let mut out = Vec::new();
    for member in state.register.members.values() {
        let Some(r) = member_recipient(member) else { continue };
        let fields = by_language
            .entry(r.language == Language::En)
            .or_insert_with(|| {
                let t = terms(r.language);
                json!({
                    "meeting": meeting_json(m, t),
                    "item": item_json(state, t, item, number),
                    "outcome": code(&declaration.outcome),
                    "outcome_label": word(&t.outcomes, &code(&declaration.outcome)),
                    "declared": {
                        "at": t.moment(declaration.at),
                        "by": state.register.person_name(declaration.by),
                    },
                    "challenge": {
                        "at": p.challenge.as_ref().map(|c| t.moment(c.at)),
                        "supporters": supporters,
                        "article": state.profile.article(Provision::Declaration),
                    },
                })
            })
            .clone();
        out.push(notice(NoticeKind::OutcomeChallenged, &r, Some(m.id), context(ctx, state, &r, fields)));
    }
    out
}

// ---- resolutions outside a meeting (Art. 8.12) ------------------------------------------------

fn resolution_notices(
    state: &Association,
    resolution: ResolutionId,
    kind: NoticeKind,
    ctx: &MailContext,
) -> Vec<Notice> {
    let Some(res) = state.resolutions.get(&resolution) else { return Vec::new() };
    let proposed = kind == NoticeKind::ResolutionProposed;
    if !proposed && res.result.is_none() {
        return Vec::new();
    }
    let votes_url =
        format!("{}/api/v1/associations/{}/resolutions/{}/votes", base_url(ctx), state.id, res.id);
    let page_url = format!("{}/{}/voter/resolutions/{}", base_url(ctx), state.id, res.id);
    let mut by_language: BTreeMap<bool, Value> = BTreeMap::new();
    let mut out = Vec::new();
    for member in state.register.members.values() {
        // A suspended member has no vote (Art. 6.9): it is not asked for one, but hears the
        // decision, which binds it too.
        if proposed && member.suspended {
            continue;
        }
        let Some(r) = member_recipient(member) else { continue };
        let shared = by_language
            .entry(r.language == Language::En)
            .or_insert_with(|| {
                let t = terms(r.language);
                let result = res.result.as_ref().map(|result| {
                    json!({
                        "outcome": code(&result.outcome),
                        "outcome_label": word(&t.outcomes, &code(&result.outcome)),
                        "counts": {
                            "for": result.counts.in_favour,
                            "against": result.counts.against,
                            "abstain": result.counts.abstain,
                        },
                        "not_voted": result.not_voted,
                        "members_in_office": result.members_in_office,
                        "explanation": result.explanation,
                        "article": result.decided_by.article,
                    })
                });
                json!({
                    "resolution": {
                        "id": res.id.to_string(),
                        "text": res.text,
                        "kind_label": word(&t.decision_kinds, &code(&res.kind)),
                        "proposed": t.moment(res.proposed_at),
                        "closes": t.moment(res.closes_at),
                        "article": state.profile.article(Provision::WrittenResolution),
                        "votes_url": votes_url,
                        "page_url": page_url,
                        "result": result,
                    },
                })
            })
            .clone();
        let mut fields = shared;
        if let Value::Object(map) = &mut fields {
            map.insert("member".into(), json!({ "id": member.id.to_string(), "name": member.name }));
        }
        out.push(notice(kind, &r, None, context(ctx, state, &r, fields)));
    }
    out
}

// ---- the members' request (Art. 8.1) --------------------------------------------------------

fn request_notices(state: &Association, request: &MembersRequest, ctx: &MailContext) -> Vec<Notice> {
    let profile = &state.profile;
    let rules = &profile.members_request;
    let mut names: Vec<String> = request.members.iter().map(|m| state.register.member_name(*m)).collect();
    names.sort();
    let mut out = Vec::new();
    for member in request.members.iter().filter_map(|m| state.register.member(*m)) {
        let Some(r) = member_recipient(member) else { continue };
        let t = terms(r.language);
        let fields = json!({
            "member": { "id": member.id.to_string(), "name": member.name },
            "request": {
                "id": request.id.to_string(),
                "date": t.date(day_of(request.at)),
                "subjects": request.subjects,
                "members": names,
                "count": request.members.len(),
                "members_in_office": crate::core::tally::members_in_office(&state.register, profile),
                "fraction": t.fraction(rules.fraction),
                "board_term": t.period(rules.board_term),
                "board_deadline": t.date(request.board_deadline),
                "requesters_may_convene_from": t.date(add_days(request.board_deadline, 1)),
                "article": profile.article(Provision::Convening),
            },
        });
        out.push(notice(NoticeKind::MembersRequest, &r, None, context(ctx, state, &r, fields)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_serde_names() {
        for kind in NoticeKind::ALL {
            assert_eq!(serde_json::to_value(kind).ok(), Some(json!(kind.code())));
        }
    }

    #[test]
    fn both_languages_have_all_their_words() {
        for language in [Language::Nl, Language::En] {
            let t = terms(language);
            for kind in DecisionKind::ALL {
                assert!(t.decision_kinds.contains_key(&code(&kind)), "{language:?} {kind:?}");
            }
            for table in [&t.choices, &t.instructions, &t.outcomes, &t.vias, &t.holders, &t.forms] {
                assert!(!table.is_empty());
            }
            for key in
                ["more_than", "at_least", "unanimous_none_against", "unanimous_every_present_member_for"]
            {
                assert!(t.majorities.contains_key(key), "{language:?} {key}");
            }
        }
    }

    #[test]
    fn dates_are_amsterdam_days_in_the_reader_s_language() {
        let evening: Instant = "2026-06-30T22:30:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(terms(Language::Nl).moment(evening), "woensdag 1 juli 2026, 00:30 uur");
        assert_eq!(terms(Language::En).moment(evening), "Wednesday 1 July 2026, 00:30 (Amsterdam time)");
        assert_eq!(terms(Language::Nl).list(&["a".into(), "b".into(), "c".into()]), "a, b en c");
        assert_eq!(terms(Language::En).period(Period::Weeks(4)), "4 weeks");
    }
}
