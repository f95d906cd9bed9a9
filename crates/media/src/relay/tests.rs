use super::*;
use crate::dtmf::TelephoneEvent;
use crate::g711;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn leg(remote: &str, audio: Codec, events_pt: Option<u8>) -> LegMedia {
    LegMedia {
        remote: addr(remote),
        signalling: addr(remote).ip(),
        srtp: None,
        audio: Format::default_for(audio),
        events: events_pt.map(|payload_type| Format {
            payload_type,
            codec: Codec::TelephoneEvent,
        }),
    }
}

fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    rtp::build(&mut p, false, pt, seq, ts, ssrc, payload);
    p
}

/// An RFC 4733 packet (payload type 101) for event `code` of the key press starting
/// at `ts`.
fn key_packet(code: u8, end: bool, duration: u16, seq: u16, ts: u32) -> Vec<u8> {
    let payload = TelephoneEvent {
        code,
        end,
        volume: 10,
        duration,
    }
    .to_bytes();
    packet(101, seq, ts, 9, &payload)
}

impl Relay {
    /// Hands a whole packet to the relay, as the media edge does with its receive
    /// buffer, and leaves in it what is sent on.
    fn pass(
        &mut self,
        now: Instant,
        side: Side,
        from: SocketAddr,
        packet: &mut Vec<u8>,
    ) -> Result<SocketAddr, Dropped> {
        let len = packet.len();
        packet.resize(MAX_PACKET, 0);
        let result = self.handle_rtp(now, side, from, packet, len);
        packet.truncate(result.map_or(len, |f| f.len));
        result.map(|f| f.to)
    }
}

fn relay(a: Codec, b: Codec) -> Relay {
    Relay::new(
        leg("10.0.0.1:4000", a, Some(101)),
        leg("10.0.0.2:5000", b, Some(96)),
        [0xaaaa, 0xbbbb],
        [100, 200],
    )
}

#[test]
fn same_codec_is_relayed_with_our_identity() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    let mut p = packet(0, 5000, 80_000, 0x1234, &[1, 2, 3]);
    let to = r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p).unwrap();
    assert_eq!(to, addr("10.0.0.2:5000"));
    let h = RtpHeader::parse(&p).unwrap();
    assert_eq!((h.payload_type, h.sequence, h.ssrc), (0, 200, 0xbbbb));
    assert_eq!(&p[h.payload_start..h.payload_end], &[1, 2, 3]);
    let mut next = packet(0, 5001, 80_160, 0x1234, &[4]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut next)
        .unwrap();
    let n = RtpHeader::parse(&next).unwrap();
    assert_eq!(n.sequence, 201);
    assert_eq!(n.timestamp.wrapping_sub(h.timestamp), 160);
}

#[test]
fn different_codecs_are_transcoded() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcma, Codec::Pcmu);
    let tone: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * 0.2).sin() * 9000.0) as i16)
        .collect();
    let alaw: Vec<u8> = tone.iter().map(|&s| g711::linear_to_alaw(s)).collect();
    let mut p = packet(8, 1, 0, 7, &alaw);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p).unwrap();
    let h = RtpHeader::parse(&p).unwrap();
    assert_eq!(h.payload_type, 0);
    for (s, u) in tone.iter().zip(&p[h.payload_start..h.payload_end]) {
        let back = g711::ULAW_TO_LINEAR[*u as usize] as i32;
        assert!((back - *s as i32).abs() < 700, "{s} → {back}");
    }
}

#[test]
fn events_take_the_receivers_payload_type() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    let mut p = packet(101, 1, 0, 7, &[5, 0x8a, 0, 160]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p).unwrap();
    assert_eq!(RtpHeader::parse(&p).unwrap().payload_type, 96);
    assert_eq!(&p[12..], &[5, 0x8a, 0, 160], "event payload untouched");
    // The key passed on is told once, for codes typed on the phone (a transfer).
    let mut again = packet(101, 2, 0, 7, &[5, 0x8a, 0, 160]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut again)
        .unwrap();
    let told: Vec<RelayEvent> = std::iter::from_fn(|| r.poll_event()).collect();
    assert!(
        matches!(told[..], [RelayEvent::Passed { from: Side::A, dtmf }] if dtmf.key == '5'),
        "{told:?}"
    );
    let mut no_events = Relay::new(
        leg("10.0.0.1:4000", Codec::Pcmu, Some(101)),
        leg("10.0.0.2:5000", Codec::Pcmu, None),
        [1, 2],
        [1, 1],
    );
    let mut p = packet(101, 1, 0, 7, &[5, 0x8a, 0, 160]);
    assert_eq!(
        no_events.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p),
        Err(Dropped::Translated),
        "B cannot take events: the key goes by INFO instead"
    );
}

