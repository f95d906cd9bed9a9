//! Callers: order of service, limits, leaving, announcements, the whisper, the
//! wallboard.

use super::*;

#[test]
fn higher_priority_first_and_first_come_first_served_among_equals() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    h.join(1, 0);
    h.answer(0);
    for (call, priority) in [(2, 0), (3, 5), (4, 0), (5, 5)] {
        h.join(call, priority);
    }
    assert_eq!(h.acd.position(CallId(5)), Some(2));
    assert_eq!(h.acd.position(CallId(2)), Some(3));
    h.take();
    let mut order = Vec::new();
    let mut current = 1;
    for _ in 0..4 {
        h.hang_up(current, Party::Caller);
        let (next, _) = h.offers()[0];
        order.push(next);
        h.answer(0);
        current = next;
    }
    assert_eq!(order, [3, 5, 2, 4]);
}

#[test]
fn a_full_queue_turns_callers_away() {
    let mut config = quiet(Strategy::Linear);
    config.max_callers = Some(2);
    let mut h = Harness::new(config, 0);
    for call in 1..=3 {
        h.join(call, 0);
    }
    assert!(h.take().contains(&Action::Leave {
        call: CallId(3),
        reason: LeaveReason::Full
    }));
    assert_eq!(h.acd.position(CallId(2)), Some(2));
}

#[test]
fn a_caller_who_waited_the_maximum_leaves_for_the_overflow() {
    let mut config = quiet(Strategy::Linear);
    config.max_wait = Some(S(120));
    let mut h = Harness::new(config, 1);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.take();
    h.advance(S(119));
    assert!(h.take().is_empty());
    h.advance(S(1));
    assert_eq!(
        h.take(),
        [Action::Leave {
            call: CallId(2),
            reason: LeaveReason::Timeout
        }]
    );
    assert!(h.events_of(2).contains(&EventKind::Exit {
        reason: LeaveReason::Timeout,
        waited: S(120)
    }));
}

#[test]
fn join_empty_and_leave_when_empty_send_callers_on() {
    let mut config = quiet(Strategy::Linear);
    config.join_empty = EmptyPolicy::NoAgentLoggedIn;
    config.leave_when_empty = EmptyPolicy::NoAgentAvailable;
    let mut h = Harness::new(config, 0);
    let agent = h.agent("200");
    h.acd.set_member(h.queue, agent, Membership::default());
    h.join(1, 0);
    assert_eq!(
        h.take(),
        [Action::Leave {
            call: CallId(1),
            reason: LeaveReason::Empty
        }],
        "nobody logged in: the caller goes on at once"
    );
    h.login(agent);
    h.join(2, 0);
    h.answer(0);
    h.join(3, 0);
    h.take();
    // The only agent goes on a break: the waiting caller moves on.
    h.acd.handle_status(
        h.now,
        agent,
        AgentStatus::OnBreak {
            reason: "meeting".into(),
        },
    );
    h.drain();
    assert_eq!(
        h.take(),
        [Action::Leave {
            call: CallId(3),
            reason: LeaveReason::Empty
        }]
    );
}

#[test]
fn key_zero_leaves_for_voicemail_and_other_keys_do_nothing() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    h.join(1, 0);
    h.take();
    h.key(1, '5');
    assert!(h.take().is_empty());
    h.key(1, '0');
    let actions = h.take();
    assert!(actions.contains(&Action::Leave {
        call: CallId(1),
        reason: LeaveReason::Key('0')
    }));
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::CancelOffer { .. })),
        "the ringing agent stops"
    );
    assert_eq!(h.state(0), AgentState::Idle);
}

#[test]
fn an_abandoned_caller_is_logged_with_wait_and_position() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.join(3, 0);
    h.advance(S(42));
    h.hang_up(3, Party::Caller);
    assert!(h.events_of(3).contains(&EventKind::Abandon {
        waited: S(42),
        position: 2
    }));
    assert_eq!(h.acd.snapshot(h.now)[0].abandoned, 1);
}

fn announcements(actions: &[Action], call: u64) -> Vec<Announcement> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Announce {
                call: c,
                announcement,
            } if c.0 == call => Some(*announcement),
            _ => None,
        })
        .collect()
}

