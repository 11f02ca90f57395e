//! The voter's pages: the members one represents and the proxies one holds with their
//! instructions, the meetings with their agenda and proposals, the ballot forms (signed in the
//! browser by `static/sign.js` and sent to the JSON API), the key enrolment, and the receipts
//! the browser keeps and checks against the latest signed tree head.
//!
//! The pages only show; every ballot and every key goes through the API's commands, whose
//! refusals (with rule and article) the page's script shows in words.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::render::{PageError, value};
use super::session::{Page, SignedIn, is_voter};
use super::{code, i18n, when};
use crate::core::{
    AgendaItemId, Association, AssociationId, Command, Instant, Instruction, Meeting, MeetingId, MemberId,
    Mode, PersonId, Phase, PollMethod, ProxyHolder, Via,
};
use crate::http::AppState;
use crate::http::problem::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{association}/voter", web::get().to(overview))
        .route("/{association}/voter/keys", web::get().to(keys))
        .route("/{association}/voter/receipts", web::get().to(receipts))
        .route("/{association}/voter/meetings/{meeting}", web::get().to(meeting))
        .route("/{association}/voter/meetings/{meeting}/attendance", web::post().to(attendance));
}

/// A signed-in voter of the association, or the page that refuses.
pub(super) fn voter_of(page: &Page, a: AssociationId, voter: bool) -> Result<&SignedIn, PageError> {
    let me = page.within(a)?;
    if voter {
        Ok(me)
    } else {
        Err(page.error(ApiError::forbidden(
            "access.not_a_voter",
            "These pages are for the persons who represent a member or hold a proxy; you do neither in this association.",
        )))
    }
}

#[derive(Debug, Serialize)]
struct MemberView {
    id: String,
    name: String,
    kind: String,
    capacity: String,
    suspended: bool,
}

#[derive(Debug, Serialize)]
struct InstructionView {
    item: String,
    instruction: String,
}

#[derive(Debug, Serialize)]
struct ProxyView {
    id: String,
    meeting: String,
    meeting_title: String,
    grantor: String,
    /// `person` (held by the person) or `member` (held by a member the person represents).
    held_as: String,
    holder_member: Option<String>,
    form: String,
    received_at: String,
    instructions: Vec<InstructionView>,
}

#[derive(Debug, Serialize)]
struct MeetingLine {
    id: String,
    title: String,
    starts_at: String,
    place: String,
    phase: String,
}

/// The members a person represents, by id.
pub(super) fn represented(s: &Association, person: PersonId) -> Vec<MemberId> {
    s.register.representatives.keys().filter(|(p, _)| *p == person).map(|(_, m)| *m).collect()
}

/// Whether `person` holds the proxy: in person, or through a member it represents.
fn holds(holder: &ProxyHolder, person: PersonId, members: &[MemberId]) -> Option<Option<MemberId>> {
    match holder {
        ProxyHolder::Member { member } if members.contains(member) => Some(Some(*member)),
        other if other.person() == Some(person) => Some(None),
        _ => None,
    }
}

fn member_name(s: &Association, m: MemberId) -> String {
    s.register.members.get(&m).map_or_else(|| m.to_string(), |x| x.name.clone())
}

fn proxies_held(s: &Association, person: PersonId, only: Option<MeetingId>) -> Vec<ProxyView> {
    let members = represented(s, person);
    s.meetings
        .values()
        .filter(|m| only.is_none_or(|id| id == m.id))
        .flat_map(|m| m.proxies.values().map(move |p| (m, p)))
        .filter(|(_, p)| p.revoked_at.is_none())
        .filter_map(|(m, p)| holds(&p.holder, person, &members).map(|through| (m, p, through)))
        .map(|(m, p, through)| ProxyView {
            id: p.id.to_string(),
            meeting: m.id.to_string(),
            meeting_title: m.title.clone(),
            grantor: member_name(s, p.grantor),
            held_as: if through.is_some() { "member" } else { "person" }.to_owned(),
            holder_member: through.map(|x| member_name(s, x)),
            form: code(&p.form),
            received_at: when(p.received_at),
            instructions: m
                .agenda
                .iter()
                .filter_map(|item| {
                    p.instructions
                        .get(&item.id)
                        .map(|i| InstructionView { item: item.title.clone(), instruction: code(i) })
                })
                .collect(),
        })
        .collect()
}

fn meeting_line(m: &Meeting) -> MeetingLine {
    MeetingLine {
        id: m.id.to_string(),
        title: m.title.clone(),
        starts_at: when(m.starts_at),
        place: m.place.clone(),
        phase: code(&m.phase),
    }
}

