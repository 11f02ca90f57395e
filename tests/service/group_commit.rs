//! Group commit: commands carried out together in one transaction, each decided against the
//! state that includes the ones before it, each with its own outcome; one signed tree head
//! per stream per batch; a failed transaction stores nothing of the batch and fails every
//! command of it.

use std::sync::Arc;

use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use stembus::core::register::{Capacity, MemberKind};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Association, AssociationId, Choice, Command, Convener, DecisionKind,
    Instant, MeetingId, MemberId, Mode, MotionSpec, PersonId, PollId, PollMethod, RulesProfile,
    SignatureBytes, Signed,
};
use stembus::ledger::merkle::verify_inclusion;
use stembus::ledger::{author, signature};
use stembus::service::{Notices, Service, ServiceError};
use stembus::store::{Store, log};

use crate::both_backends;
use crate::db::TestDb;

fn t(s: &str) -> Instant {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn coop() -> AssociationId {
    AssociationId::named("batch-coop")
}

fn member(i: usize) -> MemberId {
    MemberId::named(&format!("m{i}"))
}

fn person(i: usize) -> PersonId {
    PersonId::named(&format!("p{i}"))
}

fn meeting() -> MeetingId {
    MeetingId::named("m")
}

fn item() -> AgendaItemId {
    AgendaItemId::named("motion")
}

const VOTE: &str = "2026-06-10T19:06:00+02:00";

/// `n` members with their own keys, checked in, a poll open; set up with `execute_many`.
fn open_poll(db: &TestDb, n: usize) -> Service {
    let store = Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::new(store, SigningKey::from_bytes(&[9u8; 32]));
    service
        .create_association(
            coop(),
            "Coöperatie Batch U.A.",
            RulesProfile::dimpact_2023_toml(),
            t("2026-05-01T10:00:00+02:00"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let early = t("2026-05-01T10:00:00+02:00");
    let blank = Association::with_id(coop(), RulesProfile::dimpact_2023());
    let chair = PersonId::named("chair");
    let mut commands = Vec::new();
    for i in 0..n {
        commands.push(Command::RegisterMember {
            member: member(i),
            name: format!("Gemeente {i}"),
            kind: MemberKind::Gemeente,
            email: None,
            language: Default::default(),
        });
        commands.push(Command::RegisterPerson {
            person: person(i),
            name: format!("P {i}"),
            email: None,
            profession: None,
        });
        commands.push(Command::AssignRepresentative {
            person: person(i),
            member: member(i),
            capacity: Capacity::PortfolioHolder,
        });
        commands.push(author::enrol(&blank, person(i), &author::scenario_key(person(i)), 1));
    }
    commands.push(Command::RegisterPerson {
        person: chair,
        name: "Voorzitter".into(),
        email: None,
        profession: None,
    });
    commands.push(Command::AppointSupervisoryBoardChair { person: chair, deputy: false });
    commands.push(Command::CreateMeeting {
        meeting: meeting(),
        title: "ALV".into(),
        starts_at: t("2026-06-10T19:00:00+02:00"),
        place: "Online".into(),
        agenda: vec![AgendaItemSpec {
            item: item(),
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
    });
    commands.push(Command::ConveneMeeting {
        meeting: meeting(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: Some("Online".into()),
    });
    let mut timed: Vec<(Command, Instant)> = commands.into_iter().map(|c| (c, early)).collect();
    for i in 0..n {
        timed.push((
            Command::CheckIn {
                meeting: meeting(),
                member: member(i),
                person: person(i),
                mode: Mode::Electronic,
            },
            t("2026-06-10T18:55:00+02:00"),
        ));
    }
    timed.push((
        Command::OpenMeeting { meeting: meeting(), chair, appointed_by_meeting: false },
        t("2026-06-10T19:00:00+02:00"),
    ));
    timed.push((
        Command::OpenPoll {
            meeting: meeting(),
            poll: PollId::named("p"),
            item: item(),
            method: PollMethod::Electronic,
            by: chair,
            revote_of: None,
        },
        t("2026-06-10T19:05:00+02:00"),
    ));
    let outcomes = service.execute_many(coop(), timed, Notices::Queue).unwrap_or_else(|e| panic!("{e}"));
    for outcome in outcomes {
        outcome.unwrap_or_else(|e| panic!("a set-up command was refused: {e}"));
    }
    service
}

/// Voter `i`'s ballot, signed with its key at `sequence`.
fn ballot(service: &Service, i: usize, choice: Choice, sequence: u64) -> Command {
    let key = author::scenario_key(person(i));
    let mut command = Command::CastBallot {
        meeting: meeting(),
        item: item(),
        member: member(i),
        person: person(i),
        choice,
        signed: None,
    };
    let statement = service
        .read(coop(), |s| author::statement_for(s, &command, sequence).map(|(_, st)| st))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("nothing to sign"));
    if let Command::CastBallot { signed, .. } = &mut command {
        *signed = Some(Signed {
            key: author::key_bytes(&key),
            sequence,
            signature: SignatureBytes::from(signature::sign(&key, &statement.to_bytes())),
        });
    }
    command
}

fn heads_of_meeting(service: &Service) -> usize {
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    log::read_heads(&mut conn, coop(), &meeting().to_string()).unwrap_or_else(|e| panic!("{e}")).len()
}

fn meeting_log_len(service: &Service) -> usize {
    service.meeting_log(coop(), meeting()).unwrap_or_else(|e| panic!("{e}")).len()
}

both_backends!(a_batch_decides_each_command_on_the_state_of_the_ones_before_and_signs_one_head, |db| {
    let service = open_poll(db, 6);
    let (heads_before, log_before) = (heads_of_meeting(&service), meeting_log_len(&service));
    let at = t(VOTE);
    // Voter 0 votes twice in the batch (sequence 2, then 3), then replays sequence 3: the
    // third is refused because the state already holds the second. Voter 5's ballot carries
    // voter 4's signature: refused (R8). The others are accepted.
    let mut forged = ballot(&service, 4, Choice::For, 2);
    if let Command::CastBallot { member: m, person: p, .. } = &mut forged {
        *m = member(5);
        *p = person(5);
    }
    let commands = vec![
        (ballot(&service, 0, Choice::Against, 2), at),
        (ballot(&service, 1, Choice::For, 2), at),
        (ballot(&service, 0, Choice::For, 3), at),
        (ballot(&service, 0, Choice::Against, 3), at),
        (forged, at),
        (ballot(&service, 2, Choice::For, 2), at),
    ];
    let outcomes = service.execute_many(coop(), commands, Notices::Queue).unwrap_or_else(|e| panic!("{e}"));
    let refused: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Err(ServiceError::Refused(_))))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(refused, vec![3, 4], "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Ok(_) | Err(ServiceError::Refused(_)))), "{outcomes:?}");
    assert_eq!(meeting_log_len(&service), log_before + 4, "only the accepted ballots are logged");
    assert_eq!(heads_of_meeting(&service), heads_before + 1, "one signed head for the batch");
    // The state holds voter 0's second ballot.
    let choice = service
        .read(coop(), |s| {
            s.meetings[&meeting()].polls[&PollId::named("p")].ballots.get(&member(0)).map(|b| b.choice)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(choice, Some(Choice::For));
});

both_backends!(concurrent_callers_each_get_a_receipt_that_verifies_after_the_commit, |db| {
    let service = Arc::new(open_poll(db, 24));
    let log_before = meeting_log_len(&service);
    let ballots: Vec<Command> = (0..24).map(|i| ballot(&service, i, Choice::For, 2)).collect();
    let handles: Vec<_> = ballots
        .into_iter()
        .map(|command| {
            let service = Arc::clone(&service);
            std::thread::spawn(move || {
                service.execute_with_receipts(coop(), command, t(VOTE), Notices::Queue)
            })
        })
        .collect();
    let key = service.public_key();
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    for h in handles {
        let committed =
            h.join().unwrap_or_else(|_| panic!("a caller panicked")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(committed.logged.len(), committed.receipts.len());
        for (logged, receipt) in committed.logged.iter().zip(&committed.receipts) {
            // The receipt's head is stored and signed, and the event is in its tree: the caller
            // heard back only after the commit that made both durable.
            assert_eq!(receipt.tree_head.verify(&key), Ok(()));
            let stored = log::read_head(&mut conn, coop(), &logged.stream, Some(receipt.tree_head.head.size))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored.as_ref(), Some(&receipt.tree_head));
            assert_eq!(receipt.leaf_hash, log::leaf_of(coop(), logged));
            verify_inclusion(
                &receipt.leaf_hash,
                receipt.leaf_index,
                receipt.tree_head.head.size,
                &receipt.inclusion_proof,
                &receipt.tree_head.head.root,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    drop(conn);
    assert_eq!(meeting_log_len(&service), log_before + 24);
    let log = service.meeting_log(coop(), meeting()).unwrap_or_else(|e| panic!("{e}"));
    assert!(log.iter().enumerate().all(|(i, l)| l.stream_index == i as i64), "one gapless stream");
});

both_backends!(a_failed_batch_stores_nothing_fails_every_caller_and_the_cache_is_rebuilt, |db| {
    let service = open_poll(db, 5);
    let (heads_before, log_before) = (heads_of_meeting(&service), meeting_log_len(&service));
    // The projection of member 3's ballot fails inside the transaction.
    let m3 = member(3).to_string();
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let sql: Vec<String> = if db.url.starts_with("postgres") {
        vec![
            "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql".into(),
            format!("CREATE TRIGGER injected BEFORE INSERT ON ballots FOR EACH ROW WHEN (NEW.member_id = '{m3}') EXECUTE FUNCTION injected_failure()"),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER injected BEFORE INSERT ON ballots WHEN NEW.member_id = '{m3}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )]
    };
    for statement in &sql {
        diesel::sql_query(statement.as_str())
            .execute(&mut *conn)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let commands: Vec<(Command, Instant)> =
        (0..5).map(|i| (ballot(&service, i, Choice::For, 2), t(VOTE))).collect();
    let outcomes =
        service.execute_many(coop(), commands.clone(), Notices::Queue).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcomes.len(), 5);
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Err(ServiceError::Store(_))),
            "every caller hears of the failure: {outcome:?}"
        );
    }
    assert_eq!(meeting_log_len(&service), log_before, "nothing of the batch is stored");
    assert_eq!(heads_of_meeting(&service), heads_before);
    // The state the failed batch had folded in is gone: the very same ballots (the same
    // sequence numbers) are accepted once the failure is removed.
    diesel::sql_query("DROP TRIGGER injected ON ballots")
        .execute(&mut *conn)
        .or_else(|_| diesel::sql_query("DROP TRIGGER injected").execute(&mut *conn))
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    let outcomes = service.execute_many(coop(), commands, Notices::Queue).unwrap_or_else(|e| panic!("{e}"));
    for outcome in outcomes {
        outcome.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(meeting_log_len(&service), log_before + 5);
});

both_backends!(
    callers_that_await_and_callers_that_block_share_batches_and_a_dropped_waiter_is_carried_out,
    |db| {
        let service = Arc::new(open_poll(db, 25));
        let log_before = meeting_log_len(&service);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let submit = |command: Command| {
            service
                .submit(coop(), command, t(VOTE), Notices::Queue)
                .unwrap_or_else(|_| panic!("the association's state is in memory"))
        };
        let mut ballots =
            (0..25).map(|i| ballot(&service, i, Choice::Against, 2)).collect::<Vec<_>>().into_iter();
        // A caller that goes away before its answer, with nobody else writing: its ballot is
        // stored all the same, once.
        let gone = ballots.next().unwrap_or_else(|| panic!("25 ballots"));
        runtime.block_on(async { drop(submit(gone)) });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while meeting_log_len(&service) < log_before + 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(meeting_log_len(&service), log_before + 1, "the ballot of a caller that went away");
        // Twelve callers await their outcome on the runtime, twelve block a thread each, all at
        // once.
        let awaited: Vec<_> =
            ballots.by_ref().take(12).map(|command| runtime.spawn(submit(command).outcome())).collect();
        let blocked: Vec<_> = ballots
            .map(|command| {
                let service = Arc::clone(&service);
                std::thread::spawn(move || {
                    service.execute_with_receipts(coop(), command, t(VOTE), Notices::Queue)
                })
            })
            .collect();
        let key = service.public_key();
        let mut outcomes = Vec::new();
        for handle in awaited {
            let joined = runtime.block_on(handle).unwrap_or_else(|e| panic!("{e}"));
            outcomes.push(joined.unwrap_or_else(|e| panic!("the writer's thread failed: {e}")));
        }
        for handle in blocked {
            outcomes.push(handle.join().unwrap_or_else(|_| panic!("a caller panicked")));
        }
        assert_eq!(outcomes.len(), 24);
        for outcome in outcomes {
            let committed = outcome.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(committed.receipts.len(), 1);
            assert_eq!(committed.receipts[0].tree_head.verify(&key), Ok(()));
        }
        assert_eq!(meeting_log_len(&service), log_before + 25);
        let against = service
            .read(coop(), |s| {
                s.meetings[&meeting()].polls[&PollId::named("p")]
                    .ballots
                    .values()
                    .filter(|b| b.choice == Choice::Against)
                    .count()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(against, 25);
        // A service that has not read the association yet gives the command back: reading the
        // state blocks, which an awaiting caller must not do on its own thread.
        let fresh = Arc::new(Service::new(
            Store::open(&db.url).unwrap_or_else(|e| panic!("{e}")),
            SigningKey::from_bytes(&[9u8; 32]),
        ));
        let command = ballot(&service, 0, Choice::For, 3);
        assert!(fresh.submit(coop(), command, t(VOTE), Notices::Queue).is_err());
    }
);

both_backends!(a_key_met_before_does_not_let_a_signature_through_that_does_not_verify, |db| {
    // The service keeps the keys of ballots it verified, decoded; it still verifies every
    // signature: a ballot under such a key with a broken signature is refused (R8), and the
    // voter's next good ballot is accepted.
    let service = open_poll(db, 3);
    let log_before = meeting_log_len(&service);
    let cast = |command: Command| service.execute_with_receipts(coop(), command, t(VOTE), Notices::Queue);
    cast(ballot(&service, 1, Choice::For, 2)).unwrap_or_else(|e| panic!("{e}"));
    let mut broken = ballot(&service, 1, Choice::Against, 3);
    if let Command::CastBallot { signed: Some(signed), .. } = &mut broken {
        signed.signature.0[5] ^= 1;
    }
    match cast(broken) {
        Err(ServiceError::Refused(v)) => assert!(v.to_string().contains("R8"), "{v}"),
        other => panic!("a broken signature under a known key was not refused: {other:?}"),
    }
    // The same key signing for another member's ballot: refused too.
    let mut borrowed = ballot(&service, 1, Choice::Against, 3);
    if let Command::CastBallot { member: m, person: p, .. } = &mut borrowed {
        *m = member(2);
        *p = person(2);
    }
    assert!(matches!(cast(borrowed), Err(ServiceError::Refused(_))));
    cast(ballot(&service, 1, Choice::Against, 3)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(meeting_log_len(&service), log_before + 2, "only the two good ballots are logged");
    let choice = service
        .read(coop(), |s| {
            s.meetings[&meeting()].polls[&PollId::named("p")].ballots.get(&member(1)).map(|b| b.choice)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(choice, Some(Choice::Against));
});
