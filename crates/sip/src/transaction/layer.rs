//! The transaction layer: matches messages to transactions, owns their timers, and
//! queues what they send and report.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use super::client_invite::{self, ClientInvite};
use super::client_non_invite::{self, ClientNonInvite};
use super::lingering::Lingering;
use super::server_invite::{self, ServerInvite};
use super::server_non_invite::{self, ServerNonInvite};
use super::timers::TimerConfig;
use super::{Effect, Peer, TransactionKey};
use crate::message::{request_bytes, response_bytes};

/// A server transaction the user answers through [`TransactionLayer::respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(u64);

/// A client transaction started by [`TransactionLayer::send_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(u64);

/// Bytes to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub peer: Peer,
    pub bytes: Vec<u8>,
}

/// What the transaction user hears.
#[derive(Debug)]
pub enum TransactionEvent {
    /// A new request; answer it with `respond(id, …)`.
    Request {
        id: ServerId,
        request: rsip::Request,
        peer: Peer,
    },
    /// An ACK that matched no transaction: it acknowledges a 2xx, end to end.
    Ack { request: rsip::Request, peer: Peer },
    /// A response to one of our requests.
    Response {
        id: ClientId,
        response: rsip::Response,
    },
    /// The peer never answered our request (Timer B or F).
    ClientTimeout { id: ClientId },
    /// Our failure response to an INVITE was never acknowledged (Timer H).
    ServerTimeout { id: ServerId },
}

#[derive(Debug)]
enum Server {
    Invite(Box<ServerInvite>),
    NonInvite(ServerNonInvite),
}

#[derive(Debug)]
enum Client {
    Invite(Box<ClientInvite>),
    NonInvite(Box<ClientNonInvite>),
}

#[derive(Debug)]
struct ServerEntry {
    key: TransactionKey,
    peer: Peer,
    machine: Server,
}

#[derive(Debug)]
struct ClientEntry {
    key: TransactionKey,
    peer: Peer,
    machine: Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Slot {
    Server(ServerId),
    Client(ClientId),
}

/// All live transactions of one endpoint.
#[derive(Debug, Default)]
pub struct TransactionLayer {
    config: TimerConfig,
    next_id: u64,
    servers: HashMap<ServerId, ServerEntry>,
    server_keys: HashMap<TransactionKey, ServerId>,
    clients: HashMap<ClientId, ClientEntry>,
    client_keys: HashMap<TransactionKey, ClientId>,
    /// Each transaction's next deadline, mirrored in `deadlines` for ordered wake-ups.
    scheduled: HashMap<Slot, Instant>,
    deadlines: BTreeSet<(Instant, Slot)>,
    /// Non-INVITE server transactions past their final response, until Timer J.
    lingering: Lingering,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TransactionEvent>,
}

impl TransactionLayer {
    pub fn new(config: TimerConfig) -> Self {
        TransactionLayer {
            config,
            lingering: Lingering::new(config.timeout()),
            ..Default::default()
        }
    }

    // --- getters

