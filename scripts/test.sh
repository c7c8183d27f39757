#!/usr/bin/env bash
# The one test command (`npm test`, also `npm run check`): installs what is missing, brings
# the local stack up, then runs every test level (unit, integration, e2e, infra) against the
# real services, with lint, the format check and the type check beside them. Arguments go to vitest, e.g.
# `npm test -- test/unit`. The last line is always `N passed, N failed[, N skipped]`
# (vitest tests plus the three static checks).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
# The dashboard e2e test drives Debian's headless Chromium (playwright-core downloads no browser).
ensure_apt_packages chromium
bash "$ROOT/scripts/env.sh" up || die "the local stack did not come up"

mkdir -p test-results
rm -f test-results/vitest.json test-results/static-*.status

# The static checks run beside vitest (the e2e tests mostly wait on I/O), so the first test
# starts within seconds; their results are collected after vitest.
(
  run_static() {
    local name=$1; shift
    if "$@" >"test-results/static-$name.log" 2>&1; then echo ok; else echo failed; fi >"test-results/static-$name.status"
  }
  run_static lint eslint . --max-warnings 0
  run_static format prettier --check .
  run_static types tsc -p tsconfig.json --noEmit
) &
static_pid=$!

vitest run "$@"
vitest_rc=$?

wait "$static_pid"
static_passed=0 static_failed=0
for name in lint format types; do
  if [[ "$(cat "test-results/static-$name.status" 2>/dev/null)" == ok ]]; then
    static_passed=$((static_passed + 1))
  else
    static_failed=$((static_failed + 1))
    say "── $name failed ──"; tail -40 "test-results/static-$name.log" >&2
  fi
done

node -e '
  const fs = require("fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numFailedTestSuites: 0 };
  try { r = JSON.parse(fs.readFileSync("test-results/vitest.json", "utf8")); } catch { r.numFailedTests = 1; console.error("vitest wrote no results"); }
  const [sp, sf, vrc] = process.argv.slice(1).map(Number);
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file whose hook failed counts its tests as skipped, not failed: count such a file as a
  // failure, so that a red run never prints "0 failed".
  const failed = r.numFailedTests + sf + (r.numFailedTests === 0 && Number(vrc) !== 0 ? Math.max(1, r.numFailedTestSuites) : 0);
  console.log(`${r.numPassedTests + sp} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$static_passed" "$static_failed" "$vitest_rc" | tee test-results/summary.txt

(( vitest_rc == 0 && static_failed == 0 ))
