//! The channels' inbox and outbox on both engines: an update is stored once per channel and
//! platform id; settling queues its replies in the same transaction and only once; a reply
//! moves pending → sending → sent (or back to pending with a retry time, or dead), and what
//! is due is what waits or was left sending; pruning keeps what is still open; a draft of an
//! update's answer is remembered with it.

use chrono::{Duration, Utc};
use goclaw_core::{InboundStatus, MASTER_TENANT_ID, NewInbound, NewOutbound, OutboundStatus};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;
use serde_json::json;

fn update(platform_id: &str, chat: &str) -> NewInbound {
    NewInbound {
        tenant_id: MASTER_TENANT_ID,
        channel: "telegram".to_owned(),
        platform_id: platform_id.to_owned(),
        chat_id: chat.to_owned(),
        sender_id: chat.to_owned(),
        payload: json!({"text": format!("hello from {chat} ✨")}),
    }
}

fn reply(key: &str, chat: &str, text: &str) -> NewOutbound {
    NewOutbound {
        tenant_id: MASTER_TENANT_ID,
        channel: "telegram".to_owned(),
        chat_id: chat.to_owned(),
        dedup_key: key.to_owned(),
        payload: json!({"text": text}),
    }
}

database_test!(
    an_update_is_stored_once_and_settled_once,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let queue = store.channel_queue();
        let first = queue
            .receive(update("u1", "42"))
            .await
            .expect("receive")
            .expect("a new update");
        assert_eq!(first.status, InboundStatus::Received);
        assert_eq!(first.attempts, 0);
        assert_eq!(first.payload, json!({"text": "hello from 42 ✨"}));
        assert_eq!(
            queue.receive(update("u1", "42")).await.expect("again"),
            None,
            "a redelivered update is recognized"
        );
        // The same platform id on another channel is another update.
        let mut other = update("u1", "42");
        other.channel = "discord".to_owned();
        assert!(queue.receive(other).await.expect("other").is_some());
        let second = queue
            .receive(update("u2", "43"))
            .await
            .expect("second")
            .expect("new");

        let waiting = queue.unanswered("telegram", 10).await.expect("unanswered");
        assert_eq!(
            waiting.iter().map(|i| i.id).collect::<Vec<_>>(),
            [first.id, second.id]
        );
        assert_eq!(queue.begin_attempt(first.id).await.expect("attempt"), 1);
        assert_eq!(queue.begin_attempt(first.id).await.expect("attempt"), 2);
        // A draft streamed by an attempt is remembered for the next one.
        assert_eq!(first.draft_message_id, None);
        queue.record_draft(first.id, "m-77").await.expect("draft");
        let waiting = queue.unanswered("telegram", 10).await.expect("unanswered");
        assert_eq!(waiting[0].draft_message_id.as_deref(), Some("m-77"));
        assert_eq!(waiting[1].draft_message_id, None);
        assert!(matches!(
            queue.record_draft(uuid::Uuid::new_v4(), "m-1").await,
            Err(goclaw_core::StoreError::NotFound(_))
        ));

        let answer = vec![
            reply("run:r1:0", "42", "one"),
            reply("run:r1:1", "42", "two"),
        ];
        queue
            .settle(first.id, InboundStatus::Answered, answer.clone())
            .await
            .expect("settle");
        // Settling again (a replay) queues nothing more.
        queue
            .settle(
                first.id,
                InboundStatus::Answered,
                vec![reply("run:r2:0", "42", "x")],
            )
            .await
            .expect("settle again");
        let queued = queue
            .outbound_for_chat("telegram", "42")
            .await
            .expect("chat");
        assert_eq!(
            queued
                .iter()
                .map(|o| o.dedup_key.as_str())
                .collect::<Vec<_>>(),
            ["run:r1:0", "run:r1:1"]
        );
        assert!(queued.iter().all(|o| o.status == OutboundStatus::Pending));
        let waiting = queue.unanswered("telegram", 10).await.expect("unanswered");
        assert_eq!(
            waiting.iter().map(|i| i.id).collect::<Vec<_>>(),
            [second.id]
        );

        // Two updates answered by one run queue its reply once.
        queue
            .settle(second.id, InboundStatus::Answered, answer)
            .await
            .expect("settle second");
        assert_eq!(
            queue
                .outbound_for_chat("telegram", "42")
                .await
                .expect("chat")
                .len(),
            2
        );
    }
);