    pub fn server_count(&self) -> usize {
        self.servers.len() + self.lingering.len()
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    // --- handle_*: feed input

    /// A request arrived. Retransmissions are absorbed here; new requests become events.
    pub fn handle_request(&mut self, now: Instant, request: rsip::Request, peer: Peer) {
        let Some(key) = TransactionKey::for_request(&request) else {
            return;
        };
        if let Some(repeat) = self.lingering.repeat(&key) {
            self.transmits.push_back(repeat);
            return;
        }
        let is_ack = request.method == rsip::Method::Ack;
        if let Some(&id) = self.server_keys.get(&key) {
            let mut fx = Vec::new();
            if let Some(entry) = self.servers.get_mut(&id) {
                match &mut entry.machine {
                    Server::Invite(m) if is_ack => {
                        if m.state == server_invite::State::Accepted {
                            // An ACK to a 2xx sharing the INVITE's branch (RFC 2543 peers).
                            self.events
                                .push_back(TransactionEvent::Ack { request, peer });
                        }
                        m.on_ack(now);
                    }
                    Server::Invite(m) => m.on_retransmit(&mut fx),
                    Server::NonInvite(m) => m.on_retransmit(&mut fx),
                }
            }
            self.apply_server(id, fx);
            self.reschedule(Slot::Server(id));
            return;
        }
        if is_ack {
            self.events
                .push_back(TransactionEvent::Ack { request, peer });
            return;
        }
        let id = ServerId(self.fresh_id());
        let reliable = peer.transport.is_reliable();
        let machine = if request.method == rsip::Method::Invite {
            Server::Invite(Box::new(ServerInvite::new(reliable, self.config)))
        } else {
            Server::NonInvite(ServerNonInvite::new(reliable))
        };
        self.server_keys.insert(key.clone(), id);
        self.servers.insert(id, ServerEntry { key, peer, machine });
        self.events
            .push_back(TransactionEvent::Request { id, request, peer });
    }

    /// A response arrived; stray ones (no matching transaction) are dropped (§17.1.3).
    pub fn handle_response(&mut self, now: Instant, response: rsip::Response) {
        let Some(key) = TransactionKey::for_response(&response) else {
            return;
        };
        let Some(&id) = self.client_keys.get(&key) else {
            return;
        };
        let mut fx = Vec::new();
        if let Some(entry) = self.clients.get_mut(&id) {
            match &mut entry.machine {
                Client::Invite(m) => m.on_response(now, response, &mut fx),
                Client::NonInvite(m) => m.on_response(now, response, &mut fx),
            }
        }
        self.apply_client(id, fx);
        self.reschedule(Slot::Client(id));
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.lingering.expire(now);
        while let Some(&(at, slot)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            self.scheduled.remove(&slot);
            let mut fx = Vec::new();
            match slot {
                Slot::Server(id) => {
                    // Only INVITE server transactions keep timers of their own.
                    if let Some(ServerEntry {
                        machine: Server::Invite(m),
                        ..
                    }) = self.servers.get_mut(&id)
                    {
                        for t in m.timers.expired(now) {
                            m.on_timer(now, t, &mut fx);
                        }
                    }
                    self.apply_server(id, fx);
                }
                Slot::Client(id) => {
                    if let Some(entry) = self.clients.get_mut(&id) {
                        let timers = match &mut entry.machine {
                            Client::Invite(m) => m.timers.expired(now),
                            Client::NonInvite(m) => m.timers.expired(now),
                        };
                        for t in timers {
                            match &mut entry.machine {
                                Client::Invite(m) => m.on_timer(now, t, &mut fx),
                                Client::NonInvite(m) => m.on_timer(now, t, &mut fx),
                            }
                        }
                    }
                    self.apply_client(id, fx);
                }
            }
            self.reschedule(slot);
        }
    }

    /// The INVITE server transaction a CANCEL aims at: same key but for the method
    /// (RFC 3261 §9.2).
    pub fn invite_cancelled_by(&self, cancel: &rsip::Request) -> Option<ServerId> {
        let mut key = TransactionKey::for_request(cancel)?;
        match &mut key {
            TransactionKey::Branch { method, .. } | TransactionKey::Legacy { method, .. } => {
                *method = "INVITE".into()
            }
        }
        self.server_keys.get(&key).copied()
    }

    // --- mutators

    /// Answers a server transaction; the layer retransmits as the machine requires.
    pub fn respond(&mut self, now: Instant, id: ServerId, response: &rsip::Response) {
        let code = response.status_code.code();
        let bytes = response_bytes(response);
        let mut fx = Vec::new();
        if let Some(entry) = self.servers.get_mut(&id) {
            match &mut entry.machine {
                Server::Invite(m) => m.send_response(now, code, bytes, &mut fx),
                Server::NonInvite(m) => m.send_response(code, bytes, &mut fx),
            }
        }
        self.apply_server(id, fx);
        self.linger_if_completed(now, id);
        self.reschedule(Slot::Server(id));
    }

    /// Answers and forgets a non-INVITE server transaction (RFC 3261 §8.2.7, stateless
    /// UAS): for answers that are safe to recompute when the request is retransmitted,
    /// such as a digest challenge, so a flood of them holds no memory for 64·T1.
    pub fn respond_statelessly(&mut self, id: ServerId, response: &rsip::Response) {
        let Some(entry) = self.servers.get(&id) else {
            return;
        };
        if matches!(entry.machine, Server::Invite(_)) {
            return;
        }
        self.transmits.push_back(Transmit {
            peer: entry.peer,
            bytes: response_bytes(response),
        });
        self.forget(Slot::Server(id));
        self.reschedule(Slot::Server(id));
    }

    /// Sends a request in a new client transaction. Its top Via must carry a fresh
    /// RFC 3261 branch; `None` when it does not.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: rsip::Request,
        peer: Peer,
    ) -> Option<ClientId> {
        let key = TransactionKey::for_request(&request)?;
        if !matches!(key, TransactionKey::Branch { .. }) || self.client_keys.contains_key(&key) {
            return None;
        }
        let id = ClientId(self.fresh_id());
        let reliable = peer.transport.is_reliable();
        let mut fx = Vec::new();
        let machine = if request.method == rsip::Method::Invite {
            Client::Invite(Box::new(ClientInvite::start(
                now,
                request,
                reliable,
                self.config,
                &mut fx,
            )))
        } else {
            let bytes = request_bytes(&request);
            Client::NonInvite(Box::new(ClientNonInvite::start(
                now,
                bytes,
                reliable,
                self.config,
                &mut fx,
            )))
        };
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(id, ClientEntry { key, peer, machine });
        self.apply_client(id, fx);
        self.reschedule(Slot::Client(id));
        Some(id)
    }

