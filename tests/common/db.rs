//! A fresh database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL: the server named by `STEMBUS_TEST_POSTGRES_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; `.ci/run` starts one), or else a private
//! throwaway cluster started from the installed PostgreSQL binaries for this test process.
//! Each test gets its own database, dropped when the test ends.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub url: String,
    backend: Backend,
    name: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let name = format!("stembus_t_{}", uuid_like());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir)
                    .unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
                let url = dir.join("stembus.sqlite").display().to_string();
                TestDb { url, backend, name, dir: Some(dir) }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn =
                    PgConnection::establish(admin).unwrap_or_else(|e| panic!("cannot reach {admin}: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                let url = replace_database(admin, &name);
                TestDb { url, backend, name, dir: None }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                if let Some(dir) = &self.dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            Backend::Postgres => {
                if let Ok(mut conn) = PgConnection::establish(postgres_admin_url()) {
                    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                        .execute(&mut conn);
                }
            }
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn replace_database(url: &str, name: &str) -> String {
    match url.rfind('/') {
        Some(i) if i > "postgres://".len() => {
            let (base, rest) = url.split_at(i);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{base}/{name}{query}")
        }
        _ => format!("{url}/{name}"),
    }
}

/// The admin URL of the PostgreSQL server the tests use.
pub fn postgres_admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("STEMBUS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_private_cluster(),
    })
}

fn postgres_bin(name: &str) -> Option<PathBuf> {
    if let Ok(out) = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output()
        && out.status.success()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !path.is_empty() {
            return Some(PathBuf::from(path));
        }
    }
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    versions.sort();
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.exists())
}

/// Starts a PostgreSQL cluster in a temporary directory, on a free loopback port, that stops
/// by itself when this test process ends.
fn start_private_cluster() -> String {
    let missing = "PostgreSQL is needed for the tests on the PostgreSQL backend: install it (apt-get install postgresql) or set STEMBUS_TEST_POSTGRES_URL to an admin URL";
    let initdb = postgres_bin("initdb").unwrap_or_else(|| panic!("{missing}"));
    let postgres = postgres_bin("postgres").unwrap_or_else(|| panic!("{missing}"));
    let dir = std::env::temp_dir().join(format!("stembus-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    // PostgreSQL refuses to run as root; as root, run it as the `postgres` user.
    let as_owner = |program: &str| -> Command {
        if root {
            let _ = Command::new("chown").args(["-R", "postgres", &dir.display().to_string()]).status();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        }
    };
    let data = dir.join("data");
    let status = as_owner(&initdb.display().to_string())
        .args(["-D", &data.display().to_string(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run initdb: {e}"));
    assert!(status.success(), "initdb failed in {}", dir.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(55432);
    let script = format!(
        "{postgres} -D {data} -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} -c fsync=off -c max_connections=200 & pg=$!; \
         while [ -d /proc/{parent} ]; do sleep 1; done; kill $pg; wait $pg; rm -rf {dir}",
        postgres = postgres.display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    // The watchdog outlives this function on purpose: it stops the server when the process ends.
    #[expect(clippy::zombie_processes, reason = "the watchdog shell ends itself with the test process")]
    let _watchdog = as_owner("sh")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start postgres: {e}"));
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match PgConnection::establish(&url) {
            Ok(_) => return url,
            Err(e) if Instant::now() > deadline => panic!("the private PostgreSQL did not start: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Runs a test body once per backend: `both_backends!(name, |db| { ... })`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($db: &$crate::db::TestDb) $body

            #[test]
            fn sqlite() {
                run(&$crate::db::TestDb::new($crate::db::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                run(&$crate::db::TestDb::new($crate::db::Backend::Postgres));
            }
        }
    };
}
