//! Reports against an independent reference: four days of generated calls (across the
//! night Warsaw moves its clocks forward) in the call log of an office in Warsaw; every
//! report the API gives, by day, hour, queue, agent, trunk, outcome, direction and
//! caller, and for one queue, matches the same figures computed call by call from the SQLite rows by
//! a Python script (tests/reference/report.py) that shares no code with Switchboard.
//! The CSV export for a Polish spreadsheet carries the same figures.

use std::path::Path;
use std::process::Command;

use switchboard_e2e::*;

/// 2026-03-27 00:00 UTC; Warsaw's clocks go forward at 01:00 UTC on the 29th.
const FROM: i64 = 1_774_569_600_000;
const TO: i64 = FROM + 4 * 86_400_000;

/// What a reference script under tests/reference prints for `args` (and `env`).
fn run_reference(script: &str, args: &[String], env: Option<(&str, String)>) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference")
        .join(script);
    let out = Command::new("python3")
        .envs(env)
        .arg(script)
        .args(args)
        .output()
        .expect("run the reference");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reference's JSON")
}

fn reference(
    db: &Path,
    by: &str,
    queue: Option<&str>,
    repeat_hours: Option<u32>,
) -> serde_json::Value {
    let mut args: Vec<String> = [
        &db.display().to_string(),
        &FROM.to_string(),
        &TO.to_string(),
        by,
        "5000",
        "20000",
        "Europe/Warsaw",
    ]
    .map(str::to_string)
    .to_vec();
    args.extend(queue.map(str::to_string));
    let repeat = repeat_hours.map(|h| ("REPEAT_MS", (u64::from(h) * 3_600_000).to_string()));
    run_reference("report.py", &args, repeat)
}

/// An export the admin downloads: its head and bytes.
#[track_caller]
fn download(server: &Server, token: &str, path: &str) -> (String, Vec<u8>) {
    let auth = format!("Authorization: Bearer {token}\r\n");
    let (status, head, body) = server.request_with_head("GET", path, &auth, b"");
    assert_eq!(status, 200, "{path}: {head}");
    (head, body)
}

/// A CSV file for a Polish or Russian spreadsheet, read as one: its byte order mark,
/// then `;` between cells. The header and the rows.
#[track_caller]
fn semicolon_csv(bytes: Vec<u8>) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let text = String::from_utf8(bytes).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte order mark for Excel");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let header = reader.headers().expect("a header").clone();
    let rows = reader.records().map(|r| r.expect("a row")).collect();
    (header, rows)
}

#[track_caller]
fn same_row(what: &str, api: &serde_json::Value, reference: &serde_json::Value) {
    assert_eq!(api["group"], reference["group"], "{what}");
    for count in ["offered", "answered", "lost", "short_abandons"] {
        assert_eq!(
            api[count], reference[count],
            "{what} {count}: {api} {reference}"
        );
    }
    for figure in [
        "answer_ratio",
        "service_level",
        "average_wait",
        "longest_wait",
        "average_abandon",
        "talk_minutes",
        "average_talk",
        "first_call_resolution",
    ] {
        match (api[figure].as_f64(), reference[figure].as_f64()) {
            // Percentages are shown to a tenth; the rest to the millisecond.
            (Some(a), Some(r)) => assert!((a - r).abs() <= 0.051, "{what} {figure}: {a} {r}"),
            (a, r) => assert_eq!(a, r, "{what} {figure}"),
        }
    }
}

