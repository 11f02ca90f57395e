//! Where messages go: the outbox directory (`.eml` files, the embedded default, which needs no
//! mail server) or an SMTP server (STARTTLS or TLS with credentials, plain SMTP only on this
//! machine). And the messages themselves: a notice as rendered ([`super::render`]) becomes a
//! `multipart/mixed` message with its text and HTML as alternatives and its attachments, and
//! a Message-ID the service chooses, so that it is known before the message is sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{FileTransport, Message, SmtpTransport, Transport};

use super::notice::Notice;
use super::render::Rendered;
use crate::config::{Config, MailTransportKind};
use crate::core::Instant;

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// True when trying again will not help (the server refused the recipient or the message,
    /// or the message cannot be made); false for a server that is down, busy or refuses for
    /// now (4xx), which the worker tries again later.
    pub permanent: bool,
    pub reason: String,
}

impl SendError {
    pub fn temporary(reason: impl Into<String>) -> Self {
        Self { permanent: false, reason: reason.into() }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self { permanent: true, reason: reason.into() }
    }
}

/// Sends a message.
pub trait MailTransport: Send + Sync + std::fmt::Debug {
    /// Sends `message` (blocking: call it from a blocking task); returns its message id, the
    /// value of its Message-ID header.
    fn send(&self, message: &Message) -> Result<String, SendError>;
}

/// The mail settings do not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MailConfigError(pub String);

/// The Message-ID header of a message, or an empty string.
fn message_id_of(message: &Message) -> String {
    message.headers().get_raw("Message-ID").map(str::to_owned).unwrap_or_default()
}

/// Writes each message as an `.eml` file in a directory (lettre's `FileTransport`).
#[derive(Debug)]
pub struct FileMailTransport {
    dir: PathBuf,
    transport: FileTransport,
}

impl FileMailTransport {
    /// Creates the directory when it is missing.
    pub fn new(dir: PathBuf) -> Result<Self, MailConfigError> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            MailConfigError(format!("cannot make the outbox directory {}: {e}", dir.display()))
        })?;
        Ok(Self { transport: FileTransport::new(&dir), dir })
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl MailTransport for FileMailTransport {
    fn send(&self, message: &Message) -> Result<String, SendError> {
        match self.transport.send(message) {
            Ok(file) => {
                let id = message_id_of(message);
                Ok(if id.is_empty() { file } else { id })
            }
            // A full disk or a directory that went away: worth trying again.
            Err(e) => Err(SendError::temporary(format!(
                "the message could not be written to {}: {e}",
                self.dir.display()
            ))),
        }
    }
}

/// Sends by SMTP (lettre's blocking `SmtpTransport`, rustls for TLS, no connection pool).
pub struct SmtpMailTransport {
    transport: SmtpTransport,
    /// The URL without its password, for messages.
    server: String,
}

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        // `smtp` is no special scheme to the URL standard: its IPv4 hosts stay text.
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost")
                || d.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// TLS for `url` (from the start for `smtps`, else STARTTLS, required) that also trusts the
/// root certificates in `pem`.
fn tls_trusting(url: &url::Url, server: &str, pem: &[u8]) -> Result<Tls, MailConfigError> {
    let bad = |reason: String| MailConfigError(format!("the SMTP server's root certificates: {reason}"));
    let text = std::str::from_utf8(pem).map_err(|_| bad("not PEM text".into()))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(bad("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into()));
    }
    let roots = Certificate::from_pem(pem).map_err(|e| bad(e.to_string()))?;
    let host =
        url.host_str().ok_or_else(|| MailConfigError(format!("the SMTP URL {server} names no host")))?;
    let parameters = TlsParameters::builder(host.to_owned())
        .add_root_certificate(roots)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    Ok(if url.scheme() == "smtps" { Tls::Wrapper(parameters) } else { Tls::Required(parameters) })
}

/// The URL without its password.
fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

impl std::fmt::Debug for SmtpMailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailTransport").field("server", &self.server).finish_non_exhaustive()
    }
}

