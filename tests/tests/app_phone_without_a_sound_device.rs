//! On a PC with no sound device (or no sound server) the app's phone says "no audio
//! device" at once, without hanging or panicking; the phone still signs in on a silent
//! card so the receptionist sees calls ring, and the PBX keeps serving calls.

use std::time::{Duration, Instant};

use switchboard_e2e::app_phone::{AppPhone, queue_office};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::pulse::without_sound_server;
use switchboard_e2e::{Server, audio};
use switchboard_phone::edge::{DeviceCard, DeviceChoice, SilentCard, SoundError};

#[test]
fn no_sound_device_is_reported_and_calls_still_ring() {
    if !without_sound_server("no_sound_device_is_reported_and_calls_still_ring") {
        return;
    }
    let started = Instant::now();
    let error = DeviceCard::open(&DeviceChoice::default()).expect_err("no device here");
    assert_eq!(error, SoundError::NoDevice);
    assert_eq!(error.to_string(), "no audio device");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let server = Server::start(&queue_office("101"));
    let dir = tempfile::tempdir().expect("tempdir");
    let silence = dir.path().join("silence.wav");
    audio::silence(20, &silence);
    let mut phone = AppPhone::start(server.sip, "101", SilentCard);
    phone.signed_in();
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:600@{}", server.sip));
    phone.ringing();
}
