use std::time::Duration;

use super::*;

const L0: LineId = LineId(0);
const L1: LineId = LineId(1);

/// Phone 0 (101) calls phone 1 (102), which answers.
fn talking(office: &mut Office) {
    let line = office.on(0, |p, now| p.dial(now, "102")).unwrap();
    assert_eq!(line, L0);
    let ringing = office.ringing(1);
    assert_eq!(ringing.party.number, "101");
    assert_eq!(ringing.direction, Direction::Incoming);
    assert_eq!(office.state(0, L0), Some(LineState::Alerting));
    office.on(1, |p, now| p.answer(now, ringing.line)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Talking));
    assert_eq!(office.state(1, L0), Some(LineState::Talking));
}

#[test]
fn calls_a_colleague_who_answers_then_hangs_up() {
    let mut office = Office::registered(&["101", "102"]);
    talking(&mut office);
    // The ACK arrived: no 2xx is sent again and nothing is torn down a minute later.
    office.advance(Duration::from_secs(60));
    assert_eq!(office.state(1, L0), Some(LineState::Talking));
    office.on(1, |p, now| p.hang_up(now, L0)).unwrap();
    assert_eq!(office.ended(0, L0), Some(EndReason::HungUpThere));
    assert_eq!(office.ended(1, L0), Some(EndReason::HungUpHere));
    assert!(office.phones[0].lines().is_empty());
    let record = office.records.last().expect("a call record");
    assert!(record.answered.is_some(), "{record:?}");
}

#[test]
fn a_call_given_up_before_the_answer_stops_ringing() {
    let mut office = Office::registered(&["101", "102"]);
    office.on(0, |p, now| p.dial(now, "102")).unwrap();
    let ringing = office.ringing(1);
    office.on(0, |p, now| p.hang_up(now, L0)).unwrap();
    assert_eq!(office.ended(1, ringing.line), Some(EndReason::Cancelled));
    assert!(office.phones[1].lines().is_empty());
}

#[test]
fn ended_calls_are_remembered_newest_first_with_the_missed_ones() {
    let mut office = Office::registered(&["101", "102"]);
    talking(&mut office);
    office.on(1, |p, now| p.hang_up(now, L0)).unwrap();
    office.on(0, |p, now| p.dial(now, "102")).unwrap();
    office.ringing(1);
    office.on(0, |p, now| p.hang_up(now, L0)).unwrap();
    let recent: Vec<(String, Direction, bool)> = office.phones[1]
        .recent()
        .map(|c| (c.party.number.clone(), c.direction, c.answered))
        .collect();
    assert_eq!(
        recent,
        [
            ("101".to_string(), Direction::Incoming, false),
            ("101".to_string(), Direction::Incoming, true),
        ]
    );
    assert_eq!(office.phones[0].recent().count(), 2);
}

#[test]
fn a_rejected_call_is_busy_for_the_caller() {
    let mut office = Office::registered(&["101", "102"]);
    office.on(0, |p, now| p.dial(now, "102")).unwrap();
    let ringing = office.ringing(1);
    office.on(1, |p, now| p.reject(now, ringing.line)).unwrap();
    assert_eq!(office.ended(0, L0), Some(EndReason::Busy));
}

#[test]
fn an_unknown_number_fails_with_the_servers_reason() {
    let mut office = Office::registered(&["101"]);
    office.on(0, |p, now| p.dial(now, "999")).unwrap();
    assert!(
        matches!(
            office.ended(0, L0),
            Some(EndReason::Failed { code: 404, .. })
        ),
        "{:?}",
        office.heard[0]
    );
    assert_eq!(
        office.on(0, |p, now| p.dial(now, "1<2")),
        Err(PhoneError::BadNumber("1<2".into()))
    );
}

#[test]
fn hold_and_resume_are_accepted_by_the_server() {
    let mut office = Office::registered(&["101", "102"]);
    talking(&mut office);
    office.on(0, |p, now| p.hold(now, L0)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Held));
    // The server answered the re-INVITE: another hold change is allowed at once.
    office.on(0, |p, now| p.resume(now, L0)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Talking));
    office.on(0, |p, now| p.hold(now, L0)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Held));
    assert_eq!(
        office.on(0, |p, now| p.send_key(now, L0, '5')),
        Err(PhoneError::WrongState(L0))
    );
}

