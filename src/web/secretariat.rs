//! The secretariat's pages: the member register, meetings and their agendas, convening (with
//! the deadline of Art. 8.3 and 20.3 shown before and, from the core's refusal, the earliest
//! lawful date after), proxies received on paper (the scan uploaded and kept, the proxy
//! recorded), and attendance at the door.
//!
//! Only the secretariat sees them (`Role::Secretariat`). Every change is a form posted here
//! that becomes the same command the API gives the core, answered with a redirect (post,
//! redirect, get); a refusal shows as a page naming the rule and the article.
//!
//! **Scans of paper proxies.** The proxy in the log records that it was given on paper, with
//! the SHA-256 of its scan; the scan itself is not an event. The service keeps it under `scan_dir`
//! (`<scan_dir>/<association>/<sha256>`, content-addressed) with a record per proxy
//! (`<proxy>.json`: SHA-256, size, file name, type, when and by whom), written only after the
//! core accepted the proxy: a refused proxy leaves no scan behind. The proxies page shows the
//! SHA-256 and serves the scan back to the secretariat.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Europe::Amsterdam;
use minijinja::value::Serde;
use minijinja::{Value as V, context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::chair::see_other;
use super::render;
use super::session::{Page, SignedIn};
use crate::core::calendar::{add_days, day_of, local};
use crate::core::profile::{DecisionKind, Notice};
use crate::core::register::{Capacity, EmailAddress, Language, MemberKind, Profession};
use crate::core::{
    AgendaItemId, AgendaItemSpec, Association, AssociationId, AttendsAs, Command, Convener, Instruction,
    Meeting, MeetingId, MemberId, Mode, MotionSpec, PersonId, Provision, ProxyForm, ProxyHolder, ProxyId,
};
use crate::http::AppState;
use crate::http::api::register::new_uuid;
use crate::http::auth::Role;
use crate::http::problem::ApiError;
use crate::store::projection::code;

/// The largest scan of a paper proxy the service accepts.
pub const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;

/// How many agenda rows the form for a new meeting offers.
const AGENDA_ROWS: usize = 8;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = |tail: &str| format!("/{{association}}/secretariat{tail}");
    cfg.route(&at(""), web::get().to(overview))
        .route(&at("/members"), web::get().to(members))
        .route(&at("/members"), web::post().to(register_member))
        .route(&at("/persons"), web::post().to(register_person))
        .route(&at("/representations"), web::post().to(assign_representative))
        .route(&at("/meetings"), web::get().to(meetings))
        .route(&at("/meetings"), web::post().to(create_meeting))
        .route(&at("/meetings/{meeting}"), web::get().to(meeting))
        .route(&at("/meetings/{meeting}/convocation"), web::post().to(convene))
        .route(&at("/meetings/{meeting}/proxies"), web::get().to(proxies))
        .service(
            web::resource(at("/meetings/{meeting}/proxies"))
                .app_data(web::PayloadConfig::new(MAX_SCAN_BYTES + 64 * 1024))
                .route(web::post().to(record_paper_proxy)),
        )
        .route(&at("/meetings/{meeting}/proxies/{proxy}/scan"), web::get().to(scan))
        .route(&at("/meetings/{meeting}/attendance"), web::get().to(door))
        .route(&at("/meetings/{meeting}/attendance"), web::post().to(check_in))
        .route(&at("/meetings/{meeting}/attendance/check-out"), web::post().to(check_out));
}

fn secretariat(page: &Page, a: AssociationId) -> Result<&SignedIn, render::PageError> {
    page.with_role(a, Role::Secretariat)
}

fn bad_form(code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, detail)
}

fn parse_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(bad_form("form.missing", format!("Choose the {what}.")));
    }
    text.parse().map_err(|_| bad_form("form.invalid_id", format!("The form names no valid {what}.")))
}

fn meeting_path(a: AssociationId, m: MeetingId) -> String {
    format!("/{a}/secretariat/meetings/{m}")
}

async fn read<R: Send + 'static>(
    state: &AppState,
    page: &Page,
    a: AssociationId,
    f: impl FnOnce(&Association) -> R + Send + 'static,
) -> Result<R, render::PageError> {
    state.read(a, f).await.map_err(|e| page.error(e))
}

async fn read_meeting<R: Send + 'static>(
    state: &AppState,
    page: &Page,
    a: AssociationId,
    m: MeetingId,
    f: impl FnOnce(&Association, &Meeting) -> R + Send + 'static,
) -> Result<R, render::PageError> {
    crate::http::api::meetings::read_meeting(state, a, m, f).await.map_err(|e| page.error(e))
}

// ---- the register ------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct RepresentativeRow {
    name: String,
    capacity: String,
}

#[derive(Debug, Serialize)]
struct MemberRow {
    id: String,
    name: String,
    kind: String,
    email: Option<String>,
    suspended: bool,
    representatives: Vec<RepresentativeRow>,
}

