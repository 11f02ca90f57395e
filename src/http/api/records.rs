//! Records of a meeting: the minutes (list of decisions and attendance list, Art. 17.6) in JSON
//! and Markdown, the meeting's event log, and the live view for the chair (server-sent events).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::time;
use crate::core::records::{Minutes, Participation, minutes};
use crate::core::tally::{Presence, members_in_office, presence_at};
use crate::core::{Association, AssociationId, Instant, MeetingId, Phase};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(minutes_json)
        .service(minutes_markdown)
        .service(meeting_events)
        .service(live)
        .service(log_head)
        .service(log_receipt)
        .service(log_consistency);
}

/// A tree head of a meeting's log or the association's log, signed by the service (see docs/encoding.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct TreeHeadView {
    pub association: String,
    /// The meeting whose log this is; null for the association's log.
    pub meeting: Option<String>,
    /// How many entries the log held.
    pub size: u64,
    /// The RFC 6962 root hash, hex.
    pub root: String,
    /// The head's time, RFC 3339 with microseconds.
    pub timestamp: String,
    /// The service's Ed25519 signature over the head's bytes, hex; the key is at /api/v1/service-key.
    pub signature: String,
}

pub fn tree_head_view(h: &crate::ledger::log::SignedTreeHead) -> TreeHeadView {
    use crate::ledger::log::hex;
    TreeHeadView {
        association: h.head.association.to_string(),
        meeting: h.head.meeting.map(|m| m.to_string()),
        size: h.head.size,
        root: hex(&h.head.root),
        timestamp: h.head.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        signature: hex(&h.signature),
    }
}

/// Proof that an entry is in a meeting's log or the association's log: its leaf, the path to
/// the root, and the signed head whose root that is.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogReceiptView {
    pub leaf_index: u64,
    /// hex of SHA-256(0x00 || entry bytes).
    pub leaf_hash: String,
    /// The RFC 6962 inclusion proof, hex hashes from the leaf up.
    pub inclusion_proof: Vec<String>,
    pub tree_head: TreeHeadView,
}

pub fn receipt_view(r: &crate::service::Receipt) -> LogReceiptView {
    use crate::ledger::log::hex;
    LogReceiptView {
        leaf_index: r.leaf_index,
        leaf_hash: hex(&r.leaf_hash),
        inclusion_proof: r.inclusion_proof.iter().map(|h| hex(h)).collect(),
        tree_head: tree_head_view(&r.tree_head),
    }
}

async fn existing_meeting(
    state: &AppState,
    caller: &Caller,
    a: AssociationId,
    m: MeetingId,
) -> Result<(), ApiError> {
    caller.within(a)?;
    if state.read(a, move |s| s.meetings.contains_key(&m)).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")))
    }
}

/// The latest signed tree head of a meeting's log.
#[utoipa::path(tag = "records", responses((status = 200, body = TreeHeadView), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/log/head")]
async fn log_head(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    existing_meeting(&state, &caller, a, m).await?;
    stream_head(&state, a, m.to_string()).await
}

/// The latest signed tree head of a stream (a meeting's id, or `store::log::ASSOCIATION_STREAM`).
pub(super) async fn stream_head(
    state: &AppState,
    a: AssociationId,
    stream: String,
) -> Result<HttpResponse, ApiError> {
    let service = std::sync::Arc::clone(&state.service);
    let head = web::block(move || service.tree_head(a, &stream)).await??;
    let head = head.ok_or_else(|| ApiError::not_found("log.no_proof", "The log has no signed head yet."))?;
    Ok(HttpResponse::Ok().json(tree_head_view(&head)))
}

/// A receipt for the entry at `index` of a meeting's log, against its latest signed head.
#[utoipa::path(tag = "records", responses((status = 200, body = LogReceiptView), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/log/entries/{index}/receipt")]
async fn log_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, u64)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m, index) = path.into_inner();
    existing_meeting(&state, &caller, a, m).await?;
    stream_receipt(&state, a, m.to_string(), index).await
}

