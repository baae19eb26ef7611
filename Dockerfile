# syntax=docker/dockerfile:1
# goclaw gateway image: built in a Rust stage, run from Debian slim as an unprivileged user.
#
#   docker build -t goclaw .
#   docker run --env-file .env -e GOCLAW_HOST=0.0.0.0 -p 127.0.0.1:18790:18790 goclaw
#
# The image listens on 0.0.0.0:18790 and therefore needs GOCLAW_GATEWAY_TOKEN (prepare-env.sh
# generates it). Data (SQLite database, workspaces) lives in /var/lib/goclaw.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p goclaw \
 && install -m 0755 target/release/goclaw /usr/local/bin/goclaw

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/goclaw --create-home goclaw
COPY --from=build /usr/local/bin/goclaw /usr/local/bin/goclaw
USER goclaw
WORKDIR /var/lib/goclaw
ENV GOCLAW_HOST=0.0.0.0 \
    GOCLAW_PORT=18790 \
    GOCLAW_DATA_DIR=/var/lib/goclaw \
    GOCLAW_CONFIG=/var/lib/goclaw/config.json
EXPOSE 18790
VOLUME ["/var/lib/goclaw"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:18790/health || exit 1
ENTRYPOINT ["/usr/local/bin/goclaw"]
