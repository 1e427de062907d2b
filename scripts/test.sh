#!/usr/bin/env bash
# The whole test suite: type-check, build, provision the real servers (deploy/local) unless
# KAFKA_BROKERS / CLICKHOUSE_URL are set, then run unit and integration tests with vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== type-check"
npx tsc -p tsconfig.json --noEmit
echo "== build"
npx tsc -p tsconfig.build.json

echo "== prerequisites"
bash deploy/local/browser ensure
if [[ -z "${KAFKA_BROKERS:-}" || -z "${CLICKHOUSE_URL:-}" ]]; then
  eval "$(bash deploy/local/stack up)"
fi
export KAFKA_BROKERS CLICKHOUSE_URL
[[ -n "${ALERTMANAGER_URL:-}" ]] && export ALERTMANAGER_URL   # the stack's Alertmanager (notify tests start their own)
echo "KAFKA_BROKERS=$KAFKA_BROKERS CLICKHOUSE_URL=$CLICKHOUSE_URL"

echo "== tests"
npx vitest run "$@"