#[test]
fn a_second_caller_waits_and_swap_holds_the_other_line() {
    let mut office = Office::registered(&["101", "102", "103"]);
    talking(&mut office);
    // 103 calls 101 during the call: its second line rings.
    office.on(2, |p, now| p.dial(now, "101")).unwrap();
    let waiting = office.ringing(0);
    assert_eq!(waiting.line, L1);
    assert_eq!(waiting.party.number, "103");
    assert_eq!(office.state(0, L0), Some(LineState::Talking));
    // Answering it holds the first call.
    office.on(0, |p, now| p.answer(now, L1)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Held));
    assert_eq!(office.state(0, L1), Some(LineState::Talking));
    assert_eq!(office.state(2, L0), Some(LineState::Talking));
    // Swap back.
    office.on(0, |p, now| p.resume(now, L0)).unwrap();
    assert_eq!(office.state(0, L0), Some(LineState::Talking));
    assert_eq!(office.state(0, L1), Some(LineState::Held));
    // Both callers are still there a minute later.
    office.advance(Duration::from_secs(60));
    assert_eq!(office.phones[0].lines().len(), 2);
    assert_eq!(office.state(1, L0), Some(LineState::Talking));
    assert_eq!(office.state(2, L0), Some(LineState::Talking));
}

#[test]
fn a_third_call_finds_every_line_busy() {
    let mut office = Office::registered(&["101", "102", "103"]);
    talking(&mut office);
    office.on(2, |p, now| p.dial(now, "101")).unwrap();
    office.on(0, |p, now| p.dial(now, "103")).unwrap_err();
}

#[test]
fn a_blind_transfer_hands_the_caller_over() {
    let mut office = Office::registered(&["101", "102", "103"]);
    talking(&mut office);
    office.on(0, |p, now| p.transfer(now, L0, "103")).unwrap();
    let ringing = office.ringing(2);
    office.on(2, |p, now| p.answer(now, ringing.line)).unwrap();
    assert_eq!(office.ended(0, L0), Some(EndReason::HungUpHere));
    assert_eq!(office.state(1, L0), Some(LineState::Talking));
    assert_eq!(office.state(2, ringing.line), Some(LineState::Talking));
}

#[test]
fn only_the_server_may_ring_the_phone_or_end_its_calls() {
    let mut office = Office::registered(&["101", "102"]);
    talking(&mut office);
    let stranger: std::net::SocketAddr = "192.0.2.66:5060".parse().unwrap();
    let bye = "BYE sip:102@192.0.2.11:5060 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKevil\r\n\
        From: <sip:101@192.0.2.1>;tag=x\r\nTo: <sip:102@192.0.2.1>;tag=y\r\n\
        Call-ID: guess\r\nCSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n";
    let invite = "INVITE sip:102@192.0.2.11:5060 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKevil2\r\n\
        From: <sip:666@192.0.2.66>;tag=x\r\nTo: <sip:102@192.0.2.11>\r\n\
        Call-ID: spam\r\nCSeq: 1 INVITE\r\nContact: <sip:666@192.0.2.66>\r\nContent-Length: 0\r\n\r\n";
    for request in [bye, invite] {
        let now = office.now;
        office.phones[1].handle_datagram(now, Socket::Sip, stranger, request.as_bytes());
        let answer = office.phones[1].poll_transmit().unwrap();
        assert_eq!(answer.to, stranger);
        assert!(
            answer.bytes.starts_with(b"SIP/2.0 403"),
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
    }
    assert_eq!(office.phones[1].lines().len(), 1);
    assert_eq!(office.state(1, L0), Some(LineState::Talking));
}

/// The energy of one speaker frame of phone `i`.
fn heard(office: &mut Office, i: usize) -> u64 {
    let mic = vec![0i16; FRAME_SAMPLES];
    let mut speaker = vec![0i16; FRAME_SAMPLES];
    office.phones[i].exchange_audio(&mic, &mut speaker);
    speaker.iter().map(|&s| u64::from(s.unsigned_abs())).sum()
}

#[test]
fn a_ringing_call_rings_the_speaker_until_answered() {
    let mut office = Office::registered(&["101", "102"]);
    assert_eq!(heard(&mut office, 1), 0);
    office.on(0, |p, now| p.dial(now, "102")).unwrap();
    let ringing = office.ringing(1);
    assert!(heard(&mut office, 1) > 0, "the ringer sounds");
    office.on(1, |p, now| p.answer(now, ringing.line)).unwrap();
    // Nothing comes from the caller here (no RTP on this network): silence.
    assert_eq!(heard(&mut office, 1), 0, "the ringer stopped");
}
