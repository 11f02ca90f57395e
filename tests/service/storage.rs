use std::sync::Arc;

use diesel::prelude::*;
use stembus::core::{
    AssociationId, Choice, Command, MeetingId, MemberId, Outcome, PersonId, Phase, RulesProfile,
};
use stembus::scenario::Scenario;
use stembus::service::{Service, ServiceError};
use stembus::store::schema::{attendance, ballots, events, members, results};
use stembus::store::{Store, log};

use crate::both_backends;
use crate::db::TestDb;

fn store(db: &TestDb) -> Store {
    let store = Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    store
}

/// The association the tests use.
fn dimpact() -> AssociationId {
    AssociationId::named("dimpact")
}

/// A service on the test database, with the Dimpact association created if it is not there.
fn service(db: &TestDb) -> Service {
    let service = Service::new(store(db), ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]));
    match service.create_association(
        dimpact(),
        "Coöperatie Dimpact U.A.",
        RulesProfile::dimpact_2023_toml(),
        chrono::Utc::now(),
    ) {
        Ok(_) | Err(ServiceError::Store(stembus::store::StoreError::AssociationExists(_))) => service,
        Err(e) => panic!("{e}"),
    }
}

/// Runs every step of the 2022 scenario through the service.
fn replay_2022(service: &Service) {
    let text = include_str!("../../scenarios/alv-2022-12-07.toml");
    let scenario = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    let mut at = None;
    for step in scenario.step {
        let now = step.at.or(at).unwrap_or_else(|| panic!("the first step has no moment"));
        at = Some(now);
        match (service.execute_scenario(dimpact(), step.command, now), step.expect) {
            (Ok(_), None) => {}
            (Err(ServiceError::Refused(v)), Some(code)) => assert_eq!(v.code, code),
            (other, expect) => panic!("unexpected: {other:?}, expected {expect:?}"),
        }
    }
}

macro_rules! count {
    ($service:expr, $table:ident) => {{
        let mut conn = $service.store().connection().unwrap_or_else(|e| panic!("{e}"));
        let n: i64 = $table::table
            .select(diesel::dsl::count_star())
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("{e}"));
        n
    }};
}

both_backends!(migrations_run_up_down_and_up_again, |db| {
    let store = store(db);
    store.revert_all().unwrap_or_else(|e| panic!("down: {e}"));
    store.migrate().unwrap_or_else(|e| panic!("up again: {e}"));
    let mut conn = store.connection().unwrap_or_else(|e| panic!("{e}"));
    assert!(log::head(&mut conn, dimpact()).is_err(), "the association did not go with the migrations");
    let n: i64 =
        members::table.select(diesel::dsl::count_star()).first(&mut *conn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 0);
});

