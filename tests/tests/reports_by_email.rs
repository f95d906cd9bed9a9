//! Reports by e-mail through a real SMTP server (aiosmtpd): an office that mails
//! yesterday's report to its owner from midnight on (`send_at = 0`), with yesterday's
//! calls in its call log, sends it when it starts; the e-mail tells the day's figures and
//! carries the report as a CSV file Excel opens (its last row the whole day).

use std::time::Duration;

use switchboard_e2e::smtp::{self, first_mail, smtp_server};
use switchboard_e2e::*;

#[test]
fn yesterdays_report_is_mailed_with_the_day_attached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir = dir.path().join("maildir");
    let smtp_port = free_port();
    let mut smtp = smtp_server(smtp_port, &maildir);
    let office = format!(
        "{}[reports]\ndaily_to = [\"owner@office.example\"]\nsend_at = 0\nby = \"day\"\n\
         [numbers]\ntime_zone = \"UTC\"\n",
        office_mailing_voicemail(smtp_port)
    );
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &office).expect("the office's configuration");
    let day = 86_400_000;
    let today = switchboard_core::unix_ms::from(std::time::SystemTime::now()) / day * day;
    let log = switchboard_store::generated::call_log(200, today - day, today, 11);
    let calls: Vec<_> = log.into_iter().map(|c| (c, None)).collect();
    switchboard_store::Store::open(&data_dir.join("switchboard.db"))
        .expect("the office's database")
        .write_calls(&[], &calls, &Default::default())
        .expect("yesterday's calls");
    let _server = Server::launch(&data_dir);

    let raw = first_mail(&maildir, Duration::from_secs(30));
    let _ = smtp.kill();
    let _ = smtp.wait();
    let mail = mailparse::parse_mail(&raw).expect("a MIME e-mail");
    let header = |name: &str| smtp::header(&mail, name);
    assert!(
        header("To").contains("owner@office.example"),
        "{}",
        header("To")
    );
    assert!(
        header("Subject").starts_with("Switchboard daily report, "),
        "{}",
        header("Subject")
    );
    let text = mail.subparts[0].get_body().expect("the summary");
    assert!(
        text.contains("Calls ") && text.contains(": 200 offered"),
        "{text}"
    );
    let csv = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/csv")
        .expect("the report attached")
        .get_body_raw()
        .expect("its bytes");
    let csv = String::from_utf8(csv).expect("UTF-8");
    let csv = csv
        .strip_prefix('\u{feff}')
        .expect("a byte order mark for Excel");
    assert!(csv.starts_with("day,offered,answered"), "{csv}");
    let last = csv.lines().last().unwrap_or_default();
    assert!(last.starts_with("total,200,"), "{csv}");
}
