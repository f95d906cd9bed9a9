//! Another program on the office PC holds most of Switchboard's RTP port range before
//! it starts (a game, a VPN, another softphone): calls are still connected, on the
//! pairs that are free, and both phones hear each other.

use std::net::UdpSocket;

use switchboard_e2e::baresip::{conversation, hang_up_and_compare};
use switchboard_e2e::*;

#[test]
fn calls_use_the_port_pairs_no_other_program_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &config("", FAST_REGISTRAR)).expect("import");
    let (first, last) = rtp_range();
    // Everything but the last two pairs (a call needs two) is taken.
    let held: Vec<UdpSocket> = (first..last - 7)
        .filter_map(|port| UdpSocket::bind(("0.0.0.0", port)).ok())
        .collect();
    assert!(
        held.len() > 150,
        "the other program holds {} ports",
        held.len()
    );
    let server = Server::launch_with_rtp(&data_dir, (first, last));
    let (caller, callee) = conversation(&server, dir.path());
    std::thread::sleep(std::time::Duration::from_secs(4));
    hang_up_and_compare(&server, dir.path(), caller, callee);
    drop(held);
}
