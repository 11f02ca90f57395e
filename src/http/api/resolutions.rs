//! Resolutions outside a meeting (Art. 8.12): the secretariat proposes one with the prior
//! knowledge of the board and the supervisory board, each member votes through a person who
//! represents it, and the secretariat concludes it once every member has voted or the voting
//! period has ended. It is adopted only as the statutes' unanimity outside a meeting requires;
//! the result explains itself.
//!
//! The person who votes is always the caller, who signs the vote with their key (R8); the core
//! decides whether that person represents the member, and checks the signature. The answer
//! carries a receipt against the signed head of the association's log. How a member voted is
//! not shown; only the number of votes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::polls::{CountsView, DecidedByView};
use super::register::new_uuid;
use super::time;
use crate::core::tally::members_in_office;
use crate::core::{
    Association, AssociationId, Choice, Command, DecisionKind, Fact, Instant, MemberId, ResolutionId, Signed,
    WrittenResolution,
};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_resolutions).service(get_resolution).service(propose).service(vote).service(conclude);
}

/// The result of a concluded resolution outside a meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionResultView {
    /// The members in office: every one of them must vote as the statutes require.
    pub members_in_office: u64,
    pub counts: CountsView,
    /// Members in office that did not vote.
    pub not_voted: u64,
    /// `adopted` or `rejected`.
    pub outcome: String,
    pub decided_by: DecidedByView,
    /// The result in a sentence.
    pub explanation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionView {
    pub id: String,
    pub text: String,
    /// `ordinary`, `two_thirds`, ...; what is decided only in a specially convened meeting
    /// cannot be decided outside one.
    pub kind: String,
    pub proposed_at: String,
    /// The end of the voting period.
    pub closes_at: String,
    /// True until the secretariat concludes the resolution.
    pub open: bool,
    /// Members that have voted so far. How they voted is not shown.
    pub votes: usize,
    pub members_in_office: u64,
    /// The result, once concluded.
    pub result: Option<ResolutionResultView>,
}

fn resolution_view(s: &Association, r: &WrittenResolution) -> ResolutionView {
    ResolutionView {
        id: r.id.to_string(),
        text: r.text.clone(),
        kind: code(&r.kind),
        proposed_at: time(r.proposed_at),
        closes_at: time(r.closes_at),
        open: r.result.is_none(),
        votes: r.votes.len(),
        members_in_office: members_in_office(&s.register, &s.profile),
        result: r.result.as_ref().map(|x| ResolutionResultView {
            members_in_office: x.members_in_office,
            counts: x.counts.into(),
            not_voted: x.not_voted,
            outcome: code(&x.outcome),
            decided_by: (&x.decided_by).into(),
            explanation: x.explanation.clone(),
        }),
    }
}

fn unknown(resolution: ResolutionId) -> ApiError {
    ApiError::not_found("resolution.unknown", format!("There is no resolution {resolution}."))
}

async fn resolution_response(
    state: &AppState,
    a: AssociationId,
    id: ResolutionId,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let view = state.read(a, move |s| s.resolutions.get(&id).map(|r| resolution_view(s, r))).await?;
    Ok(HttpResponse::build(status).json(view.ok_or_else(|| unknown(id))?))
}

/// Refuses a path that names a resolution that does not exist, before any command.
async fn must_exist(state: &AppState, a: AssociationId, id: ResolutionId) -> Result<(), ApiError> {
    let known = state.read(a, move |s| s.resolutions.contains_key(&id)).await?;
    if known { Ok(()) } else { Err(unknown(id)) }
}

