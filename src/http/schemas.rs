//! OpenAPI schemas for the core's id types, which know nothing of OpenAPI themselves.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::core::register::{Capacity, Language, MemberKind, Profession};
use crate::core::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId,
};
use crate::core::{Choice, DecisionKind, Instruction, Mode, Outcome, PollMethod};

macro_rules! id_schema {
    ($($t:ty),*) => {$(
        impl utoipa::PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("A UUID, or a readable key of letters, digits, '-', '_' and '.' that stands for the UUID v5 of that key"))
                    .max_length(Some(100))
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {}
    )*};
}

id_schema!(
    AgendaItemId,
    AssociationId,
    MeetingId,
    MemberId,
    PersonId,
    PollId,
    ProxyId,
    RequestId,
    ResolutionId
);

/// The author's signature on a statement, as request bodies carry it (docs/encoding.md).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SignatureSchema {
    /// The signer's public Ed25519 key: 64 hexadecimal digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub key: String,
    /// The signer's sequence number, above every one this key signed before.
    pub sequence: u64,
    /// The Ed25519 signature over the statement's canonical bytes: 128 hexadecimal digits.
    #[schema(pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}

/// An OpenAPI string enum for a core enum, with the exact names serde reads and writes, so that
/// the document says which values a field takes (a client or a generator need not guess them).
macro_rules! enum_schema {
    ($($t:ident: $description:literal { $($variant:ident => $name:literal),+ $(,)? })*) => {
        $(
            impl utoipa::PartialSchema for $t {
                fn schema() -> RefOr<Schema> {
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some($description))
                        .enum_values(Some([$($name),+]))
                        .into()
                }
            }

            impl utoipa::ToSchema for $t {}
        )*

        /// Every variant of every enum above with the name the document gives it. The match
        /// is exhaustive, so a new variant cannot be left out of the document.
        #[cfg(test)]
        fn documented_names() -> Vec<(serde_json::Value, &'static str)> {
            let mut all: Vec<(serde_json::Value, &'static str)> = Vec::new();
            $({
                fn listed(variant: $t) -> &'static str {
                    match variant {
                        $($t::$variant => $name),+
                    }
                }
                for variant in [$($t::$variant),+] {
                    all.push((serde_json::to_value(variant).unwrap_or_default(), listed(variant)));
                    let back: Option<$t> = serde_json::from_value(serde_json::json!(listed(variant))).ok();
                    assert_eq!(back, Some(variant), "{} does not read {:?}", stringify!($t), listed(variant));
                }
            })*
            all
        }
    };
}

enum_schema! {
    Choice: "A ballot's choice" { For => "for", Against => "against", Abstain => "abstain" }
    Instruction: "A proxy's voting instruction for an agenda item" {
        For => "for", Against => "against", Abstain => "abstain", Free => "free"
    }
    Outcome: "The outcome of a poll" { Adopted => "adopted", Rejected => "rejected", NoQuorum => "no_quorum" }
    DecisionKind: "The kind of decision a motion needs, which sets its quorum and majority" {
        Ordinary => "ordinary", TwoThirds => "two_thirds", StatuteAmendment => "statute_amendment",
        Dissolution => "dissolution", Regulations => "regulations", Entrenched => "entrenched"
    }
    Mode: "How a member attends" { InPerson => "in_person", Electronic => "electronic" }
    PollMethod: "How a poll is held" { Electronic => "electronic", Voice => "voice", Written => "written" }
    MemberKind: "The kind of public body a member is (Art. 4.3)" {
        Gemeente => "gemeente", Waterschap => "waterschap", Provincie => "provincie", Staat => "staat",
        OtherPublicBody => "other_public_body"
    }
    Language: "The language of a member's mail" { Nl => "nl", En => "en" }
    Profession: "A person's profession, for a proxy to a notary or a lawyer" { Notary => "notary", Lawyer => "lawyer" }
    Capacity: "In which capacity a person represents a member" {
        PortfolioHolder => "portfolio_holder", Official => "official"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_is_documented_with_the_names_serde_uses() {
        let all = documented_names();
        assert!(all.len() >= 30);
        for (value, name) in all {
            assert_eq!(value, serde_json::json!(name), "a variant is written otherwise than documented");
        }
    }
}
