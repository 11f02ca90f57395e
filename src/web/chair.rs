//! The chair's pages: the meeting's dashboard, live (who is present or represented and how,
//! the quorum each pending decision needs and whether it is met, the ballots coming in), the
//! polls (open, close, the result with the rule that decides it, the declaration signed in
//! the browser, a challenge and the new poll), closing the meeting, and the minutes.
//!
//! Who sees them: the person who chairs the meeting, before the opening the chair of the
//! supervisory board and the deputy (who may open it, Art. 8.4), and the secretariat (who
//! records a challenge from the floor here). Every action is a form that posts to this module
//! and answers with a redirect to the dashboard (post, redirect, get); whether the statutes
//! allow it is the core's decision, whose refusal shows as a page naming the rule and article.
//! The declaration carries the chair's signature, made by `static/chair.js` with the key the
//! chair enrolled in this browser; nothing else needs a script. `static/live.js` listens to the
//! meeting's server-sent events and reloads the live part of the dashboard; without it the
//! page is current when reloaded.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use minijinja::value::Serde;
use minijinja::{Value as V, context};
use serde::{Deserialize, Serialize};

use super::render;
use super::session::{Page, SignedIn};
use crate::core::calendar::local;
use crate::core::keys::{KeyBytes, SignatureBytes, Signed};
use crate::core::profile::Majority;
use crate::core::tally::{PollResult, Presence, members_in_office, presence_at};
use crate::core::{
    AgendaItemId, Association, AssociationId, Command, Counts, Meeting, MeetingId, MemberId, Outcome, Phase,
    Poll, PollId, PollMethod, ProxyHolder,
};
use crate::http::AppState;
use crate::http::api::register::new_uuid;
use crate::http::auth::Role;
use crate::http::problem::ApiError;
use crate::store::projection::code;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = |tail: &str| format!("/{{association}}/chair/meetings/{{meeting}}{tail}");
    cfg.route(&at(""), web::get().to(dashboard))
        .route(&at("/live"), web::get().to(live_part))
        .route(&at("/opening"), web::post().to(open_meeting))
        .route(&at("/polls"), web::post().to(open_poll))
        .route(&at("/polls/{poll}/closing"), web::post().to(close_poll))
        .route(&at("/polls/{poll}/declaration"), web::post().to(declare))
        .route(&at("/polls/{poll}/challenge"), web::post().to(challenge))
        .route(&at("/closing"), web::post().to(close_meeting))
        .route(&at("/minutes"), web::get().to(minutes))
        .route(&at("/minutes.md"), web::get().to(minutes_markdown));
}

/// The dashboard's address.
pub fn dashboard_path(a: AssociationId, m: MeetingId) -> String {
    format!("/{a}/chair/meetings/{m}")
}

/// A 303 to `location`: a form's answer is the page it changed.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}

// ---- who may see the chair's pages --------------------------------------------------------------

/// What the visitor is to this meeting.
#[derive(Debug, Clone, Copy, Serialize)]
struct Standing {
    /// Chairs the meeting now.
    chairs: bool,
    /// May open it: the chair of the supervisory board or the deputy, before the opening.
    may_open: bool,
    secretariat: bool,
}

fn standing(s: &Association, m: &Meeting, me: &SignedIn) -> Standing {
    let person = me.caller.person;
    Standing {
        chairs: m.chair == Some(person),
        may_open: m.phase == Phase::Convened && s.register.may_chair(person),
        secretariat: me.caller.has(Role::Secretariat),
    }
}

fn not_chair() -> ApiError {
    ApiError::forbidden(
        "access.not_chair",
        "Only the chair of the meeting, the chair of the supervisory board or the deputy before the opening (Art. 8.4), and the secretariat see the chair's pages.",
    )
}

/// The signed-in visitor, if they may see the chair's pages of this meeting, with their
/// standing; a meeting that does not exist is refused with 404.
async fn admitted(
    state: &AppState,
    page: &Page,
    a: AssociationId,
    m: MeetingId,
) -> Result<(SignedIn, Standing), render::PageError> {
    let me = page.within(a)?.clone();
    let probe = me.clone();
    let standing = state
        .read(a, move |s| s.meetings.get(&m).map(|meeting| standing(s, meeting, &probe)))
        .await
        .map_err(|e| page.error(e))?
        .ok_or_else(|| page.error(crate::http::api::meetings::unknown_meeting(m)))?;
    if standing.chairs || standing.may_open || standing.secretariat {
        Ok((me, standing))
    } else {
        Err(page.error(not_chair()))
    }
}

