//! Files for tests of what Switchboard does with audio it is given, here and in the
//! end-to-end tests (feature `test-support`).

/// A FLAC of `seconds` of silence at 8 kHz: 65,535-sample blocks of one constant
/// each, 14 bytes a block, so a few kilobytes claim half an hour.
pub fn flac_of_silence(seconds: u64) -> Vec<u8> {
    fn crc8(bytes: &[u8]) -> u8 {
        bytes.iter().fold(0u8, |crc, &b| {
            (0..8).fold(crc ^ b, |c, _| {
                if c & 0x80 != 0 {
                    (c << 1) ^ 0x07
                } else {
                    c << 1
                }
            })
        })
    }
    fn crc16(bytes: &[u8]) -> u16 {
        bytes.iter().fold(0u16, |crc, &b| {
            (0..8).fold(crc ^ (u16::from(b) << 8), |c, _| {
                if c & 0x8000 != 0 {
                    (c << 1) ^ 0x8005
                } else {
                    c << 1
                }
            })
        })
    }
    const BLOCK: u64 = 65_535;
    let total = seconds * 8000;
    let mut out = b"fLaC".to_vec();
    // STREAMINFO, the last metadata block: block sizes, frame sizes unknown, 8 kHz
    // mono 16-bit, the sample count, no MD5.
    out.extend([0x80, 0, 0, 34]);
    out.extend((BLOCK as u16).to_be_bytes());
    out.extend((BLOCK as u16).to_be_bytes());
    out.extend([0; 6]);
    let packed: u64 = (8000 << 44) | (15 << 36) | total;
    out.extend(packed.to_be_bytes());
    out.extend([0; 16]);
    for n in 0..total.div_ceil(BLOCK) {
        let block = BLOCK.min(total - n * BLOCK);
        let mut frame = vec![0xFF, 0xF8, 0x74, 0x08];
        // The frame number, UTF-8 coded.
        if n < 0x80 {
            frame.push(n as u8);
        } else {
            frame.extend([0xC0 | (n >> 6) as u8, 0x80 | (n & 0x3F) as u8]);
        }
        frame.extend((block as u16 - 1).to_be_bytes());
        frame.push(crc8(&frame));
        frame.extend([0x00, 0x00, 0x00]);
        frame.extend(crc16(&frame).to_be_bytes());
        out.extend(frame);
    }
    out
}