#[test]
fn position_is_announced_on_joining_periodically_and_when_moving_up() {
    let mut config = quiet(Strategy::Linear);
    config.announcements = Announcements {
        position_on_join: true,
        position_on_change: true,
        change_positions: 3,
        position_every: Some(S(60)),
        estimated_wait: false,
        min_gap: S(15),
        comfort_every: Some(S(45)),
    };
    let mut h = Harness::new(config, 1);
    h.join(1, 0);
    assert!(
        announcements(&h.take(), 1).is_empty(),
        "ringing an agent at once: no announcement"
    );
    h.answer(0);
    h.join(2, 0);
    h.join(3, 0);
    let position = |p| Announcement::Position {
        position: p,
        estimated_wait: None,
    };
    assert_eq!(announcements(&h.actions, 3), [position(2)]);
    h.take();
    h.advance(S(45));
    assert_eq!(announcements(&h.take(), 3), [Announcement::Comfort]);
    h.advance(S(15));
    assert_eq!(announcements(&h.take(), 3), [position(2)], "every 60 s");
    // The caller ahead gives up: caller 3 moves up and hears it.
    h.advance(S(20));
    h.hang_up(2, Party::Caller);
    assert_eq!(announcements(&h.take(), 3), [position(1)]);
    // Pushed back by a higher priority and up again to the place it was told: quiet.
    h.join(4, 9);
    h.advance(S(5));
    h.hang_up(4, Party::Caller);
    assert!(announcements(&h.take(), 3).is_empty());
}

#[test]
fn the_estimated_wait_is_told_with_the_position() {
    let mut config = quiet(Strategy::Linear);
    config.announcements.position_on_join = true;
    config.announcements.estimated_wait = true;
    let mut h = Harness::new(config, 2);
    // Teach the queue a 100-s handle time, then busy both agents.
    for call in [1, 2] {
        h.join(call, 0);
        h.answer(call as usize - 1);
    }
    h.advance(S(100));
    h.hang_up(1, Party::Caller);
    h.hang_up(2, Party::Caller);
    for call in [3, 4] {
        h.join(call, 0);
        h.answer(call as usize - 3);
    }
    h.advance(S(40));
    h.take();
    h.join(5, 0);
    h.join(6, 0);
    h.join(7, 0);
    let told = |call| match announcements(&h.actions, call)[..] {
        [Announcement::Position { estimated_wait, .. }] => estimated_wait,
        ref other => panic!("{other:?}"),
    };
    // Both agents are 40 s into 100-s calls: free in 60 s, then every 100 s.
    assert_eq!(told(5), Some(S(60)));
    assert_eq!(told(6), Some(S(60)));
    assert_eq!(told(7), Some(S(160)));
}

#[test]
fn the_agent_hears_the_queue_and_the_wait_before_the_caller() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    h.join(1, 0);
    h.advance(S(7));
    h.answer(0);
    assert!(h.take().contains(&Action::Connect {
        call: CallId(1),
        agent: h.agents[0],
        whisper: Whisper {
            queue: "Sales".into(),
            waited: S(7),
            vip: false,
            callback: false,
        }
    }));
}

#[test]
fn the_wallboard_counts_waiting_agents_and_service_level() {
    let mut config = quiet(Strategy::Linear);
    config.service_level = S(20);
    let mut h = Harness::new(config, 2);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.advance(S(30));
    h.answer(1);
    h.join(3, 0);
    h.advance(S(12));
    let board = &h.acd.snapshot(h.now)[0];
    assert_eq!((board.waiting, board.longest_wait), (1, S(12)));
    assert_eq!(board.agents.on_call, 2);
    assert_eq!(board.answered, 2);
    assert_eq!(board.service_level, Some(0.5), "one of two within 20 s");
}

#[test]
fn each_agent_shows_what_they_do() {
    let mut h = Harness::new(quiet(Strategy::Linear), 3);
    h.join(1, 0);
    h.answer(0);
    let on_break = AgentStatus::OnBreak {
        reason: "lunch".into(),
    };
    h.acd.handle_status(h.now, h.agents[1], on_break);
    h.acd
        .handle_status(h.now, h.agents[2], AgentStatus::LoggedOut);
    let activities: Vec<Activity> = h
        .acd
        .agent_snapshots()
        .into_iter()
        .map(|a| a.activity)
        .collect();
    assert_eq!(
        activities,
        [
            Activity::OnCall,
            Activity::OnBreak {
                reason: "lunch".into()
            },
            Activity::LoggedOut
        ]
    );
}
