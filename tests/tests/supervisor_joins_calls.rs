//! A supervisor's baresip phone whispers into an agent's call (`*91101`): the agent
//! hears the supervisor, the caller does not, the supervisor hears both, and the caller
//! and the agent still hear each other. Each speaks in a turn of their own, so that
//! each voice can be scored apart.

use std::time::Duration;

use switchboard_e2e::audio::{self, heard_within};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, hang_up_and_listen};
use switchboard_e2e::*;

const TURN: f32 = 4.0;

#[test]
fn a_whisper_reaches_the_agent_alone_and_the_supervisor_hears_both() {
    let office = format!(
        "{}[calls]\nsupervisors = [\"102\"]\n",
        config("", FAST_REGISTRAR)
    );
    let server = Server::start(&office);
    let dir = tempfile::tempdir().expect("tempdir");
    let (caller_said, caller_mic) = audio::turn(dir.path(), "en", TURN, 6.0);
    let (agent_said, agent_mic) = audio::turn(dir.path(), "ru", TURN, 11.0);
    // The supervisor dials about a second after the call began.
    let (supervisor_said, supervisor_mic) = audio::turn(dir.path(), "pl", TURN, 15.0);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &caller_mic, false));
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &agent_mic, true));
    let mut supervisor =
        Baresip::start(server.sip, PhoneSetup::pcmu("102", &supervisor_mic, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    agent.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    supervisor.command("dial", &format!("sip:*91101@{}", server.sip));
    supervisor.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let calls = server.wait_first_call_stage(&server.admin_token(), "talking");
    assert_eq!(calls[1]["stage"], "listening", "{calls}");
    std::thread::sleep(Duration::from_secs_f32(15.0 + TURN + 2.0));
    // The call watched is over: so is the supervisor's.
    let heard = hang_up_and_listen(&server, &mut caller, &mut [&mut agent, &mut supervisor]);
    let [at_caller, at_agent, at_supervisor] = &heard[..] else {
        panic!("three phones");
    };
    audio::assert_heard(
        "the caller hears the agent",
        heard_within(&agent_said, at_caller),
    );
    audio::assert_heard(
        "the agent hears the caller",
        heard_within(&caller_said, at_agent),
    );
    audio::assert_heard(
        "the agent hears the whisper",
        heard_within(&supervisor_said, at_agent),
    );
    audio::assert_heard(
        "the supervisor hears the caller",
        heard_within(&caller_said, at_supervisor),
    );
    audio::assert_heard(
        "the supervisor hears the agent",
        heard_within(&agent_said, at_supervisor),
    );
    audio::assert_not_heard(
        "the caller hears the whisper",
        heard_within(&supervisor_said, at_caller),
    );

    let records = server.call_records();
    assert_history_tells(&records, "100", "supervisor 102 whispered to the agent");
    let watching = record_of(&records, "102");
    assert_eq!(watching.reason, "The call listened to ended");
}