fn member_rows(s: &Association) -> Vec<MemberRow> {
    let mut by_member: BTreeMap<MemberId, Vec<RepresentativeRow>> = BTreeMap::new();
    for ((person, member), capacity) in &s.register.representatives {
        by_member
            .entry(*member)
            .or_default()
            .push(RepresentativeRow { name: s.register.person_name(*person), capacity: code(capacity) });
    }
    let mut rows: Vec<MemberRow> = s
        .register
        .members
        .values()
        .map(|m| MemberRow {
            id: m.id.to_string(),
            name: m.name.clone(),
            kind: code(&m.kind),
            email: m.email.as_ref().map(ToString::to_string),
            suspended: m.suspended,
            representatives: by_member.remove(&m.id).unwrap_or_default(),
        })
        .collect();
    rows.sort_by(|x, y| x.name.cmp(&y.name));
    rows
}

async fn overview(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    secretariat(&page, a)?;
    let today = day_of(state.clock.now());
    let (members, meetings, warning) = read(&state, &page, a, move |s| {
        (
            s.register.members.len(),
            meeting_rows(s),
            crate::core::records::annual_meeting_warning(s, today).map(|w| w.message),
        )
    })
    .await?;
    page.render(
        "secretariat/overview.html",
        context! { association => a.to_string(), members => members, meetings => V::from(Serde(&meetings)), warning => warning },
    )
}

async fn members(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    secretariat(&page, a)?;
    let (rows, persons) = read(&state, &page, a, |s| (member_rows(s), person_choices(s))).await?;
    page.render(
        "secretariat/members.html",
        context! {
            association => a.to_string(),
            members => V::from(Serde(&rows)),
            persons => V::from(Serde(&persons)),
            kinds => ["gemeente", "waterschap", "provincie", "staat", "other_public_body"],
        },
    )
}

/// The persons of the register, each with the members it represents, for a choice in a form.
fn person_choices(s: &Association) -> Vec<Choice> {
    let mut persons: Vec<Choice> = s
        .register
        .persons
        .values()
        .map(|p| {
            let represents: Vec<String> =
                s.register.members_of(p.id).into_iter().map(|x| s.register.member_name(x)).collect();
            let label = if represents.is_empty() {
                p.name.clone()
            } else {
                format!("{} ({})", p.name, represents.join(", "))
            };
            Choice { value: p.id.to_string(), label }
        })
        .collect();
    persons.sort_by(|x, y| x.label.cmp(&y.label));
    persons
}

/// An optional e-mail address from a form; registering one is consent to convocation by e-mail
/// (Art. 8.3).
fn email_field(text: &str) -> Result<Option<EmailAddress>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        bad_form(
            "form.email",
            format!("{text:?} is not an e-mail address; leave it empty to convene on paper."),
        )
    })
}

/// A value of an enumeration from its stored code (`gemeente`, `official`, …).
fn from_code<T: serde::de::DeserializeOwned>(
    code: &str,
    refusal: impl FnOnce() -> ApiError,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).map_err(|_| refusal())
}

fn members_path(a: AssociationId) -> String {
    format!("/{a}/secretariat/members")
}

#[derive(Debug, Deserialize)]
struct NewMemberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    language: String,
}

async fn register_member(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
    form: web::Form<NewMemberForm>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err(page.error(bad_form("form.missing", "Give the member's name.")));
    }
    let kind: MemberKind = from_code(&form.kind, || {
        bad_form(
            "form.member_kind",
            "A member is a municipality, a water board, a province, the State or another public body (Art. 4.3).",
        )
    })
    .map_err(|e| page.error(e))?;
    let email = email_field(&form.email).map_err(|e| page.error(e))?;
    let language: Language = if form.language.is_empty() {
        Language::Nl
    } else {
        from_code(&form.language, || bad_form("form.language", "Notices go out in Dutch or English."))
            .map_err(|e| page.error(e))?
    };
    let member = MemberId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    state
        .execute(a, Command::RegisterMember { member, name, kind, email, language })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&members_path(a)))
}

#[derive(Debug, Deserialize)]
struct NewPersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    profession: String,
}

async fn register_person(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
    form: web::Form<NewPersonForm>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err(page.error(bad_form("form.missing", "Give the person's name.")));
    }
    let email = email_field(&form.email).map_err(|e| page.error(e))?;
    let profession = match form.profession.as_str() {
        "" | "none" => None,
        "notary" => Some(Profession::Notary),
        "lawyer" => Some(Profession::Lawyer),
        _ => {
            return Err(page.error(bad_form(
                "form.profession",
                "A person is a notary, a lawyer, or neither (Art. 8.5).",
            )));
        }
    };
    let person = PersonId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    state
        .execute(a, Command::RegisterPerson { person, name, email, profession })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&members_path(a)))
}

#[derive(Debug, Deserialize)]
struct RepresentationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    capacity: String,
}

