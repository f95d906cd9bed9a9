//! A year of a busy office's call log (1,000,000 calls) read back as reports: by day
//! (the sums of 35,000 quarter-hour slots), by queue, and by queue with first-call
//! resolution (each caller's next call read). Run with
//! `cargo bench -p switchboard-store --features test-support --bench reports`.

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_store::{ReportKey, ReportQuery, Store, generated};

const YEAR_MS: i64 = 365 * 86_400_000;
/// 2026-01-01 00:00 UTC.
const FROM: i64 = 1_767_225_600_000;

fn reports(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("switchboard.db")).expect("store");
    for part in 0..10 {
        let calls: Vec<_> = generated::call_log(100_000, FROM, FROM + YEAR_MS, part)
            .into_iter()
            .map(|c| (c, None))
            .collect();
        store
            .write_calls(&[], &calls, &Default::default())
            .expect("write calls");
    }
    let query = |key| ReportQuery {
        from: FROM,
        to: FROM + YEAR_MS,
        key,
        short_abandon_ms: 5_000,
        target_ms: 20_000,
        ..ReportQuery::default()
    };
    let mut group = c.benchmark_group("report over a year of 1,000,000 calls");
    group.sample_size(10);
    group.bench_function("by day", |b| {
        b.iter(|| store.report_sums(&query(None)).expect("sums"))
    });
    group.bench_function("by queue", |b| {
        b.iter(|| {
            store
                .report_sums(&query(Some(ReportKey::Queue)))
                .expect("sums")
        })
    });
    group.bench_function("by queue, first-call resolution within 24 h", |b| {
        b.iter(|| {
            let with_resolution = ReportQuery {
                repeat_window_ms: Some(86_400_000),
                ..query(Some(ReportKey::Queue))
            };
            store.report_sums(&with_resolution).expect("sums")
        })
    });
    group.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
