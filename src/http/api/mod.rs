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
