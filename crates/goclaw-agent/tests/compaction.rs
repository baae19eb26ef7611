//! Compaction on both store engines: a summary replaces old history for the model while the
//! transcript stays in the store, on request and automatically after a run.

mod common;

use std::sync::Arc;

use common::*;
use goclaw_agent::{SUMMARY_ACK, SUMMARY_PREFIX};
use goclaw_core::{MASTER_TENANT_ID, Store};
use goclaw_store::store_test;

store_test!(
    compaction_writes_a_summary_and_advances_the_pointer,
    |store: Arc<dyn Store>| async move {
        let h = Harness::with_defaults(store).await;
        let padding = " lorem ipsum".repeat(20);
        for turn in 1..=4 {
            h.chat("s1", &format!("u{turn}{padding}")).await;
        }
        *h.provider.summary.lock().expect("summary") = "S1".to_owned();
        let outcome = h
            .runtime
            .compact(MASTER_TENANT_ID, &key("s1"), 2)
            .await
            .expect("compact");
        assert!(outcome.compacted);
        assert_eq!((outcome.summarized_messages, outcome.kept_messages), (6, 2));
        assert_eq!(outcome.context_start_seq, 7);
        assert!(outcome.tokens_after < outcome.tokens_before, "{outcome:?}");

        let session = h.session("s1").await;
        assert_eq!(session.summary.as_deref(), Some("S1"));
        assert_eq!(session.context_start_seq, 7);
        assert_eq!(session.compaction_count, 1);
        assert_eq!(h.messages("s1").await.len(), 8, "the transcript stays");

        let summary_request = &h.provider.summary_requests()[0];
        assert_eq!(summary_request.temperature, Some(0.3));
        assert!(summary_request.tools.is_empty());
        let asked = last_text(summary_request);
        assert!(
            asked.contains("User: u1") && asked.contains("User: u3"),
            "{asked}"
        );
        assert!(
            !asked.contains("User: u4"),
            "kept messages are not summarized"
        );

        h.chat("s1", "u5").await;
        let request = h.provider.requests().pop().expect("request");
        let texts: Vec<String> = request.messages.iter().map(|m| m.text()).collect();
        assert_eq!(
            texts,
            [
                format!("{SUMMARY_PREFIX}S1"),
                SUMMARY_ACK.to_owned(),
                format!("u4{padding}"),
                "ok".to_owned(),
                "u5".to_owned()
            ]
        );

        // A second compaction merges the first summary.
        *h.provider.summary.lock().expect("summary") = "S2".to_owned();
        let again = h
            .runtime
            .compact(MASTER_TENANT_ID, &key("s1"), 2)
            .await
            .expect("compact again");
        assert!(again.compacted);
        let merged = last_text(&h.provider.summary_requests()[1]);
        assert!(
            merged.contains("S1") && merged.contains("User: u4"),
            "{merged}"
        );
        assert_eq!(h.session("s1").await.compaction_count, 2);
    }
);

store_test!(too_little_history_is_not_compacted, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::with_defaults(store).await;
    h.chat("s1", "hello").await;
    let outcome = h
        .runtime
        .compact(MASTER_TENANT_ID, &key("s1"), 4)
        .await
        .expect("compact");
    assert!(!outcome.compacted);
    assert!(h.provider.summary_requests().is_empty());
    assert!(h.session("s1").await.summary.is_none());
    let missing = h.runtime.compact(MASTER_TENANT_ID, &key("nope"), 4).await;
    assert!(missing.is_err());
});

store_test!(a_long_history_is_compacted_after_a_run, |store: Arc<
    dyn Store,
>| async move {
    let mut setup = Setup::default();
    // 100 tokens × 0.85: a few hundred characters of history are too many.
    setup.defaults.context_window = 100;
    let h = Harness::start(store, setup).await;
    let long = "x".repeat(200);
    for _ in 0..3 {
        h.chat("s1", &long).await;
    }
    let store = h.store.clone();
    eventually("the session is compacted after its third run", || {
        let store = store.clone();
        async move {
            store
                .sessions()
                .get(MASTER_TENANT_ID, &key("s1"))
                .await
                .is_ok_and(|s| s.compaction_count == 1)
        }
    })
    .await;
    let session = h.session("s1").await;
    assert_eq!(session.summary.as_deref(), Some("SUMMARY"));
    // keepLastMessages (4) are kept: 6 messages, the pointer at the third.
    assert_eq!(session.context_start_seq, 3);
    assert_eq!(h.messages("s1").await.len(), 6);
});
