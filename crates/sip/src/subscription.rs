//! The notifier side of SIP events (RFC 6665) for one event package: SUBSCRIBE checked
//! against the package (event, expiry bounds), subscriptions kept by dialog with their
//! expiry, NOTIFY requests built inside them, and subscriptions dropped when a NOTIFY's
//! answer says the phone no longer has them. What a subscription is to (a mailbox, an
//! extension's calls) and who may subscribe is the caller's to decide; so is the body.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rsip::{Header, Method};

use crate::dialog::{Body, Dialog};
use crate::header::{NameAddr, uri_user};
use crate::message::header_value;
use crate::transaction::{ClientId, Peer};

/// A subscription's name: the SUBSCRIBE's Call-ID and the tag Switchboard gave it.
pub type SubscriptionKey = (String, String);

/// What an event package allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPackage {
    /// The Event header's value, e.g. `message-summary`.
    pub event: &'static str,
    /// Given when the SUBSCRIBE asks for no expiry.
    pub default_expiry: Duration,
    /// Shorter requests are refused with 423 (zero ends the subscription).
    pub min_expiry: Duration,
    /// Longer requests are given this.
    pub max_expiry: Duration,
    /// Subscriptions one resource may have; more are refused so a runaway client
    /// cannot grow the table.
    pub per_resource: usize,
}

/// Why a SUBSCRIBE is refused: the status, its reason phrase, and a header the answer
/// must carry (Allow-Events for 489, Min-Expires for 423).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: &'static str,
    pub header: Option<Header>,
}

impl Refusal {
    fn new(code: u16, reason: &'static str) -> Refusal {
        Refusal {
            code,
            reason,
            header: None,
        }
    }
}

/// What a checked SUBSCRIBE asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A new subscription to `resource` (the request URI's user).
    New { resource: String, expiry: Duration },
    /// A refresh (or, with zero expiry, the end) of subscription `key`.
    Refresh {
        key: SubscriptionKey,
        expiry: Duration,
    },
}

#[derive(Debug)]
struct Subscription {
    resource: String,
    subscriber: String,
    dialog: Dialog,
    expires: Instant,
}

/// The subscriptions to one event package, and the NOTIFYs awaiting an answer with
/// the subscription each was for.
#[derive(Debug)]
pub struct Notifier {
    package: EventPackage,
    by_dialog: HashMap<SubscriptionKey, Subscription>,
    notifies: HashMap<ClientId, SubscriptionKey>,
    /// No subscription lapses before this: frequent wake-ups skip the scan until then.
    next_lapse: Option<Instant>,
}

impl Notifier {
    pub fn new(package: EventPackage) -> Self {
        Notifier {
            package,
            by_dialog: HashMap::new(),
            notifies: HashMap::new(),
            next_lapse: None,
        }
    }

    /// Whether the SUBSCRIBE is for this package (checked before authentication, so a
    /// phone asking for a package Switchboard lacks is told so at once).
    pub fn check_event(&self, request: &rsip::Request) -> Result<(), Refusal> {
        let event = header_value(&request.headers, "Event").unwrap_or_default();
        if event.split(';').next().map(str::trim) == Some(self.package.event) {
            return Ok(());
        }
        Err(Refusal {
            header: Some(Header::Other(
                "Allow-Events".into(),
                self.package.event.into(),
            )),
            ..Refusal::new(489, "Bad Event")
        })
    }

    /// What an authenticated `subscriber`'s SUBSCRIBE asks for: its expiry within the
    /// package's bounds, and a refresh only of a subscription that subscriber holds.
    pub fn read(&self, request: &rsip::Request, subscriber: &str) -> Result<Request, Refusal> {
        let package = &self.package;
        let expiry = match header_value(&request.headers, "Expires").map(str::trim) {
            None => package.default_expiry,
            Some(v) => match v.parse::<u64>() {
                Ok(s) => Duration::from_secs(s).min(package.max_expiry),
                Err(_) => return Err(Refusal::new(400, "Bad Expires")),
            },
        };
        if !expiry.is_zero() && expiry < package.min_expiry {
            return Err(Refusal {
                header: Some(Header::Other(
                    "Min-Expires".into(),
                    package.min_expiry.as_secs().to_string(),
                )),
                ..Refusal::new(423, "Interval Too Brief")
            });
        }
        let call_id = header_value(&request.headers, "Call-ID")
            .unwrap_or_default()
            .to_string();
        let to_tag = header_value(&request.headers, "To")
            .and_then(|to| NameAddr::parse(to, "To").ok())
            .and_then(|to| to.tag().map(str::to_string));
        match to_tag {
            Some(tag) => {
                let key = (call_id, tag);
                match self.by_dialog.get(&key) {
                    Some(s) if s.subscriber == subscriber => Ok(Request::Refresh { key, expiry }),
                    _ => Err(Refusal::new(481, "Subscription Does Not Exist")),
                }
            }
            None => Ok(Request::New {
                resource: uri_user(&request.uri.to_string())
                    .unwrap_or_default()
                    .to_string(),
                expiry,
            }),
        }
    }