// ---- views ---------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct PresentMember {
    name: String,
    /// `in_person`, `electronically` or `by_proxy`.
    how: String,
    /// Who attends for it.
    person: String,
    /// For a member represented by proxy: who holds the proxy.
    holder: Option<String>,
}

#[derive(Debug, Serialize)]
struct PresenceView {
    members_in_office: u64,
    total: u64,
    in_person: u64,
    electronically: u64,
    by_proxy: u64,
    members: Vec<PresentMember>,
}

#[derive(Debug, Serialize)]
struct MotionRow {
    item: String,
    title: String,
    text: String,
    kind: String,
    quorum_needed: u64,
    /// Present or represented for this motion: now, or by an advance ballot on it.
    present: u64,
    quorum_met: bool,
    quorum_waived: bool,
    /// The declared outcome that stands, if any.
    decided: Option<String>,
    /// The open poll on the item, if any.
    open_poll: Option<String>,
    /// Advance ballots on the item (Art. 8.13).
    advance_ballots: usize,
}

#[derive(Debug, Serialize)]
struct CountsView {
    #[serde(rename = "for")]
    in_favour: u64,
    against: u64,
    abstain: u64,
    votes_cast: u64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        Self { in_favour: c.in_favour, against: c.against, abstain: c.abstain, votes_cast: c.votes_cast() }
    }
}

#[derive(Debug, Serialize)]
struct ResultView {
    counts: CountsView,
    /// `more_than`, `at_least` or `unanimous`.
    majority: String,
    /// The fraction of votes cast, e.g. `2/3`; none for unanimity.
    fraction: Option<String>,
    needed_for: u64,
    majority_reached: bool,
    members_in_office: u64,
    present: u64,
    in_person: u64,
    electronically: u64,
    by_proxy: u64,
    by_advance_ballot: u64,
    quorum_fraction: String,
    quorum_needed: u64,
    quorum_met: bool,
    quorum_waived: bool,
    outcome: String,
    rule: String,
    article: String,
    /// The result in a sentence, as the log records it (English).
    explanation: String,
    taken_at: String,
    lapsed_advance_ballots: u32,
    verifiable_ballot_by_ballot: bool,
}

fn result_view(r: &PollResult) -> ResultView {
    let (majority, fraction) = match r.majority.required {
        Majority::MoreThan(f) => ("more_than", Some(f.to_string())),
        Majority::AtLeast(f) => ("at_least", Some(f.to_string())),
        Majority::Unanimous => ("unanimous", None),
    };
    ResultView {
        counts: r.counts.into(),
        majority: majority.into(),
        fraction,
        needed_for: r.majority.needed_for,
        majority_reached: r.majority.reached,
        members_in_office: r.quorum.members_in_office,
        present: r.presence.total(),
        in_person: r.presence.in_person,
        electronically: r.presence.electronically,
        by_proxy: r.presence.by_proxy,
        by_advance_ballot: r.presence.by_advance_ballot,
        quorum_fraction: r.quorum.required.to_string(),
        quorum_needed: r.quorum.needed,
        quorum_met: r.quorum.met,
        quorum_waived: r.quorum.waived,
        outcome: code(&r.outcome),
        rule: r.decided_by.rule.to_string(),
        article: r.decided_by.article.clone(),
        explanation: r.explanation.clone(),
        taken_at: local(r.taken_at),
        lapsed_advance_ballots: r.lapsed_advance_ballots,
        verifiable_ballot_by_ballot: r.verifiable_ballot_by_ballot,
    }
}

#[derive(Debug, Serialize)]
struct PollRow {
    id: String,
    item: String,
    item_title: String,
    method: String,
    opened_at: String,
    closed_at: Option<String>,
    ballots: usize,
    result: Option<ResultView>,
    declared: Option<String>,
    declared_by: Option<String>,
    challenged_by: Vec<String>,
    revote_of: Option<String>,
    voided_by: Option<String>,
    /// Closed, not declared: the chair declares it now.
    awaits_declaration: bool,
    /// Declared and challenged, without a new poll yet: the new poll may be opened.
    awaits_revote: bool,
    /// Declared, not challenged, not voided: a challenge may still be recorded.
    may_be_challenged: bool,
    /// The numbers the declaration's signature binds.
    counts: CountsView,
}

