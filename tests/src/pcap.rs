//! Speech as a capture of RTP packets, for SIPp's `play_pcap_audio` to send as a
//! phone's audio: SIPp replays the UDP payloads at the captured pace towards the media
//! address it negotiated.

use std::path::Path;

const FRAME: usize = 160;

/// Writes 8-kHz `samples` as 20-ms PCMA (payload type 8) RTP packets in a pcap.
pub fn write_pcma(samples: &[i16], out: &Path) {
    // Global header: magic, version 2.4, no zone, no accuracy, snaplen, Ethernet.
    let mut file = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    file.extend_from_slice(&[2, 0, 4, 0]);
    for word in [0u32, 0, 65_535, 1] {
        file.extend_from_slice(&word.to_le_bytes());
    }
    for (n, frame) in samples.chunks_exact(FRAME).enumerate() {
        let payload: Vec<u8> = frame
            .iter()
            .map(|&s| switchboard_media::g711::linear_to_alaw(s))
            .collect();
        let mut rtp = vec![0x80, 8];
        rtp.extend_from_slice(&(n as u16).to_be_bytes());
        rtp.extend_from_slice(&((n * FRAME) as u32).to_be_bytes());
        rtp.extend_from_slice(&0x5eec_4ba1u32.to_be_bytes());
        rtp.extend_from_slice(&payload);
        let packet = udp_over_ethernet(&rtp);
        let micros = n as u64 * 20_000;
        for word in [
            (micros / 1_000_000) as u32,
            (micros % 1_000_000) as u32,
            packet.len() as u32,
            packet.len() as u32,
        ] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(&packet);
    }
    std::fs::write(out, file).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// An Ethernet frame carrying `payload` in UDP over IPv4 between loopback ports; SIPp
/// keeps only the payload and its timing.
fn udp_over_ethernet(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let ip_len = (20 + 8 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
    f.extend_from_slice(&6000u16.to_be_bytes());
    f.extend_from_slice(&6002u16.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}
