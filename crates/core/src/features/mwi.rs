//! Message waiting indication (RFC 3842): a phone subscribes to its extension's
//! `message-summary` and is sent a NOTIFY at once and whenever the box changes, so its
//! lamp lights while new messages wait. Subscriptions live in memory: phones renew
//! them well before they expire, and again after a restart. The SIP side of
//! subscriptions is [`switchboard_sip::subscription`]'s; this feature decides who may
//! subscribe (a box's own extension) and what the NOTIFY says.

use std::time::{Duration, Instant};

use switchboard_sip::subscription::{EventPackage, Notifier, SubscriptionKey};
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

use super::{Ctx, events};
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
        subscribe: (ServerId, rsip::Request, Peer),
        counts: impl Fn(&str) -> MessageCounts,
    ) {
        let own_box = |_: &Ctx<'_>, subscriber: &str, resource: &str| {
            (subscriber == resource)
                .then_some(())
                .ok_or((403, "Only the box's own extension"))
        };
        if let Some(key) = events::accept(cx, &mut self.0, subscribe, own_box) {
            let counts = self.0.resource(&key).map(|(box_, _)| counts(box_));
            self.notify(cx, &key, counts.unwrap_or_default());
        }
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
        let Some((mailbox, _)) = self.0.resource(key) else {
            return;
        };
        let account = format!("sip:{mailbox}@{}", cx.legs.sip.realm());
        let body = message_summary(&account, counts).into_bytes();
        events::notify(cx, &mut self.0, key, CONTENT_TYPE, body);
    }
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