async fn assign_representative(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
    form: web::Form<RepresentationForm>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let person: PersonId = parse_id(&form.person, "person").map_err(|e| page.error(e))?;
    let member: MemberId = parse_id(&form.member, "member").map_err(|e| page.error(e))?;
    let capacity: Capacity = from_code(&form.capacity, || {
        bad_form(
            "form.capacity",
            "A representative is the member's portfolio holder, or an official or employee of it (Art. 8.5).",
        )
    })
    .map_err(|e| page.error(e))?;
    state
        .execute(a, Command::AssignRepresentative { person, member, capacity })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&members_path(a)))
}

// ---- meetings ------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct MeetingRow {
    id: String,
    title: String,
    starts_at: String,
    place: String,
    phase: String,
}

fn meeting_rows(s: &Association) -> Vec<MeetingRow> {
    let mut list: Vec<&Meeting> = s.meetings.values().collect();
    list.sort_by(|x, y| y.starts_at.cmp(&x.starts_at).then_with(|| x.title.cmp(&y.title)));
    list.into_iter()
        .map(|m| MeetingRow {
            id: m.id.to_string(),
            title: m.title.clone(),
            starts_at: local(m.starts_at),
            place: m.place.clone(),
            phase: code(&m.phase),
        })
        .collect()
}

async fn meetings(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    secretariat(&page, a)?;
    let rows = read(&state, &page, a, meeting_rows).await?;
    let kinds = ["ordinary", "two_thirds", "statute_amendment", "dissolution", "regulations", "entrenched"];
    page.render(
        "secretariat/meetings.html",
        context! {
            association => a.to_string(),
            meetings => V::from(Serde(&rows)),
            rows => (1..=AGENDA_ROWS).collect::<Vec<_>>(),
            kinds => kinds,
        },
    )
}

pub(super) fn field<'f>(pairs: &'f [(String, String)], name: &str) -> &'f str {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

pub(super) fn decision_kind(text: &str) -> Result<DecisionKind, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| bad_form("form.decision_kind", "Choose what the motion needs to be adopted (R7)."))
}

/// The moment a meeting starts, from the form's date and time in Europe/Amsterdam.
fn starts_at(date: &str, time: &str) -> Result<crate::core::Instant, ApiError> {
    local_moment(date, time, "the meeting's start")
}

/// A moment from a form's date (YYYY-MM-DD) and time (HH:MM) in Europe/Amsterdam; `what` names
/// it in the refusal.
pub(super) fn local_moment(date: &str, time: &str, what: &str) -> Result<crate::core::Instant, ApiError> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| bad_form("form.date", format!("Give the date of {what} as YYYY-MM-DD.")))?;
    let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| bad_form("form.time", format!("Give the time of {what} as HH:MM.")))?;
    Amsterdam
        .from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| {
            bad_form("form.time", "That time does not exist on that day in Amsterdam (the clocks move).")
        })
}

async fn create_meeting(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, render::PageError> {
    let a = path.into_inner();
    let me = secretariat(&page, a)?;
    let pairs = form.into_inner();
    me.check_csrf(&page, field(&pairs, "csrf"))?;
    let title = field(&pairs, "title").trim().to_owned();
    let place = field(&pairs, "place").trim().to_owned();
    if title.is_empty() || place.is_empty() {
        return Err(page.error(bad_form("form.missing", "Give the meeting a title and a place (or a link).")));
    }
    let starts = starts_at(field(&pairs, "date"), field(&pairs, "time")).map_err(|e| page.error(e))?;
    let mut agenda = Vec::new();
    for row in 1..=AGENDA_ROWS {
        let item_title = field(&pairs, &format!("item_{row}_title")).trim().to_owned();
        let motion_text = field(&pairs, &format!("item_{row}_motion")).trim().to_owned();
        if item_title.is_empty() {
            if !motion_text.is_empty() {
                return Err(page.error(bad_form(
                    "form.item_title",
                    format!("Agenda item {row} has a motion but no title."),
                )));
            }
            continue;
        }
        let motion = if motion_text.is_empty() {
            None
        } else {
            let kind =
                decision_kind(field(&pairs, &format!("item_{row}_kind"))).map_err(|e| page.error(e))?;
            let proposal = field(&pairs, &format!("item_{row}_proposal")).trim().to_owned();
            Some(MotionSpec {
                text: motion_text,
                kind,
                proposal: (!proposal.is_empty()).then_some(proposal),
                board_proposal_approved: field(&pairs, &format!("item_{row}_approved")) == "yes",
            })
        };
        agenda.push(AgendaItemSpec {
            item: AgendaItemId::from_uuid(new_uuid().map_err(|e| page.error(e))?),
            title: item_title,
            motion,
            carried_from: None,
            concerns_member: None,
            annual_accounts: field(&pairs, &format!("item_{row}_annual_accounts")) == "yes",
        });
    }
    let id = MeetingId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    state
        .execute(
            a,
            Command::CreateMeeting {
                meeting: id,
                title,
                starts_at: starts,
                place,
                agenda,
                follow_up_of: None,
                request: None,
            },
        )
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&meeting_path(a, id)))
}

#[derive(Debug, Serialize)]
struct AgendaRow {
    title: String,
    motion: Option<String>,
    kind: Option<String>,
    proposal: Option<String>,
}

