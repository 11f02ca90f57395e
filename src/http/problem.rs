//! Errors as RFC 9457 problem details (`application/problem+json`).
//!
//! Error policy: every refusal reaches the caller as a problem with a stable `code`, a `title`,
//! and a `detail` a secretary understands; a refusal by the statutes also names its `rule` and
//! `article`. The mapping from each error of the layers below is an exhaustive `match`, so a
//! new variant forces a decision. The caller's mistakes are 4xx; only a failure of the
//! database or of the service itself is 5xx, and then the detail says nothing of its insides.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::RuleViolation;
use crate::service::ServiceError;
use crate::store::{StorageFault, StoreError};

/// A problem (RFC 9457), with Stembus's extension members.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:stembus:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable code for programs, e.g. `proxy.cap_exceeded`.
    pub code: String,
    /// The rule of the statutes refused (R1–R8), when the statutes refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The article of the statutes, as the association's statutes number it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Box<Problem>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.problem.code, self.problem.detail)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            problem: Box::new(Problem {
                kind: format!("urn:stembus:problem:{code}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                code: code.to_owned(),
                rule: None,
                article: None,
            }),
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "The request is not well-formed", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "access.unauthenticated", "Sign in first", detail)
    }

    pub fn forbidden(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Not allowed for you", detail)
    }

    pub fn not_found(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, "Not found", detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "service.failure",
            "The service failed",
            "The service could not complete the request; nothing was changed. Try again, or ask the administrator to look at the service's log.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service.unavailable",
            "The service is unavailable",
            "The database cannot be reached; nothing was changed. Try again shortly.",
        )
    }
}

impl From<RuleViolation> for ApiError {
    fn from(v: RuleViolation) -> Self {
        let status = if v.code.ends_with(".unknown") {
            StatusCode::NOT_FOUND
        } else if v.code.ends_with(".exists") {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let mut e = ApiError::new(
            status,
            &v.code,
            "Refused by the statutes",
            format!("{} (Art. {}): {}", v.rule, v.article, v.message),
        );
        e.problem.rule = Some(v.rule.to_string());
        e.problem.article = Some(v.article);
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if let Some(fault) = e.storage_fault() {
            tracing::error!(error = %e, ?fault, "the database's storage failed; nothing was stored");
            return storage_problem(fault);
        }
        match e {
            StoreError::UnknownAssociation(a) => {
                ApiError::not_found("association.unknown", format!("There is no association {a}."))
            }
            StoreError::AssociationExists(a) => ApiError::new(
                StatusCode::CONFLICT,
                "association.exists",
                "Already exists",
                format!("Association {a} already exists."),
            ),
            StoreError::Unavailable(reason) => {
                tracing::error!(%reason, "database unavailable");
                ApiError::unavailable()
            }
            StoreError::Query(diesel::result::Error::DatabaseError(_, info)) if is_busy(info.message()) => {
                tracing::warn!(error = %info.message(), "database busy");
                ApiError::unavailable()
            }
            StoreError::Query(err) => {
                tracing::error!(error = %err, "database query failed");
                ApiError::internal()
            }
            StoreError::Migration(reason) | StoreError::Corrupt { reason, .. } => {
                tracing::error!(%reason, "stored data is not usable");
                ApiError::internal()
            }
        }
    }
}

/// The problem for a write the storage could not take. The transaction was rolled back:
/// nothing of the request was stored and no receipt was given.
pub fn storage_problem(fault: StorageFault) -> ApiError {
    match fault {
        StorageFault::Full => ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "storage.full",
            "The service's storage is full",
            "The service's disk is full: nothing of this request was recorded and no receipt was given. Send it again once the administrator has made room; a signed ballot may be sent again unchanged.",
        ),
        StorageFault::Io => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage.failed",
            "The service could not write to its storage",
            "The service's disk failed to store this request: nothing of it was recorded and no receipt was given. Send it again later; a signed ballot may be sent again unchanged.",
        ),
    }
}

/// A database too busy to answer now: the caller may try again.
fn is_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked") || m.contains("database is busy") || m.contains("could not serialize")
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(v) => v.into(),
            ServiceError::Store(s) => s.into(),
            ServiceError::NoProof(detail) => ApiError::not_found("log.no_proof", detail),
            ServiceError::Profile(p) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "profile.invalid",
                "The rules profile is refused",
                p.to_string(),
            ),
            ServiceError::Export(detail) => {
                tracing::error!(%detail, "an export failed");
                ApiError::internal()
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("a blocking task was cancelled");
        ApiError::internal()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(&self.problem)
    }
}

/// The problem for a body that is not the JSON the route expects.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { length, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            "The request is too large",
            format!("The body has {length} bytes; at most {limit} are accepted."),
        ),
        J::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            "The request is too large",
            format!("The body is larger than the {limit} bytes accepted."),
        ),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.not_json",
            "The request is not JSON",
            "Send the body as JSON, with Content-Type: application/json.",
        ),
        J::Deserialize(e) => ApiError::bad_request(
            "request.invalid_json",
            format!("The body is not what this request expects: {e}"),
        ),
        other => {
            ApiError::bad_request("request.invalid_json", format!("The body could not be read: {other}"))
        }
    }
}
