//! Who looks at a page: the session cookie, the language, the CSRF token, and signing in.
//!
//! A page session is the same session as the API's (`sessions` table, started by an e-mailed
//! one-time code), carried in the cookie `stembus_session` (HttpOnly, SameSite=Strict, Path=/,
//! Secure when the public address is https) instead of a bearer header. Every page handler
//! takes a [`Page`]: the language, the path, and the signed-in caller if any.
//!
//! **CSRF.** Forms that change something carry a hidden field `csrf` equal to the session's
//! CSRF token, which is `base64url(SHA-256("stembus-csrf-v1\n" ‖ session token))`: the page
//! knows it, another site cannot compute it, and the database (which keeps only SHA-256 of the
//! token) cannot either. The page puts it in `<meta name="stembus-csrf">` for scripts, which
//! send it as `X-Stembus-CSRF` when they call the JSON API with the cookie. The sign-in forms,
//! before any session, use a double-submit cookie `stembus_presession`. SameSite=Strict is a
//! second wall, not the only one.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::i18n::Lang;
use super::render::{self, PageError};
use crate::core::{AssociationId, PersonId};
use crate::http::AppState;
use crate::http::auth::{Caller, Role, secret};
use crate::http::problem::ApiError;
use crate::store::{access, associations};

/// The cookie that carries the session token of a signed-in page.
pub const SESSION_COOKIE: &str = "stembus_session";
/// The cookie that keeps the chosen language.
pub const LANG_COOKIE: &str = "stembus_lang";
/// The double-submit cookie of the sign-in forms.
pub const PRESESSION_COOKIE: &str = "stembus_presession";
/// The header a page's script sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-stembus-csrf";

/// The CSRF token of a session token.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"stembus-csrf-v1\n");
    hasher.update(session_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// The value of a cookie of the request.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// The session token a page's cookie carries.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    cookie(req, SESSION_COOKIE)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, on the whole site; `max_age` 0 deletes it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> String {
    let secure = if state.config.public_url().starts_with("https://") { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
}

/// What the pages' layout shows of the signed-in person.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub name: String,
    pub association: String,
    pub association_name: String,
    /// The parts of the site open to this person: `voter`, `chair`, `secretariat`, `auditor`.
    pub parts: Vec<&'static str>,
    /// The meetings this person chairs (id, title), for the chair's links.
    pub chairs: Vec<(String, String)>,
}

/// A signed-in page visitor.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub caller: Caller,
    /// The session's CSRF token, for forms and scripts.
    pub csrf: String,
    pub me: Me,
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, page: &Page, sent: &str) -> Result<(), PageError> {
        if sent == self.csrf {
            Ok(())
        } else {
            Err(page.error(ApiError::forbidden(
                "access.csrf",
                "The form did not come from this session's page; reload the page and try again.",
            )))
        }
    }
}

/// The request as a page sees it. Every page handler takes one.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    /// The path of the page, for the language switch.
    pub path: String,
    pub signed_in: Option<SignedIn>,
}

impl Page {
    /// The signed-in visitor, or the page that asks to sign in.
    pub fn me(&self) -> Result<&SignedIn, PageError> {
        self.signed_in.as_ref().ok_or_else(|| {
            self.error(ApiError::unauthorized("Sign in first: this page shows what is yours to see."))
        })
    }

    /// The signed-in visitor, within `association`.
    pub fn within(&self, association: AssociationId) -> Result<&SignedIn, PageError> {
        let me = self.me()?;
        me.caller.within(association).map_err(|e| self.error(e))?;
        Ok(me)
    }

    /// The signed-in visitor of `association` holding `role`.
    pub fn with_role(&self, association: AssociationId, role: Role) -> Result<&SignedIn, PageError> {
        let me = self.me()?;
        me.caller.require(association, role).map_err(|e| self.error(e))?;
        Ok(me)
    }

    /// An error shown as a page in this page's language.
    pub fn error(&self, e: impl Into<ApiError>) -> PageError {
        PageError::new(self.clone(), e.into())
    }

    /// Renders a template of `templates/web/` with this page's chrome; see [`render`].
    pub fn render(&self, template: &str, context: minijinja::Value) -> Result<HttpResponse, PageError> {
        render::page(self, template, context)
    }
}

/// `?lang=` first, then the cookie, then Dutch.
pub fn lang_of(req: &HttpRequest) -> Lang {
    query_lang(req).or_else(|| cookie(req, LANG_COOKIE).and_then(|c| Lang::parse(&c))).unwrap_or_default()
}

