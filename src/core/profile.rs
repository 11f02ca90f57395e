//! The rules profile: the statutes as data. Every fraction, cap, day count, window, decision
//! kind and reading that the core enforces is read from here; the code holds no statute
//! number. The default is the Dimpact 2023 profile (`profiles/dimpact-2023.toml`); another
//! association supplies its own TOML file, and an invalid one is refused with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::calendar::Period;
use super::fraction::Fraction;
use super::violation::Provision;

const DIMPACT_2023: &str = include_str!("../../profiles/dimpact-2023.toml");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesProfile {
    pub name: String,
    pub articles: BTreeMap<Provision, String>,
    pub convocation: ConvocationRules,
    pub members_request: MembersRequestRules,
    pub annual_meeting: AnnualMeetingRules,
    pub advance_voting: AdvanceVotingRules,
    pub proxies: ProxyRules,
    pub written_resolution: WrittenResolutionRules,
    pub decisions: BTreeMap<DecisionKind, DecisionRule>,
    pub readings: Readings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvocationRules {
    /// Whole days between convocation and meeting, neither counted (Art. 8.3).
    pub notice_days: u32,
    /// The same for a meeting convened specially for a statute amendment (Art. 20.3).
    pub special_notice_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersRequestRules {
    pub fraction: Fraction,
    pub board_term: Period,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnualMeetingRules {
    pub before_month: u32,
    pub before_day: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceVotingRules {
    /// The window opens at 00:00 on the day this many days before the meeting's day.
    pub window_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyRules {
    /// Proxies one holding member may exercise besides its own vote.
    pub cap_per_holder: u32,
    /// Holders to whom any number of members may give a proxy.
    pub unlimited_holders: BTreeSet<UnlimitedHolder>,
}

/// Kinds of holder exempt from the cap (Art. 8.5: "onbeperkt in aantal").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlimitedHolder {
    SupervisoryBoardChair,
    Notary,
    Lawyer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrittenResolutionRules {
    pub requires_prior_knowledge: bool,
}

/// The kinds of decision of RULES.md R7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Art. 17.2, 17.4a.
    Ordinary,
    /// Entry fee and contribution (Art. 4.6), leave from the exit rules (Art. 6.3).
    TwoThirds,
    /// Art. 20.1.
    StatuteAmendment,
    /// Art. 21.1.
    Dissolution,
    /// Art. 18.2.
    Regulations,
    /// The entrenched provisions of Art. 20.2.
    Entrenched,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 6] = [
        DecisionKind::Ordinary,
        DecisionKind::TwoThirds,
        DecisionKind::StatuteAmendment,
        DecisionKind::Dissolution,
        DecisionKind::Regulations,
        DecisionKind::Entrenched,
    ];

    pub fn words(self) -> &'static str {
        match self {
            DecisionKind::Ordinary => "ordinary decision",
            DecisionKind::TwoThirds => "two-thirds decision",
            DecisionKind::StatuteAmendment => "statute amendment",
            DecisionKind::Dissolution => "dissolution",
            DecisionKind::Regulations => "regulations",
            DecisionKind::Entrenched => "amendment of an entrenched provision",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRule {
    /// Where the statutes set this kind's majority and quorum.
    pub article: String,
    pub majority: Majority,
    /// The fraction of members in office that must be present or represented.
    pub quorum: Fraction,
    pub notice: Notice,
    /// Only on a proposal of the board approved by the supervisory board (Art. 20.1).
    pub board_proposal_required: bool,
    pub follow_up: FollowUpRule,
}

/// The majority of votes cast that adopts a motion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Majority {
    /// More than this fraction of votes cast ("volstrekte meerderheid" is more than half).
    MoreThan(Fraction),
    /// At least this fraction of votes cast.
    AtLeast(Fraction),
    /// "Met algemene stemmen"; see the reading `unanimity_in_meeting`.
    Unanimous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// `convocation.notice_days`.
    Ordinary,
    /// `convocation.special_notice_days`, with the proposal attached to the convocation.
    Special,
}

/// The new meeting that may decide whatever the attendance after the quorum failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRule {
    pub article: String,
    /// The new meeting is held no earlier than this after the first meeting's day ...
    pub earliest: Period,
    /// ... and no later than this.
    pub latest: Period,
}

/// The readings chosen where the statutes are silent (RULES.md, "Reading").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Readings {
    pub members_in_office: MembersInOffice,
    pub proxies_per_member: u32,
    pub proxy_revocable_until_opening: bool,
    pub proxy_chains: bool,
    pub own_presence_precedes_proxy: bool,
    pub voting_instructions_binding: bool,
    pub advance_ballots_by_proxy_holders: bool,
    pub advance_ballot_counts_as_present: bool,
    pub later_ballot_replaces: bool,
    pub amendment_lapses_advance_ballots: bool,
    pub quorum_taken_at: QuorumMoment,
    pub written_poll: WrittenPoll,
    pub unanimity_in_meeting: UnanimityInMeeting,
    pub unanimity_outside_meeting: UnanimityOutsideMeeting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembersInOffice {
    NotSuspended,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumMoment {
    PollOpen,
    PollClose,
}

/// How a written (secret) poll is held. Secret electronic polls need unlinkable ballots and
/// are not offered yet, so paper is the only mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrittenPoll {
    PaperCountsSignedByChair,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnanimityInMeeting {
    NoneAgainst,
    EveryPresentMemberFor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnanimityOutsideMeeting {
    EveryMemberFor,
    NoneAgainst,
}

/// Why a profile was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read the rules profile {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the rules profile is not valid TOML for Stembus: {0}")]
    Syntax(String),
    #[error("the rules profile is incomplete or inconsistent: {0}")]
    Invalid(String),
}

impl RulesProfile {
    /// The statutes of Coöperatie Dimpact U.A. as amended in 2023.
    pub fn dimpact_2023() -> Self {
        // The file is compiled in and tested; a failure here is a defect in the build itself.
        match Self::from_toml(DIMPACT_2023) {
            Ok(profile) => profile,
            Err(e) => panic!("the built-in Dimpact 2023 profile is invalid: {e}"),
        }
    }

    /// The built-in profile's TOML text, as a starting point for another association.
    pub fn dimpact_2023_toml() -> &'static str {
        DIMPACT_2023
    }

    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let profile: RulesProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax(e.to_string()))?;
        profile.validate()?;
        Ok(profile)
    }

    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Read { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    /// The article of a provision, as these statutes number it.
    pub fn article(&self, provision: Provision) -> &str {
        self.articles.get(&provision).map_or("?", String::as_str)
    }

    pub fn decision(&self, kind: DecisionKind) -> &DecisionRule {
        // `validate` guarantees every kind is present; the fallback is never reached.
        self.decisions.get(&kind).unwrap_or(&FALLBACK_RULE)
    }

    pub fn notice_days(&self, notice: Notice) -> u32 {
        match notice {
            Notice::Ordinary => self.convocation.notice_days,
            Notice::Special => self.convocation.special_notice_days,
        }
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let invalid = |m: String| Err(ProfileError::Invalid(m));
        if self.name.trim().is_empty() {
            return invalid("the profile needs a name".into());
        }
        for provision in Provision::ALL {
            match self.articles.get(&provision) {
                Some(a) if !a.trim().is_empty() => {}
                _ => return invalid(format!("[articles] has no article for {provision:?}")),
            }
        }
        for kind in DecisionKind::ALL {
            let Some(rule) = self.decisions.get(&kind) else {
                return invalid(format!("[decisions] has no rule for {}", kind.words()));
            };
            match rule.majority {
                Majority::MoreThan(f) | Majority::AtLeast(f) if f.is_zero() => {
                    return invalid(format!("the majority for {} cannot be zero", kind.words()));
                }
                Majority::MoreThan(f) if f == Fraction::WHOLE => {
                    return invalid(format!("no count can be more than all votes cast ({})", kind.words()));
                }
                _ => {}
            }
            if rule.article.trim().is_empty() || rule.follow_up.article.trim().is_empty() {
                return invalid(format!("the rule for {} needs its articles", kind.words()));
            }
            if shortest_days(rule.follow_up.latest) < longest_days(rule.follow_up.earliest) {
                return invalid(format!(
                    "the follow-up meeting for {} must be possible: its earliest day ({}) is after its latest ({})",
                    kind.words(),
                    rule.follow_up.earliest.describe(),
                    rule.follow_up.latest.describe()
                ));
            }
        }
        if self.advance_voting.window_days == 0 {
            return invalid("the advance voting window must be at least one day".into());
        }
        if self.convocation.notice_days > 366 || self.convocation.special_notice_days > 366 {
            return invalid("a notice period longer than a year cannot be met".into());
        }
        if self.members_request.fraction.is_zero() {
            return invalid("a members' request needs a positive fraction of the members".into());
        }
        if chrono::NaiveDate::from_ymd_opt(
            2001,
            self.annual_meeting.before_month,
            self.annual_meeting.before_day,
        )
        .is_none()
        {
            return invalid("the annual meeting's deadline is not a day of the year".into());
        }
        if self.readings.proxies_per_member == 0 {
            return invalid("readings.proxies_per_member must be at least 1".into());
        }
        Ok(())
    }
}

fn shortest_days(p: Period) -> u64 {
    match p {
        Period::Days(n) => u64::from(n),
        Period::Weeks(n) => 7 * u64::from(n),
        Period::Months(n) => 28 * u64::from(n),
    }
}

fn longest_days(p: Period) -> u64 {
    match p {
        Period::Days(n) => u64::from(n),
        Period::Weeks(n) => 7 * u64::from(n),
        Period::Months(n) => 31 * u64::from(n),
    }
}

static FALLBACK_RULE: DecisionRule = DecisionRule {
    article: String::new(),
    majority: Majority::Unanimous,
    quorum: Fraction::WHOLE,
    notice: Notice::Special,
    board_proposal_required: true,
    follow_up: FollowUpRule { article: String::new(), earliest: Period::Days(0), latest: Period::Days(0) },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dimpact_profile_is_complete() {
        let p = RulesProfile::dimpact_2023();
        assert_eq!(p.convocation.notice_days, 10);
        assert_eq!(p.proxies.cap_per_holder, 2);
        assert_eq!(p.decision(DecisionKind::StatuteAmendment).quorum, Fraction::TWO_THIRDS);
        assert_eq!(p.article(Provision::ProxyCap), "8.5");
    }

    #[test]
    fn a_profile_without_an_article_is_refused() {
        let text = RulesProfile::dimpact_2023_toml().replace("proxy_cap = \"8.5\"\n", "");
        let err = RulesProfile::from_toml(&text).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("ProxyCap")));
    }

    #[test]
    fn an_impossible_follow_up_window_is_refused() {
        let text = RulesProfile::dimpact_2023_toml().replace(
            "earliest = { days = 14 }, latest = { days = 30 }",
            "earliest = { days = 31 }, latest = { days = 30 }",
        );
        let err = RulesProfile::from_toml(&text).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("must be possible")), "{text}");
    }

    #[test]
    fn unknown_settings_and_bad_fractions_are_refused() {
        let text = format!("{}\n[surprise]\nx = 1\n", RulesProfile::dimpact_2023_toml());
        assert!(matches!(RulesProfile::from_toml(&text), Err(ProfileError::Syntax(_))));
        let text = RulesProfile::dimpact_2023_toml().replacen("quorum = \"1/2\"", "quorum = \"3/2\"", 1);
        assert!(matches!(RulesProfile::from_toml(&text), Err(ProfileError::Syntax(_))));
    }
}
