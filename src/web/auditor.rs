//! The auditor's pages: the meetings, each with a link to download its export (the API's
//! `…/export`, which the page's cookie authenticates) and the verification report of that
//! export, produced by the same verifier as `stembus audit verify` (`ledger::audit`), run here
//! on a fresh export with the service's own key pinned. The page says so: an auditor who wants
//! independence downloads the export and runs the verifier on a machine of their own.

use std::io::{BufReader, Seek, SeekFrom, Write};

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::code;
use super::render::{PageError, value};
use super::session::{Page, SignedIn};
use super::when;
use crate::core::{AssociationId, MeetingId, Phase};
use crate::http::AppState;
use crate::http::auth::Role;
use crate::http::problem::ApiError;
use crate::ledger::audit::{self, Options, Report};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{association}/audit", web::get().to(overview))
        .route("/{association}/audit/meetings/{meeting}", web::get().to(report));
}

/// Auditors, and the secretariat, who may export too.
fn auditor(page: &Page, a: AssociationId) -> Result<&SignedIn, PageError> {
    let me = page.within(a)?;
    if me.caller.has(Role::Auditor) || me.caller.has(Role::Secretariat) {
        Ok(me)
    } else {
        Err(page.error(ApiError::forbidden(
            "access.role_required",
            "Only auditors and the secretariat export a meeting's log and read its verification.",
        )))
    }
}

#[derive(Debug, Serialize)]
struct MeetingLine {
    id: String,
    title: String,
    starts_at: String,
    phase: String,
}

/// `GET /{association}/audit`: the meetings to export and verify.
async fn overview(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<AssociationId>,
) -> Result<HttpResponse, PageError> {
    let a = path.into_inner();
    auditor(&page, a)?;
    let meetings = state
        .read(a, |s| {
            s.meetings
                .values()
                .map(|m| MeetingLine {
                    id: m.id.to_string(),
                    title: m.title.clone(),
                    starts_at: when(m.starts_at),
                    phase: code(&m.phase),
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| page.error(e))?;
    page.render("auditor/home.html", context! { association => a.to_string(), meetings => value(meetings) })
}

/// Exports the meeting to a temporary file and verifies it, as `stembus audit verify` does,
/// with the service's key pinned; memory stays bounded whatever the meeting's size.
fn export_and_verify(
    service: &crate::service::Service,
    a: AssociationId,
    m: MeetingId,
    now: crate::core::Instant,
    service_key: String,
) -> Result<Report, ApiError> {
    let mut file = tempfile()?;
    service.export(a, m, now, &mut file)?;
    let failed = |e: std::io::Error| {
        tracing::error!(error = %e, "the export for the verification page could not be read back");
        ApiError::internal()
    };
    file.flush().map_err(failed)?;
    file.seek(SeekFrom::Start(0)).map_err(failed)?;
    Ok(audit::verify_export(BufReader::new(file), Options { service_key: Some(service_key), strict: false }))
}

/// An anonymous temporary file: created, then unlinked at once, so nothing is left behind.
fn tempfile() -> Result<std::fs::File, ApiError> {
    let mut name = [0u8; 12];
    getrandom::fill(&mut name).map_err(|_| ApiError::internal())?;
    let name: String = ::hex::encode(name);
    let path = std::env::temp_dir().join(format!("stembus-audit-{name}.jsonl"));
    let file =
        std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(|e| {
            tracing::error!(error = %e, "no temporary file for the verification page");
            ApiError::internal()
        })?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

/// `GET /{association}/audit/meetings/{meeting}`: the verification report of a fresh export.
async fn report(
    state: web::Data<AppState>,
    page: Page,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, PageError> {
    let (a, m) = path.into_inner();
    auditor(&page, a)?;
    let found = state
        .read(a, move |s| s.meetings.get(&m).map(|x| (x.title.clone(), x.phase == Phase::Closed)))
        .await
        .map_err(|e| page.error(e))?;
    let (title, closed) = found.ok_or_else(|| {
        page.error(ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")))
    })?;
    let service = std::sync::Arc::clone(&state.service);
    let now = state.clock.now();
    let key = crate::keys::public_hex(&state.service_key);
    let pinned = key.clone();
    let report = web::block(move || export_and_verify(&service, a, m, now, pinned))
        .await
        .map_err(|e| page.error(e))?
        .map_err(|e| page.error(e))?;
    page.render(
        "auditor/meeting.html",
        context! {
            association => a.to_string(),
            meeting => m.to_string(),
            title => title,
            closed => closed,
            service_key => key,
            report => value(&report),
            text => report.to_text(),
        },
    )
}
