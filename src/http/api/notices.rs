//! E-mail as the secretariat and the auditors see it (Art. 8.3; issue 5): every notice in the
//! outbox with its status and every attempt to send it, and per meeting, when each member's
//! convocation was sent, against the last day it could be sent in time. The same per-member
//! list is a section of the minutes (`records.rs`), without the addresses.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::time;
use crate::core::calendar::{add_days, day_of, local};
use crate::core::profile::Notice as NoticeRule;
use crate::core::{AssociationId, Fact, MeetingId, MemberId, Provision};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::mail::notice::NoticeKind;
use crate::store::notices::{self, Attempt, Filter, Status, StoredNotice};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notices).service(convocations);
}

fn require_reader(caller: &Caller, a: AssociationId) -> Result<(), ApiError> {
    caller.within(a)?;
    if caller.has(Role::Auditor) || caller.has(Role::Secretariat) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "access.role_required",
            "Only the secretariat and auditors see the e-mail the service sends.",
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// 1, 2, …
    pub attempt: u32,
    pub at: String,
    /// `sent` (the transport accepted it), `temporary_failure` (tried again later) or
    /// `permanent_failure`.
    pub result: String,
    /// The Message-ID header of the message sent.
    pub message_id: Option<String>,
    /// What the transport answered, for a failure.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: String,
    /// `convocation`, `proxy_granted`, `proxy_revoked`, `ballot_receipt`, `outcome`,
    /// `advance_voting_reminder`, `members_request`, `resolution_proposed`,
    /// `resolution_concluded` or `outcome_challenged`.
    pub kind: String,
    /// The registered address it goes to.
    pub recipient: String,
    /// `nl` or `en`.
    pub language: String,
    /// The member it is for or about.
    pub member: Option<String>,
    /// The person it is for or about.
    pub person: Option<String>,
    pub meeting: Option<String>,
    /// The logged event that caused it (the association's order of events).
    pub seq: i64,
    /// `pending`, `sent`, `failed` or `cancelled`.
    pub status: String,
    /// How many attempts were made.
    pub attempts: u32,
    /// When it was queued: the moment of the command that caused it.
    pub created_at: String,
    /// Not to be sent before this moment (a reminder).
    pub send_after: Option<String>,
    /// For a pending notice: when it is (next) tried.
    pub next_attempt_at: Option<String>,
    /// When the transport accepted it: the mail server, or the outbox directory.
    pub sent_at: Option<String>,
    /// The Message-ID header (`<…@…>`).
    pub message_id: Option<String>,
    /// Why the last attempt failed, or why it was cancelled.
    pub last_error: Option<String>,
    /// Every attempt, in order.
    pub attempt_log: Vec<AttemptView>,
}

fn attempt_view(a: &Attempt) -> AttemptView {
    AttemptView {
        attempt: a.attempt,
        at: time(a.at),
        result: a.result.code().to_owned(),
        message_id: a.message_id.clone(),
        error: a.error.clone(),
    }
}

