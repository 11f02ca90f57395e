//! General meetings: members' requests to convene (Art. 8.1), creating and convening a meeting
//! (Art. 8.3, 20.3), opening and chairing it (Art. 8.4), amending a motion, closing it, and
//! attendance with times (Art. 8.11). Proxies are in [`super::proxies`], polls in
//! [`super::polls`].
//!
//! Who may do what: the **secretariat** drafts, convenes and keeps attendance at the door; the
//! **chair** opens and closes the meeting and amends motions; a **voter** checks itself in and
//! out for the members it represents or whose proxy it holds. Auditors only read. Whether a
//! step is allowed by the statutes is the core's decision, never this module's.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::register::new_uuid;
use super::time;
use crate::core::calendar::local;
use crate::core::tally::{Presence, members_in_office, presence_at};
use crate::core::{
    AgendaItem, AgendaItemId, AgendaItemSpec, Association, AssociationId, Attendance, AttendsAs, Command,
    Convener, ConvocationStatement, DecisionKind, Instant, Meeting, MeetingId, MemberId, Mode, MotionSpec,
    PersonId, ProxyHolder, RequestId,
};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_meetings)
        .service(get_meeting)
        .service(create_meeting)
        .service(convene)
        .service(open)
        .service(appoint_chair)
        .service(close)
        .service(amend_motion)
        .service(list_requests)
        .service(request_meeting)
        .service(get_attendance)
        .service(check_in)
        .service(check_out);
}

/// The refusal for a meeting id that names no meeting of the association.
pub fn unknown_meeting(m: MeetingId) -> ApiError {
    ApiError::not_found("meeting.unknown", format!("There is no meeting {m}."))
}

/// Reads from one meeting of the association; a meeting that does not exist is refused with
/// 404 `meeting.unknown`, so a handler checks this before it executes anything.
pub async fn read_meeting<R: Send + 'static>(
    state: &AppState,
    a: AssociationId,
    m: MeetingId,
    f: impl FnOnce(&Association, &Meeting) -> R + Send + 'static,
) -> Result<R, ApiError> {
    state
        .read(a, move |s| s.meetings.get(&m).map(|meeting| f(s, meeting)))
        .await?
        .ok_or_else(|| unknown_meeting(m))
}

/// A body that may be left out altogether: no body (or only white space) is the default.
pub fn optional_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "request.invalid_json",
            format!("The body is not what this request expects: {e}"),
        )
    })
}

