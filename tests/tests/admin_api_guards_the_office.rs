//! The admin API as a script or a browser meets it: logins (admin, agents, wrong
//! passwords slowing down that account from that address), sessions by bearer token or by cookie with its CSRF token, a
//! password change that logs other admin sessions out, and changes that are checked
//! whole: an extension created over the API registers a real phone (SIPp) with the
//! password Switchboard generated, and a change that would leave the office
//! inconsistent is refused naming the field, changing nothing; an agent's break taken
//! in the panel keeps queue calls from their phone until an admin ends it.

use serde_json::json;
use switchboard_e2e::*;

fn office() -> Server {
    Server::start(&format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\n[[queues.agents]]\nextension = \"101\"\n",
        config("", FAST_REGISTRAR)
    ))
}

fn login(server: &Server, username: &str, password: &str) -> (u16, serde_json::Value) {
    let body = json!({"username": username, "password": password});
    server.api(None, "POST", "/api/session", Some(&body))
}

#[test]
fn logins_are_checked_and_guessing_is_locked_out() {
    let server = office();
    let admin = server.admin_password();
    let (status, answer) = server.api(None, "GET", "/api/extensions", None);
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("unauthorized"))
    );

    // An agent logs in with their extension and SIP password, and sees no admin data.
    let (status, agent) = login(&server, "101", password("101"));
    assert_eq!(
        (status, agent["role"].as_str()),
        (200, Some("agent")),
        "{agent}"
    );
    assert_eq!(agent["extension"], "101");
    let token = agent["token"].as_str().expect("token");
    let (status, _) = server.api(Some(token), "GET", "/api/extensions", None);
    assert_eq!(status, 403);
    let (status, me) = server.api(Some(token), "GET", "/api/session", None);
    assert_eq!((status, me["role"].as_str()), (200, Some("agent")));
    // Their own panel: the queue they answer, what it sees them doing, their box.
    let (status, panel) = server.api(Some(token), "GET", "/api/me", None);
    assert_eq!(status, 200, "{panel}");
    assert_eq!(
        panel["queues"],
        json!([{"number": "600", "name": "Sales", "tier": 0, "waiting": 0}])
    );
    assert_eq!(
        panel["agent"]["activity"], "logged-out",
        "no phone registered: {panel}"
    );
    assert_eq!(panel["voicemail"], json!({"new": 0, "saved": 0}));
    let admin_token = server.admin_login(&admin);
    assert_eq!(
        server.api(Some(&admin_token), "GET", "/api/me", None).0,
        404
    );

    // Five wrong passwords slow that account down from this address, even for the
    // right password; an agent logging in from the same address (an office behind one
    // NAT) is not held back, and the admin gets in once the wait is over.
    for _ in 0..5 {
        assert_eq!(login(&server, "admin", "not-the-password").0, 401);
    }
    let (status, head, answer) = server.request_with_head(
        "POST",
        "/api/session",
        "Content-Type: application/json\r\n",
        json!({"username": "admin", "password": admin})
            .to_string()
            .as_bytes(),
    );
    let answer: serde_json::Value = serde_json::from_slice(&answer).expect("json");
    assert_eq!((status, answer["code"].as_str()), (429, Some("locked-out")));
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    assert_eq!(login(&server, "101", password("101")).0, 200);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(login(&server, "admin", &admin).0, 200);
}

