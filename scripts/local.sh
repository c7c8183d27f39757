#!/usr/bin/env bash
# The fleet, locally, in the foreground (`npm run local`): installs what is missing, brings
# the local stack up, then runs the worker fleet (2 workers by default; arguments go to
# src/cli/fleet.ts, e.g. `npm run local -- --workers 3`) and the live dashboard.
# Ctrl-C stops the fleet; the stack is stopped too if this command started it.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
stack_was_up=0
bash scripts/env.sh status >/dev/null 2>&1 && stack_was_up=1
bash scripts/env.sh up

pids=()
cleanup() {
  trap - INT TERM EXIT
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if (( stack_was_up == 0 )); then bash scripts/env.sh down; else say "local stack left running (npm run env:down stops it)"; fi
}
trap cleanup INT TERM EXIT

if [[ -f src/dashboard/main.ts ]]; then
  node src/dashboard/main.ts --port "${DASHBOARD_PORT:-4600}" --env-file .local/env.json \
    >"$LOGS/dashboard.log" 2>&1 &
  pids+=($!)
  say "dashboard: http://127.0.0.1:${DASHBOARD_PORT:-4600}/"
fi
say "origin simulator: http://127.0.0.1:4599  (POST /_sim/change publishes an event)"
node src/cli/fleet.ts "$@" &
pids+=($!)
wait "${pids[-1]}"
