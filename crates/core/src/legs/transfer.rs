//! Blind transfer asked by a phone (REFER, RFC 3515): the legs accept the REFER of an
//! answered call, keep the transferor told of its progress by NOTIFY with a sipfrag
//! (RFC 3515 §2.4.5), and once the engine has found where the number goes, let the
//! transferor go so the party left waits alone for the target. Where that is and who
//! answers it is the engine's and the transfer feature's to decide.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::relay::Side;
use switchboard_sip::header::{NameAddr, uri_user};
use switchboard_sip::message::header_value;
use switchboard_sip::transaction::ServerId;

use super::call::Phase;
use super::{DialogRoute, LegEvent, Legs};
use crate::vocabulary::{CallKey, MediaCommand, Waiting};

/// A transfer asked and not settled yet: whose leg asked, and whether they want to be
/// told how it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Referral {
    pub side: Side,
    /// The transferor's fork, when it is on leg B.
    pub fork: Option<usize>,
    /// False when the REFER said `Refer-Sub: false` (RFC 4488): no NOTIFY then.
    pub notify: bool,
}

impl Legs {
    /// A REFER inside a call. Only an office phone in an answered call may transfer,
    /// and only by a number (a Refer-To with Replaces asks for attended transfer,
    /// which is refused for now).
    pub(super) fn handle_refer(
        &mut self,
        now: Instant,
        id: ServerId,
        route: &DialogRoute,
        refer: &rsip::Request,
    ) {
        let key = route.call;
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let Phase::Answered { winner } = call.phase else {
            return self.reply(
                now,
                id,
                refer,
                403,
                "Only an answered call can be transferred",
            );
        };
        if call.transfer.is_some() {
            return self.reply(now, id, refer, 491, "A transfer is already in progress");
        }
        let Some(transferor) = route.extension.clone() else {
            return self.reply(
                now,
                id,
                refer,
                403,
                "Only the office's phones transfer calls",
            );
        };
        let Some(target) = refer_target(refer) else {
            return self.reply(now, id, refer, 400, "Refer-To names no number");
        };
        if target.replaces {
            return self.reply(
                now,
                id,
                refer,
                501,
                "Attended transfer is not supported yet",
            );
        }
        let notify = !header_value(&refer.headers, "Refer-Sub")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        let side = route.side;
        let tag = self.local_tag(key, side);
        let mut accepted = self.sip.response(refer, 202, "Accepted", &tag);
        if !notify {
            accepted
                .headers
                .push(Header::Other("Refer-Sub".into(), "false".into()));
        }
        self.sip.respond(now, id, &accepted);
        let fork = (side == Side::B).then_some(winner);
        if let Some(call) = self.calls.get_mut(&key) {
            call.transfer = Some(Referral { side, fork, notify });
        }
        self.notify_transfer(now, key, "100 Trying", false);
        self.emit(LegEvent::Transfer {
            call: key,
            by: transferor,
            target: target.number,
        });
    }

    /// Tells the transferor how the transfer goes (`status` is the sipfrag's code and
    /// reason); `last` ends the implicit subscription.
    fn notify_transfer(&mut self, now: Instant, key: CallKey, status: &str, last: bool) {
        let Some(referral) = self.calls.get(&key).and_then(|c| c.transfer) else {
            return;
        };
        if !referral.notify {
            return;
        }
        let peer = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.dialog_mut(referral.side, referral.fork))
            .map(|d| d.peer);
        let Some(peer) = peer else {
            return;
        };
        let user = self
            .calls
            .get(&key)
            .map_or(String::new(), |c| match referral.side {
                Side::A => c.callee.clone(),
                Side::B => c.caller.clone(),
            });
        let state = if last {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let headers = vec![
            Header::Other("Event".into(), "refer".into()),
            Header::Other("Subscription-State".into(), state.into()),
            Header::Contact(self.contact(&user, peer).into()),
        ];
        let body = format!("SIP/2.0 {status}\r\n").into_bytes();
        self.send_in_dialog(
            now,
            key,
            referral.side,
            referral.fork,
            Method::Notify,
            headers,
            Some(("message/sipfrag;version=2.0", body)),
        );
    }

    /// The transfer cannot happen (`code`, `reason`): the transferor is told and the
    /// call goes on as it was.
    pub fn refuse_transfer(&mut self, now: Instant, key: CallKey, code: u16, reason: &str) {
        self.notify_transfer(now, key, &format!("{code} {reason}"), true);
        if let Some(call) = self.calls.get_mut(&key) {
            call.transfer = None;
        }
    }

    /// The transfer goes ahead: the transferor is told it succeeded and hung up on,
    /// and no longer counts as busy on the call; the other party waits alone, hearing
    /// ringback, held for the feature that puts them through ([`Phase::Held`] when they
    /// are the caller, [`Phase::Placing`] when they were called). Returns the
    /// transferee's leg and, on B, their fork.
    pub fn let_transferor_go(
        &mut self,
        now: Instant,
        key: CallKey,
        transferor: &str,
    ) -> Option<(Side, Option<usize>)> {
        self.notify_transfer(now, key, "200 OK", true);
        let call = self.calls.get_mut(&key)?;
        let referral = call.transfer.take()?;
        let Phase::Answered { winner } = call.phase else {
            return None;
        };
        let transferee = referral.side.other();
        let transferee_fork = (transferee == Side::B).then_some(winner);
        let media = call.media?[transferee as usize];
        self.send_bye(now, key, referral.side, referral.fork);
        let call = self.calls.get_mut(&key)?;
        call.awaiting_ack[referral.side as usize] = None;
        call.music_to = None;
        call.phase = match transferee {
            Side::A => Phase::Held,
            Side::B => Phase::Placing,
        };
        // The transferor's dialog is over: requests in it match nothing any more.
        let gone = match referral.fork {
            Some(fork) => call.forks[fork].dialog.take(),
            None => Some(call.a_dialog.clone()),
        };
        let was_busy = call.busy.iter().any(|e| e == transferor);
        call.busy.retain(|e| e != transferor);
        if let Some(d) = gone {
            self.by_dialog.remove(&(d.call_id, d.local_tag));
        }
        if was_busy {
            self.release(vec![transferor.to_string()]);
        }
        self.media(MediaCommand::Wait {
            call: key,
            side: transferee,
            media,
            hears: Waiting::Ringback,
        });
        Some((transferee, transferee_fork))
    }
}

/// The number a REFER asks to transfer to, and whether it asks for attended transfer.
struct ReferTarget {
    number: String,
    replaces: bool,
}

fn refer_target(refer: &rsip::Request) -> Option<ReferTarget> {
    let value = header_value(&refer.headers, "Refer-To")?;
    let uri = NameAddr::parse(value, "Refer-To").ok()?.uri;
    let replaces = uri
        .split_once('?')
        .is_some_and(|(_, headers)| headers.to_ascii_lowercase().contains("replaces="));
    let number = uri_user(&uri)?;
    // A number may be percent-encoded (`%2A97` for `*97`).
    let number = percent_encoding::percent_decode_str(number)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some(ReferTarget { number, replaces })
}
