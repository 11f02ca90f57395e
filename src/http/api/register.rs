//! The association and its member register: members, persons, who represents which member,
//! the supervisory board's chair, and the roles of the secretariat and auditors.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::core::register::{Capacity, EmailAddress, Language, MemberKind, Profession};
use crate::core::{Association, AssociationId, Command, MemberId, PersonId};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::{access, projection::code};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_association)
        .service(list_members)
        .service(get_member)
        .service(register_member)
        .service(change_address)
        .service(suspend)
        .service(reinstate)
        .service(list_persons)
        .service(get_person)
        .service(register_person)
        .service(assign_representative)
        .service(withdraw_representative)
        .service(set_supervisory_board)
        .service(grant_role)
        .service(revoke_role);
}

/// A new random id (UUID v4).
pub fn new_uuid() -> Result<uuid::Uuid, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::internal())?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationView {
    pub id: String,
    pub name: String,
    /// The statutes the service enforces for this association.
    pub rules_profile: String,
    pub members: usize,
    pub members_in_office: u64,
}

/// The caller's association.
#[utoipa::path(tag = "register", responses((status = 200, body = AssociationView), (status = 403, body = Problem)))]
#[get("/associations/{association}")]
async fn get_association(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let store = state.service.store().clone();
    let stored = web::block(move || {
        let mut conn = store.connection()?;
        crate::store::associations::get(&mut conn, a)
    })
    .await??;
    let (members, in_office) = state
        .read(a, |s| {
            (s.register.members.len(), crate::core::tally::members_in_office(&s.register, &s.profile))
        })
        .await?;
    Ok(HttpResponse::Ok().json(AssociationView {
        id: a.to_string(),
        name: stored.name,
        rules_profile: stored.profile.name,
        members,
        members_in_office: in_office,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepresentativeView {
    pub person: String,
    pub name: String,
    /// `portfolio_holder` or `official`.
    pub capacity: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    pub name: String,
    /// `gemeente`, `waterschap`, `provincie`, `staat` or `other_public_body` (Art. 4.3).
    pub kind: String,
    /// The registered address; registering it is consent to be convened by e-mail (Art. 8.3).
    pub email: Option<String>,
    pub language: String,
    pub suspended: bool,
    pub representatives: Vec<RepresentativeView>,
}

fn member_view(s: &Association, id: MemberId) -> Option<MemberView> {
    let m = s.register.member(id)?;
    let representatives = s
        .register
        .representatives
        .iter()
        .filter(|((_, member), _)| *member == id)
        .map(|((person, _), capacity)| RepresentativeView {
            person: person.to_string(),
            name: s.register.person_name(*person),
            capacity: code(capacity),
        })
        .collect();
    Some(MemberView {
        id: id.to_string(),
        name: m.name.clone(),
        kind: code(&m.kind),
        email: m.email.as_ref().map(|e| e.to_string()),
        language: code(&m.language),
        suspended: m.suspended,
        representatives,
    })
}

async fn member_response(
    state: &AppState,
    a: AssociationId,
    id: MemberId,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let view = state.read(a, move |s| member_view(s, id)).await?;
    let view =
        view.ok_or_else(|| ApiError::not_found("member.unknown", format!("There is no member {id}.")))?;
    Ok(HttpResponse::build(status).json(view))
}

/// The members, by name.
#[utoipa::path(tag = "register", responses((status = 200, body = Vec<MemberView>), (status = 403, body = Problem)))]
#[get("/associations/{association}/members")]
async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let mut views = state
        .read(a, |s| s.register.members.keys().filter_map(|id| member_view(s, *id)).collect::<Vec<_>>())
        .await?;
    views.sort_by(|x, y| x.name.cmp(&y.name));
    Ok(HttpResponse::Ok().json(views))
}

/// One member.
#[utoipa::path(tag = "register", responses((status = 200, body = MemberView), (status = 404, body = Problem)))]
#[get("/associations/{association}/members/{member}")]
async fn get_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MemberId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    member_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterMember {
    /// An id or readable key; a new UUID when left out.
    #[schema(value_type = Option<String>)]
    pub id: Option<MemberId>,
    pub name: String,
    /// `gemeente`, `waterschap`, `provincie`, `staat` or `other_public_body` (Art. 4.3).
    pub kind: MemberKind,
    #[schema(value_type = Option<String>)]
    pub email: Option<EmailAddress>,
    /// `nl` (default) or `en`.
    #[serde(default)]
    pub language: Language,
}

/// Registers a member (secretariat).
#[utoipa::path(tag = "register", request_body = RegisterMember, responses((status = 201, body = MemberView), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/members")]
async fn register_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<RegisterMember>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    let id = match b.id {
        Some(id) => id,
        None => MemberId::from_uuid(new_uuid()?),
    };
    state
        .execute(
            a,
            Command::RegisterMember {
                member: id,
                name: b.name,
                kind: b.kind,
                email: b.email,
                language: b.language,
            },
        )
        .await?;
    member_response(&state, a, id, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeAddress {
    /// The new address, or null to withdraw consent to e-mail.
    #[schema(value_type = Option<String>)]
    pub email: Option<EmailAddress>,
}

/// Changes a member's registered e-mail address (secretariat).
#[utoipa::path(tag = "register", request_body = ChangeAddress, responses((status = 200, body = MemberView), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/associations/{association}/members/{member}/email")]
async fn change_address(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MemberId)>,
    body: web::Json<ChangeAddress>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    state.execute(a, Command::ChangeMemberAddress { member: m, email: body.into_inner().email }).await?;
    member_response(&state, a, m, StatusCode::OK).await
}

/// Suspends a member in appeal against termination or expulsion (Art. 6.9; secretariat).
#[utoipa::path(tag = "register", responses((status = 200, body = MemberView), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/members/{member}/suspension")]
async fn suspend(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MemberId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    state.execute(a, Command::SuspendMember { member: m }).await?;
    member_response(&state, a, m, StatusCode::OK).await
}

/// Reinstates a suspended member (secretariat).
#[utoipa::path(tag = "register", responses((status = 200, body = MemberView), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[delete("/associations/{association}/members/{member}/suspension")]
async fn reinstate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MemberId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    state.execute(a, Command::ReinstateMember { member: m }).await?;
    member_response(&state, a, m, StatusCode::OK).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepresentationView {
    pub member: String,
    pub name: String,
    pub capacity: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// `notary` or `lawyer`, who may hold any number of proxies (Art. 8.5).
    pub profession: Option<String>,
    pub represents: Vec<RepresentationView>,
    pub supervisory_board_chair: bool,
    pub deputy_chair: bool,
}

fn person_view(s: &Association, id: PersonId) -> Option<PersonView> {
    let p = s.register.person(id)?;
    let represents = s
        .register
        .representatives
        .iter()
        .filter(|((person, _), _)| *person == id)
        .map(|((_, member), capacity)| RepresentationView {
            member: member.to_string(),
            name: s.register.member_name(*member),
            capacity: code(capacity),
        })
        .collect();
    Some(PersonView {
        id: id.to_string(),
        name: p.name.clone(),
        email: p.email.as_ref().map(|e| e.to_string()),
        profession: p.profession.as_ref().map(code),
        represents,
        supervisory_board_chair: s.register.supervisory_board_chair == Some(id),
        deputy_chair: s.register.deputy_chair == Some(id),
    })
}

async fn person_response(
    state: &AppState,
    a: AssociationId,
    id: PersonId,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let view = state.read(a, move |s| person_view(s, id)).await?;
    let view =
        view.ok_or_else(|| ApiError::not_found("person.unknown", format!("There is no person {id}.")))?;
    Ok(HttpResponse::build(status).json(view))
}

/// The persons registered for the association.
#[utoipa::path(tag = "register", responses((status = 200, body = Vec<PersonView>)))]
#[get("/associations/{association}/persons")]
async fn list_persons(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let mut views = state
        .read(a, |s| s.register.persons.keys().filter_map(|id| person_view(s, *id)).collect::<Vec<_>>())
        .await?;
    views.sort_by(|x, y| x.name.cmp(&y.name));
    Ok(HttpResponse::Ok().json(views))
}

/// One person.
#[utoipa::path(tag = "register", responses((status = 200, body = PersonView), (status = 404, body = Problem)))]
#[get("/associations/{association}/persons/{person}")]
async fn get_person(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, p) = path.into_inner();
    caller.within(a)?;
    person_response(&state, a, p, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    #[schema(value_type = Option<String>)]
    pub id: Option<PersonId>,
    pub name: String,
    /// Where the person receives sign-in codes and notices.
    #[schema(value_type = Option<String>)]
    pub email: Option<EmailAddress>,
    /// `notary` or `lawyer`.
    pub profession: Option<Profession>,
}

/// Registers a person (secretariat).
#[utoipa::path(tag = "register", request_body = RegisterPerson, responses((status = 201, body = PersonView), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/persons")]
async fn register_person(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<RegisterPerson>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    let id = match b.id {
        Some(id) => id,
        None => PersonId::from_uuid(new_uuid()?),
    };
    state
        .execute(
            a,
            Command::RegisterPerson { person: id, name: b.name, email: b.email, profession: b.profession },
        )
        .await?;
    person_response(&state, a, id, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRepresentative {
    #[schema(value_type = String)]
    pub member: MemberId,
    /// `portfolio_holder` or `official` (Art. 8.5).
    pub capacity: Capacity,
}

/// Registers that a person represents a member (secretariat).
#[utoipa::path(tag = "register", request_body = AssignRepresentative, responses((status = 201, body = PersonView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/persons/{person}/representations")]
async fn assign_representative(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId)>,
    body: web::Json<AssignRepresentative>,
) -> Result<HttpResponse, ApiError> {
    let (a, p) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    state
        .execute(a, Command::AssignRepresentative { person: p, member: b.member, capacity: b.capacity })
        .await?;
    person_response(&state, a, p, StatusCode::CREATED).await
}

/// Ends a person's representation of a member (secretariat).
#[utoipa::path(tag = "register", responses((status = 200, body = PersonView), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[delete("/associations/{association}/persons/{person}/representations/{member}")]
async fn withdraw_representative(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId, MemberId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, p, m) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    state.execute(a, Command::WithdrawRepresentative { person: p, member: m }).await?;
    person_response(&state, a, p, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisoryBoard {
    /// The chair of the supervisory board, who chairs the general meeting (Art. 8.4).
    #[schema(value_type = Option<String>)]
    pub chair: Option<PersonId>,
    /// The chair's deputy.
    #[schema(value_type = Option<String>)]
    pub deputy: Option<PersonId>,
}

/// Records who chairs the supervisory board and who deputises (secretariat).
#[utoipa::path(tag = "register", request_body = SupervisoryBoard, responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/associations/{association}/supervisory-board")]
async fn set_supervisory_board(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<SupervisoryBoard>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let b = body.into_inner();
    if let Some(person) = b.chair {
        state.execute(a, Command::AppointSupervisoryBoardChair { person, deputy: false }).await?;
    }
    if let Some(person) = b.deputy {
        state.execute(a, Command::AppointSupervisoryBoardChair { person, deputy: true }).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    #[schema(value_type = String)]
    pub person: PersonId,
    pub role: Role,
}

/// Grants a person the role of secretariat or auditor (secretariat).
#[utoipa::path(tag = "register", request_body = RoleGrant, responses((status = 204), (status = 404, body = Problem)))]
#[post("/associations/{association}/role-grants")]
async fn grant_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    body: web::Json<RoleGrant>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let RoleGrant { person, role } = body.into_inner();
    let known = state.read(a, move |s| s.register.person(person).is_some()).await?;
    if !known {
        return Err(ApiError::not_found("person.unknown", format!("There is no person {person}.")));
    }
    let store = state.service.store().clone();
    let now = state.clock.now();
    web::block(move || {
        let mut conn = store.connection()?;
        access::grant_role(&mut conn, a, person, role.code(), now)
    })
    .await??;
    state.authenticator.forget(None);
    Ok(HttpResponse::NoContent().finish())
}

/// Takes a role away (secretariat). The secretariat cannot take its own role away.
#[utoipa::path(tag = "register", responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[delete("/associations/{association}/role-grants/{person}/{role}")]
async fn revoke_role(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (a, person, role) = path.into_inner();
    caller.require(a, Role::Secretariat)?;
    let role = Role::parse(&role).ok_or_else(|| {
        ApiError::not_found(
            "role.unknown",
            format!("There is no role {role:?}; roles are secretariat and auditor."),
        )
    })?;
    if person == caller.person && role == Role::Secretariat {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role.own_secretariat",
            "Refused",
            "You cannot take your own secretariat role away; ask another member of the secretariat.",
        ));
    }
    let store = state.service.store().clone();
    let revoked = web::block(move || {
        let mut conn = store.connection()?;
        access::revoke_role(&mut conn, a, person, role.code())
    })
    .await??;
    state.authenticator.forget(None);
    if revoked {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("role.not_granted", "That person does not have that role."))
    }
}
