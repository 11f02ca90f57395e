//! Pages as HTML: the MiniJinja environment of `templates/web/` (compiled into the binary, the
//! list is [`super::TEMPLATES`]), the chrome every page gets, and errors as pages.
//!
//! Every template extends `layout.html` and fills `{% block title %}` and
//! `{% block content %}`. The context always holds `lang` (`nl` or `en`) and `page`: `lang`,
//! `other_lang`, `path`, `me` (the signed-in person: `name`, `association`, `association_name`,
//! `parts`, `chairs`; none when not signed in) and `csrf` (the session's CSRF token). `t(key,
//! name=value…)` gives the words of the page's language. Values are HTML-escaped; a name the
//! context lacks is an error, not an empty string. A serialisable value enters a context as
//! `minijinja::Value::from(minijinja::value::Serde(x))` (the crate's `serde` feature), see [`value`].

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use minijinja::value::{Kwargs, Serde};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::i18n::{self, Lang};
use super::session::Page;
use crate::http::problem::ApiError;

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in super::TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                // A template that does not parse is a defect of the build; every page's test
                // renders it, so it does not reach a release. The page then fails with a 500.
                tracing::error!(template = name, error = %e, "a page template does not load");
            }
        }
        env.add_function("t", translate);
        env
    })
}

/// `t(key, name=value…)`: the words of `key` in the page's language.
fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let lang = state.lookup("lang").and_then(|l| l.as_str().and_then(Lang::parse)).unwrap_or_default();
    if !i18n::texts(lang).contains_key(key) {
        return Err(Error::new(ErrorKind::UndefinedError, format!("no text '{key}' in {}", lang.code())));
    }
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    Ok(i18n::text(lang, key, &args))
}

/// A serialisable value for a template context.
pub fn value<T: Serialize>(x: T) -> Value {
    Value::from(Serde(x))
}

/// What every page's layout needs.
#[derive(Debug, Serialize)]
struct Chrome<'a> {
    lang: &'static str,
    other_lang: &'static str,
    path: &'a str,
    me: Option<&'a super::session::Me>,
    csrf: Option<&'a str>,
}

fn chrome(page: &Page) -> Chrome<'_> {
    Chrome {
        lang: page.lang.code(),
        other_lang: page.lang.other().code(),
        path: &page.path,
        me: page.signed_in.as_ref().map(|s| &s.me),
        csrf: page.signed_in.as_ref().map(|s| s.csrf.as_str()),
    }
}

/// Renders `template` for `page` with `context`, as a 200 response.
pub fn page(page: &Page, template: &str, context: Value) -> Result<HttpResponse, PageError> {
    let body = render(page, template, context).map_err(|e| page.error(e))?;
    Ok(html(StatusCode::OK, body))
}

/// Renders `template` for `page` with `context`.
pub fn render(page: &Page, template: &str, context: Value) -> Result<String, ApiError> {
    let full = context! { lang => page.lang.code(), page => Value::from(Serde(chrome(page))), ..context };
    environment().get_template(template).and_then(|t| t.render(full)).map_err(|e| {
        tracing::error!(template, error = %e, "a page did not render");
        ApiError::internal()
    })
}

/// An HTML response with the headers every page carries: no caching of what may be personal,
/// a content security policy that allows only this site's own scripts and styles (no inline
/// script), no framing, no sniffing.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(body)
}

/// A refusal or failure shown as a page: the status, what went wrong in plain words, and for a
/// refusal by the statutes the rule and the article it rests on.
#[derive(Debug)]
pub struct PageError {
    page: Box<Page>,
    error: ApiError,
}

impl PageError {
    pub fn new(page: Page, error: ApiError) -> Self {
        Self { page: Box::new(page), error }
    }

    /// The problem behind the page.
    pub fn problem(&self) -> &crate::http::problem::Problem {
        &self.error.problem
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

#[derive(Debug, Serialize)]
struct ErrorView<'a> {
    status: u16,
    code: &'a str,
    title_key: String,
    detail: &'a str,
    rule: Option<&'a str>,
    article: Option<&'a str>,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.error.status
    }

    fn error_response(&self) -> HttpResponse {
        let p = &self.error.problem;
        // A refusal's detail begins with "R2 (Art. 8.5): "; the page names the rule in words
        // of its own, so it shows the sentence alone.
        let detail = match (&p.rule, &p.article) {
            (Some(rule), Some(article)) => {
                p.detail.strip_prefix(&format!("{rule} (Art. {article}): ")).unwrap_or(&p.detail)
            }
            _ => &p.detail,
        };
        let title_key = match self.error.status.as_u16() {
            401 => "errors.unauthorized",
            403 => "errors.forbidden",
            404 => "errors.not_found",
            409 | 422 => "errors.refused",
            400 | 413 | 415 => "errors.bad_request",
            503 => "errors.unavailable",
            _ => "errors.failure",
        }
        .to_owned();
        let view = ErrorView {
            status: p.status,
            code: &p.code,
            title_key,
            detail,
            rule: p.rule.as_deref(),
            article: p.article.as_deref(),
        };
        match render(&self.page, "error.html", context! { error => Value::from(Serde(view)) }) {
            Ok(body) => html(self.error.status, body),
            Err(_) => HttpResponse::build(self.error.status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{}: {}", p.title, p.detail)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_loads() {
        let mut env = Environment::new();
        for (name, source) in super::super::TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    /// Every `t("section.key")` a template names is in both catalogues; a computed key
    /// (`t("phases." ~ m.phase)`) begins like keys both catalogues have.
    #[test]
    fn every_text_a_template_asks_for_exists() {
        let mut missing = Vec::new();
        for (name, source) in super::super::TEMPLATES {
            for quote in ['"', '\''] {
                let opening = format!("t({quote}");
                for (at, _) in source.match_indices(&opening) {
                    let before = source[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &source[at + opening.len()..];
                    let Some(end) = rest.find(quote) else { continue };
                    let key = &rest[..end];
                    let computed = rest[end + 1..].trim_start().starts_with('~');
                    for lang in [Lang::Nl, Lang::En] {
                        let texts = i18n::texts(lang);
                        let found = if computed {
                            texts.keys().any(|k| k.starts_with(key))
                        } else {
                            texts.contains_key(key)
                        };
                        if !found {
                            missing.push(format!("{name}: {key} ({})", lang.code()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "texts the templates ask for but the catalogues lack:\n{}",
            missing.join("\n")
        );
    }
}
