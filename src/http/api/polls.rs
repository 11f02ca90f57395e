//! Polls and ballots in a general meeting (Art. 8.10, 8.13, 17.5): the chair opens and closes
//! a poll and declares its outcome, voters cast ballots and challenge a declaration, and
//! everyone in the association reads the results, each of which explains itself.
//!
//! The person who acts is always the caller: a ballot, an opening or a declaration is never
//! made in another person's name, whatever the body says. Whether the caller may act (chairs
//! the meeting, represents the member or holds its proxy) is the core's decision, and its
//! refusal reaches the caller with the rule and article. This module never shows how a member
//! voted while a poll is open; only the number of ballots.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::register::new_uuid;
use super::time;
use crate::core::keys::Signed;
use crate::core::profile::Majority;
use crate::core::tally::{DecidedBy, majority_words};
use crate::core::{
    AgendaItemId, Association, AssociationId, Choice, Command, Counts, Fact, Meeting, MeetingId, MemberId,
    Outcome, PersonId, Poll, PollId, PollMethod, PollResult, ProxyHolder, Via,
};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::service::SignedBallot;
use crate::store::log::Logged;
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_polls)
        .service(get_poll)
        .service(get_result)
        .service(list_results)
        .service(open_poll)
        .service(close_poll)
        .service(declare)
        .service(challenge);
}

/// The ballot route, which `api::configure` registers before every other.
pub fn configure_ballots(cfg: &mut ServiceConfig) {
    cfg.service(cast_ballot);
}

// ---- Views ----------------------------------------------------------------------------------

/// Counts of a poll or a resolution. Only `for` and `against` are votes cast.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsView {
    #[serde(rename = "for")]
    pub in_favour: u64,
    pub against: u64,
    pub abstain: u64,
    /// For and against; abstentions are not votes cast.
    pub votes_cast: u64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        Self { in_favour: c.in_favour, against: c.against, abstain: c.abstain, votes_cast: c.votes_cast() }
    }
}

/// The provision of the statutes that decided an outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedByView {
    /// The rule of the service's rules (R1–R8), e.g. `R7`.
    pub rule: String,
    /// The article as the association's statutes number it, e.g. `4.6, 6.3, 17.4a`.
    pub article: String,
    /// The rule in words, e.g. "at least two thirds of votes cast".
    pub words: String,
}

impl From<&DecidedBy> for DecidedByView {
    fn from(d: &DecidedBy) -> Self {
        Self { rule: d.rule.to_string(), article: d.article.clone(), words: d.words.clone() }
    }
}

/// Members present or represented when the poll was counted, and how.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceView {
    pub total: u64,
    pub in_person: u64,
    /// Taking part electronically (Art. 8.11).
    pub electronically: u64,
    /// Through the holder of their proxy (Art. 8.5).
    pub by_proxy: u64,
    /// By an advance electronic ballot on this motion (Art. 8.13).
    pub by_advance_ballot: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuorumView {
    /// The fraction of members in office that must be present or represented, e.g. `1/2`.
    pub required: String,
    /// The same in words, e.g. "half".
    pub required_words: String,
    /// The least number of members present or represented that meets it.
    pub needed: u64,
    pub present_or_represented: u64,
    pub met: bool,
    /// True in a new meeting after a failed quorum, which decides whatever the attendance.
    pub waived: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MajorityView {
    /// The majority of votes cast in words, e.g. "at least two thirds of votes cast".
    pub rule: String,
    /// The fraction of votes cast, e.g. `2/3`; null for unanimity.
    pub fraction: Option<String>,
    pub votes_cast: u64,
    /// The least number of votes for that adopts the motion with these votes cast.
    pub needed_for: u64,
    pub reached: bool,
}

/// The days within which a new meeting after a failed quorum may be held.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    /// The first day (Europe/Amsterdam), `YYYY-MM-DD`.
    pub earliest: String,
    /// The last day (Europe/Amsterdam), `YYYY-MM-DD`.
    pub latest: String,
    pub article: String,
}

