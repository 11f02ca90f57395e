//! Projections: after an event has been folded into the state, the rows it touched are written
//! from that state, in the same transaction as the event. Writing rows from the folded state
//! (rather than interpreting the event a second time) keeps the tables exactly what the core
//! sees. A row is replaced by deleting and inserting it, which both backends do alike; ballots,
//! the rows written most often, are upserted instead (each backend's own statement), and a
//! [`Projector`] writes the ballots of a run of `BallotCast` events in one statement.

use diesel::prelude::*;
use serde::Serialize;

use super::log::ROWS_PER_STATEMENT;
use super::rows::*;
use super::schema::*;
use super::{DbConnection, StoreError};
use crate::core::{
    AgendaItemId, Association, AttendsAs, Event, Fact, Meeting, MeetingId, MemberId, PersonId, PollId,
    ProxyHolder, ProxyId, ResolutionId, Via,
};

/// The fixed text code of an enum value: its serde name, e.g. `statute_amendment`.
pub fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn utc(t: crate::core::Instant) -> chrono::NaiveDateTime {
    t.naive_utc()
}

/// Writes the rows of a batch's events, holding back the ballots of a run of `BallotCast`
/// events to write them in one statement: at the next event of another kind, or at
/// [`Projector::flush`], which the batch calls before it commits. Rows are still written from
/// the state after each event, in the events' order.
#[derive(Debug, Default)]
pub struct Projector {
    association: String,
    ballots: std::collections::HashMap<BallotKey, Option<BallotRow>>,
}

impl Projector {
    pub fn new(association: &str) -> Self {
        Self { association: association.to_owned(), ballots: Default::default() }
    }

    /// As [`project`], for the projector's association.
    pub fn project(
        &mut self,
        conn: &mut DbConnection,
        state: &Association,
        event: &Event,
    ) -> Result<(), StoreError> {
        if let Fact::BallotCast { meeting, poll, item, ballot } = &event.fact {
            let (key, row) = ballot_row(&self.association, state, *meeting, *poll, *item, ballot.member)?;
            self.ballots.insert(key, row);
            return Ok(());
        }
        self.flush(conn)?;
        project(conn, &self.association, state, event)
    }

    /// Writes the ballots held back.
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<(), StoreError> {
        if self.ballots.is_empty() {
            return Ok(());
        }
        write_ballots(conn, &self.association, std::mem::take(&mut self.ballots))
    }
}