#[derive(Debug, Serialize)]
struct Deadline {
    /// The last day the convocation may go out (Europe/Amsterdam).
    last_day: String,
    days: u32,
    special: bool,
    article: String,
    /// Whether today is still in time.
    in_time: bool,
    today: String,
}

#[derive(Debug, Serialize)]
struct MeetingDetail {
    id: String,
    title: String,
    starts_at: String,
    place: String,
    phase: String,
    agenda: Vec<AgendaRow>,
    convened_at: Option<String>,
    advance_voting: Option<(String, String)>,
    electronic_participation: Option<String>,
    statements: Vec<String>,
    deadline: Deadline,
}

fn deadline(s: &Association, m: &Meeting, now: crate::core::Instant) -> Deadline {
    let special = m
        .agenda
        .iter()
        .any(|i| i.motion.as_ref().is_some_and(|mo| s.profile.decision(mo.kind).notice == Notice::Special));
    let (notice, provision) = if special {
        (Notice::Special, Provision::SpecialConvocation)
    } else {
        (Notice::Ordinary, Provision::ConvocationNotice)
    };
    let days = s.profile.notice_days(notice);
    // The meeting may be held on the convocation's day + days + 1 at the earliest (neither
    // day counted), so the convocation goes out on the meeting's day − days − 1 at the latest.
    let last = add_days(day_of(m.starts_at), -(i64::from(days) + 1));
    let today = day_of(now);
    Deadline {
        last_day: last.to_string(),
        days,
        special,
        article: s.profile.article(provision).to_owned(),
        in_time: today <= last,
        today: today.to_string(),
    }
}

fn meeting_detail(s: &Association, m: &Meeting, now: crate::core::Instant) -> MeetingDetail {
    let api = crate::http::api::meetings::meeting_view(s, m);
    MeetingDetail {
        id: m.id.to_string(),
        title: m.title.clone(),
        starts_at: local(m.starts_at),
        place: m.place.clone(),
        phase: code(&m.phase),
        agenda: m
            .agenda
            .iter()
            .map(|i| AgendaRow {
                title: i.title.clone(),
                motion: i.motion.as_ref().map(|mo| mo.text.clone()),
                kind: i.motion.as_ref().map(|mo| code(&mo.kind)),
                proposal: i.motion.as_ref().and_then(|mo| mo.proposal.clone()),
            })
            .collect(),
        convened_at: m.convocation.as_ref().map(|c| local(c.at)),
        advance_voting: m
            .convocation
            .as_ref()
            .and_then(|c| c.advance_voting.as_ref())
            .map(|w| (local(w.opens), local(w.closes))),
        electronic_participation: m.convocation.as_ref().and_then(|c| c.electronic_participation.clone()),
        statements: api
            .convocation
            .map(|c| c.statements.into_iter().map(|st| st.text).collect())
            .unwrap_or_default(),
        deadline: deadline(s, m, now),
    }
}

async fn meeting(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    secretariat(&page, a)?;
    let now = state.clock.now();
    let detail = read_meeting(&state, &page, a, m, move |s, meeting| meeting_detail(s, meeting, now)).await?;
    page.render(
        "secretariat/meeting.html",
        context! { association => a.to_string(), meeting => V::from(Serde(&detail)) },
    )
}

#[derive(Debug, Deserialize)]
struct ConveneForm {
    #[serde(default)]
    csrf: String,
    convener: String,
    #[serde(default)]
    advance_voting: Option<String>,
    #[serde(default)]
    electronic_participation: String,
}

async fn convene(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<ConveneForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let by = match form.convener.as_str() {
        "board" => Convener::Board,
        "supervisory_board" => Convener::SupervisoryBoard,
        _ => {
            return Err(page.error(bad_form(
                "form.convener",
                "Choose who convenes the meeting: the board or the supervisory board (Art. 8.1).",
            )));
        }
    };
    let conditions = form.electronic_participation.trim();
    read_meeting(&state, &page, a, m, |_, _| ()).await?;
    state
        .execute(
            a,
            Command::ConveneMeeting {
                meeting: m,
                by,
                advance_voting: form.advance_voting.as_deref() == Some("yes"),
                electronic_participation: (!conditions.is_empty()).then(|| conditions.to_owned()),
            },
        )
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&meeting_path(a, m)))
}

// ---- proxies received on paper ---------------------------------------------------------------

/// What the service keeps of a proxy's scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanRecord {
    pub proxy: String,
    pub sha256: String,
    pub bytes: usize,
    pub file_name: String,
    pub content_type: String,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

fn scan_dir(state: &AppState, a: AssociationId) -> PathBuf {
    state.config.scan_dir.join(a.to_string())
}

