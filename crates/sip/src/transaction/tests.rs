//! The four machines driven through the layer on a simulated clock.

use std::time::{Duration, Instant};

use super::*;
use crate::message::{Message, parse, response_to};

const UDP: Peer = Peer {
    transport: Transport::Udp,
    addr: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::new(10, 0, 0, 9),
        5060,
    )),
};
const TCP: Peer = Peer {
    transport: Transport::Tcp,
    ..UDP
};

fn request(method: &str, branch: &str) -> rsip::Request {
    let text = format!(
        "{method} sip:100@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch={branch}\r\n\
         From: <sip:200@pbx>;tag=f\r\nTo: <sip:100@pbx>\r\nCall-ID: call-1\r\n\
         CSeq: 7 {method}\r\nContent-Length: 0\r\n\r\n"
    );
    match parse(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn drain(layer: &mut TransactionLayer) -> Vec<String> {
    std::iter::from_fn(|| layer.poll_transmit())
        .map(|t| first_line(&t.bytes))
        .collect()
}

/// Runs the clock from `t0` to `until`, jumping deadline to deadline, and records when
/// each transmit left, in milliseconds since `t0`.
fn run_until(layer: &mut TransactionLayer, t0: Instant, until: Duration) -> Vec<(u128, String)> {
    let mut sent = Vec::new();
    while let Some(at) = layer.poll_timeout() {
        if at > t0 + until {
            break;
        }
        layer.handle_timeout(at);
        for line in drain(layer) {
            sent.push(((at - t0).as_millis(), line));
        }
    }
    sent
}

fn server_id(layer: &mut TransactionLayer) -> ServerId {
    match layer.poll_event() {
        Some(TransactionEvent::Request { id, .. }) => id,
        other => panic!("expected a request event, got {other:?}"),
    }
}

#[test]
fn non_invite_client_retransmits_with_backoff_then_times_out() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let id = layer
        .send_request(t0, request("OPTIONS", "z9hG4bKc1"), UDP)
        .unwrap();
    assert_eq!(drain(&mut layer), vec!["OPTIONS sip:100@pbx SIP/2.0"]);
    let times: Vec<u128> = run_until(&mut layer, t0, Duration::from_secs(40))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    // Timer E: 500 ms doubling to T2 = 4 s; Timer F ends it at 64·T1 = 32 s.
    assert_eq!(
        times,
        vec![
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    assert!(
        matches!(layer.poll_event(), Some(TransactionEvent::ClientTimeout { id: got }) if got == id)
    );
    assert_eq!(layer.client_count(), 0);
}

#[test]
fn non_invite_client_over_tcp_never_retransmits() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    layer
        .send_request(t0, request("OPTIONS", "z9hG4bKc2"), TCP)
        .unwrap();
    drain(&mut layer);
    assert!(run_until(&mut layer, t0, Duration::from_secs(40)).is_empty());
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::ClientTimeout { .. })
    ));
}

#[test]
fn non_invite_client_delivers_final_once_and_absorbs_repeats() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let req = request("OPTIONS", "z9hG4bKc3");
    layer.send_request(t0, req.clone(), UDP).unwrap();
    let ok = response_to(&req, 200, "OK", "t");
    layer.handle_response(t0, ok.clone());
    layer.handle_response(t0, ok);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Response { .. })
    ));
    assert!(layer.poll_event().is_none());
    // Timer K (T4) then frees it.
    layer.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(layer.client_count(), 0);
}

#[test]
fn non_invite_server_absorbs_retransmissions_until_timer_j() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let req = request("REGISTER", "z9hG4bKs1");
    layer.handle_request(t0, req.clone(), UDP);
    let id = server_id(&mut layer);
    // A retransmission before we answer is silent.
    layer.handle_request(t0, req.clone(), UDP);
    assert!(layer.poll_event().is_none());
    assert!(drain(&mut layer).is_empty());
    layer.respond(t0, id, &response_to(&req, 200, "OK", "t"));
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 200 OK"]);
    // Afterwards each retransmission gets the same answer, and no new event.
    layer.handle_request(t0 + Duration::from_secs(1), req.clone(), UDP);
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 200 OK"]);
    assert!(layer.poll_event().is_none());
    layer.handle_timeout(t0 + Duration::from_secs(32));
    assert_eq!(layer.server_count(), 0);
    // Past Timer J the same branch is a new transaction.
    layer.handle_request(t0 + Duration::from_secs(33), req, UDP);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Request { .. })
    ));
}

#[test]
fn invite_server_retransmits_failure_until_ack() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let invite = request("INVITE", "z9hG4bKs2");
    layer.handle_request(t0, invite.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond(t0, id, &response_to(&invite, 486, "Busy Here", "t"));
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 486 Busy Here"]);
    let sent = run_until(&mut layer, t0, Duration::from_millis(3600));
    let times: Vec<u128> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![500, 1500, 3500], "Timer G doubles from T1");
    let mut ack = request("ACK", "z9hG4bKs2");
    ack.uri = invite.uri.clone();
    layer.handle_request(t0 + Duration::from_millis(3600), ack, UDP);
    assert!(
        layer.poll_event().is_none(),
        "the ACK is absorbed by the transaction"
    );
    assert!(run_until(&mut layer, t0, Duration::from_secs(60)).is_empty());
    assert_eq!(layer.server_count(), 0, "Timer I ended it");
}