#[test]
fn a_break_from_the_panel_holds_queue_calls_until_an_admin_ends_it() {
    use std::time::{Duration, Instant};
    let server = office();
    let admin = server.admin_token();
    let agent_port = sipp_register(&server, "101");
    let (_, agent) = login(&server, "101", password("101"));
    let agent = agent["token"].as_str().expect("token").to_string();
    let activity = |ext: &str| {
        let board = server.dashboard(&admin);
        let found = board["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["extension"] == ext).cloned());
        (found.unwrap_or_default(), board)
    };
    let wait_for = |ext: &str, want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (agent, board) = activity(ext);
            if agent["activity"] == want {
                return agent;
            }
            assert!(Instant::now() < deadline, "{ext} never {want}: {board}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("101", "idle");

    // Wrong changes are refused, naming what is wrong.
    let status_of = |token: &str, path: &str, body: serde_json::Value| {
        server.api(Some(token), "PUT", path, Some(&body))
    };
    let (code, answer) = status_of(
        &agent,
        "/api/me/status",
        json!({"status": "available", "reason": "x"}),
    );
    assert_eq!(
        (code, answer["field"].as_str()),
        (422, Some("reason")),
        "{answer}"
    );
    let (code, answer) = status_of(&agent, "/api/me/status", json!({"status": "away"}));
    assert_eq!(
        (code, answer["field"].as_str()),
        (422, Some("status")),
        "{answer}"
    );
    let (code, _) = status_of(
        &agent,
        "/api/agents/101/status",
        json!({"status": "on-break"}),
    );
    assert_eq!(code, 403, "an agent changes only their own status");
    let (code, answer) = status_of(
        &admin,
        "/api/agents/102/status",
        json!({"status": "on-break"}),
    );
    assert_eq!(
        (code, answer["code"].as_str()),
        (404, Some("not-found")),
        "{answer}"
    );

    let (code, answer) = status_of(
        &agent,
        "/api/me/status",
        json!({"status": "on-break", "reason": "lunch"}),
    );
    assert_eq!(code, 204, "{answer}");
    assert_eq!(wait_for("101", "on-break")["reason"], "lunch");

    std::thread::scope(|s| {
        let server = &server;
        let phone = s.spawn(move || {
            let media = free_port().to_string();
            let rows = vec![format!("101;{}", password("101"))];
            sipp_at(
                agent_port,
                server,
                "callee_answers.xml",
                &rows,
                &["-mp", &media],
            )
        });
        let caller = s.spawn(move || {
            let media = free_port().to_string();
            let rows = vec![format!("102;{};600", password("102"))];
            sipp(
                server,
                "caller_talks.xml",
                &rows,
                &["-mp", &media, "-d", "4000"],
            )
        });
        // The caller waits; the agent on a break is not offered the call.
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.dashboard(&admin)["queues"][0]["waiting"] != 1 {
            assert!(Instant::now() < deadline, "{}", server.dashboard(&admin));
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(3));
        let (agent, board) = activity("101");
        assert_eq!(agent["activity"], "on-break", "{board}");
        assert_eq!(board["queues"][0]["waiting"], 1, "{board}");
        // The admin ends the break: the waiting caller reaches the agent's phone.
        let (code, _) = status_of(
            &admin,
            "/api/agents/101/status",
            json!({"status": "available"}),
        );
        assert_eq!(code, 204);
        wait_for("101", "on-call");
        caller.join().expect("caller").expect(1, 0);
        phone.join().expect("agent's phone").expect(1, 0);
    });
    let (code, _) = status_of(
        &admin,
        "/api/agents/101/status",
        json!({"status": "logged-out"}),
    );
    assert_eq!(code, 204);
    wait_for("101", "logged-out");
}

#[test]
fn cookie_sessions_need_the_csrf_token_and_a_new_password_ends_other_sessions() {
    let server = office();
    let admin = server.admin_password();
    let body = json!({"username": "admin", "password": admin}).to_string();
    let (status, head, answer) = server.request_with_head(
        "POST",
        "/api/session",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    );
    assert_eq!(status, 200);
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    assert!(head.to_lowercase().contains("httponly"), "{head}");
    let session: serde_json::Value = serde_json::from_slice(&answer).expect("json");
    let csrf = session["csrf_token"].as_str().expect("csrf token");

    let extension = json!({"number": "150", "name": "Front desk"}).to_string();
    let with_cookie = format!("Cookie: {cookie}\r\nContent-Type: application/json\r\n");
    let (status, _, answer) = server.request_with_head(
        "POST",
        "/api/extensions",
        &with_cookie,
        extension.as_bytes(),
    );
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&answer));
    let with_csrf = format!("{with_cookie}X-CSRF-Token: {csrf}\r\n");
    let (status, _, answer) =
        server.request_with_head("POST", "/api/extensions", &with_csrf, extension.as_bytes());
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    // Reading needs no CSRF token.
    let (status, _, _) = server.request_with_head("GET", "/api/extensions/150", &with_cookie, b"");
    assert_eq!(status, 200);

    // A second admin session, by bearer token, changes the password.
    let other = server.admin_login(&admin);
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        server.api(Some(&other), "PUT", "/api/admin/password", Some(&body))
    };
    let (status, answer) = change("wrong", "a-new-long-admin-password");
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("current_password"))
    );
    let (status, answer) = change(&admin, "short");
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("new_password"))
    );
    assert_eq!(change(&admin, "a-new-long-admin-password").0, 204);
    let (status, _, _) = server.request_with_head("GET", "/api/extensions", &with_cookie, b"");
    assert_eq!(
        status, 401,
        "the cookie session ended with the old password"
    );
    assert_eq!(
        server.api(Some(&other), "GET", "/api/extensions", None).0,
        200
    );
    assert_eq!(login(&server, "admin", &admin).0, 401);
    assert_eq!(login(&server, "admin", "a-new-long-admin-password").0, 200);
}

