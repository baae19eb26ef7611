//! Webhooks over real HTTP on both backends: registering, changing, rotating and revoking
//! them (admin only, each tenant its own), the wire shapes GoClaw's clients read, and the
//! checks every call passes — bearer secrets and HMAC signatures (valid, expired, replayed,
//! wrong), the IP allowlist, the route's kind, body caps, the per-webhook rate, and the
//! per-source window (429 on the 31st call).

mod webhooks;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test};
use reqwest::Method;
use serde_json::{Value, json};
use webhooks::{
    TOKEN, admin, call, client_from, default_agent_id, llm_call, llm_webhook, now, register, sign,
};

async fn with_webhooks(backend: StoreBackend) -> Option<TestApp> {
    webhooks::app(backend, false).await
}

app_test!(
    registering_rotating_and_revoking,
    with_webhooks,
    |app: TestApp| async move {
        let agent = default_agent_id(&app).await;
        let created = register(
            &app,
            TOKEN,
            json!({ "name": "ci-alerts", "kind": "llm", "agent_id": agent, "scopes": ["alerts"] }),
        )
        .await;
        let secret = created["secret"].as_str().expect("secret").to_owned();
        assert!(secret.starts_with("wh_") && secret.len() == 42, "{secret}");
        assert_eq!(created["hmac_signing_key"], secret.as_str());
        assert_eq!(created["secret_prefix"], &secret[..8]);
        assert_eq!(created["kind"], "llm");
        assert_eq!(created["agent_id"], agent.as_str());
        assert_eq!(created["rate_limit_per_min"], 60);
        assert_eq!(created["scopes"], json!(["alerts"]));
        assert_eq!(created["ip_allowlist"], json!([]));
        assert_eq!(created["require_hmac"], false);
        assert_eq!(created["localhost_only"], false);
        assert_eq!(created["revoked"], false);
        assert!(created.get("channel_id").is_none(), "{created}");
        let id = created["id"].as_str().expect("id").to_owned();

        // The listing is a bare array and never holds the secret or anything made from it.
        let (status, list) = admin(&app, Method::GET, "/v1/webhooks", TOKEN, None).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        let (status, one) = admin(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200);
        for shown in [&list, &one] {
            let text = shown.to_string();
            assert!(!text.contains(&secret[8..]), "the secret leaked: {text}");
            assert!(
                !text.contains("secret_hash") && !text.contains("encrypted"),
                "{text}"
            );
        }
        let (_, other_agent) = admin(
            &app,
            Method::GET,
            "/v1/webhooks?agent_id=00000000-0000-0000-0000-000000000000",
            TOKEN,
            None,
        )
        .await;
        assert_eq!(other_agent, json!([]));

        let client = client_from(1, 1);
        app.llm.set_default(Reply::text("pong").usage(7, 3));
        let answer = llm_call(&app, &client, &secret, json!({ "input": "ping" })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["output"], "pong");
        assert_eq!(answer.body["agent_id"], agent.as_str());
        assert_eq!(answer.body["finish_reason"], "stop");
        assert_eq!(
            answer.body["usage"],
            json!({ "prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10 })
        );
        assert!(answer.body["call_id"].is_string());

        let (status, patched) = admin(
            &app,
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            Some(json!({ "name": "renamed", "rate_limit_per_min": 5, "ip_allowlist": ["10.0.0.0/8"] })),
        )
        .await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["name"], "renamed");
        assert_eq!(patched["rate_limit_per_min"], 5);
        assert_eq!(patched["kind"], "llm");
        assert!(patched.get("last_used_at").is_some(), "{patched}");
        let (status, _) = admin(
            &app,
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            Some(json!({ "ip_allowlist": [] })),
        )
        .await;
        assert_eq!(status, 200);

        let (status, rotated) = admin(
            &app,
            Method::POST,
            &format!("/v1/webhooks/{id}/rotate"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200, "{rotated}");
        let fresh = rotated["secret"].as_str().expect("new secret").to_owned();
        assert_ne!(fresh, secret);
        assert_eq!(rotated["hmac_signing_key"], fresh.as_str());
        assert_eq!(rotated["secret_prefix"], &fresh[..8]);
        let old = llm_call(&app, &client, &secret, json!({ "input": "ping" })).await;
        assert_eq!(
            old.status, 401,
            "the old secret stops at once: {}",
            old.body
        );
        assert_eq!(
            old.body,
            json!({ "error": "webhook authentication failed" })
        );
        assert_eq!(
            llm_call(&app, &client, &fresh, json!({ "input": "ping" }))
                .await
                .status,
            200
        );

        let (status, revoked) = admin(
            &app,
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!((status, revoked), (200, json!({ "status": "revoked" })));
        assert_eq!(
            llm_call(&app, &client, &fresh, json!({ "input": "ping" }))
                .await
                .status,
            401
        );
        let (_, one) = admin(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(one["revoked"], true);
        let (status, _) = admin(
            &app,
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200, "revoking again is not an error");

        let (status, calls) = admin(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}/calls"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200);
        let calls = calls.as_array().cloned().unwrap_or_default();
        assert_eq!(calls.len(), 2, "two calls were answered: {calls:?}");
        assert!(
            calls
                .iter()
                .all(|c| c["status"] == "done" && c["mode"] == "sync"),
            "{calls:?}"
        );
        let call_id = calls[0]["id"].as_str().expect("call id");
        let (status, detail) = admin(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}/calls/{call_id}"),
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["webhook_id"], id.as_str());
        assert!(
            detail["request_payload"]
                .as_str()
                .is_some_and(|p| p.contains("body_hash")),
            "{detail}"
        );
        assert!(
            detail["response"]
                .as_str()
                .is_some_and(|r| r.contains("pong")),
            "{detail}"
        );
    }
);

app_test!(
    invalid_registrations_are_refused,
    with_webhooks,
    |app: TestApp| async move {
        let agent = default_agent_id(&app).await;
        let long = "x".repeat(101);
        for (body, message) in [
            (
                json!({ "kind": "llm", "agent_id": agent }),
                "name is required",
            ),
            (
                json!({ "name": "  ", "kind": "llm", "agent_id": agent }),
                "name is required",
            ),
            (
                json!({ "name": long, "kind": "llm", "agent_id": agent }),
                "100 characters",
            ),
            (
                json!({ "name": "n", "kind": "sms", "agent_id": agent }),
                "kind must be 'llm' or 'message'",
            ),
            (
                json!({ "name": "n", "kind": "llm", "agent_id": agent, "rate_limit_per_min": -1 }),
                "rate_limit_per_min",
            ),
            (
                json!({ "name": "n", "kind": "llm", "agent_id": agent, "ip_allowlist": vec!["10.0.0.1"; 257] }),
                "ip_allowlist",
            ),
            (
                json!({ "name": "n", "kind": "message", "channel_id": "telegram" }),
                "invalid channel_id ID",
            ),
        ] {
            let (status, answer) = admin(
                &app,
                Method::POST,
                "/v1/webhooks",
                TOKEN,
                Some(body.clone()),
            )
            .await;
            assert_eq!(status, 400, "{body} → {answer}");
            let text = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(text.contains(message), "{body} → {answer}");
        }
        let (status, answer) = admin(
            &app,
            Method::POST,
            "/v1/webhooks",
            TOKEN,
            Some(json!({ "name": "n", "kind": "llm", "agent_id": "no-such-agent" })),
        )
        .await;
        assert_eq!(status, 404, "{answer}");
        // An llm webhook without an agent runs the tenant's default agent.
        let defaulted = register(&app, TOKEN, json!({ "name": "n", "kind": "llm" })).await;
        assert_eq!(defaulted["agent_id"], agent.as_str());
        let (status, _) = admin(&app, Method::GET, "/v1/webhooks/not-a-uuid", TOKEN, None).await;
        assert_eq!(status, 400);
        for query in ["agent_id=", "agent_id=x"] {
            let (status, _) = admin(
                &app,
                Method::GET,
                &format!("/v1/webhooks?{query}"),
                TOKEN,
                None,
            )
            .await;
            assert_eq!(status, 400, "{query}");
        }
        let (status, answer) = admin(
            &app,
            Method::GET,
            "/v1/webhooks/00000000-0000-0000-0000-000000000001",
            TOKEN,
            None,
        )
        .await;
        assert_eq!(status, 404, "{answer}");
        let (status, _) = admin(&app, Method::GET, "/v1/webhooks", TOKEN, None).await;
        assert_eq!(status, 200);
    }
);

app_test!(
    each_tenant_admin_sees_only_its_own_and_viewers_nothing,
    with_webhooks,
    |app: TestApp| async move {
        let (_, master_admin) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "a-admin", "scopes": ["operator.admin"], "owner_id": "alice" }),
            )
            .await;
        let (_, viewer) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "viewer", "scopes": ["operator.read"], "owner_id": "victor" }),
            )
            .await;
        let other = app
            .other_tenant("acme", "helper", "bob", &[ApiKeyScope::Admin])
            .await;

        let agent = default_agent_id(&app).await;
        let mine = register(
            &app,
            &master_admin,
            json!({ "name": "a", "kind": "llm", "agent_id": agent }),
        )
        .await;
        let mine_id = mine["id"].as_str().expect("id").to_owned();
        // Tenant B cannot name tenant A's agent.
        let (status, _) = admin(
            &app,
            Method::POST,
            "/v1/webhooks",
            &other.key,
            Some(json!({ "name": "b", "kind": "llm", "agent_id": agent })),
        )
        .await;
        assert_eq!(status, 404, "another tenant's agent is not found");
        let theirs = register(
            &app,
            &other.key,
            json!({ "name": "b", "kind": "llm", "agent_id": "helper" }),
        )
        .await;
        let theirs_id = theirs["id"].as_str().expect("id").to_owned();
        assert_eq!(theirs["tenant_id"], other.id.to_string());
        assert_eq!(theirs["created_by"], "bob");

        let ids = |list: &Value| -> Vec<String> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w["id"].as_str().map(str::to_owned))
                .collect()
        };
        let (_, a_list) = admin(&app, Method::GET, "/v1/webhooks", &master_admin, None).await;
        assert_eq!(ids(&a_list), vec![mine_id.clone()]);
        let (_, b_list) = admin(&app, Method::GET, "/v1/webhooks", &other.key, None).await;
        assert_eq!(ids(&b_list), vec![theirs_id.clone()]);

        for (key, foreign) in [(&other.key, &mine_id), (&master_admin, &theirs_id)] {
            for (method, path, body) in [
                (Method::GET, format!("/v1/webhooks/{foreign}"), None),
                (
                    Method::PATCH,
                    format!("/v1/webhooks/{foreign}"),
                    Some(json!({ "name": "taken" })),
                ),
                (Method::POST, format!("/v1/webhooks/{foreign}/rotate"), None),
                (Method::GET, format!("/v1/webhooks/{foreign}/calls"), None),
                (Method::DELETE, format!("/v1/webhooks/{foreign}"), None),
            ] {
                let (status, answer) = admin(&app, method.clone(), &path, key, body).await;
                assert_eq!(status, 404, "{method} {path}: {answer}");
            }
        }
        for (method, path, body) in [
            (Method::GET, "/v1/webhooks".to_owned(), None),
            (
                Method::POST,
                "/v1/webhooks".to_owned(),
                Some(json!({ "name": "v", "kind": "llm", "agent_id": agent })),
            ),
            (Method::GET, format!("/v1/webhooks/{mine_id}"), None),
            (
                Method::PATCH,
                format!("/v1/webhooks/{mine_id}"),
                Some(json!({ "name": "v" })),
            ),
            (Method::POST, format!("/v1/webhooks/{mine_id}/rotate"), None),
            (Method::GET, format!("/v1/webhooks/{mine_id}/calls"), None),
            (Method::DELETE, format!("/v1/webhooks/{mine_id}"), None),
        ] {
            let (status, answer) = admin(&app, method.clone(), &path, &viewer, body).await;
            assert_eq!(status, 403, "viewer {method} {path}: {answer}");
        }

        // Each secret runs its own tenant's agent.
        app.llm.set_default(Reply::text("from the agent"));
        let client = client_from(2, 1);
        let secret = theirs["secret"].as_str().expect("secret");
        let answer = llm_call(&app, &client, secret, json!({ "input": "hi" })).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["agent_id"], other.agent.to_string());
        // Nothing of B's was revoked by A's attempts.
        let (_, still) = admin(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{theirs_id}"),
            &other.key,
            None,
        )
        .await;
        assert_eq!(
            (still["revoked"].clone(), still["name"].clone()),
            (json!(false), json!("b"))
        );
    }
);

