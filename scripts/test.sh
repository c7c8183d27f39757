#!/usr/bin/env bash
# The one test command (`npm test`, also `npm run check`): installs what is missing, brings
# the local stack up, then runs lint, the format check, the type check and every test level
# (unit, integration, e2e, infra) against the real services. Arguments go to vitest, e.g.
# `npm test -- test/unit`. The last line is always `N passed, N failed[, N skipped]`
# (vitest tests plus the three static checks).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
bash "$ROOT/scripts/env.sh" up || die "the local stack did not come up"

mkdir -p test-results
static_passed=0 static_failed=0
static() {
  local name=$1; shift
  if "$@" >"test-results/$name.log" 2>&1; then
    static_passed=$((static_passed + 1))
  else
    static_failed=$((static_failed + 1))
    say "── $name failed ──"; tail -40 "test-results/$name.log" >&2
  fi
}
static lint eslint . --max-warnings 0
static format prettier --check .
static types tsc -p tsconfig.json --noEmit

rm -f test-results/vitest.json
vitest run "$@"
vitest_rc=$?

node -e '
  const fs = require("fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numTotalTestSuites: 0 };
  try { r = JSON.parse(fs.readFileSync("test-results/vitest.json", "utf8")); } catch { r.numFailedTests = 1; console.error("vitest wrote no results"); }
  const [sp, sf] = process.argv.slice(1).map(Number);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests + sp} passed, ${r.numFailedTests + sf} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$static_passed" "$static_failed" | tee test-results/summary.txt

(( vitest_rc == 0 && static_failed == 0 ))
