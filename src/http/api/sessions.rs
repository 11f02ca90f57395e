//! Signing in: a one-time code, e-mailed to the person's registered address, starts a session.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::time;
use crate::core::{AssociationId, PersonId};
use crate::http::AppState;
use crate::http::auth::{Caller, Role, digest, secret};
use crate::http::problem::{ApiError, Problem};
use crate::store::access;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(request_link).service(start_session).service(current_session).service(end_session);
}

/// How long a sign-in code is valid.
const CODE_MINUTES: i64 = 15;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInLinkRequest {
    /// The association, by id or key.
    #[schema(value_type = String)]
    pub association: AssociationId,
    /// The e-mail address registered for the person.
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub message: String,
}

/// Sends a one-time sign-in code to a registered address. Always answers the same, so it does
/// not reveal who is registered.
#[utoipa::path(tag = "sessions", security(()), request_body = SignInLinkRequest, responses((status = 202, body = Accepted), (status = 400, body = Problem), (status = 503, body = Problem)))]
#[post("/sign-in-links")]
async fn request_link(
    state: web::Data<AppState>,
    body: web::Json<SignInLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let SignInLinkRequest { association, email } = body.into_inner();
    send_sign_in_code(&state, association, &email).await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        message:
            "If the address is registered for this association, a one-time sign-in code has been sent to it."
                .into(),
    }))
}

/// Sends a one-time sign-in code to `email` if it is registered for a person of `association`;
/// does nothing, and says nothing, otherwise. The API and the sign-in page share it.
pub async fn send_sign_in_code(
    state: &AppState,
    association: AssociationId,
    email: &str,
) -> Result<(), ApiError> {
    let wanted = email.trim().to_lowercase();
    let person = state
        .read(association, move |s| {
            s.register
                .persons
                .values()
                .find(|p| p.email.as_ref().is_some_and(|e| e.as_str().to_lowercase() == wanted))
                .map(|p| (p.id, p.name.clone()))
        })
        .await
        .unwrap_or(None);
    if let Some((person, name)) = person {
        let code = secret()?;
        let now = state.clock.now();
        let expires = now + chrono::Duration::minutes(CODE_MINUTES);
        let store = state.service.store().clone();
        let hash = digest(&code);
        web::block(move || {
            let mut conn = store.connection()?;
            access::store_sign_in_code(&mut conn, &hash, association, person, now, expires)
        })
        .await??;
        let api = format!("{}/api/v1/sessions", state.config.public_url());
        let until = crate::core::calendar::local(expires);
        let body = format!(
            "Beste {name},\n\nMet deze eenmalige code meldt u zich aan bij Stembus, tot {until}:\n\nCode: {code}\n\nGebruik de code bij {api}.\n\nHeeft u dit niet aangevraagd? Dan kunt u dit bericht negeren.\n\n--\n\nDear {name},\n\nThis one-time code signs you in to Stembus, until {until}:\n\nCode: {code}\n\nUse the code at {api}.\n"
        );
        let outbox = std::sync::Arc::clone(&state.outbox);
        let to = email.trim().to_owned();
        let sent =
            web::block(move || outbox.send(&to, "Aanmelden bij Stembus / Sign in to Stembus", &body)).await?;
        if let Err(e) = sent {
            tracing::error!(error = %e, "the sign-in code could not be sent");
            return Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "mail.unavailable",
                "The sign-in code could not be sent",
                "The mail server cannot be reached, so no sign-in code was sent; a code already sent stays valid until it expires. Try again shortly.",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSession {
    /// The one-time code from the e-mail.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The bearer token; shown once, never stored by the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub expires_at: String,
    pub association: String,
    pub person: String,
    pub roles: Vec<Role>,
}

/// Exchanges a one-time code for a session token.
#[utoipa::path(tag = "sessions", security(()), request_body = StartSession, responses((status = 201, body = Session), (status = 401, body = Problem)))]
#[post("/sessions")]
async fn start_session(
    state: web::Data<AppState>,
    body: web::Json<StartSession>,
) -> Result<HttpResponse, ApiError> {
    let Some(opened) = open_session(&state, &body.into_inner().code).await? else {
        return Err(ApiError::unauthorized(
            "The code is unknown, already used or expired; ask for a new one.",
        ));
    };
    let OpenedSession { token, expires_at, association, person, roles } = opened;
    Ok(HttpResponse::build(StatusCode::CREATED).json(Session {
        token: Some(token),
        expires_at: time(expires_at),
        association: association.to_string(),
        person: person.to_string(),
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
    }))
}

/// A session just started: its token (shown once) and whose it is.
#[derive(Debug)]
pub struct OpenedSession {
    pub token: String,
    pub expires_at: crate::core::Instant,
    pub association: AssociationId,
    pub person: PersonId,
    pub roles: Vec<String>,
}

/// Exchanges a one-time code for a new session; `None` when the code is unknown, used or
/// expired. The API and the sign-in page share it.
pub async fn open_session(state: &AppState, code: &str) -> Result<Option<OpenedSession>, ApiError> {
    let code = code.to_owned();
    let now = state.clock.now();
    let store = state.service.store().clone();
    let token = secret()?;
    let token_hash = digest(&token);
    let minutes = state.config.session_minutes;
    let started = web::block(
        move || -> Result<Option<(AssociationId, PersonId, Vec<String>)>, crate::store::StoreError> {
            let mut conn = store.connection()?;
            let Some((association, person)) = access::use_sign_in_code(&mut conn, &digest(code.trim()), now)?
            else {
                return Ok(None);
            };
            access::start_session(
                &mut conn,
                &token_hash,
                association,
                person,
                now,
                now + chrono::Duration::minutes(minutes),
            )?;
            Ok(Some((association, person, access::roles_of(&mut conn, association, person)?)))
        },
    )
    .await??;
    Ok(started.map(|(association, person, roles)| OpenedSession {
        token,
        expires_at: now + chrono::Duration::minutes(minutes),
        association,
        person,
        roles,
    }))
}

/// The caller's session.
#[utoipa::path(tag = "sessions", responses((status = 200, body = Session), (status = 401, body = Problem)))]
#[get("/sessions/current")]
async fn current_session(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Session {
        token: None,
        expires_at: time(caller.session_expires),
        association: caller.association.to_string(),
        person: caller.person.to_string(),
        roles: caller.roles.iter().copied().collect(),
    })
}

/// Ends the caller's session.
#[utoipa::path(tag = "sessions", responses((status = 204), (status = 401, body = Problem)))]
#[delete("/sessions/current")]
async fn end_session(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let store = state.service.store().clone();
    let now = state.clock.now();
    let hash = caller.token_hash.clone();
    web::block(move || {
        let mut conn = store.connection()?;
        access::end_session(&mut conn, &hash, now)
    })
    .await??;
    state.authenticator.forget(Some(&caller.token_hash));
    Ok(HttpResponse::NoContent().finish())
}
