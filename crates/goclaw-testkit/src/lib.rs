//! Test harness for goclaw: [`spawn_app`] starts the real [`goclaw::Application`] on
//! `127.0.0.1:0` with a fresh database — a temporary SQLite file or a PostgreSQL database created
//! for the test and dropped after it — and returns a [`TestApp`] to talk to it over real HTTP.
//!
//! [`app_test!`] writes an application test once and runs it on both backends. PostgreSQL comes
//! from `GOCLAW_TEST_POSTGRES_DSN`; without it the PostgreSQL variant prints one `skipped:` line,
//! or fails when `CI=true`.
#![forbid(unsafe_code)]

mod mcp;
mod tenants;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use goclaw_config::{Environment, LoadedConfig};
pub use goclaw_core::StoreBackend;
pub use goclaw_core::clock::{Clock, ManualClock, SystemClock};
pub use goclaw_fake_channels::discord as fake_discord;
pub use goclaw_fake_channels::slack as fake_slack;
pub use goclaw_fake_channels::telegram as fake_telegram;
pub use goclaw_fake_channels::{FakeDiscord, FakeSlack, FakeTelegram, SentMessage};
pub use goclaw_fake_llm::{FAKE_MODELS, FakeLlm, FakeToolCall, Reply, embedding_vector};
use goclaw_store::StoreOptions;
pub use goclaw_store::testing::{TestDatabase, postgres_test_dsn};
pub use mcp::{FakeMcpHttp, FakeMcpSse, fake_mcp_binary};
use tempfile::TempDir;
pub use tenants::OtherTenant;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
pub use ws::WsClient;

/// A running application and everything it needs to stay alive.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    /// The fake LLM the app's `anthropic` and `openai` providers point at.
    pub llm: FakeLlm,
    /// Holds the data directory (workspaces, SQLite file) until the test ends.
    pub data_dir: TempDir,
    /// The application's task-recovery ticker, for passes at a time the test chooses.
    pub task_recovery: goclaw::TaskRecovery,
    shutdown: CancellationToken,
    server: Option<JoinHandle<anyhow_like::Result>>,
    /// The clock cron reads, kept across restarts.
    clock: Arc<dyn Clock>,
}

mod anyhow_like {
    //! The server task's result, kept as text so the harness needs no error crate.
    pub type Result = std::result::Result<(), String>;
}