/// The language the query asks for.
pub fn query_lang(req: &HttpRequest) -> Option<Lang> {
    url_query(req.query_string(), "lang").and_then(|l| Lang::parse(&l))
}

fn url_query(query: &str, name: &str) -> Option<String> {
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
}

impl FromRequest for Page {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let lang = lang_of(req);
        let path = req.path().to_owned();
        let token = session_token(req);
        Box::pin(async move {
            let mut page = Page { lang, path, signed_in: None };
            let Some(state) = state else {
                return Err(page.error(ApiError::internal()));
            };
            let Some(token) = token else {
                return Ok(page);
            };
            let authenticator = std::sync::Arc::clone(&state.authenticator);
            let now = state.clock.now();
            let presented = token.clone();
            let caller = web::block(move || authenticator.authenticate(&presented, now))
                .await
                .map_err(|e| page.error(e))?
                .map_err(|e| page.error(e))?;
            // An ended or expired session shows the page as to a visitor who is not signed in.
            let Some(caller) = caller else {
                return Ok(page);
            };
            let me = describe(&state, &caller).await.map_err(|e| page.error(e))?;
            page.signed_in = Some(SignedIn { csrf: csrf_token(&token), caller, me });
            Ok(page)
        })
    }
}

/// The person's name and the parts of the site open to them.
async fn describe(state: &AppState, caller: &Caller) -> Result<Me, ApiError> {
    let (association, person) = (caller.association, caller.person);
    let store = state.service.store().clone();
    let association_name = web::block(move || -> Result<String, crate::store::StoreError> {
        let mut conn = store.connection()?;
        Ok(associations::get(&mut conn, association)?.name)
    })
    .await??;
    let (name, voter, chairs) = state
        .read(association, move |s| {
            let name = s.register.persons.get(&person).map(|p| p.name.clone()).unwrap_or_default();
            let voter = is_voter(s, person);
            // The chair of the supervisory board, or the deputy, chairs a meeting until the
            // meeting itself appoints another, so they reach its page to open it.
            let chairs_by_office =
                s.register.supervisory_board_chair == Some(person) || s.register.deputy_chair == Some(person);
            let chairs = s
                .meetings
                .values()
                .filter(|m| {
                    m.chair == Some(person)
                        || (chairs_by_office
                            && m.chair.is_none()
                            && matches!(m.phase, crate::core::Phase::Convened | crate::core::Phase::Open))
                })
                .map(|m| (m.id.to_string(), m.title.clone()))
                .collect::<Vec<_>>();
            (name, voter, chairs)
        })
        .await?;
    let mut parts = Vec::new();
    if voter {
        parts.push("voter");
    }
    if !chairs.is_empty() {
        parts.push("chair");
    }
    if caller.has(Role::Secretariat) {
        parts.push("secretariat");
    }
    if caller.has(Role::Auditor) {
        parts.push("auditor");
    }
    Ok(Me { name, association: association.to_string(), association_name, parts, chairs })
}

/// A voter represents a member or holds a proxy that has not been revoked.
pub fn is_voter(s: &crate::core::Association, person: PersonId) -> bool {
    s.register.representatives.keys().any(|(p, _)| *p == person)
        || s.meetings
            .values()
            .flat_map(|m| m.proxies.values())
            .any(|proxy| proxy.revoked_at.is_none() && proxy.holder.person() == Some(person))
}

// ---- signing in -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    presession: String,
    association: String,
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    presession: String,
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The associations to choose from on the sign-in form (id, name).
async fn association_choices(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let store = state.service.store().clone();
    let list = web::block(move || -> Result<_, crate::store::StoreError> {
        let mut conn = store.connection()?;
        associations::list(&mut conn)
    })
    .await??;
    Ok(list.into_iter().map(|a| (a.id.to_string(), a.name)).collect())
}

