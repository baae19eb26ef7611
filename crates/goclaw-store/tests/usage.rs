//! Usage read from traces on both engines: top-level runs added up per UTC hour, per UTC day
//! and in total — within the range, of the tenant, optionally of one user or channel, without
//! subagents' child traces — and runs counted per user over the last hour, day and week.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use goclaw_core::{
    MASTER_TENANT_ID, Store, TenantId, Trace, UsageGrouping, UsageQuery, UsageTotals,
};
use goclaw_store::store_test;
use uuid::Uuid;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A finished run of `user` on `channel` started at `start`.
fn run(user: &str, channel: &str, start: DateTime<Utc>, status: &str) -> Trace {
    let mut trace = Trace::start(Uuid::now_v7(), MASTER_TENANT_ID, "invoke_agent default");
    trace.user_id = user.to_owned();
    trace.channel = channel.to_owned();
    trace.start_time = start;
    trace.status = status.to_owned();
    trace.end_time = Some(start + Duration::milliseconds(400));
    trace.duration_ms = Some(400);
    trace.input_tokens = 100;
    trace.output_tokens = 10;
    trace.cache_read_tokens = 5;
    trace.cache_write_tokens = 2;
    trace.total_cost = 0.25;
    trace.llm_call_count = 2;
    trace.tool_call_count = 1;
    trace
}

fn query(grouping: UsageGrouping) -> UsageQuery {
    UsageQuery {
        from: at("2026-03-10T00:00:00Z"),
        to: at("2026-03-12T00:00:00Z"),
        user_id: None,
        agent_id: None,
        channel: None,
        grouping,
    }
}

/// `(bucket, requests, errors, users, input tokens)` of each row.
fn rows(totals: &[UsageTotals]) -> Vec<(Option<String>, i64, i64, i64, i64)> {
    totals
        .iter()
        .map(|t| {
            let bucket = t.bucket.map(|b| b.to_rfc3339());
            (bucket, t.requests, t.errors, t.unique_users, t.input_tokens)
        })
        .collect()
}

fn row(
    bucket: Option<&str>,
    requests: i64,
    errors: i64,
    users: i64,
) -> (Option<String>, i64, i64, i64, i64) {
    let bucket = bucket.map(|b| at(b).to_rfc3339());
    (bucket, requests, errors, users, requests * 100)
}

store_test!(usage_is_added_up_per_hour_day_and_range, |store: Arc<
    dyn Store,
>| async move {
    let traces = store.traces();
    let mut child = run("alice", "ws", at("2026-03-10T10:20:00Z"), "ok");
    child.parent_trace_id = Some(Uuid::now_v7());
    let batch = [
        run("alice", "ws", at("2026-03-10T10:15:00Z"), "ok"),
        run("bob", "http", at("2026-03-10T10:45:00Z"), "error"),
        run("alice", "ws", at("2026-03-10T11:05:00Z"), "ok"),
        run("alice", "telegram", at("2026-03-11T23:59:59Z"), "ok"),
        // Outside the range, and a subagent's run: not counted.
        run("alice", "ws", at("2026-03-12T00:00:00Z"), "ok"),
        run("alice", "ws", at("2026-03-09T23:59:59Z"), "ok"),
        child,
    ];
    traces.write_batch(&batch, &[]).await.expect("batch");

    let usage = |q: UsageQuery| {
        let traces = store.traces();
        async move { traces.usage(MASTER_TENANT_ID, &q).await.expect("usage") }
    };
    let by_hour = usage(query(UsageGrouping::Hour)).await;
    assert_eq!(
        rows(&by_hour),
        [
            row(Some("2026-03-10T10:00:00Z"), 2, 1, 2),
            row(Some("2026-03-10T11:00:00Z"), 1, 0, 1),
            row(Some("2026-03-11T23:00:00Z"), 1, 0, 1),
        ]
    );
    let by_day = usage(query(UsageGrouping::Day)).await;
    assert_eq!(
        rows(&by_day),
        [
            row(Some("2026-03-10T00:00:00Z"), 3, 1, 2),
            row(Some("2026-03-11T00:00:00Z"), 1, 0, 1),
        ]
    );
    let total = usage(query(UsageGrouping::Total)).await;
    assert_eq!(rows(&total), [row(None, 4, 1, 2)]);
    let sums = &total[0];
    assert_eq!(
        (
            sums.output_tokens,
            sums.cache_read_tokens,
            sums.cache_write_tokens
        ),
        (40, 20, 8)
    );
    assert!((sums.total_cost - 1.0).abs() < 1e-9, "{}", sums.total_cost);
    assert_eq!(
        (sums.llm_calls, sums.tool_calls, sums.duration_ms),
        (8, 4, 1600)
    );

    let alices = usage(UsageQuery {
        user_id: Some("alice".to_owned()),
        ..query(UsageGrouping::Total)
    })
    .await;
    assert_eq!(rows(&alices), [row(None, 3, 0, 1)]);
    let on_ws = usage(UsageQuery {
        channel: Some("ws".to_owned()),
        ..query(UsageGrouping::Total)
    })
    .await;
    assert_eq!(rows(&on_ws), [row(None, 2, 0, 1)]);
    // An empty range still has its total row, all zero.
    let nothing = usage(UsageQuery {
        user_id: Some("mallory".to_owned()),
        ..query(UsageGrouping::Total)
    })
    .await;
    assert_eq!(nothing, [UsageTotals::default()]);
    let elsewhere = traces
        .usage(TenantId::generate(), &query(UsageGrouping::Day))
        .await
        .expect("usage");
    assert!(elsewhere.is_empty(), "another tenant's runs: {elsewhere:?}");
});

store_test!(
    runs_are_counted_per_user_over_hour_day_and_week,
    |store: Arc<dyn Store>| async move {
        let traces = store.traces();
        let now = Utc::now();
        let ago = |minutes: i64| now - Duration::minutes(minutes);
        let mut child = run("alice", "ws", ago(5), "ok");
        child.parent_trace_id = Some(Uuid::now_v7());
        let batch = [
            run("alice", "ws", ago(5), "ok"),
            run("alice", "ws", ago(50), "error"),
            run("alice", "telegram", ago(3 * 60), "ok"),
            run("alice", "ws", ago(3 * 24 * 60), "ok"),
            run("alice", "ws", ago(8 * 24 * 60), "ok"),
            run("bob", "http", ago(10), "ok"),
            child,
        ];
        traces.write_batch(&batch, &[]).await.expect("batch");

        let counts = |user: Option<&'static str>| {
            let traces = store.traces();
            async move {
                traces
                    .request_counts(MASTER_TENANT_ID, user, now)
                    .await
                    .expect("counts")
                    .into_iter()
                    .map(|c| (c.user_id, c.hour, c.day, c.week))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(counts(Some("alice")).await, [("alice".to_owned(), 2, 3, 4)]);
        assert_eq!(counts(Some("mallory")).await, []);
        assert_eq!(
            counts(None).await,
            [("alice".to_owned(), 2, 3, 4), ("bob".to_owned(), 1, 1, 1)]
        );
        let elsewhere = traces
            .request_counts(TenantId::generate(), None, now)
            .await
            .expect("counts");
        assert!(elsewhere.is_empty());
    }
);
