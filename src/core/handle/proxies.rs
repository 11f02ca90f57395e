//! Proxies (Art. 8.5): who may hold them, the cap, the deadline, revocation.

use super::*;
use crate::core::register::Profession;

impl Decider<'_> {
    pub(super) fn grant_proxy(&self, m: &Meeting, proxy: Proxy) -> Decided {
        match m.phase {
            Phase::Convened => {}
            Phase::Draft => {
                return Err(self.refuse(
                    Provision::ProxyDeadline,
                    "proxy.meeting_not_convened",
                    format!("\"{}\" has not been convened yet.", m.title),
                ));
            }
            Phase::Open | Phase::Closed => {
                return Err(self.refuse(
                    Provision::ProxyDeadline,
                    "proxy.after_opening",
                    format!(
                        "A proxy must reach the chair before the meeting opens; \"{}\" opened at {}.",
                        m.title,
                        m.opened_at.map_or_else(String::new, local)
                    ),
                ));
            }
        }
        if m.proxies.contains_key(&proxy.id) {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.exists",
                format!("Proxy {} is already recorded.", proxy.id),
            ));
        }
        let grantor = self.member(proxy.grantor)?;
        if grantor.suspended {
            return Err(self.refuse(
                Provision::Suspension,
                "proxy.suspended_grantor",
                format!("{} is suspended and has no vote to give by proxy.", grantor.name),
            ));
        }
        for item in proxy.instructions.keys() {
            self.motion(m, *item)?;
        }
        let readings = &self.s.profile.readings;
        let in_force = m.proxies_in_force().filter(|p| p.grantor == proxy.grantor).count();
        if in_force as u64 >= u64::from(readings.proxies_per_member) {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.one_per_member",
                format!("{} already has a proxy in force for this meeting; revoke it first.", grantor.name),
            ));
        }
        let unlimited = &self.s.profile.proxies.unlimited_holders;
        let (exempt, holder_words) = match proxy.holder {
            ProxyHolder::Member { member } => {
                if member == proxy.grantor {
                    return Err(self.refuse(
                        Provision::Representation,
                        "proxy.to_self",
                        "A member cannot give a proxy to itself.",
                    ));
                }
                let holder = self.member(member)?;
                if holder.suspended {
                    return Err(self.refuse(
                        Provision::Suspension,
                        "proxy.suspended_holder",
                        format!("{} is suspended and cannot act for another member.", holder.name),
                    ));
                }
                if !readings.proxy_chains && m.proxy_of(member).is_some() {
                    return Err(self.refuse(Provision::Representation, "proxy.chain", format!("{} has given its own proxy away, so it cannot act for {}: a proxy is not passed on.", holder.name, grantor.name)));
                }
                (false, holder.name.clone())
            }
            ProxyHolder::ConnectedPerson { person } => {
                self.person(person)?;
                if !self.s.register.represents(person, proxy.grantor) {
                    return Err(self.refuse(
                        Provision::Representation,
                        "proxy.not_connected",
                        format!(
                            "{} is not registered as an official or employee of {}.",
                            self.person_name(person),
                            grantor.name
                        ),
                    ));
                }
                (false, self.person_name(person))
            }
            ProxyHolder::SupervisoryBoardChair { person } => {
                self.person(person)?;
                if !self.s.register.is_supervisory_board_chair(person) {
                    return Err(self.refuse(
                        Provision::ProxyCap,
                        "proxy.not_supervisory_board_chair",
                        format!("{} is not the chair of the supervisory board.", self.person_name(person)),
                    ));
                }
                (unlimited.contains(&UnlimitedHolder::SupervisoryBoardChair), self.person_name(person))
            }
            ProxyHolder::Notary { person } | ProxyHolder::Lawyer { person } => {
                let p = self.person(person)?;
                let (needed, kind) = match proxy.holder {
                    ProxyHolder::Notary { .. } => (Profession::Notary, UnlimitedHolder::Notary),
                    _ => (Profession::Lawyer, UnlimitedHolder::Lawyer),
                };
                if p.profession != Some(needed) {
                    return Err(self.refuse(
                        Provision::ProxyCap,
                        "proxy.not_notary_or_lawyer",
                        format!(
                            "{} is not registered as a {}.",
                            p.name,
                            if needed == Profession::Notary { "notary" } else { "lawyer" }
                        ),
                    ));
                }
                (unlimited.contains(&kind), p.name.clone())
            }
        };
        if !readings.proxy_chains {
            let holds =
                m.proxies_in_force().any(|p| p.holder == ProxyHolder::Member { member: proxy.grantor });
            if holds {
                return Err(self.refuse(Provision::Representation, "proxy.chain", format!("{} holds proxies of other members and cannot pass them on by giving its own proxy away.", grantor.name)));
            }
        }
        if !exempt {
            let cap = self.s.profile.proxies.cap_per_holder;
            let held = m.proxies_in_force().filter(|p| same_holder(p.holder, proxy.holder)).count() as u64;
            if held >= u64::from(cap) {
                return Err(self.refuse(Provision::ProxyCap, "proxy.cap_exceeded", format!("{holder_words} already acts by proxy for {held} members; a holder may act for at most {cap} members besides its own (proxies to the chair of the supervisory board, a notary or a lawyer are not limited).")));
            }
        }
        Ok(vec![Fact::ProxyGranted { meeting: m.id, proxy }])
    }

    pub(super) fn revoke_proxy(&self, meeting: MeetingId, proxy: ProxyId) -> Decided {
        let m = self.meeting(meeting)?;
        let Some(p) = m.proxies.get(&proxy) else {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.unknown",
                format!("There is no proxy {proxy} for this meeting."),
            ));
        };
        if p.revoked_at.is_some() {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.already_revoked",
                "This proxy has already been revoked.",
            ));
        }
        if !self.s.profile.readings.proxy_revocable_until_opening {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.not_revocable",
                "Under these statutes a proxy cannot be revoked.",
            ));
        }
        if m.phase != Phase::Convened {
            return Err(self.refuse(
                Provision::ProxyDeadline,
                "proxy.revoked_after_opening",
                "A proxy can be revoked only until the meeting opens.",
            ));
        }
        Ok(vec![Fact::ProxyRevoked { meeting, proxy }])
    }
}
