#!/usr/bin/env bash
# Makes both sandbox backends available for the test suite.
#
# Native: installs bubblewrap. Docker: installs docker.io (and busybox-static), starts a private
# dockerd on unix://${GOCLAW_TEST_DOCKER_SOCK:-/run/goclaw-test-docker.sock}, and imports a small
# image built locally from busybox (no registry is needed). Prints, on stdout, the environment
# the tests read:
#   GOCLAW_TEST_DOCKER_HOST=unix:///run/goclaw-test-docker.sock
#   GOCLAW_TEST_SANDBOX_IMAGE=goclaw-test-sandbox:busybox
# Running it again reuses a daemon that is already up and an image that already exists.
set -euo pipefail

SOCK="${GOCLAW_TEST_DOCKER_SOCK:-/run/goclaw-test-docker.sock}"
ROOT="${GOCLAW_TEST_DOCKER_DIR:-/tmp/goclaw-test-docker}"
IMAGE=goclaw-test-sandbox:busybox

log() { echo "sandbox.sh: $*" >&2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v dockerd >/dev/null || missing+=(docker.io)
[ -x /bin/busybox ] || missing+=(busybox-static)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2
fi

docker_cli() { docker -H "unix://$SOCK" "$@"; }

if ! docker_cli version >/dev/null 2>&1; then
  log "starting dockerd on $SOCK"
  mkdir -p "$ROOT"
  as_root sh -c "nohup dockerd --host 'unix://$SOCK' --data-root '$ROOT/data' \
    --exec-root '$ROOT/exec' --pidfile '$ROOT/dockerd.pid' >'$ROOT/dockerd.log' 2>&1 &"
  for _ in $(seq 1 60); do
    docker_cli version >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker_cli version >/dev/null 2>&1 || { tail -20 "$ROOT/dockerd.log" >&2; exit 1; }
fi

if ! docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
  log "building $IMAGE from busybox"
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs"/{bin,etc,tmp,var/tmp,run,workspace,home/sandbox}
  cp /bin/busybox "$rootfs/bin/busybox"
  "$rootfs/bin/busybox" --list | while read -r applet; do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nsandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nsandbox:x:1000:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  tar -C "$rootfs" -c . | docker_cli import --change 'ENV PATH=/bin' --change 'WORKDIR /workspace' - "$IMAGE" >&2
  rm -rf "$rootfs"
fi

echo "GOCLAW_TEST_DOCKER_HOST=unix://$SOCK"
echo "GOCLAW_TEST_SANDBOX_IMAGE=$IMAGE"
