//! A fresh install works as its first-run table says, with no configuration at all: a
//! phone dialling 500 hears the main menu, types nothing, and waits for reception
//! (queue 600), where agent 100's phone answers. The call record holds the way it took.
//! (SIPp's caller counts its 20 s from Switchboard's answer: the menu takes about 11.)

use switchboard_e2e::*;

#[test]
fn the_first_run_menu_reaches_reception() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::launch(&dir.path().join("fresh"));
    let printed_password = |ext: &str| {
        server
            .stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(ext))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no password for {ext} in:\n{}", server.stdout))
            .to_string()
    };
    let agent = format!("100;{}", printed_password("100"));
    let caller = format!("102;{};500", printed_password("102"));
    let agent_port = free_port();
    sipp_at(
        agent_port,
        &server,
        "register_auth.xml",
        &[format!("{agent};300")],
        &[],
    )
    .expect(1, 0);
    std::thread::scope(|s| {
        let server = &server;
        let phone = s.spawn(move || {
            let media = free_port().to_string();
            sipp_at(
                agent_port,
                server,
                "callee_answers.xml",
                &[agent],
                &["-mp", &media],
            )
        });
        let media = free_port().to_string();
        sipp(
            server,
            "caller_talks.xml",
            &[caller],
            &["-mp", &media, "-d", "20000"],
        )
        .expect(1, 0);
        phone.join().expect("agent's phone").expect(1, 0);
    });
    let records = server.call_records();
    let call = records
        .iter()
        .find(|r| r.callee == "500")
        .unwrap_or_else(|| panic!("no call to 500: {records:#?}"));
    assert_eq!(
        (
            call.answered_by.as_deref(),
            call.queue.as_deref(),
            call.scenario_path.as_deref()
        ),
        (
            Some("100"),
            Some("600"),
            Some("welcome → extension → reception")
        ),
        "{call:#?}"
    );
}
