#!/usr/bin/env bash
# `npm start`: a breach investigation end to end on the embedded store, with no servers.
# Generates an O2-style incident (January 2012: every site received subscribers' numbers from
# the 10th to 14:00 on the 25th) unless it is already there, scans its gateway logs (NDJSON and
# W3C, one gzipped), then prints the exposure report of the leak window, checks it against the
# generator's ground truth, answers "who saw my number" for one subscriber, and writes the HTML
# report and the notification list, and shows the alerts a route would have received live
# (the incident, grouped deliveries per minute). Everything goes under ./out/demo (git-ignored).
#
#   DEMO_REQUESTS=N   size of the generated data set (default 200000 requests, ~60 MB of logs)
#   DEMO_FRESH=1      regenerate the data set and rescan from an empty store
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=out/demo
DATA=$OUT/incident
DB=$OUT/leakscope.duckdb
FROM=2012-01-10T00:00:00Z
TO=2012-01-25T14:00:00Z
SUBSCRIBER='+44 7700 900123'
REQUESTS=${DEMO_REQUESTS:-200000}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
leakscope() { node bin/leakscope.js "$@"; }

# `npm ci` builds dist/ through "prepare"; build here too when started from a plain checkout.
if [[ ! -f dist/cli/main.js || ! -f dist/demo/incident.js || ! -f dist/demo/alert-replay.js ]]; then
  step "building (tsc)"
  npm run --silent build
fi

if [[ ${DEMO_FRESH:-0} == 1 ]]; then rm -rf "$OUT"; fi
mkdir -p "$OUT"

if [[ ! -f $DATA/truth/summary.json ]]; then
  step "generating an O2-style incident: $REQUESTS requests over January 2012 (seed o2-2012)"
  rm -rf "$DATA"
  node dist/demo/incident.js --out "$DATA" --requests "$REQUESTS" --seed o2-2012
else
  step "using the incident already generated in $DATA (DEMO_FRESH=1 regenerates it)"
fi
ls -l "$DATA"/logs

step "leakscope scan: three gateways' logs (two NDJSON, one ProxySG W3C with requests it denied) into $DB"
# scan is idempotent: scanning the same logs again leaves the same store.
leakscope scan --registry "$DATA/registry.yaml" --db "$DB" --rejects "$OUT/rejects.ndjson" "$DATA"/logs/*

step "leakscope report: who received numbers during the leak ($FROM to $TO)"
leakscope report --from "$FROM" --to "$TO" --db "$DB" --format table

leakscope report --from "$FROM" --to "$TO" --db "$DB" --format json --out "$OUT/report-leak.json"
leakscope report --from "$FROM" --to "$TO" --db "$DB" --format csv --out "$OUT/report-leak.csv"
leakscope report --from "$FROM" --to "$TO" --db "$DB" --format html --out "$OUT/report-leak.html"

step "checking the report against the generator's ground truth"
node -e '
  const { readFileSync } = require("node:fs");
  const { isDeepStrictEqual } = require("node:util");
  const [ours, truth] = process.argv.slice(1).map((p) => JSON.parse(readFileSync(p, "utf8")));
  if (isDeepStrictEqual(ours, truth)) {
    console.log(`report matches truth/report-leak.json: ${ours.totals.violations} violations, ${ours.totals.subscribers} subscribers, ${ours.totals.sites} sites`);
  } else {
    console.log("report DIFFERS from truth/report-leak.json:", JSON.stringify({ ours: ours.totals, truth: truth.totals }));
    process.exitCode = 1;
  }' "$OUT/report-leak.json" "$DATA/truth/report-leak.json"

step "leakscope who-saw '$SUBSCRIBER': every site that received one subscriber's number"
leakscope who-saw "$SUBSCRIBER" --reason "demo: subscriber request DEMO-1" --db "$DB"

step "leakscope export-affected: the breach-notification list"
leakscope export-affected --from "$FROM" --to "$TO" --reason "demo: breach notification DEMO-2" --db "$DB" --out "$OUT/affected.csv"
head -n 4 "$OUT/affected.csv" | sed -E 's/^(\+[0-9]{6})[0-9]+/\1*****/' | cut -c1-150
echo "(numbers masked here; the file holds them in full)"

step "what the security team would have received, live (leakscope notify / watch, one route)"
# The logs replayed in request-time order through the detector's alerts; deliveries by the
# route's grouping rule (group interval 10 s): the incident first, no page per site.
node dist/demo/alert-replay.js --registry "$DATA/registry.yaml" --group-interval-ms 10000 "$DATA"/logs/*

step "written"
echo "  HTML report      $OUT/report-leak.html   (open it in a browser: one self-contained page)"
echo "  JSON / CSV       $OUT/report-leak.json, $OUT/report-leak.csv"
echo "  affected (0600)  $OUT/affected.csv"
echo "  store            $DB  (keys: $DB.keys.json)"
echo "  audit (0600)     $DB.audit.ndjson  (leakscope audit --db $DB; leakscope audit verify --db $DB)"

step "the operator service: a user for you, and how to open the console"
USERS=$OUT/leakscope.users.yaml
# A fresh demo user each run: the token is shown once and kept only as a hash.
if [[ -f $USERS ]] && leakscope users list --users "$USERS" 2>/dev/null | grep -q '^demo '; then
  leakscope users remove demo --users "$USERS"
fi
TOKEN=$(leakscope users add demo --role privacy_officer --users "$USERS")
leakscope audit verify --db "$DB"
echo
echo "  Start the service on the demo store:"
echo "    node bin/leakscope.js serve --db $DB --users $USERS"
echo "  then open http://127.0.0.1:8080/ and sign in with this token (user demo, privacy_officer; shown once):"
echo "    $TOKEN"
echo "  or use the API directly:"
echo "    curl -s -H 'Authorization: Bearer $TOKEN' 'http://127.0.0.1:8080/api/v1/report?from=$FROM&to=$TO'"
