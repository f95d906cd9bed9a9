//! A nonce past its lifetime is answered `stale=true`; the phone's retry with the fresh
//! nonce succeeds without asking anyone for the password again.

use switchboard_e2e::*;

#[test]
fn stale_nonce_then_fresh_nonce_registers() {
    let server = Server::start(&config("nonce_lifetime = 1", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_stale_nonce.xml",
        &[format!("102;{}", password("102"))],
        &[],
    );
    run.expect(1, 0);
    assert!(
        run.log.contains("stale challenge stale=true"),
        "{}",
        run.log
    );
    assert_eq!(server.metric("bindings"), 1);
}
