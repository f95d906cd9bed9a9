use super::*;

const BARESIP: &str = "v=0\r\no=- 1503 2397 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 10020 RTP/AVP 0 8 101\r\nb=AS:64\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n\
a=sendrecv\r\na=label:1\r\na=ssrc:123 cname:x\r\na=rtcp-rsize\r\na=ptime:20\r\n";

// A desk phone's offer: LF only, no t=, G.729 we do not speak, a video stream, and
// the connection inside the media section.
const DESK_PHONE: &str = "v=0\no=yealink 1 1 IN IP4 192.0.2.10\ns=SDP data\n\
m=audio 11780 RTP/AVP 9 18 8 96\nc=IN IP4 192.0.2.10\na=rtpmap:9 G722/8000\n\
a=rtpmap:18 G729/8000\na=fmtp:18 annexb=no\na=rtpmap:8 PCMA/8000\n\
a=rtpmap:96 telephone-event/8000\na=sendonly\nm=video 0 RTP/AVP 99\n";

#[test]
fn a_softphone_offer() {
    let sdp = SessionDescription::parse(BARESIP.as_bytes()).unwrap();
    let audio = sdp.audio().unwrap();
    assert_eq!(audio.address, "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(audio.port, 10020);
    assert_eq!(audio.ptime, Some(20));
    assert_eq!(audio.direction, Direction::SendRecv);
    let codecs: Vec<_> = audio
        .formats
        .iter()
        .map(|f| (f.payload_type, f.codec))
        .collect();
    assert_eq!(
        codecs,
        [
            (0, Codec::Pcmu),
            (8, Codec::Pcma),
            (101, Codec::TelephoneEvent)
        ]
    );
}

#[test]
fn a_desk_phone_offer_with_a_codec_we_do_not_speak() {
    let sdp = SessionDescription::parse(DESK_PHONE.as_bytes()).unwrap();
    let audio = sdp.audio().unwrap();
    assert_eq!(audio.address, "192.0.2.10".parse::<IpAddr>().unwrap());
    assert_eq!(audio.direction, Direction::SendOnly);
    assert_eq!(audio.first_audio().unwrap().codec, Codec::G722);
    assert_eq!(audio.telephone_event().unwrap().payload_type, 96);
    // Offer to the callee: the caller's G.722 and PCMA first, then the codecs
    // Switchboard transcodes to; events keep the caller's number.
    let offer: Vec<_> = formats_to_offer(&audio)
        .iter()
        .map(|f| (f.payload_type, f.codec))
        .collect();
    assert_eq!(
        offer,
        [
            (9, Codec::G722),
            (8, Codec::Pcma),
            (0, Codec::Pcmu),
            (111, Codec::Opus),
            (96, Codec::TelephoneEvent),
        ]
    );
}

#[test]
fn offers_to_the_callee_never_reuse_the_callers_numbers() {
    // A caller that numbers its events 111 and Opus 101, the other way round.
    let audio = SessionDescription::parse(
        b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 111\r\n\
          a=rtpmap:111 telephone-event/8000\r\n",
    )
    .unwrap()
    .audio()
    .unwrap();
    let offer = formats_to_offer(&audio);
    let numbers: std::collections::HashSet<u8> = offer.iter().map(|f| f.payload_type).collect();
    assert_eq!(numbers.len(), offer.len(), "{offer:?}");
    assert_eq!(offer.last().unwrap().payload_type, 111, "events keep 111");
    let opus = offer.iter().find(|f| f.codec == Codec::Opus).unwrap();
    assert!((96..=127).contains(&opus.payload_type) && opus.payload_type != 111);
}

#[test]
fn answers_follow_the_other_legs_choice_when_they_can() {
    let audio = SessionDescription::parse(BARESIP.as_bytes())
        .unwrap()
        .audio()
        .unwrap();
    let same = formats_to_answer(&audio, Codec::Pcma).unwrap();
    assert_eq!(same[0].codec, Codec::Pcma);
    assert_eq!(same[1].codec, Codec::TelephoneEvent);
    let only_ulaw =
        SessionDescription::parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n")
            .unwrap()
            .audio()
            .unwrap();
    assert_eq!(
        formats_to_answer(&only_ulaw, Codec::Pcma).unwrap(),
        [Format {
            payload_type: 0,
            codec: Codec::Pcmu
        }],
        "no PCMA offered: answer PCMU and transcode"
    );
}

#[test]
fn no_common_codec_and_no_audio_are_told_apart() {
    let g729 =
        SessionDescription::parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\n")
            .unwrap()
            .audio()
            .unwrap();
    assert_eq!(
        formats_to_answer(&g729, Codec::Pcmu),
        Err(SdpError::NoCommonCodec)
    );
    let video =
        SessionDescription::parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 99\r\n")
            .unwrap();
    assert_eq!(video.audio(), Err(SdpError::NoAudio));
    let no_c = SessionDescription::parse(b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n").unwrap();
    assert_eq!(no_c.audio(), Err(SdpError::NoConnection));
}

#[test]
fn malformed_bodies_name_the_line() {
    for (body, line) in [
        (&b""[..], 1),
        (b"hello", 1),
        (b"v=1\r\n", 1),
        (b"v=0\r\nc=IN IP4 not-an-ip\r\n", 2),
        (b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n", 3),
        (
            b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:zero PCMU/8000\r\n",
            3,
        ),
    ] {
        match SessionDescription::parse(body) {
            Err(SdpError::Malformed { line: l, .. }) => assert_eq!(l, line, "{body:?}"),
            other => panic!("{body:?} gave {other:?}"),
        }
    }
}

#[test]
fn our_description_reads_back() {
    let local = LocalDescription {
        session_id: 7,
        version: 2,
        address: "192.0.2.1".parse().unwrap(),
        port: 12000,
        formats: vec![
            Format::default_for(Codec::Opus),
            Format::default_for(Codec::G722),
            Format::default_for(Codec::Pcma),
            Format::default_for(Codec::TelephoneEvent),
        ],
        direction: Direction::RecvOnly,
        ptime: 20,
        crypto: None,
    };
    let parsed = SessionDescription::parse(&local.to_bytes())
        .unwrap()
        .audio()
        .unwrap();
    assert_eq!(parsed.port, 12000);
    assert_eq!(parsed.formats, local.formats);
    assert_eq!(parsed.direction, Direction::RecvOnly);
    assert_eq!(parsed.crypto, None);
    // With a key, the stream is RTP/SAVP and carries it.
    let key = crate::srtp::SdesKey {
        tag: 1,
        key: [3; crate::srtp::KEY_AND_SALT],
    };
    let secure = LocalDescription {
        crypto: Some(key),
        ..local
    };
    let text = String::from_utf8(secure.to_bytes()).unwrap();
    assert!(text.contains("m=audio 12000 RTP/SAVP "), "{text}");
    let parsed = SessionDescription::parse(text.as_bytes())
        .unwrap()
        .audio()
        .unwrap();
    assert_eq!(parsed.crypto, Some(key));
}

#[test]
fn an_encrypted_offer_without_a_usable_key_is_refused() {
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                 m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:x\r\n";
    assert_eq!(
        SessionDescription::parse(offer.as_bytes()).unwrap().audio(),
        Err(SdpError::NoCommonCrypto)
    );
}

proptest::proptest! {
    #[test]
    fn any_text_parses_or_fails_cleanly(body in "(v=0\r\n)?([a-z]=[ -~]{0,30}\r\n){0,8}") {
        if let Ok(sdp) = SessionDescription::parse(body.as_bytes()) {
            let _ = sdp.audio();
        }
    }
}

#[test]
fn a_trunks_codec_order_sorts_and_limits_what_is_offered() {
    let f = |codec| Format::default_for(codec);
    let offered = [
        f(Codec::Pcmu),
        f(Codec::G722),
        f(Codec::Pcma),
        f(Codec::TelephoneEvent),
        f(Codec::Opus),
    ];
    let codecs = |formats: Vec<Format>| formats.into_iter().map(|f| f.codec).collect::<Vec<_>>();
    assert_eq!(
        codecs(prefer_codecs(&offered, &[Codec::Pcma, Codec::Pcmu])),
        [Codec::Pcma, Codec::Pcmu, Codec::TelephoneEvent]
    );
    assert_eq!(
        codecs(prefer_codecs(&offered, &[])),
        codecs(offered.to_vec())
    );
}