#[test]
fn invite_server_without_ack_times_out_on_timer_h() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let invite = request("INVITE", "z9hG4bKs3");
    layer.handle_request(t0, invite.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond(
        t0,
        id,
        &response_to(&invite, 480, "Temporarily Unavailable", "t"),
    );
    let sent = run_until(&mut layer, t0, Duration::from_secs(40));
    assert_eq!(sent.last().map(|(t, _)| *t), Some(31500));
    assert!(
        matches!(layer.poll_event(), Some(TransactionEvent::ServerTimeout { id: got }) if got == id)
    );
}

#[test]
fn invite_server_accepted_absorbs_invite_retransmits() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let invite = request("INVITE", "z9hG4bKs4");
    layer.handle_request(t0, invite.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond(t0, id, &response_to(&invite, 100, "Trying", "t"));
    layer.respond(t0, id, &response_to(&invite, 200, "OK", "t"));
    assert_eq!(
        drain(&mut layer),
        vec!["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]
    );
    layer.handle_request(t0, invite, UDP);
    assert!(layer.poll_event().is_none());
    assert!(
        drain(&mut layer).is_empty(),
        "2xx retransmission is the user's job"
    );
    layer.handle_timeout(t0 + Duration::from_secs(32));
    assert_eq!(layer.server_count(), 0, "Timer L ended it");
}

#[test]
fn invite_client_acks_failures_and_repeats_the_ack() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let invite = request("INVITE", "z9hG4bKc4");
    layer.send_request(t0, invite.clone(), UDP).unwrap();
    drain(&mut layer);
    let times: Vec<u128> = run_until(&mut layer, t0, Duration::from_millis(3600))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(times, vec![500, 1500, 3500], "Timer A doubles");
    let busy = response_to(&invite, 486, "Busy Here", "callee");
    layer.handle_response(t0 + Duration::from_secs(4), busy.clone());
    let sent = drain(&mut layer);
    assert_eq!(sent, vec!["ACK sip:100@pbx SIP/2.0"]);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Response { .. })
    ));
    layer.handle_response(t0 + Duration::from_secs(5), busy);
    assert_eq!(drain(&mut layer), vec!["ACK sip:100@pbx SIP/2.0"]);
    assert!(layer.poll_event().is_none());
    layer.handle_timeout(t0 + Duration::from_secs(4 + 32));
    assert_eq!(layer.client_count(), 0, "Timer D ended it");
}

#[test]
fn invite_client_times_out_on_timer_b() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    layer
        .send_request(t0, request("INVITE", "z9hG4bKc5"), UDP)
        .unwrap();
    drain(&mut layer);
    let sent = run_until(&mut layer, t0, Duration::from_secs(40));
    assert_eq!(
        sent.len(),
        6,
        "A fires at 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s"
    );
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::ClientTimeout { .. })
    ));
}

#[test]
fn rfc2543_requests_match_without_a_magic_cookie() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let req = request("REGISTER", "old-style-1");
    layer.handle_request(t0, req.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond(t0, id, &response_to(&req, 200, "OK", "t"));
    drain(&mut layer);
    layer.handle_request(t0, req, UDP);
    assert!(layer.poll_event().is_none());
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 200 OK"]);
}

#[test]
fn configured_t1_scales_every_timer() {
    let config = TimerConfig {
        t1: Duration::from_millis(100),
        t2: Duration::from_millis(400),
        t4: Duration::from_secs(1),
    };
    let mut layer = TransactionLayer::new(config);
    let t0 = Instant::now();
    layer
        .send_request(t0, request("OPTIONS", "z9hG4bKc6"), UDP)
        .unwrap();
    drain(&mut layer);
    let times: Vec<u128> = run_until(&mut layer, t0, Duration::from_secs(10))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(&times[..4], &[100, 300, 700, 1100]);
    assert!(times.iter().all(|t| *t < 6400), "Timer F at 64·T1");
}

#[test]
fn stateless_answers_keep_no_transaction() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let req = request("REGISTER", "z9hG4bKst");
    layer.handle_request(t0, req.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond_statelessly(id, &response_to(&req, 401, "Unauthorized", "t"));
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 401 Unauthorized"]);
    assert_eq!(layer.server_count(), 0);
    assert_eq!(layer.poll_timeout(), None);
    // A retransmission is simply a new request, answered afresh.
    layer.handle_request(t0, req, UDP);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Request { .. })
    ));
}

#[test]
fn non_invite_server_repeats_a_provisional_and_over_tcp_ends_with_its_final() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    let req = request("MESSAGE", "z9hG4bKs9");
    layer.handle_request(t0, req.clone(), UDP);
    let id = server_id(&mut layer);
    layer.respond(t0, id, &response_to(&req, 100, "Trying", "t"));
    drain(&mut layer);
    layer.handle_request(t0, req.clone(), UDP);
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 100 Trying"]);
    layer.respond(t0, id, &response_to(&req, 200, "OK", "t"));
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 200 OK"]);
    assert_eq!(layer.server_count(), 1, "lingers for Timer J over UDP");
    assert_eq!(layer.poll_timeout(), Some(t0 + Duration::from_secs(32)));

    // A reliable transport repeats nothing: the same request again is a new one.
    let over_tcp = request("MESSAGE", "z9hG4bKt9");
    layer.handle_request(t0, over_tcp.clone(), TCP);
    let id = server_id(&mut layer);
    layer.respond(t0, id, &response_to(&over_tcp, 200, "OK", "t"));
    assert_eq!(drain(&mut layer), vec!["SIP/2.0 200 OK"]);
    assert_eq!(layer.server_count(), 1, "only the UDP one is left");
    layer.handle_request(t0, over_tcp, TCP);
    assert!(matches!(
        layer.poll_event(),
        Some(TransactionEvent::Request { .. })
    ));
}