/// `GET /{association}/voter`: the members, the proxies held, the meetings.
async fn overview(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    let person = page.within(a)?.caller.person;
    let now = state.clock.now();
    let view = state
        .read(a, move |s| {
            let members: Vec<MemberView> = represented(s, person)
                .into_iter()
                .filter_map(|m| s.register.members.get(&m).map(|x| (m, x)))
                .map(|(m, x)| MemberView {
                    id: m.to_string(),
                    name: x.name.clone(),
                    kind: code(&x.kind),
                    capacity: s.register.representatives.get(&(person, m)).map(code).unwrap_or_default(),
                    suspended: x.suspended,
                })
                .collect();
            let proxies = proxies_held(s, person, None);
            let upcoming: Vec<MeetingLine> = s
                .meetings
                .values()
                .filter(|m| matches!(m.phase, Phase::Convened | Phase::Open))
                .map(meeting_line)
                .collect();
            let past: Vec<MeetingLine> =
                s.meetings.values().filter(|m| m.phase == Phase::Closed).map(meeting_line).collect();
            let resolutions = super::resolutions::lines(s, now);
            (is_voter(s, person), members, proxies, upcoming, past, resolutions)
        })
        .await
        .map_err(|e| page.error(e))?;
    let (voter, members, proxies, upcoming, past, resolutions) = view;
    voter_of(&page, a, voter)?;
    page.render(
        "voter/home.html",
        context! {
            association => a.to_string(),
            members => value(members),
            proxies => value(proxies),
            upcoming => value(upcoming),
            past => value(past),
            resolutions => value(resolutions),
        },
    )
}

#[derive(Debug, Serialize)]
struct KeyLine {
    key: String,
    status: String,
    enrolled_at: String,
    retired_at: Option<String>,
    last_sequence: u64,
}

/// `GET /{association}/voter/keys`: the person's keys, and enrolment of this browser's key.
/// Open to every person of the association: the chair signs declarations with the same key.
async fn keys(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    let person = page.within(a)?.caller.person;
    let (current, lines) = state
        .read(a, move |s| {
            let current = s.keys.current_of(person).map(|k| k.key.to_hex());
            let lines: Vec<KeyLine> = s
                .keys
                .of_person(person)
                .into_iter()
                .map(|k| KeyLine {
                    key: k.key.to_hex(),
                    status: code(&k.status),
                    enrolled_at: when(k.enrolled_at),
                    retired_at: k.retired_at.map(when),
                    last_sequence: k.last_sequence,
                })
                .collect();
            (current, lines)
        })
        .await
        .map_err(|e| page.error(e))?;
    page.render(
        "voter/keys.html",
        context! {
            association => a.to_string(),
            person => person.to_string(),
            current => current,
            keys => value(lines),
            texts => script_texts(page.lang),
        },
    )
}

/// `GET /{association}/voter/receipts`: the receipts this browser keeps, listed and checked by
/// the page's script; names of meetings, items, members and resolutions come from the server.
async fn receipts(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    let person = page.within(a)?.caller.person;
    let names = state
        .read(a, |s| {
            let mut names = BTreeMap::new();
            for m in s.meetings.values() {
                names.insert(m.id.to_string(), m.title.clone());
                for item in &m.agenda {
                    names.insert(item.id.to_string(), item.title.clone());
                }
            }
            for (id, m) in &s.register.members {
                names.insert(id.to_string(), m.name.clone());
            }
            for (id, r) in &s.resolutions {
                names.insert(id.to_string(), r.text.clone());
            }
            names
        })
        .await
        .map_err(|e| page.error(e))?;
    let names = serde_json::to_string(&names).map_err(|_| page.error(ApiError::internal()))?;
    page.render(
        "voter/receipts.html",
        context! {
            association => a.to_string(),
            person => person.to_string(),
            names => names,
            texts => script_texts(page.lang),
        },
    )
}

#[derive(Debug, Serialize)]
struct BallotForm {
    member: String,
    member_name: String,
    /// `own` or `proxy`.
    via: String,
    /// The proxy's instruction on this item, when voting by proxy.
    instruction: Option<String>,
    /// The member's effective ballot now: `for`, `against`, `abstain`.
    cast: Option<String>,
    cast_via: Option<String>,
    /// This member's ballot can be cast now: a proxy is exercised in the meeting, not in
    /// advance (the core refuses an advance ballot by a proxy holder).
    open: bool,
}

