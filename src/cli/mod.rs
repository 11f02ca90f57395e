//! The voter's command-line client: `stembus keygen`, `sign-in`, `enrol`, `vote` and
//! `receipt check`. It speaks to a Stembus service over HTTP(S) like any other client, signs on
//! the voter's own machine with a key that never leaves its file, and checks what the service
//! answers with the service's public key rather than taking its word.
//!
//! - [`keyfile`]: the voter's key file (JSON, mode 0600) with the last sequence number used.
//! - [`client`]: the HTTP client and the views of the API it reads.
//! - [`vote`]: signing in, enrolling the key, casting a signed ballot.
//! - [`receipt`]: the receipt a ballot leaves, checked when it is cast and later against the
//!   log's latest signed head.
//!
//! The session token comes from the environment variable `STEMBUS_TOKEN`, which `stembus
//! sign-in` prints for the shell to keep: `export STEMBUS_TOKEN=$(stembus sign-in …)`. It is
//! never written to a file by the client.

pub mod client;
pub mod keyfile;
pub mod receipt;
pub mod vote;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::core::Choice;

/// The environment variable that carries the session token.
pub const TOKEN_VARIABLE: &str = "STEMBUS_TOKEN";

/// Why a command of the client failed. Every message says what was being done and what went
/// wrong, in words a voter can act on.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command cannot run as given.
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("the key file {path} cannot be used: {reason}")]
    KeyFile { path: String, reason: String },
    /// The service could not be reached, or its answer could not be read.
    #[error("{method} {url}: {reason}")]
    Http { method: &'static str, url: String, reason: String },
    /// The service answered with a refusal (an RFC 9457 problem).
    #[error("the service refused ({status}{}): {detail}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), provision(rule.as_deref(), article.as_deref()))]
    Refused {
        status: u16,
        code: Option<String>,
        detail: String,
        rule: Option<String>,
        article: Option<String>,
    },
    /// What the service answered does not verify: a signature, a proof or a field that does not
    /// match what was asked.
    #[error("{0}")]
    Verification(String),
}

fn provision(rule: Option<&str>, article: Option<&str>) -> String {
    match (rule, article) {
        (Some(r), Some(a)) => format!(" [{r}, Art. {a}]"),
        (Some(r), None) => format!(" [{r}]"),
        (None, Some(a)) => format!(" [Art. {a}]"),
        (None, None) => String::new(),
    }
}

/// Where the service is.
#[derive(Args, Debug, Clone)]
pub struct ServerArg {
    /// The service's address, e.g. `https://stembus.example.org` (`/api/v1` is added).
    #[arg(long, value_name = "URL")]
    pub server: String,
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// The key file to write (JSON, readable by its owner only); never overwritten.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct SignInArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The association, by id or key (e.g. `dimpact`).
    #[arg(long)]
    pub association: String,
    /// The e-mail address registered for you; the one-time code is sent there.
    #[arg(long)]
    pub email: String,
}

#[derive(Args, Debug)]
pub struct EnrolArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The association, by id or key (e.g. `dimpact`).
    #[arg(long)]
    pub association: String,
    /// The key file made by `stembus keygen`.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

#[derive(Args, Debug)]
pub struct VoteArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The association, by id or key (e.g. `dimpact`).
    #[arg(long)]
    pub association: String,
    /// The meeting, by id or key.
    #[arg(long)]
    pub meeting: String,
    /// The agenda item whose motion you vote on, by id or key.
    #[arg(long)]
    pub item: String,
    /// The member you vote for: one you represent, or whose proxy you hold.
    #[arg(long)]
    pub member: String,
    #[arg(long, value_enum)]
    pub choice: ChoiceArg,
    /// The key file made by `stembus keygen` and enrolled with `stembus enrol`.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where the receipt is stored; the key file's directory when left out.
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ResolutionVoteArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The association, by id or key (e.g. `dimpact`).
    #[arg(long)]
    pub association: String,
    /// The resolution outside a meeting, by id or key.
    #[arg(long)]
    pub resolution: String,
    /// The member you vote for: one you represent.
    #[arg(long)]
    pub member: String,
    #[arg(long, value_enum)]
    pub choice: ChoiceArg,
    /// The key file made by `stembus keygen` and enrolled with `stembus enrol`.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where the receipt is stored; the key file's directory when left out.
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ReceiptCmd {
    /// Checks a ballot's receipt against the meeting's latest signed head: the head's
    /// signature, that it extends the head in the receipt, and that the ballot is in it.
    Check {
        #[command(flatten)]
        server: ServerArg,
        /// The receipt file that `stembus vote` stored.
        #[arg(value_name = "RECEIPT_FILE")]
        file: PathBuf,
    },
}

/// A voter's choice on a motion.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceArg {
    For,
    Against,
    Abstain,
}

impl ChoiceArg {
    pub fn choice(self) -> Choice {
        match self {
            ChoiceArg::For => Choice::For,
            ChoiceArg::Against => Choice::Against,
            ChoiceArg::Abstain => Choice::Abstain,
        }
    }
}

/// The word the API uses for a choice.
pub fn choice_word(choice: Choice) -> &'static str {
    match choice {
        Choice::For => "for",
        Choice::Against => "against",
        Choice::Abstain => "abstain",
    }
}

/// `stembus keygen`: a new Ed25519 key from the operating system's random numbers, in a new
/// key file; prints the public key.
pub fn keygen(args: KeygenArgs) -> Result<(), CliError> {
    let file = keyfile::KeyFile::generate(&args.out)?;
    eprintln!(
        "wrote a new key to {} (readable by you only); enrol it with `stembus enrol`",
        args.out.display()
    );
    println!("{}", file.public_hex());
    Ok(())
}

/// `stembus sign-in`.
pub fn sign_in(args: SignInArgs) -> Result<(), CliError> {
    vote::sign_in(&args)
}

/// `stembus enrol`.
pub fn enrol(args: EnrolArgs) -> Result<(), CliError> {
    vote::enrol(&args)
}

/// `stembus vote`.
pub fn vote(args: VoteArgs) -> Result<(), CliError> {
    vote::vote(&args)
}

/// `stembus resolution-vote`.
pub fn resolution_vote(args: ResolutionVoteArgs) -> Result<(), CliError> {
    vote::resolution_vote(&args)
}

/// `stembus receipt …`.
pub fn receipt(command: ReceiptCmd) -> Result<(), CliError> {
    match command {
        ReceiptCmd::Check { server, file } => receipt::check(&server.server, &file),
    }
}