impl SmtpMailTransport {
    /// An SMTP transport from a URL: `smtp://user:password@host:587?tls=required` (STARTTLS,
    /// required), `smtps://user:password@host:465` (TLS from the start), or
    /// `smtp://127.0.0.1:25` (plain, allowed only to this machine). User and password are
    /// percent-encoded; a path names the EHLO host (`smtp://host/ehlo.example`), which is
    /// otherwise `hello_name`.
    pub fn from_url(smtp_url: &str, hello_name: &str) -> Result<Self, MailConfigError> {
        Self::from_url_trusting(smtp_url, hello_name, None)
    }

    /// As [`SmtpMailTransport::from_url`], the server's certificate also trusted when it
    /// chains to one of the root certificates in `extra_roots` (PEM): a relay with a
    /// certificate of the organisation's own authority. The Mozilla roots stay trusted, and
    /// the certificate must still name the URL's host.
    pub fn from_url_trusting(
        smtp_url: &str,
        hello_name: &str,
        extra_roots: Option<&[u8]>,
    ) -> Result<Self, MailConfigError> {
        let url = url::Url::parse(smtp_url.trim())
            .map_err(|e| MailConfigError(format!("the SMTP URL is not a URL: {e}")))?;
        let server = redacted(&url);
        let host =
            url.host().ok_or_else(|| MailConfigError(format!("the SMTP URL {server} names no host")))?;
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let encrypted = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) | ("smtp", Some("required")) => true,
            ("smtp", None) | ("smtp", Some("opportunistic")) => false,
            (scheme, tls) => {
                return Err(MailConfigError(format!(
                    "the SMTP URL {server} is not smtp://…?tls=required (STARTTLS), smtps://… (TLS) or smtp://127.0.0.1 (plain, on this machine): scheme {scheme:?}, tls {tls:?}"
                )));
            }
        };
        if !encrypted && !is_loopback(&host) {
            return Err(MailConfigError(format!(
                "the SMTP URL {server} would send mail and credentials unencrypted to another machine: use smtp://…?tls=required (STARTTLS) or smtps://… (TLS)"
            )));
        }
        let mut builder = SmtpTransport::from_url(url.as_str())
            .map_err(|e| MailConfigError(format!("the SMTP URL {server} is not usable: {e}")))?
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(pem) = extra_roots
            && encrypted
        {
            builder = builder.tls(tls_trusting(&url, &server, pem)?);
        }
        if url.path().len() <= 1 && !hello_name.is_empty() {
            builder = builder.hello_name(ClientId::Domain(hello_name.to_owned()));
        }
        Ok(Self { transport: builder.build(), server })
    }

    /// The server's URL, without its password.
    pub fn server(&self) -> &str {
        &self.server
    }
}

impl MailTransport for SmtpMailTransport {
    fn send(&self, message: &Message) -> Result<String, SendError> {
        match self.transport.send(message) {
            Ok(response) => {
                let id = message_id_of(message);
                tracing::debug!(message_id = %id, code = %response.code(), reply = %response.message().collect::<Vec<_>>().join(" "), "the SMTP server accepted a message");
                Ok(id)
            }
            Err(e) if e.is_permanent() => {
                // A 5xx may be about the connection (credentials refused, TLS demanded) rather
                // than this message: only when the server accepts a connection of its own is
                // the refusal the message's or the recipient's.
                let reason = format!("{} refused the message: {e}", self.server);
                match self.transport.test_connection() {
                    Ok(true) => Err(SendError::permanent(reason)),
                    _ => Err(SendError::temporary(format!("{reason} (and refuses the connection itself)"))),
                }
            }
            Err(e) if e.is_client() => {
                Err(SendError::permanent(format!("the message cannot be sent to {}: {e}", self.server)))
            }
            Err(e) => Err(SendError::temporary(format!("{}: {e}", self.server))),
        }
    }
}

/// The transport the configuration names.
pub fn from_config(config: &Config) -> Result<Arc<dyn MailTransport>, MailConfigError> {
    match config.mail_transport {
        MailTransportKind::File => {
            let transport = FileMailTransport::new(config.outbox_dir.clone())?;
            tracing::info!(dir = %transport.dir().display(), "e-mail is written to the outbox directory");
            Ok(Arc::new(transport))
        }
        MailTransportKind::Smtp => {
            let url = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
                MailConfigError("mail_transport is smtp, but smtp_url (STEMBUS_SMTP_URL) is not set".into())
            })?;
            let roots = match &config.smtp_ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    MailConfigError(format!("smtp_ca_file {} cannot be read: {e}", path.display()))
                })?),
                None => None,
            };
            let transport =
                SmtpMailTransport::from_url_trusting(url, &host_of(&config.public_url()), roots.as_deref())?;
            tracing::info!(server = %transport.server(), "e-mail goes by SMTP");
            Ok(Arc::new(transport))
        }
    }
}

