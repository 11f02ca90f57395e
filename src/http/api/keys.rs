//! Persons' keys (R8) and the association's log that records them.
//!
//! A person enrols their own Ed25519 key, signing the key statement with it (proof of
//! possession), rotates it with the signatures of both the current and the new key, and revokes
//! it with its signature; the secretariat revokes a key its holder lost, without one. What a key
//! signs (ballots, electronic proxies, declarations) counts only while it is the person's
//! current key. Keys are public: everyone signed in to the association reads them. Every key
//! event is an entry in the association's log, whose signed heads, receipts and consistency
//! proofs are served here as the meeting's are in `records`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::records::{
    ConsistencyQuery, ConsistencyView, LogReceiptView, TreeHeadView, stream_consistency, stream_head,
    stream_receipt,
};
use super::{receipt_for, time};
use crate::core::keys::{KeyBytes, KeyRecord, KeySignature, SignatureBytes};
use crate::core::{Association, AssociationId, Command, Fact, PersonId};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};
use crate::store::log::{ASSOCIATION_STREAM, Logged};
use crate::store::projection::code;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_keys)
        .service(enrol_key)
        .service(rotate_key)
        .service(revoke_key)
        .service(association_log_head)
        .service(association_log_receipt)
        .service(association_log_consistency);
}

/// A key a person has had, as the association's log records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The public Ed25519 key: 64 hexadecimal digits.
    pub key: String,
    /// `current` (what it signs counts), `rotated` (replaced by a newer key) or `revoked`.
    pub status: String,
    pub enrolled_at: String,
    /// When the key was rotated or revoked.
    pub retired_at: Option<String>,
    /// The highest sequence number the key has signed; the next statement it signs must carry
    /// a higher one.
    pub last_sequence: u64,
    /// Proof that the key's enrolment, rotation or revocation is in the association's log,
    /// against the head the service signed after storing it. Only in the answer to that change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_receipt: Option<LogReceiptView>,
}

fn key_view(r: &KeyRecord) -> KeyView {
    KeyView {
        key: r.key.to_hex(),
        status: code(&r.status),
        enrolled_at: time(r.enrolled_at),
        retired_at: r.retired_at.map(time),
        last_sequence: r.last_sequence,
        log_receipt: None,
    }
}

fn unknown_person(person: PersonId) -> ApiError {
    ApiError::not_found("person.unknown", format!("There is no person {person}."))
}

/// Refuses a caller who is not `person`: only a person enrols or rotates their own key.
fn must_be(caller: &Caller, person: PersonId) -> Result<(), ApiError> {
    if caller.person == person {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "access.not_the_person",
            "Only the person themself enrols, rotates or revokes their key with a signature; the secretariat revokes a lost key.",
        ))
    }
}

/// The view of `key` after the command that `logged` holds, with that command's receipt.
async fn key_response(
    state: &AppState,
    a: AssociationId,
    key: KeyBytes,
    logged: &[Logged],
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let receipt = receipt_for(state, a, logged, |f| {
        matches!(f, Fact::KeyEnrolled { .. } | Fact::KeyRotated { .. } | Fact::KeyRevoked { .. })
    })
    .await?;
    let mut view =
        state.read(a, move |s| s.keys.get(&key).map(key_view)).await?.ok_or_else(ApiError::internal)?;
    view.log_receipt = Some(receipt);
    Ok(HttpResponse::build(status).json(view))
}

/// The person's keys, oldest first (public: everyone signed in to the association).
#[utoipa::path(tag = "keys", responses((status = 200, body = Vec<KeyView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/persons/{person}/keys")]
async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, p) = path.into_inner();
    caller.within(a)?;
    let views = state
        .read(a, move |s: &Association| {
            s.register.person(p).map(|_| s.keys.of_person(p).into_iter().map(key_view).collect::<Vec<_>>())
        })
        .await?
        .ok_or_else(|| unknown_person(p))?;
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolKey {
    /// The public Ed25519 key: 64 hexadecimal digits.
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{64}$")]
    pub key: KeyBytes,
    /// The key statement's sequence number; what the key signs next carries a higher one.
    pub sequence: u64,
    /// The key's own signature over the key statement with action `enrol` (docs/encoding.md):
    /// 128 hexadecimal digits.
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: SignatureBytes,
}