#[test]
fn an_extension_made_over_the_api_registers_and_bad_changes_change_nothing() {
    let server = office();
    let token = server.admin_token();
    let (status, made) = server.api(
        Some(&token),
        "POST",
        "/api/extensions",
        Some(&json!({"number": "160", "name": "Warehouse"})),
    );
    assert_eq!(status, 201, "{made}");
    let generated = made["password"].as_str().expect("a generated password");
    assert!(generated.len() >= 16, "{generated}");
    let (_, listed) = server.api(Some(&token), "GET", "/api/extensions/160", None);
    assert!(
        listed.get("password").is_none(),
        "never shown again: {listed}"
    );
    let row = format!("160;{generated};300");
    sipp(&server, "register_auth.xml", &[row], &[]).expect(1, 0);
    assert_eq!(server.metric("bindings"), 1);

    // Field problems name the field, relative to the object edited.
    let (status, answer) = server.api(
        Some(&token),
        "POST",
        "/api/queues",
        Some(&json!({"number": "601", "name": "Support", "agents": [{"extension": "999"}]})),
    );
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("agents[0].extension")),
        "{answer}"
    );
    let (status, answer) = server.api(
        Some(&token),
        "POST",
        "/api/extensions",
        Some(&json!({"number": "161", "nmae": "typo"})),
    );
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("nmae")),
        "{answer}"
    );
    // 101 still answers queue 600: deleting it is refused, and nothing changes.
    let (status, answer) = server.api(Some(&token), "DELETE", "/api/extensions/101", None);
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("queues[0].agents[0].extension")),
        "{answer}"
    );
    assert_eq!(
        server
            .api(Some(&token), "GET", "/api/extensions/101", None)
            .0,
        200
    );
    // Oversized bodies are refused before they are read whole.
    let huge = json!({"number": "162", "name": "x".repeat(600 * 1024)});
    let (status, answer) = server.api(Some(&token), "POST", "/api/extensions", Some(&huge));
    assert_eq!(status, 413, "{answer}");
    let (_, all) = server.api(Some(&token), "GET", "/api/extensions", None);
    let numbers: Vec<&str> = all
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["number"].as_str())
        .collect();
    assert_eq!(numbers, ["100", "101", "102", "103", "160"]);
}

