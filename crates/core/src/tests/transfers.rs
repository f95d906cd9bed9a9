//! Blind transfer by REFER: the transferor is told by NOTIFY and let go, the party left
//! hears ringback until the target answers, a target that does not answer rings the
//! transferor back, and a number that reaches nothing leaves the call as it was.

use super::*;
use switchboard_media::relay::Side;

const OTHER: &str = "192.0.2.30:5060";

/// The desk phone (101) answered Anna (100); it now sends REFER to `target`. Returns
/// what the desk was sent: the 202 first.
fn desk_refers(h: &mut Harness, b_invite: &str, target: &str) -> Vec<String> {
    let refer = in_dialog(
        "REFER",
        DESK,
        &format!("{};tag=desk1", header(b_invite, "To")),
        header(b_invite, "From"),
        header(b_invite, "Call-ID"),
        2,
        "",
    )
    .replace(
        "Content-Length: 0",
        &format!("Refer-To: <sip:{target}@192.0.2.1>\r\nContent-Length: 0"),
    );
    h.send(DESK, &refer);
    let mut sent = h.take(DESK);
    assert!(sent[0].starts_with("SIP/2.0 202 Accepted"), "{sent:#?}");
    sent.remove(0);
    sent
}

/// The NOTIFYs (and BYE) a transferor at `phone` was sent, each answered: their
/// Subscription-State and sipfrag.
fn notifies(h: &mut Harness, phone: &str, sent: Vec<String>) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for message in sent {
        if message.starts_with("NOTIFY ") {
            assert_eq!(header(&message, "Event"), "refer");
            assert!(
                header(&message, "Content-Type").starts_with("message/sipfrag"),
                "{message}"
            );
            seen.push((
                header(&message, "Subscription-State").to_string(),
                body(&message).trim().to_string(),
            ));
            let ok = respond(&message, 200, "OK", "", "");
            h.send(phone, &ok);
        } else if message.starts_with("BYE ") {
            seen.push(("BYE".into(), String::new()));
            h.send(phone, &respond(&message, 200, "OK", "", ""));
        }
    }
    seen
}

fn waits_hearing_ringback(h: &Harness, side: Side) -> bool {
    h.media.iter().any(|m| {
        matches!(m, MediaCommand::Wait { side: s, hears: crate::vocabulary::Waiting::Ringback, .. } if *s == side)
    })
}

#[test]
fn the_callee_transfers_the_caller_to_another_extension() {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    h.advance(Duration::from_secs(10));
    let sent = desk_refers(&mut h, &b_invite, "102");
    assert_eq!(
        notifies(&mut h, DESK, sent),
        [
            ("active;expires=60".into(), "SIP/2.0 100 Trying".into()),
            (
                "terminated;reason=noresource".into(),
                "SIP/2.0 200 OK".into()
            ),
            ("BYE".into(), String::new()),
        ]
    );
    assert!(waits_hearing_ringback(&h, Side::A), "{:?}", h.media);
    // The target sees who is put through: Anna.
    let invite = h.expect(OTHER, "INVITE sip:102@192.0.2.30:5060");
    assert!(
        header(&invite, "From").starts_with("\"Anna\" <sip:100@"),
        "{invite}"
    );
    assert_eq!(
        live_stages(&h),
        [(CallStage::Ringing, None)],
        "the wallboard shows the call ringing its target"
    );
    h.advance(Duration::from_secs(2));
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    let MediaCommand::Bridge { a, b, .. } = h.media.last().unwrap() else {
        panic!("{:?}", h.media);
    };
    assert_eq!(a.remote, "192.0.2.99:4000".parse().unwrap());
    assert_eq!(b.remote, "192.0.2.99:7000".parse().unwrap());
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    assert!(
        h.take(CALLER).is_empty(),
        "the caller's dialog never changed"
    );

    // Anna hangs up: the BYE reaches 102, not the desk that left.
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(OTHER, "BYE ");
    assert!(h.take(DESK).is_empty());
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by, r.answered_by.as_deref()),
        (Outcome::Answered, HangupBy::Caller, Some("102"))
    );
    assert_eq!(
        r.history.as_deref(),
        Some("0:10 101 transferred to 102; 0:12 102 answered")
    );
    assert_eq!(h.records.len(), 1, "one call, one record");
}
