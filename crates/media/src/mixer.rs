//! Mixing for calls of three or more: each participant hears everyone but themself.
//! The total is summed once in 32 bits and each output subtracts its own input, so a
//! frame of N participants costs 2N additions per sample rather than N².

/// Mixes one frame. `inputs[i]` is what participant `i` said (shorter or empty means
/// silence); `outputs[i]` receives what they hear, `frame` samples long.
pub fn mix(inputs: &[&[i16]], outputs: &mut [Vec<i16>], frame: usize) {
    let mut total = vec![0i32; frame];
    for input in inputs {
        for (t, &s) in total.iter_mut().zip(input.iter()) {
            *t += i32::from(s);
        }
    }
    for (i, out) in outputs.iter_mut().enumerate() {
        let own = inputs.get(i).copied().unwrap_or(&[]);
        out.clear();
        out.extend(total.iter().enumerate().map(|(n, &t)| {
            let mine = own.get(n).copied().map_or(0, i32::from);
            (t - mine).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_hears_themself() {
        let (a, b, c) = ([100i16; 4], [10i16; 4], [1i16; 4]);
        let mut out = vec![Vec::new(); 3];
        mix(&[&a, &b, &c], &mut out, 4);
        assert_eq!(out[0], [11; 4]);
        assert_eq!(out[1], [101; 4]);
        assert_eq!(out[2], [110; 4]);
    }

    #[test]
    fn loud_sums_clip_and_missing_input_is_silence() {
        let loud = [30_000i16; 2];
        let mut out = vec![Vec::new(); 3];
        mix(&[&loud, &loud, &[]], &mut out, 2);
        assert_eq!(out[2], [i16::MAX; 2]);
        assert_eq!(out[0], [30_000; 2]);
    }
}
