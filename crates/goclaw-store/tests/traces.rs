//! Traces and spans on both engines: batches upsert, listing filters and orders newest first,
//! a trace is only visible to its tenant, stale `running` traces are closed, old ones pruned.

use std::sync::Arc;

use chrono::{Duration, Utc};
use goclaw_core::traces::span_type;
use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, NewAgent, Span, Store, TRACE_RUNNING, TenantId, Trace, TraceFilter,
};
use goclaw_store::store_test;
use serde_json::json;
use uuid::Uuid;

fn trace(session: &str, started_secs_ago: i64) -> Trace {
    let mut trace = Trace::start(Uuid::now_v7(), MASTER_TENANT_ID, "chat default");
    trace.session_key = session.to_owned();
    trace.run_id = format!("run-{session}");
    trace.start_time = Utc::now() - Duration::seconds(started_secs_ago);
    trace.metadata = json!({ "agent_key": "default" });
    trace
}

fn finished(mut trace: Trace, status: &str) -> Trace {
    trace.status = status.to_owned();
    trace.end_time = Some(trace.start_time + Duration::milliseconds(1500));
    trace.duration_ms = Some(1500);
    trace.input_tokens = 120;
    trace.output_tokens = 30;
    trace.cache_read_tokens = 7;
    trace.llm_call_count = 2;
    trace.tool_call_count = 1;
    trace.span_count = 3;
    trace
}

fn llm_span(trace: &Trace, offset_ms: i64) -> Span {
    let mut span = Span::start(trace.id, span_type::LLM_CALL, "llm anthropic/claude");
    span.start_time = trace.start_time + Duration::milliseconds(offset_ms);
    span.end_time = Some(span.start_time + Duration::milliseconds(10));
    span.duration_ms = Some(10);
    span.status = "ok".to_owned();
    span.model = "claude".to_owned();
    span.provider = "anthropic".to_owned();
    span.input_tokens = 60;
    span.cache_write_tokens = 4;
    span
}

store_test!(batches_upsert_and_get_returns_spans, |store: Arc<
    dyn Store,
>| async move {
    let traces = store.traces();
    let started = trace("s1", 5);
    let mut tool = Span::start(started.id, span_type::TOOL_CALL, "tool datetime");
    tool.start_time = started.start_time + Duration::milliseconds(20);
    tool.status = "ok".to_owned();
    tool.tool_name = Some("datetime".to_owned());
    tool.tool_call_id = Some("call-1".to_owned());
    tool.input_preview = Some("{}".to_owned());
    tool.output_preview = Some("2026-01-01".to_owned());
    traces
        .write_batch(std::slice::from_ref(&started), &[llm_span(&started, 0)])
        .await
        .expect("first batch");
    let (stored, spans) = traces
        .get(MASTER_TENANT_ID, started.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.status, TRACE_RUNNING);
    assert_eq!(spans.len(), 1);

    let done = finished(started.clone(), "ok");
    traces
        .write_batch(std::slice::from_ref(&done), &[tool, llm_span(&started, 40)])
        .await
        .expect("second batch");
    let (stored, spans) = traces
        .get(MASTER_TENANT_ID, started.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.status, "ok");
    assert_eq!(stored.input_tokens, 120);
    assert_eq!(stored.cache_read_tokens, 7);
    assert_eq!(stored.llm_call_count, 2);
    assert_eq!(stored.duration_ms, Some(1500));
    assert_eq!(stored.metadata, json!({ "agent_key": "default" }));
    let kinds: Vec<&str> = spans.iter().map(|s| s.span_type.as_str()).collect();
    assert_eq!(kinds, ["llm_call", "tool_call", "llm_call"], "start order");
    assert_eq!(spans[0].cache_write_tokens, 4);
    assert_eq!(spans[1].tool_name.as_deref(), Some("datetime"));
    assert_eq!(spans[1].output_preview.as_deref(), Some("2026-01-01"));

    assert!(
        traces
            .get(TenantId::generate(), started.id)
            .await
            .expect("get")
            .is_none(),
        "another tenant's trace is not found"
    );
    assert!(
        traces
            .get(MASTER_TENANT_ID, Uuid::now_v7())
            .await
            .expect("get")
            .is_none()
    );
});

store_test!(spans_of_unknown_traces_are_skipped, |store: Arc<
    dyn Store,
>| async move {
    let orphan = trace("lost", 1);
    store
        .traces()
        .write_batch(&[], &[llm_span(&orphan, 0)])
        .await
        .expect("an orphan span is not an error");
    assert!(
        store
            .traces()
            .get(MASTER_TENANT_ID, orphan.id)
            .await
            .expect("get")
            .is_none()
    );
});

