#!/usr/bin/env bash
# The whole test suite: type-check, build, provision the real servers (deploy/local) unless
# KAFKA_BROKERS / CLICKHOUSE_URL are set, and chdb unless LEAKSCOPE_CHDB_DIR is, then run unit and integration tests with vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== type-check"
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.console.json --noEmit   # the web console's browser modules (DOM library)
echo "== build"
npx tsc -p tsconfig.build.json
npx tsc -p tsconfig.console.json

echo "== prerequisites"
# The fault tests' private stack (test/integration/streaming/private-stack.ts) restarts servers on
# its own ports: keep them, like the shared stack's, out of the ephemeral range from the start.
LEAKSCOPE_STACK_PORT_OFFSET="${LEAKSCOPE_FAULTS_STACK_PORT_OFFSET:-2000}" bash deploy/local/stack reserve-ports
bash deploy/local/browser ensure
bash deploy/local/tools ensure
if [[ -z "${KAFKA_BROKERS:-}" || -z "${CLICKHOUSE_URL:-}" ]]; then
  stack_env=$(bash deploy/local/stack up) || { echo "npm test: 'bash deploy/local/stack up' failed (its log is above); fix that and run npm test again" >&2; exit 1; }
  eval "$stack_env"
fi
export KAFKA_BROKERS CLICKHOUSE_URL
# The three-broker Kafka and the ClickHouse cluster (cluster tests), started once for the run and left up.
if [[ -z "${CLICKHOUSE_CLUSTER_NODES:-}" ]]; then
  stack_env=$(bash deploy/local/stack cluster-up) || { echo "npm test: 'bash deploy/local/stack cluster-up' failed (its log is above); fix that and run npm test again" >&2; exit 1; }
  eval "$stack_env"
fi
export KAFKA_CLUSTER_BROKERS CLICKHOUSE_CLUSTER_URL CLICKHOUSE_CLUSTER CLICKHOUSE_CLUSTER_NODES
# ClickHouse in-process (chdb, a current release): the store tests run on it too.
if [[ -z "${LEAKSCOPE_CHDB_DIR:-}" ]]; then
  stack_env=$(bash deploy/local/stack chdb) || { echo "npm test: 'bash deploy/local/stack chdb' failed (its log is above); fix that and run npm test again" >&2; exit 1; }
  eval "$stack_env"
fi
export LEAKSCOPE_CHDB_DIR
[[ -n "${ALERTMANAGER_URL:-}" ]] && export ALERTMANAGER_URL   # the stack's Alertmanager (notify tests start their own)
echo "KAFKA_BROKERS=$KAFKA_BROKERS CLICKHOUSE_URL=$CLICKHOUSE_URL LEAKSCOPE_CHDB_DIR=$LEAKSCOPE_CHDB_DIR"

echo "== tests"
npx vitest run "$@"