fn poll_row(s: &Association, m: &Meeting, p: &Poll) -> PollRow {
    let counts = p.result.as_ref().map(|r| r.counts).unwrap_or_default();
    let new_poll_exists = m.polls.values().any(|q| q.revote_of == Some(p.id));
    PollRow {
        id: p.id.to_string(),
        item: p.item.to_string(),
        item_title: m.item(p.item).map_or_else(|| p.item.to_string(), |i| i.title.clone()),
        method: code(&p.method),
        opened_at: local(p.opened_at),
        closed_at: p.closed_at.map(local),
        ballots: p.ballots.len(),
        result: p.result.as_ref().map(result_view),
        declared: p.declaration.as_ref().map(|d| code(&d.outcome)),
        declared_by: p.declaration.as_ref().map(|d| s.register.person_name(d.by)),
        challenged_by: p
            .challenge
            .as_ref()
            .map(|c| c.supporters.iter().map(|x| s.register.member_name(*x)).collect())
            .unwrap_or_default(),
        revote_of: p.revote_of.map(|x| x.to_string()),
        voided_by: p.voided_by.map(|x| x.to_string()),
        awaits_declaration: p.closed_at.is_some() && p.declaration.is_none(),
        awaits_revote: p.challenge.is_some() && p.voided_by.is_none() && !new_poll_exists,
        may_be_challenged: p.declaration.is_some() && p.challenge.is_none() && p.voided_by.is_none(),
        counts: counts.into(),
    }
}

fn present_now(s: &Association, m: &Meeting, now: crate::core::Instant) -> BTreeMap<MemberId, Presence> {
    if m.phase == Phase::Open { presence_at(&s.register, &s.profile, m, now) } else { BTreeMap::new() }
}

fn presence_view(s: &Association, m: &Meeting, present: &BTreeMap<MemberId, Presence>) -> PresenceView {
    let count = |how: Presence| present.values().filter(|p| **p == how).count() as u64;
    let mut members: Vec<PresentMember> = present
        .iter()
        .map(|(member, how)| {
            let attendance = m.current_attendance(*member);
            let holder = m.proxy_of(*member).filter(|_| *how == Presence::ByProxy).map(|p| match p.holder {
                ProxyHolder::Member { member } => s.register.member_name(member),
                other => other.person().map(|x| s.register.person_name(x)).unwrap_or_default(),
            });
            PresentMember {
                name: s.register.member_name(*member),
                how: code(how),
                person: attendance.map(|a| s.register.person_name(a.person)).unwrap_or_default(),
                holder,
            }
        })
        .collect();
    members.sort_by(|x, y| x.name.cmp(&y.name));
    PresenceView {
        members_in_office: members_in_office(&s.register, &s.profile),
        total: present.len() as u64,
        in_person: count(Presence::InPerson),
        electronically: count(Presence::Electronically),
        by_proxy: count(Presence::ByProxy),
        members,
    }
}

