//! Non-INVITE server transactions in the Completed state (RFC 3261 §17.2.2): over UDP,
//! for 64·T1 (Timer J) after the final response, all they do is send that response
//! again when the request comes again.
//!
//! Every REGISTER leaves one, so a registration storm leaves hundreds of thousands at a
//! few thousand per second. Here each costs its key, its peer and the response bytes,
//! not a state machine and a place in the layer's timer index; and since every one
//! waits the same 64·T1, arrival order is expiry order and a queue is their timer.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::layer::{Transmit, room_if_sparse, shrink_if_sparse};
use super::{Peer, TransactionKey};

#[derive(Debug)]
struct Answered {
    peer: Peer,
    response: Box<[u8]>,
}

#[derive(Debug, Default)]
pub(crate) struct Lingering {
    /// Timer J's duration.
    wait: Duration,
    answered: HashMap<Arc<TransactionKey>, Answered>,
    /// The key shared with `answered` (one allocation per transaction, not two).
    expiries: VecDeque<(Instant, Arc<TransactionKey>)>,
}

impl Lingering {
    pub fn new(wait: Duration) -> Self {
        Lingering {
            wait,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.answered.len()
    }

    /// The answer to send again when `key`'s request is retransmitted.
    pub fn repeat(&self, key: &TransactionKey) -> Option<Transmit> {
        self.answered.get(key).map(|a| Transmit {
            peer: a.peer,
            bytes: a.response.to_vec(),
        })
    }

    pub fn insert(&mut self, now: Instant, key: TransactionKey, peer: Peer, response: Vec<u8>) {
        let key = Arc::new(key);
        self.expiries.push_back((now + self.wait, key.clone()));
        let answered = Answered {
            peer,
            response: response.into_boxed_slice(),
        };
        self.answered.insert(key, answered);
    }

    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiries.front().map(|(at, _)| *at)
    }

    /// Timer J for every transaction whose time is up.
    pub fn expire(&mut self, now: Instant) {
        let before = self.expiries.len();
        while let Some((at, key)) = self.expiries.front() {
            if *at > now {
                break;
            }
            // While it lingers, its key cannot start another transaction: each key is
            // here once.
            self.answered.remove(&**key);
            self.expiries.pop_front();
        }
        if self.expiries.len() < before {
            shrink_if_sparse(&mut self.answered);
            if let Some(room) = room_if_sparse(self.expiries.len(), self.expiries.capacity()) {
                self.expiries.shrink_to(room);
            }
        }
    }
}