fn scan_record(dir: &Path, proxy: ProxyId) -> Option<ScanRecord> {
    let text = std::fs::read_to_string(dir.join(format!("{proxy}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

#[derive(Debug, Serialize)]
struct ProxyRow {
    id: String,
    grantor: String,
    holder: String,
    /// `member`, `connected_person`, `supervisory_board_chair`, `notary` or `lawyer`.
    holder_kind: String,
    form: String,
    instructions: Vec<(String, String)>,
    received_at: String,
    revoked_at: Option<String>,
    scan: Option<ScanRecord>,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct ProxiesView {
    id: String,
    title: String,
    phase: String,
    proxies: Vec<ProxyRow>,
    grantors: Vec<Choice>,
    holders: Vec<(String, Vec<Choice>)>,
    /// Agenda items with a motion: (item, title).
    motions: Vec<(String, String)>,
}

fn holder_kind(h: &ProxyHolder) -> &'static str {
    match h {
        ProxyHolder::Member { .. } => "member",
        ProxyHolder::ConnectedPerson { .. } => "connected_person",
        ProxyHolder::SupervisoryBoardChair { .. } => "supervisory_board_chair",
        ProxyHolder::Notary { .. } => "notary",
        ProxyHolder::Lawyer { .. } => "lawyer",
    }
}

fn proxies_view(s: &Association, m: &Meeting, scans: &Path) -> ProxiesView {
    let mut proxies: Vec<ProxyRow> = m
        .proxies
        .values()
        .map(|p| ProxyRow {
            id: p.id.to_string(),
            grantor: s.register.member_name(p.grantor),
            holder: match p.holder {
                ProxyHolder::Member { member } => s.register.member_name(member),
                other => other.person().map(|x| s.register.person_name(x)).unwrap_or_default(),
            },
            holder_kind: holder_kind(&p.holder).into(),
            form: code(&p.form),
            instructions: p
                .instructions
                .iter()
                .map(|(item, i)| {
                    (m.item(*item).map_or_else(|| item.to_string(), |x| x.title.clone()), code(i))
                })
                .collect(),
            received_at: local(p.received_at),
            revoked_at: p.revoked_at.map(local),
            scan: scan_record(scans, p.id),
        })
        .collect();
    proxies.sort_by(|x, y| x.grantor.cmp(&y.grantor));
    let mut grantors: Vec<Choice> = s
        .register
        .voting_members()
        .map(|x| Choice { value: x.id.to_string(), label: x.name.clone() })
        .collect();
    grantors.sort_by(|x, y| x.label.cmp(&y.label));
    let mut member_holders: Vec<Choice> = s
        .register
        .voting_members()
        .map(|x| Choice { value: format!("member:{}", x.id), label: x.name.clone() })
        .collect();
    member_holders.sort_by(|x, y| x.label.cmp(&y.label));
    let mut chair = Vec::new();
    if let Some(p) = s.register.supervisory_board_chair {
        chair
            .push(Choice { value: format!("supervisory_board_chair:{p}"), label: s.register.person_name(p) });
    }
    let mut persons: Vec<Choice> = Vec::new();
    let mut professionals: Vec<Choice> = Vec::new();
    for p in s.register.persons.values() {
        match p.profession {
            Some(Profession::Notary) => {
                professionals.push(Choice { value: format!("notary:{}", p.id), label: p.name.clone() })
            }
            Some(Profession::Lawyer) => {
                professionals.push(Choice { value: format!("lawyer:{}", p.id), label: p.name.clone() })
            }
            None => {
                if s.register.representatives.keys().any(|(person, _)| *person == p.id) {
                    persons
                        .push(Choice { value: format!("connected_person:{}", p.id), label: p.name.clone() });
                }
            }
        }
    }
    persons.sort_by(|x, y| x.label.cmp(&y.label));
    professionals.sort_by(|x, y| x.label.cmp(&y.label));
    let mut holders =
        vec![("member".to_owned(), member_holders), ("supervisory_board_chair".to_owned(), chair)];
    holders.push(("connected_person".to_owned(), persons));
    if !professionals.is_empty() {
        holders.push(("professional".to_owned(), professionals));
    }
    ProxiesView {
        id: m.id.to_string(),
        title: m.title.clone(),
        phase: code(&m.phase),
        proxies,
        grantors,
        holders,
        motions: m
            .agenda
            .iter()
            .filter(|i| i.motion.is_some())
            .map(|i| (i.id.to_string(), i.title.clone()))
            .collect(),
    }
}

async fn proxies(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    secretariat(&page, a)?;
    let scans = scan_dir(&state, a);
    let view = read_meeting(&state, &page, a, m, move |s, meeting| proxies_view(s, meeting, &scans)).await?;
    page.render(
        "secretariat/proxies.html",
        context! { association => a.to_string(), meeting => V::from(Serde(&view)), max_scan_mb => MAX_SCAN_BYTES / (1024 * 1024) },
    )
}

/// One part of a `multipart/form-data` body.
#[derive(Debug)]
struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

/// The value of `name="…"` in a `Content-Disposition` header.
fn disposition_param(header: &str, param: &str) -> Option<String> {
    let key = format!("{param}=\"");
    let start = header.find(&key)? + key.len();
    let end = header[start..].find('"')? + start;
    Some(header[start..end].to_owned())
}

/// Reads a `multipart/form-data` body as browsers send it (RFC 7578): parts separated by
/// the boundary, each with its headers and its bytes. Anything else is refused.
fn multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let refused = || {
        bad_form(
            "form.multipart",
            "The form with the scan could not be read; reload the page and send it again.",
        )
    };
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(refused)?;
    if !content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(refused());
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut at = find(body, &delimiter, 0).ok_or_else(refused)? + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(refused());
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at).ok_or_else(refused)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).map_err(|_| refused())?;
        let start = headers_end + 4;
        let mut next_delimiter = b"\r\n".to_vec();
        next_delimiter.extend_from_slice(&delimiter);
        let end = find(body, &next_delimiter, start).ok_or_else(refused)?;
        let mut name = None;
        let mut file_name = None;
        let mut part_type = None;
        for line in headers.split("\r\n") {
            let (key, value) = line.split_once(':').ok_or_else(refused)?;
            match key.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    name = disposition_param(value, "name");
                    file_name = disposition_param(value, "filename");
                }
                "content-type" => part_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(Part {
            name: name.ok_or_else(refused)?,
            file_name,
            content_type: part_type,
            body: body[start..end].to_vec(),
        });
        at = end + next_delimiter.len();
    }
}

