//! Configuration, read once at start: built-in defaults, then an optional TOML file, then
//! environment variables (each overrides the one before).
//!
//! | setting | file key | environment | default |
//! |---|---|---|---|
//! | address to listen on | `bind` | `STEMBUS_BIND` | `127.0.0.1:8080` |
//! | database | `database_url` | `DATABASE_URL` | `stembus.sqlite` (a SQLite file) |
//! | the service's signing key | `key_file` | `STEMBUS_KEY_FILE` | `stembus-service.key` |
//! | where e-mail is written | `outbox_dir` | `STEMBUS_OUTBOX_DIR` | `outbox` |
//! | where scans of paper proxies are kept | `scan_dir` | `STEMBUS_SCAN_DIR` | `scans` |
//! | the address people use | `public_url` | `STEMBUS_PUBLIC_URL` | `http://` and the address listened on |
//! | the sender of e-mail | `mail_from` | `STEMBUS_MAIL_FROM` | `Stembus <stembus@localhost>` |
//! | how e-mail leaves: `file` (the outbox directory) or `smtp` | `mail_transport` | `STEMBUS_MAIL_TRANSPORT` | `file` |
//! | the SMTP server, with credentials | `smtp_url` | `STEMBUS_SMTP_URL` | none |
//! | root certificates (PEM) the SMTP server's certificate may also chain to | `smtp_ca_file` | `STEMBUS_SMTP_CA_FILE` | none: the Mozilla roots only |
//! | attempts before a notice is given up | `mail_max_attempts` | `STEMBUS_MAIL_MAX_ATTEMPTS` | `12` |
//! | whether this instance sends queued mail | `mail_worker` | `STEMBUS_MAIL_WORKER` | `true` |
//! | largest request body, bytes | `max_body_bytes` | `STEMBUS_MAX_BODY_BYTES` | `65536` |
//! | session lifetime, minutes | `session_minutes` | `STEMBUS_SESSION_MINUTES` | `720` |
//! | log filter | `log` | `RUST_LOG` | `info` |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How e-mail leaves the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTransportKind {
    /// As `.eml` files in the outbox directory: needs no mail server.
    #[default]
    File,
    /// To the SMTP server of `smtp_url`.
    Smtp,
}

impl std::str::FromStr for MailTransportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "file" => Ok(Self::File),
            "smtp" => Ok(Self::Smtp),
            other => Err(format!("{other:?} is neither file nor smtp")),
        }
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub key_file: PathBuf,
    pub outbox_dir: PathBuf,
    /// Where the secretariat's scans of paper proxies are kept (`src/web/secretariat.rs`).
    pub scan_dir: PathBuf,
    /// Where people reach the service; `http://` and `bind` when not set.
    pub public_url: Option<String>,
    pub mail_from: String,
    pub mail_transport: MailTransportKind,
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://user:password@host:465`
    /// (TLS), or `smtp://127.0.0.1:25` (plain, only to this machine). Holds a secret: never
    /// shown whole (`Debug` hides the password).
    pub smtp_url: Option<String>,
    /// A PEM file of root certificates trusted for the SMTP server besides the Mozilla roots
    /// (a relay whose certificate the organisation's own authority issued).
    pub smtp_ca_file: Option<PathBuf>,
    /// Attempts before a notice that keeps failing for now is given up.
    pub mail_max_attempts: u32,
    /// Whether this instance runs the mail worker (several instances may; each notice is sent
    /// by one).
    pub mail_worker: bool,
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
            scan_dir: "scans".into(),
            public_url: None,
            mail_from: "Stembus <stembus@localhost>".into(),
            mail_transport: MailTransportKind::File,
            smtp_url: None,
            smtp_ca_file: None,
            mail_max_attempts: 12,
            mail_worker: true,
            max_body_bytes: 64 * 1024,
            session_minutes: 12 * 60,
            log: "info".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url)
            .field("key_file", &self.key_file)
            .field("outbox_dir", &self.outbox_dir)
            .field("scan_dir", &self.scan_dir)
            .field("public_url", &self.public_url)
            .field("mail_from", &self.mail_from)
            .field("mail_transport", &self.mail_transport)
            .field("smtp_url", &self.smtp_url.as_deref().map(hide_password))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("mail_worker", &self.mail_worker)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("session_minutes", &self.session_minutes)
            .field("log", &self.log)
            .finish()
    }
}

