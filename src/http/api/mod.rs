//! The resources of `/api/v1`, one module per part of the work.

pub mod export;
pub mod keys;
pub mod meetings;
pub mod notices;
pub mod polls;
pub mod proxies;
pub mod records;
pub mod register;
pub mod resolutions;
pub mod sessions;
pub mod system;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    // The router tries routes in the order they are registered, matching each path pattern in
    // turn: the route every voter calls during a poll comes first. No other route's pattern
    // matches its paths, so the order changes nothing else.
    polls::configure_ballots(cfg);
    system::configure(cfg);
    sessions::configure(cfg);
    register::configure(cfg);
    keys::configure(cfg);
    meetings::configure(cfg);
    proxies::configure(cfg);
    polls::configure(cfg);
    resolutions::configure(cfg);
    records::configure(cfg);
    export::configure(cfg);
    notices::configure(cfg);
}

/// Items in one page of a list that grows with the log, when no `limit` is given.
pub const PAGE: u32 = 1000;
/// The most items one page holds.
pub const PAGE_MAX: u32 = 10_000;

/// The page size a request asks for: its `limit`, or [`PAGE`]; a 400 naming the bounds for a
/// `limit` outside 1 to [`PAGE_MAX`]. `items` names what the list holds (`events`).
pub fn page_limit(limit: Option<u32>, items: &str) -> Result<u32, crate::http::problem::ApiError> {
    let limit = limit.unwrap_or(PAGE);
    if (1..=PAGE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::http::problem::ApiError::bad_request(
            "request.invalid_query",
            format!("limit is {limit}: a page holds 1 to {PAGE_MAX} {items}."),
        ))
    }
}

/// The answer holding a page of a list: 200, with `Link: <PATH?next>; rel="next"` when a next
/// page's query is given (the page was full).
pub fn page_answer(request: &actix_web::HttpRequest, next: Option<String>) -> actix_web::HttpResponseBuilder {
    let mut response = actix_web::HttpResponse::Ok();
    if let Some(query) = next {
        response.insert_header((
            actix_web::http::header::LINK,
            format!("<{}?{query}>; rel=\"next\"", request.path()),
        ));
    }
    response
}

/// Formats a moment for a response: RFC 3339 in UTC.
pub fn time(t: crate::core::Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The receipt of a logged event: proof of its inclusion in its stream's latest signed head.
pub async fn log_receipt(
    state: &crate::http::AppState,
    association: crate::core::AssociationId,
    logged: &crate::store::log::Logged,
) -> Result<records::LogReceiptView, crate::http::problem::ApiError> {
    let service = std::sync::Arc::clone(&state.service);
    let (stream, index) = (logged.stream.clone(), u64::try_from(logged.stream_index).unwrap_or(0));
    let receipt = actix_web::web::block(move || service.receipt(association, &stream, index)).await??;
    Ok(records::receipt_view(&receipt))
}

/// The receipt of the event of an accepted command that `is` picks out (the ballot, the proxy,
/// the declaration, the key change), to answer the command with.
pub async fn receipt_for(
    state: &crate::http::AppState,
    association: crate::core::AssociationId,
    logged: &[crate::store::log::Logged],
    is: impl Fn(&crate::core::Fact) -> bool,
) -> Result<records::LogReceiptView, crate::http::problem::ApiError> {
    let entry = logged.iter().find(|l| is(&l.event.fact)).ok_or_else(|| {
        tracing::error!("an accepted command logged no event to give a receipt for");
        crate::http::problem::ApiError::internal()
    })?;
    log_receipt(state, association, entry).await
}
