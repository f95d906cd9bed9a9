//! What every event package Switchboard serves (message waiting, busy lamps) does
//! alike: a SUBSCRIBE is checked against the package, authenticated as an extension,
//! allowed by the package's own rule and answered; NOTIFYs go out inside the
//! subscription. The SIP side of subscriptions is [`switchboard_sip::subscription`]'s.

use rsip::Header;
use switchboard_sip::subscription::{Notifier, Refusal, Request, SubscriptionKey};
use switchboard_sip::transaction::{Peer, ServerId};

use super::Ctx;

/// Whether `subscriber` may watch `resource`; the refusal's status and reason if not.
pub(crate) type Rule = fn(&Ctx<'_>, &str, &str) -> Result<(), (u16, &'static str)>;

/// Takes up a SUBSCRIBE, new or refreshing one, that the package and `may` allow,
/// and answers it 200; returns the subscription, whose first NOTIFY the package sends
/// at once. None when it has been refused (or challenged).
pub(crate) fn accept(
    cx: &mut Ctx<'_>,
    notifier: &mut Notifier,
    (id, request, peer): (ServerId, rsip::Request, Peer),
    may: Rule,
) -> Option<SubscriptionKey> {
    let now = cx.now;
    if let Err(refusal) = notifier.check_event(&request) {
        return refuse(cx, id, &request, refusal);
    }
    let subscriber = match cx.legs.sip.authenticate(now, &request, peer) {
        Ok(user) => user,
        Err(challenge) => {
            cx.legs.sip.respond(now, id, &challenge);
            return None;
        }
    };
    let asked = match notifier.read(&request, &subscriber) {
        Ok(asked) => asked,
        Err(refusal) => return refuse(cx, id, &request, refusal),
    };
    if let Request::New { resource, .. } = &asked
        && let Err((code, reason)) = may(cx, &subscriber, resource)
    {
        cx.legs.reply(now, id, &request, code, reason);
        return None;
    }
    let tag = cx.legs.ids.token();
    let (key, expiry) = match notifier.accept(now, &request, peer, &subscriber, asked, &tag) {
        Ok(taken) => taken,
        Err(refusal) => return refuse(cx, id, &request, refusal),
    };
    let mut r = cx.legs.sip.response(&request, 200, "OK", &key.1);
    r.headers
        .push(Header::Expires(expiry.as_secs().to_string().into()));
    r.headers
        .push(Header::Contact(cx.legs.contact(&subscriber, peer).into()));
    cx.legs.sip.respond(now, id, &r);
    Some(key)
}

/// Sends subscription `key` a NOTIFY carrying `body` of `content_type`.
pub(crate) fn notify(
    cx: &mut Ctx<'_>,
    notifier: &mut Notifier,
    key: &SubscriptionKey,
    content_type: &str,
    body: Vec<u8>,
) {
    let Some((resource, peer)) = notifier.resource(key) else {
        return;
    };
    let contact = cx.legs.contact(resource, peer);
    let via = cx.legs.via(peer);
    let body = Some((content_type, body));
    if let Some((request, peer)) = notifier.notify(cx.now, key, &via, contact, body)
        && let Some(client) = cx.legs.sip.send_request(cx.now, request, peer)
    {
        notifier.sent(client, key.clone());
    }
}

/// Every event package Switchboard serves, as a 489 names them.
const ALLOW_EVENTS: &str = "message-summary, dialog";

/// Answers a SUBSCRIBE the notifier refused.
fn refuse(
    cx: &mut Ctx<'_>,
    id: ServerId,
    request: &rsip::Request,
    refusal: Refusal,
) -> Option<SubscriptionKey> {
    let tag = cx.legs.sip.stateless_tag(request);
    let mut r = cx
        .legs
        .sip
        .response(request, refusal.code, refusal.reason, &tag);
    let header = match refusal.code {
        489 => Some(Header::Other("Allow-Events".into(), ALLOW_EVENTS.into())),
        _ => refusal.header,
    };
    if let Some(header) = header {
        r.headers.push(header);
    }
    cx.legs.sip.respond(cx.now, id, &r);
    None
}
