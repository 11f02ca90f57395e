//! Storage: the event log and its projections, on SQLite (an embedded file, the default) or
//! PostgreSQL, through one diesel connection type.
//!
//! Error policy: storage returns [`StoreError`]; it never decides a rule. **Only this module
//! knows SQL.** Every change is an event appended to the log with its projections in the same
//! transaction ([`log`], [`projection`]); the log is append-only (the database refuses updates
//! and deletes of it), and appends are serialised by a lock on the log's head row.
//!
//! A lookup by a key that is unique reads with `get_result`, not `first`: `first` binds its
//! `LIMIT` as a parameter, and SQLite (since 3.47) plans with the value of a bound `LIMIT`, so
//! it compiles such a statement again every time it is bound: diesel's cached statement is
//! then parsed and planned anew on every call.

pub mod access;
pub mod associations;
pub mod log;
pub mod notices;
pub mod projection;
pub mod rows;
pub mod schema;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// A failure of the storage under the database, as opposed to a refused query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// No space left: SQLite's SQLITE_FULL, PostgreSQL's `disk_full` (SQLSTATE 53100).
    Full,
    /// The disk failed a read or write: SQLite's SQLITE_IOERR, an I/O error on PostgreSQL.
    Io,
}

impl StorageFault {
    /// The fault a database error reports, from its message and hint: diesel passes neither
    /// SQLite's result code nor PostgreSQL's SQLSTATE on, so the texts both databases give
    /// these errors are matched (PostgreSQL's with `lc_messages` in English, its default).
    pub fn of_database_error(message: &str, hint: Option<&str>) -> Option<Self> {
        let m = message.to_ascii_lowercase();
        let h = hint.unwrap_or_default().to_ascii_lowercase();
        if m.contains("database or disk is full")
            || m.contains("no space left on device")
            || h.contains("check free disk space")
        {
            Some(StorageFault::Full)
        } else if m.contains("disk i/o error") || m.contains("input/output error") {
            Some(StorageFault::Io)
        } else {
            None
        }
    }
}

impl StoreError {
    /// Whether the storage under the database failed (a full disk, an I/O error).
    pub fn storage_fault(&self) -> Option<StorageFault> {
        match self {
            StoreError::Query(e) => fault_of(e),
            _ => None,
        }
    }
}

fn fault_of(e: &diesel::result::Error) -> Option<StorageFault> {
    use diesel::result::Error as E;
    match e {
        E::DatabaseError(_, info) => StorageFault::of_database_error(info.message(), info.hint()),
        E::RollbackErrorOnCommit { commit_error, .. } => fault_of(commit_error),
        _ => None,
    }
}

/// Runs `f` in a transaction: committed when it returns `Ok`, rolled back when it fails, and
/// then its own error is returned. (SQLite rolls a transaction back by itself on some errors,
/// a full disk among them; the rollback that follows then fails, and diesel would report
/// that failure instead of the error that caused it.) A failed commit is returned as it is.
pub fn transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::Connection;
    let mut failure: Option<E> = None;
    let outcome = conn.transaction::<T, diesel::result::Error, _>(|c| {
        f(c).map_err(|e| {
            failure = Some(e);
            diesel::result::Error::RollbackTransaction
        })
    });
    match (outcome, failure) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
    }
}

pub type Conn = PooledConnection<ConnectionManager<DbConnection>>;

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<DbConnection>>,
    backend: Backend,
    /// The cap on a SQLite database's size in pages set by [`Store::cap_sqlite_size`]:
    /// `NO_CAP` when it was never set, else the `max_page_count` every connection gets.
    page_cap: Arc<AtomicI64>,
}

/// [`Store::page_cap`] before any cap was set: connections are left as they are.
const NO_CAP: i64 = -1;

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
        // SQLite in WAL mode reads on any number of connections beside its one writer: every
        // request reads its session, so readers must not queue behind each other. A file's
        // connection cannot break the way a server's can, so it is not tested at every checkout
        // (a query of its own each time); PostgreSQL's are.
        let (size, test_on_check_out) = match backend {
            Backend::Sqlite => (16, false),
            Backend::Postgres => (8, true),
        };
        let pool = Pool::builder()
            .max_size(size)
            .test_on_check_out(test_on_check_out)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool, backend, page_cap: Arc::new(AtomicI64::new(NO_CAP)) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connection(&self) -> Result<Conn, StoreError> {
        let mut conn = self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.refresh(&mut conn)?;
        Ok(conn)
    }

    /// Brings a connection kept out of the pool (the writer's) up to the store's settings, as
    /// a checkout does: the size cap of [`Store::cap_sqlite_size`], when one is set.
    pub fn refresh(&self, conn: &mut Conn) -> Result<(), StoreError> {
        let cap = self.page_cap.load(Ordering::SeqCst);
        if cap != NO_CAP
            && let DbConnection::Sqlite(c) = &mut **conn
        {
            c.batch_execute(&format!("PRAGMA max_page_count = {cap};"))?;
        }
        Ok(())
    }

    /// Simulates a full disk on SQLite: caps the database at the pages it holds now plus
    /// `extra_pages` (SQLite's `max_page_count`), so that a write needing more fails with
    /// SQLITE_FULL ("database or disk is full") exactly as on a full disk; `None` lifts the cap.
    /// For the tests of storage errors (docs/reliability.md); nothing in the service calls it.
    /// On PostgreSQL it does nothing.
    pub fn cap_sqlite_size(&self, extra_pages: Option<u64>) -> Result<(), StoreError> {
        #[derive(diesel::QueryableByName)]
        struct Pages {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            page_count: i64,
        }
        let mut conn = self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let DbConnection::Sqlite(c) = &mut *conn else { return Ok(()) };
        use diesel::RunQueryDsl;
        let cap = match extra_pages {
            // SQLite's own largest number of pages: no cap.
            None => i64::from(u32::MAX - 1),
            Some(extra) => {
                let pages: Pages = diesel::sql_query("PRAGMA page_count").get_result(c)?;
                pages.page_count.saturating_add(i64::try_from(extra).unwrap_or(i64::MAX))
            }
        };
        self.page_cap.store(cap, Ordering::SeqCst);
        Ok(())
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
