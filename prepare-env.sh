#!/bin/sh
# Generates the two secrets a GoClaw deployment needs, for Docker users and scripts.
#
#   ./prepare-env.sh [ENV_FILE]      (default: .env)
#
# Adds GOCLAW_ENCRYPTION_KEY and GOCLAW_GATEWAY_TOKEN (32 random bytes each, as 64 hex
# characters) to ENV_FILE unless it already has them, and POSTGRES_PASSWORD for the database of
# docker-compose.yml; existing lines are never changed, so running it again is safe. The file is made readable by its owner only (0600). Back up
# GOCLAW_ENCRYPTION_KEY: losing it means losing every API key stored encrypted in the database.
# POSIX sh; uses `openssl rand -hex 32`, or /dev/urandom through od when openssl is missing.
set -eu

ENV_FILE="${1:-.env}"

random_hex() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 32
  else
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
    echo
  fi
}

# True when ENV_FILE has a non-empty KEY= (or export KEY=) line.
has_key() {
  [ -f "$ENV_FILE" ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1=[^[:space:]]" "$ENV_FILE"
}

umask 077
if [ ! -f "$ENV_FILE" ]; then
  : > "$ENV_FILE"
fi
chmod 600 "$ENV_FILE"

# A file whose last line lacks a newline would merge with the line appended next.
if [ -s "$ENV_FILE" ] && [ "$(tail -c 1 "$ENV_FILE" | od -An -c | tr -d ' ')" != '\n' ]; then
  echo >> "$ENV_FILE"
fi

added=""
for key in GOCLAW_ENCRYPTION_KEY GOCLAW_GATEWAY_TOKEN POSTGRES_PASSWORD; do
  if has_key "$key"; then
    continue
  fi
  value="$(random_hex)"
  if [ "${#value}" -ne 64 ]; then
    echo "prepare-env.sh: could not generate a random value for $key" >&2
    exit 1
  fi
  printf '%s=%s\n' "$key" "$value" >> "$ENV_FILE"
  added="$added $key"
done

if [ -n "$added" ]; then
  echo "prepare-env.sh: added$added to $ENV_FILE (mode 0600)"
  echo "prepare-env.sh: back up GOCLAW_ENCRYPTION_KEY in a secrets manager"
else
  echo "prepare-env.sh: $ENV_FILE already has every secret; nothing changed"
fi
