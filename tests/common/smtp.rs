//! A real SMTP server for the tests: aiosmtpd, from Debian's package `python3-aiosmtpd`, run by
//! Debian's `/usr/bin/python3` on a free port of 127.0.0.1 and delivering into a Maildir the
//! tests read. Like the private PostgreSQL of `db.rs`, the tests start it themselves; it is
//! killed when the [`SmtpServer`] is dropped (or, should the test process die, by a watchdog),
//! and it can be stopped and started again on the same port, as a mail server that goes down.
//!
//! The stock handler `aiosmtpd.handlers.Mailbox` accepts every recipient; a test that needs a
//! refusal names another handler class with [`SmtpServer::start_with`].
#![allow(dead_code)]

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Python, which runs Debian's aiosmtpd.
pub const PYTHON: &str = "/usr/bin/python3";
/// The handler that stores every message in a Maildir (the directory is its argument).
pub const MAILBOX: &str = "aiosmtpd.handlers.Mailbox";

/// How a server speaks TLS, with the certificate of `tests/common/tls/` (for 127.0.0.1 and
/// `localhost`, issued by the test authority of `ca.pem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (SMTPS, port 465's way).
    Smtps,
    /// Plain until STARTTLS, which the server requires before any mail.
    StartTls,
}

/// The directory of the test certificates.
pub fn tls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/tls")
}

