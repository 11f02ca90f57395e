//! Scenarios: a meeting described in a TOML file as a list of commands at moments, replayed
//! through the core. A step may say it expects to be refused (`expect = "proxy.after_opening"`),
//! so a scenario can show the rules at work. Ballots, electronic proxies and declarations are
//! signed on replay with their authors' scenario keys (`ledger::author`), enrolled when an author
//! first signs. The command-line `stembus replay` prints the
//! outcome of every poll with the rule that decided it.
//!
//! ```toml
//! step = [
//!   { at = "2022-11-15T10:00:00+01:00", command = "register_member", member = "assen", name = "Gemeente Assen", kind = "gemeente" },
//!   { command = "suspend_member", member = "assen" },   # same moment as the step before
//! ]
//! ```

use serde::Deserialize;

use crate::core::{
    Association, AssociationId, Command, Event, Instant, RuleViolation, RulesProfile, execute,
};
use crate::ledger::author::with_scenario_signatures;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub title: Option<String>,
    pub step: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    /// When the command is given; the moment of the step before when left out.
    #[serde(default)]
    pub at: Option<Instant>,
    /// The code of the violation this step must be refused with.
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(flatten)]
    pub command: Command,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario is not valid: {0}")]
    Syntax(String),
    #[error("step {step}: the first step needs a moment (`at`)")]
    NoTime { step: usize },
    #[error("step {step}: moments must not go back in time ({at} is before {previous})")]
    BackInTime { step: usize, at: Instant, previous: Instant },
    #[error("step {step} was refused: {violation}")]
    Refused { step: usize, violation: RuleViolation },
    #[error("step {step} should have been refused with {expected} but was {got}")]
    Unexpected { step: usize, expected: String, got: String },
}

/// What happened at one step.
#[derive(Debug)]
pub enum StepOutcome {
    Accepted(Vec<Event>),
    RefusedAsExpected(RuleViolation),
}

#[derive(Debug)]
pub struct Replay {
    pub state: Association,
    /// What happened, in order: each step's outcome, preceded by the enrolment of its author's
    /// scenario key when the step was the author's first signature.
    pub steps: Vec<(Instant, StepOutcome)>,
}

impl Scenario {
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        toml::from_str(text).map_err(|e| ScenarioError::Syntax(e.to_string()))
    }

    /// Runs every step through the core. Stops at the first step that does not go as the
    /// scenario says.
    pub fn replay(self, profile: RulesProfile) -> Result<Replay, ScenarioError> {
        self.replay_as(AssociationId::from_uuid(uuid::Uuid::nil()), profile)
    }

    /// [`Scenario::replay`] for the association `id`, whose id the signatures bind.
    pub fn replay_as(self, id: AssociationId, profile: RulesProfile) -> Result<Replay, ScenarioError> {
        let mut state = Association::with_id(id, profile);
        let mut steps = Vec::with_capacity(self.step.len());
        let mut clock: Option<Instant> = None;
        for (index, step) in self.step.into_iter().enumerate() {
            let number = index + 1;
            let at = match (step.at, clock) {
                (Some(at), Some(previous)) if at < previous => {
                    return Err(ScenarioError::BackInTime { step: number, at, previous });
                }
                (Some(at), _) => at,
                (None, Some(previous)) => previous,
                (None, None) => return Err(ScenarioError::NoTime { step: number }),
            };
            clock = Some(at);
            // The authors sign with their scenario keys, enrolled on first use.
            let (enrolment, command) = with_scenario_signatures(&state, step.command);
            if let Some(enrolment) = enrolment {
                let events = execute(&mut state, enrolment, at)
                    .map_err(|violation| ScenarioError::Refused { step: number, violation })?;
                steps.push((at, StepOutcome::Accepted(events)));
            }
            let outcome = execute(&mut state, command, at);
            match (outcome, step.expect) {
                (Ok(events), None) => steps.push((at, StepOutcome::Accepted(events))),
                (Err(violation), None) => return Err(ScenarioError::Refused { step: number, violation }),
                (Err(violation), Some(code)) if violation.code == code => {
                    steps.push((at, StepOutcome::RefusedAsExpected(violation)));
                }
                (Err(violation), Some(code)) => {
                    return Err(ScenarioError::Unexpected {
                        step: number,
                        expected: code,
                        got: format!("refused with {}: {violation}", violation.code),
                    });
                }
                (Ok(_), Some(code)) => {
                    return Err(ScenarioError::Unexpected {
                        step: number,
                        expected: code,
                        got: "accepted".into(),
                    });
                }
            }
        }
        Ok(Replay { state, steps })
    }
}
