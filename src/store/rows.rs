//! Rows as the tables hold them. A row is never sent to a client: the HTTP layer has its own
//! types, and the core its own model.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub association_id: String,
    pub seq: i64,
    pub stream: String,
    pub stream_index: i64,
    pub at: NaiveDateTime,
    pub kind: String,
    pub body: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub association_id: String,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub email: Option<String>,
    pub language: String,
    pub suspended: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = persons)]
pub struct PersonRow {
    pub association_id: String,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub profession: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = representatives)]
pub struct RepresentativeRow {
    pub association_id: String,
    pub person_id: String,
    pub member_id: String,
    pub capacity: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub association_id: String,
    pub id: String,
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub place: String,
    pub phase: String,
    pub follow_up_of: Option<String>,
    pub convened_at: Option<NaiveDateTime>,
    pub advance_voting_opens: Option<NaiveDateTime>,
    pub electronic_participation: Option<String>,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub chair_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agenda_items)]
pub struct AgendaItemRow {
    pub association_id: String,
    pub meeting_id: String,
    pub id: String,
    pub position: i32,
    pub title: String,
    pub motion: Option<String>,
    pub decision_kind: Option<String>,
    pub carried_from: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = proxies)]
pub struct ProxyRow {
    pub association_id: String,
    pub meeting_id: String,
    pub id: String,
    pub grantor_id: String,
    pub holder_kind: String,
    pub holder_id: String,
    pub form: String,
    pub instructions: String,
    pub received_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attendance)]
pub struct AttendanceRow {
    pub association_id: String,
    pub meeting_id: String,
    pub member_id: String,
    pub stretch: i32,
    pub person_id: String,
    pub proxy_id: Option<String>,
    pub mode: String,
    pub arrived_at: NaiveDateTime,
    pub left_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = polls)]
pub struct PollRow {
    pub association_id: String,
    pub meeting_id: String,
    pub id: String,
    pub item_id: String,
    pub method: String,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub revote_of: Option<String>,
    pub voided_by: Option<String>,
    pub declared_outcome: Option<String>,
    pub declared_at: Option<NaiveDateTime>,
    pub challenged_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ballots)]
// `None` is NULL, not DEFAULT: rows of one statement then have one shape (SQLite's multi-row
// insert needs it).
#[diesel(treat_none_as_default_value = false)]
pub struct BallotRow {
    pub association_id: String,
    pub meeting_id: String,
    pub item_id: String,
    pub ballot_box: String,
    pub member_id: String,
    pub person_id: String,
    pub choice: String,
    pub via: String,
    pub proxy_id: Option<String>,
    pub cast_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = results)]
pub struct ResultRow {
    pub association_id: String,
    pub meeting_id: String,
    pub poll_id: String,
    pub item_id: String,
    pub outcome: String,
    pub votes_for: i64,
    pub votes_against: i64,
    pub abstentions: i64,
    pub votes_cast: i64,
    pub members_in_office: i64,
    pub present_or_represented: i64,
    pub quorum_needed: i64,
    pub quorum_met: bool,
    pub majority_needed: i64,
    pub decided_by_rule: String,
    pub decided_by_article: String,
    pub explanation: String,
    pub taken_at: NaiveDateTime,
    pub body: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = members_requests)]
pub struct MembersRequestRow {
    pub association_id: String,
    pub id: String,
    pub requested_at: NaiveDateTime,
    pub members: String,
    pub subjects: String,
    pub board_deadline: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = resolutions)]
pub struct ResolutionRow {
    pub association_id: String,
    pub id: String,
    pub text: String,
    pub decision_kind: String,
    pub proposed_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub outcome: Option<String>,
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = resolution_votes)]
pub struct ResolutionVoteRow {
    pub association_id: String,
    pub resolution_id: String,
    pub member_id: String,
    pub person_id: String,
    pub choice: String,
    pub cast_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = supervisory_board)]
pub struct SupervisoryBoardRow {
    pub association_id: String,
    pub role: String,
    pub person_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = associations)]
pub struct AssociationRow {
    pub id: String,
    pub name: String,
    pub profile: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = role_grants)]
pub struct RoleGrantRow {
    pub association_id: String,
    pub person_id: String,
    pub role: String,
    pub granted_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sign_in_codes)]
pub struct SignInCodeRow {
    pub code_hash: String,
    pub association_id: String,
    pub person_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub association_id: String,
    pub person_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tree_heads)]
pub struct TreeHeadRow {
    pub association_id: String,
    pub stream: String,
    pub size: i64,
    pub root: String,
    pub signed_at: NaiveDateTime,
    pub signature: String,
}