/// The resolutions outside a meeting, latest proposed first.
#[utoipa::path(tag = "resolutions", responses((status = 200, body = Vec<ResolutionView>), (status = 403, body = Problem)))]
#[get("/associations/{association}/resolutions")]
async fn list_resolutions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, |s| {
            let mut all: Vec<&WrittenResolution> = s.resolutions.values().collect();
            all.sort_by_key(|r| std::cmp::Reverse((r.proposed_at, r.id)));
            all.into_iter().map(|r| resolution_view(s, r)).collect::<Vec<_>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// One resolution, with the number of votes and, once concluded, its result.
#[utoipa::path(tag = "resolutions", responses((status = 200, body = ResolutionView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/resolutions/{resolution}")]
async fn get_resolution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, ResolutionId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, id) = path.into_inner();
    caller.within(a)?;
    resolution_response(&state, a, id, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeResolution {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<ResolutionId>,
    pub text: String,
    /// `ordinary` or `two_thirds`; a statute amendment, dissolution or regulations are decided
    /// only in a meeting convened specially for them.
    pub kind: DecisionKind,
    /// The end of the voting period, RFC 3339.
    #[schema(value_type = String)]
    pub closes_at: Instant,
    /// The board knows of the proposal beforehand (Art. 8.12).
    pub board_informed: bool,
    /// The supervisory board knows of the proposal beforehand (Art. 8.12).
    pub supervisory_board_informed: bool,
}

/// Proposes a resolution outside a meeting (secretariat; Art. 8.12).
#[utoipa::path(tag = "resolutions", request_body = ProposeResolution, responses((status = 201, body = ResolutionView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/resolutions")]
async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<ProposeResolution>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    let id = match b.id {
        Some(id) => id,
        None => ResolutionId::from_uuid(new_uuid()?),
    };
    state
        .execute(
            a,
            Command::ProposeResolution {
                resolution: id,
                text: b.text,
                kind: b.kind,
                closes_at: b.closes_at,
                board_informed: b.board_informed,
                supervisory_board_informed: b.supervisory_board_informed,
            },
        )
        .await?;
    resolution_response(&state, a, id, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastResolutionVote {
    /// The member for whom the caller votes: one it represents.
    #[schema(value_type = String)]
    pub member: MemberId,
    /// `for`, `against` or `abstain`.
    pub choice: Choice,
    /// The caller's signature over the resolution vote statement (docs/encoding.md), which
    /// binds the association, resolution, member, caller and choice.
    #[schema(value_type = crate::http::schemas::SignatureSchema)]
    pub signature: Option<Signed>,
}

/// What the service recorded of a vote on a resolution, and where in the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionVoteReceipt {
    pub resolution: String,
    pub member: String,
    /// The person who voted: the caller.
    pub person: String,
    pub choice: String,
    pub cast_at: String,
    /// The vote's position in the association's log.
    pub seq: i64,
    /// The vote's position in the association's stream.
    pub stream_index: i64,
    /// Proof that the vote is in the association's log, against the head the service signed
    /// after storing it. Keep it: it shows later that the vote was counted.
    pub log_receipt: super::records::LogReceiptView,
}

/// Casts the caller's vote for a member it represents (Art. 8.12), signed by the caller (R8). A
/// later vote of the member replaces its earlier one.
#[utoipa::path(tag = "resolutions", request_body = CastResolutionVote, responses((status = 201, body = ResolutionVoteReceipt), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/resolutions/{resolution}/votes")]
async fn vote(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, ResolutionId)>,
    body: web::Json<CastResolutionVote>,
) -> Result<HttpResponse, ApiError> {
    let (a, resolution) = path.into_inner();
    caller.may_write(a)?;
    must_exist(&state, a, resolution).await?;
    let CastResolutionVote { member, choice, signature } = body.into_inner();
    let logged = state
        .execute(
            a,
            Command::CastResolutionVote {
                resolution,
                member,
                person: caller.person,
                choice,
                signed: signature,
            },
        )
        .await?;
    let (cast, resolution, ballot) = logged
        .iter()
        .find_map(|l| match &l.event.fact {
            Fact::ResolutionVoteCast { resolution, ballot } => Some((l, resolution, ballot)),
            _ => None,
        })
        .ok_or_else(|| {
            tracing::error!("an accepted vote caused no ResolutionVoteCast event");
            ApiError::internal()
        })?;
    let receipt = ResolutionVoteReceipt {
        resolution: resolution.to_string(),
        member: ballot.member.to_string(),
        person: ballot.person.to_string(),
        choice: code(&ballot.choice),
        cast_at: time(ballot.cast_at),
        seq: cast.seq,
        stream_index: cast.stream_index,
        log_receipt: super::log_receipt(&state, a, cast).await?,
    };
    Ok(HttpResponse::Created().json(receipt))
}

/// Concludes a resolution and counts it (secretariat): once every member has voted, or the
/// voting period has ended.
#[utoipa::path(tag = "resolutions", responses((status = 200, body = ResolutionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/resolutions/{resolution}/conclusion")]
async fn conclude(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, ResolutionId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, resolution) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    must_exist(&state, a, resolution).await?;
    state.execute(a, Command::ConcludeResolution { resolution }).await?;
    resolution_response(&state, a, resolution, StatusCode::OK).await
}
