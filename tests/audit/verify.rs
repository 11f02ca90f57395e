use crate::support::*;

#[test]
fn the_demo_meeting_verifies() {
    let report = verify(demo_export());
    assert!(report.verified, "{}", report.to_text());
}

#[test]
fn the_demo_meeting_exported_from_postgresql_verifies_and_equals_the_sqlite_export() {
    let (_db, service) = demo_service(crate::db::Backend::Postgres);
    let text = export(&service, meeting_2022());
    let report = verify(&text);
    assert!(report.verified, "{}", report.to_text());
    // The same commands give the same log, byte for byte, on either database.
    assert_eq!(text, demo_export());
}

#[test]
fn the_report_names_every_poll_with_its_count_declaration_and_rule() {
    let report = verify(demo_export());
    assert_eq!(report.polls.len(), 3);
    for poll in &report.polls {
        assert_eq!(poll.agrees, Some(true), "{poll:?}");
        assert!(poll.why.contains("needed"), "{}", poll.why);
    }
    let amendment = report.polls.iter().find(|p| p.item_title.contains("statutenwijziging"));
    let counted = amendment.and_then(|p| p.counted.as_ref()).unwrap_or_else(|| panic!("no count"));
    assert_eq!((counted.in_favour, counted.against, counted.abstain), (25, 1, 1));
    let text = report.to_text();
    assert!(
        text.contains("counted: 25 for, 1 against, 1 abstain: adopted; declared adopted; agrees"),
        "{text}"
    );
    assert!(text.contains("VERIFIED"), "{text}");
    let json = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(json["verified"], true);
    assert_eq!(json["polls"][0]["counted"]["for"], 28);
}

#[test]
fn heads_are_signed_in_time_order_even_when_commands_come_with_earlier_moments() {
    // The demo's last commands are given at a moment before the meeting it replays; the heads
    // they sign keep the time order of the stream, and the export verifies.
    let db = crate::db::TestDb::new(crate::db::Backend::Sqlite);
    let store = stembus::store::Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let service = stembus::service::Service::new(store, service_key());
    stembus::app::load_demo(&service, t("2022-11-15T09:00:00+01:00")).unwrap_or_else(|e| panic!("{e}"));
    let report = verify(&export(&service, meeting_2022()));
    assert!(report.verified, "{}", report.to_text());
    let association = report.streams.iter().find(|s| s.stream == "association");
    let last = association.and_then(|s| s.head_timestamp.clone()).unwrap_or_default();
    assert!(last.starts_with("2022-12-07"), "{last}");
}