/// The result of a closed poll, which explains itself: what was counted, who was present or
/// represented and how, the quorum and majority required and reached, and the provision that
/// decided the outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    pub poll: String,
    pub item: String,
    /// `ordinary`, `two_thirds`, `statute_amendment`, `dissolution`, `regulations` or `entrenched`.
    pub kind: String,
    /// `electronic`, `voice` or `written`.
    pub method: String,
    /// The moment at which presence and the quorum were taken (R5).
    pub taken_at: String,
    pub counts: CountsView,
    /// The members in office (zitting hebbende leden): the base of the quorum.
    pub members_in_office: u64,
    pub present_or_represented: PresenceView,
    pub quorum: QuorumView,
    pub majority: MajorityView,
    /// `adopted`, `rejected` or `no_quorum`.
    pub outcome: String,
    pub decided_by: DecidedByView,
    /// The result in a sentence.
    pub explanation: String,
    /// Advance ballots that lapsed because the meeting amended the motion (Art. 8.13).
    pub lapsed_advance_ballots: u32,
    /// False for a written poll on paper: only the tellers' counts are known.
    pub verifiable_ballot_by_ballot: bool,
    /// When the quorum failed: the window for the new meeting that decides whatever the
    /// attendance.
    pub follow_up: Option<FollowUpView>,
}

fn result_view(s: &Association, r: &PollResult) -> ResultView {
    let fraction = match r.majority.required {
        Majority::MoreThan(f) | Majority::AtLeast(f) => Some(f.to_string()),
        Majority::Unanimous => None,
    };
    ResultView {
        poll: r.poll.to_string(),
        item: r.item.to_string(),
        kind: code(&r.kind),
        method: code(&r.method),
        taken_at: time(r.taken_at),
        counts: r.counts.into(),
        members_in_office: r.quorum.members_in_office,
        present_or_represented: PresenceView {
            total: r.presence.total(),
            in_person: r.presence.in_person,
            electronically: r.presence.electronically,
            by_proxy: r.presence.by_proxy,
            by_advance_ballot: r.presence.by_advance_ballot,
        },
        quorum: QuorumView {
            required: r.quorum.required.to_string(),
            required_words: r.quorum.required.words(),
            needed: r.quorum.needed,
            present_or_represented: r.quorum.present_or_represented,
            met: r.quorum.met,
            waived: r.quorum.waived,
        },
        majority: MajorityView {
            rule: majority_words(&s.profile, r.majority.required),
            fraction,
            votes_cast: r.majority.votes_cast,
            needed_for: r.majority.needed_for,
            reached: r.majority.reached,
        },
        outcome: code(&r.outcome),
        decided_by: (&r.decided_by).into(),
        explanation: r.explanation.clone(),
        lapsed_advance_ballots: r.lapsed_advance_ballots,
        verifiable_ballot_by_ballot: r.verifiable_ballot_by_ballot,
        follow_up: r.follow_up.as_ref().map(|w| FollowUpView {
            earliest: w.earliest.to_string(),
            latest: w.latest.to_string(),
            article: w.article.clone(),
        }),
    }
}

/// The chair's declaration of the outcome (Art. 17.5).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationView {
    /// `adopted`, `rejected` or `no_quorum`.
    pub outcome: String,
    /// The person who declared: the chair.
    pub by: String,
    pub by_name: String,
    pub at: String,
}

/// The declaration was disputed at once by these members (Art. 17.5).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    pub at: String,
    pub supporters: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PollView {
    pub id: String,
    pub meeting: String,
    pub item: String,
    pub item_title: String,
    /// `electronic` (by name, verifiable), `voice` or `written` (secret, on paper).
    pub method: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    /// The poll whose challenged declaration this poll is the new poll of (Art. 17.5).
    pub revote_of: Option<String>,
    /// The new poll that voided this one (Art. 17.5).
    pub voided_by: Option<String>,
    pub declaration: Option<DeclarationView>,
    pub challenge: Option<ChallengeView>,
    /// Ballots cast in this poll so far, at most one per member. How anyone voted is not
    /// shown here.
    pub ballots: usize,
    /// Advance electronic ballots on the item (Art. 8.13); a ballot in the poll replaces a
    /// member's advance ballot.
    pub advance_ballots: usize,
    /// The result, once the poll is closed.
    pub result: Option<ResultView>,
    /// Proof that the chair's signed declaration is in the meeting's log, against the head the
    /// service signed after storing it. Only in the answer to the declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_receipt: Option<super::records::LogReceiptView>,
}

