//! Message waiting indication (RFC 3842): a phone subscribes to its extension's
//! `message-summary` and is sent a NOTIFY at once and whenever the box changes, so its
//! lamp lights while new messages wait. Subscriptions live in memory: phones renew
//! them well before they expire, and again after a restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rsip::{Header, Method};
use switchboard_sip::dialog::Dialog;
use switchboard_sip::header::{NameAddr, uri_user};
use switchboard_sip::message::header_value;
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

use super::Ctx;
use crate::vocabulary::MessageCounts;

const EVENT: &str = "message-summary";
const CONTENT_TYPE: &str = "application/simple-message-summary";
/// Expiry bounds: a phone asking for more is given the longest, one asking for less
/// than the shortest is told so with 423.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(3600);
const MIN_EXPIRY: Duration = Duration::from_secs(60);
const MAX_EXPIRY: Duration = Duration::from_secs(7200);
/// Subscriptions one extension may hold (its phones, each once); more are refused so
/// a runaway client cannot grow the table.
const PER_MAILBOX: usize = 16;

#[derive(Debug)]
struct Subscription {
    mailbox: String,
    dialog: Dialog,
    expires: Instant,
}

/// Subscriptions by Call-ID and Switchboard's tag, and the NOTIFYs awaiting an answer
/// with the subscription each was for.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_dialog: HashMap<(String, String), Subscription>,
    notifies: HashMap<ClientId, (String, String)>,
    /// No subscription lapses before this: the engine's frequent wake-ups skip the
    /// scan until then.
    next_lapse: Option<Instant>,
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
        let event = header_value(&request.headers, "Event").unwrap_or_default();
        if event.split(';').next().map(str::trim) != Some(EVENT) {
            let mut r = cx.legs.sip.response(&request, 489, "Bad Event", "sb489");
            r.headers
                .push(Header::Other("Allow-Events".into(), EVENT.into()));
            return cx.legs.sip.respond(now, id, &r);
        }
        let subscriber = match cx.legs.sip.authenticate(now, &request, peer) {
            Ok(user) => user,
            Err(challenge) => return cx.legs.sip.respond(now, id, &challenge),
        };
        let expiry = match header_value(&request.headers, "Expires").map(str::trim) {
            None => DEFAULT_EXPIRY,
            Some(v) => match v.parse::<u64>() {
                Ok(s) => Duration::from_secs(s).min(MAX_EXPIRY),
                Err(_) => return cx.legs.reply(now, id, &request, 400, "Bad Expires"),
            },
        };
        if !expiry.is_zero() && expiry < MIN_EXPIRY {
            let mut r = cx
                .legs
                .sip
                .response(&request, 423, "Interval Too Brief", "sb423");
            r.headers.push(Header::Other(
                "Min-Expires".into(),
                MIN_EXPIRY.as_secs().to_string(),
            ));
            return cx.legs.sip.respond(now, id, &r);
        }
        let to_tag = header_value(&request.headers, "To")
            .and_then(|to| NameAddr::parse(to, "To").ok())
            .and_then(|to| to.tag().map(str::to_string));
        let call_id = header_value(&request.headers, "Call-ID")
            .unwrap_or_default()
            .to_string();
        let key = match to_tag {
            // A refresh (or removal) of a subscription this phone holds.
            Some(tag) => {
                let key = (call_id, tag);
                match self.by_dialog.get(&key) {
                    Some(s) if s.mailbox == subscriber => key,
                    _ => {
                        return cx.legs.reply(
                            now,
                            id,
                            &request,
                            481,
                            "Subscription Does Not Exist",
                        );
                    }
                }
            }
            None => {
                let mailbox = uri_user(&request.uri.to_string())
                    .unwrap_or_default()
                    .to_string();
                if mailbox != subscriber {
                    return cx
                        .legs
                        .reply(now, id, &request, 403, "Only the box's own extension");
                }
                let held = self
                    .by_dialog
                    .values()
                    .filter(|s| s.mailbox == mailbox)
                    .count();
                if held >= PER_MAILBOX {
                    return cx
                        .legs
                        .reply(now, id, &request, 503, "Too many subscriptions");
                }
                let tag = cx.legs.ids.token();
                let Ok(dialog) = Dialog::as_uas(&request, &tag, peer) else {
                    return cx.legs.reply(now, id, &request, 400, "Contact is missing");
                };
                let key = (call_id, tag);
                let subscription = Subscription {
                    mailbox,
                    dialog,
                    expires: now,
                };
                self.by_dialog.insert(key.clone(), subscription);
                key
            }
        };
        let Some(subscription) = self.by_dialog.get_mut(&key) else {
            return;
        };
        subscription.expires = now + expiry;
        let lapse = &mut self.next_lapse;
        *lapse = Some(lapse.map_or(now + expiry, |at| at.min(now + expiry)));
        subscription.dialog.peer = peer;
        let mut r = cx.legs.sip.response(&request, 200, "OK", &key.1);
        r.headers
            .push(Header::Expires(expiry.as_secs().to_string().into()));
        r.headers
            .push(Header::Contact(cx.legs.contact(&subscriber, peer).into()));
        cx.legs.sip.respond(now, id, &r);
        self.notify(cx, &key, &counts);
        if expiry.is_zero() {
            self.by_dialog.remove(&key);
        }
    }

    /// Tells every phone subscribed to `mailbox` what it holds now (`counts`).
    pub fn mailbox_changed(&mut self, cx: &mut Ctx<'_>, mailbox: &str, counts: MessageCounts) {
        let now = cx.now;
        let keys: Vec<_> = self
            .by_dialog
            .iter()
            .filter(|(_, s)| s.mailbox == mailbox && s.expires > now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.notify(cx, &key, &|_: &str| counts);
        }
    }

    /// Drops subscriptions that ran out without a refresh.
    pub fn expire(&mut self, now: Instant) {
        let subscriptions = self;
        if subscriptions.next_lapse.is_none_or(|at| now < at) {
            return;
        }
        subscriptions.by_dialog.retain(|_, s| s.expires > now);
        subscriptions.next_lapse = subscriptions.by_dialog.values().map(|s| s.expires).min();
    }

    /// A phone answered a NOTIFY (`code`; 408 when it never did): one that no longer
    /// knows the subscription, or cannot be reached, loses it (RFC 6665 §4.1.3).
    /// False when `client` was no NOTIFY.
    pub fn notify_answered(&mut self, client: ClientId, code: u16) -> bool {
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

    fn notify(
        &mut self,
        cx: &mut Ctx<'_>,
        key: &(String, String),
        counts: &dyn Fn(&str) -> MessageCounts,
    ) {
        let now = cx.now;
        let Some(s) = self.by_dialog.get(key) else {
            return;
        };
        let left = s.expires.saturating_duration_since(now).as_secs();
        let state = if left == 0 {
            "terminated;reason=timeout".to_string()
        } else {
            format!("active;expires={left}")
        };
        let (mailbox, peer) = (s.mailbox.clone(), s.dialog.peer);
        let account = format!("sip:{mailbox}@{}", cx.legs.sip.realm());
        let body = message_summary(&account, counts(&mailbox));
        let via = cx.legs.via(peer);
        let contact = cx.legs.contact(&mailbox, peer);
        let Some(s) = self.by_dialog.get_mut(key) else {
            return;
        };
        let headers = vec![
            Header::Other("Event".into(), EVENT.into()),
            Header::Other("Subscription-State".into(), state),
            Header::Contact(contact.into()),
        ];
        let body = Some((CONTENT_TYPE, body.into_bytes()));
        if let Ok(request) = s.dialog.request(Method::Notify, &via, headers, body)
            && let Some(client) = cx.legs.sip.send_request(now, request, peer)
        {
            self.notifies.insert(client, key.clone());
        }
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
