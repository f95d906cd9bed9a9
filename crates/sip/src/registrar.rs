//! The registrar of RFC 3261 §10.3: bindings from an address-of-record (an extension)
//! to the contacts where its phones can be reached.
//!
//! Bindings live here, in memory; every change is queued as a [`BindingChange`] for the
//! caller to write behind to storage, and [`Registrar::restore`] loads them back after a
//! restart. Expiry runs on the passed-in clock like every other timer.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::header::{CSeq, Contact, NameAddr};
use crate::message::{header_value, header_values};
use crate::transaction::Peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Expiry granted when the phone asks for none.
    pub default_expires: u32,
    /// Shorter requests get 423 Interval Too Brief.
    pub min_expires: u32,
    /// Longer requests are cut down to this.
    pub max_expires: u32,
    /// Contacts one extension may hold; past it the least recently refreshed goes.
    pub max_contacts: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            default_expires: 3600,
            min_expires: 60,
            max_expires: 7200,
            max_contacts: 5,
        }
    }
}

/// One contact of an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI, compared case-insensitively.
    pub uri: String,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: Instant,
    /// Where the REGISTER came from: the address a NATed phone is reachable at.
    pub source: Peer,
    pub user_agent: Option<String>,
}

impl Binding {
    pub fn remaining(&self, now: Instant) -> Duration {
        self.expires_at.saturating_duration_since(now)
    }
}

/// A change to write behind to storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingChange {
    Upsert {
        aor: String,
        binding: Binding,
        expires_in: Duration,
    },
    Remove {
        aor: String,
        uri: String,
    },
}

/// Why a REGISTER was refused; each maps to one response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("interval too brief, minimum {min}")]
    IntervalTooBrief { min: u32 },
    #[error("{0}")]
    Malformed(String),
    #[error("out-of-order CSeq")]
    OutOfOrder,
}

impl RegisterError {
    pub fn status(&self) -> (u16, String) {
        match self {
            RegisterError::IntervalTooBrief { .. } => (423, "Interval Too Brief".into()),
            RegisterError::Malformed(reason) => (400, reason.clone()),
            RegisterError::OutOfOrder => (500, "Out-of-order CSeq".into()),
        }
    }
}

#[derive(Debug, Default)]
pub struct Registrar {
    config: RegistrarConfig,
    bindings: HashMap<String, Vec<Binding>>,
    expiries: BTreeSet<(Instant, String, String)>,
    changes: VecDeque<BindingChange>,
    /// Moves when a contact is added or removed, not when one is refreshed.
    generation: u64,
}

impl Registrar {
    pub fn new(config: RegistrarConfig) -> Self {
        Registrar {
            config,
            ..Default::default()
        }
    }

    // --- getters

    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    pub fn bindings(&self, aor: &str) -> &[Binding] {
        self.bindings
            .get(aor)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every registered address of record and how many contacts it has.
    pub fn registered(&self) -> impl Iterator<Item = (&str, usize)> {
        self.bindings
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(aor, b)| (aor.as_str(), b.len()))
    }

