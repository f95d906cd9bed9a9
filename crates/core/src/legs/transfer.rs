//! Transfers asked by a phone (REFER, RFC 3515): the legs accept the REFER of an
//! answered call and keep the transferor told of its progress by NOTIFY with a sipfrag
//! (RFC 3515 §2.4.5). A blind transfer names a number: once the engine has found where
//! it goes, the transferor is let go and the party left waits alone for the target
//! (where that is and who answers it is the engine's and the transfer feature's to
//! decide). An attended transfer names the transferor's consultation call (Replaces,
//! RFC 3891): its callee's leg moves into this call.

use std::time::Instant;

use rsip::{Header, Method};
use switchboard_media::relay::Side;
use switchboard_sip::header::{NameAddr, uri_user};
use switchboard_sip::message::header_value;
use switchboard_sip::transaction::ServerId;

use super::call::Phase;
use super::{DialogRoute, LegEvent, Legs};
use crate::record::{HangupBy, Outcome};
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
        let side = route.side;
        let consultation = match &target.replaces {
            None => None,
            Some(Err(())) => return self.reply(now, id, refer, 400, "Bad Replaces in Refer-To"),
            Some(Ok(replaces)) => match self.consultation(key, &transferor, replaces) {
                Ok(q) => Some(q),
                Err((code, reason)) => return self.reply(now, id, refer, code, reason),
            },
        };
        let notify = !header_value(&refer.headers, "Refer-Sub")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
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
        self.emit(match consultation {
            Some(with) => LegEvent::TransferJoin {
                call: key,
                by: transferor,
                with,
            },
            None => LegEvent::Transfer {
                call: key,
                by: transferor,
                target: target.number,
            },
        });
    }

    /// The call whose dialog an attended transfer's Replaces names (RFC 3891): the
    /// transferor's own consultation call, answered, which they placed. Switchboard
    /// joins its callee to the other party of the call the REFER came in, so the
    /// callee's leg can move over as it is.
    fn consultation(
        &self,
        key: CallKey,
        transferor: &str,
        replaces: &Replaces,
    ) -> Result<CallKey, (u16, &'static str)> {
        let route = self
            .by_dialog
            .get(&(replaces.call_id.clone(), replaces.to_tag.clone()))
            .filter(|r| r.call != key)
            .ok_or((481, "The call to replace does not exist"))?;
        if route.extension.as_deref() != Some(transferor) {
            return Err((403, "The call to replace is not the transferor's"));
        }
        let answered = matches!(
            self.calls.get(&route.call).map(|c| c.phase),
            Some(Phase::Answered { .. })
        );
        if !answered {
            return Err((481, "The call to replace is not answered"));
        }
        if route.side != Side::A {
            return Err((
                501,
                "Attended transfer joins this call to the callee of a call the transferor \
                 placed",
            ));
        }
        Ok(route.call)
    }

    /// Carries out an attended transfer: the transferor is told and let go from `key`,
    /// the callee of their consultation call `with` takes the transferor's place in
    /// `key` and talks with the party left there, and `with` ends. Returns who now
    /// talks to that party.
    pub fn join_consultation(
        &mut self,
        now: Instant,
        key: CallKey,
        with: CallKey,
        transferor: &str,
    ) -> Option<String> {
        let (waiting, waiting_fork) = self.let_transferor_go(now, key, transferor)?;
        let seat = waiting.other();
        let (index, target_media) = self.move_answered_leg(now, (with, key), seat)?;
        let waiting_media = self.calls.get(&key)?.media?[waiting as usize];
        match waiting_fork {
            // The caller waited: the target is leg B.
            None => self.bridge(now, key, index, waiting_media, target_media),
            // The called party waited on B: the target is leg A now.
            Some(fork) => self.bridge(now, key, fork, target_media, waiting_media),
        }
        let caller = self.calls.get(&key)?.caller.clone();
        let answerer = self.talks_for_office(key, index)?;
        let reason = format!("{transferor} joined {answerer} to {caller}'s call");
        let ending = (Outcome::Answered, HangupBy::System);
        self.end_waiting(now, with, Some((Side::A, None)), ending, 200, &reason);
        Some(answerer)
    }

    /// A transfer asked from the panel: an office phone of answered call `key` lets
    /// the other party go on, as if it had sent REFER without asking to be told. The
    /// phone is `leaving`'s when given (an agent transferring their own call), else the
    /// answering phone (or the caller's, on a call out). Returns its extension.
    pub fn begin_transfer(&mut self, key: CallKey, leaving: Option<&str>) -> Option<String> {
        let call = self.calls.get_mut(&key)?;
        let Phase::Answered { winner } = call.phase else {
            return None;
        };
        let called = call.forks[winner].target.extension().map(str::to_string);
        let calling = (call.origin == super::Origin::Extension).then(|| call.caller.clone());
        let (side, fork, by) = match (called, calling) {
            (Some(called), _) if leaving.is_none_or(|l| l == called) => {
                (Side::B, Some(winner), called)
            }
            (_, Some(caller)) if leaving.is_none_or(|l| l == caller) => (Side::A, None, caller),
            _ => return None,
        };
        if call.transfer.is_some() {
            return None;
        }
        call.transfer = Some(Referral {
            side,
            fork,
            notify: false,
        });
        Some(by)
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
        let Phase::Answered { .. } = call.phase else {
            return None;
        };
        self.send_bye(now, key, referral.side, referral.fork);
        let (transferee, transferee_fork) = self.part_from(key, referral.side, transferor)?;
        let media = self.calls.get(&key)?.media?[transferee as usize];
        self.media(MediaCommand::Wait {
            call: key,
            side: transferee,
            media,
            hears: Waiting::Ringback,
        });
        Some((transferee, transferee_fork))
    }

    /// Leg `side` of answered call `key`, `leaving`'s phone, is gone (let go, or hung
    /// up): it no longer counts as busy, and the other party stays alone, held for a
    /// feature ([`Phase::Held`] when they are the caller, [`Phase::Placing`] when they
    /// were called). Returns the staying party's leg and, on B, their fork.
    pub fn part_from(
        &mut self,
        key: CallKey,
        side: Side,
        leaving: &str,
    ) -> Option<(Side, Option<usize>)> {
        let call = self.calls.get_mut(&key)?;
        let Phase::Answered { winner } = call.phase else {
            return None;
        };
        let stays = side.other();
        let fork_of = |s: Side| (s == Side::B).then_some(winner);
        call.ending = None;
        call.awaiting_ack[side as usize] = None;
        call.music_to = None;
        call.phase = match stays {
            Side::A => Phase::Held,
            Side::B => Phase::Placing,
        };
        // The leaving leg's dialog is over: requests in it match nothing any more.
        let gone = match fork_of(side) {
            Some(fork) => call.forks[fork].dialog.take(),
            None => Some(call.a_dialog.clone()),
        };
        let was_busy = call.busy.iter().any(|e| e == leaving);
        call.busy.retain(|e| e != leaving);
        if let Some(d) = gone {
            self.by_dialog.remove(&(d.call_id, d.local_tag));
        }
        if was_busy {
            self.release(vec![leaving.to_string()]);
        }
        Some((stays, fork_of(stays)))
    }
}