fn poll_view(s: &Association, m: &Meeting, p: &Poll) -> PollView {
    PollView {
        id: p.id.to_string(),
        meeting: m.id.to_string(),
        item: p.item.to_string(),
        item_title: m.item(p.item).map_or_else(|| p.item.to_string(), |i| i.title.clone()),
        method: code(&p.method),
        opened_at: time(p.opened_at),
        closed_at: p.closed_at.map(time),
        revote_of: p.revote_of.map(|x| x.to_string()),
        voided_by: p.voided_by.map(|x| x.to_string()),
        declaration: p.declaration.as_ref().map(|d| DeclarationView {
            outcome: code(&d.outcome),
            by: d.by.to_string(),
            by_name: s.register.person_name(d.by),
            at: time(d.at),
        }),
        challenge: p.challenge.as_ref().map(|c| ChallengeView {
            at: time(c.at),
            supporters: c.supporters.iter().map(ToString::to_string).collect(),
        }),
        ballots: p.ballots.len(),
        advance_ballots: m.advance_ballots.get(&p.item).map_or(0, |b| b.len()),
        result: p.result.as_ref().map(|r| result_view(s, r)),
        log_receipt: None,
    }
}

/// The polls of a meeting in the order they were opened.
fn polls_in_order(m: &Meeting) -> Vec<&Poll> {
    let mut polls: Vec<&Poll> = m.polls.values().collect();
    polls.sort_by_key(|p| (p.opened_at, p.id));
    polls
}

fn unknown_meeting(meeting: MeetingId) -> ApiError {
    ApiError::not_found("meeting.unknown", format!("There is no meeting {meeting}."))
}

fn unknown_poll(poll: PollId) -> ApiError {
    ApiError::not_found("poll.unknown", format!("There is no poll {poll} in this meeting."))
}

fn meeting_of(s: &Association, meeting: MeetingId) -> Result<&Meeting, ApiError> {
    s.meetings.get(&meeting).ok_or_else(|| unknown_meeting(meeting))
}

fn poll_of(s: &Association, meeting: MeetingId, poll: PollId) -> Result<(&Meeting, &Poll), ApiError> {
    let m = meeting_of(s, meeting)?;
    let p = m.polls.get(&poll).ok_or_else(|| unknown_poll(poll))?;
    Ok((m, p))
}

/// Refuses a path that names a meeting (and poll) that does not exist, before any command.
async fn must_exist(
    state: &AppState,
    a: AssociationId,
    meeting: MeetingId,
    poll: Option<PollId>,
) -> Result<(), ApiError> {
    state
        .read(a, move |s| match poll {
            Some(p) => poll_of(s, meeting, p).map(|_| ()),
            None => meeting_of(s, meeting).map(|_| ()),
        })
        .await?
}

async fn poll_response(
    state: &AppState,
    a: AssociationId,
    meeting: MeetingId,
    poll: PollId,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let view = state.read(a, move |s| poll_of(s, meeting, poll).map(|(m, p)| poll_view(s, m, p))).await??;
    Ok(HttpResponse::build(status).json(view))
}

// ---- Reading ---------------------------------------------------------------------------------

/// The polls of a meeting, in the order they were opened.
#[utoipa::path(tag = "polls", responses((status = 200, body = Vec<PollView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/polls")]
async fn list_polls(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting) = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, move |s| {
            meeting_of(s, meeting)
                .map(|m| polls_in_order(m).into_iter().map(|p| poll_view(s, m, p)).collect::<Vec<_>>())
        })
        .await??;
    Ok(HttpResponse::Ok().json(views))
}

/// One poll: its method, times, declaration, challenge, the number of ballots so far and,
/// once closed, its result.
#[utoipa::path(tag = "polls", responses((status = 200, body = PollView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/polls/{poll}")]
async fn get_poll(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, poll) = path.into_inner();
    caller.within(a)?;
    poll_response(&state, a, meeting, poll, StatusCode::OK).await
}