/// The motions and the quorum each needs. A member that cast an advance ballot on a motion
/// and is not present counts as present for that motion (R4), as the poll's result will count
/// it.
fn motion_rows(s: &Association, m: &Meeting, present: &BTreeMap<MemberId, Presence>) -> Vec<MotionRow> {
    let in_office = members_in_office(&s.register, &s.profile);
    m.agenda
        .iter()
        .filter_map(|item| {
            let motion = item.motion.as_ref()?;
            let rule = s.profile.decision(motion.kind);
            let waived = m.follow_up_of.is_some() && item.carried_from.is_some();
            let needed =
                if waived || rule.quorum.is_zero() { 0 } else { rule.quorum.least_at_least(in_office) };
            let advance_only =
                m.advance_ballots.get(&item.id).map_or(0, |ballots| {
                    ballots.keys().filter(|member| !present.contains_key(member)).count()
                }) as u64;
            let present = present.len() as u64 + advance_only;
            Some(MotionRow {
                item: item.id.to_string(),
                title: item.title.clone(),
                text: motion.text.clone(),
                kind: code(&motion.kind),
                quorum_needed: needed,
                present,
                quorum_met: present >= needed,
                quorum_waived: waived,
                decided: m
                    .decision_on(item.id)
                    .and_then(|p| p.declaration.as_ref())
                    .map(|d| code(&d.outcome)),
                open_poll: m.open_poll_on(item.id).map(|p| p.id.to_string()),
                advance_ballots: m.advance_ballots.get(&item.id).map_or(0, |b| b.len()),
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct DashboardView {
    association: String,
    id: String,
    title: String,
    starts_at: String,
    place: String,
    phase: String,
    chair: Option<String>,
    chair_id: Option<String>,
    opened_at: Option<String>,
    closed_at: Option<String>,
    presence: PresenceView,
    motions: Vec<MotionRow>,
    polls: Vec<PollRow>,
    /// Members present or represented now, for the challenge form.
    present_members: Vec<(String, String)>,
    /// When the view was taken (Europe/Amsterdam).
    at: String,
}

fn dashboard_view(s: &Association, m: &Meeting, now: crate::core::Instant) -> DashboardView {
    let present = present_now(s, m, now);
    let presence = presence_view(s, m, &present);
    let motions = motion_rows(s, m, &present);
    // Polls in the order of the agenda; on one item, in the order they were opened, a new poll
    // after its first (Art. 17.5).
    let place = |item: AgendaItemId| m.agenda.iter().position(|i| i.id == item).unwrap_or(usize::MAX);
    let mut polls: Vec<&Poll> = m.polls.values().collect();
    polls.sort_by_key(|p| (place(p.item), p.opened_at, p.revote_of.is_some(), p.id));
    let mut present_members: Vec<(String, String)> =
        present.keys().map(|x| (x.to_string(), s.register.member_name(*x))).collect();
    present_members.sort_by(|x, y| x.1.cmp(&y.1));
    DashboardView {
        association: s.id.to_string(),
        id: m.id.to_string(),
        title: m.title.clone(),
        starts_at: local(m.starts_at),
        place: m.place.clone(),
        phase: code(&m.phase),
        chair: m.chair.map(|p| s.register.person_name(p)),
        chair_id: m.chair.map(|p| p.to_string()),
        opened_at: m.opened_at.map(local),
        closed_at: m.closed_at.map(local),
        presence,
        motions,
        polls: polls.into_iter().map(|p| poll_row(s, m, p)).collect(),
        present_members,
        at: local(now),
    }
}

async fn read_dashboard(
    state: &AppState,
    page: &Page,
    a: AssociationId,
    m: MeetingId,
) -> Result<DashboardView, render::PageError> {
    let now = state.clock.now();
    state
        .read(a, move |s| s.meetings.get(&m).map(|meeting| dashboard_view(s, meeting, now)))
        .await
        .map_err(|e| page.error(e))?
        .ok_or_else(|| page.error(crate::http::api::meetings::unknown_meeting(m)))
}

// ---- pages ---------------------------------------------------------------------------------

async fn dashboard(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let (me, standing) = admitted(&state, &page, a, m).await?;
    let view = read_dashboard(&state, &page, a, m).await?;
    page.render(
        "chair/meeting.html",
        context! { meeting => V::from(Serde(&view)), standing => V::from(Serde(standing)), person => me.caller.person.to_string() },
    )
}

/// The live part of the dashboard alone, for `static/live.js` to put in place.
async fn live_part(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let (_, standing) = admitted(&state, &page, a, m).await?;
    let view = read_dashboard(&state, &page, a, m).await?;
    let body = render::render(
        &page,
        "chair/live.html",
        context! { meeting => V::from(Serde(&view)), standing => V::from(Serde(standing)) },
    )
    .map_err(|e| page.error(e))?;
    Ok(render::html(StatusCode::OK, body))
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn open_meeting(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let (me, _) = admitted(&state, &page, a, m).await?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    let chair = me.caller.person;
    state
        .execute(a, Command::OpenMeeting { meeting: m, chair, appointed_by_meeting: false })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&dashboard_path(a, m)))
}

#[derive(Debug, Deserialize)]
struct OpenPollForm {
    #[serde(default)]
    csrf: String,
    item: String,
    method: String,
    #[serde(default)]
    revote_of: Option<String>,
}

fn bad_form(code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, detail)
}

fn parse_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.trim().parse().map_err(|_| bad_form("form.invalid_id", format!("The form names no valid {what}.")))
}

async fn open_poll(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<OpenPollForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let (me, _) = admitted(&state, &page, a, m).await?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    let item: AgendaItemId = parse_id(&form.item, "agenda item").map_err(|e| page.error(e))?;
    let method = match form.method.as_str() {
        "electronic" => PollMethod::Electronic,
        "voice" => PollMethod::Voice,
        "written" => PollMethod::Written,
        _ => {
            return Err(page.error(bad_form(
                "form.poll_method",
                "Choose how the poll is held: electronically by name, by voice, or written on paper (Art. 8.10).",
            )));
        }
    };
    let revote_of = match form.revote_of.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(parse_id::<PollId>(r, "poll").map_err(|e| page.error(e))?),
        None => None,
    };
    let poll = PollId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    state
        .execute(a, Command::OpenPoll { meeting: m, poll, item, method, by: me.caller.person, revote_of })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#poll-{poll}", dashboard_path(a, m))))
}

#[derive(Debug, Deserialize)]
struct ClosePollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "for")]
    in_favour: Option<String>,
    #[serde(default)]
    against: Option<String>,
    #[serde(default)]
    abstain: Option<String>,
}

