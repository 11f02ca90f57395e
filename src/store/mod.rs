//! Storage: the event log and its projections, on SQLite (an embedded file, the default) or
//! PostgreSQL, through one diesel connection type.
//!
//! Error policy: storage returns [`StoreError`]; it never decides a rule. **Only this module
//! knows SQL.** Every change is an event appended to the log with its projections in the same
//! transaction ([`log`], [`projection`]); the log is append-only (the database refuses updates
//! and deletes of it), and appends are serialised by a lock on the log's head row.

pub mod access;
pub mod associations;
pub mod log;
pub mod notices;
pub mod projection;
pub mod rows;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; the variant is chosen from the URL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DbConnection::Postgresql(_) => "DbConnection::Postgresql",
            DbConnection::Sqlite(_) => "DbConnection::Sqlite",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    #[error("the database refused a query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the database schema could not be brought up to date: {0}")]
    Migration(String),
    #[error("the stored log is unreadable at event {seq}: {reason}")]
    Corrupt { seq: i64, reason: String },
    #[error("there is no association {0}")]
    UnknownAssociation(crate::core::AssociationId),
    #[error("association {0} already exists")]
    AssociationExists(crate::core::AssociationId),
}

pub type Conn = PooledConnection<ConnectionManager<DbConnection>>;

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<DbConnection>>,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// SQLite connections wait for a busy writer, keep a write-ahead log, and enforce foreign keys.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

impl Store {
    /// Opens a pool for `url`: `postgres://…` or `postgresql://…` for PostgreSQL; otherwise a
    /// SQLite file (`sqlite://path`, `sqlite:path` or a plain path), created when missing.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let (backend, target) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            (Backend::Sqlite, path.to_owned())
        };
        let manager = ConnectionManager::<DbConnection>::new(target);
        let size = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connection(&self) -> Result<Conn, StoreError> {
        self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs the migrations of this backend that have not run yet.
    pub fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        let result = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
            DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Reverts every migration of this backend (for the migration round-trip test and for
    /// a secretariat that wants an empty database).
    pub fn revert_all(&self) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        let result = match &mut *conn {
            DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
            DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| StoreError::Migration(e.to_string()))
    }
}
