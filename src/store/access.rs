//! Access records: role grants, one-time sign-in codes and sessions. Secrets are stored only
//! as their SHA-256 (hex); a stolen database yields no usable code or token.

use diesel::prelude::*;

use super::rows::{RoleGrantRow, SessionRow, SignInCodeRow};
use super::schema::{role_grants, sessions, sign_in_codes};
use super::{DbConnection, StoreError};
use crate::core::{AssociationId, Instant, PersonId};

fn parse_ids(association: &str, person: &str) -> Result<(AssociationId, PersonId), StoreError> {
    let corrupt = |e: crate::core::ids::IdError| StoreError::Corrupt { seq: 0, reason: e.to_string() };
    Ok((association.parse().map_err(corrupt)?, person.parse().map_err(corrupt)?))
}

pub fn grant_role(
    conn: &mut DbConnection,
    association: AssociationId,
    person: PersonId,
    role: &str,
    now: Instant,
) -> Result<(), StoreError> {
    let (a, p) = (association.to_string(), person.to_string());
    super::transaction(conn, |c| {
        diesel::delete(
            role_grants::table
                .filter(role_grants::association_id.eq(&a))
                .filter(role_grants::person_id.eq(&p))
                .filter(role_grants::role.eq(role)),
        )
        .execute(c)?;
        diesel::insert_into(role_grants::table)
            .values(RoleGrantRow {
                association_id: a.clone(),
                person_id: p.clone(),
                role: role.to_owned(),
                granted_at: now.naive_utc(),
            })
            .execute(c)?;
        Ok(())
    })
}

pub fn revoke_role(
    conn: &mut DbConnection,
    association: AssociationId,
    person: PersonId,
    role: &str,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        role_grants::table
            .filter(role_grants::association_id.eq(association.to_string()))
            .filter(role_grants::person_id.eq(person.to_string()))
            .filter(role_grants::role.eq(role)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

pub fn roles_of(
    conn: &mut DbConnection,
    association: AssociationId,
    person: PersonId,
) -> Result<Vec<String>, StoreError> {
    Ok(role_grants::table
        .filter(role_grants::association_id.eq(association.to_string()))
        .filter(role_grants::person_id.eq(person.to_string()))
        .select(role_grants::role)
        .order(role_grants::role.asc())
        .load(conn)?)
}

pub fn store_sign_in_code(
    conn: &mut DbConnection,
    code_hash: &str,
    association: AssociationId,
    person: PersonId,
    now: Instant,
    expires_at: Instant,
) -> Result<(), StoreError> {
    diesel::insert_into(sign_in_codes::table)
        .values(SignInCodeRow {
            code_hash: code_hash.to_owned(),
            association_id: association.to_string(),
            person_id: person.to_string(),
            created_at: now.naive_utc(),
            expires_at: expires_at.naive_utc(),
            used_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Uses a sign-in code once: returns whose it was, if it exists, is unused and has not expired.
/// The update comes first, so the transaction takes the write lock at once (SQLite then waits
/// for a busy writer instead of failing) and only one of two racing uses wins.
pub fn use_sign_in_code(
    conn: &mut DbConnection,
    code_hash: &str,
    now: Instant,
) -> Result<Option<(AssociationId, PersonId)>, StoreError> {
    super::transaction(conn, |c| {
        let used = diesel::update(
            sign_in_codes::table
                .filter(sign_in_codes::code_hash.eq(code_hash))
                .filter(sign_in_codes::used_at.is_null())
                .filter(sign_in_codes::expires_at.gt(now.naive_utc())),
        )
        .set(sign_in_codes::used_at.eq(Some(now.naive_utc())))
        .execute(c)?;
        if used == 0 {
            return Ok(None);
        }
        let row: SignInCodeRow = sign_in_codes::table
            .filter(sign_in_codes::code_hash.eq(code_hash))
            .select(SignInCodeRow::as_select())
            .get_result(c)?;
        parse_ids(&row.association_id, &row.person_id).map(Some)
    })
}

pub fn start_session(
    conn: &mut DbConnection,
    token_hash: &str,
    association: AssociationId,
    person: PersonId,
    now: Instant,
    expires_at: Instant,
) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(SessionRow {
            token_hash: token_hash.to_owned(),
            association_id: association.to_string(),
            person_id: person.to_string(),
            created_at: now.naive_utc(),
            expires_at: expires_at.naive_utc(),
            ended_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The session a token hash names, if it is current.
pub fn session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: Instant,
) -> Result<Option<(AssociationId, PersonId, Instant)>, StoreError> {
    let row: Option<SessionRow> = sessions::table
        .filter(sessions::token_hash.eq(token_hash))
        .select(SessionRow::as_select())
        .get_result(conn)
        .optional()?;
    match row.filter(|r| r.ended_at.is_none() && r.expires_at > now.naive_utc()) {
        Some(r) => {
            let (a, p) = parse_ids(&r.association_id, &r.person_id)?;
            Ok(Some((a, p, r.expires_at.and_utc())))
        }
        None => Ok(None),
    }
}

pub fn end_session(conn: &mut DbConnection, token_hash: &str, now: Instant) -> Result<(), StoreError> {
    diesel::update(sessions::table.filter(sessions::token_hash.eq(token_hash)))
        .set(sessions::ended_at.eq(Some(now.naive_utc())))
        .execute(conn)?;
    Ok(())
}
