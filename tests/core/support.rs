//! A small association for tests: `n` municipalities, each with one representative, the
//! chair of the supervisory board, a notary and a lawyer; and a standard meeting.
#![allow(dead_code)]

use stembus::core::register::{Capacity, MemberKind, Profession};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Association, Choice, Command, Convener, DecisionKind, Event, Instant,
    MeetingId, MemberId, Mode, MotionSpec, PersonId, PollId, PollMethod, PollResult, ProxyForm, ProxyHolder,
    ProxyId, RuleId, RuleViolation, RulesProfile, execute,
};
use stembus::ledger::author::with_scenario_signatures;

/// A moment from RFC 3339 text, e.g. `t("2026-06-10T19:00:00+02:00")`.
pub fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("bad moment {text}: {e}"))
}

pub fn member(i: usize) -> MemberId {
    MemberId::named(&format!("m{i}"))
}

pub fn rep(i: usize) -> PersonId {
    PersonId::named(&format!("p{i}"))
}

pub fn chair() -> PersonId {
    PersonId::named("chair")
}

pub fn notary() -> PersonId {
    PersonId::named("notary")
}

pub fn lawyer() -> PersonId {
    PersonId::named("lawyer")
}

pub const ALV: &str = "alv";
pub const MOTION: &str = "motion";

pub fn alv() -> MeetingId {
    MeetingId::named(ALV)
}

pub fn motion() -> AgendaItemId {
    AgendaItemId::named(MOTION)
}

pub fn poll(name: &str) -> PollId {
    PollId::named(name)
}

/// The standard meeting: Wednesday 10 June 2026, 19:00 in Amsterdam (summer time).
pub const MEETING_STARTS: &str = "2026-06-10T19:00:00+02:00";
/// A convocation 21 days before: enough for every kind of decision.
pub const CONVENED_AT: &str = "2026-05-20T10:00:00+02:00";

pub struct Fixture {
    pub state: Association,
    pub now: Instant,
    pub members: usize,
}

impl Fixture {
    /// An association of `members` members under the Dimpact 2023 profile.
    pub fn new(members: usize) -> Self {
        Self::with_profile(members, RulesProfile::dimpact_2023())
    }

    pub fn with_profile(members: usize, profile: RulesProfile) -> Self {
        let mut f =
            Fixture { state: Association::new(profile), now: t("2026-01-05T09:00:00+01:00"), members };
        for i in 1..=members {
            f.run(Command::RegisterMember {
                member: member(i),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: format!("alv@gemeente{i}.example.org").parse().ok(),
                language: Default::default(),
            });
            f.run(Command::RegisterPerson {
                person: rep(i),
                name: format!("Wethouder {i}"),
                email: None,
                profession: None,
            });
            f.run(Command::AssignRepresentative {
                person: rep(i),
                member: member(i),
                capacity: Capacity::PortfolioHolder,
            });
        }
        f.run(Command::RegisterPerson {
            person: chair(),
            name: "Voorzitter RvC".into(),
            email: None,
            profession: None,
        });
        f.run(Command::AppointSupervisoryBoardChair { person: chair(), deputy: false });
        f.run(Command::RegisterPerson {
            person: notary(),
            name: "Notaris".into(),
            email: None,
            profession: Some(Profession::Notary),
        });
        f.run(Command::RegisterPerson {
            person: lawyer(),
            name: "Advocaat".into(),
            email: None,
            profession: Some(Profession::Lawyer),
        });
        f
    }

    pub fn at(&mut self, moment: &str) -> &mut Self {
        self.now = t(moment);
        self
    }

    /// Runs a command that must be accepted.
    /// Runs a command, signed by its author's scenario key (enrolled on first use) when it
    /// needs a signature.
    pub fn run(&mut self, command: Command) -> Vec<Event> {
        let command = self.signed(command);
        self.run_as_is(command)
    }

    /// Runs a command exactly as given, without signing it.
    pub fn run_as_is(&mut self, command: Command) -> Vec<Event> {
        let shown = format!("{command:?}");
        execute(&mut self.state, command, self.now)
            .unwrap_or_else(|v| panic!("refused: {v}\ncommand: {shown}"))
    }

    /// The command signed as `run` signs it; the author's key is enrolled first if need be.
    pub fn signed(&mut self, command: Command) -> Command {
        let (enrolment, command) = with_scenario_signatures(&self.state, command);
        if let Some(enrolment) = enrolment {
            self.run_as_is(enrolment);
        }
        command
    }

    /// Runs a command that must be refused, signed as `run` signs it, checks that the refusal
    /// changed nothing, and returns the violation.
    pub fn refuse(&mut self, command: Command) -> RuleViolation {
        let command = self.signed(command);
        self.refuse_as_is(command)
    }

    /// [`Fixture::refuse`] for a command exactly as given, without signing it.
    pub fn refuse_as_is(&mut self, command: Command) -> RuleViolation {
        let before = self.state.clone();
        let shown = format!("{command:?}");
        match execute(&mut self.state, command, self.now) {
            Ok(events) => panic!("accepted, but should have been refused: {shown}\nevents: {events:?}"),
            Err(v) => {
                assert_eq!(self.state, before, "a refused command changed the state");
                v
            }
        }
    }