fn count_field(value: &Option<String>, what: &str) -> Result<Option<u64>, ApiError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            bad_form("form.count", format!("The number of votes {what} must be a whole number of 0 or more."))
        }),
    }
}

async fn close_poll(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    form: web::Form<ClosePollForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m, poll) = path.into_inner();
    let (me, _) = admitted(&state, &page, a, m).await?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    let f = count_field(&form.in_favour, "for").map_err(|e| page.error(e))?;
    let ag = count_field(&form.against, "against").map_err(|e| page.error(e))?;
    let ab = count_field(&form.abstain, "abstaining").map_err(|e| page.error(e))?;
    let counts = match (f, ag, ab) {
        (None, None, None) => None,
        (f, ag, ab) => {
            Some(Counts { in_favour: f.unwrap_or(0), against: ag.unwrap_or(0), abstain: ab.unwrap_or(0) })
        }
    };
    state
        .execute(a, Command::ClosePoll { meeting: m, poll, by: me.caller.person, counts })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#poll-{poll}", dashboard_path(a, m))))
}

#[derive(Debug, Deserialize)]
struct DeclareForm {
    #[serde(default)]
    csrf: String,
    outcome: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    sequence: String,
    #[serde(default)]
    signature: String,
}

async fn declare(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    form: web::Form<DeclareForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m, poll) = path.into_inner();
    let (me, _) = admitted(&state, &page, a, m).await?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    let outcome = match form.outcome.as_str() {
        "adopted" => Outcome::Adopted,
        "rejected" => Outcome::Rejected,
        "no_quorum" => Outcome::NoQuorum,
        _ => return Err(page.error(bad_form("form.outcome", "The declaration names no outcome."))),
    };
    // Without the signature the core refuses the declaration with the rule it breaks (R8);
    // a malformed one is refused here.
    let signed = if form.signature.trim().is_empty() {
        None
    } else {
        let key = KeyBytes::from_hex(form.key.trim());
        let signature = SignatureBytes::from_hex(form.signature.trim());
        let sequence = form.sequence.trim().parse::<u64>().ok();
        match (key, signature, sequence) {
            (Some(key), Some(signature), Some(sequence)) => Some(Signed { key, sequence, signature }),
            _ => {
                return Err(page.error(bad_form(
                    "form.signature",
                    "The declaration's signature is not in the form the service reads: reload the page and declare again.",
                )));
            }
        }
    };
    state
        .execute(a, Command::DeclareResult { meeting: m, poll, by: me.caller.person, outcome, signed })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#poll-{poll}", dashboard_path(a, m))))
}

async fn challenge(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m, poll) = path.into_inner();
    let (me, standing) = admitted(&state, &page, a, m).await?;
    // A form with several `supporter` fields: the pairs in order.
    let pairs = form.into_inner();
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    me.check_csrf(&page, csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    if !standing.secretariat {
        return Err(page.error(ApiError::forbidden(
            "access.role_required",
            "The secretariat records a challenge from the floor; a voter challenges on their own page.",
        )));
    }
    let mut supporters: Vec<MemberId> = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "supporter") {
        supporters.push(parse_id(v, "member").map_err(|e| page.error(e))?);
    }
    state
        .execute(a, Command::ChallengeDeclaration { meeting: m, poll, supporters })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("{}#poll-{poll}", dashboard_path(a, m))))
}