fn text_field(parts: &[Part], name: &str) -> String {
    parts
        .iter()
        .find(|p| p.name == name && p.file_name.is_none())
        .map(|p| String::from_utf8_lossy(&p.body).trim().to_owned())
        .unwrap_or_default()
}

fn holder_of(value: &str) -> Result<ProxyHolder, ApiError> {
    let (kind, id) = value
        .split_once(':')
        .ok_or_else(|| bad_form("form.holder", "Choose who holds the proxy (Art. 8.5)."))?;
    Ok(match kind {
        "member" => ProxyHolder::Member { member: parse_id(id, "member holding the proxy")? },
        "connected_person" => {
            ProxyHolder::ConnectedPerson { person: parse_id(id, "person holding the proxy")? }
        }
        "supervisory_board_chair" => {
            ProxyHolder::SupervisoryBoardChair { person: parse_id(id, "chair of the supervisory board")? }
        }
        "notary" => ProxyHolder::Notary { person: parse_id(id, "notary")? },
        "lawyer" => ProxyHolder::Lawyer { person: parse_id(id, "lawyer")? },
        _ => return Err(bad_form("form.holder", "Choose who holds the proxy (Art. 8.5).")),
    })
}

fn instruction_of(value: &str) -> Result<Instruction, ApiError> {
    match value {
        "" | "free" => Ok(Instruction::Free),
        "for" => Ok(Instruction::For),
        "against" => Ok(Instruction::Against),
        "abstain" => Ok(Instruction::Abstain),
        _ => Err(bad_form("form.instruction", "A voting instruction is for, against, abstain or free.")),
    }
}

fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// The file name as given, reduced to what is safe to show and to send back.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '))
        .take(100)
        .collect();
    if cleaned.trim().is_empty() { "scan".into() } else { cleaned }
}

async fn record_paper_proxy(
    state: web::Data<AppState>,
    page: Page,
    req: HttpRequest,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Bytes,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let me = secretariat(&page, a)?.clone();
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let parts = multipart(content_type, &body).map_err(|e| page.error(e))?;
    me.check_csrf(&page, &text_field(&parts, "csrf"))?;
    let grantor: MemberId =
        parse_id(&text_field(&parts, "grantor"), "member that gives the proxy").map_err(|e| page.error(e))?;
    let holder = holder_of(&text_field(&parts, "holder")).map_err(|e| page.error(e))?;
    let items = read_meeting(&state, &page, a, m, |_, meeting| {
        meeting.agenda.iter().filter(|i| i.motion.is_some()).map(|i| i.id).collect::<Vec<_>>()
    })
    .await?;
    let mut instructions = BTreeMap::new();
    for item in items {
        let instruction =
            instruction_of(&text_field(&parts, &format!("instruction_{item}"))).map_err(|e| page.error(e))?;
        if instruction != Instruction::Free {
            instructions.insert(item, instruction);
        }
    }
    let scan = parts
        .iter()
        .find(|p| {
            p.name == "scan" && p.file_name.as_deref().is_some_and(|f| !f.is_empty()) && !p.body.is_empty()
        })
        .ok_or_else(|| {
            page.error(bad_form(
                "form.scan_missing",
                "Upload the scan of the signed paper proxy (Art. 8.5: a proxy is given in writing).",
            ))
        })?;
    if scan.body.len() > MAX_SCAN_BYTES {
        return Err(
            page.error(bad_form("form.scan_too_large", "The scan is larger than the service accepts."))
        );
    }
    let digest = Sha256::digest(&scan.body);
    let sha256 = hex(&digest);
    let dir = scan_dir(&state, a);
    let proxy = ProxyId::from_uuid(new_uuid().map_err(|e| page.error(e))?);
    let stored = |e: std::io::Error| {
        tracing::error!(error = %e, "the scan of a paper proxy could not be stored");
        page.error(ApiError::internal())
    };
    // The scan goes to a temporary file first; it takes its place only once the core accepted
    // the proxy, so a refused proxy leaves nothing behind.
    std::fs::create_dir_all(&dir).map_err(stored)?;
    let temporary = dir.join(format!(".{proxy}.upload"));
    std::fs::write(&temporary, &scan.body).map_err(stored)?;
    let accepted = state
        .execute(
            a,
            Command::GrantProxy {
                meeting: m,
                proxy,
                grantor,
                holder,
                instructions,
                form: ProxyForm::Paper,
                signed: None,
                scan_sha256: Some(crate::core::Sha256Bytes::from(<[u8; 32]>::from(digest))),
            },
        )
        .await;
    if let Err(e) = accepted {
        let _ = std::fs::remove_file(&temporary);
        return Err(page.error(e));
    }
    let record = ScanRecord {
        proxy: proxy.to_string(),
        sha256: sha256.clone(),
        bytes: scan.body.len(),
        file_name: clean_file_name(scan.file_name.as_deref().unwrap_or("")),
        content_type: scan.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
        uploaded_at: crate::http::api::time(state.clock.now()),
        uploaded_by: me.caller.person.to_string(),
    };
    std::fs::rename(&temporary, dir.join(&sha256)).map_err(stored)?;
    let json = serde_json::to_vec_pretty(&record).map_err(|_| page.error(ApiError::internal()))?;
    std::fs::write(dir.join(format!("{proxy}.json")), json).map_err(stored)?;
    Ok(see_other(&format!("/{a}/secretariat/meetings/{m}/proxies#proxy-{proxy}")))
}