#[test]
fn symmetric_rtp_learns_the_nat_address() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    // B's packets come from its NAT, not from the address in its SDP: a run of them
    // in sequence teaches the relay where B is.
    let nat = addr("203.0.113.9:31000");
    let b = LegMedia {
        signalling: nat.ip(),
        ..*r.leg(Side::B)
    };
    r.update(Side::B, b);
    for seq in 1..source::LEARN_AFTER {
        let result = r.pass(t, Side::B, nat, &mut packet(0, seq.into(), 0, 9, &[0]));
        assert_eq!(result, Err(Dropped::UnexpectedSource), "still learning");
    }
    let mut from_b = packet(0, source::LEARN_AFTER.into(), 0, 9, &[0]);
    r.pass(t, Side::B, nat, &mut from_b).unwrap();
    let mut from_a = packet(0, 1, 0, 8, &[0]);
    let to = r
        .pass(t, Side::A, addr("10.0.0.1:4000"), &mut from_a)
        .unwrap();
    assert_eq!(to, addr("203.0.113.9:31000"));
}

#[test]
fn strangers_foreign_streams_and_garbage_are_dropped_and_counted() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    let a = addr("10.0.0.1:4000");
    r.pass(t, Side::A, a, &mut packet(0, 1, 0, 8, &[0]))
        .unwrap();
    assert_eq!(
        r.pass(
            t,
            Side::A,
            addr("10.0.0.66:4000"),
            &mut packet(0, 2, 160, 8, &[0])
        ),
        Err(Dropped::UnexpectedSource)
    );
    assert_eq!(
        r.pass(t, Side::A, a, &mut packet(0, 900, 0, 0x666, &[0])),
        Err(Dropped::ForeignSsrc)
    );
    assert_eq!(
        r.pass(t, Side::A, a, &mut vec![0xff; 40]),
        Err(Dropped::Malformed)
    );
    assert_eq!(
        r.pass(t, Side::A, a, &mut packet(13, 3, 320, 8, &[0])),
        Err(Dropped::Payload),
        "comfort noise was not negotiated"
    );
    let mut rtcp = vec![0x80, 200, 0, 6];
    rtcp.extend([0; 24]);
    assert_eq!(r.pass(t, Side::A, a, &mut rtcp), Err(Dropped::Rtcp));
    let s = r.stats();
    assert_eq!(
        (
            s.forwarded,
            s.unexpected_source,
            s.foreign_ssrc,
            s.malformed,
            s.payload,
            s.rtcp
        ),
        (1, 1, 1, 1, 1, 1)
    );
}

#[test]
fn a_new_stream_after_silence_continues_our_numbering_and_our_clock() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    let a = addr("10.0.0.1:4000");
    let mut first = packet(0, 10, 1000, 8, &[0]);
    r.pass(t, Side::A, a, &mut first).unwrap();
    let later = t + Duration::from_secs(1);
    let mut second = packet(0, 40_000, 9_999_999, 0x77, &[0]);
    r.pass(later, Side::A, a, &mut second).unwrap();
    let (h1, h2) = (
        RtpHeader::parse(&first).unwrap(),
        RtpHeader::parse(&second).unwrap(),
    );
    assert_eq!(h2.ssrc, h1.ssrc);
    assert_eq!(h2.sequence, h1.sequence.wrapping_add(1));
    // A second of silence is a second of timestamps (RFC 3550 §5.1): a jitter buffer
    // that saw one frame's step after it would take the new talkspurt as a second late.
    assert_eq!(h2.timestamp, h1.timestamp.wrapping_add(8000));
}

