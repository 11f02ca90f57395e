//! The `stembus` command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use stembus::core::{Fact, Outcome, RulesProfile};
use stembus::scenario::{Scenario, StepOutcome};

#[derive(Parser, Debug)]
#[command(
    name = "stembus",
    version,
    about = "Verifiable digital voting for the general meeting of a cooperative association"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Runs the service: the HTTP API on 127.0.0.1:8080 with a SQLite file by default,
    /// creating the database and the service key on first start.
    Serve {
        /// A configuration file (TOML); see the README for its settings.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Loads the demo association (the forty members of Coöperatie Dimpact and their
        /// meeting of 7 December 2022) when it is not there yet.
        #[arg(long)]
        demo: bool,
    },
    /// Runs the database migrations and stops.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Manages the associations the service runs.
    Association {
        #[command(subcommand)]
        command: AssociationCmd,
    },
    /// Replays a meeting described in a scenario file through the rules and prints the
    /// outcome of every poll with the rule that decided it.
    Replay {
        file: PathBuf,
        /// A rules profile (TOML); the Dimpact 2023 statutes when left out.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Print every event as a JSON line instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Prints the built-in rules profile (Dimpact 2023), or checks a profile file.
    Profile {
        /// A profile to check; prints the built-in profile when left out.
        #[arg(long)]
        check: Option<PathBuf>,
    },
    /// Makes a new Ed25519 key for signing ballots, in a key file only you can read, and prints
    /// its public key.
    Keygen(stembus::cli::KeygenArgs),
    /// Signs in with a one-time code sent by e-mail and prints the session token (for
    /// `export STEMBUS_TOKEN=…`).
    SignIn(stembus::cli::SignInArgs),
    /// Enrols the key of a key file as your key in the association.
    Enrol(stembus::cli::EnrolArgs),
    /// Casts a ballot signed with your key, checks the service's receipt and stores it.
    Vote(stembus::cli::VoteArgs),
    /// Casts a vote on a resolution outside a meeting (Art. 8.12), signed with your key, for a
    /// member you represent, and checks the service's receipt.
    ResolutionVote(stembus::cli::ResolutionVoteArgs),
    /// Exports a meeting's log, or verifies an export offline.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Checks a ballot's receipt against the meeting's log.
    Receipt {
        #[command(subcommand)]
        command: stembus::cli::ReceiptCmd,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Verifies a meeting's export offline: the log, every signature, and every event
    /// replayed through the rules; prints the report per poll. Exits with status 1, naming the
    /// first failing entry, when anything does not verify.
    Verify {
        /// The export (`-` for standard input).
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The service's public key as you obtained it (hex); the export must be signed by it.
        #[arg(long)]
        service_key: Option<String>,
        /// Verify every signature on its own (`verify_strict`) instead of in batches.
        #[arg(long)]
        strict: bool,
    },
    /// Writes a meeting's export from the service's own database (on the server; auditors
    /// download it from the API).
    Export {
        #[arg(long)]
        association: String,
        #[arg(long)]
        meeting: String,
        /// Where to write it; standard output when left out.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum AssociationCmd {
    /// Adds an association with its rules profile and its first secretariat member.
    Create {
        /// The association's id: a UUID or a readable key such as `dimpact`.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// Its rules profile (TOML); the Dimpact 2023 statutes when left out.
        #[arg(long)]
        profile: Option<PathBuf>,
        #[arg(long)]
        secretariat_name: String,
        /// Where the secretariat receives its sign-in codes.
        #[arg(long)]
        secretariat_email: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lists the associations.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stembus: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal; a log file gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).try_init();
}

fn store(
    config: Option<&std::path::Path>,
) -> anyhow::Result<(stembus::config::Config, stembus::store::Store)> {
    let config = stembus::config::Config::load(config)?;
    let store = stembus::store::Store::open(&config.database_url)?;
    store.migrate()?;
    Ok((config, store))
}

fn serve(config: Option<PathBuf>, demo: bool) -> anyhow::Result<()> {
    let config = stembus::config::Config::load(config.as_deref())?;
    logging(&config.log);
    let clock: std::sync::Arc<dyn stembus::clock::Clock> = std::sync::Arc::new(stembus::clock::SystemClock);
    let bind = config.bind;
    let database = if config.database_url.starts_with("postgres") {
        "PostgreSQL".to_owned()
    } else {
        format!("SQLite file {}", config.database_url)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let app = stembus::app::Application::build(config, std::sync::Arc::clone(&clock))?;
        if demo {
            let service = std::sync::Arc::clone(&app.service);
            let now = clock.now();
            let loaded = tokio::task::spawn_blocking(move || stembus::app::load_demo(&service, now)).await??;
            if loaded {
                tracing::info!("loaded the demo association 'dimpact'");
            }
            tracing::info!("demo: ask a sign-in code for secretariaat@dimpact.example (secretariat), accountant@dimpact.example (auditor) or johan-dijkstra@example.org (chair) with POST /api/v1/sign-in-links; it arrives in the outbox directory");
        }
        tracing::info!(%bind, port = app.port, %database, "Stembus is listening; API at /api/v1, its description at /api/v1/openapi.json");
        app.run_until_stopped().await?;
        anyhow::Ok(())
    })
}

fn audit(command: AuditCmd) -> anyhow::Result<()> {
    use std::io::{BufReader, Write};
    match command {
        AuditCmd::Verify { file, json, service_key, strict } => {
            let options = stembus::ledger::audit::Options { service_key, strict };
            let report = if file.as_os_str() == "-" {
                stembus::ledger::audit::verify_export(std::io::stdin().lock(), options)
            } else {
                let f =
                    std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
                stembus::ledger::audit::verify_export(BufReader::with_capacity(1 << 20, f), options)
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            match (&report.failure, report.verified) {
                (_, true) => Ok(()),
                (Some(f), false) => {
                    anyhow::bail!("the export does not verify: line {}: {}", f.line, f.reason)
                }
                (None, false) => {
                    anyhow::bail!("the export does not verify: a declaration does not agree with the count")
                }
            }
        }
        AuditCmd::Export { association, meeting, out, config } => {
            let (association, meeting): (stembus::core::AssociationId, stembus::core::MeetingId) =
                (association.parse()?, meeting.parse()?);
            // The service's own database and key: an export makes neither (a new key would sign
            // a header the log's tree heads contradict, and serve would adopt it afterwards).
            let settings = stembus::config::Config::load(config.as_deref())?;
            let url = &settings.database_url;
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                let file =
                    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
                anyhow::ensure!(
                    std::path::Path::new(file).exists(),
                    "there is no database {file}: give the service's configuration (--config or DATABASE_URL)"
                );
            }
            anyhow::ensure!(
                settings.key_file.exists(),
                "there is no service key file {}: give the service's configuration (--config or STEMBUS_KEY_FILE); an export is signed with the service's own key",
                settings.key_file.display()
            );
            let store = stembus::store::Store::open(&settings.database_url)?;
            store.migrate()?;
            let key = stembus::keys::load_or_create(&settings.key_file)?;
            let service = stembus::service::Service::new(store, key);
            for stream in [stembus::store::log::ASSOCIATION_STREAM.to_owned(), meeting.to_string()] {
                if let Some(head) = service.tree_head(association, &stream)? {
                    anyhow::ensure!(
                        head.verify(&service.public_key()).is_ok(),
                        "the key in {} did not sign this database's log: it is not the service's key file",
                        settings.key_file.display()
                    );
                }
            }
            let now = chrono::Utc::now();
            let entries = match out {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    let written =
                        service.export(association, meeting, now, &mut w).map_err(anyhow::Error::from);
                    match written.and_then(|n| {
                        w.flush()?;
                        Ok(n)
                    }) {
                        Ok(n) => n,
                        Err(e) => {
                            // No cut-off export is left behind under the name of a whole one.
                            drop(w);
                            let _ = std::fs::remove_file(&path);
                            return Err(e);
                        }
                    }
                }
                None => service.export(association, meeting, now, &mut std::io::stdout().lock())?,
            };
            eprintln!("exported {entries} entries");
            Ok(())
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Keygen(args) => Ok(stembus::cli::keygen(args)?),
        Cmd::SignIn(args) => Ok(stembus::cli::sign_in(args)?),
        Cmd::Enrol(args) => Ok(stembus::cli::enrol(args)?),
        Cmd::Vote(args) => Ok(stembus::cli::vote(args)?),
        Cmd::ResolutionVote(args) => Ok(stembus::cli::resolution_vote(args)?),
        Cmd::Receipt { command } => Ok(stembus::cli::receipt(command)?),
        Cmd::Audit { command } => audit(command),
        Cmd::Serve { config, demo } => serve(config, demo),
        Cmd::Migrate { config } => {
            let (config, _) = store(config.as_deref())?;
            println!("the database {} is up to date", config.database_url);
            Ok(())
        }
        Cmd::Association { command: AssociationCmd::List { config } } => {
            let (_, store) = store(config.as_deref())?;
            let mut conn = store.connection()?;
            for a in stembus::store::associations::list(&mut conn)? {
                println!("{}  {}  ({})", a.id, a.name, a.profile.name);
            }
            Ok(())
        }
        Cmd::Association {
            command: AssociationCmd::Create { id, name, profile, secretariat_name, secretariat_email, config },
        } => {
            let (config, store) = store(config.as_deref())?;
            let key = stembus::keys::load_or_create(&config.key_file)?;
            let id: stembus::core::AssociationId = id.parse()?;
            let profile = match profile {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => RulesProfile::dimpact_2023_toml().to_owned(),
            };
            let service = stembus::service::Service::new(store, key);
            let person = stembus::app::create_association(
                &service,
                id,
                &name,
                &profile,
                &secretariat_name,
                &secretariat_email,
                chrono::Utc::now(),
            )?;
            println!(
                "association {id} created; {secretariat_name} ({person}) is its secretariat and signs in with {secretariat_email}"
            );
            Ok(())
        }
        Cmd::Profile { check: None } => {
            print!("{}", RulesProfile::dimpact_2023_toml());
            Ok(())
        }
        Cmd::Profile { check: Some(path) } => {
            let profile = RulesProfile::load(&path)?;
            println!("{}: a valid rules profile ({})", path.display(), profile.name);
            Ok(())
        }
        Cmd::Replay { file, profile, json } => {
            let profile = match profile {
                Some(path) => RulesProfile::load(&path)?,
                None => RulesProfile::dimpact_2023(),
            };
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let scenario = Scenario::from_toml(&text)?;
            let title = scenario.title.clone();
            let replay = scenario.replay(profile)?;
            if json {
                for (_, outcome) in &replay.steps {
                    if let StepOutcome::Accepted(events) = outcome {
                        for event in events {
                            println!("{}", serde_json::to_string(event)?);
                        }
                    }
                }
                return Ok(());
            }
            report(title.as_deref(), &replay);
            Ok(())
        }
    }
}

fn report(title: Option<&str>, replay: &stembus::scenario::Replay) {
    events(title, replay);
    for meeting in replay.state.meetings.values().filter(|m| m.phase == stembus::core::Phase::Closed) {
        println!("\n{}", stembus::core::records::minutes(&replay.state, meeting).to_markdown());
    }
}

fn events(title: Option<&str>, replay: &stembus::scenario::Replay) {
    if let Some(title) = title {
        println!("{title}\n");
    }
    let state = &replay.state;
    for (at, outcome) in &replay.steps {
        let local = at.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y-%m-%d %H:%M");
        match outcome {
            StepOutcome::RefusedAsExpected(v) => println!("{local}  refused, as expected: {v}"),
            StepOutcome::Accepted(events) => {
                for event in events {
                    match &event.fact {
                        Fact::MeetingConvened { meeting, convocation } => {
                            let title = state.meetings.get(meeting).map_or("", |m| m.title.as_str());
                            println!(
                                "{local}  convened \"{title}\" ({} statement(s) in the convocation)",
                                convocation.statements.len()
                            );
                        }
                        Fact::MeetingOpened { meeting, chair, .. } => {
                            let title = state.meetings.get(meeting).map_or("", |m| m.title.as_str());
                            println!(
                                "{local}  \"{title}\" opened, chaired by {}",
                                state.register.person_name(*chair)
                            );
                        }
                        Fact::PollClosed { meeting, result, .. } => {
                            let item = state
                                .meetings
                                .get(meeting)
                                .and_then(|m| m.item(result.item))
                                .map_or(String::new(), |i| i.title.clone());
                            let p = &result.presence;
                            println!("{local}  poll on \"{item}\" ({})", result.kind.words());
                            println!(
                                "        for {}, against {}, abstain {}; votes cast {}",
                                result.counts.in_favour,
                                result.counts.against,
                                result.counts.abstain,
                                result.votes_cast
                            );
                            println!(
                                "        present or represented {} of {} in office: {} in person, {} electronically, {} by proxy, {} by advance ballot",
                                p.total(),
                                result.quorum.members_in_office,
                                p.in_person,
                                p.electronically,
                                p.by_proxy,
                                p.by_advance_ballot
                            );
                            println!("        {}", result.explanation);
                            println!(
                                "        decided by {} (Art. {}): {}",
                                result.decided_by.rule, result.decided_by.article, result.decided_by.words
                            );
                        }
                        Fact::ResultDeclared { outcome, by, .. } => {
                            let word = match outcome {
                                Outcome::Adopted => "adopted",
                                Outcome::Rejected => "rejected",
                                Outcome::NoQuorum => "no decision for want of a quorum",
                            };
                            println!("{local}  {} declares: {word}", state.register.person_name(*by));
                        }
                        Fact::DeclarationChallenged { supporters, .. } => {
                            println!(
                                "{local}  the declaration is challenged by {} member(s)",
                                supporters.len()
                            );
                        }
                        Fact::PollVoided { .. } => println!("{local}  the new poll voids the first"),
                        Fact::MeetingClosed { .. } => println!("{local}  meeting closed"),
                        Fact::ResolutionConcluded { result, .. } => {
                            println!("{local}  resolution outside a meeting: {}", result.explanation)
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
