//! What a conference room costs per member and 20-ms frame: each member's packet
//! decoded and put in order, the mix, and a packet encoded for each. Rooms of 3 and 10
//! members, all on PCMU (the codec an office's desk phones use) and with a third each
//! of PCMU, G.722 and Opus. A member costs 50 frames a second.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_media::codec::{Codec, Format};
use switchboard_media::conference::{Joining, Part, Room, StreamId};
use switchboard_media::rtp;
use switchboard_media::transcode::{AudioEncoder, MAX_PAYLOAD};

/// The payload of frame `n` of a tone in `codec`.
fn payload(encoder: &mut AudioEncoder, codec: Codec, n: u32) -> Vec<u8> {
    let rate = codec.sample_rate();
    let pcm: Vec<i16> = (0..rate / 50)
        .map(|i| {
            let t = (n * rate / 50 + i) as f32 / rate as f32;
            ((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16
        })
        .collect();
    let mut payload = [0u8; MAX_PAYLOAD];
    let len = encoder.encode(&pcm, &mut payload);
    payload[..len].to_vec()
}

fn bench_room(c: &mut Criterion, name: &str, codecs: &[Codec]) {
    let start = Instant::now();
    let mut room = Room::default();
    for (i, &codec) in codecs.iter().enumerate() {
        let joining = Joining {
            part: Part::Talks,
            announced: false,
            stream: StreamId {
                ssrc: i as u32,
                first_seq: 0,
            },
        };
        room.join(start, i as u64, Format::default_for(codec), joining);
    }
    // A second of each member's sound, said round and round in packets numbered on.
    let payloads: Vec<Vec<Vec<u8>>> = codecs
        .iter()
        .map(|&codec| {
            let mut encoder = AudioEncoder::new(codec, codec.sample_rate());
            (0..50).map(|n| payload(&mut encoder, codec, n)).collect()
        })
        .collect();
    let mut frame = 0u32;
    let mut packet = Vec::with_capacity(1500);
    c.bench_function(name, |b| {
        b.iter(|| {
            frame += 1;
            let now = start + Duration::from_millis(20 * u64::from(frame));
            for (i, (member, &codec)) in payloads.iter().zip(codecs).enumerate() {
                let pt = Format::default_for(codec).payload_type;
                let ts = frame.wrapping_mul(codec.clock_rate() / 50);
                let said = &member[frame as usize % 50];
                packet.clear();
                rtp::build(&mut packet, false, pt, frame as u16, ts, 7, said);
                room.handle_rtp(now, i as u64, &packet);
            }
            room.handle_timeout(now);
            while let Some(emit) = room.poll_emit() {
                black_box(emit);
            }
        })
    });
}

fn mixed(n: usize) -> Vec<Codec> {
    [Codec::Pcmu, Codec::G722, Codec::Opus]
        .into_iter()
        .cycle()
        .take(n)
        .collect()
}

fn rooms(c: &mut Criterion) {
    bench_room(c, "room frame, 3 members on PCMU", &[Codec::Pcmu; 3]);
    bench_room(c, "room frame, 10 members on PCMU", &[Codec::Pcmu; 10]);
    bench_room(c, "room frame, 3 members PCMU/G.722/Opus", &mixed(3));
    bench_room(c, "room frame, 10 members PCMU/G.722/Opus", &mixed(10));
}

criterion_group!(benches, rooms);
criterion_main!(benches);
