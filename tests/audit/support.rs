//! An exported meeting to verify and to tamper with.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use stembus::core::{AssociationId, Instant, MeetingId};
use stembus::ledger::audit::{Options, Report, verify_export};
use stembus::ledger::export::Line;
use stembus::service::Service;
use stembus::store::Store;

use crate::db::{Backend, TestDb};

pub const SERVICE_SECRET: [u8; 32] = [42u8; 32];

pub fn service_key() -> SigningKey {
    SigningKey::from_bytes(&SERVICE_SECRET)
}

pub fn dimpact() -> AssociationId {
    AssociationId::named("dimpact")
}

pub fn meeting_2022() -> MeetingId {
    MeetingId::named("alv-2022-12-07")
}

pub fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("bad moment {text}: {e}"))
}

/// A service on a fresh database of `backend`, with the demo association loaded.
pub fn demo_service(backend: Backend) -> (TestDb, Service) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::new(store, service_key());
    stembus::app::load_demo(&service, t("2022-12-08T09:00:00+01:00")).unwrap_or_else(|e| panic!("{e}"));
    (db, service)
}

/// The export of `meeting` as text.
pub fn export(service: &Service, meeting: MeetingId) -> String {
    let mut out = Vec::new();
    service
        .export(dimpact(), meeting, t("2022-12-08T09:00:00+01:00"), &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
}

/// The demo meeting's export, made once per test binary.
pub fn demo_export() -> &'static str {
    static EXPORT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    EXPORT.get_or_init(|| {
        let (_db, service) = demo_service(Backend::Sqlite);
        export(&service, meeting_2022())
    })
}

pub fn verify(text: &str) -> Report {
    verify_export(text.as_bytes(), Options::default())
}

pub fn lines(text: &str) -> Vec<Line> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}