#[test]
fn every_report_matches_the_figures_computed_call_by_call() {
    let office = config("", FAST_REGISTRAR) + "[numbers]\ntime_zone = \"Europe/Warsaw\"\n";
    let server = Server::start(&office);
    let db = server.data_dir().join("switchboard.db");
    let generated = switchboard_store::generated::call_log(5000, FROM, TO, 0x5eed_2026);
    let calls: Vec<_> = generated.into_iter().map(|c| (c, None)).collect();
    switchboard_store::Store::open(&db)
        .expect("the office's database")
        .write_calls(&[], &calls, &Default::default())
        .expect("write the generated call log");
    let token = server.admin_token();
    let asked = |query: &str| {
        let path = format!("/api/reports?from={FROM}&to={TO}&{query}");
        let (status, report) = server.api(Some(&token), "GET", &path, None);
        assert_eq!(status, 200, "{path}: {report}");
        report
    };
    for (by, queue, repeat_hours) in [
        ("day", None, None),
        ("hour", None, None),
        ("queue", None, None),
        ("agent", None, None),
        ("trunk", None, None),
        ("outcome", None, None),
        ("direction", None, None),
        ("caller", None, None),
        ("day", Some("600"), None),
        // First-call resolution: within a day, and within two hours for one queue.
        ("day", None, Some(24)),
        ("agent", None, Some(24)),
        ("queue", Some("601"), Some(2)),
    ] {
        let query = format!(
            "by={by}{}{}",
            queue.map(|q| format!("&queue={q}")).unwrap_or_default(),
            repeat_hours
                .map(|h| format!("&repeat_hours={h}"))
                .unwrap_or_default()
        );
        let api = asked(&query);
        let expected = reference(&db, by, queue, repeat_hours);
        if repeat_hours.is_some() {
            assert!(
                api["total"]["first_call_resolution"].as_f64().is_some(),
                "{query}: reckoned"
            );
        }
        let (rows, wanted) = (
            api["rows"].as_array().unwrap(),
            expected["rows"].as_array().unwrap(),
        );
        assert_eq!(rows.len(), wanted.len(), "{query}: {api}\n{expected}");
        for (a, r) in rows.iter().zip(wanted) {
            same_row(&query, a, r);
        }
        same_row(&query, &api["total"], &expected["total"]);
    }
    // The night the clocks go forward has no 02:00 in Warsaw.
    let hours = asked("by=hour");
    let groups: Vec<&str> = hours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["group"].as_str())
        .collect();
    assert!(groups.contains(&"2026-03-29 01:00") && groups.contains(&"2026-03-29 03:00"));
    assert!(!groups.contains(&"2026-03-29 02:00"), "{groups:?}");

    // The same report for a Polish spreadsheet.
    let path = format!("/api/reports/export?from={FROM}&to={TO}&by=queue&locale=pl");
    let (header, rows) = semicolon_csv(download(&server, &token, &path).1);
    assert_eq!(&header[0], "queue");
    let last = rows.last().expect("rows");
    assert_eq!(&last[0], "total");
    let by_queue = asked("by=queue");
    assert_eq!(last[1], by_queue["total"]["offered"].to_string());
    let ratio = by_queue["total"]["answer_ratio"].as_f64().unwrap();
    assert_eq!(
        &last[5],
        format!("{ratio:.1}").replace('.', ","),
        "a decimal comma"
    );

    // The same report as an Excel workbook, read by openpyxl: numbers are numbers.
    let path =
        format!("/api/reports/export?from={FROM}&to={TO}&by=queue&repeat_hours=24&format=xlsx");
    let (head, xlsx) = download(&server, &token, &path);
    assert!(head.contains("spreadsheetml.sheet"), "{head}");
    let file = server.data_dir().join("report.xlsx");
    std::fs::write(&file, xlsx).expect("write the workbook");
    let rows = run_reference("xlsx_rows.py", &[file.display().to_string()], None);
    let rows = rows.as_array().expect("rows");
    let api = asked("by=queue&repeat_hours=24");
    assert_eq!(
        rows.len(),
        api["rows"].as_array().unwrap().len() + 2,
        "{rows:?}"
    );
    assert_eq!(rows[0][0], "queue");
    assert_eq!(rows[0][12], "first-call resolution (%)");
    let total = rows.last().unwrap();
    assert_eq!(total[0], "total");
    assert_eq!(total[1], api["total"]["offered"], "a count: {total:?}");
    for (column, figure) in [
        (5, "answer_ratio"),
        (10, "talk_minutes"),
        (12, "first_call_resolution"),
    ] {
        let cell = total[column]
            .as_f64()
            .unwrap_or_else(|| panic!("{figure} is a number: {total:?}"));
        let wanted = api["total"][figure].as_f64().unwrap();
        assert!((cell - wanted).abs() <= 0.051, "{figure}: {cell} {wanted}");
    }
}

