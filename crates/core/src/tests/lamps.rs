//! Busy lamps: the desk phone watches extension 102 and is told as 102's phone rings
//! (and for whom), takes the call, and hangs up.

use super::*;

const OTHER: &str = "192.0.2.30:5060";

/// The dialog-info NOTIFYs waiting at the desk, answered; each one's version and what
/// it says (its state, or idle).
fn lamp_notifies(h: &mut Harness) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for notify in h
        .take(DESK)
        .into_iter()
        .filter(|m| m.starts_with("NOTIFY "))
    {
        assert_eq!(header(&notify, "Event"), "dialog");
        assert_eq!(
            header(&notify, "Content-Type"),
            "application/dialog-info+xml"
        );
        let xml = body(&notify);
        let info = xml.split("<dialog-info").nth(1).unwrap();
        let version = info
            .split("version=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let state = match xml.split("<state>").nth(1) {
            Some(rest) => rest.split('<').next().unwrap().to_string(),
            None => "idle".to_string(),
        };
        let state = match xml.split("<identity").nth(1) {
            Some(rest) => format!(
                "{state} {}",
                rest.split('>').nth(1).unwrap().split('<').next().unwrap()
            ),
            None => state,
        };
        seen.push((version.to_string(), state));
        h.send(DESK, &respond(&notify, 200, "OK", "", ""));
    }
    seen
}

#[test]
fn a_watched_extension_lights_as_it_rings_talks_and_hangs_up() {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    let ok = subscribe(&mut h, "102", "dialog", 600);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(lamp_notifies(&mut h), [("0".into(), "idle".into())]);
    h.call("102", &sdp(4000, "0"));
    let invite = h.expect(OTHER, "INVITE sip:102@");
    assert_eq!(
        lamp_notifies(&mut h),
        [("1".into(), "early sip:100@switchboard".into())],
        "ringing, with who calls"
    );
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    let answer = h.expect(CALLER, "SIP/2.0 200");
    assert_eq!(lamp_notifies(&mut h), [("2".into(), "confirmed".into())]);
    h.send(CALLER, &from_caller(&answer, "ACK", 3));
    assert!(
        lamp_notifies(&mut h).is_empty(),
        "nothing changed, nothing sent"
    );
    h.send(CALLER, &from_caller(&answer, "BYE", 4));
    assert_eq!(lamp_notifies(&mut h), [("3".into(), "idle".into())]);
}

#[test]
fn only_extensions_can_be_watched() {
    let mut h = Harness::new(&[DESK]);
    let nobody = subscribe(&mut h, "555", "dialog", 600);
    assert!(nobody.starts_with("SIP/2.0 404"), "{nobody}");
}
