//! The member register (Art. 5): members, the natural persons who act for them, and who
//! represents which member (Art. 8.5).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ids::{MemberId, PersonId};

/// What kind of public body a member is; only these may be members (Art. 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    Gemeente,
    Waterschap,
    Provincie,
    Staat,
    /// Another public body with a cooperation agreement (e.g. a joint arrangement).
    OtherPublicBody,
}

/// The language in which a member receives its notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Nl,
    En,
}

/// An e-mail address, checked for form. Registering one is consent to be convened by e-mail
/// (Art. 8.3).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an e-mail address")]
pub struct EmailError(String);

impl FromStr for EmailAddress {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if email_address::EmailAddress::is_valid(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(EmailError(s.chars().take(80).collect()))
        }
    }
}

impl EmailAddress {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub kind: MemberKind,
    pub email: Option<EmailAddress>,
    pub language: Language,
    /// In appeal against termination or expulsion (Art. 6.9): no vote.
    pub suspended: bool,
    /// When the member entered the register: set by `apply` from the time of its
    /// `MemberRegistered` event, never carried in an event (so `None` in the event itself). A
    /// meeting's attendance list names only members registered before it closed.
    #[serde(skip)]
    pub registered_at: Option<super::Instant>,
}

/// A profession that may hold any number of proxies (Art. 8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Notary,
    Lawyer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub email: Option<EmailAddress>,
    pub profession: Option<Profession>,
}

/// How a person is connected to the member it represents (Art. 8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// The member's portfolio holder (wethouder, gedeputeerde, ...).
    PortfolioHolder,
    /// An official, employee or otherwise durably connected person.
    Official,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub members: BTreeMap<MemberId, Member>,
    pub persons: BTreeMap<PersonId, Person>,
    /// Who represents which member, and in what capacity.
    pub representatives: BTreeMap<(PersonId, MemberId), Capacity>,
    /// The chair of the supervisory board, who chairs the general meeting (Art. 8.4).
    pub supervisory_board_chair: Option<PersonId>,
    /// The chair's deputy.
    pub deputy_chair: Option<PersonId>,
}

impl Register {
    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.members.get(&id)
    }

    pub fn person(&self, id: PersonId) -> Option<&Person> {
        self.persons.get(&id)
    }

    pub fn represents(&self, person: PersonId, member: MemberId) -> bool {
        self.representatives.contains_key(&(person, member))
    }

    /// The members a person represents as their own (not by proxy).
    pub fn members_of(&self, person: PersonId) -> BTreeSet<MemberId> {
        self.representatives
            .range((person, MemberId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|((p, _), _)| *p == person)
            .map(|((_, m), _)| *m)
            .collect()
    }

    pub fn is_supervisory_board_chair(&self, person: PersonId) -> bool {
        self.supervisory_board_chair == Some(person)
    }

    pub fn may_chair(&self, person: PersonId) -> bool {
        self.supervisory_board_chair == Some(person) || self.deputy_chair == Some(person)
    }

    pub fn member_name(&self, id: MemberId) -> String {
        self.members.get(&id).map_or_else(|| id.to_string(), |m| m.name.clone())
    }

    pub fn person_name(&self, id: PersonId) -> String {
        self.persons.get(&id).map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// Members not suspended: the members with a vote (Art. 8.6).
    pub fn voting_members(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| !m.suspended)
    }
}