#[derive(Debug, Serialize)]
struct ItemView {
    id: String,
    number: usize,
    title: String,
    motion: Option<String>,
    kind: Option<String>,
    proposal: Option<String>,
    amendments: u32,
    /// The open electronic poll on the item, if any.
    poll: Option<String>,
    /// The poll is by voice or on paper: no ballots here.
    poll_in_room: bool,
    /// Ballots can be cast on this item now.
    open: bool,
    forms: Vec<BallotForm>,
}

#[derive(Debug, Serialize)]
struct AttendanceLine {
    member: String,
    member_name: String,
    via: String,
    /// Present now: since when, how (`in_person`, `electronic`), and who attends for it.
    since: Option<String>,
    mode: Option<String>,
    person_name: Option<String>,
    /// The person attends for the member now and may check it out.
    by_me: bool,
}

#[derive(Debug, Serialize)]
struct MeetingView {
    id: String,
    title: String,
    starts_at: String,
    place: String,
    phase: String,
    advance_opens: Option<String>,
    advance_closes: Option<String>,
    /// `advance` (the advance window is open), `session` (in session), or `none`.
    voting: String,
    electronic_participation: Option<String>,
    items: Vec<ItemView>,
    proxies: Vec<ProxyView>,
    /// In session: the members the person acts for, and whether each is present.
    attendance: Vec<AttendanceLine>,
    /// The person may check in electronically (in session, and the convocation offered it).
    electronic_check_in: bool,
}

/// The members the person may vote for in the meeting: represented ones, and the grantors of
/// proxies held (with the proxy's instruction per item).
fn voting_for(
    s: &Association,
    m: &Meeting,
    person: PersonId,
) -> Vec<(MemberId, &'static str, BTreeMap<AgendaItemId, Instruction>)> {
    let members = represented(s, person);
    let mut out: Vec<_> = members.iter().map(|x| (*x, "own", BTreeMap::new())).collect();
    for p in m.proxies.values().filter(|p| p.revoked_at.is_none()) {
        if holds(&p.holder, person, &members).is_some() {
            out.push((p.grantor, "proxy", p.instructions.clone()));
        }
    }
    out
}

