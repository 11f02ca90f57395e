//! Who is calling, and what they may do.
//!
//! Authentication is one seam, [`Authenticator`]: today a bearer token from a session that a
//! one-time code, e-mailed to the person's registered address, started. A national login
//! scheme plugs in here later. Authorisation is by role: the **secretariat** and **auditors**
//! are granted per association; the **chair** is whoever chairs the meeting; a **voter** is a
//! person who represents members or holds proxies (the core checks for whom). Every route
//! names what it needs; nobody acts on another association.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::AppState;
use super::problem::ApiError;
use crate::core::{AssociationId, Instant, PersonId};
use crate::store::{Store, access};

/// A role granted per association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Keeps the register, convenes meetings, records proxies and attendance.
    Secretariat,
    /// Reads everything and exports logs; changes nothing.
    Auditor,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Secretariat => "secretariat",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        match code {
            "secretariat" => Some(Role::Secretariat),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub association: AssociationId,
    pub person: PersonId,
    pub roles: BTreeSet<Role>,
    pub session_expires: Instant,
    /// The SHA-256 of the bearer token, to end the session.
    pub token_hash: String,
}

impl Caller {
    /// Refuses a caller of another association. The refusal does not say whether the other
    /// association exists.
    pub fn within(&self, association: AssociationId) -> Result<(), ApiError> {
        if self.association == association {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "access.other_association",
                "You are signed in for another association; you cannot see or change this one.",
            ))
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, association: AssociationId, role: Role) -> Result<(), ApiError> {
        self.within(association)?;
        if self.has(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "access.role_required",
                format!(
                    "Only the {} may do this.",
                    match role {
                        Role::Secretariat => "secretariat",
                        Role::Auditor => "auditors",
                    }
                ),
            ))
        }
    }

    /// Refuses auditors, who may only read.
    pub fn may_write(&self, association: AssociationId) -> Result<(), ApiError> {
        self.within(association)?;
        if self.has(Role::Auditor) && !self.has(Role::Secretariat) {
            return Err(ApiError::forbidden(
                "access.read_only",
                "Auditors read and export; they cannot change anything.",
            ));
        }
        Ok(())
    }
}

/// Turns a bearer token into a caller.
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    fn authenticate(&self, token: &str, now: Instant) -> Result<Option<Caller>, ApiError>;

    /// The caller of a token known without reading the database, if any: what a request
    /// checks first, so that it need not wait for a thread that may block.
    fn cached(&self, _token: &str, _now: Instant) -> Option<Caller> {
        None
    }

    /// Sessions or roles changed: forget what was kept of `token_hash`'s session, or of every
    /// session when `None` (a role granted or taken away).
    fn forget(&self, _token_hash: Option<&str>) {}
}

/// How long a session read from the database is trusted without reading it again. A sign-out
/// or a role change made through this instance takes effect at once (it calls
/// [`Authenticator::forget`]); one made through another instance sharing the database, or by
/// the command line, takes effect within this time.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// At most this many sessions are kept; past it the cache starts again empty.
const SESSION_CACHE_MAX: usize = 65_536;

/// Sessions stored by the service, started with an e-mailed one-time code. Each request of a
/// session would read the session and its roles (two queries on a thread that may block); the
/// last reading of each session is kept for [`SESSION_CACHE_TTL`].
#[derive(Debug, Clone)]
pub struct SessionAuthenticator {
    pub store: Store,
    cache: Arc<std::sync::Mutex<SessionCache>>,
}

#[derive(Debug, Default)]
struct SessionCache {
    /// Bumped by every [`Authenticator::forget`]: a reading that began before a change is not
    /// kept.
    generation: u64,
    by_hash: std::collections::HashMap<String, (Caller, std::time::Instant)>,
}

impl SessionAuthenticator {
    pub fn new(store: Store) -> Self {
        Self { store, cache: Arc::default() }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, SessionCache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Authenticator for SessionAuthenticator {
    fn authenticate(&self, token: &str, now: Instant) -> Result<Option<Caller>, ApiError> {
        let hash = digest(token);
        let generation = self.cache().generation;
        let read_at = std::time::Instant::now();
        let mut conn = self.store.connection()?;
        let Some((association, person, expires)) = access::session(&mut conn, &hash, now)? else {
            return Ok(None);
        };
        let roles =
            access::roles_of(&mut conn, association, person)?.iter().filter_map(|r| Role::parse(r)).collect();
        let caller = Caller { association, person, roles, session_expires: expires, token_hash: hash };
        let mut cache = self.cache();
        if cache.generation == generation {
            if cache.by_hash.len() >= SESSION_CACHE_MAX {
                cache.by_hash.clear();
            }
            cache.by_hash.insert(caller.token_hash.clone(), (caller.clone(), read_at));
        }
        Ok(Some(caller))
    }

    fn cached(&self, token: &str, now: Instant) -> Option<Caller> {
        let hash = digest(token);
        let cache = self.cache();
        let (caller, read_at) = cache.by_hash.get(&hash)?;
        (read_at.elapsed() < SESSION_CACHE_TTL && caller.session_expires > now).then(|| caller.clone())
    }

    fn forget(&self, token_hash: Option<&str>) {
        let mut cache = self.cache();
        cache.generation += 1;
        match token_hash {
            Some(hash) => {
                cache.by_hash.remove(hash);
            }
            None => cache.by_hash.clear(),
        }
    }
}

/// A fresh secret of 32 random bytes, URL-safe base64.
pub fn secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no random numbers");
        ApiError::internal()
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a secret, hex: what the database keeps instead of the secret.
pub fn digest(secret: &str) -> String {
    ::hex::encode(Sha256::digest(secret.as_bytes()))
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().map(|s| Arc::clone(&s.authenticator));
        let clock = req.app_data::<web::Data<AppState>>().map(|s| Arc::clone(&s.clock));
        // A page's session cookie also authenticates the API, for the browser's signed
        // submissions; then a request that changes something must carry the session's CSRF
        // token in `X-Stembus-CSRF` (see `crate::web::session`).
        let (token, csrf_refused) = match bearer(req) {
            Some(token) => (Some(token), false),
            None => match crate::web::session::session_token(req) {
                Some(token) => {
                    let safe = req.method().is_safe();
                    let sent =
                        req.headers().get(crate::web::session::CSRF_HEADER).and_then(|v| v.to_str().ok());
                    let refused = !safe && sent != Some(crate::web::session::csrf_token(&token).as_str());
                    (Some(token), refused)
                }
                None => (None, false),
            },
        };
        Box::pin(async move {
            let (Some(authenticator), Some(clock)) = (state, clock) else {
                return Err(ApiError::internal());
            };
            if csrf_refused {
                return Err(ApiError::forbidden(
                    "access.csrf",
                    "A request signed in by the page's cookie must carry the page's CSRF token in the X-Stembus-CSRF header; reload the page and try again.",
                ));
            }
            let Some(token) = token else {
                return Err(ApiError::unauthorized(
                    "Send the session token as 'Authorization: Bearer <token>'. Sign in with a one-time code from /api/v1/sign-in-links.",
                ));
            };
            let now = clock.now();
            if let Some(caller) = authenticator.cached(&token, now) {
                return Ok(caller);
            }
            let caller = web::block(move || authenticator.authenticate(&token, now)).await??;
            caller.ok_or_else(|| {
                ApiError::unauthorized("The session token is unknown, ended or expired; sign in again.")
            })
        })
    }
}
