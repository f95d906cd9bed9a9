//! Message waiting indication (RFC 3842): a phone subscribes to its extension's
//! `message-summary` and is sent a NOTIFY at once and whenever the box changes, so its
//! lamp lights while new messages wait. Subscriptions live in memory: phones renew
//! them well before they expire, and again after a restart. The SIP side of
//! subscriptions is [`switchboard_sip::subscription`]'s; this feature decides who may
//! subscribe (a box's own extension) and what the NOTIFY says.

use std::time::{Duration, Instant};

use rsip::Header;
use switchboard_sip::subscription::{EventPackage, Notifier, Refusal, Request, SubscriptionKey};
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

use super::Ctx;
use crate::vocabulary::MessageCounts;

const CONTENT_TYPE: &str = "application/simple-message-summary";
/// A phone asking for more is given the longest, one asking for less than the shortest
/// is told so with 423; one extension's phones may hold 16 subscriptions.
const PACKAGE: EventPackage = EventPackage {
    event: "message-summary",
    default_expiry: Duration::from_secs(3600),
    min_expiry: Duration::from_secs(60),
    max_expiry: Duration::from_secs(7200),
    per_resource: 16,
};

/// The phones subscribed to their boxes.
#[derive(Debug)]
pub(crate) struct Subscriptions(Notifier);

impl Default for Subscriptions {
    fn default() -> Self {
        Subscriptions(Notifier::new(PACKAGE))
    }
}

/// The message-summary body (RFC 3842 §5.2).
fn message_summary(account: &str, counts: MessageCounts) -> String {
    let waiting = if counts.new > 0 { "yes" } else { "no" };
    format!(
        "Messages-Waiting: {waiting}\r\nMessage-Account: {account}\r\nVoice-Message: {}/{} (0/0)\r\n",
        counts.new, counts.heard
    )
}

impl Subscriptions {
    /// A SUBSCRIBE, new or refreshing one: only to `message-summary`, only by the
    /// box's own extension; `counts` tells what a box holds.
    pub fn handle_subscribe(
        &mut self,
        cx: &mut Ctx<'_>,
        (id, request, peer): (ServerId, rsip::Request, Peer),
        counts: impl Fn(&str) -> MessageCounts,
    ) {
        let now = cx.now;
        if let Err(refusal) = self.0.check_event(&request) {
            return refuse(cx, id, &request, refusal);
        }
        let subscriber = match cx.legs.sip.authenticate(now, &request, peer) {
            Ok(user) => user,
            Err(challenge) => return cx.legs.sip.respond(now, id, &challenge),
        };
        let asked = match self.0.read(&request, &subscriber) {
            Ok(Request::New { resource, .. }) if resource != subscriber => {
                return cx
                    .legs
                    .reply(now, id, &request, 403, "Only the box's own extension");
            }
            Ok(asked) => asked,
            Err(refusal) => return refuse(cx, id, &request, refusal),
        };
        let tag = cx.legs.ids.token();
        let (key, expiry) = match self.0.accept(now, &request, peer, &subscriber, asked, &tag) {
            Ok(taken) => taken,
            Err(refusal) => return refuse(cx, id, &request, refusal),
        };
        let mut r = cx.legs.sip.response(&request, 200, "OK", &key.1);
        r.headers
            .push(Header::Expires(expiry.as_secs().to_string().into()));
        r.headers
            .push(Header::Contact(cx.legs.contact(&subscriber, peer).into()));
        cx.legs.sip.respond(now, id, &r);
        let counts = counts(&subscriber);
        self.notify(cx, &key, counts);
    }

    /// Tells every phone subscribed to `mailbox` what it holds now (`counts`).
    pub fn mailbox_changed(&mut self, cx: &mut Ctx<'_>, mailbox: &str, counts: MessageCounts) {
        for key in self.0.subscribed_to(cx.now, mailbox) {
            self.notify(cx, &key, counts);
        }
    }

    /// Drops subscriptions that ran out without a refresh.
    pub fn expire(&mut self, now: Instant) {
        self.0.expire(now);
    }

    /// A phone answered a NOTIFY (`code`; 408 when it never did). False when `client`
    /// was no NOTIFY.
    pub fn notify_answered(&mut self, client: ClientId, code: u16) -> bool {
        self.0.handle_response(client, code)
    }

    fn notify(&mut self, cx: &mut Ctx<'_>, key: &SubscriptionKey, counts: MessageCounts) {
        let Some((mailbox, peer)) = self.0.resource(key) else {
            return;
        };
        let mailbox = mailbox.to_string();
        let account = format!("sip:{mailbox}@{}", cx.legs.sip.realm());
        let body = message_summary(&account, counts).into_bytes();
        let via = cx.legs.via(peer);
        let contact = cx.legs.contact(&mailbox, peer);
        let body = Some((CONTENT_TYPE, body));
        if let Some((request, peer)) = self.0.notify(cx.now, key, &via, contact, body)
            && let Some(client) = cx.legs.sip.send_request(cx.now, request, peer)
        {
            self.0.sent(client, key.clone());
        }
    }
}

/// Answers a SUBSCRIBE the notifier refused.
fn refuse(cx: &mut Ctx<'_>, id: ServerId, request: &rsip::Request, refusal: Refusal) {
    let tag = cx.legs.sip.stateless_tag(request);
    let mut r = cx
        .legs
        .sip
        .response(request, refusal.code, refusal.reason, &tag);
    if let Some(header) = refusal.header {
        r.headers.push(header);
    }
    cx.legs.sip.respond(cx.now, id, &r);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_whether_messages_wait_and_how_many() {
        let body = message_summary("sip:101@switchboard", MessageCounts { new: 2, heard: 5 });
        assert_eq!(
            body,
            "Messages-Waiting: yes\r\nMessage-Account: sip:101@switchboard\r\nVoice-Message: 2/5 (0/0)\r\n"
        );
        let none = message_summary("sip:101@switchboard", MessageCounts { new: 0, heard: 1 });
        assert!(none.starts_with("Messages-Waiting: no\r\n"));
    }
}
