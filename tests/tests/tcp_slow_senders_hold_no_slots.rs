//! Slowloris against SIP over TCP: a stranger opens many connections and dribbles a
//! byte now and then, hoping to hold every slot. One address gets a limited number of
//! connections, a message must arrive whole within ten seconds of its start (and a new
//! connection's first one within ten seconds of the accept), and a phone registers over
//! TCP all the while.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use switchboard_e2e::*;

/// A connection from `ip` (another loopback "host") to the server's SIP port.
fn connect_from(ip: &str, server: SocketAddr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let local: SocketAddr = format!("{ip}:0").parse().expect("address");
    socket.bind(&local.into()).expect("bind");
    socket.connect(&server.into()).expect("connect");
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    stream
}

/// Whether the server has closed the connection.
fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn one_address_cannot_hold_every_connection() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let mut held: Vec<TcpStream> = (0..100)
        .map(|_| connect_from("127.0.0.6", server.sip))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let open = held.iter_mut().map(closed).filter(|c| !c).count();
    assert_eq!(open, 32, "connections the stranger kept");
    // A phone elsewhere registers over TCP meanwhile.
    sipp(
        &server,
        "register_auth.xml",
        &[format!("100;{};600", password("100"))],
        &["-t", "t1"],
    )
    .expect(1, 0);
}

#[test]
fn a_message_dribbled_byte_by_byte_is_cut_off() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let mut silent = connect_from("127.0.0.7", server.sip);
    let mut dribbling = connect_from("127.0.0.7", server.sip);
    let start = Instant::now();
    let message =
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.7:5060;branch=z9hG4bKslow\r\n";
    let mut sent = 0;
    let (mut silent_closed, mut dribbling_closed) = (None, None);
    while start.elapsed() < Duration::from_secs(20)
        && (silent_closed.is_none() || dribbling_closed.is_none())
    {
        if dribbling_closed.is_none() && sent < message.len() {
            let _ = dribbling.write_all(&message[sent..sent + 1]);
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(450));
        if silent_closed.is_none() && closed(&mut silent) {
            silent_closed = Some(start.elapsed());
        }
        if dribbling_closed.is_none() && closed(&mut dribbling) {
            dribbling_closed = Some(start.elapsed());
        }
    }
    let within = |t: Option<Duration>| t.is_some_and(|t| t < Duration::from_secs(13));
    assert!(
        within(silent_closed),
        "silent connection closed at {silent_closed:?}"
    );
    assert!(
        within(dribbling_closed),
        "dribbling connection closed at {dribbling_closed:?}"
    );
}