impl TestApp {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `ws://127.0.0.1:<port>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Opens a WebSocket and sends `connect` as `user_id` (no token: the test app listens on
    /// loopback without one, so callers are operators).
    pub async fn ws_connect(&self, user_id: &str) -> WsClient {
        let mut client = WsClient::open(&self.ws_url()).await;
        client
            .call_ok("connect", serde_json::json!({ "user_id": user_id }))
            .await;
        client
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Creates an API key through `POST /v1/api-keys` with `bearer` (the gateway token) from
    /// `body` (`name`, `scopes`, and `owner_id`, `expires_in` as the test needs); panics unless
    /// it is created. Returns the key's id and its plaintext.
    pub async fn create_api_key(&self, bearer: &str, body: serde_json::Value) -> (String, String) {
        let response = self
            .client
            .post(self.url("/v1/api-keys"))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .expect("POST /v1/api-keys");
        assert_eq!(response.status(), 201, "creating the key {body}");
        let created: serde_json::Value = response.json().await.expect("the created key as JSON");
        let field = |name: &str| created[name].as_str().expect(name).to_owned();
        (field("id"), field("key"))
    }

    /// Stops the application and starts a new one on the same database, data directory
    /// (`config.json` included) and fake LLM, as a process restart would.
    pub async fn restart(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let stopped = server.await.map_err(|e| e.to_string()).and_then(|r| r);
            stopped.unwrap_or_else(|e| panic!("stopping the application: {e}"));
        }
        let base = self.llm.base_url();
        let env: Vec<(&str, &str)> = vec![
            ("GOCLAW_ANTHROPIC_API_KEY", "test-anthropic-key"),
            ("GOCLAW_ANTHROPIC_BASE_URL", &base),
            ("GOCLAW_OPENAI_API_KEY", "test-openai-key"),
            ("GOCLAW_OPENAI_BASE_URL", &base),
        ];
        let loaded = test_config(&self.db, &self.data_dir, &env);
        let app = goclaw::Application::build_with_clock(&loaded, self.clock.clone())
            .await
            .unwrap_or_else(|e| panic!("rebuilding the application: {}", goclaw::one_line(&e)));
        self.addr = app.local_addr();
        self.task_recovery = app.task_recovery();
        self.shutdown = CancellationToken::new();
        let shutdown = self.shutdown.clone();
        self.server = Some(tokio::spawn(async move {
            app.run_until(shutdown)
                .await
                .map_err(|e| goclaw::one_line(&e))
        }));
    }

    /// Signals shutdown and waits for the server to stop, returning its result.
    pub async fn stop(mut self) -> Result<(), String> {
        self.shutdown.cancel();
        match self.server.take() {
            Some(handle) => handle.await.map_err(|e| e.to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Extra environment variables for a spawned application, on top of what the harness sets.
pub type ExtraEnv<'a> = &'a [(&'a str, &'a str)];

/// Starts the application on `backend` with a fresh, migrated database. `None` when the
/// backend is PostgreSQL and no test server is configured.
pub async fn spawn_app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// Like [`spawn_app`], with extra `GOCLAW_*` variables (which win over the harness's own).
pub async fn spawn_app_with(backend: StoreBackend, extra: ExtraEnv<'_>) -> Option<TestApp> {
    spawn_app_with_config(backend, "{}", extra).await
}

/// Like [`spawn_app_with`], with `config_json5` as the app's `config.json`.
pub async fn spawn_app_with_config(
    backend: StoreBackend,
    config_json5: &str,
    extra: ExtraEnv<'_>,
) -> Option<TestApp> {
    spawn_app_with_clock(backend, config_json5, extra, Arc::new(SystemClock)).await
}

/// Like [`spawn_app_with_config`], with cron reading its due times from `clock` (a
/// [`ManualClock`] moves scheduled time without waiting for it).
pub async fn spawn_app_with_clock(
    backend: StoreBackend,
    config_json5: &str,
    extra: ExtraEnv<'_>,
    clock: Arc<dyn Clock>,
) -> Option<TestApp> {
    let db = TestDatabase::migrated(backend).await?;
    let data_dir = tempfile::Builder::new()
        .prefix("goclaw-app-")
        .tempdir()
        .expect("creating a temporary data directory");
    std::fs::write(data_dir.path().join("config.json"), config_json5)
        .expect("writing the test config.json");
    let llm = FakeLlm::start().await;
    let base = llm.base_url();
    let mut env: Vec<(&str, &str)> = vec![
        ("GOCLAW_ANTHROPIC_API_KEY", "test-anthropic-key"),
        ("GOCLAW_ANTHROPIC_BASE_URL", &base),
        ("GOCLAW_OPENAI_API_KEY", "test-openai-key"),
        ("GOCLAW_OPENAI_BASE_URL", &base),
    ];
    env.extend_from_slice(extra);
    let loaded = test_config(&db, &data_dir, &env);
    let app = goclaw::Application::build_with_clock(&loaded, clock.clone())
        .await
        .unwrap_or_else(|e| panic!("building the application: {}", goclaw::one_line(&e)));
    let addr = app.local_addr();
    let task_recovery = app.task_recovery();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            app.run_until(shutdown)
                .await
                .map_err(|e| goclaw::one_line(&e))
        }
    });
    Some(TestApp {
        addr,
        client: reqwest::Client::new(),
        db,
        llm,
        data_dir,
        task_recovery,
        shutdown,
        server: Some(server),
        clock,
    })
}

/// The configuration a test application runs with: loopback, a random port, its own data
/// directory, the test database, and no config file.
pub fn test_config(db: &TestDatabase, data_dir: &TempDir, extra: ExtraEnv<'_>) -> LoadedConfig {
    let dir = data_dir.path().to_string_lossy().into_owned();
    let mut vars: Vec<(String, String)> = vec![
        ("HOME".into(), dir.clone()),
        ("GOCLAW_HOST".into(), "127.0.0.1".into()),
        ("GOCLAW_PORT".into(), "0".into()),
        ("GOCLAW_DATA_DIR".into(), dir.clone()),
        ("GOCLAW_WORKSPACE".into(), format!("{dir}/workspace")),
        ("GOCLAW_CONFIG".into(), format!("{dir}/config.json")),
        // The model's replies are scripted per test: no summarizing of vault files unless a
        // test asks for it.
        ("GOCLAW_VAULT_ENRICHMENT".into(), "false".into()),
    ];
    if let Some(init) = goclaw_executable() {
        vars.push(("GOCLAW_SANDBOX_INIT".into(), init));
    }
    match db.options() {
        StoreOptions::Sqlite(sqlite) => {
            vars.push(("GOCLAW_STORAGE_BACKEND".into(), "sqlite".into()));
            vars.push((
                "GOCLAW_SQLITE_PATH".into(),
                sqlite.path.to_string_lossy().into_owned(),
            ));
        }
        StoreOptions::Postgres(pg) => {
            vars.push(("GOCLAW_STORAGE_BACKEND".into(), "postgres".into()));
            vars.push(("GOCLAW_POSTGRES_DSN".into(), pg.expose_dsn().to_owned()));
        }
    }
    for (key, value) in extra {
        vars.retain(|(k, _)| k != key);
        vars.push(((*key).to_owned(), (*value).to_owned()));
    }
    let env = Environment::from_pairs(vars);
    goclaw_config::load(None, &env).expect("loading the test configuration")
}

/// The `goclaw` executable beside the running test binary (`target/<profile>/goclaw` for
/// `target/<profile>/deps/<test>`), which native sandboxes run as their init: users' tools run
/// in the sandbox by default, so test applications need a working one, as production does.
fn goclaw_executable() -> Option<String> {
    let test = std::env::current_exe().ok()?;
    let profile_dir = test.parent()?.parent()?;
    let goclaw = profile_dir.join("goclaw");
    goclaw
        .is_file()
        .then(|| goclaw.to_string_lossy().into_owned())
}

/// Writes an application test once and runs it on SQLite and on PostgreSQL:
///
/// ```text
/// app_test!(health_answers, |app: TestApp| async move {
///     assert_eq!(app.get("/health").await.status(), 200);
/// });
/// ```
///
/// With a builder, `app_test!(name, build, body)` runs `body` on the application
/// `build(backend).await` returns (an `Option<TestApp>`, `None` when PostgreSQL is not
/// configured), e.g. one with a gateway token or a config file of the test's own.
#[macro_export]
macro_rules! app_test {
    ($name:ident, $build:path, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $build($crate::StoreBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $build($crate::StoreBackend::Postgres).await else {
                    return;
                };
                ($body)(app).await;
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app($crate::StoreBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::spawn_app($crate::StoreBackend::Postgres).await else {
                    return;
                };
                ($body)(app).await;
            }
        }
    };
}

/// One SQLite and one PostgreSQL test per listed `async fn name(backend: StoreBackend)`:
///
/// ```ignore
/// async fn answers(backend: StoreBackend) { /* ... */ }
/// goclaw_testkit::backend_tests!(answers);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::StoreBackend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::StoreBackend::Postgres).await; })*
        }
    };
}
