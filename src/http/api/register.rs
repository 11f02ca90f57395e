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

fn representative_view(s: &Association, person: PersonId, capacity: &Capacity) -> RepresentativeView {
    RepresentativeView {
        person: person.to_string(),
        name: s.register.person_name(person),
        capacity: code(capacity),
    }
}

fn member_view(s: &Association, id: MemberId) -> Option<MemberView> {
    let representatives = s
        .register
        .representatives
        .iter()
        .filter(|((_, member), _)| *member == id)
        .map(|((person, _), capacity)| representative_view(s, *person, capacity))
        .collect();
    member_view_with(s, id, representatives)
}

fn member_view_with(
    s: &Association,
    id: MemberId,
    representatives: Vec<RepresentativeView>,
) -> Option<MemberView> {
    let m = s.register.member(id)?;
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

/// A page of one of the register's lists, which run by name (then id).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterPage {
    /// The next page: only those after this one (its id) in the list's order.
    pub after: Option<String>,
    /// How many at most: 1 to 10,000; 1,000 when not given.
    pub limit: Option<u32>,
}

/// The ids of a page of `items` (name, id), ordered by name then id: at most `limit` of those
/// after `after` (its name and id), and whether more follow.
fn page_by_name<Id: Ord + Copy>(
    mut items: Vec<(&str, Id)>,
    after: Option<(&str, Id)>,
    limit: usize,
) -> (Vec<Id>, bool) {
    items.sort_unstable();
    let start = after.map_or(0, |key| items.partition_point(|item| *item <= key));
    let rest = items.get(start..).unwrap_or_default();
    (rest.iter().take(limit).map(|(_, id)| *id).collect(), rest.len() > limit)
}

/// The `after` of a register page as the id it names, or a 400 naming what it is not.
fn after_id<Id: std::str::FromStr>(after: Option<&str>, what: &str) -> Result<Option<Id>, ApiError> {
    after
        .map(|text| {
            text.parse().map_err(|_| {
                ApiError::bad_request(
                    "request.invalid_query",
                    format!("after names {text:?}, which is no {what} id."),
                )
            })
        })
        .transpose()
}

fn unknown_after(after: &str, what: &str) -> ApiError {
    ApiError::bad_request(
        "request.invalid_query",
        format!("after names {after:?}, which is no {what} of this association."),
    )
}

/// The members, by name (then id), a page at a time: at most `limit`; when more follow, the
/// `Link` header names the next page (`rel="next"`, `after` the page's last member).
#[utoipa::path(
    tag = "register",
    params(RegisterPage),
    responses(
        (status = 200, body = Vec<MemberView>, headers(("Link" = String, description = "`<…?after=ID&limit=L>; rel=\"next\"` when more follow"))),
        (status = 400, body = Problem),
        (status = 403, body = Problem)
    )
)]
#[get("/associations/{association}/members")]
async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<AssociationId>,
    query: web::Query<RegisterPage>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let RegisterPage { after, limit } = query.into_inner();
    let limit = super::page_limit(limit, "members")?;
    let after_member: Option<MemberId> = after_id(after.as_deref(), "member")?;
    let page = state
        .read(a, move |s| {
            let after = match after_member {
                Some(id) => Some((s.register.member(id).map(|m| m.name.as_str()).ok_or(())?, id)),
                None => None,
            };
            let items = s.register.members.values().map(|m| (m.name.as_str(), m.id)).collect();
            let (ids, more) = page_by_name(items, after, limit as usize);
            // Each page member's representatives, from one pass over the representations.
            let mut reps: std::collections::BTreeMap<MemberId, Vec<RepresentativeView>> =
                ids.iter().map(|id| (*id, Vec::new())).collect();
            for ((person, member), capacity) in &s.register.representatives {
                if let Some(list) = reps.get_mut(member) {
                    list.push(representative_view(s, *person, capacity));
                }
            }
            let views: Vec<MemberView> = ids
                .iter()
                .filter_map(|id| member_view_with(s, *id, reps.remove(id).unwrap_or_default()))
                .collect();
            Ok::<_, ()>((views, more))
        })
        .await?;
    let (views, more) = page.map_err(|()| unknown_after(after.as_deref().unwrap_or_default(), "member"))?;
    let next = next_page(more, views.last().map(|v| v.id.as_str()), limit);
    Ok(super::page_answer(&request, next).json(views))
}

/// The query of the page after the one whose last item is `last`, when more follow.
fn next_page(more: bool, last: Option<&str>, limit: u32) -> Option<String> {
    let last = last.filter(|_| more)?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("after", last).append_pair("limit", &limit.to_string());
    Some(query.finish())
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
    // The representations are ordered by person first: this person's are one range.
    let first = (id, MemberId::from_uuid(uuid::Uuid::nil()));
    let represents = s
        .register
        .representatives
        .range(first..)
        .take_while(|((person, _), _)| *person == id)
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

/// The persons registered for the association, by name (then id), a page at a time: at most
/// `limit`; when more follow, the `Link` header names the next page (`rel="next"`, `after` the
/// page's last person).
#[utoipa::path(
    tag = "register",
    params(RegisterPage),
    responses(
        (status = 200, body = Vec<PersonView>, headers(("Link" = String, description = "`<…?after=ID&limit=L>; rel=\"next\"` when more follow"))),
        (status = 400, body = Problem)
    )
)]
#[get("/associations/{association}/persons")]
async fn list_persons(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    path: web::Path<AssociationId>,
    query: web::Query<RegisterPage>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    let RegisterPage { after, limit } = query.into_inner();
    let limit = super::page_limit(limit, "persons")?;
    let after_person: Option<PersonId> = after_id(after.as_deref(), "person")?;
    let page = state
        .read(a, move |s| {
            let after = match after_person {
                Some(id) => Some((s.register.person(id).map(|p| p.name.as_str()).ok_or(())?, id)),
                None => None,
            };
            let items = s.register.persons.values().map(|p| (p.name.as_str(), p.id)).collect();
            let (ids, more) = page_by_name(items, after, limit as usize);
            let views: Vec<PersonView> = ids.iter().filter_map(|id| person_view(s, *id)).collect();
            Ok::<_, ()>((views, more))
        })
        .await?;
    let (views, more) = page.map_err(|()| unknown_after(after.as_deref().unwrap_or_default(), "person"))?;
    let next = next_page(more, views.last().map(|v| v.id.as_str()), limit);
    Ok(super::page_answer(&request, next).json(views))
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
