//! The office's trunks to its providers: each one's link (registration and
//! keep-alive, [`TrunkLink`]) and the address its requests go to. Office-wide state, not
//! a call's: the engine sends what the links want and hands them their answers.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use switchboard_sip::service::Service;
use switchboard_sip::transaction::{ClientId, Peer, Transport};
use switchboard_sip::trunk_registration::{
    LinkConfig, LinkIds, LinkState, Local, Purpose, TrunkLink,
};

use crate::legs::ids::Ids;

/// One trunk as the configuration gives it, its provider's address resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkSetup {
    pub name: String,
    pub link: LinkConfig,
    /// Where its requests go: the provider, or the outbound proxy before it.
    pub peer: Peer,
}

/// A trunk's status, as the wallboard, `/health` and the API show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkStatus {
    pub name: String,
    pub state: LinkState,
    /// When the state last changed.
    pub since: SystemTime,
    pub round_trip: Option<Duration>,
    pub public: Option<std::net::SocketAddr>,
    pub retry_at: Option<SystemTime>,
}

#[derive(Debug)]
struct Trunk {
    setup: TrunkSetup,
    link: TrunkLink,
}

#[derive(Debug, Default)]
pub(crate) struct Trunks {
    /// By a number that outlives configuration changes, so a late answer never
    /// reaches another trunk.
    trunks: BTreeMap<u64, Trunk>,
    /// Removed trunks still to say goodbye (their unregistration).
    leaving: Vec<Trunk>,
    sent: HashMap<ClientId, (u64, Purpose)>,
    next: u64,
}

impl Trunks {
    /// Takes the configuration's trunks: one whose setup is unchanged keeps its link
    /// (and registration); a changed one starts afresh; a removed one unregisters.
    /// `local` says where Switchboard listens for each transport.
    pub fn set(
        &mut self,
        now: Instant,
        setups: Vec<TrunkSetup>,
        ids: &mut Ids,
        local: impl Fn(Transport) -> Local,
    ) {
        let mut old = std::mem::take(&mut self.trunks);
        for setup in setups {
            let kept = old
                .iter()
                .find(|(_, t)| t.setup == setup)
                .map(|(&key, _)| key);
            match kept.and_then(|key| Some((key, old.remove(&key)?))) {
                Some((key, trunk)) => {
                    self.trunks.insert(key, trunk);
                }
                None => {
                    let link = TrunkLink::new(
                        now,
                        setup.link.clone(),
                        LinkIds {
                            call_id: ids.token(),
                            from_tag: ids.token(),
                        },
                        local(setup.peer.transport),
                    );
                    self.next += 1;
                    self.trunks.insert(self.next, Trunk { setup, link });
                }
            }
        }
        for mut gone in old.into_values() {
            gone.link.stop(now);
            self.leaving.push(gone);
        }
        let trunks = &self.trunks;
        self.sent.retain(|_, (key, _)| trunks.contains_key(key));
    }

    /// Sends every request a link wants now.
    pub fn send_due(&mut self, now: Instant, sip: &mut Service, ids: &mut Ids) {
        let mut fresh = || ids.token();
        for (&key, trunk) in &mut self.trunks {
            while let Some((request, purpose)) = trunk.link.poll_request(now, &mut fresh) {
                if let Some(id) = sip.send_request(now, request, trunk.setup.peer) {
                    self.sent.insert(id, (key, purpose));
                }
            }
        }
        for mut gone in std::mem::take(&mut self.leaving) {
            while let Some((request, _)) = gone.link.poll_request(now, &mut fresh) {
                // The provider's answer to a goodbye changes nothing here.
                let _ = sip.send_request(now, request, gone.setup.peer);
            }
        }
    }

    /// A response to one of the trunks' requests; false when `id` is none of theirs.
    pub fn answered(&mut self, now: Instant, id: ClientId, response: &rsip::Response) -> bool {
        if response.status_code.code() < 200 {
            return self.sent.contains_key(&id);
        }
        let Some((key, purpose)) = self.sent.remove(&id) else {
            return false;
        };
        if let Some(trunk) = self.trunks.get_mut(&key) {
            trunk.link.handle_response(now, purpose, response);
        }
        true
    }

    /// A trunk's request that was never answered; false when `id` is none of theirs.
    pub fn timed_out(&mut self, now: Instant, id: ClientId) -> bool {
        let Some((key, purpose)) = self.sent.remove(&id) else {
            return false;
        };
        if let Some(trunk) = self.trunks.get_mut(&key) {
            trunk.link.handle_no_answer(now, purpose);
        }
        true
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.trunks
            .values()
            .filter_map(|t| t.link.poll_timeout())
            .min()
    }

    pub fn statuses(&self, wall: impl Fn(Instant) -> SystemTime) -> Vec<TrunkStatus> {
        self.trunks
            .values()
            .map(|t| {
                let s = t.link.status();
                TrunkStatus {
                    name: t.setup.name.clone(),
                    state: s.state.clone(),
                    since: wall(s.since),
                    round_trip: s.round_trip,
                    public: s.public,
                    retry_at: s.retry_at.map(&wall),
                }
            })
            .collect()
    }
}