/// Enrols the caller's key (the person themself, who has no current key; R8, Art. 8.11, 17.6).
#[utoipa::path(tag = "keys", request_body = EnrolKey, responses((status = 201, body = KeyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/persons/{person}/keys")]
async fn enrol_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId)>,
    body: web::Json<EnrolKey>,
) -> Result<HttpResponse, ApiError> {
    let (a, person) = path.into_inner();
    caller.may_write(a)?;
    must_be(&caller, person)?;
    let EnrolKey { key, sequence, signature } = body.into_inner();
    let logged = state.execute(a, Command::EnrolKey { person, key, sequence, signature }).await?;
    key_response(&state, a, key, &logged, StatusCode::CREATED).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// The new public Ed25519 key: 64 hexadecimal digits.
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{64}$")]
    pub key: KeyBytes,
    /// The sequence number of the current key, above every one it signed before.
    pub sequence: u64,
    /// The current key's signature over the key statement with action `rotate`, which names
    /// the new key: 128 hexadecimal digits.
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: SignatureBytes,
    /// The new key's signature over the same statement (proof of possession).
    #[schema(value_type = String, pattern = "^[0-9a-fA-F]{128}$")]
    pub new_key_signature: SignatureBytes,
}

/// Replaces the caller's current key by a new one (the person themself). From then on what the
/// old key signs is refused.
#[utoipa::path(tag = "keys", request_body = RotateKey, responses((status = 201, body = KeyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/associations/{association}/persons/{person}/keys/rotation")]
async fn rotate_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId)>,
    body: web::Json<RotateKey>,
) -> Result<HttpResponse, ApiError> {
    let (a, person) = path.into_inner();
    caller.may_write(a)?;
    must_be(&caller, person)?;
    let RotateKey { key, sequence, signature, new_key_signature } = body.into_inner();
    let logged =
        state.execute(a, Command::RotateKey { person, key, sequence, signature, new_key_signature }).await?;
    key_response(&state, a, key, &logged, StatusCode::CREATED).await
}

/// The holder's signature on the revocation of their key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeKey {
    /// The key's sequence number, above every one it signed before.
    pub sequence: Option<u64>,
    /// The key's signature over the key statement with action `revoke`: 128 hexadecimal digits.
    #[schema(value_type = Option<String>, pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: Option<SignatureBytes>,
}

/// Revokes a key: the person themself, signing the revocation with the key, or the secretariat,
/// without a body, for a key its holder lost. What the key signs from then on is refused.
#[utoipa::path(
    tag = "keys",
    params(("key" = String, Path, description = "The public key: 64 hexadecimal digits")),
    request_body(content = Option<RevokeKey>, description = "The holder's signature; left out when the secretariat revokes a lost key"),
    responses((status = 200, body = KeyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem))
)]
#[delete("/associations/{association}/persons/{person}/keys/{key}")]
async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, PersonId, KeyBytes)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (a, person, key) = path.into_inner();
    caller.may_write(a)?;
    let body: RevokeKey = super::meetings::optional_body(&body)?;
    let signed = match (body.sequence, body.signature) {
        (Some(sequence), Some(signature)) => Some(KeySignature { sequence, signature }),
        (None, None) => None,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.signature_incomplete",
                "The request is incomplete",
                "A signed revocation carries both `sequence` and `signature`; the secretariat revokes a lost key without either.",
            ));
        }
    };
    let secretariat = caller.has(Role::Secretariat);
    match signed {
        None if !secretariat => {
            return Err(ApiError::forbidden(
                "access.role_required",
                "Only the secretariat revokes a key without its signature (a lost key); sign the revocation with the key.",
            ));
        }
        Some(_) if !secretariat => must_be(&caller, person)?,
        _ => {}
    }
    let logged = state.execute(a, Command::RevokeKey { person, key, signed }).await?;
    key_response(&state, a, key, &logged, StatusCode::OK).await
}

// ---- The association's log ---------------------------------------------------------------------

/// The latest signed tree head of the association's log: the register, keys, members' requests
/// and resolutions outside a meeting.
#[utoipa::path(tag = "records", responses((status = 200, body = TreeHeadView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/log/head")]
async fn association_log_head(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    stream_head(&state, a, ASSOCIATION_STREAM.to_owned()).await
}

/// A receipt for the entry at `index` of the association's log, against its latest signed head.
#[utoipa::path(
    tag = "records",
    params(("index" = u64, Path, description = "The entry's position in the association's log, from 0")),
    responses((status = 200, body = LogReceiptView), (status = 403, body = Problem), (status = 404, body = Problem))
)]
#[get("/associations/{association}/log/entries/{index}/receipt")]
async fn association_log_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, u64)>,
) -> Result<HttpResponse, ApiError> {
    let (a, index) = path.into_inner();
    caller.within(a)?;
    stream_receipt(&state, a, ASSOCIATION_STREAM.to_owned(), index).await
}

/// Proof that the later signed head of the association's log extends the earlier one.
#[utoipa::path(tag = "records", params(ConsistencyQuery), responses((status = 200, body = ConsistencyView), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/log/consistency")]
async fn association_log_consistency(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AssociationId>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let a = path.into_inner();
    caller.within(a)?;
    stream_consistency(&state, a, ASSOCIATION_STREAM.to_owned(), query.into_inner()).await
}
