use std::time::Duration;

use super::*;

#[test]
fn signs_in_with_digest_like_a_desk_phone() {
    let mut office = Office::registered(&["101"]);
    assert_eq!(
        office.phones[0].sign_in(),
        SignIn::SignedIn { expires: 300 }
    );
    let bindings = office.pbx.service().registrar().bindings("101");
    assert_eq!(bindings.len(), 1, "{bindings:?}");
    assert_eq!(bindings[0].uri, "sip:101@192.0.2.10:5060");
    assert!(office.events(0).contains(&PhoneEvent::SignIn {
        state: SignIn::SignedIn { expires: 300 }
    }));
    // Renewed before it runs out: still held an hour later.
    office.advance(Duration::from_secs(3600));
    assert_eq!(office.pbx.service().registrar().bindings("101").len(), 1);
}

#[test]
fn a_wrong_password_is_reported_not_retried_in_a_loop() {
    let office = Office::with_password(&["101"], "not-the-password");
    assert!(
        matches!(
            office.phones[0].sign_in(),
            SignIn::Refused {
                code: 401 | 403,
                ..
            }
        ),
        "{:?}",
        office.phones[0].registration()
    );
    assert!(office.pbx.service().registrar().bindings("101").is_empty());
    // It tries again later, not at once.
    let retry = office.phones[0].registration().retry_at.unwrap();
    assert!(retry >= office.now + Duration::from_secs(30));
}

#[test]
fn signs_in_again_when_the_server_comes_back() {
    let mut office = Office::registered(&["101"]);
    office.server_down = true;
    office.advance(Duration::from_secs(120));
    assert_eq!(office.phones[0].sign_in(), SignIn::Unreachable);
    office.server_down = false;
    office.advance(Duration::from_secs(300));
    assert!(
        matches!(office.phones[0].sign_in(), SignIn::SignedIn { .. }),
        "{:?}",
        office.phones[0].registration()
    );
}

#[test]
fn closing_the_app_signs_out() {
    let mut office = Office::registered(&["101"]);
    office.on(0, |p, now| p.stop(now));
    assert!(office.pbx.service().registrar().bindings("101").is_empty());
    assert_eq!(office.phones[0].sign_in(), SignIn::SignedOut);
}