both_backends!(the_2022_meeting_is_stored_with_its_projections, |db| {
    let service = service(db);
    replay_2022(&service);
    assert_eq!(count!(service, members), 40);
    assert_eq!(count!(service, results), 3);
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let outcomes: Vec<(String, String, i64)> = results::table
        .select((results::poll_id, results::outcome, results::present_or_represented))
        .order(results::taken_at.asc())
        .load(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(outcomes.iter().all(|(_, o, _)| o == "adopted"), "{outcomes:?}");
    assert_eq!(outcomes.iter().map(|(_, _, p)| *p).collect::<Vec<_>>(), [28, 27, 27]);
    let oldambt_left: Option<chrono::NaiveDateTime> = attendance::table
        .filter(attendance::member_id.eq(MemberId::named("oldambt").to_string()))
        .select(attendance::left_at)
        .first(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(oldambt_left.map(|t| t.to_string()), Some("2022-12-07 18:50:00".to_owned()));
    let rotterdam_advance: i64 = ballots::table
        .filter(ballots::member_id.eq(MemberId::named("rotterdam").to_string()))
        .filter(ballots::ballot_box.eq("advance"))
        .select(diesel::dsl::count_star())
        .first(&mut *conn)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rotterdam_advance, 3);
});

both_backends!(a_restart_loses_nothing, |db| {
    let before = {
        let service = service(db);
        replay_2022(&service);
        service.read(dimpact(), |s| s.clone()).unwrap_or_else(|e| panic!("{e}"))
    };
    let after = service(db).read(dimpact(), |s| s.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after, before);
    let meeting = &after.meetings[&MeetingId::named("alv-2022-12-07")];
    assert_eq!(meeting.phase, Phase::Closed);
});

both_backends!(a_refused_command_stores_nothing, |db| {
    let service = service(db);
    replay_2022(&service);
    let events_before = count!(service, events);
    let refused = service.execute(
        dimpact(),
        Command::SuspendMember { member: MemberId::named("nowhere") },
        chrono::Utc::now(),
    );
    assert!(
        matches!(refused, Err(ServiceError::Refused(ref v)) if v.code == "member.unknown"),
        "{refused:?}"
    );
    assert_eq!(count!(service, events), events_before);
});

both_backends!(the_log_refuses_updates_and_deletes, |db| {
    let service = service(db);
    replay_2022(&service);
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let update = diesel::update(events::table.filter(events::seq.eq(1)))
        .set(events::body.eq("{}"))
        .execute(&mut *conn);
    assert!(update.is_err(), "an event was changed");
    let delete = diesel::delete(events::table.filter(events::seq.eq(1))).execute(&mut *conn);
    assert!(delete.is_err(), "an event was deleted");
});

both_backends!(the_stored_log_replays_to_the_same_state_as_the_core, |db| {
    let service = service(db);
    replay_2022(&service);
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let logged = log::read_after(&mut conn, dimpact(), 0, i64::MAX).unwrap_or_else(|e| panic!("{e}"));
    let seqs: Vec<i64> = logged.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=logged.len() as i64).collect::<Vec<_>>(), "the log has gaps or reorderings");
    let meeting = MeetingId::named("alv-2022-12-07").to_string();
    let stream = log::read_stream(&mut conn, dimpact(), &meeting).unwrap_or_else(|e| panic!("{e}"));
    let indices: Vec<i64> = stream.iter().map(|l| l.stream_index).collect();
    assert_eq!(indices, (0..stream.len() as i64).collect::<Vec<_>>());
    let mut folded = stembus::core::Association::with_id(dimpact(), RulesProfile::dimpact_2023());
    for l in &logged {
        stembus::core::apply(&mut folded, &l.event);
    }
    assert_eq!(Some(folded), service.read(dimpact(), |s| s.clone()).ok());
});

/// A small open meeting: `n` members present, a poll open on the motion.
fn open_poll(service: &Service, n: usize) {
    use stembus::core::register::{Capacity, MemberKind};
    use stembus::core::{
        AgendaItemId, AgendaItemSpec, Convener, DecisionKind, Mode, MotionSpec, PollId, PollMethod,
    };
    let t = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap_or_else(|e| panic!("{e}")) };
    let run = |c: Command, at: &str| {
        service.execute_scenario(dimpact(), c, t(at)).unwrap_or_else(|e| panic!("{e}"));
    };
    let early = "2026-05-01T10:00:00+02:00";
    for i in 0..n {
        run(
            Command::RegisterMember {
                member: MemberId::named(&format!("m{i}")),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            },
            early,
        );
        run(
            Command::RegisterPerson {
                person: PersonId::named(&format!("p{i}")),
                name: format!("Wethouder {i}"),
                email: None,
                profession: None,
            },
            early,
        );
        run(
            Command::AssignRepresentative {
                person: PersonId::named(&format!("p{i}")),
                member: MemberId::named(&format!("m{i}")),
                capacity: Capacity::PortfolioHolder,
            },
            early,
        );
    }
    run(
        Command::RegisterPerson {
            person: PersonId::named("chair"),
            name: "Voorzitter".into(),
            email: None,
            profession: None,
        },
        early,
    );
    run(Command::AppointSupervisoryBoardChair { person: PersonId::named("chair"), deputy: false }, early);
    run(
        Command::CreateMeeting {
            meeting: MeetingId::named("m"),
            title: "ALV".into(),
            starts_at: t("2026-06-10T19:00:00+02:00"),
            place: "Online".into(),
            agenda: vec![AgendaItemSpec {
                item: AgendaItemId::named("motion"),
                title: "Voorstel".into(),
                motion: Some(MotionSpec {
                    text: "Aangenomen.".into(),
                    kind: DecisionKind::Ordinary,
                    proposal: None,
                    board_proposal_approved: false,
                }),
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            }],
            follow_up_of: None,
            request: None,
        },
        early,
    );
    run(
        Command::ConveneMeeting {
            meeting: MeetingId::named("m"),
            by: Convener::Board,
            advance_voting: false,
            electronic_participation: Some("Online".into()),
        },
        early,
    );
    for i in 0..n {
        run(
            Command::CheckIn {
                meeting: MeetingId::named("m"),
                member: MemberId::named(&format!("m{i}")),
                person: PersonId::named(&format!("p{i}")),
                mode: Mode::Electronic,
            },
            "2026-06-10T18:55:00+02:00",
        );
    }
    run(
        Command::OpenMeeting {
            meeting: MeetingId::named("m"),
            chair: PersonId::named("chair"),
            appointed_by_meeting: false,
        },
        "2026-06-10T19:00:00+02:00",
    );
    run(
        Command::OpenPoll {
            meeting: MeetingId::named("m"),
            poll: PollId::named("p"),
            item: AgendaItemId::named("motion"),
            method: PollMethod::Electronic,
            by: PersonId::named("chair"),
            revote_of: None,
        },
        "2026-06-10T19:05:00+02:00",
    );
}