/// Writes the rows that `event` changed, reading them from `state` (which already holds the
/// event).
pub fn project(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    event: &Event,
) -> Result<(), StoreError> {
    match &event.fact {
        Fact::MemberRegistered { member } => member_row(conn, a, state, member.id),
        Fact::MemberAddressChanged { member, .. }
        | Fact::MemberSuspended { member }
        | Fact::MemberReinstated { member } => member_row(conn, a, state, *member),
        Fact::PersonRegistered { person } => person_row(conn, a, state, person.id),
        Fact::RepresentativeAssigned { person, member, .. }
        | Fact::RepresentativeWithdrawn { person, member } => {
            representative_row(conn, a, state, *person, *member)
        }
        // Keys are read from the folded state; no table projects them.
        Fact::KeyEnrolled { .. } | Fact::KeyRotated { .. } | Fact::KeyRevoked { .. } => Ok(()),
        Fact::SupervisoryBoardChairAppointed { person, deputy } => {
            let role = if *deputy { "deputy" } else { "chair" };
            diesel::delete(
                supervisory_board::table
                    .filter(supervisory_board::association_id.eq(a))
                    .filter(supervisory_board::role.eq(role)),
            )
            .execute(conn)?;
            diesel::insert_into(supervisory_board::table)
                .values(SupervisoryBoardRow {
                    association_id: a.to_owned(),
                    role: role.into(),
                    person_id: person.to_string(),
                })
                .execute(conn)?;
            Ok(())
        }
        Fact::MeetingRequested { request } => {
            let row = MembersRequestRow {
                association_id: a.to_owned(),
                id: request.id.to_string(),
                requested_at: utc(request.at),
                members: serde_json::to_string(&request.members).unwrap_or_default(),
                subjects: serde_json::to_string(&request.subjects).unwrap_or_default(),
                board_deadline: request.board_deadline.to_string(),
            };
            diesel::insert_into(members_requests::table).values(row).execute(conn)?;
            Ok(())
        }
        Fact::MeetingCreated { meeting, .. } => {
            meeting_row(conn, a, state, *meeting)?;
            agenda_rows(conn, a, state, *meeting)
        }
        Fact::MeetingConvened { meeting, .. }
        | Fact::MeetingOpened { meeting, .. }
        | Fact::ChairAppointed { meeting, .. } => meeting_row(conn, a, state, *meeting),
        Fact::MeetingClosed { meeting } => {
            meeting_row(conn, a, state, *meeting)?;
            let members: Vec<MemberId> = state
                .meetings
                .get(meeting)
                .map(|m| m.attendance.keys().copied().collect())
                .unwrap_or_default();
            for member in members {
                attendance_rows(conn, a, state, *meeting, member)?;
            }
            Ok(())
        }
        Fact::MotionAmended { meeting, item, lapsed_advance_ballots, .. } => {
            agenda_rows(conn, a, state, *meeting)?;
            if *lapsed_advance_ballots > 0 {
                diesel::delete(
                    ballots::table
                        .filter(ballots::association_id.eq(a))
                        .filter(ballots::meeting_id.eq(meeting.to_string()))
                        .filter(ballots::item_id.eq(item.to_string()))
                        .filter(ballots::ballot_box.eq(ADVANCE)),
                )
                .execute(conn)?;
            }
            Ok(())
        }
        Fact::ProxyGranted { meeting, proxy } => proxy_row(conn, a, state, *meeting, proxy.id),
        Fact::ProxyRevoked { meeting, proxy } => proxy_row(conn, a, state, *meeting, *proxy),
        Fact::CheckedIn { meeting, member, .. } | Fact::CheckedOut { meeting, member } => {
            attendance_rows(conn, a, state, *meeting, *member)
        }
        Fact::PollOpened { meeting, poll, .. }
        | Fact::PollVoided { meeting, poll, .. }
        | Fact::ResultDeclared { meeting, poll, .. }
        | Fact::DeclarationChallenged { meeting, poll, .. } => poll_row(conn, a, state, *meeting, *poll),
        Fact::BallotCast { meeting, poll, item, ballot } => {
            let (key, row) = ballot_row(a, state, *meeting, *poll, *item, ballot.member)?;
            write_ballots(conn, a, [(key, row)])
        }
        Fact::PollClosed { meeting, poll, .. } => {
            poll_row(conn, a, state, *meeting, *poll)?;
            result_row(conn, a, state, *meeting, *poll)
        }
        Fact::ResolutionProposed { resolution, .. } | Fact::ResolutionConcluded { resolution, .. } => {
            resolution_row(conn, a, state, *resolution)
        }
        Fact::ResolutionVoteCast { resolution, ballot } => {
            let id = resolution.to_string();
            let member = ballot.member.to_string();
            diesel::delete(
                resolution_votes::table
                    .filter(resolution_votes::association_id.eq(a))
                    .filter(resolution_votes::resolution_id.eq(&id))
                    .filter(resolution_votes::member_id.eq(&member)),
            )
            .execute(conn)?;
            diesel::insert_into(resolution_votes::table)
                .values(ResolutionVoteRow {
                    association_id: a.to_owned(),
                    resolution_id: id,
                    member_id: member,
                    person_id: ballot.person.to_string(),
                    choice: code(&ballot.choice),
                    cast_at: utc(ballot.cast_at),
                })
                .execute(conn)?;
            Ok(())
        }
    }
}

const ADVANCE: &str = "advance";

