//! The gateway's HTTP surface, against the real application on both storage backends.

use goclaw_testkit::{TestApp, app_test};

app_test!(health_reports_protocol_3, |app: TestApp| async move {
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body, serde_json::json!({"status": "ok", "protocol": 3}));
});

app_test!(health_answers_any_method, |app: TestApp| async move {
    let response = app
        .client
        .post(app.url("/health"))
        .send()
        .await
        .expect("POST /health");
    assert_eq!(response.status(), 200);
});

app_test!(ready_when_database_answers, |app: TestApp| async move {
    let response = app.get("/ready").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], app.db.backend().as_str());
});

app_test!(unknown_routes_are_json_404s, |app: TestApp| async move {
    let response = app.get("/v1/nope").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body["error"]["code"], "NOT_FOUND");

    let response = app.get("/nope").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body["error"], "not found");
});

app_test!(index_describes_the_service, |app: TestApp| async move {
    let body: serde_json::Value = app.get("/").await.json().await.expect("JSON body");
    assert_eq!(body["service"], "goclaw");
    assert_eq!(body["protocol"], 3);
});

app_test!(stops_on_shutdown, |app: TestApp| async move {
    let url = app.url("/health");
    app.stop().await.expect("clean shutdown");
    assert!(
        reqwest::get(&url).await.is_err(),
        "listener closed after shutdown"
    );
});

app_test!(master_tenant_is_seeded, |app: TestApp| async move {
    let store = app.db.store();
    let tenant = store
        .tenants()
        .get_by_slug(goclaw_core::MASTER_TENANT_SLUG)
        .await
        .expect("master tenant");
    assert_eq!(tenant.id, goclaw_core::MASTER_TENANT_ID);
});