async fn scan(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId, ProxyId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m, proxy) = path.into_inner();
    secretariat(&page, a)?;
    let known =
        read_meeting(&state, &page, a, m, move |_, meeting| meeting.proxies.contains_key(&proxy)).await?;
    let dir = scan_dir(&state, a);
    let record = scan_record(&dir, proxy).filter(|_| known).ok_or_else(|| {
        page.error(ApiError::not_found("proxy.no_scan", format!("There is no scan of proxy {proxy}.")))
    })?;
    let bytes = std::fs::read(dir.join(&record.sha256)).map_err(|_| {
        page.error(ApiError::not_found("proxy.no_scan", format!("The scan of proxy {proxy} is missing.")))
    })?;
    if hex(&Sha256::digest(&bytes)) != record.sha256 {
        tracing::error!(%proxy, "the stored scan of a proxy no longer matches its SHA-256");
        return Err(page.error(ApiError::internal()));
    }
    // Served as a download, never rendered in the site's origin.
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", record.file_name),
        ))
        .body(bytes))
}

// ---- attendance at the door -------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct StretchRow {
    member: String,
    member_id: String,
    person: String,
    attends_as: String,
    mode: String,
    arrived: String,
    left: Option<String>,
}

#[derive(Debug, Serialize)]
struct DoorView {
    id: String,
    title: String,
    phase: String,
    electronic_allowed: bool,
    stretches: Vec<StretchRow>,
    present_now: usize,
    members: Vec<Choice>,
    persons: Vec<Choice>,
}

fn door_view(s: &Association, m: &Meeting) -> DoorView {
    let mut spans: Vec<_> = m.attendance_spans().collect();
    spans.sort_by(|x, y| y.arrived.cmp(&x.arrived).then_with(|| x.member.cmp(&y.member)));
    let stretches: Vec<StretchRow> = spans
        .into_iter()
        .map(|a| StretchRow {
            member: s.register.member_name(a.member),
            member_id: a.member.to_string(),
            person: s.register.person_name(a.person),
            attends_as: match a.attends_as {
                AttendsAs::Own => "own".into(),
                AttendsAs::Proxy { .. } => "proxy".into(),
            },
            mode: code(&a.mode),
            arrived: local(a.arrived),
            left: a.left.map(local),
        })
        .collect();
    let present_now = stretches.iter().filter(|r| r.left.is_none()).count();
    let mut members: Vec<Choice> = s
        .register
        .members
        .values()
        .map(|x| Choice { value: x.id.to_string(), label: x.name.clone() })
        .collect();
    members.sort_by(|x, y| x.label.cmp(&y.label));
    let persons = person_choices(s);
    DoorView {
        id: m.id.to_string(),
        title: m.title.clone(),
        phase: code(&m.phase),
        electronic_allowed: m.convocation.as_ref().is_some_and(|c| c.electronic_participation.is_some()),
        stretches,
        present_now,
        members,
        persons,
    }
}

async fn door(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    secretariat(&page, a)?;
    let view = read_meeting(&state, &page, a, m, door_view).await?;
    page.render(
        "secretariat/attendance.html",
        context! { association => a.to_string(), meeting => V::from(Serde(&view)) },
    )
}

#[derive(Debug, Deserialize)]
struct CheckInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    mode: String,
}