    /// Takes up what [`Notifier::read`] found, once the caller has allowed it: a new
    /// subscription gets a dialog with our `tag`. Returns its key and the expiry given;
    /// the caller answers 200 and sends the first NOTIFY ([`Notifier::notify`]) at once.
    #[allow(clippy::too_many_arguments)]
    pub fn accept(
        &mut self,
        now: Instant,
        request: &rsip::Request,
        peer: Peer,
        subscriber: &str,
        asked: Request,
        tag: &str,
    ) -> Result<(SubscriptionKey, Duration), Refusal> {
        let (key, expiry) = match asked {
            Request::Refresh { key, expiry } => (key, expiry),
            Request::New { resource, expiry } => {
                let held = self
                    .by_dialog
                    .values()
                    .filter(|s| s.resource == resource)
                    .count();
                if held >= self.package.per_resource {
                    return Err(Refusal::new(503, "Too many subscriptions"));
                }
                let dialog = Dialog::as_uas(request, tag, peer)
                    .map_err(|_| Refusal::new(400, "Contact is missing"))?;
                let key = (dialog.call_id.clone(), tag.to_string());
                let subscription = Subscription {
                    resource,
                    subscriber: subscriber.to_string(),
                    dialog,
                    expires: now,
                };
                self.by_dialog.insert(key.clone(), subscription);
                (key, expiry)
            }
        };
        let Some(subscription) = self.by_dialog.get_mut(&key) else {
            return Err(Refusal::new(481, "Subscription Does Not Exist"));
        };
        let until = now + expiry;
        subscription.expires = until;
        subscription.dialog.peer = peer;
        self.next_lapse = Some(self.next_lapse.map_or(until, |at| at.min(until)));
        Ok((key, expiry))
    }

    /// The live subscriptions to `resource`.
    pub fn subscribed_to(&self, now: Instant, resource: &str) -> Vec<SubscriptionKey> {
        self.by_dialog
            .iter()
            .filter(|(_, s)| s.resource == resource && s.expires > now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The resources with subscriptions, each once.
    pub fn resources(&self) -> Vec<&str> {
        let mut resources: Vec<&str> = self
            .by_dialog
            .values()
            .map(|s| s.resource.as_str())
            .collect();
        resources.sort_unstable();
        resources.dedup();
        resources
    }

    /// How many subscriptions there are.
    pub fn len(&self) -> usize {
        self.by_dialog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_dialog.is_empty()
    }

    /// Whether `key` is still a subscription.
    pub fn holds(&self, key: &SubscriptionKey) -> bool {
        self.by_dialog.contains_key(key)
    }

    /// The resource subscription `key` is to, and where its phone is.
    pub fn resource(&self, key: &SubscriptionKey) -> Option<(&str, Peer)> {
        let s = self.by_dialog.get(key)?;
        Some((&s.resource, s.dialog.peer))
    }

    /// A NOTIFY inside subscription `key` carrying `body`, its state from the time
    /// left (a subscription that ended says it terminated, and is dropped). Record the
    /// transaction it goes out in with [`Notifier::sent`].
    pub fn notify(
        &mut self,
        now: Instant,
        key: &SubscriptionKey,
        via: &str,
        contact: String,
        body: Body<'_>,
    ) -> Option<(rsip::Request, Peer)> {
        let s = self.by_dialog.get_mut(key)?;
        let left = s.expires.saturating_duration_since(now).as_secs();
        let state = if left == 0 {
            "terminated;reason=timeout".to_string()
        } else {
            format!("active;expires={left}")
        };
        let headers = vec![
            Header::Other("Event".into(), self.package.event.into()),
            Header::Other("Subscription-State".into(), state),
            Header::Contact(contact.into()),
        ];
        let peer = s.dialog.peer;
        let request = s.dialog.request(Method::Notify, via, headers, body).ok();
        if left == 0 {
            self.by_dialog.remove(key);
        }
        Some((request?, peer))
    }

    /// The NOTIFY for `key` went out as client transaction `client`.
    pub fn sent(&mut self, client: ClientId, key: SubscriptionKey) {
        self.notifies.insert(client, key);
    }

    /// A phone answered a NOTIFY (`code`; 408 when it never did): one that no longer
    /// knows the subscription, or cannot be reached, loses it (RFC 6665 §4.1.3).
    /// False when `client` was no NOTIFY.
    pub fn handle_response(&mut self, client: ClientId, code: u16) -> bool {
        if code < 200 {
            return self.notifies.contains_key(&client);
        }
        let Some(key) = self.notifies.remove(&client) else {
            return false;
        };
        if matches!(code, 404 | 408 | 410 | 416 | 480..=485 | 489 | 501 | 604) {
            self.by_dialog.remove(&key);
        }
        true
    }

    /// Drops subscriptions that ran out without a refresh.
    pub fn expire(&mut self, now: Instant) {
        if self.next_lapse.is_none_or(|at| now < at) {
            return;
        }
        self.by_dialog.retain(|_, s| s.expires > now);
        self.next_lapse = self.by_dialog.values().map(|s| s.expires).min();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, parse};
    use crate::transaction::Transport;

    const MWI: EventPackage = EventPackage {
        event: "message-summary",
        default_expiry: Duration::from_secs(3600),
        min_expiry: Duration::from_secs(60),
        max_expiry: Duration::from_secs(7200),
        per_resource: 2,
    };

    fn peer() -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: "10.0.0.9:5060".parse().unwrap(),
        }
    }

