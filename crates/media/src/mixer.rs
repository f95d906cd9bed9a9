//! Mixing for calls of three or more: each participant hears those whose voice reaches
//! them, never themself. Voices that reach everyone are summed once in 32 bits and each
//! output subtracts its own input, so a frame of N participants costs 2N additions per
//! sample rather than N²; a voice that reaches one participant (a supervisor's whisper)
//! is added to that one output alone, and a listener's reaches nobody.

/// Whom a participant's voice reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    Everyone,
    Nobody,
    /// Participant `i` only.
    Only(usize),
}

/// Mixes one frame. `inputs[i]` is what participant `i` said (shorter or empty means
/// silence) and `voices[i]` whom it reaches; `outputs[i]` receives what they hear,
/// `frame` samples long.
pub fn mix(inputs: &[&[i16]], voices: &[Voice], outputs: &mut [Vec<i16>], frame: usize) {
    let mut total = vec![0i32; frame];
    for (input, voice) in inputs.iter().zip(voices) {
        if *voice == Voice::Everyone {
            add(&mut total, input);
        }
    }
    let mut heard = vec![0i32; frame];
    for (i, out) in outputs.iter_mut().enumerate() {
        heard.copy_from_slice(&total);
        if voices.get(i) == Some(&Voice::Everyone) {
            let own = inputs.get(i).copied().unwrap_or(&[]);
            for (h, &s) in heard.iter_mut().zip(own) {
                *h -= i32::from(s);
            }
        }
        for (input, _) in inputs
            .iter()
            .zip(voices)
            .filter(|(_, v)| **v == Voice::Only(i))
        {
            add(&mut heard, input);
        }
        out.clear();
        out.extend(
            heard
                .iter()
                .map(|&h| h.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16),
        );
    }
}

fn add(sum: &mut [i32], input: &[i16]) {
    for (t, &s) in sum.iter_mut().zip(input) {
        *t += i32::from(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Voice; 3] = [Voice::Everyone; 3];

    #[test]
    fn nobody_hears_themself() {
        let (a, b, c) = ([100i16; 4], [10i16; 4], [1i16; 4]);
        let mut out = vec![Vec::new(); 3];
        mix(&[&a, &b, &c], &ALL, &mut out, 4);
        assert_eq!(out[0], [11; 4]);
        assert_eq!(out[1], [101; 4]);
        assert_eq!(out[2], [110; 4]);
    }

    #[test]
    fn loud_sums_clip_and_missing_input_is_silence() {
        let loud = [30_000i16; 2];
        let mut out = vec![Vec::new(); 3];
        mix(&[&loud, &loud, &[]], &ALL, &mut out, 2);
        assert_eq!(out[2], [i16::MAX; 2]);
        assert_eq!(out[0], [30_000; 2]);
    }

    #[test]
    fn a_listener_hears_all_unheard_and_a_whisper_reaches_one() {
        let (caller, agent, supervisor) = ([100i16; 2], [10i16; 2], [1i16; 2]);
        let mut out = vec![Vec::new(); 3];
        let listening = [Voice::Everyone, Voice::Everyone, Voice::Nobody];
        mix(&[&caller, &agent, &supervisor], &listening, &mut out, 2);
        assert_eq!((out[0][0], out[1][0], out[2][0]), (10, 100, 110));
        let whispering = [Voice::Everyone, Voice::Everyone, Voice::Only(1)];
        mix(&[&caller, &agent, &supervisor], &whispering, &mut out, 2);
        assert_eq!((out[0][0], out[1][0], out[2][0]), (10, 101, 110));
    }
}