#[test]
fn music_after_a_pause_moves_the_timestamp_by_the_pause_and_flows_frame_by_frame() {
    use crate::prompt::{Prompt, PromptPlayer};
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    let a = addr("10.0.0.1:4000");
    let mut first = packet(0, 10, 1000, 8, &[0]);
    r.pass(t, Side::A, a, &mut first).unwrap();
    let sent = RtpHeader::parse(&first).unwrap().timestamp;
    // Three seconds later an announcement starts towards B.
    let later = t + Duration::from_secs(3);
    let prompt = Prompt {
        rate: 8000,
        samples: vec![1000; 1600].into(),
    };
    r.set_music(later, Side::B, Some(PromptPlayer::new(prompt, false)));
    let stamps: Vec<u32> = (0..3)
        .map(|n| {
            let at = later + Duration::from_millis(20 * n);
            let emit = r.poll_emit(at).expect("a frame");
            RtpHeader::parse(&emit.packet).unwrap().timestamp
        })
        .collect();
    assert_eq!(stamps[0], sent.wrapping_add(3 * 8000));
    assert_eq!(stamps[1], stamps[0].wrapping_add(160));
    assert_eq!(stamps[2], stamps[1].wrapping_add(160));
}

#[test]
fn a_stranger_who_sends_first_takes_nothing() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    // A stranger sprays A's port before A's phone sends anything, in sequence too.
    for seq in 1..20 {
        assert_eq!(
            r.pass(
                t,
                Side::A,
                addr("10.0.0.66:1"),
                &mut packet(0, seq, 0, 5, &[0])
            ),
            Err(Dropped::UnexpectedSource)
        );
        // What B says still goes to the address A's SDP named.
        let mut to_a = packet(0, seq, 0, 9, &[0]);
        assert_eq!(
            r.pass(t, Side::B, addr("10.0.0.2:5000"), &mut to_a),
            Ok(addr("10.0.0.1:4000"))
        );
    }
    r.pass(
        t,
        Side::A,
        addr("10.0.0.1:4000"),
        &mut packet(0, 1, 0, 8, &[0]),
    )
    .unwrap();
    assert_eq!(r.stats().unexpected_source, 19);
}

#[test]
fn a_key_from_info_goes_out_as_telephone_events() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    // Some audio towards B first, so the events continue B's stream.
    let mut audio = packet(0, 10, 1000, 8, &[0; 160]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut audio)
        .unwrap();
    let audio = RtpHeader::parse(&audio).unwrap();
    assert!(r.send_dtmf(
        t,
        Side::B,
        crate::dtmf::Dtmf {
            key: '#',
            duration_ms: 120
        }
    ));
    let mut packets = Vec::new();
    let mut now = t;
    // The key's packets come within 200 ms; RTCP reports start after five seconds.
    while let Some(at) = r
        .poll_timeout()
        .filter(|at| *at < t + Duration::from_secs(1))
    {
        now = now.max(at);
        while let Some(e) = r.poll_emit(now) {
            assert_eq!(
                (e.side, e.to, e.rtcp),
                (Side::B, addr("10.0.0.2:5000"), false)
            );
            packets.push(e.packet);
        }
    }
    // 120 ms: updates at 50 and 100 ms, then the end (960 units) three times.
    let parsed: Vec<_> = packets
        .iter()
        .map(|p| RtpHeader::parse(p).unwrap())
        .collect();
    let events: Vec<_> = packets
        .iter()
        .zip(&parsed)
        .map(|(p, h)| TelephoneEvent::parse(&p[h.payload_start..]).unwrap())
        .collect();
    assert_eq!(
        events.iter().map(|e| e.duration).collect::<Vec<_>>(),
        [400, 800, 960, 960, 960]
    );
    assert!(events.iter().all(|e| e.code == 11));
    assert_eq!(events.iter().filter(|e| e.end).count(), 3);
    assert!(parsed[0].marker && parsed[1..].iter().all(|h| !h.marker));
    assert!(
        parsed
            .iter()
            .all(|h| h.payload_type == 96 && h.ssrc == audio.ssrc)
    );
    assert!(
        parsed
            .iter()
            .all(|h| h.timestamp == audio.timestamp.wrapping_add(160))
    );
    let seqs: Vec<u16> = parsed.iter().map(|h| h.sequence).collect();
    assert_eq!(
        seqs,
        (1..=5)
            .map(|i| audio.sequence.wrapping_add(i))
            .collect::<Vec<_>>()
    );
    // Audio that follows continues after the events' numbers.
    let mut next = packet(0, 11, 1160, 8, &[0; 160]);
    r.pass(now, Side::A, addr("10.0.0.1:4000"), &mut next)
        .unwrap();
    assert_eq!(
        RtpHeader::parse(&next).unwrap().sequence,
        audio.sequence.wrapping_add(6)
    );
}