/// `GET /`: the sign-in form, or the signed-in person's parts of the site.
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    page: Page,
) -> Result<HttpResponse, PageError> {
    if let Some(me) = &page.signed_in {
        return page.render("home.html", minijinja::context! { me => render::value(&me.me) });
    }
    let choices = association_choices(&state).await.map_err(|e| page.error(e))?;
    let presession = match cookie(&req, PRESESSION_COOKIE) {
        Some(value) => value,
        None => secret().map_err(|e| page.error(e))?,
    };
    let mut response = page
        .render("sign_in.html", minijinja::context! { associations => choices, presession => &presession })?;
    if let Ok(v) = header::HeaderValue::from_str(&set_cookie(&state, PRESESSION_COOKIE, &presession, 3600)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

fn check_presession(req: &HttpRequest, page: &Page, sent: &str) -> Result<(), PageError> {
    match cookie(req, PRESESSION_COOKIE) {
        Some(expected) if !sent.is_empty() && expected == sent => Ok(()),
        _ => Err(page.error(ApiError::forbidden(
            "access.csrf",
            "The sign-in form did not come from this site's page, or it was open too long; open the sign-in page again.",
        ))),
    }
}

/// `POST /sign-in`: sends the one-time code and shows the form to enter it.
pub async fn request_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    page: Page,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_presession(&req, &page, &form.presession)?;
    let association: AssociationId = form.association.trim().parse().map_err(|_| {
        page.error(ApiError::bad_request("association.invalid", "Choose an association from the list."))
    })?;
    if form.email.trim().is_empty() {
        return Err(page.error(ApiError::bad_request("email.missing", "Fill in your e-mail address.")));
    }
    crate::http::api::sessions::send_sign_in_code(&state, association, &form.email)
        .await
        .map_err(|e| page.error(e))?;
    page.render(
        "sign_in_code.html",
        minijinja::context! { presession => form.presession, email => form.email.trim() },
    )
}

/// `POST /sign-in/code`: starts the session and sets its cookie.
pub async fn enter_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    page: Page,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_presession(&req, &page, &form.presession)?;
    let opened = crate::http::api::sessions::open_session(&state, &form.code)
        .await
        .map_err(|e| page.error(e))?
        .ok_or_else(|| {
            page.error(ApiError::unauthorized(
                "The code is unknown, already used or expired; ask for a new one.",
            ))
        })?;
    let seconds = (opened.expires_at - state.clock.now()).num_seconds().max(0);
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .append_header((header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &opened.token, seconds)))
        .append_header((header::SET_COOKIE, set_cookie(&state, PRESESSION_COOKIE, "", 0)))
        .finish())
}

/// `POST /sign-out`: ends the session and forgets its cookie.
pub async fn sign_out(
    state: web::Data<AppState>,
    page: Page,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    if let Some(me) = &page.signed_in {
        me.check_csrf(&page, &form.csrf)?;
        let store = state.service.store().clone();
        let now = state.clock.now();
        let hash = me.caller.token_hash.clone();
        web::block(move || -> Result<(), crate::store::StoreError> {
            let mut conn = store.connection()?;
            access::end_session(&mut conn, &hash, now)
        })
        .await
        .map_err(|e| page.error(e))?
        .map_err(|e| page.error(e))?;
        state.authenticator.forget(Some(&me.caller.token_hash));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .append_header((header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0)))
        .finish())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn cookies_are_read_by_name_from_every_cookie_header() {
        let req = TestRequest::default()
            .insert_header(("cookie", "a=1; stembus_session=tok-en; stembus_lang=en"))
            .append_header(("cookie", "other=\"x\""))
            .to_http_request();
        assert_eq!(cookie(&req, SESSION_COOKIE).as_deref(), Some("tok-en"));
        assert_eq!(cookie(&req, "other").as_deref(), Some("x"));
        assert_eq!(cookie(&req, "stembus"), None, "a prefix of a name is not the name");
        assert_eq!(lang_of(&req), Lang::En);
        let empty = TestRequest::default().insert_header(("cookie", "stembus_session=")).to_http_request();
        assert_eq!(session_token(&empty), None, "an emptied cookie is no session");
    }

    #[test]
    fn the_query_chooses_the_language_before_the_cookie() {
        let req = TestRequest::with_uri("/x?a=b&lang=nl")
            .insert_header(("cookie", "stembus_lang=en"))
            .to_http_request();
        assert_eq!(lang_of(&req), Lang::Nl);
        let unknown = TestRequest::with_uri("/x?lang=fr").to_http_request();
        assert_eq!(lang_of(&unknown), Lang::Nl, "Dutch unless another known language is asked for");
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session_and_not_derivable_from_the_stored_hash() {
        let a = csrf_token("session-a");
        assert_eq!(a, csrf_token("session-a"));
        assert_ne!(a, csrf_token("session-b"));
        let stored = crate::http::auth::digest("session-a");
        assert!(!a.is_empty() && a != stored && !stored.contains(&a));
        assert_ne!(a, csrf_token(&stored), "the token of the stored hash is another token");
    }
}
