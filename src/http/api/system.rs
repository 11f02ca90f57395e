//! Health and the service's public key.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::AppState;
use crate::http::problem::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(service_key);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub version: String,
}

/// Whether the service and its database answer.
#[utoipa::path(tag = "system", security(()), responses((status = 200, body = Health), (status = 503, body = crate::http::problem::Problem)))]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.service.store().clone();
    web::block(move || {
        let mut conn = store.connection()?;
        diesel::connection::SimpleConnection::batch_execute(&mut *conn, "SELECT 1")
            .map_err(crate::store::StoreError::Query)
    })
    .await?
    .map_err(|_| ApiError::unavailable())?;
    Ok(HttpResponse::Ok().json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceKey {
    pub algorithm: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
}

/// The public key with which the service signs what it vouches for.
#[utoipa::path(tag = "system", security(()), responses((status = 200, body = ServiceKey)))]
#[get("/service-key")]
async fn service_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(ServiceKey {
        algorithm: "ed25519".into(),
        public_key: crate::keys::public_hex(&state.service_key),
    })
}