async fn check_in(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<CheckInForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let member: MemberId = parse_id(&form.member, "member that arrives").map_err(|e| page.error(e))?;
    let person: PersonId = parse_id(&form.person, "person who attends for it").map_err(|e| page.error(e))?;
    let mode = match form.mode.as_str() {
        "" | "in_person" => Mode::InPerson,
        "electronic" => Mode::Electronic,
        _ => {
            return Err(page
                .error(bad_form("form.mode", "A member attends in person or electronically (Art. 8.11).")));
        }
    };
    read_meeting(&state, &page, a, m, |_, _| ()).await?;
    state
        .execute(a, Command::CheckIn { meeting: m, member, person, mode })
        .await
        .map_err(|e| page.error(e))?;
    Ok(see_other(&format!("/{a}/secretariat/meetings/{m}/attendance")))
}

#[derive(Debug, Deserialize)]
struct CheckOutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    member: String,
}

async fn check_out(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
    form: web::Form<CheckOutForm>,
) -> Result<HttpResponse, render::PageError> {
    let (a, m) = path.into_inner();
    let me = secretariat(&page, a)?;
    me.check_csrf(&page, &form.csrf)?;
    let member: MemberId = parse_id(&form.member, "member that leaves").map_err(|e| page.error(e))?;
    read_meeting(&state, &page, a, m, |_, _| ()).await?;
    state.execute(a, Command::CheckOut { meeting: m, member }).await.map_err(|e| page.error(e))?;
    Ok(see_other(&format!("/{a}/secretariat/meetings/{m}/attendance")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browsers_multipart_form_is_read_part_by_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"scan\"; filename=\"C:\\\\scans\\\\volmacht.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--\r\nbinary\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(parts.len(), 2);
        assert_eq!(text_field(&parts, "csrf"), "abc");
        assert_eq!(parts[1].body, b"%PDF\r\n--\r\nbinary");
        assert_eq!(parts[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(clean_file_name(parts[1].file_name.as_deref().unwrap_or("")), "volmacht.pdf");
    }

    #[test]
    fn a_body_that_is_not_multipart_is_refused() {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", &b"a=b"[..]),
            ("multipart/form-data; boundary=XyZ", &b"no delimiter here"[..]),
            (
                "multipart/form-data; boundary=XyZ",
                &b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"[..],
            ),
            ("multipart/form-data", &b"--XyZ--"[..]),
        ] {
            assert!(multipart(content_type, body).is_err(), "{content_type}: {body:?}");
        }
    }

    fn meeting_on(kind: DecisionKind, day: &str) -> (Association, MeetingId) {
        let t = |text: &str| -> crate::core::Instant { text.parse().unwrap_or_else(|e| panic!("{e}")) };
        let mut s = Association::new(crate::core::RulesProfile::dimpact_2023());
        let m = MeetingId::named("alv");
        let proposal = (kind != DecisionKind::Ordinary).then(|| "the proposal".to_owned());
        let command = Command::CreateMeeting {
            meeting: m,
            title: "ALV".into(),
            starts_at: t(&format!("{day}T19:30:00+02:00")),
            place: "Zwolle".into(),
            agenda: vec![AgendaItemSpec {
                item: AgendaItemId::named("1"),
                title: "Motion".into(),
                motion: Some(MotionSpec {
                    text: "Text".into(),
                    kind,
                    proposal,
                    board_proposal_approved: true,
                }),
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            }],
            follow_up_of: None,
            request: None,
        };
        crate::core::execute(&mut s, command, t("2026-04-01T09:00:00+02:00"))
            .unwrap_or_else(|e| panic!("{e}"));
        (s, m)
    }

    #[test]
    fn the_convocation_deadline_counts_neither_day_art_8_3() {
        // A meeting on 20 May: the ten days are 10 to 19 May, so the convocation goes out on
        // 9 May at the latest.
        let (s, m) = meeting_on(DecisionKind::Ordinary, "2026-05-20");
        let t = |text: &str| -> crate::core::Instant { text.parse().unwrap_or_else(|e| panic!("{e}")) };
        let meeting = s.meetings.get(&m).unwrap_or_else(|| panic!("no meeting"));
        let on_the_day = deadline(&s, meeting, t("2026-05-09T23:00:00+02:00"));
        assert_eq!(
            (on_the_day.last_day.as_str(), on_the_day.days, on_the_day.special),
            ("2026-05-09", 10, false)
        );
        assert!(on_the_day.in_time);
        assert_eq!(on_the_day.article, "8.3");
        let a_day_late = deadline(&s, meeting, t("2026-05-10T00:30:00+02:00"));
        assert!(!a_day_late.in_time, "{a_day_late:?}");
    }

    #[test]
    fn a_statute_amendment_needs_fourteen_days_art_20_3() {
        let (s, m) = meeting_on(DecisionKind::StatuteAmendment, "2026-05-20");
        let meeting = s.meetings.get(&m).unwrap_or_else(|| panic!("no meeting"));
        let d = deadline(&s, meeting, "2026-05-01T09:00:00+02:00".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            (d.last_day.as_str(), d.days, d.special, d.article.as_str()),
            ("2026-05-05", 14, true, "20.3")
        );
    }
}
