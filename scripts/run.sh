#!/usr/bin/env bash
# `make run`: serve on 127.0.0.1:8080 with ./data. On the first start it
# creates a demo account (pro plan, credits, an API key) with the admin CLI
# and keeps the key in data/demo.key (mode 0600) so later starts reprint it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/happyhorse
export HAPPYHORSE_DATA="${HAPPYHORSE_DATA:-./data}"
LISTEN="${HAPPYHORSE_LISTEN:-127.0.0.1:8080}"
EMAIL=demo@happyhorse.local
PASSWORD=happyhorse-demo

mkdir -p "$HAPPYHORSE_DATA"
if [ ! -s "$HAPPYHORSE_DATA/demo.key" ]; then
  if ! "$BIN" admin user show --email "$EMAIL" >/dev/null 2>&1; then
    printf '%s\n' "$PASSWORD" |
      "$BIN" admin user create --email "$EMAIL" --plan pro --credits 2000 --password-stdin >/dev/null
  fi
  key=$("$BIN" admin key create --email "$EMAIL" --name demo)
  (umask 077 && printf '%s\n' "$key" >"$HAPPYHORSE_DATA/demo.key")
fi
KEY=$(cat "$HAPPYHORSE_DATA/demo.key")

cat <<MSG

  HappyHorse is starting on http://$LISTEN  (data in $HAPPYHORSE_DATA, Ctrl-C to stop)

  Demo account: $EMAIL / $PASSWORD (plan pro)
  Paste this into another terminal:

    export HAPPYHORSE_BASE_URL=http://$LISTEN
    export HAPPYHORSE_API_KEY=$KEY
    curl -s -X POST "\$HAPPYHORSE_BASE_URL/api/v1/videos" \\
      -H "Authorization: Bearer \$HAPPYHORSE_API_KEY" -H "Content-Type: application/json" \\
      -d '{"prompt":"A cinematic shot of a chestnut horse running through a sunlit meadow","durationSec":6}'

  then poll GET \$HAPPYHORSE_BASE_URL/api/v1/videos/<id> until "ready" and open its videoUrl.
  The dashboard: http://$LISTEN/ (sign in with the demo account).

  Every plan here renders with the built-in "procedural" engine: a preview renderer
  on the CPU, NOT an AI model (it needs no account). For real AI video, point a plan
  at HappyHorse on Alibaba Cloud Model Studio in a plans file (docs/engines.md):

    "engine": {"name": "dashscope", "baseUrl": "https://dashscope-intl.aliyuncs.com/api/v1",
               "model": "happyhorse-1.1-t2v", "apiKeyEnv": "DASHSCOPE_API_KEY"}

MSG
exec "$BIN" serve --listen "$LISTEN" --data "$HAPPYHORSE_DATA"