#[test]
fn telephone_events_for_a_leg_without_them_are_reported_once() {
    let t = Instant::now();
    let mut r = Relay::new(
        leg("10.0.0.1:4000", Codec::Pcmu, Some(101)),
        leg("10.0.0.2:5000", Codec::Pcmu, None),
        [1, 2],
        [1, 1],
    );
    let a = addr("10.0.0.1:4000");
    for (seq, end, duration) in [
        (1, false, 400),
        (2, false, 800),
        (3, true, 1280),
        (4, true, 1280),
        (5, true, 1280),
    ] {
        assert_eq!(
            r.pass(t, Side::A, a, &mut key_packet(7, end, duration, seq, 8000)),
            Err(Dropped::Translated)
        );
    }
    assert_eq!(
        r.poll_event(),
        Some(RelayEvent::Dtmf {
            from: Side::A,
            dtmf: crate::dtmf::Dtmf {
                key: '7',
                duration_ms: 160
            }
        })
    );
    assert_eq!(r.poll_event(), None);
    assert!(
        !r.send_dtmf(
            t,
            Side::B,
            crate::dtmf::Dtmf {
                key: '1',
                duration_ms: 100
            }
        ),
        "B has no events"
    );
}

#[test]
fn a_lone_leg_reports_its_keys_once_instead_of_echoing_them() {
    let t = Instant::now();
    let a = addr("10.0.0.1:4000");
    let mut r = Relay::for_announcement(leg("10.0.0.1:4000", Codec::Pcmu, Some(101)), 5, 1);
    for (seq, end) in [(1, false), (2, true), (3, true), (4, true)] {
        assert_eq!(
            r.pass(t, Side::A, a, &mut key_packet(1, end, 800, seq, 16_000)),
            Err(Dropped::Translated)
        );
    }
    assert_eq!(
        r.poll_event(),
        Some(RelayEvent::Dtmf {
            from: Side::A,
            dtmf: crate::dtmf::Dtmf {
                key: '1',
                duration_ms: 100
            }
        })
    );
    assert_eq!(r.poll_event(), None, "the end packet's repeats are one key");
}

#[test]
fn an_announcement_plays_once_to_a_lone_leg_and_nothing_is_relayed() {
    use crate::prompt::{Prompt, PromptPlayer};
    let t = Instant::now();
    let a = leg("10.0.0.1:4000", Codec::Pcmu, None);
    let mut r = Relay::for_announcement(a, 5, 1);
    let prompt = Prompt {
        rate: 8000,
        samples: std::sync::Arc::from(vec![500i16; 480]),
    };
    r.set_music(t, Side::A, Some(PromptPlayer::new(prompt, false)));
    let mut frames = 0;
    let mut now = t;
    while !r.music_finished(Side::A) {
        now = r.poll_timeout().unwrap();
        while let Some(e) = r.poll_emit(now) {
            assert_eq!((e.side, e.to), (Side::A, addr("10.0.0.1:4000")));
            frames += 1;
        }
    }
    assert_eq!(frames, 3, "480 samples are three frames");
    assert_eq!(
        r.pass(
            now,
            Side::A,
            addr("10.0.0.1:4000"),
            &mut packet(0, 1, 0, 8, &[0])
        ),
        Err(Dropped::Held)
    );
}