    /// Creates the standard meeting with one motion of `kind` (with a proposal and board
    /// approval where the kind needs them), starting at `starts_at`.
    pub fn create_meeting(&mut self, kind: DecisionKind, starts_at: &str) {
        self.run(create_meeting_command(ALV, kind, starts_at));
    }

    /// Creates and convenes the standard meeting (advance voting and electronic
    /// participation open), 21 days ahead.
    pub fn convened(&mut self, kind: DecisionKind) {
        self.at(CONVENED_AT);
        self.create_meeting(kind, MEETING_STARTS);
        self.run(Command::ConveneMeeting {
            meeting: alv(),
            by: Convener::Board,
            advance_voting: true,
            electronic_participation: Some(
                "Via the video link in this convocation; identify with your Stembus key.".into(),
            ),
        });
    }

    /// Convenes the standard meeting, checks in members `1..=present` electronically at
    /// 18:50 and opens it at 19:00 with the chair of the supervisory board.
    pub fn opened(&mut self, kind: DecisionKind, present: usize) {
        self.convened(kind);
        self.at("2026-06-10T18:50:00+02:00");
        for i in 1..=present {
            self.check_in(i);
        }
        self.at("2026-06-10T19:00:00+02:00");
        self.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    }

    pub fn check_in(&mut self, i: usize) {
        self.run(Command::CheckIn {
            meeting: alv(),
            member: member(i),
            person: rep(i),
            mode: Mode::Electronic,
        });
    }

    pub fn grant_proxy(
        &mut self,
        name: &str,
        grantor: usize,
        holder: ProxyHolder,
    ) -> Result<Vec<Event>, RuleViolation> {
        let command = self.signed(Command::GrantProxy {
            meeting: alv(),
            proxy: ProxyId::named(name),
            grantor: member(grantor),
            holder,
            instructions: Default::default(),
            form: ProxyForm::Electronic,
            signed: None,
            scan_sha256: None,
        });
        execute(&mut self.state, command, self.now)
    }

    pub fn open_poll(&mut self, name: &str) {
        self.run(Command::OpenPoll {
            meeting: alv(),
            poll: poll(name),
            item: motion(),
            method: PollMethod::Electronic,
            by: chair(),
            revote_of: None,
        });
    }

    /// Member `i` votes through its own representative.
    pub fn vote(&mut self, i: usize, choice: Choice) {
        self.run(Command::CastBallot {
            meeting: alv(),
            item: motion(),
            member: member(i),
            person: rep(i),
            choice,
            signed: None,
        });
    }

    pub fn close_poll(&mut self, name: &str) -> PollResult {
        self.run(Command::ClosePoll { meeting: alv(), poll: poll(name), by: chair(), counts: None });
        self.result(name)
    }

    pub fn result(&self, name: &str) -> PollResult {
        self.state.meetings[&alv()].polls[&poll(name)]
            .result
            .clone()
            .unwrap_or_else(|| panic!("poll {name} has no result"))
    }

    /// Opens a poll, lets members vote as given (`for_`, `against`, `abstain` members in that
    /// order from member 1), closes it and returns the result.
    pub fn poll_with(&mut self, name: &str, for_: usize, against: usize, abstain: usize) -> PollResult {
        self.open_poll(name);
        let mut i = 1;
        for (n, choice) in [(for_, Choice::For), (against, Choice::Against), (abstain, Choice::Abstain)] {
            for _ in 0..n {
                self.vote(i, choice);
                i += 1;
            }
        }
        self.close_poll(name)
    }
}

pub fn create_meeting_command(meeting: &str, kind: DecisionKind, starts_at: &str) -> Command {
    let special = !matches!(kind, DecisionKind::Ordinary | DecisionKind::TwoThirds);
    Command::CreateMeeting {
        meeting: MeetingId::named(meeting),
        title: format!("Algemene ledenvergadering ({meeting})"),
        starts_at: t(starts_at),
        place: "Stadhuis, Raadzaal".into(),
        agenda: vec![
            AgendaItemSpec {
                item: AgendaItemId::named("opening"),
                title: "Opening".into(),
                motion: None,
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            },
            AgendaItemSpec {
                item: motion(),
                title: "Voorstel".into(),
                motion: Some(MotionSpec {
                    text: "Het voorstel wordt aangenomen.".into(),
                    kind,
                    proposal: special.then(|| "Ontwerp van de akte".into()),
                    board_proposal_approved: special,
                }),
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            },
        ],
        follow_up_of: None,
        request: None,
    }
}

/// Asserts that a violation names this rule, article and code.
#[track_caller]
pub fn assert_violation(v: &RuleViolation, rule: RuleId, article: &str, code: &str) {
    assert_eq!(
        (v.rule, v.article.as_str(), v.code.as_str()),
        (rule, article, code),
        "unexpected violation: {v}"
    );
    assert!(!v.message.is_empty());
}