async fn close_meeting(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let (me, _) = admitted(&state, &page, a, m).await?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    state
        .execute(a, Command::CloseMeeting { meeting: m, by: me.caller.person })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("/{a}/chair/meetings/{m}/minutes")))
}

// ---- the minutes ---------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct DecisionRow {
    title: String,
    motion: String,
    kind: String,
    outcome: String,
    explanation: String,
    declared_on: String,
    voided_polls: usize,
}

#[derive(Debug, Serialize)]
struct AttendanceRow {
    name: String,
    /// `own`, `proxy_holder`, `proxy_to`, `advance_ballot` or `absent`.
    took_part: String,
    person: Option<String>,
    holder: Option<String>,
    electronically: bool,
    stretches: Vec<(String, Option<String>)>,
}

#[derive(Debug, Serialize)]
struct MinutesView {
    title: String,
    place: String,
    chair: Option<String>,
    opened_at: Option<String>,
    closed_at: Option<String>,
    decisions: Vec<DecisionRow>,
    attendance: Vec<AttendanceRow>,
    present: usize,
    absent: usize,
}

fn minutes_view(s: &Association, m: &Meeting) -> MinutesView {
    use crate::core::records::Participation;
    let minutes = crate::core::records::minutes(s, m);
    let clock = |t: crate::core::Instant| local(t);
    let attendance: Vec<AttendanceRow> = minutes
        .attendance
        .iter()
        .map(|line| {
            let (took_part, person, holder, electronically) = match &line.participation {
                Participation::OwnRepresentative { name, electronically, .. } => {
                    ("own", Some(name.clone()), None, *electronically)
                }
                Participation::ProxyHolder { holder, name, .. } => {
                    ("proxy_holder", Some(name.clone()), Some(holder.clone()), false)
                }
                Participation::ProxyTo { holder, name, .. } => {
                    ("proxy_to", Some(name.clone()), Some(holder.clone()), false)
                }
                Participation::AdvanceBallot => ("advance_ballot", None, None, false),
                Participation::Absent => ("absent", None, None, false),
            };
            AttendanceRow {
                name: line.name.clone(),
                took_part: took_part.into(),
                person,
                holder,
                electronically,
                stretches: line.stretches.iter().map(|(a, l)| (clock(*a), l.map(clock))).collect(),
            }
        })
        .collect();
    let absent = attendance.iter().filter(|r| r.took_part == "absent").count();
    MinutesView {
        title: minutes.title.clone(),
        place: minutes.place.clone(),
        chair: minutes.chair.clone(),
        opened_at: minutes.opened_at.map(clock),
        closed_at: minutes.closed_at.map(clock),
        decisions: minutes
            .decisions
            .iter()
            .map(|d| DecisionRow {
                title: d.title.clone(),
                motion: d.motion.clone(),
                kind: code(&d.kind),
                outcome: code(&d.outcome),
                explanation: d.explanation.clone(),
                declared_on: d.declared_on.to_string(),
                voided_polls: d.voided_polls.len(),
            })
            .collect(),
        present: attendance.len() - absent,
        absent,
        attendance,
    }
}

async fn minutes(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    admitted(&state, &page, a, m).await?;
    let view = state
        .read(a, move |s| s.meetings.get(&m).map(|meeting| minutes_view(s, meeting)))
        .await
        .map_err(|e| page.error(e))?
        .ok_or_else(|| page.error(crate::http::api::meetings::unknown_meeting(m)))?;
    page.render(
        "chair/minutes.html",
        context! { minutes => V::from(Serde(&view)), association => a.to_string(), meeting => m.to_string() },
    )
}

async fn minutes_markdown(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    admitted(&state, &page, a, m).await?;
    let text = state
        .read(a, move |s| {
            s.meetings.get(&m).map(|meeting| crate::core::records::minutes(s, meeting).to_markdown())
        })
        .await
        .map_err(|e| page.error(e))?
        .ok_or_else(|| page.error(crate::http::api::meetings::unknown_meeting(m)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"minutes-{m}.md\"")))
        .body(text))
}
