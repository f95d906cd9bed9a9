//! Garbage, truncated, oversized and unknown input is answered or dropped, counted, and
//! never stops the server from serving the next phone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_millis(400);

fn request(method: &str, extra: &str) -> String {
    format!(
        "{method} sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{method}\r\n\
         From: <sip:100@pbx>;tag=1\r\nTo: <sip:100@pbx>\r\nCall-ID: bad-{method}\r\n\
         CSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

fn still_serving(server: &Server) {
    let run = sipp(server, "options.xml", &["100".to_string()], &[]);
    assert_eq!(
        run.successful, 1,
        "server still answers OPTIONS: {}",
        run.log
    );
}

#[test]
fn garbage_and_truncated_datagrams_are_dropped_and_counted() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let oversized = vec![b'A'; 65_000];
    let junk: [&[u8]; 5] = [
        b"\x00\x01\x02\xff\xfe",
        b"hello world",
        b"REGISTER sip:x SIP/2.0\r\nVia",
        b"SIP/2.0 200 OK\r\nVia: broken\r\n\r\n",
        &oversized,
    ];
    for payload in junk {
        assert!(udp_exchange(&server, payload, WAIT).is_empty());
    }
    assert!(server.metric("dropped_messages") >= 4);
    still_serving(&server);
}

#[test]
fn unknown_method_gets_501_and_broken_headers_get_400_naming_them() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let cases = [
        (request("BREW", ""), "SIP/2.0 501 Not Implemented"),
        (
            request("OPTIONS", "").replace("Call-ID: bad-OPTIONS\r\n", ""),
            "SIP/2.0 400 Missing Call-ID header",
        ),
        (
            request("OPTIONS", "").replace("CSeq: 1 OPTIONS", "CSeq: x OPTIONS"),
            "SIP/2.0 400 Malformed CSeq header",
        ),
        (
            request("OPTIONS", "").replace("Content-Length: 0", "Content-Length: 99"),
            "SIP/2.0 400 Content-Length exceeds the body received",
        ),
        (
            request("OPTIONS", "Require: 100rel\r\n"),
            "SIP/2.0 420 Bad Extension",
        ),
        (request("PUBLISH", ""), "SIP/2.0 405 Method Not Allowed"),
        // RFC 6665 §8.2.1: a SUBSCRIBE without a package Switchboard serves.
        (request("SUBSCRIBE", ""), "SIP/2.0 489 Bad Event"),
        (
            request("OPTIONS", "").replace(" SIP/2.0\r\n", " SIP/3.0\r\n"),
            "SIP/2.0 505 Version Not Supported",
        ),
    ];
    for (text, expected) in cases {
        let replies = udp_exchange(&server, text.as_bytes(), WAIT);
        assert_eq!(replies.len(), 1, "one answer to {text:?}");
        assert!(
            replies[0].starts_with(&format!("{expected}\r\n")),
            "{expected} for {text:?}, got {}",
            replies[0]
        );
    }
    assert!(server.metric("rejected_requests") >= 4);
    still_serving(&server);
}

#[test]
fn abusive_tcp_clients_are_cut_off_without_hurting_others() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    // A head that never ends, past the size limit.
    let mut flood = TcpStream::connect(server.sip).unwrap();
    let chunk = vec![b'x'; 8192];
    let mut closed = false;
    for _ in 0..64 {
        if flood.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    flood
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    closed |= matches!(flood.read(&mut buf), Ok(0) | Err(_));
    assert!(closed, "an oversized head closes the connection");
    // A stream without Content-Length is unframeable: closed too.
    let mut no_length = TcpStream::connect(server.sip).unwrap();
    no_length
        .write_all(
            request("OPTIONS", "")
                .replace("Content-Length: 0\r\n", "")
                .as_bytes(),
        )
        .unwrap();
    no_length
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(matches!(no_length.read(&mut buf), Ok(0) | Err(_)));
    // Idle half-open connections do not block anyone.
    let _slow: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(server.sip).unwrap())
        .collect();
    still_serving(&server);
    assert!(server.metric("dropped_messages") >= 2);
}
