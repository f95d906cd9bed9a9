//! Key 1: the caller hangs up, keeps their place, and is called back by a reserved
//! agent when their turn comes.

use super::*;
use crate::model::CallbackPolicy;

fn with_callbacks(agents: usize) -> Harness {
    let mut config = quiet(Strategy::Linear);
    config.callback = Some(CallbackPolicy {
        attempts: 2,
        retry_after: S(300),
    });
    Harness::new(config, agents)
}

fn callbacks_placed(actions: &[Action]) -> Vec<(u64, AgentId, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::PlaceCallback {
                call,
                agent,
                number,
                whisper,
            } => {
                assert!(whisper.callback);
                Some((call.0, *agent, number.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Busy agent 0 with caller 1; callers 2 and 3 wait; 2 asks for a callback and hangs up.
fn caller_two_asks_for_a_callback(h: &mut Harness) {
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.join(3, 0);
    h.take();
    h.key(2, '1');
    let actions = h.take();
    assert!(actions.contains(&Action::Announce {
        call: CallId(2),
        announcement: Announcement::CallbackAccepted
    }));
    h.hang_up(2, Party::Caller);
    assert!(h.events_of(2).contains(&EventKind::CallbackRequested));
    assert!(
        !h.events_of(2)
            .iter()
            .any(|e| matches!(e, EventKind::Abandon { .. })),
        "hanging up after asking is not abandoning"
    );
}

#[test]
fn a_callback_keeps_its_place_and_reserves_the_agent_before_dialling() {
    let mut h = with_callbacks(1);
    caller_two_asks_for_a_callback(&mut h);
    assert_eq!(h.acd.position(CallId(2)), Some(1));
    assert_eq!(h.acd.position(CallId(3)), Some(2), "caller 3 stays behind");
    h.hang_up(1, Party::Caller);
    let actions = h.take();
    assert_eq!(
        callbacks_placed(&actions),
        [(2, h.agents[0], "+48225550002".into())]
    );
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Offer { .. })),
        "caller 3 does not get the reserved agent"
    );
    assert_eq!(h.state(0), AgentState::Reserved { call: CallId(2) });
    h.acd
        .handle_callback_result(h.now, CallId(2), CallbackResult::Connected);
    h.drain();
    assert_eq!(h.state(0), AgentState::InCall { call: CallId(2) });
    assert_eq!(
        h.events_of(2)
            .into_iter()
            .filter(|e| matches!(
                e,
                EventKind::CallbackPlaced { .. } | EventKind::CallbackCompleted
            ))
            .collect::<Vec<_>>(),
        [
            EventKind::CallbackPlaced { attempt: 1 },
            EventKind::CallbackCompleted
        ]
    );
    assert_eq!(h.acd.position(CallId(3)), Some(1));
}

#[test]
fn a_customer_who_does_not_answer_is_tried_again_then_given_up() {
    let mut h = with_callbacks(1);
    caller_two_asks_for_a_callback(&mut h);
    h.hang_up(1, Party::Caller);
    h.take();
    h.acd
        .handle_callback_result(h.now, CallId(2), CallbackResult::CustomerMissed);
    h.drain();
    // The agent is free for caller 3 meanwhile; the request keeps its place.
    assert_eq!(h.offers(), [(3, 0)]);
    assert_eq!(h.acd.position(CallId(2)), Some(1));
    h.answer(0);
    h.hang_up(3, Party::Caller);
    assert!(callbacks_placed(&h.take()).is_empty(), "not before 300 s");
    h.advance(S(300));
    assert_eq!(callbacks_placed(&h.take()).len(), 1, "the second attempt");
    h.acd
        .handle_callback_result(h.now, CallId(2), CallbackResult::CustomerMissed);
    h.drain();
    assert!(
        h.events_of(2)
            .contains(&EventKind::CallbackFailed { attempts: 2 })
    );
    assert_eq!(h.acd.position(CallId(2)), None);
    h.advance(S(1000));
    assert!(callbacks_placed(&h.take()).is_empty());
}

#[test]
fn an_agent_who_misses_the_callback_hands_it_to_another() {
    let mut h = with_callbacks(2);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.answer(1);
    h.join(3, 0);
    h.take();
    h.key(3, '1');
    h.hang_up(3, Party::Caller);
    h.hang_up(1, Party::Caller);
    assert_eq!(callbacks_placed(&h.take())[0].1, h.agents[0]);
    h.hang_up(2, Party::Caller);
    assert!(
        callbacks_placed(&h.take()).is_empty(),
        "one request is placed once at a time"
    );
    h.acd
        .handle_callback_result(h.now, CallId(3), CallbackResult::AgentMissed);
    h.drain();
    assert_eq!(callbacks_placed(&h.take())[0].1, h.agents[1]);
}

#[test]
fn key_one_does_nothing_where_callbacks_are_off() {
    let mut h = Harness::new(quiet(Strategy::Linear), 0);
    h.join(1, 0);
    h.key(1, '1');
    assert!(h.take().is_empty());
    h.hang_up(1, Party::Caller);
    assert!(
        h.events_of(1)
            .iter()
            .any(|e| matches!(e, EventKind::Abandon { .. }))
    );
}

#[test]
fn a_callback_waits_until_the_caller_has_hung_up() {
    let mut h = with_callbacks(1);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.take();
    h.key(2, '1');
    h.hang_up(1, Party::Caller);
    assert!(
        callbacks_placed(&h.take()).is_empty(),
        "not into the call the caller is still on"
    );
    h.hang_up(2, Party::Caller);
    assert_eq!(callbacks_placed(&h.take()).len(), 1);
}

#[test]
fn a_restored_request_is_served_before_a_caller_who_came_after_it() {
    let mut h = with_callbacks(1);
    h.join(1, 0);
    h.answer(0);
    h.take();
    let queue = h.queue;
    let waited = Duration::from_secs(90);
    h.acd.restore_callback(
        h.now,
        (queue, CallId(7)),
        "+48225550007",
        Priority(0),
        waited,
        None,
    );
    h.drain();
    h.join(8, 0);
    h.take();
    h.hang_up(1, Party::Caller);
    let placed = callbacks_placed(&h.take());
    assert_eq!(placed, [(7, AgentId(0), "+48225550007".to_string())]);
}

/// The lost-call dialer's task: called back with the lost-call policy's attempts, and
/// dropped when its time is up, even while no agent was free for it.
#[test]
fn a_lost_call_task_is_tried_as_its_policy_says_and_dropped_when_its_time_is_up() {
    let mut config = quiet(Strategy::Linear);
    config.lost_calls = Some(crate::model::LostCallPolicy {
        min_wait: S(5),
        expire_after: S(3600),
        retry: CallbackPolicy {
            attempts: 3,
            retry_after: S(600),
        },
    });
    let mut h = Harness::new(config, 1);
    let queue = h.queue;
    // Agent 0 is busy with caller 1; the task waits.
    h.join(1, 0);
    h.answer(0);
    h.take();
    let expires = h.now + S(3600);
    h.acd.restore_callback(
        h.now,
        (queue, CallId(7)),
        "+48601234570",
        Priority(0),
        S(0),
        Some(expires),
    );
    h.hang_up(1, Party::Caller);
    let placed = callbacks_placed(&h.take());
    assert_eq!(placed, [(7, AgentId(0), "+48601234570".to_string())]);
    // The customer does not answer: tried again in 10 minutes (three attempts in all,
    // where a caller's own request in this queue would have none).
    h.acd
        .handle_callback_result(h.now, CallId(7), CallbackResult::CustomerMissed);
    assert!(
        !h.events_of(7)
            .iter()
            .any(|e| matches!(e, EventKind::CallbackFailed { .. }))
    );
    h.advance(S(600));
    assert_eq!(callbacks_placed(&h.take()).len(), 1, "the second attempt");
    h.acd
        .handle_callback_result(h.now, CallId(7), CallbackResult::CustomerMissed);
    // The agent takes another caller meanwhile; the hour ends before the third try.
    h.join(2, 0);
    h.answer(0);
    h.take();
    h.advance(S(3000));
    assert!(
        h.events_of(7)
            .contains(&EventKind::CallbackFailed { attempts: 2 }),
        "{:?}",
        h.events_of(7)
    );
    h.hang_up(2, Party::Caller);
    assert!(callbacks_placed(&h.take()).is_empty(), "the task is gone");
}
