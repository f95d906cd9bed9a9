//! Audio that anyone with a login can upload (an extension's voicemail greeting, an
//! admin's prompt) is decoded by the server, so a file made to blow up in decoding is
//! the cheapest way to take the office down. A FLAC of 3 KB that claims half an hour
//! of audio is refused with the reason, the server carries on, and a real recording
//! is still taken.

use switchboard_e2e::*;
use switchboard_media::test_support::flac_of_silence;

fn put(server: &Server, path: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let (status, _, answer) = server.request_with_head("PUT", path, headers, body);
    (status, String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn a_greeting_or_prompt_claiming_half_an_hour_is_refused_and_the_server_carries_on() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let bomb = flac_of_silence(30 * 60);
    assert!(bomb.len() < 4096);

    // An extension's own greeting, with its own password.
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("100:{}", password("100")));
    let phone = format!("Authorization: Basic {basic}\r\n");
    let (status, answer) = put(&server, "/voicemail/100/greeting", &phone, &bomb);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("longer than 10 minutes"), "{answer}");
    let (status, answer) = put(
        &server,
        "/voicemail/100/greeting",
        &phone,
        &flac_of_silence(5),
    );
    assert_eq!(status, 204, "a real greeting is taken: {answer}");

    // An admin's prompt.
    let admin = format!("Authorization: Bearer {}\r\n", server.admin_token());
    let (status, answer) = put(&server, "/api/prompts/acme_menu", &admin, &bomb);
    assert_eq!(status, 422, "{answer}");
    assert!(answer.contains("longer than 10 minutes"), "{answer}");
    assert_eq!(server.health()["status"], "ok");
}