#[test]
fn a_held_leg_hears_music_in_its_codec_and_not_the_other_side() {
    use crate::prompt::{Prompt, PromptPlayer};
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcma);
    let b = addr("10.0.0.2:5000");
    let mut from_b = packet(8, 1, 0, 9, &[0xd5; 160]);
    r.pass(t, Side::B, b, &mut from_b).unwrap();
    let before = RtpHeader::parse(&from_b).unwrap();
    let music = Prompt {
        rate: 8000,
        samples: std::sync::Arc::from(vec![1000i16; 400]),
    };
    // A put B on hold: B hears the music, A's packets no longer reach B.
    r.set_music(t, Side::B, Some(PromptPlayer::new(music, true)));
    assert_eq!(
        r.pass(
            t,
            Side::A,
            addr("10.0.0.1:4000"),
            &mut packet(0, 1, 0, 8, &[0; 160])
        ),
        Err(Dropped::Held)
    );
    let mut frames = Vec::new();
    let mut now = t;
    for _ in 0..5 {
        now = r.poll_timeout().unwrap();
        while let Some(e) = r.poll_emit(now) {
            assert_eq!((e.side, e.to), (Side::B, b));
            frames.push(e.packet);
        }
    }
    assert_eq!(frames.len(), 5, "one frame per 20 ms");
    assert_eq!(now - t, Duration::from_millis(80));
    let headers: Vec<_> = frames
        .iter()
        .map(|f| RtpHeader::parse(f).unwrap())
        .collect();
    assert!(
        headers
            .iter()
            .all(|h| h.payload_type == 8 && h.payload_end - h.payload_start == 160)
    );
    assert!(headers[0].marker && !headers[1].marker);
    for pair in headers.windows(2) {
        assert_eq!(pair[1].sequence, pair[0].sequence.wrapping_add(1));
        assert_eq!(pair[1].timestamp, pair[0].timestamp.wrapping_add(160));
    }
    let first = &frames[0][12..];
    assert!(
        first
            .iter()
            .all(|&x| x == crate::g711::linear_to_alaw(1000))
    );
    // Resumed: A's audio flows again, numbered after the music.
    r.set_music(now, Side::B, None);
    let mut resumed = packet(0, 2, 160, 8, &[0; 160]);
    r.pass(now, Side::A, addr("10.0.0.1:4000"), &mut resumed)
        .unwrap();
    let h = RtpHeader::parse(&resumed).unwrap();
    assert_eq!(h.sequence, headers[4].sequence.wrapping_add(1));
    assert_eq!(h.timestamp, headers[4].timestamp.wrapping_add(160));
    let _ = before;
}

#[test]
fn each_leg_gets_rtcp_reports_on_what_it_sent_and_was_sent() {
    use crate::rtcp::{RtcpPacket, parse_compound};
    let t = Instant::now();
    let wall = std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let mut r = relay(Codec::Pcmu, Codec::Pcmu).with_wall_clock(t, wall);
    let a = addr("10.0.0.1:4000");
    // Two seconds of A's audio with packet 7 lost; B sends nothing.
    for i in 0..100u16 {
        if i == 7 {
            continue;
        }
        let now = t + Duration::from_millis(20 * u64::from(i));
        r.pass(
            now,
            Side::A,
            a,
            &mut packet(0, i, u32::from(i) * 160, 0x1111, &[0; 160]),
        )
        .unwrap();
    }
    let due = r.poll_timeout().unwrap();
    assert_eq!(due, t + Duration::from_secs(5));
    let mut reports = Vec::new();
    while let Some(e) = r.poll_emit(due) {
        assert!(e.rtcp);
        reports.push(e);
    }
    assert_eq!(reports.len(), 2, "one per leg");
    let to_a = reports.iter().find(|e| e.side == Side::A).unwrap();
    assert_eq!(
        to_a.to,
        addr("10.0.0.1:4001"),
        "the RTCP port beside the RTP one"
    );
    let parsed = parse_compound(&to_a.packet).unwrap();
    let RtcpPacket::ReceiverReport {
        ssrc,
        reports: blocks,
    } = &parsed[0]
    else {
        panic!("A was sent nothing, so it gets a receiver report: {parsed:?}");
    };
    assert_eq!(*ssrc, 0xaaaa);
    assert_eq!((blocks[0].ssrc, blocks[0].cumulative_lost), (0x1111, 1));
    assert_eq!(blocks[0].highest_sequence, 99);
    let to_b = reports.iter().find(|e| e.side == Side::B).unwrap();
    let RtcpPacket::SenderReport {
        ssrc,
        info,
        reports: blocks,
    } = &parse_compound(&to_b.packet).unwrap()[0]
    else {
        panic!("B was sent A's audio");
    };
    assert_eq!((*ssrc, info.packets, info.octets), (0xbbbb, 99, 99 * 160));
    assert!(blocks.is_empty(), "nothing was received from B");
    assert_eq!(info.ntp >> 32, 1_795_000_005 + 2_208_988_800);
}

