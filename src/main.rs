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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
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
