//! The associations a service runs, each with its rules profile.

use diesel::prelude::*;

use super::rows::AssociationRow;
use super::schema::{associations, log_head};
use super::{DbConnection, StoreError};
use crate::core::{AssociationId, Instant, RulesProfile};

#[derive(Debug, Clone)]
pub struct StoredAssociation {
    pub id: AssociationId,
    pub name: String,
    pub profile: RulesProfile,
    /// The profile exactly as it was given, which an export carries.
    pub profile_toml: String,
}

/// Adds an association with its rules profile and an empty log.
pub fn create(
    conn: &mut DbConnection,
    id: AssociationId,
    name: &str,
    profile_toml: &str,
    now: Instant,
) -> Result<(), StoreError> {
    super::transaction(conn, |c| {
        // Insert first: the write takes the lock at once, and a second insert of the same id
        // is refused by the primary key.
        let inserted = diesel::insert_into(associations::table)
            .values(AssociationRow {
                id: id.to_string(),
                name: name.to_owned(),
                profile: profile_toml.to_owned(),
                created_at: now.naive_utc(),
            })
            .execute(c);
        match inserted {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(StoreError::AssociationExists(id));
            }
            other => {
                other?;
            }
        }
        diesel::insert_into(log_head::table)
            .values((log_head::association_id.eq(id.to_string()), log_head::last_seq.eq(0_i64)))
            .execute(c)?;
        Ok(())
    })
}

fn parse(row: AssociationRow) -> Result<StoredAssociation, StoreError> {
    let id: AssociationId = row
        .id
        .parse()
        .map_err(|e: crate::core::ids::IdError| StoreError::Corrupt { seq: 0, reason: e.to_string() })?;
    let profile = RulesProfile::from_toml(&row.profile)
        .map_err(|e| StoreError::Corrupt { seq: 0, reason: format!("the rules profile of {id}: {e}") })?;
    Ok(StoredAssociation { id, name: row.name, profile, profile_toml: row.profile })
}

pub fn get(conn: &mut DbConnection, id: AssociationId) -> Result<StoredAssociation, StoreError> {
    let row = associations::table
        .filter(associations::id.eq(id.to_string()))
        .select(AssociationRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::UnknownAssociation(id))?;
    parse(row)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<StoredAssociation>, StoreError> {
    let rows =
        associations::table.order(associations::name.asc()).select(AssociationRow::as_select()).load(conn)?;
    rows.into_iter().map(parse).collect()
}