/// A URL with the password of its user information replaced by `***`.
fn hide_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(not a URL)".into(),
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
        if let Some(v) = var("STEMBUS_SCAN_DIR") {
            self.scan_dir = v.into();
        }
        if let Some(v) = var("STEMBUS_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("STEMBUS_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = var("STEMBUS_MAIL_TRANSPORT") {
            self.mail_transport =
                v.parse().map_err(|reason| ConfigError::Env { name: "STEMBUS_MAIL_TRANSPORT", reason })?;
        }
        if let Some(v) = var("STEMBUS_SMTP_URL") {
            self.smtp_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = var("STEMBUS_SMTP_CA_FILE") {
            self.smtp_ca_file = Some(v).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        }
        if let Some(v) = var("STEMBUS_MAIL_MAX_ATTEMPTS") {
            self.mail_max_attempts = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| ConfigError::Env {
                name: "STEMBUS_MAIL_MAX_ATTEMPTS",
                reason: format!("{v:?} is not a whole number of at least 1"),
            })?;
        }
        if let Some(v) = var("STEMBUS_MAIL_WORKER") {
            self.mail_worker = match v.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(ConfigError::Env {
                        name: "STEMBUS_MAIL_WORKER",
                        reason: format!("{other:?} is neither true nor false"),
                    });
                }
            };
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
    fn mail_settings_come_from_the_environment_and_hide_the_password() {
        let mut c = Config::default();
        assert_eq!(c.mail_transport, MailTransportKind::File);
        assert_eq!(c.mail_max_attempts, 12);
        let env = |name: &str| match name {
            "STEMBUS_MAIL_TRANSPORT" => Some("smtp".to_owned()),
            "STEMBUS_SMTP_URL" => Some("smtp://stembus:s3cret@mail.example.org:587?tls=required".to_owned()),
            "STEMBUS_MAIL_MAX_ATTEMPTS" => Some("3".to_owned()),
            "STEMBUS_MAIL_WORKER" => Some("false".to_owned()),
            "STEMBUS_SMTP_CA_FILE" => Some("/etc/stembus/relay-ca.pem".to_owned()),
            _ => None,
        };
        c.apply_env(env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.mail_transport, MailTransportKind::Smtp);
        assert_eq!(c.smtp_ca_file.as_deref(), Some(Path::new("/etc/stembus/relay-ca.pem")));
        assert_eq!(c.mail_max_attempts, 3);
        assert!(!c.mail_worker);
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret") && shown.contains("mail.example.org"), "{shown}");
        let file: Config = toml::from_str(
            "mail_transport = \"smtp\"\nsmtp_url = \"smtps://mail.example.org\"\nmail_max_attempts = 5\nsmtp_ca_file = \"ca.pem\"",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((file.mail_transport, file.mail_max_attempts), (MailTransportKind::Smtp, 5));
        assert_eq!(file.smtp_ca_file.as_deref(), Some(Path::new("ca.pem")));
        for (name, value) in [("STEMBUS_MAIL_TRANSPORT", "pigeon"), ("STEMBUS_MAIL_MAX_ATTEMPTS", "0")] {
            let err = Config::default().apply_env(|n| (n == name).then(|| value.to_owned())).err();
            assert!(err.is_some_and(|e| e.to_string().contains(name)), "{name}");
        }
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let mut c = Config::default();
        let err = c.apply_env(|n| (n == "STEMBUS_BIND").then(|| "nowhere".to_owned())).err();
        assert!(err.is_some_and(|e| e.to_string().contains("STEMBUS_BIND")));
    }
}