/// 20 ms frame `n` of a 440-Hz tone at `rate`.
fn tone_frame(rate: u32, n: u32) -> Vec<i16> {
    let len = rate / 50;
    (n * len..(n + 1) * len)
        .map(|i| ((i as f32 / rate as f32 * 440.0 * std::f32::consts::TAU).sin() * 9000.0) as i16)
        .collect()
}

#[test]
fn opus_to_pcmu_is_transcoded_with_timestamps_on_the_receivers_clock() {
    use crate::transcode::AudioEncoder;
    let t = Instant::now();
    let mut r = relay(Codec::Opus, Codec::Pcmu);
    let mut phone = AudioEncoder::new(Codec::Opus, 48_000);
    let mut heard = Vec::new();
    let mut stamps = Vec::new();
    for n in 0..25u32 {
        let mut payload = [0u8; 1500];
        let len = phone.encode(&tone_frame(48_000, n), &mut payload);
        // Opus timestamps tick 960 per 20 ms and wrap during the call.
        let ts = (u32::MAX - 4000).wrapping_add(n * 960);
        let mut p = packet(111, n as u16, ts, 7, &payload[..len]);
        r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p).unwrap();
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!(h.payload_type, 0);
        assert_eq!(h.payload_end - h.payload_start, 160, "20 ms of PCMU");
        stamps.push(h.timestamp);
        heard.extend(
            p[h.payload_start..h.payload_end]
                .iter()
                .map(|&b| g711::ULAW_TO_LINEAR[b as usize]),
        );
    }
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].wrapping_sub(pair[0]), 160);
    }
    // What B hears is the tone: its 440-Hz period is 18.18 samples at 8 kHz, so the
    // signal correlates with itself one period later and not half a period later.
    let settled = &heard[1600..];
    let corr = |lag: usize| {
        settled
            .iter()
            .zip(&settled[lag..])
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum::<f64>()
    };
    assert!(corr(18) > 0.0 && corr(9) < 0.0, "{} {}", corr(18), corr(9));
    let loud = settled.iter().map(|&s| i32::from(s).abs()).max().unwrap();
    assert!(loud > 4000, "peak {loud}");
}

#[test]
fn music_to_a_wideband_leg_is_in_its_codec_and_clock() {
    use crate::prompt::{Prompt, PromptPlayer};
    use crate::transcode::AudioDecoder;
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::G722);
    let music = Prompt {
        rate: 8000,
        samples: (0..8000)
            .flat_map(|n| tone_frame(8000, n))
            .take(8000)
            .collect(),
    };
    r.set_music(t, Side::B, Some(PromptPlayer::new(music, true)));
    let mut decoder = AudioDecoder::new(Codec::G722);
    let (mut stamps, mut pcm, mut heard) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        let now = r.poll_timeout().unwrap();
        while let Some(e) = r.poll_emit(now) {
            let h = RtpHeader::parse(&e.packet).unwrap();
            assert_eq!(h.payload_type, 9);
            assert_eq!(h.payload_end - h.payload_start, 160);
            stamps.push(h.timestamp);
            decoder.decode(&e.packet[h.payload_start..h.payload_end], &mut pcm);
            heard.extend_from_slice(&pcm);
        }
    }
    // G.722 keeps the 8-kHz RTP clock though it carries 16-kHz audio.
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].wrapping_sub(pair[0]), 160);
    }
    assert_eq!(heard.len(), 3200);
    let loud = heard[800..]
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap();
    assert!(loud > 4000, "peak {loud}");
}