#[test]
fn prompts_are_uploaded_checked_played_by_name_and_kept_while_in_use() {
    let server = office();
    let token = server.admin_token();
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("menu.wav");
    switchboard_e2e::audio::speech("en", 3, &wav);
    let audio = std::fs::read(&wav).expect("wav");
    let upload = |name: &str, body: &[u8]| {
        let headers =
            format!("Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n");
        let (status, _, answer) =
            server.request_with_head("PUT", &format!("/api/prompts/{name}"), &headers, body);
        let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        (status, json)
    };
    assert_eq!(upload("acme_menu", &audio).0, 204);
    let (status, answer) = upload("not_audio", b"hello, this is not a sound");
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("audio")),
        "{answer}"
    );
    let (status, answer) = upload("welcome", &audio);
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("name")),
        "{answer}"
    );
    let (status, answer) = upload("..%2Fescape", &audio);
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("name")),
        "{answer}"
    );

    let (_, listed) = server.api(Some(&token), "GET", "/api/prompts", None);
    let own: Vec<&serde_json::Value> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter(|p| p["built_in"] == false)
        .collect();
    assert_eq!(own.len(), 1, "{listed}");
    assert_eq!(own[0]["name"], "acme_menu");
    let ms = own[0]["duration_ms"].as_u64().expect("a length");
    let reader = hound::WavReader::open(&wav).expect("wav");
    let sent = u64::from(reader.duration()) * 1000 / u64::from(reader.spec().sample_rate);
    assert!(ms.abs_diff(sent) <= 50, "{ms} ms listed, {sent} ms sent");
    let headers = format!("Authorization: Bearer {token}\r\n");
    let (status, _, back) =
        server.request_with_head("GET", "/api/prompts/acme_menu", &headers, b"");
    assert_eq!((status, back == audio), (200, true));

    // A published scenario plays it: it stays until that block changes.
    let scenario = json!({"name": "Main", "start": "menu", "blocks": {
        "menu": {"type": "play-audio", "prompt": "acme_menu", "exits": {"next": "bye"}},
        "bye": {"type": "hang-up"}}});
    let (status, draft) = server.api(Some(&token), "PUT", "/api/scenarios/Main", Some(&scenario));
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["problems"], json!([]), "{draft}");
    let (status, published) = server.api(Some(&token), "POST", "/api/scenarios/Main/publish", None);
    assert_eq!(
        (status, published["version"].as_u64()),
        (200, Some(1)),
        "{published}"
    );
    let (status, answer) = server.api(Some(&token), "DELETE", "/api/prompts/acme_menu", None);
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("scenarios[0].blocks.menu.prompt")),
        "{answer}"
    );
    let (status, _) = server.api(Some(&token), "DELETE", "/api/scenarios/Main", None);
    assert_eq!(status, 204);
    let (status, _) = server.api(Some(&token), "DELETE", "/api/prompts/acme_menu", None);
    assert_eq!(status, 204);
    let (status, _) = server.api(Some(&token), "GET", "/api/prompts/acme_menu", None);
    assert_eq!(status, 404);
}

#[test]
fn the_panel_cannot_be_framed_and_other_sites_cannot_open_the_wallboard() {
    let server = office();
    let (status, head, _) = server.request_with_head("GET", "/", "", b"");
    assert_eq!(status, 200);
    let head = head.to_ascii_lowercase();
    for expected in [
        "content-security-policy: default-src 'self'",
        "frame-ancestors 'none'",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
    ] {
        assert!(head.contains(expected), "{expected} missing from {head}");
    }
    // The wallboard's WebSocket with the admin's credentials, asked for by a page of
    // this server and by a page of another site.
    let token = server.admin_token();
    let upgrade = |origin: &str| {
        let headers = format!(
            "Authorization: Bearer {token}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        );
        let mut s = std::net::TcpStream::connect(server.http).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        use std::io::{Read, Write};
        write!(
            s,
            "GET /api/live HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
            server.http
        )
        .expect("write");
        let mut answer = [0u8; 64];
        let n = s.read(&mut answer).expect("read");
        String::from_utf8_lossy(&answer[..n]).into_owned()
    };
    assert!(
        upgrade(&format!("http://{}", server.http)).starts_with("HTTP/1.1 101"),
        "the panel's own page"
    );
    assert!(
        upgrade("http://evil.example").starts_with("HTTP/1.1 403"),
        "another site's page"
    );
}
