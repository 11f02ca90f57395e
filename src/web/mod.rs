//! The web pages: server-rendered HTML for voters, the chair, the secretariat and auditors, in
//! Dutch (the default) and English. Part of the HTTP layer: handlers call the service exactly
//! as the API's handlers do (`AppState::execute` and `AppState::read`, the same `Caller` and
//! roles, the same commands), never the API over HTTP.
//!
//! # Conventions
//!
//! **URLs.** `/` signs in (association + e-mail → a one-time code by e-mail → the code) and
//! then lists the parts of the site open to the person. Everything else is under the
//! association's id (its UUID, as `Caller::association` prints it):
//! `/{association}/voter…`, `/{association}/chair/meetings/{meeting}…`,
//! `/{association}/secretariat…`, `/{association}/audit…`. `POST /sign-out` ends the
//! session. Static files are at `/static/{file}` (the list is [`STATIC`]).
//!
//! **The caller.** A handler takes a [`session::Page`] (the language, the path, the signed-in
//! person if any) and asks it for what it needs: `page.me()?` (signed in), `page.within(a)?`
//! (signed in for association `a`), `page.with_role(a, Role::Secretariat)?`. Each returns a
//! [`session::SignedIn`] with the API's `Caller`, the CSRF token, and `me` (name and the parts
//! of the site: `voter`, `chair`, `secretariat`, `auditor`). The chair is whoever chairs the
//! meeting (`meeting.chair`); a voter represents a member or holds a proxy.
//!
//! **Forms.** Every form that changes something is `method="post"`, carries
//! `<input type="hidden" name="csrf" value="{{ page.csrf }}">`, and its handler calls
//! `me.check_csrf(&page, &form.csrf)?` before anything else; on success it answers
//! `303 See Other` back to a page (post/redirect/get). Scripts read the token from
//! `<meta name="stembus-csrf">` and send it as `X-Stembus-CSRF` when they call `/api/v1` with
//! the cookie; the API refuses a cookie-authenticated change without it (`access.csrf`).
//!
//! **Rendering.** `page.render("voter/meeting.html", minijinja::context! { … })`; the
//! template extends `layout.html` (blocks `title`, `content`) and takes its words from
//! `templates/web/i18n/{nl,en}.toml` with `t("section.key")`; each part of the site has its
//! own section (`[common]`, `[voter]`, `[auditor]`, `[chair]`, `[secretariat]`). A template is
//! listed in [`TEMPLATES`] to be compiled in.
//!
//! **Errors.** A handler returns `Result<HttpResponse, PageError>`; turn any `ApiError`,
//! `RuleViolation` or service error into one with `page.error(e)` (`.map_err(|e|
//! page.error(e))?`). The error page shows the status in words, the rule (R1–R8) in plain
//! words with the article of the statutes, and the sentence of the refusal, as `role="alert"`.
//!
//! **Accessibility (WCAG 2.1 AA).** `lang` on `<html>`, a skip link to `<main id="main">`,
//! headings in order (one `h1` per page), a label for every input, tables with `caption` and
//! `th scope`, visible focus, contrast of at least 4.5:1 (the colours of `static/stembus.css`),
//! no information by colour alone, buttons and links reachable by keyboard. No inline script
//! or style: the content security policy forbids them; scripts read `data-` attributes.

pub mod auditor;
pub mod chair;
pub mod i18n;
pub mod render;
pub mod resolutions;
pub mod secretariat;
pub mod session;
pub mod voter;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};

use self::render::PageError;
use self::session::Page;
use crate::http::AppState;
use crate::http::problem::ApiError;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/web/", $name))),)*]
    };
}

/// Every page template, by its path under `templates/web/`.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "layout.html",
    "error.html",
    "sign_in.html",
    "sign_in_code.html",
    "home.html",
    "voter/home.html",
    "voter/keys.html",
    "voter/meeting.html",
    "voter/receipts.html",
    "voter/resolution.html",
    "auditor/home.html",
    "auditor/meeting.html",
    "chair/meeting.html",
    "chair/live.html",
    "chair/result.html",
    "chair/minutes.html",
    "secretariat/overview.html",
    "secretariat/members.html",
    "secretariat/meetings.html",
    "secretariat/meeting.html",
    "secretariat/proxies.html",
    "secretariat/attendance.html",
    "secretariat/resolutions.html",
];

/// The static files, compiled in: (name, content type, body).
pub const STATIC: &[(&str, &str, &str)] = &[
    ("stembus.css", "text/css; charset=utf-8", include_str!("../../static/stembus.css")),
    ("encoding.js", "text/javascript; charset=utf-8", include_str!("../../static/encoding.js")),
    ("sign.js", "text/javascript; charset=utf-8", include_str!("../../static/sign.js")),
    ("voter.js", "text/javascript; charset=utf-8", include_str!("../../static/voter.js")),
    ("live.js", "text/javascript; charset=utf-8", include_str!("../../static/live.js")),
    ("chair.js", "text/javascript; charset=utf-8", include_str!("../../static/chair.js")),
];

/// The pages' routes. Registered after `/api/v1`, whose own routes therefore win.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .app_data(web::FormConfig::default().limit(64 * 1024).error_handler(|e, req| {
                let page = Page { lang: session::lang_of(req), path: req.path().to_owned(), signed_in: None };
                page.error(ApiError::bad_request(
                    "request.invalid_form",
                    format!("The form is not complete: {e}"),
                ))
                .into()
            }))
            .wrap(actix_web::middleware::from_fn(remember_lang))
            .route("/static/{file}", web::get().to(static_file))
            .route("/", web::get().to(session::home))
            .route("/sign-in", web::post().to(session::request_code))
            .route("/sign-in/code", web::post().to(session::enter_code))
            .route("/sign-out", web::post().to(session::sign_out))
            .configure(resolutions::configure)
            .configure(voter::configure)
            .configure(auditor::configure)
            .configure(chair::configure)
            .configure(secretariat::configure)
            .default_service(web::to(not_found)),
    );
}

/// Keeps the language a `?lang=` asked for in a cookie, for the following pages.
async fn remember_lang(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let lang = session::query_lang(req.request());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;
    if let (Some(lang), Some(state)) = (lang, state) {
        let cookie = session::set_cookie(&state, session::LANG_COOKIE, lang.code(), 365 * 24 * 3600);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

async fn static_file(path: web::Path<String>) -> HttpResponse {
    match STATIC.iter().find(|(name, _, _)| *name == path.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "public, max-age=300"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(*body),
        None => HttpResponse::NotFound().finish(),
    }
}

/// No page here: a page saying so, or for `/api/…` the API's problem.
async fn not_found(req: HttpRequest, page: Page) -> Result<HttpResponse, PageError> {
    if req.path().starts_with("/api/") {
        return Ok(HttpResponse::NotFound().finish());
    }
    Err(page.error(ApiError::not_found("page.unknown", format!("There is no page {}.", req.path()))))
}

/// The code of an enum as its serde name (`for`, `convened`, `gemeente`), for templates and the
/// catalogue's keys.
pub fn code<T: serde::Serialize>(x: &T) -> String {
    match serde_json::to_value(x) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A moment for a page, in Amsterdam's time.
pub fn when(moment: crate::core::Instant) -> String {
    crate::core::calendar::local(moment)
}