/// The host of a URL (`https://stembus.example.org:8443/x` → `stembus.example.org`), for
/// Message-IDs and the EHLO greeting; `localhost` when there is none.
pub fn host_of(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// What every message the service sends has: its sender, and the host its Message-IDs name.
#[derive(Debug, Clone)]
pub struct Sender {
    pub from: Mailbox,
    pub host: String,
}

impl Sender {
    /// `mail_from` (`Name <address>`) and the public URL, whose host the Message-IDs name.
    pub fn new(mail_from: &str, public_url: &str) -> Result<Self, MailConfigError> {
        let from = mail_from
            .parse()
            .map_err(|e| MailConfigError(format!("mail_from {mail_from:?} is not an e-mail address: {e}")))?;
        Ok(Self { from, host: host_of(public_url) })
    }

    /// `<local@host>`.
    pub fn message_id(&self, local: &str) -> String {
        format!("<{local}@{}>", self.host)
    }

    /// A fresh Message-ID: a random UUID at the service's host.
    pub fn random_message_id(&self) -> String {
        let mut bytes = [0u8; 16];
        // Without randomness, the clock's nanoseconds still make the id unique enough here.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            bytes = nanos.to_be_bytes();
        }
        self.message_id(&uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
    }

    fn to(address: &str) -> Result<Mailbox, SendError> {
        address
            .trim()
            .parse()
            .map_err(|e| SendError::permanent(format!("{address:?} cannot receive mail: {e}")))
    }

    /// A plain-text message (the sign-in codes).
    pub fn plain(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        message_id: &str,
        date: Instant,
    ) -> Result<Message, SendError> {
        Message::builder()
            .from(self.from.clone())
            .to(Self::to(to)?)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .date(date.into())
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| SendError::permanent(format!("the message cannot be made: {e}")))
    }

    /// A notice as a message: text and HTML as alternatives, then the attachments.
    pub fn notice(
        &self,
        notice: &Notice,
        rendered: &Rendered,
        message_id: &str,
        date: Instant,
    ) -> Result<Message, SendError> {
        let alternative = MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone());
        let body = if rendered.attachments.is_empty() {
            alternative
        } else {
            let mut mixed = MultiPart::mixed().multipart(alternative);
            for a in &rendered.attachments {
                let content_type = ContentType::parse(&a.content_type).unwrap_or_else(|_| {
                    ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN)
                });
                let part: SinglePart =
                    LettreAttachment::new(a.filename.clone()).body(a.body.clone(), content_type);
                mixed = mixed.singlepart(part);
            }
            mixed
        };
        Message::builder()
            .from(self.from.clone())
            .to(Self::to(&notice.to)?)
            .subject(rendered.subject.clone())
            .message_id(Some(message_id.to_owned()))
            .date(date.into())
            .multipart(body)
            .map_err(|e| SendError::permanent(format!("the message cannot be made: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::register::Language;
    use crate::mail::notice::NoticeKind;
    use crate::mail::render::Attachment;

    fn sender() -> Sender {
        Sender::new("Stembus <stembus@coop.example>", "https://stembus.coop.example:8443/")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn notice(to: &str) -> Notice {
        Notice {
            kind: NoticeKind::Convocation,
            to: to.into(),
            language: Language::Nl,
            member: None,
            person: None,
            meeting: None,
            send_after: None,
            context: serde_json::json!({}),
        }
    }

    fn rendered(attachments: Vec<Attachment>) -> Rendered {
        Rendered {
            subject: "Oproeping ALV".into(),
            text: "Beste lid,\n".into(),
            html: "<p>Beste lid,</p>".into(),
            attachments,
        }
    }

    fn at() -> Instant {
        "2026-03-01T09:00:00Z".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn message_ids_name_the_public_host() {
        let s = sender();
        assert_eq!(s.host, "stembus.coop.example");
        assert_eq!(s.message_id("abc"), "<abc@stembus.coop.example>");
        let (a, b) = (s.random_message_id(), s.random_message_id());
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@stembus.coop.example>"), "{a}");
        assert_eq!(host_of("not a url"), "localhost");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
    }

    #[test]
    fn a_notice_is_text_and_html_with_its_attachments() {
        let s = sender();
        let invite = Attachment {
            filename: "uitnodiging.ics".into(),
            content_type: "text/calendar; method=REQUEST; charset=UTF-8".into(),
            body: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
        };
        let message = s
            .notice(&notice("lid@coop.example"), &rendered(vec![invite]), "<n1@stembus.coop.example>", at())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(message_id_of(&message), "<n1@stembus.coop.example>");
        let text = String::from_utf8(message.formatted()).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains("Content-Type: multipart/mixed"), "{text}");
        assert!(text.contains("Content-Type: multipart/alternative"), "{text}");
        assert!(text.contains("Content-Type: text/plain"), "{text}");
        assert!(text.contains("Content-Type: text/html"), "{text}");
        assert!(text.contains("text/calendar; method=REQUEST"), "{text}");
        assert!(text.contains("filename=\"uitnodiging.ics\""), "{text}");
        assert!(text.contains("Date: Sun, 01 Mar 2026 09:00:00 +0000"), "{text}");
        assert!(text.contains("To: lid@coop.example"), "{text}");

        let plain = s
            .notice(&notice("lid@coop.example"), &rendered(Vec::new()), "<n2@stembus.coop.example>", at())
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(plain.formatted()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text.contains("multipart/mixed") && text.contains("multipart/alternative"), "{text}");
    }

    #[test]
    fn an_address_that_cannot_receive_mail_fails_for_good() {
        let err = sender().notice(&notice("not an address"), &rendered(Vec::new()), "<x@h>", at()).err();
        assert!(err.is_some_and(|e| e.permanent));
        assert!(Sender::new("nobody", "http://x").is_err());
    }

    #[test]
    fn smtp_urls_encrypt_unless_they_stay_on_this_machine() {
        for ok in [
            "smtp://user:secret@mail.example.org:587?tls=required",
            "smtps://user:secret@mail.example.org:465",
            "smtp://127.0.0.1:2525",
            "smtp://localhost",
            "smtp://[::1]:25",
        ] {
            assert!(SmtpMailTransport::from_url(ok, "stembus.example").is_ok(), "{ok}");
        }
        for bad in [
            "smtp://user:secret@mail.example.org:25",
            "smtp://mail.example.org?tls=opportunistic",
            "http://mail.example.org",
            "smtp://mail.example.org?tls=sometimes",
            "nonsense",
        ] {
            let err = SmtpMailTransport::from_url(bad, "stembus.example").err();
            assert!(err.as_ref().is_some_and(|e| !e.0.contains("secret")), "{bad}: {err:?}");
        }
        let t = SmtpMailTransport::from_url("smtps://u:p%40ss@mail.example.org", "x")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!t.server().contains("p%40ss"), "{}", t.server());
    }

    #[test]
    fn the_file_transport_writes_eml_files_and_answers_the_message_id() {
        let dir = std::env::temp_dir().join(format!("stembus-transport-{}", std::process::id()));
        let t = FileMailTransport::new(dir.clone()).unwrap_or_else(|e| panic!("{e}"));
        let message = sender()
            .plain("lid@coop.example", "Code", "Code: 123", "<m@stembus.coop.example>", at())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.send(&message), Ok("<m@stembus.coop.example>".to_owned()));
        let files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.filter_map(Result::ok).collect()).unwrap_or_default();
        assert_eq!(files.len(), 1);
        assert!(files[0].path().extension().is_some_and(|e| e == "eml"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_server_that_does_not_answer_is_a_temporary_failure() {
        // A port nothing listens on: connection refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let t = SmtpMailTransport::from_url(&format!("smtp://127.0.0.1:{port}"), "stembus.example")
            .unwrap_or_else(|e| panic!("{e}"));
        let message = sender()
            .plain("lid@coop.example", "Code", "Code: 123", "<m@stembus.coop.example>", at())
            .unwrap_or_else(|e| panic!("{e}"));
        let err = t.send(&message).err();
        assert!(err.as_ref().is_some_and(|e| !e.permanent), "{err:?}");
    }
}