fn meeting_view(s: &Association, m: &Meeting, person: PersonId, now: Instant) -> MeetingView {
    let window = m.convocation.as_ref().and_then(|c| c.advance_voting.as_ref());
    let advance_open = m.phase == Phase::Convened && window.is_some_and(|w| w.opens <= now && now < w.closes);
    let voting = if advance_open {
        "advance"
    } else if m.phase == Phase::Open {
        "session"
    } else {
        "none"
    };
    let members = voting_for(s, m, person);
    let items = m
        .agenda
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let poll = m
                .polls
                .values()
                .find(|p| p.item == item.id && p.closed_at.is_none() && p.voided_by.is_none());
            let electronic = poll.filter(|p| p.method == PollMethod::Electronic);
            let open = item.motion.is_some()
                && match voting {
                    "advance" => true,
                    "session" => electronic.is_some(),
                    _ => false,
                };
            let forms = if item.motion.is_some() {
                members
                    .iter()
                    .map(|(member, via, instructions)| {
                        let cast = match electronic {
                            Some(p) => p.ballots.get(member),
                            None => m.advance_ballots.get(&item.id).and_then(|b| b.get(member)),
                        };
                        BallotForm {
                            open: open && !(voting == "advance" && *via == "proxy"),
                            member: member.to_string(),
                            member_name: member_name(s, *member),
                            via: (*via).to_owned(),
                            instruction: instructions.get(&item.id).map(code),
                            cast: cast.map(|b| code(&b.choice)),
                            cast_via: cast.map(|b| {
                                match b.via {
                                    Via::Own => "own",
                                    Via::Proxy { .. } => "proxy",
                                    Via::Advance => "advance",
                                }
                                .to_owned()
                            }),
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            ItemView {
                id: item.id.to_string(),
                number: i + 1,
                title: item.title.clone(),
                motion: item.motion.as_ref().map(|x| x.text.clone()),
                kind: item.motion.as_ref().map(|x| code(&x.kind)),
                proposal: item.motion.as_ref().and_then(|x| x.proposal.clone()),
                amendments: item.motion.as_ref().map_or(0, |x| x.amendments),
                poll: electronic.map(|p| p.id.to_string()),
                poll_in_room: poll.is_some() && electronic.is_none(),
                open,
                forms,
            }
        })
        .collect();
    let mut seen = Vec::new();
    let attendance = if m.phase == Phase::Open {
        members
            .iter()
            .filter(|(member, _, _)| {
                let first = !seen.contains(member);
                seen.push(*member);
                first
            })
            .map(|(member, via, _)| {
                let now_in = m.current_attendance(*member);
                AttendanceLine {
                    member: member.to_string(),
                    member_name: member_name(s, *member),
                    via: (*via).to_owned(),
                    since: now_in.map(|a| when(a.arrived)),
                    mode: now_in.map(|a| code(&a.mode)),
                    person_name: now_in.map(|a| s.register.person_name(a.person)),
                    by_me: now_in.is_some_and(|a| a.person == person),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let electronic_check_in = m.phase == Phase::Open
        && m.convocation.as_ref().is_some_and(|c| c.electronic_participation.is_some());
    MeetingView {
        attendance,
        electronic_check_in,
        id: m.id.to_string(),
        title: m.title.clone(),
        starts_at: when(m.starts_at),
        place: m.place.clone(),
        phase: code(&m.phase),
        advance_opens: window.map(|w| when(w.opens)),
        advance_closes: window.map(|w| when(w.closes)),
        voting: voting.to_owned(),
        electronic_participation: m.convocation.as_ref().and_then(|c| c.electronic_participation.clone()),
        items,
        proxies: proxies_held(s, person, Some(m.id)),
    }
}

/// `GET /{association}/voter/meetings/{meeting}`: the agenda, the proposals, and the ballot
/// forms of the items that can be voted on now.
async fn meeting(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, PageError> {
    let (a, m) = path.into_inner();
    let person = page.within(a)?.caller.person;
    let now = state.clock.now();
    let found = state
        .read(a, move |s| {
            let view = s
                .meetings
                .get(&m)
                .filter(|x| x.phase != Phase::Draft)
                .map(|x| meeting_view(s, x, person, now));
            (is_voter(s, person), view)
        })
        .await
        .map_err(|e| page.error(e))?;
    let (voter, view) = found;
    voter_of(&page, a, voter)?;
    let view = view.ok_or_else(|| {
        page.error(ApiError::not_found("meeting.unknown", "There is no convened meeting with this id."))
    })?;
    page.render(
        "voter/meeting.html",
        context! {
            association => a.to_string(),
            person => person.to_string(),
            meeting => value(view),
            texts => script_texts(page.lang),
        },
    )
}

/// The words the pages' scripts need (`[script]` and `[rules]` of the catalogue), as JSON for a
/// `data-texts` attribute.
pub fn script_texts(lang: i18n::Lang) -> String {
    let texts: BTreeMap<&str, &str> = i18n::texts(lang)
        .iter()
        .filter(|(k, _)| k.starts_with("script.") || k.starts_with("rules."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "{}".to_owned())
}

#[derive(Debug, serde::Deserialize)]
pub struct AttendanceForm {
    #[serde(default)]
    csrf: String,
    member: MemberId,
    /// `in` (check in electronically) or `out` (leave).
    action: String,
}

/// `POST /{association}/voter/meetings/{meeting}/attendance`: the voter checks a member it acts
/// for in electronically (when the convocation offered it, Art. 8.11 in the rules profile), or
/// out; then back to the meeting's page.
async fn attendance(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<AttendanceForm>,
) -> Result<HttpResponse, PageError> {
    let (a, m) = path.into_inner();
    let me = page.within(a)?;
    me.check_csrf(&page, &form.csrf)?;
    me.caller.may_write(a).map_err(|e| page.error(e))?;
    let person = me.caller.person;
    let member = form.member;
    // Like the API: a person acts for a member it represents, whose proxy it holds, or for
    // which it attends now.
    let acts_for = state
        .read(a, move |s| {
            s.meetings.get(&m).is_some_and(|x| {
                voting_for(s, x, person).iter().any(|(v, _, _)| *v == member)
                    || x.current_attendance(member).is_some_and(|at| at.person == person)
            })
        })
        .await
        .map_err(|e| page.error(e))?;
    if !acts_for {
        return Err(page.error(ApiError::forbidden(
            "access.not_representative",
            "You neither represent this member nor hold its proxy in this meeting.",
        )));
    }
    let command = match form.action.as_str() {
        "in" => Command::CheckIn { meeting: m, member, person, mode: Mode::Electronic },
        "out" => Command::CheckOut { meeting: m, member },
        _ => {
            return Err(page.error(ApiError::bad_request(
                "request.invalid_form",
                "The form asks neither to check in nor to check out.",
            )));
        }
    };
    state.execute(a, command).await.map_err(|e| page.error(e))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, format!("/{a}/voter/meetings/{m}#attendance")))
        .finish())
}
