//! The order agents are offered calls, seen on the wire: three SIPp phones (101, 102,
//! 103, registered in that order) answer whatever rings them, and four callers one after
//! another each reach the agent the queue's strategy picks. The strategies whose choice
//! depends on chance (random, weighted random) or on talk times to the millisecond
//! (least talk time) are covered by the queue engine's own tests; ring-all and linear
//! with a phone that does not answer by `queue_calls_reach_agents`.

use switchboard_e2e::*;

const AGENTS: [&str; 3] = ["101", "102", "103"];

/// Each agent's SIPp phone answers `expected` calls; returns who answered, in order.
fn answered_in_turn(strategy: &str, expected: [&str; 4]) -> Vec<String> {
    let agents: String = AGENTS
        .iter()
        .map(|a| format!("[[queues.agents]]\nextension = \"{a}\"\n"))
        .collect();
    let server = Server::start(&format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"{strategy}\"\n\
         ring_timeout = 5\nretry_delay = 2\nwrap_up = 0\n\
         [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
         {agents}",
        config("", FAST_REGISTRAR)
    ));
    let ports: Vec<u16> = AGENTS
        .iter()
        .map(|ext| {
            let port = free_port();
            let row = format!("{ext};{};300", password(ext));
            sipp_at(port, &server, "register_auth.xml", &[row], &[]).expect(1, 0);
            // Registered one after another: 101 has been idle longest.
            std::thread::sleep(std::time::Duration::from_millis(300));
            port
        })
        .collect();
    std::thread::scope(|s| {
        let phones: Vec<_> = AGENTS
            .iter()
            .zip(&ports)
            .filter_map(|(&ext, &port)| {
                let calls = expected.iter().filter(|&&e| e == ext).count();
                let rows = vec![format!("{ext};{}", password(ext)); calls];
                let media = free_port().to_string();
                let server = &server;
                (calls > 0).then(|| {
                    s.spawn(move || {
                        (
                            calls,
                            sipp_at(port, server, "callee_answers.xml", &rows, &["-mp", &media]),
                        )
                    })
                })
            })
            .collect();
        let rows = vec![format!("100;{};600", password("100")); 4];
        let media = free_port().to_string();
        // One call at a time, each talking a second.
        sipp(
            &server,
            "caller_talks.xml",
            &rows,
            &["-mp", &media, "-d", "1000", "-l", "1"],
        )
        .expect(4, 0);
        for phone in phones {
            let (calls, run) = phone.join().expect("an agent's SIPp");
            run.expect(calls as u64, 0);
        }
    });
    server
        .queue_events()
        .into_iter()
        .filter(|e| e.event == "connect")
        .filter_map(|e| e.agent)
        .collect()
}

#[test]
fn linear_always_offers_the_first_agent() {
    let expected = ["101", "101", "101", "101"];
    assert_eq!(answered_in_turn("linear", expected), expected);
}

#[test]
fn round_robin_goes_on_from_the_agent_after_the_last() {
    let expected = ["101", "102", "103", "101"];
    assert_eq!(answered_in_turn("round-robin", expected), expected);
}

#[test]
fn longest_idle_offers_the_agent_free_the_longest() {
    let expected = ["101", "102", "103", "101"];
    assert_eq!(answered_in_turn("longest-idle", expected), expected);
}

#[test]
fn fewest_calls_offers_the_agent_who_took_the_fewest() {
    let expected = ["101", "102", "103", "101"];
    assert_eq!(answered_in_turn("fewest-calls", expected), expected);
}
