//! The phone in the app answers a customer's call to a queue: baresip calls queue 600,
//! whose agent 101 is Switchboard's own softphone (crates/phone on its tokio edge, a
//! file for its sound card); the card shows the caller, the agent answers, each hears
//! the other, and the caller's hang-up ends the line.

use switchboard_e2e::Server;
use switchboard_e2e::app_phone::{AppPhone, FileCard, answer_queue_call, queue_office};
use switchboard_e2e::audio::{self, Voices, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};

#[test]
fn the_app_phone_answers_a_queue_call_and_both_hear_each_other() {
    let server = Server::start(&queue_office("101"));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let card = FileCard::new(&voices.ru);
    let recording = card.recording();
    let mut phone = AppPhone::start(server.sip, "101", card);
    let caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    let caller = answer_queue_call(&server, &mut phone, caller);

    let (en, _) = audio::read(&voices.en);
    let (ru, _) = audio::read(&voices.ru);
    let agent_heard = dir.path().join("agent-heard.wav");
    recording(&agent_heard);
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let at_agent = audio::read_at_call_rate(&agent_heard);
    audio::assert_heard("the caller, the app's phone", heard(&ru, &at_caller));
    audio::assert_heard("the app's phone, the caller", heard(&en, &at_agent));
    assert!(heard(&ru, &at_agent) < 0.5, "the app's phone heard itself");
    let record = server.call_records().remove(0);
    assert_eq!(
        (record.queue.as_deref(), record.answered_by.as_deref()),
        (Some("600"), Some("101"))
    );
}
