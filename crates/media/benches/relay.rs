//! What one relayed packet costs: a 20-ms PCMU frame from one phone to the other, in
//! the clear and with one or both legs in SRTP (decrypted on the way in, encrypted on
//! the way out). At 50 packets a second each way, a call costs 100 of them a second.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_media::codec::{Codec, Format};
use switchboard_media::relay::{LegMedia, MAX_PACKET, Relay, Side};
use switchboard_media::rtp;
use switchboard_media::srtp::{KEY_AND_SALT, SdesKey, SrtpKeys, SrtpSession};

fn leg(remote: &str, srtp: Option<SrtpKeys>) -> LegMedia {
    let remote: SocketAddr = remote.parse().expect("an address");
    LegMedia {
        remote,
        signalling: remote.ip(),
        audio: Format::default_for(Codec::Pcmu),
        events: None,
        srtp,
    }
}

fn key(byte: u8) -> SdesKey {
    SdesKey {
        tag: 1,
        key: [byte; KEY_AND_SALT],
    }
}

/// A to B, `a_srtp` and `b_srtp` saying which legs encrypt.
fn bench_case(c: &mut Criterion, name: &str, a_srtp: bool, b_srtp: bool) {
    let phone_a = SrtpKeys {
        theirs: key(2),
        ours: key(1),
    };
    let switchboard_a = SrtpKeys {
        theirs: key(1),
        ours: key(2),
    };
    let switchboard_b = SrtpKeys {
        theirs: key(3),
        ours: key(4),
    };
    let from_a: SocketAddr = "10.0.0.1:4000".parse().expect("an address");
    let mut relay = Relay::new(
        leg("10.0.0.1:4000", a_srtp.then_some(switchboard_a)),
        leg("10.0.0.2:5000", b_srtp.then_some(switchboard_b)),
        [1, 2],
        [1, 1],
    );
    // The phone's packets are made (and sealed, by the phone) before the clock runs.
    let mut phone = SrtpSession::new(phone_a).expect("keys");
    let packets: Vec<Vec<u8>> = (0..4096u16)
        .map(|seq| {
            let mut packet = Vec::with_capacity(200);
            rtp::build(
                &mut packet,
                false,
                0,
                seq,
                u32::from(seq) * 160,
                8,
                &[0x55; 160],
            );
            if a_srtp {
                packet = phone.protect(&packet).expect("sealed");
            }
            packet
        })
        .collect();
    let now = Instant::now();
    let mut next = packets.iter().cycle();
    let mut buf = vec![0u8; MAX_PACKET];
    c.bench_function(name, |b| {
        b.iter(|| {
            let packet = next.next().expect("cycles");
            buf[..packet.len()].copy_from_slice(packet);
            black_box(relay.handle_rtp(now, Side::A, from_a, &mut buf, packet.len()))
        })
    });
}

fn relay(c: &mut Criterion) {
    bench_case(c, "relay PCMU, both legs plain", false, false);
    bench_case(c, "relay PCMU, caller in SRTP", true, false);
    bench_case(c, "relay PCMU, both legs in SRTP", true, true);
}

criterion_group!(benches, relay);
criterion_main!(benches);