    /// A SUBSCRIBE from 101 to `to`'s box; `tag` makes it a refresh.
    fn subscribe(to: &str, event: &str, expires: Option<u64>, tag: Option<&str>) -> rsip::Request {
        let tag = tag.map_or(String::new(), |t| format!(";tag={t}"));
        let expires = expires.map_or(String::new(), |e| format!("Expires: {e}\r\n"));
        let text = format!(
            "SUBSCRIBE sip:{to}@10.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK1\r\n\
             From: <sip:101@10.0.0.1>;tag=phone\r\n\
             To: <sip:{to}@10.0.0.1>{tag}\r\n\
             Call-ID: mwi-1\r\nCSeq: 1 SUBSCRIBE\r\n\
             Contact: <sip:101@10.0.0.9:5060>\r\n\
             Event: {event}\r\n{expires}Content-Length: 0\r\n\r\n"
        );
        match parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn another_package_is_refused_with_the_one_allowed() {
        let notifier = Notifier::new(MWI);
        let refusal = notifier
            .check_event(&subscribe("101", "dialog", None, None))
            .unwrap_err();
        assert_eq!(refusal.code, 489);
        assert!(
            matches!(refusal.header, Some(Header::Other(n, v)) if n == "Allow-Events" && v == "message-summary")
        );
        let with_params = subscribe("101", "message-summary;id=1", None, None);
        assert!(notifier.check_event(&with_params).is_ok());
    }

    #[test]
    fn expiry_is_kept_within_the_package_bounds() {
        let notifier = Notifier::new(MWI);
        let read = |e| notifier.read(&subscribe("101", "message-summary", e, None), "101");
        let expiry = |r: Result<Request, Refusal>| match r.unwrap() {
            Request::New { expiry, .. } | Request::Refresh { expiry, .. } => expiry.as_secs(),
        };
        assert_eq!(expiry(read(None)), 3600);
        assert_eq!(expiry(read(Some(100_000))), 7200);
        assert_eq!(expiry(read(Some(0))), 0, "zero ends a subscription");
        assert_eq!(read(Some(30)).unwrap_err().code, 423);
    }

    #[test]
    fn only_the_subscriber_refreshes_and_a_resource_holds_a_few() {
        let mut notifier = Notifier::new(MWI);
        let now = Instant::now();
        let first = subscribe("101", "message-summary", Some(600), None);
        let asked = notifier.read(&first, "101").unwrap();
        assert_eq!(
            asked,
            Request::New {
                resource: "101".into(),
                expiry: Duration::from_secs(600)
            }
        );
        let (key, _) = notifier
            .accept(now, &first, peer(), "101", asked, "sb1")
            .unwrap();
        assert_eq!(key, ("mwi-1".to_string(), "sb1".to_string()));
        let refresh = subscribe("101", "message-summary", Some(600), Some("sb1"));
        assert!(matches!(
            notifier.read(&refresh, "101"),
            Ok(Request::Refresh { .. })
        ));
        assert_eq!(notifier.read(&refresh, "102").unwrap_err().code, 481);
        let second = notifier.read(&first, "101").unwrap();
        notifier
            .accept(now, &first, peer(), "101", second, "sb2")
            .unwrap();
        let third = notifier.read(&first, "101").unwrap();
        let refused = notifier.accept(now, &first, peer(), "101", third, "sb3");
        assert_eq!(refused.unwrap_err().code, 503);
        assert_eq!(notifier.subscribed_to(now, "101").len(), 2);
    }

    #[test]
    fn notifies_say_the_time_left_and_lapsed_subscriptions_go() {
        let mut notifier = Notifier::new(MWI);
        let now = Instant::now();
        let request = subscribe("101", "message-summary", Some(600), None);
        let asked = notifier.read(&request, "101").unwrap();
        let (key, _) = notifier
            .accept(now, &request, peer(), "101", asked, "sb1")
            .unwrap();
        let via = "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsb9";
        let (notify, to) = notifier
            .notify(now, &key, via, "<sip:101@10.0.0.1>".into(), None)
            .unwrap();
        assert_eq!(to, peer());
        assert_eq!(
            header_value(&notify.headers, "Subscription-State"),
            Some("active;expires=600")
        );
        assert_eq!(
            header_value(&notify.headers, "Event"),
            Some("message-summary")
        );
        notifier.expire(now + Duration::from_secs(599));
        assert_eq!(notifier.resource(&key).map(|(r, _)| r), Some("101"));
        notifier.expire(now + Duration::from_secs(601));
        assert!(notifier.resource(&key).is_none());
    }
}
