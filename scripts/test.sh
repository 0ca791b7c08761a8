#!/usr/bin/env bash
# `npm test`: installs dependencies when needed, makes PostgreSQL and Redis answer (as
# `npm start` does), installs the programs the IMAP/POP3, dashboard and PROXY protocol tests
# drive (mutt, fetchmail, chromium, haproxy), builds the apps (several tests run the built
# entry points as processes), then runs every test with Vitest. Extra arguments go to Vitest (npm test -- test/e2e/seed.test.ts).
# Ends with the line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_node
ensure_node_modules
bash scripts/services.sh up
bash scripts/services.sh tools
load_services_env
npm run --silent build >&2

report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const fs = require("fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  // A file that fails to load has no failed test of its own: count it as one failure.
  const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
  const passed = r.numPassedTests ?? 0;
  const failed = (r.numFailedTests ?? 0) + broken + (r.numTotalTests === undefined ? 1 : 0);
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report"
rm -f "$report"
exit $status