/// The test authority's root certificate (PEM), which issued the servers' certificate.
pub fn test_ca_pem() -> Vec<u8> {
    let path = tls_dir().join("ca.pem");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A running (or stopped) aiosmtpd on 127.0.0.1.
#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    handler: String,
    python_path: Option<PathBuf>,
    /// How it speaks TLS, and the name of its certificate's files.
    tls: Option<(TlsMode, &'static str)>,
    child: Option<Child>,
    /// Kills `child` should this test process end without dropping the server.
    watchdog: Option<Child>,
}

impl SmtpServer {
    /// aiosmtpd with the stock Maildir handler, accepting every message.
    pub fn start() -> Self {
        Self::start_with(MAILBOX, None)
    }

    /// aiosmtpd with `handler` (a dotted class path whose `from_cli` takes the Maildir as its one
    /// argument, as `Mailbox` does), imported from `python_path` when given.
    pub fn start_with(handler: &str, python_path: Option<&Path>) -> Self {
        Self::start_full(handler, python_path, None)
    }

    /// aiosmtpd with the stock Maildir handler, speaking TLS as `mode` says, with the
    /// certificate for 127.0.0.1 and `localhost` (`server.pem`).
    pub fn start_tls(mode: TlsMode) -> Self {
        Self::start_full(MAILBOX, None, Some((mode, "server")))
    }

    /// As [`SmtpServer::start_tls`], with the certificate `NAME.pem` (and key `NAME.key`) of
    /// `tests/common/tls/`: `other-name` names only `mail.other.example`.
    pub fn start_tls_with(mode: TlsMode, certificate: &'static str) -> Self {
        Self::start_full(MAILBOX, None, Some((mode, certificate)))
    }

    fn start_full(handler: &str, python_path: Option<&Path>, tls: Option<(TlsMode, &'static str)>) -> Self {
        check_prerequisites();
        let dir = std::env::temp_dir().join(format!("stembus-smtp-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        let mut server = SmtpServer {
            port: free_port(),
            dir,
            handler: handler.to_owned(),
            python_path: python_path.map(Path::to_path_buf),
            tls,
            child: None,
            watchdog: None,
        };
        server.resume();
        server
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP on the loopback interface; for a server speaking
    /// TLS, `smtps://127.0.0.1:PORT` or `smtp://127.0.0.1:PORT?tls=required` (STARTTLS).
    pub fn url(&self) -> String {
        match self.tls {
            None => format!("smtp://127.0.0.1:{}", self.port),
            Some((TlsMode::Smtps, _)) => format!("smtps://127.0.0.1:{}", self.port),
            Some((TlsMode::StartTls, _)) => format!("smtp://127.0.0.1:{}?tls=required", self.port),
        }
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.join("Maildir")
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server; connections to its port are refused until [`SmtpServer::resume`].
    /// The messages it stored stay.
    pub fn stop(&mut self) {
        self.halt();
        // The port is closed once the process is gone; make sure nothing answers any more.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the SMTP server on port {} did not stop", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server (again) on the same port and Maildir, and waits until it greets.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the SMTP server on port {} is running", self.port);
        let log = self.dir.join(format!("aiosmtpd-{}.log", unique()));
        let stderr =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot make {}: {e}", log.display()));
        let mut command = Command::new(PYTHON);
        command
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", &self.handler])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        if let Some((mode, name)) = self.tls {
            let (cert, key) = match mode {
                TlsMode::Smtps => ("--smtpscert", "--smtpskey"),
                TlsMode::StartTls => ("--tlscert", "--tlskey"),
            };
            let dir = tls_dir();
            command
                .arg(cert)
                .arg(dir.join(format!("{name}.pem")))
                .arg(key)
                .arg(dir.join(format!("{name}.key")));
        }
        // The handler's argument, after the options.
        command.arg(self.maildir());
        if let Some(path) = &self.python_path {
            command.env("PYTHONPATH", path);
        }
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run {PYTHON} -m aiosmtpd: {e}"));
        self.watchdog = watchdog(child.id());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("aiosmtpd on 127.0.0.1:{} ended at start ({status}):\n{output}", self.port);
            }
            // A server speaking TLS from the first byte greets only after the handshake: that
            // it accepts connections is enough.
            let ready = match self.tls {
                Some((TlsMode::Smtps, _)) => {
                    TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port)).is_ok()
                }
                _ => greets(self.port),
            };
            if ready {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.halt();
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("aiosmtpd on 127.0.0.1:{} did not answer within 30 s:\n{output}", self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    /// Every message delivered so far, in the order of delivery.
    pub fn messages(&self) -> Vec<Delivered> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir().join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
            .collect();
        // Maildir names begin with the time of delivery in seconds; the modification time
        // orders messages within a second.
        files.sort();
        files.into_iter().map(|(_, path)| Delivered::read(&path)).collect()
    }

    /// Waits (up to 30 s) until at least `count` messages are delivered; returns them all.
    #[track_caller]
    pub fn wait_for(&self, count: usize) -> Vec<Delivered> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if Instant::now() > deadline {
                let subjects: Vec<String> = messages.iter().map(|m| m.subject()).collect();
                panic!("{count} messages expected on the SMTP server, {} came: {subjects:?}", messages.len());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl SmtpServer {
    /// Kills the server and its watchdog, both this process's children, and reaps them.
    fn halt(&mut self) {
        for mut child in [self.child.take(), self.watchdog.take()].into_iter().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.halt();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Fails, naming the Debian package to install, when Python or aiosmtpd is missing.
fn check_prerequisites() {
    let install = "install Debian's package python3-aiosmtpd (apt-get install python3-aiosmtpd), which brings /usr/bin/python3 and aiosmtpd";
    assert!(Path::new(PYTHON).exists(), "the mail tests need {PYTHON} to run an SMTP server: {install}");
    let found = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd.handlers, aiosmtpd.main"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "the mail tests need aiosmtpd, a real SMTP server, for {PYTHON}: {install}");
}

/// Whether something on 127.0.0.1:`port` greets as an SMTP server does (`220 …`).
fn greets(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut banner = [0u8; 3];
    stream.read_exact(&mut banner).is_ok() && &banner == b"220"
}

/// A free port below the kernel's ephemeral range, so that no server bound to port 0 and no
/// outgoing connection takes it while the SMTP server is stopped.
fn free_port() -> u16 {
    let seed = std::process::id() as u64 * 7919 + unique() * 104_729 + nanos();
    (0..2000)
        .map(|i| 20_000 + ((seed + i * 613) % 12_000) as u16)
        .find(|port| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, *port)).is_ok())
        .unwrap_or_else(|| panic!("no free port for the SMTP server between 20000 and 32000"))
}

/// Kills `pid` when this test process ends without dropping the server (a crash, a kill).
fn watchdog(pid: u32) -> Option<Child> {
    let script = format!(
        "while [ -d /proc/{parent} ] && [ -d /proc/{pid} ]; do sleep 1; done; [ -d /proc/{pid} ] && kill {pid}",
        parent = std::process::id(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Delivered messages

/// One part of a message that is not itself multipart.
#[derive(Debug, Clone)]
pub struct Part {
    /// `text/plain`, `text/calendar`, …
    pub mimetype: String,
    pub charset: String,
    /// The parameters of its Content-Type (e.g. `method` of text/calendar).
    pub params: std::collections::BTreeMap<String, String>,
    /// `inline`, `attachment`, … (as written, lowercased), empty when none.
    pub disposition: String,
    /// The file name from Content-Disposition or Content-Type.
    pub filename: Option<String>,
    pub transfer_encoding: Option<String>,
    /// The decoded body, byte for byte.
    pub body: Vec<u8>,
}

impl Part {
    /// The body as text (in its charset).
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone())
            .unwrap_or_else(|e| panic!("the {} part is not UTF-8: {e}", self.mimetype))
    }
}

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: PathBuf,
    /// The message as it crossed the wire: the Maildir stores lines with LF, SMTP sends CRLF.
    pub raw: Vec<u8>,
    /// The envelope's sender (MAIL FROM) and recipients (RCPT TO), which aiosmtpd records in
    /// `X-MailFrom` and `X-RcptTo`.
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message's own headers (name as written, value decoded), in order.
    pub headers: Vec<(String, String)>,
    /// The content types of the whole tree, depth first, with their depth (0: the message).
    pub structure: Vec<(usize, String)>,
    /// The leaves, depth first.
    pub parts: Vec<Part>,
}

impl Delivered {
    pub fn read(path: &Path) -> Self {
        let stored = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let raw = crlf(&stored);
        let mail =
            mailparse::parse_mail(&raw).unwrap_or_else(|e| panic!("{}: not a message: {e}", path.display()));
        let headers: Vec<(String, String)> =
            mail.headers.iter().map(|h| (h.get_key(), h.get_value())).collect();
        let first = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mail_from = first("X-MailFrom");
        let rcpt_to =
            first("X-RcptTo").split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        let (mut structure, mut parts) = (Vec::new(), Vec::new());
        walk(&mail, 0, &mut structure, &mut parts);
        Delivered { path: path.to_path_buf(), raw, mail_from, rcpt_to, headers, structure, parts }
    }

    /// The first header called `name`, decoded (RFC 2047).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }

    /// The header called `name` as it was sent, before decoding, with its folding.
    pub fn raw_header(&self, name: &str) -> Option<String> {
        let end = find(&self.raw, b"\r\n\r\n").unwrap_or(self.raw.len());
        let head = String::from_utf8_lossy(&self.raw[..end]).into_owned();
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(value) = &mut found {
                if line.starts_with([' ', '\t']) {
                    value.push_str("\r\n");
                    value.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                found = Some(value.to_owned());
            }
        }
        found
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The addresses of the `To` header (just the addresses, lowercased).
    pub fn to(&self) -> Vec<String> {
        let value = self.header("To").unwrap_or_default();
        match mailparse::addrparse(&value) {
            Ok(list) => list
                .iter()
                .flat_map(|a| match a {
                    mailparse::MailAddr::Single(s) => vec![s.addr.to_lowercase()],
                    mailparse::MailAddr::Group(g) => g.addrs.iter().map(|s| s.addr.to_lowercase()).collect(),
                })
                .collect(),
            Err(e) => panic!("the To header {value:?} does not parse: {e}"),
        }
    }

    /// The first leaf of this content type.
    pub fn part(&self, mimetype: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.mimetype.eq_ignore_ascii_case(mimetype))
    }

    /// The first part of this content type that is not an attached file.
    pub fn body_part(&self, mimetype: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.mimetype.eq_ignore_ascii_case(mimetype) && p.filename.is_none())
    }

    /// The text/plain body (not an attached text file), decoded.
    #[track_caller]
    pub fn text(&self) -> String {
        self.body_part("text/plain")
            .map(Part::text)
            .unwrap_or_else(|| panic!("no text/plain body in {:?}", self.structure))
    }

    /// The text/html body, decoded.
    #[track_caller]
    pub fn html(&self) -> String {
        self.body_part("text/html")
            .map(Part::text)
            .unwrap_or_else(|| panic!("no text/html body in {:?}", self.structure))
    }

    /// The attached file called `filename`.
    #[track_caller]
    pub fn attachment(&self, filename: &str) -> &Part {
        self.parts.iter().find(|p| p.filename.as_deref() == Some(filename)).unwrap_or_else(|| {
            let names: Vec<_> = self.attachments().iter().map(|p| p.filename.clone()).collect();
            panic!("no attachment {filename} in {:?}: {names:?}", self.subject())
        })
    }

    /// The parts that carry a file name.
    pub fn attachments(&self) -> Vec<&Part> {
        self.parts.iter().filter(|p| p.filename.is_some()).collect()
    }

    /// Whether the message is addressed (envelope and `To`) to `address`.
    pub fn is_for(&self, address: &str) -> bool {
        self.rcpt_to.iter().any(|a| a.eq_ignore_ascii_case(address))
    }
}

fn walk(
    mail: &mailparse::ParsedMail<'_>,
    depth: usize,
    structure: &mut Vec<(usize, String)>,
    parts: &mut Vec<Part>,
) {
    structure.push((depth, mail.ctype.mimetype.to_lowercase()));
    if mail.ctype.mimetype.to_lowercase().starts_with("multipart/") {
        for sub in &mail.subparts {
            walk(sub, depth + 1, structure, parts);
        }
        return;
    }
    let disposition = mail.get_content_disposition();
    let header = |name: &str| {
        mail.headers.iter().find(|h| h.get_key().eq_ignore_ascii_case(name)).map(|h| h.get_value())
    };
    let raw_disposition = header("Content-Disposition").unwrap_or_default();
    let filename = disposition.params.get("filename").or_else(|| mail.ctype.params.get("name")).cloned();
    parts.push(Part {
        mimetype: mail.ctype.mimetype.to_lowercase(),
        charset: mail.ctype.charset.clone(),
        params: mail.ctype.params.clone(),
        disposition: raw_disposition.split(';').next().unwrap_or_default().trim().to_lowercase(),
        filename,
        transfer_encoding: header("Content-Transfer-Encoding").map(|v| v.trim().to_lowercase()),
        body: mail
            .get_body_raw()
            .unwrap_or_else(|e| panic!("a {} part does not decode: {e}", mail.ctype.mimetype)),
    });
}

/// The message with CRLF line ends again, as SMTP carried it (the Maildir keeps LF).
fn crlf(stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + stored.len() / 40);
    let mut previous = 0u8;
    for &b in stored {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