database_test!(
    a_reply_is_due_until_the_platform_accepts_it,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let queue = store.channel_queue();
        queue
            .enqueue(vec![
                reply("a", "7", "first"),
                reply("b", "7", "second"),
                reply("c", "8", "third"),
            ])
            .await
            .expect("enqueue");
        queue
            .enqueue(vec![reply("a", "7", "duplicate")])
            .await
            .expect("enqueue again");
        let now = Utc::now() + Duration::seconds(1);
        let due = queue.due("telegram", now, 10).await.expect("due");
        assert_eq!(
            due.iter()
                .map(|o| o.payload["text"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
            ["first", "second", "third"]
        );
        assert!(queue.due("discord", now, 10).await.expect("due").is_empty());
        let (a, b, c) = (due[0].id, due[1].id, due[2].id);

        assert_eq!(queue.mark_sending(a).await.expect("sending"), 1);
        queue.mark_sent(a, "1001").await.expect("sent");
        // Left sending by a crash: still due.
        assert_eq!(queue.mark_sending(b).await.expect("sending"), 1);
        // A failure with a retry waits for its time; one without is dead.
        assert_eq!(queue.mark_sending(c).await.expect("sending"), 1);
        let later = Utc::now() + Duration::minutes(5);
        queue
            .mark_failed(c, "429 Too Many Requests", Some(later))
            .await
            .expect("failed");
        let due = queue.due("telegram", now, 10).await.expect("due");
        assert_eq!(due.iter().map(|o| o.id).collect::<Vec<_>>(), [b]);
        assert_eq!(due[0].status, OutboundStatus::Sending);
        let due_later = queue
            .due("telegram", later + Duration::seconds(1), 10)
            .await
            .expect("due later");
        assert_eq!(due_later.iter().map(|o| o.id).collect::<Vec<_>>(), [b, c]);
        assert_eq!(
            due_later[1].last_error.as_deref(),
            Some("429 Too Many Requests")
        );
        assert_eq!(queue.mark_sending(c).await.expect("again"), 2);
        queue
            .mark_failed(c, "chat not found", None)
            .await
            .expect("dead");
        // A sent reply stays sent whatever a late failure says.
        queue.mark_failed(a, "late", None).await.expect("late");

        let chat7 = queue
            .outbound_for_chat("telegram", "7")
            .await
            .expect("chat");
        assert_eq!(chat7[0].status, OutboundStatus::Sent);
        assert_eq!(chat7[0].platform_message_id.as_deref(), Some("1001"));
        let chat8 = queue
            .outbound_for_chat("telegram", "8")
            .await
            .expect("chat");
        assert_eq!(chat8[0].status, OutboundStatus::Dead);
        assert!(matches!(
            queue.mark_sending(a).await,
            Err(goclaw_core::StoreError::NotFound(_))
        ));

        // Pruning takes settled and finished rows only.
        let update = queue
            .receive(update("u9", "7"))
            .await
            .expect("receive")
            .expect("new");
        let pruned = queue
            .prune(Utc::now() + Duration::minutes(1))
            .await
            .expect("prune");
        assert_eq!(pruned, 2, "the sent and the dead reply");
        let left = queue
            .outbound_for_chat("telegram", "7")
            .await
            .expect("chat");
        assert_eq!(left.iter().map(|o| o.id).collect::<Vec<_>>(), [b]);
        assert_eq!(
            queue.unanswered("telegram", 10).await.expect("open")[0].id,
            update.id
        );
    }
);

database_test!(
    a_chats_earlier_updates_come_back_newest_first,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let store = db.store();
        let queue = store.channel_queue();
        let mut ids = Vec::new();
        for (n, chat) in ["-100", "-200", "-100", "-100"].iter().enumerate() {
            let stored = queue
                .receive(update(&format!("m{n}"), chat))
                .await
                .expect("receive")
                .expect("new");
            ids.push((stored.id, stored.received_at));
            // Distinct receive times, as updates arriving one after another have.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let last = ids[3].1;
        let earlier =
            |limit| queue.earlier_in_chat(MASTER_TENANT_ID, "telegram", "-100", last, limit);
        let found: Vec<_> = earlier(10)
            .await
            .expect("earlier")
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(
            found,
            [ids[2].0, ids[0].0],
            "this chat's, before the last, newest first"
        );
        let found: Vec<_> = earlier(1)
            .await
            .expect("earlier")
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(found, [ids[2].0]);
        let other_tenant = goclaw_core::TenantId::generate();
        let none = queue
            .earlier_in_chat(other_tenant, "telegram", "-100", last, 10)
            .await
            .expect("earlier");
        assert!(none.is_empty(), "another tenant's chat is another chat");
    }
);
