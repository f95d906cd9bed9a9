//! G.711 µ-law and A-law (ITU-T G.711), by table: one lookup per sample each way.
//!
//! Written here because it is a few lines of integer arithmetic; the decode and
//! cross-conversion tables are built at compile time from the same `const fn`s the
//! encoders use at run time.

/// A 256-entry table of `$value` for every byte `$b`, built at compile time.
macro_rules! table {
    ($ty:ty, |$b:ident| $value:expr) => {{
        let mut table = [0 as $ty; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            table[i] = $value;
            i += 1;
        }
        table
    }};
}

/// µ-law byte → 16-bit linear sample.
pub const ULAW_TO_LINEAR: [i16; 256] = table!(i16, |b| ulaw_to_linear(b));
/// A-law byte → 16-bit linear sample.
pub const ALAW_TO_LINEAR: [i16; 256] = table!(i16, |b| alaw_to_linear(b));
/// µ-law → A-law: transcoding between the two costs one lookup per sample.
pub const ULAW_TO_ALAW: [u8; 256] = table!(u8, |b| linear_to_alaw(ulaw_to_linear(b)));
/// A-law → µ-law.
pub const ALAW_TO_ULAW: [u8; 256] = table!(u8, |b| linear_to_ulaw(alaw_to_linear(b)));

const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0f) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = ((a >> 4) & 0x07) as i32;
    let mantissa = (a & 0x0f) as i32;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

pub const fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    if s > 32635 {
        s = 32635;
    }
    s += 0x84;
    let mut exponent = 7;
    while exponent > 0 && s & (0x80 << exponent) == 0 {
        exponent -= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !((sign | (exponent << 4) | mantissa) as u8)
}

pub const fn linear_to_alaw(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s >= 0 {
        0x80
    } else {
        s = -s - 1;
        0
    };
    let byte = if s < 256 {
        s >> 4
    } else {
        let mut exponent = 7;
        while s & (0x80 << exponent) == 0 {
            exponent -= 1;
        }
        (exponent << 4) | ((s >> (exponent + 3)) & 0x0f)
    };
    ((byte | sign) as u8) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_code_points() {
        // Silence and full scale per G.711's tables.
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(ULAW_TO_LINEAR[0xff], 0);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(ALAW_TO_LINEAR[0xd5], 8);
        assert_eq!(ULAW_TO_LINEAR[0x00], -32124);
        assert_eq!(ALAW_TO_LINEAR[0x2a], -32256);
    }

    #[test]
    fn every_code_round_trips() {
        for byte in 0..=255u8 {
            // µ-law has two zeros (0x7f and 0xff); both decode to 0 and encode to 0xff.
            let u = linear_to_ulaw(ULAW_TO_LINEAR[byte as usize]);
            assert!(
                u == byte || ULAW_TO_LINEAR[byte as usize] == 0,
                "µ {byte:#x}"
            );
            assert_eq!(
                linear_to_alaw(ALAW_TO_LINEAR[byte as usize]),
                byte,
                "A {byte:#x}"
            );
        }
    }

    #[test]
    fn encoding_error_stays_within_the_segment_step() {
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            for (encode, decode) in [
                (linear_to_ulaw as fn(i16) -> u8, &ULAW_TO_LINEAR),
                (linear_to_alaw, &ALAW_TO_LINEAR),
            ] {
                let back = decode[encode(s) as usize] as i32;
                let err = (back - s as i32).abs();
                // The quantisation step grows with the segment: 1/16 of the magnitude.
                assert!(err <= (s as i32).abs() / 16 + 16, "{s} → {back}");
            }
        }
    }

    #[test]
    fn cross_tables_agree_with_linear() {
        for byte in 0..=255u8 {
            assert_eq!(
                ULAW_TO_ALAW[byte as usize],
                linear_to_alaw(ULAW_TO_LINEAR[byte as usize])
            );
            assert_eq!(
                ALAW_TO_ULAW[byte as usize],
                linear_to_ulaw(ALAW_TO_LINEAR[byte as usize])
            );
        }
    }
}