fn member_row(conn: &mut DbConnection, a: &str, state: &Association, id: MemberId) -> Result<(), StoreError> {
    diesel::delete(
        members::table.filter(members::association_id.eq(a)).filter(members::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if let Some(m) = state.register.member(id) {
        diesel::insert_into(members::table)
            .values(MemberRow {
                association_id: a.to_owned(),
                id: id.to_string(),
                name: m.name.clone(),
                kind: code(&m.kind),
                email: m.email.as_ref().map(|e| e.to_string()),
                language: code(&m.language),
                suspended: m.suspended,
            })
            .execute(conn)?;
    }
    Ok(())
}

fn person_row(conn: &mut DbConnection, a: &str, state: &Association, id: PersonId) -> Result<(), StoreError> {
    diesel::delete(
        persons::table.filter(persons::association_id.eq(a)).filter(persons::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if let Some(p) = state.register.person(id) {
        diesel::insert_into(persons::table)
            .values(PersonRow {
                association_id: a.to_owned(),
                id: id.to_string(),
                name: p.name.clone(),
                email: p.email.as_ref().map(|e| e.to_string()),
                profession: p.profession.as_ref().map(code),
            })
            .execute(conn)?;
    }
    Ok(())
}

fn representative_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    person: PersonId,
    member: MemberId,
) -> Result<(), StoreError> {
    diesel::delete(
        representatives::table
            .filter(representatives::association_id.eq(a))
            .filter(representatives::person_id.eq(person.to_string()))
            .filter(representatives::member_id.eq(member.to_string())),
    )
    .execute(conn)?;
    if let Some(capacity) = state.register.representatives.get(&(person, member)) {
        diesel::insert_into(representatives::table)
            .values(RepresentativeRow {
                association_id: a.to_owned(),
                person_id: person.to_string(),
                member_id: member.to_string(),
                capacity: code(capacity),
            })
            .execute(conn)?;
    }
    Ok(())
}

fn meeting_of(state: &Association, id: MeetingId) -> Result<&Meeting, StoreError> {
    state
        .meetings
        .get(&id)
        .ok_or_else(|| StoreError::Corrupt { seq: 0, reason: format!("meeting {id} is not in the state") })
}

fn meeting_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    id: MeetingId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, id)?;
    diesel::delete(
        meetings::table.filter(meetings::association_id.eq(a)).filter(meetings::id.eq(id.to_string())),
    )
    .execute(conn)?;
    diesel::insert_into(meetings::table)
        .values(MeetingRow {
            association_id: a.to_owned(),
            id: id.to_string(),
            title: m.title.clone(),
            starts_at: utc(m.starts_at),
            place: m.place.clone(),
            phase: code(&m.phase),
            follow_up_of: m.follow_up_of.map(|f| f.to_string()),
            convened_at: m.convocation.as_ref().map(|c| utc(c.at)),
            advance_voting_opens: m.advance_window().map(|w| utc(w.opens)),
            electronic_participation: m.convocation.as_ref().and_then(|c| c.electronic_participation.clone()),
            opened_at: m.opened_at.map(utc),
            closed_at: m.closed_at.map(utc),
            chair_id: m.chair.map(|c| c.to_string()),
        })
        .execute(conn)?;
    Ok(())
}

fn agenda_rows(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    id: MeetingId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, id)?;
    diesel::delete(
        agenda_items::table
            .filter(agenda_items::association_id.eq(a))
            .filter(agenda_items::meeting_id.eq(id.to_string())),
    )
    .execute(conn)?;
    let rows: Vec<AgendaItemRow> = m
        .agenda
        .iter()
        .enumerate()
        .map(|(position, item)| AgendaItemRow {
            association_id: a.to_owned(),
            meeting_id: id.to_string(),
            id: item.id.to_string(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
            title: item.title.clone(),
            motion: item.motion.as_ref().map(|mo| mo.text.clone()),
            decision_kind: item.motion.as_ref().map(|mo| code(&mo.kind)),
            carried_from: item.carried_from.map(|c| c.to_string()),
        })
        .collect();
    for row in rows {
        diesel::insert_into(agenda_items::table).values(row).execute(conn)?;
    }
    Ok(())
}

fn proxy_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    meeting: MeetingId,
    id: ProxyId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, meeting)?;
    diesel::delete(
        proxies::table
            .filter(proxies::association_id.eq(a))
            .filter(proxies::meeting_id.eq(meeting.to_string()))
            .filter(proxies::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if let Some(p) = m.proxies.get(&id) {
        let (holder_kind, holder_id) = match p.holder {
            ProxyHolder::Member { member } => ("member", member.to_string()),
            ProxyHolder::ConnectedPerson { person } => ("connected_person", person.to_string()),
            ProxyHolder::SupervisoryBoardChair { person } => ("supervisory_board_chair", person.to_string()),
            ProxyHolder::Notary { person } => ("notary", person.to_string()),
            ProxyHolder::Lawyer { person } => ("lawyer", person.to_string()),
        };
        diesel::insert_into(proxies::table)
            .values(ProxyRow {
                association_id: a.to_owned(),
                meeting_id: meeting.to_string(),
                id: id.to_string(),
                grantor_id: p.grantor.to_string(),
                holder_kind: holder_kind.into(),
                holder_id,
                form: code(&p.form),
                instructions: serde_json::to_string(&p.instructions).unwrap_or_default(),
                received_at: utc(p.received_at),
                revoked_at: p.revoked_at.map(utc),
            })
            .execute(conn)?;
    }
    Ok(())
}

fn attendance_rows(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    meeting: MeetingId,
    member: MemberId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, meeting)?;
    diesel::delete(
        attendance::table
            .filter(attendance::association_id.eq(a))
            .filter(attendance::meeting_id.eq(meeting.to_string()))
            .filter(attendance::member_id.eq(member.to_string())),
    )
    .execute(conn)?;
    let rows: Vec<AttendanceRow> = m
        .attendance
        .get(&member)
        .map(|spans| {
            spans
                .iter()
                .enumerate()
                .map(|(stretch, span)| AttendanceRow {
                    association_id: a.to_owned(),
                    meeting_id: meeting.to_string(),
                    member_id: member.to_string(),
                    stretch: i32::try_from(stretch).unwrap_or(i32::MAX),
                    person_id: span.person.to_string(),
                    proxy_id: match span.attends_as {
                        AttendsAs::Own => None,
                        AttendsAs::Proxy { proxy } => Some(proxy.to_string()),
                    },
                    mode: code(&span.mode),
                    arrived_at: utc(span.arrived),
                    left_at: span.left.map(utc),
                })
                .collect()
        })
        .unwrap_or_default();
    for row in rows {
        diesel::insert_into(attendance::table).values(row).execute(conn)?;
    }
    Ok(())
}