both_backends!(two_instances_writing_at_once_keep_one_ordered_log, |db| {
    use stembus::core::{AgendaItemId, PollId};
    let first = Arc::new(service(db));
    open_poll(&first, 24);
    let second = Arc::new(service(db));
    let at: chrono::DateTime<chrono::Utc> =
        "2026-06-10T19:06:00+02:00".parse().unwrap_or_else(|e| panic!("{e}"));
    let handles: Vec<_> = (0..24)
        .map(|i| {
            let service = if i % 2 == 0 { Arc::clone(&first) } else { Arc::clone(&second) };
            std::thread::spawn(move || {
                // Every member votes twice from its own thread; the second ballot replaces the first.
                for choice in [Choice::Against, Choice::For] {
                    let cast = Command::CastBallot {
                        meeting: MeetingId::named("m"),
                        item: AgendaItemId::named("motion"),
                        member: MemberId::named(&format!("m{i}")),
                        person: PersonId::named(&format!("p{i}")),
                        choice,
                        signed: None,
                    };
                    service.execute_scenario(dimpact(), cast, at).unwrap_or_else(|e| panic!("{e}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap_or_else(|_| panic!("a writer panicked"));
    }
    let close = Command::ClosePoll {
        meeting: MeetingId::named("m"),
        poll: PollId::named("p"),
        by: PersonId::named("chair"),
        counts: None,
    };
    second.execute(dimpact(), close, at).unwrap_or_else(|e| panic!("{e}"));
    let result = first
        .read(dimpact(), |s| s.meetings[&MeetingId::named("m")].polls[&PollId::named("p")].result.clone())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no result"));
    assert_eq!((result.counts.in_favour, result.counts.against), (24, 0));
    assert_eq!(result.outcome, Outcome::Adopted);
    let mut conn = first.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let stream = log::read_stream(&mut conn, dimpact(), &MeetingId::named("m").to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let indices: Vec<i64> = stream.iter().map(|l| l.stream_index).collect();
    assert_eq!(indices, (0..stream.len() as i64).collect::<Vec<_>>());
    let ballots_logged =
        stream.iter().filter(|l| matches!(l.event.fact, stembus::core::Fact::BallotCast { .. })).count();
    assert_eq!(ballots_logged, 48, "every accepted ballot is in the log once");
    // The two instances agree with a third that folds the log from scratch.
    let third = service(db);
    assert_eq!(third.read(dimpact(), |s| s.clone()).ok(), first.read(dimpact(), |s| s.clone()).ok());
    assert_eq!(second.read(dimpact(), |s| s.clone()).ok(), first.read(dimpact(), |s| s.clone()).ok());
});

#[test]
fn the_core_alone_and_the_service_decide_alike() {
    // The service adds durability, not rules: the same scenario gives the same state.
    let db = TestDb::new(crate::db::Backend::Sqlite);
    let service = service(&db);
    replay_2022(&service);
    let text = include_str!("../../scenarios/alv-2022-12-07.toml");
    let core = Scenario::from_toml(text)
        .and_then(|s| s.replay_as(dimpact(), RulesProfile::dimpact_2023()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(service.read(dimpact(), |s| s.clone()).ok(), Some(core.state));
}

both_backends!(associations_do_not_see_each_others_register, |db| {
    let service = service(db);
    let other = AssociationId::named("other-coop");
    service
        .create_association(other, "Andere coöperatie", RulesProfile::dimpact_2023_toml(), chrono::Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    replay_2022(&service);
    // The same readable key names a member in each association, without collision.
    let register = Command::RegisterMember {
        member: MemberId::named("assen"),
        name: "Assen in de andere coöperatie".into(),
        kind: stembus::core::register::MemberKind::Gemeente,
        email: None,
        language: Default::default(),
    };
    service.execute(other, register, chrono::Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(service.read(other, |s| s.register.members.len()).ok(), Some(1));
    assert_eq!(service.read(dimpact(), |s| s.register.members.len()).ok(), Some(40));
    let name = service.read(dimpact(), |s| s.register.member_name(MemberId::named("assen"))).ok();
    assert_eq!(name.as_deref(), Some("Gemeente Assen"));
    assert_eq!(count!(service, members), 41);
    let unknown = service.execute(
        AssociationId::named("nobody"),
        Command::SuspendMember { member: MemberId::named("assen") },
        chrono::Utc::now(),
    );
    assert!(
        matches!(unknown, Err(ServiceError::Store(stembus::store::StoreError::UnknownAssociation(_)))),
        "{unknown:?}"
    );
});

both_backends!(an_invalid_rules_profile_is_refused_for_a_new_association, |db| {
    let service = service(db);
    let broken = RulesProfile::dimpact_2023_toml().replace("notice_days = 10", "notice_days = \"ten\"");
    let refused =
        service.create_association(AssociationId::named("broken"), "Broken", &broken, chrono::Utc::now());
    assert!(matches!(refused, Err(ServiceError::Profile(_))), "{refused:?}");
    assert!(
        service.read(AssociationId::named("broken"), |_| ()).is_err(),
        "a refused association was stored"
    );
});

both_backends!(every_event_has_a_receipt_that_verifies_against_the_signed_tree_head, |db| {
    use stembus::ledger::merkle::{verify_consistency, verify_inclusion};
    let service = service(db);
    replay_2022(&service);
    let key = service.public_key();
    let meeting = MeetingId::named("alv-2022-12-07").to_string();
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let stream = log::read_stream(&mut conn, dimpact(), &meeting).unwrap_or_else(|e| panic!("{e}"));
    let head = service
        .tree_head(dimpact(), &meeting)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no head"));
    assert_eq!(head.head.size, stream.len() as u64);
    assert_eq!(head.verify(&key), Ok(()));
    for logged in &stream {
        let receipt = service
            .receipt(dimpact(), &meeting, logged.stream_index as u64)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            receipt.leaf_hash,
            log::leaf_of(dimpact(), logged),
            "the receipt's leaf is the stored event"
        );
        assert_eq!(receipt.tree_head, head);
        verify_inclusion(
            &receipt.leaf_hash,
            receipt.leaf_index,
            head.head.size,
            &receipt.inclusion_proof,
            &head.head.root,
        )
        .unwrap_or_else(|e| panic!("entry {}: {e}", logged.stream_index));
    }
    // Every size the log had was signed, and each head is consistent with the last.
    for size in [1, 2, 17, stream.len() as u64 / 2, stream.len() as u64 - 1] {
        let c =
            service.consistency(dimpact(), &meeting, size, head.head.size).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.from.verify(&key), Ok(()));
        verify_consistency(size, head.head.size, &c.from.head.root, &c.to.head.root, &c.proof)
            .unwrap_or_else(|e| panic!("{size}: {e}"));
    }
    // A restarted service rebuilds the same tree from the stored log.
    let again = self::service(db);
    let receipt = again.receipt(dimpact(), &meeting, 5).unwrap_or_else(|e| panic!("{e}"));
    verify_inclusion(&receipt.leaf_hash, 5, head.head.size, &receipt.inclusion_proof, &head.head.root)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        service.receipt(dimpact(), &meeting, stream.len() as u64).is_err(),
        "no receipt for an entry that is not there"
    );
});
