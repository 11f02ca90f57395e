//! The client's side of `/api/v1`: requests with the session's bearer token, problems turned
//! into [`CliError::Refused`], and the parts of the answers the client reads. The views accept
//! fields they do not know, so a newer service still answers an older client.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{CliError, TOKEN_VARIABLE};
use crate::core::{AssociationId, MeetingId};
use crate::ledger::log::{SignedTreeHead, TreeHead, unhex};
use crate::ledger::merkle::Hash;
use crate::ledger::signature::PublicKey;

/// A connection to one service.
#[derive(Debug)]
pub struct Api {
    base: String,
    http: Client,
    token: Option<String>,
}

impl Api {
    /// The service at `server` (its address with or without `/api/v1`), without a session.
    pub fn new(server: &str) -> Result<Self, CliError> {
        let trimmed = server.trim().trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
        let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://")).ok_or_else(
            || CliError::Usage(format!("--server {server}: give the address with https:// (or http://)")),
        )?;
        if trimmed.starts_with("http://") && !is_loopback(rest) {
            eprintln!(
                "warning: {trimmed} is plain HTTP; the session token and your ballot travel unencrypted"
            );
        }
        let http = Client::builder()
            .user_agent(concat!("stembus-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CliError::Usage(format!("cannot start an HTTP client: {e}")))?;
        Ok(Api { base: format!("{trimmed}/api/v1"), http, token: None })
    }

    /// The service at `server`, with the session token from `STEMBUS_TOKEN`.
    pub fn with_session(server: &str) -> Result<Self, CliError> {
        let api = Self::new(server)?;
        let token = std::env::var(TOKEN_VARIABLE).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(CliError::Usage(format!(
                "not signed in: run `export {TOKEN_VARIABLE}=$(stembus sign-in --server … --association … --email …)` first"
            )));
        };
        Ok(Api { token: Some(token), ..api })
    }

    /// The service's address, without `/api/v1`.
    pub fn server(&self) -> &str {
        self.base.strip_suffix("/api/v1").unwrap_or(&self.base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        let url = self.url(path);
        self.send("GET", &url, self.http.get(&url))
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> Result<T, CliError> {
        let url = self.url(path);
        self.send("POST", &url, self.http.post(&url).json(body))
    }

    fn send<T: DeserializeOwned>(
        &self,
        method: &'static str,
        url: &str,
        request: RequestBuilder,
    ) -> Result<T, CliError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let http = |reason: String| CliError::Http { method, url: url.to_owned(), reason };
        let response: Response = request.send().map_err(|e| http(reason_of(&e)))?;
        let status = response.status();
        let text = response.text().map_err(|e| http(reason_of(&e)))?;
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &text));
        }
        serde_json::from_str(&text)
            .map_err(|e| http(format!("the answer is not what this client expects: {e}")))
    }
}

/// Whether the authority at the start of `rest` (after the scheme) is this machine.
fn is_loopback(rest: &str) -> bool {
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What went wrong: the causes reqwest keeps in a chain under its own message, which only
/// repeats the address.
fn reason_of(e: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        causes.insert(0, "no answer in time".into());
    }
    if causes.is_empty() { e.to_string() } else { causes.join(": ") }
}

/// A refusal from an RFC 9457 problem, or from whatever text came back.
fn refusal(status: u16, text: &str) -> CliError {
    #[derive(Deserialize)]
    struct Problem {
        title: Option<String>,
        detail: Option<String>,
        code: Option<String>,
        rule: Option<String>,
        article: Option<String>,
    }
    match serde_json::from_str::<Problem>(text) {
        Ok(p) => CliError::Refused {
            status,
            code: p.code,
            detail: p.detail.or(p.title).unwrap_or_else(|| "no reason given".into()),
            rule: p.rule,
            article: p.article,
        },
        Err(_) => CliError::Refused {
            status,
            code: None,
            detail: if text.trim().is_empty() {
                "no reason given".into()
            } else {
                text.trim().chars().take(300).collect()
            },
            rule: None,
            article: None,
        },
    }
}

// ---- Views ----------------------------------------------------------------------------------

