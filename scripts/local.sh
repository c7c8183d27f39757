#!/usr/bin/env bash
# The fleet, locally, in the foreground (`npm run local`): installs what is missing, brings
# the local stack up, then runs the worker fleet (2 workers by default; arguments go to
# src/cli/fleet.ts, e.g. `npm run local -- --workers 3`) and the live dashboard.
# Beside them, the demo Orchestrator (src/orchestrator-sim/): DEMO_READERS reader processes
# (default 2; 0 or `--no-demo` turns it off) at DEMO_RATE reads/s each (default 10, sized for
# a 2-core machine), DEMO_MODE client|naive; their admin ports (9480...) feed the dashboard's
# hit-ratio and origin-load panels. The consistency auditor (src/cli/auditor.ts, admin port
# AUDITOR_ADMIN_PORT, default 9470) samples every event and reads the primary and the demo
# readers' L1; the dashboard's consistency panel polls it.
# Ctrl-C stops the fleet; the stack is stopped too if this command started it.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
stack_was_up=0
bash scripts/env.sh status >/dev/null 2>&1 && stack_was_up=1
bash scripts/env.sh up

demo_readers="${DEMO_READERS:-2}"
fleet_args=()
for arg in "$@"; do
  if [[ "$arg" == "--no-demo" ]]; then demo_readers=0; else fleet_args+=("$arg"); fi
done
demo_port="${DEMO_ADMIN_PORT:-9480}"
auditor_port="${AUDITOR_ADMIN_PORT:-9470}"
readers=""
for ((i = 0; i < demo_readers; i++)); do readers+="${readers:+,}http://127.0.0.1:$((demo_port + i))"; done

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
    ${readers:+--readers "$readers"} --auditors "http://127.0.0.1:$auditor_port" >"$LOGS/dashboard.log" 2>&1 &
  pids+=($!)
  say "dashboard: http://127.0.0.1:${DASHBOARD_PORT:-4600}/"
fi
say "origin simulator: http://127.0.0.1:4599  (POST /_sim/change publishes an event)"
if (( demo_readers > 0 )); then
  node src/orchestrator-sim/main.ts --processes "$demo_readers" --rate "${DEMO_RATE:-10}" \
    --mode "${DEMO_MODE:-client}" --admin-port "$demo_port" >"$LOGS/orchestrator-sim.log" 2>&1 &
  pids+=($!)
  say "demo Orchestrator: $demo_readers readers (${DEMO_MODE:-client}), admin $readers"
fi
node src/cli/auditor.ts --env-file .local/env.json --admin-port "$auditor_port" \
  ${readers:+--readers "$readers"} >"$LOGS/auditor.log" 2>&1 &
pids+=($!)
say "consistency auditor: http://127.0.0.1:$auditor_port/snapshot.json (log: $LOGS/auditor.log)"
node src/cli/fleet.ts "${fleet_args[@]}" &
pids+=($!)
wait "${pids[-1]}"
