//! Cutting a TCP byte stream into SIP messages (RFC 3261 §18.3) and keep-alives
//! (RFC 5626 §3.5.1: a client's double CRLF "ping" is answered by a single CRLF "pong").

use crate::message::MAX_MESSAGE_BYTES;

/// The largest head a stream may send before its empty line.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// What the framer found next in the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One whole message, head and body, ready for [`crate::message::parse`].
    Message(Vec<u8>),
    /// A CRLFCRLF keep-alive ping; the caller answers CRLF.
    Ping,
}

/// Why a stream must be closed: framing is lost and cannot be recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("message head exceeds {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("Content-Length missing or malformed on a stream")]
    BadContentLength,
    #[error("message exceeds {MAX_MESSAGE_BYTES} bytes")]
    MessageTooLarge,
}

/// Accumulates stream bytes and yields frames as they complete.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buffer: Vec<u8>,
}

impl StreamFramer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held of a message not yet whole.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        let leading = self
            .buffer
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        if leading > 0 {
            let ping = self.buffer[..leading].windows(4).any(|w| w == b"\r\n\r\n");
            if ping || leading == self.buffer.len() && leading >= 4 {
                self.buffer.drain(..leading);
                return Ok(Some(Frame::Ping));
            }
            if leading < self.buffer.len() {
                // Stray line ends between messages are allowed and ignored (§7.5).
                self.buffer.drain(..leading);
            } else {
                return Ok(None);
            }
        }
        let Some(head_end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            return if self.buffer.len() > MAX_HEAD_BYTES {
                Err(FramingError::HeadTooLarge)
            } else {
                Ok(None)
            };
        };
        let body_len = content_length(&self.buffer[..head_end])?;
        let total = head_end + 4 + body_len;
        if total > MAX_MESSAGE_BYTES {
            return Err(FramingError::MessageTooLarge);
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        let rest = self.buffer.split_off(total);
        Ok(Some(Frame::Message(std::mem::replace(
            &mut self.buffer,
            rest,
        ))))
    }
}

/// On a stream Content-Length is mandatory (§18.3), in long or compact form.
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let head = std::str::from_utf8(head).map_err(|_| FramingError::BadContentLength)?;
    head.split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim();
            (name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l"))
                .then(|| value.trim().parse::<usize>().ok())
        })
        .flatten()
        .ok_or(FramingError::BadContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:s SIP/2.0\r\nl: 5\r\n\r\nhello";

    #[test]
    fn messages_split_across_reads_and_joined_in_one() {
        let mut f = StreamFramer::default();
        f.push(&MSG[..10]);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(&MSG[10..]);
        f.push(MSG);
        assert_eq!(f.next_frame(), Ok(Some(Frame::Message(MSG.to_vec()))));
        assert_eq!(f.next_frame(), Ok(Some(Frame::Message(MSG.to_vec()))));
        assert_eq!(f.next_frame(), Ok(None));
    }

    #[test]
    fn double_crlf_is_a_ping_and_single_crlf_is_skipped() {
        let mut f = StreamFramer::default();
        f.push(b"\r\n\r\n");
        assert_eq!(f.next_frame(), Ok(Some(Frame::Ping)));
        f.push(b"\r\n");
        assert_eq!(f.next_frame(), Ok(None));
        f.push(MSG);
        assert_eq!(f.next_frame(), Ok(Some(Frame::Message(MSG.to_vec()))));
    }

    #[test]
    fn missing_content_length_or_oversize_closes_the_stream() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:s SIP/2.0\r\nVia: x\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FramingError::BadContentLength));
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:s SIP/2.0\r\nContent-Length: 999999\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FramingError::MessageTooLarge));
        let mut f = StreamFramer::default();
        f.push(&vec![b'a'; MAX_HEAD_BYTES + 1]);
        assert_eq!(f.next_frame(), Err(FramingError::HeadTooLarge));
    }
}
