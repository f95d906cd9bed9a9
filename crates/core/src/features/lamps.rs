//! Busy lamps (BLF): a phone subscribes to another extension's `dialog` events
//! (RFC 4235) and is sent a NOTIFY at once and whenever that extension's phones start
//! or stop ringing (with who calls, so the colleague can pick up) or calls; or to a
//! park slot's, lit while a call is parked there. Any of the office's extensions may
//! watch any of them; the lamps are worked out again after every input, and only a
//! change is sent.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use quick_xml::escape::escape;
use switchboard_sip::subscription::{EventPackage, Notifier, SubscriptionKey};
use switchboard_sip::transaction::{ClientId, Peer, ServerId};

use super::{Ctx, events};
use crate::legs::Lamp;

const CONTENT_TYPE: &str = "application/dialog-info+xml";
/// A receptionist's phone watches a few dozen extensions; an extension may be watched
/// by 32 subscriptions.
const PACKAGE: EventPackage = EventPackage {
    event: "dialog",
    default_expiry: Duration::from_secs(3600),
    min_expiry: Duration::from_secs(60),
    max_expiry: Duration::from_secs(7200),
    per_resource: 32,
};

#[derive(Debug)]
pub(crate) struct Lamps {
    notifier: Notifier,
    /// What each watched extension's subscribers were last told.
    shown: HashMap<String, Lamp>,
    /// Each subscription's NOTIFY count (the dialog-info version, RFC 4235 §4.1).
    versions: HashMap<SubscriptionKey, u32>,
}

impl Default for Lamps {
    fn default() -> Self {
        Lamps {
            notifier: Notifier::new(PACKAGE),
            shown: HashMap::new(),
            versions: HashMap::new(),
        }
    }
}

impl Lamps {
    /// A SUBSCRIBE to an extension's or a park slot's `dialog` events, new or
    /// refreshing one; `parked` are the slots taken and their calls' ids.
    pub fn handle_subscribe(
        &mut self,
        cx: &mut Ctx<'_>,
        subscribe: (ServerId, rsip::Request, Peer),
        parked: &[(String, String)],
    ) {
        let an_extension = |cx: &Ctx<'_>, _: &str, resource: &str| {
            let slot = cx.office.codes.park_slot_index(resource).is_some();
            (cx.legs.is_extension(resource) || slot)
                .then_some(())
                .ok_or((404, "No such extension or park slot"))
        };
        let Some(key) = events::accept(cx, &mut self.notifier, subscribe, an_extension) else {
            return;
        };
        let Some((extension, _)) = self.notifier.resource(&key) else {
            return;
        };
        let extension = extension.to_string();
        let lamp = lamps_now(cx, &[&extension], parked).remove(&extension);
        self.notify(cx, &key, &extension, &lamp.unwrap_or(Lamp::Idle));
    }

    /// Sends every watched lamp that changed since it was last shown.
    pub fn refresh(&mut self, cx: &mut Ctx<'_>, parked: &[(String, String)]) {
        if self.shown.is_empty() {
            return;
        }
        let watched: Vec<String> = self.shown.keys().cloned().collect();
        let names: Vec<&str> = watched.iter().map(String::as_str).collect();
        let lamps = lamps_now(cx, &names, parked);
        for (extension, lamp) in lamps {
            if self.shown.get(&extension) == Some(&lamp) {
                continue;
            }
            for key in self.notifier.subscribed_to(cx.now, &extension) {
                self.notify(cx, &key, &extension, &lamp);
            }
            self.shown.insert(extension, lamp);
        }
    }

    pub fn subscriptions(&self) -> usize {
        self.notifier.len()
    }

    /// Drops subscriptions that ran out without a refresh, and what was kept for them.
    pub fn expire(&mut self, now: Instant) {
        self.notifier.expire(now);
        self.forget_lapsed();
    }

    /// A phone answered a NOTIFY (`code`; 408 when it never did). False when `client`
    /// was no NOTIFY of a busy lamp.
    pub fn notify_answered(&mut self, client: ClientId, code: u16) -> bool {
        let ours = self.notifier.handle_response(client, code);
        if ours && code >= 300 {
            self.forget_lapsed();
        }
        ours
    }

    fn forget_lapsed(&mut self) {
        let notifier = &self.notifier;
        self.versions.retain(|key, _| notifier.holds(key));
        let watched = notifier.resources();
        self.shown.retain(|e, _| watched.contains(&e.as_str()));
    }

    fn notify(&mut self, cx: &mut Ctx<'_>, key: &SubscriptionKey, extension: &str, lamp: &Lamp) {
        let version = self.versions.entry(key.clone()).or_default();
        let entity = format!("sip:{extension}@{}", cx.legs.sip.realm());
        let body = dialog_info(&entity, *version, lamp, cx.legs.sip.realm());
        *version += 1;
        self.shown.insert(extension.to_string(), lamp.clone());
        events::notify(cx, &mut self.notifier, key, CONTENT_TYPE, body.into_bytes());
        if !self.notifier.holds(key) {
            self.forget_lapsed();
        }
    }
}

