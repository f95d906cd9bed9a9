//! Reports by e-mail: each morning, once the office's day passes `[reports] send_at`,
//! yesterday's report goes to `daily_to`, and on Mondays last week's to `weekly_to`, as
//! a short summary with the report attached as a CSV file in the office's language. A
//! report is made into `reports/` in the data directory and queued in the outbox once
//! (the mailer sends and retries it); a PC that was off at that hour sends it when it
//! starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::{ToSpan, Zoned};
use switchboard_store::{Mail, ReportQuery, Store};
use tokio::sync::{Notify, watch};

use crate::DATABASE_FILE;
use crate::config::Config;
use crate::reports::{Report, report, write_report};
use crate::spreadsheet::Sheet;

/// The folder under the data directory that keeps the reports mailed.
pub const REPORTS_DIR: &str = "reports";
/// How often the task looks whether a report is due.
const LOOK_EVERY: Duration = Duration::from_secs(600);

pub async fn run(data_dir: PathBuf, mailer: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let dir = data_dir.clone();
        let queued = tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&dir.join(DATABASE_FILE)).map_err(|e| e.to_string())?;
            queue_due(&mut store, &dir, &jiff::Timestamp::now())
        })
        .await;
        match queued {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                tracing::info!("{n} report e-mails queued");
                mailer.notify_one();
            }
            Ok(Err(e)) => tracing::error!("reports by e-mail: {e}"),
            Err(e) => tracing::error!("reports by e-mail: {e}"),
        }
        tokio::select! {
            () = tokio::time::sleep(LOOK_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Queues the reports due at `now` not queued before; returns how many e-mails.
fn queue_due(store: &mut Store, data_dir: &Path, now: &jiff::Timestamp) -> Result<usize, String> {
    let config = Config::load(store).map_err(|e| e.to_string())?;
    let settings = &config.reports;
    if settings.daily_to.is_empty() && settings.weekly_to.is_empty() {
        return Ok(0);
    }
    let local = now.to_zoned(config.numbers.zone());
    if local.hour() < i8::try_from(settings.send_at).unwrap_or(7) {
        return Ok(0);
    }
    let today = local.start_of_day().map_err(|e| e.to_string())?;
    let day_before = |days: i64| today.checked_sub(days.days()).map_err(|e| e.to_string());
    let mut due = vec![("daily", day_before(1)?, &settings.daily_to)];
    if today.weekday() == jiff::civil::Weekday::Monday {
        due.push(("weekly", day_before(7)?, &settings.weekly_to));
    }
    let mut queued = 0;
    for (kind, from, recipients) in due {
        if recipients.is_empty() {
            continue;
        }
        let file = format!("{REPORTS_DIR}/{kind}-{}.csv", from.strftime("%Y-%m-%d"));
        if store.mail_attaching(&file).map_err(|e| e.to_string())? {
            continue;
        }
        let made = made(store, &config, (&from, &today))?;
        let mut sheet = Sheet::new(config.calls.language);
        write_report(&mut sheet, settings.by, &made).map_err(|e| e.to_string())?;
        let bytes = sheet.into_bytes().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(data_dir.join(REPORTS_DIR)).map_err(|e| e.to_string())?;
        crate::files::write_whole(&data_dir.join(&file), &bytes).map_err(|e| e.to_string())?;
        let mails: Vec<Mail> = recipients
            .iter()
            .map(|to| mail(to, kind, (&from, &today), &made, &file))
            .collect();
        store
            .queue_mail(&mails, now.as_millisecond())
            .map_err(|e| e.to_string())?;
        queued += mails.len();
    }
    Ok(queued)
}

fn made(store: &Store, config: &Config, (from, to): (&Zoned, &Zoned)) -> Result<Report, String> {
    let query = ReportQuery {
        from: from.timestamp().as_millisecond(),
        to: to.timestamp().as_millisecond(),
        key: config.reports.by.key(),
        short_abandon_ms: 5_000,
        target_ms: 20_000,
        ..ReportQuery::default()
    };
    let sums = store.report_sums(&query).map_err(|e| e.to_string())?;
    Ok(report(&sums, config.reports.by, &config.numbers.zone()))
}

fn mail(to: &str, kind: &str, (from, until): (&Zoned, &Zoned), made: &Report, file: &str) -> Mail {
    let last = until.yesterday().unwrap_or_else(|_| until.clone());
    let period = if kind == "daily" {
        from.strftime("%Y-%m-%d").to_string()
    } else {
        format!(
            "{} to {}",
            from.strftime("%Y-%m-%d"),
            last.strftime("%Y-%m-%d")
        )
    };
    let t = &made.total;
    let service = t
        .service_level
        .map_or("none counted".to_string(), |s| format!("{s:.1} %"));
    Mail {
        recipient: to.to_string(),
        subject: format!("Switchboard {kind} report, {period}"),
        body: format!(
            "Calls {period}: {} offered, {} answered ({:.1} %), {} lost ({} short abandons).\n\
             Service level: {service}. Average wait {:.0} s, longest {:.0} s.\n\
             Talked {:.0} minutes, {:.0} s a call on average.\n\n\
             The report is attached for a spreadsheet; the panel's Reports page has more.\n\n\
             -- Switchboard\n",
            t.offered,
            t.answered,
            t.answer_ratio,
            t.lost,
            t.short_abandons,
            t.average_wait,
            t.longest_wait,
            t.talk_minutes,
            t.average_talk,
        ),
        attachment: Some((file.to_string(), format!("switchboard-{kind}-report.csv"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = "[email]\nserver = \"127.0.0.1:2525\"\nsecurity = \"none\"\n\
        from = \"pbx@office.example\"\n\
        [numbers]\ntime_zone = \"Europe/Warsaw\"\n\
        [reports]\ndaily_to = [\"boss@office.example\"]\nweekly_to = [\"owner@office.example\"]\n";

    fn office() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join(DATABASE_FILE)).unwrap();
        Config::from_toml(OFFICE)
            .unwrap()
            .apply(&mut store)
            .unwrap();
        (dir, store)
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn yesterdays_report_goes_once_after_the_hour_and_last_weeks_on_monday() {
        let (dir, mut store) = office();
        // Monday 2026-12-07 06:59 in Warsaw: not yet.
        assert_eq!(
            queue_due(&mut store, dir.path(), &at("2026-12-07T05:59:00Z")),
            Ok(0)
        );
        // 07:00: the daily and the weekly.
        assert_eq!(
            queue_due(&mut store, dir.path(), &at("2026-12-07T06:00:00Z")),
            Ok(2)
        );
        assert_eq!(
            queue_due(&mut store, dir.path(), &at("2026-12-07T09:00:00Z")),
            Ok(0)
        );
        let due = store.due_mail(i64::MAX, 10).unwrap();
        let subjects: Vec<&str> = due.iter().map(|m| m.mail.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "Switchboard daily report, 2026-12-06",
                "Switchboard weekly report, 2026-11-30 to 2026-12-06"
            ]
        );
        let (file, _) = due[0].mail.attachment.clone().unwrap();
        let csv = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(csv.starts_with("\u{feff}queue,offered"), "{csv}");
        // Tuesday: the daily alone.
        assert_eq!(
            queue_due(&mut store, dir.path(), &at("2026-12-08T08:00:00Z")),
            Ok(1)
        );
    }
}
