//! Typed identifiers. Every id is a UUID; a readable key such as `assen` stands for the
//! UUID v5 of that key in the Stembus namespace, so fixtures and scenario files can name
//! members and meetings by word while storage and the API see UUIDs only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The namespace under which readable keys become UUIDs (UUID v5). Never change it:
/// stored scenarios and logs depend on it.
pub const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x5fe2_4c1a_9d3e_4b7f_8a10_3c6d_2e90_b1a4);

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// The id with this exact UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The id that a readable key stands for (UUID v5 of `kind:key`).
            pub fn named(key: &str) -> Self {
                Self(Uuid::new_v5(&KEY_NAMESPACE, format!("{}:{}", $prefix, key).as_bytes()))
            }

            pub const fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            /// A UUID in any of its usual spellings, or a readable key of letters, digits,
            /// `-`, `_` and `.` (at most 100 characters).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if let Ok(uuid) = Uuid::parse_str(s) {
                    return Ok(Self(uuid));
                }
                let readable = !s.is_empty()
                    && s.len() <= 100
                    && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if readable {
                    Ok(Self::named(s))
                } else {
                    Err(IdError { kind: stringify!($name), given: s.chars().take(40).collect() })
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The text given for an id is neither a UUID nor a readable key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be a UUID or a key of letters, digits, '-', '_' and '.', not {given:?}")]
pub struct IdError {
    kind: &'static str,
    given: String,
}

id_type!(
    /// An association (a cooperative or society) whose general meetings the service runs.
    AssociationId, "association"
);
id_type!(
    /// A member of the association (a public body, Art. 4.3).
    MemberId, "member"
);
id_type!(
    /// A natural person: a representative, proxy holder, chair, notary or lawyer.
    PersonId, "person"
);
id_type!(
    /// A general meeting.
    MeetingId, "meeting"
);
id_type!(
    /// An item on a meeting's agenda.
    AgendaItemId, "item"
);
id_type!(
    /// A poll (stemming) on an agenda item's motion.
    PollId, "poll"
);
id_type!(
    /// A proxy (volmacht) given for one meeting.
    ProxyId, "proxy"
);
id_type!(
    /// A members' request to convene a meeting (Art. 8.1).
    RequestId, "request"
);
id_type!(
    /// A resolution proposed outside a meeting (Art. 8.12).
    ResolutionId, "resolution"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readable_key_and_its_uuid_name_the_same_member() {
        let by_key: MemberId = "assen".parse().unwrap_or_else(|e| panic!("{e}"));
        let by_uuid: MemberId = by_key.to_string().parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(by_key, by_uuid);
        assert_eq!(by_key, MemberId::named("assen"));
        assert_ne!(MemberId::named("assen"), MemberId::named("emmen"));
    }

    #[test]
    fn kinds_of_id_do_not_collide() {
        assert_ne!(MemberId::named("x").uuid(), PersonId::named("x").uuid());
    }

    #[test]
    fn text_that_is_no_key_is_refused() {
        assert!("two words".parse::<MemberId>().is_err());
        assert!("".parse::<MeetingId>().is_err());
        assert!("a/b".parse::<PollId>().is_err());
    }
}
