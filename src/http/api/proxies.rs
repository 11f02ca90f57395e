//! Proxies for a meeting (Art. 8.5): the secretariat records a proxy that reached it on paper;
//! a member's representative records its member's proxy electronically. Either revokes it until
//! the meeting opens. Who may hold a proxy, the cap and the deadline are the core's to decide.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::meetings::read_meeting;
use super::register::new_uuid;
use super::time;
use crate::core::keys::{Sha256Bytes, Signed};
use crate::core::{
    AgendaItemId, Association, AssociationId, Command, Fact, Instruction, MeetingId, MemberId, PersonId,
    Proxy, ProxyForm, ProxyHolder, ProxyId,
};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_proxies).service(grant_proxy).service(revoke_proxy);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProxyHolderView {
    /// `member`, `connected_person`, `supervisory_board_chair`, `notary` or `lawyer`.
    pub holder: String,
    /// The holding member, for a proxy to another member.
    pub member: Option<String>,
    /// The holding person, for a proxy to a person.
    pub person: Option<String>,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProxyView {
    pub id: String,
    /// The member that gives the proxy.
    pub grantor: String,
    pub grantor_name: String,
    pub holder: ProxyHolderView,
    /// Voting instructions per agenda item: `for`, `against`, `abstain` or `free`.
    pub instructions: BTreeMap<String, String>,
    /// `paper` (recorded by the secretariat) or `electronic` (recorded by the member's
    /// representative).
    pub form: String,
    /// When the proxy reached the service; it must be before the meeting opens (Art. 8.5).
    pub received_at: String,
    pub revoked_at: Option<String>,
    /// For a proxy on paper: the SHA-256 of its scan as the log holds it (hex), or null when
    /// none was given.
    pub scan_sha256: Option<String>,
    /// Proof that the proxy is in the meeting's log, against the head the service signed after
    /// storing it. Only in the answer that records the proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_receipt: Option<super::records::LogReceiptView>,
}

fn proxy_view(s: &Association, p: &Proxy) -> ProxyView {
    let (member, person) = match p.holder {
        ProxyHolder::Member { member } => (Some(member), None),
        other => (None, other.person()),
    };
    let name = match (member, person) {
        (Some(m), _) => s.register.member_name(m),
        (None, Some(person)) => s.register.person_name(person),
        (None, None) => String::new(),
    };
    ProxyView {
        id: p.id.to_string(),
        grantor: p.grantor.to_string(),
        grantor_name: s.register.member_name(p.grantor),
        holder: ProxyHolderView {
            holder: holder_kind(p.holder).into(),
            member: member.map(|m| m.to_string()),
            person: person.map(|p| p.to_string()),
            name,
        },
        instructions: p.instructions.iter().map(|(item, i)| (item.to_string(), code(i))).collect(),
        form: code(&p.form),
        received_at: time(p.received_at),
        revoked_at: p.revoked_at.map(time),
        scan_sha256: p.scan_sha256.map(|h| h.to_hex()),
        log_receipt: None,
    }
}

/// The kind of holder, without its id: the tag of the request that names it.
fn holder_kind(h: ProxyHolder) -> &'static str {
    match h {
        ProxyHolder::Member { .. } => "member",
        ProxyHolder::ConnectedPerson { .. } => "connected_person",
        ProxyHolder::SupervisoryBoardChair { .. } => "supervisory_board_chair",
        ProxyHolder::Notary { .. } => "notary",
        ProxyHolder::Lawyer { .. } => "lawyer",
    }
}

