#!/usr/bin/env bash
# The worker throughput benchmark of issue 3 (`npm run bench:worker`): installs what is
# missing, brings the local stack up, then runs bench/worker-throughput.ts. Arguments go to
# the bench, e.g. `npm run bench:worker -- --skip-e2e` or `-- --events 50000`.
# Method and recorded figures: docs/benchmarks.md.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
command -v redis-benchmark >/dev/null || ensure_apt_packages redis-tools
bash "$ROOT/scripts/env.sh" up || die "the local stack did not come up"
exec node "$ROOT/bench/worker-throughput.ts" "$@"
