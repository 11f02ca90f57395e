//! The resources of `/api/v1`, one module per part of the work.

pub mod meetings;
pub mod polls;
pub mod proxies;
pub mod records;
pub mod register;
pub mod resolutions;
pub mod sessions;
pub mod system;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    system::configure(cfg);
    sessions::configure(cfg);
    register::configure(cfg);
    meetings::configure(cfg);
    proxies::configure(cfg);
    polls::configure(cfg);
    resolutions::configure(cfg);
    records::configure(cfg);
}

/// Formats a moment for a response: RFC 3339 in UTC.
pub fn time(t: crate::core::Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
