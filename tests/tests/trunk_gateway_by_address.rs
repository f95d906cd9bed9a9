//! A gateway the office does not register to (an IP trunk) is recognised by the address
//! its calls come from, never by what they say: SIPp plays the gateway from 127.0.0.2,
//! and the same INVITE from 127.0.0.3 must prove it is an extension.

use switchboard_core::Direction;
use switchboard_e2e::provider::OFFICE_NUMBER_TO_QUEUE;
use switchboard_e2e::{FAST_REGISTRAR, Server, config, sipp_from};

/// +48 22 555 01 00 puts callers in queue 600 (nobody logged in yet, so they wait);
/// the gateway at 127.0.0.2 is a trunk.
fn office() -> String {
    format!(
        "{}{OFFICE_NUMBER_TO_QUEUE}[[trunks]]\nname = \"Gateway\"\nhost = \"127.0.0.2:5090\"\nkeepalive = 0\n\
         addresses = [\"127.0.0.2\"]\n",
        config("", FAST_REGISTRAR)
    )
}

#[test]
fn the_gateways_calls_are_taken_by_address_and_reach_only_office_numbers() {
    let server = Server::start(&office());
    // The customer's call to the office number waits in the queue until the gateway
    // hangs up.
    sipp_from(
        "127.0.0.2",
        &server,
        "gateway_calls.xml",
        &["+48601000000;48225550100".to_string()],
        &["-d", "2000"],
    )
    .expect(1, 0);
    // A number that is not the office's: nothing rings, nothing goes out.
    sipp_from(
        "127.0.0.2",
        &server,
        "gateway_refused.xml",
        &["+48601000000;0048601000001".to_string()],
        &[],
    )
    .expect(1, 0);
    // The same call from another address is no trunk's: challenged as any stranger.
    sipp_from(
        "127.0.0.3",
        &server,
        "gateway_refused.xml",
        &["+48601000000;48225550100".to_string()],
        &[],
    )
    .expect(1, 0);

    let records = server.call_records();
    let summary: Vec<_> = records
        .iter()
        .rev()
        .map(|r| {
            (
                r.direction,
                r.trunk.as_deref(),
                r.caller.as_str(),
                r.callee.as_str(),
                r.sip_code,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Direction::Inbound,
                Some("Gateway"),
                "+48601000000",
                "+48225550100",
                200
            ),
            (
                Direction::Inbound,
                Some("Gateway"),
                "+48601000000",
                "+48601000001",
                404
            ),
        ],
        "the stranger's call left no record: {records:#?}"
    );
}
