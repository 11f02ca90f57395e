//! The export of a meeting's log for auditors (format `stembus-export` v1, docs/audit.md),
//! streamed as it is read from the database: memory stays bounded whatever the meeting's size.

use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::core::{AssociationId, MeetingId};
use crate::http::AppState;
use crate::http::auth::{Caller, Role};
use crate::http::problem::{ApiError, Problem};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export);
}

/// Chunks of this many bytes go to the client.
const CHUNK: usize = 64 * 1024;
/// At most this many chunks wait for a slow client before the export pauses.
const QUEUED_CHUNKS: usize = 16;

/// A writer that hands full chunks to the response stream.
struct ChunkWriter {
    buffer: Vec<u8>,
    sender: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The export of a meeting's log, as JSON Lines: header, every entry of the association's and
/// the meeting's streams with their signed tree heads, and an end line (auditors and the
/// secretariat). Verify it offline with `stembus audit verify FILE`.
#[utoipa::path(tag = "records", responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/associations/{association}/meetings/{meeting}/export")]
async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AssociationId, MeetingId)>,
) -> Result<HttpResponse, ApiError> {
    let (a, m) = path.into_inner();
    caller.within(a)?;
    if !(caller.has(Role::Auditor) || caller.has(Role::Secretariat)) {
        return Err(ApiError::forbidden(
            "access.role_required",
            "Only auditors and the secretariat export a meeting's log.",
        ));
    }
    if !state.read(a, move |s| s.meetings.contains_key(&m)).await? {
        return Err(ApiError::not_found("meeting.unknown", format!("There is no meeting {m}.")));
    }
    let (sender, receiver) = tokio::sync::mpsc::channel(QUEUED_CHUNKS);
    let service = std::sync::Arc::clone(&state.service);
    let now = state.clock.now();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter { buffer: Vec::with_capacity(CHUNK), sender: sender.clone() };
        if let Err(e) = service.export(a, m, now, &mut writer) {
            // The status line has gone out: the client sees a cut-off export without its end
            // line, which the verifier reports as cut off.
            tracing::error!(error = %e, "the export of {m} failed");
            let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let name = format!("attachment; filename=\"stembus-export-{m}.jsonl\"");
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("Content-Disposition", name))
        .streaming(tokio_stream::wrappers::ReceiverStream::new(receiver)))
}