    // --- poll_*: drain output

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let machines = self.deadlines.first().map(|(at, _)| *at);
        match (machines, self.lingering.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // --- internals

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn apply_server(&mut self, id: ServerId, fx: Vec<Effect>) {
        // Responses go back where the request came from: the same connection on a stream,
        // and on UDP the source address, which is what RFC 3581 `rport` asks for and
        // where a phone behind NAT listens.
        let Some(peer) = self.servers.get(&id).map(|e| e.peer) else {
            return;
        };
        for effect in fx {
            match effect {
                Effect::Send(bytes) => self.transmits.push_back(Transmit { peer, bytes }),
                Effect::TimedOut => self
                    .events
                    .push_back(TransactionEvent::ServerTimeout { id }),
                Effect::Deliver(_) => {}
            }
        }
    }

    fn apply_client(&mut self, id: ClientId, fx: Vec<Effect>) {
        let Some(peer) = self.clients.get(&id).map(|e| e.peer) else {
            return;
        };
        for effect in fx {
            match effect {
                Effect::Send(bytes) => self.transmits.push_back(Transmit { peer, bytes }),
                Effect::Deliver(response) => self
                    .events
                    .push_back(TransactionEvent::Response { id, response }),
                Effect::TimedOut => self
                    .events
                    .push_back(TransactionEvent::ClientTimeout { id }),
            }
        }
    }

    /// Re-files a transaction's next deadline, or forgets it once terminated.
    fn reschedule(&mut self, slot: Slot) {
        if let Some(old) = self.scheduled.remove(&slot) {
            self.deadlines.remove(&(old, slot));
        }
        let (terminated, next) = match slot {
            Slot::Server(id) => match self.servers.get(&id) {
                Some(e) => match &e.machine {
                    Server::Invite(m) => {
                        (m.state == server_invite::State::Terminated, m.timers.next())
                    }
                    Server::NonInvite(m) => (m.state == server_non_invite::State::Terminated, None),
                },
                None => return,
            },
            Slot::Client(id) => match self.clients.get(&id) {
                Some(e) => match &e.machine {
                    Client::Invite(m) => {
                        (m.state == client_invite::State::Terminated, m.timers.next())
                    }
                    Client::NonInvite(m) => (
                        m.state == client_non_invite::State::Terminated,
                        m.timers.next(),
                    ),
                },
                None => return,
            },
        };
        if terminated {
            self.forget(slot);
        } else if let Some(at) = next {
            self.scheduled.insert(slot, at);
            self.deadlines.insert((at, slot));
        }
    }

    /// Hands a non-INVITE server transaction that sent its final response over UDP to
    /// the lingering table.
    fn linger_if_completed(&mut self, now: Instant, id: ServerId) {
        let Some(entry) = self.servers.get_mut(&id) else {
            return;
        };
        let Server::NonInvite(m) = &mut entry.machine else {
            return;
        };
        let Some(response) = m.take_final() else {
            return;
        };
        if let Some(entry) = self.servers.remove(&id) {
            self.server_keys.remove(&entry.key);
            self.lingering.insert(now, entry.key, entry.peer, response);
        }
        shrink_if_sparse(&mut self.servers);
        shrink_if_sparse(&mut self.server_keys);
    }

    fn forget(&mut self, slot: Slot) {
        match slot {
            Slot::Server(id) => {
                if let Some(e) = self.servers.remove(&id) {
                    self.server_keys.remove(&e.key);
                }
                shrink_if_sparse(&mut self.servers);
                shrink_if_sparse(&mut self.server_keys);
            }
            Slot::Client(id) => {
                if let Some(e) = self.clients.remove(&id) {
                    self.client_keys.remove(&e.key);
                }
                shrink_if_sparse(&mut self.clients);
                shrink_if_sparse(&mut self.client_keys);
            }
        }
        shrink_if_sparse(&mut self.scheduled);
    }
}

/// A registration storm leaves tables sized for its peak; once they are mostly empty,
/// give the memory back (amortised: it takes a 4× drop to trigger a rehash).
pub(super) fn shrink_if_sparse<K: Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>) {
    if let Some(room) = room_if_sparse(map.len(), map.capacity()) {
        map.shrink_to(room);
    }
}

/// The capacity to shrink a collection to, when it is big and mostly empty.
pub(super) fn room_if_sparse(len: usize, capacity: usize) -> Option<usize> {
    (capacity > 1024 && len * 4 < capacity).then_some(len * 2)
}
