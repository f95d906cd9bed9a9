//! Linphone's console client (liblinphone 5.1) registers and unregisters.

use std::time::Duration;
use switchboard_e2e::linphone::Linphone;
use switchboard_e2e::*;

#[test]
fn linphonec_registers_and_unregisters() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let mut phone = Linphone::start();
    phone.register(server.sip, "102");
    assert_eq!(server.metric("bindings"), 1);
    phone.say("unregister");
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 0);
    drop(phone);
    assert_eq!(server.metric("auth_failures"), 0);
}
