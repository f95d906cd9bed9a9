//! Number lists on calls: a caller on a block list is declined; one on a VIP list waits
//! in queues ahead of others.

use std::collections::BTreeSet;

use crate::numbers::{ListKind, NumberList};
use switchboard_queue::Priority;

use super::*;

fn list(name: &str, kind: ListKind, numbers: &[&str]) -> NumberList {
    NumberList {
        name: name.into(),
        kind,
        numbers: numbers
            .iter()
            .map(|n| n.to_string())
            .collect::<BTreeSet<_>>(),
    }
}

/// 100, on the block list "Nuisance", calls 101.
fn blocked_call(tell: bool) -> Harness {
    let mut h = Harness::new(&[DESK]);
    let nuisance = list("Nuisance", ListKind::Block { tell }, &["100"]);
    h.pbx.set_lists(None, vec![nuisance]);
    h.call("101", &sdp(4000, "0"));
    h
}

/// The caller got 603 naming the list, nobody rang, and the record says so.
fn declined(h: &mut Harness) {
    let declined = h.expect(CALLER, "SIP/2.0 603");
    assert!(declined.contains("Nuisance"), "{declined}");
    assert!(h.take(DESK).is_empty(), "the callee's phone never rang");
    let r = &h.records[0];
    assert_eq!((r.outcome, r.sip_code), (Outcome::Failed, 603));
}

#[test]
fn a_caller_on_a_block_list_is_declined_and_recorded() {
    let mut h = blocked_call(false);
    declined(&mut h);
}

#[test]
fn a_block_list_that_tells_says_so_before_declining() {
    let mut h = blocked_call(true);
    h.announcement_plays(Announcement::Blocked);
    declined(&mut h);
}

#[test]
fn a_caller_on_a_vip_list_joins_queues_with_its_priority() {
    let mut h = Harness::new(&[DESK]);
    let setup = QueueSetup {
        number: "600".into(),
        config: switchboard_queue::QueueConfig::new("Sales", switchboard_queue::Strategy::Linear),
        members: vec![("101".into(), switchboard_queue::Membership::default())],
    };
    h.pbx.set_queues(
        h.clock(),
        vec![setup],
        vec![switchboard_queue::AgentConfig::new("101")],
    );
    h.pbx.set_lists(
        None,
        vec![list(
            "Key customers",
            ListKind::Vip {
                priority: Priority(7),
            },
            &["100"],
        )],
    );
    h.collect();
    h.call("600", &sdp(4000, "0"));
    let join = h.queue_events.iter().find_map(|e| match e.kind {
        switchboard_queue::EventKind::Join { priority, .. } => Some(priority),
        _ => None,
    });
    assert_eq!(join, Some(Priority(7)));
    // The call log marks it too, however the call ends.
    h.pbx.handle_media_failed(h.clock(), 1);
    h.collect();
    assert_eq!(
        (h.records[0].priority, h.records[0].queue.as_deref()),
        (Priority(7), Some("600"))
    );
}