/// `POST /sessions` and `GET /sessions/current`.
#[derive(Debug, Deserialize)]
pub struct Session {
    pub token: Option<String>,
    pub expires_at: String,
    pub association: String,
    pub person: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `GET /service-key`.
#[derive(Debug, Deserialize)]
pub struct ServiceKey {
    pub algorithm: String,
    pub public_key: String,
}

/// A meeting, as far as a voter needs it.
#[derive(Debug, Deserialize)]
pub struct Meeting {
    pub id: String,
    pub title: String,
    /// `draft`, `convened`, `open` or `closed`.
    pub phase: String,
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
}

#[derive(Debug, Deserialize)]
pub struct AgendaItem {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub struct Poll {
    pub id: String,
    pub item: String,
    pub closed_at: Option<String>,
}

/// One of a person's keys.
#[derive(Debug, Deserialize)]
pub struct Key {
    pub key: String,
    /// `current`, `rotated` or `revoked`.
    pub status: String,
    #[serde(default)]
    pub last_sequence: u64,
    #[serde(default)]
    pub log_receipt: Option<LogReceipt>,
}

/// A signature as the API carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureView {
    pub key: String,
    pub sequence: u64,
    pub signature: String,
}

/// What the service answers to a ballot.
#[derive(Debug, Deserialize)]
pub struct BallotReceipt {
    pub meeting: String,
    pub item: String,
    pub poll: Option<String>,
    pub member: String,
    pub person: String,
    pub choice: String,
    pub via: String,
    pub cast_at: String,
    pub stream_index: i64,
    pub log_receipt: Option<LogReceipt>,
}

/// A resolution outside a meeting, as far as a voter needs it.
#[derive(Debug, Deserialize)]
pub struct Resolution {
    pub id: String,
    pub text: String,
    pub closes_at: String,
    pub open: bool,
}

/// What the service answers to a vote on a resolution outside a meeting.
#[derive(Debug, Deserialize)]
pub struct ResolutionVoteReceipt {
    pub resolution: String,
    pub member: String,
    pub person: String,
    pub choice: String,
    pub cast_at: String,
    pub stream_index: i64,
    pub log_receipt: LogReceipt,
}

/// A signed tree head, as the API and a stored receipt write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHeadView {
    pub association: String,
    pub meeting: Option<String>,
    pub size: u64,
    pub root: String,
    /// RFC 3339 with microseconds.
    pub timestamp: String,
    pub signature: String,
}

/// Proof that an entry is in a log.
#[derive(Debug, Clone, Deserialize)]
pub struct LogReceipt {
    pub leaf_index: u64,
    pub leaf_hash: String,
    pub inclusion_proof: Vec<String>,
    pub tree_head: TreeHeadView,
}

/// `GET …/log/consistency`.
#[derive(Debug, Deserialize)]
pub struct Consistency {
    pub proof: Vec<String>,
}

impl TreeHeadView {
    /// The head as the service signed it; `None` names the field that is malformed.
    pub fn to_signed(&self) -> Result<SignedTreeHead, String> {
        let association: AssociationId =
            self.association.parse().map_err(|e| format!("the head's association: {e}"))?;
        let meeting: Option<MeetingId> = match &self.meeting {
            Some(m) => Some(m.parse().map_err(|e| format!("the head's meeting: {e}"))?),
            None => None,
        };
        let root = hash(&self.root).ok_or("the head's root is not a 64-digit hex hash")?;
        let timestamp = chrono::DateTime::parse_from_rfc3339(&self.timestamp)
            .map_err(|e| format!("the head's timestamp {}: {e}", self.timestamp))?
            .with_timezone(&chrono::Utc);
        let signature: [u8; 64] = unhex(&self.signature)
            .and_then(|b| b.try_into().ok())
            .ok_or("the head's signature is not 128 hex digits")?;
        Ok(SignedTreeHead {
            head: TreeHead { association, meeting, size: self.size, root, timestamp },
            signature,
        })
    }
}

/// A SHA-256 hash from 64 hex digits.
pub fn hash(text: &str) -> Option<Hash> {
    unhex(text)?.try_into().ok()
}

/// The hashes of a proof; names the first that is not a 64-digit hex hash.
pub fn hashes(proof: &[String]) -> Result<Vec<Hash>, String> {
    proof
        .iter()
        .enumerate()
        .map(|(i, h)| {
            hash(h).ok_or_else(|| format!("hash {i} of the proof ({h}) is not a 64-digit hex hash"))
        })
        .collect()
}

/// The service's public key, as `GET /service-key` gives it.
pub fn service_key(api: &Api) -> Result<PublicKey, CliError> {
    let key: ServiceKey = api.get("/service-key")?;
    if key.algorithm != "ed25519" {
        return Err(CliError::Verification(format!(
            "the service signs with {}, which this client does not know",
            key.algorithm
        )));
    }
    PublicKey::from_hex(&key.public_key).map_err(|e| {
        CliError::Verification(format!("the service key {} cannot be used: {e}", key.public_key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_spared_the_plain_http_warning() {
        assert!(is_loopback("127.0.0.1:8080/api/v1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]:8080"));
        assert!(!is_loopback("stembus.example.org"));
        assert!(!is_loopback("10.0.0.1:8080"));
        assert!(!is_loopback("localhost.example.org"));
    }

    #[test]
    fn the_address_may_name_the_api_or_not() {
        for server in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/api/v1/"] {
            let api = Api::new(server).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(api.server(), "http://127.0.0.1:8080");
            assert_eq!(api.url("/service-key"), "http://127.0.0.1:8080/api/v1/service-key");
        }
        assert!(Api::new("stembus.example.org").is_err());
    }

    #[test]
    fn a_problem_reads_as_a_refusal_with_its_rule() {
        let text = r#"{"type":"about:blank","title":"Refused","status":422,"detail":"Sequence number 3 is not above 5.","code":"signature.replayed","rule":"R8","article":"17.6"}"#;
        assert_eq!(
            refusal(422, text).to_string(),
            "the service refused (422 signature.replayed): Sequence number 3 is not above 5. [R8, Art. 17.6]"
        );
        assert_eq!(refusal(502, "").to_string(), "the service refused (502): no reason given");
    }
}