/// The result of a closed poll, explained; `poll.no_result` while the poll is open.
#[utoipa::path(tag = "polls", responses((status = 200, body = ResultView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/polls/{poll}/result")]
async fn get_result(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, poll) = path.into_inner();
    caller.within(a)?;
    let view = state
        .read(a, move |s| {
            let (_, p) = poll_of(s, meeting, poll)?;
            p.result.as_ref().map(|r| result_view(s, r)).ok_or_else(|| {
                ApiError::not_found(
                    "poll.no_result",
                    format!("Poll {poll} is still open; it has a result once the chair closes it."),
                )
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(view))
}

/// The results of every closed poll of a meeting, in the order the polls were opened.
#[utoipa::path(tag = "polls", responses((status = 200, body = Vec<ResultView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/results")]
async fn list_results(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting) = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, move |s| {
            meeting_of(s, meeting).map(|m| {
                polls_in_order(m)
                    .into_iter()
                    .filter_map(|p| p.result.as_ref())
                    .map(|r| result_view(s, r))
                    .collect::<Vec<_>>()
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(views))
}

// ---- The chair ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPoll {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<PollId>,
    /// The agenda item whose motion is put to the vote.
    #[schema(value_type = String)]
    pub item: AgendaItemId,
    /// `electronic` (ballots by name), `voice` or `written` (secret, on paper; Art. 8.10).
    pub method: PollMethod,
    /// The poll whose declaration was challenged, when this is its new poll (Art. 17.5).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub revote_of: Option<PollId>,
}

/// Opens a poll on an agenda item's motion (the chair of the meeting; Art. 8.10).
#[utoipa::path(tag = "polls", request_body = OpenPoll, responses((status = 201, body = PollView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/polls")]
async fn open_poll(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Json<OpenPoll>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting) = path.into_inner();
    caller.may_write(a)?;
    let b = body.into_inner();
    let poll = match b.id {
        Some(id) => id,
        None => PollId::from_uuid(new_uuid()?),
    };
    must_exist(&state, a, meeting, None).await?;
    state
        .execute(
            a,
            Command::OpenPoll {
                meeting,
                poll,
                item: b.item,
                method: b.method,
                by: caller.person,
                revote_of: b.revote_of,
            },
        )
        .await?;
    poll_response(&state, a, meeting, poll, StatusCode::CREATED).await
}

/// The counts the chair records for a poll by voice or on paper.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedCounts {
    #[serde(rename = "for")]
    pub in_favour: u64,
    pub against: u64,
    pub abstain: u64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosePoll {
    /// The counts of a poll by voice or on paper; left out for an electronic poll, which is
    /// counted from its ballots.
    #[serde(default)]
    pub counts: Option<RecordedCounts>,
}

/// Closes a poll and counts it (the chair of the meeting). The answer carries the result.
#[utoipa::path(tag = "polls", request_body(content = Option<ClosePoll>, description = "May be left out for an electronic poll"), responses((status = 200, body = PollView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/polls/{poll}/closing")]
async fn close_poll(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, poll) = path.into_inner();
    caller.may_write(a)?;
    // An electronic poll closes without a body; a poll by voice or on paper carries its counts.
    let body: ClosePoll = super::meetings::optional_body(&body)?;
    must_exist(&state, a, meeting, Some(poll)).await?;
    let counts =
        body.counts.map(|c| Counts { in_favour: c.in_favour, against: c.against, abstain: c.abstain });
    state.execute(a, Command::ClosePoll { meeting, poll, by: caller.person, counts }).await?;
    poll_response(&state, a, meeting, poll, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declare {
    /// `adopted`, `rejected` or `no_quorum`; it must follow the count.
    pub outcome: Outcome,
    /// The chair's signature over the declaration statement (docs/encoding.md), which binds
    /// the outcome and the counts.
    #[schema(value_type = crate::http::schemas::SignatureSchema)]
    pub signature: Option<Signed>,
}

/// Declares the outcome of a closed poll (the chair of the meeting; Art. 17.5).
#[utoipa::path(tag = "polls", request_body = Declare, responses((status = 200, body = PollView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/polls/{poll}/declaration")]
async fn declare(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    body: web::Json<Declare>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, poll) = path.into_inner();
    caller.may_write(a)?;
    must_exist(&state, a, meeting, Some(poll)).await?;
    let Declare { outcome, signature } = body.into_inner();
    let logged = state
        .execute(a, Command::DeclareResult { meeting, poll, by: caller.person, outcome, signed: signature })
        .await?;
    let receipt =
        super::receipt_for(&state, a, &logged, |f| matches!(f, Fact::ResultDeclared { .. })).await?;
    let mut view =
        state.read(a, move |s| poll_of(s, meeting, poll).map(|(m, p)| poll_view(s, m, p))).await??;
    view.log_receipt = Some(receipt);
    Ok(HttpResponse::Ok().json(view))
}

// ---- Voters ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeDeclaration {
    /// The members who dispute the declaration; they must be present or represented.
    #[schema(value_type = Vec<String>)]
    pub supporters: Vec<MemberId>,
}