app_test!(
    hmac_signatures_valid_expired_replayed_and_wrong,
    with_webhooks,
    |app: TestApp| async move {
        let (id, secret) = llm_webhook(&app, json!({ "require_hmac": true })).await;
        app.llm.set_default(Reply::text("signed answer"));
        let client = client_from(3, 1);
        let body = br#"{"input":"signed ping"}"#.to_vec();
        let signed = |signature: String, webhook: &str| {
            vec![
                ("x-webhook-id", webhook.to_owned()),
                ("x-goclaw-signature", signature),
            ]
        };
        let path = "/v1/webhooks/llm";

        let bearer = llm_call(&app, &client, &secret, json!({ "input": "x" })).await;
        assert_eq!(
            (bearer.status, bearer.body),
            (
                401,
                json!({ "error": "this webhook requires HMAC authentication" })
            )
        );

        let valid = sign(&secret, now(), &body);
        let ok = call(
            &app,
            &client,
            path,
            &signed(valid.clone(), &id),
            body.clone(),
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.body["output"], "signed answer");

        let replayed = call(&app, &client, path, &signed(valid, &id), body.clone()).await;
        assert_eq!(
            (replayed.status, replayed.body),
            (401, json!({ "error": "webhook authentication failed" }))
        );

        for t in [now() - 301, now() + 301] {
            let stale = call(
                &app,
                &client,
                path,
                &signed(sign(&secret, t, &body), &id),
                body.clone(),
            )
            .await;
            assert_eq!(
                (stale.status, stale.body),
                (
                    401,
                    json!({ "error": "request timestamp outside acceptable window" })
                )
            );
        }
        let wrong_key = call(
            &app,
            &client,
            path,
            &signed(sign("wh_not-the-secret", now(), &body), &id),
            body.clone(),
        )
        .await;
        assert_eq!(
            (wrong_key.status, wrong_key.body),
            (401, json!({ "error": "HMAC signature is invalid" }))
        );
        let tampered = call(
            &app,
            &client,
            path,
            &signed(sign(&secret, now(), &body), &id),
            br#"{"input":"other"}"#.to_vec(),
        )
        .await;
        assert_eq!(tampered.status, 401);
        let unknown = call(
            &app,
            &client,
            path,
            &signed(
                sign(&secret, now(), &body),
                "00000000-0000-0000-0000-000000000009",
            ),
            body.clone(),
        )
        .await;
        assert_eq!(
            (unknown.status, unknown.body),
            (401, json!({ "error": "webhook authentication failed" }))
        );
        let malformed = call(
            &app,
            &client,
            path,
            &signed("v1=abc".to_owned(), &id),
            body.clone(),
        )
        .await;
        assert_eq!(malformed.status, 401);

        admin(
            &app,
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            TOKEN,
            None,
        )
        .await;
        let revoked = call(
            &app,
            &client,
            path,
            &signed(sign(&secret, now(), &body), &id),
            body.clone(),
        )
        .await;
        assert_eq!(revoked.status, 401);
        assert_eq!(app.llm.requests().len(), 1, "only the one valid call ran");
    }
);

