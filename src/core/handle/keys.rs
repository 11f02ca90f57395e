//! Keys and signatures (R8): enrolment, rotation and revocation of a person's key, and the
//! check that a ballot, a vote on a resolution outside a meeting, an electronic proxy or a
//! declaration is signed by its author's current key, over the statement's canonical bytes,
//! with a fresh sequence number.

use super::{Decided, Decider};
use crate::core::event::Fact;
use crate::core::ids::{MeetingId, PersonId, PollId};
use crate::core::keys::{KeyBytes, KeySignature, KeyStatus, SignatureBytes, Signed, signatures_in};
use crate::core::model::{Outcome, ProxyForm};
use crate::core::violation::{Provision, RuleViolation};
use crate::ledger::signature::{self, PublicKey};

impl Decider<'_> {
    fn key_refusal(&self, code: &str, message: impl Into<String>) -> RuleViolation {
        self.refuse(Provision::SignedRecord, code, message)
    }

    /// The key is usable: a point Stembus accepts (not weak, canonically encoded). A key in the
    /// association's key ring passed every check when it was enrolled; it is only decoded
    /// again, without the torsion check, which costs as much as verifying a signature. A key
    /// the caller parsed strictly already is taken as the caller found it.
    fn public_key(&self, key: &KeyBytes) -> Result<PublicKey, RuleViolation> {
        let parsed = if self.s.keys.get(key).is_some() {
            PublicKey::from_checked_bytes(&key.0)
        } else if let Some((_, checked)) = self.checked_keys.iter().find(|(k, _)| k == key) {
            checked.clone()
        } else {
            PublicKey::from_bytes(&key.0)
        };
        parsed.map_err(|e| self.key_refusal("key.invalid", format!("The key {key} cannot be used: {e}.")))
    }

    /// Checks `signature` by `key` over `bytes`, strictly, unless signatures were verified
    /// in a batch before (the auditor's replay).
    fn verify(
        &self,
        key: &KeyBytes,
        bytes: &[u8],
        signature: &SignatureBytes,
        what: &str,
    ) -> Result<(), RuleViolation> {
        // A key of the ring needs no decoding when the signatures were verified before, nor
        // when the caller verified exactly this signature.
        let enrolled = self.s.keys.get(key).is_some();
        let verified_before =
            self.verified.is_some_and(|v| v.key == *key && v.signature == *signature && v.bytes == bytes);
        if enrolled && (!self.verify_signatures || verified_before) {
            return Ok(());
        }
        let public = self.public_key(key)?;
        if self.verify_signatures {
            signature::verify(&public, bytes, &signature.0).map_err(|e| {
                self.key_refusal(
                    "signature.invalid",
                    format!("The signature on the {what} does not verify with key {key}: {e}."),
                )
            })?;
        }
        Ok(())
    }

    /// The sequence number is above every one the key signed before.
    fn fresh(&self, key: &KeyBytes, sequence: u64) -> Result<(), RuleViolation> {
        if let Some(record) = self.s.keys.get(key)
            && sequence <= record.last_sequence
        {
            return Err(self.key_refusal(
                "signature.replayed",
                format!(
                    "Sequence number {sequence} is not above {}, the last one key {key} signed: a replayed or reordered statement is refused.",
                    record.last_sequence
                ),
            ));
        }
        Ok(())
    }

    /// `key` is `person`'s current key.
    fn current_key_of(&self, person: PersonId, key: &KeyBytes) -> Result<(), RuleViolation> {
        // Only a refusal names the person: looked up then, not for every signed statement.
        let name = || self.person_name(person);
        match self.s.keys.get(key) {
            Some(r) if r.person == person => match r.status {
                KeyStatus::Current => Ok(()),
                KeyStatus::Rotated => Err(self.key_refusal(
                    "signature.key_rotated",
                    format!(
                        "Key {key} of {name} was replaced by a newer key; sign with that.",
                        name = name()
                    ),
                )),
                KeyStatus::Revoked => Err(self.key_refusal(
                    "signature.key_revoked",
                    format!("Key {key} of {name} was revoked; it signs nothing any more.", name = name()),
                )),
            },
            _ if self.s.keys.current_of(person).is_some() => Err(self.key_refusal(
                "signature.wrong_key",
                format!("Key {key} is not the key of {name}.", name = name()),
            )),
            _ => Err(self.key_refusal(
                "signature.no_key",
                format!("{name} has no key enrolled; enrol one before signing.", name = name()),
            )),
        }
    }

    /// Verifies every signature `fact` carries.
    fn verify_all(&self, fact: &Fact, what: &str) -> Result<(), RuleViolation> {
        for item in signatures_in(self.s, fact) {
            self.verify(&item.key, &item.bytes, &item.signature, what)?;
        }
        Ok(())
    }

    pub(super) fn enrol_key(
        &self,
        person: PersonId,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
    ) -> Decided {
        self.person(person)?;
        if let Some(current) = self.s.keys.current_of(person) {
            return Err(self.key_refusal(
                "key.already_enrolled",
                format!(
                    "{} already has key {}; rotate it or revoke it first.",
                    self.person_name(person),
                    current.key
                ),
            ));
        }
        if self.s.keys.get(&key).is_some() {
            return Err(self.key_refusal(
                "key.reused",
                format!("Key {key} has been enrolled before; a key is enrolled once only."),
            ));
        }
        let fact = Fact::KeyEnrolled { person, key, sequence, signature };
        self.verify_all(&fact, "key enrolment")?;
        Ok(vec![fact])
    }

    pub(super) fn rotate_key(
        &self,
        person: PersonId,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
        new_key_signature: SignatureBytes,
    ) -> Decided {
        self.person(person)?;
        let Some(current) = self.s.keys.current_of(person) else {
            return Err(self.key_refusal(
                "signature.no_key",
                format!("{} has no current key to rotate; enrol one.", self.person_name(person)),
            ));
        };
        let old_key = current.key;
        if self.s.keys.get(&key).is_some() {
            return Err(self.key_refusal(
                "key.reused",
                format!("Key {key} has been enrolled before; a key is enrolled once only."),
            ));
        }
        self.fresh(&old_key, sequence)?;
        let fact = Fact::KeyRotated { person, old_key, key, sequence, signature, new_key_signature };
        self.verify_all(&fact, "key rotation (signed by the current and the new key)")?;
        Ok(vec![fact])
    }

    pub(super) fn revoke_key(
        &self,
        person: PersonId,
        key: KeyBytes,
        signed: Option<KeySignature>,
    ) -> Decided {
        self.person(person)?;
        let record = self.s.keys.get(&key).filter(|r| r.person == person).ok_or_else(|| {
            self.key_refusal(
                "key.unknown",
                format!("Key {key} is not a key of {}.", self.person_name(person)),
            )
        })?;
        if record.status != KeyStatus::Current {
            return Err(self.key_refusal(
                "key.already_retired",
                format!("Key {key} is no longer in use; there is nothing to revoke."),
            ));
        }
        if let Some(s) = &signed {
            self.fresh(&key, s.sequence)?;
        }
        let fact = Fact::KeyRevoked { person, key, signed };
        self.verify_all(&fact, "key revocation")?;
        Ok(vec![fact])
    }

    /// The refusal `{code}.unsigned` of an unsigned `what`.
    fn unsigned(&self, code: &str, what: &str) -> RuleViolation {
        self.key_refusal(
            &format!("{code}.unsigned"),
            format!("A {what} must be signed by its author's enrolled key (R8)."),
        )
    }

    /// Checks the signature `fact` carries: by `person`'s current key, with a fresh sequence
    /// number, over the statement rebuilt from the fact.
    fn check_signed(
        &self,
        person: PersonId,
        signed: &Signed,
        fact: &Fact,
        what: &str,
    ) -> Result<(), RuleViolation> {
        self.current_key_of(person, &signed.key)?;
        self.fresh(&signed.key, signed.sequence)?;
        self.verify_all(fact, what)
    }

    /// Adds the caster's signature to the ballot in `facts`, once it checks.
    pub(super) fn sign_ballot(
        &self,
        facts: &mut [Fact],
        signed: Option<Signed>,
    ) -> Result<(), RuleViolation> {
        for fact in facts.iter_mut() {
            if let Fact::BallotCast { ballot, .. } = fact {
                let signed = signed.ok_or_else(|| self.unsigned("ballot", "ballot"))?;
                ballot.signed = Some(signed);
                let person = ballot.person;
                self.check_signed(person, &signed, fact, "ballot")?;
            }
        }
        Ok(())
    }

    /// Adds the voter's signature to the vote on a resolution outside a meeting in `facts`,
    /// once it checks: signed like a ballot, by the person who casts it.
    pub(super) fn sign_resolution_vote(
        &self,
        facts: &mut [Fact],
        signed: Option<Signed>,
    ) -> Result<(), RuleViolation> {
        for fact in facts.iter_mut() {
            if let Fact::ResolutionVoteCast { ballot, .. } = fact {
                let signed = signed.ok_or_else(|| {
                    self.unsigned("resolution_vote", "vote on a resolution outside a meeting")
                })?;
                ballot.signed = Some(signed);
                let person = ballot.person;
                self.check_signed(person, &signed, fact, "vote on the resolution")?;
            }
        }
        Ok(())
    }

    /// Adds the grantor's representative's signature to the proxy in `facts`, once it checks.
    /// An electronic proxy must be signed; a paper proxy may be.
    pub(super) fn sign_proxy(&self, facts: &mut [Fact], signed: Option<Signed>) -> Result<(), RuleViolation> {
        for fact in facts.iter_mut() {
            if let Fact::ProxyGranted { proxy, .. } = fact {
                let Some(signed) = signed else {
                    if proxy.form == ProxyForm::Electronic {
                        return Err(self.unsigned("proxy", "proxy"));
                    }
                    continue;
                };
                let signer = self.s.keys.get(&signed.key).map(|r| r.person).ok_or_else(|| {
                    self.key_refusal(
                        "signature.unknown_key",
                        format!("Key {} is not enrolled in this association.", signed.key),
                    )
                })?;
                if !self.s.register.represents(signer, proxy.grantor) {
                    return Err(self.key_refusal(
                        "proxy.not_signed_by_representative",
                        format!(
                            "An electronic proxy is signed by a representative of {}; {} is not one.",
                            self.name(proxy.grantor),
                            self.person_name(signer)
                        ),
                    ));
                }
                proxy.signed = Some(signed);
                self.check_signed(signer, &signed, fact, "proxy")?;
            }
        }
        Ok(())
    }

    /// The declaration, once the chair's signature on it checks: the chair signs the outcome
    /// with the counts it rests on.
    pub(super) fn signed_declaration(
        &self,
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        outcome: Outcome,
        signed: Option<Signed>,
    ) -> Result<Fact, RuleViolation> {
        let signed = signed.ok_or_else(|| self.unsigned("declaration", "declaration"))?;
        let fact = Fact::ResultDeclared { meeting, poll, by, outcome, signed };
        self.check_signed(by, &signed, &fact, "declaration")?;
        Ok(fact)
    }
}