/// Whether `person` may speak for `member` in the meeting: as its registered representative,
/// or as the holder of its proxy in force (for a member holder, that member's representative).
fn speaks_for(s: &Association, m: &Meeting, person: PersonId, member: MemberId) -> bool {
    s.register.represents(person, member)
        || m.proxy_of(member).is_some_and(|p| match p.holder {
            ProxyHolder::Member { member: holder } => s.register.represents(person, holder),
            other => other.person() == Some(person),
        })
}

/// Challenges the chair's declaration at once (Art. 17.5): a voter for at least one of the
/// supporters, or the secretariat recording a challenge from the floor.
#[utoipa::path(tag = "polls", request_body = ChallengeDeclaration, responses((status = 200, body = PollView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/polls/{poll}/challenge")]
async fn challenge(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, PollId)>,
    body: web::Json<ChallengeDeclaration>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, poll) = path.into_inner();
    caller.may_write(a)?;
    let supporters = body.into_inner().supporters;
    let secretariat = caller.has(Role::Secretariat);
    let person = caller.person;
    let named = supporters.clone();
    state
        .read(a, move |s| {
            let (m, _) = poll_of(s, meeting, poll)?;
            if secretariat || named.iter().any(|member| speaks_for(s, m, person, *member)) {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    "access.not_a_supporter",
                    "You represent none of the members who challenge the declaration, nor hold their proxy; the secretariat records a challenge from the floor.",
                ))
            }
        })
        .await??;
    state.execute(a, Command::ChallengeDeclaration { meeting, poll, supporters }).await?;
    poll_response(&state, a, meeting, poll, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastBallot {
    /// The member for whom the caller votes: one it represents, or whose proxy it holds.
    #[schema(value_type = String)]
    pub member: MemberId,
    /// `for`, `against` or `abstain`.
    pub choice: Choice,
    /// The caller's signature over the ballot statement (docs/encoding.md), which binds
    /// the association, meeting, item, poll (null for an advance ballot), member, caller and choice.
    #[schema(value_type = crate::http::schemas::SignatureSchema)]
    pub signature: Option<Signed>,
}

/// What the service recorded of a ballot, and where in the meeting's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct BallotReceipt {
    pub meeting: String,
    pub item: String,
    /// The poll the ballot was cast in; null for an advance ballot (Art. 8.13).
    pub poll: Option<String>,
    pub member: String,
    /// The person who cast the ballot: the caller.
    pub person: String,
    /// `for`, `against` or `abstain`.
    pub choice: String,
    /// `own` (the member's own representative), `proxy` (the holder of its proxy) or
    /// `advance` (before the meeting opened).
    pub via: String,
    /// The proxy exercised, when `via` is `proxy`.
    pub proxy: Option<String>,
    pub cast_at: String,
    /// The ballot's position in the association's log.
    pub seq: i64,
    /// The ballot's position in the meeting's log.
    pub stream_index: i64,
    /// Proof that the ballot is in the meeting's log, against the head the service signed
    /// after storing it. Keep it: it shows later that the ballot was counted.
    pub log_receipt: Option<super::records::LogReceiptView>,
    /// True when this request is an identical retry of a signed ballot the log already held:
    /// the answer (200, not 201) is that ballot as recorded the first time, and nothing was
    /// stored again. The proof is against the latest signed head.
    pub already_recorded: bool,
}

