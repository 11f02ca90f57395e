//! OpenAPI schemas for the core's id types, which know nothing of OpenAPI themselves.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::core::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId,
};

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
