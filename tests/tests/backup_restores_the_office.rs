//! A backup taken while a call is up, restored into a fresh folder, is the same office:
//! the same extensions, the call log (the call that was up when the backup was taken is
//! there as interrupted, since it never ended in that copy), the voicemail message with
//! its audio byte for byte, and the uploaded prompt. A folder in use is refused.

use std::path::Path;
use std::time::Duration;

use switchboard_e2e::audio;
use switchboard_e2e::baresip::{self, Baresip, PhoneSetup};
use switchboard_e2e::*;

/// 100 (baresip) leaves 101 a message by dialling *101.
fn leave_a_message(server: &Server, dir: &Path) {
    let (_, microphone) = baresip::message_after_greeting(dir, 4);
    let mut phone = Baresip::start(server.sip, PhoneSetup::pcmu("100", &microphone, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    baresip::leave_message(&mut phone, server.sip, "101");
}

fn upload_prompt(server: &Server, token: &str, dir: &Path) -> Vec<u8> {
    let wav = dir.join("menu.wav");
    audio::speech("en", 3, &wav);
    let bytes = std::fs::read(&wav).expect("wav");
    let headers =
        format!("Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n");
    let (status, _, _) =
        server.request_with_head("PUT", "/api/prompts/acme_menu", &headers, &bytes);
    assert_eq!(status, 204);
    bytes
}

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    found
}

#[test]
fn a_backup_taken_during_a_call_restores_the_same_office() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    let token = server.admin_token();
    let prompt = upload_prompt(&server, &token, dir.path());
    leave_a_message(&server, dir.path());

    // 102 calls 101 for a long while; the backup is taken in the middle of it.
    let port = free_port();
    let registration = format!("101;{};300", password("101"));
    sipp_at(port, &server, "register_auth.xml", &[registration], &[]).expect(1, 0);
    let backup = dir.path().join("office.tar.gz");
    std::thread::scope(|s| {
        let server = &server;
        let phone = s.spawn(move || {
            let rows = vec![format!("101;{}", password("101"))];
            let media = free_port().to_string();
            sipp_at(port, server, "callee_answers.xml", &rows, &["-mp", &media])
        });
        let caller = s.spawn(move || {
            let rows = vec![format!("102;{};101", password("102"))];
            let media = free_port().to_string();
            sipp(
                server,
                "caller_talks.xml",
                &rows,
                &["-mp", &media, "-d", "6000"],
            )
        });
        server.wait_metric("active_calls", Duration::from_secs(10), |c| c == 1);
        let taken = server_command(
            server.data_dir(),
            &["backup", backup.to_str().expect("utf-8")],
        );
        assert!(taken.status.success(), "{taken:?}");
        assert_eq!(server.metric("active_calls"), 1, "the call went on");
        caller.join().expect("caller").expect(1, 0);
        phone.join().expect("phone").expect(1, 0);
    });
    let records_at_backup: Vec<String> = server
        .call_records()
        .iter()
        .filter(|r| r.callee != "101" || r.caller != "102")
        .map(|r| r.call_id.clone())
        .collect();
    let prompt_at = |server: &Server, token: &str| {
        let headers = format!("Authorization: Bearer {token}\r\n");
        let (status, _, bytes) =
            server.request_with_head("GET", "/api/prompts/acme_menu", &headers, b"");
        assert_eq!(status, 200);
        bytes
    };
    let original_prompt = prompt_at(&server, &token);
    assert!(server.stop().success());

    let restored_dir = dir.path().join("restored");
    let restored = server_command(&restored_dir, &["restore", backup.to_str().expect("utf-8")]);
    assert!(restored.status.success(), "{restored:?}");
    let told = String::from_utf8_lossy(&restored.stdout);
    assert!(
        told.contains("4 extensions, 1 call in the log, 1 voicemail message,"),
        "{told}"
    );
    let again = server_command(&restored_dir, &["restore", backup.to_str().expect("utf-8")]);
    assert!(!again.status.success(), "a folder in use is refused");

    let store = |dir: &Path| {
        switchboard_store::Store::open(&dir.join("switchboard.db")).expect("open the database")
    };
    let (original, copy) = (store(server.data_dir()), store(&restored_dir));
    assert_eq!(copy.extensions().unwrap(), original.extensions().unwrap());
    assert_eq!(
        copy.voicemail_messages().unwrap(),
        original.voicemail_messages().unwrap()
    );
    drop((original, copy));
    let restarted = Server::launch(&restored_dir);
    let records = restarted.call_records();
    let ids: Vec<String> = records
        .iter()
        .filter(|r| r.callee != "101" || r.caller != "102")
        .map(|r| r.call_id.clone())
        .collect();
    assert_eq!(ids, records_at_backup, "the log as it was");
    let cut = records
        .iter()
        .find(|r| r.caller == "102" && r.callee == "101")
        .unwrap_or_else(|| panic!("the call that was up: {records:#?}"));
    assert_eq!(cut.outcome.as_str(), "interrupted", "{cut:#?}");

    let voicemail = |d: &Path| files_under(&d.join("voicemail"));
    let strip = |files: Vec<(String, Vec<u8>)>, root: &Path| -> Vec<(String, Vec<u8>)> {
        files
            .into_iter()
            .map(|(p, b)| (p.replacen(&root.display().to_string(), "", 1), b))
            .collect()
    };
    assert_eq!(
        strip(voicemail(&restored_dir), &restored_dir),
        strip(voicemail(server.data_dir()), server.data_dir())
    );
    assert!(original_prompt.len() > prompt.len() / 4, "a real prompt");
    assert_eq!(
        prompt_at(&restarted, &restarted.admin_token()),
        original_prompt,
        "the prompt came back"
    );
}