/// The proxies recorded for the meeting, revoked ones included, in the order received.
#[utoipa::path(tag = "proxies", responses((status = 200, body = Vec<ProxyView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/proxies")]
async fn list_proxies(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    let views = read_meeting(&state, a, m, |s, meeting| {
        let mut proxies: Vec<&Proxy> = meeting.proxies.values().collect();
        proxies.sort_by(|x, y| x.received_at.cmp(&y.received_at).then_with(|| x.id.cmp(&y.id)));
        proxies.into_iter().map(|p| proxy_view(s, p)).collect::<Vec<_>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Who receives the proxy (Art. 8.5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "holder", deny_unknown_fields)]
pub enum HolderChoice {
    /// Another member: its representative votes for both. At most two per holder.
    Member {
        #[schema(value_type = String)]
        member: MemberId,
    },
    /// A person durably connected to the granting member. At most two per holder.
    ConnectedPerson {
        #[schema(value_type = String)]
        person: PersonId,
    },
    /// The chair of the supervisory board: no cap.
    SupervisoryBoardChair {
        #[schema(value_type = String)]
        person: PersonId,
    },
    /// A notary: no cap.
    Notary {
        #[schema(value_type = String)]
        person: PersonId,
    },
    /// A lawyer: no cap.
    Lawyer {
        #[schema(value_type = String)]
        person: PersonId,
    },
}

impl From<HolderChoice> for ProxyHolder {
    fn from(h: HolderChoice) -> Self {
        match h {
            HolderChoice::Member { member } => ProxyHolder::Member { member },
            HolderChoice::ConnectedPerson { person } => ProxyHolder::ConnectedPerson { person },
            HolderChoice::SupervisoryBoardChair { person } => ProxyHolder::SupervisoryBoardChair { person },
            HolderChoice::Notary { person } => ProxyHolder::Notary { person },
            HolderChoice::Lawyer { person } => ProxyHolder::Lawyer { person },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProxy {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<ProxyId>,
    /// The member that gives the proxy.
    #[schema(value_type = String)]
    pub grantor: MemberId,
    /// `{"holder": "member", "member": ...}` or `{"holder": "connected_person" |
    /// "supervisory_board_chair" | "notary" | "lawyer", "person": ...}`.
    pub holder: HolderChoice,
    /// Voting instructions per agenda item: `for`, `against`, `abstain` or `free`.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Instruction>)]
    pub instructions: BTreeMap<AgendaItemId, Instruction>,
    /// For a proxy recorded electronically: the representative's signature over the proxy
    /// statement (docs/encoding.md), which needs the proxy's `id`.
    #[schema(value_type = Option<crate::http::schemas::SignatureSchema>)]
    pub signature: Option<Signed>,
    /// For a proxy the secretariat records from paper: the SHA-256 of its scan (64 hex
    /// digits), which the log then holds.
    #[schema(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub scan_sha256: Option<Sha256Bytes>,
}

/// Records a proxy before the meeting opens (Art. 8.5). The secretariat records a proxy that
/// reached it on paper, for any member; a member's representative records its member's proxy
/// electronically.
#[utoipa::path(tag = "proxies", request_body = NewProxy, responses((status = 201, body = ProxyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/meetings/{meeting}/proxies")]
async fn grant_proxy(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
    body: web::Json<NewProxy>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.may_write(a)?;
    let b = body.into_inner();
    let (person, grantor) = (caller.person, b.grantor);
    let represents = read_meeting(&state, a, m, move |s, _| s.register.represents(person, grantor)).await?;
    let form = if caller.has(Role::Secretariat) {
        ProxyForm::Paper
    } else if represents {
        ProxyForm::Electronic
    } else {
        return Err(ApiError::forbidden(
            "access.not_representative",
            "You do not represent the member that gives this proxy; only its representative records it electronically, or the secretariat records it from paper.",
        ));
    };
    let id = match (b.id, &b.signature) {
        (Some(id), _) => id,
        (None, None) => ProxyId::from_uuid(new_uuid()?),
        (None, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.proxy_id_missing",
                "The request is incomplete",
                "A signed proxy names its `id`: the signature covers the proxy's id, so choose the id, sign the proxy statement with it and send both.",
            ));
        }
    };
    let logged = state
        .execute(
            a,
            Command::GrantProxy {
                meeting: m,
                proxy: id,
                grantor,
                holder: b.holder.into(),
                instructions: b.instructions,
                form,
                signed: b.signature,
                scan_sha256: b.scan_sha256,
            },
        )
        .await?;
    let receipt = super::receipt_for(&state, a, &logged, |f| matches!(f, Fact::ProxyGranted { .. })).await?;
    let mut view = proxy_view_of(&state, a, m, id).await?;
    view.log_receipt = Some(receipt);
    Ok(HttpResponse::Created().json(view))
}

async fn proxy_view_of(
    state: &AppState,
    a: AssociationId,
    m: MeetingId,
    id: ProxyId,
) -> Result<ProxyView, ApiError> {
    read_meeting(state, a, m, move |s, meeting| meeting.proxies.get(&id).map(|p| proxy_view(s, p)))
        .await?
        .ok_or_else(|| unknown_proxy(id))
}

fn unknown_proxy(id: ProxyId) -> ApiError {
    ApiError::not_found("proxy.unknown", format!("There is no proxy {id} for this meeting."))
}

/// Revokes a proxy until the meeting opens (the secretariat, or a representative of the member
/// that gave it).
#[utoipa::path(tag = "proxies", responses((status = 200, body = ProxyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[delete("/associations/{association}/meetings/{meeting}/proxies/{proxy}")]
async fn revoke_proxy(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId, ProxyId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m, id) = path.into_inner();
    caller.may_write(a)?;
    let person = caller.person;
    let represents = read_meeting(&state, a, m, move |s, meeting| {
        meeting.proxies.get(&id).map(|p| s.register.represents(person, p.grantor))
    })
    .await?
    .ok_or_else(|| unknown_proxy(id))?;
    if !represents && !caller.has(Role::Secretariat) {
        return Err(ApiError::forbidden(
            "access.not_representative",
            "Only the secretariat or a representative of the member that gave the proxy may revoke it.",
        ));
    }
    state.execute(a, Command::RevokeProxy { meeting: m, proxy: id }).await?;
    Ok(HttpResponse::Ok().json(proxy_view_of(&state, a, m, id).await?))
}