store_test!(list_filters_and_orders_newest_first, |store: Arc<
    dyn Store,
>| async move {
    let traces = store.traces();
    let agent = store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("tracer").expect("key"),
            "Tracer",
        ))
        .await
        .expect("agent");
    let mut old = finished(trace("s1", 30), "ok");
    old.agent_id = Some(agent.id);
    old.user_id = "alice".to_owned();
    let mut failed = finished(trace("s2", 20), "error");
    failed.user_id = "bob".to_owned();
    failed.channel = "ws".to_owned();
    let mut newest = trace("s1", 10);
    newest.user_id = "alice".to_owned();
    traces
        .write_batch(&[old.clone(), failed.clone(), newest.clone()], &[])
        .await
        .expect("batch");
    let ids = |(list, _): (Vec<Trace>, u64)| list.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let all = traces
        .list(MASTER_TENANT_ID, &TraceFilter::default())
        .await
        .expect("list");
    assert_eq!(ids(all), [newest.id, failed.id, old.id]);
    let session = TraceFilter {
        session_key: Some("s1".to_owned()),
        ..TraceFilter::default()
    };
    let listed = traces.list(MASTER_TENANT_ID, &session).await.expect("list");
    assert_eq!(ids(listed), [newest.id, old.id]);
    let errors = TraceFilter {
        status: Some("error".to_owned()),
        ..TraceFilter::default()
    };
    let listed = traces.list(MASTER_TENANT_ID, &errors).await.expect("list");
    assert_eq!(ids(listed), [failed.id]);
    let one = TraceFilter {
        limit: 1,
        ..TraceFilter::default()
    };
    let (page, total) = traces.list(MASTER_TENANT_ID, &one).await.expect("list");
    assert_eq!((page.len(), page[0].id, total), (1, newest.id, 3));
    let second = TraceFilter {
        limit: 1,
        offset: 1,
        ..TraceFilter::default()
    };
    let (page, total) = traces.list(MASTER_TENANT_ID, &second).await.expect("list");
    assert_eq!((page.len(), page[0].id, total), (1, failed.id, 3));
    let past_the_end = TraceFilter {
        offset: 3,
        ..TraceFilter::default()
    };
    let (page, total) = traces
        .list(MASTER_TENANT_ID, &past_the_end)
        .await
        .expect("list");
    assert_eq!((page.len(), total), (0, 3));
    let by_channel = |channel: &str| TraceFilter {
        channel: Some(channel.to_owned()),
        ..TraceFilter::default()
    };
    let listed = traces.list(MASTER_TENANT_ID, &by_channel("ws")).await;
    assert_eq!(ids(listed.expect("list")), [failed.id]);
    let listed = traces.list(MASTER_TENANT_ID, &by_channel("telegram")).await;
    assert_eq!(listed.expect("list"), (Vec::new(), 0));
    let by_agent = TraceFilter {
        agent_id: Some(agent.id),
        ..TraceFilter::default()
    };
    let listed = traces
        .list(MASTER_TENANT_ID, &by_agent)
        .await
        .expect("list");
    assert_eq!(ids(listed), [old.id]);
    let user = |user: &str| TraceFilter {
        user_id: Some(user.to_owned()),
        ..TraceFilter::default()
    };
    let listed = traces.list(MASTER_TENANT_ID, &user("alice")).await;
    assert_eq!(ids(listed.expect("list")), [newest.id, old.id]);
    let listed = traces.list(MASTER_TENANT_ID, &user("bob")).await;
    assert_eq!(ids(listed.expect("list")), [failed.id]);
    let bobs_session_as_alice = TraceFilter {
        session_key: Some("s2".to_owned()),
        ..user("alice")
    };
    let listed = traces.list(MASTER_TENANT_ID, &bobs_session_as_alice).await;
    assert_eq!(listed.expect("list"), (Vec::new(), 0));
    let listed = traces.list(MASTER_TENANT_ID, &user("mallory")).await;
    assert_eq!(listed.expect("list"), (Vec::new(), 0));
    let elsewhere = traces
        .list(TenantId::generate(), &TraceFilter::default())
        .await
        .expect("list");
    assert_eq!(elsewhere, (Vec::new(), 0));
});

store_test!(
    running_traces_are_closed,
    |store: Arc<dyn Store>| async move {
        let traces = store.traces();
        let running = trace("s1", 60);
        let done = finished(trace("s2", 50), "ok");
        traces
            .write_batch(&[running.clone(), done.clone()], &[])
            .await
            .expect("batch");
        let closed = traces
            .close_running("error", "interrupted by a restart")
            .await
            .expect("close");
        assert_eq!(closed, 1);
        let (stored, _) = traces
            .get(MASTER_TENANT_ID, running.id)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(stored.status, "error");
        assert_eq!(stored.error.as_deref(), Some("interrupted by a restart"));
        assert!(stored.end_time.is_some());
        assert!(
            stored.duration_ms.is_some_and(|ms| ms >= 59_000),
            "{stored:?}"
        );
        let (untouched, _) = traces
            .get(MASTER_TENANT_ID, done.id)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(untouched.status, "ok");
        assert_eq!(
            traces.close_running("error", "again").await.expect("close"),
            0
        );
    }
);

store_test!(old_traces_and_their_spans_are_deleted, |store: Arc<
    dyn Store,
>| async move {
    let traces = store.traces();
    let kept = trace("s1", 1);
    traces
        .write_batch(std::slice::from_ref(&kept), &[llm_span(&kept, 0)])
        .await
        .expect("batch");
    let none = traces
        .delete_before(Utc::now() - Duration::days(30))
        .await
        .expect("prune");
    assert_eq!(none, 0);
    assert!(
        traces
            .get(MASTER_TENANT_ID, kept.id)
            .await
            .expect("get")
            .is_some()
    );
    let all = traces
        .delete_before(Utc::now() + Duration::minutes(1))
        .await
        .expect("prune");
    assert_eq!(all, 1);
    assert!(
        traces
            .get(MASTER_TENANT_ID, kept.id)
            .await
            .expect("get")
            .is_none()
    );
    // The spans went with their trace: writing the trace again shows none.
    traces
        .write_batch(std::slice::from_ref(&kept), &[])
        .await
        .expect("batch");
    let (_, spans) = traces
        .get(MASTER_TENANT_ID, kept.id)
        .await
        .expect("get")
        .expect("stored");
    assert!(spans.is_empty());
});
