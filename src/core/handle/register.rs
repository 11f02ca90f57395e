//! The member register (Art. 5, 8.5).

use super::*;

impl Decider<'_> {
    pub(super) fn assign_representative(
        &self,
        person: PersonId,
        member: MemberId,
        capacity: Capacity,
    ) -> Decided {
        self.person(person)?;
        self.member(member)?;
        if self.s.register.represents(person, member) {
            return Err(self.refuse(
                Provision::Representation,
                "representative.exists",
                format!("{} already represents {}.", self.person_name(person), self.name(member)),
            ));
        }
        Ok(vec![Fact::RepresentativeAssigned { person, member, capacity }])
    }
}