app_test!(
    address_rules_kinds_caps_and_rates,
    with_webhooks,
    |app: TestApp| async move {
        app.llm.set_default(Reply::text("ok"));
        let (_, allowlisted) = llm_webhook(
            &app,
            json!({ "ip_allowlist": ["127.0.5.5", "127.0.6.0/24"] }),
        )
        .await;
        for (client, expected) in [
            (client_from(5, 5), 200),
            (client_from(6, 9), 200),
            (client_from(5, 6), 403),
        ] {
            let answer = llm_call(&app, &client, &allowlisted, json!({ "input": "hi" })).await;
            assert_eq!(answer.status, expected, "{}", answer.body);
            if expected == 403 {
                assert_eq!(
                    answer.body,
                    json!({ "error": "request origin is not in the IP allowlist" })
                );
            }
        }
        // An entry that is no address never matches: a list of only such entries lets nobody in.
        let (_, garbled) = llm_webhook(
            &app,
            json!({ "ip_allowlist": ["10.0.0.0/33", "localhost"] }),
        )
        .await;
        assert_eq!(
            llm_call(&app, &client_from(5, 9), &garbled, json!({ "input": "hi" }))
                .await
                .status,
            403
        );
        let (_, local) = llm_webhook(&app, json!({ "localhost_only": true })).await;
        assert_eq!(
            llm_call(&app, &client_from(5, 7), &local, json!({ "input": "hi" }))
                .await
                .status,
            200
        );

        let message = register(&app, TOKEN, json!({ "name": "m", "kind": "message" })).await;
        let wrong_kind = llm_call(
            &app,
            &client_from(5, 8),
            message["secret"].as_str().expect("secret"),
            json!({ "input": "hi" }),
        )
        .await;
        assert_eq!(
            (wrong_kind.status, wrong_kind.body),
            (
                403,
                json!({ "error": "request kind does not match webhook configuration" })
            )
        );

        let (_, slow) = llm_webhook(&app, json!({ "rate_limit_per_min": 2 })).await;
        let client = client_from(7, 1);
        for _ in 0..2 {
            assert_eq!(
                llm_call(&app, &client, &slow, json!({ "input": "hi" }))
                    .await
                    .status,
                200
            );
        }
        let limited = llm_call(&app, &client, &slow, json!({ "input": "hi" })).await;
        assert_eq!(
            (limited.status, limited.body.clone()),
            (429, json!({ "error": "webhook rate limit exceeded" }))
        );
        assert_eq!(
            limited
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("60")
        );

        let (_, open) = llm_webhook(&app, json!({ "rate_limit_per_min": 0 })).await;
        let big = format!(r#"{{"input":"{}"}}"#, "x".repeat(1024 * 1024));
        let too_big = call(
            &app,
            &client_from(8, 1),
            "/v1/webhooks/llm",
            &[("authorization", format!("Bearer {open}"))],
            big.into_bytes(),
        )
        .await;
        assert_eq!(
            (too_big.status, too_big.body),
            (413, json!({ "error": "request body exceeds size limit" }))
        );
        let message_secret = message["secret"].as_str().expect("secret");
        let big_message = format!(
            r#"{{"chat_id":"1","content":"{}"}}"#,
            "x".repeat(256 * 1024)
        );
        let too_big = call(
            &app,
            &client_from(8, 2),
            "/v1/webhooks/message",
            &[("authorization", format!("Bearer {message_secret}"))],
            big_message.into_bytes(),
        )
        .await;
        assert_eq!(too_big.status, 413);
        for (body, message) in [
            (json!({}), "input is required"),
            (json!({ "input": "" }), "input is required"),
            (json!({ "input": 5 }), "input must be a string or array"),
            (
                json!({ "input": "x", "mode": "later" }),
                "mode must be 'sync' or 'async'",
            ),
            (
                json!({ "input": "x", "mode": "async" }),
                "callback_url is required",
            ),
        ] {
            let answer = llm_call(&app, &client_from(8, 3), &open, body.clone()).await;
            assert_eq!(answer.status, 400, "{body} → {}", answer.body);
            assert!(
                answer.body["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(message)),
                "{body} → {}",
                answer.body
            );
        }
        let instructed = llm_call(
            &app,
            &client_from(8, 4),
            &open,
            json!({ "input": [
            { "role": "system", "content": "Be brief." }, { "role": "user", "content": "Status?" }
        ] }),
        )
        .await;
        assert_eq!(instructed.status, 200, "{}", instructed.body);
        let sent = app.llm.requests().pop().expect("a model call");
        assert!(
            sent.body["system"].to_string().contains("Be brief."),
            "the system entry instructs the run: {}",
            sent.body
        );
        assert!(
            !sent.body["messages"].to_string().contains("Be brief."),
            "{}",
            sent.body
        );

        // The per-source window: 30 calls a minute from one address, credentials or not.
        let source = client_from(9, 1);
        for i in 0..30 {
            let answer = call(&app, &source, "/v1/webhooks/llm", &[], b"{}".to_vec()).await;
            assert_eq!(answer.status, 401, "call {i}");
        }
        let blocked = call(&app, &source, "/v1/webhooks/llm", &[], b"{}".to_vec()).await;
        assert_eq!(
            (blocked.status, blocked.body),
            (429, json!({ "error": "webhook rate limit exceeded" }))
        );
        assert_eq!(
            call(
                &app,
                &client_from(9, 2),
                "/v1/webhooks/llm",
                &[],
                b"{}".to_vec()
            )
            .await
            .status,
            401
        );
    }
);
