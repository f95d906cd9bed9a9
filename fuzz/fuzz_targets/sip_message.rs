//! Every datagram a phone or a scanner can send goes through this entry point: the
//! whole endpoint (front-end, transactions, auth, registrar) must never panic.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_sip::service::{Service, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut service = Service::new(ServiceConfig::default(), [9; 32], t0, std::time::SystemTime::UNIX_EPOCH);
    let peer = Peer { transport: Transport::Udp, addr: "192.0.2.1:5060".parse().unwrap() };
    // The same bytes twice: the second exercises retransmission matching.
    service.handle_datagram(t0, peer, data);
    service.handle_datagram(t0 + Duration::from_millis(1), peer, data);
    while service.poll_transmit().is_some() {}
    service.handle_timeout(t0 + Duration::from_secs(3600));
    while service.poll_transmit().is_some() {}
    let _ = switchboard_sip::message::parse(data).map(|m| switchboard_sip::message::to_bytes(&m));
});
