//! A real SMTP server for the e-mail Switchboard sends: Python's aiosmtpd, plain SMTP on
//! loopback, storing what it receives in a Maildir.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// aiosmtpd listening on 127.0.0.1:`port`, keeping what it gets in `maildir`; returned
/// once it takes connections (on a loaded machine Python can take seconds to start,
/// and CI saw a send refused meanwhile).
pub fn smtp_server(port: u16, maildir: &Path) -> Child {
    let installed = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "aiosmtpd is missing: python3 -m pip install aiosmtpd"
    );
    let mut server = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("aiosmtpd did not listen on port {port} within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// The first e-mail the Maildir holds, once there is one.
pub fn first_mail(maildir: &Path, limit: Duration) -> Vec<u8> {
    let deadline = Instant::now() + limit;
    loop {
        let found: Vec<PathBuf> = std::fs::read_dir(maildir.join("new"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if let Some(path) = found.first() {
            return std::fs::read(path).expect("read the e-mail");
        }
        assert!(Instant::now() < deadline, "no e-mail within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The value of an e-mail's header `name` (any case), empty when it has none.
pub fn header(mail: &mailparse::ParsedMail<'_>, name: &str) -> String {
    mail.headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case(name))
        .map(|h| h.get_value())
        .unwrap_or_default()
}