    /// Changes whenever an extension gains or loses a contact, but not on refreshes, so
    /// a view of [`Registrar::registered`] stays good while it stands still.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn binding_count(&self) -> usize {
        self.expiries.len()
    }

    // --- handle_*

    /// Applies an authenticated REGISTER for `aor` and returns the bindings to list in
    /// the 200 OK. Nothing changes unless the whole request is acceptable.
    pub fn handle_register(
        &mut self,
        now: Instant,
        aor: &str,
        request: &rsip::Request,
        source: Peer,
    ) -> Result<Vec<Binding>, RegisterError> {
        let malformed = |what: &str| RegisterError::Malformed(format!("Malformed {what} header"));
        let call_id = header_value(&request.headers, "Call-ID")
            .unwrap_or_default()
            .to_string();
        let cseq = CSeq::parse(header_value(&request.headers, "CSeq").unwrap_or_default())
            .map_err(|_| malformed("CSeq"))?
            .seq;
        let header_expires = match header_value(&request.headers, "Expires") {
            Some(v) => Some(v.trim().parse::<u32>().map_err(|_| malformed("Expires"))?),
            None => None,
        };
        let mut contacts = Vec::new();
        for value in header_values(&request.headers, "Contact") {
            contacts.extend(Contact::parse_list(value).map_err(|_| malformed("Contact"))?);
        }
        let user_agent = header_value(&request.headers, "User-Agent").map(str::to_string);

        if contacts.contains(&Contact::Wildcard) {
            if contacts.len() != 1 || header_expires != Some(0) {
                return Err(RegisterError::Malformed(
                    "Contact * needs Expires: 0 and no other contact".into(),
                ));
            }
            let existing = self.bindings(aor);
            if existing
                .iter()
                .any(|b| b.call_id == call_id && b.cseq >= cseq)
            {
                return Err(RegisterError::OutOfOrder);
            }
            for uri in existing.iter().map(|b| b.uri.clone()).collect::<Vec<_>>() {
                self.remove(aor, &uri);
            }
            return Ok(Vec::new());
        }

        // Validate everything before touching any binding (all or nothing).
        let mut wanted: Vec<(NameAddr, u32)> = Vec::new();
        for contact in contacts {
            let Contact::Address(addr) = contact else {
                continue;
            };
            let expires = match addr.params.value("expires") {
                Some(v) => v.trim().parse::<u32>().map_err(|_| malformed("Contact"))?,
                None => header_expires.unwrap_or(self.config.default_expires),
            };
            if expires != 0 && expires < self.config.min_expires {
                return Err(RegisterError::IntervalTooBrief {
                    min: self.config.min_expires,
                });
            }
            if self
                .find(aor, &addr.uri)
                .is_some_and(|b| b.call_id == call_id && b.cseq >= cseq)
            {
                return Err(RegisterError::OutOfOrder);
            }
            wanted.push((addr, expires.min(self.config.max_expires)));
        }

        for (addr, expires) in wanted {
            if expires == 0 {
                if self.find(aor, &addr.uri).is_some() {
                    self.remove(aor, &addr.uri);
                }
                continue;
            }
            let binding = Binding {
                uri: addr.uri,
                call_id: call_id.clone(),
                cseq,
                expires_at: now + Duration::from_secs(u64::from(expires)),
                source,
                user_agent: user_agent.clone(),
            };
            self.upsert(now, aor, binding);
        }
        self.enforce_limit(now, aor);
        Ok(self.bindings(aor).to_vec())
    }

    /// Drops every binding whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, aor, uri)) = self.expiries.first().cloned() {
            if at > now {
                break;
            }
            self.remove(&aor, &uri);
        }
    }

    // --- mutators

    /// Puts back a binding read from storage after a restart, with the time it has left.
    pub fn restore(&mut self, now: Instant, aor: &str, mut binding: Binding, remaining: Duration) {
        if remaining.is_zero() {
            return;
        }
        binding.expires_at = now + remaining;
        self.insert(aor, binding);
        self.generation += 1;
    }

    // --- poll_*

    pub fn poll_change(&mut self) -> Option<BindingChange> {
        self.changes.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.expiries.first().map(|(at, _, _)| *at)
    }

    // --- internals

    fn find(&self, aor: &str, uri: &str) -> Option<&Binding> {
        self.bindings(aor)
            .iter()
            .find(|b| b.uri.eq_ignore_ascii_case(uri))
    }

    fn upsert(&mut self, now: Instant, aor: &str, binding: Binding) {
        if self.find(aor, &binding.uri).is_some() {
            self.detach(aor, &binding.uri);
        } else {
            self.generation += 1;
        }
        self.changes.push_back(BindingChange::Upsert {
            aor: aor.to_string(),
            binding: binding.clone(),
            expires_in: binding.remaining(now),
        });
        self.insert(aor, binding);
    }

    fn insert(&mut self, aor: &str, binding: Binding) {
        self.expiries
            .insert((binding.expires_at, aor.to_string(), binding.uri.clone()));
        // Most extensions have one phone: room for one, not the four a Vec starts with.
        self.bindings
            .entry(aor.to_string())
            .or_insert_with(|| Vec::with_capacity(1))
            .push(binding);
    }

    fn remove(&mut self, aor: &str, uri: &str) {
        self.detach(aor, uri);
        self.generation += 1;
        self.changes.push_back(BindingChange::Remove {
            aor: aor.to_string(),
            uri: uri.to_string(),
        });
    }

    fn detach(&mut self, aor: &str, uri: &str) {
        let Some(list) = self.bindings.get_mut(aor) else {
            return;
        };
        if let Some(i) = list.iter().position(|b| b.uri.eq_ignore_ascii_case(uri)) {
            let b = list.remove(i);
            self.expiries
                .remove(&(b.expires_at, aor.to_string(), b.uri));
        }
        if list.is_empty() {
            self.bindings.remove(aor);
        }
    }

    /// Past the limit, the bindings due to expire first (least recently refreshed) go;
    /// a phone that rebooted onto a new port must not lock itself out.
    fn enforce_limit(&mut self, now: Instant, aor: &str) {
        while self.bindings(aor).len() > self.config.max_contacts {
            let Some(oldest) = self
                .bindings(aor)
                .iter()
                .min_by_key(|b| b.expires_at.saturating_duration_since(now))
            else {
                return;
            };
            let uri = oldest.uri.clone();
            self.remove(aor, &uri);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, parse};
    use crate::transaction::Transport;

    fn register(call_id: &str, cseq: u32, contact: &str, expires: Option<u32>) -> rsip::Request {
        let expires = expires
            .map(|e| format!("Expires: {e}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK{cseq}\r\n\
             From: <sip:100@pbx>;tag=f\r\nTo: <sip:100@pbx>\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\nContact: {contact}\r\n{expires}Content-Length: 0\r\n\r\n"
        );
        match parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    fn peer() -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: "10.0.0.9:5060".parse().unwrap(),
        }
    }

    fn registrar() -> (Registrar, Instant) {
        (Registrar::new(RegistrarConfig::default()), Instant::now())
    }

    #[test]
    fn add_refresh_and_expire() {
        let (mut r, t0) = registrar();
        let got = r
            .handle_register(
                t0,
                "100",
                &register("c1", 1, "<sip:100@10.0.0.9>", Some(120)),
                peer(),
            )
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].remaining(t0), Duration::from_secs(120));
        assert!(
            matches!(r.poll_change(), Some(BindingChange::Upsert { expires_in, .. }) if expires_in == Duration::from_secs(120))
        );

        let t1 = t0 + Duration::from_secs(100);
        r.handle_register(
            t1,
            "100",
            &register("c1", 2, "<sip:100@10.0.0.9>", Some(120)),
            peer(),
        )
        .unwrap();
        assert_eq!(r.poll_timeout(), Some(t1 + Duration::from_secs(120)));
        assert_eq!(r.binding_count(), 1);

        r.handle_timeout(t1 + Duration::from_secs(119));
        assert_eq!(r.bindings("100").len(), 1);
        r.handle_timeout(t1 + Duration::from_secs(120));
        assert!(r.bindings("100").is_empty());
        r.poll_change();
        assert_eq!(
            r.poll_change(),
            Some(BindingChange::Remove {
                aor: "100".into(),
                uri: "sip:100@10.0.0.9".into()
            })
        );
    }

    #[test]
    fn generation_moves_when_contacts_come_and_go_not_on_refresh() {
        let (mut r, t0) = registrar();
        let phone = "<sip:100@10.0.0.9>";
        let start = r.generation();
        r.handle_register(t0, "100", &register("c1", 1, phone, Some(120)), peer())
            .unwrap();
        let added = r.generation();
        assert_ne!(added, start);
        r.handle_register(t0, "100", &register("c1", 2, phone, Some(120)), peer())
            .unwrap();
        assert_eq!(r.generation(), added, "a refresh keeps the view");
        r.handle_timeout(t0 + Duration::from_secs(120));
        assert_eq!(r.binding_count(), 0);
        assert_ne!(r.generation(), added, "expiry removes the phone");
    }

    #[test]
    fn contact_parameter_beats_header_and_max_is_enforced() {
        let (mut r, t0) = registrar();
        let got = r
            .handle_register(
                t0,
                "100",
                &register("c1", 1, "<sip:a@h1>;expires=300, <sip:b@h2>", Some(99999)),
                peer(),
            )
            .unwrap();
        let secs: Vec<_> = got.iter().map(|b| b.remaining(t0).as_secs()).collect();
        assert_eq!(secs, vec![300, 7200]);
    }

    #[test]
    fn default_expiry_when_none_asked() {
        let (mut r, t0) = registrar();
        let got = r
            .handle_register(t0, "100", &register("c1", 1, "<sip:a@h1>", None), peer())
            .unwrap();
        assert_eq!(got[0].remaining(t0).as_secs(), 3600);
    }

    #[test]
    fn too_brief_interval_is_423_and_changes_nothing() {
        let (mut r, t0) = registrar();
        let err = r.handle_register(
            t0,
            "100",
            &register("c1", 1, "<sip:a@h1>, <sip:b@h2>;expires=30", None),
            peer(),
        );
        assert_eq!(err, Err(RegisterError::IntervalTooBrief { min: 60 }));
        assert!(r.bindings("100").is_empty());
        assert_eq!(r.poll_change(), None);
    }

    #[test]
    fn expires_zero_removes_one_and_wildcard_removes_all() {
        let (mut r, t0) = registrar();
        r.handle_register(
            t0,
            "100",
            &register("c1", 1, "<sip:a@h1>, <sip:b@h2>, <sip:c@h3>", None),
            peer(),
        )
        .unwrap();
        let left = r
            .handle_register(
                t0,
                "100",
                &register("c1", 2, "<sip:a@h1>;expires=0", None),
                peer(),
            )
            .unwrap();
        assert_eq!(left.len(), 2);
        let bad = r.handle_register(t0, "100", &register("c1", 3, "*", Some(5)), peer());
        assert!(matches!(bad, Err(RegisterError::Malformed(_))));
        let none = r
            .handle_register(t0, "100", &register("c2", 1, "*", Some(0)), peer())
            .unwrap();
        assert!(none.is_empty());
        assert_eq!(r.binding_count(), 0);
        assert_eq!(r.poll_timeout(), None);
    }

    #[test]
    fn same_call_id_needs_a_higher_cseq() {
        let (mut r, t0) = registrar();
        r.handle_register(t0, "100", &register("c1", 5, "<sip:a@h1>", None), peer())
            .unwrap();
        let stale = r.handle_register(
            t0,
            "100",
            &register("c1", 5, "<sip:a@h1>;expires=0", None),
            peer(),
        );
        assert_eq!(stale, Err(RegisterError::OutOfOrder));
        // A rebooted phone starts a new Call-ID at any CSeq.
        r.handle_register(
            t0,
            "100",
            &register("c9", 1, "<sip:a@h1>;expires=0", None),
            peer(),
        )
        .unwrap();
        assert!(r.bindings("100").is_empty());
    }

    #[test]
    fn contact_limit_drops_the_stalest_binding() {
        let mut r = Registrar::new(RegistrarConfig {
            max_contacts: 2,
            ..Default::default()
        });
        let t0 = Instant::now();
        r.handle_register(
            t0,
            "100",
            &register("c1", 1, "<sip:a@h1>", Some(100)),
            peer(),
        )
        .unwrap();
        r.handle_register(
            t0,
            "100",
            &register("c2", 1, "<sip:b@h2>", Some(200)),
            peer(),
        )
        .unwrap();
        let got = r
            .handle_register(
                t0,
                "100",
                &register("c3", 1, "<sip:c@h3>", Some(300)),
                peer(),
            )
            .unwrap();
        let uris: Vec<_> = got.iter().map(|b| b.uri.as_str()).collect();
        assert_eq!(uris, vec!["sip:b@h2", "sip:c@h3"]);
    }

    #[test]
    fn restored_bindings_expire_on_time() {
        let (mut r, t0) = registrar();
        let binding = Binding {
            uri: "sip:a@h1".into(),
            call_id: "c1".into(),
            cseq: 1,
            expires_at: t0,
            source: peer(),
            user_agent: None,
        };
        r.restore(t0, "100", binding.clone(), Duration::from_secs(30));
        r.restore(t0, "101", binding, Duration::ZERO);
        assert_eq!(r.binding_count(), 1);
        r.handle_timeout(t0 + Duration::from_secs(30));
        assert_eq!(r.binding_count(), 0);
    }
}
