//! Phones keep their NAT mapping and check the PBX with OPTIONS (UDP) or a double-CRLF
//! ping (TCP, RFC 5626); both are answered without authentication.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn options_gets_200_with_allow_over_udp_and_tcp() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    for transport in ["u1", "t1"] {
        let run = sipp(
            &server,
            "options.xml",
            &["100".to_string()],
            &["-t", transport],
        );
        run.expect(1, 0);
        assert!(run.log.contains("allow REGISTER"), "{}", run.log);
    }
}

#[test]
fn tcp_double_crlf_ping_gets_crlf_pong_and_the_connection_stays_usable() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let mut conn = TcpStream::connect(server.sip).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"\r\n\r\n").unwrap();
    let mut pong = [0u8; 2];
    conn.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"\r\n");
    let options = "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKping\r\n\
                   From: <sip:100@pbx>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    conn.write_all(options.as_bytes()).unwrap();
    let mut buf = [0u8; 1024];
    let n = conn.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200 OK\r\n"));
}
