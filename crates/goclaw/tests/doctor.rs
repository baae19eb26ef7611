//! `goclaw doctor`, run as the real executable: the sandbox section names the backend in use
//! and why, and fails when sandboxed agents could not run.

mod support;

use support::{Goclaw, home};

fn bwrap_available() -> bool {
    std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn no_backend_for_sandboxed_agents_is_a_failure() {
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_BACKEND", "none")
        .args(&["doctor"])
        .run()
        .await;
    assert!(!done.success, "{done:?}");
    assert!(done.stdout.contains("mode:     all"), "{}", done.stdout);
    assert!(done.stdout.contains("backend:  none"), "{}", done.stdout);
    assert!(
        done.stdout.contains("sandbox.backend is \"none\""),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("problem:"), "{}", done.stdout);
}

#[tokio::test]
async fn unreachable_docker_is_reported_with_the_reason() {
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_BACKEND", "docker")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(&["doctor"])
        .run()
        .await;
    // Nothing is sandboxed (mode off), so this is only information.
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  none"), "{}", done.stdout);
    assert!(
        done.stdout.contains("Docker is not usable"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("sandbox.mode is off"),
        "{}",
        done.stdout
    );
}

#[tokio::test]
async fn native_backend_is_chosen_without_docker() {
    if !bwrap_available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bubblewrap is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: bubblewrap is not installed");
        return;
    }
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "non-main")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args(&["doctor"])
        .run()
        .await;
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  native"), "{}", done.stdout);
    assert!(
        done.stdout.contains("Docker is not usable"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("enforces: "), "{}", done.stdout);
}

#[tokio::test]
async fn docker_is_preferred_when_its_api_answers() {
    let Ok(docker_host) = std::env::var("GOCLAW_TEST_DOCKER_HOST") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "GOCLAW_TEST_DOCKER_HOST is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: GOCLAW_TEST_DOCKER_HOST is not set");
        return;
    };
    let image = std::env::var("GOCLAW_TEST_SANDBOX_IMAGE")
        .expect("scripts/sandbox.sh sets GOCLAW_TEST_SANDBOX_IMAGE with GOCLAW_TEST_DOCKER_HOST");
    let home = home();
    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_IMAGE", "goclaw-sandbox:no-such-image")
        .env("DOCKER_HOST", &docker_host)
        .args(&["doctor"])
        .run()
        .await;
    assert!(
        done.stdout
            .contains("image goclaw-sandbox:no-such-image is not present"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.contains("backend:  docker"), "{}", done.stdout);

    let done = Goclaw::new(home.path())
        .env("GOCLAW_SANDBOX_MODE", "all")
        .env("GOCLAW_SANDBOX_IMAGE", &image)
        .env("DOCKER_HOST", &docker_host)
        .args(&["doctor"])
        .run()
        .await;
    assert!(done.success, "{done:?}");
    assert!(done.stdout.contains("backend:  docker"), "{}", done.stdout);
    assert!(
        done.stdout.contains("\"auto\" and the Docker API answers"),
        "{}",
        done.stdout
    );
}
