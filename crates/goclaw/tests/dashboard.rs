//! The dashboard as served, on both engines, without a browser: `/` is the page for browsers
//! and the JSON index for everyone else, every file carries the Content-Security-Policy, and
//! the production audit behind the config page answers the owner only.

mod support;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with};
use reqwest::Method;
use serde_json::Value;
use support::callers::{Admin, Callers};

const TOKEN: &str = "dashboard-token-8e1f27";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

app_test!(
    the_page_and_its_files_are_served_with_the_policy,
    app,
    |app: TestApp| async move {
        let page = app
            .client
            .get(app.url("/"))
            .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .expect("GET /");
        assert_eq!(page.status(), 200);
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.expect("the page");
        assert!(
            html.contains(r#"<script type="module" src="/ui/app.js">"#),
            "{html}"
        );

        let index: Value = app.get("/").await.json().await.expect("JSON");
        assert_eq!(index["service"], "goclaw");

        for (path, kind) in [
            ("/ui/app.js", "text/javascript"),
            ("/ui/pages/chat.js", "text/javascript"),
            ("/ui/app.css", "text/css"),
        ] {
            let file = app.get(path).await;
            assert_eq!(file.status(), 200, "{path}");
            assert!(
                file.headers()["content-type"]
                    .to_str()
                    .is_ok_and(|t| t.starts_with(kind)),
                "{path}"
            );
            assert!(file.headers().contains_key("content-security-policy"));
        }
        for missing in ["/ui/nope.js", "/ui/../Cargo.toml", "/ui/%2e%2e/Cargo.toml"] {
            assert_eq!(app.get(missing).await.status(), 404, "{missing}");
        }
    }
);

app_test!(
    only_the_owner_runs_the_production_audit,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let (status, report) = support::http::call(
            &app,
            TOKEN,
            Some("system"),
            Method::GET,
            "/v1/system/doctor",
            None,
        )
        .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["production"], true);
        assert!(report["ok"].is_boolean());
        let checks = report["checks"].as_array().expect("checks");
        assert!(
            checks
                .iter()
                .any(|c| c["section"] == "database" && c["status"].is_string()),
            "{report}"
        );
        assert!(
            !report.to_string().contains(TOKEN),
            "the audit names no secret"
        );
        for who in ["admin", "alice", "bob", "vera"] {
            let (status, body) = callers
                .call(&app, who, Method::GET, "/v1/system/doctor", None)
                .await;
            assert_eq!(status, 403, "{who}: {body}");
        }
        let anonymous = app.get("/v1/system/doctor").await;
        assert_eq!(anonymous.status(), 401);
    }
);