#[test]
fn a_wrong_period_is_refused_naming_the_field() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let token = server.admin_token();
    for (query, field) in [
        (format!("from={TO}&to={FROM}"), "to"),
        (format!("from=0&to={TO}"), "to"),
        // Found by the API's generated requests: the span overflowed.
        (format!("from={}&to={}", i64::MIN, i64::MAX), "to"),
        (format!("from={FROM}&to={TO}&target=0"), "target"),
        (format!("from={FROM}&to={TO}&by=week"), "by"),
    ] {
        let (status, error) =
            server.api(Some(&token), "GET", &format!("/api/reports?{query}"), None);
        assert_eq!(status, 422, "{query}: {error}");
        assert_eq!(error["field"], field, "{query}: {error}");
    }
}

fn agents_reference(db: &Path, queue: Option<&str>) -> serde_json::Value {
    let mut args = vec![
        db.display().to_string(),
        FROM.to_string(),
        TO.to_string(),
        i64::MAX.to_string(),
    ];
    args.extend(queue.map(str::to_string));
    run_reference("agents.py", &args, None)
}

/// The agents' report over four days of a generated queue log (offers, calls, breaks
/// and logins of three agents in three queues, one of them VIP) matches the figures a
/// Python script (tests/reference/agents.py) computes event by event from the SQLite
/// rows; for all queues and for the VIP queue alone; and its CSV export carries them.
#[test]
fn the_agents_report_matches_the_figures_computed_event_by_event() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let db = server.data_dir().join("switchboard.db");
    let log = switchboard_store::generated::queue_log(3000, FROM, TO, 0x5eed_0101);
    switchboard_store::Store::open(&db)
        .expect("the office's database")
        .insert_queue_events(&log, &Default::default())
        .expect("write the generated queue log");
    let token = server.admin_token();
    for queue in [None, Some("700")] {
        let path = format!(
            "/api/reports/agents?from={FROM}&to={TO}{}",
            queue.map(|q| format!("&queue={q}")).unwrap_or_default()
        );
        let (status, api) = server.api(Some(&token), "GET", &path, None);
        assert_eq!(status, 200, "{path}: {api}");
        let expected = agents_reference(&db, queue);
        let rows = api["rows"].as_array().unwrap();
        let wanted = expected["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{api}");
        assert_eq!(rows.len(), wanted.len(), "{api}\n{expected}");
        for (a, r) in rows
            .iter()
            .chain([&api["total"]])
            .zip(wanted.iter().chain([&expected["total"]]))
        {
            assert_eq!(a["agent"], r["agent"], "{path}");
            for count in ["offers", "answered", "missed", "declined", "vip_not_taken"] {
                assert_eq!(a[count], r[count], "{path} {count}: {a} {r}");
            }
            for figure in [
                "answer_ratio",
                "average_handle",
                "talk_minutes",
                "break_minutes",
                "logged_in_minutes",
                "occupancy",
            ] {
                match (a[figure].as_f64(), r[figure].as_f64()) {
                    (Some(x), Some(y)) => {
                        assert!((x - y).abs() <= 0.051, "{path} {figure}: {x} {y}")
                    }
                    (x, y) => assert_eq!(x, y, "{path} {figure}"),
                }
            }
        }
        if queue.is_some() {
            assert!(api["total"]["vip_not_taken"].as_u64() > Some(0), "{api}");
        }
    }
    // The same report for a Russian spreadsheet: `;` between cells, decimal commas.
    let path = format!("/api/reports/agents/export?from={FROM}&to={TO}&locale=ru");
    let (header, rows) = semicolon_csv(download(&server, &token, &path).1);
    assert_eq!(&header[0], "agent");
    assert_eq!(rows.len(), 4, "three agents and the team");
    assert_eq!(&rows[3][0], "total");
    let expected = agents_reference(&db, None);
    let talk = expected["total"]["talk_minutes"].as_f64().unwrap();
    let cell: f64 = rows[3][8].replace(',', ".").parse().expect("a number");
    assert!((cell - talk).abs() <= 0.051, "{cell} {talk}");
}