fn not_chair() -> ApiError {
    ApiError::forbidden("access.not_chair", "Only the chair of the meeting or the secretariat may do this.")
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub title: String,
    pub starts_at: String,
    /// Where the meeting is held: a place or a link.
    pub place: String,
    /// `draft`, `convened`, `open` or `closed`.
    pub phase: String,
    /// The first meeting, when this is the new meeting after a failed quorum.
    pub follow_up_of: Option<String>,
    /// The members' request this meeting answers (Art. 8.1).
    pub request: Option<String>,
    pub convocation: Option<ConvocationView>,
    pub opened_at: Option<String>,
    pub closed_at: Option<String>,
    /// The person chairing the meeting, once opened (Art. 8.4).
    pub chair: Option<String>,
    pub chair_name: Option<String>,
    pub agenda: Vec<AgendaItemView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvocationView {
    pub convened_at: String,
    /// `board`, `supervisory_board` or `requesters` (Art. 8.1).
    pub convener: String,
    /// For a meeting convened by the requesters: their request.
    pub request: Option<String>,
    /// The window for advance electronic ballots (Art. 8.13), when the convocation opened it.
    pub advance_voting: Option<AdvanceVotingView>,
    /// The conditions for taking part electronically (Art. 8.11); none: in the room only.
    pub electronic_participation: Option<String>,
    /// What the convocation says besides the agenda, as the members read it.
    pub statements: Vec<ConvocationStatementView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvanceVotingView {
    pub opens: String,
    /// The scheduled opening of the meeting; the window really closes when the chair opens it.
    pub closes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvocationStatementView {
    /// `special_proposals`, `advance_voting_open`, `electronic_participation` or `follow_up`.
    pub kind: String,
    pub article: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItemView {
    pub id: String,
    pub title: String,
    pub motion: Option<MotionView>,
    /// In a new meeting after a failed quorum: the first meeting's item this one carries.
    pub carried_from: Option<String>,
    /// The member whose suspension or expulsion this item treats (Art. 6.9, 8.8).
    pub concerns_member: Option<String>,
    /// The item treats the annual accounts (Art. 8.2).
    pub annual_accounts: bool,
    /// The declared decision that stands on the motion, if any.
    pub decision: Option<StandingDecisionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MotionView {
    pub text: String,
    /// `ordinary`, `two_thirds`, `statute_amendment`, `dissolution`, `regulations` or
    /// `entrenched`.
    pub kind: String,
    /// The proposal attached to the convocation (Art. 20.3).
    pub proposal: Option<String>,
    pub board_proposal_approved: bool,
    /// How often the meeting amended the text.
    pub amendments: u32,
    /// Advance ballots that lapsed because the meeting amended the text (R4).
    pub lapsed_advance_ballots: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StandingDecisionView {
    pub poll: String,
    /// `adopted`, `rejected` or `no_quorum`.
    pub outcome: String,
    pub declared_at: String,
    pub declared_by: String,
}

fn statement_view(m: &Meeting, s: &ConvocationStatement) -> ConvocationStatementView {
    let titles = |items: &[AgendaItemId]| {
        items
            .iter()
            .map(|i| m.item(*i).map_or_else(|| i.to_string(), |i| format!("\"{}\"", i.title)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match s {
        ConvocationStatement::SpecialProposals { items, article } => ConvocationStatementView {
            kind: "special_proposals".into(),
            article: article.clone(),
            text: format!(
                "This meeting is convened specially to decide on {}; the proposals are attached to this convocation (Art. {article}).",
                titles(items)
            ),
        },
        ConvocationStatement::AdvanceVotingOpen { opens, closes, article } => ConvocationStatementView {
            kind: "advance_voting_open".into(),
            article: article.clone(),
            text: format!(
                "Members may vote electronically in advance from {} until the meeting opens, scheduled for {} (Art. {article}).",
                local(*opens),
                local(*closes)
            ),
        },
        ConvocationStatement::ElectronicParticipation { conditions, article } => ConvocationStatementView {
            kind: "electronic_participation".into(),
            article: article.clone(),
            text: format!(
                "Members may take part electronically (Art. {article}), on these conditions: {conditions}"
            ),
        },
        ConvocationStatement::FollowUp { article, text, .. } => ConvocationStatementView {
            kind: "follow_up".into(),
            article: article.clone(),
            text: format!("{text} (Art. {article})"),
        },
    }
}

fn item_view(m: &Meeting, i: &AgendaItem) -> AgendaItemView {
    AgendaItemView {
        id: i.id.to_string(),
        title: i.title.clone(),
        motion: i.motion.as_ref().map(|mo| MotionView {
            text: mo.text.clone(),
            kind: code(&mo.kind),
            proposal: mo.proposal.clone(),
            board_proposal_approved: mo.board_proposal_approved,
            amendments: mo.amendments,
            lapsed_advance_ballots: mo.lapsed_advance_ballots,
        }),
        carried_from: i.carried_from.map(|c| c.to_string()),
        concerns_member: i.concerns_member.map(|c| c.to_string()),
        annual_accounts: i.annual_accounts,
        decision: m.decision_on(i.id).and_then(|p| {
            p.declaration.as_ref().map(|d| StandingDecisionView {
                poll: p.id.to_string(),
                outcome: code(&d.outcome),
                declared_at: time(d.at),
                declared_by: d.by.to_string(),
            })
        }),
    }
}

pub fn meeting_view(s: &Association, m: &Meeting) -> MeetingView {
    MeetingView {
        id: m.id.to_string(),
        title: m.title.clone(),
        starts_at: time(m.starts_at),
        place: m.place.clone(),
        phase: code(&m.phase),
        follow_up_of: m.follow_up_of.map(|f| f.to_string()),
        request: m.request.map(|r| r.to_string()),
        convocation: m.convocation.as_ref().map(|c| ConvocationView {
            convened_at: time(c.at),
            convener: match c.by {
                Convener::Board => "board",
                Convener::SupervisoryBoard => "supervisory_board",
                Convener::Requesters { .. } => "requesters",
            }
            .into(),
            request: match c.by {
                Convener::Requesters { request } => Some(request.to_string()),
                Convener::Board | Convener::SupervisoryBoard => None,
            },
            advance_voting: c
                .advance_voting
                .as_ref()
                .map(|w| AdvanceVotingView { opens: time(w.opens), closes: time(w.closes) }),
            electronic_participation: c.electronic_participation.clone(),
            statements: c.statements.iter().map(|st| statement_view(m, st)).collect(),
        }),
        opened_at: m.opened_at.map(time),
        closed_at: m.closed_at.map(time),
        chair: m.chair.map(|p| p.to_string()),
        chair_name: m.chair.map(|p| s.register.person_name(p)),
        agenda: m.agenda.iter().map(|i| item_view(m, i)).collect(),
    }
}

async fn meeting_response(
    state: &AppState,
    a: AssociationId,
    m: MeetingId,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let view = read_meeting(state, a, m, meeting_view).await?;
    Ok(HttpResponse::build(status).json(view))
}

// ---------------------------------------------------------------------------------------------
// Meetings

/// The meetings, by the moment they start.
#[utoipa::path(tag = "meetings", responses((status = 200, body = Vec<MeetingView>), (status = 403, body = Problem)))]
#[get("/associations/{association}/meetings")]
async fn list_meetings(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, |s| {
            let mut meetings: Vec<&Meeting> = s.meetings.values().collect();
            meetings.sort_by(|x, y| x.starts_at.cmp(&y.starts_at).then_with(|| x.title.cmp(&y.title)));
            meetings.into_iter().map(|m| meeting_view(s, m)).collect::<Vec<_>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// One meeting: its convocation, agenda, chair and the decisions that stand.
#[utoipa::path(tag = "meetings", responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}")]
async fn get_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    meeting_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<MeetingId>,
    pub title: String,
    /// RFC 3339, e.g. `2026-03-20T19:00:00+01:00`.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Instant,
    /// Where the meeting is held: a place or a link.
    pub place: String,
    #[serde(default)]
    pub agenda: Vec<NewAgendaItem>,
    /// For a new meeting after a failed quorum: the first meeting (Art. 17.4b–c, 20.1, 20.2).
    #[schema(value_type = Option<String>)]
    pub follow_up_of: Option<MeetingId>,
    /// The members' request this meeting answers (Art. 8.1).
    #[schema(value_type = Option<String>)]
    pub request: Option<RequestId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgendaItem {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<AgendaItemId>,
    pub title: String,
    /// The motion put to the vote under this item; none for an item that is not for decision.
    pub motion: Option<NewMotion>,
    /// In a new meeting after a failed quorum: the first meeting's item this one carries.
    #[schema(value_type = Option<String>)]
    pub carried_from: Option<AgendaItemId>,
    /// The member whose suspension or expulsion this item treats (Art. 6.9, 8.8).
    #[schema(value_type = Option<String>)]
    pub concerns_member: Option<MemberId>,
    /// The item treats the annual accounts (Art. 8.2).
    #[serde(default)]
    pub annual_accounts: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMotion {
    pub text: String,
    /// `ordinary`, `two_thirds`, `statute_amendment`, `dissolution`, `regulations` or
    /// `entrenched` (R7).
    pub kind: DecisionKind,
    /// The proposal to attach to the convocation; required for a statute amendment,
    /// dissolution or regulations (Art. 20.3).
    pub proposal: Option<String>,
    /// A proposal of the board approved by the supervisory board (Art. 20.1, 21.1).
    #[serde(default)]
    pub board_proposal_approved: bool,
}

/// Drafts a meeting with its agenda (secretariat). It is convened separately.
#[utoipa::path(tag = "meetings", request_body = NewMeeting, responses((status = 201, body = MeetingView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings")]
async fn create_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<NewMeeting>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.may_write(a)?;
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    let id = match b.id {
        Some(id) => id,
        None => MeetingId::from_uuid(new_uuid()?),
    };
    let mut agenda = Vec::with_capacity(b.agenda.len());
    for item in b.agenda {
        agenda.push(AgendaItemSpec {
            item: match item.id {
                Some(id) => id,
                None => AgendaItemId::from_uuid(new_uuid()?),
            },
            title: item.title,
            motion: item.motion.map(|m| MotionSpec {
                text: m.text,
                kind: m.kind,
                proposal: m.proposal,
                board_proposal_approved: m.board_proposal_approved,
            }),
            carried_from: item.carried_from,
            concerns_member: item.concerns_member,
            annual_accounts: item.annual_accounts,
        });
    }
    state
        .execute(
            a,
            Command::CreateMeeting {
                meeting: id,
                title: b.title,
                starts_at: b.starts_at,
                place: b.place,
                agenda,
                follow_up_of: b.follow_up_of,
                request: b.request,
            },
        )
        .await?;
    meeting_response(&state, a, id, StatusCode::CREATED).await
}

/// Who convenes the meeting (Art. 8.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "convener", deny_unknown_fields)]
pub enum ConvenerChoice {
    // Variants with braces, so that a stray field is refused as in every other body (serde
    // lets unit variants of an internally tagged enum ignore unknown fields).
    Board {},
    SupervisoryBoard {},
    /// The requesting members, when the board did not hold the requested meeting in time.
    Requesters {
        #[schema(value_type = String)]
        request: RequestId,
    },
}

impl Default for ConvenerChoice {
    fn default() -> Self {
        ConvenerChoice::Board {}
    }
}

impl From<ConvenerChoice> for Convener {
    fn from(c: ConvenerChoice) -> Self {
        match c {
            ConvenerChoice::Board {} => Convener::Board,
            ConvenerChoice::SupervisoryBoard {} => Convener::SupervisoryBoard,
            ConvenerChoice::Requesters { request } => Convener::Requesters { request },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Convocation {
    /// `{"convener": "board"}` (the default), `{"convener": "supervisory_board"}` or
    /// `{"convener": "requesters", "request": "..."}`.
    #[serde(default)]
    pub convener: ConvenerChoice,
    /// Opens advance electronic voting (Art. 8.13); it cannot be opened later.
    #[serde(default)]
    pub advance_voting: bool,
    /// The conditions for taking part electronically (Art. 8.11); none for the room only. They
    /// cannot be added later.
    pub electronic_participation: Option<String>,
}

/// Convenes a drafted meeting (secretariat): at least ten days before it, the two days not
/// counted (Art. 8.3), fourteen for a statute amendment (Art. 20.3).
#[utoipa::path(tag = "meetings", request_body = Convocation, responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/convocation")]
async fn convene(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Json<Convocation>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    caller.require(a, Role::Secretariat)?;
    read_meeting(&state, a, m, |_, _| ()).await?;
    let b = body.into_inner();
    state
        .execute(
            a,
            Command::ConveneMeeting {
                meeting: m,
                by: b.convener.into(),
                advance_voting: b.advance_voting,
                electronic_participation: b.electronic_participation,
            },
        )
        .await?;
    meeting_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// The general meeting appointed the chair (Art. 8.4): only the secretariat records that,
    /// naming the chair.
    #[serde(default)]
    pub appointed_by_meeting: bool,
    /// The chair the general meeting appointed; only with `appointed_by_meeting`.
    #[schema(value_type = Option<String>)]
    pub chair: Option<PersonId>,
}

/// Opens the meeting on its day. The caller chairs it: the chair of the supervisory board or
/// the deputy (Art. 8.4). When the general meeting appoints another chair, the secretariat
/// opens on that chair's behalf. The body may be left out.
#[utoipa::path(tag = "meetings", request_body(content = Option<Opening>, description = "May be left out"), responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/opening")]
async fn open(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    let b: Opening = optional_body(&body)?;
    let chair = if b.appointed_by_meeting {
        if !caller.has(Role::Secretariat) {
            return Err(ApiError::forbidden(
                "access.role_required",
                "Only the secretariat records that the general meeting appointed a chair; the chair of the supervisory board or the deputy opens the meeting without it.",
            ));
        }
        b.chair.ok_or_else(|| {
            ApiError::bad_request(
                "request.chair_missing",
                "Name the chair the general meeting appointed in 'chair'.",
            )
        })?
    } else {
        match b.chair {
            Some(other) if other != caller.person => {
                return Err(ApiError::forbidden(
                    "access.not_chair",
                    "You open the meeting as its chair yourself; to open it for a chair the general meeting appointed, the secretariat sets 'appointed_by_meeting'.",
                ));
            }
            _ => caller.person,
        }
    };
    read_meeting(&state, a, m, |_, _| ()).await?;
    state
        .execute(a, Command::OpenMeeting { meeting: m, chair, appointed_by_meeting: b.appointed_by_meeting })
        .await?;
    meeting_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChairAppointment {
    /// The person the general meeting appointed to chair it (Art. 8.4).
    #[schema(value_type = String)]
    pub person: PersonId,
}

/// Records that the general meeting appointed another chair (Art. 8.4; the secretariat or the
/// current chair).
#[utoipa::path(tag = "meetings", request_body = ChairAppointment, responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/chair")]
async fn appoint_chair(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Json<ChairAppointment>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    let chair = read_meeting(&state, a, m, |_, meeting| meeting.chair).await?;
    if !caller.has(Role::Secretariat) && chair != Some(caller.person) {
        return Err(not_chair());
    }
    state.execute(a, Command::AppointChair { meeting: m, person: body.into_inner().person }).await?;
    meeting_response(&state, a, m, StatusCode::OK).await
}

/// Closes the meeting (the chair).
#[utoipa::path(tag = "meetings", responses((status = 200, body = MeetingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/closing")]
async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    read_meeting(&state, a, m, |_, _| ()).await?;
    state.execute(a, Command::CloseMeeting { meeting: m, by: caller.person }).await?;
    meeting_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MotionAmendment {
    /// The motion's text as the meeting amended it.
    pub text: String,
}

/// Amends a motion's text in the meeting (the chair or the secretariat). Advance ballots on it
/// lapse (R4); the item says how many.
#[utoipa::path(tag = "meetings", request_body = MotionAmendment, responses((status = 200, body = AgendaItemView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/associations/{association}/meetings/{meeting}/agenda-items/{item}/motion")]
async fn amend_motion(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, AgendaItemId)>,
    body: web::Json<MotionAmendment>,
) -> Result<HttpResponse, ApiError> {
    let (a, m, item) = path.into_inner();
    caller.may_write(a)?;
    let chair = read_meeting(&state, a, m, |_, meeting| meeting.chair).await?;
    if !caller.has(Role::Secretariat) && chair != Some(caller.person) {
        return Err(not_chair());
    }
    state.execute(a, Command::AmendMotion { meeting: m, item, text: body.into_inner().text }).await?;
    let view =
        read_meeting(&state, a, m, move |_, meeting| meeting.item(item).map(|i| item_view(meeting, i)))
            .await?
            .ok_or_else(|| {
                ApiError::not_found("item.unknown", format!("The meeting has no agenda item {item}."))
            })?;
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------------------------------------
// Members' requests to convene (Art. 8.1)

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestingMemberView {
    pub member: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersRequestView {
    pub id: String,
    pub received_at: String,
    pub members: Vec<RequestingMemberView>,
    pub subjects: Vec<String>,
    /// The last day on which the board may hold the meeting; after it the requesters may
    /// convene it themselves (Art. 8.1).
    pub board_deadline: String,
    /// The meetings drafted to answer the request.
    pub meetings: Vec<String>,
}

fn request_view(s: &Association, id: RequestId) -> Option<MembersRequestView> {
    let r = s.requests.get(&id)?;
    Some(MembersRequestView {
        id: id.to_string(),
        received_at: time(r.at),
        members: r
            .members
            .iter()
            .map(|m| RequestingMemberView { member: m.to_string(), name: s.register.member_name(*m) })
            .collect(),
        subjects: r.subjects.clone(),
        board_deadline: r.board_deadline.to_string(),
        meetings: s.meetings.values().filter(|m| m.request == Some(id)).map(|m| m.id.to_string()).collect(),
    })
}

/// The members' requests to convene, in the order they were received.
#[utoipa::path(tag = "meetings", responses((status = 200, body = Vec<MembersRequestView>), (status = 403, body = Problem)))]
#[get("/associations/{association}/members-requests")]
async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, |s| {
            let mut ids: Vec<(Instant, RequestId)> = s.requests.values().map(|r| (r.at, r.id)).collect();
            ids.sort();
            ids.into_iter().filter_map(|(_, id)| request_view(s, id)).collect::<Vec<_>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMembersRequest {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<RequestId>,
    /// The members who asked, in writing or electronically; at least one tenth (Art. 8.1).
    #[schema(value_type = Vec<String>)]
    pub members: Vec<MemberId>,
    /// The subjects they want treated.
    pub subjects: Vec<String>,
}

/// Records a members' request to convene a general meeting (Art. 8.1; secretariat).
#[utoipa::path(tag = "meetings", request_body = NewMembersRequest, responses((status = 201, body = MembersRequestView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/members-requests")]
async fn request_meeting(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<NewMembersRequest>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.may_write(a)?;
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    let id = match b.id {
        Some(id) => id,
        None => RequestId::from_uuid(new_uuid()?),
    };
    state
        .execute(a, Command::RequestMeeting { request: id, members: b.members, subjects: b.subjects })
        .await?;
    let view = state.read(a, move |s| request_view(s, id)).await?.ok_or_else(|| {
        ApiError::not_found("request.unknown", format!("There is no members' request {id}."))
    })?;
    Ok(HttpResponse::Created().json(view))
}

// ---------------------------------------------------------------------------------------------
// Attendance (Art. 8.11, R5)

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceStretchView {
    pub member: String,
    pub member_name: String,
    /// Who attended for the member.
    pub person: String,
    pub person_name: String,
    /// `own` (its own representative) or `proxy`.
    #[serde(rename = "as")]
    #[schema(rename = "as")]
    pub attends_as: String,
    /// The proxy exercised, when attending by proxy.
    pub proxy: Option<String>,
    /// `in_person` or `electronic`.
    pub mode: String,
    pub arrived: String,
    /// When the member left; none while it is still present.
    pub left: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresentMemberView {
    pub member: String,
    pub name: String,
    /// `in_person`, `electronically` or `by_proxy`.
    pub how: String,
}

/// Members present or represented at a moment, by how (R5). Advance ballots count per motion,
/// in the result of a poll, not here.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresentNowView {
    pub at: String,
    pub members_in_office: u64,
    pub present_or_represented: u64,
    pub in_person: u64,
    pub electronically: u64,
    pub by_proxy: u64,
    pub members: Vec<PresentMemberView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceView {
    /// Every stretch of attendance, in the order the members arrived.
    pub stretches: Vec<AttendanceStretchView>,
    /// Who is present or represented now.
    pub present: PresentNowView,
}

fn stretch_view(s: &Association, a: &Attendance) -> AttendanceStretchView {
    let (attends_as, proxy) = match a.attends_as {
        AttendsAs::Own => ("own", None),
        AttendsAs::Proxy { proxy } => ("proxy", Some(proxy.to_string())),
    };
    AttendanceStretchView {
        member: a.member.to_string(),
        member_name: s.register.member_name(a.member),
        person: a.person.to_string(),
        person_name: s.register.person_name(a.person),
        attends_as: attends_as.into(),
        proxy,
        mode: code(&a.mode),
        arrived: time(a.arrived),
        left: a.left.map(time),
    }
}

fn attendance_view(s: &Association, m: &Meeting, now: Instant) -> AttendanceView {
    let mut spans: Vec<&Attendance> = m.attendance_spans().collect();
    spans.sort_by(|x, y| x.arrived.cmp(&y.arrived).then_with(|| x.member.cmp(&y.member)));
    let present = presence_at(&s.register, &s.profile, m, now);
    let count = |how: Presence| present.values().filter(|p| **p == how).count() as u64;
    let mut members: Vec<PresentMemberView> = present
        .iter()
        .map(|(member, how)| PresentMemberView {
            member: member.to_string(),
            name: s.register.member_name(*member),
            how: code(how),
        })
        .collect();
    members.sort_by(|x, y| x.name.cmp(&y.name));
    AttendanceView {
        stretches: spans.into_iter().map(|a| stretch_view(s, a)).collect(),
        present: PresentNowView {
            at: time(now),
            members_in_office: members_in_office(&s.register, &s.profile),
            present_or_represented: present.len() as u64,
            in_person: count(Presence::InPerson),
            electronically: count(Presence::Electronically),
            by_proxy: count(Presence::ByProxy),
            members,
        },
    }
}

/// The attendance of the meeting: every stretch with its times, and who is present or
/// represented now.
#[utoipa::path(tag = "meetings", responses((status = 200, body = AttendanceView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/attendance")]
async fn get_attendance(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    let now = state.clock.now();
    let view = read_meeting(&state, a, m, move |s, meeting| attendance_view(s, meeting, now)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// The member that attends.
    #[schema(value_type = String)]
    pub member: MemberId,
    /// Who attends for it: left out, the caller; another person only when the secretariat
    /// checks them in at the door.
    #[schema(value_type = Option<String>)]
    pub person: Option<PersonId>,
    /// `in_person` or `electronic` (only when the convocation offered it, Art. 8.11).
    pub mode: Mode,
}

/// Checks a member in: a voter checks itself in for a member it represents or whose proxy it
/// holds; the secretariat checks a person in at the door.
#[utoipa::path(tag = "meetings", request_body = CheckIn, responses((status = 201, body = AttendanceStretchView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/attendance")]
async fn check_in(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Json<CheckIn>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    let b = body.into_inner();
    let person = match b.person {
        Some(person) if person != caller.person => {
            if !caller.has(Role::Secretariat) {
                return Err(ApiError::forbidden(
                    "access.role_required",
                    "Only the secretariat checks in someone else; leave 'person' out to check yourself in.",
                ));
            }
            person
        }
        _ => caller.person,
    };
    read_meeting(&state, a, m, |_, _| ()).await?;
    state.execute(a, Command::CheckIn { meeting: m, member: b.member, person, mode: b.mode }).await?;
    let member = b.member;
    let view = read_meeting(&state, a, m, move |s, meeting| {
        meeting.current_attendance(member).map(|at| stretch_view(s, at))
    })
    .await?
    .ok_or_else(ApiError::internal)?;
    Ok(HttpResponse::Created().json(view))
}

/// Whether `person` may act for `member` in this meeting: it represents the member, holds its
/// proxy (or represents the member that holds it), or attends for it now.
fn acts_for(s: &Association, m: &Meeting, person: PersonId, member: MemberId) -> bool {
    s.register.represents(person, member)
        || m.proxy_of(member).is_some_and(|p| match p.holder {
            ProxyHolder::Member { member: holder } => s.register.represents(person, holder),
            other => other.person() == Some(person),
        })
        || m.current_attendance(member).is_some_and(|at| at.person == person)
}

/// Checks a member out: it leaves the meeting (the secretariat, or whoever represents the
/// member or holds its proxy).
#[utoipa::path(tag = "meetings", responses((status = 200, body = AttendanceStretchView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[delete("/associations/{association}/meetings/{meeting}/attendance/{member}")]
async fn check_out(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, MemberId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m, member) = path.into_inner();
    caller.may_write(a)?;
    let person = caller.person;
    let allowed = read_meeting(&state, a, m, move |s, meeting| acts_for(s, meeting, person, member)).await?;
    if !allowed && !caller.has(Role::Secretariat) {
        return Err(ApiError::forbidden(
            "access.not_representative",
            "Only the secretariat, or a person who represents the member or holds its proxy, checks it out.",
        ));
    }
    state.execute(a, Command::CheckOut { meeting: m, member }).await?;
    let view = read_meeting(&state, a, m, move |s, meeting| {
        meeting.attendance.get(&member).and_then(|spans| spans.last()).map(|at| stretch_view(s, at))
    })
    .await?
    .ok_or_else(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(view))
}