/// The ballot a command logged, and its entry in the log.
fn receipt(logged: &[Logged]) -> Option<(BallotReceipt, &Logged)> {
    logged.iter().find_map(|l| match &l.event.fact {
        Fact::BallotCast { meeting, poll, item, ballot } => {
            let (via, proxy) = match ballot.via {
                Via::Own => ("own", None),
                Via::Proxy { proxy } => ("proxy", Some(proxy.to_string())),
                Via::Advance => ("advance", None),
            };
            Some((
                BallotReceipt {
                    meeting: meeting.to_string(),
                    item: item.to_string(),
                    poll: poll.map(|p| p.to_string()),
                    member: ballot.member.to_string(),
                    person: ballot.person.to_string(),
                    choice: code(&ballot.choice),
                    via: via.to_owned(),
                    proxy,
                    cast_at: time(ballot.cast_at),
                    seq: l.seq,
                    stream_index: l.stream_index,
                    log_receipt: None,
                    already_recorded: false,
                },
                l,
            ))
        }
        _ => None,
    })
}

/// Casts the caller's ballot for a member on an agenda item's motion: an advance ballot
/// while the meeting is convened (Art. 8.13), a ballot in the open electronic poll while it
/// is in session. A later ballot of the member replaces its earlier one.
///
/// Sending the same signed ballot again (a retry after an answer that never came) is answered
/// with 200 and the ballot as it was recorded, `already_recorded: true`; it is stored once.
#[utoipa::path(tag = "polls", request_body = CastBallot, responses((status = 201, body = BallotReceipt), (status = 200, description = "An identical retry of a ballot already recorded", body = BallotReceipt), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem), (status = 507, description = "The disk is full: nothing recorded (storage.full)", body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/agenda-items/{item}/ballots")]
async fn cast_ballot(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, AgendaItemId)>,
    body: web::Json<CastBallot>,
) -> Result<HttpResponse, ApiError> {
    let (a, meeting, item) = path.into_inner();
    caller.may_write(a)?;
    let CastBallot { member, choice, signature } = body.into_inner();
    // The receipt comes from the transaction that stored the ballot (its batch's signed head),
    // so that answering needs no second trip to the log.
    let command =
        Command::CastBallot { meeting, item, member, person: caller.person, choice, signed: signature };
    let service = std::sync::Arc::clone(&state.service);
    let now = state.clock.now();
    // Awaited without a thread of its own while the ballot waits for its batch (many ballots
    // wait at once); the first command of an association after a start reads its state on a
    // blocking thread.
    let outcome = match service.submit(a, command, now, crate::service::Notices::Queue) {
        Ok(submitted) => submitted.outcome().await.map_err(|e| {
            tracing::error!(error = %e, "the thread that wrote a batch failed");
            ApiError::internal()
        })?,
        Err(command) => {
            web::block(move || {
                service.execute_with_receipts(a, *command, now, crate::service::Notices::Queue)
            })
            .await?
        }
    }
    .map_err(ApiError::from);
    let committed = match outcome {
        Ok(committed) => committed,
        // Refused: an identical retry of a stored ballot is answered with it; otherwise the
        // refusal stands. An accepted ballot names a meeting that exists; only a refused one is
        // asked whether its meeting does, so that an unknown meeting is a 404 as on every route.
        Err(refusal) => {
            must_exist(&state, a, meeting, None).await?;
            let Some(signed) = signature.filter(|_| refusal.problem.rule.is_some()) else {
                return Err(refusal);
            };
            let ballot = SignedBallot { meeting, item, member, person: caller.person, choice, signed };
            let service = std::sync::Arc::clone(&state.service);
            let Some(original) = web::block(move || service.recorded_ballot(a, &ballot)).await?? else {
                return Err(refusal);
            };
            let original = [original];
            let (mut receipt, cast) = receipt(&original).ok_or_else(|| {
                tracing::error!("a recorded ballot is not a BallotCast event");
                ApiError::internal()
            })?;
            receipt.already_recorded = true;
            receipt.log_receipt = Some(super::log_receipt(&state, a, cast).await?);
            return Ok(HttpResponse::Ok().json(receipt));
        }
    };
    state.live.publish(a, &committed.logged);
    let (mut receipt, cast) = receipt(&committed.logged).ok_or_else(|| {
        tracing::error!("an accepted ballot caused no BallotCast event");
        ApiError::internal()
    })?;
    let proof =
        committed.logged.iter().zip(&committed.receipts).find(|(l, _)| l.seq == cast.seq).map(|(_, r)| r);
    receipt.log_receipt = Some(match proof {
        Some(r) => super::records::receipt_view(r),
        None => super::log_receipt(&state, a, cast).await?,
    });
    Ok(HttpResponse::Created().json(receipt))
}