fn notice_view(n: &StoredNotice, attempts: &[Attempt]) -> NoticeView {
    NoticeView {
        id: n.id.clone(),
        kind: n.notice.kind.code().to_owned(),
        recipient: n.notice.to.clone(),
        language: crate::store::projection::code(&n.notice.language),
        member: n.notice.member.map(|m| m.to_string()),
        person: n.notice.person.map(|p| p.to_string()),
        meeting: n.notice.meeting.map(|m| m.to_string()),
        seq: n.seq,
        status: n.status.code().to_owned(),
        attempts: n.attempts,
        created_at: time(n.created_at),
        send_after: n.notice.send_after.map(time),
        next_attempt_at: (n.status == Status::Pending).then(|| time(n.next_attempt_at)),
        sent_at: n.sent_at.map(time),
        message_id: n.message_id.clone(),
        last_error: n.last_error.clone(),
        attempt_log: attempts.iter().map(attempt_view).collect(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// Only the notices of this meeting.
    #[param(value_type = Option<String>)]
    pub meeting: Option<MeetingId>,
    /// Only those in this status: `pending`, `sent`, `failed` or `cancelled`.
    pub status: Option<String>,
    /// Only those of this kind (`convocation`, …).
    pub kind: Option<String>,
    /// Only those for or about this member.
    #[param(value_type = Option<String>)]
    pub member: Option<MemberId>,
    /// The next page: only the notices after this one (its id) in the list's order.
    pub after: Option<String>,
    /// How many notices at most: 1 to 10,000; 1,000 when not given.
    pub limit: Option<u32>,
}

/// The notices the service queued for the association, in the order of the events that caused
/// them, with their status and every attempt to send them (the secretariat and auditors), a
/// page at a time: at most `limit`; when the page is full, the `Link` header names the next
/// (`rel="next"`, the same filters `after` the page's last notice). What failed:
/// `?status=failed`; what waits: `?status=pending`.
#[utoipa::path(
    tag = "mail",
    params(NoticeQuery),
    responses(
        (status = 200, body = Vec<NoticeView>, headers(("Link" = String, description = "`<…?after=ID&limit=L…>; rel=\"next\"` when the page is full"))),
        (status = 400, body = Problem),
        (status = 403, body = Problem)
    )
)]
#[get("/associations/{association}/notices")]
async fn list_notices(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    path: web::Path<AssociationId>,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    require_reader(&caller, a)?;
    let NoticeQuery { meeting, status, kind, member, after, limit } = query.into_inner();
    let limit = super::page_limit(limit, "notices")?;
    // The next page's link keeps the filters of this one.
    let mut next_query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("meeting", meeting.map(|m| m.to_string())),
        ("status", status.clone()),
        ("kind", kind.clone()),
        ("member", member.map(|m| m.to_string())),
    ] {
        if let Some(value) = value {
            next_query.append_pair(name, &value);
        }
    }
    let status = match status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_query",
                format!("{s:?} is not a status: pending, sent, failed or cancelled."),
            )
        })?),
    };
    if let Some(k) = kind.as_deref()
        && !NoticeKind::ALL.iter().any(|n| n.code() == k)
    {
        let kinds: Vec<&str> = NoticeKind::ALL.iter().map(|n| n.code()).collect();
        return Err(ApiError::bad_request(
            "request.invalid_query",
            format!("{k:?} is not a kind of notice: {}.", kinds.join(", ")),
        ));
    }
    let mut filter = Filter {
        meeting: meeting.map(|m| m.to_string()),
        status,
        kind,
        member: member.map(|m| m.to_string()),
        after: None,
        limit: Some(i64::from(limit)),
    };
    let store = state.service.store().clone();
    let views = web::block(move || -> Result<Result<Vec<NoticeView>, ApiError>, crate::store::StoreError> {
        let mut conn = store.connection()?;
        if let Some(after) = after {
            match notices::place_of(&mut conn, a, &after)? {
                Some(place) => filter.after = Some(place),
                None => {
                    return Ok(Err(ApiError::bad_request(
                        "request.invalid_query",
                        format!("after names {after:?}, which is no notice of this association."),
                    )));
                }
            }
        }
        let listed = notices::list(&mut conn, a, &filter)?;
        let ids: Vec<String> = listed.iter().map(|n| n.id.clone()).collect();
        let attempts = notices::attempts_of(&mut conn, &ids)?;
        Ok(Ok(listed
            .iter()
            .map(|n| notice_view(n, attempts.get(&n.id).map_or(&[][..], Vec::as_slice)))
            .collect()))
    })
    .await???;
    let next = views.last().filter(|_| views.len() == limit as usize).map(|last| {
        next_query.append_pair("after", &last.id);
        next_query.append_pair("limit", &limit.to_string());
        next_query.finish()
    });
    Ok(super::page_answer(&request, next).json(views))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvocationLineView {
    pub member: String,
    pub name: String,
    /// The address registered at the convocation (not in the minutes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `sent`, `pending`, `failed` or `cancelled` (the notice's status); `no_address` (no
    /// address was registered, so no e-mail could go); `suspended` (a suspended member is not
    /// convened unless an item concerns it); `not_queued` (no notice was made, as for a replayed
    /// past meeting).
    pub status: String,
    /// The notice (see `/notices`).
    pub notice: Option<String>,
    /// When the transport accepted the convocation: delivered to the mail server (or written to
    /// the outbox directory).
    pub sent_at: Option<String>,
    /// Whether it was sent on the day of the convocation (Europe/Amsterdam).
    pub sent_on_convocation_day: Option<bool>,
    /// Whether it was sent no later than `deadline`.
    pub in_time: Option<bool>,
    /// The Message-ID header, which the recipient's copy carries.
    pub message_id: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ConvocationSummaryView {
    /// Members in the register at the convocation.
    pub members: usize,
    pub sent: usize,
    pub sent_in_time: usize,
    pub pending: usize,
    pub failed: usize,
    /// Members to whom no e-mail went: no address, suspended, or not queued.
    pub without_notice: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvocationsView {
    pub meeting: String,
    pub title: String,
    /// The moment of the convocation (the `meeting_convened` event).
    pub convened_at: String,
    /// Its day in Europe/Amsterdam, `YYYY-MM-DD`.
    pub convocation_day: String,
    pub meeting_day: String,
    /// The notice the statutes require: days between the convocation and the meeting, neither
    /// day counted.
    pub notice_days: u32,
    /// Whether the longer notice for special proposals applies.
    pub special: bool,
    /// The last day (Europe/Amsterdam) on which a convocation can be sent in time.
    pub deadline: String,
    /// The article that sets the notice.
    pub article: String,
    pub summary: ConvocationSummaryView,
    /// Each member of the register at the convocation, by name.
    pub members: Vec<ConvocationLineView>,
}

/// Everything the report needs from the state at the convocation.
struct AtConvocation {
    title: String,
    convened_at: crate::core::Instant,
    meeting_day: crate::core::CalendarDay,
    notice_days: u32,
    special: bool,
    article: String,
    /// Member, name, address, suspended and not concerned.
    members: Vec<(MemberId, String, Option<String>, bool)>,
}

/// When each member's convocation of meeting `m` was sent; `None` when the meeting has not
/// been convened. Addresses only when `with_addresses`.
pub(crate) async fn convocation_report(
    state: &AppState,
    a: AssociationId,
    m: MeetingId,
    with_addresses: bool,
) -> Result<Option<ConvocationsView>, ApiError> {
    let service = std::sync::Arc::clone(&state.service);
    let report = web::block(move || -> Result<Option<ConvocationsView>, crate::service::ServiceError> {
        // The convocation is near the start of the meeting's log: found without reading the
        // rest (a meeting's ballots may be millions).
        let Some(convened) = service
            .first_in_meeting_log(a, m, "meeting_convened")?
            .filter(|l| matches!(l.event.fact, Fact::MeetingConvened { .. }))
        else {
            return Ok(None);
        };
        let then = service.state_after(a, convened.seq)?;
        let Some(meeting) = then.meetings.get(&m) else { return Ok(None) };
        let special = meeting.agenda.iter().any(|i| {
            i.motion.as_ref().is_some_and(|mo| then.profile.decision(mo.kind).notice == NoticeRule::Special)
        });
        let (rule, provision) = if special {
            (NoticeRule::Special, Provision::SpecialConvocation)
        } else {
            (NoticeRule::Ordinary, Provision::ConvocationNotice)
        };
        let concerned: Vec<MemberId> = meeting.agenda.iter().filter_map(|i| i.concerns_member).collect();
        let mut at = AtConvocation {
            title: meeting.title.clone(),
            convened_at: meeting.convocation.as_ref().map_or(convened.event.at, |c| c.at),
            meeting_day: day_of(meeting.starts_at),
            notice_days: then.profile.notice_days(rule),
            special,
            article: then.profile.article(provision).to_owned(),
            members: then
                .register
                .members
                .values()
                .map(|mb| {
                    (
                        mb.id,
                        mb.name.clone(),
                        mb.email.as_ref().map(|e| e.to_string()),
                        mb.suspended && !concerned.contains(&mb.id),
                    )
                })
                .collect(),
        };
        at.members.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let mut conn = service.store().connection()?;
        let filter = Filter {
            meeting: Some(m.to_string()),
            kind: Some(NoticeKind::Convocation.code().to_owned()),
            ..Filter::default()
        };
        let listed = notices::list(&mut conn, a, &filter)?;
        // The member's convocation: the one sent, else the latest.
        let mut by_member: BTreeMap<MemberId, StoredNotice> = BTreeMap::new();
        for n in listed {
            let Some(member) = n.notice.member else { continue };
            let replace = by_member.get(&member).is_none_or(|old| old.status != Status::Sent);
            if replace {
                by_member.insert(member, n);
            }
        }
        Ok(Some(report(m, &at, &by_member, with_addresses)))
    })
    .await??;
    Ok(report)
}

fn report(
    m: MeetingId,
    at: &AtConvocation,
    by_member: &BTreeMap<MemberId, StoredNotice>,
    with_addresses: bool,
) -> ConvocationsView {
    let deadline = add_days(at.meeting_day, -i64::from(at.notice_days) - 1);
    let convocation_day = day_of(at.convened_at);
    let mut summary = ConvocationSummaryView { members: at.members.len(), ..Default::default() };
    let members = at
        .members
        .iter()
        .map(|(id, name, address, suspended)| {
            let notice = by_member.get(id);
            let status = match (notice, address, suspended) {
                (Some(n), _, _) => n.status.code(),
                (None, None, _) => "no_address",
                (None, Some(_), true) => "suspended",
                (None, Some(_), false) => "not_queued",
            };
            let sent_at = notice.and_then(|n| n.sent_at);
            match notice.map(|n| n.status) {
                Some(Status::Sent) => summary.sent += 1,
                Some(Status::Pending) => summary.pending += 1,
                Some(Status::Failed) => summary.failed += 1,
                Some(Status::Cancelled) | None => summary.without_notice += 1,
            }
            let in_time = sent_at.map(|t| day_of(t) <= deadline);
            if in_time == Some(true) {
                summary.sent_in_time += 1;
            }
            ConvocationLineView {
                member: id.to_string(),
                name: name.clone(),
                address: if with_addresses {
                    notice.map(|n| n.notice.to.clone()).or_else(|| address.clone())
                } else {
                    None
                },
                status: status.to_owned(),
                notice: notice.map(|n| n.id.clone()),
                sent_at: sent_at.map(time),
                sent_on_convocation_day: sent_at.map(|t| day_of(t) == convocation_day),
                in_time,
                message_id: notice.and_then(|n| n.message_id.clone()),
                attempts: notice.map_or(0, |n| n.attempts),
                last_error: notice.and_then(|n| n.last_error.clone()),
            }
        })
        .collect();
    ConvocationsView {
        meeting: m.to_string(),
        title: at.title.clone(),
        convened_at: time(at.convened_at),
        convocation_day: convocation_day.to_string(),
        meeting_day: at.meeting_day.to_string(),
        notice_days: at.notice_days,
        special: at.special,
        deadline: deadline.to_string(),
        article: at.article.clone(),
        summary,
        members,
    }
}

/// The "Oproeping / Convocation" section of the minutes as Markdown.
pub(crate) fn convocations_markdown(c: &ConvocationsView) -> String {
    let cell = |t: &str| t.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ");
    let mut out = String::new();
    let _ = writeln!(out, "\n## Oproeping / Convocation\n");
    let convened =
        c.convened_at.parse::<crate::core::Instant>().map(local).unwrap_or_else(|_| c.convened_at.clone());
    let _ = writeln!(out, "- Convened: {convened}");
    let _ = writeln!(
        out,
        "- Last day to send in time: {} ({} days' notice{}, Art. {})",
        c.deadline,
        c.notice_days,
        if c.special { ", special proposals" } else { "" },
        c.article
    );
    let s = &c.summary;
    let _ = writeln!(
        out,
        "- Sent: {} of {} members, {} in time; pending {}, failed {}, without e-mail {}",
        s.sent, s.members, s.sent_in_time, s.pending, s.failed, s.without_notice
    );
    let _ = writeln!(out, "\n| Member | Sent | In time | Message-ID |\n|---|---|---|---|");
    for line in &c.members {
        let sent = match (&line.sent_at, line.status.as_str()) {
            (Some(at), _) => at.parse::<crate::core::Instant>().map(local).unwrap_or_else(|_| at.clone()),
            (None, "no_address") => "not sent: no address registered".into(),
            (None, "suspended") => "not convened: suspended".into(),
            (None, "not_queued") => "not sent by this service".into(),
            (None, status) => format!("not sent: {status}"),
        };
        let in_time = match line.in_time {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let id = line.message_id.as_deref().filter(|_| line.sent_at.is_some()).unwrap_or("");
        let _ = writeln!(out, "| {} | {} | {} | {} |", cell(&line.name), cell(&sent), in_time, cell(id));
    }
    out
}

/// Per member of the register at the convocation: the address, whether and when its
/// convocation was sent (accepted by the mail server), its Message-ID and attempts, and whether
/// it went out in time: no later than `deadline`, the last day the notice allows (the
/// secretariat and auditors). 404 `meeting.not_convened` before the convocation.
#[utoipa::path(tag = "mail", responses((status = 200, body = ConvocationsView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/convocations")]
async fn convocations(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    require_reader(&caller, a)?;
    if !state.read(a, move |s| s.meetings.contains_key(&m)).await? {
        return Err(ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")));
    }
    let report = convocation_report(&state, a, m, true).await?.ok_or_else(|| {
        ApiError::not_found("meeting.not_convened", format!("Meeting {m} has not been convened."))
    })?;
    Ok(HttpResponse::Ok().json(report))
}
