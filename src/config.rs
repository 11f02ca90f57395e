//! Configuration, read once at start: built-in defaults, then an optional TOML file, then
//! environment variables (each overrides the one before).
//!
//! | setting | file key | environment | default |
//! |---|---|---|---|
//! | address to listen on | `bind` | `STEMBUS_BIND` | `127.0.0.1:8080` |
//! | database | `database_url` | `DATABASE_URL` | `stembus.sqlite` (a SQLite file) |
//! | the service's signing key | `key_file` | `STEMBUS_KEY_FILE` | `stembus-service.key` |
//! | where e-mail is written | `outbox_dir` | `STEMBUS_OUTBOX_DIR` | `outbox` |
//! | the address people use | `public_url` | `STEMBUS_PUBLIC_URL` | `http://` and the address listened on |
//! | the sender of e-mail | `mail_from` | `STEMBUS_MAIL_FROM` | `Stembus <stembus@localhost>` |
//! | largest request body, bytes | `max_body_bytes` | `STEMBUS_MAX_BODY_BYTES` | `65536` |
//! | session lifetime, minutes | `session_minutes` | `STEMBUS_SESSION_MINUTES` | `720` |
//! | log filter | `log` | `RUST_LOG` | `info` |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub key_file: PathBuf,
    pub outbox_dir: PathBuf,
    /// Where people reach the service; `http://` and `bind` when not set.
    pub public_url: Option<String>,
    pub mail_from: String,
    pub max_body_bytes: usize,
    pub session_minutes: i64,
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "stembus.sqlite".into(),
            key_file: "stembus-service.key".into(),
            outbox_dir: "outbox".into(),
            public_url: None,
            mail_from: "Stembus <stembus@localhost>".into(),
            max_body_bytes: 64 * 1024,
            session_minutes: 12 * 60,
            log: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("the environment variable {name} is not valid: {reason}")]
    Env { name: &'static str, reason: String },
}

impl Config {
    /// Where people reach the service, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let err = |reason: String| ConfigError::File { path: path.display().to_string(), reason };
                let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                toml::from_str(&text).map_err(|e| err(e.to_string()))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("STEMBUS_BIND") {
            self.bind = v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                name: "STEMBUS_BIND",
                reason: e.to_string(),
            })?;
        }
        if let Some(v) = var("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("STEMBUS_KEY_FILE") {
            self.key_file = v.into();
        }
        if let Some(v) = var("STEMBUS_OUTBOX_DIR") {
            self.outbox_dir = v.into();
        }
        if let Some(v) = var("STEMBUS_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("STEMBUS_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = var("STEMBUS_MAX_BODY_BYTES") {
            self.max_body_bytes = v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name: "STEMBUS_MAX_BODY_BYTES",
                reason: e.to_string(),
            })?;
        }
        if let Some(v) = var("STEMBUS_SESSION_MINUTES") {
            self.session_minutes = v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name: "STEMBUS_SESSION_MINUTES",
                reason: e.to_string(),
            })?;
        }
        if let Some(v) = var("RUST_LOG") {
            self.log = v;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_the_defaults() {
        let mut c = Config::default();
        let env = |name: &str| match name {
            "STEMBUS_BIND" => Some("127.0.0.1:9999".to_owned()),
            "DATABASE_URL" => Some("postgres://x@127.0.0.1/y".to_owned()),
            _ => None,
        };
        c.apply_env(env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.bind.port(), 9999);
        assert!(c.database_url.starts_with("postgres://"));
        assert_eq!(c.max_body_bytes, 65536);
        assert_eq!(c.public_url(), "http://127.0.0.1:9999", "the public address follows the bind address");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let mut c = Config::default();
        let err = c.apply_env(|n| (n == "STEMBUS_BIND").then(|| "nowhere".to_owned())).err();
        assert!(err.is_some_and(|e| e.to_string().contains("STEMBUS_BIND")));
    }
}