#[test]
fn a_relay_that_takes_over_continues_each_legs_stream() {
    let t = Instant::now();
    let mut old = relay(Codec::Pcmu, Codec::Pcmu);
    let mut p = packet(0, 7, 1000, 0x1234, &[1; 160]);
    old.pass(t, Side::B, addr("10.0.0.2:5000"), &mut p).unwrap();
    let before = RtpHeader::parse(&p).unwrap();
    let mut new = Relay::new(
        leg("10.0.0.1:4000", Codec::Pcmu, Some(101)),
        leg("10.0.0.3:6000", Codec::Pcmu, None),
        [1, 2],
        [9000, 9000],
    )
    .continuing(&mut old);
    let mut p = packet(0, 40_000, 555_000, 0x9999, &[1; 160]);
    new.pass(t, Side::B, addr("10.0.0.3:6000"), &mut p).unwrap();
    let after = RtpHeader::parse(&p).unwrap();
    assert_eq!(after.ssrc, before.ssrc, "toward A: one stream");
    assert_eq!(after.sequence, before.sequence.wrapping_add(1));
    assert_eq!(after.timestamp, before.timestamp.wrapping_add(160));
}

#[test]
fn keys_sent_as_tones_are_heard_while_switchboard_listens() {
    let t = Instant::now();
    // A phone with PCMU and no telephone events, in a menu (Switchboard alone on the
    // call): its 5 arrives as 770 + 1336 Hz in the audio.
    let mut r = Relay::for_announcement(leg("10.0.0.1:4000", Codec::Pcmu, None), 1, 1);
    send_five_as_tones(&mut r, t);
    let keys: Vec<RelayEvent> = std::iter::from_fn(|| r.poll_event()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let RelayEvent::Dtmf { from, dtmf } = keys[0] else {
        panic!("{keys:?}");
    };
    assert_eq!((from, dtmf.key), (Side::A, '5'));
}

#[test]
fn a_bridged_call_passes_tones_on_without_reading_them() {
    let t = Instant::now();
    let mut r = Relay::new(
        leg("10.0.0.1:4000", Codec::Pcmu, None),
        leg("10.0.0.2:5000", Codec::Pcmu, None),
        [1, 2],
        [1, 1],
    );
    assert!(send_five_as_tones(&mut r, t), "every frame passes");
    assert_eq!(
        r.poll_event(),
        None,
        "the other phone hears the tone itself"
    );
}

#[test]
fn an_srtp_leg_is_decrypted_for_the_other_and_encrypted_back() {
    use crate::srtp::{SdesKey, SrtpKeys, SrtpSession};
    let t = Instant::now();
    let key = |byte| SdesKey {
        tag: 1,
        key: [byte; crate::srtp::KEY_AND_SALT],
    };
    let (phones_key, our_key) = (key(1), key(2));
    let mut a = leg("10.0.0.1:4000", Codec::Pcmu, None);
    a.srtp = Some(SrtpKeys {
        theirs: phones_key,
        ours: our_key,
    });
    let mut r = Relay::new(a, leg("10.0.0.2:5000", Codec::Pcmu, None), [1, 2], [1, 1]);
    // A's phone encrypts with its key and decrypts with ours.
    let mut phone = SrtpSession::new(SrtpKeys {
        theirs: our_key,
        ours: phones_key,
    })
    .unwrap();
    let plain = packet(0, 1, 0, 8, &[0x55; 160]);
    let mut sealed = phone.protect(&plain).unwrap();
    let to = r
        .pass(t, Side::A, addr("10.0.0.1:4000"), &mut sealed)
        .unwrap();
    assert_eq!(to, addr("10.0.0.2:5000"));
    assert_eq!(&sealed[12..], &[0x55; 160], "B gets the audio in the clear");
    let mut from_b = packet(0, 1, 0, 9, &[0x66; 160]);
    r.pass(t, Side::B, addr("10.0.0.2:5000"), &mut from_b)
        .unwrap();
    assert_eq!(from_b.len(), 12 + 160 + 10, "sealed with a tag for A");
    let opened = phone.unprotect(&from_b).unwrap();
    assert_eq!(&opened[12..], &[0x66; 160]);
    // A stranger's plain RTP to A's port fails authentication.
    assert_eq!(
        r.pass(
            t,
            Side::A,
            addr("10.0.0.1:4000"),
            &mut packet(0, 2, 160, 8, &[0; 160])
        ),
        Err(Dropped::Malformed)
    );
}

#[test]
fn a_whisper_is_heard_over_the_other_leg_not_instead_of_it() {
    use crate::prompt::{Prompt, PromptPlayer};
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcmu);
    // The agent (B) is told 20 ms of a steady level while the caller (A) talks.
    let words = Prompt {
        rate: 8000,
        samples: std::sync::Arc::from(vec![2000i16; 160]),
    };
    r.set_whisper(t, Side::B, Some(PromptPlayer::new(words, false)));
    let caller_says = |n: u16| {
        let speech: Vec<u8> = (0..160)
            .map(|i| g711::linear_to_ulaw(if i % 2 == 0 { 500 } else { -500 }))
            .collect();
        packet(0, n, u32::from(n) * 160, 8, &speech)
    };
    let heard = |p: &[u8]| -> Vec<i16> {
        p[12..]
            .iter()
            .map(|&b| g711::ULAW_TO_LINEAR[usize::from(b)])
            .collect()
    };
    let mut first = caller_says(1);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut first)
        .unwrap();
    let mixed = heard(&first);
    // Both at once: the caller's ±500 rides on the whisper's 2000.
    assert!(
        mixed.iter().step_by(2).all(|&s| (2300..2700).contains(&s)),
        "{mixed:?}"
    );
    assert!(
        mixed
            .iter()
            .skip(1)
            .step_by(2)
            .all(|&s| (1300..1700).contains(&s))
    );
    assert!(r.whisper_finished(Side::B));
    r.set_whisper(t, Side::B, None);
    let mut second = caller_says(2);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut second)
        .unwrap();
    assert!(
        heard(&second).iter().all(|&s| s.abs() < 600),
        "the caller alone again"
    );
}

