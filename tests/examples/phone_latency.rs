//! Mouth-to-ear latency of the app's phone, and the CPU its calls take: two app
//! phones in this process on a private PulseAudio server call each other through
//! Switchboard; clicks played into phone A's microphone are heard at phone B's
//! speaker. One stereo null sink carries both ends, so one recording on one clock
//! times them: the clicks on its left channel (A's microphone), what B plays on its
//! right.
//!
//! ```sh
//! cargo build --release -p switchboard-server
//! cargo run --release -p switchboard-e2e --example phone_latency
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard_e2e::app_phone::AppPhone;
use switchboard_e2e::audio::write_wav;
use switchboard_e2e::pulse::SoundServer;
use switchboard_e2e::{FAST_REGISTRAR, Server, config};
use switchboard_phone::LineState;
use switchboard_phone::edge::{DeviceCard, DeviceChoice};

/// The rate of the clicks and of the recording.
const RATE: u32 = 48_000;
const CLICKS: usize = 30;
/// A click each second: longer than any latency measured, so each is told apart.
const CLICK_EVERY: Duration = Duration::from_secs(1);

fn main() {
    // cpal finds the sound server through the environment: the work runs in a
    // child process started with it.
    let Some(sound) = SoundServer::in_child_process(&[]) else {
        return;
    };
    // The line: left is A's microphone (the clicks are played there), right is B's
    // speaker.
    sound.load(
        "module-null-sink sink_name=line channels=2 channel_map=front-left,front-right \
         sink_properties=device.description=line",
    );
    sound.load(
        "module-remap-sink sink_name=clicks master=line channels=1 \
         master_channel_map=front-left channel_map=mono \
         sink_properties=device.description=clicks",
    );
    sound.load(
        "module-remap-source source_name=mic_a master=line.monitor channels=1 \
         master_channel_map=front-left channel_map=mono \
         source_properties=device.description=mic_a",
    );
    sound.load(
        "module-remap-sink sink_name=speaker_b master=line channels=1 \
         master_channel_map=front-right channel_map=mono \
         sink_properties=device.description=speaker_b",
    );

    let server = Server::start(&config("", FAST_REGISTRAR));
    let card = |microphone: &str, speaker: &str| {
        DeviceCard::open(&DeviceChoice {
            microphone: Some(microphone.into()),
            speaker: Some(speaker.into()),
        })
        .expect("the sound devices open")
    };
    let mut a = AppPhone::start(server.sip, "101", card("mic_a", "speaker"));
    let mut b = AppPhone::start(server.sip, "102", card("Monitor of mic", "speaker_b"));
    a.signed_in();
    b.signed_in();
    let dialled = a.act(|p, now| p.dial(now, "102")).expect("A dials 102");
    let ringing = b.ringing();
    b.act(move |p, now| p.answer(now, ringing.line))
        .expect("B answers");
    a.line_reaches(dialled, LineState::Talking);
    // The jitter buffer settles on the first second of a call.
    std::thread::sleep(Duration::from_secs(2));

    let dir = tempfile::tempdir().expect("tempdir");
    let track = dir.path().join("clicks.wav");
    write_wav(&track, &click_track(), RATE, 1);
    let recorded = dir.path().join("line.wav");
    let recording = sound.record("line.monitor", RATE, 2, &recorded);
    let cpu_before = cpu_time();
    let wall = Instant::now();
    sound.play("clicks", &track).played();
    let cpu = (cpu_time() - cpu_before).as_secs_f64() / wall.elapsed().as_secs_f64();
    recording.finish();
    a.act(move |p, now| p.hang_up(now, dialled))
        .expect("A hangs up");

    let latencies = latencies(&recorded);
    report(&latencies, cpu);
}

/// A 10-ms 1-kHz burst in a Hann window each [`CLICK_EVERY`]: speech-band, so G.711
/// and the noise suppressor keep it.
fn click_track() -> Vec<i16> {
    let every = (RATE as f64 * CLICK_EVERY.as_secs_f64()) as usize;
    let burst = RATE as usize / 100;
    let mut track = vec![0i16; every * (CLICKS + 1)];
    for k in 0..CLICKS {
        for i in 0..burst {
            let t = i as f64 / RATE as f64;
            let window = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / burst as f64).cos();
            let s = (2.0 * std::f64::consts::PI * 1000.0 * t).sin() * window * 16_000.0;
            track[every / 2 + k * every + i] = s as i16;
        }
    }
    track
}

/// Each click's delay from the left channel to the right, in ms.
fn latencies(recorded: &Path) -> Vec<f64> {
    let mut reader = hound::WavReader::open(recorded).expect("the recording");
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap_or(0)).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let clicks = onsets(&left);
    let heard = onsets(&right);
    clicks
        .iter()
        .filter_map(|&c| {
            let h = heard
                .iter()
                .find(|&&h| h > c && h - c < RATE as usize / 2)?;
            Some((h - c) as f64 * 1000.0 / RATE as f64)
        })
        .collect()
}

/// Where sound starts after at least 200 ms of quiet: the first sample above a
/// quarter of the channel's loudest.
fn onsets(channel: &[i16]) -> Vec<usize> {
    let loudest = channel.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let threshold = loudest / 4;
    let quiet = RATE as usize / 5;
    let mut found = Vec::new();
    let mut last_loud: Option<usize> = None;
    for (i, s) in channel.iter().enumerate() {
        if s.unsigned_abs() > threshold.max(1) {
            if last_loud.is_none_or(|l| i - l > quiet) {
                found.push(i);
            }
            last_loud = Some(i);
        }
    }
    found
}

fn report(latencies: &[f64], cpu: f64) {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    assert!(
        sorted.len() >= CLICKS / 2,
        "only {} of {CLICKS} clicks were heard",
        sorted.len()
    );
    println!(
        "mouth-to-ear, A's microphone to B's speaker: {} of {CLICKS} clicks heard; \
         median {:.1} ms, min {:.1}, p90 {:.1}, max {:.1}",
        sorted.len(),
        at(0.5),
        at(0.0),
        at(0.9),
        at(1.0)
    );
    println!(
        "CPU of this process (two app phones in one call, with their sound \
         devices): {:.2} % of a core, {:.2} % per phone",
        cpu * 100.0,
        cpu * 50.0
    );
}

/// This process's CPU time so far (user and system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command's closing parenthesis; utime and stime are the 12th
    // and 13th of them, in clock ticks (100 a second on Linux).
    let rest = &stat[stat.rfind(')').expect("stat") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
