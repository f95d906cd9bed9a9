//! Speech as a capture of RTP packets, for SIPp's `play_pcap_audio` to send as a
//! phone's audio: SIPp replays the UDP payloads at the captured pace towards the media
//! address it negotiated.

use std::path::Path;

use crate::audio::{heard, read};

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

/// A packet capture on loopback (tcpdump), to look at what crossed the wire.
#[derive(Debug)]
pub struct Capture {
    child: std::process::Child,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Capture {
    /// Captures UDP to and from ports `first..=last` until [`Capture::stop`].
    pub fn udp_ports(first: u16, last: u16) -> Capture {
        crate::require("tcpdump", "apt-get install tcpdump");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("capture.pcap");
        let child = std::process::Command::new("tcpdump")
            .args(["-i", "lo", "-U", "-n", "-w"])
            .arg(&file)
            .arg(format!("udp portrange {first}-{last}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start tcpdump");
        let mut capture = Capture {
            child,
            file,
            _dir: dir,
        };
        // tcpdump says "listening on lo" once it captures.
        let stderr = capture.child.stderr.take().expect("stderr");
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut line);
        capture
    }

    /// Stops and returns each captured UDP payload.
    pub fn stop(mut self) -> Vec<Vec<u8>> {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let bytes = std::fs::read(&self.file).unwrap_or_default();
        udp_payloads(&bytes)
    }
}

/// The UDP payloads of a pcap of Ethernet (loopback) frames carrying IPv4.
fn udp_payloads(file: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= file.len() {
        let captured =
            u32::from_le_bytes(file[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        let frame = &file[at + 16..(at + 16 + captured).min(file.len())];
        at += 16 + captured;
        // Ethernet (14), IPv4 with its header length, UDP (8).
        if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip_header = usize::from(frame[14] & 0x0f) * 4;
        let udp = 14 + ip_header;
        if frame.get(14 + 9) != Some(&17) || frame.len() < udp + 8 {
            continue;
        }
        out.push(frame[udp + 8..].to_vec());
    }
    out
}

/// How well the audio of any RTP stream in `packets`, read as PCMU the way a
/// listener on the wire would, matches either phone's speech in `sources` (the
/// correlation score of [`heard`]; above 0.9 the speech is plain to hear).
pub fn speech_in_the_clear(packets: &[Vec<u8>], sources: &[&std::path::Path]) -> f64 {
    let mut streams: std::collections::BTreeMap<u32, Vec<(u16, &[u8])>> = Default::default();
    for p in packets {
        let is_rtcp = p.len() > 1 && (200..=204).contains(&p[1]);
        if p.len() < 12 + 160 || p[0] >> 6 != 2 || is_rtcp {
            continue;
        }
        let ssrc = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
        let seq = u16::from_be_bytes([p[2], p[3]]);
        streams.entry(ssrc).or_default().push((seq, &p[12..]));
    }
    let mut best: f64 = 0.0;
    for (_, mut stream) in streams {
        stream.sort_by_key(|(seq, _)| *seq);
        let audio: Vec<f32> = stream
            .iter()
            .flat_map(|(_, payload)| payload.iter())
            .map(|&b| f32::from(switchboard_media::g711::ULAW_TO_LINEAR[usize::from(b)]) / 32768.0)
            .collect();
        if audio.len() < 3 * 8000 {
            continue;
        }
        for source in sources {
            best = best.max(heard(&read(source).0, &audio));
        }
    }
    best
}