/// A receipt for the entry at `index` of a stream, against its latest signed head.
pub(super) async fn stream_receipt(
    state: &AppState,
    a: AssociationId,
    stream: String,
    index: u64,
) -> Result<HttpResponse, ApiError> {
    let service = std::sync::Arc::clone(&state.service);
    let receipt = web::block(move || service.receipt(a, &stream, index)).await??;
    Ok(HttpResponse::Ok().json(receipt_view(&receipt)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier size.
    pub from: u64,
    /// The later size.
    pub to: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyView {
    pub from: TreeHeadView,
    pub to: TreeHeadView,
    /// The RFC 6962 consistency proof, hex hashes.
    pub proof: Vec<String>,
}

/// Proof that the later signed head of a meeting's log extends the earlier one.
#[utoipa::path(tag = "records", params(ConsistencyQuery), responses((status = 200, body = ConsistencyView), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/log/consistency")]
async fn log_consistency(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    existing_meeting(&state, &caller, a, m).await?;
    stream_consistency(&state, a, m.to_string(), query.into_inner()).await
}

/// Proof that the later signed head of a stream extends the earlier one.
pub(super) async fn stream_consistency(
    state: &AppState,
    a: AssociationId,
    stream: String,
    query: ConsistencyQuery,
) -> Result<HttpResponse, ApiError> {
    let ConsistencyQuery { from, to } = query;
    let service = std::sync::Arc::clone(&state.service);
    let c = web::block(move || service.consistency(a, &stream, from, to)).await??;
    Ok(HttpResponse::Ok().json(ConsistencyView {
        from: tree_head_view(&c.from),
        to: tree_head_view(&c.to),
        proof: c.proof.iter().map(|h| crate::ledger::log::hex(h)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionLineView {
    pub item: String,
    pub title: String,
    pub motion: String,
    pub kind: String,
    pub poll: String,
    pub outcome: String,
    pub explanation: String,
    pub declared_on: String,
    pub voided_polls: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceLineView {
    pub member: String,
    pub name: String,
    /// `own_representative`, `proxy_holder`, `proxy_to`, `advance_ballot` or `absent`.
    pub took_part: String,
    /// Who took part for the member, and for a proxy, for whom they hold it.
    pub person: Option<String>,
    pub holder: Option<String>,
    pub electronically: bool,
    /// Each stretch of attendance: arrival and departure.
    pub stretches: Vec<(String, Option<String>)>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MinutesView {
    pub title: String,
    pub place: String,
    pub chair: Option<String>,
    pub opened_at: Option<String>,
    pub closed_at: Option<String>,
    pub decisions: Vec<DecisionLineView>,
    pub attendance: Vec<AttendanceLineView>,
    /// When each member's convocation was sent (without addresses); null before the
    /// convocation.
    pub convocations: Option<super::notices::ConvocationsView>,
}

fn minutes_view(m: Minutes) -> MinutesView {
    MinutesView {
        title: m.title,
        place: m.place,
        chair: m.chair,
        opened_at: m.opened_at.map(time),
        closed_at: m.closed_at.map(time),
        decisions: m
            .decisions
            .into_iter()
            .map(|d| DecisionLineView {
                item: d.item.to_string(),
                title: d.title,
                motion: d.motion,
                kind: code(&d.kind),
                poll: d.poll.to_string(),
                outcome: code(&d.outcome),
                explanation: d.explanation,
                declared_on: d.declared_on.to_string(),
                voided_polls: d.voided_polls.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        attendance: m
            .attendance
            .into_iter()
            .map(|a| {
                let (took_part, person, holder, electronically) = match a.participation {
                    Participation::OwnRepresentative { name, electronically, .. } => {
                        ("own_representative", Some(name), None, electronically)
                    }
                    Participation::ProxyHolder { holder, name, .. } => {
                        ("proxy_holder", Some(name), Some(holder), false)
                    }
                    Participation::ProxyTo { holder, name, .. } => {
                        ("proxy_to", Some(name), Some(holder), false)
                    }
                    Participation::AdvanceBallot => ("advance_ballot", None, None, true),
                    Participation::Absent => ("absent", None, None, false),
                };
                AttendanceLineView {
                    member: a.member.to_string(),
                    name: a.name,
                    took_part: took_part.into(),
                    person,
                    holder,
                    electronically,
                    stretches: a
                        .stretches
                        .into_iter()
                        .map(|(from, until)| (time(from), until.map(time)))
                        .collect(),
                }
            })
            .collect(),
        convocations: None,
    }
}

async fn meeting_minutes(
    state: &AppState,
    caller: &Caller,
    a: AssociationId,
    m: MeetingId,
) -> Result<Minutes, ApiError> {
    caller.within(a)?;
    state
        .read(a, move |s| s.meetings.get(&m).map(|meeting| minutes(s, meeting)))
        .await?
        .ok_or_else(|| ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")))
}

/// The minutes: the list of decisions and the attendance list (Art. 17.6), and when each
/// member's convocation was sent (Art. 8.3).
#[utoipa::path(tag = "records", responses((status = 200, body = MinutesView), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/minutes")]
async fn minutes_json(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    let minutes = meeting_minutes(&state, &caller, a, m).await?;
    let mut view = minutes_view(minutes);
    view.convocations = super::notices::convocation_report(&state, a, m, false).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The minutes as Markdown, like the lists at the end of the minutes of an ALV, with the
/// section "Oproeping / Convocation" last.
#[utoipa::path(tag = "records", responses((status = 200, content_type = "text/markdown", body = String), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/minutes.md")]
async fn minutes_markdown(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    let minutes = meeting_minutes(&state, &caller, a, m).await?;
    let mut text = minutes.to_markdown();
    if let Some(c) = super::notices::convocation_report(&state, a, m, false).await? {
        text.push_str(&super::notices::convocations_markdown(&c));
    }
    Ok(HttpResponse::Ok().content_type("text/markdown; charset=utf-8").body(text))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedEvent {
    /// The association's order of events.
    pub seq: i64,
    /// The position in this meeting's log.
    pub stream_index: i64,
    pub at: String,
    /// The event as the log holds it.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// The event's bytes exactly as stored (JSON text): what the entry's leaf hashes.
    pub body: String,
    /// hex of the entry's leaf hash in the meeting's Merkle tree (docs/encoding.md).
    pub leaf_hash: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The position in the meeting's log to start at (0, the default: the first event).
    pub from: Option<u64>,
    /// How many events at most: 1 to 10,000; 1,000 when not given.
    pub limit: Option<u32>,
}

/// A page of the meeting's event log, in order (auditors and the secretariat): the events from
/// position `from`, at most `limit`. When the page is full, the `Link` header names the next
/// page (`rel="next"`); a page shorter than `limit` is the last. The whole log, with its signed
/// heads, in one download is the export.
#[utoipa::path(
    tag = "records",
    params(EventsQuery),
    responses(
        (status = 200, body = Vec<LoggedEvent>, headers(("Link" = String, description = "`<…?from=N&limit=L>; rel=\"next\"` when the page is full"))),
        (status = 400, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem)
    )
)]
#[get("/associations/{association}/meetings/{meeting}/events")]
async fn meeting_events(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    path: web::Path<(AssociationId, MeetingId)>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    if !(caller.has(Role::Auditor) || caller.has(Role::Secretariat)) {
        return Err(ApiError::forbidden(
            "access.role_required",
            "Only auditors and the secretariat export a meeting's log.",
        ));
    }
    let EventsQuery { from, limit } = query.into_inner();
    let from = from.unwrap_or(0);
    let limit = super::page_limit(limit, "events")?;
    if !state.read(a, move |s| s.meetings.contains_key(&m)).await? {
        return Err(ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")));
    }
    let service = std::sync::Arc::clone(&state.service);
    let logged = web::block(move || service.meeting_log_page(a, m, from, limit)).await??;
    let next = match logged.last() {
        Some(last) if logged.len() == limit as usize => {
            Some(format!("from={}&limit={limit}", last.stream_index.saturating_add(1)))
        }
        _ => None,
    };
    let events: Vec<LoggedEvent> = logged
        .into_iter()
        .map(|l| LoggedEvent {
            seq: l.seq,
            stream_index: l.stream_index,
            at: time(l.event.at),
            event: serde_json::to_value(&l.event).unwrap_or_default(),
            leaf_hash: crate::ledger::log::hex(&crate::store::log::leaf_of(a, &l)),
            body: l.body,
        })
        .collect();
    Ok(super::page_answer(&request, next).json(events))
}

/// What the chair sees: who is present or represented now, and what each motion needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveSnapshot {
    pub at: String,
    pub phase: String,
    pub members_in_office: u64,
    pub present_or_represented: u64,
    pub in_person: u64,
    pub electronically: u64,
    pub by_proxy: u64,
    pub motions: Vec<LiveMotion>,
    pub open_polls: Vec<LivePoll>,
    /// The last event, when the snapshot follows one.
    pub last_event: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveMotion {
    pub item: String,
    pub title: String,
    pub kind: String,
    /// Members that must be present or represented for a decision (0 when waived).
    pub quorum_needed: u64,
    /// Whether that many are present or represented now (advance ballots not counted).
    pub quorum_met_now: bool,
    pub decided: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LivePoll {
    pub poll: String,
    pub item: String,
    pub method: String,
    /// How many members have a ballot in the poll so far; never how they voted.
    pub ballots: usize,
}

fn snapshot(s: &Association, m: MeetingId, now: Instant, last_event: Option<String>) -> Option<LiveSnapshot> {
    let meeting = s.meetings.get(&m)?;
    let present = if meeting.phase == Phase::Open {
        presence_at(&s.register, &s.profile, meeting, now)
    } else {
        Default::default()
    };
    let count = |how: Presence| present.values().filter(|p| **p == how).count() as u64;
    let in_office = members_in_office(&s.register, &s.profile);
    let motions = meeting
        .agenda
        .iter()
        .filter_map(|item| {
            let motion = item.motion.as_ref()?;
            let rule = s.profile.decision(motion.kind);
            let waived = meeting.follow_up_of.is_some() && item.carried_from.is_some();
            let needed =
                if waived || rule.quorum.is_zero() { 0 } else { rule.quorum.least_at_least(in_office) };
            Some(LiveMotion {
                item: item.id.to_string(),
                title: item.title.clone(),
                kind: code(&motion.kind),
                quorum_needed: needed,
                quorum_met_now: present.len() as u64 >= needed,
                decided: meeting
                    .decision_on(item.id)
                    .and_then(|p| p.declaration.as_ref())
                    .map(|d| code(&d.outcome)),
            })
        })
        .collect();
    let open_polls = meeting
        .polls
        .values()
        .filter(|p| p.closed_at.is_none())
        .map(|p| LivePoll {
            poll: p.id.to_string(),
            item: p.item.to_string(),
            method: code(&p.method),
            ballots: p.ballots.len(),
        })
        .collect();
    Some(LiveSnapshot {
        at: time(now),
        phase: code(&meeting.phase),
        members_in_office: in_office,
        present_or_represented: present.len() as u64,
        in_person: count(Presence::InPerson),
        electronically: count(Presence::Electronically),
        by_proxy: count(Presence::ByProxy),
        motions,
        open_polls,
        last_event,
    })
}

/// Live attendance, quorum and ballots as they arrive (server-sent events: a `snapshot` event
/// at once and after every change in the meeting, a comment every 15 seconds otherwise).
#[utoipa::path(tag = "records", responses((status = 200, content_type = "text/event-stream", body = LiveSnapshot), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/live")]
async fn live(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    let receiver = state.live.subscribe();
    let now = state.clock.now();
    let first = state
        .read(a, move |s| snapshot(s, m, now, None))
        .await?
        .ok_or_else(|| ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")))?;
    let first = format!("event: snapshot\ndata: {}\n\n", serde_json::to_string(&first).unwrap_or_default());
    let updates = stream::unfold((state.clone(), receiver), move |(state, mut receiver)| async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(15), receiver.recv()).await {
                Err(_) => {
                    return Some((
                        Ok::<_, actix_web::Error>(web::Bytes::from_static(b": keep-alive\n\n")),
                        (state, receiver),
                    ));
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Ok(signal)) if signal.association == a && signal.meeting == Some(m) => {
                    let now = state.clock.now();
                    let kind = signal.kind.clone();
                    let snap = state.read(a, move |s| snapshot(s, m, now, Some(kind))).await.ok().flatten();
                    let Some(snap) = snap else { continue };
                    let text = format!(
                        "id: {}\nevent: snapshot\ndata: {}\n\n",
                        signal.seq,
                        serde_json::to_string(&snap).unwrap_or_default()
                    );
                    return Some((Ok(web::Bytes::from(text)), (state, receiver)));
                }
                Ok(Ok(_)) => continue,
            }
        }
    });
    let body = futures_util::StreamExt::chain(
        stream::once(async move { Ok::<_, actix_web::Error>(web::Bytes::from(first)) }),
        updates,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body))
}