/// The number a REFER asks to transfer to, and for an attended transfer the dialog
/// the target is already in (an error when its Replaces cannot be read).
struct ReferTarget {
    number: String,
    replaces: Option<Result<Replaces, ()>>,
}

/// A Replaces header (RFC 3891 §6.1) as the transferor sees the dialog: To is
/// Switchboard's tag, From theirs.
#[derive(Debug, PartialEq, Eq)]
struct Replaces {
    call_id: String,
    to_tag: String,
}

fn refer_target(refer: &rsip::Request) -> Option<ReferTarget> {
    let value = header_value(&refer.headers, "Refer-To")?;
    let uri = NameAddr::parse(value, "Refer-To").ok()?.uri;
    // Headers of a SIP URI (RFC 3261 §19.1.1): `?name=value&…`, percent-encoded.
    let replaces = uri.split_once('?').and_then(|(_, headers)| {
        headers.split('&').find_map(|h| {
            let (name, value) = h.split_once('=')?;
            name.eq_ignore_ascii_case("replaces")
                .then(|| decoded(value).and_then(|v| replaces(&v)).ok_or(()))
        })
    });
    let number = uri_user(&uri)?;
    // A number may be percent-encoded (`%2A97` for `*97`).
    let number = decoded(number)?;
    Some(ReferTarget { number, replaces })
}

fn decoded(text: &str) -> Option<String> {
    let text = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    Some(text.into_owned())
}

/// `call-id;to-tag=…;from-tag=…` (parameters in any order).
fn replaces(value: &str) -> Option<Replaces> {
    let mut parts = value.split(';');
    let call_id = parts.next()?.trim().to_string();
    let to_tag = parts.find_map(|p| {
        let (name, tag) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("to-tag")
            .then(|| tag.trim().to_string())
    })?;
    Some(Replaces { call_id, to_tag })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(refer_to: &str) -> Option<ReferTarget> {
        let text = format!(
            "REFER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\n\
             CSeq: 1 REFER\r\nRefer-To: {refer_to}\r\nContent-Length: 0\r\n\r\n"
        );
        match switchboard_sip::message::parse(text.as_bytes()) {
            Ok(switchboard_sip::message::Message::Request(r)) => refer_target(&r),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replaces_is_read_from_the_refer_to_uri() {
        let attended = refer(
            "<sip:102@pbx?Replaces=abc%40host%3Bfrom-tag%3Dx1%3Bto-tag%3Dsb9&Require=replaces>",
        )
        .unwrap();
        assert_eq!(attended.number, "102");
        assert_eq!(
            attended.replaces,
            Some(Ok(Replaces {
                call_id: "abc@host".into(),
                to_tag: "sb9".into()
            }))
        );
        let unreadable = refer("<sip:102@pbx?Replaces=abc%40host%3Bfrom-tag%3Dx1>").unwrap();
        assert_eq!(unreadable.replaces, Some(Err(())), "no to-tag");
        let blind = refer("<sip:%2A101@pbx>").unwrap();
        assert_eq!((blind.number.as_str(), blind.replaces), ("*101", None));
        assert!(refer("<sip:pbx>").is_none(), "no number");
    }
}
