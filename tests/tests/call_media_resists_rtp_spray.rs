//! A stranger on another host sprays RTP at every port of Switchboard's media range,
//! from before a call starts until after it ends, hoping to take a call's audio by
//! sending first or to keep a phone out by sending more. The two phones hear each
//! other throughout, the stranger receives not one packet, and its packets are counted
//! as dropped.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use switchboard_e2e::baresip::{conversation, hang_up_and_compare};
use switchboard_e2e::*;

#[test]
fn sprayed_rtp_takes_no_audio_and_keeps_no_phone_out() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let stranger = UdpSocket::bind("127.0.0.2:0").expect("bind the stranger's socket");
    stranger
        .set_read_timeout(Some(Duration::from_millis(5)))
        .expect("timeout");
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, stolen) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let spray = {
        let (stop, sent, stolen) = (stop.clone(), sent.clone(), stolen.clone());
        let (first, last) = server.rtp;
        std::thread::spawn(move || {
            let mut seq = 0u16;
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                // One packet to every RTP port, in sequence, as a stream would be.
                for port in (first..=last).filter(|p| p % 2 == 0) {
                    let mut packet = vec![0x80, 0, 0, 0];
                    packet[2..4].copy_from_slice(&seq.to_be_bytes());
                    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
                    packet.extend_from_slice(&0x0bad_cafeu32.to_be_bytes());
                    packet.extend([0xffu8; 160]);
                    if stranger.send_to(&packet, ("127.0.0.1", port)).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                seq = seq.wrapping_add(1);
                while stranger.recv_from(&mut buf).is_ok() {
                    stolen.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let (caller, callee) = conversation(&server, dir.path());
    std::thread::sleep(Duration::from_secs(6));
    hang_up_and_compare(&server, dir.path(), caller, callee);
    stop.store(true, Ordering::Relaxed);
    spray.join().expect("the spray thread");

    assert_eq!(stolen.load(Ordering::Relaxed), 0, "the stranger got audio");
    let dropped = server.metric("rtp_dropped");
    assert!(
        dropped > 0 && sent.load(Ordering::Relaxed) > 0,
        "the stranger's packets reached the call and were dropped: {dropped}"
    );
}