/// The lamps of `watched`: extensions as their phones are, park slots lit while in
/// `parked`.
fn lamps_now(cx: &Ctx<'_>, watched: &[&str], parked: &[(String, String)]) -> HashMap<String, Lamp> {
    let mut lamps = cx.legs.lamps(watched);
    for (slot, call) in parked {
        if let Some(lamp) = lamps.get_mut(slot) {
            *lamp = Lamp::Busy {
                call: call.clone(),
                initiator: false,
            };
        }
    }
    lamps
}

/// The full dialog-info document for `entity` (RFC 4235 §4): no dialog when idle,
/// an early one while ringing (with the caller, as phones offer pickup from it, and the
/// dialog's tags, which a phone's INVITE with Replaces names), a confirmed one on a
/// call.
fn dialog_info(entity: &str, version: u32, lamp: &Lamp, realm: &str) -> String {
    let dialog = match lamp {
        Lamp::Idle => String::new(),
        Lamp::Ringing {
            call,
            tags: (local, remote),
            caller,
            display,
        } => format!(
            "<dialog id=\"{id}\" call-id=\"{id}\" local-tag=\"{local}\" remote-tag=\"{remote}\" \
             direction=\"recipient\"><state>early</state>\
             <remote><identity display=\"{display}\">sip:{caller}@{realm}</identity></remote></dialog>",
            id = escape(call),
            local = escape(local),
            remote = escape(remote),
            display = escape(display),
            caller = escape(caller),
        ),
        Lamp::Busy { call, initiator } => format!(
            "<dialog id=\"{id}\" call-id=\"{id}\" direction=\"{direction}\"><state>confirmed</state></dialog>",
            id = escape(call),
            direction = if *initiator { "initiator" } else { "recipient" },
        ),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" \
         version=\"{version}\" state=\"full\" entity=\"{}\">{dialog}</dialog-info>\r\n",
        escape(entity)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_says_idle_ringing_for_whom_and_busy() {
        let entity = "sip:102@switchboard";
        let idle = dialog_info(entity, 0, &Lamp::Idle, "switchboard");
        assert!(
            idle.contains(
                "version=\"0\" state=\"full\" entity=\"sip:102@switchboard\"></dialog-info>"
            ),
            "{idle}"
        );
        let ringing = Lamp::Ringing {
            call: "c1@switchboard".into(),
            tags: ("sb1".into(), "a1".into()),
            caller: "100".into(),
            display: "Anna <&> \"Co\"".into(),
        };
        let text = dialog_info(entity, 1, &ringing, "switchboard");
        assert!(
            text.contains(
                "call-id=\"c1@switchboard\" local-tag=\"sb1\" remote-tag=\"a1\" \
                 direction=\"recipient\"><state>early</state>"
            ),
            "{text}"
        );
        assert!(
            text.contains("<identity display=\"Anna &lt;&amp;&gt; &quot;Co&quot;\">sip:100@switchboard</identity>"),
            "{text}"
        );
        let busy = Lamp::Busy {
            call: "c1@switchboard".into(),
            initiator: true,
        };
        let text = dialog_info(entity, 2, &busy, "switchboard");
        assert!(
            text.contains("direction=\"initiator\"><state>confirmed</state>"),
            "{text}"
        );
    }
}