/// 300 ms of the 5 key (770 + 1336 Hz) in PCMU from side A's phone; true when every
/// frame passed.
fn send_five_as_tones(r: &mut Relay, t: Instant) -> bool {
    let five = crate::tones::ToneSpec {
        frequencies: &[770.0, 1336.0],
        cadence: &[(100, 2000)],
    };
    let mut tone = crate::tones::ToneGenerator::new(five, 8000);
    let mut frame = [0i16; 160];
    (0..15u16).fold(true, |all_passed, n| {
        tone.fill(&mut frame);
        let payload: Vec<u8> = frame.iter().map(|&s| g711::linear_to_ulaw(s)).collect();
        let mut p = packet(0, n, u32::from(n) * 160, 8, &payload);
        r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut p).is_ok() && all_passed
    })
}

#[test]
fn a_recorded_call_keeps_what_each_leg_said_before_transcoding_and_no_keys_or_strangers() {
    let t = Instant::now();
    let mut r = relay(Codec::Pcmu, Codec::Pcma);
    let mut before = packet(0, 1, 160, 0x1234, &[1, 2]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut before)
        .unwrap();
    assert_eq!(r.drain_heard().count(), 0, "not recorded yet");
    r.set_recording(true);
    let mut from_a = packet(0, 2, 320, 0x1234, &[3, 4]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut from_a)
        .unwrap();
    let mut from_b = packet(8, 7, 160, 0x5678, &[5, 6]);
    r.pass(t, Side::B, addr("10.0.0.2:5000"), &mut from_b)
        .unwrap();
    let mut key = key_packet(1, false, 160, 3, 480);
    let _ = r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut key);
    let mut stranger = packet(8, 1, 160, 0x9999, &[7]);
    let _ = r.pass(t, Side::B, addr("10.9.9.9:5000"), &mut stranger);
    let heard: Vec<Heard> = r.drain_heard().collect();
    let said: Vec<_> = heard
        .iter()
        .map(|h| (h.side, h.codec, h.payload.clone()))
        .collect();
    assert_eq!(
        said,
        [
            (Side::A, Codec::Pcmu, vec![3, 4]),
            (Side::B, Codec::Pcma, vec![5, 6])
        ]
    );
    r.set_recording(false);
    let mut after = packet(0, 4, 640, 0x1234, &[8]);
    r.pass(t, Side::A, addr("10.0.0.1:4000"), &mut after)
        .unwrap();
    assert_eq!(r.drain_heard().count(), 0);
}