fn poll_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    meeting: MeetingId,
    id: PollId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, meeting)?;
    diesel::delete(
        polls::table
            .filter(polls::association_id.eq(a))
            .filter(polls::meeting_id.eq(meeting.to_string()))
            .filter(polls::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if let Some(p) = m.polls.get(&id) {
        diesel::insert_into(polls::table)
            .values(PollRow {
                association_id: a.to_owned(),
                meeting_id: meeting.to_string(),
                id: id.to_string(),
                item_id: p.item.to_string(),
                method: code(&p.method),
                opened_at: utc(p.opened_at),
                closed_at: p.closed_at.map(utc),
                revote_of: p.revote_of.map(|r| r.to_string()),
                voided_by: p.voided_by.map(|v| v.to_string()),
                declared_outcome: p.declaration.as_ref().map(|d| code(&d.outcome)),
                declared_at: p.declaration.as_ref().map(|d| utc(d.at)),
                challenged_at: p.challenge.as_ref().map(|c| utc(c.at)),
            })
            .execute(conn)?;
    }
    Ok(())
}

/// A ballot row's primary key: meeting, agenda item, ballot box (the poll, or `advance`) and
/// member, in an association.
type BallotKey = (String, String, String, String);

/// The row of a member's ballot in a ballot box as `state` holds it, or `None` when it holds
/// none there (the row goes).
fn ballot_row(
    a: &str,
    state: &Association,
    meeting: MeetingId,
    poll: Option<PollId>,
    item: AgendaItemId,
    member: MemberId,
) -> Result<(BallotKey, Option<BallotRow>), StoreError> {
    let m = meeting_of(state, meeting)?;
    let ballot_box = poll.map_or_else(|| ADVANCE.to_owned(), |p| p.to_string());
    let key = (meeting.to_string(), item.to_string(), ballot_box, member.to_string());
    let ballot = match poll {
        Some(p) => m.polls.get(&p).and_then(|p| p.ballots.get(&member)),
        None => m.advance_ballots.get(&item).and_then(|b| b.get(&member)),
    };
    let row = ballot.map(|b| {
        let (via, proxy_id) = match b.via {
            Via::Own => ("own", None),
            Via::Proxy { proxy } => ("proxy", Some(proxy.to_string())),
            Via::Advance => ("advance", None),
        };
        BallotRow {
            association_id: a.to_owned(),
            meeting_id: key.0.clone(),
            item_id: key.1.clone(),
            ballot_box: key.2.clone(),
            member_id: key.3.clone(),
            person_id: b.person.to_string(),
            choice: code(&b.choice),
            via: via.into(),
            proxy_id,
            cast_at: utc(b.cast_at),
        }
    });
    Ok((key, row))
}

/// Writes ballot rows: the ones the state holds are upserted, [`ROWS_PER_STATEMENT`] to a
/// statement; the others are deleted. The keys are distinct.
fn write_ballots(
    conn: &mut DbConnection,
    a: &str,
    ballots: impl IntoIterator<Item = (BallotKey, Option<BallotRow>)>,
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for ((meeting, item, ballot_box, member), row) in ballots {
        match row {
            Some(row) => rows.push(row),
            None => {
                diesel::delete(
                    ballots::table
                        .filter(ballots::association_id.eq(a))
                        .filter(ballots::meeting_id.eq(meeting))
                        .filter(ballots::item_id.eq(item))
                        .filter(ballots::ballot_box.eq(ballot_box))
                        .filter(ballots::member_id.eq(member)),
                )
                .execute(conn)?;
            }
        }
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // The multi-backend connection has no upsert; each backend's own has.
        match conn {
            DbConnection::Sqlite(c) => diesel::replace_into(ballots::table).values(chunk).execute(c)?,
            DbConnection::Postgresql(c) => {
                use diesel::upsert::excluded;
                diesel::insert_into(ballots::table)
                    .values(chunk)
                    .on_conflict((
                        ballots::association_id,
                        ballots::meeting_id,
                        ballots::item_id,
                        ballots::ballot_box,
                        ballots::member_id,
                    ))
                    .do_update()
                    .set((
                        ballots::person_id.eq(excluded(ballots::person_id)),
                        ballots::choice.eq(excluded(ballots::choice)),
                        ballots::via.eq(excluded(ballots::via)),
                        ballots::proxy_id.eq(excluded(ballots::proxy_id)),
                        ballots::cast_at.eq(excluded(ballots::cast_at)),
                    ))
                    .execute(c)?
            }
        };
    }
    Ok(())
}

fn result_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    meeting: MeetingId,
    poll: PollId,
) -> Result<(), StoreError> {
    let m = meeting_of(state, meeting)?;
    let Some(r) = m.polls.get(&poll).and_then(|p| p.result.as_ref()) else { return Ok(()) };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    diesel::delete(
        results::table
            .filter(results::association_id.eq(a))
            .filter(results::meeting_id.eq(meeting.to_string()))
            .filter(results::poll_id.eq(poll.to_string())),
    )
    .execute(conn)?;
    diesel::insert_into(results::table)
        .values(ResultRow {
            association_id: a.to_owned(),
            meeting_id: meeting.to_string(),
            poll_id: poll.to_string(),
            item_id: r.item.to_string(),
            outcome: code(&r.outcome),
            votes_for: count(r.counts.in_favour),
            votes_against: count(r.counts.against),
            abstentions: count(r.counts.abstain),
            votes_cast: count(r.votes_cast),
            members_in_office: count(r.quorum.members_in_office),
            present_or_represented: count(r.presence.total()),
            quorum_needed: count(r.quorum.needed),
            quorum_met: r.quorum.met,
            majority_needed: count(r.majority.needed_for),
            decided_by_rule: r.decided_by.rule.to_string(),
            decided_by_article: r.decided_by.article.clone(),
            explanation: r.explanation.clone(),
            taken_at: utc(r.taken_at),
            body: serde_json::to_string(r).unwrap_or_default(),
        })
        .execute(conn)?;
    Ok(())
}

fn resolution_row(
    conn: &mut DbConnection,
    a: &str,
    state: &Association,
    id: ResolutionId,
) -> Result<(), StoreError> {
    diesel::delete(
        resolutions::table
            .filter(resolutions::association_id.eq(a))
            .filter(resolutions::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if let Some(r) = state.resolutions.get(&id) {
        diesel::insert_into(resolutions::table)
            .values(ResolutionRow {
                association_id: a.to_owned(),
                id: id.to_string(),
                text: r.text.clone(),
                decision_kind: code(&r.kind),
                proposed_at: utc(r.proposed_at),
                closes_at: utc(r.closes_at),
                outcome: r.result.as_ref().map(|res| code(&res.outcome)),
                explanation: r.result.as_ref().map(|res| res.explanation.clone()),
            })
            .execute(conn)?;
    }
    Ok(())
}
