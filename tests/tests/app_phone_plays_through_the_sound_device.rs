//! The app's phone on a real sound device (cpal over a private PulseAudio server with
//! null sinks): baresip calls queue 600 and the app's phone answers; what baresip says
//! is heard at the speaker, and what is played into the microphone is heard by
//! baresip.

use switchboard_e2e::Server;
use switchboard_e2e::app_phone::{AppPhone, answer_queue_call, queue_office};
use switchboard_e2e::audio::{self, Voices, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::pulse::SoundServer;
use switchboard_phone::edge::{DeviceCard, DeviceChoice};

#[test]
fn the_callers_voice_reaches_the_speaker_and_the_microphone_reaches_the_caller() {
    let Some(sound) = SoundServer::for_test(
        "the_callers_voice_reaches_the_speaker_and_the_microphone_reaches_the_caller",
    ) else {
        return;
    };
    let server = Server::start(&queue_office("101"));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let card = DeviceCard::open(&DeviceChoice::default()).expect("the sound device opens");
    let mut phone = AppPhone::start(server.sip, "101", card);
    let at_speaker = dir.path().join("speaker.wav");
    let recorder = sound.record_speaker(&at_speaker);
    let talker = sound.play_into_microphone(&voices.ru);
    let caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    let caller = answer_queue_call(&server, &mut phone, caller);
    recorder.finish();
    talker.finish();

    let (en, _) = audio::read(&voices.en);
    let (ru, _) = audio::read(&voices.ru);
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let at_speaker = audio::read_at_call_rate(&at_speaker);
    audio::assert_heard("the speaker, the caller", heard(&en, &at_speaker));
    audio::assert_heard("the caller, the microphone", heard(&ru, &at_caller));
    assert!(
        heard(&ru, &at_speaker) < 0.5,
        "the microphone leaked into the speaker"
    );
}
